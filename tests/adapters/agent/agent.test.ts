import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { resetSync } from "npm:@logtape/logtape@^2.4.2";
import { type AgentConfig, parseAgentConfig } from "../../../lib/config/agent_config.ts";
import type { LinkSample } from "../../../lib/metrics/link_sample.ts";
import { type Agent, type AgentEvent, startAgent } from "../../../adapters/agent/agent.ts";
import type { AgentPorts } from "../../../adapters/agent/build_ports.ts";
import { configureLogging } from "../../../adapters/observe/log_setup.ts";
import { FakeConfigurator } from "../../fakes/fake_configurator.ts";
import { FakeLinkControl } from "../../fakes/fake_link_control.ts";
import { FakeMetricsSource } from "../../fakes/fake_metrics_source.ts";
import { FakeMobilityProtocol } from "../../fakes/fake_mobility_protocol.ts";
import { FakePreAuthenticator } from "../../fakes/fake_pre_authenticator.ts";
import { MpaBufferingTunnels } from "../../fakes/mpa_buffering_tunnels.ts";
import { VirtualClock } from "../../fakes/mpa_virtual_clock.ts";

/** Serving a1 (network A) fades, b1 (network B) rises: prepare, preconfigure, commit, switch. */
function crossing(endMs: number, floorA = 0, capB = 60): LinkSample[] {
  const samples: LinkSample[] = [];
  for (let t = 0; t <= endMs; t += 100) {
    samples.push({ t, poa: "a1", network: "A", snr: Math.max(floorA, 30 - t / 100) });
    samples.push({ t, poa: "b1", network: "B", snr: Math.min(capB, 5 + t / 100) });
  }
  return samples;
}

function config(decision: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return parseAgentConfig({
    mn: { identity: "mn1", pskFile: "/nonexistent/mn1.psk" },
    link: { kind: "simulated" },
    metrics: { source: "simulate", scenario: "demo", seed: 1 },
    decision,
    discovery: {
      kind: "static",
      ctns: [{
        network: "B",
        aa: { address: "10.0.2.1" },
        ca: { address: "10.0.2.1", subnet: "10.0.2.0/24" },
        ar: { address: "10.0.2.1" },
        poas: ["b1"],
      }],
    },
    timeouts: { preauthMs: 1000, configureMs: 1000, tunnelMs: 1000, bindMs: 1000, switchMs: 1000 },
    retries: { preauth: 0 },
    ...extra,
  }, "mn.jsonc");
}

interface World {
  readonly clock: VirtualClock;
  readonly ports: Partial<AgentPorts>;
  readonly preauth: FakePreAuthenticator;
  readonly configurator: FakeConfigurator;
  readonly tunnels: MpaBufferingTunnels;
  readonly mobility: FakeMobilityProtocol;
  readonly link: FakeLinkControl;
  readonly metrics: FakeMetricsSource;
}

function world(samples: readonly LinkSample[]): World {
  const clock = new VirtualClock(1000);
  const base = { scheduler: clock, latencyMs: 10 };
  const preauth = new FakePreAuthenticator(base);
  const configurator = new FakeConfigurator(base);
  const tunnels = new MpaBufferingTunnels(base);
  const mobility = new FakeMobilityProtocol({ ...base, multipleCoAs: false });
  const link = new FakeLinkControl({ ...base, attached: "a1" });
  const metrics = new FakeMetricsSource(samples, { scheduler: clock });
  // Discovery is the configuration's own static table.
  const ports: Partial<AgentPorts> = {
    metrics,
    currentAddress: () => Promise.resolve({ address: "10.0.1.5", prefixLength: 24 }),
    preauth,
    configurator,
    tunnels,
    mobility,
    link,
  };
  return { clock, ports, preauth, configurator, tunnels, mobility, link, metrics };
}

const agents: Array<{ readonly agent: Agent; readonly clock: VirtualClock }> = [];
afterEach(async () => {
  for (const { agent, clock } of agents.splice(0)) {
    let stopped = false;
    const stopping = agent.shutdown("test over").then(() => stopped = true);
    while (!stopped) await clock.advance(100);
    await stopping;
  }
  resetSync();
});

async function start(
  w: World,
  c: AgentConfig,
  extra: Partial<Parameters<typeof startAgent>[0]> = {},
) {
  const agent = await startAgent({
    config: c,
    ports: w.ports,
    scheduler: w.clock,
    status: false,
    ...extra,
  });
  agents.push({ agent, clock: w.clock });
  return agent;
}

function metricValue(text: string, line: string): number {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? NaN : Number(found.slice(line.length + 1));
}

