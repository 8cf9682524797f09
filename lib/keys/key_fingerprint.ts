/**
 * Key fingerprints: a short, one-way name for a key that is safe to log and print
 * (the `mpa preauth` JSON line, log lines), so that two ends can check they hold
 * the same key without ever showing it.
 *
 * @module
 */
import { _copy, _requireBytes } from "./_bytes.ts";

/**
 * Computes the fingerprint of a key: the first 16 bytes of SHA-256(key), as 32
 * lowercase hex digits.
 *
 * @param key the key bytes
 * @returns the fingerprint, 32 hex digits
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // SHA-256 of the empty string starts e3b0c442 98fc1c14 9afbf4c8 996fb924.
 * assertEquals(await keyFingerprint(new Uint8Array(0)), "e3b0c44298fc1c149afbf4c8996fb924");
 * ```
 */
export async function keyFingerprint(key: Uint8Array): Promise<string> {
  _requireBytes(key, "key");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", _copy(key)));
  return Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}
