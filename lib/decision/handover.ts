/**
 * The handover reducer: a pure `(state, event) => [state, outputs]` that turns the
 * operators' events (candidate near / approaching / better than the serving PoA,
 * lead time, samples of the serving PoA and of candidates) into the MPA decisions of
 * RFC 6252 section 6.3: `prepare` (step 1, top-k CTNs in parallel, section 7.2),
 * `preconfigure` (step 2, the likeliest CTN), `commit` (step 3, the proactive binding
 * update), `switch` (step 5), `release` and `abort`. Which phases a CTN gets is the
 * planner's call (section C.6). The `recovery` stage downstream turns some of these
 * into `restore` and adds `bicast` (section C.1).
 *
 * @module
 */
import type { LinkSample } from "../metrics/link_sample.ts";
import type { CtnProfile } from "../metrics/cell.ts";
import type { Qualification } from "../operators/hysteresis.ts";
import type { LeadEstimate } from "../operators/lead_time.ts";
import type { Budget, Decision, Phase, ReleaseDecision } from "./decision.ts";
import { describeBudget, isUrgent, planBudget } from "./planner.ts";

/** What the handover reducer consumes. */
export type HandoverEvent =
  /**
   * A filtered sample: of the serving PoA, of a candidate (to keep its level
   * current), of any PoA in the first instant, or of any PoA while the serving one
   * is silent. `previousT` is the time of the previous sample in the stream.
   */
  | { readonly kind: "sample"; readonly sample: LinkSample; readonly previousT: number }
  /** A candidate entered / left the "near" condition (within the prepare margin), no dwell. */
  | { readonly kind: "near"; readonly q: Qualification }
  /** The near condition held for the prepare dwell (or stayed off for the release dwell). */
  | { readonly kind: "approach"; readonly t: number; readonly q: Qualification }
  /** A candidate entered / left the A3 condition (better by the margin), no dwell. */
  | { readonly kind: "a3"; readonly q: Qualification }
  /** The A3 condition held for the time-to-trigger (or ended after having held). */
  | { readonly kind: "trigger"; readonly t: number; readonly q: Qualification }
  /** A new lead-time estimate for the serving link. */
  | { readonly kind: "lead"; readonly estimate: LeadEstimate }
  /** A penalty from the recovery stage: `db` off `poa` until `until` (Infinity = barred). */
  | {
    readonly kind: "penalty";
    readonly t: number;
    readonly poa: string;
    readonly db: number;
    readonly until: number;
  };

/** The first attachment, found at the end of the first measurement instant. */
export interface AttachOutput {
  /** Discriminant. */
  readonly kind: "attach";
  /** Time of the first instant, ms. */
  readonly t: number;
  /** The PoA attached to. */
  readonly poa: string;
  /** Its network. */
  readonly network: string;
}

/** What the handover reducer emits: decisions, plus the internal first attachment. */
export type HandoverOutput = Decision | AttachOutput;

/** A PoA with its network and last known (filtered) SNR. */
export interface Candidate {
  /** The PoA. */
  readonly poa: string;
  /** Its network. */
  readonly network: string;
  /** Its latest filtered SNR, dB. */
  readonly snr: number;
}

/** The handover reducer's configuration (resolved options of `decide`). */
export interface HandoverConfig {
  /** How many CTNs may be pre-authenticated at once (section 7.2). */
  readonly topK: number;
  /** How many CTNs may be pre-configured (address + tunnel) at once (section C.4). */
  readonly maxPreconfigured: number;
  /** Serving SNR under which the link counts as lost, dB. */
  readonly outageSnr: number;
  /** Lead time under safety × full budget makes preparation urgent. */
  readonly safety: number;
  /** How long released contexts are retained, ms (0 = drop at once). */
  readonly retainMs: number;
  /** Per-CTN timings for the planner. */
  readonly profiles: ReadonlyMap<string, CtnProfile>;
  /** A serving PoA not heard for longer than this is lost, ms. */
  readonly maxAgeMs: number;
}

/** A penalty on a PoA (from the recovery stage). */
export interface Penalty {
  /** dB subtracted from the PoA's level; Infinity = barred. */
  readonly db: number;
  /** When it ends, ms. */
  readonly until: number;
}

