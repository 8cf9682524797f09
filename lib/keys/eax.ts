/**
 * EAX authenticated encryption with AES-128 (Bellare, Rogaway, Wagner, "The EAX
 * Mode of Operation", FSE 2004): the cipher of the EAP-PSK protected channel
 * (RFC 4764 section 3.3).
 *
 * With OMAC^t_K(M) = AES-CMAC_K([t]_16 || M), where [t]_16 is the 16-byte block
 * holding the integer t:
 *
 * - N' = OMAC^0(nonce), H' = OMAC^1(header);
 * - ciphertext = CTR_K starting at N' (the whole block a big-endian counter) over the plaintext;
 * - C' = OMAC^2(ciphertext); tag = (N' XOR C' XOR H') truncated to the tag length.
 *
 * @module
 */
import { aesCtr } from "./aes_block.ts";
import { _BLOCK, _checkAesKey, _cmac, _cmacAndNext, _cmacSubkeys, type _Subkeys } from "./_aes.ts";
import { _concat, _requireBytes } from "./_bytes.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { IntegrityError } from "./integrity_error.ts";

/** The output of {@link eaxEncrypt}. */
export interface EaxSealed {
  /** The ciphertext, as long as the plaintext. */
  readonly ciphertext: Uint8Array<ArrayBuffer>;
  /** The authentication tag (16 bytes unless a shorter length was asked for). */
  readonly tag: Uint8Array<ArrayBuffer>;
}

/**
 * Encrypts and authenticates `plaintext`, and authenticates `header`, with EAX.
 *
 * @param key a key from `importAesKey`
 * @param nonce the nonce (any length; never reuse one under the same key)
 * @param header associated data, authenticated but not encrypted (may be empty)
 * @param plaintext the data to encrypt (may be empty)
 * @param tagLength the tag length in bytes, 1 to 16 (default 16)
 * @returns the ciphertext and the tag
 * @throws {RangeError} when `tagLength` is out of range
 * @throws {TypeError} when `key` is not from `importAesKey`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importAesKey } from "./aes_block.ts";
 * const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
 * // EAX paper, appendix test vector 2.
 * const key = await importAesKey(hex("91945d3f4dcbee0bf45ef52255f095a4"));
 * const { ciphertext, tag } = await eaxEncrypt(
 *   key, hex("becaf043b0a23d843194ba972c66debd"), hex("fa3bfd4806eb53fa"), hex("f7fb"));
 * assertEquals(ciphertext, hex("19dd"));
 * assertEquals(tag, hex("5c4c9331049d0bdab0277408f67967e5"));
 * ```
 */
export async function eaxEncrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  header: Uint8Array,
  plaintext: Uint8Array,
  tagLength = 16,
): Promise<EaxSealed> {
  _checkAesKey(key);
  _requireTagLength(tagLength);
  _requireBytes(plaintext, "EAX plaintext");
  _requireBytes(nonce, "EAX nonce");
  _requireBytes(header, "EAX header");
  return await _eaxSeal(key, await _cmacSubkeys(key), nonce, header, plaintext, tagLength);
}

/**
 * EAX encryption with the CMAC subkeys of `key` already computed (they depend on the
 * key only: a key used twice computes them once). Arguments are checked by the caller.
 */
export async function _eaxSeal(
  key: CryptoKey,
  subkeys: _Subkeys,
  nonce: Uint8Array,
  header: Uint8Array,
  plaintext: Uint8Array,
  tagLength: number,
): Promise<EaxSealed> {
  let n: Uint8Array;
  let h: Uint8Array;
  let ciphertext: Uint8Array<ArrayBuffer>;
  if (plaintext.length <= _BLOCK) {
    // One key-stream block, E_K(N'), comes with N' (see _omacAndNext).
    let stream: Uint8Array;
    [[n, stream], h] = await Promise.all([
      _omacAndNext(key, subkeys, 0, nonce),
      _omac(key, subkeys, 1, header),
    ]);
    ciphertext = _xorPrefix(plaintext, stream);
  } else {
    [n, h] = await Promise.all([
      _omac(key, subkeys, 0, nonce),
      _omac(key, subkeys, 1, header),
    ]);
    ciphertext = await aesCtr(key, n, plaintext);
  }
  const c = await _omac(key, subkeys, 2, ciphertext);
  return { ciphertext, tag: _tag(n, h, c, tagLength) };
}

