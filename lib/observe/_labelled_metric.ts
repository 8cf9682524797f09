/**
 * Private base of the counter, gauge and histogram: name and label validation, and
 * one state per label set in first-use order.
 *
 * @module
 */
import type { LabelValues, MetricOptions, MetricType } from "./metric_types.ts";
import { formatLabels, isValidLabelName, isValidMetricName } from "./prometheus_text.ts";

/** One series: its label pairs in declaration order and its state. */
export interface _Series<S> {
  readonly pairs: readonly (readonly [string, string])[];
  readonly labels: string;
  readonly state: S;
}

/** Shared storage and checks of the three metric kinds. */
export abstract class _LabelledMetric<L extends string, S> {
  /** The metric name. */
  readonly name: string;
  /** The HELP docstring. */
  readonly help: string;
  /** The label names, in output order. */
  readonly labelNames: readonly L[];
  /** The `# TYPE` word. */
  abstract readonly type: MetricType;
  readonly #series = new Map<string, _Series<S>>();
  readonly #initial: () => S;

  /**
   * Validates the declaration.
   *
   * @param options name, help and label names
   * @param reserved label names this kind reserves (`le` for histograms)
   * @param initial the state of a new series
   */
  protected constructor(
    options: MetricOptions<L>,
    reserved: readonly string[],
    initial: () => S,
  ) {
    if (!isValidMetricName(options.name)) {
      throw new RangeError(`Invalid metric name: "${options.name}"`);
    }
    const labelNames = options.labelNames ?? [];
    for (const label of labelNames) {
      if (!isValidLabelName(label)) {
        throw new RangeError(`Invalid label name of ${options.name}: "${label}"`);
      }
      if (reserved.includes(label)) {
        throw new RangeError(`Reserved label name of ${options.name}: "${label}"`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new RangeError(`Duplicate label name of ${options.name}`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...labelNames];
    this.#initial = initial;
    if (this.labelNames.length === 0) this._series(undefined);
  }

  /** The sample names this metric writes (for collision checks). */
  sampleNames(): readonly string[] {
    return [this.name];
  }

  /** Forgets every series; an unlabelled metric starts again from its initial state. */
  reset(): void {
    this.#series.clear();
    if (this.labelNames.length === 0) this._series(undefined);
  }

  /** The state for `labels`, created on first use. */
  protected _series(labels: LabelValues<L> | undefined): S {
    const pairs = this.#pairs(labels);
    const key = JSON.stringify(pairs.map(([, v]) => v));
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { pairs, labels: formatLabels(pairs), state: this.#initial() };
      this.#series.set(key, series);
    }
    return series.state;
  }

  /** The state for `labels` if that series exists. */
  protected _find(labels: LabelValues<L> | undefined): S | undefined {
    const pairs = this.#pairs(labels);
    return this.#series.get(JSON.stringify(pairs.map(([, v]) => v)))?.state;
  }

  /** Every series in first-use order. */
  protected _all(): IterableIterator<_Series<S>> {
    return this.#series.values();
  }

  /** The sample lines (no HELP/TYPE), each without its line feed. */
  abstract renderSamples(): string[];

  #pairs(labels: LabelValues<L> | undefined): (readonly [string, string])[] {
    const given = (labels ?? {}) as Readonly<Record<string, unknown>>;
    const keys = Object.keys(given);
    for (const key of keys) {
      if (!(this.labelNames as readonly string[]).includes(key)) {
        throw new RangeError(`Unknown label of ${this.name}: "${key}"`);
      }
    }
    return this.labelNames.map((name) => {
      const value = given[name];
      if (typeof value !== "string") {
        throw new RangeError(`Missing label of ${this.name}: "${name}"`);
      }
      return [name, value] as const;
    });
  }
}
