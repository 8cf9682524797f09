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
 * Opens a UDP socket bound to `address:port` (port 0: ephemeral). The kernel's
 * default receive buffer (`net.core.rmem_default`, about 200 KB) overflows at the MN
 * under a tunnelled TCP stream (bench/pht_netns_bench.ts reports UDP RcvbufErrors);
 * `node:dgram`'s `recvBufferSize` is not used to raise it because Deno then also
 * allocates a receive buffer that large for every datagram (measured: 6 Mbit/s).
 * Raising it needs `net.core.rmem_default` (host-wide; not writable from a network
 * namespace on the test kernel) or `setsockopt(SO_RCVBUF)` on the descriptor, which
 * `node:dgram` does not expose: a known gap.
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

export { _sendUdp } from "../_udp_send.ts";

/**
 * Hands one datagram to the socket without waiting for it to be sent: `node:dgram`
 * sends a socket's datagrams in call order, so a data path can send the next one at
 * once. `done` gets `undefined` when sent, or the error (also a synchronous one,
 * e.g. a closed socket); it never throws.
 */
export function _sendUdpNow(
  socket: Socket,
  bytes: Uint8Array,
  address: string,
  port: number,
  done: (error: Error | undefined) => void,
): void {
  try {
    socket.send(bytes, port, address, (error) => done(error ?? undefined));
  } catch (error) {
    done(error instanceof Error ? error : new Error(String(error)));
  }
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
