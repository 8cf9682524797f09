import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  buildIcmpEcho,
  buildIcmpv6Packet,
  buildIpPacket,
  buildUdpPacket,
  internetChecksum,
  parseIcmpEcho,
  parseIcmpv6Packet,
  parseIpPacket,
  parseUdpPacket,
  transportChecksum,
} from "../../../lib/wire/ip_packet.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

/**
 * Captured from Linux 6.18 on a veth pair (tshark, Ethernet header stripped). veth
 * offloads the UDP checksum, so the captured UDP checksum fields held only the
 * pseudo-header sum (udp4 1432, udp6 5ba4); the fixtures carry the completed values
 * tshark computed (80d0, 395f). ICMP and ICMPv6 checksums are complete as captured.
 */
const KERNEL = {
  /** UDP 10.9.0.1:40001 -> 10.9.0.2:9, "mpa6". */
  udp4: "450000202b1a40004011fb9e0a0900010a0900029c410009000c80d06d706136",
  /** UDP [2001:db8:9::1]:40000 -> [2001:db8:9::2]:9, "mpa6", flow label 0x6005e. */
  udp6:
    "6006005e000c114020010db800090000000000000000000120010db80009000000000000000000029c400009000c395f6d706136",
  /** ping -p 6d7061 -s 4 10.9.0.2: ICMP Echo Request id 0x4974 seq 1. */
  echo4: "450000202c4240004001fa860a0900010a0900020800e019497400016d706100",
  /** ping 2001:db8:9::2: ICMPv6 Echo Request id 0x4973 seq 1, 56 bytes of data. */
  echo6:
    "600156af00403a4020010db800090000000000000000000120010db800090000000000000000000280002ca64973000138140a6b00000000a991030000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
  /** The Echo Reply to echo6. */
  echoReply6:
    "600b4d3700403a4020010db800090000000000000000000220010db800090000000000000000000181002ba64973000138140a6b00000000a991030000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637",
};

/** Built by this module and checked by tshark 4 ("[Checksum Status: Good]"). */
const BUILT = {
  udp4: "450000210000400040112 6ca0a0000010a000002138800350 00d944268656c6c6f",
  udp6:
    "6000000000 0e114020010db800000000000000000000000120010db800000000000000000000000213880035000e4cad68656c6c6f21",
  echo4: "4500001f00004000400126dc0a0000010a0000020800f3fa00010002010203",
  echoReply6:
    "60000000000b3a40fe800000000000000000000000000001ff0200000000000000000000000000018100 7d2f00010002010203",
};

describe("Internet checksum (RFC 1071)", () => {
  it("section 3: the IPv4 header example sums to b861, and a correct header sums to 0", () => {
    const h = fromHex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(internetChecksum(h)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h)).toBe(0);
  });

  it("section 2: pads an odd final byte with zero; parts concatenate", () => {
    expect(internetChecksum(fromHex("0102 03"))).toBe(~(0x0102 + 0x0300) & 0xffff);
    expect(internetChecksum(fromHex("0102"), fromHex("0304"))).toBe(
      internetChecksum(fromHex("01020304")),
    );
    expect(internetChecksum(new Uint8Array())).toBe(0xffff);
  });

  it("section 2: end-around carry over a long run of 0xff", () => {
    expect(internetChecksum(new Uint8Array(65535).fill(0xff))).toBe(0x00ff);
    expect(internetChecksum(new Uint8Array(65536).fill(0xff))).toBe(0);
  });
});

