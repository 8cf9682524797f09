/**
 * A Prometheus counter: a total that only goes up (restarts at 0 with the process).
 *
 * @module
 */
import { _LabelledMetric } from "./_labelled_metric.ts";
import type { LabelValues, MetricOptions } from "./metric_types.ts";
import { formatSampleValue } from "./prometheus_text.ts";

/**
 * A counter with optional labels. Create it with {@link MetricsRegistry.counter}
 * so that it is rendered; by convention its name ends in `_total`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { Counter } from "./counter.ts";
 * const failures = new Counter({ name: "mpa_failures_total", help: "Failures", labelNames: ["phase"] });
 * failures.inc(1, { phase: "pre-configuring" });
 * failures.inc(2, { phase: "pre-configuring" });
 * assertEquals(failures.get({ phase: "pre-configuring" }), 3);
 * assertEquals(failures.renderSamples(), ['mpa_failures_total{phase="pre-configuring"} 3']);
 * ```
 */
export class Counter<L extends string = never> extends _LabelledMetric<L, { value: number }> {
  /** Always `counter`. */
  readonly type = "counter" as const;

  /**
   * Declares a counter (not yet registered).
   *
   * @param options name, help and label names
   * @throws {RangeError} for an invalid metric or label name
   */
  constructor(options: MetricOptions<L>) {
    super(options, [], () => ({ value: 0 }));
  }

  /**
   * Adds `by` to the series of `labels`.
   *
   * @param by a finite amount of at least 0 (default 1)
   * @param labels a value for every label (omit when the counter has none)
   * @throws {RangeError} for a negative or non-finite amount, or unknown or missing labels
   */
  inc(by = 1, labels?: LabelValues<L>): void {
    if (!Number.isFinite(by) || by < 0) {
      throw new RangeError(`Invalid increment of ${this.name}: ${by}`);
    }
    this._series(labels).value += by;
  }

  /**
   * The current total of a series.
   *
   * @param labels a value for every label (omit when the counter has none)
   * @returns the total, 0 for a series never incremented
   */
  get(labels?: LabelValues<L>): number {
    return this._find(labels)?.value ?? 0;
  }

  /**
   * The sum over every series (for example all failures, whatever their phase).
   *
   * @returns the total of all label sets
   */
  total(): number {
    let sum = 0;
    for (const s of this._all()) sum += s.state.value;
    return sum;
  }

  /**
   * The sample lines, one per series in first-use order.
   *
   * @returns lines without line feeds
   */
  renderSamples(): string[] {
    return [...this._all()].map((s) =>
      `${this.name}${s.labels} ${formatSampleValue(s.state.value)}`
    );
  }
}
