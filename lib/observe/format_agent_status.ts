/**
 * The readable form of an {@link AgentStatus} that `mpa status` prints: the serving
 * network, counters, one table per session with its phase timings in ms (RFC 6252
 * section 6.3), and the retained contexts (sections C.1, C.2).
 *
 * @module
 */
import type { AgentStatus, SessionStatus } from "./agent_status.ts";
import { _clean, _table } from "./_text_table.ts";

/**
 * Formats a status snapshot for people. Times are shown relative to the snapshot's
 * `generatedAt` (ages, time to expiry) or to the session's first phase start (the
 * start and end columns), in ms with one decimal. A phase that has not ended shows
 * `running` and its duration so far. Control characters in names are shown as `?`.
 *
 * @param status the snapshot
 * @returns lines separated by line feeds, without a final one
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatAgentStatus } from "./format_agent_status.ts";
 * const text = formatAgentStatus({
 *   generatedAt: 1000,
 *   serving: { network: "net-a", poa: "ap-1", since: 0 },
 *   sessions: [{
 *     ctn: "ctn-b", phase: "pre-configuring", since: 940,
 *     phases: {
 *       "pre-authenticating": { startedAt: 900, endedAt: 940, durationMs: 40 },
 *       "pre-configuring": { startedAt: 940 },
 *     },
 *   }],
 *   retained: [],
 *   counters: { handovers: 2, pingPongs: 0, failures: 0, packetsBuffered: 5 },
 * });
 * assertEquals(text.split("\n"), [
 *   "Serving network: net-a  poa ap-1  for 1000.0 ms",
 *   "Counters: handovers 2  ping-pongs 0  failures 0  packets buffered 5",
 *   "",
 *   "Session ctn-b: pre-configuring for 60.0 ms",
 *   "  phase               start ms   end ms  duration ms",
 *   "  pre-authenticating       0.0     40.0         40.0",
 *   "  pre-configuring         40.0  running         60.0",
 *   "",
 *   "Retained contexts: none",
 * ]);
 * ```
 */
export function formatAgentStatus(status: AgentStatus): string {
  const now = status.generatedAt;
  const lines: string[] = [];
  const serving = status.serving;
  if (serving === null) lines.push("Serving network: none");
  else {
    const parts = [`Serving network: ${_clean(serving.network)}`];
    if (serving.poa !== undefined) parts.push(`poa ${_clean(serving.poa)}`);
    if (serving.address !== undefined) parts.push(`address ${_clean(serving.address)}`);
    if (serving.since !== undefined) parts.push(`for ${_ms(now - serving.since)} ms`);
    lines.push(parts.join("  "));
  }
  const c = status.counters;
  lines.push(
    `Counters: handovers ${c.handovers}  ping-pongs ${c.pingPongs}  failures ${c.failures}  packets buffered ${c.packetsBuffered}`,
  );
  if (status.sessions.length === 0) lines.push("", "Sessions: none");
  for (const session of status.sessions) lines.push("", ..._session(session, now));
  lines.push("");
  if (status.retained.length === 0) lines.push("Retained contexts: none");
  else {
    lines.push("Retained contexts:");
    const rows = [["ctn", "address", "expires in ms"]];
    for (const r of status.retained) {
      rows.push([
        _clean(r.ctn),
        r.address === undefined ? "-" : _clean(r.address),
        _ms(r.expiresAt - now),
      ]);
    }
    lines.push(..._table(rows, [false, false, true]).map((l) => `  ${l}`));
  }
  return lines.join("\n");
}

function _session(session: SessionStatus, now: number): string[] {
  const lines = [
    `Session ${_clean(session.ctn)}: ${session.phase} for ${_ms(now - session.since)} ms`,
  ];
  const timings = Object.entries(session.phases).sort(([, a], [, b]) => a.startedAt - b.startedAt);
  if (timings.length === 0) lines.push("  no phase timings");
  else {
    const t0 = timings[0]![1].startedAt;
    const rows = [["phase", "start ms", "end ms", "duration ms"]];
    for (const [name, t] of timings) {
      const duration = t.durationMs ??
        (t.endedAt === undefined ? now - t.startedAt : t.endedAt - t.startedAt);
      rows.push([
        _clean(name),
        _ms(t.startedAt - t0),
        t.endedAt === undefined ? "running" : _ms(t.endedAt - t0),
        _ms(duration),
      ]);
    }
    lines.push(..._table(rows, [false, true, true, true]).map((l) => `  ${l}`));
  }
  const e = session.lastError;
  if (e !== undefined) {
    const message = e.message === undefined ? "" : `: ${_clean(e.message)}`;
    lines.push(`  last error: ${e.phase} ${_clean(e.code)}${message}`);
  }
  return lines;
}

function _ms(value: number): string {
  return value.toFixed(1);
}
