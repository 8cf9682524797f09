import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { scenarios } from "../../adapters/metrics/scenarios.ts";
import { simulateTrace } from "../../adapters/metrics/simulator.ts";
import { decide, type DecideOptions } from "../../lib/decision/decide.ts";
import type { Decision } from "../../lib/decision/decision.ts";
import { MetricsValidationError } from "../../lib/errors.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import { Prng } from "../../lib/metrics/prng.ts";
import { referenceDecide } from "../../bench/reference_decide.ts";
import { networksFor, rowTrace } from "../../bench/_traces.ts";

function viaDecide(samples: readonly LinkSample[], options: DecideOptions): Promise<Decision[]> {
  return lastValueFrom(decide(from(samples), options).pipe(toArray()));
}

/** Option variants, on top of a scenario's cells and CTN timings. */
const VARIANTS: readonly (readonly [string, DecideOptions])[] = [
  ["defaults", {}],
  ["recovery off", { recovery: "off" }],
  ["topK 3", { topK: 3, maxPreconfigured: 2 }],
  ["timeToTrigger 0", { timeToTrigger: 0 }],
];

/**
 * A random walk of SNRs for a few PoAs with irregular instants (repeated times, gaps,
 * periods that make dwell timers fall due exactly at sample times) and drop-outs.
 */
function randomTrace(seed: number): LinkSample[] {
  const rng = new Prng(seed);
  const count = 2 + Math.floor(rng.next() * 5);
  const poas = Array.from({ length: count }, (_, i) => ({
    poa: `p${i}`,
    network: ["A", "B", "C"][Math.floor(rng.next() * 3)]!,
    snr: rng.uniform(0, 30),
  }));
  const step = [64, 100, 128, 256][Math.floor(rng.next() * 4)]!;
  const out: LinkSample[] = [];
  let t = 0;
  for (let i = 0; i < 500; i++) {
    t += rng.next() < 0.1 ? 0 : step * (rng.next() < 0.2 ? 2 : 1);
    for (const p of poas) {
      p.snr = Math.min(35, Math.max(-5, p.snr + rng.gaussian(0, 2)));
      if (rng.next() < 0.1) continue;
      out.push({ t, poa: p.poa, network: p.network, snr: Math.round(p.snr * 10) / 10 });
    }
  }
  return out;
}

describe("referenceDecide gives exactly decide's decisions", () => {
  for (const sc of scenarios()) {
    it(`on the ${sc.name} scenario, seeds 1-5, every option variant`, async () => {
      let decisions = 0;
      for (const seed of [1, 2, 3, 4, 5]) {
        const trace = simulateTrace(sc, { seed });
        for (const [, variant] of VARIANTS) {
          const options = { cells: sc.cells, ctns: sc.ctns, ...variant };
          const expected = await viaDecide(trace, options);
          expect(referenceDecide(trace, options)).toEqual(expected);
          decisions += expected.length;
        }
      }
      expect(decisions).toBeGreaterThan(0);
    });
  }

  it("without cells (SNR-trend lead time only) and with tight timers", async () => {
    const trace = simulateTrace(scenarios()[1]!, { seed: 4 });
    for (
      const options of [
        {},
        { maxAgeMs: 150, trendWindowMs: 300, k: 0 },
        { prepareDwell: 0, releaseDwell: 0, timeToTrigger: 0 },
      ] satisfies DecideOptions[]
    ) {
      expect(referenceDecide(trace, options)).toEqual(await viaDecide(trace, options));
    }
  });

  it("on random traces with repeated instants, gaps and timers due at sample times", async () => {
    const variants: DecideOptions[] = [
      {},
      { releaseDwell: 0, prepareDwell: 128, timeToTrigger: 128 },
      { recovery: { returnPenaltyDb: 0, holdDownMs: 0 }, margin: 1, leave: 0 },
    ];
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 15; seed++) {
      const trace = randomTrace(seed);
      for (const options of variants) {
        const expected = await viaDecide(trace, options);
        for (const d of expected) kinds.add(d.kind);
        expect(referenceDecide(trace, options)).toEqual(expected);
      }
    }
    // the traces exercise every decision kind
    expect([...kinds].sort()).toEqual(
      ["abort", "bicast", "commit", "preconfigure", "prepare", "release", "restore", "switch"],
    );
  });

  it("on the benchmark's row traces (1, 8 and 32 PoAs)", async () => {
    for (const poas of [1, 8, 32]) {
      const trace = rowTrace(poas, { samples: 2400 });
      expect(referenceDecide(trace.samples, trace.options)).toEqual(
        await viaDecide(trace.samples, trace.options),
      );
    }
  });

  it("refuses a bad sample with decide's error", async () => {
    const bad = [{ t: 0, poa: "a1", network: "A", snr: 10 }, {
      t: 100,
      poa: "a1",
      network: "A",
      snr: NaN,
    }];
    await expect(viaDecide(bad, {})).rejects.toMatchObject({ field: "snr" });
    expect(() => referenceDecide(bad)).toThrow(MetricsValidationError);
    const backwards = [{ t: 100, poa: "a1", network: "A", snr: 10 }, {
      t: 0,
      poa: "a1",
      network: "A",
      snr: 10,
    }];
    expect(() => referenceDecide(backwards)).toThrow("time goes backwards");
  });
});

describe("row traces for the benchmark", () => {
  it("are deterministic, name every PoA, mix networks and make decide hand over", async () => {
    for (const poas of [1, 8, 32]) {
      const a = rowTrace(poas, { samples: 2400 });
      expect(rowTrace(poas, { samples: 2400 }).samples).toEqual(a.samples);
      expect(a.samples.length).toBeGreaterThan(1500);
      expect(new Set(a.samples.map((s) => s.poa)).size).toBe(poas);
      expect(new Set(a.scenario.cells.map((c) => c.network)).size).toBe(networksFor(poas));
      const decisions = await viaDecide(a.samples, a.options);
      const switches = decisions.filter((d) => d.kind === "switch").length;
      if (poas === 1) expect(decisions).toEqual([]);
      else {
        expect(switches).toBeGreaterThan(0);
        expect(decisions.some((d) => d.kind === "prepare" || d.kind === "restore")).toBe(true);
      }
    }
  });
});
