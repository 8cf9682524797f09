/**
 * A sliding least-squares trend over (t, value) pairs: the SNR slope behind
 * `leadTime`'s trend method (RFC 6252 section C.6). A growable ring buffer with
 * running sums, so each sample costs O(1) amortised; times are kept relative to a
 * base that moves every few windows so the sums stay well conditioned.
 *
 * @module
 */

/** Move the base after this many windows, to keep the running sums well conditioned. */
const _REBASE_WINDOWS = 8;

/**
 * The least-squares slope of the samples in the trailing window (t − windowMs, t].
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { TrendWindow } from "./trend_window.ts";
 * const w = new TrendWindow(2000);
 * assertEquals(Number.isNaN(w.push(0, 20)), true); // one sample: no slope yet
 * assertEquals(w.push(1000, 18), -2); // dB per second
 * ```
 */
export class TrendWindow {
  readonly #windowMs: number;
  #times = new Float64Array(16);
  #values = new Float64Array(16);
  #head = 0; // index of the oldest sample
  #count = 0;
  #base = 0;
  #st = 0; // Σ(t − base)
  #sy = 0; // Σ value
  #stt = 0; // Σ(t − base)²
  #sty = 0; // Σ(t − base)·value

  /**
   * @param windowMs the window length, ms (finite, > 0; checked by the caller)
   */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Forgets every sample. */
  reset(): void {
    this.#head = 0;
    this.#count = 0;
    this.#st =
      this.#sy =
      this.#stt =
      this.#sty =
        0;
  }

  /**
   * Adds a sample, drops those at or before t − window.
   *
   * @param t the sample time, ms (not decreasing)
   * @param value the sample value
   * @returns the slope in value units per second, or NaN with fewer than two
   *   samples spanning more than 0 ms
   */
  push(t: number, value: number): number {
    if (this.#count === 0) {
      this.#base = t;
      this.#st =
        this.#sy =
        this.#stt =
        this.#sty =
          0;
    } else if (t - this.#base > _REBASE_WINDOWS * this.#windowMs) this.#rebase(t);
    if (this.#count === this.#times.length) this.#grow();
    const mask = this.#times.length - 1;
    const tail = (this.#head + this.#count) & mask;
    this.#times[tail] = t;
    this.#values[tail] = value;
    this.#count++;
    const x = t - this.#base;
    this.#st += x;
    this.#sy += value;
    this.#stt += x * x;
    this.#sty += x * value;
    const cutoff = t - this.#windowMs;
    while (this.#count > 0 && this.#times[this.#head]! <= cutoff) {
      const ox = this.#times[this.#head]! - this.#base;
      const oy = this.#values[this.#head]!;
      this.#st -= ox;
      this.#sy -= oy;
      this.#stt -= ox * ox;
      this.#sty -= ox * oy;
      this.#head = (this.#head + 1) & mask;
      this.#count--;
    }
    if (this.#count < 2 || !(t > this.#times[this.#head]!)) return NaN;
    const n = this.#count;
    const sxx = n * this.#stt - this.#st * this.#st;
    if (!(sxx > 0)) return NaN;
    return (1000 * (n * this.#sty - this.#st * this.#sy)) / sxx;
  }

  #rebase(t: number): void {
    this.#base = t;
    this.#st =
      this.#sy =
      this.#stt =
      this.#sty =
        0;
    const mask = this.#times.length - 1;
    for (let i = 0; i < this.#count; i++) {
      const j = (this.#head + i) & mask;
      const x = this.#times[j]! - t;
      const y = this.#values[j]!;
      this.#st += x;
      this.#sy += y;
      this.#stt += x * x;
      this.#sty += x * y;
    }
  }

  #grow(): void {
    const size = this.#times.length;
    const t2 = new Float64Array(size * 2);
    const y2 = new Float64Array(size * 2);
    for (let i = 0; i < this.#count; i++) {
      const j = (this.#head + i) & (size - 1);
      t2[i] = this.#times[j]!;
      y2[i] = this.#values[j]!;
    }
    this.#times = t2;
    this.#values = y2;
    this.#head = 0;
  }
}
