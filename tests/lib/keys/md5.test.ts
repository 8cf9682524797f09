import { describe, expect, it } from "npm:vitest@4.1.12";
import { createHash, createHmac } from "node:crypto";
import { hmacMd5, md5 } from "../../../lib/keys/md5.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));

describe("md5", () => {
  // RFC 1321 appendix A.5, "Test suite".
  const suite: readonly (readonly [string, string])[] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [input, digest] of suite) {
    it(`RFC 1321 appendix A.5: MD5 ("${input.slice(0, 20)}${input.length > 20 ? "..." : ""}")`, () => {
      expect(hex(md5(utf8(input)))).toBe(digest);
    });
  }

  it("agrees with node:crypto at every length 0-300 (padding boundaries 55, 56, 63, 64, 119, 120)", () => {
    for (let n = 0; n <= 300; n++) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(hex(md5(data)), `length ${n}`).toBe(createHash("md5").update(data).digest("hex"));
    }
  });

  it("hashes a view into a larger buffer by its own bytes only", () => {
    const buffer = utf8("xxabcxx");
    expect(hex(md5(buffer.subarray(2, 5)))).toBe("900150983cd24fb0d6963f7d28e17f72");
  });

  it("leaves its input unchanged", () => {
    const data = utf8("message digest");
    md5(data);
    expect(new TextDecoder().decode(data)).toBe("message digest");
  });
});

describe("hmacMd5", () => {
  // RFC 2202 section 2, test cases 1-7.
  const cases: readonly { key: Uint8Array; data: Uint8Array; digest: string }[] = [
    {
      key: new Uint8Array(16).fill(0x0b),
      data: utf8("Hi There"),
      digest: "9294727a3638bb1c13f48ef8158bfc9d",
    },
    {
      key: utf8("Jefe"),
      data: utf8("what do ya want for nothing?"),
      digest: "750c783e6ab0b503eaa86e310a5db738",
    },
    {
      key: new Uint8Array(16).fill(0xaa),
      data: new Uint8Array(50).fill(0xdd),
      digest: "56be34521d144c88dbb8c733f0e8b3f6",
    },
    {
      key: unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
      data: new Uint8Array(50).fill(0xcd),
      digest: "697eaf0aca3a3aea3a75164746ffaa79",
    },
    {
      key: new Uint8Array(16).fill(0x0c),
      data: utf8("Test With Truncation"),
      digest: "56461ef2342edc00f9bab995690efd4c",
    },
    {
      key: new Uint8Array(80).fill(0xaa),
      data: utf8("Test Using Larger Than Block-Size Key - Hash Key First"),
      digest: "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
    },
    {
      key: new Uint8Array(80).fill(0xaa),
      data: utf8("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
      digest: "6f630fad67cda0ee1fb1f562db3aa53e",
    },
  ];
  cases.forEach((c, i) => {
    it(`RFC 2202 section 2: HMAC-MD5 test case ${i + 1}`, () => {
      expect(hex(hmacMd5(c.key, c.data))).toBe(c.digest);
    });
  });

  it("RFC 2104 section 2: keys of 63, 64 and 65 bytes agree with node:crypto (hashed above 64)", () => {
    for (const n of [0, 1, 63, 64, 65, 200]) {
      const key = new Uint8Array(n).map((_, i) => i + 1);
      const data = utf8("RADIUS Message-Authenticator");
      expect(hex(hmacMd5(key, data)), `key length ${n}`).toBe(
        createHmac("md5", key).update(data).digest("hex"),
      );
    }
  });

  it("leaves key and data unchanged", () => {
    const key = utf8("Jefe");
    const data = utf8("what do ya want for nothing?");
    hmacMd5(key, data);
    expect(new TextDecoder().decode(key)).toBe("Jefe");
    expect(new TextDecoder().decode(data)).toBe("what do ya want for nothing?");
  });
});