describe("UDP over IPv4 and IPv6 (RFC 768, RFC 8200 section 8.1)", () => {
  it("RFC 768: parses a UDP/IPv4 packet captured from the Linux kernel", () => {
    expect(parseUdpPacket(fromHex(KERNEL.udp4))).toEqual({
      version: 4,
      source: "10.9.0.1",
      destination: "10.9.0.2",
      sourcePort: 40001,
      destinationPort: 9,
      ttl: 64,
      payload: ascii("mpa6"),
    });
  });

  it("RFC 8200 section 8.1: parses a UDP/IPv6 packet captured from the Linux kernel", () => {
    expect(parseUdpPacket(fromHex(KERNEL.udp6))).toEqual({
      version: 6,
      source: "2001:db8:9::1",
      destination: "2001:db8:9::2",
      sourcePort: 40000,
      destinationPort: 9,
      ttl: 64,
      payload: ascii("mpa6"),
    });
  });

  it("builds the kernel's UDP checksums for the same datagrams", () => {
    // The kernel's packets differ only in IPv4 Identification (hence header checksum) and
    // IPv6 flow label; the UDP segments must match byte for byte.
    const v4 = buildUdpPacket({
      source: "10.9.0.1",
      destination: "10.9.0.2",
      sourcePort: 40001,
      destinationPort: 9,
      payload: ascii("mpa6"),
    });
    expect(hex(v4.subarray(20))).toBe(KERNEL.udp4.slice(40));
    const v6 = buildUdpPacket({
      source: "2001:db8:9::1",
      destination: "2001:db8:9::2",
      sourcePort: 40000,
      destinationPort: 9,
      payload: ascii("mpa6"),
    });
    expect(hex(v6.subarray(40))).toBe(KERNEL.udp6.slice(80));
    expect(hex(v6.subarray(4, 40))).toBe(KERNEL.udp6.slice(8, 80));
  });

  it("builds byte-exact packets checked by tshark", () => {
    expect(hex(buildUdpPacket({
      source: "10.0.0.1",
      destination: "10.0.0.2",
      sourcePort: 5000,
      destinationPort: 53,
      payload: ascii("hello"),
    }))).toBe(BUILT.udp4.replaceAll(" ", ""));
    expect(hex(buildUdpPacket({
      source: "2001:db8::1",
      destination: "2001:db8::2",
      sourcePort: 5000,
      destinationPort: 53,
      payload: ascii("hello!"),
    }))).toBe(BUILT.udp6.replaceAll(" ", ""));
  });

  it("round trips with a TTL and an empty payload", () => {
    const p = buildUdpPacket({
      source: "fe80::1",
      destination: "ff02::1:2",
      sourcePort: 546,
      destinationPort: 547,
      payload: new Uint8Array(),
      ttl: 1,
    });
    expect(parseUdpPacket(p)).toEqual({
      version: 6,
      source: "fe80::1",
      destination: "ff02::1:2",
      sourcePort: 546,
      destinationPort: 547,
      ttl: 1,
      payload: new Uint8Array(),
    });
  });

  it("RFC 768: a computed checksum of 0 is sent as 0xffff", () => {
    // Pick the payload so that the checksum with it as zero is 0xffff (sum 0): then the
    // field is 0 before complementing... search a 2-byte payload that gives a zero sum.
    const base = { source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 1, destinationPort: 2 };
    const probe = buildUdpPacket({ ...base, payload: new Uint8Array(2) });
    const probeSum = (probe[26]! << 8) | probe[27]!; // checksum with payload 0000
    // Adding X to the sum lowers the complement by X: choose payload = probeSum.
    const payload = new Uint8Array([probeSum >> 8, probeSum & 0xff]);
    const p = buildUdpPacket({ ...base, payload });
    expect(hex(p.subarray(26, 28))).toBe("ffff");
    expect(parseUdpPacket(p).payload).toEqual(payload);
  });

  it("RFC 768: accepts a zero checksum over IPv4; RFC 8200 section 8.1: refuses it over IPv6", () => {
    const v4 = fromHex(KERNEL.udp4);
    v4[26] = 0;
    v4[27] = 0;
    expect(parseUdpPacket(v4).payload).toEqual(ascii("mpa6"));
    const v6 = fromHex(KERNEL.udp6);
    v6[46] = 0;
    v6[47] = 0;
    expect(() => parseUdpPacket(v6)).toThrow("Invalid UDP datagram: zero checksum over IPv6");
  });

  it("RFC 768: refuses the partial (pseudo-header only) checksum of an offloaded capture", () => {
    const partial = fromHex(KERNEL.udp4);
    partial[26] = 0x14;
    partial[27] = 0x32; // as captured on the veth before checksum completion
    expect(() => parseUdpPacket(partial)).toThrow("Invalid UDP datagram: bad checksum");
  });

  it("refuses bad checksums, a bad UDP length, truncation and other protocols", () => {
    const badData = fromHex(KERNEL.udp6);
    badData[51] = badData[51]! ^ 0x01;
    expect(() => parseUdpPacket(badData)).toThrow("Invalid UDP datagram: bad checksum");
    const badHeader = fromHex(KERNEL.udp4);
    badHeader[8] = 63; // TTL changed, header checksum not updated
    expect(() => parseUdpPacket(badHeader)).toThrow("Invalid IPv4 header: bad header checksum");
    const badLength = fromHex(KERNEL.udp6);
    badLength[45] = 0x0b;
    expect(() => parseUdpPacket(badLength)).toThrow("Invalid UDP datagram: length mismatch");
    expect(() => parseUdpPacket(fromHex(KERNEL.udp6).slice(0, 50))).toThrow(MalformedMessageError);
    const shortUdp = buildIpPacket({
      source: "::1",
      destination: "::1",
      protocol: 17,
      payload: new Uint8Array(7),
    });
    expect(() => parseUdpPacket(shortUdp)).toThrow("Truncated UDP header: need 8 bytes, got 7");
    expect(() => parseUdpPacket(fromHex(KERNEL.echo4))).toThrow(
      "Invalid UDP packet: protocol 1, not 17",
    );
  });

  it("RFC 791 section 3.1: refuses IPv4 fragments", () => {
    const p = buildIpPacket({
      source: "10.0.0.1",
      destination: "10.0.0.2",
      protocol: 17,
      payload: new Uint8Array(8),
    });
    p[6] = 0x20; // More Fragments
    const sum = internetChecksum(Object.assign(p.slice(0, 20), { 10: 0, 11: 0 }));
    p[10] = sum >> 8;
    p[11] = sum & 0xff;
    expect(() => parseIpPacket(p)).toThrow("Unsupported IPv4 packet: fragment");
  });

  it("refuses bad options: mixed families, bad ports, TTL, protocol, oversize", () => {
    const base = { sourcePort: 1, destinationPort: 2, payload: new Uint8Array() };
    expect(() => buildUdpPacket({ ...base, source: "10.0.0.1", destination: "::1" })).toThrow(
      "Invalid IP packet: mixed families: 10.0.0.1 -> ::1",
    );
    expect(() => buildUdpPacket({ ...base, source: "10.0.0.1", destination: "10.0.0.x" })).toThrow(
      MalformedMessageError,
    );
    const ok = { ...base, source: "10.0.0.1", destination: "10.0.0.2" };
    expect(() => buildUdpPacket({ ...ok, sourcePort: 65536 })).toThrow("Invalid UDP source port");
    expect(() => buildUdpPacket({ ...ok, destinationPort: -1 })).toThrow(
      "Invalid UDP destination port",
    );
    expect(() => buildUdpPacket({ ...ok, ttl: 256 })).toThrow(
      "Invalid IP TTL: 256 is not an octet",
    );
    expect(() => buildIpPacket({ ...ok, protocol: 1.5 })).toThrow("Invalid IP protocol");
    expect(() => buildUdpPacket({ ...ok, payload: new Uint8Array(65528) })).toThrow(
      "Invalid UDP datagram: 65536 bytes is over 65535",
    );
    expect(() => buildUdpPacket({ ...ok, payload: new Uint8Array(65510) })).toThrow(
      "Invalid IPv4 packet: 65538 bytes is over 65535",
    );
    const big = buildUdpPacket({
      ...base,
      source: "::1",
      destination: "::1",
      payload: new Uint8Array(65527),
    });
    expect(parseUdpPacket(big).payload.length).toBe(65527);
  });
});

