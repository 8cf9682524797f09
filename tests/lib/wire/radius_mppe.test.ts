import { describe, expect, it } from "npm:vitest@4.1.12";
import { createHash } from "node:crypto";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import {
  decodeRadius,
  decryptMppeKey,
  encryptMppeKey,
  mppeKeyAttributes,
  mppeKeys,
  mppeMsk,
  mskFromMppe,
  radiusAttribute,
  type RadiusPacket,
  vendorSpecificAttribute,
  vendorSpecificValues,
} from "../../../lib/wire/radius.ts";
import {
  MICROSOFT_VENDOR_ID,
  MicrosoftVendorType as MS,
  RadiusCode,
} from "../../../lib/wire/radius_constants.ts";
import eapolTest from "../../fixtures/radius/eapol_test_eap_psk.json" with { type: "json" };

const unhex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const packets = eapolTest.packets.map((p) => unhex(p.hex));
const ACCEPT = decodeRadius(packets.at(-1)!);
const LAST_REQUEST = decodeRadius(packets.at(-2)!);
const MSK = unhex(eapolTest.msk);

function accept(attributes: RadiusPacket["attributes"]): RadiusPacket {
  return {
    code: RadiusCode.AccessAccept,
    identifier: 1,
    authenticator: new Uint8Array(16),
    attributes,
  };
}

/** RFC 2548 section 2.4.2's key stream, written out with node:crypto as an independent oracle. */
function oracleEncrypt(key: Uint8Array, secret: string, ra: Uint8Array, salt: number): string {
  const plain = new Uint8Array(Math.ceil((key.length + 1) / 16) * 16);
  plain[0] = key.length;
  plain.set(key, 1);
  const saltBytes = new Uint8Array([salt >> 8, salt & 0xff]);
  const out: number[] = [...saltBytes];
  let b = createHash("md5").update(secret).update(ra).update(saltBytes).digest();
  for (let i = 0; i < plain.length; i += 16) {
    const c = plain.subarray(i, i + 16).map((p, j) => p ^ b[j]!);
    out.push(...c);
    b = createHash("md5").update(secret).update(c).digest();
  }
  return hex(new Uint8Array(out));
}

