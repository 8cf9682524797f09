/**
 * The commands the sans-I/O PANA state machines ({@linkcode PanaPacMachine} and
 * {@linkcode PanaPaaMachine}) return to their shell, and the reasons they drop a
 * datagram. The shell sends the bytes, runs the timers on its scheduler and feeds the
 * results back as events; the machines never touch a socket or a clock.
 *
 * @module
 */

/** A transport address of a PANA peer: IP address and UDP port. */
export interface PanaPeer {
  /** IPv4 or IPv6 address, textual form. */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
}

/** Send one PANA message to the peer (the PaC's one PAA). */
export interface PanaSendCommand {
  /** Always `send`. */
  readonly kind: "send";
  /** The encoded message. */
  readonly bytes: Uint8Array;
}

/** Send one PANA message to a given PaC (the PAA serves many). */
export interface PanaSendToCommand extends PanaSendCommand {
  /** The PaC's transport address. */
  readonly to: PanaPeer;
}

/**
 * (Re)arm a timer: when `delayMs` has elapsed on the shell's scheduler, call the
 * machine's `timeout(timer)`. Arming an armed timer replaces it.
 */
export interface PanaArmCommand {
  /** Always `arm`. */
  readonly kind: "arm";
  /** Opaque timer id, unique within the machine. */
  readonly timer: string;
  /** Delay, ms. */
  readonly delayMs: number;
}

/** Disarm a timer; disarming a timer that is not armed does nothing. */
export interface PanaCancelCommand {
  /** Always `cancel`. */
  readonly kind: "cancel";
  /** The timer id of an earlier {@linkcode PanaArmCommand}. */
  readonly timer: string;
}

/**
 * Why a machine dropped a datagram or an event (RFC 5191 section 5 and RFC 6252
 * section 8 attack cases). Each is counted; none creates or changes a security
 * association.
 */
export type PanaDropReason =
  /** Larger than the configured maximum message length. */
  | "oversized"
  /** Does not parse as PANA (truncated, bad lengths, bad AVP). */
  | "malformed"
  /** Its Session Identifier names no session here. */
  | "unknown-session"
  /** A message the session's state does not expect (wrong type or flags, missing AVP). */
  | "unexpected-message"
  /** A request whose sequence number is neither the next nor a retransmission of the
   * last, or an answer that matches no outstanding request (RFC 5191 section 5.1). */
  | "out-of-window"
  /** From a transport address other than the session's peer. */
  | "wrong-source"
  /** AUTH AVP missing where required, or not verifying (RFC 5191 section 5.3). */
  | "bad-auth"
  /** The E (pre-authentication) flag does not match the session (RFC 5873). */
  | "preauth-flag"
  /** PRF or integrity algorithm not offered or not chosen (RFC 5191 section 4.1). */
  | "algorithm"
  /** The EAP method silently discarded the EAP payload (RFC 3748 section 2.1). */
  | "eap-discard"
  /** The EAP method threw. */
  | "eap-error"
  /** A feature this implementation does not implement (full EAP re-authentication,
   * PaC-initiated PAR, PANA relay). */
  | "unsupported"
  /** Too many half-open sessions from this source address (flood control). */
  | "flood-source"
  /** Too many half-open sessions in all (flood control). */
  | "flood-global"
  /** The session table is full. */
  | "capacity"
  /** An unexpected internal error; the session is closed. */
  | "internal";

/** Every {@linkcode PanaDropReason}, in a fixed order (for counters). */
export const PANA_DROP_REASONS: readonly PanaDropReason[] = [
  "oversized",
  "malformed",
  "unknown-session",
  "unexpected-message",
  "out-of-window",
  "wrong-source",
  "bad-auth",
  "preauth-flag",
  "algorithm",
  "eap-discard",
  "eap-error",
  "unsupported",
  "flood-source",
  "flood-global",
  "capacity",
  "internal",
];

/**
 * Builds a counter per drop reason, all zero.
 *
 * @returns the counters
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(emptyPanaDropCounters()["bad-auth"], 0);
 * ```
 */
export function emptyPanaDropCounters(): Record<PanaDropReason, number> {
  const out = {} as Record<PanaDropReason, number>;
  for (const reason of PANA_DROP_REASONS) out[reason] = 0;
  return out;
}

/** A datagram or event was dropped: log one line, count it. */
export interface PanaDropCommand {
  /** Always `drop`. */
  readonly kind: "drop";
  /** Why. */
  readonly reason: PanaDropReason;
  /** Human-readable detail: a capital first letter, no trailing period. */
  readonly detail: string;
  /** The session concerned, when known. */
  readonly sessionId?: number;
}

/** Why an authentication phase failed, as the PreAuthenticator port's codes. */
export type PanaFailureCode = "rejected" | "timeout" | "protocol";

/**
 * Why an established session ended, the same on both sides (RFC 5191 section 4.4 and
 * the Termination-Cause values of section 8.9).
 */
export type PanaCloseCause =
  /** The PaC ended it: PTR with Termination-Cause LOGOUT. */
  | "logout"
  /** The PAA ended it: PTR with Termination-Cause ADMINISTRATIVE. */
  | "administrative"
  /** The Session-Lifetime elapsed (RFC 5191 section 8.8). */
  | "expired"
  /** A request went unanswered after its retransmissions (RFC 5191 section 9). */
  | "timeout";