describe("ICMP and ICMPv6 Echo (RFC 792, RFC 4443 section 4)", () => {
  it("RFC 792: parses a kernel ICMP Echo Request and rebuilds its message", () => {
    const e = parseIcmpEcho(fromHex(KERNEL.echo4));
    expect(e).toEqual({
      version: 4,
      source: "10.9.0.1",
      destination: "10.9.0.2",
      ttl: 64,
      kind: "request",
      identifier: 0x4974,
      sequence: 1,
      data: fromHex("6d706100"),
    });
    const rebuilt = buildIcmpEcho({ ...e, data: e.data });
    expect(hex(rebuilt.subarray(20))).toBe(KERNEL.echo4.slice(40));
  });

  it("RFC 4443 sections 4.1 and 4.2: parses kernel ICMPv6 Echo Request and Reply and rebuilds them", () => {
    for (const [text, kind] of [[KERNEL.echo6, "request"], [KERNEL.echoReply6, "reply"]] as const) {
      const e = parseIcmpEcho(fromHex(text));
      expect([e.version, e.kind, e.identifier, e.sequence, e.data.length]).toEqual([
        6,
        kind,
        0x4973,
        1,
        56,
      ]);
      const rebuilt = buildIcmpEcho(e);
      expect(hex(rebuilt.subarray(40))).toBe(text.slice(80));
    }
  });

  it("builds byte-exact Echo packets checked by tshark", () => {
    expect(hex(buildIcmpEcho({
      source: "10.0.0.1",
      destination: "10.0.0.2",
      kind: "request",
      identifier: 1,
      sequence: 2,
      data: fromHex("010203"),
    }))).toBe(BUILT.echo4);
    expect(hex(buildIcmpEcho({
      source: "fe80::1",
      destination: "ff02::1",
      kind: "reply",
      identifier: 1,
      sequence: 2,
      data: fromHex("010203"),
    }))).toBe(BUILT.echoReply6.replaceAll(" ", ""));
  });

  it("refuses non-Echo types, bad checksums and truncation", () => {
    const v4 = fromHex(KERNEL.echo4);
    v4[23] = v4[23]! ^ 1;
    expect(() => parseIcmpEcho(v4)).toThrow("Invalid ICMP message: bad checksum");
    const v6 = fromHex(KERNEL.echo6);
    v6[60] = v6[60]! ^ 1;
    expect(() => parseIcmpEcho(v6)).toThrow("Invalid ICMPv6 message: bad checksum");
    const rs = buildIcmpv6Packet({
      source: "::1",
      destination: "::1",
      message: fromHex("8500000000000000"),
    });
    expect(() => parseIcmpEcho(rs)).toThrow("Invalid ICMP Echo: type 133");
    const short = buildIcmpv6Packet({
      source: "::1",
      destination: "::1",
      message: fromHex("80000000"),
    });
    expect(() => parseIcmpEcho(short)).toThrow("Truncated ICMP Echo: need 8 bytes, got 4");
    expect(() => parseIcmpEcho(fromHex(KERNEL.udp4))).toThrow(
      "Invalid ICMP packet: protocol 17, not 1",
    );
    const tiny = buildIpPacket({
      source: "10.0.0.1",
      destination: "10.0.0.2",
      protocol: 1,
      payload: new Uint8Array(3),
    });
    expect(() => parseIcmpEcho(tiny)).toThrow("Truncated ICMP header: need 4 bytes, got 3");
    expect(() =>
      buildIcmpEcho({
        source: "::1",
        destination: "::1",
        kind: "request",
        identifier: 65536,
        sequence: 0,
      })
    ).toThrow("Invalid ICMP identifier");
  });
});

