/**
 * IPv6 address pre-configuration adapters (RFC 6252 section 7.3.4, Appendices A and
 * B): proactive DAD and neighbour proxying by the access router, the optimistic nCoA
 * on the mobile node after the move, and the Router Advertisement carried over the
 * proactive handover tunnel.
 *
 * @module
 */
export * from "./proactive_dad.ts";
export * from "./optimistic_address.ts";
export * from "./ra_over_pht.ts";
