import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  BINDING_AUTH_KEY_MIN_LENGTH,
  bindingAuthenticator,
  signMobilityHeader,
  verifyMobilityHeader,
} from "../../../lib/keys/binding_auth.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  type BindingUpdate,
  bindingUpdateFlags,
  decodeMobilityHeader,
  findMobilityOption,
  mobilityHeaderChecksum,
} from "../../../lib/wire/mobility_header.ts";

/*
 * The construction of RFC 6275 section 5.2.6 with HMAC-SHA-256 and a pre-shared key:
 * First(96, HMAC-SHA-256(K, care-of address | peer | MH Data)). The expected values were
 * computed separately with Python's hmac module. K is the bytes 0x00 to 0x1f; the
 * message is the BU fixture of tests/lib/wire/mobility_header.test.ts (Sequence 0x1234,
 * A|H, 100 s, Alternate CoA 2001:db8::c1, Nonce Indices 1/2, Binding Authorization
 * Data at 42) with its Checksum zero; MH Data is its first 44 bytes.
 */
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const BU_WITHOUT_AUTH = "3b06 0500 0000 1234 c000 0019 0100" +
  "0310 20010db8 00000000 00000000 000000c1" +
  "0404 0001 0002 0102 0000 050c";
const ADDRESSES = { careOf: "2001:db8::c1", peer: "2001:db8::a" };
const AUTHENTICATOR = "84b7bd9a5b12434398a56431";
const AUTHENTICATOR_IPV4_COA = "6867a3dde7dde14e07ca0314";

const BU: BindingUpdate = {
  kind: "bindingUpdate",
  sequence: 0x1234,
  flags: bindingUpdateFlags({ ack: true, home: true }),
  lifetime: 100,
  options: [
    { kind: "alternateCareOfAddress", address: "2001:db8::c1" },
    { kind: "nonceIndices", homeNonceIndex: 1, careOfNonceIndex: 2 },
  ],
};

describe("bindingAuthenticator (RFC 6275 section 5.2.6 with HMAC-SHA-256)", () => {
  it("matches the independently computed vector", async () => {
    const mac = await bindingAuthenticator(KEY, ADDRESSES, fromHex(BU_WITHOUT_AUTH));
    expect(hex(mac)).toBe(AUTHENTICATOR);
  });

  it("maps an IPv4 care-of address to ::ffff:a.b.c.d", async () => {
    const data = fromHex(BU_WITHOUT_AUTH);
    const v4 = await bindingAuthenticator(KEY, { ...ADDRESSES, careOf: "192.0.2.10" }, data);
    expect(hex(v4)).toBe(AUTHENTICATOR_IPV4_COA);
    const mapped = await bindingAuthenticator(
      KEY,
      { ...ADDRESSES, careOf: "::ffff:192.0.2.10" },
      data,
    );
    expect(mapped).toEqual(v4);
  });

  it("refuses a key shorter than 16 bytes", async () => {
    expect(BINDING_AUTH_KEY_MIN_LENGTH).toBe(16);
    await expect(bindingAuthenticator(new Uint8Array(15), ADDRESSES, new Uint8Array(8)))
      .rejects.toThrow(RangeError);
  });
});

