/**
 * A Mobile IPv6 home agent (RFC 6275 section 10.3) with multiple care-of addresses
 * (RFC 5648) over UDP: it receives Binding Updates on port 4191, keeps the binding
 * cache with the pure `bindingCacheReducer` (`lib/mip6/binding_cache.ts`), answers
 * with signed Binding Acknowledgements, expires bindings, and forwards a
 * correspondent's stream to every registered care-of address: the simultaneous
 * binding of RFC 6252 section 7.2 (first solution) and section C.4, where the stream
 * reaches the candidate networks c1, c2, c3 through the proactive tunnels until the
 * MN, after the move, binds the single CoA of the network it entered.
 *
 * Framing (DSMIPv6, RFC 5555; the same as `mip6_mn.ts`): each datagram on port 4191 is
 * an IPv6 packet, a 40-byte fixed header with Next Header 135 followed by the Mobility
 * Header. IPv4 addresses appear in it IPv4-mapped (`::ffff:a.b.c.d`). The home address
 * is the inner IPv6 source of a BU. The care-of address is the outer UDP source, or
 * the Alternate Care-of Address option when present, or, for a bulk registration, the
 * address in each Binding Identifier option (the UDP source for an option without
 * one). The BA goes back to the BU's UDP source address and port, inner IPv6 source
 * the home agent, destination the home address.
 *
 * Verification, in order; each failure is counted in {@linkcode HomeAgentStats} and
 * reported through `onEvent`:
 * 1. the datagram must be such an IPv6 packet and the Mobility Header must decode with
 *    a correct Checksum over the inner pseudo-header: else `malformed`, no answer;
 * 2. a well-formed Mobility Header other than a BU: `unexpected`, no answer (a Binding
 *    Error for an unknown MH Type, RFC 6275 section 9.2, is not sent);
 * 3. a home address `keys` knows nothing of: `unknownHome`, dropped without an answer.
 *    RFC 6275 section 10.3.1 would answer 133 (not home agent for this mobile node),
 *    but a BA cannot be authenticated without a key, and an unauthenticated rejection
 *    sent to any source address would let anyone reflect traffic off the home agent;
 * 4. Binding Authorization Data (`lib/keys/binding_auth.ts`, care-of address = the UDP
 *    source, peer = this home agent's address) that does not verify under the home
 *    address's key: `forged`, dropped without an answer as RFC 6275 section 9.5.1
 *    says. The home address itself is not in the MAC: the key chosen by it binds the
 *    BU to it, so every home address must have its own key;
 * 5. with role `correspondent`, a BU with the H flag is refused with 131 (home
 *    registration not supported); with role `home-agent` a BU without it is treated
 *    like one with it;
 * 6. the rest is the reducer's (sequence number window with status 135 and the last
 *    accepted number, RFC 5648 checks, lifetimes): `accepted` or `rejected[status]`.
 *
 * Forwarding (the `stream` option): datagrams arriving at `stream.listenPort` are sent
 * on, payload unchanged, from that socket to `mediaPort` at every care-of address
 * currently bound for the home address. With `stream.home` set, every datagram is for
 * that home address; without it each datagram starts with a 16-byte header, the home
 * address as IPv6 (IPv4-mapped for IPv4), which is removed before forwarding.
 *
 * Expiry: a timer runs the reducer's `tick` every `tickIntervalMs`; forwarding also
 * leaves out bindings expired by the `now` clock in between.
 *
 * @module
 */
