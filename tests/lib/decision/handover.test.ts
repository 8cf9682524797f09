import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  type HandoverConfig,
  type HandoverEvent,
  type HandoverOutput,
  handoverReducer,
  type HandoverState,
  INITIAL_HANDOVER_STATE,
} from "../../../lib/decision/handover.ts";
import type { Qualification } from "../../../lib/operators/hysteresis.ts";

const config: HandoverConfig = {
  topK: 2,
  maxPreconfigured: 1,
  outageSnr: 5,
  safety: 2,
  retainMs: 30000,
  profiles: new Map([
    ["B", { network: "B", rttMs: 100, tpskMs: 10, tconfMs: 190, tbuMs: 50 }],
  ]),
  maxAgeMs: 1000,
};

function run(events: HandoverEvent[], c: HandoverConfig = config, from = INITIAL_HANDOVER_STATE) {
  let state: HandoverState = from;
  const out: HandoverOutput[] = [];
  for (const e of events) {
    const [next, o] = handoverReducer(state, e, c);
    state = next;
    out.push(...o);
  }
  return { state, out, kinds: out.map((o) => o.kind) };
}

const reasonOf = (o: HandoverOutput): string => "reason" in o ? o.reason : "";
const sample = (
  t: number,
  poa: string,
  network: string,
  snr: number,
  previousT = t - 100,
): HandoverEvent => ({ kind: "sample", sample: { t, poa, network, snr }, previousT });
const q = (
  t: number,
  poa: string,
  network: string,
  snr: number,
  qualified = true,
  serving = "a1",
): Qualification => ({ t, poa, network, snr, qualified, servingSnr: 20, serving });
const approach = (t: number, poa: string, network: string, snr: number, on = true) =>
  ({ kind: "approach", t, q: q(t, poa, network, snr, on) }) as const;
const near = (t: number, poa: string, network: string, snr: number, on = true) =>
  ({ kind: "near", q: q(t, poa, network, snr, on) }) as const;
const a3 = (t: number, poa: string, network: string, snr: number, on = true) =>
  ({ kind: "a3", q: q(t, poa, network, snr, on) }) as const;
const trigger = (t: number, poa: string, network: string, snr: number) =>
  ({ kind: "trigger", t, q: q(t, poa, network, snr) }) as const;
const lead = (t: number, seconds: number, poa = "a1") =>
  ({ kind: "lead", estimate: { t, poa, seconds, method: "trend" } }) as const;

/** Attached to a1 of network A at 20 dB. */
const attached = run([sample(0, "a1", "A", 20), sample(100, "a1", "A", 20)]).state;

describe("handoverReducer: attachment", () => {
  it("attaches to the strongest PoA of the first instant and reports it once the instant ends", () => {
    const r = run([
      sample(0, "a1", "A", 10),
      sample(0, "b1", "B", 18),
      sample(0, "a2", "A", 12),
      sample(100, "b1", "B", 18),
      sample(200, "b1", "B", 18),
    ]);
    expect(r.state.serving).toEqual({ poa: "b1", network: "B", snr: 18 });
    expect(r.out).toEqual([{ kind: "attach", t: 0, poa: "b1", network: "B" }]);
  });

  it("ignores samples of other PoAs after the first instant", () => {
    const r = run([sample(200, "b1", "B", 40)], config, attached);
    expect(r.state.serving?.poa).toBe("a1");
    expect(r.out).toEqual([]);
  });
});

