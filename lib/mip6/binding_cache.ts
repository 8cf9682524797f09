/**
 * The binding cache of a Mobile IPv6 home agent or correspondent node as a pure
 * reducer `(state, event, config) => [state, commands]`: Binding Updates in (already
 * decoded and authenticated by the adapter), Binding Acknowledgements, forwarding
 * changes and expiries out. With the multiple care-of addresses of RFC 5648 it holds
 * several bindings per home address, one per Binding ID, which is what the
 * simultaneous binding of RFC 6252 sections 7.2 and C.4 needs: while the mobile node
 * still sits in the previous network it registers the care-of addresses c1, c2, c3 of
 * the candidate networks at once, the stream is forwarded to all of them through the
 * proactive tunnels, and after the move a Binding Update with the single new care-of
 * address (no Binding ID) replaces them all.
 *
 * Rules, in the order applied to a Binding Update:
 * 1. not authentic (Binding Authorization Data missing or wrong): silently dropped,
 *    no acknowledgement (RFC 6275 section 9.5.1), counted as `unauthentic`;
 * 2. Sequence Number: when the home address has been seen, the BU must be newer than
 *    the last accepted one modulo 2^16 (section 9.5.1: "less than or equal" means
 *    within the last number and the 32768 before it); otherwise status 135 with the
 *    last accepted number in the acknowledgement. Unlike RFC 6275, the last accepted
 *    number is kept after the bindings are gone (deregistration, expiry), so that an
 *    old authentic BU cannot be replayed to re-create a binding; the mobile node
 *    resynchronises from the number in the 135 acknowledgement (section 11.7.3);
 * 3. care-of addresses (RFC 5648 sections 5 and 6): one without Binding ID, or one or
 *    more each with a distinct Binding ID 1 to 65535, else 164 MCOA MALFORMED (none
 *    at all: 128); Binding IDs when `multipleCoa` is off: 166; more than one when
 *    `bulkRegistration` is off: 168; Binding IDs without the overwrite (O) flag while a
 *    binding without Binding ID is registered: 165 MCOA NON-MCOA BINDING EXISTS;
 * 4. deregistration: lifetime 0, or a care-of address equal to the home address
 *    (returning home). Without Binding ID it removes every binding of the home
 *    address (a home agent answers 133 when there is none, section 10.3.2); with
 *    Binding IDs and lifetime 0 it removes those Binding IDs, and answers 133 without
 *    changing anything when one of them is not registered (RFC 5648 section 6.2);
 * 5. registration: the lifetime is capped at `maxLifetime`. Without Binding ID the
 *    single binding replaces all the bindings of the home address (RFC 5648: a BU
 *    without Binding ID replaces them all); with Binding IDs they are added or
 *    replaced one by one and the others stay, unless the overwrite flag is set, in
 *    which case they replace all;
 * 6. an acknowledgement is sent when asked for (A flag) and always on a rejection
 *    (section 9.5.1), with the granted lifetime and the status of each Binding ID;
 *    a `forward-to` command follows whenever the set of destinations changes.
 *
 * A `tick` removes the bindings whose lifetime has run out, each with an `expired`
 * command and a new `forward-to`. Times are milliseconds from the caller's clock
 * (`now`), lifetimes seconds as in the codec. Addresses are compared as text, so
 * they must be canonical (as `decodeMobilityHeader` produces them).
 *
 * @module
 */
import { BindingAckStatus, MAX_RR_BINDING_LIFETIME } from "../wire/mobility_constants.ts";

/** One care-of address of a Binding Update, with its Binding ID when it has one (RFC 5648). */
export interface CareOfRequest {
  /** The care-of address, canonical text. */
  readonly coa: string;
  /** The Binding ID, 1 to 65535; absent for a plain RFC 6275 binding. */
  readonly bid?: number;
}

