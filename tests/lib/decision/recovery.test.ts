import { describe, expect, it } from "npm:vitest@4.1.12";
import type { Phase } from "../../../lib/decision/decision.ts";
import type { HandoverOutput } from "../../../lib/decision/handover.ts";
import {
  INITIAL_RECOVERY_STATE,
  type RecoveryConfig,
  type RecoveryEvent,
  recoveryReducer,
  type RecoveryState,
} from "../../../lib/decision/recovery.ts";

const config: RecoveryConfig = {
  retainMs: 30000,
  returnPenaltyDb: 3,
  returnPenaltyMs: 5000,
  holdDownMs: 10000,
  bicastMs: 2000,
};

function run(events: RecoveryEvent[], c: RecoveryConfig = config) {
  let state: RecoveryState = INITIAL_RECOVERY_STATE;
  const out: unknown[] = [];
  for (const e of events) {
    const [next, o] = recoveryReducer(state, e, c);
    state = next;
    out.push(...o);
  }
  return { state, out: out as Array<Record<string, unknown>> };
}

const d = (decision: HandoverOutput): RecoveryEvent => ({ kind: "decision", decision });
const release = (
  t: number,
  ctn: string,
  phases: readonly Phase[] = ["preauth", "preconfigure"],
): RecoveryEvent => d({ kind: "release", t, ctn, poa: "a1", phases, retainMs: 30000, reason: "r" });
const prepare = (t: number, ctns: string[]): RecoveryEvent =>
  d({
    kind: "prepare",
    t,
    ctns,
    poa: "a1",
    budgets: Object.fromEntries(
      ctns.map((n) => [n, { leadMs: null, authMs: 1, confMs: 2, bindMs: 3, phases: ["preauth"] }]),
    ),
    reason: "p",
  });
const sw = (
  t: number,
  from: string,
  fromNetwork: string,
  poa: string,
  ctn: string,
): RecoveryEvent =>
  d({ kind: "switch", t, from, fromNetwork, poa, ctn, prepared: [], reactive: false, reason: "s" });

describe("recoveryReducer (RFC 6252 section C.1, C.2)", () => {
  it("passes decisions it does not handle through unchanged", () => {
    const commit = {
      kind: "commit",
      t: 1,
      ctn: "B",
      poa: "b1",
      reason: "c",
      budget: { leadMs: null, authMs: 1, confMs: 2, bindMs: 3, phases: [] },
    } as const;
    expect(run([d(commit)]).out).toEqual([commit]);
  });

  it("retains a released context for the TTL and says so", () => {
    const { state, out } = run([release(1000, "B")]);
    expect(out).toEqual([expect.objectContaining({ kind: "release", ctn: "B", retainMs: 30000 })]);
    expect(state.retained.get("B")).toEqual({ until: 31000, phases: ["preauth", "preconfigure"] });
  });

  it("turns a prepare of a retained CTN into restore, keeping the others as prepare", () => {
    const { out, state } = run([release(0, "B"), prepare(1000, ["B", "C"])]);
    expect(out.slice(1)).toEqual([
      expect.objectContaining({ kind: "restore", ctn: "B", t: 1000 }),
      expect.objectContaining({ kind: "prepare", ctns: ["C"] }),
    ]);
    expect((out[2]!.budgets as Record<string, unknown>).B).toBeUndefined();
    expect(state.retained.has("B")).toBe(false);
  });

  it("prepares again once the retention TTL has expired", () => {
    const { out } = run([release(0, "B"), prepare(30000, ["B"])]);
    expect(out[1]).toEqual(expect.objectContaining({ kind: "prepare", ctns: ["B"] }));
  });

  it("restores the context before switching back into a retained network", () => {
    const { out } = run([release(0, "A"), sw(2000, "b1", "B", "a1", "A")]);
    expect(out.slice(1).map((o) => o.kind)).toEqual(["restore", "switch", "penalty"]);
  });

  it("does not retain a CTN that only gave up its pre-configuration slot", () => {
    const { state, out } = run([release(1000, "B", ["preconfigure"]), prepare(2000, ["B"])]);
    expect(out[0]).toMatchObject({ kind: "release", retainMs: 0 });
    expect(state.retained.size).toBe(0);
    expect(out[1]).toMatchObject({ kind: "prepare", ctns: ["B"] });
  });

  it("turns a reactive switch into a restored one when the context was retained", () => {
    const reactive = d({
      kind: "switch",
      t: 2000,
      from: "b1",
      fromNetwork: "B",
      poa: "a1",
      ctn: "A",
      prepared: [],
      reactive: true,
      reason: "x; nothing prepared: reactive handover",
    });
    const { out } = run([release(0, "A", ["preauth", "preconfigure", "bind"]), reactive]);
    expect(out[1]).toMatchObject({ kind: "restore", ctn: "A" });
    expect(out[2]).toMatchObject({
      kind: "switch",
      reactive: false,
      prepared: ["preauth", "preconfigure"],
      reason: "x; context restored: preauth+preconfigure",
    });
  });

  it("remembers the networks of only the last few PoAs", () => {
    const events: RecoveryEvent[] = [];
    for (let i = 0; i < 20; i++) {
      events.push(sw(i * 1000, `p${i}`, `N${i}`, `p${i + 1}`, `N${i + 1}`));
    }
    expect(run(events).state.networkOf.size).toBe(8);
  });

  it("penalises the PoA just left for the ping-pong window", () => {
    const { out } = run([sw(2000, "a1", "A", "b1", "B")]);
    expect(out[1]).toEqual({ kind: "penalty", t: 2000, poa: "a1", db: 3, until: 7000 });
  });

  it("holds down the PoA bounced through and bicasts after a ping-pong between networks", () => {
    const { out } = run([
      d({ kind: "attach", t: 0, poa: "a1", network: "A" }),
      sw(1000, "a1", "A", "b1", "B"),
      sw(3000, "b1", "B", "a1", "A"),
      { kind: "pingpong", pingPong: { t: 3000, poa: "a1", via: "b1", leftAt: 1000 } },
    ]);
    const tail = out.slice(-2);
    expect(tail[0]).toEqual({ kind: "penalty", t: 3000, poa: "b1", db: Infinity, until: 13000 });
    expect(tail[1]).toEqual(
      expect.objectContaining({ kind: "bicast", ctns: ["A", "B"], poa: "a1", durationMs: 2000 }),
    );
  });

  it("does not bicast after a ping-pong inside one network", () => {
    const { out } = run([
      d({ kind: "attach", t: 0, poa: "a1", network: "A" }),
      sw(1000, "a1", "A", "a2", "A"),
      { kind: "pingpong", pingPong: { t: 2000, poa: "a1", via: "a2", leftAt: 1000 } },
    ]);
    expect(out.map((o) => o.kind)).toEqual(["switch", "penalty", "penalty"]);
  });

  it("with retention off releases at once and never restores", () => {
    const off = { ...config, retainMs: 0, returnPenaltyDb: 0, holdDownMs: 0, bicastMs: 0 };
    const { out } = run([release(0, "B"), prepare(10, ["B"]), sw(20, "a1", "A", "b1", "B")], off);
    expect(out.map((o) => o.kind)).toEqual(["release", "prepare", "switch"]);
    expect(out[0]!.retainMs).toBe(0);
  });
});
