import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex } from "../../../lib/wire/_bytes.ts";
import { decodeEap, type EapTypedPacket } from "../../../lib/wire/eap.ts";
import { decodeEapPsk } from "../../../lib/wire/eap_psk.ts";
import {
  decodePana,
  encodePana,
  findAvp,
  findAvps,
  panaAuthOffset,
  type PanaAvp,
  type PanaFlags,
  panaFlags,
  type PanaMessage,
  panaMessageName,
  zeroAuthAvp,
} from "../../../lib/wire/pana.ts";
import {
  PANA_MAX_MESSAGE_LENGTH,
  PanaFlag,
  PanaIntegrityAlgorithm,
  PanaMessageType,
  PanaPrfAlgorithm,
  PanaResultCode,
  PanaTerminationCause,
} from "../../../lib/wire/pana_constants.ts";

function fixture(name: string): Uint8Array {
  return fromHex(Deno.readTextFileSync(new URL(`../../fixtures/${name}.hex`, import.meta.url)));
}

const SID = 0x0a0b0c0d;
const seq = (n: number) => n;
const algorithms: PanaAvp[] = [
  { kind: "prfAlgorithm", value: PanaPrfAlgorithm.HmacSha2_256 },
  { kind: "integrityAlgorithm", value: PanaIntegrityAlgorithm.HmacSha2_256_128 },
];
const range = (from: number, count: number) =>
  Uint8Array.from({ length: count }, (_, i) => from + i);

/** Each PANA fixture with the message written independently from the RFC layouts. */
const expected: Record<string, PanaMessage> = {
  pci: {
    flags: panaFlags({ preauth: true }),
    type: PanaMessageType.ClientInitiation,
    sessionId: 0,
    seq: 0,
    avps: [],
  },
  par_start: {
    flags: panaFlags({ request: true, start: true, preauth: true }),
    type: PanaMessageType.Auth,
    sessionId: SID,
    seq: seq(257),
    avps: [...algorithms, { kind: "eapPayload", value: fixture("eap/psk_msg1") }],
  },
  pan_start: {
    flags: panaFlags({ start: true, preauth: true }),
    type: PanaMessageType.Auth,
    sessionId: SID,
    seq: seq(257),
    avps: [...algorithms, { kind: "eapPayload", value: fixture("eap/psk_msg2") }],
  },
  par_complete: {
    flags: panaFlags({ request: true, complete: true, preauth: true }),
    type: PanaMessageType.Auth,
    sessionId: SID,
    seq: seq(258),
    avps: [
      { kind: "resultCode", value: PanaResultCode.Success },
      { kind: "eapPayload", value: fixture("eap/psk_msg3") },
      { kind: "keyId", value: 1 },
      { kind: "sessionLifetime", value: 3600 },
      { kind: "auth", value: range(0xc0, 16) },
    ],
  },
  pan_complete: {
    flags: panaFlags({ complete: true, preauth: true }),
    type: PanaMessageType.Auth,
    sessionId: SID,
    seq: seq(258),
    avps: [
      { kind: "keyId", value: 1 },
      { kind: "eapPayload", value: fixture("eap/psk_msg4") },
      { kind: "auth", value: range(0xd0, 16) },
    ],
  },
  ptr: {
    flags: panaFlags({ request: true }),
    type: PanaMessageType.Termination,
    sessionId: SID,
    seq: seq(515),
    avps: [
      { kind: "terminationCause", value: PanaTerminationCause.Logout },
      { kind: "auth", value: range(0xe0, 16) },
    ],
  },
  pta: {
    flags: panaFlags(),
    type: PanaMessageType.Termination,
    sessionId: SID,
    seq: seq(515),
    avps: [{ kind: "auth", value: range(0xf0, 16) }],
  },
  pnr_vendor: {
    flags: panaFlags({ request: true, ping: true }),
    type: PanaMessageType.Notification,
    sessionId: SID,
    seq: seq(259),
    avps: [
      { kind: "unknown", code: 10, value: fromHex("0102030405") },
      { kind: "unknown", code: 42, vendorId: 32473, value: new TextEncoder().encode("abc") },
    ],
  },
};
const names = Object.keys(expected);

/** Offsets where each AVP of an encoded message starts, and its end. */
function avpBoundaries(bytes: Uint8Array): number[] {
  const out = [16];
  let at = 16;
  while (at < bytes.length) {
    const flags = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const length = (bytes[at + 4]! << 8) | bytes[at + 5]!;
    at += ((flags & 0x8000) ? 12 : 8) + length + ((4 - (length % 4)) % 4);
    out.push(at);
  }
  return out;
}

