/**
 * Static knowledge about points of attachment and candidate target networks (CTNs):
 * where a PoA is and how far it reaches (for lead-time geometry, RFC 6252 section
 * C.6), and how long each MPA phase takes towards a CTN (the planner's budget).
 *
 * @module
 */
import type { Position } from "./link_sample.ts";

/** A point of attachment (access point, base station) with its coverage. */
export interface Cell {
  /** PoA id, as in {@link LinkSample.poa}. */
  readonly poa: string;
  /** Network (domain / CTN) id. */
  readonly network: string;
  /** Antenna position, metres. */
  readonly pos: Position;
  /** Coverage radius, metres (the "D/2" of RFC 6252 section C.6). */
  readonly coverage: number;
  /** Transmit power in dBm, used by the simulator (default 20). */
  readonly txPower?: number;
}

/**
 * Measured or configured timings towards one candidate target network, in ms
 * (RFC 6252 section C.6: RTT to the AA/AAA including Tauth, Tpsk, Tconf; plus the
 * binding-update time T_BU).
 */
export interface CtnProfile {
  /** Network id of the CTN. */
  readonly network: string;
  /** Round trip to the CTN's AA including authentication processing, ms. */
  readonly rttMs?: number;
  /** Time to install keys proactively (Tpsk), ms. */
  readonly tpskMs?: number;
  /** Time for pre-configuration: nCoA and tunnel (Tconf), ms. */
  readonly tconfMs?: number;
  /** Time for the proactive binding update (T_BU), ms. */
  readonly tbuMs?: number;
}
