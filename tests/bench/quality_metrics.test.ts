import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import type { Decision } from "../../lib/decision/decision.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import {
  addCounts,
  countFullyPrepared,
  countPingPongs,
  countTooLate,
  NO_COUNTS,
  qualityOf,
  switchesOf,
  type SwitchRecord,
} from "../../bench/_quality.ts";
import { a3Baseline } from "../../bench/decision_quality.ts";

function sw(t: number, from: string, poa: string, extra: Partial<SwitchRecord> = {}): SwitchRecord {
  return {
    t,
    from,
    poa,
    ctn: poa.toUpperCase(),
    fromNetwork: from.toUpperCase(),
    prepared: [],
    ...extra,
  };
}

/** One instant per entry: PoA → raw SNR (a PoA missing is not heard). */
function trace(instants: readonly (readonly [number, Record<string, number>])[]): LinkSample[] {
  const out: LinkSample[] = [];
  for (const [t, snrs] of instants) {
    for (const [poa, snr] of Object.entries(snrs)) {
      out.push({ t, poa, network: poa.toUpperCase(), snr });
    }
  }
  return out;
}

describe("countPingPongs", () => {
  it("counts a switch back to the PoA just left within the window", () => {
    expect(countPingPongs([sw(0, "a", "b"), sw(4999, "b", "a")])).toBe(1);
  });

  it("does not count a return at or after the window, or to another PoA", () => {
    expect(countPingPongs([sw(0, "a", "b"), sw(5000, "b", "a")])).toBe(0);
    expect(countPingPongs([sw(0, "a", "b"), sw(100, "b", "c")])).toBe(0);
    expect(countPingPongs([sw(0, "a", "b"), sw(100, "b", "a")], 50)).toBe(0);
  });

  it("counts each leg of a longer bounce, measured from the previous switch", () => {
    const s = [sw(0, "a", "b"), sw(1000, "b", "a"), sw(2000, "a", "b"), sw(9000, "b", "a")];
    expect(countPingPongs(s)).toBe(2);
    expect(countPingPongs([])).toBe(0);
    expect(countPingPongs([sw(0, "a", "b")])).toBe(0);
  });
});

describe("countTooLate", () => {
  const t = trace([
    [0, { a: 20, b: 10 }],
    [100, { a: 6, b: 12 }],
    [200, { a: 4.9, b: 14 }],
    [300, { a: 3, b: 16 }],
  ]);

  it("counts a switch made after the serving SNR fell under 5 dB", () => {
    expect(countTooLate(t, [sw(150, "a", "b")])).toBe(0);
    expect(countTooLate(t, [sw(250, "a", "b")])).toBe(1);
  });

  it("includes the instant of the switch itself", () => {
    expect(countTooLate(t, [sw(200, "a", "b")])).toBe(1);
    expect(countTooLate(t, [sw(199, "a", "b")])).toBe(0);
  });

  it("honours the threshold", () => {
    expect(countTooLate(t, [sw(250, "a", "b")], 4)).toBe(0);
    expect(countTooLate(t, [sw(350, "a", "b")], 4)).toBe(1);
  });

  it("only looks at the instants since the previous switch, for the PoA left", () => {
    // a is bad at 200 and 300, but the node left it at 150; b is fine.
    expect(countTooLate(t, [sw(150, "a", "b"), sw(350, "b", "a")])).toBe(0);
    // back on a from 150: its 4.9 dB at 200 makes the second switch late.
    expect(countTooLate(t, [sw(50, "a", "b"), sw(150, "b", "a"), sw(350, "a", "b")])).toBe(1);
    // two switches at one instant: the second has no instants of its own.
    expect(countTooLate(t, [sw(250, "a", "b"), sw(250, "b", "a")])).toBe(1);
  });

  it("counts a serving PoA that is not heard at an instant as in outage", () => {
    const gap = trace([[0, { a: 20, b: 10 }], [100, { b: 12 }], [200, { a: 20, b: 14 }]]);
    expect(countTooLate(gap, [sw(250, "a", "b")])).toBe(1);
    expect(countTooLate(gap, [sw(50, "a", "b")])).toBe(0);
  });

  it("ignores the time after the last switch", () => {
    expect(countTooLate(t, [sw(50, "a", "b")])).toBe(0);
    expect(countTooLate(t, [])).toBe(0);
    expect(countTooLate([], [sw(50, "a", "b")])).toBe(0);
  });
});

