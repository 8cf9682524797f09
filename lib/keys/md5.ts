/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), pure and synchronous.
 *
 * This module departs on purpose from the "WebCrypto only" rule of the key hierarchy
 * (ARCHITECTURE.md, lib/keys): WebCrypto has no MD5, and RADIUS cannot work without
 * it. The Response Authenticator of RFC 2865 section 3 is an MD5 digest, the
 * Message-Authenticator of RFC 3579 section 3.2 is an HMAC-MD5, and the
 * MS-MPPE-Send-Key / MS-MPPE-Recv-Key attributes of RFC 2548 section 2.4.2, through
 * which an AAA server hands the MSK to the authentication agent, are encrypted with an
 * MD5 key stream. Use it for those RADIUS computations only; MD5 is broken as a
 * collision-resistant hash (RFC 6151) and derives no key of the MPA hierarchy.
 *
 * @module
 */

/** MD5 block size in bytes (RFC 1321 section 3.4: 16 words of 32 bits). */
const _BLOCK = 64;

/** Per-step rotation amounts, four per round (RFC 1321 section 3.4). */
const _SHIFTS: readonly number[] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/**
 * The sine table T[1..64] of RFC 1321 section 3.4: T[i] is the integer part of
 * 4294967296 * abs(sin(i)), i in radians. Computed rather than typed in; the RFC 1321
 * test suite in the tests pins every entry.
 */
const _T: Int32Array = (() => {
  const t = new Int32Array(64);
  for (let i = 0; i < 64; i++) t[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;
  return t;
})();

/** Processes one 64-byte block of `view` at `offset` into the state `s` (A, B, C, D). */
function _block(s: Int32Array, view: DataView, offset: number, x: Int32Array): void {
  for (let i = 0; i < 16; i++) x[i] = view.getInt32(offset + 4 * i, true);
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (b & d) | (c & ~d);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const sum = (a + f + _T[i]! + x[g]!) | 0;
    const r = _SHIFTS[((i >> 4) << 2) | (i & 3)]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << r) | (sum >>> (32 - r)))) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
}

/**
 * The MD5 digest of `data` (RFC 1321).
 *
 * @param data the message, any length
 * @returns the 16-byte digest
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
 * // RFC 1321 appendix A.5: MD5 ("abc")
 * assertEquals(hex(md5(new TextEncoder().encode("abc"))), "900150983cd24fb0d6963f7d28e17f72");
 * ```
 */
export function md5(data: Uint8Array): Uint8Array {
  const s = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
  const x = new Int32Array(16);
  const whole = data.length - (data.length % _BLOCK);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < whole; off += _BLOCK) _block(s, view, off, x);

  // Padding (RFC 1321 sections 3.1, 3.2): 0x80, zeros to 56 mod 64, bit length LE.
  const rest = data.length - whole;
  const tail = new Uint8Array(rest < 56 ? _BLOCK : 2 * _BLOCK);
  tail.set(data.subarray(whole));
  tail[rest] = 0x80;
  const tailView = new DataView(tail.buffer);
  const bits = data.length * 8;
  tailView.setUint32(tail.length - 8, bits >>> 0, true);
  tailView.setUint32(tail.length - 4, Math.floor(bits / 4294967296) >>> 0, true);
  for (let off = 0; off < tail.length; off += _BLOCK) _block(s, tailView, off, x);

  const out = new Uint8Array(16);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) outView.setInt32(4 * i, s[i]!, true);
  return out;
}

/**
 * HMAC-MD5 of `data` under `key` (RFC 2104 section 2, with B = 64 and L = 16): keys
 * longer than 64 bytes are hashed first.
 *
 * @param key the secret key, any length (a RADIUS shared secret, say)
 * @param data the message
 * @returns the 16-byte MAC
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
 * const utf8 = (s: string) => new TextEncoder().encode(s);
 * // RFC 2202 section 2, test case 2
 * const mac = hmacMd5(utf8("Jefe"), utf8("what do ya want for nothing?"));
 * assertEquals(hex(mac), "750c783e6ab0b503eaa86e310a5db738");
 * ```
 */
export function hmacMd5(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key.length > _BLOCK ? md5(key) : key;
  const inner = new Uint8Array(_BLOCK + data.length);
  const outer = new Uint8Array(_BLOCK + 16);
  for (let i = 0; i < _BLOCK; i++) {
    const byte = k[i] ?? 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  inner.set(data, _BLOCK);
  outer.set(md5(inner), _BLOCK);
  inner.fill(0, 0, _BLOCK);
  const mac = md5(outer);
  outer.fill(0);
  return mac;
}
