/**
 * IP header inspection and IP address text: read the version, addresses, protocol and
 * lengths of an IPv4 (RFC 791 section 3.1) or IPv6 (RFC 8200 section 3) packet, so
 * that a tunnel endpoint can route it by destination; and convert IPv4 dotted-quad
 * text (RFC 791, as in RFC 3986 section 3.2.2 `IPv4address`) and IPv6 text (RFC 4291
 * section 2.2 on input, RFC 5952 canonical form on output) to and from bytes.
 *
 * Pure: no I/O, no clock. Bad input throws {@linkcode MalformedMessageError}.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";

/** What {@linkcode parseIpHeader} reads from the fixed header of an IP packet. */
export interface IpHeaderInfo {
  /** IP version, from the first nibble. */
  readonly version: 4 | 6;
  /** Source address, text (RFC 5952 canonical form for IPv6). */
  readonly source: string;
  /** Destination address, text (RFC 5952 canonical form for IPv6). */
  readonly destination: string;
  /**
   * IPv4 Protocol field (RFC 791 section 3.1), or the Next Header field of the IPv6
   * fixed header (RFC 8200 section 3): 17 UDP, 1 ICMP, 58 ICMPv6, 0 Hop-by-Hop, ...
   */
  readonly protocol: number;
  /** Header length in bytes: IHL * 4 for IPv4, 40 (the fixed header) for IPv6. */
  readonly headerLength: number;
  /** Total packet length in bytes: IPv4 Total Length, or 40 + IPv6 Payload Length. */
  readonly totalLength: number;
}

/** Length of the IPv4 header without options (RFC 791 section 3.1, IHL = 5). */
const _IPV4_MIN_HEADER = 20;
/** Length of the IPv6 fixed header (RFC 8200 section 3). */
const _IPV6_HEADER = 40;

/**
 * Reads the fixed header of an IPv4 or IPv6 packet (RFC 791 section 3.1, RFC 8200
 * section 3). The packet must be exactly as long as its length fields say: a tunnel
 * carries whole packets, so a shorter buffer is a truncated packet and a longer one
 * is refused as a length mismatch. The IPv4 header checksum is not verified (see
 * `parseUdpPacket` in `ip_packet.ts` for a verifying parser). IPv6 jumbograms
 * (Payload Length 0, RFC 2675) are not supported and are refused.
 *
 * @param packet the whole packet, starting at the IP header
 * @returns the version, addresses, protocol / next header and lengths
 * @throws {MalformedMessageError} on an empty or truncated packet, a version other than
 * 4 or 6, an IHL below 5, or a length field that disagrees with the bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * // IPv4, IHL 5, Total Length 28, protocol 17 (UDP), 192.0.2.1 -> 198.51.100.7
 * const packet = new Uint8Array([
 *   0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
 *   0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0,
 * ]);
 * const info = parseIpHeader(packet);
 * assertEquals(info.version, 4);
 * assertEquals(info.destination, "198.51.100.7");
 * assertEquals(info.protocol, 17);
 * assertEquals(info.totalLength, 28);
 * ```
 */
export function parseIpHeader(packet: Uint8Array): IpHeaderInfo {
  if (packet.length === 0) {
    throw new MalformedMessageError("Truncated IP packet: empty");
  }
  const version = packet[0]! >> 4;
  if (version === 4) return _parseIpv4Header(packet);
  if (version === 6) return _parseIpv6Header(packet);
  throw new MalformedMessageError(`Invalid IP packet: version ${version}`);
}

function _parseIpv4Header(packet: Uint8Array): IpHeaderInfo {
  if (packet.length < _IPV4_MIN_HEADER) {
    throw new MalformedMessageError(
      `Truncated IPv4 header: need ${_IPV4_MIN_HEADER} bytes, got ${packet.length}`,
    );
  }
  const headerLength = (packet[0]! & 0x0f) * 4;
  if (headerLength < _IPV4_MIN_HEADER) {
    throw new MalformedMessageError(`Invalid IPv4 header: IHL ${headerLength / 4} is below 5`);
  }
  if (packet.length < headerLength) {
    throw new MalformedMessageError(
      `Truncated IPv4 header: need ${headerLength} bytes, got ${packet.length}`,
    );
  }
  const totalLength = (packet[2]! << 8) | packet[3]!;
  if (totalLength < headerLength) {
    throw new MalformedMessageError(
      `Invalid IPv4 header: Total Length ${totalLength} is below the header length ${headerLength}`,
    );
  }
  if (packet.length < totalLength) {
    throw new MalformedMessageError(
      `Truncated IPv4 packet: Total Length ${totalLength}, got ${packet.length} bytes`,
    );
  }
  if (packet.length > totalLength) {
    throw new MalformedMessageError(
      `Invalid IPv4 packet: length mismatch: Total Length ${totalLength}, got ${packet.length} bytes`,
    );
  }
  return {
    version: 4,
    source: formatIpv4Address(packet, 12),
    destination: formatIpv4Address(packet, 16),
    protocol: packet[9]!,
    headerLength,
    totalLength,
  };
}

