import { describe, expect, it } from "npm:vitest@4.1.12";
import { lastValueFrom, map, toArray } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import { ConfigError } from "../../../lib/errors.ts";
import type { Cell } from "../../../lib/metrics/cell.ts";
import {
  formatLinkSample,
  type LinkSample,
  type Position,
} from "../../../lib/metrics/link_sample.ts";
import { Prng } from "../../../lib/metrics/prng.ts";
import {
  coverageRadius,
  type Kinematics,
  meanSnr,
  type Mover,
  pathLossDb,
  simulateTrace,
  SIMULATOR_DEFAULTS,
  simulatorSource,
  trajectory,
} from "../../../adapters/metrics/simulator.ts";
import { type Scenario, scenario, scenarios } from "../../../adapters/metrics/scenarios.ts";

const EPS = 1e-9;

function jsonl(trace: readonly LinkSample[]): string {
  return trace.map(formatLinkSample).join("\n");
}

function byInstant(trace: readonly LinkSample[]): Map<number, LinkSample[]> {
  const out = new Map<number, LinkSample[]>();
  for (const s of trace) {
    const list = out.get(s.t);
    if (list) list.push(s);
    else out.set(s.t, [s]);
  }
  return out;
}

function cellOf(sc: Scenario, poa: string): Cell {
  const cell = sc.cells.find((c) => c.poa === poa);
  if (!cell) throw new Error(`No cell ${poa}`);
  return cell;
}

function distance(a: Position, b: Position): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Samples a trajectory every `stepMs` over `durationS`. */
function path(mover: Mover, seed: number, durationS: number, stepMs = 100): Kinematics[] {
  const move = trajectory(mover, new Prng(seed));
  return Array.from(
    { length: Math.round((durationS * 1000) / stepMs) },
    (_, i) => move(i * stepMs),
  );
}

