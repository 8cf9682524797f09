/**
 * One JSON-safe record per agent event (`mpa agent --events FILE`): what a
 * researcher needs to time a handover (RFC 6252 section 6.3's steps: the decision,
 * each port command and its result, notices) without anything secret. Only
 * primitive fields are copied from decisions, commands, results and notices; of the
 * nested objects only the CoAs of a binding, the nCoA of a lease and the PaC's
 * phase timings of an MPA-SA are kept. Keys, MPA-SAs and tunnel handles never are.
 * A decision's own time (on the link samples' clock) is `sampleT`.
 *
 * @module
 */
import type { AgentEvent } from "./agent.ts";

/** An event as written to the events file. */
export interface AgentEventRecord {
  /** When the agent emitted it, epoch ms with sub-millisecond precision. */
  readonly t: number;
  /** `decision`, `command`, `result` (a port call's outcome or a session input), `event`, `notice`. */
  readonly type: "decision" | "command" | "result" | "event" | "notice";
  /** The decision, command, result or event kind; `notice` for notices. */
  readonly kind: string;
  /** The CTN concerned, when one is. */
  readonly ctn?: string;
  /** Every other primitive field (`at`, `seq`, `poa`, `code`, `message`, ...). */
  readonly [field: string]: unknown;
}

const _NEVER = /key|secret|psk|msk|emsk/i;

function _primitives(o: object, skip: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (skip.includes(k) || _NEVER.test(k)) continue;
    if (typeof v === "string" || typeof v === "boolean") out[k] = v;
    else if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function _numbers(o: unknown): Record<string, number> | undefined {
  if (typeof o !== "object" || o === null) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The record of one agent event.
 *
 * @param entry an entry of `Agent.events$`
 * @param t when it was emitted, epoch ms
 * @returns the JSON-safe record
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const r = agentEventRecord({
 *   kind: "command",
 *   at: 5,
 *   command: { kind: "switch-link", ctn: "B", seq: 3, poa: "b1" },
 * }, 1000.5);
 * assertEquals(r, { t: 1000.5, type: "command", kind: "switch-link", ctn: "B", at: 5, seq: 3, poa: "b1" });
 * ```
 */
export function agentEventRecord(entry: AgentEvent, t: number): AgentEventRecord {
  switch (entry.kind) {
    case "decision":
      return {
        ..._primitives(entry.decision, ["kind", "t"]),
        // The decision's own time is on the samples' clock: kept apart from `t`.
        sampleT: entry.decision.t,
        t,
        type: "decision",
        kind: entry.decision.kind,
        at: entry.at,
      };
    case "command": {
      const c = entry.command as unknown as Record<string, unknown> & { kind: string };
      const extra: Record<string, unknown> = {};
      if (Array.isArray(c.coas)) extra.coas = c.coas.filter((a) => typeof a === "string");
      if (c.kind === "bind") extra.viaTunnel = c.tunnel !== undefined;
      return {
        ..._primitives(c, ["kind"]),
        ...extra,
        t,
        type: "command",
        kind: c.kind,
        at: entry.at,
      };
    }
    case "notice":
      return { ..._primitives(entry, ["kind"]), t, type: "notice", kind: "notice" };
    case "event": {
      const e = entry.event;
      if (e.kind !== "session") {
        const decision = e.kind === "decision" ? { decision: e.decision.kind } : {};
        return { ..._primitives(e, ["kind"]), ...decision, t, type: "event", kind: e.kind };
      }
      const r = e.event as unknown as Record<string, unknown> & { kind: string };
      const extra: Record<string, unknown> = {};
      const sa = r.sa as { timings?: unknown } | undefined;
      const timings = _numbers(sa?.timings);
      if (timings !== undefined) extra.timings = timings;
      const lease = r.lease as { nCoA?: unknown; prefixLength?: unknown } | undefined;
      if (typeof lease?.nCoA === "string") extra.nCoA = lease.nCoA;
      return {
        ..._primitives(r, ["kind"]),
        ...extra,
        t,
        type: "result",
        kind: r.kind,
        ctn: e.ctn,
      };
    }
  }
}
