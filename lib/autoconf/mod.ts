/**
 * IPv6 stateless address autoconfiguration (RFC 4862) as pure functions: interface
 * identifiers (modified EUI-64, RFC 7217) and addresses from Router Advertisements.
 *
 * @module
 */
export * from "./slaac.ts";
