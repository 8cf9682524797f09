/**
 * AAA backends of the authentication agent: the local EAP-PSK server over a
 * credentials file (RFC 4764), and the RADIUS pass-through to an AAA server
 * (RFC 3579). Both give an `EapAuthenticatorFactory` for the PAA.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { localEapPskFactory } from "./mod.ts";
 * const factory = localEapPskFactory({
 *   serverId: "aa.ctn",
 *   credentials: new Map([["mn@example", new Uint8Array(16)]]),
 * });
 * const step = await factory.create({ sessionId: 1, peer: "192.0.2.7:716" }).start();
 * assertEquals(step.kind, "request");
 * ```
 *
 * @module
 */
export * from "./local_authenticator.ts";
export * from "./radius_authenticator.ts";
