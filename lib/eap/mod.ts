/**
 * EAP for PANA (RFC 3748): the seams between PANA and EAP methods, the EAP-PSK peer
 * and server (RFC 4764), and the credentials file of the local EAP-PSK server.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { createEapPskPeer, createEapPskServer, parseCredentials } from "./mod.ts";
 * const creds = parseCredentials("mn@example 000102030405060708090a0b0c0d0e0f\n");
 * const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
 * const server = createEapPskServer({ serverId: "aa", lookup: (id) => creds.get(id), random });
 * const peer = createEapPskPeer({ identity: "mn@example", psk: creds.get("mn@example")!, random });
 * let request = await server.start();
 * for (;;) {
 *   if (request.kind !== "request") break;
 *   const response = await peer.handle(request.eap);
 *   if (response.kind !== "response") throw new Error(response.kind);
 *   request = await server.handle(response.eap);
 * }
 * if (request.kind !== "success") throw new Error(request.kind);
 * const done = await peer.handle(request.eap);
 * assertEquals(done.kind === "success" && done.msk, request.msk);
 * ```
 *
 * @module
 */
export * from "./credentials.ts";
export * from "./eap_method.ts";
export * from "./eap_psk_peer.ts";
export * from "./eap_psk_server.ts";
export * from "./serial_queue.ts";
export * from "./eap_response.ts";
