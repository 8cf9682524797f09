import { describe, expect, it } from "npm:vitest@4.1.12";
import { Subject } from "npm:rxjs@^7.8.2";
import type { Decision, Phase } from "../../../lib/decision/decision.ts";
import type { CtnInfo, PortErrorCode } from "../../../lib/ports.ts";
import { runSessions, type SessionRunner } from "../../../adapters/agent/run_sessions.ts";
import { FakeConfigurator } from "../../fakes/fake_configurator.ts";
import { FakeLinkControl } from "../../fakes/fake_link_control.ts";
import { FakeMobilityProtocol } from "../../fakes/fake_mobility_protocol.ts";
import { FakePreAuthenticator } from "../../fakes/fake_pre_authenticator.ts";
import { MpaBufferingTunnels } from "../../fakes/mpa_buffering_tunnels.ts";
import { VirtualClock } from "../../fakes/mpa_virtual_clock.ts";
import type { FakeCall } from "../../fakes/_fake_behaviour.ts";

function ctn(network: string, i: number): CtnInfo {
  const host = `10.0.${i}.1`;
  return {
    network,
    aa: { address: host },
    ca: { address: host },
    ar: { address: host },
    poas: [`${network.toLowerCase()}1`],
    subnet: `10.0.${i}.0/24`,
  };
}

const CTNS = [ctn("B", 2), ctn("C", 3)];

interface WorldOptions {
  readonly multipleCoAs?: boolean;
  readonly retries?: number;
  readonly latency?: (call: FakeCall) => number;
  readonly reachable?: readonly string[];
  readonly maxConfigured?: number;
}

function world(o: WorldOptions = {}) {
  const clock = new VirtualClock(1000);
  const base = { scheduler: clock, ...(o.latency === undefined ? {} : { latencyMs: o.latency }) };
  const preauth = new FakePreAuthenticator(base);
  const configurator = new FakeConfigurator(base);
  const tunnels = new MpaBufferingTunnels(base);
  const mobility = new FakeMobilityProtocol({ ...base, multipleCoAs: o.multipleCoAs ?? false });
  const link = new FakeLinkControl({
    ...base,
    attached: "a1",
    ...(o.reachable === undefined ? {} : { reachable: o.reachable }),
  });
  const decisions = new Subject<Decision>();
  const runner: SessionRunner = runSessions({
    ports: { preauth, configurator, tunnels, mobility, link },
    decisions,
    serving: { network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 },
    ctns: CTNS,
    limits: { maxConfigured: o.maxConfigured ?? 2 },
    timeouts: { preauthMs: 1000, configureMs: 1000, tunnelMs: 1000, bindMs: 1000, switchMs: 1000 },
    retries: o.retries ?? 0,
    scheduler: clock,
  });
  /** Every port call, in order, across the fakes. */
  const calls = (): string[] =>
    [
      ...preauth.behaviour.calls.map((c) => ({
        c,
        n: `preAuthenticate(${(c.args[0] as CtnInfo).network})`,
      })),
      ...configurator.behaviour.calls.map((c) => ({ c, n: c.method })),
      ...tunnels.behaviour.calls.map((c) => ({ c, n: c.method })),
      ...mobility.behaviour.calls.map((c) => ({
        c,
        n: `bind(${(c.args[0] as string[]).join(",")})`,
      })),
      ...link.behaviour.calls.map((c) => ({ c, n: `${c.method}(${c.args[0]})` })),
    ].sort((a, b) => a.c.at - b.c.at || order.indexOf(a.c) - order.indexOf(b.c)).map((x) => x.n);
  // Calls in global order: every fake's call log, merged by insertion.
  const order: FakeCall[] = [];
  for (const f of [preauth, configurator, tunnels, mobility, link]) {
    const calls = f.behaviour.calls as FakeCall[];
    const push = calls.push.bind(calls);
    calls.push = (...items: FakeCall[]) => {
      order.push(...items);
      return push(...items);
    };
  }
  const decide = async (...ds: Decision[]) => {
    for (const d of ds) decisions.next(d);
    await clock.settle();
    await runner.idle();
    await clock.settle();
  };
  const phase = (n: string) => runner.snapshot().sessions.get(n)?.phase;
  return { clock, preauth, configurator, tunnels, mobility, link, runner, calls, decide, phase };
}

