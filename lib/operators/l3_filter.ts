import type { MonoTypeOperatorFunction } from "npm:rxjs@^7.8.2";
import type { LinkSample } from "../metrics/link_sample.ts";

/** Options of {@link l3Filter}. */
export interface L3FilterOptions {
  /** Filter coefficient k of 3GPP TS 36.331 5.5.3.2; a = 1/2^(k/4). Default 4. */
  readonly k?: number;
}

/** TODO(H1): 3GPP layer-3 filter per PoA: F = (1-a)·F + a·M; first sample F = M. */
export function l3Filter(_options: L3FilterOptions = {}): MonoTypeOperatorFunction<LinkSample> {
  throw new Error("Not implemented");
}
