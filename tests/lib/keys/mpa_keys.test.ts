import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  mnArKey,
  mnCaKey,
  mpaSaKeyMaterial,
  pmk,
  transientSessionKey,
} from "../../../lib/keys/mpa_keys.ts";
import { prfPlus } from "../../../lib/keys/prf_plus.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/*
 * Interoperability vectors for the MPA key derivation documented in lib/keys/mpa_keys.ts,
 * computed with `openssl dgst -sha256 -mac HMAC` (prf+ step by step) from the EAP-PSK
 * MSK of eap_psk_keys.test.ts, PANA session id 0x0a0b0c0d and CTN "ctn-b.example";
 * TSK for PoA "00:11:22:33:44:55", MN "mn@mpa.example", nonce 01..10, 48 bytes.
 */
const MSK = hex(
  "5d378ae575c3de2411018fe4e0a3aa43002575716d99afad5fb54fb42c6875b7" +
    "0ecb6a38bdb671c1b689004bfacdde2ea7a774d34f3a9e963eed7dbaff45705f",
);
const SESSION = 0x0a0b0c0d;
const CTN = "ctn-b.example";
const MN_CA = "5f292a5b29235f4c11ac18be9eed40ebe3c93c322e072203ed4484760cda23ed";
const MN_AR = "fb0829f69b892e34188aea4b3e8a4717ecbac3929b9dea40e822bfde864c9abf";
const PMK = "5d378ae575c3de2411018fe4e0a3aa43002575716d99afad5fb54fb42c6875b7";
const NONCE = hex("0102030405060708090a0b0c0d0e0f10");
const TSK_48 = "344171c3ac31a5bc9f87f2b7d460f7a7ac030877cc3026f4b7041fb59d74a93f" +
  "f030ff895655620d2d3de3576f197a12";

describe("mnCaKey and mnArKey (RFC 6252 section 6.3 step 1)", () => {
  it("derive the MN-CA and MN-AR keys as computed with openssl", async () => {
    expect(toHex(await mnCaKey(MSK, SESSION, CTN))).toBe(MN_CA);
    expect(toHex(await mnArKey(MSK, SESSION, CTN))).toBe(MN_AR);
  });

  it("are prf+(MSK, label | 0x00 | session id (4 bytes, big-endian) | CTN, 32)", async () => {
    const seed = (label: string) =>
      new Uint8Array([...ascii(label), 0, 0x0a, 0x0b, 0x0c, 0x0d, ...ascii(CTN)]);
    expect(await mnCaKey(MSK, SESSION, CTN)).toEqual(await prfPlus(MSK, seed("MPA MN-CA key"), 32));
    expect(await mnArKey(MSK, SESSION, CTN)).toEqual(await prfPlus(MSK, seed("MPA MN-AR key"), 32));
  });

  it("mpaSaKeyMaterial gives both", async () => {
    const { mnCa, mnAr } = await mpaSaKeyMaterial(MSK, SESSION, CTN);
    expect(toHex(mnCa)).toBe(MN_CA);
    expect(toHex(mnAr)).toBe(MN_AR);
  });

  it("bind the PANA session and the CTN: another session or CTN gives other keys", async () => {
    const keys = new Set([
      MN_CA,
      MN_AR,
      toHex(await mnCaKey(MSK, SESSION + 1, CTN)),
      toHex(await mnCaKey(MSK, SESSION, "ctn-c.example")),
      toHex(await mnArKey(MSK, 0, CTN)),
      toHex(await mnCaKey(MSK.map((b) => b ^ 0xff), SESSION, CTN)),
    ]);
    expect(keys.size).toBe(6);
  });

  it("encode the CTN as UTF-8", async () => {
    const seed = new Uint8Array([...ascii("MPA MN-CA key"), 0, 0, 0, 0, 1, ...ascii("réseau-b")]);
    expect(await mnCaKey(MSK, 1, "réseau-b")).toEqual(await prfPlus(MSK, seed, 32));
  });

  it("refuse a short MSK, a session id outside 32 bits, and an empty CTN or one with NUL", async () => {
    await expect(mnCaKey(MSK.slice(0, 63), SESSION, CTN)).rejects.toThrow(
      new RangeError("Invalid MSK: expected at least 64 bytes, got 63"),
    );
    await expect(mnCaKey(MSK, 2 ** 32, CTN)).rejects.toThrow(RangeError);
    await expect(mnArKey(MSK, -1, CTN)).rejects.toThrow(RangeError);
    await expect(mnArKey(MSK, 1.5, CTN)).rejects.toThrow(RangeError);
    await expect(mnCaKey(MSK, SESSION, "")).rejects.toThrow(
      new RangeError("Invalid CTN identifier: expected a non-empty string"),
    );
    await expect(mnCaKey(MSK, SESSION, "a\u0000b")).rejects.toThrow(
      new RangeError("Invalid CTN identifier: contains a NUL character"),
    );
  });
});