const t = 0;
const prepare = (...ctns: string[]): Decision => ({
  kind: "prepare",
  t,
  ctns,
  poa: "a1",
  budgets: {},
  reason: "",
});
const preconfigure = (c: string): Decision => ({
  kind: "preconfigure",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  budget: { leadMs: null, authMs: 0, confMs: 0, bindMs: 0, phases: [] },
  reason: "",
});
const commit = (c: string): Decision => ({ ...preconfigure(c), kind: "commit" }) as Decision;
const switchTo = (c: string, from = "A", prepared: readonly Phase[] = []): Decision => ({
  kind: "switch",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  from: `${from.toLowerCase()}1`,
  fromNetwork: from,
  prepared,
  reactive: prepared.length === 0,
  reason: "",
});
const release = (
  c: string,
  retainMs: number,
  phases: readonly Phase[] = ["preauth", "preconfigure"],
): Decision => ({
  kind: "release",
  t,
  ctn: c,
  poa: "x",
  phases,
  retainMs,
  reason: "",
});
const restore = (c: string): Decision => ({
  kind: "restore",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  reason: "",
});

describe("runSessions: the six steps of RFC 6252 section 6.3", () => {
  it("prepares, binds through the tunnel, buffers, switches, assigns, deletes the PHT, flushes, rebinds and extends the lease", async () => {
    const w = world();
    await w.decide(prepare("B"));
    expect(w.phase("B")).toBe("pre-authenticated");
    await w.decide(preconfigure("B"));
    expect(w.phase("B")).toBe("tunnelled");
    await w.decide(commit("B"));
    expect(w.phase("B")).toBe("bound");
    expect(w.mobility.current?.tunnel).toBe("pht-1");
    await w.decide(switchTo("B", "A", ["preauth", "preconfigure", "bind"]), release("A", 30000));
    expect(w.calls()).toEqual([
      "preAuthenticate(B)",
      "acquire",
      "open",
      "bind(10.0.2.10)",
      "buffer",
      "switchTo(b1)",
      "assign(10.0.2.10)",
      "close",
      "flush",
      "bind(10.0.2.10)",
      "renew",
    ]);
    const s = w.runner.snapshot();
    expect(s.serving).toEqual({ network: "B", poa: "b1" });
    expect(w.phase("B")).toBe("attached");
    expect(w.phase("A")).toBe("retained");
    expect(w.mobility.current?.tunnel).toBeUndefined();
    expect(w.tunnels.tunnels).toEqual([]);
    expect(w.link.address).toEqual({ address: "10.0.2.10", prefixLength: 24 });
    // Phase timings for the status endpoint (Tauth, Tconf, tunnel, BU).
    const ops = s.sessions.get("B")!.operations;
    expect(ops.preauth?.ok).toBe(true);
    expect(ops.acquire?.end).toBeDefined();
    expect(ops.renew?.attempts).toBe(1);
    await w.runner.shutdown();
  });

  it("pre-authenticates several CTNs in parallel (section 7.2)", async () => {
    const w = world({ latency: () => 100 });
    w.runner.snapshot();
    const done = w.decide(prepare("B", "C"));
    await w.clock.advance(100);
    await done;
    expect(w.preauth.behaviour.calls.map((c) => c.at)).toEqual([1000, 1000]);
    expect([w.phase("B"), w.phase("C")]).toEqual(["pre-authenticated", "pre-authenticated"]);
    const shut = w.runner.shutdown();
    await w.clock.advance(1000);
    await shut;
  });
});

