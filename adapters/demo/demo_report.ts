/**
 * How `mpa demo` prints the embedded demo: one timeline line per event, a progress
 * bar of the drive, the end table (per phase Tauth, Tconf, tunnel, BU and switch of
 * RFC 6252 section C.6; packets sent, received, lost, duplicated and buffered; the
 * interruption and the jitter, as in the tables of section C.5.1), and the summary as
 * one JSON line.
 *
 * @module
 */
import type { DemoEvent, DemoPhaseTimes, DemoSummary } from "./embedded_demo.ts";

/**
 * One timeline line: wall time since the start, drive time, kind, CTN, text.
 *
 * @param event the event
 * @returns the line, without a newline
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const line = formatDemoEvent({ at: 2077.34, driveMs: 10000, kind: "switch", ctn: "domainB", text: "link switch to b1" });
 * assertEquals(line, " 2077.3 ms  10.0 s  switch      domainB  link switch to b1");
 * ```
 */
export function formatDemoEvent(event: DemoEvent): string {
  const at = `${event.at.toFixed(1)} ms`.padStart(10);
  const drive = `${(event.driveMs / 1000).toFixed(1)} s`.padStart(6);
  const mark = event.warn === true ? "! " : "";
  return `${at}  ${drive}  ${event.kind.padEnd(10)}  ${event.ctn.padEnd(7)}  ${mark}${event.text}`;
}

/**
 * The progress bar of the drive, for a terminal.
 *
 * @param doneMs simulated drive time done, ms
 * @param totalMs the drive's length, ms
 * @param width the bar's width in characters
 * @returns the bar, e.g. `[#####.....]  5.0 / 10.0 s`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatProgress(5000, 10000, 10), "drive [#####.....]  5.0 / 10.0 s");
 * assertEquals(formatProgress(20000, 10000, 4), "drive [####] 10.0 / 10.0 s");
 * ```
 */
export function formatProgress(doneMs: number, totalMs: number, width = 30): string {
  const share = totalMs <= 0 ? 1 : Math.max(0, Math.min(1, doneMs / totalMs));
  const full = Math.round(share * width);
  const done = Math.max(0, Math.min(doneMs, totalMs)) / 1000;
  return `drive [${"#".repeat(full)}${".".repeat(width - full)}] ${done.toFixed(1).padStart(4)} / ${
    (totalMs / 1000).toFixed(1)
  } s`;
}

function _ms(value: number | undefined): string {
  return (value === undefined ? "-" : `${value.toFixed(1)} ms`).padStart(10);
}

const _COLUMNS: readonly [keyof DemoPhaseTimes, string][] = [
  ["tauthMs", "Tauth"],
  ["tconfMs", "Tconf"],
  ["tunnelMs", "tunnel"],
  ["buMs", "BU"],
  ["switchMs", "switch"],
];

/**
 * The end table of a run.
 *
 * @param s the summary
 * @returns the lines
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * const lines = formatDemoSummary({
 *   seed: 3, speed: 2, buffering: true, driveMs: 10000, wallMs: 7000, decisions: { switch: 1 },
 *   chosen: "domainB", released: ["domainC"],
 *   phases: { domainB: { tauthMs: 12, tconfMs: 6, tunnelMs: 4, buMs: 7, switchMs: 50 }, domainC: { tauthMs: 6 } },
 *   packets: { sent: 10, received: 10, lost: 0, duplicated: 0, reordered: 0, buffered: 2, flushed: 2, droppedOffLink: 0 },
 *   interruptionMs: 50, jitterMs: 1, warnings: [],
 *   release: { mnSessions: 0, aaSessions: 0, arTunnels: 0, leases: 0, sockets: 0, allReleased: true },
 * });
 * assert(lines.some((l) => l.includes("Tauth") && l.includes("switch")));
 * assert(lines.some((l) => l.includes("10 sent, 10 received, 0 lost")));
 * ```
 */
export function formatDemoSummary(s: DemoSummary): string[] {
  const out: string[] = [];
  out.push(
    `${"CTN".padEnd(20)}${_COLUMNS.map(([, name]) => name.padStart(10)).join("")}`,
  );
  const ctns = Object.keys(s.phases).sort((a, b) =>
    a === s.chosen ? -1 : b === s.chosen ? 1 : a.localeCompare(b)
  );
  for (const ctn of ctns) {
    const role = ctn === s.chosen ? " (chosen)" : s.released.includes(ctn) ? " (released)" : "";
    const p = s.phases[ctn]!;
    out.push(`${(ctn + role).padEnd(20)}${_COLUMNS.map(([key]) => _ms(p[key])).join("")}`);
  }
  const k = s.packets;
  out.push("");
  out.push(
    `packets: ${k.sent} sent, ${k.received} received, ${k.lost} lost, ${k.duplicated} duplicated, ` +
      `${k.reordered} reordered, ${k.buffered} buffered at the AR (${k.flushed} flushed), ` +
      `${k.droppedOffLink} dropped off the old link`,
  );
  out.push(
    `interruption (largest gap between packets): ${s.interruptionMs.toFixed(1)} ms, jitter ${
      s.jitterMs.toFixed(1)
    } ms`,
  );
  const r = s.release;
  out.push(
    r.allReleased
      ? "release: all sessions released (MPA sessions, PANA sessions, leases, tunnels, sockets)"
      : `release: NOT all released: ${r.mnSessions} MPA sessions, ${r.aaSessions} PANA sessions, ` +
        `${r.arTunnels} tunnels, ${r.leases} leases, ${r.sockets} sockets left`,
  );
  out.push(
    `buffering ${s.buffering ? "on" : "off"}, seed ${s.seed}, ${
      (s.driveMs / 1000).toFixed(1)
    } s of drive at ${s.speed}x in ${
      (s.wallMs / 1000).toFixed(1)
    } s, ${s.warnings.length} warning(s)`,
  );
  return out;
}

function _round(value: unknown): unknown {
  if (typeof value === "number") return Math.round(value * 1000) / 1000;
  if (Array.isArray(value)) return value.map(_round);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, _round(v)]));
  }
  return value;
}

/**
 * The summary as one JSON line (times rounded to microseconds).
 *
 * @param s the summary
 * @returns the JSON text, without a newline
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = { interruptionMs: 50.12345678 } as unknown as Parameters<typeof demoSummaryJson>[0];
 * assertEquals(demoSummaryJson(s), '{"interruptionMs":50.123}');
 * ```
 */
export function demoSummaryJson(s: DemoSummary): string {
  return JSON.stringify(_round(s));
}