describe("startAgent (RFC 6252 sections 6.3, 7.2, C.1-C.4)", () => {
  it("runs a full prepare -> preconfigure -> commit -> switch cycle, seen in snapshot() and /metrics", async () => {
    const w = world(crossing(8000));
    const agent = await start(w, config());
    const kinds: string[] = [];
    agent.events$.subscribe((e: AgentEvent) => {
      if (e.kind === "decision") kinds.push(e.decision.kind);
    });
    expect(agent.snapshot().serving).toBeNull();
    await w.clock.advance(6000);
    expect(kinds.slice(0, 4)).toEqual(["prepare", "preconfigure", "commit", "switch"]);
    const status = agent.snapshot();
    expect(status.serving).toMatchObject({ network: "B", poa: "b1" });
    const b = status.sessions.find((s) => s.ctn === "B")!;
    expect(b.phase).toBe("attached");
    for (const op of ["preauth", "acquire", "tunnel", "bind", "switch-link", "assign"]) {
      expect(b.phases[op]?.durationMs, op).toBeGreaterThanOrEqual(0);
    }
    expect(status.counters).toMatchObject({
      handovers: 1,
      pingPongs: 0,
      failures: 0,
      packetsBuffered: 3,
    });
    const text = agent.metrics.render();
    expect(metricValue(text, "mpa_handovers_total")).toBe(1);
    expect(metricValue(text, "mpa_packets_buffered_total")).toBe(3);
    expect(metricValue(text, 'mpa_phase_duration_seconds_count{phase="preauth"}')).toBe(1);
    expect(metricValue(text, 'mpa_sessions{phase="attached"}')).toBe(1);
    expect(w.link.attached).toBe("b1");
    expect(w.mobility.current?.coas).toEqual([w.configurator.leases[0]?.nCoA]);
  });

  it("stops by itself when the metrics end and releases everything", async () => {
    const w = world(crossing(3000, 10, 35));
    const agent = await start(w, config());
    await w.clock.advance(2500);
    expect(w.preauth.granted.length).toBe(1);
    await w.clock.advance(2000);
    const exit = await agent.done;
    expect(exit.reason).toBe("completed");
    expect(w.tunnels.tunnels).toEqual([]);
    expect(w.configurator.leases).toEqual([]);
    expect(agent.snapshot().sessions.every((s) => s.phase === "released")).toBe(true);
  });

  it("shutdown releases tunnels, leases and the binding, and is idempotent", async () => {
    const w = world(crossing(20_000, 10, 35)); // b1 never beats a1 by 3 dB + dwell
    const agent = await start(w, config({ margin: 40 }));
    await w.clock.advance(4000);
    const b = agent.snapshot().sessions.find((s) => s.ctn === "B");
    expect(b?.phase).toBe("bound");
    expect(w.tunnels.tunnels.length).toBe(1);
    expect(w.configurator.leases.length).toBe(1);
    const first = agent.shutdown("test");
    const second = agent.shutdown("again");
    await w.clock.advance(100);
    await Promise.all([first, second]);
    expect(await agent.done).toEqual({ reason: "shutdown", detail: "test" });
    expect(w.tunnels.tunnels).toEqual([]);
    expect(w.configurator.leases).toEqual([]);
    expect(w.mobility.current?.lifetimeMs).toBe(0); // deregistered
    expect(w.metrics.subscriptions).toBe(1);
  });

  it("keeps running when pre-authentication fails, counting the failure", async () => {
    const w = world(crossing(8000));
    const failing = new FakePreAuthenticator({ scheduler: w.clock, fail: () => "unreachable" });
    const agent = await start({ ...w, ports: { ...w.ports, preauth: failing } }, config());
    await w.clock.advance(6000);
    const status = agent.snapshot();
    expect(status.counters.failures).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(
        agent.metrics.render(),
        'mpa_failures_total{phase="pre-authenticating",code="unreachable"}',
      ),
    )
      .toBeGreaterThanOrEqual(1);
    // The switch happened reactively (section C.6) or was refused: either way, the agent runs on.
    expect(agent.snapshot().generatedAt).toBe(w.clock.now());
  });

  it("reload changes the log level and the decision parameters (SIGHUP)", async () => {
    const lines: string[] = [];
    const applyLog = (
      log: { readonly level: "trace" | "debug" | "info" | "warning" | "error" | "fatal" },
    ) => configureLogging({ level: log.level, isTerminal: false, write: (t) => lines.push(t) });
    const w = world(crossing(12_000, 10, 35));
    const before = config({ margin: 40 });
    const agent = await start(w, before, { applyLog });
    const kinds: string[] = [];
    agent.events$.subscribe((e) => e.kind === "decision" && kinds.push(e.decision.kind));
    await w.clock.advance(4000);
    expect(kinds).not.toContain("switch");
    expect(lines.some((l) => JSON.parse(l).level === "DEBUG")).toBe(false);

    const after = config({ margin: 3 }, { log: { level: "debug" } });
    const result = await agent.reload(after);
    expect(result).toEqual({ applied: ["log", "decision"], needsRestart: [] });
    await w.clock.advance(4000);
    expect(kinds).toContain("switch");
    expect(agent.snapshot().counters.handovers).toBe(1);
    expect(lines.some((l) => JSON.parse(l).level === "DEBUG")).toBe(true);
    expect(lines.some((l) => JSON.parse(l).message.startsWith("Configuration reloaded"))).toBe(
      true,
    );
    expect(agent.config.decision.margin).toBe(3);
  });

  it("reload reports what needs a restart and keeps the running value", async () => {
    const lines: string[] = [];
    const w = world(crossing(3000));
    const agent = await start(w, config(), {
      applyLog: (log) =>
        configureLogging({ level: log.level, isTerminal: false, write: (t) => lines.push(t) }),
    });
    const next = config({}, {
      mobility: {
        kind: "mip6",
        home: "10.9.0.1",
        homeAgent: { address: "10.9.0.2" },
        keyFile: "k",
      },
      limits: { maxPreauthenticated: 1 },
    });
    const result = await agent.reload(next);
    expect(result).toEqual({ applied: ["limits"], needsRestart: ["mobility"] });
    expect(agent.config.mobility.kind).toBe("none");
    expect(agent.config.limits.maxPreauthenticated).toBe(1);
    const warning = lines.map((l) => JSON.parse(l)).find((r) => r.level === "WARN");
    expect(warning?.message).toContain("need a restart");
    expect(warning?.properties.sections).toBe("mobility");
  });

  it("serves /status and /metrics while running", async () => {
    const w = world(crossing(8000));
    const agent = await start(w, config(), { status: { listen: "127.0.0.1:0" } });
    await w.clock.advance(6000);
    const url = agent.statusServer!.url;
    const status = await (await fetch(`${url}/status`)).json();
    expect(status.serving.network).toBe("B");
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(metricValue(text, "mpa_handovers_total")).toBe(1);
  });
});
