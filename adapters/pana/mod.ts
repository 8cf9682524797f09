/**
 * PANA adapters over UDP (RFC 5191, RFC 5873): the mobile node's PaC implementing the
 * `PreAuthenticator` port, and the authentication agent's PAA serving many MNs, both
 * driving the sans-I/O state machines of lib/pana with real timers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PanaPac } from "./mod.ts";
 * const pac = new PanaPac({
 *   identity: "mn@example",
 *   eap: () => ({ handle: () => Promise.resolve({ kind: "discard", reason: "unused" }) }),
 * });
 * assertEquals(pac.sessions, []);
 * await pac.close();
 * ```
 *
 * @module
 */
export * from "./pac.ts";
export * from "./paa.ts";