describe("handoverReducer: preparation (RFC 6252 section 6.3 steps 1-2, section 7.2)", () => {
  it("prepares and pre-configures a CTN that approached for the dwell", () => {
    const r = run([approach(500, "b1", "B", 14)], config, attached);
    expect(r.kinds).toEqual(["prepare", "preconfigure"]);
    expect(r.out[0]).toMatchObject({ t: 500, ctns: ["B"], poa: "a1" });
    expect(r.out[1]).toMatchObject({ ctn: "B", poa: "b1" });
    expect(r.state.prepared.has("B")).toBe(true);
    expect(r.state.preconfigured).toEqual(["B"]);
  });

  it("does not prepare a PoA of the serving network", () => {
    expect(run([approach(500, "a2", "A", 19)], config, attached).out).toEqual([]);
  });

  it("prepares the top-k networks and evicts the weakest when a better one arrives", () => {
    const r = run(
      [
        approach(500, "b1", "B", 14),
        approach(600, "c1", "C", 13),
        approach(700, "d1", "D", 16),
      ],
      config,
      attached,
    );
    expect(r.kinds).toEqual([
      "prepare",
      "preconfigure",
      "prepare",
      "release",
      "prepare",
      "release",
      "preconfigure",
    ]);
    // C (weakest, 13 dB) is evicted entirely; B keeps its pre-authentication but
    // gives its pre-configuration slot to D, now the likeliest.
    expect(r.out[3]).toMatchObject({
      kind: "release",
      ctn: "C",
      phases: ["preauth"],
      retainMs: 30000,
    });
    expect(r.out[4]).toMatchObject({ kind: "prepare", ctns: ["D"] });
    expect(r.out[5]).toMatchObject({ kind: "release", ctn: "B", phases: ["preconfigure"] });
    expect(r.out[6]).toMatchObject({ kind: "preconfigure", ctn: "D" });
    expect([...r.state.prepared.keys()].sort()).toEqual(["B", "D"]);
    expect(r.state.preconfigured).toEqual(["D"]);
  });

  it("keeps a CTN that is still wanted and does not prepare twice", () => {
    const r = run([approach(500, "b1", "B", 14), approach(600, "b2", "B", 15)], config, attached);
    expect(r.kinds).toEqual(["prepare", "preconfigure"]);
  });

  it("prepares but does not pre-configure when only pre-authentication fits the lead time", () => {
    const r = run([lead(400, 0.3), approach(500, "b1", "B", 14)], config, attached);
    expect(r.kinds).toEqual(["prepare"]);
    expect(
      (r.out[0] as unknown as { budgets: Record<string, { phases: string[] }> }).budgets.B!.phases,
    )
      .toEqual(["preauth"]);
  });

  it("skips the dwell for a near candidate when the lead time is short (section C.6)", () => {
    const calm = run([near(500, "b1", "B", 12)], config, attached);
    expect(calm.out).toEqual([]);
    const urgent = run([lead(400, 0.8), near(500, "b1", "B", 12)], config, attached);
    // With 0.8 s left and 450 ms needed for everything, all phases start at once.
    expect(urgent.kinds).toEqual(["prepare", "preconfigure", "commit"]);
    expect(reasonOf(urgent.out[0]!)).toContain("no room for a dwell");
  });

  it("releases a prepared CTN whose PoAs all left the prepare margin", () => {
    const r = run(
      [
        approach(500, "b1", "B", 14),
        approach(600, "b2", "B", 13),
        approach(900, "b1", "B", 10, false),
        approach(1000, "b2", "B", 9, false),
      ],
      config,
      attached,
    );
    expect(r.kinds).toEqual(["prepare", "preconfigure", "release"]);
    expect(r.out[2]).toMatchObject({ t: 1000, ctn: "B" });
    expect(r.state.prepared.size).toBe(0);
  });

  it("prepares nothing when not even pre-authentication fits the lead time (section C.6)", () => {
    const r = run([lead(400, 0.1), approach(500, "b1", "B", 14)], config, attached);
    expect(r.out).toEqual([]);
  });

  it("ignores events measured against a PoA that no longer serves", () => {
    const stale = { kind: "approach", t: 500, q: q(500, "b1", "B", 14, true, "zz") } as const;
    expect(run([stale], config, attached).out).toEqual([]);
  });

  it("ignores lead estimates of another PoA", () => {
    expect(run([lead(400, 0.1, "zz")], config, attached).state.leadSeconds).toBe(Infinity);
  });
});

