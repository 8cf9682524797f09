/**
 * PANA (RFC 5191) with pre-authentication (RFC 5873) as sans-I/O state machines: the
 * PaC of the mobile node and the PAA of a candidate target network's authentication
 * agent (RFC 6252 sections 6.3 step 1, 7.2, C.2). They carry EAP opaquely through the
 * seams of lib/eap/eap_method.ts, derive PANA_AUTH_KEY and the MPA-SA keys (MN-CA,
 * MN-AR) from the MSK, and return commands (send, arm/cancel timer, done/authorized,
 * failed, drop) for an adapter to execute; the PANA adapter runs them over UDP.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { retransmissionTimeout } from "./mod.ts";
 * assertEquals(retransmissionTimeout(undefined, { irt: 1000, mrt: 0, mrc: 0, mrd: 0 }, 0), 1000);
 * ```
 *
 * @module
 */
export * from "./pana_command.ts";
export * from "./retransmission.ts";
export * from "./pac.ts";
export * from "./paa.ts";