describe("signMobilityHeader / verifyMobilityHeader", () => {
  it("signs the BU fixture to the vector, Binding Authorization Data last at 8n+2", async () => {
    const mh = await signMobilityHeader(KEY, BU, ADDRESSES);
    expect(hex(mh)).toBe(hex(fromHex(BU_WITHOUT_AUTH)) + AUTHENTICATOR);
    const m = decodeMobilityHeader(mh);
    expect(m.kind === "bindingUpdate" && m.options.at(-1)?.kind).toBe("bindingAuthorizationData");
    expect(await verifyMobilityHeader(KEY, mh, ADDRESSES)).toBe(true);
  });

  it("replaces a placeholder Binding Authorization Data option", async () => {
    const withPlaceholder: BindingUpdate = {
      ...BU,
      options: [
        ...BU.options,
        { kind: "bindingAuthorizationData", authenticator: new Uint8Array(12).fill(0xee) },
      ],
    };
    expect(await signMobilityHeader(KEY, withPlaceholder, ADDRESSES)).toEqual(
      await signMobilityHeader(KEY, BU, ADDRESSES),
    );
  });

  it("sets the checksum after signing; the authenticator ignores it", async () => {
    const checksum = { source: "2001:db8::c1", destination: "2001:db8::a" };
    const mh = await signMobilityHeader(KEY, BU, ADDRESSES, { checksum });
    expect((mh[4]! << 8) | mh[5]!).toBe(mobilityHeaderChecksum(mh, checksum));
    expect((mh[4]! << 8) | mh[5]!).not.toBe(0);
    expect(decodeMobilityHeader(mh, { checksum })).toMatchObject({ kind: "bindingUpdate" });
    expect(await verifyMobilityHeader(KEY, mh, ADDRESSES)).toBe(true);
    expect(hex(mh.slice(44))).toBe(AUTHENTICATOR);
  });

  it("signs a Binding Acknowledgement with Binding Identifier options", async () => {
    const mh = await signMobilityHeader(KEY, {
      kind: "bindingAck",
      status: 0,
      keyManagement: false,
      sequence: 9,
      lifetime: 60,
      options: [{
        kind: "bindingIdentifier",
        bid: 1,
        status: 0,
        simultaneousHome: false,
        overwrite: false,
      }],
    }, ADDRESSES);
    expect(mh.length % 8).toBe(0);
    const m = decodeMobilityHeader(mh);
    expect(findMobilityOption(m, "bindingAuthorizationData")?.authenticator.length).toBe(12);
    expect(await verifyMobilityHeader(KEY, mh, ADDRESSES)).toBe(true);
  });

  it("fails on any flipped bit outside the checksum, a wrong key or wrong addresses", async () => {
    const mh = await signMobilityHeader(KEY, BU, ADDRESSES);
    for (let i = 0; i < mh.length; i++) {
      if (i === 4 || i === 5) continue; // the Checksum is not covered (section 5.2.6)
      const bad = mh.slice();
      bad[i] = bad[i]! ^ 0x01;
      expect(await verifyMobilityHeader(KEY, bad, ADDRESSES), `byte ${i}`).toBe(false);
    }
    const otherKey = KEY.map((b) => b ^ 0xff);
    expect(await verifyMobilityHeader(otherKey, mh, ADDRESSES)).toBe(false);
    expect(await verifyMobilityHeader(KEY, mh, { ...ADDRESSES, peer: "2001:db8::b" })).toBe(false);
    expect(await verifyMobilityHeader(KEY, mh, { ...ADDRESSES, careOf: "2001:db8::c2" })).toBe(
      false,
    );
  });

  it("does not verify a message without the option, with a short one, or that does not decode", async () => {
    const plain = fromHex("3b01 0600 0000 0000 0005 0064 0102 0000");
    expect(await verifyMobilityHeader(KEY, plain, ADDRESSES)).toBe(false);
    // An 8-byte Authenticator (at 18, ends 28, PadN(2) to 32) is not ours.
    const short = fromHex(
      "3b03 0500 0000 0001 8000 0001 0104 00000000 0508 0102030405060708 0102 0000",
    );
    expect(await verifyMobilityHeader(KEY, short, ADDRESSES)).toBe(false);
    expect(await verifyMobilityHeader(KEY, new Uint8Array(5), ADDRESSES)).toBe(false);
  });

  it("refuses a short key on sign and verify", async () => {
    await expect(signMobilityHeader(new Uint8Array(8), BU, ADDRESSES)).rejects.toThrow(
      "Invalid binding key: expected at least 16 bytes, got 8",
    );
    await expect(verifyMobilityHeader(new Uint8Array(8), new Uint8Array(16), ADDRESSES)).rejects
      .toThrow(RangeError);
  });
});