describe("handoverReducer: proactive binding update (step 3)", () => {
  const prepared = run([approach(500, "b1", "B", 14)], config, attached).state;

  it("commits when a PoA of the pre-configured CTN beats serving by the A3 margin", () => {
    const r = run([a3(800, "b1", "B", 24)], config, prepared);
    expect(r.kinds).toEqual(["commit"]);
    expect(r.out[0]).toMatchObject({ ctn: "B", poa: "b1" });
  });

  it("does not commit for a CTN that is only pre-authenticated", () => {
    const r = run(
      [approach(500, "b1", "B", 14), approach(510, "c1", "C", 13), a3(800, "c1", "C", 24)],
      config,
      attached,
    );
    expect(r.kinds).not.toContain("commit");
  });

  it("commits early when the lead time is short and the CTN's PoA is near", () => {
    const r = run([near(600, "b1", "B", 15), lead(700, 0.8)], config, prepared);
    expect(r.kinds).toContain("commit");
    expect(reasonOf(r.out.find((o) => o.kind === "commit")!)).toContain("lead time short");
  });

  it("aborts the commit when the candidate falls back before the switch", () => {
    const r = run([a3(800, "b1", "B", 24), a3(900, "b1", "B", 21, false)], config, prepared);
    expect(r.kinds).toEqual(["commit", "abort"]);
    expect(r.state.committed).toBeUndefined();
  });

  it("aborts an urgent commit when its PoA falls out of reach, then releases the CTN", () => {
    const r = run(
      [
        near(600, "b1", "B", 15),
        lead(700, 0.8),
        near(900, "b1", "B", 7, false),
        approach(1900, "b1", "B", 7, false),
      ],
      config,
      prepared,
    );
    expect(r.kinds).toEqual(["commit", "abort", "release"]);
    expect(reasonOf(r.out[1]!)).toContain("fell out of reach");
    expect(r.state.committed).toBeUndefined();
    expect(r.state.prepared.size).toBe(0);
  });

  it("keeps a committed CTN prepared even when it leaves the prepare margin", () => {
    const r = run([a3(800, "b1", "B", 24), approach(900, "b1", "B", 10, false)], config, prepared);
    expect(r.kinds).toEqual(["commit"]);
  });
});

