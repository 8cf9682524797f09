/**
 * Private AES-128 building blocks on WebCrypto. The only AES mode WebCrypto offers
 * that exposes the raw block cipher is CBC: under a zero IV the ciphertext of
 * P1 || P2 || ... is C1 = E_K(P1), C2 = E_K(P2 XOR C1), ..., so one call gives
 * E_K(X) (one block), E_K(E_K(X) XOR Y) (two blocks: the EAP-PSK counter mode) or
 * the CBC-MAC that CMAC (RFC 4493) finishes (n blocks). WebCrypto always appends a
 * PKCS#7 padding block, which is ignored here.
 *
 * Counter mode gives E_K(C), E_K(C + 1), ... (C + j incrementing the low bits) as its
 * key stream over zero bytes: many independent blocks in one call when their inputs
 * are consecutive.
 *
 * Each WebCrypto call costs tens of microseconds in Deno whatever its size, so the
 * callers batch blocks into one call and run independent calls concurrently.
 *
 * @module
 */
import { _copy } from "./_bytes.ts";

/** AES block size, bytes. */
export const _BLOCK = 16;

const _ZERO_IV = new Uint8Array(_BLOCK);

/** The CMAC subkeys K1, K2 of RFC 4493 section 2.3. */
export interface _Subkeys {
  readonly k1: Uint8Array<ArrayBuffer>;
  readonly k2: Uint8Array<ArrayBuffer>;
}

/** Throws a `TypeError` unless `key` is an AES-128 CBC key from `importAesKey`. */
export function _checkAesKey(key: CryptoKey): void {
  const algorithm = key?.algorithm as Partial<AesKeyAlgorithm> | undefined;
  if (
    algorithm?.name !== "AES-CBC" || algorithm.length !== 128 || !key.usages.includes("encrypt")
  ) {
    throw new TypeError(
      `Invalid AES key: expected an AES-128 key from importAesKey, got ${
        algorithm?.name ?? "no algorithm"
      }`,
    );
  }
}

/**
 * CBC encryption under a zero IV of `data` (a whole number of blocks, at least
 * one), returning the last ciphertext block: E_K(X) for one block,
 * E_K(E_K(X) XOR Y) for X || Y, the CBC-MAC for more.
 */
export async function _cbcLastBlock(
  key: CryptoKey,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = await crypto.subtle.encrypt({ name: "AES-CBC", iv: _ZERO_IV }, key, _copy(data));
  // `out` holds data.length bytes of ciphertext plus one block of padding.
  return new Uint8Array(out, data.length - _BLOCK, _BLOCK).slice();
}

/** The CMAC subkeys (RFC 4493 section 2.3): L = E_K(0), K1 = 2L, K2 = 4L in GF(2^128). */
export async function _cmacSubkeys(key: CryptoKey): Promise<_Subkeys> {
  const l = await _cbcLastBlock(key, new Uint8Array(_BLOCK));
  const k1 = _double(l);
  return { k1, k2: _double(k1) };
}

/** AES-CMAC (RFC 4493 section 2.4) with precomputed subkeys: one WebCrypto call. */
export async function _cmac(
  key: CryptoKey,
  subkeys: _Subkeys,
  message: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return await _cbcLastBlock(key, _cmacInput(subkeys, message));
}

/**
 * AES-CMAC with precomputed subkeys and E_K(MAC), in one WebCrypto call: the CBC pass
 * that ends with the MAC goes on over one zero block, whose ciphertext is
 * E_K(MAC XOR 0^128). EAX uses it for N' and the first block of its key stream.
 */
export async function _cmacAndNext(
  key: CryptoKey,
  subkeys: _Subkeys,
  message: Uint8Array,
): Promise<readonly [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>]> {
  const m = _cmacInput(subkeys, message);
  const data = new Uint8Array(m.length + _BLOCK);
  data.set(m);
  const out = await crypto.subtle.encrypt({ name: "AES-CBC", iv: _ZERO_IV }, key, data);
  // `out` holds data.length bytes of ciphertext plus one block of padding.
  return [
    new Uint8Array(out, m.length - _BLOCK, _BLOCK).slice(),
    new Uint8Array(out, m.length, _BLOCK).slice(),
  ];
}

/** The CBC input of CMAC: `message`, its last block padded and XORed with K1 or K2. */
function _cmacInput(subkeys: _Subkeys, message: Uint8Array): Uint8Array<ArrayBuffer> {
  const blocks = Math.max(1, Math.ceil(message.length / _BLOCK));
  const complete = message.length > 0 && message.length % _BLOCK === 0;
  const m = new Uint8Array(blocks * _BLOCK);
  m.set(message);
  // RFC 4493 section 2.4 step 4: pad an incomplete last block with 10^i, XOR K2;
  // XOR a complete one with K1.
  if (!complete) m[message.length] = 0x80;
  const subkey = complete ? subkeys.k1 : subkeys.k2;
  const last = (blocks - 1) * _BLOCK;
  for (let i = 0; i < _BLOCK; i++) m[last + i]! ^= subkey[i]!;
  return m;
}

/** Imports a raw AES-128 key for counter mode ({@link _ctrKeyStream}); not extractable. */
export async function _importAesCtrKey(raw: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", _copy(raw), { name: "AES-CTR" }, false, [
    "encrypt",
  ]);
}

/**
 * The key stream E_K(C), E_K(C + 1), ..., E_K(C + blocks - 1): one WebCrypto call.
 * The sum is taken on the last 32 bits of C (the shortest counter Deno supports); the
 * callers keep the last byte of C plus `blocks - 1` at most 255, so that only the
 * last byte changes.
 */
export async function _ctrKeyStream(
  key: CryptoKey,
  counter: Uint8Array,
  blocks: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = await crypto.subtle.encrypt(
    { name: "AES-CTR", counter: _copy(counter), length: 32 },
    key,
    new Uint8Array(blocks * _BLOCK),
  );
  return new Uint8Array(out);
}

/** Doubling in GF(2^128) with the CMAC polynomial: `block << 1`, XOR 0x87 on carry. */
function _double(block: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(_BLOCK);
  for (let i = 0; i < _BLOCK; i++) {
    out[i] = ((block[i]! << 1) | ((block[i + 1] ?? 0) >> 7)) & 0xff;
  }
  if (block[0]! & 0x80) out[_BLOCK - 1]! ^= 0x87;
  return out;
}
