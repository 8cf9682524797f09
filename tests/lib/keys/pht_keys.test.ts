import { createCipheriv, createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  importMnArKey,
  phtDataKeyBytes,
  phtDataKeys,
  phtManagementKey,
} from "../../../lib/keys/pht_keys.ts";
import { hex } from "../../../lib/wire/_bytes.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => i);
const MN_NONCE = new Uint8Array(16).fill(0xa5);
const AR_NONCE = new Uint8Array(16).fill(0x5a);
const TUNNEL = 0xdeadbeef;
const MESSAGE = new TextEncoder().encode("PHT management test vector");

function hkdf(info: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", RAW, salt, info, 32));
}

function dataInfo(label: string): Uint8Array {
  const prefix = new TextEncoder().encode(label);
  const out = new Uint8Array(prefix.length + 4);
  out.set(prefix);
  new DataView(out.buffer).setUint32(prefix.length, TUNNEL);
  return out;
}

async function gcm(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  plain: Uint8Array<ArrayBuffer>,
): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain)));
}

function nodeGcm(key: Buffer, iv: Uint8Array, plain: Uint8Array): string {
  const c = createCipheriv("aes-256-gcm", key, iv);
  const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return out.toString("hex");
}

describe("PHT keys from the MN-AR key (RFC 6252 sections 6.3 step 1, 7.4; RFC 5869)", () => {
  it("imports the MN-AR key as a non-extractable HKDF key", async () => {
    const key = await importMnArKey(RAW);
    expect(key.algorithm.name).toBe("HKDF");
    expect(key.extractable).toBe(false);
    expect([...key.usages].sort()).toEqual(["deriveBits", "deriveKey"]);
    expect(() => importMnArKey(new Uint8Array(0))).toThrow("Invalid MN-AR key: empty");
  });

  it("derives the management key as HKDF(MN-AR, empty salt, 'MPA PHT management')", async () => {
    const mgmt = await phtManagementKey(await importMnArKey(RAW));
    const mac = hex(new Uint8Array(await crypto.subtle.sign("HMAC", mgmt, MESSAGE)));
    const expected = createHmac(
      "sha256",
      hkdf(new TextEncoder().encode("MPA PHT management"), new Uint8Array(0)),
    ).update(MESSAGE).digest("hex");
    expect(mac).toBe(expected);
    expect(mgmt.extractable).toBe(false);
  });

  it("derives one AES-256-GCM key per direction, salted with both nonces and bound to the tunnel id", async () => {
    const mnAr = await importMnArKey(RAW);
    const keys = await phtDataKeys(mnAr, MN_NONCE, AR_NONCE, TUNNEL);
    const salt = new Uint8Array([...MN_NONCE, ...AR_NONCE]);
    const iv = new Uint8Array(12);
    const plain = Uint8Array.of(1, 2, 3, 4);
    expect(await gcm(keys.mnToAr, iv, plain)).toBe(
      nodeGcm(hkdf(dataInfo("MPA PHT data MN->AR"), salt), iv, plain),
    );
    expect(await gcm(keys.arToMn, iv, plain)).toBe(
      nodeGcm(hkdf(dataInfo("MPA PHT data AR->MN"), salt), iv, plain),
    );
    expect(await gcm(keys.mnToAr, iv, plain)).not.toBe(await gcm(keys.arToMn, iv, plain));
  });

  it("derives the same data keys as bytes with the same HKDF parameters (RFC 5869)", async () => {
    const mnAr = await importMnArKey(RAW);
    const bytes = await phtDataKeyBytes(mnAr, MN_NONCE, AR_NONCE, TUNNEL);
    const salt = new Uint8Array([...MN_NONCE, ...AR_NONCE]);
    expect(hex(bytes.mnToAr)).toBe(hkdf(dataInfo("MPA PHT data MN->AR"), salt).toString("hex"));
    expect(hex(bytes.arToMn)).toBe(hkdf(dataInfo("MPA PHT data AR->MN"), salt).toString("hex"));
    const noBits = await crypto.subtle.importKey("raw", RAW, "HKDF", false, ["deriveKey"]);
    await expect(phtDataKeyBytes(noBits, MN_NONCE, AR_NONCE, TUNNEL)).rejects.toThrow();
  });

  it("gives a re-created tunnel (new nonces) fresh keys, so nonces are never reused", async () => {
    const mnAr = await importMnArKey(RAW);
    const a = await phtDataKeys(mnAr, MN_NONCE, AR_NONCE, TUNNEL);
    const b = await phtDataKeys(mnAr, new Uint8Array(16).fill(1), AR_NONCE, TUNNEL);
    const c = await phtDataKeys(mnAr, MN_NONCE, AR_NONCE, TUNNEL + 1);
    const iv = new Uint8Array(12);
    const plain = Uint8Array.of(9);
    const outs = await Promise.all([a, b, c].map((k) => gcm(k.mnToAr, iv, plain)));
    expect(new Set(outs).size).toBe(3);
  });
});
