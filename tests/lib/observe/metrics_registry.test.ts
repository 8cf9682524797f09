/**
 * The metrics registry renders the Prometheus text exposition format 0.0.4
 * exactly: HELP/TYPE lines, escaping, cumulative histogram buckets with +Inf, _sum
 * and _count; and it refuses invalid names, labels and values.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { MetricsRegistry } from "../../../lib/observe/metrics_registry.ts";
import { Counter } from "../../../lib/observe/counter.ts";
import { Histogram } from "../../../lib/observe/histogram.ts";
import { parseExposition } from "./_exposition_parser.ts";

describe("MetricsRegistry: text exposition format 0.0.4", () => {
  it("renders counters, gauges and histograms with labels, byte for byte", () => {
    const registry = new MetricsRegistry();
    const failures = registry.counter({
      name: "mpa_failures_total",
      help: "Failures by phase",
      labelNames: ["phase", "code"],
    });
    const sessions = registry.gauge({
      name: "mpa_sessions",
      help: "Sessions",
      labelNames: ["phase"],
    });
    const durations = registry.histogram({
      name: "mpa_phase_duration_seconds",
      help: "Durations",
      labelNames: ["phase"],
      buckets: [0.01, 0.1, 1],
    });
    failures.inc(1, { phase: "pre-authenticating", code: "timeout" });
    failures.inc(2, { code: "timeout", phase: "pre-authenticating" }); // label order does not matter
    failures.inc(1, { phase: "pre-configuring", code: "refused" });
    sessions.set(2, { phase: "bound" });
    durations.observe(0.005, { phase: "pre-authenticating" });
    durations.observe(0.01, { phase: "pre-authenticating" }); // on a bound: counted in it (le)
    durations.observe(0.5, { phase: "pre-authenticating" });
    durations.observe(3, { phase: "pre-authenticating" });
    expect(registry.render()).toBe(
      "# HELP mpa_failures_total Failures by phase\n" +
        "# TYPE mpa_failures_total counter\n" +
        'mpa_failures_total{phase="pre-authenticating",code="timeout"} 3\n' +
        'mpa_failures_total{phase="pre-configuring",code="refused"} 1\n' +
        "# HELP mpa_sessions Sessions\n" +
        "# TYPE mpa_sessions gauge\n" +
        'mpa_sessions{phase="bound"} 2\n' +
        "# HELP mpa_phase_duration_seconds Durations\n" +
        "# TYPE mpa_phase_duration_seconds histogram\n" +
        'mpa_phase_duration_seconds_bucket{phase="pre-authenticating",le="0.01"} 2\n' +
        'mpa_phase_duration_seconds_bucket{phase="pre-authenticating",le="0.1"} 2\n' +
        'mpa_phase_duration_seconds_bucket{phase="pre-authenticating",le="1"} 3\n' +
        'mpa_phase_duration_seconds_bucket{phase="pre-authenticating",le="+Inf"} 4\n' +
        'mpa_phase_duration_seconds_sum{phase="pre-authenticating"} 3.515\n' +
        'mpa_phase_duration_seconds_count{phase="pre-authenticating"} 4\n',
    );
  });

  it("escapes backslash, quote and line feed in label values, backslash and line feed in HELP", () => {
    const registry = new MetricsRegistry();
    const c = registry.counter({
      name: "odd_total",
      help: 'Path C:\\tmp "quoted"\nsecond line',
      labelNames: ["v"],
    });
    c.inc(1, { v: 'a\\b"c\nd' });
    const text = registry.render();
    expect(text).toBe(
      '# HELP odd_total Path C:\\\\tmp "quoted"\\nsecond line\n' +
        "# TYPE odd_total counter\n" +
        'odd_total{v="a\\\\b\\"c\\nd"} 1\n',
    );
    const family = parseExposition(text).get("odd_total")!;
    expect(family.help).toBe('Path C:\\tmp "quoted"\nsecond line');
    expect(family.samples[0]!.labels.v).toBe('a\\b"c\nd');
  });

  it("starts unlabelled metrics at 0 and shows labelled ones only once used", () => {
    const registry = new MetricsRegistry();
    registry.counter({ name: "a_total", help: "A" });
    registry.counter({ name: "b_total", help: "B", labelNames: ["x"] });
    registry.histogram({ name: "h_seconds", help: "H", buckets: [1] });
    expect(registry.render()).toBe(
      "# HELP a_total A\n# TYPE a_total counter\na_total 0\n" +
        "# HELP b_total B\n# TYPE b_total counter\n" +
        "# HELP h_seconds H\n# TYPE h_seconds histogram\n" +
        'h_seconds_bucket{le="1"} 0\nh_seconds_bucket{le="+Inf"} 0\nh_seconds_sum 0\nh_seconds_count 0\n',
    );
  });

  it("renders an empty registry as an empty body, and every other as lines ending in a line feed", () => {
    expect(new MetricsRegistry().render()).toBe("");
    const registry = new MetricsRegistry();
    registry.gauge({ name: "g", help: "" });
    expect(registry.render()).toBe("# HELP g \n# TYPE g gauge\ng 0\n");
    expect(parseExposition(registry.render()).get("g")!.samples).toHaveLength(1);
  });

  it("spells NaN and infinities the way Go's ParseFloat reads them", () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: "g", help: "G", labelNames: ["k"] });
    g.set(NaN, { k: "nan" });
    g.set(Infinity, { k: "inf" });
    g.set(-Infinity, { k: "ninf" });
    g.set(1e21, { k: "big" });
    g.set(1e-7, { k: "small" });
    const values = parseExposition(registry.render()).get("g")!.samples.map((s) => s.value);
    expect(values).toEqual([NaN, Infinity, -Infinity, 1e21, 1e-7]);
    expect(registry.render()).toContain('g{k="nan"} NaN\ng{k="inf"} +Inf\ng{k="ninf"} -Inf\n');
  });

  it("runs collectors before each render, until removed", () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: "g", help: "G" });
    let n = 0;
    const remove = registry.onCollect(() => g.set(++n));
    expect(registry.render()).toContain("g 1\n");
    expect(registry.render()).toContain("g 2\n");
    remove();
    expect(registry.render()).toContain("g 2\n");
  });

  it("keeps histogram buckets cumulative, +Inf equal to _count, for many observations", () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram({
      name: "h",
      help: "H",
      labelNames: ["p"],
      buckets: [1, 2, 4, 8],
    });
    for (let i = 0; i < 100; i++) h.observe((i * 7) % 11, { p: i % 2 === 0 ? "even" : "odd" });
    const family = parseExposition(registry.render()).get("h")!; // checks the invariants
    expect(family.type).toBe("histogram");
    const even = h.get({ p: "even" });
    expect(even.cumulative.at(-1)).toBe(even.count);
    expect(even.count + h.get({ p: "odd" }).count).toBe(100);
    expect(h.get({ p: "never" })).toEqual({ cumulative: [0, 0, 0, 0, 0], sum: 0, count: 0 });
  });

  it("accepts a trailing Infinity bound and adds +Inf only once", () => {
    const h = new Histogram({ name: "h", help: "H", buckets: [0.5, Infinity] });
    expect(h.buckets).toEqual([0.5]);
    expect(h.renderSamples().filter((l) => l.includes('le="+Inf"'))).toHaveLength(1);
  });

  it("resets series: labelled ones disappear, unlabelled ones return to 0", () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: "g", help: "G", labelNames: ["k"] });
    const c = registry.counter({ name: "c_total", help: "C" });
    g.set(3, { k: "x" });
    c.inc(4);
    g.reset();
    c.reset();
    expect(g.renderSamples()).toEqual([]);
    expect(c.renderSamples()).toEqual(["c_total 0"]);
  });
});

describe("MetricsRegistry: validation", () => {
  it("refuses invalid metric names", () => {
    const registry = new MetricsRegistry();
    for (const name of ["", "1abc", "a-b", "a b", "é", "a{b}"]) {
      expect(() => registry.counter({ name, help: "x" }), name).toThrow(RangeError);
    }
    expect(() => registry.gauge({ name: "ns:sub_metric", help: "colons are allowed" })).not
      .toThrow();
  });

  it("refuses invalid, reserved and duplicate label names", () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter({ name: "a", help: "", labelNames: ["a-b"] })).toThrow(
      "Invalid label name of a",
    );
    expect(() => registry.counter({ name: "a", help: "", labelNames: ["__x"] })).toThrow(
      RangeError,
    );
    expect(() => registry.counter({ name: "a", help: "", labelNames: ["ns:x"] })).toThrow(
      RangeError,
    );
    expect(() => registry.counter({ name: "a", help: "", labelNames: ["x", "x"] })).toThrow(
      "Duplicate label name",
    );
    expect(() => registry.histogram({ name: "h", help: "", labelNames: ["le"], buckets: [1] }))
      .toThrow('Reserved label name of h: "le"');
  });

  it("refuses a second metric of the same name, including histogram sample names", () => {
    const registry = new MetricsRegistry();
    registry.histogram({ name: "rtt_seconds", help: "", buckets: [1] });
    expect(() => registry.gauge({ name: "rtt_seconds", help: "" })).toThrow("already registered");
    expect(() => registry.gauge({ name: "rtt_seconds_count", help: "" })).toThrow(
      "already registered: rtt_seconds_count",
    );
    registry.counter({ name: "x_sum", help: "" });
    expect(() => registry.histogram({ name: "x", help: "", buckets: [1] })).toThrow(
      "already registered: x_sum",
    );
    expect(registry.metrics().map((m) => m.name)).toEqual(["rtt_seconds", "x_sum"]);
  });

  it("refuses unknown and missing labels", () => {
    const c = new Counter({ name: "c", help: "", labelNames: ["phase"] });
    expect(() => c.inc()).toThrow('Missing label of c: "phase"');
    expect(() => c.inc(1, { phase: "x", extra: "y" } as { phase: string })).toThrow(
      'Unknown label of c: "extra"',
    );
    const plain = new Counter({ name: "p", help: "" });
    expect(() => plain.inc(1, { phase: "x" } as never)).toThrow("Unknown label");
  });

  it("refuses negative or non-finite counter increments and non-finite observations", () => {
    const c = new Counter({ name: "c", help: "" });
    expect(() => c.inc(-1)).toThrow("Invalid increment of c: -1");
    expect(() => c.inc(NaN)).toThrow(RangeError);
    expect(() => c.inc(Infinity)).toThrow(RangeError);
    expect(c.get()).toBe(0);
    const h = new Histogram({ name: "h", help: "", buckets: [1] });
    expect(() => h.observe(NaN)).toThrow("Invalid observation of h");
    expect(() => h.observe(-Infinity)).toThrow(RangeError);
    expect(h.get().count).toBe(0);
  });

  it("refuses bucket bounds that are not finite and strictly increasing", () => {
    for (const buckets of [[1, 1], [2, 1], [NaN], [-Infinity, 1], [1, Infinity, 2]]) {
      expect(() => new Histogram({ name: "h", help: "", buckets }), String(buckets)).toThrow(
        "Invalid buckets of h",
      );
    }
  });
});