function _parseIpv6Header(packet: Uint8Array): IpHeaderInfo {
  if (packet.length < _IPV6_HEADER) {
    throw new MalformedMessageError(
      `Truncated IPv6 header: need ${_IPV6_HEADER} bytes, got ${packet.length}`,
    );
  }
  const payloadLength = (packet[4]! << 8) | packet[5]!;
  const totalLength = _IPV6_HEADER + payloadLength;
  if (packet.length < totalLength) {
    throw new MalformedMessageError(
      `Truncated IPv6 packet: Payload Length ${payloadLength}, got ${
        packet.length - _IPV6_HEADER
      } bytes of payload`,
    );
  }
  if (packet.length > totalLength) {
    throw new MalformedMessageError(
      `Invalid IPv6 packet: length mismatch: Payload Length ${payloadLength}, got ${
        packet.length - _IPV6_HEADER
      } bytes of payload`,
    );
  }
  return {
    version: 6,
    source: formatIpv6Address(packet, 8),
    destination: formatIpv6Address(packet, 24),
    protocol: packet[6]!,
    headerLength: _IPV6_HEADER,
    totalLength,
  };
}

/**
 * Parses IPv4 dotted-quad text: exactly four decimal parts 0 to 255. Leading zeros
 * (`010`) are refused, since some parsers read them as octal.
 *
 * @param text such as `192.0.2.1`
 * @returns 4 bytes
 * @throws {MalformedMessageError} on anything else
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(parseIpv4Address("192.0.2.1"), new Uint8Array([192, 0, 2, 1]));
 * assertThrows(() => parseIpv4Address("256.0.0.1"), Error, "Invalid IPv4 address");
 * ```
 */
export function parseIpv4Address(text: string): Uint8Array {
  const out = _tryParseIpv4(text);
  if (out === undefined) {
    throw new MalformedMessageError(`Invalid IPv4 address: ${JSON.stringify(text)}`);
  }
  return out;
}

function _tryParseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

/**
 * Formats 4 bytes as IPv4 dotted-quad text.
 *
 * @param bytes the bytes holding the address
 * @param offset where the address starts in `bytes` (default 0)
 * @returns text such as `192.0.2.1`
 * @throws {MalformedMessageError} when fewer than 4 bytes are there
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatIpv4Address(new Uint8Array([10, 0, 2, 15])), "10.0.2.15");
 * assertEquals(formatIpv4Address(new Uint8Array([0, 0, 127, 0, 0, 1]), 2), "127.0.0.1");
 * ```
 */
