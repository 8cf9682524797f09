import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  buildNdPacket,
  decodeNdMessage,
  encodeNdMessage,
  INFINITE_LIFETIME,
  type NdMessage,
  optionsOf,
  parseNdPacket,
  type RouterAdvertisement,
  solicitedNodeAddress,
} from "../../../lib/wire/icmpv6.ts";
import { buildIcmpv6Packet } from "../../../lib/wire/ip_packet.ts";

/** Captured from Linux 6.18 on a veth pair (tshark, Ethernet header stripped). */
const KERNEL = {
  /** DAD probe for 2001:db8:9::1 from ::, with a Nonce option (RFC 7527 enhanced DAD). */
  dadNs:
    "6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff00000187005ef10000000020010db80009000000000000000000010e01d8294431c38e",
  /** Router Solicitation from fe80::ff:fe00:b with SLLA 02:00:00:00:00:0b. */
  rs:
    "6000000000103afffe80000000000000000000fffe00000bff02000000000000000000000000000285007b1800000000010102000000000b",
  /** Address resolution NS for 2001:db8:9::2 with SLLA 02:00:00:00:00:0a. */
  ns:
    "6000000000203aff20010db8000900000000000000000001ff0200000000000000000001ff00000287001c0c0000000020010db8000900000000000000000002010102000000000a",
  /** Solicited NA (S, O) for 2001:db8:9::2 with TLLA 02:00:00:00:00:0b. */
  na:
    "6000000000203aff20010db800090000000000000000000220010db800090000000000000000000188008a4d6000000020010db8000900000000000000000002020102000000000b",
  /** Solicited NA (S) for 2001:db8:9::1 without options (unicast probe answer). */
  naNoOption:
    "6000000000183aff20010db8000900000000000000000001fe80000000000000000000fffe00000b8800de9a4000000020010db8000900000000000000000001",
};

/**
 * A Router Advertisement built by hand and checked field by field with tshark 4
 * (checksum 0x3b43 "[correct]"): fe80::1 -> ff02::1, Cur Hop Limit 64, O flag,
 * Router Lifetime 1800, Reachable 30000, Retrans 1000; SLLA 02:00:00:00:00:01, MTU
 * 1400, PIO 2001:db8:1::/64 L A valid 86400 preferred 14400, RDNSS 600 s
 * 2001:db8:1::53 and ::54.
 */
const RA =
  "6000000000683afffe800000000000000000000000000001ff02000000000000000000000000000186003b434040070800007530000003e801010200000000010501000000000578030440c000015180000038400000000020010db8000100000000000000000000190500000000025820010db800010000000000000000005320010db8000100000000000000000054";

const RA_MESSAGE: RouterAdvertisement = {
  kind: "router-advertisement",
  curHopLimit: 64,
  managed: false,
  other: true,
  routerLifetime: 1800,
  reachableTime: 30000,
  retransTimer: 1000,
  options: [
    { kind: "source-link-layer-address", address: fromHex("020000000001") },
    { kind: "mtu", mtu: 1400 },
    {
      kind: "prefix-information",
      prefixLength: 64,
      onLink: true,
      autonomous: true,
      validLifetime: 86400,
      preferredLifetime: 14400,
      prefix: "2001:db8:1::",
    },
    { kind: "rdnss", lifetime: 600, servers: ["2001:db8:1::53", "2001:db8:1::54"] },
  ],
};

