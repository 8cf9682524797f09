/**
 * EAP-PSK key hierarchy (RFC 4764 sections 3.1, 3.2): the key setup that turns the
 * 16-byte PSK into the authentication key AK and the key-derivation key KDK, the
 * "modified counter mode" that derives TEK, MSK and EMSK from KDK and RAND_P, and
 * the two MACs of the authenticated key exchange (section 3.2).
 *
 * With E_K the AES-128 block cipher and c_i the 128-bit block holding the integer i
 * (big-endian, so only the last byte is non-zero here):
 *
 * - AK  = E_PSK(E_PSK(0^128) XOR c1), KDK = E_PSK(E_PSK(0^128) XOR c2) (section 3.1);
 * - X = E_KDK(RAND_P); TEK = E_KDK(X XOR c1); MSK = E_KDK(X XOR c2) || ... || E_KDK(X XOR c5);
 *   EMSK = E_KDK(X XOR c6) || ... || E_KDK(X XOR c9) (section 3.2);
 * - MAC_P = CMAC-AES-128(AK, ID_P || ID_S || RAND_S || RAND_P) (section 3.2, message 2);
 * - MAC_S = CMAC-AES-128(AK, ID_S || RAND_P) (section 3.2, message 3).
 *
 * The functions take and return raw bytes so that a peer and a server (and an
 * interop test against hostapd, whose MS-MPPE keys carry the MSK) can compare them;
 * keep them inside `lib/` and never log them (use `keyFingerprint`).
 *
 * @module
 */
import { importAesKey } from "./aes_block.ts";
import {
  _BLOCK,
  _cbcLastBlock,
  _cmac,
  _cmacSubkeys,
  _ctrKeyStream,
  _importAesCtrKey,
  type _Subkeys,
} from "./_aes.ts";
import { _concat, _requireBytes, _requireLength } from "./_bytes.ts";
import { aesCmac } from "./cmac.ts";

/** Length of the EAP-PSK PSK, AK, KDK, TEK, RAND_P, RAND_S and MACs, bytes (RFC 4764). */
export const EAP_PSK_KEY_LENGTH = 16;

/** Length of the MSK and of the EMSK, bytes (RFC 4764 section 3.2; RFC 5247). */
export const EAP_MSK_LENGTH = 64;

/** The two long-term keys derived from the PSK (RFC 4764 section 3.1). */
export interface EapPskLongTermKeys {
  /** The authentication key AK, 16 bytes: keys MAC_P and MAC_S. */
  readonly ak: Uint8Array<ArrayBuffer>;
  /** The key-derivation key KDK, 16 bytes: keys the session key derivation. */
  readonly kdk: Uint8Array<ArrayBuffer>;
}

/** The session keys of one EAP-PSK run (RFC 4764 section 3.2). */
export interface EapPskSessionKeys {
  /** The transient EAX key of the protected channel, 16 bytes. */
  readonly tek: Uint8Array<ArrayBuffer>;
  /** The Master Session Key exported to PANA, 64 bytes. */
  readonly msk: Uint8Array<ArrayBuffer>;
  /** The Extended Master Session Key, 64 bytes. */
  readonly emsk: Uint8Array<ArrayBuffer>;
}

/**
 * Derives AK and KDK from the PSK (RFC 4764 section 3.1, "The Key Setup").
 *
 * @param psk the 16-byte pre-shared key
 * @returns AK and KDK
 * @throws {RangeError} when `psk` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const { ak, kdk } = await eapPskKeySetup(new Uint8Array(16).fill(0x11));
 * assertEquals([ak.length, kdk.length], [16, 16]);
 * assertNotEquals(ak, kdk);
 * ```
 */
export async function eapPskKeySetup(psk: Uint8Array): Promise<EapPskLongTermKeys> {
  _requireLength(psk, EAP_PSK_KEY_LENGTH, "EAP-PSK PSK");
  const key = await importAesKey(psk);
  const zero = new Uint8Array(16);
  const [ak, kdk] = await Promise.all([
    _counterBlock(key, zero, 1),
    _counterBlock(key, zero, 2),
  ]);
  return { ak, kdk };
}

/**
 * The long-term keys of one PSK imported for use (RFC 4764 section 3.1): AK as an
 * AES-128 key with its CMAC subkeys (for MAC_P and MAC_S), KDK as an AES-CTR key (for
 * the session keys). AK and KDK depend on the PSK only, so they are set up once per
 * PSK and serve every session: the key setup and the key imports leave the
 * authentication's critical path. The keys are non-extractable; hold the object as
 * carefully as the PSK.
 */
export interface EapPskPreparedKeys {
  /** AK as an AES-128 key (`importAesKey`). */
  readonly ak: CryptoKey;
  /** The CMAC subkeys of AK (RFC 4493 section 2.3). */
  readonly akSubkeys: _Subkeys;
  /** KDK as an AES-CTR key, for the modified counter mode of section 3.2. */
  readonly kdk: CryptoKey;
}

