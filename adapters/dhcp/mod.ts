/**
 * Proactive DHCPv4 of RFC 6252 section 7.3.3: the mobile node's client and
 * `Configurator` (unicast DHCP from the old address, ciaddr or MN-as-relay mode, the
 * same client identifier before and after the move), and the configuration agent's
 * side: an nftables gate that admits only pre-authenticated MNs
 * ({@link NftGate}, filled by {@link gatedKeyDelivery} when the AA delivers the MN-CA
 * key), and an embedded DHCP server for the loopback demo ({@link EmbeddedCa}). In a
 * real CTN the server is Kea (ciaddr and relay modes) or dnsmasq (relay mode).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { dhcpAcquire, EmbeddedCa } from "./mod.ts";
 * await using ca = await EmbeddedCa.listen({
 *   address: "127.0.0.1",
 *   port: 0,
 *   subnet: "10.0.2.0/24",
 *   range: ["10.0.2.100", "10.0.2.199"],
 *   router: "10.0.2.1",
 * });
 * const lease = await dhcpAcquire({
 *   server: { address: "127.0.0.1", port: ca.local.port },
 *   subnet: "10.0.2.0/24",
 *   mode: "relay",
 *   source: "127.0.0.1",
 *   sourcePort: 0,
 *   clientId: new Uint8Array([1, 2, 0, 0, 0, 0, 1]),
 *   rapidCommit: true,
 * });
 * assertEquals([lease.address, lease.router, lease.rapidCommit], ["10.0.2.100", "10.0.2.1", true]);
 * ```
 *
 * @module
 */
export * from "./client.ts";
export * from "./configurator.ts";
export * from "./embedded_ca.ts";
export * from "./gated_key_delivery.ts";
export * from "./nft_gate.ts";
