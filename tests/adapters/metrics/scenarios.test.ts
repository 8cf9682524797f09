import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError } from "../../../lib/errors.ts";
import {
  formatLinkSample,
  type LinkSample,
  parseLinkSampleLine,
} from "../../../lib/metrics/link_sample.ts";
import { type Scenario, scenario, scenarios } from "../../../adapters/metrics/scenarios.ts";
import { meanSnr, simulateTrace } from "../../../adapters/metrics/simulator.ts";

const NAMES = ["walk", "drive", "waypoint", "manhattan", "border", "demo"];

/** The strongest sample of each instant, in time order. */
function strongest(trace: readonly LinkSample[]): LinkSample[] {
  const best = new Map<number, LinkSample>();
  for (const s of trace) {
    const b = best.get(s.t);
    if (b === undefined || s.snr > b.snr) best.set(s.t, s);
  }
  return [...best.values()];
}

/** How often the strongest PoA changes. */
function switches(trace: readonly LinkSample[]): number {
  const seq = strongest(trace).map((s) => s.poa);
  return seq.filter((p, i) => i > 0 && p !== seq[i - 1]).length;
}

/** Handovers to the strongest PoA once it has been strongest for `dwell` instants in a row. */
function dwellHandovers(trace: readonly LinkSample[], dwell: number): number {
  const seq = strongest(trace).map((s) => s.poa);
  let serving = seq[0];
  let candidate = serving;
  let since = 0;
  let count = 0;
  seq.forEach((poa, i) => {
    if (poa === serving) candidate = serving;
    else if (poa !== candidate) [candidate, since] = [poa, i];
    else if (i - since + 1 >= dwell) [serving, count] = [poa, count + 1];
  });
  return count;
}

/** Share of `samples` for which `pred` holds. */
function share<T>(samples: readonly T[], pred: (s: T) => boolean): number {
  return samples.filter(pred).length / samples.length;
}

function networks(sc: Scenario): string[] {
  return [...new Set(sc.cells.map((c) => c.network))].sort();
}

describe("scenarios()", () => {
  it("lists the built-in scenarios by name", () => {
    expect(scenarios().map((s) => s.name)).toEqual(NAMES);
  });

  it("looks each one up by name, the same object every time", () => {
    for (const name of NAMES) {
      expect(scenario(name).name).toBe(name);
      expect(scenario(name)).toBe(scenarios().find((s) => s.name === name));
    }
  });

  it("refuses an unknown name with a ConfigError listing the known ones", () => {
    expect(() => scenario("moon")).toThrow(ConfigError);
    expect(() => scenario("moon")).toThrow(
      "Unknown scenario: moon (known: walk, drive, waypoint, manhattan, border, demo)",
    );
    try {
      scenario("");
    } catch (error) {
      expect((error as ConfigError).option).toBe("scenario");
    }
  });

  it("hands out frozen scenarios", () => {
    const walk = scenario("walk");
    expect(Object.isFrozen(walk)).toBe(true);
    expect(Object.isFrozen(walk.cells[0]!.pos)).toBe(true);
    expect(() => (walk.cells as Scenario["cells"][number][]).push(walk.cells[0]!)).toThrow(
      TypeError,
    );
  });
});

