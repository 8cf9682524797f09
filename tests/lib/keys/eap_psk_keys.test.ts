import { describe, expect, it } from "npm:vitest@4.1.12";
import { aesEncryptBlock, importAesKey } from "../../../lib/keys/aes_block.ts";
import { aesCmac } from "../../../lib/keys/cmac.ts";
import {
  eapPskDeriveKeys,
  eapPskKeySetup,
  eapPskMacP,
  eapPskMacS,
  eapPskMacs,
  eapPskPrepareKeys,
} from "../../../lib/keys/eap_psk_keys.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/*
 * RFC 4764 publishes no test vectors, and a search of public sources (hostapd's
 * eap_psk_common.c, FreeRADIUS, implementation test suites) found no published EAP-PSK
 * known-answer vector. The
 * literal values below were computed on the command line with OpenSSL 3.0 only
 * (`openssl enc -aes-128-ecb -nopad` for E_K, `openssl mac -cipher AES-128-CBC CMAC` for
 * CMAC), following RFC 4764 sections 3.1 and 3.2 step by step; they check this module
 * against an AES that is not WebCrypto's. The interop test against hostapd's EAP-PSK
 * server (issue 3, section 5) will confirm the MSK end to end.
 */
const PSK = "0123456789abcdeffedcba9876543210";
const ID_P = ascii("mn@mpa.example");
const ID_S = ascii("aa.ctn-b.example");
const RAND_S = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
const RAND_P = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const AK = "b672a91a74559edc2db4311f7c727e29";
const KDK = "7a6bf8621b15e5cbb2a34fcca75ccd0a";
const TEK = "7c63333266affa9d5c50e999d078d89b";
const MSK = "5d378ae575c3de2411018fe4e0a3aa43002575716d99afad5fb54fb42c6875b7" +
  "0ecb6a38bdb671c1b689004bfacdde2ea7a774d34f3a9e963eed7dbaff45705f";
const EMSK = "8830a333ec8a333b9ab9bd9e2e678ca830d1a502b61e515f3f3a7849af401270" +
  "ca5707d37140183b685d8bbc722dd919b27cdc492ddaaa78076d346b47a62a30";
const MAC_P = "de5f6918193e170cfbaa0816a7a2346c";
const MAC_S = "bdfe07543c51847aac5a5ba4f265eced";

describe("eapPskKeySetup (RFC 4764 section 3.1)", () => {
  it("derives AK and KDK as computed with openssl", async () => {
    const { ak, kdk } = await eapPskKeySetup(hex(PSK));
    expect(toHex(ak)).toBe(AK);
    expect(toHex(kdk)).toBe(KDK);
  });

  it("is E_PSK(E_PSK(0) XOR c1) and E_PSK(E_PSK(0) XOR c2), step by step", async () => {
    const psk = new Uint8Array(16).fill(0x5a);
    const key = await importAesKey(psk);
    const base = await aesEncryptBlock(key, new Uint8Array(16));
    const c1 = base.slice();
    c1[15]! ^= 1;
    const c2 = base.slice();
    c2[15]! ^= 2;
    const { ak, kdk } = await eapPskKeySetup(psk);
    expect(ak).toEqual(await aesEncryptBlock(key, c1));
    expect(kdk).toEqual(await aesEncryptBlock(key, c2));
    expect(ak).not.toEqual(kdk);
  });

  it("gives different keys for PSKs that differ in one bit", async () => {
    const a = hex(PSK);
    const b = hex(PSK);
    b[0]! ^= 0x80;
    const ka = await eapPskKeySetup(a);
    const kb = await eapPskKeySetup(b);
    expect(ka.ak).not.toEqual(kb.ak);
    expect(ka.kdk).not.toEqual(kb.kdk);
  });

  it("refuses a PSK that is not 16 bytes", async () => {
    await expect(eapPskKeySetup(new Uint8Array(15))).rejects.toThrow(
      new RangeError("Invalid EAP-PSK PSK: expected 16 bytes, got 15"),
    );
    await expect(eapPskKeySetup(new Uint8Array(32))).rejects.toThrow(RangeError);
  });
});

