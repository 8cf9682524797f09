/**
 * The lexical rules of the Prometheus text exposition format 0.0.4: metric and
 * label name syntax, escaping of label values and HELP text, and the spelling of
 * sample values (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * @module
 */

/**
 * The HTTP `Content-Type` of the text exposition format 0.0.4.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PROMETHEUS_CONTENT_TYPE } from "./prometheus_text.ts";
 * assertStringIncludes(PROMETHEUS_CONTENT_TYPE, "version=0.0.4");
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const _METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const _LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 *
 * @param name the candidate
 * @returns true when valid
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { isValidMetricName } from "./prometheus_text.ts";
 * assertEquals(isValidMetricName("mpa_handovers_total"), true);
 * assertEquals(isValidMetricName("2xx"), false);
 * assertEquals(isValidMetricName("mpa-handovers"), false);
 * ```
 */
export function isValidMetricName(name: string): boolean {
  return _METRIC_NAME.test(name);
}

/**
 * Whether `name` may be used as a label name: `[a-zA-Z_][a-zA-Z0-9_]*`, and not
 * starting with `__` (reserved for Prometheus' internal use).
 *
 * @param name the candidate
 * @returns true when valid
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { isValidLabelName } from "./prometheus_text.ts";
 * assertEquals(isValidLabelName("phase"), true);
 * assertEquals(isValidLabelName("__name__"), false);
 * assertEquals(isValidLabelName("a:b"), false);
 * ```
 */
export function isValidLabelName(name: string): boolean {
  return _LABEL_NAME.test(name) && !name.startsWith("__");
}

/**
 * Escapes a label value: backslash as `\\`, double quote as `\"`, line feed as `\n`.
 *
 * @param value the raw value (any UTF-8 text)
 * @returns the text to put between the quotes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { escapeLabelValue } from "./prometheus_text.ts";
 * assertEquals(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/**
 * Escapes HELP text: backslash as `\\` and line feed as `\n` (quotes stay as they are).
 *
 * @param text the docstring
 * @returns the escaped docstring
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { escapeHelp } from "./prometheus_text.ts";
 * assertEquals(escapeHelp('C:\\ "x"\nnext'), 'C:\\\\ "x"\\nnext');
 * ```
 */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/**
 * Spells a sample value (or an `le` bound) as Go's `ParseFloat` reads it: `+Inf`,
 * `-Inf`, `NaN`, otherwise JavaScript's shortest round-trip decimal form.
 *
 * @param value the number
 * @returns its text
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatSampleValue } from "./prometheus_text.ts";
 * assertEquals(formatSampleValue(Infinity), "+Inf");
 * assertEquals(formatSampleValue(0.005), "0.005");
 * assertEquals(formatSampleValue(-0), "0");
 * ```
 */
export function formatSampleValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  return String(value);
}

/**
 * Renders a label set `{a="x",b="y"}` (empty string for no labels), values escaped.
 *
 * @param pairs label names and raw values, in output order
 * @returns the label block
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatLabels } from "./prometheus_text.ts";
 * assertEquals(formatLabels([["phase", "bound"], ["le", "+Inf"]]), '{phase="bound",le="+Inf"}');
 * assertEquals(formatLabels([]), "");
 * ```
 */
export function formatLabels(pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}
