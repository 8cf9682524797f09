/**
 * UDP from the new care-of address through a proactive handover tunnel without a TUN
 * device (RFC 6252 sections 6.3 step 3, 7.4, 7.5): a user-space UDP stack for the
 * tunnel's inner address. Sending builds the inner IPv4 (or IPv6) / UDP packet, source
 * the tunnel's inner address, and hands it to the tunnel (`PhtTunnelManager.send`);
 * the inner packets the tunnel delivers (`PhtTunnelManager` option `onPacket`) are
 * parsed and handed to the transport bound to their destination port. So the
 * proactive binding update - a SIP re-INVITE from {@link SipMobility}, a Mobile IPv6
 * Binding Update from {@link Mip6Mobility} - and its answer travel through the PHT
 * with no root, no TUN and no policy routing (the embedded demo's mode; with a TUN
 * device the kernel does the same job, see `adapters/tunnel/tun_glue.ts`).
 *
 * ```
 * SipMobility / Mip6Mobility
 *   │  DatagramTransport / Mip6Socket bound to nCoA:port
 * PhtDatagramStack ── buildUdpPacket(nCoA:port -> peer) ──> PhtTunnelManager.send ──> AR
 *   ^                                                                              │
 *   └── onPacket: parseUdpPacket, dispatch by destination port <── onPacket <──────┘
 * ```
 *
 * Addresses other than the tunnel's inner address are not handled here: the
 * factories {@linkcode PhtDatagramStack.transportFactory} and
 * {@linkcode PhtDatagramStack.mip6Transport} open those with a fallback (plain UDP
 * sockets by default), so one `SipMobility` can start its call from the oCoA and bind
 * the nCoA through the tunnel.
 *
 * The stack also serves the role-swapped tunnel of section 7.2's forwarding
 * alternative (`transient_forwarding.ts`): there the inner address is the OLD care-of
 * address, and transports bound to it receive what the previous network forwards.
 *
 * What it does not do: IP fragmentation (a datagram must fit the tunnel's MTU; SIP
 * over UDP and RTP do), ICMP (a datagram for a port nobody bound is counted and
 * dropped, no port unreachable goes back), IP options.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { parseUdpPacket } from "../../lib/wire/ip_packet.ts";
 * const sent: Uint8Array[] = [];
 * const handle = {
 *   id: "pht-1", ctn: "net-b", openedAt: 0, expiresAt: 60_000,
 *   endpoints: { oCoA: "192.0.2.10", nCoA: "198.51.100.50", ar: { address: "198.51.100.1" } },
 * };
 * const stack = new PhtDatagramStack({ send: async (_h, p) => void sent.push(p) }, handle);
 * const t = await stack.bind({ address: "198.51.100.50", port: 5060 });
 * await t.send(new TextEncoder().encode("INVITE"), { address: "203.0.113.9", port: 5060 });
 * const inner = parseUdpPacket(sent[0]!);
 * assertEquals([inner.source, inner.sourcePort, inner.destination], ["198.51.100.50", 5060, "203.0.113.9"]);
 * await t.close();
 * ```
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { TunnelHandle } from "../../lib/ports.ts";
import { buildUdpPacket, parseUdpPacket } from "../../lib/wire/ip_packet.ts";
import {
  type DatagramEndpoint,
  type DatagramHandler,
  type DatagramTransport,
  type DatagramTransportFactory,
  udpTransport,
} from "./datagram_transport.ts";
import { type Mip6Socket, type Mip6Transport, udpMip6Transport } from "./mip6_mn.ts";
import { _canonical } from "./_mip6_udp.ts";

const _logger = getLogger(["mpa", "mobility", "pht-udp"]);

/** First port of the ephemeral range (RFC 6335 section 6). */
const _EPHEMERAL_FIRST = 49152;
/** Size of the ephemeral range. */
const _EPHEMERAL_COUNT = 65536 - _EPHEMERAL_FIRST;

/** The tunnel side the stack needs: `PhtTunnelManager` fits. */
export interface PhtPacketSender {
  /**
   * Seals and sends one inner IP packet through the tunnel.
   *
   * @param handle the tunnel
   * @param packet the inner packet, source the tunnel's inner address
   * @returns when handed to the kernel
   */
  send(handle: TunnelHandle, packet: Uint8Array): Promise<void>;
}

/** Counters of a {@linkcode PhtDatagramStack}. */
export interface PhtDatagramStackStats {
  /** Datagrams sent into the tunnel. */
  readonly sent: number;
  /** Datagrams delivered to a bound transport. */
  readonly delivered: number;
  /** Inner packets that are not UDP or do not parse (bad checksum, truncated). */
  readonly notUdp: number;
  /** UDP datagrams for another address than the inner address. */
  readonly wrongAddress: number;
  /** UDP datagrams for a port nothing is bound to. */
  readonly noListener: number;
  /** Sends the tunnel refused. */
  readonly sendErrors: number;
}

