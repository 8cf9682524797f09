import { describe, expect, it } from "npm:vitest@4.1.12";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";
import { importMnArKey, phtDataKeys, phtManagementKey } from "../../../lib/keys/pht_keys.ts";
import { openPhtData, sealPhtData } from "../../../lib/pht/pht_data_seal.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { decodePhtFrame, type PhtDataFrame } from "../../../lib/wire/pht.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => i);
const PACKET = Uint8Array.of(0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 2, 50, 192, 0, 2, 1);
// Pinned once from this implementation; the key derivation is checked against
// node:crypto in tests/lib/keys/pht_keys.test.ts.
const DATA_HEX = "01000000deadbeef0000000000000001" +
  "fe5882ee295898405e57cd3b33a535684728f360" + "51a68d453ade18fb2ea5f670b178024b";

async function keys() {
  const mnAr = await importMnArKey(RAW);
  return {
    data: await phtDataKeys(
      mnAr,
      new Uint8Array(16).fill(0xa5),
      new Uint8Array(16).fill(0x5a),
      0xdeadbeef,
    ),
    mgmt: await phtManagementKey(mnAr),
  };
}

function data(bytes: Uint8Array): PhtDataFrame {
  const f = decodePhtFrame(bytes);
  if (f.kind !== "data") throw new Error("not data");
  return f;
}

describe("PHT data sealing (RFC 6252 section 7.4: AES-GCM under the MN-AR key)", () => {
  it("seals to the pinned frame and opens it", async () => {
    const { data: k } = await keys();
    const frame = await sealPhtData(k.mnToAr, "mn-to-ar", 0xdeadbeef, 1n, PACKET);
    expect(hex(frame)).toBe(DATA_HEX);
    expect(await openPhtData(k.mnToAr, "mn-to-ar", data(fromHex(DATA_HEX)))).toEqual(PACKET);
  });

  it("refuses a flipped bit in header, ciphertext or tag, the other direction, another key", async () => {
    const { data: k } = await keys();
    for (const i of [5, 15, 20, 47]) {
      const bad = fromHex(DATA_HEX);
      bad[i] = bad[i]! ^ 1;
      await expect(openPhtData(k.mnToAr, "mn-to-ar", data(bad))).rejects.toThrow(IntegrityError);
    }
    await expect(openPhtData(k.mnToAr, "ar-to-mn", data(fromHex(DATA_HEX)))).rejects.toThrow(
      "PHT data frame does not authenticate",
    );
    await expect(openPhtData(k.arToMn, "mn-to-ar", data(fromHex(DATA_HEX)))).rejects.toThrow(
      IntegrityError,
    );
  });

  it("refuses a packet too long for one datagram", async () => {
    const { data: k } = await keys();
    await expect(sealPhtData(k.mnToAr, "mn-to-ar", 1, 1n, new Uint8Array(70_000))).rejects
      .toThrow(RangeError);
  });
});
