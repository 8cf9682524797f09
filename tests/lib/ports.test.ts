/**
 * The port contracts of lib/ports.ts (RFC 6252 sections 6.3, 7.1-7.5, C.2), shown on
 * the in-memory fakes that the orchestrator's unit tests use.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { VirtualTimeScheduler } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import { type CtnInfo, type MpaSa, PortError, type SaRecord } from "../../lib/ports.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import { FakeBehaviour } from "../fakes/_fake_behaviour.ts";
import { FakeMetricsSource } from "../fakes/fake_metrics_source.ts";
import { FakeDiscovery } from "../fakes/fake_discovery.ts";
import { FakePreAuthenticator } from "../fakes/fake_pre_authenticator.ts";
import { FakeConfigurator } from "../fakes/fake_configurator.ts";
import { FakeTunnelManager } from "../fakes/fake_tunnel_manager.ts";
import { FakeMobilityProtocol } from "../fakes/fake_mobility_protocol.ts";
import { FakeLinkControl } from "../fakes/fake_link_control.ts";
import { FakeSaStore } from "../fakes/fake_sa_store.ts";

const ctnB: CtnInfo = {
  network: "B",
  aa: { address: "10.0.2.2", port: 7160 },
  ca: { address: "10.0.2.3" },
  ar: { address: "10.0.2.1" },
  poas: ["apB1"],
  subnet: "10.0.2.0/24",
  cells: [{ poa: "apB1", network: "B", pos: { x: 100, y: 0 }, coverage: 60 }],
};
const ctnC: CtnInfo = {
  network: "C",
  aa: { address: "10.0.3.2" },
  ca: { address: "10.0.3.3" },
  ar: { address: "10.0.3.1" },
  poas: ["apC1"],
  subnet: "10.0.3.0/24",
  cells: [{ poa: "apC1", network: "C", pos: { x: 140, y: 0 }, coverage: 60 }],
};

/** Advances a virtual clock by `ms` (running whatever falls due). */
function advance(scheduler: VirtualTimeScheduler, ms: number): void {
  scheduler.schedule(() => {}, ms);
  scheduler.flush();
}

/** The PortError a promise rejects with (fails the test when it resolves). */
async function portError(promise: Promise<unknown>): Promise<PortError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortError);
  return error as PortError;
}

function sa(overrides: Partial<MpaSa> = {}): Promise<MpaSa> {
  return new FakePreAuthenticator().preAuthenticate(ctnB).then((s) => ({
    ...s,
    ...overrides,
  }));
}

describe("PortError", () => {
  it("carries the port, the code and the cause", () => {
    const cause = new Error("ICMP port unreachable");
    const e = new PortError(
      "Configurator",
      "unreachable",
      "No answer from the CA: 10.0.2.3",
      {
        cause,
      },
    );
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("PortError");
    expect(e.port).toBe("Configurator");
    expect(e.code).toBe("unreachable");
    expect(e.message).toBe("No answer from the CA: 10.0.2.3");
    expect(e.cause).toBe(cause);
  });
});

