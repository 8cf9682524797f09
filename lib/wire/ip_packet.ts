/**
 * Whole IP packets for user-space tunnel endpoints: build and parse IPv4 (RFC 791)
 * and IPv6 (RFC 8200) packets carrying UDP (RFC 768), ICMP Echo (RFC 792) or ICMPv6
 * (RFC 4443), with the Internet checksum (RFC 1071) and, for UDP and ICMPv6, the
 * pseudo-header (RFC 768, RFC 8200 section 8.1).
 *
 * Builders pick IPv4 or IPv6 from the address text and refuse a mix. Parsers verify
 * every checksum and length and throw {@linkcode MalformedMessageError} otherwise.
 * Built IPv4 packets carry Don't Fragment and Identification 0 (RFC 6864 section 4.1
 * allows it for atomic datagrams); fragments are refused on parse.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import { parseIpAddress, parseIpHeader } from "./ip_header.ts";

/** IP protocol numbers used here (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  /** ICMP, RFC 792. */
  Icmp: 1,
  /** UDP, RFC 768. */
  Udp: 17,
  /** ICMPv6, RFC 4443. */
  Icmpv6: 58,
} as const;

/** The default TTL / Hop Limit of built packets (the Linux default, RFC 1700 value). */
export const DEFAULT_TTL = 64;

const _IPV4_HEADER = 20;
const _IPV6_HEADER = 40;
const _UDP_HEADER = 8;

