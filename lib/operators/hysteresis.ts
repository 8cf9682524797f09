/**
 * The A3-style entering / leaving condition of a neighbour PoA against the serving PoA,
 * with hysteresis (RFC 6252 section C.1: hysteresis against ping-pong; 3GPP TS 36.331
 * section 5.5.4.4, event A3: neighbour becomes offset better than serving).
 *
 * @module
 */
import { Observable, type OperatorFunction } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";
import type { LinkSample } from "../metrics/link_sample.ts";

/** A neighbour PoA entering or leaving the A3-style condition against the serving PoA. */
export interface Qualification {
  /** Time of the sample that changed the condition, ms. */
  readonly t: number;
  /** The neighbour PoA. */
  readonly poa: string;
  /** The neighbour's network. */
  readonly network: string;
  /** True when it entered (qualifies), false when it left. */
  readonly qualified: boolean;
  /** The neighbour's SNR at that time, dB (as received: filtered upstream). */
  readonly snr: number;
  /** The serving PoA's SNR at that time, dB. */
  readonly servingSnr: number;
  /** The serving PoA it was compared with. */
  readonly serving: string;
}

/** Options of {@link hysteresis}. */
export interface HysteresisOptions {
  /** Who is serving now; read at every sample (the decision state owns it). */
  readonly serving: () => string | undefined;
  /** Enter when neighbour − offset > serving + margin. Default 3 dB. */
  readonly margin?: number;
  /** Leave when neighbour − offset < serving + leave. Default margin − 1 dB. */
  readonly leave?: number;
  /** Per-PoA penalty in dB subtracted from the neighbour (Infinity = barred). Default 0. */
  readonly offset?: (poa: string) => number;
  /** A neighbour not heard for longer than this leaves, ms. Default 1000. */
  readonly maxAgeMs?: number;
}

/** What is known about one PoA: its latest level and whether it qualifies. */
interface _Heard {
  readonly poa: string;
  t: number;
  network: string;
  snr: number;
  qualified: boolean;
}

const _noOffset = (): number => 0;

/**
 * Tracks, per neighbour PoA, whether it is better than the serving PoA by a margin
 * (3GPP TS 36.331 section 5.5.4.4, event A3) and emits a {@link Qualification} only
 * when that changes. Hysteresis (enter above `margin`, leave below `leave`) and the
 * per-PoA `offset` keep a flapping neighbour from causing ping-pong (RFC 6252 section
 * C.1).
 *
 * Per sample: `serving()` is read. If it names a different PoA than at the previous
 * sample, every neighbour qualified against the old serving PoA first leaves (with
 * `serving` the old one) and all states are reset; stored levels are kept. Then the
 * sample's level is stored. Nothing is evaluated while there is no serving PoA or it
 * has not been heard yet. A neighbour's sample evaluates that neighbour; a serving
 * sample re-evaluates every neighbour in the order first heard, and a neighbour not
 * heard for more than `maxAgeMs` (relative to the sample's `t`) leaves and is
 * forgotten. The serving PoA never qualifies against itself; an `offset` of Infinity
 * bars a PoA (never enters, leaves if qualified).
 *
 * Errors thrown by `serving()` or `offset()` are sent downstream as errors.
 *
 * @param options `serving` (required), `margin` (dB, default 3), `leave` (dB, at most
 *   `margin`, default `margin − 1`), `offset` (dB per PoA, default 0), `maxAgeMs`
 *   (default 1000)
 * @returns an operator from link samples to qualification changes
 * @throws {ConfigError} when `margin` or `leave` is not finite, `leave` exceeds
 *   `margin`, or `maxAgeMs` is negative or NaN (at call time)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const out = await lastValueFrom(
 *   from([
 *     { t: 0, poa: "ap1", network: "A", snr: 20 },
 *     { t: 0, poa: "ap2", network: "B", snr: 24 }, // 24 > 20 + 3: enters
 *     { t: 100, poa: "ap2", network: "B", snr: 22 }, // 22 >= 20 + 2: stays
 *     { t: 200, poa: "ap2", network: "B", snr: 21 }, // 21 < 20 + 2: leaves
 *   ]).pipe(hysteresis({ serving: () => "ap1" }), toArray()),
 * );
 * assertEquals(out.map((q) => [q.t, q.poa, q.qualified]), [[0, "ap2", true], [200, "ap2", false]]);
 * ```
 */