describe("fake behaviour (latency, scripted failures, abort)", () => {
  it("lets latency elapse on the injected scheduler, not in real time", async () => {
    const scheduler = new VirtualTimeScheduler();
    const fake = new FakePreAuthenticator({ scheduler, latencyMs: 250 });
    let settled = false;
    const pending = fake.preAuthenticate(ctnB).finally(() => settled = true);
    await Promise.resolve();
    expect(settled).toBe(false);
    scheduler.flush();
    const result = await pending;
    expect(scheduler.now()).toBe(250);
    expect(result.establishedAt).toBe(250);
    expect(fake.behaviour.calls).toEqual([{
      method: "preAuthenticate",
      args: [ctnB],
      at: 0,
    }]);
  });

  it("rejects with PortError 'aborted' when the caller aborts during the latency", async () => {
    const scheduler = new VirtualTimeScheduler();
    const fake = new FakeTunnelManager({ scheduler, latencyMs: 100 });
    const controller = new AbortController();
    const key = (await sa()).keys.mnAr;
    const pending = fake.open(
      "B",
      { oCoA: "10.0.1.5", nCoA: "10.0.2.10", ar: ctnB.ar },
      key,
      { signal: controller.signal },
    );
    controller.abort(new Error("phase dropped by the planner"));
    const error = await portError(pending);
    expect(error.code).toBe("aborted");
    expect(error.port).toBe("TunnelManager");
    expect((error.cause as Error).message).toBe("phase dropped by the planner");
    scheduler.flush();
    expect(fake.tunnels).toEqual([]);
  });

  it("refuses at once a call whose signal is already aborted", async () => {
    const fake = new FakeLinkControl();
    const error = await portError(
      fake.switchTo("apB1", { signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe("aborted");
    expect(fake.attached).toBeUndefined();
  });

  it("uses queued failures first, per method, then the policy", async () => {
    const behaviour = new FakeBehaviour("Discovery", {
      fail: (call) => call.args[0] === "bad" ? "protocol" : undefined,
    });
    behaviour.failNext("timeout", "other");
    behaviour.failNext(
      new PortError("Discovery", "unreachable", "No route: info server"),
    );
    const e1 = await portError(behaviour.run("m", ["ok"], undefined, () => 1));
    expect([e1.code, e1.message]).toEqual([
      "unreachable",
      "No route: info server",
    ]);
    expect(await behaviour.run("m", ["ok"], undefined, () => 2)).toBe(2);
    expect(
      (await portError(behaviour.run("m", ["bad"], undefined, () => 3))).code,
    ).toBe(
      "protocol",
    );
    expect(
      (await portError(behaviour.run("other", [], undefined, () => 4))).code,
    ).toBe("timeout");
    expect(behaviour.calls.map((c) => c.method)).toEqual([
      "m",
      "m",
      "m",
      "other",
    ]);
  });
});

describe("FakeMetricsSource (MetricsSource, RFC 6252 section 7.1)", () => {
  const samples: readonly LinkSample[] = [
    { t: 1000, poa: "apA1", network: "A", snr: 25 },
    { t: 1100, poa: "apA1", network: "A", snr: 24 },
    { t: 1300, poa: "apB1", network: "B", snr: 12 },
  ];

  it("replays each sample at its own time, cold, then completes", () => {
    const testScheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    testScheduler.run(({ expectObservable }) => {
      const source = new FakeMetricsSource(samples, {
        scheduler: testScheduler,
      });
      const values = { a: samples[0], b: samples[1], c: samples[2] };
      expectObservable(source.samples()).toBe("a 99ms b 199ms (c|)", values);
      expectObservable(source.samples()).toBe("a 99ms b 199ms (c|)", values);
    });
  });

  it("errors with a PortError when told to fail", () => {
    const testScheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    testScheduler.run(({ expectObservable }) => {
      const source = new FakeMetricsSource(samples.slice(0, 1), {
        scheduler: testScheduler,
        failWith: "unreachable",
      });
      expectObservable(source.samples()).toBe(
        "(a#)",
        { a: samples[0] },
        new PortError(
          "MetricsSource",
          "unreachable",
          "Scripted failure: MetricsSource unreachable",
        ),
      );
    });
  });

  it("emits synchronously without a scheduler and counts subscriptions", () => {
    const source = new FakeMetricsSource(samples);
    const seen: LinkSample[] = [];
    source.samples().subscribe((s) => seen.push(s));
    expect(seen).toEqual(samples);
    expect(source.subscriptions).toBe(1);
  });
});

describe("FakeDiscovery (Discovery, RFC 6252 section 7.1)", () => {
  it("lists every CTN without a position", async () => {
    const discovery = new FakeDiscovery([ctnB, ctnC]);
    expect(await discovery.candidates()).toEqual([ctnB, ctnC]);
  });

  it("lists the CTNs whose cells cover the position, nearest first", async () => {
    const discovery = new FakeDiscovery([ctnB, ctnC]);
    expect(await discovery.candidates({ x: 150, y: 0 })).toEqual([ctnC, ctnB]);
    expect(await discovery.candidates({ x: 50, y: 0 })).toEqual([ctnB]);
    expect(await discovery.candidates({ x: -100, y: 0 })).toEqual([]);
  });

  it("fails with the scripted PortError", async () => {
    const discovery = new FakeDiscovery([ctnB]);
    discovery.behaviour.failNext("timeout");
    const error = await portError(discovery.candidates());
    expect([error.port, error.code]).toEqual(["Discovery", "timeout"]);
  });
});

describe("FakePreAuthenticator (PreAuthenticator, RFC 6252 sections 6.3 step 1, 7.2)", () => {
  it("grants a time-bound MPA-SA with the CTN, a session id and key ids", async () => {
    const fake = new FakePreAuthenticator({
      mnId: "alice",
      lifetimeMs: 30_000,
    });
    const saB = await fake.preAuthenticate(ctnB);
    const saC = await fake.preAuthenticate(ctnC);
    expect(saB).toMatchObject({
      ctn: "B",
      mnId: "alice",
      lifetimeMs: 30_000,
      expiresAt: saB.establishedAt + 30_000,
    });
    expect(saC.sessionId).not.toBe(saB.sessionId);
    expect(saC.keyIds.mnAr).not.toBe(saB.keyIds.mnAr);
    expect(fake.granted).toEqual([saB, saC]);
  });

  it("holds keys as non-extractable CryptoKeys that never print their bytes", async () => {
    const saB = await new FakePreAuthenticator().preAuthenticate(ctnB);
    expect(saB.keys.mnCa).toBeInstanceOf(CryptoKey);
    expect(saB.keys.mnAr).toBeInstanceOf(CryptoKey);
    expect(saB.keys.mnAr.extractable).toBe(false);
    expect(JSON.parse(JSON.stringify(saB)).keys).toEqual({
      mnCa: {},
      mnAr: {},
    });
  });

  it("fails with code 'rejected' when the AA refuses the MN", async () => {
    const fake = new FakePreAuthenticator({ rejectNetworks: ["C"] });
    const error = await portError(fake.preAuthenticate(ctnC));
    expect([error.port, error.code]).toEqual(["PreAuthenticator", "rejected"]);
    expect(error.message).toMatch(/^EAP failure: /);
    expect(fake.granted).toEqual([]);
    await expect(fake.preAuthenticate(ctnB)).resolves.toMatchObject({
      ctn: "B",
    });
  });

  it("pre-authenticates with several CTNs in parallel (section 7.2)", async () => {
    const scheduler = new VirtualTimeScheduler();
    const fake = new FakePreAuthenticator({
      scheduler,
      latencyMs: (call) => (call.args[0] as CtnInfo).network === "B" ? 80 : 120,
    });
    const both = Promise.all([
      fake.preAuthenticate(ctnB),
      fake.preAuthenticate(ctnC),
    ]);
    scheduler.flush();
    const [b, c] = await both;
    expect([b.establishedAt, c.establishedAt]).toEqual([80, 120]);
    expect(scheduler.now()).toBe(120);
  });
});

describe("FakeConfigurator (Configurator, RFC 6252 section 7.3)", () => {
  it("hands out an nCoA from the CTN subnet, the same one again to the same client", async () => {
    const configurator = new FakeConfigurator({ leaseMs: 10_000 });
    const s = await sa();
    const lease = await configurator.acquire(ctnB, s);
    expect(lease).toMatchObject({
      ctn: "B",
      nCoA: "10.0.2.10",
      prefixLength: 24,
      router: "10.0.2.1",
      dns: ["10.0.2.1"],
      lifetimeMs: 10_000,
      serverId: "10.0.2.3",
      method: "dhcp-unicast",
    });
    expect(lease.expiresAt).toBe(lease.obtainedAt + 10_000);
    expect((await configurator.acquire(ctnB, s)).nCoA).toBe("10.0.2.10");
    expect((await configurator.acquire(ctnB, await sa({ mnId: "bob" }))).nCoA)
      .toBe("10.0.2.11");
  });

  it("refuses an MN without a valid MPA-SA with that CTN (auth-gated CA)", async () => {
    const scheduler = new VirtualTimeScheduler();
    const configurator = new FakeConfigurator({ scheduler });
    const s = await sa({ establishedAt: 0, expiresAt: 1000 });
    expect((await portError(configurator.acquire(ctnC, s))).code).toBe(
      "rejected",
    );
    advance(scheduler, 1000);
    const error = await portError(configurator.acquire(ctnB, s));
    expect(error.code).toBe("rejected");
    expect(error.message).toMatch(/expired$/);
  });

  it("renews with the same address and refuses unknown or released leases", async () => {
    const scheduler = new VirtualTimeScheduler();
    const configurator = new FakeConfigurator({ scheduler, leaseMs: 5000 });
    const lease = await configurator.acquire(
      ctnB,
      await sa({ expiresAt: Infinity }),
    );
    advance(scheduler, 4000);
    const renewed = await configurator.renew(lease);
    expect(renewed).toMatchObject({
      nCoA: lease.nCoA,
      obtainedAt: 4000,
      expiresAt: 9000,
    });
    await configurator.release(renewed);
    expect(configurator.leases).toEqual([]);
    expect((await portError(configurator.renew(lease))).code).toBe("not-found");
    expect((await portError(configurator.release(lease))).code).toBe(
      "not-found",
    );
  });

  it("fails 'rejected' when the pool is exhausted", async () => {
    const configurator = new FakeConfigurator({ pools: { B: ["10.0.2.50"] } });
    expect((await configurator.acquire(ctnB, await sa())).nCoA).toBe(
      "10.0.2.50",
    );
    expect(
      (await portError(configurator.acquire(ctnB, await sa({ mnId: "bob" }))))
        .code,
    ).toBe(
      "rejected",
    );
  });
});

describe("FakeTunnelManager (TunnelManager, RFC 6252 section 7.4)", () => {
  const endpoints = { oCoA: "10.0.1.5", nCoA: "10.0.2.10", ar: ctnB.ar };

  it("opens a time-bound tunnel with the MN-AR key and closes it", async () => {
    const scheduler = new VirtualTimeScheduler();
    const tunnels = new FakeTunnelManager({ scheduler, lifetimeMs: 30_000 });
    const s = await sa();
    const handle = await tunnels.open("B", endpoints, s.keys.mnAr);
    expect(handle).toMatchObject({
      ctn: "B",
      endpoints,
      openedAt: 0,
      expiresAt: 30_000,
    });
    expect(tunnels.keyOf(handle)).toBe(s.keys.mnAr);
    expect(tunnels.tunnels).toEqual([handle]);
    await tunnels.close(handle);
    expect(tunnels.tunnels).toEqual([]);
  });

  it("refuses to close an unknown handle with PortError 'not-found'", async () => {
    const tunnels = new FakeTunnelManager();
    const handle = await tunnels.open("B", endpoints, (await sa()).keys.mnAr);
    const stranger = { ...handle, id: "pht-unknown" };
    const error = await portError(tunnels.close(stranger));
    expect([error.port, error.code]).toEqual(["TunnelManager", "not-found"]);
    await tunnels.close(handle);
    expect((await portError(tunnels.close(handle))).code).toBe("not-found");
  });

  it("refuses malformed endpoints with 'protocol'", async () => {
    const tunnels = new FakeTunnelManager();
    const error = await portError(
      tunnels.open("B", { ...endpoints, nCoA: "" }, (await sa()).keys.mnAr),
    );
    expect(error.code).toBe("protocol");
  });
});

describe("FakeMobilityProtocol (MobilityProtocol, RFC 6252 sections 7.2, 7.5)", () => {
  it("binds several CoAs at once when the protocol allows (RFC 5648)", async () => {
    const mobility = new FakeMobilityProtocol({ multipleCoAs: true });
    const handle = await new FakeTunnelManager().open(
      "B",
      { oCoA: "10.0.1.5", nCoA: "10.0.2.10", ar: ctnB.ar },
      (await sa()).keys.mnAr,
    );
    const result = await mobility.bind(["10.0.2.10", "10.0.3.10"], {
      lifetimeMs: 60_000,
      tunnel: handle,
    });
    expect(result).toEqual({
      bound: ["10.0.2.10", "10.0.3.10"],
      lifetimeMs: 60_000,
    });
    expect(mobility.current).toMatchObject({
      coas: result.bound,
      tunnel: handle.id,
    });
  });

  it("binds only the preferred CoA without multiple-CoA support", async () => {
    const mobility = new FakeMobilityProtocol({
      multipleCoAs: false,
      defaultLifetimeMs: 1000,
    });
    expect(mobility.multipleCoAs).toBe(false);
    expect(await mobility.bind(["10.0.2.10", "10.0.3.10"])).toEqual({
      bound: ["10.0.2.10"],
      lifetimeMs: 1000,
    });
  });

  it("refuses an empty CoA list with 'protocol'", async () => {
    const mobility = new FakeMobilityProtocol();
    expect((await portError(mobility.bind([]))).code).toBe("protocol");
    expect(mobility.history).toEqual([]);
  });
});

describe("FakeLinkControl (LinkControl, RFC 6252 section 6.3 steps 5-6)", () => {
  it("switches the link, then assigns the cached nCoA, in that order", async () => {
    const scheduler = new VirtualTimeScheduler();
    const link = new FakeLinkControl({
      scheduler,
      attached: "apA1",
      latencyMs: 50,
    });
    const switched = link.switchTo("apB1");
    scheduler.flush();
    await switched;
    const assigned = link.assign("10.0.2.10", 24);
    scheduler.flush();
    await assigned;
    expect(link.attached).toBe("apB1");
    expect(link.address).toEqual({ address: "10.0.2.10", prefixLength: 24 });
    expect(link.events).toEqual([
      { kind: "switch", poa: "apB1", at: 50 },
      { kind: "assign", address: "10.0.2.10", prefixLength: 24, at: 100 },
    ]);
  });

  it("fails 'unreachable' for a PoA not heard and 'protocol' for a bad prefix", async () => {
    const link = new FakeLinkControl({ reachable: ["apB1"], attached: "apA1" });
    const error = await portError(link.switchTo("apZ9"));
    expect([error.port, error.code]).toEqual(["LinkControl", "unreachable"]);
    expect(link.attached).toBe("apA1");
    expect((await portError(link.assign("10.0.2.10", 33))).code).toBe(
      "protocol",
    );
    await link.assign("2001:db8::10", 64);
    expect(link.address).toEqual({ address: "2001:db8::10", prefixLength: 64 });
  });
});

describe("FakeSaStore (SaStore, RFC 6252 section C.2)", () => {
  async function record(
    sessionId: number,
    mnId: string,
    establishedAt: number,
  ): Promise<SaRecord> {
    return {
      ...(await sa({ sessionId, mnId, establishedAt })),
      state: "unauthorized",
    };
  }

  it("gets by session id, or the MN's newest SA by MN id", async () => {
    const old = await record(7, "alice", 100);
    const newer = await record(3, "alice", 200);
    const bob = await record(5, "bob", 300);
    const store = new FakeSaStore([old]);
    await store.put(newer);
    await store.put(bob);
    expect(await store.get({ sessionId: 7 })).toBe(old);
    expect(await store.get({ mnId: "alice" })).toBe(newer);
    expect(await store.get({ sessionId: 99 })).toBeUndefined();
    expect(await store.get({ mnId: "carol" })).toBeUndefined();
    expect(await store.list()).toEqual([newer, bob, old]);
    expect(await store.list({ mnId: "alice" })).toEqual([newer, old]);
  });

  it("replaces by session id (unauthorized to authorized) and deletes by either key", async () => {
    const a1 = await record(1, "alice", 0);
    const store = new FakeSaStore([
      a1,
      await record(2, "alice", 10),
      await record(3, "bob", 0),
    ]);
    await store.put({ ...a1, state: "authorized" });
    expect((await store.get({ sessionId: 1 }))?.state).toBe("authorized");
    expect(store.size).toBe(3);
    expect(await store.delete({ mnId: "alice" })).toBe(2);
    expect(await store.delete({ sessionId: 1 })).toBe(0);
    expect(await store.delete({ sessionId: 3 })).toBe(1);
    expect(await store.list()).toEqual([]);
  });
});
