/**
 * The MPA key hierarchy (RFC 6252 sections 6.2, 6.3 step 1, 7.7.1): from the MSK
 * of the pre-authentication (the MPA-SA between the MN and the AA of a CTN), the
 * keys the AA hands to the configuration agent (MN-CA key) and the access router
 * (MN-AR key), and the PMK and per-PoA transient keys of the link-layer bootstrap.
 *
 * RFC 6252 leaves the derivation to the implementation; this one fixes it as
 * follows so that another implementation can interoperate. prf+ is the IKEv2 prf+
 * of RFC 7296 section 2.13 over PRF_HMAC_SHA2_256 (HMAC-SHA-256), "|" is
 * concatenation, 0x00 is one zero byte, strings are UTF-8 without a terminator
 * (the identity strings must not contain NUL), and integers are big-endian.
 *
 * | key | derivation | length |
 * | --- | --- | --- |
 * | MN-CA key | prf+(MSK, "MPA MN-CA key" \| 0x00 \| SessionId (4 bytes) \| CTN) | 32 |
 * | MN-AR key | prf+(MSK, "MPA MN-AR key" \| 0x00 \| SessionId (4 bytes) \| CTN) | 32 |
 * | PMK | the first 32 bytes of the MSK (RFC 5247) | 32 |
 * | TSK | prf+(PMK, "MPA TSK" \| 0x00 \| PoA \| 0x00 \| MN-ID \| 0x00 \| Nonce) | L (default 32) |
 *
 * - MSK: the 64-byte (at least) EAP Master Session Key exported by EAP-PSK (or
 *   delivered by the AAA server in MS-MPPE-Recv-Key | MS-MPPE-Send-Key);
 * - SessionId: the PANA Session Identifier of the pre-authentication (RFC 5191
 *   section 6.2), binding the keys to this PANA session;
 * - CTN: the network identifier of the candidate target network, binding the keys
 *   to the network whose CA and AR receive them;
 * - PoA: the identifier of the point of attachment (e.g. the AP's BSSID as text);
 * - MN-ID: the MN's identity (its EAP peer identity);
 * - Nonce: a fresh value of at least 8 bytes from the PoA or the MN, so that each
 *   attachment gets a new TSK.
 *
 * A vector (computed with `openssl dgst -sha256 -mac HMAC` step by step; more in
 * `tests/lib/keys/mpa_keys.test.ts`): with MSK = 5d378ae5...ff45705f (the 64-byte MSK
 * of `tests/lib/keys/eap_psk_keys.test.ts`), SessionId 0x0a0b0c0d and CTN
 * "ctn-b.example", MN-CA key = 5f292a5b29235f4c11ac18be9eed40ebe3c93c322e072203ed4484760cda23ed
 * and MN-AR key = fb0829f69b892e34188aea4b3e8a4717ecbac3929b9dea40e822bfde864c9abf. Results are raw bytes: import them as
 * WebCrypto keys (HMAC, AES-GCM, ...) at their point of use and log only
 * `keyFingerprint` of them.
 *
 * @module
 */
import {
  _concat,
  _requireLabelText,
  _requireLength,
  _requireMinLength,
  _requireUint32,
  _uint32be,
  _utf8,
} from "./_bytes.ts";
import { MSK_MIN_LENGTH } from "./pana_keys.ts";
import { prfPlus } from "./prf_plus.ts";

/** prf+ label of the MN-CA key (RFC 6252 section 6.3 step 1). */
export const MN_CA_KEY_LABEL = "MPA MN-CA key";

/** prf+ label of the MN-AR key (RFC 6252 section 6.3 step 1). */
export const MN_AR_KEY_LABEL = "MPA MN-AR key";

/** prf+ label of the transient session key (RFC 6252 section 7.7.1). */
export const TSK_LABEL = "MPA TSK";

/** Length of the MN-CA and MN-AR keys, bytes. */
export const MPA_KEY_LENGTH = 32;

/** Length of the PMK, bytes (RFC 5247). */
export const PMK_LENGTH = 32;

/** The shortest nonce accepted by {@link transientSessionKey}, bytes. */
export const TSK_NONCE_MIN_LENGTH = 8;

/** The two keys of an MPA-SA, as raw bytes (see {@link mpaSaKeyMaterial}). */
export interface MpaSaKeyMaterial {
  /** The MN-CA key, 32 bytes. */
  readonly mnCa: Uint8Array<ArrayBuffer>;
  /** The MN-AR key, 32 bytes. */
  readonly mnAr: Uint8Array<ArrayBuffer>;
}

/**
 * Derives the MN-CA key: prf+(MSK, "MPA MN-CA key" | 0x00 | SessionId | CTN), 32
 * bytes (RFC 6252 section 6.3 step 1).
 *
 * @param msk the MSK of the pre-authentication (at least 64 bytes), or `importPrfKey`
 *   of it
 * @param sessionId the PANA Session Identifier, a 32-bit unsigned integer
 * @param ctn the CTN's network identifier (non-empty, no NUL)
 * @returns the 32-byte MN-CA key
 * @throws {RangeError} when an argument is out of range
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = new Uint8Array(64).fill(0xaa);
 * const ca = await mnCaKey(msk, 1, "net-b");
 * assertEquals(ca.length, 32);
 * assertNotEquals(ca, await mnCaKey(msk, 1, "net-c"));
 * assertNotEquals(ca, await mnArKey(msk, 1, "net-b"));
 * ```
 */