/** An error like a socket's, with the errno code (`EADDRINUSE`, `EADDRNOTAVAIL`). */
function _socketError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * A user-space UDP stack on the inner address of one PHT: transports bound to that
 * address send through the tunnel and receive what it delivers.
 */
export class PhtDatagramStack {
  readonly #sender: PhtPacketSender;
  readonly #handle: TunnelHandle;
  readonly #address: string;
  readonly #ports = new Map<number, PhtDatagramTransport>();
  #nextEphemeral = 0;
  #stats = { sent: 0, delivered: 0, notUdp: 0, wrongAddress: 0, noListener: 0, sendErrors: 0 };

  /**
   * @param sender the tunnel endpoint (a `PhtTunnelManager`)
   * @param handle the open tunnel; its `endpoints.nCoA` (the inner address) is the
   *   stack's address
   */
  constructor(sender: PhtPacketSender, handle: TunnelHandle) {
    this.#sender = sender;
    this.#handle = handle;
    this.#address = _canonical(handle.endpoints.nCoA);
  }

  /** The stack's address: the tunnel's inner address. */
  get address(): string {
    return this.#address;
  }

  /** The tunnel. */
  get handle(): TunnelHandle {
    return this.#handle;
  }

  /**
   * Opens a transport on the inner address (RFC 6252 section 6.3 step 3: what it
   * sends leaves through the PHT).
   *
   * @param local the inner address and a port (0: an ephemeral one, 49152-65535)
   * @returns the bound transport
   * @throws {Error} `EADDRNOTAVAIL` for another address, `EADDRINUSE` for a port
   *   already bound (or no ephemeral port left)
   *
   * @example
   * ```ts
   * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
   * const handle = {
   *   id: "pht-1", ctn: "b", openedAt: 0, expiresAt: 1,
   *   endpoints: { oCoA: "192.0.2.10", nCoA: "198.51.100.50", ar: { address: "198.51.100.1" } },
   * };
   * const stack = new PhtDatagramStack({ send: () => Promise.resolve() }, handle);
   * const t = await stack.bind({ address: "198.51.100.50", port: 0 });
   * assertEquals(t.local.port >= 49152, true);
   * await assertRejects(() => stack.bind({ address: "192.0.2.10", port: 0 }), Error, "EADDRNOTAVAIL");
   * ```
   */
  bind(local: DatagramEndpoint): Promise<DatagramTransport> {
    let address: string;
    try {
      address = _canonical(local.address);
    } catch (error) {
      return Promise.reject(error);
    }
    if (address !== this.#address) {
      return Promise.reject(
        _socketError("EADDRNOTAVAIL", `${local.address} is not the tunnel's inner address`),
      );
    }
    let port = local.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return Promise.reject(new RangeError(`Invalid UDP port: ${port}`));
    }
    if (port === 0) {
      const free = this.#ephemeral();
      if (free === undefined) {
        return Promise.reject(_socketError("EADDRINUSE", "No ephemeral port left"));
      }
      port = free;
    } else if (this.#ports.has(port)) {
      return Promise.reject(_socketError("EADDRINUSE", `${address}:${port} is bound`));
    }
    const transport = new PhtDatagramTransport(this, { address: this.#address, port });
    this.#ports.set(port, transport);
    return Promise.resolve(transport);
  }

  /**
   * A {@link DatagramTransportFactory} for `SipMobility`, `SipCorrespondent`,
   * `RtpReceiver`: the inner address through the tunnel, any other address through
   * `fallback`.
   *
   * @param fallback opens transports on other addresses; default UDP sockets
   * @returns the factory
   */
  transportFactory(fallback: DatagramTransportFactory = udpTransport): DatagramTransportFactory {
    return (local) => this.#owns(local.address) ? this.bind(local) : fallback(local);
  }

  /**
   * A {@link Mip6Transport} for `Mip6Mobility`: a socket on the inner address goes
   * through the tunnel (the Binding Update of `bind([nCoA])` or of a bulk
   * registration with `tunnel`), any other address through `fallback`.
   *
   * @param fallback opens sockets on other addresses; default UDP sockets
   * @returns the transport
   */
  mip6Transport(fallback: Mip6Transport = udpMip6Transport): Mip6Transport {
    return async (localAddress, onMessage): Promise<Mip6Socket> => {
      if (!this.#owns(localAddress)) return await fallback(localAddress, onMessage);
      const t = await this.bind({ address: localAddress, port: 0 });
      t.onMessage((bytes, from) => onMessage(bytes, from));
      return {
        localAddress,
        send: (bytes, address, port) => t.send(bytes, { address, port }),
        close: () => t.close(),
      };
    };
  }

  /**
   * Takes one inner packet the tunnel delivered: call it from the manager's
   * `onPacket` for this tunnel. A UDP datagram for the inner address and a bound
   * port goes to that transport; anything else is counted and dropped.
   *
   * @param packet the inner IP packet
   * @returns whether a transport took it
   */
  onPacket(packet: Uint8Array): boolean {
    let udp;
    try {
      udp = parseUdpPacket(packet);
    } catch (error) {
      this.#stats.notUdp++;
      _logger.debug("PHT UDP: not a UDP datagram: {error}", { error: String(error) });
      return false;
    }
    if (!this.#owns(udp.destination)) {
      this.#stats.wrongAddress++;
      return false;
    }
    const transport = this.#ports.get(udp.destinationPort);
    if (transport === undefined) {
      this.#stats.noListener++;
      return false;
    }
    this.#stats.delivered++;
    transport._receive(udp.payload, { address: udp.source, port: udp.sourcePort });
    return true;
  }

  /**
   * The counters since construction.
   *
   * @returns a snapshot
   */
  stats(): PhtDatagramStackStats {
    return { ...this.#stats };
  }

  /** Sends one datagram from `local` (used by {@link PhtDatagramTransport.send}). */
  async _send(local: DatagramEndpoint, bytes: Uint8Array, to: DatagramEndpoint): Promise<void> {
    const packet = buildUdpPacket({
      source: local.address,
      destination: to.address,
      sourcePort: local.port,
      destinationPort: to.port,
      payload: bytes,
    });
    try {
      await this.#sender.send(this.#handle, packet);
      this.#stats.sent++;
    } catch (error) {
      this.#stats.sendErrors++;
      throw error;
    }
  }

  /** Frees a port (used by {@link PhtDatagramTransport.close}). */
  _release(transport: PhtDatagramTransport): void {
    if (this.#ports.get(transport.local.port) === transport) {
      this.#ports.delete(transport.local.port);
    }
  }

  #owns(address: string): boolean {
    try {
      return _canonical(address) === this.#address;
    } catch {
      return false;
    }
  }

  #ephemeral(): number | undefined {
    for (let i = 0; i < _EPHEMERAL_COUNT; i++) {
      const port = _EPHEMERAL_FIRST + (this.#nextEphemeral + i) % _EPHEMERAL_COUNT;
      if (!this.#ports.has(port)) {
        this.#nextEphemeral = (port - _EPHEMERAL_FIRST + 1) % _EPHEMERAL_COUNT;
        return port;
      }
    }
    return undefined;
  }
}

/**
 * A {@link DatagramTransport} on a PHT's inner address, made by
 * {@linkcode PhtDatagramStack.bind}: sends through the tunnel, receives what the
 * stack dispatches to its port.
 */
export class PhtDatagramTransport implements DatagramTransport {
  readonly #stack: PhtDatagramStack;
  readonly #local: DatagramEndpoint;
  #handler: DatagramHandler | undefined;
  #closed = false;

  /**
   * Use {@linkcode PhtDatagramStack.bind}.
   *
   * @param stack the stack that dispatches to this transport
   * @param local the inner address and the port
   */
  constructor(stack: PhtDatagramStack, local: DatagramEndpoint) {
    this.#stack = stack;
    this.#local = local;
  }

  /** The inner address and the bound port. */
  get local(): DatagramEndpoint {
    return this.#local;
  }

  /**
   * Sends one datagram through the tunnel.
   *
   * @param bytes the payload
   * @param to the destination (same IP version as the inner address)
   * @returns when the tunnel handed the sealed frame to the kernel
   * @throws the tunnel's `PortError`, a `MalformedMessageError` for an oversized
   *   datagram or a mixed IP version, or `Transport closed`
   */
  send(bytes: Uint8Array, to: DatagramEndpoint): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Transport closed"));
    try {
      return this.#stack._send(this.#local, bytes, to);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sets the receive handler (replacing any earlier one).
   *
   * @param handler called for every datagram received
   */
  onMessage(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  /**
   * Frees the port; later sends reject.
   *
   * @returns at once
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handler = undefined;
      this.#stack._release(this);
    }
    return Promise.resolve();
  }

  /** A datagram for this port (called by the stack). */
  _receive(bytes: Uint8Array, from: DatagramEndpoint): void {
    if (this.#closed) return;
    try {
      this.#handler?.(bytes, from);
    } catch (error) {
      _logger.warn("PHT UDP receive handler failed: {error}", { error: String(error) });
    }
  }
}
