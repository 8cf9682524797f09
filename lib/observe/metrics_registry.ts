/**
 * A registry of counters, gauges and histograms rendered in the Prometheus text
 * exposition format 0.0.4 (`GET /metrics`).
 *
 * @module
 */
import { Counter } from "./counter.ts";
import { Gauge } from "./gauge.ts";
import { Histogram } from "./histogram.ts";
import type { HistogramOptions, MetricOptions } from "./metric_types.ts";
import { escapeHelp } from "./prometheus_text.ts";

/** Any metric the registry holds. */
export type Metric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * Holds metrics in registration order and renders them. Names must be unique,
 * including the `_bucket`, `_sum` and `_count` names of histograms. Collectors
 * registered with {@link MetricsRegistry.onCollect} run before each render, so that
 * gauges derived from a status snapshot are fresh at scrape time.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * const registry = new MetricsRegistry();
 * const handovers = registry.counter({ name: "mpa_handovers_total", help: "Handovers" });
 * handovers.inc();
 * assertEquals(
 *   registry.render(),
 *   "# HELP mpa_handovers_total Handovers\n# TYPE mpa_handovers_total counter\nmpa_handovers_total 1\n",
 * );
 * ```
 */
export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  readonly #names = new Set<string>();
  readonly #collectors = new Set<() => void>();

  /**
   * Declares and registers a counter.
   *
   * @param options name, help and label names
   * @returns the counter
   * @throws {RangeError} for an invalid or already used name
   */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter<L>(options));
  }

  /**
   * Declares and registers a gauge.
   *
   * @param options name, help and label names
   * @returns the gauge
   * @throws {RangeError} for an invalid or already used name
   */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#add(new Gauge<L>(options));
  }

  /**
   * Declares and registers a histogram.
   *
   * @param options name, help, label names and bucket bounds
   * @returns the histogram
   * @throws {RangeError} for an invalid or already used name, the label `le`, or bad bounds
   */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#add(new Histogram<L>(options));
  }

  /**
   * Runs `collect` before every {@link MetricsRegistry.render}.
   *
   * @param collect updates metrics (for example gauges from a status snapshot)
   * @returns a function that removes it
   */
  onCollect(collect: () => void): () => void {
    this.#collectors.add(collect);
    return () => this.#collectors.delete(collect);
  }

  /**
   * The registered metrics, in registration order.
   *
   * @returns the metrics
   */
  metrics(): readonly Metric[] {
    return [...this.#metrics];
  }

  /**
   * Runs the collectors, then renders every metric: `# HELP`, `# TYPE`, then its
   * samples, each line ending in a line feed (text format 0.0.4).
   *
   * @returns the exposition text
   */
  render(): string {
    for (const collect of this.#collectors) collect();
    const lines: string[] = [];
    for (const metric of this.#metrics) {
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`);
      lines.push(`# TYPE ${metric.name} ${metric.type}`);
      lines.push(...metric.renderSamples());
    }
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }

  #add<M extends Metric>(metric: M): M {
    const clash = metric.sampleNames().find((n) => this.#names.has(n));
    if (clash !== undefined) {
      throw new RangeError(`Metric name already registered: ${clash}`);
    }
    for (const n of metric.sampleNames()) this.#names.add(n);
    this.#metrics.push(metric);
    return metric;
  }
}
