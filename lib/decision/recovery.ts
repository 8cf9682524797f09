/**
 * The recovery reducer of RFC 6252 section C.1 (failed switching, switch-back and
 * ping-pong) and C.2 (authentication state management): contexts of networks left
 * and of CTNs prepared but not used are retained for a TTL; a return within it
 * becomes `restore` instead of a new `prepare`; after a switch the PoA just left is
 * penalised for the ping-pong window, and after an actual ping-pong the PoA bounced
 * through is held down (like OsmoBSC's penalty timers) and traffic may be bicast to
 * both networks for a bounded time.
 *
 * @module
 */
import type { Decision, Phase } from "./decision.ts";
import type { HandoverOutput } from "./handover.ts";
import type { PingPong } from "../operators/ping_pong.ts";

/** Recovery settings (all times in ms, margins in dB). */
export interface RecoveryConfig {
  /** How long a released context is retained. */
  readonly retainMs: number;
  /** Extra margin the PoA just left must overcome to win back, for `returnPenaltyMs`. */
  readonly returnPenaltyDb: number;
  /** How long the return penalty lasts (the ping-pong window). */
  readonly returnPenaltyMs: number;
  /** After a ping-pong, the PoA bounced through is barred this long (0 = never). */
  readonly holdDownMs: number;
  /** After a ping-pong between networks, bicast this long (0 = never). */
  readonly bicastMs: number;
}

/** What the recovery reducer consumes. */
export type RecoveryEvent =
  | { readonly kind: "decision"; readonly decision: HandoverOutput }
  | { readonly kind: "pingpong"; readonly pingPong: PingPong };

/** A penalty for the handover stage: subtract `db` from `poa` until `until` (Infinity = barred). */
export interface PenaltyOutput {
  /** Discriminant: a penalty, not a {@link Decision}. */
  readonly kind: "penalty";
  /** When the penalty was imposed, ms (the sample clock). */
  readonly t: number;
  /** The penalised PoA. */
  readonly poa: string;
  /**
   * dB subtracted from the PoA's level: the return penalty after a switch, or
   * Infinity (barred) for a hold-down after a ping-pong (RFC 6252 section C.1).
   */
  readonly db: number;
  /** When the penalty ends, ms. */
  readonly until: number;
}

/** What the recovery reducer emits. */
export type RecoveryOutput = Decision | PenaltyOutput;

/** A retained context. */
export interface Retained {
  /** When it expires, ms. */
  readonly until: number;
  /** The phases the context covers (the MPA-SA, and the address and tunnel if any). */
  readonly phases: readonly Phase[];
}

/** The recovery reducer's state. */
export interface RecoveryState {
  /** Retained contexts by network. */
  readonly retained: ReadonlyMap<string, Retained>;
  /** The network of the PoAs attached most recently (at most 8). */
  readonly networkOf: ReadonlyMap<string, string>;
}

/**
 * The state before any event: no context retained, no PoA's network known.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { INITIAL_RECOVERY_STATE, recoveryReducer } from "./recovery.ts";
 * assertEquals(INITIAL_RECOVERY_STATE.retained.size, 0);
 * assertEquals(INITIAL_RECOVERY_STATE.networkOf.size, 0);
 * // With nothing retained, a prepare passes through unchanged.
 * const config = { retainMs: 30000, returnPenaltyDb: 5, returnPenaltyMs: 5000, holdDownMs: 10000, bicastMs: 2000 };
 * const prepare = { kind: "prepare", t: 0, ctns: ["B"], poa: "a1", budgets: {}, reason: "" } as const;
 * const [, out] = recoveryReducer(INITIAL_RECOVERY_STATE, { kind: "decision", decision: prepare }, config);
 * assertEquals(out, [prepare]);
 * ```
 */
export const INITIAL_RECOVERY_STATE: RecoveryState = {
  retained: new Map(),
  networkOf: new Map(),
};

const _NONE: readonly RecoveryOutput[] = [];

/**
 * Advances the recovery state by one event.
 *
 * @param state the current state
 * @param event a handover output or a detected ping-pong
 * @param config the settings
 * @returns the next state and the outputs (decisions and penalties), in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = { retainMs: 30000, returnPenaltyDb: 3, returnPenaltyMs: 5000, holdDownMs: 10000, bicastMs: 2000 };
 * const release = { kind: "release", t: 0, ctn: "B", poa: "a1", phases: ["preauth"], retainMs: 30000, reason: "" } as const;
 * const [s] = recoveryReducer(INITIAL_RECOVERY_STATE, { kind: "decision", decision: release }, config);
 * const prepare = { kind: "prepare", t: 1000, ctns: ["B"], poa: "a1", budgets: {}, reason: "" } as const;
 * const [, out] = recoveryReducer(s, { kind: "decision", decision: prepare }, config);
 * assertEquals(out.map((d) => d.kind), ["restore"]);
 * ```
 */
