import type { OperatorFunction } from "npm:rxjs@^7.8.2";

/** The MN attached to `poa` at time `t`. */
export interface Attachment {
  /** Time, ms. */
  readonly t: number;
  /** The PoA attached to. */
  readonly poa: string;
}

/** A return to a PoA that was left less than the window ago. */
export interface PingPong {
  /** Time of the return, ms. */
  readonly t: number;
  /** The PoA returned to. */
  readonly poa: string;
  /** The PoA the MN bounced through (the one just left). */
  readonly via: string;
  /** When `poa` had been left, ms. */
  readonly leftAt: number;
}

/** Options of {@link pingPong}. */
export interface PingPongOptions {
  /** Window, ms. Default 5000. */
  readonly window?: number;
}

/** TODO(H1) */
export function pingPong(_options: PingPongOptions = {}): OperatorFunction<Attachment, PingPong> {
  throw new Error("Not implemented");
}
