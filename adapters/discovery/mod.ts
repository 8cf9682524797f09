/**
 * Discovery adapters (RFC 6252 section 7.1): a static table of candidate target
 * networks ({@linkcode StaticDiscovery}), and an 802.21-style information server
 * ({@linkcode InfoServer}) with its client ({@linkcode InfoServerDiscovery}), both
 * answering "which CTNs, with which AA, CA and AR addresses, are near this position".
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { StaticDiscovery } from "./mod.ts";
 * const d = new StaticDiscovery([{
 *   network: "A", aa: { address: "10.0.1.2" }, ca: { address: "10.0.1.3" }, ar: { address: "10.0.1.1" },
 *   poas: ["apA"],
 * }]);
 * assertEquals((await d.candidates()).map((c) => c.network), ["A"]);
 * ```
 *
 * @module
 */
export * from "./info_client.ts";
export * from "./info_server.ts";
export * from "./static_table.ts";