describe("MS-MPPE keys from a real Access-Accept (hostapd, eapol_test)", () => {
  it("RFC 2548 sections 2.4.2-2.4.3: the Access-Accept answers the last Access-Request and carries both keys", () => {
    expect(ACCEPT.code).toBe(RadiusCode.AccessAccept);
    expect(ACCEPT.identifier).toBe(LAST_REQUEST.identifier);
    expect(vendorSpecificValues(ACCEPT, MICROSOFT_VENDOR_ID, MS.MppeSendKey).length).toBe(1);
    expect(vendorSpecificValues(ACCEPT, MICROSOFT_VENDOR_ID, MS.MppeRecvKey).length).toBe(1);
  });

  it("decrypts to the MSK eapol_test derived: MSK = MS-MPPE-Recv-Key | MS-MPPE-Send-Key", () => {
    const keys = mppeKeys(ACCEPT, eapolTest.secret, LAST_REQUEST.authenticator)!;
    expect(hex(keys.recv)).toBe(hex(MSK.subarray(0, 32)));
    expect(hex(keys.send)).toBe(hex(MSK.subarray(32)));
    expect(hex(mppeMsk(ACCEPT, eapolTest.secret, LAST_REQUEST.authenticator)!)).toBe(eapolTest.msk);
  });

  it("the salts hostapd chose have their high bit set and differ", () => {
    const send = vendorSpecificValues(ACCEPT, MICROSOFT_VENDOR_ID, MS.MppeSendKey)[0]!;
    const recv = vendorSpecificValues(ACCEPT, MICROSOFT_VENDOR_ID, MS.MppeRecvKey)[0]!;
    expect(send[0]! & 0x80).toBe(0x80);
    expect(recv[0]! & 0x80).toBe(0x80);
    expect(hex(send.subarray(0, 2))).not.toBe(hex(recv.subarray(0, 2)));
    expect([send.length, recv.length]).toEqual([2 + 48, 2 + 48]);
  });

  it("decrypting with the wrong Request Authenticator or secret never yields the key", () => {
    const value = vendorSpecificValues(ACCEPT, MICROSOFT_VENDOR_ID, MS.MppeRecvKey)[0]!;
    let refused = 0;
    for (let i = 0; i < 32; i++) {
      try {
        const key = decryptMppeKey(value, `wrong-${i}`, LAST_REQUEST.authenticator);
        expect(hex(key)).not.toBe(hex(MSK.subarray(0, 32)));
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedMessageError);
        expect((error as Error).message).toMatch(/^Invalid MS-MPPE key: Key-Length \d+ overruns/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    // The Request Authenticator of another request of the same exchange.
    const other = decodeRadius(packets[0]!).authenticator;
    let key: Uint8Array | undefined;
    try {
      key = decryptMppeKey(value, eapolTest.secret, other);
    } catch (error) {
      expect(error).toBeInstanceOf(MalformedMessageError);
    }
    if (key !== undefined) expect(hex(key)).not.toBe(hex(MSK.subarray(0, 32)));
  });
});

describe("encryptMppeKey / decryptMppeKey (RFC 2548 section 2.4.2)", () => {
  const ra = new Uint8Array(16).map((_, i) => 0xa0 + i);

  it("matches the RFC's b(1) = MD5(S + R + A), b(i) = MD5(S + c(i-1)) written out independently", () => {
    for (const n of [0, 1, 15, 16, 31, 32, 47, 100]) {
      const key = new Uint8Array(n).map((_, i) => i * 3);
      expect(hex(encryptMppeKey(key, "s3cret", ra, 0x8000 + n)), `key length ${n}`).toBe(
        oracleEncrypt(key, "s3cret", ra, 0x8000 + n),
      );
    }
  });

  it("round-trips keys of every length 0-239, padding the String to a multiple of 16", () => {
    for (let n = 0; n <= 239; n++) {
      const key = new Uint8Array(n).map((_, i) => (i * 13 + n) & 0xff);
      const value = encryptMppeKey(key, "secret", ra, 0xfedc);
      expect((value.length - 2) % 16).toBe(0);
      expect(value.length - 2).toBe(Math.ceil((n + 1) / 16) * 16);
      expect(decryptMppeKey(value, "secret", ra)).toEqual(key);
    }
  });

  it("refuses a key over 239 bytes: the attribute would exceed 253 bytes", () => {
    expect(() => encryptMppeKey(new Uint8Array(240), "s", ra, 0x8000)).toThrow(
      "Oversized MS-MPPE key: 240 bytes, at most 239",
    );
  });

  it("refuses a salt without its high bit, on both sides", () => {
    expect(() => encryptMppeKey(new Uint8Array(32), "s", ra, 0x7fff)).toThrow(
      ProtocolViolationError,
    );
    const value = encryptMppeKey(new Uint8Array(32), "s", ra, 0x8000);
    value[0] = 0x00;
    expect(() => decryptMppeKey(value, "s", ra)).toThrow(
      "Invalid MS-MPPE salt: the high bit must be set (RFC 2548 section 2.4.2)",
    );
  });

  it("refuses a String that is empty or not a multiple of 16 bytes with MalformedMessageError", () => {
    for (const n of [0, 1, 2, 17, 33, 49]) {
      const value = new Uint8Array(n).fill(0x80);
      expect(() => decryptMppeKey(value, "s", ra), `${n} bytes`).toThrow(MalformedMessageError);
    }
  });

  it("refuses a Request Authenticator not 16 bytes long", () => {
    expect(() => encryptMppeKey(new Uint8Array(32), "s", new Uint8Array(15), 0x8000)).toThrow(
      "Invalid Request Authenticator: expected 16 bytes, got 15",
    );
  });
});

describe("MSK to and from MS-MPPE attributes", () => {
  const ra = new Uint8Array(16).fill(0x42);
  const msk = new Uint8Array(64).map((_, i) => 255 - i);

  it("mppeKeyAttributes puts MSK[32..64] in MS-MPPE-Send-Key and MSK[0..32] in MS-MPPE-Recv-Key", () => {
    const attributes = mppeKeyAttributes(msk, "s", ra, { send: 0x8001, recv: 0x8002 });
    const packet = accept(attributes);
    const send = vendorSpecificValues(packet, MICROSOFT_VENDOR_ID, MS.MppeSendKey)[0]!;
    const recv = vendorSpecificValues(packet, MICROSOFT_VENDOR_ID, MS.MppeRecvKey)[0]!;
    expect(decryptMppeKey(send, "s", ra)).toEqual(msk.subarray(32));
    expect(decryptMppeKey(recv, "s", ra)).toEqual(msk.subarray(0, 32));
    expect(mppeMsk(packet, "s", ra)).toEqual(msk);
  });

  it("refuses equal salts and an MSK that is not 64 bytes", () => {
    expect(() => mppeKeyAttributes(msk, "s", ra, { send: 0x8001, recv: 0x8001 })).toThrow(
      ProtocolViolationError,
    );
    expect(() => mppeKeyAttributes(msk.subarray(1), "s", ra, { send: 0x8001, recv: 0x8002 }))
      .toThrow("Invalid MSK: 63 bytes, expected 64");
  });

  it("mskFromMppe joins Recv then Send and refuses keys not 32 bytes long", () => {
    const msk2 = mskFromMppe(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    expect(Array.from(msk2.subarray(30, 34))).toEqual([1, 1, 2, 2]);
    expect(() => mskFromMppe(new Uint8Array(16), new Uint8Array(32))).toThrow(
      "Invalid MS-MPPE-Recv-Key: 16 bytes, expected 32 (half of a 64-byte MSK)",
    );
  });

  it("mppeKeys: undefined without keys; ProtocolViolationError for a lone or repeated key", () => {
    expect(mppeKeys(accept([radiusAttribute(1, "x")]), "s", ra)).toBeUndefined();
    const [send, recv] = mppeKeyAttributes(msk, "s", ra, { send: 0x8001, recv: 0x8002 });
    expect(() => mppeKeys(accept([send!]), "s", ra)).toThrow(
      "Invalid MS-MPPE keys: expected one MS-MPPE-Send-Key and one MS-MPPE-Recv-Key, got 1 and 0",
    );
    expect(() => mppeKeys(accept([send!, recv!, recv!]), "s", ra)).toThrow(ProtocolViolationError);
  });
});

describe("Vendor-Specific (RFC 2865 section 5.26)", () => {
  it("lays out Vendor-Id, Vendor-Type, Vendor-Length, data", () => {
    const attribute = vendorSpecificAttribute(MICROSOFT_VENDOR_ID, 17, new Uint8Array([0xaa]));
    expect(attribute.type).toBe(26);
    expect(hex(attribute.value)).toBe("000001371103aa");
  });

  it("finds one vendor's sub-attributes across attributes, skipping other vendors unparsed", () => {
    const packet = accept([
      { type: 26, value: new Uint8Array([0, 0, 0, 9, 0xff]) }, // another vendor, odd layout
      vendorSpecificAttribute(311, 16, new Uint8Array([1])),
      {
        type: 26,
        value: new Uint8Array([0, 0, 1, 0x37, 16, 3, 2, 17, 3, 3]), // two sub-attributes
      },
    ]);
    expect(vendorSpecificValues(packet, 311, 16)).toEqual([
      new Uint8Array([1]),
      new Uint8Array([2]),
    ]);
    expect(vendorSpecificValues(packet, 311, 17)).toEqual([new Uint8Array([3])]);
    expect(vendorSpecificValues(packet, 311, 99)).toEqual([]);
  });

  it("throws MalformedMessageError for a Vendor-Specific shorter than a Vendor-Id or an overrunning sub-attribute", () => {
    expect(() => vendorSpecificValues(accept([{ type: 26, value: new Uint8Array(3) }]), 311, 16))
      .toThrow("Truncated Vendor-Specific attribute: 3 bytes, the Vendor-Id needs 4");
    for (const sub of [[16], [16, 1], [16, 9, 0]]) {
      const value = new Uint8Array([0, 0, 1, 0x37, ...sub]);
      expect(() => vendorSpecificValues(accept([{ type: 26, value }]), 311, 16), `${sub}`)
        .toThrow(MalformedMessageError);
    }
  });

  it("refuses data over 247 bytes", () => {
    expect(() => vendorSpecificAttribute(311, 16, new Uint8Array(248))).toThrow(
      "Oversized vendor-specific attribute: 248 bytes of data, at most 247",
    );
  });
});