import type { Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { signMobilityHeader, verifyMobilityHeader } from "../../lib/keys/binding_auth.ts";
import {
  type BindingCacheCommand,
  type BindingCacheConfig,
  type BindingCacheEvent,
  bindingCacheReducer,
  type BindingCacheState,
  type CareOfRequest,
  destinations,
  INITIAL_BINDING_CACHE_STATE,
} from "../../lib/mip6/binding_cache.ts";
import { formatIpv6Address } from "../../lib/wire/ip_header.ts";
import {
  type BindingUpdate,
  decodeMobilityHeader,
  findMobilityOption,
  findMobilityOptions,
  type MobilityOption,
} from "../../lib/wire/mobility_header.ts";
import { BindingAckStatus, MIP6_UDP_PORT } from "../../lib/wire/mobility_constants.ts";
import {
  _bindUdp,
  _canonical,
  _closeUdp,
  type _Peer,
  _sendUdp,
  _statusName,
  _unwrapMobilityHeader,
  _wrapMobilityHeader,
} from "./_mip6_udp.ts";

const _logger = getLogger(["mpa", "mip6", "ha"]);

/** The largest stream datagram forwarded (a UDP payload over IPv4). */
const _MAX_STREAM_DATAGRAM = 65_507;

/** The length of the home address header of a stream datagram without `stream.home`. */
export const STREAM_HOME_HEADER_LENGTH = 16;

/** Forwarding of a correspondent's stream to the bound care-of addresses. */
export interface HomeAgentStreamOptions {
  /** The UDP port the stream arrives at, on the home agent's address (0: ephemeral). */
  readonly listenPort: number;
  /** The UDP port datagrams are sent to at each care-of address. */
  readonly mediaPort: number;
  /**
   * The home address every datagram is for. Without it, each datagram starts with a
   * 16-byte home address header (see the module notes).
   */
  readonly home?: string;
}

/** Options of {@linkcode HomeAgent.listen}. */
export interface HomeAgentOptions {
  /** The address to listen on and sign with (the `peer` of the MAC): IPv4 or IPv6. */
  readonly address: string;
  /** The UDP port; default {@linkcode MIP6_UDP_PORT} (0: ephemeral). */
  readonly port?: number;
  /** The key shared with the MN of a home address (canonical text), or undefined. */
  readonly keys: (home: string) => Uint8Array | undefined;
  /** `home-agent` (default) or `correspondent`, as in `BindingCacheConfig`. */
  readonly role?: BindingCacheConfig["role"];
  /** The longest lifetime granted, seconds; default 3600 (home agent), 420 (correspondent). */
  readonly maxLifetimeS?: number;
  /** Whether Binding IDs are accepted (RFC 5648); default true, else status 166. */
  readonly multipleCoa?: boolean;
  /** Whether one BU may carry several Binding IDs; default true, else status 168. */
  readonly bulkRegistration?: boolean;
  /** Forward a stream to the bound care-of addresses. */
  readonly stream?: HomeAgentStreamOptions;
  /** How often expired bindings are removed, ms; default 1000. */
  readonly tickIntervalMs?: number;
  /** Clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Called for each event (acceptance, rejection, drop, forwarding change, expiry). */
  readonly onEvent?: (event: HomeAgentEvent) => void;
}

/** Why a datagram on port 4191 was dropped without an answer. */
export type HomeAgentDropReason = "malformed" | "unexpected" | "unknown-home" | "forged";

/** What a {@linkcode HomeAgent} reports through `onEvent`. */
export type HomeAgentEvent =
  | {
    /** A BU was accepted and acknowledged (or not, without the A flag). */
    readonly kind: "accepted";
    /** The home address. */
    readonly home: string;
    /** The BU's Sequence Number. */
    readonly sequence: number;
    /** The lifetime granted, seconds (0: deregistered). */
    readonly lifetime: number;
  }
  | {
    /** A BU was refused with a BA status of 128 or more. */
    readonly kind: "rejected";
    /** The home address. */
    readonly home: string;
    /** The status. */
    readonly status: number;
    /** The Sequence Number in the BA (the last accepted one with 135). */
    readonly sequence: number;
  }
  | {
    /** A datagram was dropped without an answer. */
    readonly kind: "dropped";
    /** Why. */
    readonly reason: HomeAgentDropReason;
    /** Its UDP source address. */
    readonly from: string;
    /** Detail for the log. */
    readonly detail: string;
  }
  | {
    /** The care-of addresses of a home address changed. */
    readonly kind: "forward-to";
    /** The home address. */
    readonly home: string;
    /** Every care-of address now bound (none: forwarding stopped). */
    readonly coas: readonly string[];
  }
  | {
    /** Bindings ran out of lifetime. */
    readonly kind: "expired";
    /** The home address. */
    readonly home: string;
    /** The care-of addresses removed. */
    readonly coas: readonly string[];
  };

/** Counters of a {@linkcode HomeAgent}. */
export interface HomeAgentStats {
  /** Datagrams received on the binding port. */
  readonly received: number;
  /** BUs accepted (registrations and deregistrations). */
  readonly accepted: number;
  /** BUs refused, by BA status. */
  readonly rejected: Readonly<Record<number, number>>;
  /** BUs whose Binding Authorization Data did not verify. */
  readonly forged: number;
  /** BUs for a home address without a key. */
  readonly unknownHome: number;
  /** Datagrams that are not an IPv6 packet with a valid Mobility Header. */
  readonly malformed: number;
  /** Valid Mobility Headers other than a BU. */
  readonly unexpected: number;
  /** BAs sent. */
  readonly acksSent: number;
  /** Bindings removed by expiry. */
  readonly expired: number;
  /** Stream datagrams received. */
  readonly streamReceived: number;
  /** Stream datagrams dropped: no binding for the home address, or a bad header. */
  readonly streamDropped: number;
  /** Stream datagrams sent, by care-of address. */
  readonly forwarded: Readonly<Record<string, number>>;
  /** Sends that failed (BA or stream). */
  readonly sendErrors: number;
}

interface _Counters {
  received: number;
  accepted: number;
  rejected: Record<number, number>;
  forged: number;
  unknownHome: number;
  malformed: number;
  unexpected: number;
  acksSent: number;
  expired: number;
  streamReceived: number;
  streamDropped: number;
  forwarded: Record<string, number>;
  sendErrors: number;
}

/** The BU being processed, for the commands it produces. */
interface _Context {
  readonly key: Uint8Array;
  readonly from: _Peer;
  readonly bu: BindingUpdate;
}

/**
 * A home agent over UDP: binding cache, signed acknowledgements, stream forwarding
 * to every bound care-of address.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ha = await HomeAgent.listen({ address: "127.0.0.1", port: 0, keys: () => undefined });
 * assertEquals(ha.stats.received, 0);
 * assertEquals(ha.bindings("10.9.0.100"), []);
 * await ha.close();
 * ```
 */
export class HomeAgent implements AsyncDisposable {
  readonly #address: string;
  readonly #keys: (home: string) => Uint8Array | undefined;
  readonly #config: BindingCacheConfig;
  readonly #now: () => number;
  readonly #onEvent: ((event: HomeAgentEvent) => void) | undefined;
  readonly #stream: HomeAgentStreamOptions | undefined;
  readonly #streamHome: string | undefined;
  #socket: Socket | undefined;
  #streamSocket: Socket | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #state: BindingCacheState = INITIAL_BINDING_CACHE_STATE;
  #chain: Promise<void> = Promise.resolve();
  #streamChain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #counters: _Counters = {
    received: 0,
    accepted: 0,
    rejected: {},
    forged: 0,
    unknownHome: 0,
    malformed: 0,
    unexpected: 0,
    acksSent: 0,
    expired: 0,
    streamReceived: 0,
    streamDropped: 0,
    forwarded: {},
    sendErrors: 0,
  };

  private constructor(options: HomeAgentOptions) {
    this.#address = _canonical(options.address);
    this.#keys = options.keys;
    this.#config = {
      role: options.role ?? "home-agent",
      ...(options.maxLifetimeS === undefined ? {} : { maxLifetime: options.maxLifetimeS }),
      ...(options.multipleCoa === undefined ? {} : { multipleCoa: options.multipleCoa }),
      ...(options.bulkRegistration === undefined
        ? {}
        : { bulkRegistration: options.bulkRegistration }),
    };
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
    this.#stream = options.stream;
    this.#streamHome = options.stream?.home === undefined
      ? undefined
      : _canonical(options.stream.home);
  }

  /**
   * Starts a home agent: binds the binding port (and the stream port) and the expiry
   * timer.
   *
   * @param options address, port, keys, role, lifetime cap, stream, clock
   * @returns the running home agent
   * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL), or a `MalformedMessageError`
   *   for a bad address
   */
  static async listen(options: HomeAgentOptions): Promise<HomeAgent> {
    const ha = new HomeAgent(options);
    ha.#socket = await _bindUdp(
      options.address,
      options.port ?? MIP6_UDP_PORT,
      (bytes, from) => ha.#enqueue(bytes, from),
    );
    if (options.stream !== undefined) {
      try {
        ha.#streamSocket = await _bindUdp(
          options.address,
          options.stream.listenPort,
          (bytes, from) => ha.#onStream(bytes, from),
          _MAX_STREAM_DATAGRAM,
        );
      } catch (error) {
        await _closeUdp(ha.#socket);
        throw error;
      }
    }
    ha.#timer = setInterval(() => ha.tick(), options.tickIntervalMs ?? 1000);
    return ha;
  }

  /** The address listened on, canonical. */
  get address(): string {
    return this.#address;
  }

  /** The binding port (the ephemeral one when listening on port 0). */
  get port(): number {
    return this.#socket?.address().port ?? 0;
  }

  /** The stream port, or undefined without `stream`. */
  get streamPort(): number | undefined {
    return this.#streamSocket?.address().port;
  }

  /** The counters so far (a copy). */
  get stats(): HomeAgentStats {
    return {
      ...this.#counters,
      rejected: { ...this.#counters.rejected },
      forwarded: { ...this.#counters.forwarded },
    };
  }

  /** The binding cache (immutable snapshot). */
  get cache(): BindingCacheState {
    return this.#state;
  }

  /**
   * The care-of addresses a packet for `home` goes to now (expired bindings left out).
   *
   * @param home the home address, IPv4 or IPv6 text
   * @returns the care-of addresses, by Binding ID; none when unbound
   */
  bindings(home: string): string[] {
    return destinations(this.#state, _canonical(home), this.#now());
  }

  /**
   * Removes the bindings whose lifetime ran out by the `now` clock (the timer does it
   * every `tickIntervalMs`; tests with a virtual clock call it).
   */
  tick(): void {
    this.#apply({ kind: "tick", now: this.#now() }, undefined);
  }

  /**
   * Stops the timer and closes the sockets, after the BUs being processed.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#chain;
    await this.#streamChain;
    const sockets = [this.#socket, this.#streamSocket].filter((s) => s !== undefined);
    await Promise.all(sockets.map(_closeUdp));
  }

  /** Same as {@linkcode HomeAgent.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #emit(event: HomeAgentEvent): void {
    try {
      this.#onEvent?.(event);
    } catch (error) {
      _logger.warn("onEvent threw: {error}", { error: String(error) });
    }
  }

  #drop(reason: HomeAgentDropReason, from: _Peer, detail: string): void {
    _logger.debug("Dropped a datagram from {from} ({reason}): {detail}", {
      from: from.address,
      reason,
      detail,
    });
    this.#emit({ kind: "dropped", reason, from: from.address, detail });
  }

  /** BUs are processed one at a time, in arrival order. */
  #enqueue(bytes: Uint8Array, from: _Peer): void {
    const copy = bytes.slice();
    this.#chain = this.#chain.then(() => this.#onDatagram(copy, from)).catch((error) => {
      _logger.error("Failed to process a datagram from {from}: {error}", {
        from: from.address,
        error: String(error),
      });
    });
  }

  async #onDatagram(bytes: Uint8Array, from: _Peer): Promise<void> {
    if (this.#closed) return;
    this.#counters.received++;
    let home: string;
    let bu: BindingUpdate;
    let mh: Uint8Array;
    try {
      const packet = _unwrapMobilityHeader(bytes);
      mh = packet.mh;
      home = packet.source;
      const msg = decodeMobilityHeader(mh, {
        checksum: { source: packet.source, destination: packet.destination },
      });
      if (msg.kind !== "bindingUpdate") {
        this.#counters.unexpected++;
        this.#drop("unexpected", from, `Mobility Header ${msg.kind}`);
        return;
      }
      bu = msg;
    } catch (error) {
      this.#counters.malformed++;
      this.#drop("malformed", from, (error as Error).message);
      return;
    }
    const key = this.#keys(home);
    if (key === undefined) {
      this.#counters.unknownHome++;
      this.#drop("unknown-home", from, `No key for home address ${home}`);
      return;
    }
    const authentic = await verifyMobilityHeader(key, mh, {
      careOf: from.address,
      peer: this.#address,
    });
    if (!authentic) {
      this.#counters.forged++;
      this.#drop("forged", from, `Binding Authorization Data does not verify for ${home}`);
      return;
    }
    const context: _Context = { key, from, bu };
    if (bu.flags.home && this.#config.role === "correspondent") {
      const status = BindingAckStatus.HomeRegistrationNotSupported;
      this.#counters.rejected[status] = (this.#counters.rejected[status] ?? 0) + 1;
      await this.#sendAck(context, {
        kind: "send-ack",
        home,
        status,
        sequence: bu.sequence,
        lifetime: 0,
        bids: [],
      });
      return;
    }
    let coas: CareOfRequest[];
    let overwrite = false;
    try {
      ({ coas, overwrite } = this.#careOfAddresses(bu, from));
    } catch (error) {
      this.#counters.malformed++;
      this.#drop("malformed", from, (error as Error).message);
      return;
    }
    const commands = this.#apply({
      kind: "bu-received",
      home,
      coas,
      sequence: bu.sequence,
      lifetime: bu.lifetime,
      authentic: true,
      now: this.#now(),
      ackRequested: bu.flags.ack,
      overwrite,
    }, context);
    for (const c of commands) if (c.kind === "send-ack") await this.#sendAck(context, c);
  }

  /** The care-of addresses of a BU (see the module notes). */
  #careOfAddresses(
    bu: BindingUpdate,
    from: _Peer,
  ): { coas: CareOfRequest[]; overwrite: boolean } {
    const source = _canonical(from.address);
    const bids = findMobilityOptions(bu, "bindingIdentifier");
    if (bids.length > 0) {
      return {
        coas: bids.map((o) => ({
          coa: o.careOfAddress === undefined ? source : _canonical(o.careOfAddress),
          bid: o.bid,
        })),
        overwrite: bids.some((o) => o.overwrite),
      };
    }
    const alternate = findMobilityOption(bu, "alternateCareOfAddress");
    return {
      coas: [{ coa: alternate === undefined ? source : _canonical(alternate.address) }],
      overwrite: false,
    };
  }

  /** Runs the reducer and executes all but `send-ack` (returned for the caller). */
  #apply(event: BindingCacheEvent, context: _Context | undefined): readonly BindingCacheCommand[] {
    const before = this.#state.counters;
    const [state, commands] = bindingCacheReducer(this.#state, event, this.#config);
    this.#state = state;
    this.#counters.accepted += state.counters.accepted - before.accepted;
    this.#counters.expired += state.counters.expired - before.expired;
    for (const c of commands) {
      switch (c.kind) {
        case "send-ack":
          if (c.status >= 128) {
            this.#counters.rejected[c.status] = (this.#counters.rejected[c.status] ?? 0) + 1;
            _logger.info("Refused a Binding Update for {home}: status {status}", {
              home: c.home,
              status: _statusName(c.status),
            });
            this.#emit({ kind: "rejected", home: c.home, status: c.status, sequence: c.sequence });
          } else {
            this.#emit({
              kind: "accepted",
              home: c.home,
              sequence: c.sequence,
              lifetime: c.lifetime,
            });
          }
          break;
        case "forward-to":
          _logger.info("Forwarding for {home}: {coas}", { home: c.home, coas: c.coas });
          this.#emit({ kind: "forward-to", home: c.home, coas: c.coas });
          break;
        case "expired":
          _logger.info("Bindings of {home} expired: {coas}", { home: c.home, coas: c.coas });
          this.#emit({ kind: "expired", home: c.home, coas: c.coas });
          break;
        case "dropped":
          if (context !== undefined) this.#drop("forged", context.from, c.reason);
          break;
      }
    }
    // An accepted BU without the A flag has no send-ack command: report it all the same.
    if (
      event.kind === "bu-received" && state.counters.accepted > before.accepted &&
      !commands.some((c) => c.kind === "send-ack")
    ) {
      this.#emit({
        kind: "accepted",
        home: event.home,
        sequence: event.sequence,
        lifetime: event.lifetime,
      });
    }
    return commands;
  }

  async #sendAck(
    context: _Context,
    command: Extract<BindingCacheCommand, { kind: "send-ack" }>,
  ): Promise<void> {
    const options: MobilityOption[] = command.bids.map((b) => ({
      kind: "bindingIdentifier",
      bid: b.bid,
      status: b.status,
      simultaneousHome: false,
      overwrite: false,
    }));
    try {
      const mh = await signMobilityHeader(
        context.key,
        {
          kind: "bindingAck",
          status: command.status,
          keyManagement: false,
          sequence: command.sequence,
          lifetime: command.lifetime,
          options,
        },
        { careOf: context.from.address, peer: this.#address },
        { checksum: { source: this.#address, destination: command.home } },
      );
      const datagram = _wrapMobilityHeader(mh, this.#address, command.home);
      await _sendUdp(this.#socket!, datagram, context.from.address, context.from.port);
      this.#counters.acksSent++;
    } catch (error) {
      this.#counters.sendErrors++;
      _logger.warn("Cannot send a Binding Acknowledgement to {to}: {error}", {
        to: context.from.address,
        error: String(error),
      });
    }
  }

  #onStream(bytes: Uint8Array, _from: _Peer): void {
    if (this.#closed) return;
    this.#counters.streamReceived++;
    let home = this.#streamHome;
    let payload = bytes;
    if (home === undefined) {
      if (bytes.length < STREAM_HOME_HEADER_LENGTH) {
        this.#counters.streamDropped++;
        return;
      }
      home = _canonical(formatIpv6Address(bytes, 0));
      payload = bytes.subarray(STREAM_HOME_HEADER_LENGTH);
    }
    const coas = destinations(this.#state, home, this.#now());
    if (coas.length === 0) {
      this.#counters.streamDropped++;
      return;
    }
    const copy = payload.slice(); // node:dgram may reuse the receive buffer
    // One send at a time, in arrival order: Deno 2.9's node:dgram sends the first burst
    // of a fresh socket in reverse order when sends are not awaited.
    this.#streamChain = this.#streamChain.then(async () => {
      for (const coa of coas) {
        try {
          await _sendUdp(this.#streamSocket!, copy, coa, this.#stream!.mediaPort);
          this.#counters.forwarded[coa] = (this.#counters.forwarded[coa] ?? 0) + 1;
        } catch {
          this.#counters.sendErrors++;
        }
      }
    });
  }
}
