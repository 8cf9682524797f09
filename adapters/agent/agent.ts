/**
 * The mobile node's agent (`mpa agent`): link metrics go through the decision
 * pipeline (`decide`, RFC 6252 sections 6.3, 7.2, C.1-C.4, C.6), its decisions drive
 * the MPA sessions ({@link runSessions}) against the ports built from the
 * configuration (pre-authentication, proactive DHCP, the proactive handover tunnel,
 * the binding update, the link switch), and everything is observable: a status
 * snapshot (`GET /status`), Prometheus metrics (`GET /metrics`), an event stream, and
 * log records with structured properties.
 *
 * The serving network is the PoA with the best SNR in the first measurement instant
 * (as `decide` chooses it), at the care-of address the ports report. Shutdown gives
 * everything back (tunnels closed, leases released, the binding deregistered) and
 * closes what was built; a reload applies what can change live.
 *
 * @module
 */
import {
  asyncScheduler,
  filter,
  type Observable,
  type SchedulerLike,
  Subject,
  Subscription,
} from "npm:rxjs@^7.8.2";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { AgentConfig } from "../../lib/config/agent_config.ts";
import { formatListenAddress } from "../../lib/config/listen_address.ts";
import type { LogConfig } from "../../lib/config/log_config.ts";
import { decide, type DecideOptions, resolveDecideOptions } from "../../lib/decision/decide.ts";
import type { Decision } from "../../lib/decision/decision.ts";
import { assertLinkSample, type LinkSample } from "../../lib/metrics/link_sample.ts";
import { mpaConfig, type MpaLimits, type MpaState } from "../../lib/mpa/orchestrator.ts";
import type { Session } from "../../lib/mpa/session.ts";
import {
  agentCounters,
  type AgentMetrics,
  createAgentMetrics,
  recordSessionChange,
  recordStatusGauges,
} from "../../lib/observe/agent_metrics.ts";
import type { AgentStatus, SessionStatus } from "../../lib/observe/agent_status.ts";
import { agentStatusFromMpa, sessionStatusFromMpa } from "../../lib/observe/from_mpa_state.ts";
import { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
import { startStatusServer, type StatusServer } from "../observe/status_server.ts";
import { type AgentPorts, buildAgentPorts } from "./build_ports.ts";
import {
  type MpaLogEntry,
  type OperationTimeouts,
  runSessions,
  type SessionRunner,
} from "./run_sessions.ts";
import { _discoveryOf, _staticCtns } from "./_discovery_of.ts";
import { _SwappableDiscovery } from "./_swappable_discovery.ts";

const _logger = getLogger(["mpa", "agent"]);

/** Options of {@link startAgent}. */
export interface StartAgentOptions {
  /** The validated configuration. */
  readonly config: AgentConfig;
  /** Ports to use instead of building them from the configuration (the caller closes them). */
  readonly ports?: Partial<AgentPorts>;
  /** Clock and timers (sessions, metrics pacing); default rxjs' `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * The status endpoint: `{ listen: "HOST:PORT" }`, `false` for none; default the
   * configuration's `status.listen`.
   */
  readonly status?: { readonly listen: string } | false;
  /** Clock of the status snapshots, ms; default the scheduler's `now()`. */
  readonly now?: () => number;
  /**
   * Applies a `log` section (level, format) when the agent starts and on reload; the
   * CLI reconfigures LogTape with it. Default: LogTape is left alone.
   */
  readonly applyLog?: (log: LogConfig) => void;
}

/** A decision of the pipeline, as {@link Agent.events$} reports it. */
export interface AgentDecisionEntry {
  /** Discriminant. */
  readonly kind: "decision";
  /** When it reached the sessions, ms on the agent's clock. */
  readonly at: number;
  /** The decision (its `t` is on the samples' clock). */
  readonly decision: Decision;
}

/** What {@link Agent.events$} carries: decisions, and the sessions' events, commands and notices. */
export type AgentEvent = AgentDecisionEntry | MpaLogEntry;

/** Why the agent stopped. */
export interface AgentExit {
  /**
   * `completed`: the metrics source ended and the sessions were idle, then
   * everything was released; `shutdown`: {@link Agent.shutdown} was called;
   * `failed`: the metrics source failed or the start address could not be found.
   */
  readonly reason: "completed" | "shutdown" | "failed";
  /** Details, in words. */
  readonly detail: string;
}

/** What a reload did. */
export interface AgentReload {
  /** Sections applied live (`log`, `decision`, `discovery`, `limits`). */
  readonly applied: readonly string[];
  /** Sections that changed but need a restart (kept at their running values). */
  readonly needsRestart: readonly string[];
}

/** A running agent. */
export interface Agent {
  /** The MN's id (`mn.mnId`). */
  readonly mnId: string;
  /** The configuration in effect (sections needing a restart keep their old values). */
  readonly config: AgentConfig;
  /** The metrics served on `/metrics`. */
  readonly metrics: MetricsRegistry;
  /** The status server, when one was started. */
  readonly statusServer: StatusServer | undefined;
  /** Decisions and session events, commands and notices, live (not replayed); completes on stop. */
  readonly events$: Observable<AgentEvent>;
  /** Settles once the agent stopped and released everything; never rejects. */
  readonly done: Promise<AgentExit>;
  /**
   * The status now (`GET /status`).
   *
   * @returns the snapshot; `serving` is null before the first measurement instant
   */
  snapshot(): AgentStatus;
  /**
   * Stops: no more decisions, tunnels closed, leases released, the binding
   * deregistered, the ports built by the agent closed, the status server stopped.
   * Idempotent.
   *
   * @param reason why, for the log and {@link AgentExit.detail}
   * @returns when done; never rejects
   */
  shutdown(reason?: string): Promise<void>;
  /**
   * Applies a new configuration (SIGHUP): the log level and format, the decision
   * parameters (the pipeline restarts at the next measurement instant from the
   * serving PoA), the discovery table and the limits change live; changes to other
   * sections are logged as needing a restart and not applied.
   *
   * @param config the new validated configuration
   * @returns what was applied and what needs a restart
   */
  reload(config: AgentConfig): Promise<AgentReload>;
}

/** The sections a reload applies live. */
const _LIVE = ["log", "decision", "discovery", "limits"] as const;

/** The sections whose change needs a restart. */
const _RESTART = [
  "mn",
  "link",
  "metrics",
  "timeouts",
  "retries",
  "mobility",
  "tunnel",
  "dhcp",
  "buffering",
  "status",
] as const;

/**
 * Starts the agent: builds the ports the configuration asks for (except those
 * given), starts the status server, subscribes to the metrics source, and once the
 * first measurement instant is in, starts the MPA sessions at the best PoA heard
 * and feeds them the decisions.
 *
 * @param options configuration, ports, scheduler, status endpoint, clock, log hook
 * @returns the running agent
 * @throws {ConfigError} for a port the configuration cannot build (PSK file), a
 *   status address that cannot be bound, or limits the sessions refuse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { parseAgentConfig } from "../../lib/config/agent_config.ts";
 * const config = parseAgentConfig({
 *   mn: { identity: "mn1", pskFile: "/nonexistent/mn1.psk" },
 *   link: { kind: "simulated" },
 *   metrics: { source: "simulate", scenario: "demo", seed: 1, pace: "fast", durationS: 2 },
 *   discovery: { kind: "static", ctns: [{
 *     network: "domainB", aa: { address: "127.0.0.1", port: 9 }, ca: { address: "127.0.0.1" },
 *     ar: { address: "127.0.0.1" }, poas: ["b1"],
 *   }] },
 * }, "mn.jsonc");
 * const unused = () => Promise.reject(new Error("Not used"));
 * const agent = await startAgent({
 *   config,
 *   status: false,
 *   ports: {
 *     preauth: { preAuthenticate: unused },
 *     currentAddress: () => Promise.resolve({ address: "127.0.0.1", prefixLength: 8 }),
 *   },
 * });
 * // Two seconds of a drive past a1: nothing to prepare, the run completes.
 * assertEquals((await agent.done).reason, "completed");
 * assertEquals(agent.snapshot().serving?.poa, "a1");
 * ```
 */
export async function startAgent(options: StartAgentOptions): Promise<Agent> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const now = options.now ?? (() => scheduler.now());
  let config = options.config;
  options.applyLog?.(config.log);
  const ports = await buildAgentPorts(config, options.ports ?? {}, { scheduler });
  const discovery = new _SwappableDiscovery(ports.discovery);
  const discoveryGiven = options.ports?.discovery !== undefined;

  const registry = new MetricsRegistry();
  const metrics = createAgentMetrics(registry);
  const events$ = new Subject<AgentEvent>();
  const decisions$ = new Subject<Decision>();
  let runner: SessionRunner | undefined;
  let exit!: (value: AgentExit) => void;
  const done = new Promise<AgentExit>((resolve) => exit = resolve);

  const snapshot = (): AgentStatus => {
    const counters = agentCounters(metrics);
    return runner === undefined
      ? { generatedAt: now(), serving: null, sessions: [], retained: [], counters }
      : agentStatusFromMpa(runner.snapshot(), counters, now());
  };
  registry.onCollect(() => recordStatusGauges(metrics, snapshot()));

  let statusServer: StatusServer | undefined;
  if (options.status !== false) {
    try {
      statusServer = await startStatusServer({
        listen: options.status?.listen ?? formatListenAddress(config.status.listen),
        status: snapshot,
        metrics: registry,
      });
    } catch (error) {
      await ports[Symbol.asyncDispose]();
      throw error;
    }
  }

  // --- samples: validated, buffered until the sessions start ---
  const samples$ = new Subject<LinkSample>();
  let lastT = -Infinity;
  let dropped = 0;
  let pending: LinkSample[] | undefined = [];
  let starting = false;
  let metricsEnded = false;
  let stopping = false;
  let shutdownPromise: Promise<void> | undefined;
  const metricsSub = new Subscription();

  // --- decisions ---
  const pingPong = new _PingPongCounter();
  let decisionSub: Subscription | undefined;
  const startDecide = (restart: boolean): void => {
    decisionSub?.unsubscribe();
    const decideOptions = _decideOptionsOf(config);
    pingPong.windowMs = _pingPongWindowOf(config);
    let input$: Observable<LinkSample> = samples$;
    if (restart) {
      // Restarted pipelines choose their serving PoA in their first instant: show them
      // only the PoA the MN is attached to, so that they agree with the sessions.
      const poa = runner?.snapshot().serving.poa;
      let firstT: number | undefined;
      input$ = samples$.pipe(filter((s) => {
        firstT ??= s.t;
        return s.t !== firstT || s.poa === poa;
      }));
    }
    decisionSub = decide(input$, decideOptions).subscribe({
      next: (decision) => {
        _logDecision(decision);
        if (decision.kind === "switch" && pingPong.switched(decision)) {
          metrics.pingPongs.inc();
          _logger.info("Ping-pong: back to {poa} within {windowMs} ms", {
            poa: decision.poa,
            windowMs: pingPong.windowMs,
          });
        }
        events$.next({ kind: "decision", at: scheduler.now(), decision });
        decisions$.next(decision);
      },
      error: (error: unknown) => {
        _logger.error("Decision pipeline failed: {error}", { error: String(error) });
        void finish("failed", `Decision pipeline failed: ${String(error)}`);
      },
    });
  };

  // --- sessions ---
  let sessionSubs: Subscription[] = [];
  const startSessions = async (first: readonly LinkSample[]): Promise<void> => {
    let best = first[0]!;
    for (const s of first) if (s.snr > best.snr) best = s;
    let address;
    try {
      address = await ports.currentAddress();
    } catch (error) {
      const detail = `Cannot find the care-of address: ${
        error instanceof Error ? error.message : String(error)
      }`;
      _logger.error(detail);
      await finish("failed", detail);
      return;
    }
    if (stopping) return;
    const decided = resolveDecideOptions(_decideOptionsOf(config));
    runner = runSessions({
      ports: {
        preauth: ports.preauth,
        configurator: ports.configurator,
        tunnels: ports.tunnels,
        mobility: ports.mobility,
        link: ports.link,
        ...(ports.buffering === undefined ? {} : { buffering: ports.buffering }),
      },
      decisions: decisions$,
      serving: {
        network: best.network,
        poa: best.poa,
        coa: address.address,
        prefixLength: address.prefixLength,
        ...(address.router === undefined ? {} : { router: address.router }),
      },
      discovery,
      limits: _limitsOf(config),
      timeouts: _timeoutsOf(config),
      ...(_retriesOf(config) === undefined ? {} : { retries: _retriesOf(config)! }),
      retainMs: decided.recovery.retainMs,
      scheduler,
    });
    _logger.info("MN {mn} attached to {poa} of {network} at {coa}/{prefixLength}", {
      mn: config.mn.mnId,
      poa: best.poa,
      network: best.network,
      coa: address.address,
      prefixLength: address.prefixLength,
    });
    sessionSubs = [
      runner.events$.subscribe((entry) => {
        _logEntry(entry);
        if (
          entry.kind === "event" && entry.event.kind === "session" &&
          entry.event.event.kind === "flushed"
        ) {
          metrics.packetsBuffered.inc(entry.event.event.count);
        }
        events$.next(entry);
      }),
      runner.state$.subscribe(_stateRecorder(metrics)),
    ];
    startDecide(false);
    const buffered = pending ?? [];
    pending = undefined;
    for (const s of buffered) samples$.next(s);
    if (metricsEnded) void endOfMetrics();
  };

  const onSample = (sample: LinkSample): void => {
    try {
      assertLinkSample(sample, lastT);
    } catch (error) {
      dropped++;
      _logger.warn("Link sample dropped ({dropped} so far): {error}", {
        dropped,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    lastT = sample.t;
    if (pending === undefined) {
      samples$.next(sample);
      return;
    }
    pending.push(sample);
    const firstT = pending[0]!.t;
    if (!starting && sample.t !== firstT) {
      starting = true;
      void startSessions(pending.filter((s) => s.t === firstT));
    }
  };

  const endOfMetrics = async (): Promise<void> => {
    decisionSub?.unsubscribe();
    samples$.complete();
    await runner?.idle();
    await finish("completed", "the metrics source ended");
  };

  const finish = (reason: AgentExit["reason"], detail: string): Promise<void> => {
    shutdownPromise ??= (async () => {
      stopping = true;
      _logger.info("Agent stopping: {detail}", { reason, detail });
      metricsSub.unsubscribe();
      decisionSub?.unsubscribe();
      if (runner !== undefined) await runner.shutdown();
      for (const s of sessionSubs) s.unsubscribe();
      decisions$.complete();
      await ports[Symbol.asyncDispose]();
      await statusServer?.close();
      const c = agentCounters(metrics);
      _logger.info(
        "Agent stopped: {handovers} handovers, {pingPongs} ping-pongs, {failures} failures, {packetsBuffered} packets buffered",
        { ...c, reason },
      );
      events$.complete();
      exit({ reason, detail });
    })();
    return shutdownPromise;
  };

  const reload = (next: AgentConfig): Promise<AgentReload> => {
    const changed = (key: keyof AgentConfig) =>
      JSON.stringify(config[key]) !== JSON.stringify(next[key]);
    const applied: string[] = [];
    const needsRestart: string[] = [];
    let effective: AgentConfig = { ...next };
    for (const key of _RESTART) {
      if (changed(key)) {
        needsRestart.push(key);
        effective = { ...effective, [key]: config[key] };
      }
    }
    const decisionChanged = changed("decision") ||
      JSON.stringify(_decideOptionsOf(config)) !== JSON.stringify(_decideOptionsOf(effective));
    if (changed("discovery")) {
      if (discoveryGiven) {
        needsRestart.push("discovery");
        effective = { ...effective, discovery: config.discovery };
      } else {
        discovery.delegate = _discoveryOf(effective);
        applied.push("discovery");
      }
    }
    if (changed("limits")) {
      if (runner !== undefined) _setLimits(runner, effective);
      applied.push("limits");
    }
    if (changed("log")) {
      options.applyLog?.(effective.log);
      applied.push("log");
    }
    config = effective;
    if (decisionChanged) {
      applied.push("decision");
      if (runner !== undefined && !stopping && pending === undefined) startDecide(true);
    }
    const live = _LIVE.filter((k) => applied.includes(k));
    _logger.info("Configuration reloaded: {applied}", {
      applied: live.length === 0 ? "nothing changed" : live.join(", "),
    });
    if (needsRestart.length > 0) {
      _logger.warn(
        "Configuration reload: {sections} changed and need a restart of the agent; the running values are kept",
        { sections: needsRestart.join(", ") },
      );
    }
    return Promise.resolve({ applied: live, needsRestart });
  };

  metricsSub.add(
    ports.metrics.samples().subscribe({
      next: onSample,
      error: (error: unknown) => {
        const detail = `Metrics source failed: ${
          error instanceof Error ? error.message : String(error)
        }`;
        _logger.error(detail);
        void finish("failed", detail);
      },
      complete: () => {
        metricsEnded = true;
        _logger.info("Metrics source ended");
        if (pending !== undefined && !starting) {
          if (pending.length === 0) {
            void finish("completed", "the metrics source ended without samples");
            return;
          }
          starting = true;
          const firstT = pending[0]!.t;
          void startSessions(pending.filter((s) => s.t === firstT));
          return;
        }
        if (pending === undefined) void endOfMetrics();
      },
    }),
  );

  return {
    mnId: config.mn.mnId,
    get config() {
      return config;
    },
    metrics: registry,
    statusServer,
    events$: events$.asObservable(),
    done,
    snapshot,
    shutdown: (reason = "shutdown requested") => finish("shutdown", reason),
    reload,
  };
}

/** The options of `decide`: the `decision` section, and cells and timings of the table. */
function _decideOptionsOf(config: AgentConfig): DecideOptions {
  const ctns = _staticCtns(config);
  return {
    ...config.decision,
    cells: ctns.flatMap((c) => c.cells ?? []),
    ctns: ctns.flatMap((c) => c.profile === undefined ? [] : [c.profile]),
  };
}

/** The ping-pong window of the recovery settings, ms (RFC 6252 section C.1). */
function _pingPongWindowOf(config: AgentConfig): number {
  return resolveDecideOptions(_decideOptionsOf(config)).recovery.returnPenaltyMs;
}

/** The limits of the configuration, as the sessions take them. */
function _limitsOf(config: AgentConfig): Partial<MpaLimits> {
  const l = config.limits;
  return {
    ...(l.maxPreauthenticated === undefined ? {} : { maxPreauthenticated: l.maxPreauthenticated }),
    ...(l.maxConfigured === undefined ? {} : { maxConfigured: l.maxConfigured }),
    ...(l.maxBound === undefined ? {} : { maxBound: l.maxBound }),
  };
}

/** The per-attempt timeouts of the configuration. */
function _timeoutsOf(config: AgentConfig): Partial<OperationTimeouts> {
  const t = config.timeouts;
  return Object.fromEntries(
    Object.entries(t).filter(([, v]) => v !== undefined),
  ) as Partial<OperationTimeouts>;
}

/**
 * One retry count for every step: the sessions take a single one, so the largest of
 * the configured per-step counts applies (undefined: the sessions' default).
 */
function _retriesOf(config: AgentConfig): number | undefined {
  const values = Object.values(config.retries).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : Math.max(...values);
}

/**
 * Changes the limits of running sessions. `runSessions` reads its configuration
 * object at every event and offers no setter yet, so the new limits (validated by
 * `mpaConfig`) replace the old ones in that object; queued sessions take the new
 * slots at the next event (RFC 6252 section C.4).
 */
function _setLimits(runner: SessionRunner, config: AgentConfig): void {
  const limits = mpaConfig({ limits: { ...runner.config.limits, ..._limitsOf(config) } }).limits;
  (runner.config as { limits: MpaLimits }).limits = limits;
}

/** Records phase durations and failures of every session that changed. */
function _stateRecorder(metrics: AgentMetrics): (state: MpaState) => void {
  const seen = new Map<string, { session: Session; status: SessionStatus }>();
  let serving: string | undefined;
  return (state) => {
    for (const session of state.sessions.values()) {
      const before = seen.get(session.ctn);
      if (before?.session === session) continue;
      const status = sessionStatusFromMpa(session);
      recordSessionChange(metrics, before?.status, status);
      seen.set(session.ctn, { session, status });
    }
    const key = `${state.serving.network}/${state.serving.poa}`;
    if (serving !== undefined && key !== serving && state.switching === undefined) {
      metrics.handovers.inc();
      _logger.info("Handover completed: now at {poa} of {network}", {
        poa: state.serving.poa,
        network: state.serving.network,
      });
    }
    if (state.switching === undefined) serving = key;
  };
}

/** Counts switches back to a PoA left within the ping-pong window (RFC 6252 section C.1). */
class _PingPongCounter {
  windowMs = 0;
  readonly #leftAt = new Map<string, number>();

  /** Records a switch; true when it is a ping-pong. */
  switched(d: Decision & { readonly kind: "switch" }): boolean {
    const left = this.#leftAt.get(d.poa);
    this.#leftAt.set(d.from, d.t);
    if (this.#leftAt.size > 16) this.#leftAt.delete(this.#leftAt.keys().next().value!);
    return left !== undefined && d.t - left < this.windowMs;
  }
}

function _logDecision(d: Decision): void {
  const target = "ctn" in d ? d.ctn : "ctns" in d ? d.ctns.join(",") : "";
  _logger.info("Decision {kind} {target} at {poa}: {reason}", {
    kind: d.kind,
    target,
    poa: d.poa,
    t: d.t,
    reason: d.reason,
  });
}

/** Logs an entry of the sessions; their notices are logged by `runSessions` itself. */
function _logEntry(entry: MpaLogEntry): void {
  if (entry.kind === "notice") return;
  if (entry.kind === "command") {
    const c = entry.command;
    _logger.debug("{ctn}: command {command}", { ctn: c.ctn, command: c.kind, seq: c.seq });
    return;
  }
  const e = entry.event;
  if (e.kind !== "session") {
    _logger.debug("MPA event {event}", { event: e.kind, at: e.at });
    return;
  }
  const r = e.event;
  if (r.kind === "op-failed") {
    _logger.info("{ctn}: {op} failed ({code}): {message}", {
      ctn: e.ctn,
      op: r.op,
      code: r.code,
      message: r.message,
      seq: r.seq,
    });
  } else _logger.debug("{ctn}: {event}", { ctn: e.ctn, event: r.kind, at: r.at });
}
