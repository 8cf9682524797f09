/**
 * Observability adapters: the status server on loopback (`GET /status`, `GET
 * /metrics`) and the LogTape setup (text on a terminal, JSON lines otherwise).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
 * import { startStatusServer } from "./mod.ts";
 * const status = {
 *   generatedAt: 0, serving: null, sessions: [], retained: [],
 *   counters: { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 },
 * };
 * await using server = await startStatusServer({ listen: "127.0.0.1:0", status: () => status, metrics: new MetricsRegistry() });
 * assertEquals((await fetch(`${server.url}/nope`)).status, 404);
 * ```
 *
 * @module
 */
export * from "./status_server.ts";
export * from "./status_handler.ts";
export * from "./log_setup.ts";
