/**
 * A Prometheus gauge: a value that goes up and down (sessions by phase, retained
 * contexts).
 *
 * @module
 */
import { _LabelledMetric } from "./_labelled_metric.ts";
import type { LabelValues, MetricOptions } from "./metric_types.ts";
import { formatSampleValue } from "./prometheus_text.ts";

/**
 * A gauge with optional labels. Create it with {@link MetricsRegistry.gauge} so
 * that it is rendered.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { Gauge } from "./gauge.ts";
 * const retained = new Gauge({ name: "mpa_retained_contexts", help: "Retained contexts" });
 * retained.set(2);
 * retained.inc();
 * retained.dec(2);
 * assertEquals(retained.get(), 1);
 * assertEquals(retained.renderSamples(), ["mpa_retained_contexts 1"]);
 * ```
 */
export class Gauge<L extends string = never> extends _LabelledMetric<L, { value: number }> {
  /** Always `gauge`. */
  readonly type = "gauge" as const;

  /**
   * Declares a gauge (not yet registered).
   *
   * @param options name, help and label names
   * @throws {RangeError} for an invalid metric or label name
   */
  constructor(options: MetricOptions<L>) {
    super(options, [], () => ({ value: 0 }));
  }

  /**
   * Sets the series of `labels` to `value`.
   *
   * @param value any number (`NaN` and infinities are rendered as such)
   * @param labels a value for every label (omit when the gauge has none)
   * @throws {RangeError} for unknown or missing labels
   */
  set(value: number, labels?: LabelValues<L>): void {
    this._series(labels).value = value;
  }

  /**
   * Adds `by` (default 1) to the series of `labels`.
   *
   * @param by the amount
   * @param labels a value for every label (omit when the gauge has none)
   */
  inc(by = 1, labels?: LabelValues<L>): void {
    this._series(labels).value += by;
  }

  /**
   * Subtracts `by` (default 1) from the series of `labels`.
   *
   * @param by the amount
   * @param labels a value for every label (omit when the gauge has none)
   */
  dec(by = 1, labels?: LabelValues<L>): void {
    this._series(labels).value -= by;
  }

  /**
   * The current value of a series.
   *
   * @param labels a value for every label (omit when the gauge has none)
   * @returns the value, 0 for a series never set
   */
  get(labels?: LabelValues<L>): number {
    return this._find(labels)?.value ?? 0;
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
