import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  importPrfKey,
  PRF_PLUS_MAX_LENGTH,
  prfHmacSha256,
  prfPlus,
} from "../../../lib/keys/prf_plus.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** HMAC-SHA-256 straight from WebCrypto, independent of the module under test. */
async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array(data)));
}

describe("prfHmacSha256 (PRF_HMAC_SHA2_256)", () => {
  it("matches RFC 4231 section 4.2, test case 1", async () => {
    const mac = await prfHmacSha256(new Uint8Array(20).fill(0x0b), ascii("Hi There"));
    expect(toHex(mac)).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  });

  it("matches RFC 4231 section 4.3, test case 2", async () => {
    const mac = await prfHmacSha256(ascii("Jefe"), ascii("what do ya want for nothing?"));
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("refuses an empty key", async () => {
    await expect(prfHmacSha256(new Uint8Array(0), new Uint8Array(1))).rejects.toThrow(
      new RangeError("Invalid HMAC-SHA-256 key: expected at least 1 bytes, got 0"),
    );
  });
});

describe("prfPlus (RFC 7296 section 2.13)", () => {
  const KEY = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const SEED = ascii("mpa prf+ test");

  it("matches a vector computed with openssl dgst -sha256 -mac HMAC, three blocks, 80 bytes", async () => {
    // T1 = HMAC(K, S|01), T2 = HMAC(K, T1|S|02), T3 = HMAC(K, T2|S|03), each with
    // `openssl dgst -sha256 -mac HMAC -macopt hexkey:0001..1f`; first 80 bytes.
    expect(toHex(await prfPlus(KEY, SEED, 80))).toBe(
      "71ef5e4305f4b7d5993da9657aba2269dd71ac6f63baf44367121c3687678f9a" +
        "3c0ea597aa95a553927574796e0339aca47fba4fda4e2d67fa809ab74b9a4c37" +
        "dcc34e6c5cebd67bcb8a78b4647175f8",
    );
  });

  it("is T1 | T2 | T3 with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), step by step", async () => {
    const t1 = await hmac(KEY, new Uint8Array([...SEED, 1]));
    const t2 = await hmac(KEY, new Uint8Array([...t1, ...SEED, 2]));
    const t3 = await hmac(KEY, new Uint8Array([...t2, ...SEED, 3]));
    expect(await prfPlus(KEY, SEED, 96)).toEqual(new Uint8Array([...t1, ...t2, ...t3]));
  });

  it("a shorter output is a prefix of a longer one", async () => {
    const long = await prfPlus(KEY, SEED, 100);
    for (const n of [1, 31, 32, 33, 64, 99]) {
      expect(await prfPlus(KEY, SEED, n)).toEqual(long.slice(0, n));
    }
  });

  it("works with an empty seed, a one-byte key and a 64-byte key (an MSK)", async () => {
    expect(await prfPlus(KEY, new Uint8Array(0), 32)).toEqual(await hmac(KEY, new Uint8Array([1])));
    expect((await prfPlus(new Uint8Array([7]), SEED, 32)).length).toBe(32);
    expect((await prfPlus(new Uint8Array(64).fill(9), SEED, 64)).length).toBe(64);
  });

  it("gives the full 255 blocks, and its last block follows the chain", async () => {
    const out = await prfPlus(KEY, SEED, PRF_PLUS_MAX_LENGTH);
    expect(out.length).toBe(8160);
    const t254 = out.slice(253 * 32, 254 * 32);
    expect(out.slice(254 * 32)).toEqual(await hmac(KEY, new Uint8Array([...t254, ...SEED, 255])));
  });

  it("refuses lengths outside 1 to 8160 and empty keys", async () => {
    await expect(prfPlus(KEY, SEED, 0)).rejects.toThrow(
      new RangeError("Invalid prf+ length: expected 1 to 8160 bytes, got 0"),
    );
    await expect(prfPlus(KEY, SEED, 8161)).rejects.toThrow(RangeError);
    await expect(prfPlus(KEY, SEED, 2.5)).rejects.toThrow(RangeError);
    await expect(prfPlus(KEY, SEED, Number.NaN)).rejects.toThrow(RangeError);
    await expect(prfPlus(new Uint8Array(0), SEED, 32)).rejects.toThrow(RangeError);
  });

  it("leaves key and seed untouched", async () => {
    const key = KEY.slice();
    const seed = SEED.slice();
    await prfPlus(key, seed, 64);
    expect(key).toEqual(KEY);
    expect(seed).toEqual(SEED);
  });
});

describe("importPrfKey (one import for several PRF computations)", () => {
  it("gives the same PRF and prf+ outputs as the raw key (RFC 4306 section 2.13)", async () => {
    const raw = hex("0b".repeat(32));
    const key = await importPrfKey(raw);
    const seed = ascii("IETF PANA");
    expect(await prfHmacSha256(key, seed)).toEqual(await prfHmacSha256(raw, seed));
    expect(await prfPlus(key, seed, 100)).toEqual(await prfPlus(raw, seed, 100));
    expect(toHex(await prfHmacSha256(key, seed))).toBe(toHex(await hmac(raw, seed)));
  });

  it("is non-extractable, refuses an empty key, and a key of another algorithm is refused by the PRF", async () => {
    const key = await importPrfKey(new Uint8Array(16).fill(1));
    expect(key.extractable).toBe(false);
    await expect(importPrfKey(new Uint8Array(0))).rejects.toThrow(RangeError);
    const aes = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, [
      "encrypt",
    ]);
    await expect(prfPlus(aes, new Uint8Array(1), 32)).rejects.toThrow(TypeError);
    await expect(prfHmacSha256(aes, new Uint8Array(1))).rejects.toThrow(TypeError);
  });
});
