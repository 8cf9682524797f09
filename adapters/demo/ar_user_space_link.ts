/**
 * The access router's side of a CTN link in user space, for the embedded demo on
 * loopback (no root, no TUN; RFC 6252 sections 7.4, 7.6.1, Appendix B). It joins a
 * {@link PhtAr} to real UDP sockets the way the TUN glue (`tun_glue.ts`) joins it to the
 * kernel:
 *
 * - Proxy ARP stand-in: while a tunnel for an nCoA is up, the link binds UDP sockets
 *   on the nCoA (every 127/8 address is local on Linux) - the ports given up front
 *   (the MN's media port) and, on demand, every port the MN sends from through the
 *   tunnel (its SIP port). Each datagram arriving there becomes an IPv4/UDP packet
 *   (source = the sender, destination = the nCoA) handed to {@linkcode PhtAr.deliver}:
 *   tunnelled, or buffered while the MN switches links (section 7.6.1). A kernel with
 *   proxy ARP captures every port; user space captures only the ports it binds.
 * - Forwarding: inner packets from the MN ({@link PhtAr} `onPacket`, authenticated,
 *   source = the nCoA) are sent as real UDP from the socket bound to the inner
 *   packet's source address and port, so the correspondent sees them come from the
 *   nCoA.
 * - Gratuitous ARP: {@linkcode UserSpaceArLink.announce} is the MN's announcement of
 *   the nCoA on the CTN link (section 6.3 step 6, Appendix B). The link closes its
 *   nCoA sockets ("proxy ARP withdrawn"). The sockets are shared (SO_REUSEADDR,
 *   `_shared_udp.ts`): the MN binds the nCoA before it announces it, and Linux hands
 *   new datagrams to the socket bound last, so none falls between the two; the proxy
 *   sockets stay open 3 ms more for the datagrams already queued on them.
 * - Flushed packets ({@link PhtAr} `deliverDirect`, after the MN deleted its tunnel)
 *   are sent as real UDP to nCoA:port from the link's own socket on the AR's address:
 *   their original source cannot be kept (the correspondent's socket holds it), which
 *   an RTP receiver does not mind (it counts by sequence number).
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { PhtAr, PhtArTunnel, PhtTunnelDownReason } from "../tunnel/pht_ar.ts";
import {
  type DatagramEndpoint,
  type DatagramTransport,
  UdpDatagramTransport,
} from "../mobility/datagram_transport.ts";
import { buildUdpPacket, parseUdpPacket } from "../../lib/wire/ip_packet.ts";
import { _bindShared } from "./_shared_udp.ts";

const _logger = getLogger(["mpa", "demo", "ar-link"]);

/** How long the proxy sockets of an announced nCoA stay open for what they queued, ms. */
const _DRAIN_MS = 3;

/** What a {@link UserSpaceArLink} reports. */
export type ArLinkEvent =
  /** Sockets bound on an nCoA (proxy ARP stand-in installed). */
  | { readonly kind: "proxy-up"; readonly ctn: string; readonly nCoA: string }
  /** The nCoA's sockets closed: announced by the MN, or its tunnel went down. */
  | {
    readonly kind: "proxy-down";
    readonly ctn: string;
    readonly nCoA: string;
    /** The PANA session of the tunnel's MPA-SA. */
    readonly sessionId: number;
    readonly why: "announced" | PhtTunnelDownReason;
  }
  /** Packets the AR released after the MN deleted its tunnel, sent on the link. */
  | {
    readonly kind: "flushed";
    readonly ctn: string;
    readonly nCoA: string;
    readonly count: number;
  };

/** Options of {@linkcode UserSpaceArLink.open}. */
export interface UserSpaceArLinkOptions {
  /** The CTN id, for events and logs. */
  readonly ctn: string;
  /** The AR's address on the CTN link: the source of flushed packets. */
  readonly address: string;
  /** nCoA ports captured from tunnel up (the MN's media port, its SIP port). */
  readonly ports: readonly number[];
  /** Called for every event. */
  readonly onEvent?: (event: ArLinkEvent) => void;
}

/** Counters of a {@linkcode UserSpaceArLink}. */
export interface ArLinkStats {
  /** Datagrams captured on an nCoA and handed to the AR, by the AR's verdict. */
  readonly captured: Readonly<Record<string, number>>;
  /** Inner packets from MNs sent on as UDP. */
  readonly forwarded: number;
  /** Packets released directly on the link (flushed, copied). */
  readonly direct: number;
  /** Inner packets that are not UDP, or whose socket could not be bound or send failed. */
  readonly dropped: number;
  /** nCoA sockets open now. */
  readonly sockets: number;
}

