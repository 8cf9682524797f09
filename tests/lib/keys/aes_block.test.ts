import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  AES_BLOCK_SIZE,
  aesCtr,
  aesEncryptBlock,
  importAesKey,
} from "../../../lib/keys/aes_block.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("importAesKey", () => {
  it("imports a 16-byte key as a non-extractable key", async () => {
    const key = await importAesKey(new Uint8Array(16));
    expect(key.extractable).toBe(false);
    expect(key.type).toBe("secret");
  });

  it("refuses keys that are not 16 bytes, naming the length", async () => {
    await expect(importAesKey(new Uint8Array(15))).rejects.toThrow(
      new RangeError("Invalid AES-128 key: expected 16 bytes, got 15"),
    );
    await expect(importAesKey(new Uint8Array(32))).rejects.toThrow(RangeError);
    await expect(importAesKey(new Uint8Array(0))).rejects.toThrow(RangeError);
  });

  it("refuses a value that is not a Uint8Array", async () => {
    await expect(importAesKey([1, 2, 3] as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });

  it("copies the raw key: wiping the caller's array afterwards changes nothing", async () => {
    const raw = hex("000102030405060708090a0b0c0d0e0f");
    const key = await importAesKey(raw);
    raw.fill(0);
    const out = await aesEncryptBlock(key, hex("00112233445566778899aabbccddeeff"));
    expect(toHex(out)).toBe("69c4e0d86a7b0430d8cdb78070b4c55a");
  });
});

describe("aesEncryptBlock", () => {
  it("matches FIPS 197 appendix C.1 (AES-128)", async () => {
    const key = await importAesKey(hex("000102030405060708090a0b0c0d0e0f"));
    const out = await aesEncryptBlock(key, hex("00112233445566778899aabbccddeeff"));
    expect(toHex(out)).toBe("69c4e0d86a7b0430d8cdb78070b4c55a");
  });

  it("gives AES-128(key, 0) of RFC 4493 section 4 (subkey generation)", async () => {
    const key = await importAesKey(hex("2b7e151628aed2a6abf7158809cf4f3c"));
    expect(toHex(await aesEncryptBlock(key, new Uint8Array(16)))).toBe(
      "7df76b0c1ab899b33e42f047b91b546f",
    );
  });

  it("returns exactly one block and leaves its input untouched", async () => {
    const key = await importAesKey(new Uint8Array(16).fill(3));
    const block = new Uint8Array(16).fill(9);
    const out = await aesEncryptBlock(key, block);
    expect(out.length).toBe(AES_BLOCK_SIZE);
    expect(block).toEqual(new Uint8Array(16).fill(9));
  });

  it("accepts a view into a larger buffer", async () => {
    const key = await importAesKey(hex("000102030405060708090a0b0c0d0e0f"));
    const big = hex("ffff00112233445566778899aabbccddeeffffff");
    const out = await aesEncryptBlock(key, big.subarray(2, 18));
    expect(toHex(out)).toBe("69c4e0d86a7b0430d8cdb78070b4c55a");
  });

  it("refuses blocks that are not 16 bytes", async () => {
    const key = await importAesKey(new Uint8Array(16));
    await expect(aesEncryptBlock(key, new Uint8Array(15))).rejects.toThrow(
      new RangeError("Invalid AES block: expected 16 bytes, got 15"),
    );
    await expect(aesEncryptBlock(key, new Uint8Array(32))).rejects.toThrow(RangeError);
  });

  it("refuses a WebCrypto key that was not made by importAesKey", async () => {
    const gcm = await crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, [
      "encrypt",
    ]);
    await expect(aesEncryptBlock(gcm, new Uint8Array(16))).rejects.toThrow(TypeError);
    const aes256 = await crypto.subtle.importKey("raw", new Uint8Array(32), "AES-CBC", false, [
      "encrypt",
    ]);
    await expect(aesEncryptBlock(aes256, new Uint8Array(16))).rejects.toThrow(TypeError);
  });
});

describe("aesCtr", () => {
  it("matches NIST SP 800-38A appendix F.5.1 (CTR-AES128.Encrypt)", async () => {
    const key = await importAesKey(hex("2b7e151628aed2a6abf7158809cf4f3c"));
    const out = await aesCtr(
      key,
      hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
      hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
      ),
    );
    expect(toHex(out)).toBe(
      "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff" +
        "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
    );
  });

  it("increments the whole 128-bit block and wraps from ff..ff to 00..00 (as openssl aes-128-ctr)", async () => {
    const key = await importAesKey(hex("000102030405060708090a0b0c0d0e0f"));
    const out = await aesCtr(key, new Uint8Array(16).fill(0xff), new Uint8Array(40));
    // openssl enc -aes-128-ctr -K 000102..0f -iv ff..ff over 40 zero bytes.
    expect(toHex(out)).toBe(
      "3c441f32ce07822364d7a2990e50bb13c6a13b37878f5b826f4f8162a1c8d8797346139595c0b41e",
    );
  });

  it("carries across bytes (00..00ff is followed by 00..0100)", async () => {
    const key = await importAesKey(new Uint8Array(16).fill(5));
    const start = new Uint8Array(16);
    start[15] = 0xff;
    const next = new Uint8Array(16);
    next[14] = 1;
    const stream = await aesCtr(key, start, new Uint8Array(32));
    expect(stream.slice(16)).toEqual(await aesEncryptBlock(key, next));
  });

  it("is its own inverse, leaves its inputs untouched, and handles empty data", async () => {
    const key = await importAesKey(new Uint8Array(16).fill(1));
    const counter = new Uint8Array(16).fill(2);
    const data = Uint8Array.from({ length: 37 }, (_, i) => i);
    const sealed = await aesCtr(key, counter, data);
    expect(sealed).not.toEqual(data);
    expect(await aesCtr(key, counter, sealed)).toEqual(data);
    expect(counter).toEqual(new Uint8Array(16).fill(2));
    expect((await aesCtr(key, counter, new Uint8Array(0))).length).toBe(0);
  });

  it("refuses a counter block that is not 16 bytes", async () => {
    const key = await importAesKey(new Uint8Array(16));
    await expect(aesCtr(key, new Uint8Array(12), new Uint8Array(4))).rejects.toThrow(RangeError);
  });
});
