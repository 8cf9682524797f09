/**
 * AES-CMAC (RFC 4493; NIST SP 800-38B), also known as OMAC1: the MAC of EAP-PSK
 * (RFC 4764 section 3.2: MAC_P, MAC_S) and the OMAC inside EAX.
 *
 * @module
 */
import { _checkAesKey, _cmac, _cmacSubkeys } from "./_aes.ts";
import { _requireBytes } from "./_bytes.ts";

/** The two CMAC subkeys of RFC 4493 section 2.3. */
export interface CmacSubkeys {
  /** K1, used when the last block is complete. */
  readonly k1: Uint8Array<ArrayBuffer>;
  /** K2, used when the last block is padded (and for the empty message). */
  readonly k2: Uint8Array<ArrayBuffer>;
}

/**
 * Generates the CMAC subkeys K1 and K2 (RFC 4493 section 2.3, Generate_Subkey):
 * L = AES-128(K, 0^128); K1 = L << 1, XOR 0x87 when the top bit of L was set;
 * K2 likewise from K1.
 *
 * @param key a key from `importAesKey`
 * @returns K1 and K2
 * @throws {TypeError} when `key` is not from `importAesKey`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importAesKey } from "./aes_block.ts";
 * const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
 * // RFC 4493 section 4, "Subkey Generation".
 * const { k1, k2 } = await cmacSubkeys(await importAesKey(hex("2b7e151628aed2a6abf7158809cf4f3c")));
 * assertEquals(k1, hex("fbeed618357133667c85e08f7236a8de"));
 * assertEquals(k2, hex("f7ddac306ae266ccf90bc11ee46d513b"));
 * ```
 */
export async function cmacSubkeys(key: CryptoKey): Promise<CmacSubkeys> {
  _checkAesKey(key);
  return await _cmacSubkeys(key);
}

/**
 * Computes AES-CMAC over `message` (RFC 4493 section 2.4), in two WebCrypto calls
 * whatever the message length: one for the subkeys, one CBC pass for the MAC.
 *
 * @param key a key from `importAesKey`
 * @param message the message (any length, may be empty)
 * @returns the 16-byte MAC
 * @throws {TypeError} when `key` is not from `importAesKey` or `message` is not bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importAesKey } from "./aes_block.ts";
 * const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
 * // RFC 4493 section 4, Example 2 (len = 16).
 * const key = await importAesKey(hex("2b7e151628aed2a6abf7158809cf4f3c"));
 * const mac = await aesCmac(key, hex("6bc1bee22e409f96e93d7e117393172a"));
 * assertEquals(mac, hex("070a16b46b4d4144f79bdd9dd04a287c"));
 * ```
 */
export async function aesCmac(
  key: CryptoKey,
  message: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _checkAesKey(key);
  _requireBytes(message, "CMAC message");
  return await _cmac(key, await _cmacSubkeys(key), message);
}
