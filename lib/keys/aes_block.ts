/**
 * AES-128 as a block cipher, E_K(X), and AES in counter mode, built on WebCrypto
 * (`crypto.subtle`): the primitive under AES-CMAC (RFC 4493), EAX and the EAP-PSK
 * key setup and derivation (RFC 4764 sections 3.1, 3.2).
 *
 * Keys are non-extractable WebCrypto `AES-CBC` keys; WebCrypto has no raw-block
 * (ECB) mode, so one block is encrypted as CBC under a zero IV.
 *
 * @module
 */
import { _BLOCK, _cbcLastBlock, _checkAesKey } from "./_aes.ts";
import { _copy, _requireBytes, _requireLength } from "./_bytes.ts";

/** The AES block size, bytes (FIPS 197). */
export const AES_BLOCK_SIZE = 16;

/**
 * Imports a raw AES-128 key as a non-extractable WebCrypto key usable by
 * {@link aesEncryptBlock}, {@link aesCtr}, `aesCmac` and the EAX functions.
 *
 * @param raw the 16 key bytes (copied; the caller may wipe its array afterwards)
 * @returns the WebCrypto key
 * @throws {RangeError} when `raw` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = await importAesKey(new Uint8Array(16));
 * assertEquals(key.extractable, false);
 * ```
 */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  _requireLength(raw, 16, "AES-128 key");
  return await crypto.subtle.importKey("raw", _copy(raw), { name: "AES-CBC" }, false, [
    "encrypt",
  ]);
}

/**
 * Encrypts one block with AES-128: E_K(X).
 *
 * @param key a key from {@link importAesKey}
 * @param block the 16-byte plaintext block
 * @returns the 16-byte ciphertext block
 * @throws {RangeError} when `block` is not 16 bytes
 * @throws {TypeError} when `key` is not from {@link importAesKey}
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // FIPS 197 appendix C.1 (AES-128).
 * const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
 * const key = await importAesKey(hex("000102030405060708090a0b0c0d0e0f"));
 * const out = await aesEncryptBlock(key, hex("00112233445566778899aabbccddeeff"));
 * assertEquals(out, hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
 * ```
 */
export async function aesEncryptBlock(
  key: CryptoKey,
  block: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _checkAesKey(key);
  _requireLength(block, _BLOCK, "AES block");
  return await _cbcLastBlock(key, block);
}

/**
 * AES-128 in counter mode (NIST SP 800-38A section 6.5) with the whole 128-bit
 * block as the counter, incremented big-endian modulo 2^128 (the counter mode of
 * EAX). Encryption and decryption are the same operation.
 *
 * @param key a key from {@link importAesKey}
 * @param counter the 16-byte initial counter block
 * @param data the bytes to encrypt or decrypt (any length, may be empty)
 * @returns `data` XOR the key stream E_K(counter), E_K(counter + 1), ...
 * @throws {RangeError} when `counter` is not 16 bytes
 * @throws {TypeError} when `key` is not from {@link importAesKey}
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = await importAesKey(new Uint8Array(16).fill(7));
 * const ctr = new Uint8Array(16).fill(0xff);
 * const text = new TextEncoder().encode("a message longer than one block");
 * const sealed = await aesCtr(key, ctr, text);
 * assertEquals(await aesCtr(key, ctr, sealed), text);
 * ```
 */
export async function aesCtr(
  key: CryptoKey,
  counter: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _checkAesKey(key);
  _requireLength(counter, _BLOCK, "AES-CTR counter block");
  _requireBytes(data, "AES-CTR data");
  const blocks = Math.ceil(data.length / _BLOCK);
  const stream = await Promise.all(
    Array.from({ length: blocks }, (_, i) => _cbcLastBlock(key, _addToCounter(counter, i))),
  );
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = data[i]! ^ stream[Math.floor(i / _BLOCK)]![i % _BLOCK]!;
  }
  return out;
}

/** `counter + n` as a 128-bit big-endian integer modulo 2^128. */
function _addToCounter(counter: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const out = _copy(counter);
  let carry = n;
  for (let i = _BLOCK - 1; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}
