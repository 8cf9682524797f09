/**
 * The MPA orchestrator: a pure reducer over the sessions of every CTN that joins
 * the handover decisions (`prepare`, `preconfigure`, `commit`, `switch`, `release`,
 * `abort`, `restore`, `bicast`) to the per-CTN {@link sessionReducer} and to the
 * ports. It pre-authenticates with several CTNs in parallel (RFC 6252 section 7.2),
 * keeps within resource limits on pre-authenticated, configured and bound CTNs
 * (section C.4: further CTNs are queued, and the log says why), binds all tunnelled
 * nCoAs at once when the mobility protocol takes several care-of addresses (section
 * 7.2, RFC 5648) and only the likeliest otherwise, falls back to a reactive
 * handover when the target was not prepared (section C.6), and on a failed switch
 * restores the retained context of the network it came from (section C.1) so that
 * the MN is not left without connectivity. Lifetimes (section 7.2) come in as
 * timer events computed by {@link nextMpaTimer}.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { Decision } from "../decision/decision.ts";
import {
  attachedSession,
  createSession,
  holdsConfiguration,
  holdsPreauth,
  type MpaCommand,
  type MpaNotice,
  type Session,
  type SessionContext,
  type SessionEvent,
  sessionReducer,
  type SessionSignal,
  type SessionTimer,
} from "./session.ts";

/** Resource limits of RFC 6252 section C.4. */
export interface MpaLimits {
  /** How many CTNs may hold (or be obtaining) an MPA-SA at once. */
  readonly maxPreauthenticated: number;
  /** How many CTNs may hold (or be obtaining) an nCoA or tunnel at once. */
  readonly maxConfigured: number;
  /** How many nCoAs one proactive binding update may bind (multiple-CoA protocols). */
  readonly maxBound: number;
}

/** The orchestrator's settings. */
export interface MpaConfig {
  /** Resource limits (section C.4). */
  readonly limits: MpaLimits;
  /** Attempts per operation before a timeout or unreachable peer is final (1 = no retry). */
  readonly maxAttempts: number;
  /** Whether the mobility protocol binds several CoAs at once (section 7.2, RFC 5648). */
  readonly multipleCoAs: boolean;
  /** Whether the tunnel manager can ask the AR to buffer and flush (section 7.6.1). */
  readonly buffering: boolean;
  /** Retention of the network left when no release decision names it, ms (section C.1). */
  readonly retainMs: number;
  /**
   * Whether tunnels expire at their handle's `expiresAt` (false when the tunnel
   * adapter refreshes them itself, as the PHT manager does).
   */
  readonly tunnelExpiry: boolean;
}

/** Options of {@link mpaConfig}; every one has a default. */
export interface MpaConfigOptions {
  /** Limits; default 4 pre-authenticated, 2 configured, 2 bound. */
  readonly limits?: Partial<MpaLimits>;
  /** Retries after the first attempt; default 1. */
  readonly retries?: number;
  /** Default false. */
  readonly multipleCoAs?: boolean;
  /** Default false. */
  readonly buffering?: boolean;
  /** Default 30000. */
  readonly retainMs?: number;
  /** Default false. */
  readonly tunnelExpiry?: boolean;
}

/**
 * Validates the orchestrator's options and fills in the defaults.
 *
 * @param options the options
 * @returns the configuration
 * @throws {ConfigError} naming a limit below 1 or a negative retry count
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(mpaConfig().limits.maxPreauthenticated, 4);
 * assertEquals(mpaConfig({ retries: 2 }).maxAttempts, 3);
 * assertThrows(() => mpaConfig({ limits: { maxBound: 0 } }));
 * ```
 */
export function mpaConfig(options: MpaConfigOptions = {}): MpaConfig {
  const limit = (name: keyof MpaLimits, fallback: number): number => {
    const v = options.limits?.[name] ?? fallback;
    if (!Number.isInteger(v) || v < 1) {
      throw new ConfigError(
        `limits.${name}`,
        `Invalid limits.${name}: expected an integer >= 1, got ${v}`,
      );
    }
    return v;
  };
  const retries = options.retries ?? 1;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new ConfigError("retries", `Invalid retries: expected an integer >= 0, got ${retries}`);
  }
  const retainMs = options.retainMs ?? 30_000;
  if (!(retainMs >= 0)) {
    throw new ConfigError("retainMs", `Invalid retainMs: expected a number >= 0, got ${retainMs}`);
  }
  return {
    limits: {
      maxPreauthenticated: limit("maxPreauthenticated", 4),
      maxConfigured: limit("maxConfigured", 2),
      maxBound: limit("maxBound", 2),
    },
    maxAttempts: retries + 1,
    multipleCoAs: options.multipleCoAs ?? false,
    buffering: options.buffering ?? false,
    retainMs,
    tunnelExpiry: options.tunnelExpiry ?? false,
  };
}

