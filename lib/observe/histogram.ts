/**
 * A Prometheus histogram: observations counted in cumulative buckets, with their
 * sum and count (phase durations of RFC 6252 section 6.3, in seconds).
 *
 * @module
 */
import { _LabelledMetric } from "./_labelled_metric.ts";
import type { HistogramOptions, LabelValues } from "./metric_types.ts";
import { escapeLabelValue, formatSampleValue } from "./prometheus_text.ts";

/** The state of one histogram series. */
export interface HistogramSnapshot {
  /** Per bound (the `+Inf` one last), how many observations were at most that bound. */
  readonly cumulative: readonly number[];
  /** The sum of the observations. */
  readonly sum: number;
  /** How many observations (equals the `+Inf` bucket). */
  readonly count: number;
}

interface _State {
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * Prometheus' default buckets, seconds (5 ms to 10 s).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DEFAULT_BUCKETS } from "./histogram.ts";
 * assertEquals(DEFAULT_BUCKETS.at(-1), 10);
 * ```
 */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/**
 * A histogram with optional labels (`le` is reserved). Create it with
 * {@link MetricsRegistry.histogram} so that it is rendered.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram({ name: "mpa_phase_duration_seconds", help: "Phase durations", buckets: [0.1, 1] });
 * h.observe(0.05);
 * h.observe(0.5);
 * assertEquals(h.renderSamples(), [
 *   'mpa_phase_duration_seconds_bucket{le="0.1"} 1',
 *   'mpa_phase_duration_seconds_bucket{le="1"} 2',
 *   'mpa_phase_duration_seconds_bucket{le="+Inf"} 2',
 *   "mpa_phase_duration_seconds_sum 0.55",
 *   "mpa_phase_duration_seconds_count 2",
 * ]);
 * ```
 */
export class Histogram<L extends string = never> extends _LabelledMetric<L, _State> {
  /** Always `histogram`. */
  readonly type = "histogram" as const;
  /** The finite upper bounds, strictly increasing (the `+Inf` bucket is implicit). */
  readonly buckets: readonly number[];

  /**
   * Declares a histogram (not yet registered).
   *
   * @param options name, help, label names and bucket bounds
   * @throws {RangeError} for an invalid name, the label `le`, or bounds that are not
   *   finite and strictly increasing
   */
  constructor(options: HistogramOptions<L>) {
    const bounds = options.buckets.at(-1) === Infinity
      ? options.buckets.slice(0, -1)
      : [...options.buckets];
    for (let i = 0; i < bounds.length; i++) {
      const b = bounds[i]!;
      if (!Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!)) {
        throw new RangeError(
          `Invalid buckets of ${options.name}: expected finite, strictly increasing bounds`,
        );
      }
    }
    super(options, ["le"], () => ({ counts: bounds.map(() => 0), sum: 0, count: 0 }));
    this.buckets = bounds;
  }

  /**
   * The names `name_bucket`, `name_sum` and `name_count` the samples use.
   *
   * @returns the three sample names and the metric name
   */
  override sampleNames(): readonly string[] {
    return [this.name, `${this.name}_bucket`, `${this.name}_sum`, `${this.name}_count`];
  }

  /**
   * Counts one observation in the series of `labels`.
   *
   * @param value a finite number
   * @param labels a value for every label (omit when the histogram has none)
   * @throws {RangeError} for a non-finite value, or unknown or missing labels
   */
  observe(value: number, labels?: LabelValues<L>): void {
    if (!Number.isFinite(value)) {
      throw new RangeError(`Invalid observation of ${this.name}: ${value}`);
    }
    const state = this._series(labels);
    // Stored per bucket; made cumulative when read.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) state.counts[i]!++;
    state.sum += value;
    state.count++;
  }

  /**
   * The cumulative buckets, sum and count of a series.
   *
   * @param labels a value for every label (omit when the histogram has none)
   * @returns the snapshot (all zero for a series never observed)
   */
  get(labels?: LabelValues<L>): HistogramSnapshot {
    const state = this._find(labels);
    if (state === undefined) {
      return { cumulative: [...this.buckets.map(() => 0), 0], sum: 0, count: 0 };
    }
    return this.#snapshot(state);
  }

  /**
   * The sample lines: per series its `_bucket` lines (cumulative, `le` last, ending
   * with `+Inf`), then `_sum` and `_count`.
   *
   * @returns lines without line feeds
   */
  renderSamples(): string[] {
    const lines: string[] = [];
    const bounds = [...this.buckets.map(formatSampleValue), "+Inf"];
    for (const series of this._all()) {
      const snap = this.#snapshot(series.state);
      const prefix = series.labels === "" ? "{" : `${series.labels.slice(0, -1)},`;
      bounds.forEach((le, i) => {
        lines.push(
          `${this.name}_bucket${prefix}le="${escapeLabelValue(le)}"} ${snap.cumulative[i]!}`,
        );
      });
      lines.push(`${this.name}_sum${series.labels} ${formatSampleValue(snap.sum)}`);
      lines.push(`${this.name}_count${series.labels} ${snap.count}`);
    }
    return lines;
  }

  #snapshot(state: _State): HistogramSnapshot {
    let running = 0;
    const cumulative = state.counts.map((c) => (running += c));
    return { cumulative: [...cumulative, state.count], sum: state.sum, count: state.count };
  }
}
