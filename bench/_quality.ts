/**
 * Pure metrics of handover quality, computed from a trace and the switches a
 * decision logic made on it: how many handovers, how many were ping-pongs, how many
 * came too late (the link was already in outage), and how many inter-network
 * switches were fully prepared by MPA (RFC 6252 section 6.3 steps 1-3 done before
 * the switch).
 *
 * @module
 */
import type { Decision, Phase, SwitchDecision } from "../lib/decision/decision.ts";
import type { LinkSample } from "../lib/metrics/link_sample.ts";

/** What the metrics need of a switch. */
export type SwitchRecord = Pick<
  SwitchDecision,
  "t" | "from" | "poa" | "ctn" | "fromNetwork" | "prepared"
>;

/** The quality counts of one run (or a sum of runs). */
export interface QualityCounts {
  /** Link switches. */
  readonly handovers: number;
  /** Switches back to the PoA left by the previous switch, within the ping-pong window. */
  readonly pingPongs: number;
  /** Switches made after the serving link had already been in outage. */
  readonly tooLate: number;
  /** Switches to another network. */
  readonly interNetwork: number;
  /** Inter-network switches with pre-authentication, pre-configuration and binding done. */
  readonly fullyPrepared: number;
}

/** Options of {@link qualityOf}. */
export interface QualityOptions {
  /** The ping-pong window, ms. Default 5000. */
  readonly pingPongWindowMs?: number;
  /** Raw serving SNR under which the link is in outage, dB. Default 5. */
  readonly outageSnr?: number;
}

/** Every count zero. */
export const NO_COUNTS: QualityCounts = {
  handovers: 0,
  pingPongs: 0,
  tooLate: 0,
  interNetwork: 0,
  fullyPrepared: 0,
};

const _FULL: readonly Phase[] = ["preauth", "preconfigure", "bind"];

/**
 * Keeps the switch decisions of a decision list.
 *
 * @param decisions any decisions
 * @returns the switches, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const release = { kind: "release", t: 0, ctn: "A", poa: "a1", retainMs: 0, reason: "" } as const;
 * assertEquals(switchesOf([release]), []);
 * ```
 */
export function switchesOf(decisions: readonly Decision[]): SwitchDecision[] {
  return decisions.filter((d): d is SwitchDecision => d.kind === "switch");
}

/**
 * Counts ping-pongs: a switch back to the PoA that the previous switch left, less
 * than `windowMs` after that previous switch (the window of the `pingPong`
 * operator, RFC 6252 section C.1).
 *
 * @param switches the switches, in time order
 * @param windowMs the window, ms (default 5000)
 * @returns how many switches were ping-pongs
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = [{ t: 0, from: "a", poa: "b" }, { t: 2000, from: "b", poa: "a" }, { t: 9000, from: "a", poa: "b" }];
 * assertEquals(countPingPongs(s), 1);
 * ```
 */
export function countPingPongs(
  switches: readonly Pick<SwitchRecord, "t" | "from" | "poa">[],
  windowMs = 5000,
): number {
  let count = 0;
  for (let i = 1; i < switches.length; i++) {
    const previous = switches[i - 1]!;
    const current = switches[i]!;
    if (current.poa === previous.from && current.t - previous.t < windowMs) count++;
  }
  return count;
}

/**
 * Counts too-late handovers: switches whose serving PoA (`from`) was in outage at
 * one or more instants of the trace while the node was attached to it, that is in
 * `(previous switch, this switch]` (from the start of the trace for the first
 * switch). In outage means its raw SNR in the trace is under `outageSnr`, or it is
 * not in the trace at an instant where other PoAs are (not heard: under the
 * detection floor, which is under any sensible outage threshold).
 *
 * @param trace the raw samples, in time order
 * @param switches the switches, in time order
 * @param outageSnr the outage threshold, dB (default 5)
 * @returns how many switches came after an outage of the PoA left
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const trace = [
 *   { t: 0, poa: "a", network: "A", snr: 20 }, { t: 0, poa: "b", network: "B", snr: 10 },
 *   { t: 100, poa: "a", network: "A", snr: 3 }, { t: 100, poa: "b", network: "B", snr: 12 },
 * ];
 * assertEquals(countTooLate(trace, [{ t: 50, from: "a" }]), 0);
 * assertEquals(countTooLate(trace, [{ t: 150, from: "a" }]), 1);
 * ```
 */
