import { describe, expect, it } from "npm:vitest@4.1.12";
import { panaAuthAvp, panaAuthKey, verifyPanaAuth } from "../../../lib/keys/pana_keys.ts";
import { importPrfKey, prfPlus } from "../../../lib/keys/prf_plus.ts";
import { mpaSaKeyMaterial } from "../../../lib/keys/mpa_keys.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/*
 * RFC 5191 section 5.3. RFC 5191 has no test vectors; the expected values were computed
 * with `openssl dgst -sha256 -mac HMAC` (prf+ step by step). The MSK is the EAP-PSK MSK
 * of eap_psk_keys.test.ts. I_PAR / I_PAN are bare 16-byte PANA headers (flags R|S and S,
 * type 2, session 1, sequence 10); the nonces are 20 bytes of 0x11 and of 0x22; Key-Id 1.
 */
const MSK = hex(
  "5d378ae575c3de2411018fe4e0a3aa43002575716d99afad5fb54fb42c6875b7" +
    "0ecb6a38bdb671c1b689004bfacdde2ea7a774d34f3a9e963eed7dbaff45705f",
);
const I_PAR = hex("00000010c0000002000000010000000a");
const I_PAN = hex("0000001040000002000000010000000a");
const PAC_NONCE = new Uint8Array(20).fill(0x11);
const PAA_NONCE = new Uint8Array(20).fill(0x22);
const AUTH_KEY = "71343236f53427365b2c7b28ce1adc6983093ab3755323e3dc7be673a73f5271";
// A 40-byte PANA-Auth-Answer: header (length 40, type 2, session 1, seq 11) and an AUTH
// AVP (code 1, length 16) whose value is zeroed.
const MESSAGE = hex(
  "0000002800000002000000010000000b" + "0001000000100000" + "00000000000000000000000000000000",
);
const AUTH = "77852dcdebccfe609299ae87a5be0012";

describe("panaAuthKey (RFC 5191 section 5.3)", () => {
  it("derives PANA_AUTH_KEY as computed with openssl", async () => {
    const key = await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 1);
    expect(toHex(key)).toBe(AUTH_KEY);
  });

  it('is prf+(MSK, "IETF PANA" | I_PAR | I_PAN | PaC_nonce | PAA_nonce | Key_ID) with Key_ID big-endian', async () => {
    const seed = new Uint8Array([
      ...new TextEncoder().encode("IETF PANA"),
      ...I_PAR,
      ...I_PAN,
      ...PAC_NONCE,
      ...PAA_NONCE,
      0x12,
      0x34,
      0x56,
      0x78,
    ]);
    expect(await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 0x12345678)).toEqual(
      await prfPlus(MSK, seed, 32),
    );
  });

  it("changes with every input", async () => {
    const base = toHex(await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 1));
    const other = PAC_NONCE.slice();
    other[0] = 0;
    const variants = [
      await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 2),
      await panaAuthKey(MSK, I_PAN, I_PAR, PAC_NONCE, PAA_NONCE, 1),
      await panaAuthKey(MSK, I_PAR, I_PAN, other, PAA_NONCE, 1),
      await panaAuthKey(MSK, I_PAR, I_PAN, PAA_NONCE, PAC_NONCE, 1),
      await panaAuthKey(MSK.map((b) => b ^ 1), I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 1),
    ];
    for (const v of variants) expect(toHex(v)).not.toBe(base);
  });

  it("accepts Key-Id 0 and 2^32 - 1, refuses values outside 32 bits", async () => {
    await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 0);
    await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 0xffffffff);
    await expect(panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 2 ** 32)).rejects.toThrow(
      new RangeError("Invalid Key-Id: expected an integer in [0, 4294967295], got 4294967296"),
    );
    await expect(panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, -1)).rejects.toThrow(
      RangeError,
    );
  });

  it("refuses an MSK shorter than 64 bytes and empty messages or nonces", async () => {
    await expect(panaAuthKey(MSK.slice(0, 32), I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 1)).rejects
      .toThrow(new RangeError("Invalid MSK: expected at least 64 bytes, got 32"));
    const e = new Uint8Array(0);
    await expect(panaAuthKey(MSK, e, I_PAN, PAC_NONCE, PAA_NONCE, 1)).rejects.toThrow(RangeError);
    await expect(panaAuthKey(MSK, I_PAR, I_PAN, e, PAA_NONCE, 1)).rejects.toThrow(RangeError);
  });
});

