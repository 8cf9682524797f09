import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  decodePhtFrame,
  decodePhtHeader,
  encodePhtHeader,
  encodePhtManagement,
  type PhtManagementMessage,
} from "../../../lib/wire/pht.ts";
import { PHT_MAX_DATAGRAM_LENGTH, PhtFrameType } from "../../../lib/wire/pht_constants.ts";

const SEQ = 0x0005f1e2d3c4b5a6n;
const CREATE: PhtManagementMessage = {
  kind: "create",
  tunnelId: 0,
  sequence: SEQ,
  sessionId: 0x01020304,
  oCoA: "192.0.2.10",
  nCoA: "10.0.2.50",
  lifetimeMs: 60000,
  mnNonce: new Uint8Array(16).fill(0xa5),
};
// header | session id TLV | oCoA TLV | nCoA TLV | lifetime TLV | MN nonce TLV | zero MAC
const CREATE_HEX = "01010000000000000005f1e2d3c4b5a6" + "010401020304" + "0204c000020a" +
  "03040a000232" + "04040000ea60" + "0510" + "a5".repeat(16) + "00".repeat(16);
const CREATE_ACK_HEX = "01020000deadbeef0005f1e2d3c4b5a6" + "040400007530" + "0610" +
  "5a".repeat(16) + "00".repeat(16);

function management(bytes: Uint8Array): PhtManagementMessage {
  const frame = decodePhtFrame(bytes);
  if (frame.kind !== "management") throw new Error("not a management frame");
  return frame.message;
}

describe("PHT frame header (RFC 6252 section 7.4, mpa PHT)", () => {
  it("encodes version, type, flags, tunnel id and a 64-bit sequence big-endian", () => {
    const h = { type: PhtFrameType.Data, flags: 0, tunnelId: 0xdeadbeef, sequence: SEQ };
    expect(hex(encodePhtHeader(h))).toBe("01000000deadbeef0005f1e2d3c4b5a6");
    expect(decodePhtHeader(encodePhtHeader(h))).toEqual(h);
  });

  it("round-trips the largest sequence number and tunnel id", () => {
    const h = {
      type: PhtFrameType.Probe,
      flags: 0,
      tunnelId: 0xffffffff,
      sequence: (1n << 64n) - 1n,
    };
    expect(decodePhtHeader(encodePhtHeader(h))).toEqual(h);
  });

  it("refuses out-of-range fields on encode", () => {
    expect(() => encodePhtHeader({ type: 0, flags: 0, tunnelId: 2 ** 32, sequence: 1n }))
      .toThrow(RangeError);
    expect(() => encodePhtHeader({ type: 0, flags: 0, tunnelId: 1, sequence: 1n << 64n }))
      .toThrow(RangeError);
    expect(() => encodePhtHeader({ type: 0, flags: 0, tunnelId: 1, sequence: -1n }))
      .toThrow(RangeError);
  });

  it("refuses a truncated header, another version and an unknown type", () => {
    expect(() => decodePhtHeader(fromHex("0100000000000001"))).toThrow(MalformedMessageError);
    expect(() => decodePhtHeader(fromHex("02000000000000010000000000000001")))
      .toThrow("Unsupported PHT version: 2");
    expect(() => decodePhtHeader(fromHex("01140000000000010000000000000001")))
      .toThrow("Unknown PHT frame type: 20");
  });
});