/** The handover reducer's state. */
export interface HandoverState {
  /** Time of the first sample. */
  readonly firstT: number | undefined;
  /** Whether the first attachment has been reported. */
  readonly attached: boolean;
  /** The serving PoA. */
  readonly serving: Candidate | undefined;
  /** When the serving PoA was last heard (or switched to), ms. */
  readonly servingT: number;
  /** Latest lead-time estimate of the serving link, s. */
  readonly leadSeconds: number;
  /** Candidates within the prepare margin, by PoA (no dwell). */
  readonly near: ReadonlyMap<string, Candidate>;
  /** Candidates within the prepare margin for the prepare dwell, by PoA. */
  readonly approach: ReadonlyMap<string, Candidate>;
  /** Candidates better than serving by the A3 margin (penalties included), by PoA. */
  readonly a3: ReadonlyMap<string, Candidate>;
  /** CTNs asked to pre-authenticate, by network, with their budget when asked. */
  readonly prepared: ReadonlyMap<string, Budget>;
  /** CTNs asked to pre-configure, in order. */
  readonly preconfigured: readonly string[];
  /** The CTN whose binding update was sent, and the PoA expected. */
  readonly committed: Candidate | undefined;
  /** Penalties in force, by PoA. */
  readonly penalties: ReadonlyMap<string, Penalty>;
}

/**
 * The state before any sample: not attached, no serving PoA, no candidates, nothing
 * prepared, an unbounded lead time.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { handoverReducer, INITIAL_HANDOVER_STATE } from "./handover.ts";
 * assertEquals(INITIAL_HANDOVER_STATE.serving, undefined);
 * assertEquals(INITIAL_HANDOVER_STATE.leadSeconds, Infinity);
 * assertEquals(INITIAL_HANDOVER_STATE.prepared.size, 0);
 * // The first sample's PoA becomes the provisional serving one; `attach` is
 * // reported only when the first measurement instant ends.
 * const config = { topK: 2, maxPreconfigured: 1, outageSnr: 5, safety: 2, retainMs: 30000, profiles: new Map(), maxAgeMs: 1000 };
 * const sample = { t: 0, poa: "a1", network: "A", snr: 20 };
 * const [s, out] = handoverReducer(INITIAL_HANDOVER_STATE, { kind: "sample", sample, previousT: -Infinity }, config);
 * assertEquals(out, []);
 * assertEquals([s.firstT, s.serving?.poa], [0, "a1"]);
 * ```
 */
export const INITIAL_HANDOVER_STATE: HandoverState = {
  firstT: undefined,
  attached: false,
  serving: undefined,
  servingT: -Infinity,
  leadSeconds: Infinity,
  near: new Map(),
  approach: new Map(),
  a3: new Map(),
  prepared: new Map(),
  preconfigured: [],
  committed: undefined,
  penalties: new Map(),
};

const _NONE: readonly HandoverOutput[] = [];
const _ALL_PHASES: readonly Phase[] = ["preauth", "preconfigure", "bind"];
const _PRECONFIGURE: readonly Phase[] = ["preconfigure"];

/**
 * Advances the handover state by one event.
 *
 * @param state the current state
 * @param event the event
 * @param config the configuration
 * @returns the next state and the outputs, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = { topK: 2, maxPreconfigured: 1, outageSnr: 5, safety: 2, retainMs: 30000, profiles: new Map(), maxAgeMs: 1000 };
 * const sample = { t: 0, poa: "a1", network: "A", snr: 20 };
 * const [s] = handoverReducer(INITIAL_HANDOVER_STATE, { kind: "sample", sample, previousT: -Infinity }, config);
 * const q = { t: 100, poa: "b1", network: "B", qualified: true, snr: 14, servingSnr: 20, serving: "a1" };
 * const [, out] = handoverReducer(s, { kind: "approach", t: 356, q }, config);
 * assertEquals(out.map((d) => d.kind), ["prepare", "preconfigure"]);
 * ```
 */
