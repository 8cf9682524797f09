/**
 * PANA retransmission timing (RFC 5191 section 9, which applies the algorithm of RFC
 * 3315 section 14): the first timeout is IRT, each next one doubles the previous, both
 * capped at MRT, each multiplied by a random factor 1 + RAND with RAND drawn uniformly
 * from [-0.1, +0.1]. A request is given up after MRC retransmissions, or once MRD has
 * elapsed since its first transmission (0 means no limit for either).
 *
 * Randomness comes from an injected {@linkcode RandomBytes} so that state machines
 * stay deterministic in tests.
 *
 * @module
 */
import type { RandomBytes } from "../eap/eap_method.ts";
import { ConfigError } from "../errors.ts";
import { PanaTimers } from "../wire/pana_constants.ts";

/** The parameters of one retransmission schedule, ms (RFC 5191 section 9). */
export interface PanaRetransmission {
  /** Initial retransmission timeout, ms (IRT). */
  readonly irt: number;
  /** Maximum retransmission timeout, ms; 0 means no cap (MRT). */
  readonly mrt: number;
  /** Maximum retransmissions after the first transmission; 0 means no limit (MRC). */
  readonly mrc: number;
  /** Maximum time from the first transmission, ms; 0 means no limit (MRD). */
  readonly mrd: number;
}

/**
 * The PaC's PANA-Client-Initiation schedule (RFC 5191 section 9: PCI_IRT 1 s, PCI_MRT
 * 120 s, PCI_MRC and PCI_MRD unlimited).
 */
export const PANA_PCI_RETRANSMISSION: PanaRetransmission = {
  irt: PanaTimers.PCI_IRT,
  mrt: PanaTimers.PCI_MRT,
  mrc: PanaTimers.PCI_MRC,
  mrd: PanaTimers.PCI_MRD,
};

/**
 * The schedule of every other request, PaC and PAA alike (RFC 5191 section 9: REQ_IRT
 * 1 s, REQ_MRT 30 s, REQ_MRC 10, REQ_MRD unlimited).
 */
export const PANA_REQUEST_RETRANSMISSION: PanaRetransmission = {
  irt: PanaTimers.REQ_IRT,
  mrt: PanaTimers.REQ_MRT,
  mrc: PanaTimers.REQ_MRC,
  mrd: PanaTimers.REQ_MRD,
};

/**
 * Draws RAND, uniform in [-0.1, +0.1] (RFC 3315 section 14), from two random bytes.
 *
 * @param random the injected random source
 * @returns RAND
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(panaRand(() => new Uint8Array([0, 0])), -0.1);
 * assertEquals(panaRand(() => new Uint8Array([0xff, 0xff])), 0.1);
 * ```
 */
export function panaRand(random: RandomBytes): number {
  const bytes = random(2);
  const unit = (((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)) / 0xffff;
  return (2 * unit - 1) * PanaTimers.RAND_FACTOR;
}

/**
 * Computes the next retransmission timeout (RFC 3315 section 14): `IRT + RAND*IRT`
 * for the first, `2*RTprev + RAND*RTprev` after, and `MRT + RAND*MRT` whenever the
 * result exceeds a non-zero MRT.
 *
 * @param previousMs the previous timeout, ms; undefined for the first transmission
 * @param params the schedule
 * @param rand RAND, in [-0.1, +0.1] (see {@linkcode panaRand})
 * @returns the timeout, ms, rounded to whole milliseconds and at least 1
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = { irt: 1000, mrt: 30000, mrc: 10, mrd: 0 };
 * assertEquals(retransmissionTimeout(undefined, p, 0), 1000);
 * assertEquals(retransmissionTimeout(1000, p, 0.1), 2100);
 * assertEquals(retransmissionTimeout(20000, p, 0), 30000);
 * ```
 */
export function retransmissionTimeout(
  previousMs: number | undefined,
  params: PanaRetransmission,
  rand: number,
): number {
  let rt = previousMs === undefined ? params.irt + rand * params.irt : 2 * previousMs +
    rand * previousMs;
  if (params.mrt > 0 && rt > params.mrt) rt = params.mrt + rand * params.mrt;
  return Math.max(1, Math.round(rt));
}

/**
 * Whether a request must be given up when its current timeout expires (RFC 3315
 * section 14: MRC retransmissions done, or MRD elapsed).
 *
 * @param transmissions how many times the request was sent, the first included
 * @param elapsedMs time since its first transmission, ms
 * @param params the schedule
 * @returns true when no further retransmission is allowed
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = { irt: 1000, mrt: 30000, mrc: 2, mrd: 0 };
 * assertEquals(retransmissionExhausted(2, 3000, p), false);
 * assertEquals(retransmissionExhausted(3, 7000, p), true);
 * ```
 */
export function retransmissionExhausted(
  transmissions: number,
  elapsedMs: number,
  params: PanaRetransmission,
): boolean {
  if (params.mrc > 0 && transmissions - 1 >= params.mrc) return true;
  return params.mrd > 0 && elapsedMs >= params.mrd;
}

/**
 * Fills a partial schedule from a default, validating every field.
 *
 * @param base the default schedule
 * @param partial the fields to override
 * @param option the option's name, for the error (`requestRetransmission`)
 * @returns the schedule
 * @throws {ConfigError} when a field is negative or not finite, or IRT is 0
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(
 *   resolveRetransmission(PANA_REQUEST_RETRANSMISSION, { irt: 50, mrc: 2 }, "request"),
 *   { irt: 50, mrt: 30000, mrc: 2, mrd: 0 },
 * );
 * ```
 */
export function resolveRetransmission(
  base: PanaRetransmission,
  partial: Partial<PanaRetransmission> | undefined,
  option: string,
): PanaRetransmission {
  const out = { ...base, ...partial };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isFinite(value) || value < 0 || (name === "irt" && value === 0)) {
      throw new ConfigError(`${option}.${name}`, `Invalid PANA retransmission ${name}: ${value}`);
    }
  }
  return out;
}
