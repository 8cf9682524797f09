/**
 * The prf+ key expansion of IKEv2 (RFC 7296 section 2.13, first in RFC 4306) over
 * PRF_HMAC_SHA2_256 (HMAC-SHA-256, RFC 4868; IKEv2 PRF transform 5), the key
 * derivation function PANA uses for PANA_AUTH_KEY (RFC 5191 section 5.3) and that
 * this implementation uses for the MPA-SA keys:
 *
 * prf+(K, S) = T1 | T2 | T3 | ..., with T1 = prf(K, S | 0x01) and
 * Tn = prf(K, T(n-1) | S | n) for n = 2 .. 255.
 *
 * @module
 */
import { _concat, _copy, _requireBytes, _requireMinLength } from "./_bytes.ts";

/** Output length of PRF_HMAC_SHA2_256, bytes. */
export const PRF_HMAC_SHA2_256_LENGTH = 32;

/** The longest prf+ output: 255 blocks of 32 bytes (RFC 7296 section 2.13). */
export const PRF_PLUS_MAX_LENGTH = 255 * PRF_HMAC_SHA2_256_LENGTH;

/**
 * Computes PRF_HMAC_SHA2_256(key, data), i.e. HMAC-SHA-256 (RFC 2104, RFC 4868).
 *
 * @param key the HMAC key (at least one byte; copied), or {@link importPrfKey} of it
 * @param data the data to authenticate
 * @returns the 32-byte MAC
 * @throws {RangeError} when `key` is empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const te = new TextEncoder();
 * // RFC 4231 section 4.3, test case 2.
 * const mac = await prfHmacSha256(te.encode("Jefe"), te.encode("what do ya want for nothing?"));
 * const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
 * assertEquals(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
 * ```
 */
export async function prfHmacSha256(
  key: Uint8Array | CryptoKey,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireBytes(data, "PRF data");
  const hmac = key instanceof Uint8Array ? await importPrfKey(key) : _checkPrfKey(key);
  return new Uint8Array(await crypto.subtle.sign("HMAC", hmac, _copy(data)));
}

/**
 * Expands `key` and `seed` into `length` bytes with prf+ over PRF_HMAC_SHA2_256
 * (RFC 7296 section 2.13).
 *
 * @param key the PRF key K (at least one byte; copied), or {@link importPrfKey} of it
 * @param seed the seed S
 * @param length the number of bytes wanted, 1 to 8160 (255 blocks of 32)
 * @returns the first `length` bytes of T1 | T2 | ...
 * @throws {RangeError} when `key` is empty or `length` is out of range
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = new Uint8Array(32).fill(1);
 * const seed = new TextEncoder().encode("seed");
 * const long = await prfPlus(key, seed, 80);
 * // A shorter output is a prefix of a longer one; T1 is prf(K, S | 0x01).
 * assertEquals(await prfPlus(key, seed, 32), long.slice(0, 32));
 * assertEquals(long.slice(0, 32), await prfHmacSha256(key, new Uint8Array([...seed, 1])));
 * ```
 */
export async function prfPlus(
  key: Uint8Array | CryptoKey,
  seed: Uint8Array,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireBytes(seed, "prf+ seed");
  if (!Number.isInteger(length) || length < 1 || length > PRF_PLUS_MAX_LENGTH) {
    throw new RangeError(
      `Invalid prf+ length: expected 1 to ${PRF_PLUS_MAX_LENGTH} bytes, got ${length}`,
    );
  }
  const hmac = key instanceof Uint8Array ? await importPrfKey(key) : _checkPrfKey(key);
  const blocks = Math.ceil(length / PRF_HMAC_SHA2_256_LENGTH);
  const out = new Uint8Array(blocks * PRF_HMAC_SHA2_256_LENGTH);
  let previous: Uint8Array = new Uint8Array(0);
  for (let n = 1; n <= blocks; n++) {
    const input = _concat(previous, seed, new Uint8Array([n]));
    previous = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, input));
    out.set(previous, (n - 1) * PRF_HMAC_SHA2_256_LENGTH);
  }
  return out.slice(0, length);
}

/**
 * Imports a PRF key once for HMAC-SHA-256 (non-extractable, sign only): several PRF
 * computations under one key (the MSK for PANA_AUTH_KEY and the MPA-SA keys, one
 * PANA_AUTH_KEY for a message's AUTH check and the answer's AUTH) then share one
 * WebCrypto import.
 *
 * @param key the key (at least one byte; copied)
 * @returns the HMAC-SHA-256 key for {@link prfHmacSha256} and {@link prfPlus}
 * @throws {RangeError} when `key` is empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const raw = new Uint8Array(32).fill(7);
 * const key = await importPrfKey(raw);
 * const seed = new Uint8Array([1, 2, 3]);
 * assertEquals(await prfPlus(key, seed, 40), await prfPlus(raw, seed, 40));
 * ```
 */
export async function importPrfKey(key: Uint8Array): Promise<CryptoKey> {
  _requireMinLength(key, 1, "HMAC-SHA-256 key");
  return await crypto.subtle.importKey(
    "raw",
    _copy(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** Refuses a CryptoKey that is not an HMAC-SHA-256 signing key. */
function _checkPrfKey(key: CryptoKey): CryptoKey {
  const algorithm = key?.algorithm as Partial<HmacKeyAlgorithm> | undefined;
  if (
    algorithm?.name !== "HMAC" || algorithm.hash?.name !== "SHA-256" ||
    !key.usages.includes("sign")
  ) {
    throw new TypeError(
      `Invalid PRF key: expected an HMAC-SHA-256 key from importPrfKey, got ${
        algorithm?.name ?? "no algorithm"
      }`,
    );
  }
  return key;
}
