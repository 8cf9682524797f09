/**
 * The datagram transport under the SIP user agents and the RTP stream: a UDP socket
 * bound to one chosen local address. Binding to the new care-of address is what
 * sends the proactive binding update of RFC 6252 section 6.3 step 3 through the
 * proactive handover tunnel (section 7.5): with the PHT's TUN device up, policy
 * routing takes packets sourced from the nCoA into the tunnel. Tests wrap the
 * interface to drop or inspect datagrams (SIP.js keeps its transport behind a small
 * interface for the same reason).
 *
 * `node:dgram` rather than `Deno.listenDatagram` (which needs `--unstable-net`).
 * Deno's `node:dgram` reports no ICMP errors (port or host unreachable), connected
 * socket or not, so an unreachable peer surfaces as a timeout; local send failures
 * (no route, address not available) are reported by `send`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
 * const b = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
 * const got = new Promise<string>((resolve) =>
 *   b.onMessage((bytes, from) => resolve(`${new TextDecoder().decode(bytes)} ${from.port === a.local.port}`))
 * );
 * await a.send(new TextEncoder().encode("hi"), b.local);
 * assertEquals(await got, "hi true");
 * await a.close();
 * await b.close();
 * ```
 *
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIP } from "node:net";

/** A transport address: an IP address and a UDP port. */
export interface DatagramEndpoint {
  /** IPv4 or IPv6 address, no brackets. */
  readonly address: string;
  /** UDP port, 0 to 65535 (0 in a bind request: an ephemeral port). */
  readonly port: number;
}

/** Receives one datagram and where it came from. */
export type DatagramHandler = (bytes: Uint8Array, from: DatagramEndpoint) => void;

/** A bound datagram socket, the I/O of the SIP user agents and RTP streams. */
export interface DatagramTransport {
  /** The bound local address and port. */
  readonly local: DatagramEndpoint;
  /**
   * Sends one datagram.
   *
   * @param bytes the payload
   * @param to the destination
   * @returns when handed to the kernel
   * @throws the send error (ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ...)
   */
  send(bytes: Uint8Array, to: DatagramEndpoint): Promise<void>;
  /**
   * Sets the receive handler (replacing any earlier one).
   *
   * @param handler called for every datagram received
   */
  onMessage(handler: DatagramHandler): void;
  /**
   * Closes the socket; later sends reject.
   *
   * @returns when closed
   */
  close(): Promise<void>;
}

/** Makes a transport bound to a local address (port 0: ephemeral). */
export type DatagramTransportFactory = (local: DatagramEndpoint) => Promise<DatagramTransport>;

/** Largest datagram read, bytes: a SIP message over UDP or an RTP packet fits. */
const _READ_BUFFER = 65536;

/** A {@link DatagramTransport} on a `node:dgram` UDP socket. */
export class UdpDatagramTransport implements DatagramTransport {
  readonly #socket: Socket;
  readonly #local: DatagramEndpoint;
  #handler: DatagramHandler | undefined;
  #closed = false;

  private constructor(socket: Socket) {
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

  /**
   * Binds a UDP socket to `local` (IPv4 or IPv6 by the address).
   *
   * @param local the address (the CoA) and port (0: ephemeral)
   * @param options `shared`: bind with SO_REUSEADDR, so that another socket may hold
   *   the same address and port (Linux gives unicast datagrams to the one bound last)
   * @returns the bound transport
   * @throws the bind error (EADDRNOTAVAIL when the address is not assigned, EADDRINUSE)
   *
   * @example
   * ```ts
   * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
   * const t = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
   * assert(t.local.port > 0);
   * await t.close();
   * ```
   */
  static bind(
    local: DatagramEndpoint,
    options: { readonly shared?: boolean } = {},
  ): Promise<UdpDatagramTransport> {
    const shared = options.shared === true;
    const socket = createSocket({
      type: isIP(local.address) === 6 ? "udp6" : "udp4",
      ...(shared ? { reuseAddr: true } : {}),
    });
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
      socket.bind({ address: local.address, port: local.port, exclusive: !shared }, () => {
        socket.off("error", onError);
        try {
          socket.setRecvBufferSize(_READ_BUFFER);
        } catch {
          // the default size works too
        }
        resolve(new UdpDatagramTransport(socket));
      });
    });
  }

  /** The bound local address and port. */
  get local(): DatagramEndpoint {
    return this.#local;
  }

  /**
   * Sends one datagram.
   *
   * @param bytes the payload
   * @param to the destination
   * @returns when handed to the kernel
   */
  send(bytes: Uint8Array, to: DatagramEndpoint): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Transport closed"));
    return new Promise((resolve, reject) => {
      try {
        this.#socket.send(bytes, to.port, to.address, (error) => {
          if (error) reject(error);
          else resolve();
        });
      } catch (error) {
        reject(error);
      }
    });
  }

  /**
   * Sets the receive handler.
   *
   * @param handler called for every datagram
   */
  onMessage(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  /**
   * Closes the socket.
   *
   * @returns when closed
   */
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

/**
 * The default {@link DatagramTransportFactory}: a UDP socket per local address.
 *
 * @param local the address and port to bind
 * @returns the bound transport
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const t = await udpTransport({ address: "127.0.0.1", port: 0 });
 * assertEquals(t.local.address, "127.0.0.1");
 * await t.close();
 * ```
 */
export function udpTransport(local: DatagramEndpoint): Promise<DatagramTransport> {
  return UdpDatagramTransport.bind(local);
}