function stats(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

function correlation(pairs: readonly (readonly [number, number])[]): number {
  const a = stats(pairs.map((p) => p[0]));
  const b = stats(pairs.map((p) => p[1]));
  const cov = pairs.reduce((sum, [x, y]) => sum + (x - a.mean) * (y - b.mean), 0) /
    (pairs.length - 1);
  return cov / (a.std * b.std);
}

/** A plain scenario for radio-model tests: one straight walk past the given cells. */
function walkPast(cells: readonly Cell[], extra: Partial<Scenario> = {}): Scenario {
  return {
    name: "test",
    description: "test",
    cells,
    ctns: [],
    durationS: 60,
    pathLossExponent: 3.5,
    mover: { kind: "walk", from: { x: -40, y: 8 }, heading: 0 },
    ...extra,
  };
}

describe("radio model", () => {
  it("computes log-distance path loss with PL0 = 40 dB at d0 = 1 m", () => {
    expect(pathLossDb(1)).toBe(40);
    expect(pathLossDb(0.2)).toBe(40);
    expect(pathLossDb(10, 3)).toBeCloseTo(70, 10);
    expect(pathLossDb(100, 3.5)).toBeCloseTo(110, 10);
  });

  it("derives SNR as txPower - PL - noise", () => {
    const cell: Cell = { poa: "a1", network: "A", pos: { x: 10, y: 10 }, coverage: 0, txPower: 15 };
    expect(meanSnr(cell, { x: 10, y: 20 }, { pathLossExponent: 3.5 })).toBeCloseTo(
      15 - 75 + 95,
      10,
    );
    const defaultPower: Cell = { poa: "a2", network: "A", pos: { x: 10, y: 10 }, coverage: 0 };
    expect(meanSnr(defaultPower, { x: 10, y: 110 })).toBeCloseTo(
      20 - 100 + 95,
      10,
    );
    expect(meanSnr(cell, { x: 10, y: 20 }, { pathLossExponent: 3, noiseFloorDbm: -90 }))
      .toBeCloseTo(15 - 70 + 90, 10);
  });

  it("puts the coverage radius where the mean SNR is 5 dB", () => {
    for (const [tx, n] of [[15, 3.5], [30, 3.2], [20, 3]] as const) {
      const r = coverageRadius({ txPowerDbm: tx, pathLossExponent: n });
      const cell: Cell = { poa: "x", network: "X", pos: { x: 0, y: 0 }, coverage: r, txPower: tx };
      expect(meanSnr(cell, { x: r, y: 0 }, { pathLossExponent: n })).toBeCloseTo(5, 9);
    }
    expect(coverageRadius()).toBeCloseTo(10 ** (70 / 30), 9);
    expect(coverageRadius({ edgeSnrDb: -3 })).toBeGreaterThan(coverageRadius());
  });

  it("matches the mean model exactly without shadowing", () => {
    const sc = walkPast(
      [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 72, txPower: 15 }, {
        poa: "b1",
        network: "B",
        pos: { x: 60, y: -5 },
        coverage: 72,
        txPower: 15,
      }],
      { shadowingSigmaDb: 0 },
    );
    const trace = simulateTrace(sc, { seed: 1 });
    expect(trace.length).toBeGreaterThan(500);
    for (const s of trace) {
      const expected = meanSnr(cellOf(sc, s.poa), s.pos!, { pathLossExponent: 3.5 });
      // 0.05 dB from rounding the SNR, a little more from rounding the position.
      expect(Math.abs(s.snr - expected)).toBeLessThan(0.06);
    }
  });

  it("adds zero-mean shadowing with the configured sigma", () => {
    const sc = scenario("walk");
    const residuals: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      for (const s of simulateTrace(sc, { seed })) {
        const mean = meanSnr(cellOf(sc, s.poa), s.pos!, { pathLossExponent: 3.5 });
        // Far above the detection floor, so that truncation does not bias the residuals.
        if (mean > SIMULATOR_DEFAULTS.detectionFloorDb + 16) residuals.push(s.snr - mean);
      }
    }
    const { mean, std } = stats(residuals);
    expect(Math.abs(mean)).toBeLessThan(0.5);
    expect(std).toBeGreaterThan(3.5);
    expect(std).toBeLessThan(4.5);
  });

  it("correlates shadowing over distance: smooth sample to sample, independent far apart", () => {
    const sc = walkPast(
      [{ poa: "a1", network: "A", pos: { x: 100, y: 0 }, coverage: 72, txPower: 15 }],
      { durationS: 240, mover: { kind: "walk", from: { x: 0, y: 8 }, heading: 0 } },
    );
    const steps: number[] = [];
    const far: (readonly [number, number])[] = [];
    for (let seed = 0; seed < 30; seed++) {
      const trace = simulateTrace(sc, { seed, periodMs: 200 });
      const residual = trace.map((s) =>
        s.snr - meanSnr(sc.cells[0]!, s.pos!, { pathLossExponent: 3.5 })
      );
      for (let i = 1; i < trace.length; i++) steps.push(residual[i]! - residual[i - 1]!);
      // Pairs about 80 m (four decorrelation distances) apart.
      for (let i = 0, j = 0; i < trace.length; i += 25) {
        while (j < trace.length && trace[j]!.pos!.x - trace[i]!.pos!.x < 80) j++;
        if (j < trace.length) far.push([residual[i]!, residual[j]!]);
      }
    }
    // White shadowing would jump by 4·√2 ≈ 5.7 dB (std) between samples.
    expect(stats(steps).std).toBeLessThan(1);
    expect(Math.abs(correlation(far))).toBeLessThan(0.2);
  });

  it("keeps each PoA's shadowing still while the node stands still", () => {
    const sc = scenario("waypoint");
    const trace = simulateTrace(sc, { seed: 4 });
    const instants = [...byInstant(trace).values()];
    let still = 0;
    for (let i = 1; i < instants.length; i++) {
      const [prev, cur] = [instants[i - 1]!, instants[i]!];
      if (cur[0]!.vel!.speed !== 0 || prev[0]!.vel!.speed !== 0) continue;
      if (cur[0]!.pos!.x !== prev[0]!.pos!.x || cur[0]!.pos!.y !== prev[0]!.pos!.y) continue;
      still++;
      expect(cur.map((s) => [s.poa, s.snr])).toEqual(prev.map((s) => [s.poa, s.snr]));
    }
    expect(still).toBeGreaterThan(100);
  });

  it("makes SNR fall with distance on average, at 10·n dB per decade", () => {
    const sc = scenario("waypoint");
    const points: (readonly [number, number])[] = [];
    for (let seed = 0; seed < 10; seed++) {
      for (const s of simulateTrace(sc, { seed })) {
        points.push([distance(cellOf(sc, s.poa).pos, s.pos!), s.snr]);
      }
    }
    // Mean SNR in 10 m rings around the antennas falls ring after ring.
    const rings = new Map<number, number[]>();
    for (const [d, snr] of points) {
      const ring = Math.floor(d / 10);
      if (ring < 1 || ring >= 9) continue;
      const list = rings.get(ring);
      if (list) list.push(snr);
      else rings.set(ring, [snr]);
    }
    const means = [...rings.entries()].sort((a, b) => a[0] - b[0]).map(([, xs]) => stats(xs).mean);
    expect(means).toHaveLength(8);
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeLessThan(means[i - 1]!);
    // Least-squares slope of SNR over log10(d) where the floor does not truncate.
    const fit = points.filter(([d]) => d >= 5 && d <= 50).map(([d, snr]) =>
      [Math.log10(d), snr] as const
    );
    const x = stats(fit.map((p) => p[0]));
    const y = stats(fit.map((p) => p[1]));
    const slope = correlation(fit) * (y.std / x.std);
    expect(slope).toBeGreaterThan(-38);
    expect(slope).toBeLessThan(-32);
  });

  it("hears a PoA only at or above the detection floor", () => {
    const trace = simulateTrace(scenario("drive"), { seed: 2 });
    expect(Math.min(...trace.map((s) => s.snr))).toBeGreaterThanOrEqual(-3);
    const picky = simulateTrace({ ...scenario("drive"), detectionFloorDb: 10 }, { seed: 2 });
    expect(Math.min(...picky.map((s) => s.snr))).toBeGreaterThanOrEqual(10);
    expect(picky.length).toBeLessThan(trace.length);
    // Same seed, same shadowing: the picky trace is exactly the loud part of the other.
    expect(picky).toEqual(trace.filter((s) => s.snr >= 10));
  });
});

