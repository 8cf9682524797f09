/**
 * The pure parts of the proactive handover tunnel (RFC 6252 sections 7.4, 7.6): data
 * frame sealing, management authentication, the anti-replay window, the AR's
 * handover buffer and the MN's duplicate filter for copy-and-forward.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ReplayWindow } from "./mod.ts";
 * const w = new ReplayWindow();
 * w.accept(1n);
 * assertEquals(w.check(1n), "duplicate");
 * ```
 *
 * @module
 */
export * from "./dedup_window.ts";
export * from "./packet_buffer.ts";
export * from "./pht_data_seal.ts";
export * from "./pht_management_auth.ts";
export * from "./replay_window.ts";