/** The network the MN is attached to when the agent starts. */
export interface ServingNetwork {
  /** Network id. */
  readonly network: string;
  /** The PoA attached to. */
  readonly poa: string;
  /** The MN's CoA there. */
  readonly coa: string;
  /** Its prefix length. */
  readonly prefixLength: number;
  /** The default router there, when known (the route of a switch back, C.1). */
  readonly router?: string;
}

/** A switch in progress. */
export interface SwitchInProgress {
  /** The target network. */
  readonly to: string;
  /** Where the switch started. */
  readonly from: { readonly poa: string; readonly network: string };
  /** When it started, ms. */
  readonly at: number;
}

/** The orchestrator's state: every session and what ties them together. */
export interface MpaState {
  /** Sessions by network id, the serving network's included. */
  readonly sessions: ReadonlyMap<string, Session>;
  /** The network and PoA the MN is attached to. */
  readonly serving: { readonly network: string; readonly poa: string };
  /** The switch in progress, if any. */
  readonly switching: SwitchInProgress | undefined;
  /** The CTN whose proactive binding update was asked for. */
  readonly committed: string | undefined;
  /** The CoAs the correspondent sends to, as of the latest binding update. */
  readonly bound: readonly string[];
  /** When a bicast ends, ms (section C.1). */
  readonly bicastUntil: number | undefined;
  /** Set once shut down: decisions are ignored from then on. */
  readonly shutDown: boolean;
}

/** What the orchestrator consumes. */
export type MpaEvent =
  /** A handover decision. */
  | { readonly kind: "decision"; readonly at: number; readonly decision: Decision }
  /** A port result or timer for one session. */
  | { readonly kind: "session"; readonly ctn: string; readonly event: SessionEvent }
  /** The bicast period is over. */
  | { readonly kind: "bicast-ended"; readonly at: number }
  /** Release everything. */
  | { readonly kind: "shutdown"; readonly at: number };

/** What the orchestrator emits: commands for the ports and notices for the log. */
export type MpaOutput = MpaCommand | MpaNotice;

/**
 * The state when the agent starts, attached to `serving`.
 *
 * @param serving the serving network, PoA and CoA
 * @param at now, ms
 * @returns the state with one `attached` session
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
 * assertEquals(s.sessions.get("A")?.phase, "attached");
 * assertEquals(s.serving, { network: "A", poa: "a1" });
 * ```
 */
export function initialMpaState(serving: ServingNetwork, at: number): MpaState {
  const session = attachedSession(
    serving.network,
    serving.poa,
    {
      address: serving.coa,
      prefixLength: serving.prefixLength,
      ...(serving.router === undefined ? {} : { router: serving.router }),
    },
    at,
  );
  return {
    sessions: new Map([[serving.network, session]]),
    serving: { network: serving.network, poa: serving.poa },
    switching: undefined,
    committed: undefined,
    bound: [],
    bicastUntil: undefined,
    shutDown: false,
  };
}

interface _Work {
  sessions: Map<string, Session>;
  serving: { readonly network: string; readonly poa: string };
  switching: SwitchInProgress | undefined;
  committed: string | undefined;
  bound: readonly string[];
  bicastUntil: number | undefined;
  shutDown: boolean;
  readonly out: MpaOutput[];
  readonly config: MpaConfig;
}

/**
 * Advances the orchestrator by one event.
 *
 * @param state the current state
 * @param event a decision, a port result or timer of a session, or shutdown
 * @param config the settings
 * @returns the next state and the commands and notices, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = mpaConfig({ limits: { maxPreauthenticated: 1 } });
 * const s0 = initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
 * const decision = { kind: "prepare", t: 0, ctns: ["B", "C"], poa: "a1", budgets: {}, reason: "" } as const;
 * const [s1, out] = mpaReducer(s0, { kind: "decision", at: 0, decision }, config);
 * // Discovery first for both; only one may pre-authenticate at a time.
 * assertEquals(out.filter((o) => o.kind === "discover").map((o) => o.ctn), ["B", "C"]);
 * assertEquals(s1.sessions.size, 3);
 * ```
 */
