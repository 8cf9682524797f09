/**
 * Authentication of PHT management messages (RFC 6252 section 7.4: the tunnel
 * management protocol is protected by the MN-AR key): HMAC-SHA-256 under the
 * management key over header and TLVs, truncated to 16 bytes, compared in constant
 * time.
 *
 * @module
 */
import { constantTimeEqual } from "../keys/constant_time.ts";
import { IntegrityError } from "../keys/integrity_error.ts";
import {
  encodePhtManagement,
  type PhtManagementFrame,
  type PhtManagementMessage,
} from "../wire/pht.ts";
import { PHT_MAC_LENGTH } from "../wire/pht_constants.ts";
import { _bufferSource } from "./_buffer_source.ts";

/**
 * Encodes and authenticates a management message.
 *
 * @param key the HMAC-SHA-256 management key (`phtManagementKey`)
 * @param message the message
 * @returns the message with its MAC trailer
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePhtFrame } from "../wire/pht.ts";
 * const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
 *   "sign", "verify",
 * ]);
 * const bytes = await signPhtManagement(key, { kind: "delete", tunnelId: 3, sequence: 10n });
 * const frame = decodePhtFrame(bytes);
 * if (frame.kind !== "management") throw new Error("not management");
 * await verifyPhtManagement(key, frame);
 * assertEquals(frame.message.kind, "delete");
 * ```
 */
export async function signPhtManagement(
  key: CryptoKey,
  message: PhtManagementMessage,
): Promise<Uint8Array> {
  const bytes = encodePhtManagement(message);
  const end = bytes.length - PHT_MAC_LENGTH;
  const mac = await crypto.subtle.sign("HMAC", key, _bufferSource(bytes.subarray(0, end)));
  bytes.set(new Uint8Array(mac, 0, PHT_MAC_LENGTH), end);
  return bytes;
}

/**
 * Verifies the MAC of a decoded management message.
 *
 * @param key the HMAC-SHA-256 management key
 * @param frame the decoded frame
 * @returns when the MAC verifies
 * @throws {IntegrityError} when it does not
 *
 * @example
 * ```ts
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePhtFrame, encodePhtManagement } from "../wire/pht.ts";
 * const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
 *   "sign", "verify",
 * ]);
 * const frame = decodePhtFrame(encodePhtManagement({ kind: "probe", tunnelId: 1, sequence: 1n }));
 * if (frame.kind !== "management") throw new Error("not management");
 * await assertRejects(() => verifyPhtManagement(key, frame), Error, "MAC");
 * ```
 */
export async function verifyPhtManagement(
  key: CryptoKey,
  frame: PhtManagementFrame,
): Promise<void> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, _bufferSource(frame.signed)));
  if (!constantTimeEqual(mac.subarray(0, PHT_MAC_LENGTH), frame.mac)) {
    throw new IntegrityError("PHT management MAC does not verify");
  }
}