interface _Proxy {
  readonly nCoA: string;
  readonly sessionId: number;
  readonly sockets: Map<number, Promise<DatagramTransport | undefined>>;
  closed: boolean;
}

/**
 * The user-space CTN link of one access router (see the module documentation).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const link = await UserSpaceArLink.open({ ctn: "b", address: "127.0.0.1", ports: [40000] });
 * const hooks = link.hooks();
 * assertEquals(typeof hooks.onTunnelUp, "function");
 * assertEquals(link.stats().sockets, 0);
 * await link.close();
 * ```
 */
export class UserSpaceArLink {
  readonly #options: UserSpaceArLinkOptions;
  readonly #socket: DatagramTransport;
  readonly #proxies = new Map<string, _Proxy>();
  #ar: PhtAr | undefined;
  #closed = false;
  #captured: Record<string, number> = {};
  #forwarded = 0;
  #direct = 0;
  #dropped = 0;
  readonly #bursts = new Map<string, number>();

  private constructor(options: UserSpaceArLinkOptions, socket: DatagramTransport) {
    this.#options = options;
    this.#socket = socket;
  }

  /**
   * Binds the link's own socket on the AR's address.
   *
   * @param options CTN id, AR address, captured ports, event sink
   * @returns the link, not yet attached to an AR
   * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL)
   */
  static async open(options: UserSpaceArLinkOptions): Promise<UserSpaceArLink> {
    const socket = await UdpDatagramTransport.bind({ address: options.address, port: 0 });
    return new UserSpaceArLink(options, socket);
  }

  /**
   * The AR callbacks to give `startCtnServices({ ar })` (`PhtAr.listen`); call
   * {@linkcode UserSpaceArLink.attach} with the AR once it runs.
   *
   * @returns `onTunnelUp`, `onTunnelDown`, `onPacket`, `deliverDirect`
   */
  hooks(): {
    onTunnelUp: (tunnel: PhtArTunnel) => Promise<void>;
    onTunnelDown: (tunnel: PhtArTunnel, reason: PhtTunnelDownReason) => Promise<void>;
    onPacket: (tunnel: PhtArTunnel, packet: Uint8Array) => void;
    deliverDirect: (nCoA: string, packet: Uint8Array) => void;
  } {
    return {
      onTunnelUp: (tunnel) => this.#up(tunnel.nCoA, tunnel.sessionId),
      onTunnelDown: (tunnel, reason) => this.#down(tunnel.nCoA, reason),
      onPacket: (_tunnel, packet) => this.#forward(packet),
      deliverDirect: (nCoA, packet) => this.#deliverDirect(nCoA, packet),
    };
  }

  /**
   * Sets the AR whose `deliver` takes the captured packets.
   *
   * @param ar the running AR
   */
  attach(ar: PhtAr): void {
    this.#ar = ar;
  }

  /**
   * The MN announced the nCoA on this link (gratuitous ARP, RFC 6252 Appendix B):
   * the nCoA's sockets close, so that the MN can bind the address itself.
   *
   * @param nCoA the announced address
   * @returns whether the link was capturing it
   */
  async announce(nCoA: string): Promise<boolean> {
    const proxy = this.#proxies.get(nCoA);
    if (proxy === undefined) return false;
    // New datagrams go to the MN's socket already (bound last); let the ones queued
    // on the proxy sockets reach the AR before they close.
    await new Promise((resolve) => setTimeout(resolve, _DRAIN_MS));
    await this.#closeProxy(proxy, "announced");
    return true;
  }