describe.each(NAMES)("scenario %s", (name) => {
  const sc = scenario(name);

  it("has a description, a duration and uniquely named cells", () => {
    expect(sc.description.length).toBeGreaterThan(20);
    expect(sc.durationS).toBeGreaterThan(0);
    const poas = sc.cells.map((c) => c.poa);
    expect(new Set(poas).size).toBe(poas.length);
    for (const cell of sc.cells) {
      expect(cell.poa).toMatch(/^[a-c]\d$/);
      expect(cell.network).toMatch(/^domain[A-C]$/);
      expect(cell.poa[0]).toBe(cell.network.at(-1)!.toLowerCase());
    }
  });

  it("gives a CTN profile with plausible, differing timings for every network", () => {
    expect(sc.ctns.map((c) => c.network).sort()).toEqual(networks(sc));
    for (const ctn of sc.ctns) {
      expect(ctn.rttMs).toBeGreaterThanOrEqual(20);
      expect(ctn.rttMs).toBeLessThanOrEqual(100);
      expect(ctn.tpskMs).toBeGreaterThanOrEqual(5);
      expect(ctn.tpskMs).toBeLessThanOrEqual(15);
      expect(ctn.tconfMs).toBeGreaterThanOrEqual(50);
      expect(ctn.tconfMs).toBeLessThanOrEqual(200);
      expect(ctn.tbuMs).toBeGreaterThanOrEqual(30);
      expect(ctn.tbuMs).toBeLessThanOrEqual(80);
    }
    // Something for a planner to decide: the networks do not all cost the same.
    const cost = (c: (typeof sc.ctns)[number]) => 2 * c.rttMs! + c.tpskMs! + c.tconfMs!;
    expect(new Set(sc.ctns.map(cost)).size).toBe(sc.ctns.length);
  });

  it("sizes every cell where its mean SNR falls to 5 dB", () => {
    for (const cell of sc.cells) {
      const edge = { x: cell.pos.x + cell.coverage, y: cell.pos.y };
      const snr = meanSnr(cell, edge, { pathLossExponent: sc.pathLossExponent ?? 3 });
      expect(Math.abs(snr - 5)).toBeLessThan(0.1);
    }
  });

  it("generates samples that parse back as valid JSONL, from known cells", () => {
    for (const seed of [1, 2, 3]) {
      const trace = simulateTrace(sc, { seed });
      expect(trace.length).toBeGreaterThan(sc.durationS * 10);
      let previousT: number | undefined;
      const mismatches: string[] = [];
      for (const s of trace) {
        const line = formatLinkSample(s);
        const back = parseLinkSampleLine(line, previousT);
        previousT = back.t;
        const cell = sc.cells.find((c) => c.poa === back.poa);
        if (cell === undefined || cell.network !== back.network) {
          mismatches.push(`unknown cell: ${line}`);
        }
        if (back.pos === undefined || back.vel === undefined) {
          mismatches.push(`no pos/vel: ${line}`);
        }
        if (formatLinkSample(back) !== line) mismatches.push(`round trip: ${line}`);
      }
      expect(mismatches.slice(0, 3)).toEqual([]);
      expect(trace.at(-1)!.t).toBeLessThan(sc.durationS * 1000);
    }
  });
});

