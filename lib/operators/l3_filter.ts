/**
 * Layer-3 filtering of link measurements, per point of attachment, as in 3GPP TS 36.331
 * section 5.5.3.2 (the smoothing RFC 6252 section C.1 asks for before signal strength
 * drives a handover decision).
 *
 * @module
 */
import { defer, map, type MonoTypeOperatorFunction } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";
import type { LinkSample } from "../metrics/link_sample.ts";

/** Options of {@link l3Filter}. */
export interface L3FilterOptions {
  /**
   * A PoA not heard for longer than this starts afresh (F = M) instead of blending
   * with a stale level, and is forgotten, ms. Default 1000 (like `decide`'s maxAgeMs).
   */
  readonly resetAfterMs?: number;
  /** Filter coefficient k of 3GPP TS 36.331 5.5.3.2; a = 1/2^(k/4). Default 4. */
  readonly k?: number;
}

/**
 * Smooths the SNR of each PoA with the 3GPP layer-3 filter (3GPP TS 36.331 section
 * 5.5.3.2): `F_n = (1 - a)·F_(n-1) + a·M_n` with `a = 1/2^(k/4)`; the first sample of a
 * PoA sets `F = M`. k = 0 disables filtering.
 *
 * Every sample is emitted once, as a copy with `snr` replaced by the filtered value;
 * the input is never mutated. Filter state is kept per subscription, per `poa`.
 *
 * @param options the filter coefficient `k` (finite, at least 0; default 4, a = 1/2)
 * @returns an operator emitting each sample with its SNR filtered
 * @throws {ConfigError} when `k` is not a finite number >= 0 (at call time)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const out = await lastValueFrom(
 *   from([
 *     { t: 0, poa: "ap1", network: "A", snr: 20 },
 *     { t: 0, poa: "ap2", network: "B", snr: 10 },
 *     { t: 200, poa: "ap1", network: "A", snr: 10 },
 *   ]).pipe(l3Filter({ k: 4 }), toArray()),
 * );
 * assertEquals(out.map((s) => s.snr), [20, 10, 15]);
 * ```
 */
export function l3Filter(
  options: L3FilterOptions = {},
): MonoTypeOperatorFunction<LinkSample> {
  const k = options.k ?? 4;
  if (typeof k !== "number" || !Number.isFinite(k) || k < 0) {
    throw new ConfigError(
      "k",
      `Invalid k: expected a finite number >= 0, got ${String(k)}`,
    );
  }
  const resetAfterMs = options.resetAfterMs ?? 1000;
  if (typeof resetAfterMs !== "number" || !(resetAfterMs >= 0)) {
    throw new ConfigError(
      "resetAfterMs",
      `Invalid resetAfterMs: expected a number >= 0, got ${String(resetAfterMs)}`,
    );
  }
  const a = 2 ** (-k / 4);
  const b = 1 - a;
  return (source) =>
    defer(() => {
      // Per-subscription state: last filtered value and time per PoA. PoAs not heard
      // for resetAfterMs are pruned now and then, so the map stays bounded by the
      // PoAs heard recently.
      const filtered = new Map<string, { f: number; t: number }>();
      let pruneAt = 64;
      return source.pipe(
        map((sample) => {
          const previous = filtered.get(sample.poa);
          let f: number;
          if (previous === undefined) {
            f = sample.snr;
            filtered.set(sample.poa, { f, t: sample.t });
            if (filtered.size > pruneAt) {
              for (const [poa, e] of filtered) {
                if (sample.t - e.t > resetAfterMs) filtered.delete(poa);
              }
              pruneAt = Math.max(64, 2 * filtered.size);
            }
          } else {
            f = sample.t - previous.t > resetAfterMs ? sample.snr : b * previous.f + a * sample.snr;
            previous.f = f;
            previous.t = sample.t;
          }
          return { ...sample, snr: f };
        }),
      );
    });
}