describe("panaAuthAvp and verifyPanaAuth (RFC 5191 section 5.3, AUTH_HMAC_SHA2_256_128)", () => {
  it("computes the AUTH value as computed with openssl (HMAC-SHA-256, first 16 bytes)", async () => {
    expect(toHex(await panaAuthAvp(hex(AUTH_KEY), MESSAGE))).toBe(AUTH);
  });

  it("verifies the right value and refuses an altered message, value or key", async () => {
    const key = hex(AUTH_KEY);
    expect(await verifyPanaAuth(key, MESSAGE, hex(AUTH))).toBe(true);
    const altered = MESSAGE.slice();
    altered[15] = 0x0c; // another sequence number
    expect(await verifyPanaAuth(key, altered, hex(AUTH))).toBe(false);
    const badAuth = hex(AUTH);
    badAuth[15]! ^= 1;
    expect(await verifyPanaAuth(key, MESSAGE, badAuth)).toBe(false);
    expect(await verifyPanaAuth(key.map((b) => b ^ 1), MESSAGE, hex(AUTH))).toBe(false);
  });

  it("refuses a truncated or overlong AUTH value (including the full 32-byte HMAC)", async () => {
    const key = hex(AUTH_KEY);
    expect(await verifyPanaAuth(key, MESSAGE, hex(AUTH).slice(0, 15))).toBe(false);
    expect(await verifyPanaAuth(key, MESSAGE, new Uint8Array(0))).toBe(false);
    expect(await verifyPanaAuth(key, MESSAGE, new Uint8Array([...hex(AUTH), 0]))).toBe(false);
  });

  it("refuses a PANA_AUTH_KEY that is not 32 bytes", async () => {
    await expect(panaAuthAvp(new Uint8Array(16), MESSAGE)).rejects.toThrow(
      new RangeError("Invalid PANA_AUTH_KEY: expected 32 bytes, got 16"),
    );
    await expect(verifyPanaAuth(new Uint8Array(64), MESSAGE, hex(AUTH))).rejects.toThrow(
      RangeError,
    );
  });

  it("PaC and PAA derive the same key and accept each other's AUTH", async () => {
    const pac = await panaAuthKey(MSK, I_PAR, I_PAN, PAC_NONCE, PAA_NONCE, 1);
    const paa = await panaAuthKey(
      MSK.slice(),
      I_PAR.slice(),
      I_PAN.slice(),
      PAC_NONCE,
      PAA_NONCE,
      1,
    );
    expect(await verifyPanaAuth(paa, MESSAGE, await panaAuthAvp(pac, MESSAGE))).toBe(true);
  });
});

describe("PANA and MPA-SA keys from an imported MSK (RFC 5191 section 5.3, RFC 6252 section 6.3)", () => {
  it("PANA_AUTH_KEY, the AUTH AVP and the MN-CA/MN-AR keys equal those from the raw bytes", async () => {
    const msk = new Uint8Array(64).map((_, i) => i);
    const mskKey = await importPrfKey(msk);
    const par = new Uint8Array([1, 2, 3]);
    const pan = new Uint8Array([4, 5]);
    const nonces = [new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)] as const;
    const authKey = await panaAuthKey(msk, par, pan, nonces[0], nonces[1], 7);
    expect(await panaAuthKey(mskKey, par, pan, nonces[0], nonces[1], 7)).toEqual(authKey);
    expect(await mpaSaKeyMaterial(mskKey, 9, "ctn-b")).toEqual(
      await mpaSaKeyMaterial(msk, 9, "ctn-b"),
    );
    const message = new Uint8Array(40).fill(3);
    const authHmac = await importPrfKey(authKey);
    const auth = await panaAuthAvp(authHmac, message);
    expect(auth).toEqual(await panaAuthAvp(authKey, message));
    expect(await verifyPanaAuth(authHmac, message, auth)).toBe(true);
    auth[0]! ^= 1;
    expect(await verifyPanaAuth(authHmac, message, auth)).toBe(false);
  });
});
