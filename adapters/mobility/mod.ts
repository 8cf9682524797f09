/**
 * Mobility adapters, the binding update of RFC 6252 sections 6.3 step 3 and 7.5: SIP
 * terminal mobility ({@linkcode SipMobility}, the mobile node's `MobilityProtocol`;
 * {@linkcode SipCorrespondent}, the correspondent and RTP stream source), the RTP
 * sender and receiver of the testbed, and the datagram transport they share.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { SipCorrespondent } from "./mod.ts";
 * const cn = await SipCorrespondent.listen({ listen: { address: "127.0.0.1", port: 0 } });
 * assertEquals(cn.calls(), []);
 * await cn.close();
 * ```
 *
 * @module
 */
export * from "./datagram_transport.ts";
export * from "./rtp_stream.ts";
export * from "./sip_cn.ts";
export * from "./sip_ua.ts";
export * from "./home_agent.ts";
export * from "./mip6_mn.ts";
export * from "./pht_datagram_transport.ts";
export * from "./transient_forwarding.ts";
