/**
 * The access router's end of proactive handover tunnels (RFC 6252 sections 6.3
 * steps 2, 4-6, 7.2, 7.4, 7.6): one UDP socket terminating the PHTs of many MNs,
 * routing each nCoA into its tunnel, buffering for an MN about to switch links
 * (section 7.6.1), copying to a prepared interface (section 7.6.2) and answering
 * reachability probes (section 7.6.3). Tunnels are time-bound (section 7.2): without
 * a refresh they expire and release everything.
 *
 * Management messages are authenticated with the MPA-SA's MN-AR key, found by PANA
 * session id through {@link PhtArOptions.keys}; data frames are sealed with AES-GCM
 * under per-tunnel keys (`lib/keys/pht_keys.ts`). Malformed, forged, replayed and
 * late datagrams never throw out of the socket handler: they are counted in
 * {@linkcode PhtAr.stats} and logged at debug level.
 *
 * Lifecycle of the route for an nCoA: {@link PhtArOptions.onTunnelUp} is awaited
 * before the create-ack (the route exists before the MN sends), and
 * {@link PhtArOptions.onTunnelDown} is called when the AR stops handling the nCoA:
 * at once on delete, or, when the MN asked to buffer, once the buffer is released
 * (flush, {@linkcode PhtAr.heardOnLink}, or the buffer's age bound passed).
 * A tunnel that copies to the MN's prepared interface (section 7.6.2) is the
 * exception: on delete, `onTunnelDown` runs first and is awaited while the tunnel
 * still tunnels and copies, then it is released and the delete-ack sent, so that a
 * packet routed into the tunnel while its route goes is still copied, ahead of the ack.
 * {@link PhtArOptions.onTunnelDeleted} fires as soon as the MN deletes a tunnel, also
 * while the buffer is still held: the MN is leaving for (or already on) the CTN link,
 * so the AR must stop answering ARP for the nCoA while it keeps routing to the buffer.
 *
 * IPv6 pre-configuration (RFC 6252 section 7.3.4, Appendix A): a create carrying the
 * Interface Identifier TLV asks for IPv6 autoconf. Its nCoA is `::` (pending): the
 * tunnel is granted without a route, and right after the create-ack the AR seals its
 * Router Advertisement for the CTN link into the tunnel
 * ({@link PhtArIpv6Autoconf.routerAdvertisement}); a Router Solicitation the MN sends
 * through the tunnel is answered with it again (RFC 4861 section 6.2.6), which covers
 * an RA lost or received before the MN had its keys. The MN forms its nCoA by SLAAC and
 * names it in an authenticated `update`; the AR runs DAD for it on the CTN link
 * ({@link PhtArIpv6Autoconf.checkAddress}, proactive DAD), and only when it is unique
 * routes it into the tunnel (`onTunnelUp`, which installs the route and the neighbour
 * proxy) and answers `update-ack`; a duplicate is refused with the error `Duplicate`,
 * and the MN forms another address (RFC 7217 section 6). Until then no inner packet
 * but a Router Solicitation is accepted from the tunnel. `onTunnelUp`,
 * `onTunnelDeleted` and `onTunnelDown` fire only for a tunnel whose nCoA is known.
 *
 * Address resolution (RFC 6252 Appendix B): the MN may send its link-layer address on
 * the CTN link in create or update (Link-Layer Address TLV); the AR only keeps it and
 * shows it in {@link PhtArTunnel.linkLayerAddress}, for the hooks to install a
 * neighbour entry at the switch (`tun_glue.ts`).
 *
 * Data path: the AR holds the raw MN-AR key, so it derives each tunnel's data keys as
 * bytes and seals / opens synchronously with `node:crypto` (`_fast_aead.ts`; same
 * frames as the WebCrypto path of `lib/pht/pht_data_seal.ts`). Datagrams are handed to
 * the socket without waiting for each send's completion (`node:dgram` keeps their
 * order); send failures are counted in {@linkcode PhtArStats.sendErrors} and logged.
 *
 * @module
 */
