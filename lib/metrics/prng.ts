/**
 * A small seeded pseudo-random number generator for simulations: sfc32 seeded through
 * splitmix32, with uniform and Gaussian draws and named sub-streams. Pure: no clocks,
 * no global state, no `Math.random`; the same seed always yields the same numbers.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

const _TWO_32 = 4294967296;

/** One splitmix32 step: returns a well-mixed 32-bit value of `x`. */
function _mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text`. */
function _hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * A seeded generator (sfc32, 128-bit state). Draws mutate the generator; forks are
 * derived from the seed alone, so `fork("x")` gives the same stream no matter how many
 * numbers were drawn before.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = new Prng(42);
 * const b = new Prng(42);
 * assertEquals([a.next(), a.next()], [b.next(), b.next()]);
 * ```
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  readonly #key: number;
  #spare: number | undefined;

  /**
   * Creates a generator from a seed; equal seeds give equal streams.
   *
   * @param seed any safe integer (negative and values above 2^32 are fine)
   * @throws {ConfigError} when `seed` is not a safe integer
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new ConfigError(
        "seed",
        `Invalid seed: expected a safe integer, got ${seed}`,
      );
    }
    const high = Math.floor(seed / _TWO_32) | 0;
    this.#key = _mix32((seed >>> 0) ^ _mix32(high));
    this.#a = _mix32(this.#key);
    this.#b = _mix32(this.#a);
    this.#c = _mix32(this.#b);
    this.#d = 1;
    // Warm up so that the first outputs of nearby seeds are unrelated.
    for (let i = 0; i < 12; i++) this.#step();
  }

  #step(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const t = (((a + b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * Draws a uniform number in [0, 1).
   *
   * @returns the next number, 32 bits of randomness
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * const x = new Prng(1).next();
   * assertEquals(x >= 0 && x < 1, true);
   * ```
   */
  next(): number {
    return this.#step() / _TWO_32;
  }

  /**
   * Draws a uniform number in [min, max).
   *
   * @param min lower bound (inclusive)
   * @param max upper bound (exclusive; equal to `min` gives `min`)
   * @returns the number
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * const x = new Prng(1).uniform(10, 40);
   * assertEquals(x >= 10 && x < 40, true);
   * ```
   */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /**
   * Draws from a normal distribution (Box-Muller; the second value of each pair is
   * kept for the next call).
   *
   * @param mean the mean, default 0
   * @param sigma the standard deviation, default 1
   * @returns the number
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * assertEquals(new Prng(7).gaussian(5, 0), 5);
   * ```
   */
  gaussian(mean = 0, sigma = 1): number {
    let z = this.#spare;
    if (z === undefined) {
      const u1 = 1 - this.next(); // (0, 1], so the logarithm is finite
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      z = r * Math.cos(2 * Math.PI * u2);
      this.#spare = r * Math.sin(2 * Math.PI * u2);
    } else {
      this.#spare = undefined;
    }
    return mean + sigma * z;
  }

  /**
   * Derives an independent generator for a named sub-stream (one per PoA, one for the
   * mover, ...). Depends only on this generator's seed and the label.
   *
   * @param label the sub-stream's name or number
   * @returns a fresh generator
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * const p = new Prng(3);
   * const first = p.fork("mover").next();
   * p.next();
   * assertEquals(p.fork("mover").next(), first);
   * ```
   */
  fork(label: string | number): Prng {
    const tag = typeof label === "number" ? _mix32(label >>> 0) ^ 0x5bd1e995 : _hashText(label);
    return new Prng(_mix32(this.#key ^ _mix32(tag)));
  }
}
