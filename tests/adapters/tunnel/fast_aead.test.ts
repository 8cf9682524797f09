import { describe, expect, it } from "npm:vitest@4.1.12";
import { _FastAead, _fastDataKeys } from "../../../adapters/tunnel/_fast_aead.ts";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";
import { importMnArKey, phtDataKeys } from "../../../lib/keys/pht_keys.ts";
import { openPhtData, sealPhtData } from "../../../lib/pht/pht_data_seal.ts";
import { decodePhtFrame, type PhtDataFrame } from "../../../lib/wire/pht.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const MN_NONCE = new Uint8Array(16).fill(0x11);
const AR_NONCE = new Uint8Array(16).fill(0x22);
const TUNNEL = 0x01020304;
const PACKET = Uint8Array.from({ length: 1400 }, (_, i) => (i * 7) & 0xff);

function data(frame: Uint8Array): PhtDataFrame {
  const decoded = decodePhtFrame(frame);
  if (decoded.kind !== "data") throw new Error("not a data frame");
  return decoded;
}

async function bothKeys() {
  const mnAr = await importMnArKey(RAW);
  const web = await phtDataKeys(mnAr, MN_NONCE, AR_NONCE, TUNNEL);
  const fast = await _fastDataKeys(mnAr, MN_NONCE, AR_NONCE, TUNNEL);
  if (fast === undefined) throw new Error("no fast keys");
  return { web, fast };
}

describe("synchronous AES-256-GCM of PHT data frames (RFC 6252 sections 6.3 step 3, 7.4)", () => {
  it("a frame sealed with WebCrypto opens with the fast path, both directions", async () => {
    const { web, fast } = await bothKeys();
    const up = await sealPhtData(web.mnToAr, "mn-to-ar", TUNNEL, 5n, PACKET);
    expect(fast.mnToAr.open(data(up))).toEqual(PACKET);
    const down = await sealPhtData(web.arToMn, "ar-to-mn", TUNNEL, 1n << 40n, PACKET);
    expect(fast.arToMn.open(data(down))).toEqual(PACKET);
  });

  it("a frame sealed with the fast path opens with WebCrypto and is byte-identical", async () => {
    const { web, fast } = await bothKeys();
    const frame = fast.arToMn.seal(TUNNEL, 77n, PACKET);
    expect(frame).toEqual(await sealPhtData(web.arToMn, "ar-to-mn", TUNNEL, 77n, PACKET));
    expect(await openPhtData(web.arToMn, "ar-to-mn", data(frame))).toEqual(PACKET);
    const empty = fast.mnToAr.seal(TUNNEL, 1n, new Uint8Array(0));
    expect(await openPhtData(web.mnToAr, "mn-to-ar", data(empty))).toEqual(new Uint8Array(0));
  });

  it("refuses an altered header, ciphertext or tag, and the other direction's key", async () => {
    const { fast } = await bothKeys();
    const frame = fast.mnToAr.seal(TUNNEL, 9n, PACKET);
    for (const at of [7, 16, frame.length - 1]) {
      const bad = frame.slice();
      bad[at]! ^= 1;
      expect(() => fast.mnToAr.open(data(bad))).toThrow(IntegrityError);
    }
    expect(() => fast.arToMn.open(data(frame))).toThrow("PHT data frame does not authenticate");
  });

  it("wipes the key bytes: seal and open fail afterwards", () => {
    const key = new Uint8Array(32).fill(3);
    const aead = new _FastAead(key, "mn-to-ar");
    const frame = aead.seal(1, 1n, Uint8Array.of(0x45));
    aead.wipe();
    expect(key.every((b) => b === 0)).toBe(true);
    expect(aead.wiped).toBe(true);
    expect(() => aead.seal(1, 2n, Uint8Array.of(0x45))).toThrow(RangeError);
    expect(() => aead.open(data(frame))).toThrow(IntegrityError);
    expect(() => new _FastAead(new Uint8Array(16), "mn-to-ar")).toThrow(RangeError);
  });

  it("keeps WebCrypto for an MN-AR key without deriveBits", async () => {
    const deriveKeyOnly = await crypto.subtle.importKey("raw", RAW, "HKDF", false, ["deriveKey"]);
    expect(await _fastDataKeys(deriveKeyOnly, MN_NONCE, AR_NONCE, TUNNEL)).toBeUndefined();
  });
});
