/**
 * Ping-pong detection: a return to a point of attachment shortly after leaving it (RFC
 * 6252 section C.1: ping-pong between networks, whose contexts MPA retains so that a
 * return needs no new pre-authentication).
 *
 * @module
 */
import { Observable, type OperatorFunction } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";

/** The MN attached to `poa` at time `t`. */
export interface Attachment {
  /** Time, ms. */
  readonly t: number;
  /** The PoA attached to. */
  readonly poa: string;
}

/** A return to a PoA that was left less than the window ago. */
export interface PingPong {
  /** Time of the return, ms. */
  readonly t: number;
  /** The PoA returned to. */
  readonly poa: string;
  /** The PoA the MN bounced through (the one just left). */
  readonly via: string;
  /** When `poa` had been left, ms. */
  readonly leftAt: number;
}

/** Options of {@link pingPong}. */
export interface PingPongOptions {
  /** Window, ms. Default 5000. */
  readonly window?: number;
}

/** Prune expired departures when more than this many PoAs (and twice the last size) are kept. */
const _PRUNE_MIN = 64;

/**
 * Detects ping-pong (RFC 6252 section C.1): an attachment to a PoA that the MN left
 * less than `window` ms before. On an attachment to P at t, the current PoA (if any,
 * and different) is left at t; if P was left at L with `t − L < window`, a
 * {@link PingPong} `{ t, poa: P, via: <the PoA just left>, leftAt: L }` is emitted.
 * A repeated attachment to the current PoA is a no-op; the first attachment is never a
 * ping-pong.
 *
 * @param options `window` in ms (at least 0, Infinity allowed; default 5000)
 * @returns an operator from attachments to detected ping-pongs
 * @throws {ConfigError} when `window` is negative or NaN (at call time)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const out = await lastValueFrom(
 *   from([
 *     { t: 0, poa: "ap1" },
 *     { t: 1000, poa: "ap2" }, // ap1 left at 1000
 *     { t: 3000, poa: "ap1" }, // back after 2000 ms < 5000 ms
 *   ]).pipe(pingPong(), toArray()),
 * );
 * assertEquals(out, [{ t: 3000, poa: "ap1", via: "ap2", leftAt: 1000 }]);
 * ```
 */
export function pingPong(
  options: PingPongOptions = {},
): OperatorFunction<Attachment, PingPong> {
  const window = options.window ?? 5000;
  if (typeof window !== "number" || !(window >= 0)) {
    throw new ConfigError(
      "window",
      `Invalid window: expected a number >= 0, got ${String(window)}`,
    );
  }

  return (source) =>
    new Observable<PingPong>((subscriber) => {
      // Per-subscription state: the current PoA and when each other PoA was left.
      const leftAt = new Map<string, number>();
      let current: string | undefined;
      let pruneAt = _PRUNE_MIN;

      return source.subscribe({
        next(attachment) {
          let t: number;
          let poa: string;
          try {
            ({ t, poa } = attachment);
          } catch (error) {
            // Not an attachment at all (null, say): an error, not a crash.
            subscriber.error(error);
            return;
          }
          if (poa === current) return;
          const via = current;
          current = poa;
          if (via === undefined) return;
          leftAt.set(via, t);
          const left = leftAt.get(poa);
          if (left !== undefined && t - left < window) {
            subscriber.next({ t, poa, via, leftAt: left });
          }
          if (leftAt.size > pruneAt) {
            // Departures older than the window can never match again; drop them so
            // that a long drive past many PoAs does not grow the map without bound.
            for (const [p, l] of leftAt) {
              if (!(t - l < window)) leftAt.delete(p);
            }
            pruneAt = Math.max(_PRUNE_MIN, 2 * leftAt.size);
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