describe("eapPskDeriveKeys (RFC 4764 section 3.2, modified counter mode)", () => {
  it("derives TEK, MSK (64 bytes) and EMSK (64 bytes) as computed with openssl", async () => {
    const keys = await eapPskDeriveKeys(hex(KDK), hex(RAND_P));
    expect(toHex(keys.tek)).toBe(TEK);
    expect(toHex(keys.msk)).toBe(MSK);
    expect(toHex(keys.emsk)).toBe(EMSK);
  });

  it("uses counters 1 (TEK), 2..5 (MSK) and 6..9 (EMSK) over X = E_KDK(RAND_P)", async () => {
    const kdk = new Uint8Array(16).fill(0x33);
    const randP = new Uint8Array(16).fill(0x44);
    const key = await importAesKey(kdk);
    const x = await aesEncryptBlock(key, randP);
    const block = async (i: number) => {
      const input = x.slice();
      input[15]! ^= i;
      return await aesEncryptBlock(key, input);
    };
    const keys = await eapPskDeriveKeys(kdk, randP);
    expect(keys.tek).toEqual(await block(1));
    expect(keys.msk.slice(0, 16)).toEqual(await block(2));
    expect(keys.msk.slice(48, 64)).toEqual(await block(5));
    expect(keys.emsk.slice(0, 16)).toEqual(await block(6));
    expect(keys.emsk.slice(48, 64)).toEqual(await block(9));
  });

  it("equals the block-by-block definition whatever the low 4 bits of X (one counter-mode call)", async () => {
    // The implementation takes E_KDK(X XOR c_i) from 16 consecutive counter blocks
    // starting at X with its low 4 bits cleared: check every value of those bits.
    const kdk = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const key = await importAesKey(kdk);
    const seen = new Set<number>();
    for (let n = 0; seen.size < 16 && n < 2000; n++) {
      const randP = new Uint8Array(16);
      new DataView(randP.buffer).setUint32(12, n);
      const x = await aesEncryptBlock(key, randP);
      if (seen.has(x[15]! & 0x0f)) continue;
      seen.add(x[15]! & 0x0f);
      const blocks = await Promise.all(
        Array.from({ length: 9 }, (_, i) => {
          const input = x.slice();
          input[15]! ^= i + 1;
          return aesEncryptBlock(key, input);
        }),
      );
      const keys = await eapPskDeriveKeys(kdk, randP);
      expect(keys.tek).toEqual(blocks[0]);
      expect(keys.msk).toEqual(new Uint8Array(blocks.slice(1, 5).flatMap((b) => [...b])));
      expect(keys.emsk).toEqual(new Uint8Array(blocks.slice(5, 9).flatMap((b) => [...b])));
    }
    expect(seen.size).toBe(16);
  });

  it("gives a fresh MSK for a fresh RAND_P, and the same one for the same inputs", async () => {
    const a = await eapPskDeriveKeys(hex(KDK), hex(RAND_P));
    const other = hex(RAND_P);
    other[15]! ^= 1;
    const b = await eapPskDeriveKeys(hex(KDK), other);
    expect(b.msk).not.toEqual(a.msk);
    expect((await eapPskDeriveKeys(hex(KDK), hex(RAND_P))).msk).toEqual(a.msk);
  });

  it("the peer and the server, each from the PSK alone, reach the same MSK", async () => {
    const peer = await eapPskKeySetup(hex(PSK));
    const server = await eapPskKeySetup(hex(PSK));
    const p = await eapPskDeriveKeys(peer.kdk, hex(RAND_P));
    const s = await eapPskDeriveKeys(server.kdk, hex(RAND_P));
    expect(toHex(p.msk)).toBe(toHex(s.msk));
  });

  it("refuses a KDK or RAND_P that is not 16 bytes", async () => {
    await expect(eapPskDeriveKeys(new Uint8Array(15), new Uint8Array(16))).rejects.toThrow(
      RangeError,
    );
    await expect(eapPskDeriveKeys(new Uint8Array(16), new Uint8Array(17))).rejects.toThrow(
      new RangeError("Invalid EAP-PSK RAND_P: expected 16 bytes, got 17"),
    );
  });
});

