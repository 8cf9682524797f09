/**
 * The one "send a datagram and wait until the kernel has it" helper of the UDP
 * adapters (DHCP, PHT, Mobile IPv6), on `node:dgram`.
 *
 * @module
 */
import type { Socket } from "node:dgram";

/**
 * Sends one datagram; resolves when handed to the kernel, rejects on a send error
 * (also one `send` throws synchronously, e.g. on a closed socket).
 *
 * @param socket a bound `node:dgram` socket
 * @param bytes the datagram
 * @param address destination address
 * @param port destination port
 * @returns when sent
 */
export function _sendUdp(
  socket: Socket,
  bytes: Uint8Array,
  address: string,
  port: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      socket.send(bytes, port, address, (error) => error ? reject(error) : resolve());
    } catch (error) {
      reject(error);
    }
  });
}
