/**
 * Lead time: how long until the serving link is lost, from the mobile node's position
 * and velocity or from the SNR trend (RFC 6252 section C.6: MPA must finish its
 * proactive phases within the time the MN needs to cross the cell, D/v).
 *
 * @module
 */
import { Observable, type OperatorFunction } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";
import { TrendWindow } from "./trend_window.ts";
import type { LinkSample, Position, Velocity } from "../metrics/link_sample.ts";
import type { Cell } from "../metrics/cell.ts";

/** Estimated time until the serving link is lost. */
export interface LeadEstimate {
  /** Time of the serving sample the estimate is based on, ms. */
  readonly t: number;
  /** The serving PoA. */
  readonly poa: string;
  /** Seconds until the serving link is lost; Infinity when not approaching the edge. */
  readonly seconds: number;
  /** How it was estimated. */
  readonly method: "geometry" | "trend";
}

/** Options of {@link leadTime}. */
export interface LeadTimeOptions {
  /** Who is serving now; read at every sample. */
  readonly serving: () => string | undefined;
  /** Known cells (position and coverage) by PoA id. Default none (trend only). */
  readonly cells?: ReadonlyMap<string, Cell>;
  /** SNR at which the link counts as lost, dB. Default 5. */
  readonly outageSnr?: number;
  /** Trailing window for the SNR trend, ms. Default 2000. */
  readonly trendWindowMs?: number;
}

/**
 * Seconds until a point moving in a straight line leaves a circle (RFC 6252 section
 * C.6: the time to the cell edge, D/v for a full crossing).
 *
 * @param pos where the MN is, metres
 * @param vel its velocity (m/s, heading in radians: 0 = +x, pi/2 = +y)
 * @param center the cell's antenna position, metres
 * @param radius the cell's coverage radius, metres
 * @returns 0 when already outside, Infinity when standing still, else the time in s
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // 50 m east of the antenna, heading east at 10 m/s, 100 m coverage: 5 s left.
 * assertEquals(secondsToCellEdge({ x: 50, y: 0 }, { speed: 10, heading: 0 }, { x: 0, y: 0 }, 100), 5);
 * ```
 */
export function secondsToCellEdge(
  pos: Position,
  vel: Velocity,
  center: Position,
  radius: number,
): number {
  const px = pos.x - center.x;
  const py = pos.y - center.y;
  // |p + v·τ|² = r²  ⇔  a·τ² + 2·h·τ + c = 0 with a = |v|², h = p·v, c = |p|² − r².
  // c is formed as (|p| − r)(|p| + r) so that it keeps its precision near the edge,
  // where τ is small and matters most.
  const d = Math.sqrt(px * px + py * py);
  if (d > radius) return 0;
  const c = (d - radius) * (d + radius);
  const speed = vel.speed;
  if (speed === 0) return Infinity;
  const vx = speed * Math.cos(vel.heading);
  const vy = speed * Math.sin(vel.heading);
  const a = vx * vx + vy * vy;
  const h = px * vx + py * vy;
  const root = Math.sqrt(h * h - a * c);
  // The larger root, in the form that avoids cancellation when h > 0.
  const tau = h <= 0 ? (root - h) / a : -c / (root + h);
  return Math.max(0, tau);
}

/**
 * Estimates, for every sample of the serving PoA, the seconds until the serving link
 * is lost (RFC 6252 section C.6: the lead time the proactive phases must fit in).
 *
 * Geometry, when the sample has `pos` and `vel` and `cells` knows the serving PoA: the
 * time until the MN, moving in a straight line, leaves the circle of radius
 * `coverage` around the cell (see {@link secondsToCellEdge}). Otherwise trend: the
 * least-squares slope (dB/s) of the serving SNR over the samples in
 * `(t − trendWindowMs, t]` (at least two, spanning more than 0 ms, else Infinity);
 * when falling, `max(0, (snr − outageSnr) / −slope)`, else Infinity. The trend window
 * restarts whenever `serving()` changes.
 *
 * Samples of other PoAs emit nothing. Errors thrown by `serving()` are sent downstream
 * as errors.
 *
 * @param options `serving` (required), `cells` (default none), `outageSnr` (dB,
 *   default 5), `trendWindowMs` (finite, more than 0; default 2000)
 * @returns an operator from link samples to one {@link LeadEstimate} per serving sample
 * @throws {ConfigError} when `outageSnr` is not finite or `trendWindowMs` is not a
 *   finite number > 0 (at call time)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const out = await lastValueFrom(
 *   from([
 *     { t: 0, poa: "ap1", network: "A", snr: 20 },
 *     { t: 0, poa: "ap2", network: "B", snr: 30 }, // not serving: nothing
 *     { t: 1000, poa: "ap1", network: "A", snr: 18 }, // -2 dB/s: (18 - 5) / 2 = 6.5 s
 *   ]).pipe(leadTime({ serving: () => "ap1" }), toArray()),
 * );
 * assertEquals(out.map((e) => e.seconds), [Infinity, 6.5]);
 * ```
 */
export function leadTime(
  options: LeadTimeOptions,
): OperatorFunction<LinkSample, LeadEstimate> {
  const outageSnr = options.outageSnr ?? 5;
  if (typeof outageSnr !== "number" || !Number.isFinite(outageSnr)) {
    throw new ConfigError(
      "outageSnr",
      `Invalid outageSnr: expected a finite number, got ${String(outageSnr)}`,
    );
  }
  const windowMs = options.trendWindowMs ?? 2000;
  if (
    typeof windowMs !== "number" || !Number.isFinite(windowMs) || windowMs <= 0
  ) {
    throw new ConfigError(
      "trendWindowMs",
      `Invalid trendWindowMs: expected a finite number > 0, got ${String(windowMs)}`,
    );
  }
  const servingOf = options.serving;
  const cells = options.cells;

  return (source) =>
    new Observable<LeadEstimate>((subscriber) => {
      // Per-subscription trend window of the serving PoA's SNR.
      const trend = new TrendWindow(windowMs);
      let windowPoa: string | undefined;

      return source.subscribe({
        next(sample) {
          if (subscriber.closed) return;
          let estimate: LeadEstimate;
          try {
            const serving = servingOf();
            if (serving !== windowPoa) {
              windowPoa = serving;
              trend.reset();
            }
            if (serving === undefined || sample.poa !== serving) return;
            const slope = trend.push(sample.t, sample.snr);
            const cell = cells?.get(serving);
            if (
              cell !== undefined && sample.pos !== undefined &&
              sample.vel !== undefined
            ) {
              estimate = {
                t: sample.t,
                poa: serving,
                seconds: secondsToCellEdge(
                  sample.pos,
                  sample.vel,
                  cell.pos,
                  cell.coverage,
                ),
                method: "geometry",
              };
            } else {
              const seconds = slope < 0 ? Math.max(0, (sample.snr - outageSnr) / -slope) : Infinity;
              estimate = {
                t: sample.t,
                poa: serving,
                seconds,
                method: "trend",
              };
            }
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(estimate);
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
