/**
 * Mobile IPv6 (RFC 6275) with multiple care-of addresses (RFC 5648) for the binding
 * update step of RFC 6252 (sections 7.2, 7.5, C.4): the binding cache reducer of a
 * home agent or correspondent node. The Mobility Header codec lives in
 * `lib/wire/mobility_header.ts`, the binding authentication in
 * `lib/keys/binding_auth.ts`.
 *
 * @module
 */
export * from "./binding_cache.ts";