/**
 * Runs the key setup of the PSK (RFC 4764 section 3.1) and imports AK and KDK once, for
 * every session with this PSK; the raw AK and KDK are wiped.
 *
 * @param psk the 16-byte pre-shared key
 * @returns the prepared AK (with its CMAC subkeys) and KDK
 * @throws {RangeError} when `psk` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const psk = new Uint8Array(16).fill(0x11);
 * const randP = new Uint8Array(16).fill(0x22);
 * const prepared = await eapPskPrepareKeys(psk);
 * // The prepared keys and the raw ones derive the same session keys.
 * const { kdk } = await eapPskKeySetup(psk);
 * assertEquals(await eapPskDeriveKeys(prepared, randP), await eapPskDeriveKeys(kdk, randP));
 * ```
 */
export async function eapPskPrepareKeys(psk: Uint8Array): Promise<EapPskPreparedKeys> {
  const { ak, kdk } = await eapPskKeySetup(psk);
  try {
    const [akKey, kdkKey] = await Promise.all([importAesKey(ak), _importAesCtrKey(kdk)]);
    return { ak: akKey, akSubkeys: await _cmacSubkeys(akKey), kdk: kdkKey };
  } finally {
    ak.fill(0);
    kdk.fill(0);
  }
}

/**
 * Derives TEK, MSK and EMSK from KDK and the peer's RAND_P with the "modified
 * counter mode" (RFC 4764 section 3.2).
 *
 * @param kdk the 16-byte key-derivation key from {@link eapPskKeySetup}, or the
 *   prepared keys from {@link eapPskPrepareKeys}
 * @param randP the peer's 16-byte random number RAND_P (from EAP-PSK message 2)
 * @returns TEK (16 bytes), MSK (64 bytes) and EMSK (64 bytes)
 * @throws {RangeError} when `kdk` or `randP` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const { kdk } = await eapPskKeySetup(new Uint8Array(16).fill(0x11));
 * const keys = await eapPskDeriveKeys(kdk, new Uint8Array(16).fill(0x22));
 * assertEquals([keys.tek.length, keys.msk.length, keys.emsk.length], [16, 64, 64]);
 * ```
 */
