/**
 * The imperative shell of the MPA sessions (RFC 6252 sections 6.3, 7.2, C.1, C.4):
 * runs the pure {@link mpaReducer} over a stream of handover decisions, executes its
 * commands against real port objects with a per-operation timeout (an
 * `AbortController` fired by a timer on the injected rxjs scheduler), feeds every
 * result back as an event (a port failure becomes a session event; nothing throws
 * out), arms the lifetime timers of {@link nextMpaTimer}, and on shutdown gives
 * everything back: tunnels closed, leases released, the binding deregistered, even
 * when some of those calls fail.
 *
 * Retries are the core's (`retries`); the shell only bounds each attempt in time. A
 * call that succeeds after its timeout is still fed back: the session sees it as
 * stale and releases what it brought.
 *
 * @module
 */
import {
  asyncScheduler,
  BehaviorSubject,
  type Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
  timer,
} from "npm:rxjs@^7.8.2";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { Decision } from "../../lib/decision/decision.ts";
import {
  initialMpaState,
  type MpaConfig,
  mpaConfig,
  type MpaEvent,
  type MpaLimits,
  mpaReducer,
  type MpaState,
  nextMpaTimer,
  type ServingNetwork,
} from "../../lib/mpa/orchestrator.ts";
import type { MpaCommand, MpaNotice, MpaOperation, SessionEvent } from "../../lib/mpa/session.ts";
import {
  type Configurator,
  type CtnInfo,
  type Discovery,
  type LinkControl,
  type MobilityProtocol,
  type PortCallOptions,
  PortError,
  type PortName,
  type PreAuthenticator,
  type TunnelHandle,
  type TunnelManager,
} from "../../lib/ports.ts";

const _logger = getLogger(["mpa", "agent", "sessions"]);

/**
 * Buffering at the CTN's access router during the link switch (RFC 6252 section
 * 7.6.1); the PHT tunnel manager implements it.
 */
export interface TunnelBuffering {
  /**
   * Asks the AR to hold the MN's packets.
   *
   * @param handle an open tunnel
   * @param options abort signal
   * @returns when the AR confirmed
   */
  buffer(handle: TunnelHandle, options?: PortCallOptions): Promise<void>;
  /**
   * Asks the AR to release what it holds.
   *
   * @param handle a tunnel, open or recently closed
   * @param options abort signal
   * @returns how many packets were released
   */
  flush(handle: TunnelHandle, options?: PortCallOptions): Promise<number>;
}

/** The ports the sessions drive. */
export interface SessionPorts {
  /** Pre-authentication (step 1); also the plain authentication of a reactive handover. */
  readonly preauth: PreAuthenticator;
  /** Address acquisition, lease extension and release (step 2, section 7.3). */
  readonly configurator: Configurator;
  /** Proactive handover tunnels (step 2, section 7.4); buffering used when it has `buffer` and `flush`. */
  readonly tunnels: TunnelManager;
  /** Binding updates (step 3, after the switch, deregistration). */
  readonly mobility: MobilityProtocol;
  /** Link switch and address assignment (steps 5, 6). */
  readonly link: LinkControl;
  /** AR buffering; default: the tunnel manager's own `buffer`/`flush` if it has them. */
  readonly buffering?: TunnelBuffering;
}

/** Per-attempt timeouts, ms. */
export interface OperationTimeouts {
  /** CTN lookup. Default 2000. */
  readonly discoverMs: number;
  /** Pre-authentication. Default 5000. */
  readonly preauthMs: number;
  /** Acquire, renew, release of a lease. Default 3000. */
  readonly configureMs: number;
  /** Tunnel open, close, buffer, flush. Default 2000. */
  readonly tunnelMs: number;
  /** Binding update. Default 3000. */
  readonly bindMs: number;
  /** Link switch and address assignment. Default 2000. */
  readonly switchMs: number;
}

