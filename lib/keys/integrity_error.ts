/**
 * The error thrown when a MAC or an authentication tag does not verify.
 *
 * @module
 */

/**
 * A MAC or AEAD tag that does not verify: the message was altered, or the peer
 * holds a different key. The message never includes key or tag bytes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new IntegrityError("EAX tag mismatch");
 * assertEquals(e.name, "IntegrityError");
 * assertEquals(e instanceof Error, true);
 * ```
 */
export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
}