export async function eapPskDeriveKeys(
  kdk: Uint8Array | EapPskPreparedKeys,
  randP: Uint8Array,
): Promise<EapPskSessionKeys> {
  if (kdk instanceof Uint8Array) _requireLength(kdk, EAP_PSK_KEY_LENGTH, "EAP-PSK KDK");
  _requireLength(randP, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_P");
  const key = kdk instanceof Uint8Array ? await _importAesCtrKey(kdk) : kdk.kdk;
  // X = E_KDK(RAND_P): the first block of the counter-mode key stream from RAND_P.
  const x = await _ctrKeyStream(key, randP, 1);
  // X XOR c_i for i = 1..9 differ from X in the low 4 bits only, so they are among the
  // 16 consecutive blocks from X with those bits cleared: E_KDK(X XOR c_i) are blocks
  // of one counter-mode key stream (two WebCrypto calls in all, instead of nine).
  const low = x[_BLOCK - 1]! & 0x0f;
  const base = x.slice();
  base[_BLOCK - 1] = x[_BLOCK - 1]! & 0xf0;
  const stream = await _ctrKeyStream(key, base, 16);
  const block = (i: number) => stream.slice((low ^ i) * _BLOCK, ((low ^ i) + 1) * _BLOCK);
  // Counters 1 (TEK), 2..5 (MSK), 6..9 (EMSK).
  return {
    tek: block(1),
    msk: _concat(block(2), block(3), block(4), block(5)),
    emsk: _concat(block(6), block(7), block(8), block(9)),
  };
}

/**
 * Computes MAC_P = CMAC-AES-128(AK, ID_P || ID_S || RAND_S || RAND_P), the peer's
 * proof of AK in EAP-PSK message 2 (RFC 4764 section 3.2).
 *
 * @param ak the 16-byte authentication key
 * @param idP the peer's NAI ID_P, as sent on the wire
 * @param idS the server's NAI ID_S, as sent on the wire
 * @param randS the server's 16-byte RAND_S
 * @param randP the peer's 16-byte RAND_P
 * @returns the 16-byte MAC_P
 * @throws {RangeError} when `ak`, `randS` or `randP` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const te = new TextEncoder();
 * const ak = new Uint8Array(16).fill(3);
 * const rs = new Uint8Array(16).fill(4);
 * const rp = new Uint8Array(16).fill(5);
 * const mac = await eapPskMacP(ak, te.encode("mn@example"), te.encode("aa.ctn"), rs, rp);
 * assertEquals(mac.length, 16);
 * assertNotEquals(mac, await eapPskMacP(ak, te.encode("mn@example"), te.encode("aa.ctn"), rp, rs));
 * ```
 */
export async function eapPskMacP(
  ak: Uint8Array,
  idP: Uint8Array,
  idS: Uint8Array,
  randS: Uint8Array,
  randP: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireLength(ak, EAP_PSK_KEY_LENGTH, "EAP-PSK AK");
  _requireBytes(idP, "EAP-PSK ID_P");
  _requireBytes(idS, "EAP-PSK ID_S");
  _requireLength(randS, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_S");
  _requireLength(randP, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_P");
  return await aesCmac(await importAesKey(ak), _concat(idP, idS, randS, randP));
}

/**
 * Computes MAC_S = CMAC-AES-128(AK, ID_S || RAND_P), the server's proof of AK in
 * EAP-PSK message 3 (RFC 4764 section 3.2).
 *
 * @param ak the 16-byte authentication key
 * @param idS the server's NAI ID_S, as sent on the wire
 * @param randP the peer's 16-byte RAND_P
 * @returns the 16-byte MAC_S
 * @throws {RangeError} when `ak` or `randP` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const mac = await eapPskMacS(
 *   new Uint8Array(16).fill(3), new TextEncoder().encode("aa.ctn"), new Uint8Array(16).fill(5));
 * assertEquals(mac.length, 16);
 * ```
 */
export async function eapPskMacS(
  ak: Uint8Array,
  idS: Uint8Array,
  randP: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireLength(ak, EAP_PSK_KEY_LENGTH, "EAP-PSK AK");
  _requireBytes(idS, "EAP-PSK ID_S");
  _requireLength(randP, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_P");
  return await aesCmac(await importAesKey(ak), _concat(idS, randP));
}

/** Both MACs of the EAP-PSK authenticated key exchange (see {@link eapPskMacs}). */
export interface EapPskMacs {
  /** MAC_P, 16 bytes. */
  readonly macP: Uint8Array<ArrayBuffer>;
  /** MAC_S, 16 bytes. */
  readonly macS: Uint8Array<ArrayBuffer>;
}

/**
 * Computes MAC_P and MAC_S together (RFC 4764 section 3.2), sharing one key import
 * and one CMAC subkey computation: what the server needs on receiving message 2
 * (check MAC_P, send MAC_S) and what the peer can compute on sending message 2
 * (send MAC_P, expect MAC_S). Same values as {@link eapPskMacP} and {@link eapPskMacS}.
 *
 * @param ak the 16-byte authentication key, or the prepared keys from
 *   {@link eapPskPrepareKeys}
 * @param idP the peer's NAI ID_P, as sent on the wire
 * @param idS the server's NAI ID_S, as sent on the wire
 * @param randS the server's 16-byte RAND_S
 * @param randP the peer's 16-byte RAND_P
 * @returns MAC_P and MAC_S
 * @throws {RangeError} when `ak`, `randS` or `randP` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const te = new TextEncoder();
 * const ak = new Uint8Array(16).fill(3);
 * const rs = new Uint8Array(16).fill(4);
 * const rp = new Uint8Array(16).fill(5);
 * const { macP, macS } = await eapPskMacs(ak, te.encode("mn"), te.encode("aa"), rs, rp);
 * assertEquals(macP, await eapPskMacP(ak, te.encode("mn"), te.encode("aa"), rs, rp));
 * assertEquals(macS, await eapPskMacS(ak, te.encode("aa"), rp));
 * ```
 */
export async function eapPskMacs(
  ak: Uint8Array | EapPskPreparedKeys,
  idP: Uint8Array,
  idS: Uint8Array,
  randS: Uint8Array,
  randP: Uint8Array,
): Promise<EapPskMacs> {
  if (ak instanceof Uint8Array) _requireLength(ak, EAP_PSK_KEY_LENGTH, "EAP-PSK AK");
  _requireBytes(idP, "EAP-PSK ID_P");
  _requireBytes(idS, "EAP-PSK ID_S");
  _requireLength(randS, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_S");
  _requireLength(randP, EAP_PSK_KEY_LENGTH, "EAP-PSK RAND_P");
  let key: CryptoKey;
  let subkeys: _Subkeys;
  if (ak instanceof Uint8Array) {
    key = await importAesKey(ak);
    subkeys = await _cmacSubkeys(key);
  } else {
    key = ak.ak;
    subkeys = ak.akSubkeys;
  }
  const [macP, macS] = await Promise.all([
    _cmac(key, subkeys, _concat(idP, idS, randS, randP)),
    _cmac(key, subkeys, _concat(idS, randP)),
  ]);
  return { macP, macS };
}

/**
 * One output block of the modified counter mode, E_K(E_K(input) XOR c_i), c_i the
 * 128-bit big-endian integer i: the second block of the CBC encryption (zero IV) of
 * input || c_i, so one WebCrypto call.
 */
async function _counterBlock(
  key: CryptoKey,
  input: Uint8Array,
  i: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const blocks = new Uint8Array(32);
  blocks.set(input);
  blocks[31] = i;
  return await _cbcLastBlock(key, blocks);
}