/** A Binding Update received, decoded and checked for authenticity by the adapter. */
export interface BindingUpdateReceived {
  /** Discriminant. */
  readonly kind: "bu-received";
  /** The home address, canonical text. */
  readonly home: string;
  /** The care-of addresses: one, or several with Binding IDs (RFC 5648). */
  readonly coas: readonly CareOfRequest[];
  /** The Sequence Number, 0 to 65535. */
  readonly sequence: number;
  /** The requested lifetime, seconds; 0 deregisters. */
  readonly lifetime: number;
  /** Whether the Binding Authorization Data verified. */
  readonly authentic: boolean;
  /** The time of receipt, ms. */
  readonly now: number;
  /** The A flag; an acknowledgement is sent when true (default) and on every rejection. */
  readonly ackRequested?: boolean;
  /** The O flag of the Binding Identifier options: replace all bindings (RFC 5648). */
  readonly overwrite?: boolean;
}

/** Time passes: expire what ran out. */
export interface BindingCacheTick {
  /** Discriminant. */
  readonly kind: "tick";
  /** The current time, ms. */
  readonly now: number;
}

/** What the binding cache consumes. */
export type BindingCacheEvent = BindingUpdateReceived | BindingCacheTick;

/** The status of one Binding ID in an acknowledgement (RFC 5648 section 6.1). */
export interface BidStatus {
  /** The Binding ID. */
  readonly bid: number;
  /** Its status (see `BindingAckStatus`). */
  readonly status: number;
}

/** Send a Binding Acknowledgement to the mobile node. */
export interface SendAckCommand {
  /** Discriminant. */
  readonly kind: "send-ack";
  /** The home address acknowledged. */
  readonly home: string;
  /** The status (see `BindingAckStatus`). */
  readonly status: number;
  /** The BU's Sequence Number, or the last accepted one with status 135. */
  readonly sequence: number;
  /** The granted lifetime, seconds (0 on deregistration and rejection). */
  readonly lifetime: number;
  /** One entry per Binding ID of the BU, in its order; empty without Binding IDs. */
  readonly bids: readonly BidStatus[];
}

/** From now on, forward packets for `home` to these care-of addresses (none: stop). */
export interface ForwardToCommand {
  /** Discriminant. */
  readonly kind: "forward-to";
  /** The home address. */
  readonly home: string;
  /** Every registered care-of address, by Binding ID (a binding without one first). */
  readonly coas: readonly string[];
}

/** Bindings of `home` ran out of lifetime and were removed. */
export interface ExpiredCommand {
  /** Discriminant. */
  readonly kind: "expired";
  /** The home address. */
  readonly home: string;
  /** The care-of addresses removed. */
  readonly coas: readonly string[];
}

/** A Binding Update was dropped without an answer (for the adapter's log). */
export interface DroppedCommand {
  /** Discriminant. */
  readonly kind: "dropped";
  /** The home address it claimed. */
  readonly home: string;
  /** Why. */
  readonly reason: "unauthentic";
}

/** What the binding cache emits. */
export type BindingCacheCommand =
  | SendAckCommand
  | ForwardToCommand
  | ExpiredCommand
  | DroppedCommand;

/** One registered binding. */
export interface BindingEntry {
  /** The care-of address. */
  readonly coa: string;
  /** The Binding ID, or undefined for a plain RFC 6275 binding. */
  readonly bid: number | undefined;
  /** When it expires, ms. */
  readonly expiresAt: number;
}

/** Everything known about one home address. */
export interface HomeEntry {
  /** The last accepted Sequence Number (kept after the bindings are gone). */
  readonly lastSequence: number;
  /** The bindings, by Binding ID (a binding without one is alone). */
  readonly bindings: readonly BindingEntry[];
}

/** Counters of the binding cache. */
export interface BindingCacheCounters {
  /** Binding Updates accepted (registrations and deregistrations). */
  readonly accepted: number;
  /** Binding Updates rejected, by status. */
  readonly rejected: Readonly<Record<number, number>>;
  /** Bindings removed by expiry. */
  readonly expired: number;
  /** Binding Updates dropped as not authentic. */
  readonly unauthentic: number;
}

/** The binding cache state. */
export interface BindingCacheState {
  /** Per home address. */
  readonly homes: ReadonlyMap<string, HomeEntry>;
  /** Counters. */
  readonly counters: BindingCacheCounters;
}

