/**
 * Observability of the agent, pure: the status snapshot served on `GET /status`
 * and printed by `mpa status`, and a metrics registry rendered in the Prometheus
 * text exposition format 0.0.4 for `GET /metrics`.
 *
 * @module
 */
export * from "./agent_status.ts";
export * from "./parse_agent_status.ts";
export * from "./format_agent_status.ts";
export * from "./metric_types.ts";
export * from "./prometheus_text.ts";
export * from "./counter.ts";
export * from "./gauge.ts";
export * from "./histogram.ts";
export * from "./metrics_registry.ts";
export * from "./agent_metrics.ts";
export * from "./from_mpa_state.ts";
