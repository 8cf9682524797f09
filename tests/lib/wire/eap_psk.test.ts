import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex } from "../../../lib/wire/_bytes.ts";
import { decodeEap, type EapTypedPacket, encodeEap } from "../../../lib/wire/eap.ts";
import {
  decodeEapPsk,
  decodeEapPskChannelPlaintext,
  eapPskHeader,
  eapPskHeaderFor,
  type EapPskMessage,
  type EapPskMessage3,
  encodeEapPsk,
  encodeEapPskChannelPlaintext,
} from "../../../lib/wire/eap_psk.ts";
import { EapCode, EapPskResult, EapType } from "../../../lib/wire/eap_constants.ts";

function fixture(name: string): Uint8Array {
  return fromHex(Deno.readTextFileSync(new URL(`../../fixtures/eap/${name}.hex`, import.meta.url)));
}

function typeDataOf(bytes: Uint8Array): Uint8Array {
  return (decodeEap(bytes) as EapTypedPacket).typeData;
}

const ascii = (s: string) => new TextEncoder().encode(s);
const RAND_S = fromHex("000102030405060708090a0b0c0d0e0f");
const RAND_P = fromHex("101112131415161718191a1b1c1d1e1f");
const MAC_P = fromHex("202122232425262728292a2b2c2d2e2f");
const MAC_S = fromHex("303132333435363738393a3b3c3d3e3f");

const msg1: EapPskMessage = { t: 0, randS: RAND_S, idS: ascii("paa.ctn-b") };
const msg2: EapPskMessage = {
  t: 1,
  randS: RAND_S,
  randP: RAND_P,
  macP: MAC_P,
  idP: ascii("mn1@mpa"),
};
const msg3: EapPskMessage3 = {
  t: 2,
  randS: RAND_S,
  macS: MAC_S,
  pchannel: {
    nonce: 0,
    tag: fromHex("404142434445464748494a4b4c4d4e4f"),
    encrypted: fromHex("9c"),
  },
};
const msg4: EapPskMessage = {
  t: 3,
  randS: RAND_S,
  pchannel: {
    nonce: 1,
    tag: fromHex("505152535455565758595a5b5c5d5e5f"),
    encrypted: fromHex("3e"),
  },
};

const cases: [string, EapPskMessage, EapTypedPacket["code"], number][] = [
  ["psk_msg1", msg1, EapCode.Request, 1],
  ["psk_msg2", msg2, EapCode.Response, 1],
  ["psk_msg3", msg3, EapCode.Request, 2],
  ["psk_msg4", msg4, EapCode.Response, 2],
];

