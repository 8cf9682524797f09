/**
 * Types shared by the metrics of {@link MetricsRegistry}: the kind, the label
 * values of one series, and the declaration options.
 *
 * @module
 */

/** The kinds of metric the registry renders (the `# TYPE` word). */
export type MetricType = "counter" | "gauge" | "histogram";

/** Values for every label of a metric, by label name. */
export type LabelValues<L extends string> = { readonly [K in L]: string };

/** What every metric is declared with. */
export interface MetricOptions<L extends string> {
  /** The metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  readonly name: string;
  /** The `# HELP` docstring (any text; escaped on output). */
  readonly help: string;
  /** The label names, `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`. */
  readonly labelNames?: readonly L[];
}

/** The options of a histogram: the metric options and the bucket upper bounds. */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /**
   * Finite upper bounds, strictly increasing; the `+Inf` bucket is always added
   * (a trailing `Infinity` here is accepted and ignored).
   */
  readonly buckets: readonly number[];
}
