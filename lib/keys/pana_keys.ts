/**
 * PANA message authentication (RFC 5191 section 5.3) with PRF_HMAC_SHA2_256
 * (IKEv2 PRF transform 5) and AUTH_HMAC_SHA2_256_128 (IKEv2 integrity transform 12,
 * RFC 4868):
 *
 * - PANA_AUTH_KEY = prf+(MSK, "IETF PANA" | I_PAR | I_PAN | PaC_nonce | PAA_nonce | Key_ID),
 *   32 bytes (the key length of AUTH_HMAC_SHA2_256_128), where "IETF PANA" is the 9
 *   ASCII bytes without a terminating NUL, I_PAR and I_PAN the whole initial
 *   PANA-Auth-Request and PANA-Auth-Answer (the ones with the S flag), the nonces the
 *   values of the Nonce AVPs, and Key_ID the Key-Id AVP value, 4 bytes big-endian;
 * - AUTH AVP value = the first 16 bytes of HMAC-SHA-256(PANA_AUTH_KEY, message), over
 *   the whole PANA message with the AUTH AVP's value field set to zero.
 *
 * @module
 */
import {
  _concat,
  _requireBytes,
  _requireLength,
  _requireMinLength,
  _requireUint32,
  _uint32be,
  _utf8,
} from "./_bytes.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { prfHmacSha256, prfPlus } from "./prf_plus.ts";

/** Length of PANA_AUTH_KEY for AUTH_HMAC_SHA2_256_128, bytes (RFC 4868 section 2.1.1). */
export const PANA_AUTH_KEY_LENGTH = 32;

/** Length of the AUTH AVP value for AUTH_HMAC_SHA2_256_128, bytes (RFC 4868). */
export const PANA_AUTH_AVP_LENGTH = 16;

/** The shortest MSK accepted, bytes (RFC 5247 section 2.1: at least 64). */
export const MSK_MIN_LENGTH = 64;

/**
 * Derives PANA_AUTH_KEY from the MSK (RFC 5191 section 5.3).
 *
 * @param msk the EAP Master Session Key (at least 64 bytes), or `importPrfKey` of it
 * @param iPar the initial PANA-Auth-Request (S flag set), the whole message as sent
 * @param iPan the initial PANA-Auth-Answer (S flag set), the whole message as sent
 * @param pacNonce the value of the PaC's Nonce AVP
 * @param paaNonce the value of the PAA's Nonce AVP
 * @param keyId the Key-Id AVP value naming this MSK, a 32-bit unsigned integer
 * @returns the 32-byte PANA_AUTH_KEY
 * @throws {RangeError} when the MSK is short, a message or nonce is empty, or
 *   `keyId` is not a 32-bit unsigned integer
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = new Uint8Array(64).fill(7);
 * const par = new Uint8Array([0, 0, 0, 16, 0x80, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9]);
 * const pan = new Uint8Array([0, 0, 0, 16, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9]);
 * const a = await panaAuthKey(msk, par, pan, new Uint8Array(20).fill(1), new Uint8Array(20).fill(2), 1);
 * const b = await panaAuthKey(msk, par, pan, new Uint8Array(20).fill(1), new Uint8Array(20).fill(2), 2);
 * assertEquals(a.length, 32);
 * assertNotEquals(a, b);
 * ```
 */
export async function panaAuthKey(
  msk: Uint8Array | CryptoKey,
  iPar: Uint8Array,
  iPan: Uint8Array,
  pacNonce: Uint8Array,
  paaNonce: Uint8Array,
  keyId: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (msk instanceof Uint8Array) _requireMinLength(msk, MSK_MIN_LENGTH, "MSK");
  _requireMinLength(iPar, 1, "initial PANA-Auth-Request");
  _requireMinLength(iPan, 1, "initial PANA-Auth-Answer");
  _requireMinLength(pacNonce, 1, "PaC nonce");
  _requireMinLength(paaNonce, 1, "PAA nonce");
  _requireUint32(keyId, "Key-Id");
  const seed = _concat(_utf8("IETF PANA"), iPar, iPan, pacNonce, paaNonce, _uint32be(keyId));
  return await prfPlus(msk, seed, PANA_AUTH_KEY_LENGTH);
}

/**
 * Computes the AUTH AVP value of a PANA message with AUTH_HMAC_SHA2_256_128 (RFC
 * 5191 section 5.3): the first 16 bytes of HMAC-SHA-256 over the message. The
 * caller passes the whole message with the AUTH AVP present and its value zeroed.
 *
 * @param authKey the 32-byte PANA_AUTH_KEY, or `importPrfKey` of it
 * @param message the PANA message, AUTH AVP value zeroed
 * @returns the 16-byte AUTH AVP value
 * @throws {RangeError} when `authKey` is not 32 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const auth = await panaAuthAvp(new Uint8Array(32).fill(5), new Uint8Array(40));
 * assertEquals(auth.length, 16);
 * ```
 */
export async function panaAuthAvp(
  authKey: Uint8Array | CryptoKey,
  message: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (authKey instanceof Uint8Array) {
    _requireLength(authKey, PANA_AUTH_KEY_LENGTH, "PANA_AUTH_KEY");
  }
  _requireBytes(message, "PANA message");
  return (await prfHmacSha256(authKey, message)).slice(0, PANA_AUTH_AVP_LENGTH);
}

/**
 * Verifies a received AUTH AVP value (RFC 5191 section 5.3), comparing in constant
 * time. A value of the wrong length does not verify.
 *
 * @param authKey the 32-byte PANA_AUTH_KEY, or `importPrfKey` of it
 * @param message the received PANA message with its AUTH AVP value zeroed
 * @param received the AUTH AVP value as received
 * @returns true when `received` is the AUTH value of `message` under `authKey`
 * @throws {RangeError} when `authKey` is not 32 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = new Uint8Array(32).fill(5);
 * const message = new Uint8Array(40);
 * const auth = await panaAuthAvp(key, message);
 * assertEquals(await verifyPanaAuth(key, message, auth), true);
 * message[0] = 1;
 * assertEquals(await verifyPanaAuth(key, message, auth), false);
 * ```
 */
export async function verifyPanaAuth(
  authKey: Uint8Array | CryptoKey,
  message: Uint8Array,
  received: Uint8Array,
): Promise<boolean> {
  _requireBytes(received, "AUTH AVP value");
  const expected = await panaAuthAvp(authKey, message);
  return constantTimeEqual(expected, received);
}
