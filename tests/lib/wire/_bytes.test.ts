import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { ByteReader, ByteWriter, fromHex, hex } from "../../../lib/wire/_bytes.ts";

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error("Expected an error");
}

describe("ByteReader", () => {
  it("reads big-endian (network order) integers and byte runs", () => {
    const r = new ByteReader(fromHex("01 0203 04050607 aabb"));
    expect(r.u8("x")).toBe(0x01);
    expect(r.u16("x")).toBe(0x0203);
    expect(r.u32("x")).toBe(0x04050607);
    expect(r.offset).toBe(7);
    expect(r.remaining).toBe(2);
    expect(r.bytes(2, "x")).toEqual(fromHex("aabb"));
    expect(r.remaining).toBe(0);
  });

  it("reads unsigned 32-bit values above 2^31 as positive numbers", () => {
    expect(new ByteReader(fromHex("ffffffff")).u32("x")).toBe(0xffffffff);
  });

  it("honours the byte offset of a subarray view", () => {
    const whole = fromHex("ff ff 12 34 ff");
    const r = new ByteReader(whole.subarray(2, 4));
    expect(r.u16("x")).toBe(0x1234);
    expect(() => r.u8("x")).toThrow(MalformedMessageError);
  });

  it("returns copies, so later changes to the input do not leak into decoded fields", () => {
    const input = fromHex("0102030405");
    const r = new ByteReader(input);
    const first = r.bytes(2, "x");
    const rest = r.rest();
    input.fill(0);
    expect(first).toEqual(fromHex("0102"));
    expect(rest).toEqual(fromHex("030405"));
  });

  it("throws MalformedMessageError naming the structure, the need and what is left", () => {
    const r = new ByteReader(new Uint8Array(9));
    const e = errorOf(() => r.need(16, "PANA header"));
    expect(e).toBeInstanceOf(MalformedMessageError);
    expect(e.message).toBe("Truncated PANA header: need 16 bytes, got 9");
    expect(errorOf(() => new ByteReader(new Uint8Array()).u8("EAP header")).message).toBe(
      "Truncated EAP header: need 1 byte, got 0",
    );
  });

  it("does not move the cursor when a read fails", () => {
    const r = new ByteReader(fromHex("0102"));
    expect(() => r.u32("x")).toThrow(MalformedMessageError);
    expect(r.offset).toBe(0);
    expect(r.u16("x")).toBe(0x0102);
  });

  it("refuses to skip past the end", () => {
    const r = new ByteReader(fromHex("01"));
    expect(() => r.skip(2, "padding")).toThrow("Truncated padding: need 2 bytes, got 1");
  });
});

describe("ByteWriter", () => {
  it("writes big-endian integers, byte runs and zeros into an exact-size buffer", () => {
    const out = new ByteWriter(11).u8(0x01).u16(0x0203).u32(0xfffffffe).bytes(fromHex("aa"))
      .zeros(3).finish();
    expect(hex(out)).toBe("010203fffffffeaa000000");
  });

  it("throws RangeError on overflow and on an unfilled buffer (a size computation bug)", () => {
    expect(() => new ByteWriter(1).u16(1)).toThrow(RangeError);
    expect(() => new ByteWriter(2).u8(1).finish()).toThrow(RangeError);
  });
});

describe("hex and fromHex", () => {
  it("formats lowercase hex and parses it back", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(hex(bytes).slice(0, 8)).toBe("00010203");
    expect(hex(bytes).slice(-4)).toBe("feff");
    expect(fromHex(hex(bytes))).toEqual(bytes);
  });

  it("ignores whitespace and # comments, accepts either case", () => {
    expect(fromHex("0A bC\n\t# a comment 00 11\r\n FF # end")).toEqual(fromHex("0abcff"));
  });

  it("refuses odd digit counts and non-hex characters", () => {
    expect(() => fromHex("abc")).toThrow(MalformedMessageError);
    expect(errorOf(() => fromHex("0g")).message).toBe('Invalid hex: unexpected character "g"');
    expect(() => fromHex("0x00")).toThrow(MalformedMessageError);
  });
});
