/**
 * The MPA orchestrator's state seen through the status endpoint: phases, operation
 * timings (RFC 6252 section C.6 Tauth/Tconf), last error, retained contexts
 * (sections C.1, C.2).
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { createSession, SESSION_PHASES } from "../../../lib/mpa/session.ts";
import { initialMpaState, type MpaState } from "../../../lib/mpa/orchestrator.ts";
import { STATUS_PHASES } from "../../../lib/observe/agent_status.ts";
import { agentStatusFromMpa, sessionStatusFromMpa } from "../../../lib/observe/from_mpa_state.ts";
import { parseAgentStatus } from "../../../lib/observe/parse_agent_status.ts";
import { formatAgentStatus } from "../../../lib/observe/format_agent_status.ts";

const COUNTERS = { handovers: 1, pingPongs: 0, failures: 1, packetsBuffered: 3 };

describe("agentStatusFromMpa", () => {
  it("uses the same phases as the session model, in the same order", () => {
    expect(STATUS_PHASES).toEqual(SESSION_PHASES);
  });

  it("maps operation timings, running operations and the last error", () => {
    const session = {
      ...createSession("B", 100),
      phase: "failed" as const,
      since: 400,
      operations: {
        preauth: { start: 100, end: 112.5, ok: true, attempts: 1 },
        acquire: { start: 112.5, end: 400, ok: false, attempts: 2 },
        tunnel: { start: 390, end: undefined, ok: undefined, attempts: 1 },
      },
      lastError: {
        op: "acquire" as const,
        phase: "pre-configuring" as const,
        code: "timeout" as const,
        message: "No DHCP answer",
        at: 400,
      },
    };
    expect(sessionStatusFromMpa(session)).toEqual({
      ctn: "B",
      phase: "failed",
      since: 400,
      phases: {
        preauth: { startedAt: 100, endedAt: 112.5, durationMs: 12.5 },
        acquire: { startedAt: 112.5, endedAt: 400, durationMs: 287.5 },
        tunnel: { startedAt: 390 },
      },
      lastError: { phase: "pre-configuring", code: "timeout", message: "No DHCP answer", at: 400 },
    });
  });

  it("lists retained contexts with their expiry and nCoA, and the serving CoA", () => {
    const s0 = initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
    const retained = {
      ...createSession("C", 10),
      phase: "retained" as const,
      since: 50,
      retainUntil: 30_050,
      address: { address: "10.0.3.9", prefixLength: 24 },
    };
    const state: MpaState = { ...s0, sessions: new Map([...s0.sessions, ["C", retained]]) };
    const status = agentStatusFromMpa(state, COUNTERS, 1_000);
    expect(status.serving).toEqual({ network: "A", poa: "a1", address: "10.0.1.5", since: 0 });
    expect(status.retained).toEqual([{ ctn: "C", expiresAt: 30_050, address: "10.0.3.9" }]);
    expect(status.sessions.map((s) => [s.ctn, s.phase])).toEqual([["A", "attached"], [
      "C",
      "retained",
    ]]);
    expect(status.counters).toEqual(COUNTERS);
    // What the endpoint serves reads back and prints.
    const back = parseAgentStatus(JSON.parse(JSON.stringify(status)));
    expect(back).toEqual(status);
    expect(formatAgentStatus(back)).toContain("  C    10.0.3.9        29050.0");
  });
});
