/**
 * The metrics of the mobile node's agent on `GET /metrics`: handovers, ping-pongs,
 * phase durations (RFC 6252 section 6.3 steps, seconds), failures by phase and code,
 * packets buffered by access routers during switches (section 7.6.1), and gauges of
 * sessions by phase and retained contexts (sections C.1, C.2).
 *
 * @module
 */
import {
  type AgentCounters,
  type AgentStatus,
  type SessionStatus,
  STATUS_PHASES,
} from "./agent_status.ts";
import type { Counter } from "./counter.ts";
import type { Gauge } from "./gauge.ts";
import type { Histogram } from "./histogram.ts";
import type { MetricsRegistry } from "./metrics_registry.ts";

/**
 * Bucket bounds of the phase durations, seconds: 1 ms to 10 s (a PANA/EAP-PSK
 * exchange on a LAN takes milliseconds, a DHCP retry seconds).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PHASE_DURATION_BUCKETS } from "./agent_metrics.ts";
 * assertEquals(PHASE_DURATION_BUCKETS[0], 0.001);
 * ```
 */
export const PHASE_DURATION_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The agent's metrics, registered by {@link createAgentMetrics}. */
export interface AgentMetrics {
  /** `mpa_handovers_total`: completed handovers. */
  readonly handovers: Counter;
  /** `mpa_ping_pongs_total`: handovers recognised as ping-pong. */
  readonly pingPongs: Counter;
  /** `mpa_phase_duration_seconds{phase}`: how long each completed phase or step took. */
  readonly phaseDuration: Histogram<"phase">;
  /** `mpa_failures_total{phase,code}`: session failures by phase and error code. */
  readonly failures: Counter<"phase" | "code">;
  /** `mpa_packets_buffered_total`: packets buffered for the node during switches. */
  readonly packetsBuffered: Counter;
  /** `mpa_sessions{phase}`: sessions now in each phase. */
  readonly sessions: Gauge<"phase">;
  /** `mpa_retained_contexts`: contexts now retained for a switch-back. */
  readonly retainedContexts: Gauge;
}

/** Options of {@link createAgentMetrics}. */
export interface AgentMetricsOptions {
  /** Phase duration bucket bounds, seconds (default {@link PHASE_DURATION_BUCKETS}). */
  readonly buckets?: readonly number[];
}

/**
 * Registers the agent's metrics in `registry`.
 *
 * @param registry where to register them
 * @param options the phase duration buckets
 * @returns the metrics
 * @throws {RangeError} when the names are already registered
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { createAgentMetrics } from "./agent_metrics.ts";
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * const registry = new MetricsRegistry();
 * const metrics = createAgentMetrics(registry);
 * metrics.failures.inc(1, { phase: "pre-authenticating", code: "timeout" });
 * assertStringIncludes(registry.render(), 'mpa_failures_total{phase="pre-authenticating",code="timeout"} 1\n');
 * ```
 */
export function createAgentMetrics(
  registry: MetricsRegistry,
  options: AgentMetricsOptions = {},
): AgentMetrics {
  return {
    handovers: registry.counter({
      name: "mpa_handovers_total",
      help: "Completed handovers (link switched to a new network).",
    }),
    pingPongs: registry.counter({
      name: "mpa_ping_pongs_total",
      help: "Handovers recognised as ping-pong (switch back within the recovery window).",
    }),
    phaseDuration: registry.histogram({
      name: "mpa_phase_duration_seconds",
      help: "Duration of completed MPA session phases and steps (RFC 6252 section 6.3).",
      labelNames: ["phase"],
      buckets: options.buckets ?? PHASE_DURATION_BUCKETS,
    }),
    failures: registry.counter({
      name: "mpa_failures_total",
      help: "MPA session failures by phase and error code.",
      labelNames: ["phase", "code"],
    }),
    packetsBuffered: registry.counter({
      name: "mpa_packets_buffered_total",
      help: "Packets buffered by access routers during switches (RFC 6252 section 7.6.1).",
    }),
    sessions: registry.gauge({
      name: "mpa_sessions",
      help: "MPA sessions by current phase.",
      labelNames: ["phase"],
    }),
    retainedContexts: registry.gauge({
      name: "mpa_retained_contexts",
      help: "Contexts retained for a switch-back (RFC 6252 sections C.1, C.2).",
    }),
  };
}

