/**
 * The testbed's agent driver (bench/handover/_mn_agent.ts), its pure parts: the
 * crossing trace gives the agent's decision pipeline one prepare and one switch
 * (RFC 6252 sections 6.3, C.6), the configuration it writes passes the agent's own
 * validator, which plans it refuses, and how the agent's events become a handover
 * trace.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { decide } from "../../../lib/decision/decide.ts";
import { parseAgentConfig } from "../../../lib/config/agent_config.ts";
import {
  agentConfig,
  agentDriverRefusal,
  crossingTrace,
  type EventLine,
  handoverDone,
  traceFromEvents,
} from "../../../bench/handover/_mn_agent.ts";
import type { HandoverPlan } from "../../../bench/handover/mn_driver.ts";
import { CTNS, type HandoverTopology } from "../../../bench/handover/topology.ts";

const C1 = CTNS[0]!;
const C2 = CTNS[1]!;
const PLAN: HandoverPlan = {
  protocol: "sip",
  mode: "mpa",
  buffering: true,
  prepare: [C1],
  target: C1,
  associationDelayMs: 0,
  mediaPort: 40_000,
};

describe("the agent driver", () => {
  it("the crossing trace makes decide() prepare the CTN early and switch to it once, and nothing after", async () => {
    const decisions = await lastValueFrom(decide(from(crossingTrace(C1))).pipe(toArray()));
    const kinds = decisions.map((d) => d.kind);
    expect(kinds.slice(0, 4)).toEqual(["prepare", "preconfigure", "commit", "switch"]);
    const sw = decisions.find((d) => d.kind === "switch")!;
    const prep = decisions.find((d) => d.kind === "prepare")!;
    // Seconds between the two: room for pre-authentication, DHCP, the tunnel and the
    // binding update over a 100 ms RTT.
    expect(sw.t - prep.t).toBeGreaterThan(2000);
    expect(decisions.filter((d) => d.t > sw.t).map((d) => d.kind)).toEqual([]);
    expect(decisions.filter((d) => d.kind === "switch")).toHaveLength(1);
  });

  it("writes a configuration the agent's validator accepts, with the lab link and the protocol", () => {
    const topo = {
      ns: { air: "tb-air", mn: "tb-mn" },
      ctns: [C1, C2],
      poas: { cellP: "cellP", cell1: "cell1", cell2: "cell2" },
    } as unknown as HandoverTopology;
    const files = { psk: "/x/mn.psk", mipKey: "/x/mip6.key", trace: "/x/trace.jsonl" };
    for (const plan of [PLAN, { ...PLAN, protocol: "mip6" as const, buffering: false }]) {
      const c = parseAgentConfig(agentConfig(plan, topo, files), "testbed.json");
      expect(c.link).toMatchObject({ kind: "netns", air: "tb-air", peer: "mnp", oCoA: "10.0.1.2" });
      expect(c.mobility.kind).toBe(plan.protocol);
      expect(c.buffering).toBe(plan.buffering);
      expect(c.tunnel.tun).toBe(true);
      expect(c.discovery.kind === "static" && c.discovery.ctns.map((x) => x.network)).toEqual([
        C1.network,
        C2.network,
      ]);
    }
  });

  it("refuses, with a reason, the plans it has no trace or mode for", () => {
    expect(agentDriverRefusal(PLAN)).toBeUndefined();
    expect(agentDriverRefusal({ ...PLAN, buffering: false })).toBeUndefined();
    expect(agentDriverRefusal({ ...PLAN, mode: "reactive", prepare: [] })).toMatch(/reactive/);
    expect(agentDriverRefusal({ ...PLAN, prepare: [C1, C2], target: C2 })).toMatch(/two CTNs/);
    expect(agentDriverRefusal({ ...PLAN, pingPong: { legs: [C2], dwellMs: 1 } })).toMatch(
      /ping-pong/,
    );
  });

  const N = C1.network;
  const ev = (t: number, type: string, kind: string, more: Partial<EventLine> = {}): EventLine => ({
    t,
    type,
    kind,
    ctn: N,
    ...more,
  });
  /** The events of a real run (times shortened): buffering, the switch, a rebind after it. */
  const RUN: EventLine[] = [
    ev(100, "command", "preauthenticate", { seq: 1 }),
    ev(120, "result", "preauth-ok", { seq: 1, timings: { total: 15, eap: 10 } }),
    ev(120.1, "command", "acquire", { seq: 2 }),
    ev(130, "result", "lease-ok", { seq: 2, nCoA: "10.0.2.100" }),
    ev(130.1, "command", "open-tunnel", { seq: 3 }),
    ev(150, "result", "tunnel-ok", { seq: 3 }),
    ev(2000, "command", "bind", { seq: 4, coas: ["10.0.2.100"], viaTunnel: true }),
    ev(2110, "result", "bind-ok", { seq: 4 }),
    { t: 2999, type: "decision", kind: "switch" },
    ev(3000, "command", "buffer", { seq: 5 }),
    ev(3002, "result", "buffer-ok", { seq: 5 }),
    ev(3002.1, "command", "switch-link", { seq: 6 }),
    ev(3004, "result", "link-switched", { seq: 6 }),
    ev(3004.1, "command", "assign", { seq: 7 }),
    ev(3010, "result", "assigned", { seq: 7 }),
    ev(3010.1, "command", "close-tunnel", { seq: 8 }),
    ev(3030, "result", "tunnel-closed", { seq: 8 }),
    ev(3030.1, "command", "flush", { seq: 9 }),
    ev(3032, "result", "flushed", { seq: 9, count: 2 }),
    ev(3032.1, "command", "bind", { seq: 10, coas: ["10.0.2.100"], viaTunnel: false }),
    ev(3140, "result", "bind-ok", { seq: 10 }),
    ev(3140.1, "command", "renew", { seq: 11 }),
    ev(3143, "result", "renewed", { seq: 11 }),
    ev(3143.1, "notice", "notice", { message: "Attached to cell1 with 10.0.2.100" }),
  ];

  it("knows when the handover is over: the session says it is attached after the switch", () => {
    expect(handoverDone(RUN.slice(0, 8), N)).toBe(false);
    // Every command so far answered, but the sequence goes on (close-tunnel, flush).
    expect(handoverDone(RUN.slice(0, 15), N)).toBe(false);
    expect(handoverDone(RUN.slice(0, -1), N)).toBe(false);
    expect(handoverDone(RUN, N)).toBe(true);
    expect(handoverDone(RUN, "ctn-2.example")).toBe(false);
  });

  it("maps the events to the phases; a rebind of the same nCoA after the switch is not layer 3", () => {
    const t = traceFromEvents(RUN, N);
    expect(t).toMatchObject({
      auth: [105, 120],
      authCall: [100, 120],
      conf: [120.1, 130],
      tunnel: [130.1, 150],
      bu: [2000, 2110],
      buProactive: true,
      executeStart: 3000,
      buffered: 3002,
      link: [3002.1, 3004],
      assigned: 3010,
      tunnelDeleted: 3030,
      flushed: 3032,
      flushCount: 2,
      l3Done: 3032,
    });
  });

  it("a flush that released nothing (the AR delivered on hearing the MN) does not end layer 3", () => {
    const early = RUN.map((e) => e.kind === "flushed" ? { ...e, count: 0 } : e);
    const t = traceFromEvents(early, N);
    expect([t.flushed, t.flushCount, t.l3Done]).toEqual([3032, 0, 3010]);
  });

  it("a proactive binding of other CoAs leaves the binding after the switch in layer 3", () => {
    const other = RUN.map((e) => e.seq === 4 ? { ...e, coas: ["10.0.1.2", "10.0.2.100"] } : e);
    const t = traceFromEvents(other, N);
    expect([t.bu, t.buProactive, t.l3Done]).toEqual([[3032.1, 3140], false, 3140]);
  });

  it("names the missing phase and the failures seen", () => {
    const failed = [
      ...RUN.slice(0, 8),
      { t: 2999, type: "decision", kind: "switch" },
      ev(3000, "command", "switch-link", { seq: 5 }),
      ev(3001, "result", "op-failed", { seq: 5, code: "rejected", message: "No such PoA" }),
    ];
    expect(() => traceFromEvents(failed, N)).toThrow(/no link switch .*rejected: No such PoA/);
  });
});
