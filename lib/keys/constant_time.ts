/**
 * Constant-time comparison of byte strings, for MACs and authentication tags
 * (CONVENTIONS.md, "Security-sensitive code").
 *
 * @module
 */

/**
 * Compares two byte arrays in time that depends only on their lengths, never on
 * where they differ. Lengths are treated as public: arrays of different lengths
 * are unequal at once.
 *
 * @param a the first array (e.g. the MAC computed locally)
 * @param b the second array (e.g. the MAC received)
 * @returns true when both have the same length and the same bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
 * assertEquals(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
 * assertEquals(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 0])), false);
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