export function mpaReducer(
  state: MpaState,
  event: MpaEvent,
  config: MpaConfig,
): readonly [MpaState, readonly MpaOutput[]] {
  const w: _Work = {
    sessions: new Map(state.sessions),
    serving: state.serving,
    switching: state.switching,
    committed: state.committed,
    bound: state.bound,
    bicastUntil: state.bicastUntil,
    shutDown: state.shutDown,
    out: [],
    config,
  };
  switch (event.kind) {
    case "decision":
      if (w.shutDown) {
        _note(w, "", event.at, "warn", `Ignored after shutdown: ${event.decision.kind}`);
      } else _onDecision(w, event.decision, event.at);
      break;
    case "session":
      _onSessionEvent(w, event.ctn, event.event);
      break;
    case "bicast-ended":
      if (w.bicastUntil !== undefined && w.bicastUntil <= event.at) {
        w.bicastUntil = undefined;
        _rebindServing(w, event.at, undefined, "bicast over: binding back to the serving CoA only");
      }
      break;
    case "shutdown":
      _onShutdown(w, event.at);
      break;
  }
  if (!w.shutDown) _resume(w, _atOf(event));
  return [{
    sessions: w.sessions,
    serving: w.serving,
    switching: w.switching,
    committed: w.committed,
    bound: w.bound,
    bicastUntil: w.bicastUntil,
    shutDown: w.shutDown,
  }, w.out];
}

/**
 * The next lifetime or timer to fire: SA and lease expiry (section 7.2), lease
 * extension of the serving network (half the lease time, as DHCP's T1), the end of
 * a retained context's TTL (not during a switch: it is the fallback, section C.1),
 * tunnel expiry when configured, and the end of a bicast.
 *
 * @param state the state
 * @param config the settings
 * @returns when and what to feed back, or undefined when nothing is timed
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
 * assertEquals(nextMpaTimer(s, mpaConfig()), undefined);
 * ```
 */
export function nextMpaTimer(
  state: MpaState,
  config: MpaConfig,
): { readonly at: number; readonly event: MpaEvent } | undefined {
  let best: { at: number; event: MpaEvent } | undefined;
  const consider = (at: number | undefined, make: (at: number) => MpaEvent) => {
    if (at === undefined || !Number.isFinite(at)) return;
    if (best === undefined || at < best.at) best = { at, event: make(at) };
  };
  const timer = (ctn: string, kind: SessionTimer) => (at: number): MpaEvent => ({
    kind: "session",
    ctn,
    event: { kind, at },
  });
  if (state.shutDown) return undefined;
  for (const s of state.sessions.values()) {
    if (s.phase === "released" || s.phase === "switching") continue;
    consider(s.sa?.expiresAt, timer(s.ctn, "sa-expired"));
    consider(s.lease?.expiresAt, timer(s.ctn, "lease-expired"));
    if (
      s.phase === "attached" && s.lease !== undefined && s.pending === undefined &&
      s.renewAt !== undefined && s.renewAt < s.lease.expiresAt
    ) consider(s.renewAt, timer(s.ctn, "renew-due"));
    if (s.phase === "retained" && state.switching === undefined) {
      consider(s.retainUntil, timer(s.ctn, "retain-expired"));
    }
    if (config.tunnelExpiry) consider(s.tunnel?.expiresAt, timer(s.ctn, "tunnel-expired"));
  }
  consider(state.bicastUntil, (at) => ({ kind: "bicast-ended", at }));
  return best;
}

// ---------------------------------------------------------------------------

function _atOf(event: MpaEvent): number {
  return event.kind === "session" ? event.event.at : event.at;
}

