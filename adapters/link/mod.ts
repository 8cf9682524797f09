/**
 * Link-control adapters (RFC 6252 section 6.3 steps 5 and 6, Appendix B): the
 * testbed's veth peer moved between PoA bridges in an air namespace
 * ({@linkcode NetnsLinkControl}), and a real MN's configured switch commands with
 * ip(8) ({@linkcode IpLinkControl}); both assign the nCoA and send a gratuitous ARP.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { IpLinkControl } from "./mod.ts";
 * const link = new IpLinkControl({ interface: "wlan0" });
 * const e = await assertRejects(() => link.switchTo("ap1"));
 * assertEquals((e as { code: string }).code, "rejected");
 * ```
 *
 * @module
 */
export * from "./ip_link.ts";
export * from "./netns_link.ts";