function withLength(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice(0, length);
  out[2] = length >> 8;
  out[3] = length & 0xff;
  return out;
}

describe("PANA messages (RFC 5191 sections 6 to 8)", () => {
  it.each(names)(
    "sections 6-8: fixture %s decodes to the message built from the RFC layout",
    (name) => {
      expect(decodePana(fixture(`pana/${name}`))).toEqual(expected[name]);
    },
  );

  it.each(names)("sections 6-8: message %s encodes to its fixture byte for byte", (name) => {
    expect(encodePana(expected[name]!)).toEqual(fixture(`pana/${name}`));
  });

  it("section 8.2: EAP-Payload carries the EAP packet, which decodes to EAP-PSK message 1", () => {
    const par = decodePana(fixture("pana/par_start"));
    const eap = decodeEap(findAvp(par, "eapPayload")!.value) as EapTypedPacket;
    expect(eap.type).toBe(47);
    expect(decodePskT(eap.typeData)).toBe(0);
  });

  it("section 6.2: each flag maps to its bit, E (RFC 5873) to bit 6 = 0x0200", () => {
    const bits: [keyof PanaFlags, number][] = [
      ["request", 0x8000],
      ["start", 0x4000],
      ["complete", 0x2000],
      ["auth", 0x1000],
      ["ping", 0x0800],
      ["ipReconfig", 0x0400],
      ["preauth", 0x0200],
    ];
    expect(PanaFlag.Preauth).toBe(0x0200);
    for (const [flag, bit] of bits) {
      const bytes = encodePana({ ...expected["pta"]!, flags: panaFlags({ [flag]: true }) });
      expect((bytes[4]! << 8) | bytes[5]!, flag).toBe(bit);
      expect(decodePana(bytes).flags, flag).toEqual(panaFlags({ [flag]: true }));
    }
  });

  it("sections 6.2, 6.3: reserved fields, reserved flag bits and padding bytes are ignored on receipt", () => {
    const bytes = fixture("pana/par_start");
    const noisy = bytes.slice();
    noisy[0] = 0xff; // Reserved
    noisy[1] = 0xff;
    noisy[4] = noisy[4]! | 0x01; // reserved header flag bits 7-15
    noisy[5] = 0xff;
    noisy[18] = 0x7f; // AVP flags: every reserved bit, V clear
    noisy[19] = 0xff;
    noisy[22] = 0xff; // AVP Reserved
    noisy[23] = 0xff;
    noisy[bytes.length - 1] = 0xee; // padding of the EAP-Payload AVP
    expect(decodePana(noisy)).toEqual(decodePana(bytes));
  });

  it("section 6.3: AVP Length counts the value only; every AVP is padded to 4 bytes", () => {
    const bytes = encodePana({
      ...expected["pta"]!,
      avps: [{ kind: "nonce", value: fromHex("0102030405") }, { kind: "keyId", value: 7 }],
    });
    expect(bytes.length).toBe(16 + 8 + 8 + 12);
    expect(bytes.subarray(16, 32)).toEqual(fromHex("0005 0000 0005 0000 0102030405 000000"));
  });

  it("section 6.3: unknown AVPs are kept with their raw value, vendor AVPs with their Vendor-Id", () => {
    const msg = decodePana(fixture("pana/pnr_vendor"));
    expect(findAvps(msg, "unknown").map((a) => [a.code, a.vendorId])).toEqual([[10, undefined], [
      42,
      32473,
    ]]);
    expect("vendorId" in msg.avps[0]!).toBe(false);
  });

  it("section 6.3: a vendor AVP is in the vendor's code space, even with an IETF code", () => {
    const bytes = encodePana({
      ...expected["pta"]!,
      avps: [{ kind: "unknown", code: 2, vendorId: 9, value: fromHex("01") }],
    });
    expect(decodePana(bytes).avps).toEqual([{
      kind: "unknown",
      code: 2,
      vendorId: 9,
      value: fromHex("01"),
    }]);
  });

  it("sections 6.2, 6.3: every truncation of every fixture is refused with MalformedMessageError", () => {
    for (const name of names) {
      const bytes = fixture(`pana/${name}`);
      for (let n = 0; n < bytes.length; n++) {
        expect(() => decodePana(bytes.subarray(0, n)), `${name} cut at ${n}`).toThrow(
          MalformedMessageError,
        );
      }
    }
  });

  it("section 6.3: with Message Length fixed up, a cut inside an AVP still fails, a cut between AVPs parses", () => {
    for (const name of names) {
      const bytes = fixture(`pana/${name}`);
      const boundaries = avpBoundaries(bytes);
      for (let n = 16; n < bytes.length; n++) {
        const cut = withLength(bytes, n);
        const k = boundaries.indexOf(n);
        if (k >= 0) {
          expect(decodePana(cut).avps, `${name} cut at ${n}`).toEqual(
            expected[name]!.avps.slice(0, k),
          );
        } else {
          expect(() => decodePana(cut), `${name} cut at ${n}`).toThrow(MalformedMessageError);
        }
      }
    }
  });

  it("section 6.2: the datagram must be exactly Message Length bytes", () => {
    const bytes = fixture("pana/ptr");
    const longer = new Uint8Array([...bytes, 0, 0, 0, 0]);
    expect(() => decodePana(longer)).toThrow(
      "Invalid PANA Message Length: field says 52 bytes, datagram has 56",
    );
    const short = bytes.slice();
    short[3] = 12; // below the header
    expect(() => decodePana(short)).toThrow(MalformedMessageError);
    expect(() => decodePana(new Uint8Array(9))).toThrow(
      "Truncated PANA header: need 16 bytes, got 9",
    );
  });

  it("section 6.3: an AVP whose length runs past the end is refused", () => {
    const bytes = fixture("pana/par_start");
    bytes[44] = 0x00; // EAP-Payload AVP Length 31 -> 255
    bytes[45] = 0xff;
    expect(() => decodePana(bytes)).toThrow("Truncated PANA AVP value: need 256 bytes, got 32");
    const noPadding = withLength(fixture("pana/par_start"), 79); // last padding byte missing
    expect(() => decodePana(noPadding)).toThrow(MalformedMessageError);
  });

  it("section 8: an Unsigned32 AVP must be 4 bytes long", () => {
    const bytes = fixture("pana/ptr");
    bytes[21] = 3; // Termination-Cause length 4 -> 3 (still fits with its padding)
    expect(() => decodePana(bytes)).toThrow(
      "Invalid PANA Termination-Cause AVP: length 3, expected 4",
    );
  });

  it("refuses oversized datagrams before parsing, with a configurable limit", () => {
    const big = new Uint8Array(PANA_MAX_MESSAGE_LENGTH + 1);
    expect(() => decodePana(big)).toThrow("Oversized PANA message: 4097 bytes, limit 4096");
    const bytes = fixture("pana/par_complete");
    expect(() => decodePana(bytes, { maxLength: 143 })).toThrow(MalformedMessageError);
    expect(decodePana(bytes, { maxLength: 144 })).toEqual(expected["par_complete"]);
    const huge = {
      ...expected["pta"]!,
      avps: [{ kind: "eapPayload" as const, value: new Uint8Array(4096) }],
    };
    expect(() => encodePana(huge)).toThrow("Oversized PANA message: 4120 bytes, limit 4096");
    expect(encodePana(huge, { maxLength: 65535 }).length).toBe(4120);
  });

  it("refuses to encode fields that do not fit their wire size", () => {
    const base = expected["pta"]!;
    expect(() => encodePana({ ...base, sessionId: 2 ** 32 })).toThrow(
      "Invalid PANA Session Identifier",
    );
    expect(() => encodePana({ ...base, seq: -1 })).toThrow(MalformedMessageError);
    expect(() => encodePana({ ...base, type: 65536 })).toThrow(MalformedMessageError);
    expect(() => encodePana({ ...base, avps: [{ kind: "resultCode", value: 2 ** 32 }] })).toThrow(
      MalformedMessageError,
    );
    expect(() =>
      encodePana({ ...base, avps: [{ kind: "unknown", code: 70000, value: new Uint8Array() }] })
    ).toThrow("Invalid PANA AVP code");
    expect(() =>
      encodePana({
        ...base,
        avps: [{ kind: "unknown", code: 1, vendorId: -1, value: new Uint8Array() }],
      })
    ).toThrow(MalformedMessageError);
    expect(() =>
      encodePana({ ...base, avps: [{ kind: "nonce", value: new Uint8Array(65536) }] }, {
        maxLength: 65535,
      })
    ).toThrow(MalformedMessageError);
  });

  it("decoded byte values are copies of the datagram", () => {
    const bytes = fixture("pana/pan_complete");
    const msg = decodePana(bytes);
    bytes.fill(0);
    expect(msg).toEqual(expected["pan_complete"]);
  });
});