export function countTooLate(
  trace: readonly LinkSample[],
  switches: readonly Pick<SwitchRecord, "t" | "from">[],
  outageSnr = 5,
): number {
  const late = new Array<boolean>(switches.length).fill(false);
  let next = 0; // the first switch at or after the current instant
  let i = 0;
  while (i < trace.length) {
    const t = trace[i]!.t;
    while (next < switches.length && switches[next]!.t < t) next++;
    if (next >= switches.length) break;
    const attached = switches[next]!.from;
    let heard = false;
    let outage = false;
    for (; i < trace.length && trace[i]!.t === t; i++) {
      const s = trace[i]!;
      if (s.poa !== attached) continue;
      heard = true;
      if (s.snr < outageSnr) outage = true;
    }
    if (outage || !heard) late[next] = true;
  }
  return late.filter(Boolean).length;
}

/**
 * Counts inter-network switches that MPA fully prepared: pre-authentication,
 * pre-configuration and the proactive binding update all done (RFC 6252 section
 * 6.3 steps 1-3).
 *
 * @param switches the switches
 * @returns how many inter-network switches were fully prepared
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const full = { ctn: "B", fromNetwork: "A", prepared: ["preauth", "preconfigure", "bind"] } as const;
 * assertEquals(countFullyPrepared([full, { ...full, prepared: ["preauth"] }]), 1);
 * ```
 */
export function countFullyPrepared(
  switches: readonly Pick<SwitchRecord, "ctn" | "fromNetwork" | "prepared">[],
): number {
  let count = 0;
  for (const s of switches) {
    if (
      s.ctn !== s.fromNetwork && s.prepared.length === _FULL.length &&
      s.prepared.every((p, i) => p === _FULL[i])
    ) count++;
  }
  return count;
}

/**
 * All the counts of one run.
 *
 * @param trace the raw samples, in time order
 * @param switches the switches made on it, in time order
 * @param options ping-pong window and outage threshold
 * @returns the counts
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const trace = [{ t: 0, poa: "a", network: "A", snr: 20 }, { t: 0, poa: "b", network: "B", snr: 10 }];
 * const sw = { t: 50, from: "a", poa: "b", ctn: "B", fromNetwork: "A", prepared: [] };
 * assertEquals(qualityOf(trace, [sw]), { handovers: 1, pingPongs: 0, tooLate: 0, interNetwork: 1, fullyPrepared: 0 });
 * ```
 */
export function qualityOf(
  trace: readonly LinkSample[],
  switches: readonly SwitchRecord[],
  options: QualityOptions = {},
): QualityCounts {
  return {
    handovers: switches.length,
    pingPongs: countPingPongs(switches, options.pingPongWindowMs ?? 5000),
    tooLate: countTooLate(trace, switches, options.outageSnr ?? 5),
    interNetwork: switches.filter((s) => s.ctn !== s.fromNetwork).length,
    fullyPrepared: countFullyPrepared(switches),
  };
}

/**
 * Adds two sets of counts.
 *
 * @param a counts
 * @param b counts
 * @returns the field-wise sum
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(addCounts(NO_COUNTS, { ...NO_COUNTS, handovers: 2 }).handovers, 2);
 * ```
 */
export function addCounts(a: QualityCounts, b: QualityCounts): QualityCounts {
  return {
    handovers: a.handovers + b.handovers,
    pingPongs: a.pingPongs + b.pingPongs,
    tooLate: a.tooLate + b.tooLate,
    interNetwork: a.interNetwork + b.interNetwork,
    fullyPrepared: a.fullyPrepared + b.fullyPrepared,
  };
}
