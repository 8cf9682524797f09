/**
 * The SIP client transaction over an unreliable transport (RFC 3261 section 17.1) as a
 * pure reducer `(state, event) => [state, commands]`: retransmission timers A and E,
 * transaction timeouts B and F, the Completed-state timers D and K, and the ACK the
 * INVITE transaction itself sends for a non-2xx final response (section 17.1.1.3).
 * The adapter owns the socket and the clock: it sends on `send`, arms one timer for
 * {@link clientTransactionDeadline}, and feeds `timer` and `response` events back.
 *
 * A 2xx to an INVITE ends the transaction at once (section 17.1.1.2): its
 * retransmissions and their ACKs belong to the dialog (section 13.2.2.4).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // INVITE over UDP with T1 = 500 ms: sent at 0, 500, 1500, 3500, ... until Timer B (32 s).
 * assertEquals(retransmitSchedule("invite").sends.slice(0, 4), [0, 500, 1500, 3500]);
 * assertEquals(retransmitSchedule("invite").timeoutMs, 32000);
 * ```
 *
 * @module
 */

/** The SIP timer values of RFC 3261 section 17.1.1.1 and Table 4 (appendix A), ms. */
export interface SipTimers {
  /** T1, the RTT estimate: 500 ms by default. */
  readonly t1Ms: number;
  /** T2, the longest retransmit interval for non-INVITE requests: 4 s. */
  readonly t2Ms: number;
  /** T4, the longest time a message stays in the network: 5 s. */
  readonly t4Ms: number;
}

/**
 * The default timer values (RFC 3261 Table 4): T1 500 ms, T2 4 s, T4 5 s.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(SIP_TIMERS.t1Ms * 64, 32000); // Timer B and Timer F
 * ```
 */
export const SIP_TIMERS: SipTimers = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** Timer D's lower bound over an unreliable transport, ms (RFC 3261 section 17.1.1.2). */
export const TIMER_D_MS = 32000;

/** The two client transaction state machines (RFC 3261 sections 17.1.1 and 17.1.2). */
export type ClientTransactionKind = "invite" | "non-invite";

/** The state of one client transaction. */
export interface ClientTransactionState {
  /** Which state machine. */
  readonly kind: ClientTransactionKind;
  /** Calling (INVITE) or Trying (non-INVITE), Proceeding, Completed, Terminated. */
  readonly phase: "calling" | "trying" | "proceeding" | "completed" | "terminated";
  /** The current retransmit interval (Timer A or E), ms. */
  readonly intervalMs: number;
  /** When the request is sent again (Timer A or E), absolute ms; none once answered. */
  readonly retransmitAt?: number;
  /** When the transaction times out (Timer B or F), absolute ms. */
  readonly timeoutAt?: number;
  /** When the Completed state ends (Timer D or K), absolute ms. */
  readonly completedUntil?: number;
  /** How many times the request went out, the first transmission included. */
  readonly transmissions: number;
}

/** What happened: a timer fired (any of them, at `now`) or a response matched. */
export type ClientTransactionEvent =
  | { readonly type: "timer"; readonly now: number }
  | { readonly type: "response"; readonly status: number; readonly now: number };

/** What the adapter does next. */
export type ClientTransactionCommand =
  /** Send (or retransmit) the request, byte for byte the same. */
  | { readonly type: "send" }
  /** Hand the response to the transaction user (first copy of each response only). */
  | { readonly type: "deliver"; readonly status: number }
  /** Send the ACK for a non-2xx final response to an INVITE (section 17.1.1.3). */
  | { readonly type: "ack" }
  /** Timer B (INVITE) or F (non-INVITE) fired without a final response. */
  | { readonly type: "timeout"; readonly timer: "B" | "F" }
  /** The transaction is over; forget it. */
  | { readonly type: "terminated" };

type Step = [ClientTransactionState, ClientTransactionCommand[]];

