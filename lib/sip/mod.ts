/**
 * Pure SIP helpers for the mobility user agent of RFC 6252 section 7.5: the client
 * transaction state machine of RFC 3261 section 17.1 as a reducer. The codecs live
 * in `lib/wire/sip.ts` and `lib/wire/sdp.ts`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { retransmitSchedule } from "./mod.ts";
 * assertEquals(retransmitSchedule("non-invite").timeoutMs, 32000);
 * ```
 *
 * @module
 */
export * from "./client_transaction.ts";