describe("ICMPv6 packets (RFC 4443 section 2.3)", () => {
  it("fills the checksum without touching the caller's message", () => {
    const message = fromHex("80 00 ffff 0001 0002");
    const p = buildIcmpv6Packet({ source: "fe80::1", destination: "fe80::2", message, ttl: 255 });
    expect(hex(message)).toBe("8000ffff00010002");
    const q = parseIcmpv6Packet(p);
    expect(q.ttl).toBe(255);
    expect(transportChecksum(
      fromHex("fe800000000000000000000000000001"),
      fromHex("fe800000000000000000000000000002"),
      58,
      q.message,
    )).toBe(0);
  });

  it("refuses IPv4, non-ICMPv6, short messages", () => {
    expect(() =>
      buildIcmpv6Packet({ source: "10.0.0.1", destination: "10.0.0.2", message: new Uint8Array(8) })
    )
      .toThrow("Invalid ICMPv6 packet: 10.0.0.1 is not IPv6");
    expect(() =>
      buildIcmpv6Packet({ source: "::1", destination: "::1", message: new Uint8Array(3) })
    )
      .toThrow("Invalid ICMPv6 message: 3 bytes is below 4");
    expect(() => parseIcmpv6Packet(fromHex(KERNEL.udp6))).toThrow(
      "Invalid ICMPv6 packet: IPv6 protocol 17",
    );
    expect(() => parseIcmpv6Packet(fromHex(KERNEL.echo4))).toThrow(
      "Invalid ICMPv6 packet: IPv4 protocol 1",
    );
    const tiny = buildIpPacket({
      source: "::1",
      destination: "::1",
      protocol: 58,
      payload: new Uint8Array(2),
    });
    expect(() => parseIcmpv6Packet(tiny)).toThrow("Truncated ICMPv6 header: need 4 bytes, got 2");
  });
});