describe("handoverReducer: switch (step 5)", () => {
  const committed = run([approach(500, "b1", "B", 14), a3(800, "b1", "B", 24)], config, attached)
    .state;

  it("switches after the time-to-trigger, with the phases prepared, and releases what is left", () => {
    const r = run([approach(600, "c1", "C", 12), trigger(1056, "b1", "B", 25)], config, committed);
    expect(r.kinds).toEqual(["prepare", "switch", "release", "release"]);
    expect(r.out[1]).toMatchObject({
      kind: "switch",
      t: 1056,
      ctn: "B",
      poa: "b1",
      from: "a1",
      fromNetwork: "A",
      prepared: ["preauth", "preconfigure", "bind"],
      reactive: false,
    });
    expect(r.out.slice(2)).toMatchObject([
      { ctn: "C", phases: ["preauth"] },
      { ctn: "A", phases: ["preauth", "preconfigure", "bind"] },
    ]);
    // the level comes from the A3 set (24 dB, kept current by samples), not the
    // trigger's qualification snapshot
    expect(r.state.serving).toEqual({ poa: "b1", network: "B", snr: 24 });
    expect(r.state.prepared.size).toBe(0);
    expect(r.state.committed).toBeUndefined();
  });

  it("switches reactively to a network nothing was prepared for", () => {
    const r = run([trigger(1000, "c1", "C", 25)], config, attached);
    expect(r.out[0]).toMatchObject({ kind: "switch", prepared: [], reactive: true });
    expect(reasonOf(r.out[0]!)).toContain("reactive");
  });

  it("switches inside the serving network without releasing it", () => {
    const r = run([trigger(1000, "a2", "A", 25)], config, attached);
    expect(r.kinds).toEqual(["switch"]);
    expect(r.out[0]).toMatchObject({ reactive: false, prepared: [] });
    expect(reasonOf(r.out[0]!)).toContain("link-layer handover only");
  });

  it("aborts a commit to another CTN when switching elsewhere", () => {
    const r = run([trigger(1000, "a2", "A", 25)], config, committed);
    expect(r.kinds).toEqual(["abort", "switch", "release"]);
  });

  it("ignores a trigger that ended", () => {
    const ended = { kind: "trigger", t: 1000, q: q(1000, "b1", "B", 20, false) } as const;
    expect(run([ended], config, committed).out).toEqual([]);
  });

  it("switches without the time-to-trigger when the serving link is lost and a candidate beats it by A3", () => {
    const r = run(
      [
        a3(500, "b1", "B", 9),
        a3(510, "c1", "C", 10),
        sample(600, "a1", "A", 4),
      ],
      config,
      attached,
    );
    expect(r.out[0]).toMatchObject({ kind: "switch", t: 600, poa: "c1", ctn: "C", reactive: true });
    expect(reasonOf(r.out[0]!)).toContain("below the outage threshold");
  });

  it("does not switch on outage to a candidate that is merely near (its level may be stale)", () => {
    const r = run([near(500, "b1", "B", 6), sample(600, "a1", "A", 4)], config, attached);
    expect(r.out).toEqual([]);
  });

  it("switches to the best PoA heard when the serving PoA was silent for a whole instant past maxAgeMs", () => {
    // a1 last heard at 100; the instant at 1100 is 1000 ms later: not yet too long
    const quiet = run([sample(1200, "b1", "B", 12, 1100)], config, attached);
    expect(quiet.out).toEqual([]);
    const r = run([near(500, "c1", "C", 15), sample(1201, "b1", "B", 12, 1101)], config, attached);
    expect(r.out[0]).toMatchObject({ kind: "switch", poa: "c1", from: "a1", reactive: true });
    expect(reasonOf(r.out[0]!)).toContain("not heard for 1001 ms");
    expect(r.state.servingT).toBe(1201);
  });

  it("does not take a pause in the measurements for a vanished serving PoA", () => {
    // nothing at all between 100 and 3000: the previous instant (100) had a1
    const r = run(
      [sample(3000, "b1", "B", 12, 100), sample(3000, "a1", "A", 20)],
      config,
      attached,
    );
    expect(r.out).toEqual([]);
    expect(r.state.servingT).toBe(3000);
  });

  it("judges silence only at the first sample of an instant", () => {
    const r = run([sample(1201, "b1", "B", 12, 1201)], config, attached);
    expect(r.out).toEqual([]);
  });

  it("avoids a held-down PoA when the serving one vanishes, unless nothing else is heard", () => {
    const barred = { kind: "penalty", t: 500, poa: "c1", db: Infinity, until: 10000 } as const;
    const other = run(
      [
        barred,
        near(500, "c1", "C", 25),
        near(510, "b1", "B", 15),
        sample(1300, "d1", "D", 9, 1200),
      ],
      config,
      attached,
    );
    expect(other.out[0]).toMatchObject({ kind: "switch", poa: "b1" });
    const alone = run(
      [barred, near(500, "c1", "C", 25), sample(1300, "c1", "C", 24, 1200)],
      config,
      attached,
    );
    expect(alone.out[0]).toMatchObject({ kind: "switch", poa: "c1" });
    expect(reasonOf(alone.out[0]!)).toContain("held down: nothing else is heard");
  });

  it("keeps candidates' levels current from their samples", () => {
    const r = run([near(500, "b1", "B", 15), sample(600, "b1", "B", 17)], config, attached);
    expect(r.state.near.get("b1")?.snr).toBe(17);
    expect(r.out).toEqual([]);
  });

  it("stays when the serving link is lost but no candidate is better", () => {
    const r = run([near(500, "b1", "B", 3), sample(600, "a1", "A", 4)], config, attached);
    expect(r.out).toEqual([]);
    expect(r.state.serving).toEqual({ poa: "a1", network: "A", snr: 4 });
  });
});