function _onDecision(w: _Work, d: Decision, at: number): void {
  switch (d.kind) {
    case "prepare":
      for (const ctn of d.ctns) {
        if (ctn === w.serving.network) {
          _note(w, ctn, at, "warn", "Ignored: prepare of the serving network");
        } else _dispatch(w, ctn, { kind: "prepare", at, poa: undefined });
      }
      return;
    case "preconfigure":
      if (d.ctn === w.serving.network) {
        return _note(w, d.ctn, at, "warn", "Ignored: preconfigure of the serving network");
      }
      return _dispatch(w, d.ctn, { kind: "preconfigure", at, poa: d.poa });
    case "commit":
      if (d.ctn === w.serving.network) {
        return _note(w, d.ctn, at, "warn", "Ignored: commit to the serving network");
      }
      _cancelProactiveBinds(w, d.ctn, at, `commit to ${d.ctn} instead`);
      w.committed = d.ctn;
      return _dispatch(w, d.ctn, { kind: "commit", at, poa: d.poa });
    case "abort": {
      if (w.committed === d.ctn) w.committed = undefined;
      const s = w.sessions.get(d.ctn);
      if (s === undefined) return _note(w, d.ctn, at, "warn", "Ignored: abort of an unknown CTN");
      const inFlight = _proactiveBindInFlight(s);
      _dispatch(w, d.ctn, { kind: "abort", at });
      const address = s.address?.address;
      // A cancelled binding update may have reached the correspondent all the same: the
      // rollback binds the serving CoA again after it (the adapter keeps the order).
      if (
        address !== undefined && (w.bound.includes(address) || inFlight) &&
        w.switching === undefined
      ) {
        _rebindServing(
          w,
          at,
          undefined,
          `commit to ${d.ctn} rolled back: binding back to the serving CoA`,
        );
      }
      return;
    }
    case "switch":
      return _onSwitch(w, d.ctn, d.poa, { poa: d.from, network: d.fromNetwork }, at);
    case "release": {
      const s = w.sessions.get(d.ctn);
      if (s === undefined) {
        return _note(w, d.ctn, at, "info", "Release of a CTN never prepared: nothing held");
      }
      if (d.ctn === w.serving.network && w.switching === undefined) {
        return _note(
          w,
          d.ctn,
          at,
          "warn",
          "Ignored: release of the serving network outside a switch",
        );
      }
      return _dispatch(w, d.ctn, { kind: "release", at, phases: d.phases, retainMs: d.retainMs });
    }
    case "restore":
      if (d.ctn === w.serving.network) return;
      return _dispatch(w, d.ctn, { kind: "restore", at, poa: d.poa });
    case "bicast": {
      if (!w.config.multipleCoAs) {
        return _note(
          w,
          "",
          at,
          "info",
          "Bicast ignored: the mobility protocol binds one CoA at a time",
        );
      }
      const serving = w.sessions.get(w.serving.network)?.address?.address;
      if (serving === undefined) return;
      const coas = [serving];
      for (const ctn of d.ctns) {
        const a = w.sessions.get(ctn)?.address?.address;
        if (a !== undefined && !coas.includes(a)) coas.push(a);
      }
      if (coas.length < 2) return _note(w, "", at, "info", "Bicast ignored: no other CoA held");
      w.bicastUntil = at + d.durationMs;
      return _rebindServing(
        w,
        at,
        coas,
        `Bicast for ${d.durationMs} ms to ${coas.join(", ")} (RFC 6252 section C.1)`,
      );
    }
  }
}

function _onSwitch(
  w: _Work,
  ctn: string,
  poa: string,
  from: { readonly poa: string; readonly network: string },
  at: number,
): void {
  if (w.switching !== undefined) {
    return _note(
      w,
      ctn,
      at,
      "warn",
      `Ignored: switch to ${poa} while switching to ${w.switching.to}`,
    );
  }
  if (ctn === w.serving.network) {
    w.serving = { network: ctn, poa };
    return _dispatch(w, ctn, { kind: "switch", at, poa, from });
  }
  const source = { poa: w.serving.poa, network: w.serving.network };
  if (from.network !== source.network) {
    _note(
      w,
      ctn,
      at,
      "warn",
      `Switch says it leaves ${from.network}, the agent is in ${source.network}`,
    );
  }
  w.switching = { to: ctn, from: source, at };
  _cancelProactiveBinds(w, ctn, at, `switching to ${ctn} instead`);
  _dispatch(w, ctn, { kind: "switch", at, poa, from: source });
}

/** Whether a candidate's proactive binding update (step 3) is in flight. */
function _proactiveBindInFlight(s: Session): boolean {
  return s.pending?.op === "bind" && s.phase !== "switching" && s.phase !== "attached" &&
    s.tunnel !== undefined;
}

