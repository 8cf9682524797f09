import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError } from "../../../lib/errors.ts";
import { Prng } from "../../../lib/metrics/prng.ts";

function draws(prng: Prng, count: number): number[] {
  return Array.from({ length: count }, () => prng.next());
}

function meanAndStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

describe("Prng", () => {
  it("gives the same sequence for the same seed", () => {
    expect(draws(new Prng(42), 100)).toEqual(draws(new Prng(42), 100));
  });

  it("gives unrelated sequences for neighbouring seeds", () => {
    const a = draws(new Prng(1), 100);
    const b = draws(new Prng(2), 100);
    expect(a.filter((x, i) => x === b[i])).toEqual([]);
    // Nor is one a shifted copy of the other.
    expect(a.slice(1)).not.toEqual(b.slice(0, 99));
  });

  it("accepts negative seeds and seeds above 2^32, each distinct", () => {
    const seeds = [0, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    const firsts = seeds.map((s) => new Prng(s).next());
    expect(new Set(firsts).size).toBe(seeds.length);
  });

  it("draws next() in [0, 1) with a uniform mean and spread", () => {
    const xs = draws(new Prng(7), 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const { mean, std } = meanAndStd(xs);
    expect(mean).toBeCloseTo(0.5, 1);
    expect(std).toBeCloseTo(Math.sqrt(1 / 12), 1);
    // Every tenth of the interval gets about a tenth of the draws.
    const bins = new Array<number>(10).fill(0);
    for (const x of xs) bins[Math.floor(x * 10)]!++;
    for (const n of bins) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it("draws uniform(min, max) within the bounds, and min when they are equal", () => {
    const p = new Prng(9);
    const xs = Array.from({ length: 5000 }, () => p.uniform(10, 40));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...xs)).toBeLessThan(40);
    expect(meanAndStd(xs).mean).toBeCloseTo(25, 0);
    expect(p.uniform(3, 3)).toBe(3);
  });

  it("draws gaussian() with mean 0, standard deviation 1 and normal tails", () => {
    const p = new Prng(11);
    const xs = Array.from({ length: 40_000 }, () => p.gaussian());
    const { mean, std } = meanAndStd(xs);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
    // About 68.3 % within one sigma, 95.4 % within two.
    const within = (k: number) => xs.filter((x) => Math.abs(x) < k).length / xs.length;
    expect(Math.abs(within(1) - 0.683)).toBeLessThan(0.01);
    expect(Math.abs(within(2) - 0.954)).toBeLessThan(0.005);
  });

  it("scales gaussian(mean, sigma)", () => {
    const p = new Prng(12);
    const xs = Array.from({ length: 20_000 }, () => p.gaussian(-3, 4));
    const { mean, std } = meanAndStd(xs);
    expect(Math.abs(mean + 3)).toBeLessThan(0.1);
    expect(Math.abs(std - 4)).toBeLessThan(0.1);
  });

  it("forks by label, independent of what the parent has drawn", () => {
    const p = new Prng(5);
    const before = draws(p.fork("mover"), 10);
    draws(p, 37);
    p.gaussian();
    expect(draws(p.fork("mover"), 10)).toEqual(before);
    expect(draws(new Prng(5).fork("mover"), 10)).toEqual(before);
  });

  it("forks different streams for different labels and different parents", () => {
    const p = new Prng(5);
    const mover = draws(p.fork("mover"), 10);
    expect(draws(p.fork("shadowing:a1"), 10)).not.toEqual(mover);
    expect(draws(p.fork(1), 10)).not.toEqual(draws(p.fork(2), 10));
    expect(draws(new Prng(6).fork("mover"), 10)).not.toEqual(mover);
    expect(draws(p, 10)).not.toEqual(mover);
  });

  it("refuses a seed that is not a safe integer", () => {
    for (const seed of [1.5, NaN, Infinity, 2 ** 53]) {
      expect(() => new Prng(seed)).toThrow(ConfigError);
    }
    expect(() => new Prng(0.5)).toThrow("Invalid seed: expected a safe integer, got 0.5");
  });
});
