/**
 * rxjs operators over link metrics, one per file: layer-3 filtering (3GPP TS 36.331
 * section 5.5.3.2), A3-style hysteresis and time-to-trigger against ping-pong (RFC
 * 6252 section C.1), lead time to the cell edge (RFC 6252 section C.6), and ping-pong
 * detection (RFC 6252 section C.1).
 *
 * @module
 */
export { l3Filter, type L3FilterOptions } from "./l3_filter.ts";
export { hysteresis, type HysteresisOptions, type Qualification } from "./hysteresis.ts";
export { timeToTrigger, type TimeToTriggerOptions } from "./time_to_trigger.ts";
export {
  type LeadEstimate,
  leadTime,
  type LeadTimeOptions,
  secondsToCellEdge,
} from "./lead_time.ts";
export { type Attachment, type PingPong, pingPong, type PingPongOptions } from "./ping_pong.ts";
export * from "./trend_window.ts";
