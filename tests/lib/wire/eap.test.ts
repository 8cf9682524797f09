import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex } from "../../../lib/wire/_bytes.ts";
import { decodeEap, eapIdentity, encodeEap, readEapIdentity } from "../../../lib/wire/eap.ts";
import { EapCode, EapType } from "../../../lib/wire/eap_constants.ts";

function fixture(name: string): Uint8Array {
  return fromHex(Deno.readTextFileSync(new URL(`../../fixtures/eap/${name}.hex`, import.meta.url)));
}

const ascii = (s: string) => new TextEncoder().encode(s);

describe("EAP packets (RFC 3748)", () => {
  it("section 4.1 and 5.1: decodes and re-encodes the Identity Response fixture byte for byte", () => {
    const bytes = fixture("identity_response");
    const p = decodeEap(bytes);
    expect(p).toEqual({
      code: EapCode.Response,
      identifier: 0,
      type: EapType.Identity,
      typeData: ascii("mn1@mpa"),
    });
    expect(encodeEap(p)).toEqual(bytes);
  });

  it("section 4.2: Success and Failure are 4 bytes with no data", () => {
    const success = fixture("success");
    expect(decodeEap(success)).toEqual({ code: EapCode.Success, identifier: 2 });
    expect(encodeEap({ code: EapCode.Success, identifier: 2 })).toEqual(success);
    expect(encodeEap({ code: EapCode.Failure, identifier: 255 })).toEqual(fromHex("04ff0004"));
    expect(decodeEap(fromHex("04ff0004"))).toEqual({ code: EapCode.Failure, identifier: 255 });
  });

  it("section 4.1: a Request may carry empty Type-Data", () => {
    const p = {
      code: EapCode.Request,
      identifier: 1,
      type: EapType.Identity,
      typeData: new Uint8Array(),
    };
    expect(encodeEap(p)).toEqual(fromHex("0101000501"));
    expect(decodeEap(fromHex("0101000501"))).toEqual(p);
  });

  it("section 4: octets beyond the Length field are link-layer padding and ignored", () => {
    const bytes = fixture("identity_response");
    const padded = new Uint8Array([...bytes, 0xde, 0xad, 0xbe, 0xef]);
    expect(decodeEap(padded)).toEqual(decodeEap(bytes));
    expect(decodeEap(fromHex("03020004 00000000"))).toEqual({ code: 3, identifier: 2 });
  });

  it("section 4: a Length larger than the bytes received is refused", () => {
    const bytes = fixture("identity_response");
    bytes[3] = 13;
    expect(() => decodeEap(bytes)).toThrow(
      "Truncated EAP packet: Length field says 13 bytes, got 12",
    );
  });

  it("section 4: every truncation of every fixture is refused with MalformedMessageError", () => {
    for (
      const name of ["identity_response", "success", "psk_msg1", "psk_msg2", "psk_msg3", "psk_msg4"]
    ) {
      const bytes = fixture(name);
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodeEap(bytes.subarray(0, n)), `${name} cut at ${n}`).toThrow(
          MalformedMessageError,
        );
      }
      expect(() => decodeEap(bytes)).not.toThrow();
    }
  });

  it("section 4: a Length below the header size is refused", () => {
    expect(() => decodeEap(fromHex("01010004 01"))).toThrow("below the 5-byte header");
    expect(() => decodeEap(fromHex("02010000"))).toThrow(MalformedMessageError);
  });

  it("section 4.2: a Success or Failure whose Length is not 4 is refused", () => {
    expect(() => decodeEap(fromHex("0301000500"))).toThrow(
      "Invalid EAP Success: Length 5, expected 4",
    );
    expect(() => decodeEap(fromHex("04010003"))).toThrow(MalformedMessageError);
  });

  it("section 4: codes other than 1 to 4 are refused (to be silently discarded)", () => {
    for (const code of [0, 5, 6, 255]) {
      expect(() => decodeEap(new Uint8Array([code, 1, 0, 4]))).toThrow(`Invalid EAP code: ${code}`);
    }
  });

  it("section 5: Type 0 is refused when decoding and encoding", () => {
    expect(() => decodeEap(fromHex("0101000500"))).toThrow("Invalid EAP type: 0 is reserved");
    expect(() => encodeEap({ code: 1, identifier: 1, type: 0, typeData: new Uint8Array() }))
      .toThrow(
        MalformedMessageError,
      );
  });

  it("section 4: refuses to encode fields that do not fit", () => {
    expect(() => encodeEap({ code: 3, identifier: 256 })).toThrow("Invalid EAP identifier");
    expect(() => encodeEap({ code: 1, identifier: -1, type: 1, typeData: new Uint8Array() }))
      .toThrow(
        MalformedMessageError,
      );
    expect(() => encodeEap({ code: 1, identifier: 1, type: 256, typeData: new Uint8Array() }))
      .toThrow(
        "Invalid EAP type",
      );
    expect(() => encodeEap({ code: 1, identifier: 1, type: 1, typeData: new Uint8Array(65531) }))
      .toThrow("Oversized EAP packet: 65536 bytes, limit 65535");
    expect(encodeEap({ code: 1, identifier: 1, type: 1, typeData: new Uint8Array(65530) }).length)
      .toBe(65535);
  });

  it("decoded Type-Data is a copy of the input", () => {
    const bytes = fixture("identity_response");
    const p = decodeEap(bytes);
    bytes.fill(0);
    expect(readEapIdentity(p)).toBe("mn1@mpa");
  });
});

describe("EAP Identity (RFC 3748 section 5.1)", () => {
  it("builds an Identity Response as UTF-8 without a terminating null", () => {
    expect(encodeEap(eapIdentity(EapCode.Response, 0, "mn1@mpa"))).toEqual(
      fixture("identity_response"),
    );
    expect(readEapIdentity(eapIdentity(EapCode.Request, 3, "José"))).toBe("José");
  });

  it("refuses a non-Identity packet and Type-Data that is not UTF-8", () => {
    expect(() => readEapIdentity(decodeEap(fixture("psk_msg1")))).toThrow(ProtocolViolationError);
    expect(() => readEapIdentity({ code: 3, identifier: 1 })).toThrow(ProtocolViolationError);
    expect(() => readEapIdentity(decodeEap(fromHex("02010007 01 c328")))).toThrow(
      "Invalid EAP Identity: not UTF-8",
    );
  });
});
