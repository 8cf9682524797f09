import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { decodeRtp, encodeRtp, type RtpPacket } from "../../../lib/wire/rtp.ts";

// V=2 P=0 X=0 CC=0 | M=0 PT=0 | seq 0x0001 | ts 0x000000a0 | SSRC 0x11223344 | 4 bytes
const PCMU_HEX = "80000001000000a011223344" + "fffefdfc";
// V=2 P=1 X=1 CC=2 | M=1 PT=8 | seq 0xfffe | ts 0xffffff60 | SSRC 0xdeadbeef |
// CSRC 1, CSRC 2 | ext profile 0xbede, 1 word 0x10ff0000 | payload 0xaa 0xbb | pad 3
const FULL_HEX = "b288fffeffffff60deadbeef" + "0000000100000002" + "bede0001" + "10ff0000" +
  "aabb" + "000003";

describe("RTP fixed header (RFC 3550 section 5.1)", () => {
  it("decodes a PCMU packet from literal hex (section 5.1)", () => {
    const p = decodeRtp(fromHex(PCMU_HEX));
    expect(p).toEqual({
      marker: false,
      payloadType: 0,
      sequence: 1,
      timestamp: 160,
      ssrc: 0x11223344,
      csrcs: [],
      payload: fromHex("fffefdfc"),
    });
  });

  it("encodes the PCMU packet to the same bytes (section 5.1)", () => {
    const p: RtpPacket = {
      payloadType: 0,
      sequence: 1,
      timestamp: 160,
      ssrc: 0x11223344,
      payload: fromHex("fffefdfc"),
    };
    expect(hex(encodeRtp(p))).toBe(PCMU_HEX);
  });

  it("decodes CSRCs, skips the header extension (section 5.3.1) and strips padding", () => {
    const p = decodeRtp(fromHex(FULL_HEX));
    expect(p.marker).toBe(true);
    expect(p.payloadType).toBe(8);
    expect(p.sequence).toBe(0xfffe);
    expect(p.timestamp).toBe(0xffffff60);
    expect(p.ssrc).toBe(0xdeadbeef);
    expect(p.csrcs).toEqual([1, 2]);
    expect(p.extension).toEqual({ profile: 0xbede, data: fromHex("10ff0000") });
    expect(hex(p.payload)).toBe("aabb");
    expect(p.padding).toBe(3);
  });

  it("round-trips CSRCs, extension and padding (sections 5.1, 5.3.1)", () => {
    expect(hex(encodeRtp(decodeRtp(fromHex(FULL_HEX))))).toBe(FULL_HEX);
  });

  it("refuses a version other than 2 (section 5.1)", () => {
    expect(() => decodeRtp(fromHex("40000001000000a011223344"))).toThrow(
      new MalformedMessageError("Invalid RTP version: 1, expected 2"),
    );
  });

  it("refuses truncated headers, CSRC lists and extensions", () => {
    expect(() => decodeRtp(fromHex("80000001000000a0112233"))).toThrow(/Truncated RTP header/);
    expect(() => decodeRtp(fromHex("82000001000000a01122334400000001"))).toThrow(
      /Truncated RTP CSRC list/,
    );
    expect(() => decodeRtp(fromHex("90000001000000a011223344bede"))).toThrow(
      /Truncated RTP header extension/,
    );
    expect(() => decodeRtp(fromHex("90000001000000a011223344bede000200000000"))).toThrow(
      /Truncated RTP header extension/,
    );
    expect(() => decodeRtp(new Uint8Array(0))).toThrow(MalformedMessageError);
  });

  it("refuses a padding count of zero or larger than the payload (section 5.1)", () => {
    expect(() => decodeRtp(fromHex("a0000001000000a011223344aa00"))).toThrow(
      /Invalid RTP padding: count 0/,
    );
    expect(() => decodeRtp(fromHex("a0000001000000a011223344aa09"))).toThrow(
      /Invalid RTP padding: count 9/,
    );
    expect(() => decodeRtp(fromHex("a0000001000000a011223344"))).toThrow(
      /Invalid RTP padding/,
    );
  });

  it("keeps a large payload whole (oversized input is not a header error)", () => {
    const payload = new Uint8Array(1400).fill(0x55);
    const bytes = encodeRtp({ payloadType: 0, sequence: 9, timestamp: 0, ssrc: 1, payload });
    expect(bytes.length).toBe(1412);
    expect(decodeRtp(bytes).payload).toEqual(payload);
  });

  it("refuses out-of-range fields on encode", () => {
    const base = { payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, payload: new Uint8Array() };
    expect(() => encodeRtp({ ...base, payloadType: 128 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, sequence: 65536 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, timestamp: -1 })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, csrcs: new Array(16).fill(0) })).toThrow(RangeError);
    expect(() => encodeRtp({ ...base, extension: { profile: 0, data: new Uint8Array(3) } }))
      .toThrow(RangeError);
    expect(() => encodeRtp({ ...base, padding: 256 })).toThrow(RangeError);
  });
});
