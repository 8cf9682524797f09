import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  formatIpv4Address,
  formatIpv6Address,
  parseIpAddress,
  parseIpHeader,
  parseIpv4Address,
  parseIpv6Address,
} from "../../../lib/wire/ip_header.ts";

/** IPv4 header with a correct checksum (b861): 192.168.0.1 -> 192.168.0.199, UDP, Total Length 115. */
const IPV4_HEADER = "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7";
const ipv4Packet = () => {
  const p = new Uint8Array(115);
  p.set(fromHex(IPV4_HEADER));
  return p;
};

/** IPv6 ICMPv6 Echo Request 2001:db8::1 -> 2001:db8::2, hop limit 64, 8 bytes of payload. */
const IPV6_PACKET = fromHex(`
  6000 0000 0008 3a40
  2001 0db8 0000 0000 0000 0000 0000 0001
  2001 0db8 0000 0000 0000 0000 0000 0002
  8000 7c60 1234 0001
`);

describe("parseIpHeader (RFC 791 section 3.1, RFC 8200 section 3)", () => {
  it("RFC 791 section 3.1: reads an IPv4 header", () => {
    expect(parseIpHeader(ipv4Packet())).toEqual({
      version: 4,
      source: "192.168.0.1",
      destination: "192.168.0.199",
      protocol: 17,
      headerLength: 20,
      totalLength: 115,
    });
  });

  it("RFC 791 section 3.1: honours IHL with options", () => {
    const p = fromHex("4600 0018 0000 4000 4001 0000 0a00 0001 0a00 0002 0101 0100");
    const info = parseIpHeader(p);
    expect(info.headerLength).toBe(24);
    expect(info.totalLength).toBe(24);
    expect(info.protocol).toBe(1);
    expect(info.destination).toBe("10.0.0.2");
  });

  it("RFC 8200 section 3: reads an IPv6 fixed header", () => {
    expect(parseIpHeader(IPV6_PACKET)).toEqual({
      version: 6,
      source: "2001:db8::1",
      destination: "2001:db8::2",
      protocol: 58,
      headerLength: 40,
      totalLength: 48,
    });
  });

  it("RFC 8200 section 3: the protocol is the fixed header's Next Header (Hop-by-Hop is 0)", () => {
    const p = IPV6_PACKET.slice();
    p[6] = 0;
    expect(parseIpHeader(p).protocol).toBe(0);
  });

  it("refuses empty input and versions other than 4 and 6", () => {
    expect(() => parseIpHeader(new Uint8Array())).toThrow(MalformedMessageError);
    expect(() => parseIpHeader(new Uint8Array())).toThrow("Truncated IP packet: empty");
    const p = ipv4Packet();
    p[0] = 0x55;
    expect(() => parseIpHeader(p)).toThrow("Invalid IP packet: version 5");
    expect(() => parseIpHeader(new Uint8Array([0x00]))).toThrow("Invalid IP packet: version 0");
  });

  it("RFC 791 section 3.1: refuses a truncated IPv4 header, IHL below 5 and bad Total Length", () => {
    expect(() => parseIpHeader(fromHex(IPV4_HEADER).slice(0, 19))).toThrow(
      "Truncated IPv4 header: need 20 bytes, got 19",
    );
    const ihl4 = ipv4Packet();
    ihl4[0] = 0x44;
    expect(() => parseIpHeader(ihl4)).toThrow("Invalid IPv4 header: IHL 4 is below 5");
    const ihl15 = ipv4Packet().slice(0, 40);
    ihl15[0] = 0x4f;
    expect(() => parseIpHeader(ihl15)).toThrow("Truncated IPv4 header: need 60 bytes, got 40");
    const shortTotal = fromHex("4500 0010 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(() => parseIpHeader(shortTotal)).toThrow(
      "Total Length 16 is below the header length 20",
    );
  });

  it("RFC 791 section 3.1: refuses a packet shorter or longer than Total Length", () => {
    expect(() => parseIpHeader(ipv4Packet().slice(0, 114))).toThrow(
      "Truncated IPv4 packet: Total Length 115, got 114 bytes",
    );
    const longer = new Uint8Array(116);
    longer.set(ipv4Packet());
    expect(() => parseIpHeader(longer)).toThrow("length mismatch");
  });

  it("RFC 8200 section 3: refuses a truncated IPv6 header and a Payload Length mismatch", () => {
    expect(() => parseIpHeader(IPV6_PACKET.slice(0, 39))).toThrow(
      "Truncated IPv6 header: need 40 bytes, got 39",
    );
    expect(() => parseIpHeader(IPV6_PACKET.slice(0, 47))).toThrow(
      "Truncated IPv6 packet: Payload Length 8, got 7 bytes of payload",
    );
    const longer = new Uint8Array(49);
    longer.set(IPV6_PACKET);
    expect(() => parseIpHeader(longer)).toThrow(MalformedMessageError);
    expect(() => parseIpHeader(longer)).toThrow("length mismatch");
  });
});