export function handoverReducer(
  state: HandoverState,
  event: HandoverEvent,
  config: HandoverConfig,
): readonly [HandoverState, readonly HandoverOutput[]] {
  switch (event.kind) {
    case "sample":
      return _onSample(state, event.sample, event.previousT, config);
    case "penalty": {
      const penalties = new Map<string, Penalty>();
      for (const [poa, p] of state.penalties) if (p.until > event.t) penalties.set(poa, p);
      penalties.set(event.poa, { db: event.db, until: event.until });
      return [{ ...state, penalties }, _NONE];
    }
    case "lead": {
      if (state.serving === undefined || event.estimate.poa !== state.serving.poa) {
        return [state, _NONE];
      }
      const next = { ...state, leadSeconds: event.estimate.seconds };
      return _reconsider(next, event.estimate.t, config, "lead");
    }
    case "near": {
      if (!_current(state, event.q)) return [state, _NONE];
      const next = { ...state, near: _withCandidate(state.near, event.q) };
      if (!event.q.qualified && next.committed?.poa === event.q.poa) {
        return _abort(
          next,
          event.q.t,
          `${event.q.poa} fell out of reach (${_db(event.q.snr)} dB against serving ${
            _db(event.q.servingSnr)
          } dB) before the switch`,
        );
      }
      return _reconsider(next, event.q.t, config, "near");
    }
    case "approach": {
      if (!_current(state, event.q)) return [state, _NONE];
      const next = { ...state, approach: _withCandidate(state.approach, event.q) };
      if (!event.q.qualified) return _onApproachEnded(next, event.t, event.q, config);
      return _reconsider(next, event.t, config, "approach");
    }
    case "a3": {
      if (!_current(state, event.q)) return [state, _NONE];
      const next = { ...state, a3: _withCandidate(state.a3, event.q) };
      if (!event.q.qualified) {
        if (next.committed?.poa !== event.q.poa) return [next, _NONE];
        return _abort(
          next,
          event.q.t,
          `${event.q.poa} fell back to ${_db(event.q.snr)} dB against serving ${
            _db(event.q.servingSnr)
          } dB before the switch`,
        );
      }
      return _reconsider(next, event.q.t, config, "a3");
    }
    case "trigger": {
      if (!event.q.qualified || !_current(state, event.q)) return [state, _NONE];
      const cand = state.a3.get(event.q.poa) ??
        { poa: event.q.poa, network: event.q.network, snr: event.q.snr };
      return _switch(
        state,
        event.t,
        cand,
        config,
        `${cand.poa} beat serving ${event.q.serving} by the A3 margin for the time-to-trigger (${
          _db(cand.snr)
        } vs ${_db(state.serving?.snr ?? event.q.servingSnr)} dB)`,
      );
    }
  }
}

function _current(state: HandoverState, q: Qualification): boolean {
  return state.serving !== undefined && q.serving === state.serving.poa &&
    q.poa !== state.serving.poa;
}

function _withCandidate(
  map: ReadonlyMap<string, Candidate>,
  q: Qualification,
): ReadonlyMap<string, Candidate> {
  const next = new Map(map);
  if (q.qualified) next.set(q.poa, { poa: q.poa, network: q.network, snr: q.snr });
  else next.delete(q.poa);
  return next;
}

/** `map` with the level of `s.poa` updated, or `map` itself when it does not hold it. */
function _withLevel(
  map: ReadonlyMap<string, Candidate>,
  s: LinkSample,
): ReadonlyMap<string, Candidate> {
  const c = map.get(s.poa);
  if (c === undefined || c.snr === s.snr) return map;
  return new Map(map).set(s.poa, { poa: c.poa, network: c.network, snr: s.snr });
}

function _barred(state: HandoverState, poa: string, t: number): boolean {
  const p = state.penalties.get(poa);
  return p !== undefined && p.db === Infinity && p.until > t;
}

