/**
 * Private helpers of the PHT endpoints: UDP sockets through `node:dgram` (Deno's
 * `Deno.listenDatagram` still needs `--unstable-net`), address canonicalization,
 * the default clock and random bytes.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";

/** Canonical text of an IP address, so that `::1` and `0::1` compare equal. */
export function _canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return address.toLowerCase();
  }
}

/** The IP family of an address text: 6 for IPv6, 4 otherwise. */
export function _family(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

/**
 * Opens a UDP socket bound to `address:port` (port 0: ephemeral).
 *
 * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES)
 */
export function _bindUdp(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: _family(address) === 6 ? "udp6" : "udp4" });
  return new Promise<Socket>((resolve, reject) => {
    const onError = (error: Error) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      reject(error);
    };
    socket.once("error", onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Sends one datagram; resolves when handed to the kernel, rejects on a send error. */
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

/** Closes a socket; resolves when closed (at once if it was closed already). */
export function _closeUdp(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** Epoch milliseconds with sub-millisecond resolution. */
export function _preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Random bytes from WebCrypto. */
export function _cryptoRandom(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A random 32-bit tunnel id, never 0. */
export function _randomTunnelId(): number {
  const view = new DataView(crypto.getRandomValues(new Uint8Array(4)).buffer);
  return view.getUint32(0) || 1;
}