describe("PHT management messages (RFC 6252 sections 7.2, 7.4, 7.6)", () => {
  it("encodes create to the pinned fixture and decodes it back", () => {
    const bytes = encodePhtManagement(CREATE);
    expect(hex(bytes)).toBe(CREATE_HEX);
    expect(management(fromHex(CREATE_HEX))).toEqual(CREATE);
  });

  it("encodes create-ack to the pinned fixture and decodes it back", () => {
    const ack: PhtManagementMessage = {
      kind: "create-ack",
      tunnelId: 0xdeadbeef,
      sequence: SEQ,
      lifetimeMs: 30000,
      arNonce: new Uint8Array(16).fill(0x5a),
    };
    expect(hex(encodePhtManagement(ack))).toBe(CREATE_ACK_HEX);
    expect(management(fromHex(CREATE_ACK_HEX))).toEqual(ack);
  });

  it("carries an IPv6 copy address (section 7.6.2) and an error code", () => {
    const copy: PhtManagementMessage = {
      kind: "copy-start",
      tunnelId: 1,
      sequence: 2n,
      address: "2001:db8::1",
    };
    expect(hex(encodePhtManagement(copy))).toBe(
      "010d00000000000100000000000000020910" + "20010db8000000000000000000000001" +
        "00".repeat(16),
    );
    expect(management(encodePhtManagement(copy))).toEqual(copy);
    const error: PhtManagementMessage = { kind: "error", tunnelId: 0, sequence: 7n, code: 1 };
    expect(hex(encodePhtManagement(error))).toBe(
      "011f0000000000000000000000000007" + "0701" + "01" + "00".repeat(16),
    );
    expect(management(encodePhtManagement(error))).toEqual(error);
  });

  it("round-trips every kind", () => {
    const messages: PhtManagementMessage[] = [
      { kind: "refresh", tunnelId: 5, sequence: 9n, lifetimeMs: 1000 },
      { kind: "refresh-ack", tunnelId: 5, sequence: 9n, lifetimeMs: 500 },
      { kind: "delete", tunnelId: 5, sequence: 10n },
      { kind: "delete-ack", tunnelId: 5, sequence: 10n },
      { kind: "buffer", tunnelId: 5, sequence: 11n },
      { kind: "buffer-ack", tunnelId: 5, sequence: 11n },
      { kind: "flush", tunnelId: 5, sequence: 12n },
      { kind: "flush-ack", tunnelId: 5, sequence: 12n, count: 50 },
      { kind: "probe", tunnelId: 5, sequence: 13n },
      { kind: "probe-ack", tunnelId: 5, sequence: 13n },
      { kind: "copy-start", tunnelId: 5, sequence: 14n },
      { kind: "copy-start-ack", tunnelId: 5, sequence: 14n },
      { kind: "copy-stop", tunnelId: 5, sequence: 15n },
      { kind: "copy-stop-ack", tunnelId: 5, sequence: 15n },
    ];
    for (const m of messages) expect(management(encodePhtManagement(m))).toEqual(m);
  });

  it("gives the MAC input and trailer apart", () => {
    const frame = decodePhtFrame(fromHex(CREATE_HEX));
    expect(frame.kind).toBe("management");
    if (frame.kind !== "management") return;
    expect(frame.signed.length).toBe(CREATE_HEX.length / 2 - 16);
    expect(frame.mac).toEqual(new Uint8Array(16));
  });

  it("refuses truncated, overrunning, repeated, ill-sized and missing TLVs", () => {
    const full = fromHex(CREATE_HEX);
    // No room for the MAC.
    expect(() => decodePhtFrame(full.subarray(0, 20))).toThrow("Truncated PHT management");
    // Cutting 3 bytes off the end makes the nonce TLV overrun into the MAC.
    expect(() => decodePhtFrame(full.subarray(0, full.length - 3))).toThrow(MalformedMessageError);
    // A refresh whose lifetime TLV is repeated.
    expect(() =>
      decodePhtFrame(
        fromHex(
          "01030000000000050000000000000009" + "040400000001" + "040400000002" + "00".repeat(16),
        ),
      )
    ).toThrow("Repeated PHT TLV: type 4");
    // A refresh with a 2-byte lifetime.
    expect(() =>
      decodePhtFrame(fromHex("01030000000000050000000000000009" + "04020001" + "00".repeat(16)))
    ).toThrow("Invalid PHT TLV length: lifetime needs 4 bytes, got 2");
    // A refresh without its lifetime.
    expect(() => decodePhtFrame(fromHex("01030000000000050000000000000009" + "00".repeat(16))))
      .toThrow("Missing PHT TLV: lifetime");
    // A create whose nCoA is 5 bytes long.
    const badAddress = CREATE_HEX.replace("03040a000232", "03050a00023201");
    expect(() => decodePhtFrame(fromHex(badAddress))).toThrow("nCoA needs 4 or 16 bytes");
    // An unknown error code.
    expect(() =>
      decodePhtFrame(fromHex("011f0000000000000000000000000007" + "070109" + "00".repeat(16)))
    ).toThrow("Unknown PHT error code: 9");
  });

  it("skips unknown TLV types (forward compatibility)", () => {
    const bytes = fromHex(
      "01030000000000050000000000000009" + "7f03aabbcc" + "040400000064" + "00".repeat(16),
    );
    expect(management(bytes)).toEqual({
      kind: "refresh",
      tunnelId: 5,
      sequence: 9n,
      lifetimeMs: 100,
    });
  });

  it("refuses bad values on encode", () => {
    expect(() => encodePhtManagement({ ...CREATE, oCoA: "not-an-address" } as PhtManagementMessage))
      .toThrow(RangeError);
    expect(() =>
      encodePhtManagement({ ...CREATE, mnNonce: new Uint8Array(8) } as PhtManagementMessage)
    )
      .toThrow("Invalid PHT nonce length: 8");
    expect(() =>
      encodePhtManagement({ kind: "refresh", tunnelId: 1, sequence: 1n, lifetimeMs: -1 })
    )
      .toThrow(RangeError);
  });
});

