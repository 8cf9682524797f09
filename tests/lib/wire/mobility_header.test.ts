import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  bindingUpdateFlags,
  decodeMobilityHeader,
  encodeMobilityHeader,
  findAuthenticator,
  findMobilityOption,
  findMobilityOptions,
  mhTypeOf,
  mobilityHeaderChecksum,
  type MobilityMessage,
} from "../../../lib/wire/mobility_header.ts";
import {
  BindingAckStatus,
  BindingErrorStatus,
  isBindingAccepted,
  MH_MAX_LENGTH,
  MhType,
  MIP6_UDP_PORT,
} from "../../../lib/wire/mobility_constants.ts";

const range = (from: number, count: number) =>
  Uint8Array.from({ length: count }, (_, i) => from + i);

/**
 * Fixtures hand-built from the figures of RFC 6275 sections 6.1.1 to 6.1.9 and 6.2, and
 * RFC 5648 section 6.1, byte by byte; each with the message written independently.
 */
const fixtures: Record<string, { hex: string; msg: MobilityMessage }> = {
  // 6.1.2: header (Payload Proto 59, Header Len 0, MH Type 0), Reserved: 8 bytes.
  brr: {
    hex: "3b00 0000 0000 0000",
    msg: { kind: "bindingRefreshRequest", options: [] },
  },
  // 6.1.3: Reserved, Home Init Cookie.
  hoti: {
    hex: "3b01 0100 0000 0000 0102030405060708",
    msg: { kind: "homeTestInit", cookie: range(1, 8), options: [] },
  },
  // 6.1.4: Reserved, Care-of Init Cookie.
  coti: {
    hex: "3b01 0200 0000 0000 1112131415161718",
    msg: { kind: "careOfTestInit", cookie: range(0x11, 8), options: [] },
  },
  // 6.1.5: Home Nonce Index 7, Home Init Cookie, Home Keygen Token.
  hot: {
    hex: "3b02 0300 0000 0007 0102030405060708 2122232425262728",
    msg: {
      kind: "homeTest",
      nonceIndex: 7,
      cookie: range(1, 8),
      keygenToken: range(0x21, 8),
      options: [],
    },
  },
  // 6.1.6: Care-of Nonce Index 0x0102.
  cot: {
    hex: "3b02 0400 0000 0102 1112131415161718 3132333435363738",
    msg: {
      kind: "careOfTest",
      nonceIndex: 0x0102,
      cookie: range(0x11, 8),
      keygenToken: range(0x31, 8),
      options: [],
    },
  },
  // 6.1.7 with 6.2.5, 6.2.6, 6.2.7: Sequence 0x1234, A|H, Lifetime 25 units (100 s);
  // PadN(0) to put the Alternate CoA at 14 = 8n+6; Nonce Indices at 32 (2n);
  // PadN(2) to put the Binding Authorization Data at 42 = 8n+2; 56 bytes, Header Len 6.
  bu: {
    hex: "3b06 0500 0000 1234 c000 0019" +
      "0100" +
      "0310 20010db8 00000000 00000000 000000c1" +
      "0404 0001 0002" +
      "0102 0000" +
      "050c a0a1a2a3a4a5a6a7a8a9aaab",
    msg: {
      kind: "bindingUpdate",
      sequence: 0x1234,
      flags: bindingUpdateFlags({ ack: true, home: true }),
      lifetime: 100,
      options: [
        { kind: "alternateCareOfAddress", address: "2001:db8::c1" },
        { kind: "nonceIndices", homeNonceIndex: 1, careOfNonceIndex: 2 },
        { kind: "bindingAuthorizationData", authenticator: range(0xa0, 12) },
      ],
    },
  },
  // 6.1.8 with 6.2.4: Status 0, K, Sequence 0x1234, Lifetime 25 units; Binding Refresh
  // Advice at 12 (2n), 10 units (40 s); 16 bytes, Header Len 1.
  ba: {
    hex: "3b01 0600 0000 0080 1234 0019 0202 000a",
    msg: {
      kind: "bindingAck",
      status: 0,
      keyManagement: true,
      sequence: 0x1234,
      lifetime: 100,
      options: [{ kind: "bindingRefreshAdvice", refreshInterval: 40 }],
    },
  },
  // 6.1.9: Status 2, Reserved, Home Address.
  be: {
    hex: "3b02 0700 0000 0200 20010db8000000000000000000000100",
    msg: {
      kind: "bindingError",
      status: BindingErrorStatus.UnrecognizedMhType,
      homeAddress: "2001:db8::100",
      options: [],
    },
  },
  // RFC 5648 section 6.1, bulk registration (RFC 6252 C.4: c1, c2, c3): a BU with three
  // Binding Identifier options, each at 8n+2 with a 16-byte CoA (Length 20): PadN(4)
  // to 18, PadN(0) to 42 and 66; 88 bytes, Header Len 10.
  bulk: {
    hex: "3b0a 0500 0000 0001 8000 000f" +
      "0104 00000000" +
      "2314 0001 00 00 20010db8000100000000000000000c01" +
      "0100" +
      "2314 0002 00 00 20010db8000200000000000000000c02" +
      "0100" +
      "2314 0003 00 00 20010db8000300000000000000000c03",
    msg: {
      kind: "bindingUpdate",
      sequence: 1,
      flags: bindingUpdateFlags({ ack: true }),
      lifetime: 60,
      options: [1, 2, 3].map((n) => ({
        kind: "bindingIdentifier" as const,
        bid: n,
        status: 0,
        simultaneousHome: false,
        overwrite: false,
        careOfAddress: `2001:db8:${n}::c0${n}`,
      })),
    },
  },
  // RFC 5648 section 6.1 with an IPv4 CoA (Length 8) and the H and O flags; 28 bytes
  // padded with PadN(2) to 32, Header Len 3.
  bidIpv4: {
    hex: "3b03 0500 0000 0002 8000 000f" +
      "0104 00000000" +
      "2308 0005 00 c0 c0000201" +
      "0102 0000",
    msg: {
      kind: "bindingUpdate",
      sequence: 2,
      flags: bindingUpdateFlags({ ack: true }),
      lifetime: 60,
      options: [{
        kind: "bindingIdentifier",
        bid: 5,
        status: 0,
        simultaneousHome: true,
        overwrite: true,
        careOfAddress: "192.0.2.1",
      }],
    },
  },
  // A BA answering the bulk registration, Binding Identifier without CoA (Length 4)
  // carrying status 135 for BID 2: at 18 after PadN(4); 24 bytes, Header Len 2.
  baBid: {
    hex: "3b02 0600 0000 8700 0001 0000 0104 00000000 2304 0002 8700",
    msg: {
      kind: "bindingAck",
      status: BindingAckStatus.SequenceNumberOutOfWindow,
      keyManagement: false,
      sequence: 1,
      lifetime: 0,
      options: [{
        kind: "bindingIdentifier",
        bid: 2,
        status: 135,
        simultaneousHome: false,
        overwrite: false,
      }],
    },
  },
  // An MH Type this codec does not know (16, Binding Revocation): kept raw.
  unknownType: {
    hex: "3b01 1000 0000 0102030405060708090a",
    msg: { kind: "unknown", mhType: 16, data: range(1, 10) },
  },
};