describe("Neighbor Discovery messages (RFC 4861 section 4)", () => {
  it("section 4.2: builds the tshark-checked Router Advertisement byte for byte and parses it back", () => {
    const p = buildNdPacket({ source: "fe80::1", destination: "ff02::1", message: RA_MESSAGE });
    expect(hex(p)).toBe(RA);
    expect(parseNdPacket(fromHex(RA))).toEqual({
      source: "fe80::1",
      destination: "ff02::1",
      message: RA_MESSAGE,
    });
  });

  it("section 4.1: parses and re-encodes a kernel Router Solicitation", () => {
    const nd = parseNdPacket(fromHex(KERNEL.rs));
    expect(nd).toEqual({
      source: "fe80::ff:fe00:b",
      destination: "ff02::2",
      message: {
        kind: "router-solicitation",
        options: [{ kind: "source-link-layer-address", address: fromHex("02000000000b") }],
      },
    });
    expect(hex(buildNdPacket(nd))).toBe(KERNEL.rs);
  });

  it("section 4.3: parses and re-encodes a kernel Neighbor Solicitation", () => {
    const nd = parseNdPacket(fromHex(KERNEL.ns));
    expect(nd.message).toEqual({
      kind: "neighbor-solicitation",
      target: "2001:db8:9::2",
      options: [{ kind: "source-link-layer-address", address: fromHex("02000000000a") }],
    });
    expect(nd.destination).toBe(solicitedNodeAddress("2001:db8:9::2"));
    expect(hex(buildNdPacket(nd))).toBe(KERNEL.ns);
  });

  it("section 4.3 and RFC 4862 section 5.4.2: a DAD probe from :: keeps its unknown Nonce option", () => {
    const nd = parseNdPacket(fromHex(KERNEL.dadNs));
    expect(nd).toEqual({
      source: "::",
      destination: "ff02::1:ff00:1",
      message: {
        kind: "neighbor-solicitation",
        target: "2001:db8:9::1",
        options: [{ kind: "unknown", type: 14, data: fromHex("d8294431c38e") }],
      },
    });
    expect(hex(buildNdPacket(nd))).toBe(KERNEL.dadNs);
  });

  it("section 4.4: parses and re-encodes kernel Neighbor Advertisements (flags S, O)", () => {
    const na = parseNdPacket(fromHex(KERNEL.na));
    expect(na.message).toEqual({
      kind: "neighbor-advertisement",
      router: false,
      solicited: true,
      override: true,
      target: "2001:db8:9::2",
      options: [{ kind: "target-link-layer-address", address: fromHex("02000000000b") }],
    });
    expect(hex(buildNdPacket(na))).toBe(KERNEL.na);
    const bare = parseNdPacket(fromHex(KERNEL.naNoOption));
    expect(bare.message).toMatchObject({ solicited: true, override: false, options: [] });
    expect(hex(buildNdPacket(bare))).toBe(KERNEL.naNoOption);
  });

  it("section 4.4: encodes the R, S and O flags in the top bits", () => {
    const m: NdMessage = {
      kind: "neighbor-advertisement",
      router: true,
      solicited: false,
      override: true,
      target: "fe80::1",
      options: [],
    };
    expect(hex(encodeNdMessage(m).subarray(4, 8))).toBe("a0000000");
    expect(decodeNdMessage(encodeNdMessage(m))).toEqual(m);
  });

  it("section 4.6.2: infinite lifetimes, prefix bits past the length are zeroed", () => {
    const m: NdMessage = {
      ...RA_MESSAGE,
      options: [{
        kind: "prefix-information",
        prefixLength: 48,
        onLink: false,
        autonomous: true,
        validLifetime: INFINITE_LIFETIME,
        preferredLifetime: INFINITE_LIFETIME,
        prefix: "2001:db8:1:ffff::1",
      }],
    };
    const bytes = encodeNdMessage(m);
    expect(hex(bytes.subarray(16))).toBe(
      "0304" + "30" + "40" + "ffffffff" + "ffffffff" + "00000000" +
        "20010db8000100000000000000000000",
    );
    const back = decodeNdMessage(bytes);
    expect(optionsOf(back, "prefix-information")[0]?.prefix).toBe("2001:db8:1::");
    // A receiver ignores such bits too.
    bytes[16 + 16 + 7] = 0xff;
    expect(optionsOf(decodeNdMessage(bytes), "prefix-information")[0]?.prefix).toBe("2001:db8:1::");
  });

  it("section 4.6.1: a link-layer address is padded to 8 bytes", () => {
    const m: NdMessage = {
      kind: "router-solicitation",
      options: [{ kind: "source-link-layer-address", address: fromHex("0102030405060708") }],
    };
    const bytes = encodeNdMessage(m);
    expect(hex(bytes.subarray(8))).toBe("0102" + "0102030405060708" + "000000000000");
    expect(optionsOf(decodeNdMessage(bytes), "source-link-layer-address")[0]?.address).toEqual(
      fromHex("0102030405060708000000000000"),
    );
  });

  it("optionsOf returns the options of one kind in order", () => {
    expect(optionsOf(RA_MESSAGE, "mtu")).toEqual([{ kind: "mtu", mtu: 1400 }]);
    expect(optionsOf(RA_MESSAGE, "target-link-layer-address")).toEqual([]);
  });
});