function _onSample(
  state: HandoverState,
  s: LinkSample,
  previousT: number,
  config: HandoverConfig,
): readonly [HandoverState, readonly HandoverOutput[]] {
  const serving = state.serving;
  if (serving === undefined) {
    return [{ ...state, firstT: s.t, serving: _cand(s), servingT: s.t }, _NONE];
  }
  let next = state;
  let out: readonly HandoverOutput[] = _NONE;
  if (!state.attached) {
    if (s.t === state.firstT) {
      return s.snr > serving.snr && s.poa !== serving.poa
        ? [{ ...state, serving: _cand(s), servingT: s.t }, _NONE]
        : [state, _NONE];
    }
    next = { ...state, attached: true };
    out = [{ kind: "attach", t: state.firstT ?? s.t, poa: serving.poa, network: serving.network }];
  }
  if (s.poa !== serving.poa) {
    next = {
      ...next,
      near: _withLevel(next.near, s),
      approach: _withLevel(next.approach, s),
      a3: _withLevel(next.a3, s),
    };
    // Judge silence only at the first sample of an instant, over the whole previous
    // instant, so that a serving sample later in this instant is not missed.
    const silent = previousT - next.servingT;
    if (!(s.t > previousT && silent > config.maxAgeMs)) return [next, out];
    // The serving PoA vanished: take the best PoA heard rather than wait, a barred
    // one only when nothing else is heard.
    let best: Candidate | undefined;
    let fallback = _cand(s);
    const consider = (c: Candidate) => {
      if (_barred(next, c.poa, s.t)) {
        if (c.snr > fallback.snr) fallback = c;
      } else if (best === undefined || c.snr > best.snr) best = c;
    };
    consider(_cand(s));
    for (const c of next.near.values()) consider(c);
    for (const c of next.a3.values()) consider(c);
    const chosen: Candidate = best ?? fallback;
    const [after, switched] = _switch(
      next,
      s.t,
      chosen,
      config,
      `serving ${serving.poa} not heard for ${silent} ms; ${chosen.poa} is the best PoA heard (${
        _db(chosen.snr)
      } dB)${best === undefined ? ", though held down: nothing else is heard" : ""}`,
    );
    return [after, [...out, ...switched]];
  }
  next = { ...next, serving: { ...serving, snr: s.snr }, servingT: s.t };
  if (s.snr >= config.outageSnr) return [next, out];
  // Serving link lost: do not wait for the time-to-trigger if a candidate already
  // beats the serving PoA by the A3 margin (penalties included, so a PoA held down
  // after a ping-pong does not qualify).
  let best: Candidate | undefined;
  for (const c of next.a3.values()) if (best === undefined || c.snr > best.snr) best = c;
  if (best === undefined) return [next, out];
  const [after, switched] = _switch(
    next,
    s.t,
    best,
    config,
    `serving ${serving.poa} at ${_db(s.snr)} dB is below the outage threshold ${
      _db(config.outageSnr)
    } dB and ${best.poa} (${_db(best.snr)} dB) beats it by the A3 margin: no time-to-trigger`,
  );
  return [after, [...out, ...switched]];
}

function _cand(s: LinkSample): Candidate {
  return { poa: s.poa, network: s.network, snr: s.snr };
}

/** The best candidate of each network in `map`, ranked by SNR (ties by network id). */
function _ranked(map: ReadonlyMap<string, Candidate>, exclude: string): Candidate[] {
  const best = new Map<string, Candidate>();
  for (const c of map.values()) {
    if (c.network === exclude) continue;
    const b = best.get(c.network);
    if (b === undefined || c.snr > b.snr) best.set(c.network, c);
  }
  return [...best.values()].sort((a, b) =>
    b.snr - a.snr || (a.network < b.network ? -1 : a.network > b.network ? 1 : 0)
  );
}

/** The best level heard of a network's candidates (near set), or -Infinity. */
function _levelOf(state: HandoverState, network: string): number {
  let best = -Infinity;
  for (const c of state.near.values()) if (c.network === network && c.snr > best) best = c.snr;
  for (const c of state.approach.values()) {
    if (c.network === network && c.snr > best) best = c.snr;
  }
  return best;
}

function _budget(state: HandoverState, network: string, config: HandoverConfig): Budget {
  return planBudget(config.profiles.get(network), state.leadSeconds);
}

/** The phases a CTN holds in `state`. */
function _held(state: HandoverState, network: string): readonly Phase[] {
  if (!state.prepared.has(network)) return [];
  const phases: Phase[] = ["preauth"];
  if (state.preconfigured.includes(network)) phases.push("preconfigure");
  if (state.committed?.network === network) phases.push("bind");
  return phases;
}

/**
 * Re-evaluates what to prepare, pre-configure and commit after a change of the
 * candidate sets or of the lead time.
 */
