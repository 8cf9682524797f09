/**
 * The services of a candidate target network in one process (RFC 6252 sections 6.3
 * steps 1-2, 7.3.3, 7.4): the authentication agent, the access router's end of the
 * proactive handover tunnels and the configuration agent's admission, joined by the
 * AA's in-process key delivery. `mpa ctn` runs them from the command line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { startCtnServices } from "./mod.ts";
 * const services = await startCtnServices({
 *   ctn: "ctn-b",
 *   ar: { listen: "127.0.0.1", port: 0 },
 * });
 * assertEquals(services.aa, undefined);
 * assertEquals(typeof services.ar?.address.port, "number");
 * await services.close();
 * ```
 *
 * @module
 */
export * from "./ctn_services.ts";