describe("Neighbor Discovery validation (RFC 4861 sections 4.6, 6.1, 7.1)", () => {
  const raBytes = () => encodeNdMessage(RA_MESSAGE);

  it("section 6.1.2: refuses truncated messages and unknown types", () => {
    expect(() => decodeNdMessage(raBytes().slice(0, 15))).toThrow(MalformedMessageError);
    expect(() => decodeNdMessage(raBytes().slice(0, 15))).toThrow(
      "Truncated Router Advertisement: need 12 bytes, got 11",
    );
    expect(() => decodeNdMessage(fromHex("8700000000000000"))).toThrow(
      "Truncated Neighbor Solicitation",
    );
    expect(() => decodeNdMessage(fromHex("85"))).toThrow("Truncated ICMPv6 header");
    expect(() => decodeNdMessage(fromHex("8000000000000000"))).toThrow(
      "Invalid Neighbor Discovery message: ICMPv6 type 128",
    );
  });

  it("section 6.1.2: refuses a Code other than 0", () => {
    const b = raBytes();
    b[1] = 1;
    expect(() => decodeNdMessage(b)).toThrow(ProtocolViolationError);
    expect(() => decodeNdMessage(b)).toThrow("Invalid Router Advertisement: ICMP Code 1, not 0");
  });

  it("section 4.6: refuses an option of length 0 or one running past the end", () => {
    expect(() => decodeNdMessage(fromHex("8500000000000000 0100"))).toThrow(
      "Invalid Neighbor Discovery option 1: length 0",
    );
    expect(() => decodeNdMessage(fromHex("8500000000000000 0102 000000000000"))).toThrow(
      "Truncated Neighbor Discovery option 1",
    );
    expect(() => decodeNdMessage(fromHex("8500000000000000 01"))).toThrow(
      "Truncated Neighbor Discovery option",
    );
  });

  it("sections 4.6.2, 4.6.4 and RFC 8106 section 5.1: refuses options of the wrong length", () => {
    expect(() => decodeNdMessage(fromHex("8500000000000000 0301 000000000000"))).toThrow(
      "Invalid Prefix Information option: length 1, not 4",
    );
    expect(() => decodeNdMessage(fromHex("8500000000000000 0502 0000000000000000000000000000")))
      .toThrow("Invalid MTU option: length 2, not 1");
    expect(() => decodeNdMessage(fromHex(`8500000000000000 1902 ${"00".repeat(14)}`))).toThrow(
      "Invalid RDNSS option",
    );
    expect(() => decodeNdMessage(fromHex(`8500000000000000 1904 ${"00".repeat(30)}`))).toThrow(
      "Invalid RDNSS option",
    );
    const pio = raBytes();
    pio[16 + 8 + 8 + 2] = 129; // prefix length of the PIO
    expect(() => decodeNdMessage(pio)).toThrow(
      "Invalid Prefix Information option: prefix length 129",
    );
  });

  it("sections 7.1.1 and 7.1.2: refuses a multicast target", () => {
    const ns = fromHex("8700000000000000 ff020000000000000000000000000001");
    expect(() => decodeNdMessage(ns)).toThrow(ProtocolViolationError);
    expect(() => decodeNdMessage(ns)).toThrow("target ff02::1 is multicast");
    expect(() => encodeNdMessage({ kind: "neighbor-solicitation", target: "ff02::1", options: [] }))
      .toThrow(MalformedMessageError);
  });

  it("sections 6.1.2 and 7.1: refuses a Hop Limit other than 255", () => {
    const p = fromHex(KERNEL.ns);
    p[7] = 64;
    expect(() => parseNdPacket(p)).toThrow(
      "Invalid Neighbor Solicitation: Hop Limit 64, not 255",
    );
  });

  it("section 6.1.2: refuses an RA whose source is not link-local", () => {
    const p = buildNdPacket({ source: "2001:db8::1", destination: "ff02::1", message: RA_MESSAGE });
    expect(() => parseNdPacket(p)).toThrow(
      "Invalid Router Advertisement: source 2001:db8::1 is not link-local",
    );
  });

  it("sections 6.1.1 and 7.1.1: no SLLA with an unspecified source; DAD only to a solicited-node group", () => {
    const rs = buildNdPacket({
      source: "::",
      destination: "ff02::2",
      message: {
        kind: "router-solicitation",
        options: [{ kind: "source-link-layer-address", address: fromHex("020000000001") }],
      },
    });
    expect(() => parseNdPacket(rs)).toThrow(
      "Source Link-Layer Address option with an unspecified source",
    );
    const ns = buildNdPacket({
      source: "::",
      destination: "ff02::1:ff00:1",
      message: {
        kind: "neighbor-solicitation",
        target: "2001:db8::1",
        options: [{ kind: "source-link-layer-address", address: fromHex("020000000001") }],
      },
    });
    expect(() => parseNdPacket(ns)).toThrow(ProtocolViolationError);
    const probe = buildNdPacket({
      source: "::",
      destination: "ff02::1",
      message: { kind: "neighbor-solicitation", target: "2001:db8::1", options: [] },
    });
    expect(() => parseNdPacket(probe)).toThrow("DAD probe to ff02::1, not a solicited-node group");
  });

  it("section 7.1.2: refuses a solicited NA to a multicast group", () => {
    const p = buildNdPacket({
      source: "fe80::1",
      destination: "ff02::1",
      message: {
        kind: "neighbor-advertisement",
        router: false,
        solicited: true,
        override: true,
        target: "2001:db8::1",
        options: [],
      },
    });
    expect(() => parseNdPacket(p)).toThrow("Solicited flag set for multicast ff02::1");
  });

  it("refuses a bad checksum and a non-ND ICMPv6 packet", () => {
    const p = fromHex(KERNEL.rs);
    p[p.length - 1] = p[p.length - 1]! ^ 1;
    expect(() => parseNdPacket(p)).toThrow("Invalid ICMPv6 message: bad checksum");
    const echo = buildIcmpv6Packet({
      source: "fe80::1",
      destination: "fe80::2",
      ttl: 255,
      message: fromHex("8000000000010001"),
    });
    expect(() => parseNdPacket(echo)).toThrow("ICMPv6 type 128");
  });

  it("refuses values that do not fit on encode", () => {
    expect(() => encodeNdMessage({ ...RA_MESSAGE, routerLifetime: 65536 })).toThrow(
      "Invalid Neighbor Discovery Router Lifetime: 65536",
    );
    expect(() => encodeNdMessage({ ...RA_MESSAGE, curHopLimit: -1 })).toThrow(
      MalformedMessageError,
    );
    expect(() =>
      encodeNdMessage({ ...RA_MESSAGE, options: [{ kind: "rdnss", lifetime: 1, servers: [] }] })
    ).toThrow("Invalid RDNSS option: no server");
    expect(() =>
      encodeNdMessage({
        ...RA_MESSAGE,
        options: [{ kind: "unknown", type: 14, data: new Uint8Array(5) }],
      })
    ).toThrow("5 data bytes is not 8n - 2");
    expect(() =>
      encodeNdMessage({
        ...RA_MESSAGE,
        options: [{ kind: "unknown", type: 0, data: new Uint8Array(6) }],
      })
    ).toThrow("Invalid Neighbor Discovery option type: 0");
  });
});

describe("solicitedNodeAddress (RFC 4291 section 2.7.1)", () => {
  it("appends the low 24 bits to ff02::1:ff00:0/104", () => {
    expect(solicitedNodeAddress("2001:db8:9::1")).toBe("ff02::1:ff00:1");
    expect(solicitedNodeAddress("fe80::ff:fe00:b")).toBe("ff02::1:ff00:b");
    expect(solicitedNodeAddress("2001:db8::12:3456:789a")).toBe("ff02::1:ff56:789a");
  });
});