describe("simulateTrace", () => {
  it("gives a byte-identical JSONL trace for the same seed", () => {
    for (const sc of scenarios()) {
      expect(jsonl(simulateTrace(sc, { seed: 12345 }))).toBe(
        jsonl(simulateTrace(sc, { seed: 12345 })),
      );
    }
  });

  it("gives a different trace for a different seed", () => {
    for (const sc of scenarios()) {
      const a = jsonl(simulateTrace(sc, { seed: 1 }));
      expect(jsonl(simulateTrace(sc, { seed: 2 }))).not.toBe(a);
    }
  });

  it("starts at t = 0 and steps by periodMs below the duration", () => {
    const trace = simulateTrace(scenario("walk"), { seed: 1, durationS: 10, periodMs: 250 });
    expect([...byInstant(trace).keys()]).toEqual(Array.from({ length: 40 }, (_, i) => i * 250));
    const defaults = simulateTrace(scenario("demo"), { seed: 1 });
    expect(byInstant(defaults).size).toBe(600);
    expect(defaults.at(-1)!.t).toBe(59_900);
  });

  it("gives one sample per heard PoA per instant, sharing the instant's position and velocity", () => {
    for (const sc of scenarios()) {
      const violations: string[] = [];
      for (const [t, samples] of byInstant(simulateTrace(sc, { seed: 8 }))) {
        // Each PoA at most once, in the scenario's cell order.
        const order = samples.map((s) => sc.cells.findIndex((c) => c.poa === s.poa));
        if (order.some((o, i) => i > 0 && o <= order[i - 1]!)) {
          violations.push(`${t}: order ${order}`);
        }
        for (const s of samples) {
          const first = samples[0]!;
          if (s.pos !== first.pos || s.vel !== first.vel) violations.push(`${t}: ${s.poa} moved`);
          if (s.network !== cellOf(sc, s.poa).network) violations.push(`${t}: ${s.poa} network`);
        }
      }
      expect(violations.slice(0, 5), sc.name).toEqual([]);
    }
  });

  it("rounds SNR to 0.1 dB, positions and speed to 0.01, heading to 0.001 rad", () => {
    const isMultiple = (v: number, scale: number) =>
      Math.abs(v * scale - Math.round(v * scale)) < 1e-6;
    for (const s of simulateTrace(scenario("manhattan"), { seed: 3, durationS: 60 })) {
      expect(isMultiple(s.snr, 10)).toBe(true);
      expect(isMultiple(s.pos!.x, 100) && isMultiple(s.pos!.y, 100)).toBe(true);
      expect(isMultiple(s.vel!.speed, 100) && isMultiple(s.vel!.heading, 1000)).toBe(true);
      expect(formatLinkSample(s)).not.toMatch(/\.\d{4,}/); // no long float tails
    }
  });

  it("samples the same movement whatever the period", () => {
    const sc = scenario("waypoint");
    const fine = byInstant(simulateTrace(sc, { seed: 6, periodMs: 100 }));
    const coarse = byInstant(simulateTrace(sc, { seed: 6, periodMs: 500 }));
    expect(coarse.size).toBe(600);
    for (const [t, samples] of coarse) expect(samples[0]!.pos).toEqual(fine.get(t)![0]!.pos);
  });

  it("hears some PoA at (almost) every instant of every scenario", () => {
    for (const sc of scenarios()) {
      for (let seed = 0; seed < 5; seed++) {
        const heard = byInstant(simulateTrace(sc, { seed })).size;
        expect(heard / (sc.durationS * 10), sc.name).toBeGreaterThanOrEqual(0.99);
      }
    }
  });

  it("returns nothing for a zero duration", () => {
    expect(simulateTrace(scenario("walk"), { seed: 1, durationS: 0 })).toEqual([]);
  });

  it("refuses bad options and scenarios with a ConfigError", () => {
    const walk = scenario("walk");
    expect(() => simulateTrace(walk, { seed: 1.5 })).toThrow(ConfigError);
    expect(() => simulateTrace(walk, { seed: 1, periodMs: 0 })).toThrow(
      "Invalid periodMs: expected a number above 0, got 0",
    );
    expect(() => simulateTrace(walk, { seed: 1, durationS: -1 })).toThrow(
      "Invalid durationS: expected a number of at least 0, got -1",
    );
    expect(() => simulateTrace({ ...walk, shadowingSigmaDb: NaN }, { seed: 1 })).toThrow(
      ConfigError,
    );
    expect(() => simulateTrace({ ...walk, cells: [walk.cells[0]!, walk.cells[0]!] }, { seed: 1 }))
      .toThrow(
        "Invalid scenario.cells: duplicate PoA: a1",
      );
  });
});