// RFC 6252 section 7.3.4 / Appendix B: an IPv6 autoconf create (nCoA pending, `::`)
// with the MN's interface identifier and its MAC on the CTN link.
const AUTOCONF_CREATE: PhtManagementMessage = {
  ...CREATE,
  nCoA: "::",
  interfaceId: new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b]),
  linkLayerAddress: new Uint8Array([2, 0, 0, 0, 0, 0x0b]),
};
// header | session id | oCoA | nCoA :: | lifetime | MN nonce | interface id | MAC | zero MAC
const AUTOCONF_CREATE_HEX = "01010000000000000005f1e2d3c4b5a6" + "010401020304" +
  "0204c000020a" + "0310" + "00".repeat(16) + "04040000ea60" + "0510" + "a5".repeat(16) +
  "0b08000000fffe00000b" + "0a0602000000000b" + "00".repeat(16);
// update naming 2001:db8:2::ff:fe00:b (type 17), and its ack (type 18)
const UPDATE_HEX = "01110000000000050000000000000009" + "0310" +
  "20010db800020000000000fffe00000b" + "00".repeat(16);
const UPDATE_ACK_HEX = "01120000000000050000000000000009" + "0310" +
  "20010db800020000000000fffe00000b" + "00".repeat(16);

describe("PHT IPv6 autoconf and address resolution TLVs (RFC 6252 section 7.3.4, Appendices A, B)", () => {
  it("section 7.3.4: encodes an autoconf create (interface id, pending nCoA, MAC) to the pinned fixture", () => {
    expect(hex(encodePhtManagement(AUTOCONF_CREATE))).toBe(AUTOCONF_CREATE_HEX);
    expect(management(fromHex(AUTOCONF_CREATE_HEX))).toEqual(AUTOCONF_CREATE);
  });

  it("Appendix B: a create with only the MAC TLV round-trips; a plain create has neither field", () => {
    const withMac = { ...CREATE, linkLayerAddress: new Uint8Array([2, 0, 0, 0, 0, 7]) };
    expect(management(encodePhtManagement(withMac))).toEqual(withMac);
    const plain = management(fromHex(CREATE_HEX));
    expect("interfaceId" in plain).toBe(false);
    expect("linkLayerAddress" in plain).toBe(false);
  });

  it("section 7.3.4: update and update-ack carry the SLAAC nCoA (pinned fixtures)", () => {
    const update: PhtManagementMessage = {
      kind: "update",
      tunnelId: 5,
      sequence: 9n,
      nCoA: "2001:db8:2::ff:fe00:b",
    };
    expect(hex(encodePhtManagement(update))).toBe(UPDATE_HEX);
    expect(management(fromHex(UPDATE_HEX))).toEqual(update);
    const ack: PhtManagementMessage = { ...update, kind: "update-ack" };
    expect(hex(encodePhtManagement(ack))).toBe(UPDATE_ACK_HEX);
    expect(management(fromHex(UPDATE_ACK_HEX))).toEqual(ack);
    const withMac: PhtManagementMessage = {
      ...update,
      linkLayerAddress: new Uint8Array([2, 0, 0, 0, 0, 0x0b]),
    };
    expect(management(encodePhtManagement(withMac))).toEqual(withMac);
  });

  it("Appendix A: the Duplicate error code (5) round-trips", () => {
    const error: PhtManagementMessage = { kind: "error", tunnelId: 5, sequence: 9n, code: 5 };
    expect(hex(encodePhtManagement(error))).toBe(
      "011f0000000000050000000000000009" + "070105" + "00".repeat(16),
    );
    expect(management(encodePhtManagement(error))).toEqual(error);
  });

  it("refuses an ill-sized interface id or MAC, and an update without its nCoA", () => {
    const badIid = AUTOCONF_CREATE_HEX.replace("0b08000000fffe00000b", "0b07000000fffe0000");
    expect(() => decodePhtFrame(fromHex(badIid)))
      .toThrow("Invalid PHT TLV length: interface id needs 8 bytes, got 7");
    const noMac = AUTOCONF_CREATE_HEX.replace("0a0602000000000b", "0a00");
    expect(() => decodePhtFrame(fromHex(noMac)))
      .toThrow("link-layer address needs 1 to 32 bytes, got 0");
    expect(() => decodePhtFrame(fromHex("01110000000000050000000000000009" + "00".repeat(16))))
      .toThrow("Missing PHT TLV: nCoA");
    expect(() =>
      encodePhtManagement(
        { ...AUTOCONF_CREATE, interfaceId: new Uint8Array(4) } as PhtManagementMessage,
      )
    ).toThrow("Invalid PHT interface id length: 4");
    expect(() =>
      encodePhtManagement({
        kind: "update",
        tunnelId: 1,
        sequence: 1n,
        nCoA: "2001:db8::1",
        linkLayerAddress: new Uint8Array(33),
      })
    ).toThrow("Invalid PHT link-layer address length: 33");
  });
});

describe("PHT data frames (RFC 6252 section 6.3 step 3)", () => {
  it("splits header and sealed bytes", () => {
    const bytes = fromHex("01000000deadbeef0000000000000001" + "11".repeat(36));
    const frame = decodePhtFrame(bytes);
    expect(frame.kind).toBe("data");
    if (frame.kind !== "data") return;
    expect(frame.header).toEqual({ type: 0, flags: 0, tunnelId: 0xdeadbeef, sequence: 1n });
    expect(hex(frame.headerBytes)).toBe("01000000deadbeef0000000000000001");
    expect(frame.sealed.length).toBe(36);
  });

  it("refuses a data frame shorter than the GCM tag and an oversized datagram", () => {
    expect(() => decodePhtFrame(fromHex("01000000deadbeef0000000000000001" + "11".repeat(15))))
      .toThrow("Truncated PHT data frame");
    expect(() => decodePhtFrame(new Uint8Array(PHT_MAX_DATAGRAM_LENGTH + 1)))
      .toThrow("Oversized PHT frame");
  });
});