describe("EAP-PSK messages (RFC 4764 section 5)", () => {
  it.each(cases)("sections 5.1-5.4: %s decodes to the expected fields", (name, msg) => {
    expect(decodeEapPsk(typeDataOf(fixture(name)))).toEqual(msg);
  });

  it.each(cases)(
    "sections 5.1-5.4: %s re-encodes to the fixture inside an EAP packet of type 47",
    (name, msg, code, identifier) => {
      const typeData = encodeEapPsk(msg);
      expect(typeData).toEqual(typeDataOf(fixture(name)));
      expect(encodeEap({ code, identifier, type: EapType.Psk, typeData })).toEqual(fixture(name));
    },
  );

  it("section 5.1: T sits in the two high bits; reserved bits are ignored and sent as zero", () => {
    const td = typeDataOf(fixture("psk_msg1"));
    td[0] = 0x3f; // T=0 with every reserved bit set
    expect(decodeEapPsk(td)).toEqual(msg1);
    expect(encodeEapPsk(msg1)[0]).toBe(0x00);
    expect([msg2, msg3, msg4].map((m) => encodeEapPsk(m)[0])).toEqual([0x40, 0x80, 0xc0]);
  });

  it("section 5: a message shorter than its fixed part is refused with MalformedMessageError", () => {
    const minimum: [string, number][] = [["psk_msg1", 18], ["psk_msg2", 50], ["psk_msg3", 54], [
      "psk_msg4",
      38,
    ]];
    for (const [name, min] of minimum) {
      const td = typeDataOf(fixture(name));
      for (let n = 0; n < min; n++) {
        expect(() => decodeEapPsk(td.subarray(0, n)), `${name} cut at ${n}`).toThrow(
          MalformedMessageError,
        );
      }
      expect(() => decodeEapPsk(td.subarray(0, min))).not.toThrow();
    }
    expect(() => decodeEapPsk(typeDataOf(fixture("psk_msg3")).subarray(0, 53))).toThrow(
      "Truncated EAP-PSK message 3: need 53 bytes, got 52",
    );
  });

  it("section 5: the variable tail (ID, ciphertext) is delimited by the EAP Length field", () => {
    // Cutting inside ID_S still parses at this layer; decodeEap refuses the cut packet.
    const m = decodeEapPsk(typeDataOf(fixture("psk_msg1")).subarray(0, 20));
    expect(m).toEqual({ t: 0, randS: RAND_S, idS: ascii("paa") });
    expect(() => decodeEap(fixture("psk_msg1").subarray(0, 26))).toThrow(MalformedMessageError);
  });

  it("sections 5.1, 5.2: an empty ID_S or ID_P is refused as a protocol violation", () => {
    expect(() => decodeEapPsk(encodeEapPsk(msg1).subarray(0, 17))).toThrow(MalformedMessageError);
    expect(() => encodeEapPsk({ ...msg1, idS: new Uint8Array() })).toThrow(ProtocolViolationError);
    expect(() => encodeEapPsk({ ...msg2, idP: new Uint8Array() } as EapPskMessage)).toThrow(
      "Invalid EAP-PSK ID_P: empty",
    );
  });

  it("section 5: fixed-size fields must have their exact size when encoding", () => {
    expect(() => encodeEapPsk({ ...msg1, randS: new Uint8Array(15) })).toThrow(
      "Invalid EAP-PSK RAND_S: 15 bytes, expected 16",
    );
    expect(() => encodeEapPsk({ ...msg2, macP: new Uint8Array(17) } as EapPskMessage)).toThrow(
      MalformedMessageError,
    );
    const badTag = { ...msg3, pchannel: { ...msg3.pchannel, tag: new Uint8Array(8) } };
    expect(() => encodeEapPsk(badTag)).toThrow("Invalid EAP-PSK tag: 8 bytes, expected 16");
    const empty = { ...msg3, pchannel: { ...msg3.pchannel, encrypted: new Uint8Array() } };
    expect(() => encodeEapPsk(empty)).toThrow("Invalid EAP-PSK PCHANNEL: empty ciphertext");
    for (const nonce of [-1, 2 ** 32, 1.5]) {
      const bad = { ...msg3, pchannel: { ...msg3.pchannel, nonce } };
      expect(() => encodeEapPsk(bad)).toThrow(MalformedMessageError);
    }
  });

  it("section 5.3: the nonce is a big-endian uint32 up to 2^32 - 1", () => {
    const m = { ...msg3, pchannel: { ...msg3.pchannel, nonce: 0xfffffffe } };
    const td = encodeEapPsk(m);
    expect(td.subarray(33, 37)).toEqual(fromHex("fffffffe"));
    expect(decodeEapPsk(td)).toEqual(m);
  });

  it("decoded fields are copies of the input", () => {
    const td = typeDataOf(fixture("psk_msg2"));
    const m = decodeEapPsk(td);
    td.fill(0xff);
    expect(m).toEqual(msg2);
  });
});

