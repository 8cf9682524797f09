/**
 * The mobile node's end of proactive handover tunnels (RFC 6252 sections 6.3 steps
 * 2, 4-6, 7.2, 7.4, 7.6): a {@link TunnelManager} that creates, refreshes and
 * deletes PHTs with the access routers of candidate target networks over UDP,
 * seals inner IP packets with AES-GCM, asks the AR to buffer before the link switch
 * and to flush after it (section 7.6.1), to copy packets to a prepared interface
 * (section 7.6.2, duplicates are dropped here), and probes reachability through the
 * tunnel (section 7.6.3).
 *
 * Each tunnel has its own UDP socket bound to the oCoA (or
 * {@link PhtTunnelManagerOptions.bindAddress}) on an ephemeral port. The MN-AR key
 * passed to {@linkcode PhtTunnelManager.open} must be an HKDF `CryptoKey` (as the
 * PANA PaC delivers it, or `importMnArKey`): the management and data keys are
 * derived from it. Management messages carry a 64-bit sequence initialised from the
 * clock in microseconds, so a restarted MN never goes below what the AR has seen.
 *
 * Data path: when the MN-AR key allows `deriveBits` (`importMnArKey` does), the
 * tunnel's data keys are derived as bytes and frames are sealed and opened
 * synchronously with `node:crypto` (`_fast_aead.ts`, same frames as WebCrypto; the
 * trade-off is documented there); otherwise WebCrypto. Datagrams are handed to the
 * socket without waiting for the previous one to be sent (`node:dgram` keeps the
 * order).
 *
 * Copy-and-forward through a PHT (section 7.6.2): {@linkcode PhtTunnelManager.startCopy}
 * with the prepared interface's `address` binds a second socket there and sends the
 * copy-start from it; the AR then seals each copy into the PHT and sends it to that
 * socket, where it is opened and de-duplicated like the tunnelled original.
 *
 * IPv6 pre-configuration (RFC 6252 section 7.3.4, Appendix A): `open` with
 * {@link PhtOpenOptions.interfaceId} and the nCoA `::` asks the AR for IPv6 autoconf;
 * the AR's Router Advertisement then comes through the tunnel. Take it with
 * {@linkcode PhtTunnelManager.receive} (a data frame that arrives before the tunnel's
 * keys are derived is held and opened once they are), form the address by SLAAC and
 * name it with {@linkcode PhtTunnelManager.assignAddress}, which answers `assigned`
 * once the AR's proactive DAD found it unique, or `duplicate`.
 * `ipv6_autoconf_glue.ts` runs that sequence. Address resolution (Appendix B):
 * {@link PhtOpenOptions.linkLayerAddress} tells the AR the MN's MAC on the CTN link.
 *
 * Abort (RFC 6252 section C.6: the planner dropped the phase or the switch changed
 * target): `open` rejects with `aborted` at once; what the AR may hold is given back
 * in the background. Once a create has left, the MN stops retransmitting it but keeps
 * the socket for one more answer wait ({@link PhtTunnelManagerOptions.timeoutMs}): a
 * create-ack that still comes (for the create or one of its retransmissions, which
 * the AR answers with the same tunnel) is followed by an authenticated `delete`, as
 * is an ack that came just before the abort; then the socket is closed. A create
 * whose ack never comes is given up on: if the AR created the tunnel, it expires
 * with its lifetime (section 7.2). The socket is closed in every path. Cleanups are
 * counted in {@link PhtMnStats}, logged, bounded by the retransmission schedule, and
 * awaited by {@linkcode PhtTunnelManager.idle} and by disposal.
 *
 * @module
 */
