/**
 * Wire codecs of the pure core: EAP (RFC 3748), EAP-PSK (RFC 4764) and PANA (RFC 5191,
 * RFC 5873), with their constants. Pure functions over `Uint8Array`; no I/O.
 *
 * @module
 */
export * from "./eap_constants.ts";
export * from "./eap.ts";
export * from "./eap_psk.ts";
export * from "./pana_constants.ts";
export * from "./pana.ts";
export * from "./radius_constants.ts";
export * from "./radius.ts";
export * from "./ip_header.ts";
export * from "./ip_packet.ts";
export * from "./icmpv6.ts";
export * from "./dhcp_constants.ts";
export * from "./dhcp.ts";
export * from "./pht_constants.ts";
export * from "./pht.ts";
export * from "./sip_constants.ts";
export * from "./sip.ts";
export * from "./sdp.ts";
export * from "./mobility_constants.ts";
export * from "./mobility_header.ts";
export * from "./rtp.ts";
export * from "./info_query.ts";