/**
 * Starts a client transaction: the request goes out now, Timer A or E is set to T1
 * and Timer B or F to 64*T1 (RFC 3261 sections 17.1.1.2 and 17.1.2.2).
 *
 * @param kind `invite` or `non-invite`
 * @param now the current time, ms
 * @param timers T1, T2 and T4
 * @returns the state and the commands (`send`)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const [state, commands] = startClientTransaction("non-invite", 1000);
 * assertEquals(commands, [{ type: "send" }]);
 * assertEquals([state.retransmitAt, state.timeoutAt], [1500, 33000]);
 * ```
 */
export function startClientTransaction(
  kind: ClientTransactionKind,
  now: number,
  timers: SipTimers = SIP_TIMERS,
): Step {
  return [{
    kind,
    phase: kind === "invite" ? "calling" : "trying",
    intervalMs: timers.t1Ms,
    retransmitAt: now + timers.t1Ms,
    timeoutAt: now + 64 * timers.t1Ms,
    transmissions: 1,
  }, [{ type: "send" }]];
}

/**
 * The next time the adapter must feed a `timer` event, or `undefined` when no timer
 * runs (an INVITE in Proceeding waits for the final response without a timer, section
 * 17.1.1.2; a terminated transaction).
 *
 * @param state the transaction
 * @returns the earliest armed timer, absolute ms
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const [state] = startClientTransaction("invite", 0, { t1Ms: 100, t2Ms: 4000, t4Ms: 5000 });
 * assertEquals(clientTransactionDeadline(state), 100);
 * ```
 */
export function clientTransactionDeadline(state: ClientTransactionState): number | undefined {
  let out: number | undefined;
  for (const t of [state.retransmitAt, state.timeoutAt, state.completedUntil]) {
    if (t !== undefined && (out === undefined || t < out)) out = t;
  }
  return out;
}

function _terminated(state: ClientTransactionState): ClientTransactionState {
  return {
    kind: state.kind,
    phase: "terminated",
    intervalMs: state.intervalMs,
    transmissions: state.transmissions,
  };
}

function _onTimer(state: ClientTransactionState, now: number, timers: SipTimers): Step {
  if (state.phase === "terminated") return [state, []];
  if (state.phase === "completed") {
    // Timer D (INVITE) or K (non-INVITE): stop absorbing retransmitted responses.
    if (state.completedUntil !== undefined && now >= state.completedUntil) {
      return [_terminated(state), [{ type: "terminated" }]];
    }
    return [state, []];
  }
  if (state.timeoutAt !== undefined && now >= state.timeoutAt) {
    return [_terminated(state), [
      { type: "timeout", timer: state.kind === "invite" ? "B" : "F" },
      { type: "terminated" },
    ]];
  }
  if (state.retransmitAt !== undefined && now >= state.retransmitAt) {
    // Timer A doubles without bound (section 17.1.1.2); Timer E doubles up to T2, and
    // is T2 in Proceeding (section 17.1.2.2).
    const intervalMs = state.kind === "invite"
      ? 2 * state.intervalMs
      : state.phase === "proceeding"
      ? timers.t2Ms
      : Math.min(2 * state.intervalMs, timers.t2Ms);
    // Scheduled from when the timer was due, not when it fired, so that late timers
    // do not push the schedule back; a timer later than a whole interval skips ahead.
    const scheduled = state.retransmitAt + intervalMs;
    return [{
      ...state,
      intervalMs,
      retransmitAt: scheduled > now ? scheduled : now + intervalMs,
      transmissions: state.transmissions + 1,
    }, [{ type: "send" }]];
  }
  return [state, []];
}