/** Options of {@link runSessions}. */
export interface RunSessionsOptions {
  /** The ports. */
  readonly ports: SessionPorts;
  /** The handover decisions (from `decide`). */
  readonly decisions: Observable<Decision>;
  /** Where the MN is attached at the start. */
  readonly serving: ServingNetwork;
  /** CTNs known up front (a static table); looked up before `discovery`. */
  readonly ctns?: readonly CtnInfo[];
  /** Discovery for CTNs not in `ctns` (section 7.1). */
  readonly discovery?: Discovery;
  /** Resource limits (section C.4). */
  readonly limits?: Partial<MpaLimits>;
  /** Per-attempt timeouts. */
  readonly timeouts?: Partial<OperationTimeouts>;
  /** Retries after a timeout or unreachable peer. Default 1. */
  readonly retries?: number;
  /** Retention of the network left when no decision says, ms. Default 30000. */
  readonly retainMs?: number;
  /** Expire tunnels at their handle's `expiresAt` (for adapters that do not refresh). Default false. */
  readonly tunnelExpiry?: boolean;
  /** Clock and timers; default rxjs' `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** One entry of {@link SessionRunner.events$}: an event fed to the core, a command it issued, or a notice. */
export type MpaLogEntry =
  | { readonly kind: "event"; readonly event: MpaEvent }
  | { readonly kind: "command"; readonly at: number; readonly command: MpaCommand }
  | MpaNotice;

/** A running set of MPA sessions. */
export interface SessionRunner {
  /** The state after every event (current value on subscription); completes on shutdown. */
  readonly state$: Observable<MpaState>;
  /** Events, commands and notices, for logs and metrics; completes on shutdown. */
  readonly events$: Observable<MpaLogEntry>;
  /** The resolved configuration. */
  readonly config: MpaConfig;
  /**
   * The current state (for a status endpoint).
   *
   * @returns the state
   */
  snapshot(): MpaState;
  /**
   * Waits until no port call is in flight.
   *
   * @returns when idle
   */
  idle(): Promise<void>;
  /**
   * Stops taking decisions, releases everything and waits for those calls.
   *
   * @returns when done; never rejects
   */
  shutdown(): Promise<void>;
}

const _DEFAULT_TIMEOUTS: OperationTimeouts = {
  discoverMs: 2000,
  preauthMs: 5000,
  configureMs: 3000,
  tunnelMs: 2000,
  bindMs: 3000,
  switchMs: 2000,
};

/**
 * Runs the MPA sessions of a mobile node.
 *
 * @param options ports, decisions, serving network, CTN table or discovery, limits,
 *   timeouts, retries, scheduler
 * @returns the runner
 * @throws {ConfigError} for bad limits or retries
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { NEVER } from "npm:rxjs@^7.8.2";
 * const unused = () => Promise.reject(new Error("Not used"));
 * const runner = runSessions({
 *   ports: {
 *     preauth: { preAuthenticate: unused },
 *     configurator: { acquire: unused, renew: unused, release: unused },
 *     tunnels: { open: unused, close: unused },
 *     mobility: { multipleCoAs: false, bind: unused },
 *     link: { switchTo: unused, assign: unused },
 *   },
 *   decisions: NEVER,
 *   serving: { network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 },
 * });
 * assertEquals(runner.snapshot().sessions.get("A")?.phase, "attached");
 * await runner.shutdown();
 * assertEquals(runner.snapshot().sessions.get("A")?.phase, "released");
 * ```
 */
export function runSessions(options: RunSessionsOptions): SessionRunner {
  const scheduler = options.scheduler ?? asyncScheduler;
  const ports = options.ports;
  const buffering = ports.buffering ?? _bufferingOf(ports.tunnels);
  const config = mpaConfig({
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    multipleCoAs: ports.mobility.multipleCoAs,
    buffering: buffering !== undefined,
    tunnelExpiry: options.tunnelExpiry ?? false,
  });
  const timeouts: OperationTimeouts = { ..._DEFAULT_TIMEOUTS, ...options.timeouts };
  const table = new Map<string, CtnInfo>();
  for (const c of options.ctns ?? []) table.set(c.network, c);

  let state = initialMpaState(options.serving, scheduler.now());
  const state$ = new BehaviorSubject<MpaState>(state);
  const log$ = new Subject<MpaLogEntry>();
  const inflight = new Map<
    string,
    { readonly controller: AbortController; readonly done: Promise<void> }
  >();
  const queue: MpaEvent[] = [];
  let running = false;
  let background = 0;
  let timerSub: Subscription | undefined;
  let timerKey: string | undefined;
  let suppressed: string | undefined;
  let shutdownPromise: Promise<void> | undefined;

  const dispatch = (event: MpaEvent): void => {
    queue.push(event);
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const e = queue.shift()!;
        log$.next({ kind: "event", event: e });
        let outs;
        try {
          const [next, o] = mpaReducer(state, e, config);
          state = next;
          outs = o;
        } catch (error) {
          // A bug in the core must not take the agent down: count it in the log.
          _logger.error("MPA core failed on {kind}: {error}", { kind: e.kind, error });
          continue;
        }
        for (const o of outs) {
          if (o.kind === "notice") {
            _log(o);
            log$.next(o);
          } else execute(o);
        }
        state$.next(state);
      }
    } finally {
      running = false;
    }
    armTimer();
  };

  const armTimer = (): void => {
    const next = nextMpaTimer(state, config);
    const key = next === undefined
      ? undefined
      : `${next.at}|${JSON.stringify(_timerId(next.event))}`;
    if (key === timerKey) return;
    timerSub?.unsubscribe();
    timerSub = undefined;
    timerKey = undefined;
    if (next === undefined || key === suppressed) return;
    timerKey = key;
    timerSub = timer(Math.max(0, next.at - scheduler.now()), scheduler).subscribe(() => {
      timerSub = undefined;
      timerKey = undefined;
      const before = state;
      dispatch(next.event);
      // A timer that changes nothing would fire again at once: hold it until the state moves.
      suppressed = state === before ? key : undefined;
      if (suppressed !== undefined) armTimer();
    });
  };

  const execute = (command: MpaCommand): void => {
    log$.next({ kind: "command", at: scheduler.now(), command });
    if (command.kind === "forget-sa") return;
    if (command.kind === "cancel") {
      inflight.get(`${command.ctn}#${command.seq}`)?.controller.abort(
        new Error("Cancelled by the MPA core"),
      );
      return;
    }
    const op = _OP_OF_COMMAND[command.kind];
    const key = command.seq === 0
      ? `${command.ctn}#bg${++background}`
      : `${command.ctn}#${command.seq}`;
    const controller = new AbortController();
    let settled = false;
    let timedOut = false;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => resolveDone = resolve);
    const finish = (event: SessionEvent): void => {
      if (settled) return;
      settled = true;
      timeout.unsubscribe();
      inflight.delete(key);
      resolveDone();
      dispatch({ kind: "session", ctn: command.ctn, event });
    };
    const ms = _timeoutOf(op, timeouts);
    const timeout = timer(ms, scheduler).subscribe(() => {
      timedOut = true;
      controller.abort(new PortError(_PORT_OF[op], "timeout", `Timed out: ${op} after ${ms} ms`));
      finish({
        kind: "op-failed",
        at: scheduler.now(),
        seq: command.seq,
        op,
        code: "timeout",
        message: `Timed out: ${op} after ${ms} ms`,
      });
    });
    inflight.set(key, { controller, done });
    let call: Promise<SessionEvent>;
    try {
      call = _call(command, controller.signal);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (event) => {
        if (!settled) return finish(event);
        // Succeeded after its timeout: feed it back so the core gives the resource back.
        if (timedOut) dispatch({ kind: "session", ctn: command.ctn, event });
      },
      (error: unknown) => {
        const code = timedOut
          ? "timeout"
          : error instanceof PortError
          ? (controller.signal.aborted ? "aborted" : error.code)
          : controller.signal.aborted
          ? "aborted"
          : "protocol";
        finish({
          kind: "op-failed",
          at: scheduler.now(),
          seq: command.seq,
          op,
          code,
          message: error instanceof Error ? error.message : String(error),
        });
      },
    );
  };

  const _call = async (
    command: Exclude<MpaCommand, { kind: "forget-sa" | "cancel" }>,
    signal: AbortSignal,
  ): Promise<SessionEvent> => {
    const seq = command.seq;
    const now = () => scheduler.now();
    switch (command.kind) {
      case "discover":
        return { kind: "discovered", seq, info: await resolveCtn(command.ctn, signal), at: now() };
      case "preauthenticate": {
        const sa = await ports.preauth.preAuthenticate(command.info, { signal });
        return { kind: "preauth-ok", seq, sa, at: now() };
      }
      case "acquire": {
        const lease = await ports.configurator.acquire(command.info, command.sa, { signal });
        return { kind: "lease-ok", seq, lease, at: now() };
      }
      case "open-tunnel": {
        const tunnel = await ports.tunnels.open(
          command.ctn,
          command.endpoints,
          command.sa.keys.mnAr,
          {
            signal,
          },
        );
        return { kind: "tunnel-ok", seq, tunnel, at: now() };
      }
      case "bind": {
        const result = await ports.mobility.bind(command.coas, {
          signal,
          ...(command.tunnel === undefined ? {} : { tunnel: command.tunnel }),
          ...(command.lifetimeMs === undefined ? {} : { lifetimeMs: command.lifetimeMs }),
        });
        return { kind: "bind-ok", seq, result, at: now() };
      }
      case "buffer":
        await buffering!.buffer(command.tunnel, { signal });
        return { kind: "buffer-ok", seq, at: now() };
      case "switch-link":
        await ports.link.switchTo(command.poa, { signal });
        return { kind: "link-switched", seq, at: now() };
      case "assign":
        await ports.link.assign(command.address, command.prefixLength, {
          signal,
          ...(command.router === undefined ? {} : { router: command.router }),
        });
        return { kind: "assigned", seq, at: now() };
      case "close-tunnel":
        await ports.tunnels.close(command.tunnel);
        return { kind: "tunnel-closed", seq, at: now() };
      case "flush": {
        const count = await buffering!.flush(command.tunnel, { signal });
        return { kind: "flushed", seq, count, at: now() };
      }
      case "renew": {
        const lease = await ports.configurator.renew(command.lease, { signal });
        return { kind: "renewed", seq, lease, at: now() };
      }
      case "release-lease":
        await ports.configurator.release(command.lease, { signal });
        return { kind: "lease-released", seq, at: now() };
    }
  };

  const resolveCtn = async (network: string, signal: AbortSignal): Promise<CtnInfo> => {
    const known = table.get(network);
    if (known !== undefined) return known;
    if (options.discovery !== undefined) {
      for (const c of await options.discovery.candidates(undefined, { signal })) {
        if (!table.has(c.network)) table.set(c.network, c);
      }
      const found = table.get(network);
      if (found !== undefined) return found;
    }
    throw new PortError("Discovery", "not-found", `Unknown CTN: ${network}`);
  };

  const waitIdle = async (): Promise<void> => {
    while (inflight.size > 0) {
      await Promise.allSettled([...inflight.values()].map((f) => f.done));
    }
  };

  const decisionSub = options.decisions.subscribe({
    next: (decision) => dispatch({ kind: "decision", at: scheduler.now(), decision }),
    error: (error: unknown) => {
      const notice: MpaNotice = {
        kind: "notice",
        ctn: "",
        at: scheduler.now(),
        level: "error",
        message: `Decisions failed: ${error instanceof Error ? error.message : String(error)}`,
      };
      _log(notice);
      log$.next(notice);
    },
  });

  return {
    state$: state$.asObservable(),
    events$: log$.asObservable(),
    config,
    snapshot: () => state,
    idle: waitIdle,
    shutdown(): Promise<void> {
      shutdownPromise ??= (async () => {
        decisionSub.unsubscribe();
        dispatch({ kind: "shutdown", at: scheduler.now() });
        timerSub?.unsubscribe();
        timerSub = undefined;
        await waitIdle();
        state$.complete();
        log$.complete();
      })();
      return shutdownPromise;
    },
  };
}

