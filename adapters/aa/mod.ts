/**
 * The authentication agent of a candidate target network (RFC 6252 sections 6.3 step
 * 1 and C.2): the PANA PAA with its EAP backend, key delivery to the CA and the AR
 * through the {@link KeyDelivery} port, and the MPA-SAs recorded in Deno KV.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { InProcessKeyDelivery } from "./mod.ts";
 * const delivery = new InProcessKeyDelivery();
 * assertEquals(delivery.get(1), undefined);
 * ```
 *
 * @module
 */
export * from "./aa_service.ts";
export * from "./key_delivery.ts";
