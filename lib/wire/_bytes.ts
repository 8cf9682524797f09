/**
 * Private byte helpers shared by the wire codecs: a bounds-checked big-endian reader
 * and a fixed-size writer over `DataView`, and hex conversion for tests and logs.
 *
 * The reader throws {@linkcode MalformedMessageError} with a message of the form
 * `Truncated PANA header: need 16 bytes, got 9`; strings are built only on that error
 * path, so reading a well-formed message allocates no text.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";

/**
 * A cursor over bytes that reads big-endian (network order) integers and byte runs,
 * throwing {@linkcode MalformedMessageError} instead of reading past the end.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const r = new ByteReader(new Uint8Array([0x01, 0x02, 0x03]));
 * assertEquals(r.u16("EAP header"), 0x0102);
 * assertEquals(r.remaining, 1);
 * assertThrows(() => r.u16("EAP header"), Error, "Truncated EAP header: need 2 bytes, got 1");
 * ```
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  /**
   * @param bytes the bytes to read; they are not copied, `bytes()` returns copies
   */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The number of bytes read so far. */
  get offset(): number {
    return this.#offset;
  }

  /** The number of bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /**
   * Throws unless at least `count` bytes are left.
   *
   * @param count the number of bytes the caller is about to read
   * @param what the structure being read, for the error message (`PANA header`)
   * @throws {MalformedMessageError} `Truncated <what>: need <count> bytes, got <remaining>`
   */
  need(count: number, what: string): void {
    if (count > this.#bytes.length - this.#offset) {
      throw new MalformedMessageError(
        `Truncated ${what}: need ${count} byte${count === 1 ? "" : "s"}, got ${
          this.#bytes.length - this.#offset
        }`,
      );
    }
  }

  /**
   * Reads one unsigned byte.
   *
   * @param what the structure being read, for the error message
   * @returns the byte, 0 to 255
   */
  u8(what: string): number {
    this.need(1, what);
    return this.#view.getUint8(this.#offset++);
  }

  /**
   * Reads a big-endian unsigned 16-bit integer.
   *
   * @param what the structure being read, for the error message
   * @returns the value, 0 to 65535
   */
  u16(what: string): number {
    this.need(2, what);
    const v = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return v;
  }

  /**
   * Reads a big-endian unsigned 32-bit integer.
   *
   * @param what the structure being read, for the error message
   * @returns the value, 0 to 2^32 - 1
   */
  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }

  /**
   * Reads `count` bytes as a copy, so later changes to the input do not alter it.
   *
   * @param count the number of bytes
   * @param what the structure being read, for the error message
   * @returns a new array of `count` bytes
   */
  bytes(count: number, what: string): Uint8Array {
    this.need(count, what);
    const out = this.#bytes.slice(this.#offset, this.#offset + count);
    this.#offset += count;
    return out;
  }

  /**
   * Reads every byte left, as a copy.
   *
   * @returns a new array with the rest of the input (possibly empty)
   */
  rest(): Uint8Array {
    const out = this.#bytes.slice(this.#offset);
    this.#offset = this.#bytes.length;
    return out;
  }

  /**
   * Skips `count` bytes.
   *
   * @param count the number of bytes
   * @param what the structure being skipped, for the error message
   */
  skip(count: number, what: string): void {
    this.need(count, what);
    this.#offset += count;
  }
}

/**
 * A writer into a buffer of a size known in advance (codecs compute it first). Writing
 * past the end is a bug in the caller's size computation and throws a `RangeError`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const w = new ByteWriter(7);
 * w.u8(1).u16(0x0203).u32(0x04050607);
 * assertEquals(w.finish(), new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
 * ```
 */
export class ByteWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  /**
   * @param size the exact number of bytes that will be written
   */
  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** The number of bytes written so far. */
  get offset(): number {
    return this.#offset;
  }

  #room(count: number): void {
    if (count > this.#bytes.length - this.#offset) {
      throw new RangeError(
        `Buffer overflow: writing ${count} bytes at offset ${this.#offset} of ${this.#bytes.length}`,
      );
    }
  }

  /**
   * Writes one byte.
   *
   * @param value 0 to 255
   * @returns this writer, for chaining
   */
  u8(value: number): this {
    this.#room(1);
    this.#view.setUint8(this.#offset++, value);
    return this;
  }

  /**
   * Writes a big-endian unsigned 16-bit integer.
   *
   * @param value 0 to 65535
   * @returns this writer, for chaining
   */
  u16(value: number): this {
    this.#room(2);
    this.#view.setUint16(this.#offset, value);
    this.#offset += 2;
    return this;
  }

  /**
   * Writes a big-endian unsigned 32-bit integer.
   *
   * @param value 0 to 2^32 - 1
   * @returns this writer, for chaining
   */
  u32(value: number): this {
    this.#room(4);
    this.#view.setUint32(this.#offset, value);
    this.#offset += 4;
    return this;
  }

  /**
   * Writes a run of bytes.
   *
   * @param bytes the bytes to copy in
   * @returns this writer, for chaining
   */
  bytes(bytes: Uint8Array): this {
    this.#room(bytes.length);
    this.#bytes.set(bytes, this.#offset);
    this.#offset += bytes.length;
    return this;
  }

  /**
   * Writes `count` zero bytes (padding, or a MAC field computed later).
   *
   * @param count the number of zero bytes
   * @returns this writer, for chaining
   */
  zeros(count: number): this {
    this.#room(count);
    this.#offset += count; // the buffer starts zeroed
    return this;
  }

  /**
   * Returns the buffer once it is exactly full.
   *
   * @returns the written bytes
   */
  finish(): Uint8Array {
    if (this.#offset !== this.#bytes.length) {
      throw new RangeError(`Buffer underrun: wrote ${this.#offset} of ${this.#bytes.length} bytes`);
    }
    return this.#bytes;
  }
}

const _HEX = "0123456789abcdef";

/**
 * Formats bytes as lowercase hex without separators (for tests and logs; never log
 * key bytes).
 *
 * @param bytes the bytes to format
 * @returns two hex digits per byte
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(hex(new Uint8Array([0x00, 0x2f, 0xff])), "002fff");
 * ```
 */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += _HEX[b >> 4]! + _HEX[b & 0x0f]!;
  }
  return out;
}

function _nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x61 && code <= 0x66) return code - 0x57; // a-f
  if (code >= 0x41 && code <= 0x46) return code - 0x37; // A-F
  return -1;
}

/**
 * Parses hex text into bytes. Whitespace is ignored anywhere (so fixtures can be laid
 * out in rows), as is everything from `#` to the end of a line (comments).
 *
 * @param text hex digits, either case
 * @returns the bytes
 * @throws {MalformedMessageError} on a non-hex character or an odd number of digits
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(fromHex("00 2F\nff # trailer"), new Uint8Array([0x00, 0x2f, 0xff]));
 * ```
 */
export function fromHex(text: string): Uint8Array {
  const digits: number[] = [];
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (comment) {
      if (c === 0x0a) comment = false;
      continue;
    }
    if (c === 0x23) {
      comment = true;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    const n = _nibble(c);
    if (n < 0) {
      throw new MalformedMessageError(
        `Invalid hex: unexpected character ${JSON.stringify(text[i])}`,
      );
    }
    digits.push(n);
  }
  if (digits.length % 2 !== 0) {
    throw new MalformedMessageError(`Invalid hex: odd number of digits (${digits.length})`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i]! << 4) | digits[2 * i + 1]!;
  return out;
}