/**
 * The target changed: the proactive binding updates in flight for other CTNs are
 * cancelled (their commit is withdrawn); the one for `target` itself is kept (a
 * switch folds it in, RFC 6252 section 6.3 steps 3-6).
 */
function _cancelProactiveBinds(w: _Work, target: string, at: number, why: string): void {
  for (const s of [...w.sessions.values()]) {
    if (s.ctn === target || s.ctn === w.serving.network || !_proactiveBindInFlight(s)) continue;
    _note(w, s.ctn, at, "info", `Binding update to ${s.ctn} cancelled: ${why}`);
    if (w.committed === s.ctn) w.committed = undefined;
    _dispatch(w, s.ctn, { kind: "abort", at });
  }
}

function _onSessionEvent(w: _Work, ctn: string, e: SessionEvent): void {
  if (!w.sessions.has(ctn)) {
    _note(w, ctn, e.at, "warn", `Ignored: ${e.kind} for an unknown CTN`);
    return;
  }
  if (e.kind === "bind-ok") {
    w.bound = e.result.bound;
    _dispatch(w, ctn, e);
    for (const other of [...w.sessions.keys()]) {
      if (other === ctn) continue;
      _dispatch(w, other, {
        kind: "binding-changed",
        at: e.at,
        bound: e.result.bound,
        lifetimeMs: e.result.lifetimeMs,
      });
    }
    // A widening update (seq 0) does not widen again, whatever the correspondent bound.
    if (e.seq !== 0) _widenBinding(w, e.at);
    return;
  }
  _dispatch(w, ctn, e);
  if (e.kind === "tunnel-ok") _widenBinding(w, e.at);
}

/**
 * A CTN tunnelled after the proactive binding update joins it when the protocol
 * binds several CoAs (RFC 6252 section 7.2, RFC 5648), within `maxBound`.
 */
function _widenBinding(w: _Work, at: number): void {
  if (!w.config.multipleCoAs || w.committed === undefined || w.switching !== undefined) return;
  const committed = w.sessions.get(w.committed);
  if (committed?.phase !== "bound" || committed.tunnel === undefined) return;
  const joining: string[] = [];
  for (const s of w.sessions.values()) {
    if (s.phase !== "tunnelled" || s.pending !== undefined || s.address === undefined) continue;
    if (!w.bound.includes(s.address.address)) joining.push(s.address.address);
  }
  const coas = [...w.bound, ...joining].slice(0, w.config.limits.maxBound);
  if (coas.length <= w.bound.length) return;
  _note(w, w.committed, at, "info", `Binding widened to ${coas.join(", ")} (RFC 6252 section 7.2)`);
  w.out.push({
    kind: "bind",
    ctn: w.committed,
    seq: 0,
    coas,
    tunnel: committed.tunnel,
    lifetimeMs: undefined,
  });
}

function _onShutdown(w: _Work, at: number): void {
  if (w.shutDown) return;
  const coa = w.sessions.get(w.serving.network)?.address?.address;
  for (const ctn of [...w.sessions.keys()]) _dispatch(w, ctn, { kind: "shutdown", at });
  if (w.bound.length > 0 && coa !== undefined) {
    // Deregistration: a binding update with lifetime zero (RFC 6275 section 6.1.7).
    w.out.push({
      kind: "bind",
      ctn: w.serving.network,
      seq: 0,
      coas: [coa],
      tunnel: undefined,
      lifetimeMs: 0,
    });
    w.bound = [];
  }
  w.switching = undefined;
  w.bicastUntil = undefined;
  w.shutDown = true;
  _note(w, "", at, "info", "Shut down: tunnels closed, leases released, binding deregistered");
}

function _ctx(w: _Work, ctn: string): SessionContext {
  let preauth = 0;
  let configured = 0;
  for (const s of w.sessions.values()) {
    if (s.ctn === ctn) continue;
    if (holdsPreauth(s)) preauth++;
    if (holdsConfiguration(s)) configured++;
  }
  return {
    oCoA: w.sessions.get(w.serving.network)?.address?.address,
    maxAttempts: w.config.maxAttempts,
    buffering: w.config.buffering,
    slots: {
      preauth: preauth < w.config.limits.maxPreauthenticated,
      configure: configured < w.config.limits.maxConfigured,
    },
  };
}

