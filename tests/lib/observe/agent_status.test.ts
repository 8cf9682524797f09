/**
 * The agent status (RFC 6252 section 6.3 session phases, sections C.1/C.2 retained
 * contexts): read back from JSON strictly, printed readably for `mpa status`, and
 * turned into metrics.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import type { AgentStatus, SessionStatus } from "../../../lib/observe/agent_status.ts";
import { parseAgentStatus } from "../../../lib/observe/parse_agent_status.ts";
import { formatAgentStatus } from "../../../lib/observe/format_agent_status.ts";
import { MetricsRegistry } from "../../../lib/observe/metrics_registry.ts";
import {
  agentCounters,
  createAgentMetrics,
  recordSessionChange,
  recordStatusGauges,
} from "../../../lib/observe/agent_metrics.ts";

const STATUS: AgentStatus = {
  generatedAt: 10_000,
  serving: { network: "net-a", poa: "ap-1", address: "10.0.0.5", since: 2_000 },
  sessions: [
    {
      ctn: "ctn-b",
      phase: "tunnelled",
      since: 9_100,
      phases: {
        "pre-configuring": { startedAt: 9_012.5, endedAt: 9_100, durationMs: 87.5 },
        "pre-authenticating": { startedAt: 9_000, endedAt: 9_012.5, durationMs: 12.5 },
        tunnelled: { startedAt: 9_100 },
      },
    },
    {
      ctn: "ctn-c",
      phase: "failed",
      since: 9_500,
      phases: { "pre-authenticating": { startedAt: 8_500, endedAt: 9_500, durationMs: 1000 } },
      lastError: { phase: "pre-authenticating", code: "timeout", message: "No answer from the AA" },
    },
  ],
  retained: [{ ctn: "net-0", expiresAt: 40_000, address: "10.9.0.7" }, {
    ctn: "net-z",
    expiresAt: 10_500,
  }],
  counters: { handovers: 3, pingPongs: 1, failures: 1, packetsBuffered: 42 },
};

describe("parseAgentStatus", () => {
  it("reads back what JSON.stringify wrote (the /status body round trip)", () => {
    expect(parseAgentStatus(JSON.parse(JSON.stringify(STATUS)))).toEqual(STATUS);
  });

  it("drops unknown fields and keeps a __proto__ phase name as a plain key", () => {
    const json = JSON.parse(JSON.stringify(STATUS));
    json.extra = 1;
    json.sessions[0].phases = JSON.parse('{"__proto__": {"startedAt": 1}}');
    const status = parseAgentStatus(json);
    expect("extra" in status).toBe(false);
    const phases = status.sessions[0]!.phases;
    expect(Object.keys(phases)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(phases)).toBe(Object.prototype);
  });

  it("refuses missing, mistyped and unknown values, naming the field", () => {
    const cases: [
      (j: Record<string, unknown> & { sessions: Record<string, unknown>[] }) => void,
      string,
    ][] = [
      [(j) => delete j.generatedAt, "generatedAt is not a finite number"],
      [(j) => (j.serving = "net-a"), "serving is not an object"],
      [(j) => ((j as Record<string, unknown>).sessions = {}), "sessions is not an array"],
      [(j) => (j.sessions[1]!.phase = "flying"), "sessions[1].phase is not one of discovered"],
      [(j) => (j.sessions[0]!.ctn = ""), "sessions[0].ctn is not a non-empty string"],
      [
        (j) => ((j.sessions[0]!.phases as Record<string, unknown>).tunnelled = { startedAt: null }),
        "sessions[0].phases.tunnelled.startedAt",
      ],
      [
        (j) => (j.counters = { handovers: -1, pingPongs: 0, failures: 0, packetsBuffered: 0 }),
        "counters.handovers is not a non-negative integer",
      ],
      [(j) => (j.retained = [{ ctn: "x" }]), "retained[0].expiresAt"],
    ];
    for (const [mutate, message] of cases) {
      const json = JSON.parse(JSON.stringify(STATUS));
      mutate(json);
      expect(() => parseAgentStatus(json), message).toThrow(MalformedMessageError);
      expect(() => parseAgentStatus(json), message).toThrow(message);
    }
    expect(() => parseAgentStatus([])).toThrow("Invalid agent status: status is not an object");
    expect(() => parseAgentStatus(null)).toThrow(MalformedMessageError);
  });
});

describe("formatAgentStatus (mpa status)", () => {
  it("prints the serving network, counters, a table per session in start order, and retained contexts", () => {
    expect(formatAgentStatus(STATUS).split("\n")).toEqual([
      "Serving network: net-a  poa ap-1  address 10.0.0.5  for 8000.0 ms",
      "Counters: handovers 3  ping-pongs 1  failures 1  packets buffered 42",
      "",
      "Session ctn-b: tunnelled for 900.0 ms",
      "  phase               start ms   end ms  duration ms",
      "  pre-authenticating       0.0     12.5         12.5",
      "  pre-configuring         12.5    100.0         87.5",
      "  tunnelled              100.0  running        900.0",
      "",
      "Session ctn-c: failed for 500.0 ms",
      "  phase               start ms  end ms  duration ms",
      "  pre-authenticating       0.0  1000.0       1000.0",
      "  last error: pre-authenticating timeout: No answer from the AA",
      "",
      "Retained contexts:",
      "  ctn    address   expires in ms",
      "  net-0  10.9.0.7        30000.0",
      "  net-z  -                 500.0",
    ]);
  });

  it("says none for no serving network, sessions or retained contexts", () => {
    const text = formatAgentStatus({
      generatedAt: 0,
      serving: null,
      sessions: [{ ctn: "b", phase: "discovered", since: 0, phases: {} }],
      retained: [],
      counters: { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 },
    });
    expect(text).toContain("Serving network: none\n");
    expect(text).toContain("Session b: discovered for 0.0 ms\n  no phase timings\n");
    expect(text.endsWith("Retained contexts: none")).toBe(true);
    expect(formatAgentStatus({ ...STATUS, sessions: [] })).toContain("\nSessions: none\n");
  });

  it("shows control characters from a remote agent as ? (no terminal escape injection)", () => {
    const text = formatAgentStatus({
      ...STATUS,
      serving: { network: "net\u001b[2J-a" },
      sessions: [],
      retained: [],
    });
    expect(text).toContain("Serving network: net?[2J-a");
    expect(text).not.toContain("\u001b");
  });
});

describe("agent metrics", () => {
  it("records each newly ended phase once and each new last error once", () => {
    const metrics = createAgentMetrics(new MetricsRegistry());
    const s0: SessionStatus = {
      ctn: "b",
      phase: "pre-authenticating",
      since: 0,
      phases: { "pre-authenticating": { startedAt: 0 } },
    };
    const s1: SessionStatus = {
      ...s0,
      phase: "pre-configuring",
      phases: {
        "pre-authenticating": { startedAt: 0, endedAt: 20, durationMs: 20 },
        "pre-configuring": { startedAt: 20 },
      },
    };
    const s2: SessionStatus = {
      ...s1,
      phase: "failed",
      phases: { ...s1.phases, "pre-configuring": { startedAt: 20, endedAt: 3020 } },
      lastError: { phase: "pre-configuring", code: "timeout", at: 3020 },
    };
    recordSessionChange(metrics, undefined, s0);
    recordSessionChange(metrics, s0, s1);
    recordSessionChange(metrics, s1, s1);
    recordSessionChange(metrics, s1, s2);
    recordSessionChange(metrics, s2, s2);
    expect(metrics.phaseDuration.get({ phase: "pre-authenticating" })).toMatchObject({
      count: 1,
      sum: 0.02,
    });
    expect(metrics.phaseDuration.get({ phase: "pre-configuring" })).toMatchObject({
      count: 1,
      sum: 3,
    });
    expect(metrics.failures.get({ phase: "pre-configuring", code: "timeout" })).toBe(1);
    // A new run of the same phase (new start) is a new observation.
    const s3: SessionStatus = {
      ...s2,
      phases: { ...s2.phases, "pre-configuring": { startedAt: 4000, endedAt: 4010 } },
      lastError: { phase: "pre-configuring", code: "timeout", at: 4010 },
    };
    recordSessionChange(metrics, s2, s3);
    expect(metrics.phaseDuration.get({ phase: "pre-configuring" }).count).toBe(2);
    expect(metrics.failures.get({ phase: "pre-configuring", code: "timeout" })).toBe(2);
  });

  it("sets gauges from a snapshot, clearing phases no session is in any more", () => {
    const metrics = createAgentMetrics(new MetricsRegistry());
    recordStatusGauges(metrics, STATUS);
    expect(metrics.sessions.get({ phase: "tunnelled" })).toBe(1);
    expect(metrics.sessions.get({ phase: "failed" })).toBe(1);
    expect(metrics.retainedContexts.get()).toBe(2);
    recordStatusGauges(metrics, { ...STATUS, sessions: [], retained: [] });
    expect(metrics.sessions.get({ phase: "tunnelled" })).toBe(0);
    expect(metrics.retainedContexts.get()).toBe(0);
  });

  it("gives the status counters from the metrics, failures summed over labels", () => {
    const metrics = createAgentMetrics(new MetricsRegistry());
    metrics.handovers.inc(3);
    metrics.pingPongs.inc();
    metrics.packetsBuffered.inc(42);
    metrics.failures.inc(1, { phase: "bound", code: "refused" });
    expect(agentCounters(metrics)).toEqual(STATUS.counters);
  });

  it("refuses registering the agent metrics twice in one registry", () => {
    const registry = new MetricsRegistry();
    createAgentMetrics(registry);
    expect(() => createAgentMetrics(registry)).toThrow("already registered");
  });
});