describe("pmk (RFC 5247 section 2.1, RFC 6252 section 7.7.1)", () => {
  it("is the first 32 bytes of the MSK, as a copy", () => {
    const msk = MSK.slice();
    const out = pmk(msk);
    expect(toHex(out)).toBe(PMK);
    out.fill(0);
    expect(msk).toEqual(MSK);
  });

  it("refuses an MSK shorter than 64 bytes", () => {
    expect(() => pmk(MSK.slice(0, 32))).toThrow(RangeError);
  });
});

describe("transientSessionKey (RFC 6252 section 7.7.1)", () => {
  const PMK_BYTES = hex(PMK);

  it("derives the per-PoA key as computed with openssl (48 bytes, two blocks)", async () => {
    const tsk = await transientSessionKey(
      PMK_BYTES,
      "00:11:22:33:44:55",
      "mn@mpa.example",
      NONCE,
      48,
    );
    expect(toHex(tsk)).toBe(TSK_48);
  });

  it('is prf+(PMK, "MPA TSK" | 0x00 | PoA | 0x00 | MN-ID | 0x00 | nonce), 32 bytes by default', async () => {
    const seed = new Uint8Array([
      ...ascii("MPA TSK"),
      0,
      ...ascii("00:11:22:33:44:55"),
      0,
      ...ascii("mn@mpa.example"),
      0,
      ...NONCE,
    ]);
    const tsk = await transientSessionKey(PMK_BYTES, "00:11:22:33:44:55", "mn@mpa.example", NONCE);
    expect(tsk).toEqual(await prfPlus(PMK_BYTES, seed, 32));
    expect(toHex(tsk)).toBe(TSK_48.slice(0, 64));
  });

  it("gives each PoA, MN and nonce its own key", async () => {
    const other = NONCE.slice();
    other[0] = 0xff;
    const keys = new Set([
      TSK_48.slice(0, 64),
      toHex(await transientSessionKey(PMK_BYTES, "00:11:22:33:44:56", "mn@mpa.example", NONCE)),
      toHex(await transientSessionKey(PMK_BYTES, "00:11:22:33:44:55", "mn2@mpa.example", NONCE)),
      toHex(await transientSessionKey(PMK_BYTES, "00:11:22:33:44:55", "mn@mpa.example", other)),
    ]);
    expect(keys.size).toBe(4);
  });

  it("refuses identities with NUL (they would make the seed ambiguous)", async () => {
    // Without the check, ("a\0b", "c") and ("a", "b\0c") would give the same seed.
    await expect(transientSessionKey(PMK_BYTES, "a\u0000b", "c", NONCE)).rejects.toThrow(
      new RangeError("Invalid PoA identifier: contains a NUL character"),
    );
    await expect(transientSessionKey(PMK_BYTES, "a", "b\u0000c", NONCE)).rejects.toThrow(
      RangeError,
    );
    await expect(transientSessionKey(PMK_BYTES, "", "c", NONCE)).rejects.toThrow(RangeError);
  });

  it("refuses a PMK that is not 32 bytes, a nonce under 8 bytes and a bad length", async () => {
    await expect(transientSessionKey(MSK, "ap", "mn", NONCE)).rejects.toThrow(
      new RangeError("Invalid PMK: expected 32 bytes, got 64"),
    );
    await expect(transientSessionKey(PMK_BYTES, "ap", "mn", NONCE.slice(0, 7))).rejects.toThrow(
      new RangeError("Invalid TSK nonce: expected at least 8 bytes, got 7"),
    );
    await expect(transientSessionKey(PMK_BYTES, "ap", "mn", NONCE, 0)).rejects.toThrow(RangeError);
  });
});