function _dispatch(w: _Work, ctn: string, e: SessionEvent): void {
  const s = w.sessions.get(ctn) ?? createSession(ctn, e.at);
  const [next, outs] = sessionReducer(s, e, _ctx(w, ctn));
  w.sessions.set(ctn, next);
  for (const o of outs) {
    switch (o.kind) {
      case "attached":
      case "switch-failed":
        _onSignal(w, o);
        break;
      case "bind":
        w.out.push(o.tunnel !== undefined && o.lifetimeMs === undefined ? _expandBind(w, o) : o);
        break;
      default:
        w.out.push(o);
    }
  }
}

/** A proactive binding update binds every tunnelled nCoA when the protocol allows (section 7.2). */
function _expandBind(w: _Work, o: Extract<MpaCommand, { kind: "bind" }>): MpaCommand {
  if (!w.config.multipleCoAs) return o;
  const coas = [...o.coas];
  for (const s of w.sessions.values()) {
    if (s.ctn === o.ctn || s.tunnel === undefined || s.address === undefined) continue;
    if (s.phase !== "tunnelled" && s.phase !== "bound") continue;
    if (!coas.includes(s.address.address)) coas.push(s.address.address);
  }
  return { ...o, coas: coas.slice(0, w.config.limits.maxBound) };
}

function _onSignal(w: _Work, sig: SessionSignal): void {
  if (sig.kind === "attached") {
    const previous = w.serving.network;
    const s = w.sessions.get(sig.ctn);
    w.serving = { network: sig.ctn, poa: s?.poa ?? w.serving.poa };
    w.switching = undefined;
    if (w.committed === sig.ctn) w.committed = undefined;
    if (previous !== sig.ctn && w.sessions.get(previous)?.phase === "attached") {
      _dispatch(w, previous, {
        kind: "release",
        at: sig.at,
        phases: ["preauth", "preconfigure"],
        retainMs: w.config.retainMs,
      });
    }
    return;
  }
  w.switching = undefined;
  if (sig.returning) {
    return _note(w, sig.ctn, sig.at, "error", "No connectivity: the switch-back failed too");
  }
  const from = sig.from;
  if (from === undefined || from.network === sig.ctn) return;
  const old = w.sessions.get(from.network);
  if (old === undefined || old.address === undefined) {
    return _note(
      w,
      sig.ctn,
      sig.at,
      "error",
      `No connectivity: nothing retained of ${from.network} to switch back to`,
    );
  }
  _note(
    w,
    sig.ctn,
    sig.at,
    "warn",
    `Switch to ${sig.ctn} failed${
      sig.linkMoved ? " after the link moved" : ""
    }: restoring the context of ${from.network} (RFC 6252 section C.1)`,
  );
  if (sig.linkMoved) {
    w.switching = { to: from.network, from: { poa: "", network: sig.ctn }, at: sig.at };
  }
  const address = old.address.address;
  const rebind = sig.linkMoved || (w.bound.length > 0 && !w.bound.includes(address));
  _dispatch(w, from.network, {
    kind: "switch-back",
    at: sig.at,
    linkMoved: sig.linkMoved,
    rebind,
  });
}

function _rebindServing(
  w: _Work,
  at: number,
  coas: readonly string[] | undefined,
  why: string,
): void {
  _note(w, w.serving.network, at, "info", why);
  _dispatch(w, w.serving.network, { kind: "rebind", at, coas, lifetimeMs: undefined });
}

/** Gives freed limit slots to queued sessions, oldest first. */
function _resume(w: _Work, at: number): void {
  for (let guard = 0; guard < 64; guard++) {
    const waiting = [...w.sessions.values()]
      .filter((s) => s.waiting !== undefined)
      .sort((a, b) => a.waiting!.since - b.waiting!.since);
    const next = waiting.find((s) => {
      const slots = _ctx(w, s.ctn).slots;
      return s.waiting!.slot === "preauth" ? slots.preauth : slots.configure;
    });
    if (next === undefined) return;
    _dispatch(w, next.ctn, { kind: "resume", at });
  }
}

function _note(
  w: _Work,
  ctn: string,
  at: number,
  level: MpaNotice["level"],
  message: string,
): void {
  w.out.push({ kind: "notice", ctn, at, level, message });
}