import type { Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { importMnArKey, phtDataKeys, phtManagementKey } from "../../lib/keys/pht_keys.ts";
import { PacketBuffer, type PacketBufferStats } from "../../lib/pht/packet_buffer.ts";
import { openPhtData, sealPhtData } from "../../lib/pht/pht_data_seal.ts";
import { signPhtManagement, verifyPhtManagement } from "../../lib/pht/pht_management_auth.ts";
import { ReplayWindow } from "../../lib/pht/replay_window.ts";
import { parseIpHeader } from "../../lib/wire/ip_header.ts";
import {
  decodePhtFrame,
  encodePhtManagement,
  type PhtDataFrame,
  type PhtManagementFrame,
  type PhtManagementMessage,
} from "../../lib/wire/pht.ts";
import {
  PHT_DEFAULT_BUFFER_AGE_MS,
  PHT_DEFAULT_BUFFER_PACKETS,
  PHT_DEFAULT_LIFETIME_MS,
  PHT_DEFAULT_MAX_LIFETIME_MS,
  PHT_NONCE_LENGTH,
  PHT_UDP_PORT,
  PhtErrorCode,
  type PhtErrorCodeValue,
} from "../../lib/wire/pht_constants.ts";
import { type _FastAead, _fastDataKeys } from "./_fast_aead.ts";
import {
  _bindUdp,
  _canonicalIp,
  _closeUdp,
  _cryptoRandom,
  _preciseNow,
  _randomTunnelId,
  _sendUdp,
  _sendUdpNow,
} from "./_pht_udp.ts";

const _logger = getLogger(["mpa", "pht", "ar"]);

/** How many released tunnel ids the AR remembers, to tell late frames from unknown ones. */
const _GONE_MEMORY = 1024;

/** Why a tunnel went down. */
export type PhtTunnelDownReason = "deleted" | "expired" | "closed";

/** A tunnel as the AR sees it (a snapshot). */
export interface PhtArTunnel {
  /** Tunnel id, assigned by the AR, never 0. */
  readonly id: number;
  /** PANA session id of the MPA-SA whose MN-AR key protects the tunnel. */
  readonly sessionId: number;
  /** The MN's outer address, as given in create. */
  readonly oCoA: string;
  /**
   * The MN's inner address: packets to it go into the tunnel. `::` while an IPv6
   * autoconf tunnel waits for the MN's `update` (RFC 6252 section 7.3.4).
   */
  readonly nCoA: string;
  /** Whether the MN asked for IPv6 autoconf through the tunnel (section 7.3.4). */
  readonly autoconf: boolean;
  /** The MN's interface identifier (8 bytes), for an autoconf tunnel. */
  readonly interfaceId?: Uint8Array;
  /**
   * The MN's link-layer address on the CTN link as it announced it (Appendix B),
   * lower-case colon-separated hex (`02:00:00:00:00:0b`).
   */
  readonly linkLayerAddress?: string;
  /** Where frames for the MN go: the source of its latest authenticated frame. */
  readonly peer: { readonly address: string; readonly port: number };
  /** When created, ms. */
  readonly createdAt: number;
  /** When it expires unless refreshed, ms (section 7.2). */
  readonly expiresAt: number;
  /** Whether packets for the nCoA are held (section 7.6.1). */
  readonly buffering: boolean;
  /** Packets held now. */
  readonly buffered: number;
  /** Whether the MN deleted the tunnel and the AR only holds its buffer. */
  readonly deleted: boolean;
  /** Where packets are copied (section 7.6.2), if copying. */
  readonly copyTo?: string;
  /**
   * The UDP port copies are tunnelled to at `copyTo` (the MN's socket on its prepared
   * interface); absent when copies go to {@link PhtArOptions.deliverDirect}.
   */
  readonly copyPort?: number;
}

/**
 * What the AR needs to offer IPv6 autoconf through its tunnels (RFC 6252 section
 * 7.3.4, Appendix A); `ipv6_autoconf_glue.ts` builds it from the CTN link's prefix.
 */
export interface PhtArIpv6Autoconf {
  /**
   * The Router Advertisement of the CTN link for this MN, an IPv6 packet (e.g.
   * `buildRaForTunnel`); sealed into the tunnel after the create-ack and in answer
   * to a Router Solicitation from the tunnel.
   *
   * @param tunnel the autoconf tunnel
   * @returns the RA packet
   */
  routerAdvertisement(tunnel: PhtArTunnel): Uint8Array;
  /**
   * Proactive DAD for the address the MN formed (Appendix A), on the CTN link; must
   * not install the neighbour proxy (`onTunnelUp` does). A rejection refuses the
   * update (`Refused`).
   *
   * @param tunnel the tunnel, nCoA still `::`
   * @param nCoA the address the MN named
   * @returns `unique` or `duplicate`
   */
  checkAddress(tunnel: PhtArTunnel, nCoA: string): Promise<"unique" | "duplicate">;
  /**
   * Whether the MN may use this address here at all (in the CTN's prefix); default:
   * any global unicast IPv6 address.
   *
   * @param nCoA the address the MN named, canonical text
   * @returns false to refuse the update with `BadRequest`
   */
  acceptsAddress?(nCoA: string): boolean;
}

/** Options of {@linkcode PhtAr.listen}. */
export interface PhtArOptions {
  /** Local address and port; port default {@link PHT_UDP_PORT}, 0 = ephemeral. */
  readonly listen: { readonly address: string; readonly port?: number };
  /**
   * The raw MN-AR key of a PANA session, e.g. `InProcessKeyDelivery.get(id)?.mnAr`;
   * `undefined` for a session the AR does not know. The bytes are imported, not kept.
   */
  readonly keys: (sessionId: number) => Uint8Array | undefined;
  /** Inner packets from MNs (authenticated, source = the tunnel's nCoA), to forward. */
  readonly onPacket?: (tunnel: PhtArTunnel, packet: Uint8Array) => void;
  /** A tunnel came up: install the route nCoA -> tunnel (awaited before the create-ack). */
  readonly onTunnelUp?: (tunnel: PhtArTunnel) => void | Promise<void>;
  /**
   * The MN deleted a tunnel (section 6.3 step 4). Awaited before the delete-ack,
   * before `onTunnelDown`, also when the AR keeps the buffer for a while: stop answering ARP
   * for the nCoA there (the MN is about to answer it on the CTN link), but keep the
   * route to the buffer until `onTunnelDown`.
   */
  readonly onTunnelDeleted?: (tunnel: PhtArTunnel) => void | Promise<void>;
  /** The AR stopped handling a tunnel's nCoA: remove the route. */
  readonly onTunnelDown?: (
    tunnel: PhtArTunnel,
    reason: PhtTunnelDownReason,
  ) => void | Promise<void>;
  /**
   * Where flushed packets go once the MN is on its new link, and copies (section
   * 7.6.2) when the MN did not ask for them from its prepared interface (see
   * {@linkcode PhtAr.startCopy}).
   */
  readonly deliverDirect?: (nCoA: string, packet: Uint8Array) => void;
  /** Buffer bounds per tunnel: packets (default 1024) and age (default 2000 ms). */
  readonly buffer?: { readonly maxPackets?: number; readonly maxAgeMs?: number };
  /** The longest lifetime granted, ms; default 600000. */
  readonly maxLifetimeMs?: number;
  /** Clock, epoch ms; default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
  /**
   * IPv6 autoconf through the tunnel (RFC 6252 section 7.3.4); without it a create
   * asking for autoconf is refused with `BadRequest`.
   */
  readonly ipv6Autoconf?: PhtArIpv6Autoconf;
}

/** Counters of a {@linkcode PhtAr}. */
export interface PhtArStats {
  /** Datagrams received. */
  readonly framesIn: number;
  /** Datagrams sent (data frames and management answers). */
  readonly framesOut: number;
  /** Inner packets delivered to `onPacket`. */
  readonly packetsIn: number;
  /** Inner packets sealed into tunnels. */
  readonly packetsOut: number;
  /** Frames refused as replays (data window or management sequence). */
  readonly replayed: number;
  /** Frames whose tag or MAC did not verify. */
  readonly badAuth: number;
  /** Frames for a tunnel id the AR never had (or forgot). */
  readonly unknownTunnel: number;
  /** Frames for a tunnel that expired or was deleted. */
  readonly expired: number;
  /** Create requests for a session the AR holds no key for. */
  readonly unknownSession: number;
  /** Inner packets whose source is not the tunnel's nCoA. */
  readonly spoofed: number;
  /** Datagrams that do not parse. */
  readonly malformed: number;
  /** Tunnels created, refreshed and expired. */
  readonly tunnelsCreated: number;
  /** Refreshes granted. */
  readonly refreshes: number;
  /** Tunnels that expired without refresh. */
  readonly tunnelsExpired: number;
  /** Packets held for MNs about to switch (section 7.6.1). */
  readonly buffered: number;
  /** Held packets released (through the tunnel or directly). */
  readonly flushed: number;
  /** Held packets dropped, by reason. */
  readonly bufferDropped: { readonly overflow: number; readonly age: number };
  /** Packets copied to a prepared interface (section 7.6.2). */
  readonly copied: number;
  /** Probes answered (section 7.6.3). */
  readonly probes: number;
  /** Datagrams the socket failed to send (counted, logged at debug level). */
  readonly sendErrors: number;
  /** Router Advertisements sealed into autoconf tunnels (section 7.3.4). */
  readonly routerAdvertisements: number;
  /** Router Solicitations received through autoconf tunnels. */
  readonly routerSolicitations: number;
  /** Updates whose address proactive DAD found unique and the AR now routes. */
  readonly addressesAssigned: number;
  /** Updates refused because the address is in use (Appendix A). */
  readonly duplicates: number;
}

interface _Tunnel {
  readonly id: number;
  readonly sessionId: number;
  readonly oCoA: string;
  nCoA: string;
  readonly autoconf: boolean;
  readonly interfaceId: Uint8Array | undefined;
  linkLayerAddress: string | undefined;
  readonly createdAt: number;
  readonly mnNonce: Uint8Array;
  readonly arNonce: Uint8Array;
  readonly mgmtKey: CryptoKey;
  /** WebCrypto data keys, when the fast keys could not be derived. */
  readonly rxKey: CryptoKey | undefined;
  readonly txKey: CryptoKey | undefined;
  /** Synchronous data keys (`_fast_aead.ts`), wiped on release. */
  readonly fast: { readonly rx: _FastAead; readonly tx: _FastAead } | undefined;
  readonly window: ReplayWindow;
  peer: { address: string; port: number };
  expiresAt: number;
  lifetimeMs: number;
  txSequence: bigint;
  txChain: Promise<void>;
  rxChain: Promise<void>;
  buffer: PacketBuffer | undefined;
  deleted: boolean;
  copyTo: string | undefined;
  copyPort: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface _Gone {
  readonly sessionId: number;
  readonly mgmtKey: CryptoKey;
  readonly reason: PhtTunnelDownReason;
}

/**
 * The AR's PHT endpoint: `await PhtAr.listen(options)`, then `deliver(packet)` for
 * every packet routed to an nCoA, and `close()`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ar = await PhtAr.listen({ listen: { address: "127.0.0.1", port: 0 }, keys: () => undefined });
 * assertEquals(ar.tunnels().length, 0);
 * assertEquals(ar.deliver(new Uint8Array([0x45])), "dropped"); // not an IP packet
 * await ar.close();
 * ```
 */
export class PhtAr implements AsyncDisposable {
  readonly #socket: Socket;
  readonly #options: PhtArOptions;
  readonly #now: () => number;
  readonly #tunnels = new Map<number, _Tunnel>();
  readonly #byNCoA = new Map<string, _Tunnel>();
  readonly #gone = new Map<number, _Gone>();
  readonly #mgmtSequence = new Map<number, bigint>();
  readonly #mgmtChains = new Map<number, Promise<void>>();
  readonly #bufferTotals = { overflow: 0, age: 0, buffered: 0, flushed: 0 };
  #closed = false;
  #stats = {
    framesIn: 0,
    framesOut: 0,
    packetsIn: 0,
    packetsOut: 0,
    replayed: 0,
    badAuth: 0,
    unknownTunnel: 0,
    expired: 0,
    unknownSession: 0,
    spoofed: 0,
    malformed: 0,
    tunnelsCreated: 0,
    refreshes: 0,
    tunnelsExpired: 0,
    copied: 0,
    probes: 0,
    sendErrors: 0,
    routerAdvertisements: 0,
    routerSolicitations: 0,
    addressesAssigned: 0,
    duplicates: 0,
  };

  private constructor(socket: Socket, options: PhtArOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#now = options.now ?? _preciseNow;
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      try {
        this.#onDatagram(msg, rinfo);
      } catch (error) {
        _logger.debug("PHT AR dropped a datagram: {error}", { error: String(error) });
      }
    });
    socket.on("error", (error: Error) => {
      _logger.warn("PHT AR socket error: {error}", { error: error.message });
    });
  }

  /**
   * Opens the AR's UDP socket.
   *
   * @param options listen address, key lookup, callbacks, bounds
   * @returns the listening AR
   * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES)
   */
  static async listen(options: PhtArOptions): Promise<PhtAr> {
    const socket = await _bindUdp(options.listen.address, options.listen.port ?? PHT_UDP_PORT);
    const ar = new PhtAr(socket, options);
    _logger.info("PHT AR listening on {address}:{port}", ar.address);
    return ar;
  }

  /** The bound address and port. */
  get address(): { address: string; port: number } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  /**
   * Handles a packet routed to some nCoA: seals it into its tunnel, holds it while
   * the MN asked to buffer, and also copies it while copy-and-forward is on.
   *
   * @param packet an IP packet; its destination picks the tunnel
   * @returns `tunnelled`, `buffered`, `copied` (tunnelled and copied), `no-tunnel`
   *   (no tunnel for the destination) or `dropped` (not an IP packet, AR closed)
   */
  deliver(packet: Uint8Array): "tunnelled" | "buffered" | "copied" | "no-tunnel" | "dropped" {
    if (this.#closed) return "dropped";
    let destination: string;
    try {
      destination = _canonicalIp(parseIpHeader(packet).destination);
    } catch (error) {
      _logger.debug("PHT AR cannot route a packet: {error}", { error: String(error) });
      return "dropped";
    }
    const tunnel = this.#byNCoA.get(destination);
    if (tunnel === undefined) return "no-tunnel";
    const now = this.#now();
    if (tunnel.buffer !== undefined) {
      this.#bufferTotals.buffered++;
      tunnel.buffer.push(packet, now);
      return "buffered";
    }
    if (tunnel.deleted || now >= tunnel.expiresAt) return "no-tunnel";
    this.#sendData(tunnel, packet, tunnel.peer);
    if (tunnel.copyTo !== undefined && tunnel.copyPort !== undefined) {
      // Section 7.6.2 through a PHT: the copy is sealed under the tunnel's key with
      // its own sequence number and sent to the MN's socket on the prepared interface.
      this.#stats.copied++;
      this.#sendData(tunnel, packet, { address: tunnel.copyTo, port: tunnel.copyPort });
      return "copied";
    }
    if (tunnel.copyTo !== undefined && this.#options.deliverDirect !== undefined) {
      this.#stats.copied++;
      this.#options.deliverDirect(tunnel.copyTo, packet);
      return "copied";
    }
    return "tunnelled";
  }

  /**
   * The MN was heard on its new link (RFC 6252 section 7.6.1): releases the packets
   * held for the nCoA through {@link PhtArOptions.deliverDirect}, in order, and ends
   * buffering; a deleted tunnel is released.
   *
   * @param nCoA the MN's address on the new link
   * @returns how many packets were released
   */
  heardOnLink(nCoA: string): number {
    const tunnel = this.#byNCoA.get(_canonicalIp(nCoA));
    if (tunnel === undefined || tunnel.buffer === undefined) return 0;
    const packets = this.#drain(tunnel);
    for (const p of packets) this.#options.deliverDirect?.(tunnel.nCoA, p);
    if (tunnel.deleted) this.#release(tunnel, "deleted");
    _logger.debug("PHT AR: {nCoA} heard on link, released {count} packets", {
      nCoA: tunnel.nCoA,
      count: packets.length,
    });
    return packets.length;
  }

  /**
   * Starts copy-and-forward (RFC 6252 section 7.6.2): packets for the tunnel's nCoA
   * also go to `address`. With a `port`, each copy is sealed into the PHT (the
   * tunnel's AR-to-MN key, its own sequence number) and sent to `address:port`, a
   * socket of the MN on its prepared interface, which drops the duplicates; that is
   * what a copy-start sent from the prepared interface sets up. Without a port the
   * packet goes to {@link PhtArOptions.deliverDirect} as is; note that through a TUN
   * (`tun_glue.ts`) such a copy is still addressed to the nCoA, which the kernel
   * routes back into the tunnel, so the TUN glue drops it (counted).
   *
   * @param address where copies go (the prepared interface's address)
   * @param tunnelId the tunnel
   * @param port the MN's UDP port at `address` for PHT-encapsulated copies
   * @returns `false` for an unknown tunnel
   */
  startCopy(address: string, tunnelId: number, port?: number): boolean {
    const tunnel = this.#tunnels.get(tunnelId);
    if (tunnel === undefined || tunnel.deleted) return false;
    tunnel.copyTo = _canonicalIp(address);
    tunnel.copyPort = port;
    return true;
  }

  /**
   * Stops copy-and-forward for a tunnel.
   *
   * @param tunnelId the tunnel
   * @returns `false` for an unknown tunnel
   */
  stopCopy(tunnelId: number): boolean {
    const tunnel = this.#tunnels.get(tunnelId);
    if (tunnel === undefined) return false;
    tunnel.copyTo = undefined;
    tunnel.copyPort = undefined;
    return true;
  }

  /**
   * Seals the CTN link's Router Advertisement into an autoconf tunnel (RFC 6252
   * section 7.3.4), e.g. periodically (RFC 4861 section 6.2.4). The AR already sends
   * one after the create-ack and one per Router Solicitation from the tunnel.
   *
   * @param tunnelId the tunnel
   * @returns `false` for an unknown, deleted or non-autoconf tunnel
   */
  sendRouterAdvertisement(tunnelId: number): boolean {
    const tunnel = this.#tunnels.get(tunnelId);
    if (tunnel === undefined || tunnel.deleted || !tunnel.autoconf || this.#closed) return false;
    return this.#advertise(tunnel);
  }

  /**
   * The tunnels held now, live or deleted with a buffer still held.
   *
   * @returns snapshots
   */
  tunnels(): readonly PhtArTunnel[] {
    return [...this.#tunnels.values()].map((t) => this.#view(t));
  }

  /**
   * The counters since listen.
   *
   * @returns a snapshot
   */
  stats(): PhtArStats {
    const totals = this.#bufferTotalsNow();
    return {
      ...this.#stats,
      buffered: totals.buffered,
      flushed: totals.flushed,
      bufferDropped: { overflow: totals.overflow, age: totals.age },
    };
  }

  /**
   * Closes the socket and releases every tunnel (`onTunnelDown` with `closed`).
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const tunnel of [...this.#tunnels.values()]) this.#release(tunnel, "closed");
    await _closeUdp(this.#socket);
  }

  /** Same as {@linkcode PhtAr.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------------------

  #advertise(tunnel: _Tunnel): boolean {
    const autoconf = this.#options.ipv6Autoconf;
    if (autoconf === undefined) return false;
    let packet: Uint8Array;
    try {
      packet = autoconf.routerAdvertisement(this.#view(tunnel));
    } catch (error) {
      _logger.warn("PHT AR cannot build the RA for tunnel {id}: {error}", {
        id: tunnel.id,
        error: String(error),
      });
      return false;
    }
    this.#stats.routerAdvertisements++;
    this.#sendData(tunnel, packet, tunnel.peer);
    return true;
  }

  #bufferTotalsNow(): { overflow: number; age: number; buffered: number; flushed: number } {
    const t = { ...this.#bufferTotals };
    const now = this.#now();
    for (const tunnel of this.#tunnels.values()) {
      if (tunnel.buffer === undefined) continue;
      tunnel.buffer.purge(now);
      const s: PacketBufferStats = tunnel.buffer.stats;
      t.overflow += s.dropped.overflow;
      t.age += s.dropped.age;
    }
    return t;
  }

  #retireBuffer(tunnel: _Tunnel): void {
    if (tunnel.buffer === undefined) return;
    tunnel.buffer.clear();
    const s = tunnel.buffer.stats;
    this.#bufferTotals.overflow += s.dropped.overflow;
    this.#bufferTotals.age += s.dropped.age;
    tunnel.buffer = undefined;
  }

  #drain(tunnel: _Tunnel): Uint8Array[] {
    if (tunnel.buffer === undefined) return [];
    const packets = tunnel.buffer.drain(this.#now());
    this.#bufferTotals.flushed += packets.length;
    this.#retireBuffer(tunnel);
    return packets;
  }

  #view(t: _Tunnel): PhtArTunnel {
    const base = {
      id: t.id,
      sessionId: t.sessionId,
      oCoA: t.oCoA,
      nCoA: t.nCoA,
      autoconf: t.autoconf,
      ...(t.interfaceId === undefined ? {} : { interfaceId: t.interfaceId.slice() }),
      ...(t.linkLayerAddress === undefined ? {} : { linkLayerAddress: t.linkLayerAddress }),
      peer: { ...t.peer },
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      buffering: t.buffer !== undefined,
      buffered: t.buffer?.size ?? 0,
      deleted: t.deleted,
    };
    if (t.copyTo === undefined) return base;
    return t.copyPort === undefined
      ? { ...base, copyTo: t.copyTo }
      : { ...base, copyTo: t.copyTo, copyPort: t.copyPort };
  }

  #sendData(
    tunnel: _Tunnel,
    packet: Uint8Array,
    to: { readonly address: string; readonly port: number },
  ): void {
    tunnel.txSequence++;
    const { address, port } = to;
    if (tunnel.fast !== undefined) {
      let frame: Uint8Array;
      try {
        frame = tunnel.fast.tx.seal(tunnel.id, tunnel.txSequence, packet);
      } catch (error) {
        _logger.debug("PHT AR could not seal for tunnel {id}: {error}", {
          id: tunnel.id,
          error: String(error),
        });
        return;
      }
      this.#sendFrame(tunnel.id, frame, address, port);
      return;
    }
    const sealed = sealPhtData(tunnel.txKey!, "ar-to-mn", tunnel.id, tunnel.txSequence, packet);
    sealed.catch(() => {}); // reported in the chain below
    // Frames leave in sequence order: each waits for the previous seal, not its send.
    tunnel.txChain = tunnel.txChain.then(async () => {
      try {
        this.#sendFrame(tunnel.id, await sealed, address, port);
      } catch (error) {
        _logger.debug("PHT AR could not seal for tunnel {id}: {error}", {
          id: tunnel.id,
          error: String(error),
        });
      }
    });
  }

  /** Hands a data frame to the socket; the completion only updates the counters. */
  #sendFrame(id: number, frame: Uint8Array, address: string, port: number): void {
    _sendUdpNow(this.#socket, frame, address, port, (error) => {
      if (error === undefined) {
        this.#stats.framesOut++;
        this.#stats.packetsOut++;
        return;
      }
      this.#stats.sendErrors++;
      _logger.debug("PHT AR could not send to tunnel {id}: {error}", {
        id,
        error: String(error),
      });
    });
  }

  #arm(tunnel: _Tunnel): void {
    if (tunnel.timer !== undefined) clearTimeout(tunnel.timer);
    const delay = Math.max(0, tunnel.expiresAt - this.#now());
    tunnel.timer = setTimeout(() => {
      tunnel.timer = undefined;
      if (!this.#tunnels.has(tunnel.id)) return;
      if (this.#now() < tunnel.expiresAt) this.#arm(tunnel); // refreshed meanwhile
      else {
        this.#stats.tunnelsExpired++;
        _logger.info("PHT tunnel {id} for {nCoA} expired", { id: tunnel.id, nCoA: tunnel.nCoA });
        this.#release(tunnel, "expired");
      }
    }, Math.min(delay, 2_147_483_647));
  }

  /**
   * Releases the tunnel; the promise settles when `onTunnelDown` did (never rejects).
   * With `downFirst`, `onTunnelDown` runs (and is awaited) while the tunnel still
   * handles its nCoA, and the tunnel is released after it.
   */
  #release(
    tunnel: _Tunnel,
    reason: PhtTunnelDownReason,
    options: { readonly downFirst?: boolean } = {},
  ): Promise<void> {
    if (options.downFirst === true && tunnel.nCoA !== _PENDING) {
      return Promise.resolve()
        .then(() => this.#options.onTunnelDown?.(this.#view(tunnel), reason))
        .catch((error) => {
          _logger.warn("PHT onTunnelDown for {nCoA} failed: {error}", {
            nCoA: tunnel.nCoA,
            error: String(error),
          });
        })
        .then(() => {
          if (this.#tunnels.get(tunnel.id) === tunnel) this.#releaseNow(tunnel, reason, true);
        });
    }
    return this.#releaseNow(tunnel, reason, false);
  }

  /** Releases at once; `quiet`: `onTunnelDown` ran already. */
  #releaseNow(tunnel: _Tunnel, reason: PhtTunnelDownReason, quiet: boolean): Promise<void> {
    if (tunnel.timer !== undefined) clearTimeout(tunnel.timer);
    tunnel.timer = undefined;
    this.#retireBuffer(tunnel);
    tunnel.fast?.rx.wipe();
    tunnel.fast?.tx.wipe();
    this.#tunnels.delete(tunnel.id);
    if (this.#byNCoA.get(tunnel.nCoA) === tunnel) this.#byNCoA.delete(tunnel.nCoA);
    this.#gone.set(tunnel.id, {
      sessionId: tunnel.sessionId,
      mgmtKey: tunnel.mgmtKey,
      reason,
    });
    if (this.#gone.size > _GONE_MEMORY) {
      this.#gone.delete(this.#gone.keys().next().value!);
    }
    this.#forgetSessionIfIdle(tunnel.sessionId);
    // An autoconf tunnel whose address never came up had no route to remove.
    if (tunnel.nCoA === _PENDING || quiet) return Promise.resolve();
    const view = this.#view(tunnel);
    return Promise.resolve()
      .then(() => this.#options.onTunnelDown?.(view, reason))
      .catch((error) => {
        _logger.warn("PHT onTunnelDown for {nCoA} failed: {error}", {
          nCoA: tunnel.nCoA,
          error: String(error),
        });
      });
  }

  async #notifyDeleted(tunnel: _Tunnel): Promise<void> {
    if (tunnel.nCoA === _PENDING) return;
    try {
      await this.#options.onTunnelDeleted?.(this.#view(tunnel));
    } catch (error) {
      _logger.warn("PHT onTunnelDeleted for {nCoA} failed: {error}", {
        nCoA: tunnel.nCoA,
        error: String(error),
      });
    }
  }

  #forgetSessionIfIdle(sessionId: number): void {
    // The highest management sequence is kept while the AR still has a key for the
    // session, so that a replayed create is refused even after the tunnel is gone.
    if (this.#options.keys(sessionId) === undefined) this.#mgmtSequence.delete(sessionId);
  }

  #onDatagram(msg: Uint8Array, rinfo: { address: string; port: number }): void {
    if (this.#closed) return;
    this.#stats.framesIn++;
    let frame;
    try {
      frame = decodePhtFrame(msg);
    } catch (error) {
      this.#stats.malformed++;
      _logger.debug("PHT AR: malformed datagram from {address}: {error}", {
        address: rinfo.address,
        error: String(error),
      });
      return;
    }
    // Data frames are handled synchronously, in arrival order (no event-loop hop).
    if (frame.kind === "data") this.#onData(frame, rinfo);
    else {
      this.#onManagement(frame, rinfo).catch((error) => {
        _logger.debug("PHT AR dropped a datagram: {error}", { error: String(error) });
      });
    }
  }

  #drop(counter: "replayed" | "badAuth" | "unknownTunnel" | "expired" | "spoofed", detail: string) {
    this.#stats[counter]++;
    _logger.debug("PHT AR dropped a frame: {counter}: {detail}", { counter, detail });
  }

  #onData(frame: PhtDataFrame, rinfo: { address: string; port: number }): void {
    const id = frame.header.tunnelId;
    const tunnel = this.#tunnels.get(id);
    if (tunnel === undefined || tunnel.deleted) {
      if (tunnel !== undefined || this.#gone.has(id)) this.#drop("expired", `tunnel ${id}`);
      else this.#drop("unknownTunnel", `tunnel ${id}`);
      return;
    }
    if (this.#now() >= tunnel.expiresAt) {
      this.#drop("expired", `tunnel ${id}`);
      return;
    }
    const sequence = frame.header.sequence;
    if (tunnel.window.check(sequence) !== "ok") {
      this.#drop("replayed", `tunnel ${id} sequence ${sequence}`);
      return;
    }
    if (tunnel.fast !== undefined) {
      let packet: Uint8Array;
      try {
        packet = tunnel.fast.rx.open(frame);
      } catch {
        this.#drop("badAuth", `tunnel ${id} sequence ${sequence}`);
        return;
      }
      this.#acceptData(tunnel, sequence, packet, rinfo);
      return;
    }
    // Frames copied off the socket are opened concurrently and delivered in order.
    const opened = openPhtData(tunnel.rxKey!, "mn-to-ar", {
      ...frame,
      headerBytes: frame.headerBytes.slice(),
      sealed: frame.sealed.slice(),
    });
    opened.catch(() => {}); // handled below
    tunnel.rxChain = tunnel.rxChain.then(async () => {
      let packet: Uint8Array;
      try {
        packet = await opened;
      } catch {
        this.#drop("badAuth", `tunnel ${id} sequence ${sequence}`);
        return;
      }
      this.#acceptData(tunnel, sequence, packet, rinfo);
    });
  }

  /** An authenticated inner packet: replay check, peer update, source check, onPacket. */
  #acceptData(
    tunnel: _Tunnel,
    sequence: bigint,
    packet: Uint8Array,
    rinfo: { address: string; port: number },
  ): void {
    const id = tunnel.id;
    if (tunnel.window.check(sequence) !== "ok") {
      this.#drop("replayed", `tunnel ${id} sequence ${sequence}`);
      return;
    }
    tunnel.window.accept(sequence);
    tunnel.peer = { address: rinfo.address, port: rinfo.port };
    let source: string;
    try {
      source = _canonicalIp(parseIpHeader(packet).source);
    } catch {
      this.#stats.malformed++;
      return;
    }
    if (tunnel.autoconf && _isRouterSolicitation(packet)) {
      // RFC 4861 section 6.2.6 through the PHT (RFC 6252 section 7.3.4): answer with
      // the CTN link's RA; the solicitation itself goes nowhere.
      this.#stats.routerSolicitations++;
      this.#advertise(tunnel);
      return;
    }
    if (source !== tunnel.nCoA || tunnel.nCoA === _PENDING) {
      this.#drop("spoofed", `tunnel ${id} inner source ${source}`);
      return;
    }
    this.#stats.packetsIn++;
    try {
      this.#options.onPacket?.(this.#view(tunnel), packet);
    } catch (error) {
      _logger.warn("PHT onPacket failed: {error}", { error: String(error) });
    }
  }

  #onManagement(
    frame: PhtManagementFrame,
    rinfo: { address: string; port: number },
  ): Promise<void> {
    const m = frame.message;
    let sessionId: number;
    if (m.kind === "create") sessionId = m.sessionId;
    else {
      const t = this.#tunnels.get(m.tunnelId) ?? this.#gone.get(m.tunnelId);
      if (t === undefined) {
        this.#drop("unknownTunnel", `${m.kind} for tunnel ${m.tunnelId}`);
        return Promise.resolve();
      }
      sessionId = t.sessionId;
    }
    // One session's requests are handled one at a time, in arrival order, so that
    // the management sequence check sees them in the order the MN sent them.
    const previous = this.#mgmtChains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(() => this.#handleManagement(frame, sessionId, rinfo)).catch(
      (error) => {
        _logger.debug("PHT AR: {kind} failed: {error}", { kind: m.kind, error: String(error) });
      },
    );
    this.#mgmtChains.set(sessionId, next);
    next.then(() => {
      if (this.#mgmtChains.get(sessionId) === next) this.#mgmtChains.delete(sessionId);
    });
    return next;
  }

  async #handleManagement(
    frame: PhtManagementFrame,
    sessionId: number,
    rinfo: { address: string; port: number },
  ): Promise<void> {
    if (this.#closed) return;
    const m = frame.message;
    let mgmtKey: CryptoKey;
    let mnAr: CryptoKey | undefined;
    if (m.kind === "create") {
      const raw = this.#options.keys(sessionId);
      if (raw === undefined) {
        this.#stats.unknownSession++;
        _logger.debug("PHT AR: create for unknown session {sessionId}", { sessionId });
        // No key to sign with: the error goes unauthenticated (zero MAC); the MN
        // accepts it only as the answer to its pending create (see pht_mn.ts).
        await this.#reply(
          encodePhtManagement({
            kind: "error",
            tunnelId: 0,
            sequence: m.sequence,
            code: PhtErrorCode.UnknownSession,
          }),
          rinfo,
        );
        return;
      }
      mnAr = await importMnArKey(raw);
      mgmtKey = await phtManagementKey(mnAr);
    } else {
      const t = this.#tunnels.get(m.tunnelId) ?? this.#gone.get(m.tunnelId)!;
      mgmtKey = t.mgmtKey;
    }
    try {
      await verifyPhtManagement(mgmtKey, frame);
    } catch {
      this.#drop("badAuth", `${m.kind} for session ${sessionId}`);
      return;
    }
    const highest = this.#mgmtSequence.get(sessionId) ?? 0n;
    if (m.sequence <= highest) {
      this.#drop("replayed", `${m.kind} for session ${sessionId} sequence ${m.sequence}`);
      return;
    }
    this.#mgmtSequence.set(sessionId, m.sequence);
    const reply = (message: PhtManagementMessage) =>
      signPhtManagement(mgmtKey, message).then((bytes) => this.#reply(bytes, rinfo));
    const error = (code: PhtErrorCodeValue) =>
      reply({ kind: "error", tunnelId: m.tunnelId, sequence: m.sequence, code });

    if (m.kind === "create") {
      await this.#create(m, mnAr!, mgmtKey, rinfo, reply, error);
      return;
    }
    const tunnel = this.#tunnels.get(m.tunnelId);
    if (tunnel === undefined) {
      // Released already: a retransmitted delete is answered again, the rest refused.
      // A flush of a deleted tunnel the AR already released (it heard the MN on the
      // link and delivered what it held, section 7.6.1) is answered with nothing left.
      this.#drop("expired", `${m.kind} for tunnel ${m.tunnelId}`);
      if (m.kind === "delete") {
        await reply({ kind: "delete-ack", tunnelId: m.tunnelId, sequence: m.sequence });
      } else if (m.kind === "flush" && this.#gone.get(m.tunnelId)?.reason === "deleted") {
        await reply({ kind: "flush-ack", tunnelId: m.tunnelId, sequence: m.sequence, count: 0 });
      } else await error(PhtErrorCode.UnknownTunnel);
      return;
    }
    const now = this.#now();
    // A copy-start sent from the copy address itself comes from the MN's socket on its
    // prepared interface (section 7.6.2): copies are tunnelled there, and the tunnel's
    // own peer stays where it is.
    const copySource = m.kind === "copy-start" &&
      _canonicalIp(rinfo.address) === _canonicalIp(m.address ?? tunnel.nCoA) &&
      (rinfo.address !== tunnel.peer.address || rinfo.port !== tunnel.peer.port);
    if (!tunnel.deleted && !copySource) {
      tunnel.peer = { address: rinfo.address, port: rinfo.port };
    }
    const base = { tunnelId: tunnel.id, sequence: m.sequence };
    switch (m.kind) {
      case "refresh": {
        if (tunnel.deleted) return await error(PhtErrorCode.UnknownTunnel);
        const lifetimeMs = this.#grant(m.lifetimeMs);
        tunnel.lifetimeMs = lifetimeMs;
        tunnel.expiresAt = now + lifetimeMs;
        this.#arm(tunnel);
        this.#stats.refreshes++;
        return await reply({ kind: "refresh-ack", ...base, lifetimeMs });
      }
      case "delete":
        if (!tunnel.deleted) {
          // Awaited before the delete-ack, like onTunnelUp before the create-ack: the
          // AR no longer answers ARP for the nCoA once the MN knows it deleted.
          await this.#notifyDeleted(tunnel);
          if (this.#tunnels.get(tunnel.id) !== tunnel || tunnel.deleted) {
            return await reply({ kind: "delete-ack", ...base });
          }
          if (tunnel.buffer !== undefined) {
            // Section 7.6.1: keep holding until flush or the MN is heard on the new
            // link, at most the buffer's age bound.
            tunnel.deleted = true;
            tunnel.copyTo = undefined;
            tunnel.copyPort = undefined;
            tunnel.expiresAt = this.#now() +
              (this.#options.buffer?.maxAgeMs ?? PHT_DEFAULT_BUFFER_AGE_MS);
            this.#arm(tunnel);
          } else if (tunnel.copyTo !== undefined && tunnel.copyPort !== undefined) {
            // Section 7.6.2: the MN deletes a tunnel that copies to its prepared
            // interface once that interface holds the nCoA (typically after a sudden
            // disconnection of the tunnel's own). Until the route into the tunnel is
            // gone, packets for the nCoA still reach `deliver`: keep tunnelling and
            // copying them meanwhile, and answer only then, so that every copy sent
            // precedes the delete-ack on the way to the MN's copy socket and no packet
            // falls between the tunnel and the CTN link.
            await this.#release(tunnel, "deleted", { downFirst: true });
          } else {
            // Awaited: the host route into the TUN goes before the ack, so that an ack
            // to an MN already on the CTN link is not routed into the deleted tunnel.
            await this.#release(tunnel, "deleted");
          }
        }
        return await reply({ kind: "delete-ack", ...base });
      case "buffer":
        if (tunnel.deleted) return await error(PhtErrorCode.UnknownTunnel);
        tunnel.buffer ??= new PacketBuffer({
          maxPackets: this.#options.buffer?.maxPackets ?? PHT_DEFAULT_BUFFER_PACKETS,
          maxAgeMs: this.#options.buffer?.maxAgeMs ?? PHT_DEFAULT_BUFFER_AGE_MS,
        });
        return await reply({ kind: "buffer-ack", ...base });
      case "flush": {
        const packets = this.#drain(tunnel);
        if (tunnel.deleted) {
          for (const p of packets) this.#options.deliverDirect?.(tunnel.nCoA, p);
          // The MN asks from its new link. Its host route into the TUN (kept while
          // buffering) must be gone before the ack leaves, or the ack is routed into
          // the TUN and lost, and the MN retransmits only after its timeout.
          await this.#release(tunnel, "deleted");
        } else {
          for (const p of packets) this.#sendData(tunnel, p, tunnel.peer);
        }
        return await reply({ kind: "flush-ack", ...base, count: packets.length });
      }
      case "probe":
        if (tunnel.deleted) return await error(PhtErrorCode.UnknownTunnel);
        this.#stats.probes++;
        return await reply({ kind: "probe-ack", ...base });
      case "copy-start":
        if (tunnel.deleted) return await error(PhtErrorCode.UnknownTunnel);
        tunnel.copyTo = _canonicalIp(m.address ?? tunnel.nCoA);
        tunnel.copyPort = copySource ? rinfo.port : undefined;
        return await reply({ kind: "copy-start-ack", ...base });
      case "copy-stop":
        tunnel.copyTo = undefined;
        tunnel.copyPort = undefined;
        return await reply({ kind: "copy-stop-ack", ...base });
      case "update":
        if (tunnel.deleted) return await error(PhtErrorCode.UnknownTunnel);
        return await this.#update(tunnel, m, reply, error);
      default:
        // An answer kind sent to the AR: authenticated but meaningless.
        _logger.debug("PHT AR ignored {kind}", { kind: m.kind });
    }
  }

  async #create(
    m: Extract<PhtManagementMessage, { kind: "create" }>,
    mnAr: CryptoKey,
    mgmtKey: CryptoKey,
    rinfo: { address: string; port: number },
    reply: (message: PhtManagementMessage) => Promise<void>,
    error: (code: PhtErrorCodeValue) => Promise<void>,
  ): Promise<void> {
    const nCoA = _canonicalIp(m.nCoA);
    const autoconf = m.interfaceId !== undefined;
    if (
      autoconf !== (nCoA === _PENDING) || (autoconf && this.#options.ipv6Autoconf === undefined)
    ) {
      // Autoconf needs the pending nCoA and an AR that offers it; `::` is no inner
      // address otherwise.
      _logger.info("PHT AR refused create: nCoA {nCoA}, autoconf {autoconf}", { nCoA, autoconf });
      return await error(PhtErrorCode.BadRequest);
    }
    if (autoconf) {
      for (const t of this.#tunnels.values()) {
        if (t.sessionId === m.sessionId && !t.deleted && _equal(t.mnNonce, m.mnNonce)) {
          // A retransmitted autoconf create whose answer was lost.
          return await reply({
            kind: "create-ack",
            tunnelId: t.id,
            sequence: m.sequence,
            lifetimeMs: t.lifetimeMs,
            arNonce: t.arNonce,
          });
        }
      }
    }
    const existing = autoconf ? undefined : this.#byNCoA.get(nCoA);
    if (existing !== undefined) {
      if (existing.sessionId !== m.sessionId) {
        _logger.info("PHT AR refused create: {nCoA} is tunnelled for another session", { nCoA });
        return await error(PhtErrorCode.Refused);
      }
      if (_equal(existing.mnNonce, m.mnNonce) && !existing.deleted) {
        // A retransmitted create whose answer was lost: same tunnel, same answer.
        return await reply({
          kind: "create-ack",
          tunnelId: existing.id,
          sequence: m.sequence,
          lifetimeMs: existing.lifetimeMs,
          arNonce: existing.arNonce,
        });
      }
      this.#release(existing, "closed"); // the MN re-creates its tunnel
    }
    let id = _randomTunnelId();
    while (this.#tunnels.has(id) || this.#gone.has(id)) id = _randomTunnelId();
    const arNonce = _cryptoRandom(PHT_NONCE_LENGTH);
    // The AR holds the raw MN-AR key anyway: seal synchronously (see _fast_aead.ts).
    const fast = await _fastDataKeys(mnAr, m.mnNonce, arNonce, id);
    const keys = fast === undefined ? await phtDataKeys(mnAr, m.mnNonce, arNonce, id) : undefined;
    const lifetimeMs = this.#grant(m.lifetimeMs);
    const now = this.#now();
    const tunnel: _Tunnel = {
      id,
      sessionId: m.sessionId,
      oCoA: _canonicalIp(m.oCoA),
      nCoA,
      autoconf,
      interfaceId: m.interfaceId?.slice(),
      linkLayerAddress: m.linkLayerAddress === undefined ? undefined : _macText(m.linkLayerAddress),
      createdAt: now,
      mnNonce: m.mnNonce,
      arNonce,
      mgmtKey,
      rxKey: keys?.mnToAr,
      txKey: keys?.arToMn,
      fast: fast === undefined ? undefined : { rx: fast.mnToAr, tx: fast.arToMn },
      window: new ReplayWindow(),
      peer: { address: rinfo.address, port: rinfo.port },
      expiresAt: now + lifetimeMs,
      lifetimeMs,
      txSequence: 0n,
      txChain: Promise.resolve(),
      rxChain: Promise.resolve(),
      buffer: undefined,
      deleted: false,
      copyTo: undefined,
      copyPort: undefined,
      timer: undefined,
    };
    this.#tunnels.set(id, tunnel);
    if (!autoconf) this.#byNCoA.set(nCoA, tunnel);
    this.#arm(tunnel);
    try {
      // An autoconf tunnel comes up when its address is known (see #update).
      if (!autoconf) await this.#options.onTunnelUp?.(this.#view(tunnel));
    } catch (e) {
      _logger.warn("PHT onTunnelUp for {nCoA} failed: {error}", { nCoA, error: String(e) });
      this.#release(tunnel, "closed");
      return await error(PhtErrorCode.Refused);
    }
    this.#stats.tunnelsCreated++;
    _logger.info("PHT tunnel {id} up: session {sessionId}, {nCoA} via {oCoA}, {lifetimeMs} ms", {
      id,
      sessionId: m.sessionId,
      nCoA,
      oCoA: tunnel.oCoA,
      lifetimeMs,
    });
    await reply({ kind: "create-ack", tunnelId: id, sequence: m.sequence, lifetimeMs, arNonce });
    // Section 7.3.4: the RA follows the create-ack on the same socket (in order).
    if (autoconf) this.#advertise(tunnel);
  }

  /**
   * An update (RFC 6252 section 7.3.4, Appendices A and B): records the MN's
   * link-layer address; for an autoconf tunnel still pending, runs proactive DAD for
   * the named address and routes it into the tunnel when unique.
   */
  async #update(
    tunnel: _Tunnel,
    m: Extract<PhtManagementMessage, { kind: "update" }>,
    reply: (message: PhtManagementMessage) => Promise<void>,
    error: (code: PhtErrorCodeValue) => Promise<void>,
  ): Promise<void> {
    const base = { tunnelId: tunnel.id, sequence: m.sequence };
    if (m.linkLayerAddress !== undefined) {
      tunnel.linkLayerAddress = _macText(m.linkLayerAddress);
    }
    const nCoA = _canonicalIp(m.nCoA);
    if (tunnel.nCoA !== _PENDING) {
      // Only the link-layer address can change; a retransmitted update is answered again.
      if (nCoA !== tunnel.nCoA) return await error(PhtErrorCode.BadRequest);
      return await reply({ kind: "update-ack", ...base, nCoA });
    }
    const autoconf = this.#options.ipv6Autoconf;
    if (
      autoconf === undefined || !_globalUnicastV6(nCoA) ||
      (autoconf.acceptsAddress !== undefined && !autoconf.acceptsAddress(nCoA))
    ) {
      _logger.info("PHT AR refused update of tunnel {id}: {nCoA} not acceptable", {
        id: tunnel.id,
        nCoA,
      });
      return await error(PhtErrorCode.BadRequest);
    }
    if (this.#byNCoA.has(nCoA)) {
      this.#stats.duplicates++;
      return await error(PhtErrorCode.Duplicate);
    }
    let verdict: "unique" | "duplicate";
    try {
      verdict = await autoconf.checkAddress(this.#view(tunnel), nCoA);
    } catch (e) {
      _logger.warn("PHT AR: proactive DAD for {nCoA} failed: {error}", {
        nCoA,
        error: String(e),
      });
      return await error(PhtErrorCode.Refused);
    }
    if (this.#tunnels.get(tunnel.id) !== tunnel || tunnel.deleted) {
      return await error(PhtErrorCode.UnknownTunnel); // expired or deleted during DAD
    }
    if (verdict === "duplicate" || this.#byNCoA.has(nCoA)) {
      this.#stats.duplicates++;
      _logger.info("PHT AR: {nCoA} is in use on the CTN link, update refused", { nCoA });
      return await error(PhtErrorCode.Duplicate);
    }
    tunnel.nCoA = nCoA;
    this.#byNCoA.set(nCoA, tunnel);
    try {
      await this.#options.onTunnelUp?.(this.#view(tunnel));
    } catch (e) {
      _logger.warn("PHT onTunnelUp for {nCoA} failed: {error}", { nCoA, error: String(e) });
      this.#byNCoA.delete(nCoA);
      tunnel.nCoA = _PENDING;
      return await error(PhtErrorCode.Refused);
    }
    this.#stats.addressesAssigned++;
    _logger.info("PHT tunnel {id}: {nCoA} formed by SLAAC, unique, routed", {
      id: tunnel.id,
      nCoA,
    });
    await reply({ kind: "update-ack", ...base, nCoA });
  }

  #grant(requested: number): number {
    const max = this.#options.maxLifetimeMs ?? PHT_DEFAULT_MAX_LIFETIME_MS;
    return Math.min(requested === 0 ? PHT_DEFAULT_LIFETIME_MS : requested, max);
  }

  async #reply(bytes: Uint8Array, rinfo: { address: string; port: number }): Promise<void> {
    if (this.#closed) return;
    try {
      await _sendUdp(this.#socket, bytes, rinfo.address, rinfo.port);
      this.#stats.framesOut++;
    } catch (error) {
      _logger.debug("PHT AR could not answer {address}: {error}", {
        address: rinfo.address,
        error: String(error),
      });
    }
  }
}

/** The nCoA of an autoconf tunnel before the MN's update. */
const _PENDING = "::";

/** Whether an IPv6 packet is an ICMPv6 Router Solicitation (no extension headers). */
function _isRouterSolicitation(packet: Uint8Array): boolean {
  return packet.length >= 48 && packet[0]! >> 4 === 6 && packet[6] === 58 && packet[40] === 133;
}

/** A global unicast IPv6 address text: not `::`, loopback, link-local or multicast. */
function _globalUnicastV6(address: string): boolean {
  if (!address.includes(":")) return false;
  const a = address.toLowerCase();
  return a !== "::" && a !== "::1" && !a.startsWith("ff") && !/^fe[89ab]/.test(a);
}

function _macText(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function _equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
