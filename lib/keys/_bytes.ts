/**
 * Private byte helpers for the key hierarchy: defensive copies into fresh
 * `ArrayBuffer`-backed views (what WebCrypto's `BufferSource` accepts), concatenation,
 * XOR and argument checks. Not re-exported.
 *
 * @module
 */

/** Copies `bytes` into a fresh `ArrayBuffer`-backed view (a defensive copy for WebCrypto). */
export function _copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Concatenates `parts` into one fresh array. */
export function _concat(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** XORs two arrays of the same length into a fresh array. */
export function _xor(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** UTF-8 encoding of `text`. */
export function _utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}

/** A 32-bit unsigned integer as 4 bytes, network byte order. */
export function _uint32be(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Throws unless `value` is a `Uint8Array`. */
export function _requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Invalid ${what}: expected a Uint8Array, got ${_typeName(value)}`);
  }
}

/** Throws a `RangeError` unless `bytes` is exactly `length` bytes long. */
export function _requireLength(bytes: unknown, length: number, what: string): void {
  _requireBytes(bytes, what);
  if (bytes.length !== length) {
    throw new RangeError(`Invalid ${what}: expected ${length} bytes, got ${bytes.length}`);
  }
}

/** Throws a `RangeError` unless `bytes` is at least `min` bytes long. */
export function _requireMinLength(bytes: unknown, min: number, what: string): void {
  _requireBytes(bytes, what);
  if (bytes.length < min) {
    throw new RangeError(`Invalid ${what}: expected at least ${min} bytes, got ${bytes.length}`);
  }
}

/** Throws a `RangeError` unless `value` is an integer in [0, 2^32 - 1]. */
export function _requireUint32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Invalid ${what}: expected an integer in [0, 4294967295], got ${value}`);
  }
}

/** Throws a `RangeError` unless `text` is a non-empty string without NUL characters. */
export function _requireLabelText(text: unknown, what: string): asserts text is string {
  if (typeof text !== "string" || text.length === 0) {
    throw new RangeError(`Invalid ${what}: expected a non-empty string`);
  }
  if (text.includes("\u0000")) {
    throw new RangeError(`Invalid ${what}: contains a NUL character`);
  }
}

function _typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
