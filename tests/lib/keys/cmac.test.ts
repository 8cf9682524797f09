import { describe, expect, it } from "npm:vitest@4.1.12";
import { importAesKey } from "../../../lib/keys/aes_block.ts";
import { aesCmac, cmacSubkeys } from "../../../lib/keys/cmac.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

// RFC 4493 section 4, "Test Vectors": one key, four prefixes of one 64-byte message.
const RFC4493_KEY = "2b7e151628aed2a6abf7158809cf4f3c";
const RFC4493_M = "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
  "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710";

describe("cmacSubkeys (RFC 4493 section 2.3)", () => {
  it("gives K1 and K2 of RFC 4493 section 4", async () => {
    const { k1, k2 } = await cmacSubkeys(await importAesKey(hex(RFC4493_KEY)));
    expect(toHex(k1)).toBe("fbeed618357133667c85e08f7236a8de");
    expect(toHex(k2)).toBe("f7ddac306ae266ccf90bc11ee46d513b");
  });
});

describe("aesCmac (RFC 4493 section 2.4)", () => {
  const cases: ReadonlyArray<readonly [string, number, string]> = [
    ["Example 1: len = 0 (empty, padded branch)", 0, "bb1d6929e95937287fa37d129b756746"],
    ["Example 2: len = 16 (one complete block)", 16, "070a16b46b4d4144f79bdd9dd04a287c"],
    ["Example 3: len = 40 (padded last block)", 40, "dfa66747de9ae63030ca32611497c827"],
    ["Example 4: len = 64 (four complete blocks)", 64, "51f0bebf7e3b9d92fc49741779363cfe"],
  ];
  for (const [name, length, tag] of cases) {
    it(`RFC 4493 section 4, ${name}`, async () => {
      const key = await importAesKey(hex(RFC4493_KEY));
      const message = hex(RFC4493_M).slice(0, length);
      expect(toHex(await aesCmac(key, message))).toBe(tag);
    });
  }

  it("matches openssl mac CMAC at 17 and 33 bytes (one byte past a block boundary)", async () => {
    const key = await importAesKey(hex(RFC4493_KEY));
    const m = hex(RFC4493_M);
    expect(toHex(await aesCmac(key, m.slice(0, 17)))).toBe("bc72cc168ec5a1434dcdb20bc1a2c2a4");
    expect(toHex(await aesCmac(key, m.slice(0, 33)))).toBe("cb8006fd4b9a8313333943ad6eb92797");
  });

  it("distinguishes a complete block from the same bytes padded (10* padding is not zero padding)", async () => {
    const key = await importAesKey(hex(RFC4493_KEY));
    const short = hex("6bc1bee22e409f96e93d7e117393172a").slice(0, 15);
    const padded = new Uint8Array(16);
    padded.set(short);
    padded[15] = 0x80;
    expect(await aesCmac(key, short)).not.toEqual(await aesCmac(key, padded));
  });

  it("leaves the message untouched and accepts a view into a larger buffer", async () => {
    const key = await importAesKey(hex(RFC4493_KEY));
    const buffer = hex("ff" + RFC4493_M.slice(0, 80) + "ff");
    const before = buffer.slice();
    expect(toHex(await aesCmac(key, buffer.subarray(1, 41)))).toBe(
      "dfa66747de9ae63030ca32611497c827",
    );
    expect(buffer).toEqual(before);
  });

  it("refuses a key that is not from importAesKey", async () => {
    const hmac = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(16),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    await expect(aesCmac(hmac, new Uint8Array(0))).rejects.toThrow(TypeError);
  });
});
