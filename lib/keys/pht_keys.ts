/**
 * Keys of the proactive handover tunnel (RFC 6252 sections 6.3 step 2, 7.4), derived
 * from the MN-AR key of the MPA-SA with HKDF-SHA-256 (RFC 5869) on WebCrypto:
 *
 * - the management key, HMAC-SHA-256: HKDF(MN-AR, salt empty, info
 *   "MPA PHT management"), protecting create / refresh / delete / buffer / flush;
 * - two data keys per tunnel, AES-256-GCM: HKDF(MN-AR, salt MN nonce || AR nonce,
 *   info "MPA PHT data MN->AR" || tunnel id, resp. "MPA PHT data AR->MN" || tunnel
 *   id). The nonces of create / create-ack make the keys of a re-created tunnel
 *   fresh, so that restarting the data sequence at 1 never reuses a GCM nonce.
 *
 * All keys are non-extractable and nothing here logs key bytes. One exception returns
 * bytes: {@linkcode phtDataKeyBytes} derives the same two data keys with the same HKDF
 * parameters as raw bytes, for an adapter that seals with a synchronous AES-GCM (one
 * event-loop hop less per packet than WebCrypto). The caller then holds the data keys
 * in process memory and must wipe them when the tunnel goes; the MN-AR key itself
 * stays non-extractable.
 *
 * @module
 */

const _ENCODER = new TextEncoder();

/** HKDF info of the management key. */
const _MANAGEMENT_INFO = _ENCODER.encode("MPA PHT management");
/** HKDF info prefix of the MN-to-AR data key. */
const _MN_TO_AR_INFO = _ENCODER.encode("MPA PHT data MN->AR");
/** HKDF info prefix of the AR-to-MN data key. */
const _AR_TO_MN_INFO = _ENCODER.encode("MPA PHT data AR->MN");

/** The two data keys of one tunnel as raw bytes (32 each), one per direction. */
export interface PhtDataKeyBytes {
  /** Seals frames from the MN to the AR. */
  readonly mnToAr: Uint8Array<ArrayBuffer>;
  /** Seals frames from the AR to the MN. */
  readonly arToMn: Uint8Array<ArrayBuffer>;
}

/** The two data keys of one tunnel, one per direction. */
export interface PhtDataKeys {
  /** Seals frames from the MN to the AR. */
  readonly mnToAr: CryptoKey;
  /** Seals frames from the AR to the MN. */
  readonly arToMn: CryptoKey;
}

/**
 * Imports the 32 raw bytes of an MN-AR key (RFC 6252 section 6.3 step 1, as the AR
 * receives them from the AA) as a non-extractable HKDF key for the derivations of
 * this file.
 *
 * @param bytes the raw MN-AR key; not retained, the caller may zero it afterwards
 * @returns an HKDF `CryptoKey` with usages `deriveKey` and `deriveBits`
 * @throws {RangeError} for an empty key
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = await importMnArKey(new Uint8Array(32).fill(7));
 * assertEquals(key.algorithm.name, "HKDF");
 * assertEquals(key.extractable, false);
 * ```
 */
export function importMnArKey(bytes: Uint8Array): Promise<CryptoKey> {
  if (bytes.length === 0) throw new RangeError("Invalid MN-AR key: empty");
  return crypto.subtle.importKey("raw", bytes.slice(), "HKDF", false, [
    "deriveKey",
    "deriveBits",
  ]);
}

/**
 * Derives the PHT management key, HMAC-SHA-256, from the MN-AR key.
 *
 * @param mnAr the MN-AR key as an HKDF key ({@linkcode importMnArKey})
 * @returns a non-extractable HMAC-SHA-256 key for `sign` and `verify`
 * @throws {TypeError} or `InvalidAccessError` when `mnAr` is not an HKDF key
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const mac = await phtManagementKey(await importMnArKey(new Uint8Array(32)));
 * assertEquals(mac.algorithm.name, "HMAC");
 * assertEquals(mac.usages.toSorted(), ["sign", "verify"]);
 * ```
 */