export function formatIpv4Address(bytes: Uint8Array, offset = 0): string {
  _needAddress(bytes, offset, 4, "IPv4");
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Parses IPv6 text in any form of RFC 4291 section 2.2: eight groups of one to four
 * hex digits, at most one `::`, and optionally a dotted-quad IPv4 address in the last
 * 32 bits (`::ffff:192.0.2.1`). Zone indices (`fe80::1%eth0`) are refused: the zone
 * is not part of the address.
 *
 * @param text such as `2001:db8::1`
 * @returns 16 bytes
 * @throws {MalformedMessageError} on anything else
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = parseIpv6Address("2001:DB8::1");
 * assertEquals(a.length, 16);
 * assertEquals([a[0], a[1], a[2], a[3], a[15]], [0x20, 0x01, 0x0d, 0xb8, 1]);
 * ```
 */
export function parseIpv6Address(text: string): Uint8Array {
  const out = _tryParseIpv6(text);
  if (out === undefined) {
    throw new MalformedMessageError(`Invalid IPv6 address: ${JSON.stringify(text)}`);
  }
  return out;
}

function _tryParseIpv6(text: string): Uint8Array | undefined {
  if (!text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = _groups(halves[0]!);
  const tail = halves.length === 2 ? _groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  // An embedded IPv4 address may only be the last group of the text.
  if (text.lastIndexOf(".") > -1 && text.lastIndexOf(":") > text.indexOf(".")) return undefined;
  const words: number[] = [];
  const wordsOf = (groups: string[]): boolean => {
    for (const g of groups) {
      if (g.includes(".")) {
        const v4 = _tryParseIpv4(g);
        if (v4 === undefined) return false;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
        words.push(parseInt(g, 16));
      }
    }
    return true;
  };
  if (!wordsOf(head)) return undefined;
  const headWords = words.length;
  if (!wordsOf(tail)) return undefined;
  const tailWords = words.length - headWords;
  if (halves.length === 2) {
    // `::` stands for one or more groups of zeros (RFC 4291 section 2.2, form 2).
    if (headWords + tailWords > 7) return undefined;
    words.splice(headWords, 0, ...new Array<number>(8 - headWords - tailWords).fill(0));
  } else if (words.length !== 8) {
    return undefined;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

function _groups(text: string): string[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  return groups.some((g) => g === "") ? undefined : groups;
}

/**
 * Formats 16 bytes as canonical IPv6 text (RFC 5952 section 4): lowercase hex, no
 * leading zeros in a group (4.1), `::` for the longest run of two or more zero groups,
 * the first such run on a tie, never for a single zero group (4.2), and the
 * IPv4-mapped form `::ffff:192.0.2.1` for IPv4-mapped addresses (section 5).
 *
 * @param bytes the bytes holding the address
 * @param offset where the address starts in `bytes` (default 0)
 * @returns canonical text such as `2001:db8::1`
 * @throws {MalformedMessageError} when fewer than 16 bytes are there
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = new Uint8Array(16);
 * a.set([0x20, 0x01, 0x0d, 0xb8]);
 * a[15] = 1;
 * assertEquals(formatIpv6Address(a), "2001:db8::1");
 * ```
 */
export function formatIpv6Address(bytes: Uint8Array, offset = 0): string {
  _needAddress(bytes, offset, 16, "IPv6");
  const words: number[] = [];
  for (let i = 0; i < 8; i++) {
    words.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  }
  // RFC 5952 section 5: IPv4-mapped addresses (RFC 4291 section 2.5.5.2).
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4Address(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a run must be at least 2 groups (section 4.2.2)
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hexOf = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hexOf(words);
  return `${hexOf(words.slice(0, bestStart))}::${hexOf(words.slice(bestStart + bestLength))}`;
}

/**
 * Parses IPv4 or IPv6 text, telling them apart by the presence of a colon.
 *
 * @param text such as `192.0.2.1` or `2001:db8::1`
 * @returns 4 bytes for IPv4, 16 for IPv6
 * @throws {MalformedMessageError} when the text is neither
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(parseIpAddress("10.0.0.1").length, 4);
 * assertEquals(parseIpAddress("fe80::1").length, 16);
 * ```
 */
export function parseIpAddress(text: string): Uint8Array {
  return text.includes(":") ? parseIpv6Address(text) : parseIpv4Address(text);
}

function _needAddress(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || bytes.length - offset < size) {
    throw new MalformedMessageError(
      `Truncated ${what} address: need ${size} bytes at offset ${offset}, got ${
        Math.max(0, bytes.length - offset)
      }`,
    );
  }
}

/**
 * An address as 16 bytes for IPv6 contexts: IPv6 text as is, IPv4 text as the
 * IPv4-mapped address `::ffff:a.b.c.d` (RFC 4291 section 2.5.5.2). Used where an
 * IPv6-only field carries the addresses of an IPv4 network (DSMIPv6-style transport).
 *
 * @param text an IPv4 or IPv6 address
 * @returns 16 bytes
 * @throws {MalformedMessageError} when the text is neither
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatIpv6Address(ipv6MappedAddress("192.0.2.1")), "::ffff:192.0.2.1");
 * assertEquals(ipv6MappedAddress("2001:db8::1"), parseIpv6Address("2001:db8::1"));
 * ```
 */
export function ipv6MappedAddress(text: string): Uint8Array {
  if (text.includes(":")) return parseIpv6Address(text);
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(parseIpv4Address(text), 12);
  return out;
}