describe("runSessions: a failure at each preparation phase ends in a defined state, then a reactive switch", () => {
  const methods = [
    { method: "preAuthenticate", fake: "preauth", op: "preauth" },
    { method: "acquire", fake: "configurator", op: "acquire" },
    { method: "open", fake: "tunnels", op: "tunnel" },
    { method: "bind", fake: "mobility", op: "bind" },
  ] as const;
  const codes: readonly PortErrorCode[] = ["timeout", "rejected", "unreachable"];
  for (const m of methods) {
    for (const code of codes) {
      it(`${m.method} ${code}: session failed with the error, the switch completes what is missing`, async () => {
        let first = true;
        const latency = (c: FakeCall) => {
          if (code === "timeout" && c.method === m.method && first) {
            first = false;
            return 60_000;
          }
          return 0;
        };
        const w = world({ latency });
        if (code !== "timeout") w[m.fake].behaviour.failNext(code, m.method);
        const step = w.decide(prepare("B"), preconfigure("B"), commit("B"));
        if (code === "timeout") await w.clock.advance(1000);
        await step;
        const b = w.runner.snapshot().sessions.get("B")!;
        expect(b.phase).toBe("failed");
        expect(b.lastError).toMatchObject({ op: m.op, code });
        await w.decide(switchTo("B", "A", []), release("A", 30000));
        expect(w.phase("B")).toBe("attached");
        expect(w.runner.snapshot().serving.network).toBe("B");
        expect(w.link.address?.address).toBe("10.0.2.10");
        expect(w.mobility.current?.coas).toEqual(["10.0.2.10"]);
        const calls = w.calls();
        const sw = calls.indexOf("switchTo(b1)");
        expect(sw).toBeGreaterThan(0);
        // What failed before the switch is done after it (reactive handover).
        if (m.op === "preauth") {
          expect(calls.slice(sw)).toEqual(
            expect.arrayContaining(["preAuthenticate(B)", "acquire", "assign(10.0.2.10)"]),
          );
          expect(calls.slice(sw).includes("open")).toBe(false);
        }
        if (m.op === "acquire") expect(calls.slice(sw)).toContain("acquire");
        expect(w.tunnels.tunnels).toEqual([]);
        await w.runner.shutdown();
        expect(w.configurator.leases).toEqual([]);
      });
    }
  }

  it("retries a timed-out pre-authentication within the limit (section 6.3 step 1)", async () => {
    let n = 0;
    const w = world({
      retries: 1,
      latency: (c) => (c.method === "preAuthenticate" && n++ === 0 ? 60_000 : 0),
    });
    const step = w.decide(prepare("B"));
    await w.clock.advance(1000);
    await step;
    const b = w.runner.snapshot().sessions.get("B")!;
    expect(b.phase).toBe("pre-authenticated");
    expect(b.operations.preauth?.attempts).toBe(2);
    expect(w.preauth.granted.length).toBe(1);
    await w.runner.shutdown();
  });

  it("reactive handover to a CTN never prepared: authenticate, configure and bind after the switch", async () => {
    const w = world();
    await w.decide(switchTo("C", "A", []), release("A", 30000));
    expect(w.calls()).toEqual([
      "switchTo(c1)",
      "preAuthenticate(C)",
      "acquire",
      "assign(10.0.3.10)",
      "bind(10.0.3.10)",
    ]);
    expect(w.phase("C")).toBe("attached");
    await w.runner.shutdown();
  });
});

describe("runSessions: failures during the switch (RFC 6252 section C.1)", () => {
  it("link switch rejected: the MN stays in A, B keeps what it prepared", async () => {
    const w = world();
    await w.decide(prepare("B"), preconfigure("B"), commit("B"));
    w.link.behaviour.failNext("rejected", "switchTo");
    await w.decide(switchTo("B", "A", ["preauth", "preconfigure", "bind"]), release("A", 30000));
    const s = w.runner.snapshot();
    expect(s.serving.network).toBe("A");
    expect(w.phase("A")).toBe("attached");
    expect(w.phase("B")).toBe("bound");
    expect(s.sessions.get("B")!.lastError).toMatchObject({ op: "switch-link", code: "rejected" });
    // The AR was asked to buffer: it is flushed through the tunnel that is still open.
    expect(w.tunnels.behaviour.calls.map((c) => c.method)).toEqual(["open", "buffer", "flush"]);
    expect(w.preauth.behaviour.calls.length).toBe(1);
    await w.runner.shutdown();
  });

  it("address assignment fails after the link moved: switch back to A and restore its context", async () => {
    const w = world();
    await w.decide(prepare("B"), preconfigure("B"));
    w.link.behaviour.failNext("protocol", "assign");
    await w.decide(switchTo("B", "A", ["preauth", "preconfigure"]), release("A", 30000));
    const calls = w.calls();
    expect(calls.slice(calls.indexOf("switchTo(b1)"))).toEqual([
      "switchTo(b1)",
      "assign(10.0.2.10)",
      "switchTo(a1)",
      "assign(10.0.1.5)",
      "bind(10.0.1.5)",
    ]);
    expect(w.runner.snapshot().serving).toEqual({ network: "A", poa: "a1" });
    expect(w.phase("A")).toBe("attached");
    expect(w.phase("B")).toBe("failed");
    expect(w.link.attached).toBe("a1");
    await w.runner.shutdown();
  });

  it("link switch times out (unreachable PoA) and the switch-back restores A", async () => {
    let first = true;
    const w = world({
      latency: (c) => (c.method === "switchTo" && first ? ((first = false), 60_000) : 0),
    });
    await w.decide(prepare("B"), preconfigure("B"));
    const step = w.decide(switchTo("B", "A", ["preauth", "preconfigure"]), release("A", 30000));
    await w.clock.advance(1000);
    await step;
    expect(w.runner.snapshot().sessions.get("B")!.lastError).toMatchObject({
      op: "switch-link",
      code: "timeout",
    });
    expect(w.runner.snapshot().serving.network).toBe("A");
    expect(w.phase("A")).toBe("attached");
    expect(w.phase("B")).toBe("tunnelled");
    await w.runner.shutdown();
  });
});

