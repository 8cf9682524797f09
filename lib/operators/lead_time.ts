import type { OperatorFunction } from "npm:rxjs@^7.8.2";
import type { LinkSample } from "../metrics/link_sample.ts";
import type { Cell } from "../metrics/cell.ts";

/** Estimated time until the serving link is lost. */
export interface LeadEstimate {
  /** Time of the serving sample the estimate is based on, ms. */
  readonly t: number;
  /** The serving PoA. */
  readonly poa: string;
  /** Seconds until the serving link is lost; Infinity when not approaching the edge. */
  readonly seconds: number;
  /** How it was estimated. */
  readonly method: "geometry" | "trend";
}

/** Options of {@link leadTime}. */
export interface LeadTimeOptions {
  /** Who is serving now; read at every sample. */
  readonly serving: () => string | undefined;
  /** Known cells (position and coverage) by PoA id. Default none (trend only). */
  readonly cells?: ReadonlyMap<string, Cell>;
  /** SNR at which the link counts as lost, dB. Default 5. */
  readonly outageSnr?: number;
  /** Trailing window for the SNR trend, ms. Default 2000. */
  readonly trendWindowMs?: number;
}

/** TODO(H1) */
export function leadTime(_options: LeadTimeOptions): OperatorFunction<LinkSample, LeadEstimate> {
  throw new Error("Not implemented");
}
