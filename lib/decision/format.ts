/**
 * Text forms of decisions: the `replay` command's JSON line and the demo's
 * timeline row.
 *
 * @module
 */
import type { Decision } from "./decision.ts";

/**
 * Formats a decision as one JSON line (no newline) with the stable key order
 * `t, kind, ctn | ctns, poa, reason`, then the kind's own fields.
 *
 * @param d the decision
 * @returns JSON text; unbounded lead times are `null`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const line = formatDecisionJson({ kind: "abort", t: 5, ctn: "B", poa: "b1", reason: "fell back" });
 * assertEquals(line, '{"t":5,"kind":"abort","ctn":"B","poa":"b1","reason":"fell back"}');
 * ```
 */
export function formatDecisionJson(d: Decision): string {
  const head: Record<string, unknown> = { t: d.t, kind: d.kind };
  if ("ctn" in d) head.ctn = d.ctn;
  if ("ctns" in d) head.ctns = d.ctns;
  head.poa = d.poa;
  head.reason = d.reason;
  for (const [key, value] of Object.entries(d)) {
    if (!(key in head)) head[key] = value;
  }
  return JSON.stringify(head);
}

/**
 * Formats a decision as a fixed-width timeline row for people.
 *
 * @param d the decision
 * @param t0 the time shown as 0, ms
 * @returns a row such as `  12.300 s  switch        domainB  b1  <reason>`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const row = formatDecisionRow({ kind: "abort", t: 1500, ctn: "B", poa: "b1", reason: "fell back" }, 0);
 * assertEquals(row, "   1.500 s  abort         B          b1    fell back");
 * ```
 */
export function formatDecisionRow(d: Decision, t0: number): string {
  const time = ((d.t - t0) / 1000).toFixed(3).padStart(8);
  const target = "ctn" in d ? d.ctn : d.ctns.join(",");
  return `${time} s  ${d.kind.padEnd(12)}  ${target.padEnd(9)}  ${d.poa.padEnd(4)}  ${d.reason}`;
}