// --- tshark cross-check: write a pcap (LINKTYPE_RAW) and let tshark verify checksums ---

function _pcap(packets: Uint8Array[]): Uint8Array {
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b2c3d4, true);
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, 65535, true);
  header.setUint32(20, 101, true); // LINKTYPE_RAW: packets start at the IP header
  const parts: Uint8Array[] = [new Uint8Array(header.buffer)];
  for (const p of packets) {
    const r = new DataView(new ArrayBuffer(16));
    r.setUint32(8, p.length, true);
    r.setUint32(12, p.length, true);
    parts.push(new Uint8Array(r.buffer), p);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const hasTshark = (() => {
  try {
    return new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

describe("tshark cross-check", () => {
  it.skipIf(!hasTshark)("needs tshark: tshark finds every built checksum good", async () => {
    const packets = [
      buildUdpPacket({
        source: "192.0.2.1",
        destination: "198.51.100.2",
        sourcePort: 716,
        destinationPort: 716,
        payload: ascii("pana"),
      }),
      buildUdpPacket({
        source: "2001:db8::a",
        destination: "2001:db8:1::b",
        sourcePort: 716,
        destinationPort: 716,
        payload: ascii("odd"),
      }),
      buildIcmpEcho({
        source: "192.0.2.1",
        destination: "192.0.2.2",
        kind: "reply",
        identifier: 9,
        sequence: 65535,
        data: ascii("x"),
      }),
      buildIcmpEcho({
        source: "2001:db8::a",
        destination: "2001:db8::b",
        kind: "request",
        identifier: 0,
        sequence: 0,
      }),
    ];
    const dir = await Deno.makeTempDir({ prefix: "mpa6-ip-" });
    try {
      const file = `${dir}/p.pcap`;
      await Deno.writeFile(file, _pcap(packets));
      const out = await new Deno.Command("tshark", {
        args: ["-r", file, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-V"],
        stdout: "piped",
        stderr: "null",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      expect(text.match(/\[Checksum Status: Good\]/g)?.length).toBe(4);
      expect(text.match(/\[Header checksum status: Good\]/g)?.length).toBe(2);
      expect(text).not.toMatch(/Bad|incorrect/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
