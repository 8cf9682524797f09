/**
 * The handover-preparation planner of RFC 6252 section C.6: with the time left
 * before the serving link is lost (the lead time, "D/v") and the cost of each MPA
 * phase towards a CTN, decide which phases fit before the edge:
 *
 * - 2·RTT + Tpsk < D/v: pre-authentication only;
 * - 2·RTT + Tpsk + Tconf < D/v: pre-authentication and pre-configuration;
 * - 2·RTT + Tpsk + Tconf + T_BU < D/v: also the proactive binding update.
 *
 * @module
 */
import type { CtnProfile } from "../metrics/cell.ts";
import type { Budget, Phase } from "./decision.ts";

/**
 * Phase costs used when a CTN has no profile, in ms: the example values of RFC 6252
 * section C.6 (RTT 100, Tpsk 10, Tconf 190; T_BU 50).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DEFAULT_PROFILE, planBudget } from "./planner.ts";
 * assertEquals(DEFAULT_PROFILE, { rttMs: 100, tpskMs: 10, tconfMs: 190, tbuMs: 50 });
 * // Without a profile the planner uses them: 2·100 + 10 = 210 ms to pre-authenticate.
 * assertEquals(planBudget(undefined, Infinity).authMs, 210);
 * ```
 */
export const DEFAULT_PROFILE: Required<Omit<CtnProfile, "network">> = {
  rttMs: 100,
  tpskMs: 10,
  tconfMs: 190,
  tbuMs: 50,
};

/**
 * Computes the budget of one CTN for a given lead time.
 *
 * @param profile the CTN's timings (missing fields take {@link DEFAULT_PROFILE})
 * @param leadSeconds time until the serving link is lost, s (Infinity when unknown)
 * @returns the cumulative costs and the phases that fit, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // RFC 6252 section C.6: RTT 100 ms, Tpsk 10 ms, Tconf 190 ms.
 * const b = planBudget({ network: "B", rttMs: 100, tpskMs: 10, tconfMs: 190, tbuMs: 50 }, 0.3);
 * assertEquals(b.authMs, 210);
 * assertEquals(b.confMs, 400);
 * assertEquals(b.phases, ["preauth"]);
 * ```
 */
export function planBudget(
  profile: CtnProfile | undefined,
  leadSeconds: number,
): Budget {
  const rtt = profile?.rttMs ?? DEFAULT_PROFILE.rttMs;
  const tpsk = profile?.tpskMs ?? DEFAULT_PROFILE.tpskMs;
  const tconf = profile?.tconfMs ?? DEFAULT_PROFILE.tconfMs;
  const tbu = profile?.tbuMs ?? DEFAULT_PROFILE.tbuMs;
  const authMs = 2 * rtt + tpsk;
  const confMs = authMs + tconf;
  const bindMs = confMs + tbu;
  const bounded = Number.isFinite(leadSeconds);
  const leadMs = bounded ? Math.round(leadSeconds * 1000) : null;
  let phases: readonly Phase[];
  if (leadMs === null || bindMs < leadMs) phases = _ALL;
  else if (confMs < leadMs) phases = _AUTH_CONF;
  else if (authMs < leadMs) phases = _AUTH;
  else phases = _NONE;
  return { leadMs, authMs, confMs, bindMs, phases };
}

/**
 * Whether the remaining time is short enough that preparation must start now,
 * skipping dwell timers: the lead time is below `safety` times the full budget.
 *
 * @param budget a budget from {@link planBudget}
 * @param safety the factor (at least 1)
 * @returns true when time is running out
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(isUrgent(planBudget(undefined, 0.5), 2), true);
 * assertEquals(isUrgent(planBudget(undefined, Infinity), 2), false);
 * ```
 */
export function isUrgent(budget: Budget, safety: number): boolean {
  return budget.leadMs !== null && budget.leadMs < safety * budget.bindMs;
}

/**
 * Formats a budget for a decision's reason.
 *
 * @param budget the budget
 * @returns text such as `lead 1.2 s; auth 210 ms, conf 400 ms, bind 450 ms: preauth+preconfigure`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(describeBudget(planBudget(undefined, Infinity)), "lead unbounded; auth 210 ms, conf 400 ms, bind 450 ms: preauth+preconfigure+bind");
 * ```
 */
export function describeBudget(budget: Budget): string {
  const lead = budget.leadMs === null
    ? "lead unbounded"
    : `lead ${(budget.leadMs / 1000).toFixed(1)} s`;
  const phases = budget.phases.length === 0 ? "none fits (reactive)" : budget.phases.join("+");
  return `${lead}; auth ${budget.authMs} ms, conf ${budget.confMs} ms, bind ${budget.bindMs} ms: ${phases}`;
}

const _ALL: readonly Phase[] = ["preauth", "preconfigure", "bind"];
const _AUTH_CONF: readonly Phase[] = ["preauth", "preconfigure"];
const _AUTH: readonly Phase[] = ["preauth"];
const _NONE: readonly Phase[] = [];