export function phtManagementKey(mnAr: CryptoKey): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: _MANAGEMENT_INFO },
    mnAr,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/**
 * Derives the two AES-256-GCM data keys of one tunnel from the MN-AR key, the nonces
 * of its create exchange and its tunnel id.
 *
 * @param mnAr the MN-AR key as an HKDF key ({@linkcode importMnArKey})
 * @param mnNonce the MN's 16-byte nonce from create
 * @param arNonce the AR's 16-byte nonce from create-ack
 * @param tunnelId the tunnel id the AR assigned
 * @returns one key per direction, non-extractable, for `encrypt` and `decrypt`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const mnAr = await importMnArKey(new Uint8Array(32));
 * const keys = await phtDataKeys(mnAr, new Uint8Array(16), new Uint8Array(16).fill(1), 9);
 * assertEquals(keys.mnToAr.algorithm.name, "AES-GCM");
 * assertEquals((keys.arToMn.algorithm as AesKeyAlgorithm).length, 256);
 * ```
 */
export async function phtDataKeys(
  mnAr: CryptoKey,
  mnNonce: Uint8Array,
  arNonce: Uint8Array,
  tunnelId: number,
): Promise<PhtDataKeys> {
  const salt = _salt(mnNonce, arNonce);
  const [mnToAr, arToMn] = await Promise.all([
    _aesKey(mnAr, salt, _info(_MN_TO_AR_INFO, tunnelId)),
    _aesKey(mnAr, salt, _info(_AR_TO_MN_INFO, tunnelId)),
  ]);
  return { mnToAr, arToMn };
}

/**
 * Derives the same two data keys as {@linkcode phtDataKeys} (same HKDF salt, info and
 * length) as 32 raw bytes each, for a synchronous AES-256-GCM in an adapter. Frames
 * sealed under either form open under the other. The caller owns the bytes: keep
 * them out of logs and zero them when the tunnel goes.
 *
 * @param mnAr the MN-AR key as an HKDF key with the `deriveBits` usage
 *   ({@linkcode importMnArKey} grants it)
 * @param mnNonce the MN's 16-byte nonce from create
 * @param arNonce the AR's 16-byte nonce from create-ack
 * @param tunnelId the tunnel id the AR assigned
 * @returns one 32-byte key per direction
 * @throws `InvalidAccessError` (a `DOMException`) when `mnAr` lacks `deriveBits`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const mnAr = await importMnArKey(new Uint8Array(32));
 * const bytes = await phtDataKeyBytes(mnAr, new Uint8Array(16), new Uint8Array(16), 9);
 * assertEquals([bytes.mnToAr.length, bytes.arToMn.length], [32, 32]);
 * ```
 */
export async function phtDataKeyBytes(
  mnAr: CryptoKey,
  mnNonce: Uint8Array,
  arNonce: Uint8Array,
  tunnelId: number,
): Promise<PhtDataKeyBytes> {
  const salt = _salt(mnNonce, arNonce);
  const [mnToAr, arToMn] = await Promise.all([
    _aesBytes(mnAr, salt, _info(_MN_TO_AR_INFO, tunnelId)),
    _aesBytes(mnAr, salt, _info(_AR_TO_MN_INFO, tunnelId)),
  ]);
  return { mnToAr, arToMn };
}

function _salt(mnNonce: Uint8Array, arNonce: Uint8Array): Uint8Array<ArrayBuffer> {
  const salt = new Uint8Array(mnNonce.length + arNonce.length);
  salt.set(mnNonce);
  salt.set(arNonce, mnNonce.length);
  return salt;
}

function _info(prefix: Uint8Array, tunnelId: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(prefix.length + 4));
  out.set(prefix);
  new DataView(out.buffer).setUint32(prefix.length, tunnelId >>> 0);
  return out;
}

function _aesKey(
  mnAr: CryptoKey,
  salt: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info },
    mnAr,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function _aesBytes(
  mnAr: CryptoKey,
  salt: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  // 256 bits: the output length deriveKey uses for { name: "AES-GCM", length: 256 }.
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt, info },
    mnAr,
    256,
  );
  return new Uint8Array(bits);
}