describe("runSessions: several CTNs, ping-pong and switch-back", () => {
  it("binds both nCoAs, the MN ends in the CTN not chosen, the unused one is retained then released", async () => {
    const w = world({ multipleCoAs: true });
    await w.decide(prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B"));
    expect(w.mobility.current?.coas).toEqual(["10.0.2.10", "10.0.3.10"]);
    expect([w.phase("B"), w.phase("C")]).toEqual(["bound", "bound"]);
    await w.decide(
      switchTo("C", "A", ["preauth", "preconfigure"]),
      release("B", 5000, ["preauth", "preconfigure"]),
      release("A", 5000),
    );
    expect(w.phase("C")).toBe("attached");
    expect(w.phase("B")).toBe("retained");
    expect(w.mobility.current?.coas).toEqual(["10.0.3.10"]);
    expect(w.tunnels.tunnels).toEqual([]);
    expect(w.configurator.leases.map((l) => l.ctn).sort()).toEqual(["B", "C"]);
    await w.clock.advance(5000);
    await w.runner.idle();
    expect(w.phase("B")).toBe("released");
    expect(w.phase("A")).toBe("released");
    expect(w.configurator.leases.map((l) => l.ctn)).toEqual(["C"]);
    await w.runner.shutdown();
  });

  it("ping-pong A -> B -> A -> B reuses the retained contexts: one pre-authentication, one address", async () => {
    const w = world();
    await w.decide(prepare("B"), preconfigure("B"));
    await w.decide(switchTo("B", "A", ["preauth", "preconfigure"]), release("A", 30000));
    expect(w.phase("A")).toBe("retained");
    // What the recovery stage emits on a switch back within the TTL: restore, switch.
    await w.decide(restore("A"), switchTo("A", "B", ["preauth"]), release("B", 30000));
    expect(w.runner.snapshot().serving.network).toBe("A");
    expect(w.phase("B")).toBe("retained");
    await w.decide(restore("B"), switchTo("B", "A", ["preauth"]), release("A", 30000));
    expect(w.runner.snapshot().serving.network).toBe("B");
    expect(w.preauth.behaviour.calls.length).toBe(1);
    expect(w.configurator.behaviour.calls.filter((c) => c.method === "acquire").length).toBe(1);
    expect(
      w.link.events.filter((e) => e.kind === "switch").map((e) => e.kind === "switch" && e.poa),
    )
      .toEqual(["b1", "a1", "b1"]);
    expect(w.mobility.current?.coas).toEqual(["10.0.2.10"]);
    await w.runner.shutdown();
  });
});

describe("runSessions: graceful shutdown", () => {
  it("closes tunnels, releases leases and deregisters the binding", async () => {
    const w = world({ multipleCoAs: true });
    await w.decide(prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B"));
    expect(w.tunnels.tunnels.length).toBe(2);
    expect(w.configurator.leases.length).toBe(2);
    await w.runner.shutdown();
    expect(w.tunnels.tunnels).toEqual([]);
    expect(w.configurator.leases).toEqual([]);
    expect(w.mobility.current).toMatchObject({ coas: ["10.0.1.5"], lifetimeMs: 0 });
    expect([...w.runner.snapshot().sessions.values()].every((s) => s.phase === "released")).toBe(
      true,
    );
  });

  it("keeps releasing when some calls fail, and never rejects", async () => {
    const w = world();
    await w.decide(prepare("B", "C"), preconfigure("B"), preconfigure("C"));
    w.tunnels.behaviour.failNext("timeout", "close");
    w.mobility.behaviour.failNext("unreachable", "bind");
    const notices: string[] = [];
    w.runner.events$.subscribe((e) => {
      if (e.kind === "notice") notices.push(e.message);
    });
    await w.runner.shutdown();
    expect(w.configurator.leases).toEqual([]);
    expect(w.tunnels.tunnels.length).toBe(1);
    expect(notices.some((m) => m.includes("close-tunnel failed"))).toBe(true);
  });

  it("cancels calls in flight and gives back what they bring late", async () => {
    const w = world({ latency: (c) => (c.method === "acquire" ? 500 : 0) });
    const step = w.decide(prepare("B"), preconfigure("B"));
    await w.clock.settle();
    expect(w.phase("B")).toBe("pre-configuring");
    const shut = w.runner.shutdown();
    await w.clock.advance(1000);
    await shut;
    await step;
    expect(w.configurator.leases).toEqual([]);
    expect(w.phase("B")).toBe("released");
  });
});

describe("runSessions: a decision while the proactive binding update is in flight (RFC 6252 section 6.3)", () => {
  /** A world whose first binding update (the proactive one) takes 400 ms; records bind signals. */
  function slowBindWorld() {
    let binds = 0;
    const w = world({
      latency: (c) => (c.method === "bind" && binds++ === 0 ? 400 : 0),
    });
    const signals: AbortSignal[] = [];
    const bind = w.mobility.bind.bind(w.mobility);
    w.mobility.bind = (coas, options) => {
      if (options?.signal !== undefined) signals.push(options.signal);
      return bind(coas, options);
    };
    return { ...w, signals };
  }

  it("switch to the same CTN: the bind is not cancelled, the switch completes with its result", async () => {
    const w = slowBindWorld();
    await w.decide(prepare("B"), preconfigure("B"));
    const committed = w.decide(commit("B"));
    await w.clock.advance(100);
    expect(w.runner.snapshot().sessions.get("B")?.pending?.op).toBe("bind");
    const switched = w.decide(
      switchTo("B", "A", ["preauth", "preconfigure", "bind"]),
      release("A", 30000),
    );
    await w.clock.advance(400);
    await committed;
    await switched;
    expect(w.calls()).toEqual([
      "preAuthenticate(B)",
      "acquire",
      "open",
      "bind(10.0.2.10)",
      "buffer",
      "switchTo(b1)",
      "assign(10.0.2.10)",
      "close",
      "flush",
      "renew",
    ]);
    expect(w.signals.map((s) => s.aborted)).toEqual([false]);
    // The one binding update, sent through the tunnel, is the binding after the switch.
    expect(w.mobility.history).toEqual([
      { coas: ["10.0.2.10"], lifetimeMs: 420_000, at: 1400, tunnel: "pht-1" },
    ]);
    const s = w.runner.snapshot();
    expect(s.serving).toEqual({ network: "B", poa: "b1" });
    expect(s.bound).toEqual(["10.0.2.10"]);
    expect(w.phase("B")).toBe("attached");
    expect(s.sessions.get("B")?.operations.bind).toMatchObject({
      start: 1000,
      end: 1400,
      ok: true,
    });
    await w.runner.shutdown();
  });

  it("switch to another CTN: the first CTN's bind is cancelled and the switch binds the new CoA", async () => {
    const w = slowBindWorld();
    await w.decide(prepare("B", "C"), preconfigure("B"), preconfigure("C"));
    const committed = w.decide(commit("B"));
    await w.clock.advance(100);
    const switched = w.decide(
      switchTo("C", "A", ["preauth", "preconfigure"]),
      release("A", 30000),
    );
    await w.clock.advance(400);
    await committed;
    await switched;
    expect(w.signals.map((s) => s.aborted)).toEqual([true, false]);
    expect(w.mobility.history.map((b) => b.coas)).toEqual([["10.0.3.10"]]);
    expect(w.calls().filter((c) => c.startsWith("bind"))).toEqual([
      "bind(10.0.2.10)",
      "bind(10.0.3.10)",
    ]);
    const s = w.runner.snapshot();
    expect(s.serving.network).toBe("C");
    expect(s.bound).toEqual(["10.0.3.10"]);
    expect(s.sessions.get("B")).toMatchObject({ phase: "tunnelled", goal: "preconfigure" });
    await w.runner.shutdown();
  });
});