function _reconsider(
  state: HandoverState,
  t: number,
  config: HandoverConfig,
  cause: "lead" | "near" | "approach" | "a3",
): readonly [HandoverState, readonly HandoverOutput[]] {
  const serving = state.serving;
  if (serving === undefined) return [state, _NONE];
  const out: HandoverOutput[] = [];
  // 1. Pre-authentication (step 1): the top-k networks that approached for the
  //    dwell, or that are merely near when the lead time leaves no room for a dwell,
  //    and for which at least pre-authentication fits in the lead time (C.6).
  const pool = new Map<string, Candidate>();
  for (const [poa, c] of state.approach) {
    if (_budget(state, c.network, config).phases.length > 0) pool.set(poa, c);
  }
  for (const [poa, c] of state.near) {
    if (pool.has(poa)) continue;
    const b = _budget(state, c.network, config);
    if (b.phases.length > 0 && isUrgent(b, config.safety)) pool.set(poa, c);
  }
  const ranked = _ranked(pool, serving.network);
  const wanted = ranked.slice(0, config.topK);
  let prepared = state.prepared;
  let preconfigured = state.preconfigured;
  const added: Candidate[] = [];
  for (const c of wanted) if (!prepared.has(c.network)) added.push(c);
  if (added.length > 0) {
    const next = new Map(prepared);
    // Make room: evict prepared CTNs that are no longer wanted, weakest first.
    const wantedNets = new Set(wanted.map((c) => c.network));
    const evictable = [...next.keys()]
      .filter((n) => !wantedNets.has(n) && state.committed?.network !== n)
      .sort((a, b) => _levelOf(state, b) - _levelOf(state, a));
    while (next.size + added.length > config.topK && evictable.length > 0) {
      const n = evictable.pop()!;
      const held = _held(state, n);
      next.delete(n);
      preconfigured = preconfigured.filter((p) => p !== n);
      out.push(
        _release(t, n, serving.poa, held, config, `${n} dropped out of the top ${config.topK}`),
      );
    }
    const fit = added.slice(0, Math.max(0, config.topK - next.size));
    if (fit.length > 0) {
      const budgets: Record<string, Budget> = {};
      for (const c of fit) {
        const b = _budget(state, c.network, config);
        budgets[c.network] = b;
        next.set(c.network, b);
      }
      const first = fit[0]!;
      const why = cause === "approach"
        ? `within the prepare margin of serving ${serving.poa} (${
          _db(serving.snr)
        } dB) for the dwell`
        : `near serving ${serving.poa} (${
          _db(serving.snr)
        } dB) and the lead time leaves no room for a dwell`;
      out.push({
        kind: "prepare",
        t,
        ctns: fit.map((c) => c.network),
        poa: serving.poa,
        budgets,
        reason: `${
          fit.map((c) => `${c.network} via ${c.poa} (${_db(c.snr)} dB)`).join(", ")
        } ${why}; ${describeBudget(budgets[first.network]!)}`,
      });
    }
    prepared = next;
  }
  // 2. Pre-configuration (step 2): the likeliest prepared CTNs whose budget allows it.
  for (const c of ranked) {
    if (!prepared.has(c.network) || preconfigured.includes(c.network)) continue;
    const b = _budget(state, c.network, config);
    if (!b.phases.includes("preconfigure")) continue;
    if (preconfigured.length >= config.maxPreconfigured) {
      // Only a better-ranked CTN displaces a pre-configured one; the displaced CTN
      // keeps its pre-authentication and gives up its address and tunnel.
      const rankOf = (n: string) => ranked.findIndex((r) => r.network === n);
      const worst = preconfigured.filter((n) => state.committed?.network !== n)
        .sort((a, b2) => _rankKey(rankOf(b2)) - _rankKey(rankOf(a)))[0];
      if (worst === undefined || _rankKey(rankOf(worst)) <= _rankKey(rankOf(c.network))) break;
      preconfigured = preconfigured.filter((n) => n !== worst);
      out.push(
        _release(
          t,
          worst,
          serving.poa,
          _PRECONFIGURE,
          config,
          `${c.network} is now likelier than ${worst}: its pre-configuration slot moves`,
        ),
      );
    }
    preconfigured = [...preconfigured, c.network];
    out.push({
      kind: "preconfigure",
      t,
      ctn: c.network,
      poa: c.poa,
      budget: b,
      reason: `${c.network} is the likeliest target (${c.poa} at ${_db(c.snr)} dB); ${
        describeBudget(b)
      }`,
    });
  }
  let next: HandoverState = { ...state, prepared, preconfigured };
  // 3. Proactive binding update (step 3): a pre-configured CTN whose PoA beats the
  //    serving one by the A3 margin, or is near when time runs out.
  if (next.committed === undefined) {
    const commit = _commitCandidate(next, config);
    if (commit !== undefined) {
      const [c, b, urgent] = commit;
      next = { ...next, committed: c };
      out.push({
        kind: "commit",
        t,
        ctn: c.network,
        poa: c.poa,
        budget: b,
        reason: urgent
          ? `lead time short and ${c.poa} is near (${_db(c.snr)} dB): bind before the edge; ${
            describeBudget(b)
          }`
          : `${c.poa} beats serving ${serving.poa} by the A3 margin (${_db(c.snr)} vs ${
            _db(serving.snr)
          } dB); ${describeBudget(b)}`,
      });
    }
  }
  return [next, out.length === 0 ? _NONE : out];
}

