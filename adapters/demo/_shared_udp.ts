/**
 * A UDP socket bound with SO_REUSEADDR, for the addresses the AR's proxy and the MN
 * share in the embedded demo. Linux delivers a unicast datagram to the socket bound
 * last among those sharing an address and port, so the MN binding its nCoA takes the
 * traffic over from the AR's proxy socket at once, before the proxy closes: the
 * user-space counterpart of "assign the address, then announce it" (RFC 6252
 * Appendix B), without a window in which datagrams hit a closed port.
 *
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type {
  DatagramEndpoint,
  DatagramHandler,
  DatagramTransport,
} from "../mobility/datagram_transport.ts";

/** A {@link DatagramTransport} on a shared (SO_REUSEADDR) UDP socket. */
class _SharedUdp implements DatagramTransport {
  readonly #socket: Socket;
  readonly #local: DatagramEndpoint;
  #handler: DatagramHandler | undefined;
  #closed = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    const a = socket.address();
    this.#local = { address: a.address, port: a.port };
    socket.on("message", (msg: Uint8Array, rinfo: RemoteInfo) => {
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      this.#handler?.(bytes, { address: rinfo.address, port: rinfo.port });
    });
    socket.on("error", () => {
      // Receive errors of an unconnected UDP socket carry nothing to act on.
    });
  }

  get local(): DatagramEndpoint {
    return this.#local;
  }

  send(bytes: Uint8Array, to: DatagramEndpoint): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Transport closed"));
    return new Promise((resolve, reject) => {
      try {
        this.#socket.send(bytes, to.port, to.address, (error) => error ? reject(error) : resolve());
      } catch (error) {
        reject(error);
      }
    });
  }

  onMessage(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#handler = undefined;
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Binds an IPv4 UDP socket with SO_REUSEADDR (see the module documentation). */
export function _bindShared(local: DatagramEndpoint): Promise<DatagramTransport> {
  const socket = createSocket({ type: "udp4", reuseAddr: true });
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      reject(error);
    };
    socket.once("error", onError);
    socket.bind({ address: local.address, port: local.port }, () => {
      socket.off("error", onError);
      resolve(new _SharedUdp(socket));
    });
  });
}
