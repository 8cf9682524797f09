/**
 * The agent's status as the status endpoint serves it (`GET /status`) and `mpa
 * status` prints it: the serving network, one entry per candidate target network
 * session with its phase and phase timings (RFC 6252 section 6.3 steps 1-6),
 * the contexts retained for a switch-back (sections C.1, C.2), and counters.
 *
 * Every time is in ms on the agent's clock (its scheduler's `now()`); a snapshot
 * carries `generatedAt` on the same clock so that readers can show ages without a
 * clock of their own. The type is plain JSON: `JSON.stringify` of an
 * `AgentStatus` is the `/status` body and {@link parseAgentStatus} reads it back.
 *
 * @module
 */
import { SESSION_PHASES, type SessionPhase } from "../mpa/session.ts";

/**
 * Where an MPA session is: the steps of RFC 6252 section 6.3 (pre-authentication,
 * pre-configuration with the proactive handover tunnel, proactive binding, switch),
 * then the recovery states: `failed` (a phase did not complete), `retained` (a
 * released context kept for a switch-back, sections C.1, C.2), `released`.
 */
export type StatusPhase = SessionPhase;

/**
 * Every {@link StatusPhase}, in the order of RFC 6252 section 6.3 then the
 * recovery phases.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { STATUS_PHASES } from "./agent_status.ts";
 * assertEquals(STATUS_PHASES.length, 11);
 * assertEquals(STATUS_PHASES.indexOf("tunnelled") < STATUS_PHASES.indexOf("bound"), true);
 * ```
 */
export const STATUS_PHASES: readonly StatusPhase[] = SESSION_PHASES;

/** Start and end of one timed phase or step of a session. */
export interface PhaseTiming {
  /** When it started, ms on the agent's clock. */
  readonly startedAt: number;
  /** When it ended, ms; absent while it runs. */
  readonly endedAt?: number;
  /** `endedAt - startedAt`, ms; absent while it runs. */
  readonly durationMs?: number;
}

/** The last failure of a session: the phase it happened in and a short code. */
export interface SessionFailure {
  /** The phase the session was in. */
  readonly phase: StatusPhase;
  /** A short machine-readable code (a port error code such as `timeout`). */
  readonly code: string;
  /** A one-line human-readable reason, when known. */
  readonly message?: string;
  /** When it happened, ms. */
  readonly at?: number;
}

/** One MPA session with a candidate target network (RFC 6252 section 6.3). */
export interface SessionStatus {
  /** The CTN's network id. */
  readonly ctn: string;
  /** The current phase. */
  readonly phase: StatusPhase;
  /** When the session entered `phase`, ms. */
  readonly since: number;
  /**
   * Timings by phase or step name (for example `pre-authenticating`, or a port
   * operation such as `preauth`, `acquire`, `tunnel`, `bind`); shown in start order.
   */
  readonly phases: Readonly<Record<string, PhaseTiming>>;
  /** The last failure, if any. */
  readonly lastError?: SessionFailure;
}

/** The network the mobile node is attached to now. */
export interface ServingStatus {
  /** The network id. */
  readonly network: string;
  /** The point of attachment, when known. */
  readonly poa?: string;
  /** The care-of address on it, when known. */
  readonly address?: string;
  /** When the node attached, ms. */
  readonly since?: number;
}

/** A context kept after release so that a switch-back needs no new pre-authentication (RFC 6252 sections C.1, C.2). */
export interface RetainedContext {
  /** The CTN's network id. */
  readonly ctn: string;
  /** When the context is dropped, ms. */
  readonly expiresAt: number;
  /** The nCoA kept with it, when there is one. */
  readonly address?: string;
}

/** Totals since the agent started. */
export interface AgentCounters {
  /** Completed handovers (link switched to a prepared or reactive CTN). */
  readonly handovers: number;
  /** Handovers recognised as ping-pong (a switch back within the recovery window). */
  readonly pingPongs: number;
  /** Sessions that failed a phase. */
  readonly failures: number;
  /** Packets the access routers buffered for the node during switches (RFC 6252 section 7.6.1). */
  readonly packetsBuffered: number;
}

/** A snapshot of the mobile node's agent for `GET /status`. */
export interface AgentStatus {
  /** When the snapshot was taken, ms on the agent's clock. */
  readonly generatedAt: number;
  /** The serving network, or null before the first attachment. */
  readonly serving: ServingStatus | null;
  /** One entry per CTN session. */
  readonly sessions: readonly SessionStatus[];
  /** Contexts retained for a switch-back. */
  readonly retained: readonly RetainedContext[];
  /** Totals since start. */
  readonly counters: AgentCounters;
}