  /**
   * The counters.
   *
   * @returns captured, forwarded, direct, dropped, open sockets
   */
  stats(): ArLinkStats {
    let sockets = 0;
    for (const p of this.#proxies.values()) sockets += p.sockets.size;
    return {
      captured: { ...this.#captured },
      forwarded: this.#forwarded,
      direct: this.#direct,
      dropped: this.#dropped,
      sockets,
    };
  }

  /**
   * Closes every socket. Idempotent.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#proxies.values()].map((p) => this.#closeProxy(p, "closed")));
    await this.#socket.close();
  }

  #emit(event: ArLinkEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      _logger.warn("AR link event handler failed: {error}", { error: String(error) });
    }
  }

  async #up(nCoA: string, sessionId: number): Promise<void> {
    if (this.#closed) throw new Error("AR link closed");
    const existing = this.#proxies.get(nCoA);
    if (existing !== undefined) await this.#closeProxy(existing, "closed");
    const proxy: _Proxy = { nCoA, sessionId, sockets: new Map(), closed: false };
    this.#proxies.set(nCoA, proxy);
    await Promise.all(this.#options.ports.map((port) => this.#socketFor(proxy, port)));
    this.#emit({ kind: "proxy-up", ctn: this.#options.ctn, nCoA });
  }

  async #down(nCoA: string, reason: PhtTunnelDownReason): Promise<void> {
    const proxy = this.#proxies.get(nCoA);
    if (proxy !== undefined) await this.#closeProxy(proxy, reason);
  }

  async #closeProxy(proxy: _Proxy, why: "announced" | PhtTunnelDownReason): Promise<void> {
    if (proxy.closed) return;
    proxy.closed = true;
    if (this.#proxies.get(proxy.nCoA) === proxy) this.#proxies.delete(proxy.nCoA);
    const sockets = await Promise.all(proxy.sockets.values());
    proxy.sockets.clear();
    await Promise.all(sockets.map((s) => s?.close()));
    this.#emit({
      kind: "proxy-down",
      ctn: this.#options.ctn,
      nCoA: proxy.nCoA,
      sessionId: proxy.sessionId,
      why,
    });
  }

  /** The socket on nCoA:port, bound on first use; `undefined` when it cannot be. */
  #socketFor(proxy: _Proxy, port: number): Promise<DatagramTransport | undefined> {
    const known = proxy.sockets.get(port);
    if (known !== undefined) return known;
    const bound = _bindShared({ address: proxy.nCoA, port }).then(
      (socket): DatagramTransport => {
        if (proxy.closed) {
          void socket.close();
          throw new Error(`Proxy for ${proxy.nCoA} closed`);
        }
        socket.onMessage((bytes, from) => this.#capture(proxy.nCoA, port, bytes, from));
        return socket;
      },
    ).catch((error: unknown) => {
      _logger.warn("AR link {ctn}: cannot bind {nCoA}:{port}: {error}", {
        ctn: this.#options.ctn,
        nCoA: proxy.nCoA,
        port,
        error: String(error),
      });
      proxy.sockets.delete(port);
      return undefined;
    });
    proxy.sockets.set(port, bound);
    return bound;
  }

  #capture(nCoA: string, port: number, bytes: Uint8Array, from: DatagramEndpoint): void {
    const ar = this.#ar;
    let verdict = "no-ar";
    if (ar !== undefined) {
      try {
        verdict = ar.deliver(buildUdpPacket({
          source: from.address,
          destination: nCoA,
          sourcePort: from.port,
          destinationPort: port,
          payload: bytes,
        }));
      } catch (error) {
        verdict = "dropped";
        _logger.debug("AR link cannot wrap a datagram: {error}", { error: String(error) });
      }
    }
    this.#captured[verdict] = (this.#captured[verdict] ?? 0) + 1;
  }

  #forward(packet: Uint8Array): void {
    let udp;
    try {
      udp = parseUdpPacket(packet);
    } catch {
      this.#dropped++;
      return;
    }
    const proxy = this.#proxies.get(udp.source);
    if (proxy === undefined) {
      this.#dropped++;
      return;
    }
    this.#socketFor(proxy, udp.sourcePort).then(async (socket) => {
      if (socket === undefined) {
        this.#dropped++;
        return;
      }
      await socket.send(udp.payload, { address: udp.destination, port: udp.destinationPort });
      this.#forwarded++;
    }).catch(() => {
      this.#dropped++;
    });
  }

  #deliverDirect(nCoA: string, packet: Uint8Array): void {
    let udp;
    try {
      udp = parseUdpPacket(packet);
    } catch {
      this.#dropped++;
      return;
    }
    // The AR releases a buffer in one synchronous loop: one event per burst.
    const burst = this.#bursts.get(nCoA);
    if (burst !== undefined) this.#bursts.set(nCoA, burst + 1);
    else {
      this.#bursts.set(nCoA, 1);
      queueMicrotask(() => {
        const count = this.#bursts.get(nCoA) ?? 0;
        this.#bursts.delete(nCoA);
        this.#emit({ kind: "flushed", ctn: this.#options.ctn, nCoA, count });
      });
    }
    this.#socket.send(udp.payload, { address: nCoA, port: udp.destinationPort }).then(
      () => void this.#direct++,
      () => void this.#dropped++,
    );
  }
}
