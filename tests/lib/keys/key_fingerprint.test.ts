import { describe, expect, it } from "npm:vitest@4.1.12";
import { keyFingerprint } from "../../../lib/keys/key_fingerprint.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

describe("keyFingerprint", () => {
  it("is the first 16 bytes of SHA-256, lowercase hex (FIPS 180-4 empty-message digest)", async () => {
    expect(await keyFingerprint(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb924");
  });

  it("matches `openssl dgst -sha256` of the MN-CA key and of the MSK of the test vectors", async () => {
    const mnCa = hex("5f292a5b29235f4c11ac18be9eed40ebe3c93c322e072203ed4484760cda23ed");
    expect(await keyFingerprint(mnCa)).toBe("84d281385402ad5cae55e095671ec568");
    const msk = hex(
      "5d378ae575c3de2411018fe4e0a3aa43002575716d99afad5fb54fb42c6875b7" +
        "0ecb6a38bdb671c1b689004bfacdde2ea7a774d34f3a9e963eed7dbaff45705f",
    );
    expect(await keyFingerprint(msk)).toBe("c7bd9dad232fdf10a19f7679c286d454");
  });

  it("never contains the key itself", async () => {
    const key = new Uint8Array(16).fill(0xab);
    const fp = await keyFingerprint(key);
    expect(fp).toMatch(/^[0-9a-f]{32}$/);
    expect(fp).not.toContain("abababab");
  });

  it("refuses a value that is not bytes", async () => {
    await expect(keyFingerprint("secret" as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });
});
