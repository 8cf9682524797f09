/**
 * The mapping from the MPA orchestrator's state (`lib/mpa/`) to the
 * {@link AgentStatus} of the status endpoint. Kept apart from the status types so
 * that the session model can change without touching them: adjust this file only.
 *
 * The session model times port operations rather than phases, so a session's
 * `phases` are its operations (`preauth`, `acquire`, `tunnel`, `bind`,
 * `switch-link`, ...) with their latest start and end: the Tauth and Tconf of RFC
 * 6252 section C.6 and the switch steps of section 6.3 steps 4-6.
 *
 * @module
 */
import type { MpaState } from "../mpa/orchestrator.ts";
import type { Session } from "../mpa/session.ts";
import type {
  AgentCounters,
  AgentStatus,
  PhaseTiming,
  RetainedContext,
  SessionStatus,
} from "./agent_status.ts";

/**
 * A session of the MPA model as the status shows it.
 *
 * @param session the session
 * @returns its status: phase, since, operation timings, last error
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { attachedSession } from "../mpa/session.ts";
 * import { sessionStatusFromMpa } from "./from_mpa_state.ts";
 * const s = attachedSession("A", "a1", { address: "10.0.1.5", prefixLength: 24 }, 5);
 * assertEquals(sessionStatusFromMpa(s), { ctn: "A", phase: "attached", since: 5, phases: {} });
 * ```
 */
export function sessionStatusFromMpa(session: Session): SessionStatus {
  const phases: Record<string, PhaseTiming> = {};
  for (const [op, record] of Object.entries(session.operations)) {
    if (record === undefined) continue;
    phases[op] = record.end === undefined
      ? { startedAt: record.start }
      : { startedAt: record.start, endedAt: record.end, durationMs: record.end - record.start };
  }
  const e = session.lastError;
  return {
    ctn: session.ctn,
    phase: session.phase,
    since: session.since,
    phases,
    ...(e === undefined ? {} : {
      lastError: { phase: e.phase, code: e.code, message: e.message, at: e.at },
    }),
  };
}

/**
 * The agent status from the orchestrator's state: the serving network (with the
 * CoA of its session), every session, and the retained contexts with their
 * expiry (RFC 6252 sections C.1, C.2).
 *
 * @param state the orchestrator's state
 * @param counters the totals (from `agentCounters` of the agent's metrics)
 * @param now the snapshot time, ms on the agent's clock
 * @returns the status snapshot
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { initialMpaState } from "../mpa/orchestrator.ts";
 * import { agentStatusFromMpa } from "./from_mpa_state.ts";
 * const state = initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
 * const counters = { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 };
 * const status = agentStatusFromMpa(state, counters, 1000);
 * assertEquals(status.serving, { network: "A", poa: "a1", address: "10.0.1.5", since: 0 });
 * assertEquals(status.sessions.map((s) => s.phase), ["attached"]);
 * ```
 */
export function agentStatusFromMpa(
  state: MpaState,
  counters: AgentCounters,
  now: number,
): AgentStatus {
  const sessions = [...state.sessions.values()];
  const home = state.sessions.get(state.serving.network);
  const retained: RetainedContext[] = sessions
    .filter((s) => s.phase === "retained" && s.retainUntil !== undefined)
    .map((s) => ({
      ctn: s.ctn,
      expiresAt: s.retainUntil!,
      ...(s.address === undefined ? {} : { address: s.address.address }),
    }));
  return {
    generatedAt: now,
    serving: {
      network: state.serving.network,
      poa: state.serving.poa,
      ...(home?.address === undefined ? {} : { address: home.address.address }),
      ...(home?.phase === "attached" ? { since: home.since } : {}),
    },
    sessions: sessions.map(sessionStatusFromMpa),
    retained,
    counters,
  };
}