export async function mnCaKey(
  msk: Uint8Array | CryptoKey,
  sessionId: number,
  ctn: string,
): Promise<Uint8Array<ArrayBuffer>> {
  return await _mpaSaKey(MN_CA_KEY_LABEL, msk, sessionId, ctn);
}

/**
 * Derives the MN-AR key: prf+(MSK, "MPA MN-AR key" | 0x00 | SessionId | CTN), 32
 * bytes (RFC 6252 section 6.3 step 1).
 *
 * @param msk the MSK of the pre-authentication (at least 64 bytes), or `importPrfKey`
 *   of it
 * @param sessionId the PANA Session Identifier, a 32-bit unsigned integer
 * @param ctn the CTN's network identifier (non-empty, no NUL)
 * @returns the 32-byte MN-AR key
 * @throws {RangeError} when an argument is out of range
 *
 * @example
 * ```ts
 * import { assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = new Uint8Array(64).fill(0xaa);
 * assertNotEquals(await mnArKey(msk, 1, "net-b"), await mnArKey(msk, 2, "net-b"));
 * ```
 */
export async function mnArKey(
  msk: Uint8Array | CryptoKey,
  sessionId: number,
  ctn: string,
): Promise<Uint8Array<ArrayBuffer>> {
  return await _mpaSaKey(MN_AR_KEY_LABEL, msk, sessionId, ctn);
}

/**
 * Derives both keys of an MPA-SA at once ({@link mnCaKey} and {@link mnArKey}).
 *
 * @param msk the MSK of the pre-authentication (at least 64 bytes), or `importPrfKey`
 *   of it
 * @param sessionId the PANA Session Identifier, a 32-bit unsigned integer
 * @param ctn the CTN's network identifier (non-empty, no NUL)
 * @returns the MN-CA key and the MN-AR key
 * @throws {RangeError} when an argument is out of range
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = new Uint8Array(64).fill(0xaa);
 * const keys = await mpaSaKeyMaterial(msk, 7, "net-b");
 * assertEquals(keys.mnCa, await mnCaKey(msk, 7, "net-b"));
 * assertEquals(keys.mnAr, await mnArKey(msk, 7, "net-b"));
 * ```
 */
export async function mpaSaKeyMaterial(
  msk: Uint8Array | CryptoKey,
  sessionId: number,
  ctn: string,
): Promise<MpaSaKeyMaterial> {
  const [mnCa, mnAr] = await Promise.all([
    mnCaKey(msk, sessionId, ctn),
    mnArKey(msk, sessionId, ctn),
  ]);
  return { mnCa, mnAr };
}

/**
 * Takes the PMK from the MSK: its first 32 bytes (RFC 5247 section 2.1; RFC 6252
 * section 7.7.1).
 *
 * @param msk the MSK (at least 64 bytes)
 * @returns a copy of the first 32 bytes
 * @throws {RangeError} when the MSK is shorter than 64 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = Uint8Array.from({ length: 64 }, (_, i) => i);
 * assertEquals(pmk(msk), msk.slice(0, 32));
 * ```
 */
export function pmk(msk: Uint8Array): Uint8Array<ArrayBuffer> {
  _requireMinLength(msk, MSK_MIN_LENGTH, "MSK");
  return msk.slice(0, PMK_LENGTH);
}

/**
 * Derives a per-PoA transient session key for the link-layer bootstrap of RFC 6252
 * section 7.7.1: prf+(PMK, "MPA TSK" | 0x00 | PoA | 0x00 | MN-ID | 0x00 | Nonce).
 *
 * @param pmk the 32-byte PMK from {@link pmk}
 * @param poa the point of attachment's identifier (non-empty, no NUL)
 * @param mnId the MN's identity (non-empty, no NUL)
 * @param nonce a fresh nonce, at least 8 bytes
 * @param length the key length in bytes, 1 to 8160 (default 32)
 * @returns the transient session key
 * @throws {RangeError} when an argument is out of range
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = pmk(new Uint8Array(64).fill(0x55));
 * const nonce = new Uint8Array(16).fill(1);
 * const a = await transientSessionKey(key, "ap-1", "mn@example", nonce);
 * assertEquals(a.length, 32);
 * assertNotEquals(a, await transientSessionKey(key, "ap-2", "mn@example", nonce));
 * assertEquals((await transientSessionKey(key, "ap-1", "mn@example", nonce, 48)).slice(0, 32), a);
 * ```
 */
export async function transientSessionKey(
  pmk: Uint8Array,
  poa: string,
  mnId: string,
  nonce: Uint8Array,
  length = 32,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireLength(pmk, PMK_LENGTH, "PMK");
  _requireLabelText(poa, "PoA identifier");
  _requireLabelText(mnId, "MN identifier");
  _requireMinLength(nonce, TSK_NONCE_MIN_LENGTH, "TSK nonce");
  const zero = new Uint8Array(1);
  const seed = _concat(_utf8(TSK_LABEL), zero, _utf8(poa), zero, _utf8(mnId), zero, nonce);
  return await prfPlus(pmk, seed, length);
}

async function _mpaSaKey(
  label: string,
  msk: Uint8Array | CryptoKey,
  sessionId: number,
  ctn: string,
): Promise<Uint8Array<ArrayBuffer>> {
  if (msk instanceof Uint8Array) _requireMinLength(msk, MSK_MIN_LENGTH, "MSK");
  _requireUint32(sessionId, "PANA session id");
  _requireLabelText(ctn, "CTN identifier");
  const seed = _concat(_utf8(label), new Uint8Array(1), _uint32be(sessionId), _utf8(ctn));
  return await prfPlus(msk, seed, MPA_KEY_LENGTH);
}