/**
 * Verifies the tag and decrypts, with EAX. The tag is checked (in constant time)
 * before anything is decrypted; nothing is returned for a bad tag.
 *
 * @param key a key from `importAesKey`
 * @param nonce the nonce the sender used
 * @param header the associated data the sender authenticated
 * @param ciphertext the ciphertext
 * @param tag the received tag, 1 to 16 bytes; its length is the tag length, so
 *   callers must take it from the protocol (16 for EAP-PSK), never from the peer
 * @returns the plaintext
 * @throws {IntegrityError} when the tag does not verify
 * @throws {RangeError} when `tag` is empty or longer than 16 bytes
 * @throws {TypeError} when `key` is not from `importAesKey`
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importAesKey } from "./aes_block.ts";
 * import { IntegrityError } from "./integrity_error.ts";
 * const key = await importAesKey(new Uint8Array(16).fill(1));
 * const nonce = new Uint8Array(16);
 * const header = new TextEncoder().encode("header");
 * const sealed = await eaxEncrypt(key, nonce, header, new Uint8Array([0x80]));
 * assertEquals(await eaxDecrypt(key, nonce, header, sealed.ciphertext, sealed.tag), new Uint8Array([0x80]));
 * await assertRejects(
 *   () => eaxDecrypt(key, nonce, new TextEncoder().encode("Header"), sealed.ciphertext, sealed.tag),
 *   IntegrityError,
 * );
 * ```
 */
export async function eaxDecrypt(
  key: CryptoKey,
  nonce: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _checkAesKey(key);
  _requireBytes(tag, "EAX tag");
  _requireTagLength(tag.length);
  _requireBytes(nonce, "EAX nonce");
  _requireBytes(header, "EAX header");
  _requireBytes(ciphertext, "EAX ciphertext");
  return await _eaxOpen(key, await _cmacSubkeys(key), nonce, header, ciphertext, tag);
}

/**
 * EAX decryption with the CMAC subkeys of `key` already computed (see
 * {@link _eaxSeal}). Arguments are checked by the caller.
 */
export async function _eaxOpen(
  key: CryptoKey,
  subkeys: _Subkeys,
  nonce: Uint8Array,
  header: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const short = ciphertext.length <= _BLOCK;
  // For a short message the one key-stream block, E_K(N'), comes with N'; it is
  // applied only once the tag has verified.
  const [[n, stream], h, c] = await Promise.all([
    short
      ? _omacAndNext(key, subkeys, 0, nonce)
      : _omac(key, subkeys, 0, nonce).then((n) => [n, undefined] as const),
    _omac(key, subkeys, 1, header),
    _omac(key, subkeys, 2, ciphertext),
  ]);
  if (!constantTimeEqual(_tag(n, h, c, tag.length), tag)) {
    throw new IntegrityError("EAX tag mismatch: the message or its header was altered");
  }
  return stream === undefined ? await aesCtr(key, n, ciphertext) : _xorPrefix(ciphertext, stream);
}

/** OMAC^t_K(M) = CMAC_K([t]_16 || M). */
async function _omac(
  key: CryptoKey,
  subkeys: _Subkeys,
  t: number,
  message: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const tweak = new Uint8Array(_BLOCK);
  tweak[_BLOCK - 1] = t;
  return await _cmac(key, subkeys, _concat(tweak, message));
}

/**
 * OMAC^t_K(M) and E_K(OMAC^t_K(M)) in one WebCrypto call: for t = 0 and the nonce,
 * N' and the first block of the EAX key stream (counter mode from N').
 */
async function _omacAndNext(
  key: CryptoKey,
  subkeys: _Subkeys,
  t: number,
  message: Uint8Array,
): Promise<readonly [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>]> {
  const tweak = new Uint8Array(_BLOCK);
  tweak[_BLOCK - 1] = t;
  return await _cmacAndNext(key, subkeys, _concat(tweak, message));
}

/** `data` (at most one block) XOR the first bytes of one key-stream block. */
function _xorPrefix(data: Uint8Array, stream: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ stream[i]!;
  return out;
}

function _tag(
  n: Uint8Array,
  h: Uint8Array,
  c: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = n[i]! ^ h[i]! ^ c[i]!;
  return out;
}

function _requireTagLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > _BLOCK) {
    throw new RangeError(`Invalid EAX tag length: expected 1 to 16 bytes, got ${length}`);
  }
}