export function recoveryReducer(
  state: RecoveryState,
  event: RecoveryEvent,
  config: RecoveryConfig,
): readonly [RecoveryState, readonly RecoveryOutput[]] {
  if (event.kind === "pingpong") {
    return _onPingPong(state, event.pingPong, config);
  }
  const d = event.decision;
  switch (d.kind) {
    case "attach": {
      return [{ ...state, networkOf: _remember(state.networkOf, d.poa, d.network) }, _NONE];
    }
    case "prepare": {
      const retained = _live(state.retained, d.t);
      const restore = d.ctns.filter((n) => retained.has(n));
      if (restore.length === 0) {
        return [retained === state.retained ? state : { ...state, retained }, [
          d,
        ]];
      }
      const left = new Map(retained);
      const out: RecoveryOutput[] = [];
      for (const n of restore) {
        left.delete(n);
        out.push({
          kind: "restore",
          t: d.t,
          ctn: n,
          poa: d.poa,
          reason:
            `context of ${n} retained (${config.retainMs} ms TTL): reused instead of a new pre-authentication`,
        });
      }
      const fresh = d.ctns.filter((n) => !retained.has(n));
      if (fresh.length > 0) {
        const budgets = Object.fromEntries(
          Object.entries(d.budgets).filter(([n]) => fresh.includes(n)),
        );
        out.push({ ...d, ctns: fresh, budgets });
      }
      return [{ ...state, retained: left }, out];
    }
    case "release": {
      if (config.retainMs <= 0) return [state, [{ ...d, retainMs: 0 }]];
      // Only a release of the whole context (pre-authentication included) is
      // retained; giving up a pre-configuration slot leaves the MPA-SA in use.
      if (!d.phases.includes("preauth")) return [state, [{ ...d, retainMs: 0 }]];
      const retained = new Map(_live(state.retained, d.t)).set(d.ctn, {
        until: d.t + config.retainMs,
        phases: d.phases.filter((p) => p !== "bind"),
      });
      return [{ ...state, retained }, [{ ...d, retainMs: config.retainMs }]];
    }
    case "switch": {
      const out: RecoveryOutput[] = [];
      let retained = _live(state.retained, d.t);
      let decision = d;
      const context = d.ctn !== d.fromNetwork ? retained.get(d.ctn) : undefined;
      if (context !== undefined) {
        const r = new Map(retained);
        r.delete(d.ctn);
        retained = r;
        out.push({
          kind: "restore",
          t: d.t,
          ctn: d.ctn,
          poa: d.poa,
          reason: `switching back to ${d.ctn} within the retention TTL: its context (${
            context.phases.join("+")
          }) is restored`,
        });
        if (d.reactive) {
          decision = {
            ...d,
            prepared: context.phases,
            reactive: false,
            reason: d.reason.replace(
              "nothing prepared: reactive handover",
              `context restored: ${context.phases.join("+")}`,
            ),
          };
        }
      }
      out.push(decision);
      if (config.returnPenaltyDb > 0 && config.returnPenaltyMs > 0) {
        out.push({
          kind: "penalty",
          t: d.t,
          poa: d.from,
          db: config.returnPenaltyDb,
          until: d.t + config.returnPenaltyMs,
        });
      }
      const networkOf = _remember(
        _remember(state.networkOf, d.from, d.fromNetwork),
        d.poa,
        d.ctn,
      );
      return [{ retained, networkOf }, out];
    }
    default:
      return [state, [d]];
  }
}

/** Records a PoA's network, keeping only the most recent few (a ping-pong needs two). */
function _remember(
  networkOf: ReadonlyMap<string, string>,
  poa: string,
  network: string,
): ReadonlyMap<string, string> {
  const next = new Map(networkOf);
  next.delete(poa);
  next.set(poa, network);
  if (next.size > _REMEMBERED) next.delete(next.keys().next().value!);
  return next;
}

const _REMEMBERED = 8;

function _live(
  retained: ReadonlyMap<string, Retained>,
  t: number,
): ReadonlyMap<string, Retained> {
  let expired = false;
  for (const r of retained.values()) if (r.until <= t) expired = true;
  if (!expired) return retained;
  return new Map([...retained].filter(([, r]) => r.until > t));
}

function _onPingPong(
  state: RecoveryState,
  pp: PingPong,
  config: RecoveryConfig,
): readonly [RecoveryState, readonly RecoveryOutput[]] {
  const out: RecoveryOutput[] = [];
  if (config.holdDownMs > 0) {
    out.push({
      kind: "penalty",
      t: pp.t,
      poa: pp.via,
      db: Infinity,
      until: pp.t + config.holdDownMs,
    });
  }
  const here = state.networkOf.get(pp.poa);
  const there = state.networkOf.get(pp.via);
  if (
    config.bicastMs > 0 && here !== undefined && there !== undefined &&
    here !== there
  ) {
    out.push({
      kind: "bicast",
      t: pp.t,
      ctns: [here, there],
      poa: pp.poa,
      durationMs: config.bicastMs,
      reason: `ping-pong ${pp.poa} -> ${pp.via} -> ${pp.poa} within ${
        pp.t - pp.leftAt
      } ms: bicast to both networks; ${pp.via} held down for ${config.holdDownMs} ms`,
    });
  }
  return [state, out];
}