const _OP_OF_COMMAND: Readonly<
  Record<Exclude<MpaCommand["kind"], "forget-sa" | "cancel">, MpaOperation>
> = {
  "discover": "discover",
  "preauthenticate": "preauth",
  "acquire": "acquire",
  "open-tunnel": "tunnel",
  "bind": "bind",
  "buffer": "buffer",
  "switch-link": "switch-link",
  "assign": "assign",
  "close-tunnel": "close-tunnel",
  "flush": "flush",
  "renew": "renew",
  "release-lease": "release-lease",
};

const _PORT_OF: Readonly<Record<MpaOperation, PortName>> = {
  "discover": "Discovery",
  "preauth": "PreAuthenticator",
  "acquire": "Configurator",
  "renew": "Configurator",
  "release-lease": "Configurator",
  "tunnel": "TunnelManager",
  "close-tunnel": "TunnelManager",
  "buffer": "TunnelManager",
  "flush": "TunnelManager",
  "bind": "MobilityProtocol",
  "switch-link": "LinkControl",
  "assign": "LinkControl",
};

function _timeoutOf(op: MpaOperation, t: OperationTimeouts): number {
  switch (op) {
    case "discover":
      return t.discoverMs;
    case "preauth":
      return t.preauthMs;
    case "acquire":
    case "renew":
    case "release-lease":
      return t.configureMs;
    case "tunnel":
    case "close-tunnel":
    case "buffer":
    case "flush":
      return t.tunnelMs;
    case "bind":
      return t.bindMs;
    case "switch-link":
    case "assign":
      return t.switchMs;
  }
}

function _bufferingOf(tunnels: TunnelManager): TunnelBuffering | undefined {
  const t = tunnels as TunnelManager & Partial<TunnelBuffering>;
  if (typeof t.buffer !== "function" || typeof t.flush !== "function") return undefined;
  return {
    buffer: (handle, options) => t.buffer!(handle, options),
    flush: (handle, options) => t.flush!(handle, options),
  };
}

function _timerId(event: MpaEvent): unknown {
  return event.kind === "session" ? [event.ctn, event.event.kind] : event.kind;
}

function _log(n: MpaNotice): void {
  const props = { ctn: n.ctn, message: n.message };
  if (n.level === "error") _logger.error("{ctn}: {message}", props);
  else if (n.level === "warn") _logger.warn("{ctn}: {message}", props);
  else _logger.info("{ctn}: {message}", props);
}
