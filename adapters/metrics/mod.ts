/**
 * Metrics sources for the mobile node: JSONL trace reading and replay, and a
 * deterministic mobility simulator with built-in scenarios. Each source is an
 * `Observable<LinkSample>` (the shape of the `MetricsSource` port).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatLinkSample } from "../../lib/metrics/link_sample.ts";
 * import { readTrace, scenario, simulateTrace } from "./mod.ts";
 * const trace = simulateTrace(scenario("demo"), { seed: 1, durationS: 2 });
 * const text = trace.map(formatLinkSample).join("\n");
 * assertEquals(readTrace(text, "demo.jsonl"), trace);
 * ```
 *
 * @module
 */
export * from "./scenarios.ts";
export * from "./simulator.ts";
export * from "./trace_replay.ts";