describe("countFullyPrepared", () => {
  it("counts inter-network switches with preauth, preconfigure and bind", () => {
    const full = ["preauth", "preconfigure", "bind"] as const;
    expect(countFullyPrepared([
      sw(0, "a", "b", { prepared: full }),
      sw(1, "b", "c", { prepared: ["preauth", "preconfigure"] }),
      sw(2, "c", "d", { prepared: [] }),
      // same network: never "fully prepared", whatever it says
      sw(3, "d", "e", { ctn: "N", fromNetwork: "N", prepared: full }),
    ])).toBe(1);
  });
});

describe("qualityOf, addCounts and switchesOf", () => {
  it("sums a run into counts", () => {
    const t = trace([[0, { a: 20, b: 10 }], [100, { a: 3, b: 12 }], [200, { a: 8, b: 14 }]]);
    const s = [
      sw(150, "a", "b", { prepared: ["preauth", "preconfigure", "bind"] }),
      sw(250, "b", "a", { ctn: "A", fromNetwork: "B" }),
    ];
    const q = qualityOf(t, s);
    expect(q).toEqual({
      handovers: 2,
      pingPongs: 1,
      tooLate: 1,
      interNetwork: 2,
      fullyPrepared: 1,
    });
    expect(addCounts(q, q)).toEqual({
      handovers: 4,
      pingPongs: 2,
      tooLate: 2,
      interNetwork: 4,
      fullyPrepared: 2,
    });
    expect(addCounts(NO_COUNTS, q)).toEqual(q);
    expect(qualityOf(t, s, { pingPongWindowMs: 50, outageSnr: 2 })).toMatchObject({
      pingPongs: 0,
      tooLate: 0,
    });
  });

  it("keeps only the switches of a decision list", () => {
    const decisions: Decision[] = [
      { kind: "release", t: 0, ctn: "A", poa: "a1", phases: [], retainMs: 0, reason: "" },
      {
        kind: "switch",
        t: 5,
        ctn: "B",
        poa: "b1",
        from: "a1",
        fromNetwork: "A",
        prepared: [],
        reactive: true,
        reason: "",
      },
    ];
    expect(switchesOf(decisions).map((d) => d.t)).toEqual([5]);
  });
});

describe("a3Baseline", () => {
  const run = (samples: LinkSample[]) => lastValueFrom(a3Baseline(from(samples)).pipe(toArray()));

  it("switches a time-to-trigger after the neighbour beats serving by 3 dB, unprepared", async () => {
    const samples: LinkSample[] = [];
    for (let t = 0; t <= 3000; t += 100) {
      samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
      samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
    }
    const out = await run(samples);
    expect(out).toHaveLength(1);
    const d = out[0]!;
    expect(d).toMatchObject({ kind: "switch", from: "a1", poa: "b1", ctn: "B", fromNetwork: "A" });
    expect(d.prepared).toEqual([]);
    expect(d.reactive).toBe(true);
    // the trigger fires on the sample clock, 256 ms after the A3 entry (a sample time)
    expect(d.t % 100).toBe(56);
  });

  it("attaches to the strongest PoA of the first instant and does not switch on a short spike", async () => {
    const samples: LinkSample[] = [
      { t: 0, poa: "a1", network: "A", snr: 10 },
      { t: 0, poa: "b1", network: "B", snr: 20 },
    ];
    for (let t = 100; t <= 2000; t += 100) {
      samples.push({ t, poa: "a1", network: "A", snr: t === 500 ? 40 : 10 });
      samples.push({ t, poa: "b1", network: "B", snr: 20 });
    }
    expect(await run(samples)).toEqual([]);
  });

  it("does not force a switch when the serving link is lost", async () => {
    const samples: LinkSample[] = [];
    for (let t = 0; t <= 2000; t += 100) {
      samples.push({ t, poa: "a1", network: "A", snr: t < 500 ? 20 : 1 });
      samples.push({ t, poa: "b1", network: "B", snr: 2 });
    }
    expect(await run(samples)).toEqual([]);
  });
});
