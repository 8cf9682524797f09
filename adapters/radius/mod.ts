/**
 * RADIUS adapter: the client through which the authentication agent relays EAP to
 * an AAA server (RFC 2865, RFC 3579), with retransmission, response verification
 * and MS-MPPE key recovery (RFC 2548).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { RadiusUnreachableError } from "./mod.ts";
 * assertEquals(new RadiusUnreachableError("192.0.2.1:1812", 3, 7000).code, "unreachable");
 * ```
 *
 * @module
 */
export * from "./client.ts";
