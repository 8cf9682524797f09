/**
 * `agentEventRecord` (`mpa agent --events`): JSON-safe records of the agent's events
 * with the fields a handover timing needs and nothing secret.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { agentEventRecord } from "../../../adapters/agent/event_record.ts";
import type { AgentEvent } from "../../../adapters/agent/agent.ts";

const SA = {
  ctn: "B",
  mnId: "mn1",
  sessionId: 7,
  establishedAt: 1,
  lifetimeMs: 1000,
  expiresAt: 1001,
  keyIds: { mnCa: "k1", mnAr: "k2" },
  keys: { mnCa: "SECRET-CA", mnAr: "SECRET-AR" },
  timings: { pciToPar: 1.5, eap: 4, completion: 0.5, total: 6 },
  state: "open",
};

describe("agentEventRecord", () => {
  it("a command keeps its primitive fields, the CoAs of a bind and whether it goes through a tunnel", () => {
    const entry = {
      kind: "command",
      at: 5,
      command: {
        kind: "bind",
        ctn: "B",
        seq: 4,
        coas: ["10.0.2.10"],
        tunnel: { id: "pht-1", ctn: "B" },
        lifetimeMs: undefined,
      },
    } as unknown as AgentEvent;
    expect(agentEventRecord(entry, 1000.25)).toEqual({
      t: 1000.25,
      type: "command",
      kind: "bind",
      ctn: "B",
      seq: 4,
      at: 5,
      coas: ["10.0.2.10"],
      viaTunnel: true,
    });
  });

  it("a pre-authentication result keeps the PaC's phase timings and drops the MPA-SA and its keys", () => {
    const entry = {
      kind: "event",
      event: { kind: "session", ctn: "B", event: { kind: "preauth-ok", at: 9, seq: 1, sa: SA } },
    } as unknown as AgentEvent;
    const r = agentEventRecord(entry, 2000);
    expect(r).toEqual({
      t: 2000,
      type: "result",
      kind: "preauth-ok",
      ctn: "B",
      at: 9,
      seq: 1,
      timings: SA.timings,
    });
    expect(JSON.stringify(r)).not.toContain("SECRET");
  });

  it("a lease result keeps the nCoA; a failure keeps op, code and message", () => {
    const lease = {
      kind: "event",
      event: {
        kind: "session",
        ctn: "B",
        event: { kind: "lease-ok", at: 3, seq: 2, lease: { nCoA: "10.0.2.10", prefixLength: 24 } },
      },
    } as unknown as AgentEvent;
    expect(agentEventRecord(lease, 1)).toMatchObject({ kind: "lease-ok", nCoA: "10.0.2.10" });
    const failed = {
      kind: "event",
      event: {
        kind: "session",
        ctn: "B",
        event: {
          kind: "op-failed",
          at: 4,
          seq: 3,
          op: "flush",
          code: "not-found",
          message: "The AR refused: unknown tunnel",
        },
      },
    } as unknown as AgentEvent;
    expect(agentEventRecord(failed, 2)).toEqual({
      t: 2,
      type: "result",
      kind: "op-failed",
      ctn: "B",
      at: 4,
      seq: 3,
      op: "flush",
      code: "not-found",
      message: "The AR refused: unknown tunnel",
    });
  });

  it("decisions and notices keep their primitive fields; nested budgets are left out", () => {
    const decision = {
      kind: "decision",
      at: 7,
      decision: {
        kind: "switch",
        t: 5156,
        ctn: "B",
        poa: "b1",
        reactive: false,
        prepared: ["preauth"],
        reason: "b1 beat a1",
      },
    } as unknown as AgentEvent;
    expect(agentEventRecord(decision, 3)).toEqual({
      t: 3,
      type: "decision",
      kind: "switch",
      sampleT: 5156,
      at: 7,
      ctn: "B",
      poa: "b1",
      reactive: false,
      reason: "b1 beat a1",
    });
    const notice = {
      kind: "notice",
      ctn: "B",
      at: 8,
      level: "warn",
      message: "Retrying bind",
    } as AgentEvent;
    expect(agentEventRecord(notice, 4)).toEqual({
      t: 4,
      type: "notice",
      kind: "notice",
      ctn: "B",
      at: 8,
      level: "warn",
      message: "Retrying bind",
    });
  });
});
