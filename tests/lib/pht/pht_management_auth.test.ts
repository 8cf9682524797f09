import { describe, expect, it } from "npm:vitest@4.1.12";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";
import { importMnArKey, phtDataKeys, phtManagementKey } from "../../../lib/keys/pht_keys.ts";
import { signPhtManagement, verifyPhtManagement } from "../../../lib/pht/pht_management_auth.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { decodePhtFrame, type PhtManagementFrame } from "../../../lib/wire/pht.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => i);
// Pinned once from this implementation; the key derivation is checked against
// node:crypto in tests/lib/keys/pht_keys.test.ts.
const SIGNED_CREATE_HEX = "01010000000000000005f1e2d3c4b5a60104010203040204c000020a03040a000232" +
  "04040000ea600510" + "a5".repeat(16) + "50e818b8ee103a6bd8a9d1b6879df478";

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

function mgmt(bytes: Uint8Array): PhtManagementFrame {
  const f = decodePhtFrame(bytes);
  if (f.kind !== "management") throw new Error("not management");
  return f;
}

describe("PHT management authentication (RFC 6252 section 7.4)", () => {
  it("signs create to the pinned MAC and verifies it", async () => {
    const { mgmt: k } = await keys();
    const bytes = await signPhtManagement(k, {
      kind: "create",
      tunnelId: 0,
      sequence: 0x0005f1e2d3c4b5a6n,
      sessionId: 0x01020304,
      oCoA: "192.0.2.10",
      nCoA: "10.0.2.50",
      lifetimeMs: 60000,
      mnNonce: new Uint8Array(16).fill(0xa5),
    });
    expect(hex(bytes)).toBe(SIGNED_CREATE_HEX);
    await verifyPhtManagement(k, mgmt(bytes));
  });

  it("refuses an altered message and a MAC under another key", async () => {
    const { mgmt: k } = await keys();
    const bad = fromHex(SIGNED_CREATE_HEX);
    bad[12] = bad[12]! ^ 1; // the sequence number
    await expect(verifyPhtManagement(k, mgmt(bad))).rejects.toThrow(
      "PHT management MAC does not verify",
    );
    const other = await phtManagementKey(await importMnArKey(new Uint8Array(32)));
    await expect(verifyPhtManagement(other, mgmt(fromHex(SIGNED_CREATE_HEX)))).rejects.toThrow(
      IntegrityError,
    );
  });
});