export function hysteresis(
  options: HysteresisOptions,
): OperatorFunction<LinkSample, Qualification> {
  const margin = options.margin ?? 3;
  if (typeof margin !== "number" || !Number.isFinite(margin)) {
    throw new ConfigError(
      "margin",
      `Invalid margin: expected a finite number, got ${String(margin)}`,
    );
  }
  const leave = options.leave ?? margin - 1;
  if (typeof leave !== "number" || !Number.isFinite(leave) || leave > margin) {
    throw new ConfigError(
      "leave",
      `Invalid leave: expected a finite number <= margin (${margin}), got ${String(leave)}`,
    );
  }
  const maxAgeMs = options.maxAgeMs ?? 1000;
  if (typeof maxAgeMs !== "number" || !(maxAgeMs >= 0)) {
    throw new ConfigError(
      "maxAgeMs",
      `Invalid maxAgeMs: expected a number >= 0, got ${String(maxAgeMs)}`,
    );
  }
  const servingOf = options.serving;
  const offsetOf = options.offset ?? _noOffset;

  return (source) =>
    new Observable<Qualification>((subscriber) => {
      // Per-subscription state, mutated in place: one record per PoA heard, found by
      // id and iterated in the order first heard (an array, so that the per-sample
      // re-evaluation allocates nothing).
      const byPoa = new Map<string, _Heard>();
      const order: _Heard[] = [];
      let lastServing: string | undefined;

      const emit = (n: _Heard, t: number, serving: _Heard): void => {
        subscriber.next({
          t,
          poa: n.poa,
          network: n.network,
          qualified: n.qualified,
          snr: n.snr,
          servingSnr: serving.snr,
          serving: serving.poa,
        });
      };

      const evaluate = (n: _Heard, t: number, serving: _Heard): void => {
        const level = n.snr - offsetOf(n.poa);
        if (n.qualified) {
          if (level < serving.snr + leave) {
            n.qualified = false;
            emit(n, t, serving);
          }
        } else if (level > serving.snr + margin) {
          n.qualified = true;
          emit(n, t, serving);
        }
      };

      return source.subscribe({
        next(sample) {
          if (subscriber.closed) return;
          try {
            const serving = servingOf();
            if (serving !== lastServing) {
              const old = lastServing === undefined ? undefined : byPoa.get(lastServing);
              for (const n of order) {
                if (!n.qualified) continue;
                n.qualified = false;
                if (old !== undefined) emit(n, sample.t, old);
              }
              lastServing = serving;
            }

            let heard = byPoa.get(sample.poa);
            if (heard === undefined) {
              heard = {
                poa: sample.poa,
                t: sample.t,
                network: sample.network,
                snr: sample.snr,
                qualified: false,
              };
              byPoa.set(sample.poa, heard);
              order.push(heard);
            } else {
              heard.t = sample.t;
              heard.network = sample.network;
              heard.snr = sample.snr;
            }

            if (serving === undefined) return;
            const s = byPoa.get(serving);
            if (s === undefined) return;

            if (heard !== s) {
              evaluate(heard, sample.t, s);
              return;
            }
            // A serving sample: age out and re-evaluate every neighbour, compacting
            // the order array in place as forgotten PoAs are dropped.
            let kept = 0;
            for (let i = 0; i < order.length; i++) {
              const n = order[i]!;
              if (n !== s) {
                if (sample.t - n.t > maxAgeMs) {
                  if (n.qualified) {
                    n.qualified = false;
                    emit(n, sample.t, s);
                  }
                  byPoa.delete(n.poa);
                  continue;
                }
                evaluate(n, sample.t, s);
              }
              order[kept++] = n;
            }
            order.length = kept;
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          subscriber.complete();
        },
      });
    });
}