describe("eapPskMacP and eapPskMacS (RFC 4764 section 3.2)", () => {
  it("MAC_P = CMAC(AK, ID_P || ID_S || RAND_S || RAND_P), as computed with openssl", async () => {
    expect(toHex(await eapPskMacP(hex(AK), ID_P, ID_S, hex(RAND_S), hex(RAND_P)))).toBe(MAC_P);
  });

  it("MAC_S = CMAC(AK, ID_S || RAND_P), as computed with openssl", async () => {
    expect(toHex(await eapPskMacS(hex(AK), ID_S, hex(RAND_P)))).toBe(MAC_S);
  });

  it("eapPskMacs gives both MACs at once, the same values", async () => {
    const { macP, macS } = await eapPskMacs(hex(AK), ID_P, ID_S, hex(RAND_S), hex(RAND_P));
    expect(toHex(macP)).toBe(MAC_P);
    expect(toHex(macS)).toBe(MAC_S);
    await expect(eapPskMacs(hex(AK), ID_P, ID_S, hex(RAND_S), new Uint8Array(15))).rejects
      .toThrow(RangeError);
  });

  it("MAC_P equals aesCmac over the concatenation", async () => {
    const mac = await aesCmac(
      await importAesKey(hex(AK)),
      new Uint8Array([...ID_P, ...ID_S, ...hex(RAND_S), ...hex(RAND_P)]),
    );
    expect(await eapPskMacP(hex(AK), ID_P, ID_S, hex(RAND_S), hex(RAND_P))).toEqual(mac);
  });

  it("MAC_P binds the order of the random numbers and the identities", async () => {
    const good = await eapPskMacP(hex(AK), ID_P, ID_S, hex(RAND_S), hex(RAND_P));
    expect(await eapPskMacP(hex(AK), ID_P, ID_S, hex(RAND_P), hex(RAND_S))).not.toEqual(good);
    expect(await eapPskMacP(hex(AK), ID_S, ID_P, hex(RAND_S), hex(RAND_P))).not.toEqual(good);
  });

  it("a wrong PSK gives a different MAC_S (the peer detects an impostor server)", async () => {
    const wrong = await eapPskKeySetup(new Uint8Array(16));
    expect(toHex(await eapPskMacS(wrong.ak, ID_S, hex(RAND_P)))).not.toBe(MAC_S);
  });

  it("refuses an AK, RAND_S or RAND_P that is not 16 bytes", async () => {
    const r = hex(RAND_P);
    await expect(eapPskMacP(new Uint8Array(8), ID_P, ID_S, r, r)).rejects.toThrow(RangeError);
    await expect(eapPskMacP(hex(AK), ID_P, ID_S, r.slice(1), r)).rejects.toThrow(RangeError);
    await expect(eapPskMacS(hex(AK), ID_S, r.slice(1))).rejects.toThrow(RangeError);
  });
});

describe("eapPskPrepareKeys (RFC 4764 section 3.1, set up once per PSK)", () => {
  it("gives the openssl MAC_P, MAC_S, TEK, MSK and EMSK, as the raw AK and KDK do", async () => {
    const prepared = await eapPskPrepareKeys(hex(PSK));
    const macs = await eapPskMacs(prepared, ID_P, ID_S, hex(RAND_S), hex(RAND_P));
    expect([toHex(macs.macP), toHex(macs.macS)]).toEqual([MAC_P, MAC_S]);
    const keys = await eapPskDeriveKeys(prepared, hex(RAND_P));
    expect([toHex(keys.tek), toHex(keys.msk), toHex(keys.emsk)]).toEqual([TEK, MSK, EMSK]);
  });

  it("serves many sessions: each RAND_P gives the keys the raw KDK gives", async () => {
    const prepared = await eapPskPrepareKeys(hex(PSK));
    for (const randP of [RAND_P, "00".repeat(16), "ff".repeat(16)]) {
      expect(await eapPskDeriveKeys(prepared, hex(randP))).toEqual(
        await eapPskDeriveKeys(hex(KDK), hex(randP)),
      );
    }
  });

  it("keeps the keys non-extractable and refuses a PSK that is not 16 bytes", async () => {
    const prepared = await eapPskPrepareKeys(hex(PSK));
    expect([prepared.ak.extractable, prepared.kdk.extractable]).toEqual([false, false]);
    await expect(eapPskPrepareKeys(new Uint8Array(15))).rejects.toThrow(RangeError);
  });
});
