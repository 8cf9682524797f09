/**
 * Tunnel adapters: the proactive handover tunnel (RFC 6252 sections 7.4, 7.6) at the
 * mobile node ({@linkcode PhtTunnelManager}, a `TunnelManager`) and at the access
 * router ({@linkcode PhtAr}), PHT frames over UDP sealed with AES-GCM.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PhtAr } from "./mod.ts";
 * const ar = await PhtAr.listen({ listen: { address: "127.0.0.1", port: 0 }, keys: () => undefined });
 * assertEquals(ar.stats().framesIn, 0);
 * await ar.close();
 * ```
 *
 * @module
 */
export * from "./pht_ar.ts";
export * from "./pht_mn.ts";
export * from "./tun.ts";
export * from "./tun_glue.ts";
export * from "./ipv6_autoconf_glue.ts";
