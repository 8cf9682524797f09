/**
 * Lexical rules of the Prometheus text exposition format 0.0.4: names, escapes,
 * values.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  escapeHelp,
  escapeLabelValue,
  formatLabels,
  formatSampleValue,
  isValidLabelName,
  isValidMetricName,
  PROMETHEUS_CONTENT_TYPE,
} from "../../../lib/observe/prometheus_text.ts";

describe("prometheus text format 0.0.4: lexical rules", () => {
  it("validates metric names [a-zA-Z_:][a-zA-Z0-9_:]*", () => {
    for (const ok of ["a", "_a", ":a", "a:b_c9", "mpa_phase_duration_seconds"]) {
      expect(isValidMetricName(ok), ok).toBe(true);
    }
    for (const bad of ["", "9a", "a-b", "a.b", "a b", "ä"]) {
      expect(isValidMetricName(bad), bad).toBe(false);
    }
  });

  it("validates label names [a-zA-Z_][a-zA-Z0-9_]* without the reserved __ prefix", () => {
    for (const ok of ["a", "_a", "phase", "le", "a_9"]) expect(isValidLabelName(ok), ok).toBe(true);
    for (const bad of ["", "9a", "a:b", "__name__", "__", "a-b"]) {
      expect(isValidLabelName(bad), bad).toBe(false);
    }
  });

  it("escapes only backslash, quote and line feed in label values; other text passes", () => {
    expect(escapeLabelValue("\\")).toBe("\\\\");
    expect(escapeLabelValue('"')).toBe('\\"');
    expect(escapeLabelValue("\n")).toBe("\\n");
    expect(escapeLabelValue("tab\there, é, {}=,")).toBe("tab\there, é, {}=,");
    expect(escapeLabelValue("\\n")).toBe("\\\\n"); // a literal backslash-n stays distinguishable
  });

  it("escapes backslash and line feed in HELP, not quotes", () => {
    expect(escapeHelp('a\\b\n"c"')).toBe('a\\\\b\\n"c"');
  });

  it("formats values and label sets", () => {
    expect([0, 1, -2.5, 1e21, NaN, Infinity, -Infinity].map(formatSampleValue)).toEqual([
      "0",
      "1",
      "-2.5",
      "1e+21",
      "NaN",
      "+Inf",
      "-Inf",
    ]);
    expect(formatLabels([["a", 'x"y']])).toBe('{a="x\\"y"}');
    expect(PROMETHEUS_CONTENT_TYPE.startsWith("text/plain; version=0.0.4")).toBe(true);
  });
});