describe("PANA AVP lookup", () => {
  it("findAvp returns the first AVP of a kind, typed, or undefined", () => {
    const par = expected["par_complete"]!;
    expect(findAvp(par, "resultCode")?.value).toBe(PanaResultCode.Success);
    expect(findAvp(par, "sessionLifetime")?.value).toBe(3600);
    expect(findAvp(par, "nonce")).toBeUndefined();
    expect(findAvps(par, "auth")).toHaveLength(1);
    expect(findAvps(par, "terminationCause")).toEqual([]);
  });
});

describe("AUTH AVP location (RFC 5191 section 5.3)", () => {
  it("locates the AUTH value in PAR, PAN, PTR and PTA fixtures", () => {
    expect(panaAuthOffset(fixture("pana/par_complete"))).toEqual({ offset: 128, length: 16 });
    expect(panaAuthOffset(fixture("pana/pan_complete"))).toEqual({ offset: 88, length: 16 });
    expect(panaAuthOffset(fixture("pana/ptr"))).toEqual({ offset: 36, length: 16 });
    expect(panaAuthOffset(fixture("pana/pta"))).toEqual({ offset: 24, length: 16 });
    expect(panaAuthOffset(fixture("pana/pci"))).toBeUndefined();
    const bytes = fixture("pana/par_complete");
    expect(bytes.subarray(128, 144)).toEqual(range(0xc0, 16));
  });

  it("zeroAuthAvp returns a copy with only the AUTH value zeroed: the MAC input", () => {
    const bytes = fixture("pana/par_complete");
    const zeroed = zeroAuthAvp(bytes);
    expect(zeroed.subarray(128)).toEqual(new Uint8Array(16));
    expect(zeroed.subarray(0, 128)).toEqual(bytes.subarray(0, 128));
    expect(bytes.subarray(128)).toEqual(range(0xc0, 16));
    const encodedWithZeros = encodePana({
      ...expected["par_complete"]!,
      avps: expected["par_complete"]!.avps.map((a) =>
        a.kind === "auth" ? { kind: "auth" as const, value: new Uint8Array(16) } : a
      ),
    });
    expect(zeroed).toEqual(encodedWithZeros);
  });

  it("refuses a missing AUTH AVP for zeroing and two AUTH AVPs for both", () => {
    expect(() => zeroAuthAvp(fixture("pana/pci"))).toThrow(ProtocolViolationError);
    const twice = encodePana({
      ...expected["pta"]!,
      avps: [{ kind: "auth", value: new Uint8Array(16) }, {
        kind: "auth",
        value: new Uint8Array(16),
      }],
    });
    expect(() => panaAuthOffset(twice)).toThrow("Invalid PANA message: two AUTH AVPs");
    expect(() => zeroAuthAvp(twice)).toThrow(ProtocolViolationError);
  });

  it("ignores a vendor AVP that reuses code 1 and validates the structure like decodePana", () => {
    const vendorAuth = encodePana({
      ...expected["pta"]!,
      avps: [{ kind: "unknown", code: 1, vendorId: 9, value: new Uint8Array(16) }],
    });
    expect(panaAuthOffset(vendorAuth)).toBeUndefined();
    expect(() => panaAuthOffset(fixture("pana/ptr").subarray(0, 40))).toThrow(
      MalformedMessageError,
    );
    expect(() => panaAuthOffset(withLength(fixture("pana/ptr"), 44))).toThrow(
      MalformedMessageError,
    );
  });
});

describe("PANA names and flags helpers", () => {
  it("names messages by their RFC 5191 section 7 abbreviation", () => {
    const name = (file: string) => panaMessageName(decodePana(fixture(`pana/${file}`)));
    expect(names.map(name)).toEqual(["PCI", "PAR", "PAN", "PAR", "PAN", "PTR", "PTA", "PNR"]);
    expect(panaMessageName({ type: 99, flags: panaFlags() })).toBe("type 99");
  });

  it("panaFlags fills the flags not given with false", () => {
    expect(panaFlags()).toEqual({
      request: false,
      start: false,
      complete: false,
      auth: false,
      ping: false,
      ipReconfig: false,
      preauth: false,
    });
  });
});

function decodePskT(typeData: Uint8Array): number {
  return decodeEapPsk(typeData).t;
}
