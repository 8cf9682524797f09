/**
 * The decisions the mobile node's handover logic emits (RFC 6252 section 6.3 steps
 * 1-5, section 7.2 for several CTNs, section C.1/C.2 for recovery). One JSON object
 * per decision is the `replay` command's output.
 *
 * @module
 */

/** An MPA phase that can be done before the link switch (RFC 6252 section C.4, C.6). */
export type Phase = "preauth" | "preconfigure" | "bind";

/**
 * The time budget of one candidate (RFC 6252 section C.6): how long each
 * cumulative stage takes, how long is left, and therefore which phases fit.
 */
export interface Budget {
  /** Time left until the serving link is lost, ms; null when unknown or unbounded. */
  readonly leadMs: number | null;
  /** 2·RTT + Tpsk: pre-authentication, ms. */
  readonly authMs: number;
  /** authMs + Tconf: pre-authentication and pre-configuration, ms. */
  readonly confMs: number;
  /** confMs + T_BU: everything including the proactive binding update, ms. */
  readonly bindMs: number;
  /** The phases that fit in leadMs, in order. */
  readonly phases: readonly Phase[];
}

/** Fields every decision has. */
export interface DecisionBase {
  /** Time of the decision, ms (the sample clock). */
  readonly t: number;
  /** Why, in words, with the numbers that drove it. */
  readonly reason: string;
}

/** Pre-authenticate with these CTNs (step 1; several in parallel, section 7.2). */
export interface PrepareDecision extends DecisionBase {
  /** Discriminant: pre-authenticate (RFC 6252 section 6.3 step 1). */
  readonly kind: "prepare";
  /** The CTNs (network ids) to pre-authenticate with, best first. */
  readonly ctns: readonly string[];
  /** The serving PoA at the time. */
  readonly poa: string;
  /** Budget per CTN. */
  readonly budgets: Readonly<Record<string, Budget>>;
}

/** Obtain the nCoA and build the tunnel for the likeliest CTN (step 2). */
export interface PreconfigureDecision extends DecisionBase {
  /** Discriminant: pre-configure (RFC 6252 section 6.3 step 2). */
  readonly kind: "preconfigure";
  /** The CTN. */
  readonly ctn: string;
  /** Its best PoA. */
  readonly poa: string;
  /** The CTN's budget. */
  readonly budget: Budget;
}

/** Send the proactive binding update through the tunnel (step 3). */
export interface CommitDecision extends DecisionBase {
  /** Discriminant: send the proactive binding update (RFC 6252 section 6.3 step 3). */
  readonly kind: "commit";
  /** The CTN. */
  readonly ctn: string;
  /** The PoA expected next. */
  readonly poa: string;
  /** The CTN's budget. */
  readonly budget: Budget;
}

/** Switch the link to `poa` (step 5; steps 4 and 6 follow from it). */
export interface SwitchDecision extends DecisionBase {
  /** Discriminant: switch the link (RFC 6252 section 6.3 step 5). */
  readonly kind: "switch";
  /** The network switched to. */
  readonly ctn: string;
  /** The PoA switched to. */
  readonly poa: string;
  /** The PoA left. */
  readonly from: string;
  /** The network left. */
  readonly fromNetwork: string;
  /** The phases done for `ctn` before the switch (empty: reactive handover). */
  readonly prepared: readonly Phase[];
  /** True when `ctn` is another network and nothing was prepared for it. */
  readonly reactive: boolean;
}

/** Drop a CTN's active resources; its context is kept for `retainMs` (section C.1, C.2). */
export interface ReleaseDecision extends DecisionBase {
  /** Discriminant: release a CTN's resources (RFC 6252 sections C.1, C.2). */
  readonly kind: "release";
  /** The CTN (or the network just left). */
  readonly ctn: string;
  /** The serving PoA at the time. */
  readonly poa: string;
  /**
   * The phases released: all the CTN had (`preauth` among them: the whole context),
   * or only `preconfigure` (address and tunnel dropped, the MPA-SA kept) when a
   * likelier CTN takes the pre-configuration slot.
   */
  readonly phases: readonly Phase[];
  /** How long the released context (SA, nCoA, tunnel ids) is retained, ms; 0 = drop now. */
  readonly retainMs: number;
}

/** Undo a commit: the candidate fell back before the switch. */
export interface AbortDecision extends DecisionBase {
  /** Discriminant: roll back a commit. */
  readonly kind: "abort";
  /** The CTN whose binding is rolled back. */
  readonly ctn: string;
  /** The PoA that was expected. */
  readonly poa: string;
}

/** Reuse a retained context instead of preparing again (section C.1, C.2). */
export interface RestoreDecision extends DecisionBase {
  /** Discriminant: reuse a retained context (RFC 6252 sections C.1, C.2). */
  readonly kind: "restore";
  /** The CTN whose context is restored. */
  readonly ctn: string;
  /** The serving PoA (or the PoA switched to). */
  readonly poa: string;
}

/** Ask for data to be bicast to these networks for a bounded time (section C.1). */
export interface BicastDecision extends DecisionBase {
  /** Discriminant: bicast for a bounded time (RFC 6252 section C.1). */
  readonly kind: "bicast";
  /** The networks to bicast to. */
  readonly ctns: readonly string[];
  /** The serving PoA. */
  readonly poa: string;
  /** How long, ms. */
  readonly durationMs: number;
}

/** Every decision, discriminated by `kind`. */
export type Decision =
  | PrepareDecision
  | PreconfigureDecision
  | CommitDecision
  | SwitchDecision
  | ReleaseDecision
  | AbortDecision
  | RestoreDecision
  | BicastDecision;

/**
 * The decision kinds, in the order of the MPA flow (RFC 6252 section 6.3 steps 1, 2,
 * 3 and 5, then the recovery kinds of sections C.1 and C.2).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DECISION_KINDS } from "./decision.ts";
 * assertEquals(DECISION_KINDS.length, 8);
 * assertEquals(DECISION_KINDS.slice(0, 4), ["prepare", "preconfigure", "commit", "switch"]);
 * assertEquals(DECISION_KINDS.includes("bicast"), true);
 * ```
 */
export const DECISION_KINDS: readonly Decision["kind"][] = [
  "prepare",
  "preconfigure",
  "commit",
  "switch",
  "release",
  "abort",
  "restore",
  "bicast",
];