describe("movement models", () => {
  it("answers the same for a time whatever was asked before", () => {
    for (const sc of scenarios()) {
      const forward = path(sc.mover, 9, 120, 700);
      const move = trajectory(sc.mover, new Prng(9));
      const backward = forward.map((_, i) => forward.length - 1 - i).map((i) => move(i * 700))
        .reverse();
      expect(backward).toEqual(forward);
    }
  });

  it("walks straight at 1 to 1.5 m/s", () => {
    const mover: Mover = { kind: "walk", from: { x: 3, y: 4 }, heading: Math.PI / 2 };
    for (let seed = 0; seed < 10; seed++) {
      const ks = path(mover, seed, 120);
      const speeds = ks.map((k) => k.vel.speed);
      expect(Math.min(...speeds)).toBeGreaterThanOrEqual(1 - EPS);
      expect(Math.max(...speeds)).toBeLessThanOrEqual(1.5 + EPS);
      expect(Math.max(...speeds) - Math.min(...speeds)).toBeGreaterThan(0.1); // it does vary
      for (const k of ks) {
        expect(k.pos.x).toBeCloseTo(3, 9);
        expect(k.vel.heading).toBeCloseTo(Math.PI / 2, 9);
      }
      // Distance covered is the integral of the speed.
      const travelled = ks.at(-1)!.pos.y - 4;
      const integral = ks.slice(0, -1).reduce(
        (sum, k, i) => sum + 0.05 * (k.vel.speed + ks[i + 1]!.vel.speed),
        0,
      );
      expect(travelled).toBeCloseTo(integral, 1);
    }
  });

  it("drives along the road at 10 to 40 m/s with bounded acceleration", () => {
    const mover: Mover = {
      kind: "drive",
      road: [{ x: 0, y: 0 }, { x: 1000, y: 0 }, { x: 1000, y: 5000 }],
      speedRange: [10, 40],
    };
    for (let seed = 0; seed < 10; seed++) {
      const ks = path(mover, seed, 150);
      const speeds = ks.map((k) => k.vel.speed);
      expect(Math.min(...speeds)).toBeGreaterThanOrEqual(10 - EPS);
      expect(Math.max(...speeds)).toBeLessThanOrEqual(40 + EPS);
      expect(Math.max(...speeds) - Math.min(...speeds)).toBeGreaterThan(5);
      for (let i = 1; i < ks.length; i++) {
        expect(Math.abs(speeds[i]! - speeds[i - 1]!) / 0.1).toBeLessThanOrEqual(2 + 1e-6);
      }
      for (const k of ks) {
        const onFirst = Math.abs(k.pos.y) < 1e-6 && k.pos.x <= 1000 + 1e-6;
        const onSecond = Math.abs(k.pos.x - 1000) < 1e-6 && k.pos.y >= -1e-6;
        expect(onFirst || onSecond).toBe(true);
        expect(k.vel.heading).toBeCloseTo(onFirst && k.pos.x < 1000 - 1e-6 ? 0 : Math.PI / 2, 9);
      }
    }
  });

  it("moves by random waypoint inside the area, with pauses", () => {
    const mover: Mover = {
      kind: "waypoint",
      area: { min: { x: 0, y: 0 }, max: { x: 200, y: 100 } },
      speedRange: [0.8, 1.8],
      pauseS: [2, 6],
    };
    for (let seed = 0; seed < 5; seed++) {
      const ks = path(mover, seed, 600);
      const outside = ks.filter((k) =>
        k.pos.x < -EPS || k.pos.x > 200 + EPS || k.pos.y < -EPS || k.pos.y > 100 + EPS
      );
      expect(outside).toEqual([]);
      const moving = ks.filter((k) => k.vel.speed !== 0).map((k) => k.vel.speed);
      expect(Math.min(...moving)).toBeGreaterThanOrEqual(0.8);
      expect(Math.max(...moving)).toBeLessThanOrEqual(1.8);
      // Legs average ~78 m at ~1.3 m/s (~60 s), then pause ~4 s.
      const paused = (ks.length - moving.length) / ks.length;
      expect(paused).toBeGreaterThan(0.02);
      expect(paused).toBeLessThan(0.2);
    }
  });

  it("drives a Manhattan grid on its streets, turning 0.5 straight / 0.25 left / 0.25 right", () => {
    const mover: Mover = {
      kind: "manhattan",
      blockM: 100,
      columns: 4,
      rows: 3,
      speedRange: [5, 15],
    };
    const headings = [0, Math.PI / 2, Math.PI, -Math.PI / 2];
    const turns = { straight: 0, left: 0, right: 0, uturn: 0 };
    const violations: string[] = [];
    const onStreet = (v: number) => Math.abs(v / 100 - Math.round(v / 100)) < 1e-9;
    for (let seed = 0; seed < 100; seed++) {
      let prev: { dir: number; block: string } | undefined;
      for (const k of path(mover, seed, 600)) {
        const { x, y } = k.pos;
        const dir = ((Math.round(k.vel.heading / (Math.PI / 2)) % 4) + 4) % 4;
        if (!onStreet(x) && !onStreet(y)) violations.push(`off street ${x},${y}`);
        if (x < -EPS || x > 400 + EPS || y < -EPS || y > 300 + EPS) {
          violations.push(`outside ${x},${y}`);
        }
        if (k.vel.speed < 5 || k.vel.speed > 15) violations.push(`speed ${k.vel.speed}`);
        if (Math.abs(k.vel.heading - headings[dir]!) > 1e-12) {
          violations.push(`heading ${k.vel.heading}`);
        }
        // The block being driven: its start intersection and direction.
        const start = dir === 0 || dir === 1
          ? [Math.floor(x / 100 + 1e-9), Math.floor(y / 100 + 1e-9)] as const
          : [Math.ceil(x / 100 - 1e-9), Math.ceil(y / 100 - 1e-9)] as const;
        const block = `${start[0]},${start[1]}:${dir}`;
        if (prev && block !== prev.block) {
          const [c, r] = start;
          // Count only intersections where straight, left and right all exist.
          if (c >= 1 && c <= 3 && r >= 1 && r <= 2) {
            const turn = (dir - prev.dir + 4) % 4;
            if (turn === 0) turns.straight++;
            else if (turn === 1) turns.left++;
            else if (turn === 3) turns.right++;
            else turns.uturn++;
          }
        }
        prev = { dir, block };
      }
    }
    expect(violations.slice(0, 5)).toEqual([]);
    const total = turns.straight + turns.left + turns.right;
    // About 1800 interior intersections: one standard error is about 0.012.
    expect(total).toBeGreaterThan(1500);
    expect(turns.uturn).toBe(0);
    expect(Math.abs(turns.straight / total - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(turns.left / total - 0.25)).toBeLessThan(0.035);
    expect(Math.abs(turns.right / total - 0.25)).toBeLessThan(0.035);
  });

  it("lingers at the border: slow, back and forth across it many times, then walks on", () => {
    const mover: Mover = {
      kind: "border",
      from: { x: -20, y: 4 },
      border: { x: 50, y: 4 },
      lingerS: 100,
    };
    for (let seed = 0; seed < 10; seed++) {
      const ks = path(mover, seed, 240);
      const arrive = ks.findIndex((k) => k.pos.x >= 50 - EPS);
      // Approach: straight along y = 4 at walking speed.
      const approach = ks.slice(0, arrive);
      expect(approach.filter((k) => Math.abs(k.pos.y - 4) > 1e-9)).toEqual([]);
      expect(Math.min(...approach.map((k) => k.vel.speed))).toBeGreaterThanOrEqual(1 - EPS);
      expect(Math.max(...approach.map((k) => k.vel.speed))).toBeLessThanOrEqual(1.5 + EPS);
      // Lingering: slowly, within 5 m of the border line, crossing it again and again.
      const linger = ks.slice(arrive, arrive + 950);
      let crossings = 0;
      for (let i = 1; i < linger.length; i++) {
        if (Math.sign(linger[i]!.pos.x - 50) !== Math.sign(linger[i - 1]!.pos.x - 50)) crossings++;
      }
      expect(crossings).toBeGreaterThanOrEqual(6);
      expect(Math.max(...linger.map((k) => k.vel.speed))).toBeLessThanOrEqual(1 + EPS);
      expect(Math.max(...linger.map((k) => Math.abs(k.pos.x - 50)))).toBeLessThanOrEqual(5 + EPS);
      // Then walks on into the far cell, straight ahead at walking speed.
      const end = ks.at(-1)!;
      expect(end.pos.x).toBeGreaterThan(90);
      expect(end.vel.speed).toBeGreaterThanOrEqual(1 - EPS);
      expect(end.vel.heading).toBe(0);
    }
  });

  it("refuses invalid movement models with a ConfigError", () => {
    const prng = new Prng(1);
    const bad: Mover[] = [
      { kind: "walk", from: { x: 0, y: 0 }, heading: 0, speedRange: [2, 1] },
      { kind: "drive", road: [{ x: 0, y: 0 }, { x: 0, y: 0 }] },
      { kind: "drive", road: [{ x: 0, y: 0 }, { x: 1, y: 0 }], accel: 0 },
      { kind: "waypoint", area: { min: { x: 0, y: 0 }, max: { x: 0, y: 10 } } },
      {
        kind: "waypoint",
        area: { min: { x: 0, y: 0 }, max: { x: 10, y: 10 } },
        speedRange: [0, 1],
      },
      { kind: "manhattan", blockM: 100, columns: 0, rows: 2 },
      { kind: "manhattan", blockM: 100, columns: 2, rows: 2, start: { column: 3, row: 0 } },
      { kind: "border", from: { x: 0, y: 0 }, border: { x: 0, y: 0 } },
    ];
    for (const mover of bad) expect(() => trajectory(mover, prng), mover.kind).toThrow(ConfigError);
    expect(() => trajectory(bad[0]!, prng)).toThrow(
      "Invalid mover.speedRange: expected [min, max] with 0 <= min <= max, got [2, 1]",
    );
  });
});

describe("simulatorSource", () => {
  it("emits the simulated trace when fast", async () => {
    const options = { seed: 5, durationS: 20 } as const;
    const emitted = await lastValueFrom(
      simulatorSource(scenario("demo"), { ...options, pace: "fast" }).pipe(toArray()),
    );
    expect(emitted).toEqual(simulateTrace(scenario("demo"), options));
  });

  it("paces the trace in real time by t", () => {
    const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const options = { seed: 1, durationS: 0.5 } as const;
    const trace = simulateTrace(scenario("demo"), options);
    ts.run(({ expectObservable }) => {
      const lag = simulatorSource(scenario("demo"), { ...options, pace: "realtime", scheduler: ts })
        .pipe(
          map((s) => ts.now() - s.t),
          toArray(),
        );
      // Every sample comes out at its t; the last instant is at 400 ms.
      expectObservable(lag).toBe("400ms (a|)", { a: trace.map(() => 0) });
    });
    expect(trace.length).toBeGreaterThanOrEqual(5);
  });

  it("delivers a bad option as an error notification", () => {
    let error: unknown;
    const source = simulatorSource(scenario("walk"), { seed: 0.5, pace: "fast" });
    source.subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(ConfigError);
  });
});