/**
 * The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
 * 16-bit big-endian words over the concatenated parts, an odd final byte padded with
 * zero. A region that already holds a correct checksum sums to 0.
 *
 * @param parts the byte runs to sum, in order (each may have an odd length only if it
 *   is the last)
 * @returns the 16-bit checksum
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // The IPv4 header of RFC 1071's usual example: checksum field b861.
 * const h = new Uint8Array([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0,
 *   0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
 * assertEquals(internetChecksum(h), 0xb861);
 * ```
 */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const part of parts) {
    const even = part.length & ~1;
    for (let i = 0; i < even; i += 2) sum += (part[i]! << 8) | part[i + 1]!;
    if (part.length & 1) sum += part[part.length - 1]! << 8;
    // Fold now and then so the sum stays a small integer.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The checksum of a transport segment (UDP, ICMPv6, TCP) including the pseudo-header:
 * source, destination, protocol and length (RFC 768 for IPv4; RFC 8200 section 8.1
 * for IPv6). The segment's checksum field must be zero, or hold the checksum to verify
 * (then the result is 0).
 *
 * @param source source address, 4 or 16 bytes
 * @param destination destination address, same length as `source`
 * @param protocol the protocol number (Next Header for IPv6)
 * @param segment the transport header and payload
 * @returns the 16-bit checksum
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const src = new Uint8Array([10, 0, 0, 1]);
 * const dst = new Uint8Array([10, 0, 0, 2]);
 * const udp = new Uint8Array([0, 7, 0, 7, 0, 8, 0, 0]); // ports 7 -> 7, no payload
 * const sum = transportChecksum(src, dst, 17, udp);
 * udp[6] = sum >> 8;
 * udp[7] = sum & 0xff;
 * assertEquals(transportChecksum(src, dst, 17, udp), 0);
 * ```
 */
export function transportChecksum(
  source: Uint8Array,
  destination: Uint8Array,
  protocol: number,
  segment: Uint8Array,
): number {
  const n = segment.length;
  const tail = source.length === 16
    // RFC 8200 section 8.1: 32-bit Upper-Layer Packet Length, 3 zero bytes, Next Header
    ? new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, 0, 0, 0, protocol])
    // RFC 768: zero, protocol, 16-bit UDP length
    : new Uint8Array([0, protocol, (n >>> 8) & 0xff, n & 0xff]);
  return internetChecksum(source, destination, tail, segment);
}

/** The addresses and TTL of a packet to build. */
export interface IpPacketOptions {
  /** Source address, IPv4 or IPv6 text. */
  readonly source: string;
  /** Destination address, same family as `source`. */
  readonly destination: string;
  /** IPv4 TTL or IPv6 Hop Limit; {@linkcode DEFAULT_TTL} when omitted. */
  readonly ttl?: number;
}

/** Options of {@linkcode buildIpPacket}. */
export interface BuildIpPacketOptions extends IpPacketOptions {
  /** IPv4 Protocol or IPv6 Next Header. */
  readonly protocol: number;
  /** The payload after the IP header (checksums inside it are the caller's). */
  readonly payload: Uint8Array;
}

/**
 * Builds an IPv4 packet (RFC 791 section 3.1: IHL 5, DF, header checksum) or an IPv6
 * packet (RFC 8200 section 3: Traffic Class and Flow Label 0) around a payload.
 *
 * @param options addresses, protocol, payload and TTL
 * @returns the packet
 * @throws {MalformedMessageError} on bad address text, mixed families, a TTL or
 * protocol that is not an octet, or a packet over 65535 bytes (IPv4) / a payload over
 * 65535 bytes (IPv6)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { parseIpHeader } from "./ip_header.ts";
 * const p = buildIpPacket({ source: "10.0.0.1", destination: "10.0.0.2", protocol: 253, payload: new Uint8Array(4) });
 * assertEquals(p.length, 24);
 * assertEquals(parseIpHeader(p).protocol, 253);
 * ```
 */
export function buildIpPacket(options: BuildIpPacketOptions): Uint8Array {
  const { src, dst } = _addresses(options);
  const ttl = _octet(options.ttl ?? DEFAULT_TTL, "TTL");
  const protocol = _octet(options.protocol, "protocol");
  const payload = options.payload;
  if (src.length === 4) {
    const total = _IPV4_HEADER + payload.length;
    if (total > 0xffff) {
      throw new MalformedMessageError(`Invalid IPv4 packet: ${total} bytes is over 65535`);
    }
    const p = new Uint8Array(total);
    p[0] = 0x45;
    p[2] = total >> 8;
    p[3] = total & 0xff;
    p[6] = 0x40; // DF, fragment offset 0
    p[8] = ttl;
    p[9] = protocol;
    p.set(src, 12);
    p.set(dst, 16);
    const sum = internetChecksum(p.subarray(0, _IPV4_HEADER));
    p[10] = sum >> 8;
    p[11] = sum & 0xff;
    p.set(payload, _IPV4_HEADER);
    return p;
  }
  if (payload.length > 0xffff) {
    throw new MalformedMessageError(
      `Invalid IPv6 packet: payload of ${payload.length} bytes is over 65535`,
    );
  }
  const p = new Uint8Array(_IPV6_HEADER + payload.length);
  p[0] = 0x60;
  p[4] = payload.length >> 8;
  p[5] = payload.length & 0xff;
  p[6] = protocol;
  p[7] = ttl;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(payload, _IPV6_HEADER);
  return p;
}

/** An IP packet as read by {@linkcode parseIpPacket}. */
export interface IpPacket {
  /** IP version. */
  readonly version: 4 | 6;
  /** Source address, text (RFC 5952 for IPv6). */
  readonly source: string;
  /** Destination address, text. */
  readonly destination: string;
  /** Source address, 4 or 16 bytes. */
  readonly sourceBytes: Uint8Array;
  /** Destination address, 4 or 16 bytes. */
  readonly destinationBytes: Uint8Array;
  /** IPv4 Protocol or IPv6 Next Header (of the fixed header). */
  readonly protocol: number;
  /** IPv4 TTL or IPv6 Hop Limit. */
  readonly ttl: number;
  /** The bytes after the IP header (a copy). */
  readonly payload: Uint8Array;
}

/**
 * Parses an IPv4 or IPv6 packet: lengths as in {@linkcode parseIpHeader}, plus the
 * IPv4 header checksum (RFC 791 section 3.1); IPv4 fragments are refused, since the
 * tunnel endpoints carry whole packets. IPv6 extension headers are not walked: the
 * payload starts after the fixed header and `protocol` is its Next Header.
 *
 * @param packet the whole packet
 * @returns its header fields and payload
 * @throws {MalformedMessageError} on truncation, a length mismatch, a bad header
 * checksum or a fragment
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildIpPacket({ source: "2001:db8::1", destination: "2001:db8::2", protocol: 59, payload: new Uint8Array([1, 2]), ttl: 9 });
 * const q = parseIpPacket(p);
 * assertEquals([q.version, q.destination, q.protocol, q.ttl], [6, "2001:db8::2", 59, 9]);
 * assertEquals(q.payload, new Uint8Array([1, 2]));
 * ```
 */
export function parseIpPacket(packet: Uint8Array): IpPacket {
  const info = parseIpHeader(packet);
  if (info.version === 4) {
    if (internetChecksum(packet.subarray(0, info.headerLength)) !== 0) {
      throw new MalformedMessageError("Invalid IPv4 header: bad header checksum");
    }
    const flagsOffset = (packet[6]! << 8) | packet[7]!;
    if ((flagsOffset & 0x3fff) !== 0) {
      throw new MalformedMessageError("Unsupported IPv4 packet: fragment");
    }
  }
  const v4 = info.version === 4;
  return {
    version: info.version,
    source: info.source,
    destination: info.destination,
    sourceBytes: v4 ? packet.slice(12, 16) : packet.slice(8, 24),
    destinationBytes: v4 ? packet.slice(16, 20) : packet.slice(24, 40),
    protocol: info.protocol,
    ttl: v4 ? packet[8]! : packet[7]!,
    payload: packet.slice(info.headerLength),
  };
}

/** Options of {@linkcode buildUdpPacket}. */
export interface BuildUdpPacketOptions extends IpPacketOptions {
  /** UDP source port, 0 to 65535. */
  readonly sourcePort: number;
  /** UDP destination port, 0 to 65535. */
  readonly destinationPort: number;
  /** The datagram's data. */
  readonly payload: Uint8Array;
}

/** A UDP datagram in an IP packet, as read by {@linkcode parseUdpPacket}. */
export interface UdpPacket {
  /** IP version. */
  readonly version: 4 | 6;
  /** Source address, text. */
  readonly source: string;
  /** Destination address, text. */
  readonly destination: string;
  /** UDP source port. */
  readonly sourcePort: number;
  /** UDP destination port. */
  readonly destinationPort: number;
  /** IPv4 TTL or IPv6 Hop Limit. */
  readonly ttl: number;
  /** The datagram's data (a copy). */
  readonly payload: Uint8Array;
}

/**
 * Builds an IPv4 or IPv6 packet carrying one UDP datagram (RFC 768) with its checksum
 * over the pseudo-header; a computed checksum of 0 is sent as 0xffff (RFC 768, RFC
 * 8200 section 8.1).
 *
 * @param options addresses, ports, data and TTL
 * @returns the packet
 * @throws {MalformedMessageError} on bad addresses, ports or TTL, or an oversized datagram
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildUdpPacket({
 *   source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 5000, destinationPort: 53,
 *   payload: new TextEncoder().encode("hi"),
 * });
 * const u = parseUdpPacket(p);
 * assertEquals([u.source, u.destinationPort, new TextDecoder().decode(u.payload)], ["10.0.0.1", 53, "hi"]);
 * ```
 */
export function buildUdpPacket(options: BuildUdpPacketOptions): Uint8Array {
  const { src, dst } = _addresses(options);
  const length = _UDP_HEADER + options.payload.length;
  if (length > 0xffff) {
    throw new MalformedMessageError(`Invalid UDP datagram: ${length} bytes is over 65535`);
  }
  const udp = new Uint8Array(length);
  const sp = _port(options.sourcePort, "source port");
  const dp = _port(options.destinationPort, "destination port");
  udp[0] = sp >> 8;
  udp[1] = sp & 0xff;
  udp[2] = dp >> 8;
  udp[3] = dp & 0xff;
  udp[4] = length >> 8;
  udp[5] = length & 0xff;
  udp.set(options.payload, _UDP_HEADER);
  const sum = transportChecksum(src, dst, IpProtocol.Udp, udp) || 0xffff;
  udp[6] = sum >> 8;
  udp[7] = sum & 0xff;
  return buildIpPacket({ ...options, protocol: IpProtocol.Udp, payload: udp });
}

/**
 * Parses an IP packet carrying a UDP datagram, verifying the IP header (see
 * {@linkcode parseIpPacket}), the UDP Length and the UDP checksum. An IPv4 checksum
 * of 0 means "not computed" and is accepted (RFC 768); over IPv6 it is refused (RFC
 * 8200 section 8.1).
 *
 * @param packet the whole packet
 * @returns addresses, ports, TTL and data
 * @throws {MalformedMessageError} when the packet is not UDP or any check fails
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildUdpPacket({ source: "fe80::1", destination: "ff02::1", sourcePort: 1, destinationPort: 2, payload: new Uint8Array(0), ttl: 1 });
 * assertEquals(parseUdpPacket(p).ttl, 1);
 * ```
 */
export function parseUdpPacket(packet: Uint8Array): UdpPacket {
  const ip = parseIpPacket(packet);
  if (ip.protocol !== IpProtocol.Udp) {
    throw new MalformedMessageError(`Invalid UDP packet: protocol ${ip.protocol}, not 17`);
  }
  const udp = ip.payload;
  if (udp.length < _UDP_HEADER) {
    throw new MalformedMessageError(
      `Truncated UDP header: need ${_UDP_HEADER} bytes, got ${udp.length}`,
    );
  }
  const length = (udp[4]! << 8) | udp[5]!;
  if (length !== udp.length) {
    throw new MalformedMessageError(
      `Invalid UDP datagram: length mismatch: Length ${length}, got ${udp.length} bytes`,
    );
  }
  const checksum = (udp[6]! << 8) | udp[7]!;
  if (checksum === 0 && ip.version === 6) {
    throw new MalformedMessageError("Invalid UDP datagram: zero checksum over IPv6");
  }
  if (
    checksum !== 0 &&
    transportChecksum(ip.sourceBytes, ip.destinationBytes, IpProtocol.Udp, udp) !== 0
  ) {
    throw new MalformedMessageError("Invalid UDP datagram: bad checksum");
  }
  return {
    version: ip.version,
    source: ip.source,
    destination: ip.destination,
    sourcePort: (udp[0]! << 8) | udp[1]!,
    destinationPort: (udp[2]! << 8) | udp[3]!,
    ttl: ip.ttl,
    payload: udp.slice(_UDP_HEADER),
  };
}

/** Options of {@linkcode buildIcmpEcho}. */
export interface BuildIcmpEchoOptions extends IpPacketOptions {
  /** `request` (ICMP type 8, ICMPv6 128) or `reply` (ICMP 0, ICMPv6 129). */
  readonly kind: "request" | "reply";
  /** Identifier, 0 to 65535. */
  readonly identifier: number;
  /** Sequence Number, 0 to 65535. */
  readonly sequence: number;
  /** Data echoed back; empty when omitted. */
  readonly data?: Uint8Array;
}

/** An ICMP or ICMPv6 Echo message in an IP packet, as read by {@linkcode parseIcmpEcho}. */
export interface IcmpEcho {
  /** IP version: 4 for ICMP, 6 for ICMPv6. */
  readonly version: 4 | 6;
  /** Source address, text. */
  readonly source: string;
  /** Destination address, text. */
  readonly destination: string;
  /** IPv4 TTL or IPv6 Hop Limit. */
  readonly ttl: number;
  /** Request or reply. */
  readonly kind: "request" | "reply";
  /** Identifier. */
  readonly identifier: number;
  /** Sequence Number. */
  readonly sequence: number;
  /** Data (a copy). */
  readonly data: Uint8Array;
}

/**
 * Builds an Echo Request or Reply: ICMP over IPv4 (RFC 792, checksum over the message)
 * or ICMPv6 over IPv6 (RFC 4443 sections 4.1 and 4.2, checksum with the pseudo-header,
 * section 2.3).
 *
 * @param options addresses, kind, identifier, sequence, data and TTL
 * @returns the packet
 * @throws {MalformedMessageError} on bad addresses, identifier, sequence or TTL
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildIcmpEcho({ source: "10.0.0.1", destination: "10.0.0.2", kind: "request", identifier: 1, sequence: 2 });
 * const e = parseIcmpEcho(p);
 * assertEquals([e.version, e.kind, e.identifier, e.sequence], [4, "request", 1, 2]);
 * ```
 */
export function buildIcmpEcho(options: BuildIcmpEchoOptions): Uint8Array {
  const { src } = _addresses(options);
  const v6 = src.length === 16;
  const data = options.data ?? new Uint8Array(0);
  const message = new Uint8Array(8 + data.length);
  message[0] = v6 ? (options.kind === "request" ? 128 : 129) : (options.kind === "request" ? 8 : 0);
  const id = _u16(options.identifier, "ICMP identifier");
  const seq = _u16(options.sequence, "ICMP sequence number");
  message[4] = id >> 8;
  message[5] = id & 0xff;
  message[6] = seq >> 8;
  message[7] = seq & 0xff;
  message.set(data, 8);
  if (v6) return buildIcmpv6Packet({ ...options, message });
  const sum = internetChecksum(message);
  message[2] = sum >> 8;
  message[3] = sum & 0xff;
  return buildIpPacket({ ...options, protocol: IpProtocol.Icmp, payload: message });
}

/**
 * Parses an ICMP (IPv4) or ICMPv6 (IPv6) Echo Request or Reply, verifying the checksum.
 *
 * @param packet the whole packet
 * @returns addresses, kind, identifier, sequence and data
 * @throws {MalformedMessageError} when the packet is not an Echo message or a check fails
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildIcmpEcho({ source: "::1", destination: "::1", kind: "reply", identifier: 7, sequence: 9, data: new Uint8Array([1]) });
 * assertEquals(parseIcmpEcho(p).data, new Uint8Array([1]));
 * ```
 */
export function parseIcmpEcho(packet: Uint8Array): IcmpEcho {
  let base: { version: 4 | 6; source: string; destination: string; ttl: number };
  let message: Uint8Array;
  if (parseIpHeader(packet).version === 6) {
    const p = parseIcmpv6Packet(packet);
    base = p;
    message = p.message;
  } else {
    const ip = parseIpPacket(packet);
    if (ip.protocol !== IpProtocol.Icmp) {
      throw new MalformedMessageError(`Invalid ICMP packet: protocol ${ip.protocol}, not 1`);
    }
    message = ip.payload;
    if (message.length < 4) {
      throw new MalformedMessageError(`Truncated ICMP header: need 4 bytes, got ${message.length}`);
    }
    if (internetChecksum(message) !== 0) {
      throw new MalformedMessageError("Invalid ICMP message: bad checksum");
    }
    base = ip;
  }
  const type = message[0]!;
  const kind = base.version === 6
    ? (type === 128 ? "request" : type === 129 ? "reply" : undefined)
    : (type === 8 ? "request" : type === 0 ? "reply" : undefined);
  if (kind === undefined) {
    throw new MalformedMessageError(`Invalid ICMP Echo: type ${type}`);
  }
  if (message.length < 8) {
    throw new MalformedMessageError(`Truncated ICMP Echo: need 8 bytes, got ${message.length}`);
  }
  return {
    version: base.version,
    source: base.source,
    destination: base.destination,
    ttl: base.ttl,
    kind,
    identifier: (message[4]! << 8) | message[5]!,
    sequence: (message[6]! << 8) | message[7]!,
    data: message.slice(8),
  };
}

/** Options of {@linkcode buildIcmpv6Packet}. */
export interface BuildIcmpv6PacketOptions extends IpPacketOptions {
  /**
   * The ICMPv6 message (RFC 4443 section 2.1): Type, Code, Checksum (any value, it is
   * overwritten), body. At least 4 bytes.
   */
  readonly message: Uint8Array;
}

/**
 * Builds an IPv6 packet carrying one ICMPv6 message, filling in the message's checksum
 * over the pseudo-header (RFC 4443 section 2.3, RFC 8200 section 8.1). The message
 * passed in is not modified.
 *
 * @param options IPv6 addresses, message and Hop Limit
 * @returns the packet
 * @throws {MalformedMessageError} on non-IPv6 addresses, a message under 4 bytes or an
 * oversized one
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildIcmpv6Packet({ source: "fe80::1", destination: "ff02::2", ttl: 255, message: new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0]) });
 * assertEquals(parseIcmpv6Packet(p).message[0], 133);
 * ```
 */
export function buildIcmpv6Packet(options: BuildIcmpv6PacketOptions): Uint8Array {
  const { src, dst } = _addresses(options);
  if (src.length !== 16) {
    throw new MalformedMessageError(`Invalid ICMPv6 packet: ${options.source} is not IPv6`);
  }
  if (options.message.length < 4) {
    throw new MalformedMessageError(
      `Invalid ICMPv6 message: ${options.message.length} bytes is below 4`,
    );
  }
  const message = options.message.slice();
  message[2] = 0;
  message[3] = 0;
  const sum = transportChecksum(src, dst, IpProtocol.Icmpv6, message);
  message[2] = sum >> 8;
  message[3] = sum & 0xff;
  return buildIpPacket({ ...options, protocol: IpProtocol.Icmpv6, payload: message });
}

/** An ICMPv6 message in an IPv6 packet, as read by {@linkcode parseIcmpv6Packet}. */
export interface Icmpv6Packet {
  /** Always 6. */
  readonly version: 6;
  /** Source address, RFC 5952 text. */
  readonly source: string;
  /** Destination address, RFC 5952 text. */
  readonly destination: string;
  /** Hop Limit (Neighbor Discovery requires 255, RFC 4861 section 6.1). */
  readonly ttl: number;
  /** The ICMPv6 message: Type, Code, Checksum, body (a copy). */
  readonly message: Uint8Array;
}

/**
 * Parses an IPv6 packet whose fixed header's Next Header is ICMPv6 (58) and verifies
 * the ICMPv6 checksum (RFC 4443 section 2.3). Packets with extension headers are
 * refused (Neighbor Discovery and Echo carry none).
 *
 * @param packet the whole packet
 * @returns addresses, Hop Limit and the message
 * @throws {MalformedMessageError} when it is not IPv6 + ICMPv6, is truncated, or the
 * checksum is wrong
 *
 * @example
 * ```ts
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildIcmpv6Packet({ source: "fe80::1", destination: "ff02::1", message: new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]) });
 * p[47] = p[47]! ^ 1;
 * assertThrows(() => parseIcmpv6Packet(p), Error, "Invalid ICMPv6 message: bad checksum");
 * ```
 */
export function parseIcmpv6Packet(packet: Uint8Array): Icmpv6Packet {
  const ip = parseIpPacket(packet);
  if (ip.version !== 6 || ip.protocol !== IpProtocol.Icmpv6) {
    throw new MalformedMessageError(
      `Invalid ICMPv6 packet: IPv${ip.version} protocol ${ip.protocol}, not IPv6 58`,
    );
  }
  if (ip.payload.length < 4) {
    throw new MalformedMessageError(
      `Truncated ICMPv6 header: need 4 bytes, got ${ip.payload.length}`,
    );
  }
  if (transportChecksum(ip.sourceBytes, ip.destinationBytes, IpProtocol.Icmpv6, ip.payload) !== 0) {
    throw new MalformedMessageError("Invalid ICMPv6 message: bad checksum");
  }
  return {
    version: 6,
    source: ip.source,
    destination: ip.destination,
    ttl: ip.ttl,
    message: ip.payload,
  };
}

function _addresses(options: IpPacketOptions): { src: Uint8Array; dst: Uint8Array } {
  const src = parseIpAddress(options.source);
  const dst = parseIpAddress(options.destination);
  if (src.length !== dst.length) {
    throw new MalformedMessageError(
      `Invalid IP packet: mixed families: ${options.source} -> ${options.destination}`,
    );
  }
  return { src, dst };
}

function _octet(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new MalformedMessageError(`Invalid IP ${what}: ${value} is not an octet`);
  }
  return value;
}

function _u16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new MalformedMessageError(`Invalid ${what}: ${value} is not 0 to 65535`);
  }
  return value;
}

function _port(value: number, what: string): number {
  return _u16(value, `UDP ${what}`);
}
