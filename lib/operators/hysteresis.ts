import type { OperatorFunction } from "npm:rxjs@^7.8.2";
import type { LinkSample } from "../metrics/link_sample.ts";

/** A neighbour PoA entering or leaving the A3-style condition against the serving PoA. */
export interface Qualification {
  /** Time of the sample that changed the condition, ms. */
  readonly t: number;
  /** The neighbour PoA. */
  readonly poa: string;
  /** The neighbour's network. */
  readonly network: string;
  /** True when it entered (qualifies), false when it left. */
  readonly qualified: boolean;
  /** The neighbour's SNR at that time, dB (as received: filtered upstream). */
  readonly snr: number;
  /** The serving PoA's SNR at that time, dB. */
  readonly servingSnr: number;
  /** The serving PoA it was compared with. */
  readonly serving: string;
}

/** Options of {@link hysteresis}. */
export interface HysteresisOptions {
  /** Who is serving now; read at every sample (the decision state owns it). */
  readonly serving: () => string | undefined;
  /** Enter when neighbour − offset > serving + margin. Default 3 dB. */
  readonly margin?: number;
  /** Leave when neighbour − offset < serving + leave. Default margin − 1 dB. */
  readonly leave?: number;
  /** Per-PoA penalty in dB subtracted from the neighbour (Infinity = barred). Default 0. */
  readonly offset?: (poa: string) => number;
  /** A neighbour not heard for longer than this leaves, ms. Default 1000. */
  readonly maxAgeMs?: number;
}

/** TODO(H1) */
export function hysteresis(
  _options: HysteresisOptions,
): OperatorFunction<LinkSample, Qualification> {
  throw new Error("Not implemented");
}