describe("IPv4 address text", () => {
  it("parses and formats dotted quads", () => {
    expect(hex(parseIpv4Address("192.0.2.1"))).toBe("c0000201");
    expect(hex(parseIpv4Address("0.0.0.0"))).toBe("00000000");
    expect(hex(parseIpv4Address("255.255.255.255"))).toBe("ffffffff");
    expect(formatIpv4Address(fromHex("0a00020f"))).toBe("10.0.2.15");
    expect(formatIpv4Address(fromHex("ffff c6336407"), 2)).toBe("198.51.100.7");
  });

  it("refuses malformed text", () => {
    for (
      const bad of [
        "",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.-4",
        "1.2.3.a",
        "1..2.3",
        " 1.2.3.4",
        "1.2.3.4 ",
        "::1",
      ]
    ) {
      expect(() => parseIpv4Address(bad), bad).toThrow(MalformedMessageError);
    }
    expect(() => parseIpv4Address("1.2.3")).toThrow('Invalid IPv4 address: "1.2.3"');
  });

  it("refuses to format past the end of the bytes", () => {
    expect(() => formatIpv4Address(new Uint8Array(3))).toThrow(
      "Truncated IPv4 address: need 4 bytes at offset 0, got 3",
    );
    expect(() => formatIpv4Address(new Uint8Array(6), 3)).toThrow(MalformedMessageError);
    expect(() => formatIpv4Address(new Uint8Array(6), -1)).toThrow(MalformedMessageError);
  });
});

describe("IPv6 address text (RFC 4291 section 2.2, RFC 5952)", () => {
  const canonical = (text: string) => formatIpv6Address(parseIpv6Address(text));

  it("RFC 5952 section 4.1: no leading zeros", () => {
    expect(canonical("2001:0db8::0001")).toBe("2001:db8::1");
    expect(canonical("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001")).toBe(
      "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1",
    );
  });

  it("RFC 5952 section 4.2.1: shorten as much as possible", () => {
    expect(canonical("2001:db8:0:0:0:0:2:1")).toBe("2001:db8::2:1");
    expect(canonical("2001:db8::0:1")).toBe("2001:db8::1");
  });

  it("RFC 5952 section 4.2.2: never `::` for one 16-bit 0 field", () => {
    expect(canonical("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(canonical("2001:db8::1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
  });

  it("RFC 5952 section 4.2.3: the longest run, the first on a tie", () => {
    expect(canonical("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
    expect(canonical("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
  });

  it("RFC 5952 section 4.3: lowercase", () => {
    expect(canonical("2001:DB8:AAAA::CCCC")).toBe("2001:db8:aaaa::cccc");
  });

  it("RFC 5952 section 5: IPv4-mapped addresses in mixed notation", () => {
    expect(canonical("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(canonical("0:0:0:0:0:ffff:c000:0201")).toBe("::ffff:192.0.2.1");
    expect(hex(parseIpv6Address("::ffff:192.0.2.1"))).toBe("00000000000000000000ffffc0000201");
  });

  it("RFC 4291 section 2.2: edge forms", () => {
    expect(canonical("::")).toBe("::");
    expect(canonical("0:0:0:0:0:0:0:0")).toBe("::");
    expect(canonical("::1")).toBe("::1");
    expect(canonical("1::")).toBe("1::");
    expect(canonical("fe80::1")).toBe("fe80::1");
    expect(canonical("ff02::1")).toBe("ff02::1");
    expect(canonical("1:2:3:4:5:6:7:8")).toBe("1:2:3:4:5:6:7:8");
    expect(canonical("1:0:0:0:0:0:0:0")).toBe("1::");
    expect(canonical("::2:3:4:5:6:7:8")).toBe("0:2:3:4:5:6:7:8");
    expect(canonical("1:2:3:4:5:6:7::")).toBe("1:2:3:4:5:6:7:0");
    expect(hex(parseIpv6Address("::1.2.3.4"))).toBe("00000000000000000000000001020304");
    expect(hex(parseIpv6Address("1:2:3:4:5:6:1.2.3.4"))).toBe("00010002000300040005000601020304");
  });

  it("formats at an offset", () => {
    const b = new Uint8Array(18);
    b[2] = 0xfe;
    b[3] = 0x80;
    b[17] = 9;
    expect(formatIpv6Address(b, 2)).toBe("fe80::9");
    expect(() => formatIpv6Address(b, 3)).toThrow(
      "Truncated IPv6 address: need 16 bytes at offset 3, got 15",
    );
  });

  it("RFC 4291 section 2.2: refuses malformed text", () => {
    for (
      const bad of [
        "",
        ":",
        ":::",
        "1:::2",
        "1::2::3",
        ":1::2",
        "1::2:",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1::2:3:4:5:6:7:8",
        "12345::",
        "g::1",
        "1.2.3.4::",
        "::1.2.3.4:1",
        "::256.1.1.1",
        "1:2:3:4:5:6:7:1.2.3.4",
        "fe80::1%eth0",
        "192.0.2.1",
        " ::1",
      ]
    ) {
      expect(() => parseIpv6Address(bad), bad).toThrow(MalformedMessageError);
    }
    expect(() => parseIpv6Address("1::2::3")).toThrow('Invalid IPv6 address: "1::2::3"');
  });
});

describe("parseIpAddress", () => {
  it("returns 4 bytes for IPv4 and 16 for IPv6", () => {
    expect(parseIpAddress("10.0.0.1")).toEqual(new Uint8Array([10, 0, 0, 1]));
    expect(parseIpAddress("2001:db8::1")).toEqual(parseIpv6Address("2001:db8::1"));
    expect(parseIpAddress("::ffff:10.0.0.1").length).toBe(16);
    expect(() => parseIpAddress("example.org")).toThrow(MalformedMessageError);
    expect(() => parseIpAddress("")).toThrow(MalformedMessageError);
  });
});