describe("Mobility Header constants (RFC 6275 sections 6.1, 6.1.8; RFC 5555; RFC 5648)", () => {
  it("has the assigned numbers", () => {
    expect(MIP6_UDP_PORT).toBe(4191);
    expect(MhType.BindingError).toBe(7);
    expect(BindingAckStatus.McoaBulkRegistrationProhibited).toBe(168);
    expect(isBindingAccepted(BindingAckStatus.McoaNotComplete)).toBe(true);
    expect(isBindingAccepted(BindingAckStatus.ReasonUnspecified)).toBe(false);
  });
});

describe("Mobility Header fixtures (RFC 6275 sections 6.1, 6.2; RFC 5648 section 6.1)", () => {
  for (const [name, f] of Object.entries(fixtures)) {
    it(`decodes the ${name} fixture`, () => {
      expect(decodeMobilityHeader(fromHex(f.hex))).toEqual(f.msg);
    });
    it(`encodes the ${name} fixture byte for byte`, () => {
      expect(hex(encodeMobilityHeader(f.msg))).toBe(hex(fromHex(f.hex)));
    });
    it(`rejects the ${name} fixture truncated at every length`, () => {
      const bytes = fromHex(f.hex);
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodeMobilityHeader(bytes.slice(0, n)), `length ${n}`).toThrow(
          MalformedMessageError,
        );
      }
    });
    it(`rejects the ${name} fixture with 8 bytes appended (Header Len disagrees)`, () => {
      const bytes = fromHex(f.hex);
      const longer = new Uint8Array(bytes.length + 8);
      longer.set(bytes);
      expect(() => decodeMobilityHeader(longer)).toThrow(
        /Invalid Mobility Header length: Header Len \d+ says \d+ bytes, datagram has \d+/,
      );
    });
  }

  it("gives the MH Type of each message (RFC 6275 section 6.1)", () => {
    expect(Object.values(fixtures).map((f) => mhTypeOf(f.msg))).toEqual([
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      5,
      5,
      6,
      16,
    ]);
  });

  it("finds options by kind", () => {
    const bulk = fixtures.bulk!.msg;
    expect(findMobilityOptions(bulk, "bindingIdentifier").map((o) => o.careOfAddress)).toEqual([
      "2001:db8:1::c01",
      "2001:db8:2::c02",
      "2001:db8:3::c03",
    ]);
    expect(findMobilityOption(fixtures.bu!.msg, "alternateCareOfAddress")?.address).toBe(
      "2001:db8::c1",
    );
    expect(findMobilityOption(fixtures.unknownType!.msg, "nonceIndices")).toBeUndefined();
  });
});