/** Configuration of the binding cache. */
export interface BindingCacheConfig {
  /**
   * `home-agent` (home registrations: a deregistration of an unknown home address is
   * refused with 133, RFC 6275 section 10.3.2) or `correspondent` (route
   * optimization: it is accepted, section 9.5.3).
   */
  readonly role: "home-agent" | "correspondent";
  /**
   * The longest lifetime granted, seconds. Defaults to MAX_RR_BINDING_LIFETIME (420 s,
   * RFC 6275 section 12) for a correspondent and 3600 s for a home agent.
   */
  readonly maxLifetime?: number;
  /** Whether Binding IDs are accepted at all (RFC 5648); default true, else 166. */
  readonly multipleCoa?: boolean;
  /** Whether one BU may carry several Binding IDs (bulk registration); default true, else 168. */
  readonly bulkRegistration?: boolean;
}

/** The default home agent maximum lifetime, seconds. */
export const DEFAULT_HOME_AGENT_MAX_LIFETIME = 3600;

/**
 * The empty binding cache.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(INITIAL_BINDING_CACHE_STATE.homes.size, 0);
 * assertEquals(INITIAL_BINDING_CACHE_STATE.counters.accepted, 0);
 * ```
 */
export const INITIAL_BINDING_CACHE_STATE: BindingCacheState = {
  homes: new Map(),
  counters: { accepted: 0, rejected: {}, expired: 0, unauthentic: 0 },
};

/**
 * Whether a Sequence Number is newer than the last accepted one, modulo 2^16 (RFC
 * 6275 section 9.5.1): it is not when it lies within the last number and the 32768
 * numbers before it.
 *
 * @param sequence the received Sequence Number, 0 to 65535
 * @param last the last accepted one, 0 to 65535
 * @returns true when `sequence` is newer
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(isNewerSequence(6, 5), true);
 * assertEquals(isNewerSequence(5, 5), false);
 * assertEquals(isNewerSequence(0, 65535), true); // wraps around
 * assertEquals(isNewerSequence(32773, 5), false); // 32768 before 5, modulo 2^16
 * ```
 */
export function isNewerSequence(sequence: number, last: number): boolean {
  const d = (sequence - last) & 0xffff;
  return d >= 1 && d <= 32767;
}

/**
 * The care-of addresses a packet for `home` is forwarded to: every registered binding
 * (all of them under simultaneous binding, RFC 6252 sections 7.2 and C.4), none when
 * the home address has no binding.
 *
 * @param state the binding cache
 * @param home the home address, canonical text
 * @param now when given, bindings expired by then are left out even before a `tick`
 * @returns the care-of addresses, by Binding ID
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = { role: "home-agent" as const };
 * const [s] = bindingCacheReducer(INITIAL_BINDING_CACHE_STATE, {
 *   kind: "bu-received", home: "2001:db8::100", sequence: 1, lifetime: 60, authentic: true, now: 0,
 *   coas: [{ coa: "2001:db8:1::1", bid: 1 }, { coa: "2001:db8:2::1", bid: 2 }],
 * }, config);
 * assertEquals(destinations(s, "2001:db8::100"), ["2001:db8:1::1", "2001:db8:2::1"]);
 * assertEquals(destinations(s, "2001:db8::100", 60_000), []);
 * ```
 */
export function destinations(state: BindingCacheState, home: string, now?: number): string[] {
  const entry = state.homes.get(home);
  if (entry === undefined) return [];
  const out: string[] = [];
  for (const b of entry.bindings) if (now === undefined || b.expiresAt > now) out.push(b.coa);
  return out;
}

/**
 * Advances the binding cache by one event.
 *
 * @param state the current state
 * @param event a received Binding Update or a tick
 * @param config the role and limits
 * @returns the next state and the commands, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = { role: "home-agent" as const, maxLifetime: 120 };
 * const bu = { kind: "bu-received" as const, home: "2001:db8::100", sequence: 7,
 *   coas: [{ coa: "2001:db8:c::1" }], lifetime: 600, authentic: true, now: 0 };
 * const [s, out] = bindingCacheReducer(INITIAL_BINDING_CACHE_STATE, bu, config);
 * assertEquals(out, [
 *   { kind: "send-ack", home: "2001:db8::100", status: 0, sequence: 7, lifetime: 120, bids: [] },
 *   { kind: "forward-to", home: "2001:db8::100", coas: ["2001:db8:c::1"] },
 * ]);
 * // The same BU again is a replay: status 135 with the last accepted number.
 * const [, again] = bindingCacheReducer(s, bu, config);
 * assertEquals(again, [
 *   { kind: "send-ack", home: "2001:db8::100", status: 135, sequence: 7, lifetime: 0, bids: [] },
 * ]);
 * ```
 */