describe("EAP-PSK associated data (RFC 4764 sections 5.3, 5.4)", () => {
  it("is the first 22 bytes of the EAP packet: Code, Identifier, Length, Type, Flags, RAND_S", () => {
    for (const name of ["psk_msg3", "psk_msg4"]) {
      const bytes = fixture(name);
      const ad = eapPskHeader(bytes);
      expect(ad).toEqual(bytes.subarray(0, 22));
      expect(ad.subarray(6)).toEqual(RAND_S);
    }
  });

  it("can be computed before the packet exists, from the message with its final lengths", () => {
    expect(eapPskHeaderFor(EapCode.Request, 2, msg3)).toEqual(fixture("psk_msg3").subarray(0, 22));
    expect(eapPskHeaderFor(EapCode.Response, 2, msg4)).toEqual(fixture("psk_msg4").subarray(0, 22));
    expect(() => eapPskHeaderFor(EapCode.Request, 256, msg3)).toThrow(MalformedMessageError);
  });

  it("refuses packets that are not EAP-PSK Requests/Responses of at least 22 bytes", () => {
    expect(() => eapPskHeader(fixture("psk_msg3").subarray(0, 21))).toThrow(
      "Truncated EAP-PSK header: need 22 bytes, got 21",
    );
    const identity = new Uint8Array(30);
    identity.set([2, 1, 0, 30, 1]);
    expect(() => eapPskHeader(identity)).toThrow("Invalid EAP-PSK packet: type 1, expected 47");
    const success = new Uint8Array(22);
    success.set([3, 1, 0, 4]);
    expect(() => eapPskHeader(success)).toThrow("Invalid EAP-PSK packet: code 3");
    const long = fixture("psk_msg4");
    long[3] = 0x2c; // Length one more than the bytes received
    expect(() => eapPskHeader(long)).toThrow(MalformedMessageError);
  });
});

describe("EAP-PSK protected channel plaintext (RFC 4764 section 5.3)", () => {
  it("puts R in the two high bits: CONT 01, DONE_SUCCESS 10, DONE_FAILURE 11", () => {
    expect(encodeEapPskChannelPlaintext({ result: EapPskResult.Cont })).toEqual(fromHex("40"));
    expect(encodeEapPskChannelPlaintext({ result: EapPskResult.DoneSuccess })).toEqual(
      fromHex("80"),
    );
    expect(encodeEapPskChannelPlaintext({ result: EapPskResult.DoneFailure })).toEqual(
      fromHex("c0"),
    );
    expect(decodeEapPskChannelPlaintext(fromHex("80"))).toEqual({
      result: EapPskResult.DoneSuccess,
    });
  });

  it("sets E and appends EXT_Type and EXT_Payload for an extension", () => {
    const p = { result: EapPskResult.Cont, extension: { type: 7, payload: fromHex("0102") } };
    expect(encodeEapPskChannelPlaintext(p)).toEqual(fromHex("60 07 0102"));
    expect(decodeEapPskChannelPlaintext(fromHex("60 07 0102"))).toEqual(p);
    expect(decodeEapPskChannelPlaintext(fromHex("a0 ff"))).toEqual({
      result: EapPskResult.DoneSuccess,
      extension: { type: 255, payload: new Uint8Array() },
    });
  });

  it("ignores the five reserved bits", () => {
    expect(decodeEapPskChannelPlaintext(fromHex("9f"))).toEqual({
      result: EapPskResult.DoneSuccess,
    });
  });

  it("refuses R = 00 (reserved) as a protocol violation and malformed layouts as malformed", () => {
    expect(() => decodeEapPskChannelPlaintext(fromHex("00"))).toThrow(ProtocolViolationError);
    expect(() => decodeEapPskChannelPlaintext(new Uint8Array())).toThrow(MalformedMessageError);
    expect(() => decodeEapPskChannelPlaintext(fromHex("20"))).toThrow(ProtocolViolationError);
    expect(() => decodeEapPskChannelPlaintext(fromHex("a0"))).toThrow(
      "Truncated EAP-PSK extension: need 1 byte, got 0",
    );
    expect(() => decodeEapPskChannelPlaintext(fromHex("80 00"))).toThrow(
      "Invalid EAP-PSK PCHANNEL: 1 trailing byte without the E flag",
    );
    expect(() => encodeEapPskChannelPlaintext({ result: 0 as EapPskResult })).toThrow(
      MalformedMessageError,
    );
    expect(() =>
      encodeEapPskChannelPlaintext({
        result: 2,
        extension: { type: 256, payload: new Uint8Array() },
      })
    ).toThrow("Invalid EAP-PSK EXT_Type");
  });
});