describe("Mobility Header layout (RFC 6275 sections 6.1.1, 6.1.7, 6.2)", () => {
  it("pads a BU without options with 4 bytes, Header Len 1 (section 6.1.7)", () => {
    const bu = encodeMobilityHeader({
      kind: "bindingUpdate",
      sequence: 9,
      flags: bindingUpdateFlags({ linkLocal: true, keyManagement: true }),
      lifetime: 0,
      options: [],
    });
    expect(hex(bu)).toBe("3b0105000000" + "0009" + "3000" + "0000" + "01020000");
  });

  it("accepts Pad1 bytes in place of PadN (section 6.2.2)", () => {
    const withPad1 = fromHex("3b01 0600 0000 0000 0005 0064 00 00 00 00");
    expect(decodeMobilityHeader(withPad1)).toEqual({
      kind: "bindingAck",
      status: 0,
      keyManagement: false,
      sequence: 5,
      lifetime: 400,
      options: [],
    });
  });

  it("ignores the contents of PadN and the Reserved fields on receipt", () => {
    const noisy = fromHex("3b01 06ff 0000 007f 0005 0064 0102 ffff");
    const m = decodeMobilityHeader(noisy);
    expect(m).toMatchObject({ kind: "bindingAck", keyManagement: false, sequence: 5 });
  });

  it("keeps an unknown option and round-trips it (section 6.2.1)", () => {
    const msg: MobilityMessage = {
      kind: "bindingAck",
      status: 0,
      keyManagement: false,
      sequence: 3,
      lifetime: 8,
      options: [{ kind: "unknown", type: 0x64, data: new Uint8Array([0xaa, 0xbb]) }],
    };
    const bytes = encodeMobilityHeader(msg);
    expect(hex(bytes)).toBe("3b0106000000" + "00000003" + "0002" + "6402aabb");
    expect(decodeMobilityHeader(bytes)).toEqual(msg);
  });

  it("rounds a lifetime down to 4-second units (sections 6.1.7, 6.1.8)", () => {
    const bytes = encodeMobilityHeader({
      kind: "bindingUpdate",
      sequence: 1,
      flags: bindingUpdateFlags(),
      lifetime: 11,
      options: [],
    });
    expect(decodeMobilityHeader(bytes)).toMatchObject({ lifetime: 8 });
  });

  it("refuses out-of-range fields on encode", () => {
    const bu = (over: Partial<{ sequence: number; lifetime: number }>): MobilityMessage => ({
      kind: "bindingUpdate",
      sequence: 1,
      flags: bindingUpdateFlags(),
      lifetime: 4,
      options: [],
      ...over,
    });
    expect(() => encodeMobilityHeader(bu({ sequence: 65536 }))).toThrow(/Sequence #: 65536/);
    expect(() => encodeMobilityHeader(bu({ lifetime: 262144 }))).toThrow(MalformedMessageError);
    expect(() => encodeMobilityHeader(bu({ lifetime: -4 }))).toThrow(MalformedMessageError);
    expect(() =>
      encodeMobilityHeader({ kind: "homeTestInit", cookie: new Uint8Array(7), options: [] })
    ).toThrow(/Init Cookie: expected 8 bytes, got 7/);
    expect(() =>
      encodeMobilityHeader({ kind: "bindingError", status: 1, homeAddress: "nope", options: [] })
    ).toThrow(MalformedMessageError);
    expect(() => encodeMobilityHeader({ kind: "unknown", mhType: 5, data: new Uint8Array(2) }))
      .toThrow(/known MH Type 5/);
    expect(() => encodeMobilityHeader({ kind: "unknown", mhType: 20, data: new Uint8Array(3) }))
      .toThrow(/not a multiple of 8/);
  });

  it("refuses a message over 2048 bytes on encode and decode", () => {
    const many = Array.from({ length: 100 }, (_, i) => ({
      kind: "bindingIdentifier" as const,
      bid: i + 1,
      status: 0,
      simultaneousHome: false,
      overwrite: false,
      careOfAddress: "2001:db8::1",
    }));
    expect(() =>
      encodeMobilityHeader({
        kind: "bindingUpdate",
        sequence: 1,
        flags: bindingUpdateFlags(),
        lifetime: 4,
        options: many,
      })
    ).toThrow(/Oversized Mobility Header: \d+ bytes, limit 2048/);
    expect(() => decodeMobilityHeader(new Uint8Array(MH_MAX_LENGTH + 8))).toThrow(
      /Oversized Mobility Header/,
    );
  });
});

describe("Mobility Header malformed and forbidden input (RFC 6275 sections 6.2, 9.2)", () => {
  it("refuses a Header Len shorter than the message type needs (section 9.2)", () => {
    // A Binding Update squeezed into 8 bytes.
    expect(() => decodeMobilityHeader(fromHex("3b00 0500 0000 0001"))).toThrow(
      "Truncated Binding Update: need 12 bytes, Header Len gives 8",
    );
    expect(() => decodeMobilityHeader(fromHex("3b01 0700 0000 0100 20010db800000000")))
      .toThrow(/Truncated Binding Error/);
  });

  it("refuses a Payload Proto other than IPPROTO_NONE (section 9.2)", () => {
    expect(() => decodeMobilityHeader(fromHex("0600 0000 0000 0000"))).toThrow(
      ProtocolViolationError,
    );
  });

  it("refuses an option running past the end", () => {
    // Binding Refresh Advice claiming 8 data bytes in a 16-byte BA.
    expect(() => decodeMobilityHeader(fromHex("3b01 0600 0000 0000 0005 0064 0208 000a")))
      .toThrow(/Truncated Mobility Header option: need 8 bytes, got 2/);
  });

  it("refuses fixed-length options of the wrong length", () => {
    // Binding Refresh Advice with Length 0 at 12, then PadN(0).
    expect(() => decodeMobilityHeader(fromHex("3b01 0600 0000 0000 0005 0064 0200 0100")))
      .toThrow("Invalid Binding Refresh Advice option: length 0, expected 2");
    // Nonce Indices with Length 2, then PadN(0).
    expect(() => decodeMobilityHeader(fromHex("3b01 0500 0000 0001 8000 0001 0402 0001")))
      .toThrow("Invalid Nonce Indices option: length 2, expected 4");
    // Binding Identifier with Length 6 at 18, then PadN(4) to 32.
    expect(() =>
      decodeMobilityHeader(
        fromHex("3b03 0500 0000 0001 8000 0001 0104 00000000 2306 0001 0000 0000 0104 00000000"),
      )
    ).toThrow("Invalid Binding Identifier option: length 6, expected 4, 8 or 20");
    // Binding Authorization Data with an empty Authenticator at 18.
    expect(() =>
      decodeMobilityHeader(fromHex("3b02 0500 0000 0001 8000 0001 0104 00000000 0500 0104 0000"))
    ).toThrow("Invalid Binding Authorization Data option: empty Authenticator");
  });

  it("refuses an Alternate Care-of Address that is not at 8n+6 (section 6.2.5)", () => {
    // At 12 instead of 14: 12 + 18 = 30, PadN(0) to 32.
    const bytes = fromHex(
      "3b03 0500 0000 0001 8000 0001 0310 20010db8000000000000000000000001 0100",
    );
    expect(() => decodeMobilityHeader(bytes)).toThrow(
      "Invalid Mobility Header: option 3 at offset 12 breaks its 8n+6 alignment",
    );
  });

  it("refuses Binding Authorization Data that is not at 8n+2 (section 6.2.7)", () => {
    // At 12 instead of 18: 12 + 14 = 26, PadN(4) to 32.
    const bytes = fromHex(
      "3b03 0500 0000 0001 8000 0001 050c 000000000000000000000000 0104 00000000",
    );
    expect(() => decodeMobilityHeader(bytes)).toThrow(ProtocolViolationError);
  });

  it("refuses a Binding Refresh Advice or Nonce Indices at an odd offset (2n)", () => {
    // Pad1 then BRA at 13: 13 + 4 = 17, Pad1 ... to 24.
    const bytes = fromHex("3b02 0600 0000 0000 0005 0064 00 0202 000a 00 0104 00000000");
    expect(() => decodeMobilityHeader(bytes)).toThrow(/option 2 at offset 13 breaks its 2n\+0/);
  });

  it("refuses an option after Binding Authorization Data, on decode and encode (section 6.2.7)", () => {
    // BAD at 18 (PadN(4) before), ends 32; Nonce Indices at 32, PadN(0) to 40.
    const bytes = fromHex(
      "3b04 0500 0000 0001 8000 0001 0104 00000000 050c 000000000000000000000000 0404 00010002 0100",
    );
    expect(() => decodeMobilityHeader(bytes)).toThrow(
      "Invalid Mobility Header: nonceIndices option after Binding Authorization Data, which must be last",
    );
    expect(() =>
      encodeMobilityHeader({
        kind: "bindingUpdate",
        sequence: 1,
        flags: bindingUpdateFlags(),
        lifetime: 4,
        options: [
          { kind: "bindingAuthorizationData", authenticator: new Uint8Array(12) },
          { kind: "alternateCareOfAddress", address: "2001:db8::1" },
        ],
      })
    ).toThrow(ProtocolViolationError);
  });

  it("allows only padding after Binding Authorization Data", () => {
    // BAD at 18, 8-byte Authenticator, ends 28, PadN(2) to 32.
    const bytes = fromHex(
      "3b03 0500 0000 0001 8000 0001 0104 00000000 0508 0102030405060708 0102 0000",
    );
    const m = decodeMobilityHeader(bytes);
    expect(findMobilityOption(m, "bindingAuthorizationData")?.authenticator).toEqual(range(1, 8));
    expect(findAuthenticator(bytes)).toEqual({ offset: 20, length: 8 });
  });

  it("refuses two Alternate Care-of Address options", () => {
    const alt = { kind: "alternateCareOfAddress" as const, address: "2001:db8::1" };
    expect(() =>
      encodeMobilityHeader({
        kind: "bindingUpdate",
        sequence: 1,
        flags: bindingUpdateFlags(),
        lifetime: 4,
        options: [alt, alt],
      })
    ).toThrow("Invalid Mobility Header: two alternateCareOfAddress options");
    // The same bytes built by hand: two AltCoA at 14 and 38 (PadN(4) between).
    const bytes = fromHex(
      "3b06 0500 0000 0001 0000 0001 0100" +
        "0310 20010db8000000000000000000000001 0104 00000000" +
        "0310 20010db8000000000000000000000001",
    );
    expect(() => decodeMobilityHeader(bytes)).toThrow(
      "Invalid Mobility Header: two alternateCareOfAddress options",
    );
  });

  it("refuses padding given as an unknown option on encode", () => {
    expect(() =>
      encodeMobilityHeader({
        kind: "bindingAck",
        status: 0,
        keyManagement: false,
        sequence: 1,
        lifetime: 4,
        options: [{ kind: "unknown", type: 1, data: new Uint8Array(2) }],
      })
    ).toThrow(/is padding, which the encoder adds/);
  });
});

describe("Mobility Header checksum (RFC 6275 section 6.1.1)", () => {
  const addresses = { source: "2001:db8::1", destination: "2001:db8::2" };

  it("matches an independently computed value for a Binding Refresh Request", () => {
    // One's complement sum of the pseudo-header (RFC 2460 section 8.1, Next Header 135)
    // and the 8-byte BRR, computed separately with Python.
    const brr = encodeMobilityHeader(fixtures.brr!.msg, { checksum: addresses });
    expect(hex(brr)).toBe("3b000000" + "68fb" + "0000");
    expect(mobilityHeaderChecksum(brr, addresses)).toBe(0x68fb);
  });

  it("matches an independently computed value for the BU fixture", () => {
    const bu = fromHex(fixtures.bu!.hex);
    const checksum = { source: "2001:db8::c1", destination: "2001:db8::a" };
    expect(mobilityHeaderChecksum(bu, checksum)).toBe(0x7228);
    const sent = encodeMobilityHeader(fixtures.bu!.msg, { checksum });
    expect([sent[4], sent[5]]).toEqual([0x72, 0x28]);
    expect(decodeMobilityHeader(sent, { checksum })).toEqual(fixtures.bu!.msg);
  });

  it("refuses a wrong checksum when the addresses are given, ignores it otherwise", () => {
    const sent = encodeMobilityHeader(fixtures.ba!.msg, { checksum: addresses });
    const other = { source: "2001:db8::1", destination: "2001:db8::3" };
    expect(() => decodeMobilityHeader(sent, { checksum: other })).toThrow(
      /Invalid Mobility Header checksum: got 0x[0-9a-f]+, expected 0x[0-9a-f]+/,
    );
    const corrupted = sent.slice();
    corrupted[9] = corrupted[9]! ^ 0x01;
    expect(() => decodeMobilityHeader(corrupted, { checksum: addresses })).toThrow(
      MalformedMessageError,
    );
    // Without addresses (over UDP with no pseudo-header known) it is not checked.
    expect(decodeMobilityHeader(corrupted)).toMatchObject({ kind: "bindingAck" });
  });

  it("maps IPv4 pseudo-header addresses to ::ffff:a.b.c.d", () => {
    const brr = fromHex(fixtures.brr!.hex);
    expect(mobilityHeaderChecksum(brr, { source: "192.0.2.1", destination: "192.0.2.2" })).toBe(
      mobilityHeaderChecksum(brr, { source: "::ffff:192.0.2.1", destination: "::ffff:192.0.2.2" }),
    );
  });
});

describe("findAuthenticator (RFC 6275 section 5.2.6)", () => {
  it("locates the Authenticator of the BU fixture", () => {
    expect(findAuthenticator(fromHex(fixtures.bu!.hex))).toEqual({ offset: 44, length: 12 });
  });

  it("returns undefined without Binding Authorization Data", () => {
    expect(findAuthenticator(fromHex(fixtures.ba!.hex))).toBeUndefined();
    expect(findAuthenticator(fromHex(fixtures.unknownType!.hex))).toBeUndefined();
  });

  it("throws on bytes that do not decode", () => {
    expect(() => findAuthenticator(new Uint8Array(3))).toThrow(MalformedMessageError);
  });
});