/**
 * Sets the gauges from a status snapshot: sessions per phase (every phase, 0 when
 * none) and retained contexts. Meant for {@link MetricsRegistry.onCollect}.
 *
 * @param metrics the agent's metrics
 * @param status the snapshot
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { createAgentMetrics, recordStatusGauges } from "./agent_metrics.ts";
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * const metrics = createAgentMetrics(new MetricsRegistry());
 * recordStatusGauges(metrics, {
 *   generatedAt: 0, serving: null, retained: [{ ctn: "c", expiresAt: 9 }],
 *   sessions: [{ ctn: "b", phase: "bound", since: 0, phases: {} }],
 *   counters: { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 },
 * });
 * assertEquals(metrics.sessions.get({ phase: "bound" }), 1);
 * assertEquals(metrics.sessions.get({ phase: "failed" }), 0);
 * assertEquals(metrics.retainedContexts.get(), 1);
 * ```
 */
export function recordStatusGauges(metrics: AgentMetrics, status: AgentStatus): void {
  for (const phase of STATUS_PHASES) {
    metrics.sessions.set(status.sessions.filter((s) => s.phase === phase).length, { phase });
  }
  metrics.retainedContexts.set(status.retained.length);
}

/**
 * Records what changed in one session between two snapshots (for example the
 * states before and after one reducer step): each phase timing that has newly
 * ended is observed in `mpa_phase_duration_seconds`, and a new last error is
 * counted in `mpa_failures_total`.
 *
 * @param metrics the agent's metrics
 * @param before the session before the change, undefined for a new session
 * @param after the session after the change
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { createAgentMetrics, recordSessionChange } from "./agent_metrics.ts";
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * const metrics = createAgentMetrics(new MetricsRegistry());
 * const before = { ctn: "b", phase: "pre-authenticating" as const, since: 0, phases: { "pre-authenticating": { startedAt: 0 } } };
 * const after = {
 *   ctn: "b", phase: "pre-authenticated" as const, since: 12,
 *   phases: { "pre-authenticating": { startedAt: 0, endedAt: 12, durationMs: 12 } },
 * };
 * recordSessionChange(metrics, before, after);
 * recordSessionChange(metrics, after, after); // nothing new
 * assertEquals(metrics.phaseDuration.get({ phase: "pre-authenticating" }).count, 1);
 * assertEquals(metrics.phaseDuration.get({ phase: "pre-authenticating" }).sum, 0.012);
 * ```
 */
export function recordSessionChange(
  metrics: AgentMetrics,
  before: SessionStatus | undefined,
  after: SessionStatus,
): void {
  for (const [phase, timing] of Object.entries(after.phases)) {
    if (timing.endedAt === undefined) continue;
    const old = before !== undefined && Object.hasOwn(before.phases, phase)
      ? before.phases[phase]
      : undefined;
    if (old?.endedAt === timing.endedAt && old.startedAt === timing.startedAt) continue;
    const ms = timing.durationMs ?? timing.endedAt - timing.startedAt;
    if (Number.isFinite(ms) && ms >= 0) metrics.phaseDuration.observe(ms / 1000, { phase });
  }
  const error = after.lastError;
  const previous = before?.lastError;
  if (
    error !== undefined &&
    (previous === undefined || previous.phase !== error.phase || previous.code !== error.code ||
      previous.at !== error.at)
  ) {
    metrics.failures.inc(1, { phase: error.phase, code: error.code });
  }
}

/**
 * The status counters as the metrics count them (failures summed over phases and
 * codes), so that `/status` and `/metrics` agree.
 *
 * @param metrics the agent's metrics
 * @returns the counters
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { agentCounters, createAgentMetrics } from "./agent_metrics.ts";
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * const metrics = createAgentMetrics(new MetricsRegistry());
 * metrics.handovers.inc();
 * metrics.failures.inc(1, { phase: "bound", code: "timeout" });
 * metrics.failures.inc(1, { phase: "switching", code: "refused" });
 * assertEquals(agentCounters(metrics), { handovers: 1, pingPongs: 0, failures: 2, packetsBuffered: 0 });
 * ```
 */
export function agentCounters(metrics: AgentMetrics): AgentCounters {
  return {
    handovers: metrics.handovers.get(),
    pingPongs: metrics.pingPongs.get(),
    failures: metrics.failures.total(),
    packetsBuffered: metrics.packetsBuffered.get(),
  };
}
