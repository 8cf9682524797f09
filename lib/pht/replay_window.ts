/**
 * The anti-replay sliding window of PHT data frames, as IPsec's (RFC 4303 section
 * 3.4.3 and Appendix A, with the bitmap of RFC 6479): the highest authenticated
 * sequence number and one bit per sequence number below it, inside the window.
 *
 * @module
 */
import { PHT_REPLAY_WINDOW } from "../wire/pht_constants.ts";

/**
 * What {@linkcode ReplayWindow.check} says about a sequence number:
 *
 * - `ok`: new, may be accepted once the frame authenticates;
 * - `duplicate`: inside the window and already accepted (a replay);
 * - `stale`: left of the window, too old to tell (treated as a replay);
 * - `invalid`: sequence number 0, which no sender uses.
 */
export type ReplayVerdict = "ok" | "duplicate" | "stale" | "invalid";

/**
 * A sliding anti-replay window over 64-bit sequence numbers starting at 1. Call
 * {@linkcode ReplayWindow.check} before authenticating a frame (cheap rejection) and
 * {@linkcode ReplayWindow.accept} only after the frame authenticated, so that forged
 * frames never move the window (RFC 4303 section 3.4.3).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const w = new ReplayWindow({ size: 64 });
 * assertEquals(w.check(5n), "ok");
 * w.accept(5n);
 * assertEquals(w.check(5n), "duplicate");
 * assertEquals(w.check(3n), "ok"); // late but inside the window
 * w.accept(100n);
 * assertEquals(w.check(3n), "stale");
 * ```
 */
export class ReplayWindow {
  readonly #size: number;
  readonly #sizeBig: bigint;
  readonly #bits: Uint32Array;
  #top = 0n;

  /**
   * @param options `size`: window width in sequence numbers, a positive multiple of
   *   32 (default 1024)
   * @throws {RangeError} for another size
   */
  constructor(options: { readonly size?: number } = {}) {
    const size = options.size ?? PHT_REPLAY_WINDOW;
    if (!Number.isInteger(size) || size <= 0 || size % 32 !== 0) {
      throw new RangeError(`Invalid replay window size: ${size}`);
    }
    this.#size = size;
    this.#sizeBig = BigInt(size);
    this.#bits = new Uint32Array(size / 32);
  }

  /** The highest sequence number accepted so far (0 before the first). */
  get highest(): bigint {
    return this.#top;
  }

  /**
   * Tells whether a sequence number may be accepted, without changing the window.
   *
   * @param sequence the frame's sequence number
   * @returns the verdict
   */
  check(sequence: bigint): ReplayVerdict {
    if (sequence <= 0n) return "invalid";
    if (sequence > this.#top) return "ok";
    if (this.#top - sequence >= this.#sizeBig) return "stale";
    return this.#get(sequence) ? "duplicate" : "ok";
  }

  /**
   * Records an authenticated sequence number, sliding the window when it is the new
   * highest. Accepting a number that {@linkcode ReplayWindow.check} would refuse is
   * a no-op.
   *
   * @param sequence the sequence number of a frame that authenticated
   */
  accept(sequence: bigint): void {
    if (this.check(sequence) !== "ok") return;
    if (sequence > this.#top) {
      const shift = sequence - this.#top;
      if (shift >= this.#sizeBig) {
        this.#bits.fill(0);
      } else {
        for (let s = this.#top + 1n; s < sequence; s++) this.#set(s, false);
      }
      this.#top = sequence;
    }
    this.#set(sequence, true);
  }

  #index(sequence: bigint): number {
    return Number(sequence % this.#sizeBig);
  }

  #get(sequence: bigint): boolean {
    const i = this.#index(sequence);
    return (this.#bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  #set(sequence: bigint, on: boolean): void {
    const i = this.#index(sequence);
    const word = i >>> 5;
    if (on) this.#bits[word] = this.#bits[word]! | (1 << (i & 31));
    else this.#bits[word] = this.#bits[word]! & ~(1 << (i & 31));
  }

  /** Window width, in sequence numbers. */
  get size(): number {
    return this.#size;
  }
}