describe("scenario geometry and behaviour", () => {
  it("walk: a pedestrian across three Wi-Fi cells of two domains, a1 first and b1 last", () => {
    const sc = scenario("walk");
    expect(sc.cells).toHaveLength(3);
    expect(networks(sc)).toEqual(["domainA", "domainB"]);
    for (let seed = 0; seed < 10; seed++) {
      const best = strongest(simulateTrace(sc, { seed }));
      expect(best[0]!.poa).toBe("a1");
      expect(best.at(-1)!.poa).toBe("b1");
      expect(new Set(best.map((s) => s.poa))).toEqual(new Set(["a1", "a2", "b1"]));
      const speeds = best.map((s) => s.vel!.speed);
      expect(Math.min(...speeds)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...speeds)).toBeLessThanOrEqual(1.5);
    }
  });

  it("drive: 10-40 m/s past at least five ~300 m cells, through domainA, domainB, domainC in order", () => {
    const sc = scenario("drive");
    expect(sc.cells.length).toBeGreaterThanOrEqual(5);
    expect(networks(sc)).toEqual(["domainA", "domainB", "domainC"]);
    for (const cell of sc.cells) {
      expect(cell.coverage).toBeGreaterThan(250);
      expect(cell.coverage).toBeLessThan(350);
    }
    for (let seed = 0; seed < 20; seed++) {
      const best = strongest(simulateTrace(sc, { seed }));
      // The instant each domain is first strongest: A, then B, then C.
      const first = ["domainA", "domainB", "domainC"].map((n) =>
        best.findIndex((s) => s.network === n)
      );
      expect(first[0]).toBe(0);
      expect(first[1]).toBeGreaterThan(first[0]!);
      expect(first[2]).toBeGreaterThan(first[1]!);
      expect(best.at(-1)!.network).toBe("domainC");
      const speeds = best.map((s) => s.vel!.speed);
      expect(Math.min(...speeds)).toBeGreaterThanOrEqual(10);
      expect(Math.max(...speeds)).toBeLessThanOrEqual(40);
      expect(Math.max(...speeds) - Math.min(...speeds)).toBeGreaterThan(5);
    }
  });

  it("waypoint: random waypoint over four cells of two domains, every cell strongest at times", () => {
    const sc = scenario("waypoint");
    expect(sc.cells).toHaveLength(4);
    expect(networks(sc)).toEqual(["domainA", "domainB"]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 5; seed++) {
      const best = strongest(simulateTrace(sc, { seed }));
      for (const s of best) seen.add(s.poa);
      expect(new Set(best.map((s) => s.network)).size).toBe(2);
      expect(share(best, (s) => s.vel!.speed === 0)).toBeGreaterThan(0.02); // pauses
    }
    expect(seen).toEqual(new Set(["a1", "a2", "b1", "b2"]));
  });

  it("manhattan: a grid city with at least six cells of three domains, all visited", () => {
    const sc = scenario("manhattan");
    expect(sc.cells.length).toBeGreaterThanOrEqual(6);
    expect(networks(sc)).toEqual(["domainA", "domainB", "domainC"]);
    let allThree = 0;
    for (let seed = 0; seed < 10; seed++) {
      const best = strongest(simulateTrace(sc, { seed }));
      if (new Set(best.map((s) => s.network)).size === 3) allThree++;
      // Streets are axis-aligned: headings are multiples of pi/2.
      const q = best.map((s) => s.vel!.heading / (Math.PI / 2));
      expect(q.filter((h) => Math.abs(h - Math.round(h)) > 0.001)).toEqual([]);
    }
    expect(allThree).toBeGreaterThanOrEqual(8);
  });

  it("border: two cells of different domains, and the strongest PoA ping-pongs many times", () => {
    const sc = scenario("border");
    expect(sc.cells).toHaveLength(2);
    expect(networks(sc)).toEqual(["domainA", "domainB"]);
    const [a, b] = sc.cells as [typeof sc.cells[0], typeof sc.cells[0]];
    const borderX = (a.pos.x + b.pos.x) / 2;
    for (let seed = 0; seed < 10; seed++) {
      const trace = simulateTrace(sc, { seed });
      const best = strongest(trace);
      expect(switches(trace)).toBeGreaterThanOrEqual(10);
      // Even a 1 s time-to-trigger hands over back and forth: A, B, A, B, ...
      expect(dwellHandovers(trace, 10)).toBeGreaterThanOrEqual(4);
      // The node itself crosses the border line many times.
      const xs = best.map((s) => s.pos!.x - borderX);
      const crossings = xs.filter((x, i) => i > 0 && Math.sign(x) !== Math.sign(xs[i - 1]!)).length;
      expect(crossings).toBeGreaterThanOrEqual(6);
      // It starts in a1 and ends in b1.
      expect(best[0]!.poa).toBe("a1");
      expect(share(best.slice(-100), (s) => s.poa === "b1")).toBe(1);
    }
  });

  it("demo: ~60 s at ~15 m/s past a1, a2 (domainA) into b1 (domainB), switching domain mid-run", () => {
    const sc = scenario("demo");
    expect(sc.durationS).toBe(60);
    expect(sc.cells.map((c) => `${c.poa}:${c.network}`)).toEqual([
      "a1:domainA",
      "a2:domainA",
      "b1:domainB",
    ]);
    for (let seed = 0; seed < 20; seed++) {
      const best = strongest(simulateTrace(sc, { seed }));
      const speeds = best.map((s) => s.vel!.speed);
      expect(Math.min(...speeds)).toBeGreaterThanOrEqual(14);
      expect(Math.max(...speeds)).toBeLessThanOrEqual(16);
      // Intra-domain handover first: a1, then a2.
      expect(best[0]!.poa).toBe("a1");
      expect(best.findIndex((s) => s.poa === "a2")).toBeLessThan(
        best.findIndex((s) => s.poa === "b1"),
      );
      // The inter-domain handover falls in the middle of the run...
      const firstB = best.find((s) => s.network === "domainB")!.t;
      const lastA = best.findLast((s) => s.network === "domainA")!.t;
      expect(firstB).toBeGreaterThanOrEqual(24_000);
      expect(lastA).toBeLessThanOrEqual(40_000);
      // ...with domainA clearly serving before and domainB after.
      expect(share(best.filter((s) => s.t < 20_000), (s) => s.network === "domainA")).toBe(1);
      expect(share(best.filter((s) => s.t >= 45_000), (s) => s.network === "domainB")).toBe(1);
    }
  });
});