function _rankKey(index: number): number {
  return index < 0 ? Number.MAX_SAFE_INTEGER : index;
}

function _commitCandidate(
  state: HandoverState,
  config: HandoverConfig,
): readonly [Candidate, Budget, boolean] | undefined {
  let chosen: readonly [Candidate, Budget, boolean] | undefined;
  const consider = (c: Candidate, urgentOnly: boolean) => {
    if (!state.preconfigured.includes(c.network)) return;
    const b = _budget(state, c.network, config);
    if (!b.phases.includes("bind")) return;
    const urgent = isUrgent(b, config.safety);
    if (urgentOnly && !urgent) return;
    if (chosen === undefined || c.snr > chosen[0].snr) chosen = [c, b, urgentOnly];
  };
  for (const c of state.a3.values()) consider(c, false);
  if (chosen === undefined) { for (const c of state.near.values()) consider(c, true); }
  return chosen;
}

function _abort(
  state: HandoverState,
  t: number,
  reason: string,
): readonly [HandoverState, readonly HandoverOutput[]] {
  const c = state.committed!;
  return [{ ...state, committed: undefined }, [{
    kind: "abort",
    t,
    ctn: c.network,
    poa: c.poa,
    reason: `${reason}: binding rolled back`,
  }]];
}

function _onApproachEnded(
  state: HandoverState,
  t: number,
  q: Qualification,
  config: HandoverConfig,
): readonly [HandoverState, readonly HandoverOutput[]] {
  const network = q.network;
  if (!state.prepared.has(network) || state.committed?.network === network) return [state, _NONE];
  for (const c of state.approach.values()) if (c.network === network) return [state, _NONE];
  const held = _held(state, network);
  const prepared = new Map(state.prepared);
  prepared.delete(network);
  const preconfigured = state.preconfigured.filter((n) => n !== network);
  return [{ ...state, prepared, preconfigured }, [
    _release(
      t,
      network,
      q.serving,
      held,
      config,
      `${network} stayed out of the prepare margin for the release dwell (${q.poa} at ${
        _db(q.snr)
      } dB)`,
    ),
  ]];
}

function _release(
  t: number,
  ctn: string,
  poa: string,
  phases: readonly Phase[],
  config: HandoverConfig,
  reason: string,
): ReleaseDecision {
  return { kind: "release", t, ctn, poa, phases, retainMs: config.retainMs, reason };
}

function _switch(
  state: HandoverState,
  t: number,
  cand: Candidate,
  config: HandoverConfig,
  reason: string,
): readonly [HandoverState, readonly HandoverOutput[]] {
  const serving = state.serving!;
  const inter = cand.network !== serving.network;
  const phases = inter ? _held(state, cand.network) : [];
  const reactive = inter && phases.length === 0;
  const out: HandoverOutput[] = [];
  if (state.committed !== undefined && state.committed.network !== cand.network) {
    out.push({
      kind: "abort",
      t,
      ctn: state.committed.network,
      poa: state.committed.poa,
      reason: `switching to ${cand.poa} of ${cand.network} instead: binding rolled back`,
    });
  }
  out.push({
    kind: "switch",
    t,
    ctn: cand.network,
    poa: cand.poa,
    from: serving.poa,
    fromNetwork: serving.network,
    prepared: phases,
    reactive,
    reason: `${reason}; ${
      !inter
        ? "same network: link-layer handover only"
        : reactive
        ? "nothing prepared: reactive handover"
        : `prepared: ${phases.join("+")}`
    }`,
  });
  for (const n of state.prepared.keys()) {
    if (n !== cand.network) {
      const held = _held(state, n).filter((p) => p !== "bind");
      out.push(
        _release(
          t,
          n,
          cand.poa,
          held,
          config,
          `prepared but not used: switched to ${cand.network}`,
        ),
      );
    }
  }
  if (inter) {
    out.push(
      _release(t, serving.network, cand.poa, _ALL_PHASES, config, `left for ${cand.network}`),
    );
  }
  return [{
    ...state,
    serving: cand,
    servingT: t,
    attached: true,
    leadSeconds: Infinity,
    near: new Map(),
    approach: new Map(),
    a3: new Map(),
    prepared: new Map(),
    preconfigured: [],
    committed: undefined,
  }, out];
}

function _db(x: number): string {
  return x.toFixed(1);
}