export function bindingCacheReducer(
  state: BindingCacheState,
  event: BindingCacheEvent,
  config: BindingCacheConfig,
): readonly [BindingCacheState, readonly BindingCacheCommand[]] {
  return event.kind === "tick" ? _onTick(state, event.now) : _onUpdate(state, event, config);
}

const _NONE: readonly BindingCacheCommand[] = [];

function _maxLifetime(config: BindingCacheConfig): number {
  return config.maxLifetime ??
    (config.role === "correspondent" ? MAX_RR_BINDING_LIFETIME : DEFAULT_HOME_AGENT_MAX_LIFETIME);
}

function _withHome(
  state: BindingCacheState,
  home: string,
  entry: HomeEntry,
): ReadonlyMap<string, HomeEntry> {
  return new Map(state.homes).set(home, entry);
}

function _reject(
  state: BindingCacheState,
  bu: BindingUpdateReceived,
  status: number,
  sequence: number = bu.sequence,
): readonly [BindingCacheState, readonly BindingCacheCommand[]] {
  const rejected = {
    ...state.counters.rejected,
    [status]: (state.counters.rejected[status] ?? 0) + 1,
  };
  const next = { ...state, counters: { ...state.counters, rejected } };
  return [next, [{
    kind: "send-ack",
    home: bu.home,
    status,
    sequence,
    lifetime: 0,
    bids: _bidsOf(bu, status),
  }]];
}

function _bidsOf(bu: BindingUpdateReceived, status: number): BidStatus[] {
  const out: BidStatus[] = [];
  for (const c of bu.coas) if (c.bid !== undefined) out.push({ bid: c.bid, status });
  return out;
}

/** The RFC 5648 check of the care-of addresses: a rejection status, or undefined. */
function _checkCoas(
  bu: BindingUpdateReceived,
  entry: HomeEntry | undefined,
  config: BindingCacheConfig,
): number | undefined {
  if (bu.coas.length === 0) return BindingAckStatus.ReasonUnspecified;
  const withBid = bu.coas.filter((c) => c.bid !== undefined);
  if (withBid.length === 0) {
    return bu.coas.length === 1 ? undefined : BindingAckStatus.McoaMalformed;
  }
  if (withBid.length !== bu.coas.length) return BindingAckStatus.McoaMalformed;
  const seen = new Set<number>();
  for (const c of withBid) {
    const bid = c.bid!;
    if (!Number.isInteger(bid) || bid < 1 || bid > 0xffff || seen.has(bid)) {
      return BindingAckStatus.McoaMalformed;
    }
    seen.add(bid);
  }
  if (config.multipleCoa === false) return BindingAckStatus.McoaProhibited;
  if (withBid.length > 1 && config.bulkRegistration === false) {
    return BindingAckStatus.McoaBulkRegistrationProhibited;
  }
  if (bu.overwrite !== true && entry?.bindings.some((b) => b.bid === undefined)) {
    return BindingAckStatus.McoaNonMcoaBindingExists;
  }
  return undefined;
}

function _byBid(a: BindingEntry, b: BindingEntry): number {
  return (a.bid ?? -1) - (b.bid ?? -1);
}

function _sameCoas(a: readonly BindingEntry[], b: readonly BindingEntry[]): boolean {
  return a.length === b.length && a.every((x, i) => x.coa === b[i]!.coa);
}