function _onResponse(
  state: ClientTransactionState,
  status: number,
  now: number,
  timers: SipTimers,
): Step {
  const { phase, kind } = state;
  if (phase === "terminated") return [state, []];
  if (phase === "completed") {
    // A retransmitted final response: the INVITE transaction acknowledges it again
    // (section 17.1.1.2); the non-INVITE one absorbs it (section 17.1.2.2).
    return [state, kind === "invite" && status >= 300 ? [{ type: "ack" }] : []];
  }
  if (status < 200) {
    if (kind === "invite") {
      // Proceeding: no more retransmissions, and Timer B no longer applies.
      const { retransmitAt: _a, timeoutAt: _b, ...rest } = state;
      return [{ ...rest, phase: "proceeding" }, [{ type: "deliver", status }]];
    }
    const first = phase === "trying";
    return [{ ...state, phase: "proceeding" }, first ? [{ type: "deliver", status }] : []];
  }
  if (kind === "invite" && status < 300) {
    return [_terminated(state), [{ type: "deliver", status }, { type: "terminated" }]];
  }
  const completed: ClientTransactionState = {
    kind,
    phase: "completed",
    intervalMs: state.intervalMs,
    transmissions: state.transmissions,
    completedUntil: now +
      (kind === "invite" ? Math.max(TIMER_D_MS, 64 * timers.t1Ms) : timers.t4Ms),
  };
  return [
    completed,
    kind === "invite"
      ? [{ type: "ack" }, { type: "deliver", status }]
      : [{ type: "deliver", status }],
  ];
}

/**
 * Feeds one event to a client transaction (RFC 3261 sections 17.1.1.2, 17.1.2.2).
 *
 * @param state the transaction
 * @param event a timer fired at `now` (the adapter may fire early or late: only
 *   timers due at `now` act) or a response with its status
 * @param timers T1, T2 and T4
 * @returns the next state and the commands, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * let [s] = startClientTransaction("invite", 0);
 * let c;
 * [s, c] = stepClientTransaction(s, { type: "response", status: 486, now: 10 });
 * assertEquals(c, [{ type: "ack" }, { type: "deliver", status: 486 }]);
 * [s, c] = stepClientTransaction(s, { type: "response", status: 486, now: 20 });
 * assertEquals(c, [{ type: "ack" }]); // the retransmitted 486 is acknowledged again
 * ```
 */
export function stepClientTransaction(
  state: ClientTransactionState,
  event: ClientTransactionEvent,
  timers: SipTimers = SIP_TIMERS,
): Step {
  return event.type === "timer"
    ? _onTimer(state, event.now, timers)
    : _onResponse(state, event.status, event.now, timers);
}

/** The transmissions of an unanswered request and when it times out. */
export interface RetransmitSchedule {
  /** Offsets of every transmission from the first, ms (the first is 0). */
  readonly sends: readonly number[];
  /** Timer B or F, ms after the first transmission. */
  readonly timeoutMs: number;
}

/**
 * When an unanswered request goes out over UDP, by running the reducer against its
 * own deadlines: INVITE at 0, T1, 3T1, 7T1, ... (Timer A doubles) until Timer B =
 * 64*T1; a non-INVITE at 0, T1, 3T1, 7T1, then every T2 (Timer E capped at T2)
 * until Timer F = 64*T1 (RFC 3261 sections 17.1.1.2, 17.1.2.2).
 *
 * @param kind `invite` or `non-invite`
 * @param timers T1, T2 and T4
 * @returns the send offsets and the timeout
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(retransmitSchedule("invite").sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
 * assertEquals(retransmitSchedule("non-invite").sends.slice(0, 6), [0, 500, 1500, 3500, 7500, 11500]);
 * ```
 */
export function retransmitSchedule(
  kind: ClientTransactionKind,
  timers: SipTimers = SIP_TIMERS,
): RetransmitSchedule {
  let [state] = startClientTransaction(kind, 0, timers);
  const sends = [0];
  for (;;) {
    const at = clientTransactionDeadline(state);
    if (at === undefined) break;
    const [next, commands] = stepClientTransaction(state, { type: "timer", now: at }, timers);
    state = next;
    for (const c of commands) {
      if (c.type === "send") sends.push(at);
      if (c.type === "timeout") return { sends, timeoutMs: at };
    }
  }
  return { sends, timeoutMs: 64 * timers.t1Ms };
}