import type { Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { type PhtDataKeys, phtDataKeys, phtManagementKey } from "../../lib/keys/pht_keys.ts";
import { DedupWindow } from "../../lib/pht/dedup_window.ts";
import { openPhtData, sealPhtData } from "../../lib/pht/pht_data_seal.ts";
import { signPhtManagement, verifyPhtManagement } from "../../lib/pht/pht_management_auth.ts";
import { ReplayWindow } from "../../lib/pht/replay_window.ts";
import {
  type PortCallOptions,
  PortError,
  type TunnelEndpoints,
  type TunnelHandle,
  type TunnelManager,
} from "../../lib/ports.ts";
import {
  decodePhtFrame,
  type PhtDataFrame,
  type PhtManagementFrame,
  type PhtManagementKind,
  type PhtManagementMessage,
} from "../../lib/wire/pht.ts";
import {
  PHT_DEFAULT_LIFETIME_MS,
  PHT_MAC_LENGTH,
  PHT_NONCE_LENGTH,
  PHT_UDP_PORT,
  PhtErrorCode,
} from "../../lib/wire/pht_constants.ts";
import { type _FastAead, _fastDataKeys } from "./_fast_aead.ts";
import {
  _bindUdp,
  _closeUdp,
  _cryptoRandom,
  _family,
  _preciseNow,
  _sendUdp,
  _sendUdpNow,
} from "./_pht_udp.ts";

const _logger = getLogger(["mpa", "pht", "mn"]);

/** Options of {@linkcode PhtTunnelManager}. */
export interface PhtTunnelManagerOptions {
  /**
   * The PANA session id of the MPA-SA with a CTN (`MpaSa.sessionId`), which names the
   * MN-AR key at that CTN's AR; `undefined` when the MN holds no SA with it (open
   * then fails with `not-found`).
   */
  readonly sessionId: (ctn: string) => number | undefined;
  /** Decrypted inner IP packets from an AR (duplicates already dropped). */
  readonly onPacket?: (tunnel: TunnelHandle, packet: Uint8Array) => void;
  /**
   * Requested tunnel lifetime, ms, default 60000 (section 7.2); refreshed
   * automatically at a third of the granted lifetime until closed.
   */
  readonly lifetimeMs?: number;
  /** Wait for an answer per try, ms; default 1000. */
  readonly timeoutMs?: number;
  /** Retransmissions per management exchange; default 3. */
  readonly retries?: number;
  /** Local outer address to bind; default the handle's `endpoints.oCoA`. */
  readonly bindAddress?: string;
  /**
   * Without `bindAddress`: bind each tunnel's socket to the wildcard of its AR's
   * family instead of the oCoA, so that the kernel picks the source - the oCoA while
   * the route to the AR goes through the current network, the nCoA once the MN moved
   * (a delete or flush after the move, RFC 6252 section 6.3 step 6). Default false.
   */
  readonly bindAny?: boolean;
  /** Clock, epoch ms; default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
}

/** Options of {@linkcode PhtTunnelManager.open} beyond the abort signal. */
export interface PhtOpenOptions extends PortCallOptions {
  /**
   * IPv6 autoconf through the tunnel (RFC 6252 section 7.3.4): the MN's 64-bit
   * interface identifier, sent in the create's Interface Identifier TLV. The
   * endpoints' nCoA must then be `::` (pending) until
   * {@linkcode PhtTunnelManager.assignAddress}.
   */
  readonly interfaceId?: Uint8Array;
  /**
   * The MN's link-layer address on the CTN link (6 bytes for Ethernet): the AR
   * installs it as the nCoA's neighbour entry at the switch (RFC 6252 Appendix B).
   */
  readonly linkLayerAddress?: Uint8Array;
}

/** The outcome of {@linkcode PhtTunnelManager.assignAddress}. */
export type PhtAssignResult =
  | {
    /** The AR found the address unique and routes it into the tunnel. */
    readonly status: "assigned";
    /** The tunnel's handle with the new nCoA (same id). */
    readonly handle: TunnelHandle;
  }
  | {
    /** Proactive DAD found the address in use (RFC 6252 Appendix A): form another. */
    readonly status: "duplicate";
    /** The address refused. */
    readonly nCoA: string;
  };

/** Counters of a {@linkcode PhtTunnelManager}. */
export interface PhtMnStats {
  /** Datagrams sent (data and management). */
  readonly framesSent: number;
  /** Datagrams received. */
  readonly framesReceived: number;
  /** Inner packets sealed and sent. */
  readonly packetsSent: number;
  /** Inner packets opened and delivered to `onPacket`. */
  readonly packetsReceived: number;
  /** Frames refused by the anti-replay window. */
  readonly replayed: number;
  /** Frames whose tag or MAC did not verify. */
  readonly badAuth: number;
  /** Datagrams that do not parse. */
  readonly malformed: number;
  /** Frames for another tunnel, or answers matching no pending request. */
  readonly unexpected: number;
  /** Duplicate packets dropped while copy-and-forward is on (section 7.6.2). */
  readonly duplicates: number;
  /** Management retransmissions. */
  readonly retransmissions: number;
  /** Refreshes granted. */
  readonly refreshes: number;
  /** Refreshes that failed (timeout or refusal). */
  readonly refreshFailures: number;
  /** Data frames the socket failed to send. */
  readonly sendErrors: number;
  /**
   * Aborted opens whose create had left, and opens that failed after their create-ack:
   * a background cleanup ran (section C.6).
   */
  readonly abortCleanups: number;
  /** Tunnels deleted at the AR after their open was aborted. */
  readonly abortDeletes: number;
  /**
   * Aborted opens left to the AR's tunnel lifetime: no create-ack came after the
   * abort, or the delete went unanswered (section 7.2).
   */
  readonly abortExpiring: number;
}

interface _Pending {
  readonly expect: PhtManagementKind;
  readonly resolve: (message: PhtManagementMessage) => void;
  readonly reject: (error: PortError) => void;
  readonly allowUnauthenticatedError: boolean;
  /** Error codes that resolve the exchange (as the error message) instead of rejecting. */
  readonly acceptErrors: readonly number[];
}

interface _Waiter {
  readonly match: (packet: Uint8Array) => boolean;
  readonly resolve: (packet: Uint8Array) => void;
}

/** How many data frames the MN holds while the tunnel's keys are being derived. */
const _EARLY_FRAMES = 16;

interface _Tunnel {
  handle: TunnelHandle;
  readonly sessionId: number;
  readonly mgmtKey: CryptoKey;
  readonly ar: { readonly address: string; readonly port: number };
  socket: Socket | undefined;
  tunnelId: number;
  keys: PhtDataKeys | undefined;
  fast: { readonly tx: _FastAead; readonly rx: _FastAead } | undefined;
  copySocket: Socket | undefined;
  window: ReplayWindow;
  txSequence: bigint;
  txChain: Promise<void>;
  rxChain: Promise<void>;
  lifetimeMs: number;
  expiresAt: number;
  refreshTimer: ReturnType<typeof setTimeout> | undefined;
  copying: boolean;
  closed: boolean;
  /** Data frames received before the keys were derived (the RA after the create-ack). */
  early: PhtDataFrame[] | undefined;
  waiters: _Waiter[];
  /** Packets of an autoconf tunnel without its nCoA yet that no `receive` took. */
  unclaimed: Uint8Array[];
}

/**
 * The MN's PHT endpoint, a {@link TunnelManager}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importMnArKey } from "../../lib/keys/pht_keys.ts";
 * import { PhtAr } from "./pht_ar.ts";
 * const raw = new Uint8Array(32).fill(9);
 * const received: Uint8Array[] = [];
 * await using ar = await PhtAr.listen({
 *   listen: { address: "127.0.0.1", port: 0 },
 *   keys: (id) => id === 7 ? raw : undefined,
 *   onPacket: (_t, p) => received.push(p),
 * });
 * await using mn = new PhtTunnelManager({ sessionId: () => 7 });
 * const handle = await mn.open("net-b", {
 *   oCoA: "127.0.0.1",
 *   nCoA: "10.0.2.50",
 *   ar: { address: "127.0.0.1", port: ar.address.port },
 * }, await importMnArKey(raw));
 * assertEquals(ar.tunnels()[0]?.nCoA, "10.0.2.50");
 * assertEquals(await mn.probe(handle) >= 0, true);
 * await mn.close(handle);
 * ```
 */
export class PhtTunnelManager implements TunnelManager, AsyncDisposable {
  readonly #options: PhtTunnelManagerOptions;
  readonly #now: () => number;
  readonly #tunnels = new Map<string, _Tunnel>();
  readonly #closedTunnels = new Map<string, _Tunnel>();
  readonly #pending = new Map<string, _Pending>();
  readonly #dedup = new DedupWindow();
  #nextId = 1;
  #mgmtSequence = 0n;
  #stats = {
    framesSent: 0,
    framesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    replayed: 0,
    badAuth: 0,
    malformed: 0,
    unexpected: 0,
    retransmissions: 0,
    refreshes: 0,
    refreshFailures: 0,
    sendErrors: 0,
    abortCleanups: 0,
    abortDeletes: 0,
    abortExpiring: 0,
  };
  readonly #cleanups = new Set<Promise<void>>();

  /**
   * @param options session lookup, packet sink, lifetime, timers
   */
  constructor(options: PhtTunnelManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? _preciseNow;
  }

  /**
   * Creates a PHT with the CTN's AR (RFC 6252 sections 6.3 step 2, 7.4).
   *
   * @param ctn network id of the CTN; {@link PhtTunnelManagerOptions.sessionId} maps
   *   it to the MPA-SA's session id
   * @param endpoints oCoA (outer), nCoA (inner), the AR (port default 7716)
   * @param key the MN-AR key as an HKDF `CryptoKey`
   * @param options abort signal
   * @returns the tunnel's handle
   * @throws {PortError} `not-found` (no SA for the CTN), `protocol` (key not usable
   *   for HKDF, bad address), `unreachable` (cannot bind or send), `rejected` (the AR
   *   refused), `timeout`, `aborted`
   */
  async open(
    ctn: string,
    endpoints: TunnelEndpoints,
    key: CryptoKey,
    options?: PhtOpenOptions,
  ): Promise<TunnelHandle> {
    const sessionId = this.#options.sessionId(ctn);
    if ((options?.interfaceId !== undefined) !== (endpoints.nCoA === "::")) {
      throw new PortError(
        "TunnelManager",
        "protocol",
        `Invalid PHT endpoints: nCoA ${endpoints.nCoA} ${
          options?.interfaceId === undefined ? "without" : "with"
        } an interface id (IPv6 autoconf needs the pending nCoA ::)`,
      );
    }
    if (sessionId === undefined) {
      throw new PortError("TunnelManager", "not-found", `No MPA-SA with CTN: ${ctn}`);
    }
    let mgmtKey: CryptoKey;
    try {
      mgmtKey = await phtManagementKey(key);
    } catch (error) {
      throw new PortError(
        "TunnelManager",
        "protocol",
        `MN-AR key is not an HKDF key: ${key.algorithm.name}`,
        { cause: error },
      );
    }
    let socket: Socket;
    const bind = this.#options.bindAddress ??
      (this.#options.bindAny === true ? _wildcardFor(endpoints.ar.address) : endpoints.oCoA);
    try {
      socket = await _bindUdp(bind, 0);
    } catch (error) {
      throw new PortError(
        "TunnelManager",
        "unreachable",
        `Cannot bind a UDP socket to ${bind}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const now = this.#now();
    const handle: TunnelHandle = {
      id: `pht-${this.#nextId++}`,
      ctn,
      endpoints,
      openedAt: now,
      expiresAt: now,
    };
    const tunnel: _Tunnel = {
      handle,
      sessionId,
      mgmtKey,
      ar: { address: endpoints.ar.address, port: endpoints.ar.port ?? PHT_UDP_PORT },
      socket,
      tunnelId: 0,
      keys: undefined,
      fast: undefined,
      copySocket: undefined,
      window: new ReplayWindow(),
      txSequence: 0n,
      txChain: Promise.resolve(),
      rxChain: Promise.resolve(),
      lifetimeMs: 0,
      expiresAt: now,
      refreshTimer: undefined,
      copying: false,
      closed: false,
      early: [],
      waiters: [],
      unclaimed: [],
    };
    socket.on("message", (msg: Uint8Array) => this.#onDatagram(tunnel, msg));
    socket.on("error", (error: Error) => {
      _logger.warn("PHT MN socket error: {error}", { error: error.message });
    });
    const signal = options?.signal;
    const timeoutMs = this.#options.timeoutMs ?? 1000;
    let acked = false;
    let lingering = false;
    let settleLate: (late: PhtManagementMessage | undefined) => void = () => {};
    try {
      if (signal?.aborted) throw _aborted("create"); // aborted while binding: nothing left
      const mnNonce = _cryptoRandom(PHT_NONCE_LENGTH);
      const ack = await this.#exchange(tunnel, "create-ack", (sequence) => ({
        kind: "create",
        tunnelId: 0,
        sequence,
        sessionId,
        oCoA: endpoints.oCoA,
        nCoA: endpoints.nCoA,
        lifetimeMs: this.#options.lifetimeMs ?? PHT_DEFAULT_LIFETIME_MS,
        mnNonce,
        ...(options?.interfaceId === undefined ? {} : { interfaceId: options.interfaceId }),
        ...(options?.linkLayerAddress === undefined
          ? {}
          : { linkLayerAddress: options.linkLayerAddress }),
      }), {
        ...(signal === undefined ? {} : { signal }),
        linger: {
          ms: timeoutMs,
          start: () => {
            lingering = true;
            this.#track(
              new Promise<PhtManagementMessage | undefined>((resolve) => settleLate = resolve)
                .then((late) => this.#afterAbortedCreate(tunnel, late)),
            );
          },
          settle: (late) => settleLate(late),
        },
      });
      if (ack.kind !== "create-ack") throw new Error("unreachable");
      acked = true;
      tunnel.tunnelId = ack.tunnelId;
      await _orAbort(
        (async () => {
          const fast = await _fastDataKeys(key, mnNonce, ack.arNonce, ack.tunnelId);
          if (tunnel.closed) {
            // Aborted meanwhile: the tunnel is being deleted, the keys are not needed.
            fast?.mnToAr.wipe();
            fast?.arToMn.wipe();
          } else if (fast !== undefined) tunnel.fast = { tx: fast.mnToAr, rx: fast.arToMn };
          else tunnel.keys = await phtDataKeys(key, mnNonce, ack.arNonce, ack.tunnelId);
        })(),
        signal,
      );
      tunnel.lifetimeMs = ack.lifetimeMs;
      tunnel.expiresAt = this.#now() + ack.lifetimeMs;
    } catch (error) {
      tunnel.early = undefined;
      if (acked) {
        // The AR holds the tunnel: delete it (authenticated) in the background.
        this.#track(this.#deleteAborted(tunnel, "the open failed after the create-ack"));
      } else if (!lingering) {
        await _closeUdp(socket);
      }
      throw error;
    }
    const opened: TunnelHandle = { ...handle, expiresAt: tunnel.expiresAt };
    tunnel.handle = opened;
    this.#tunnels.set(opened.id, tunnel);
    // Frames that came with (or before) the create-ack, now that the keys exist.
    const early = tunnel.early ?? [];
    tunnel.early = undefined;
    for (const frame of early) this.#onData(tunnel, frame);
    this.#scheduleRefresh(tunnel);
    _logger.info("PHT tunnel {id} to {ar} for {nCoA}: {lifetimeMs} ms", {
      id: tunnel.tunnelId,
      ar: tunnel.ar.address,
      nCoA: endpoints.nCoA,
      lifetimeMs: tunnel.lifetimeMs,
    });
    return opened;
  }

  /**
   * Sends an inner IP packet (source: the nCoA) through the tunnel to the AR.
   *
   * @param handle an open tunnel
   * @param packet the inner IP packet
   * @returns when handed to the kernel
   * @throws {PortError} `not-found` for a handle not open here, `protocol` for a
   *   packet too long, `unreachable` when the send fails
   */
  send(handle: TunnelHandle, packet: Uint8Array): Promise<void> {
    let tunnel: _Tunnel;
    try {
      tunnel = this.#open(handle);
    } catch (error) {
      return Promise.reject(error);
    }
    tunnel.txSequence++;
    if (tunnel.fast !== undefined) {
      let frame: Uint8Array;
      try {
        frame = tunnel.fast.tx.seal(tunnel.tunnelId, tunnel.txSequence, packet);
      } catch (error) {
        return Promise.reject(
          new PortError("TunnelManager", "protocol", (error as Error).message, { cause: error }),
        );
      }
      return this.#sendData(tunnel, frame);
    }
    const sealed = sealPhtData(
      tunnel.keys!.mnToAr,
      "mn-to-ar",
      tunnel.tunnelId,
      tunnel.txSequence,
      packet,
    );
    sealed.catch(() => {}); // reported through the chain
    // Frames leave in sequence order: each waits for the previous seal, not its send.
    const handed = tunnel.txChain.then(async () => {
      let frame: Uint8Array;
      try {
        frame = await sealed;
      } catch (error) {
        throw new PortError("TunnelManager", "protocol", (error as Error).message, {
          cause: error,
        });
      }
      return { sent: this.#sendData(tunnel, frame) };
    });
    tunnel.txChain = handed.then(() => {}, () => {});
    return handed.then((h) => h.sent);
  }

  /**
   * Asks the AR to hold packets for the nCoA from now on (RFC 6252 section 7.6.1),
   * just before the link switch.
   *
   * @param handle an open tunnel
   * @param options abort signal
   * @returns when the AR confirmed
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `aborted`
   */
  async buffer(handle: TunnelHandle, options?: PortCallOptions): Promise<void> {
    const tunnel = this.#open(handle);
    await this.#exchange(tunnel, "buffer-ack", (sequence) => ({
      kind: "buffer",
      tunnelId: tunnel.tunnelId,
      sequence,
    }), options);
  }

  /**
   * Asks the AR to release the packets it holds, in order (RFC 6252 section 7.6.1):
   * through the tunnel while it is open, straight to the nCoA once it was closed.
   * Works after {@linkcode PhtTunnelManager.close}, from a fresh socket on any local
   * address (the MN is on its new link by then).
   *
   * @param handle a tunnel opened here, open or recently closed
   * @param options abort signal
   * @returns how many packets the AR released
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `aborted`
   */
  async flush(handle: TunnelHandle, options?: PortCallOptions): Promise<number> {
    const tunnel = this.#tunnels.get(handle.id) ?? this.#closedTunnels.get(handle.id);
    if (tunnel === undefined) throw this.#notFound(handle);
    let temporary: Socket | undefined;
    if (tunnel.socket === undefined) {
      try {
        temporary = await _bindUdp(_wildcardFor(tunnel.ar.address), 0);
      } catch (error) {
        throw new PortError("TunnelManager", "unreachable", (error as Error).message, {
          cause: error,
        });
      }
      tunnel.socket = temporary;
      temporary.on("message", (msg: Uint8Array) => this.#onDatagram(tunnel, msg));
    }
    try {
      const ack = await this.#exchange(tunnel, "flush-ack", (sequence) => ({
        kind: "flush",
        tunnelId: tunnel.tunnelId,
        sequence,
      }), options);
      if (temporary !== undefined) this.#closedTunnels.delete(handle.id);
      return ack.kind === "flush-ack" ? ack.count : 0;
    } finally {
      if (temporary !== undefined) {
        tunnel.socket = undefined;
        await _closeUdp(temporary);
      }
    }
  }

  /**
   * Takes the next inner packet from the tunnel that `match` accepts, instead of
   * handing it to `onPacket`: the Router Advertisement the AR sends through an
   * autoconf tunnel (RFC 6252 section 7.3.4).
   *
   * @param handle an open tunnel
   * @param match which packet to take
   * @param options `timeoutMs` (default 2000), abort signal
   * @returns the packet
   * @throws {PortError} `not-found`, `timeout`, `aborted`
   */
  receive(
    handle: TunnelHandle,
    match: (packet: Uint8Array) => boolean,
    options?: PortCallOptions & { readonly timeoutMs?: number },
  ): Promise<Uint8Array> {
    let tunnel: _Tunnel;
    try {
      tunnel = this.#open(handle);
    } catch (error) {
      return Promise.reject(error);
    }
    const queued = tunnel.unclaimed.findIndex(match);
    if (queued >= 0) return Promise.resolve(tunnel.unclaimed.splice(queued, 1)[0]!);
    const signal = options?.signal;
    return new Promise<Uint8Array>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        tunnel.waiters = tunnel.waiters.filter((w) => w !== waiter);
      };
      const waiter: _Waiter = {
        match,
        resolve: (packet) => {
          done();
          resolve(packet);
        },
      };
      const onAbort = () => {
        done();
        reject(new PortError("TunnelManager", "aborted", "PHT receive aborted"));
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new PortError(
            "TunnelManager",
            "timeout",
            `No matching packet through the PHT: ${options?.timeoutMs ?? 2000} ms`,
          ),
        );
      }, options?.timeoutMs ?? 2000);
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      tunnel.waiters.push(waiter);
    });
  }

  /**
   * Names the address the MN formed by SLAAC as the tunnel's inner address (RFC 6252
   * section 7.3.4): the AR runs DAD for it on the CTN link (Appendix A) and routes it
   * into the tunnel when unique. Also sends the link-layer address when given
   * (Appendix B). For a tunnel that has its nCoA already, only the same address is
   * accepted (a link-layer address update).
   *
   * @param handle an open tunnel (autoconf: nCoA `::`)
   * @param nCoA the address
   * @param options `linkLayerAddress`; `timeoutMs` per try (default 3000: DAD takes
   *   one to two seconds with Linux defaults), abort signal
   * @returns `assigned` with the updated handle, or `duplicate`
   * @throws {PortError} `not-found`, `rejected` (not acceptable), `timeout`, `aborted`
   */
  async assignAddress(
    handle: TunnelHandle,
    nCoA: string,
    options?: PortCallOptions & {
      readonly linkLayerAddress?: Uint8Array;
      readonly timeoutMs?: number;
    },
  ): Promise<PhtAssignResult> {
    const tunnel = this.#open(handle);
    const lla = options?.linkLayerAddress;
    const answer = await this.#exchange(tunnel, "update-ack", (sequence) => ({
      kind: "update",
      tunnelId: tunnel.tunnelId,
      sequence,
      nCoA,
      ...(lla === undefined ? {} : { linkLayerAddress: lla }),
    }), {
      ...options,
      timeoutMs: options?.timeoutMs ?? 3000,
      retries: 2,
      acceptErrors: [PhtErrorCode.Duplicate],
    });
    if (answer.kind !== "update-ack") return { status: "duplicate", nCoA };
    const updated: TunnelHandle = {
      ...tunnel.handle,
      endpoints: { ...tunnel.handle.endpoints, nCoA: answer.nCoA },
      expiresAt: tunnel.expiresAt,
    };
    tunnel.handle = updated;
    tunnel.unclaimed = [];
    _logger.info("PHT tunnel {id}: nCoA {nCoA} accepted by the AR", {
      id: tunnel.tunnelId,
      nCoA: answer.nCoA,
    });
    return { status: "assigned", handle: updated };
  }

  /**
   * Tests reachability of the new network through the tunnel (RFC 6252 section
   * 7.6.3): a probe the AR answers.
   *
   * @param handle an open tunnel
   * @param options abort signal
   * @returns the round-trip time, ms
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `aborted`
   */
  async probe(handle: TunnelHandle, options?: PortCallOptions): Promise<number> {
    const tunnel = this.#open(handle);
    const started = _preciseNow();
    await this.#exchange(tunnel, "probe-ack", (sequence) => ({
      kind: "probe",
      tunnelId: tunnel.tunnelId,
      sequence,
    }), { ...options, retries: 0 });
    return _preciseNow() - started;
  }

  /**
   * Asks the AR to copy packets for the nCoA to `address` (default the nCoA) besides
   * the tunnel (RFC 6252 section 7.6.2); duplicates are dropped from then on, see
   * {@linkcode PhtTunnelManager.acceptDirect}.
   *
   * @param handle an open tunnel
   * @param options abort signal; `address`: where copies go
   * @returns when the AR confirmed
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `aborted`
   */
  async startCopy(
    handle: TunnelHandle,
    options?: PortCallOptions & { readonly address?: string },
  ): Promise<void> {
    const tunnel = this.#open(handle);
    tunnel.copying = true;
    const address = options?.address;
    let via: Socket | undefined;
    if (address !== undefined && tunnel.copySocket === undefined) {
      try {
        via = await _bindUdp(address, 0);
      } catch (error) {
        // Not a local address: the AR is told where copies go and delivers them itself.
        _logger.debug("PHT MN cannot listen for copies on {address}: {error}", {
          address,
          error: (error as Error).message,
        });
      }
      if (via !== undefined) {
        tunnel.copySocket = via;
        via.on("message", (msg: Uint8Array) => this.#onDatagram(tunnel, msg));
        via.on("error", (error: Error) => {
          _logger.warn("PHT MN copy socket error: {error}", { error: error.message });
        });
      }
    } else via = tunnel.copySocket;
    try {
      await this.#exchange(
        tunnel,
        "copy-start-ack",
        (sequence) =>
          address === undefined
            ? { kind: "copy-start", tunnelId: tunnel.tunnelId, sequence }
            : { kind: "copy-start", tunnelId: tunnel.tunnelId, sequence, address },
        via === undefined ? options : { ...options, socket: via },
      );
    } catch (error) {
      await this.#closeCopySocket(tunnel);
      throw error;
    }
  }

  /**
   * Asks the AR to stop copying. Duplicate filtering stays on for this tunnel
   * until it is closed, for the copies still in flight.
   *
   * @param handle an open tunnel
   * @param options abort signal
   * @returns when the AR confirmed
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `aborted`
   */
  async stopCopy(handle: TunnelHandle, options?: PortCallOptions): Promise<void> {
    const tunnel = this.#open(handle);
    await this.#exchange(tunnel, "copy-stop-ack", (sequence) => ({
      kind: "copy-stop",
      tunnelId: tunnel.tunnelId,
      sequence,
    }), options);
    // Copies still in flight are lost with the socket; their originals come through
    // the tunnel.
    await this.#closeCopySocket(tunnel);
  }

  /**
   * Filters a packet that arrived on the prepared interface during copy-and-forward
   * (RFC 6252 section 7.6.2) against the packets received through tunnels.
   *
   * @param packet an IP packet received directly
   * @returns `true` to deliver it, `false` for a duplicate (counted)
   */
  acceptDirect(packet: Uint8Array): boolean {
    return this.#dedup.admit(packet);
  }

  /**
   * Deletes a PHT (RFC 6252 section 6.3 steps 4 and 6). If the AR was asked to
   * buffer, it keeps holding the packets until {@linkcode PhtTunnelManager.flush}
   * or until it hears the MN on the new link. A delete the AR does not confirm is
   * logged; the tunnel then expires at the AR (section 7.2).
   *
   * With `via: "copy"` the delete leaves from the copy socket on the prepared
   * interface ({@linkcode PhtTunnelManager.startCopy} with an `address`), and the AR
   * answers there: after a sudden disconnection of the interface the tunnel ran over
   * (RFC 6252 section 7.6.2), the tunnel's own socket can no longer hear the AR.
   * Without a copy socket the tunnel's socket is used.
   *
   * @param handle a handle from {@linkcode PhtTunnelManager.open}
   * @param options `via`: `tunnel` (default) or `copy`
   * @returns when deleted (or given up on)
   * @throws {PortError} `not-found` for a handle not open here
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * import { importMnArKey } from "../../lib/keys/pht_keys.ts";
   * import { PhtAr } from "./pht_ar.ts";
   * const raw = new Uint8Array(32).fill(3);
   * await using ar = await PhtAr.listen({
   *   listen: { address: "127.0.0.1", port: 0 },
   *   keys: (id) => id === 7 ? raw : undefined,
   * });
   * await using mn = new PhtTunnelManager({ sessionId: () => 7 });
   * const handle = await mn.open("net-b", {
   *   oCoA: "127.0.0.1",
   *   nCoA: "10.0.2.50",
   *   ar: { address: "127.0.0.1", port: ar.address.port },
   * }, await importMnArKey(raw));
   * await mn.startCopy(handle, { address: "127.0.0.2" });
   * await mn.close(handle, { via: "copy" });
   * assertEquals(ar.tunnels().length, 0);
   * ```
   */
  async close(
    handle: TunnelHandle,
    options?: { readonly via?: "tunnel" | "copy" },
  ): Promise<void> {
    const tunnel = this.#open(handle);
    const via = options?.via === "copy" ? tunnel.copySocket : undefined;
    // Through the copy socket, the copies the AR sends until its delete-ack are still
    // delivered (it answers only once its route into the tunnel is gone, see
    // pht_ar.ts): the tunnel takes data until the ack.
    if (via === undefined) tunnel.closed = true;
    if (tunnel.refreshTimer !== undefined) clearTimeout(tunnel.refreshTimer);
    tunnel.refreshTimer = undefined;
    this.#tunnels.delete(handle.id);
    try {
      await this.#exchange(tunnel, "delete-ack", (sequence) => ({
        kind: "delete",
        tunnelId: tunnel.tunnelId,
        sequence,
      }), via === undefined ? undefined : { socket: via });
    } catch (error) {
      _logger.warn("PHT delete of tunnel {id} not confirmed: {error}", {
        id: tunnel.tunnelId,
        error: (error as Error).message,
      });
    }
    tunnel.closed = true;
    const socket = tunnel.socket;
    tunnel.socket = undefined;
    if (socket !== undefined) await _closeUdp(socket);
    await this.#closeCopySocket(tunnel);
    tunnel.fast?.tx.wipe();
    tunnel.fast?.rx.wipe();
    this.#closedTunnels.set(handle.id, tunnel);
    if (this.#closedTunnels.size > 16) {
      this.#closedTunnels.delete(this.#closedTunnels.keys().next().value!);
    }
  }

  /**
   * The handles open now.
   *
   * @returns handles, with the latest granted expiry
   */
  handles(): readonly TunnelHandle[] {
    return [...this.#tunnels.values()].map((t) => ({ ...t.handle, expiresAt: t.expiresAt }));
  }

  /**
   * The counters since construction.
   *
   * @returns a snapshot
   */
  stats(): PhtMnStats {
    return { ...this.#stats, duplicates: this.#dedup.duplicates };
  }

  /**
   * Waits for the background cleanups of aborted opens (each bounded by one answer
   * wait plus a delete's retransmissions).
   *
   * @returns when no cleanup is running
   */
  async idle(): Promise<void> {
    while (this.#cleanups.size > 0) await Promise.all([...this.#cleanups]);
  }

  /** Closes every open tunnel and waits for the cleanups of aborted opens. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...this.#tunnels.values()].map((t) => this.close(t.handle)));
    await this.idle();
  }

  // -------------------------------------------------------------------------

  #track(cleanup: Promise<void>): void {
    this.#stats.abortCleanups++;
    const tracked = cleanup.catch((error) => {
      _logger.error("PHT cleanup after an aborted open failed: {error}", {
        error: String(error),
      });
    });
    this.#cleanups.add(tracked);
    void tracked.finally(() => this.#cleanups.delete(tracked));
  }

  /** The answer wait after an aborted create ended: with the late create-ack, or none. */
  async #afterAbortedCreate(
    tunnel: _Tunnel,
    late: PhtManagementMessage | undefined,
  ): Promise<void> {
    if (late?.kind === "create-ack") {
      tunnel.tunnelId = late.tunnelId;
      await this.#deleteAborted(tunnel, "its create-ack came after the abort");
      return;
    }
    tunnel.closed = true;
    tunnel.early = undefined;
    this.#stats.abortExpiring++;
    _logger.info(
      "PHT open towards {ar} for {nCoA} aborted: no create-ack after the abort; a tunnel the AR created expires with its lifetime",
      { ar: tunnel.ar.address, nCoA: tunnel.handle.endpoints.nCoA },
    );
    await this.#closeSockets(tunnel);
  }

  /** Deletes the tunnel of an aborted open at the AR (authenticated), then closes. */
  async #deleteAborted(tunnel: _Tunnel, why: string): Promise<void> {
    tunnel.closed = true;
    tunnel.early = undefined;
    try {
      await this.#exchange(tunnel, "delete-ack", (sequence) => ({
        kind: "delete",
        tunnelId: tunnel.tunnelId,
        sequence,
      }));
      this.#stats.abortDeletes++;
      _logger.info("PHT tunnel {id} of an aborted open deleted at {ar}: {why}", {
        id: tunnel.tunnelId,
        ar: tunnel.ar.address,
        why,
      });
    } catch (error) {
      this.#stats.abortExpiring++;
      _logger.warn(
        "PHT delete of tunnel {id} of an aborted open not confirmed ({why}): {error}; it expires with its lifetime",
        { id: tunnel.tunnelId, why, error: (error as Error).message },
      );
    }
    await this.#closeSockets(tunnel);
  }

  async #closeSockets(tunnel: _Tunnel): Promise<void> {
    const socket = tunnel.socket;
    tunnel.socket = undefined;
    if (socket !== undefined) await _closeUdp(socket);
    await this.#closeCopySocket(tunnel);
    tunnel.fast?.tx.wipe();
    tunnel.fast?.rx.wipe();
  }

  #notFound(handle: TunnelHandle): PortError {
    return new PortError("TunnelManager", "not-found", `No open PHT: ${handle.id}`);
  }

  #open(handle: TunnelHandle): _Tunnel {
    const tunnel = this.#tunnels.get(handle.id);
    if (tunnel === undefined || tunnel.closed) throw this.#notFound(handle);
    return tunnel;
  }

  async #closeCopySocket(tunnel: _Tunnel): Promise<void> {
    const socket = tunnel.copySocket;
    tunnel.copySocket = undefined;
    if (socket !== undefined) await _closeUdp(socket);
  }

  /** Hands a sealed data frame to the socket; resolves when sent. */
  #sendData(tunnel: _Tunnel, frame: Uint8Array): Promise<void> {
    const socket = tunnel.socket;
    if (socket === undefined) {
      return Promise.reject(new PortError("TunnelManager", "unreachable", "PHT socket closed"));
    }
    return new Promise<void>((resolve, reject) => {
      _sendUdpNow(socket, frame, tunnel.ar.address, tunnel.ar.port, (error) => {
        if (error === undefined) {
          this.#stats.framesSent++;
          this.#stats.packetsSent++;
          resolve();
          return;
        }
        this.#stats.sendErrors++;
        reject(
          new PortError(
            "TunnelManager",
            "unreachable",
            `Cannot send to the AR ${tunnel.ar.address}: ${error.message}`,
            { cause: error },
          ),
        );
      });
    });
  }

  #scheduleRefresh(tunnel: _Tunnel): void {
    const delay = Math.max(1, Math.floor(tunnel.lifetimeMs / 3));
    tunnel.refreshTimer = setTimeout(() => {
      tunnel.refreshTimer = undefined;
      if (tunnel.closed) return;
      this.#exchange(tunnel, "refresh-ack", (sequence) => ({
        kind: "refresh",
        tunnelId: tunnel.tunnelId,
        sequence,
        lifetimeMs: this.#options.lifetimeMs ?? PHT_DEFAULT_LIFETIME_MS,
      }), { timeoutMs: Math.max(1, Math.floor(tunnel.lifetimeMs / 6)) }).then((ack) => {
        if (ack.kind !== "refresh-ack" || tunnel.closed) return;
        this.#stats.refreshes++;
        tunnel.lifetimeMs = ack.lifetimeMs;
        tunnel.expiresAt = this.#now() + ack.lifetimeMs;
        this.#scheduleRefresh(tunnel);
      }, (error: PortError) => {
        this.#stats.refreshFailures++;
        _logger.warn("PHT refresh of tunnel {id} failed: {error}", {
          id: tunnel.tunnelId,
          error: error.message,
        });
        if (!tunnel.closed && error.code !== "rejected" && this.#now() < tunnel.expiresAt) {
          this.#scheduleRefresh(tunnel);
        }
      });
    }, delay);
  }

  #nextSequence(): bigint {
    // Microseconds since the epoch, and strictly increasing within this process.
    const clock = BigInt(Math.floor(_preciseNow() * 1000));
    this.#mgmtSequence = clock > this.#mgmtSequence ? clock : this.#mgmtSequence + 1n;
    return this.#mgmtSequence;
  }

  async #sendRaw(tunnel: _Tunnel, bytes: Uint8Array, via?: Socket): Promise<void> {
    const socket = via ?? tunnel.socket;
    if (socket === undefined) {
      throw new PortError("TunnelManager", "unreachable", "PHT socket closed");
    }
    try {
      await _sendUdp(socket, bytes, tunnel.ar.address, tunnel.ar.port);
      this.#stats.framesSent++;
    } catch (error) {
      throw new PortError(
        "TunnelManager",
        "unreachable",
        `Cannot send to the AR ${tunnel.ar.address}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * One management exchange: sends the request, retransmits with a fresh sequence
   * number on timeout, resolves with the authenticated answer of the expected kind
   * (or rejects on an error answer).
   */
  #exchange(
    tunnel: _Tunnel,
    expect: PhtManagementKind,
    build: (sequence: bigint) => PhtManagementMessage,
    options?: PortCallOptions & {
      readonly retries?: number;
      readonly timeoutMs?: number;
      readonly socket?: Socket;
      readonly acceptErrors?: readonly number[];
      readonly linger?: _Linger;
    },
  ): Promise<PhtManagementMessage> {
    const timeoutMs = options?.timeoutMs ?? this.#options.timeoutMs ?? 1000;
    const tries = 1 + (options?.retries ?? this.#options.retries ?? 3);
    const signal = options?.signal;
    const linger = options?.linger;
    const keys: string[] = [];
    return new Promise<PhtManagementMessage>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let attempt = 0;
      let sent = 0;
      /** `lingering`: aborted after a request left; one more answer wait, no retransmission. */
      let phase: "active" | "lingering" | "done" = "active";
      /** No more (re)transmissions. */
      let done = false;
      const finish = () => {
        done = true;
        phase = "done";
        if (timer !== undefined) clearTimeout(timer);
        for (const k of keys) this.#pending.delete(k);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        if (phase !== "active") return;
        const error = _aborted(build(0n).kind);
        if (linger !== undefined && sent > 0) {
          // The request may have been accepted: keep listening for its answer.
          phase = "lingering";
          done = true;
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          timer = setTimeout(() => {
            finish();
            linger.settle(undefined);
          }, linger.ms);
          linger.start();
          reject(error);
          return;
        }
        finish();
        reject(error);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      const pending: _Pending = {
        expect,
        allowUnauthenticatedError: expect === "create-ack",
        acceptErrors: options?.acceptErrors ?? [],
        resolve: (message) => {
          if (phase === "done") return;
          const late = phase === "lingering";
          finish();
          if (late) linger!.settle(message);
          else resolve(message);
        },
        reject: (error) => {
          if (phase === "done") return;
          const late = phase === "lingering";
          finish();
          if (late) linger!.settle(undefined);
          else reject(error);
        },
      };
      const sendOnce = async () => {
        if (done) return;
        if (attempt >= tries) {
          pending.reject(
            new PortError(
              "TunnelManager",
              "timeout",
              `No answer from the AR ${tunnel.ar.address}: ${tries} tries of ${
                expect.replace("-ack", "")
              }`,
            ),
          );
          return;
        }
        if (attempt > 0) this.#stats.retransmissions++;
        attempt++;
        const message = build(this.#nextSequence());
        const key = `${tunnel.handle.id}/${message.sequence}`;
        keys.push(key);
        this.#pending.set(key, pending);
        timer = setTimeout(() => void sendOnce(), timeoutMs);
        try {
          const bytes = await signPhtManagement(tunnel.mgmtKey, message);
          if (done) return; // aborted while signing: this one never leaves
          sent++;
          await this.#sendRaw(tunnel, bytes, options?.socket);
        } catch (error) {
          pending.reject(
            error instanceof PortError
              ? error
              : new PortError("TunnelManager", "unreachable", String(error), { cause: error }),
          );
        }
      };
      void sendOnce();
    });
  }

  #onDatagram(tunnel: _Tunnel, msg: Uint8Array): void {
    this.#stats.framesReceived++;
    let frame;
    try {
      frame = decodePhtFrame(msg);
    } catch (error) {
      this.#stats.malformed++;
      _logger.debug("PHT MN: malformed datagram: {error}", { error: String(error) });
      return;
    }
    if (frame.kind === "data") this.#onData(tunnel, frame);
    else {
      this.#onManagement(tunnel, frame).catch((error) => {
        _logger.debug("PHT MN: management answer dropped: {error}", { error: String(error) });
      });
    }
  }

  #onData(tunnel: _Tunnel, frame: PhtDataFrame): void {
    const keys = tunnel.keys;
    const fast = tunnel.fast;
    if (keys === undefined && fast === undefined && tunnel.early !== undefined) {
      // The create-ack is being processed: hold the frame until the keys exist.
      if (tunnel.early.length < _EARLY_FRAMES) tunnel.early.push(_copyFrame(frame));
      else this.#stats.unexpected++;
      return;
    }
    if (
      (keys === undefined && fast === undefined) || frame.header.tunnelId !== tunnel.tunnelId ||
      tunnel.closed
    ) {
      this.#stats.unexpected++;
      return;
    }
    const sequence = frame.header.sequence;
    if (tunnel.window.check(sequence) !== "ok") {
      this.#stats.replayed++;
      return;
    }
    if (fast !== undefined) {
      let packet: Uint8Array;
      try {
        packet = fast.rx.open(frame);
      } catch {
        this.#stats.badAuth++;
        _logger.debug("PHT MN: data frame {sequence} does not authenticate", {
          sequence: String(sequence),
        });
        return;
      }
      this.#acceptData(tunnel, sequence, packet);
      return;
    }
    const opened = openPhtData(keys!.arToMn, "ar-to-mn", {
      ...frame,
      headerBytes: frame.headerBytes.slice(),
      sealed: frame.sealed.slice(),
    });
    opened.catch(() => {}); // handled in the chain
    tunnel.rxChain = tunnel.rxChain.then(async () => {
      let packet: Uint8Array;
      try {
        packet = await opened;
      } catch {
        this.#stats.badAuth++;
        _logger.debug("PHT MN: data frame {sequence} does not authenticate", {
          sequence: String(sequence),
        });
        return;
      }
      this.#acceptData(tunnel, sequence, packet);
    });
  }

  /** An authenticated inner packet: replay check, duplicate check, onPacket. */
  #acceptData(tunnel: _Tunnel, sequence: bigint, packet: Uint8Array): void {
    if (tunnel.window.check(sequence) !== "ok") {
      this.#stats.replayed++;
      return;
    }
    tunnel.window.accept(sequence);
    if (tunnel.copying && !this.#dedup.admit(packet)) return;
    this.#stats.packetsReceived++;
    const waiter = tunnel.waiters.find((w) => w.match(packet));
    if (waiter !== undefined) {
      waiter.resolve(packet);
      return;
    }
    if (tunnel.handle.endpoints.nCoA === "::") {
      // Nothing to deliver to before the nCoA exists: keep it for `receive` (the RA
      // that came with the create-ack).
      if (tunnel.unclaimed.length < _EARLY_FRAMES) tunnel.unclaimed.push(packet);
      return;
    }
    try {
      this.#options.onPacket?.(tunnel.handle, packet);
    } catch (error) {
      _logger.warn("PHT onPacket failed: {error}", { error: String(error) });
    }
  }

  async #onManagement(tunnel: _Tunnel, frame: PhtManagementFrame): Promise<void> {
    const m = frame.message;
    const key = `${tunnel.handle.id}/${m.sequence}`;
    const pending = this.#pending.get(key);
    if (pending === undefined) {
      this.#stats.unexpected++;
      return;
    }
    if (
      m.kind === "error" && m.code === PhtErrorCode.UnknownSession &&
      pending.allowUnauthenticatedError && frame.mac.every((b) => b === 0) &&
      frame.mac.length === PHT_MAC_LENGTH
    ) {
      // The AR holds no key for the session and cannot sign; an on-path attacker
      // could forge this, but could as well drop the create.
      pending.reject(
        new PortError(
          "TunnelManager",
          "rejected",
          `The AR ${tunnel.ar.address} holds no MN-AR key for session ${tunnel.sessionId}`,
        ),
      );
      return;
    }
    try {
      await verifyPhtManagement(tunnel.mgmtKey, frame);
    } catch {
      this.#stats.badAuth++;
      return;
    }
    if (m.kind === "error" && pending.acceptErrors.includes(m.code)) {
      pending.resolve(m);
      return;
    }
    if (m.kind === "error") {
      pending.reject(
        new PortError(
          "TunnelManager",
          m.code === PhtErrorCode.UnknownTunnel ? "not-found" : "rejected",
          `The AR ${tunnel.ar.address} refused: ${_errorName(m.code)}`,
        ),
      );
      return;
    }
    if (m.kind !== pending.expect || (m.kind !== "create-ack" && m.tunnelId !== tunnel.tunnelId)) {
      pending.reject(
        new PortError("TunnelManager", "protocol", `Unexpected PHT answer: ${m.kind}`),
      );
      return;
    }
    pending.resolve(m);
  }
}

/** What an exchange does with the answer to a request that left before an abort. */
interface _Linger {
  /** How long to wait for it after the abort, ms. */
  readonly ms: number;
  /** The abort came after a request left: the exchange lingers. */
  readonly start: () => void;
  /** The late answer, or `undefined` when none came (or an error did). */
  readonly settle: (late: PhtManagementMessage | undefined) => void;
}

function _aborted(what: string): PortError {
  return new PortError("TunnelManager", "aborted", `PHT ${what} aborted`);
}

/** `work`, or an `aborted` rejection as soon as `signal` fires. */
function _orAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  work.catch(() => {}); // an abort wins; the work's own failure is then moot
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(_aborted("create"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function _copyFrame(frame: PhtDataFrame): PhtDataFrame {
  return { ...frame, headerBytes: frame.headerBytes.slice(), sealed: frame.sealed.slice() };
}

function _errorName(code: number): string {
  switch (code) {
    case PhtErrorCode.UnknownSession:
      return "unknown session";
    case PhtErrorCode.UnknownTunnel:
      return "unknown tunnel";
    case PhtErrorCode.BadRequest:
      return "bad request";
    case PhtErrorCode.Duplicate:
      return "duplicate address";
    default:
      return "refused";
  }
}

/** The wildcard address of `peer`'s family: the kernel picks the source per route. */
function _wildcardFor(peer: string): string {
  return _family(peer) === 6 ? "::" : "0.0.0.0";
}