function _onUpdate(
  state: BindingCacheState,
  bu: BindingUpdateReceived,
  config: BindingCacheConfig,
): readonly [BindingCacheState, readonly BindingCacheCommand[]] {
  if (!bu.authentic) {
    const counters = { ...state.counters, unauthentic: state.counters.unauthentic + 1 };
    return [{ ...state, counters }, [{ kind: "dropped", home: bu.home, reason: "unauthentic" }]];
  }
  const sequence = bu.sequence & 0xffff;
  const entry = state.homes.get(bu.home);
  if (entry !== undefined && !isNewerSequence(sequence, entry.lastSequence)) {
    return _reject(state, bu, BindingAckStatus.SequenceNumberOutOfWindow, entry.lastSequence);
  }
  const coaError = _checkCoas(bu, entry, config);
  if (coaError !== undefined) return _reject(state, bu, coaError);

  const before = entry?.bindings ?? [];
  const plain = bu.coas[0]!.bid === undefined;
  let after: BindingEntry[];
  let granted: number;
  if (plain) {
    const dereg = bu.lifetime <= 0 || bu.coas[0]!.coa === bu.home;
    if (dereg) {
      if (before.length === 0 && config.role === "home-agent") {
        return _reject(state, bu, BindingAckStatus.NotHomeAgentForThisMobileNode);
      }
      after = [];
      granted = 0;
    } else {
      granted = Math.min(bu.lifetime, _maxLifetime(config));
      after = [{ coa: bu.coas[0]!.coa, bid: undefined, expiresAt: bu.now + granted * 1000 }];
    }
  } else if (bu.lifetime <= 0) {
    const removing = new Set(bu.coas.map((c) => c.bid!));
    for (const bid of removing) {
      if (!before.some((b) => b.bid === bid)) {
        return _reject(state, bu, BindingAckStatus.NotHomeAgentForThisMobileNode);
      }
    }
    after = bu.overwrite === true ? [] : before.filter((b) => !removing.has(b.bid!));
    granted = 0;
  } else {
    granted = Math.min(bu.lifetime, _maxLifetime(config));
    const updated = new Map<number, BindingEntry | undefined>();
    for (const c of bu.coas) {
      // A care-of address equal to the home address returns that interface home.
      updated.set(
        c.bid!,
        c.coa === bu.home
          ? undefined
          : { coa: c.coa, bid: c.bid, expiresAt: bu.now + granted * 1000 },
      );
    }
    const kept = bu.overwrite === true
      ? []
      : before.filter((b) => b.bid !== undefined && !updated.has(b.bid));
    after = [...kept, ...[...updated.values()].filter((b) => b !== undefined)];
    after.sort(_byBid);
  }

  const counters = { ...state.counters, accepted: state.counters.accepted + 1 };
  const next: BindingCacheState = {
    homes: _withHome(state, bu.home, { lastSequence: sequence, bindings: after }),
    counters,
  };
  const out: BindingCacheCommand[] = [];
  if (bu.ackRequested !== false) {
    out.push({
      kind: "send-ack",
      home: bu.home,
      status: BindingAckStatus.Accepted,
      sequence,
      lifetime: granted,
      bids: _bidsOf(bu, BindingAckStatus.Accepted),
    });
  }
  if (!_sameCoas(before, after)) {
    out.push({ kind: "forward-to", home: bu.home, coas: after.map((b) => b.coa) });
  }
  return [next, out];
}

function _onTick(
  state: BindingCacheState,
  now: number,
): readonly [BindingCacheState, readonly BindingCacheCommand[]] {
  let homes: Map<string, HomeEntry> | undefined;
  let expired = 0;
  const out: BindingCacheCommand[] = [];
  for (const [home, entry] of state.homes) {
    const gone = entry.bindings.filter((b) => b.expiresAt <= now);
    if (gone.length === 0) continue;
    const left = entry.bindings.filter((b) => b.expiresAt > now);
    homes ??= new Map(state.homes);
    homes.set(home, { ...entry, bindings: left });
    expired += gone.length;
    out.push({ kind: "expired", home, coas: gone.map((b) => b.coa) });
    out.push({ kind: "forward-to", home, coas: left.map((b) => b.coa) });
  }
  if (homes === undefined) return [state, _NONE];
  return [
    { homes, counters: { ...state.counters, expired: state.counters.expired + expired } },
    out,
  ];
}
