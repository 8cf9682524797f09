/**
 * IPv6 Neighbor Discovery messages (RFC 4861 section 4): Router Solicitation (4.1),
 * Router Advertisement (4.2), Neighbor Solicitation (4.3) and Neighbor Advertisement
 * (4.4), with the options of section 4.6 (Source/Target Link-Layer Address 4.6.1,
 * Prefix Information 4.6.2, MTU 4.6.4) and Recursive DNS Server (RFC 8106 section
 * 5.1). Other options are kept as `unknown` so that decoding and re-encoding keeps
 * them (RFC 4861 section 4.6: receivers skip options they do not recognise).
 *
 * {@linkcode encodeNdMessage} / {@linkcode decodeNdMessage} handle the ICMPv6 message
 * alone (checksum field zero on encode, not verified on decode); {@linkcode buildNdPacket}
 * / {@linkcode parseNdPacket} wrap it in an IPv6 packet with Hop Limit 255, the
 * checksum, and the validity checks of RFC 4861 sections 6.1 and 7.1.
 *
 * RFC 6252 section 7.3.4 uses these to send the CTN router's RA to the mobile node
 * over the proactive handover tunnel, and Appendix A to reason about DAD.
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader } from "./_bytes.ts";
import { formatIpv6Address, parseIpv6Address } from "./ip_header.ts";
import { buildIcmpv6Packet, parseIcmpv6Packet } from "./ip_packet.ts";

/** ICMPv6 types of Neighbor Discovery (RFC 4861 section 4). */
export const NdType = {
  /** Router Solicitation, section 4.1. */
  RouterSolicitation: 133,
  /** Router Advertisement, section 4.2. */
  RouterAdvertisement: 134,
  /** Neighbor Solicitation, section 4.3. */
  NeighborSolicitation: 135,
  /** Neighbor Advertisement, section 4.4. */
  NeighborAdvertisement: 136,
} as const;

/** Neighbor Discovery option types (RFC 4861 section 4.6, RFC 8106 section 5.1). */
export const NdOptionType = {
  /** Source Link-Layer Address, RFC 4861 section 4.6.1. */
  SourceLinkLayerAddress: 1,
  /** Target Link-Layer Address, RFC 4861 section 4.6.1. */
  TargetLinkLayerAddress: 2,
  /** Prefix Information, RFC 4861 section 4.6.2. */
  PrefixInformation: 3,
  /** MTU, RFC 4861 section 4.6.4. */
  Mtu: 5,
  /** Nonce, RFC 3971 section 5.3.2 (sent by Linux with enhanced DAD, RFC 7527). */
  Nonce: 14,
  /** Recursive DNS Server, RFC 8106 section 5.1. */
  Rdnss: 25,
} as const;

/** A lifetime of all one bits: infinity (RFC 4861 section 4.6.2, RFC 8106 section 5.1). */
export const INFINITE_LIFETIME = 0xffffffff;

/** The Hop Limit every Neighbor Discovery packet carries (RFC 4861 sections 6.1, 7.1). */
export const ND_HOP_LIMIT = 255;

/** Prefix Information option (RFC 4861 section 4.6.2). */
export interface PrefixInformation {
  /** Discriminant. */
  readonly kind: "prefix-information";
  /** Prefix length, 0 to 128. */
  readonly prefixLength: number;
  /** L flag: the prefix is on-link. */
  readonly onLink: boolean;
  /** A flag: the prefix may be used for stateless autoconfiguration (RFC 4862). */
  readonly autonomous: boolean;
  /** Valid Lifetime, seconds; {@linkcode INFINITE_LIFETIME} for infinity. */
  readonly validLifetime: number;
  /** Preferred Lifetime, seconds; {@linkcode INFINITE_LIFETIME} for infinity. */
  readonly preferredLifetime: number;
  /** The prefix, RFC 5952 text, bits past `prefixLength` zero (`2001:db8:1::`). */
  readonly prefix: string;
}

/** Source or Target Link-Layer Address option (RFC 4861 section 4.6.1). */
export interface LinkLayerAddressOption {
  /** Which of the two. */
  readonly kind: "source-link-layer-address" | "target-link-layer-address";
  /**
   * The link-layer address as carried, padding included: 6 bytes for Ethernet (RFC
   * 2464 section 6); for other links the option's whole content after type and length.
   */
  readonly address: Uint8Array;
}

/** MTU option (RFC 4861 section 4.6.4). */
export interface MtuOption {
  /** Discriminant. */
  readonly kind: "mtu";
  /** The recommended link MTU, bytes. */
  readonly mtu: number;
}

/** Recursive DNS Server option (RFC 8106 section 5.1). */
export interface RdnssOption {
  /** Discriminant. */
  readonly kind: "rdnss";
  /** Lifetime, seconds; {@linkcode INFINITE_LIFETIME} for infinity, 0 to withdraw. */
  readonly lifetime: number;
  /** The servers, RFC 5952 text; at least one. */
  readonly servers: readonly string[];
}

/** An option this codec does not interpret (kept for round trips). */
export interface UnknownNdOption {
  /** Discriminant. */
  readonly kind: "unknown";
  /** Option type, 1 to 255. */
  readonly type: number;
  /** Content after the type and length bytes: 8 * length - 2 bytes. */
  readonly data: Uint8Array;
}

/** Any Neighbor Discovery option. */
export type NdOption =
  | LinkLayerAddressOption
  | PrefixInformation
  | MtuOption
  | RdnssOption
  | UnknownNdOption;

/** Router Solicitation (RFC 4861 section 4.1). */
export interface RouterSolicitation {
  /** Discriminant. */
  readonly kind: "router-solicitation";
  /** Options (Source Link-Layer Address). */
  readonly options: readonly NdOption[];
}

/** Router Advertisement (RFC 4861 section 4.2). */
export interface RouterAdvertisement {
  /** Discriminant. */
  readonly kind: "router-advertisement";
  /** Cur Hop Limit for outgoing packets, 0 = unspecified. */
  readonly curHopLimit: number;
  /** M flag: addresses are available via DHCPv6. */
  readonly managed: boolean;
  /** O flag: other configuration is available via DHCPv6. */
  readonly other: boolean;
  /** Router Lifetime, seconds (0: not a default router), at most 65535. */
  readonly routerLifetime: number;
  /** Reachable Time, ms, 0 = unspecified. */
  readonly reachableTime: number;
  /** Retrans Timer, ms, 0 = unspecified. */
  readonly retransTimer: number;
  /** Options (Source Link-Layer Address, MTU, Prefix Information, RDNSS, ...). */
  readonly options: readonly NdOption[];
}

/** Neighbor Solicitation (RFC 4861 section 4.3). */
export interface NeighborSolicitation {
  /** Discriminant. */
  readonly kind: "neighbor-solicitation";
  /** The Target Address, RFC 5952 text; never multicast. */
  readonly target: string;
  /** Options (Source Link-Layer Address; absent in DAD probes). */
  readonly options: readonly NdOption[];
}

/** Neighbor Advertisement (RFC 4861 section 4.4). */
export interface NeighborAdvertisement {
  /** Discriminant. */
  readonly kind: "neighbor-advertisement";
  /** R flag: the sender is a router. */
  readonly router: boolean;
  /** S flag: sent in response to a Neighbor Solicitation. */
  readonly solicited: boolean;
  /** O flag: override an existing cache entry. */
  readonly override: boolean;
  /** The Target Address, RFC 5952 text; never multicast. */
  readonly target: string;
  /** Options (Target Link-Layer Address). */
  readonly options: readonly NdOption[];
}

/** Any Neighbor Discovery message handled here, discriminated by `kind`. */
export type NdMessage =
  | RouterSolicitation
  | RouterAdvertisement
  | NeighborSolicitation
  | NeighborAdvertisement;

const _FIXED_LENGTH = {
  "router-solicitation": 8,
  "router-advertisement": 16,
  "neighbor-solicitation": 24,
  "neighbor-advertisement": 24,
} as const;

/**
 * Encodes a Neighbor Discovery message as an ICMPv6 message with a zero checksum (the
 * checksum needs the IP addresses: {@linkcode buildNdPacket} fills it in). Bits of a
 * prefix past its length are sent as zero (RFC 4861 section 4.6.2).
 *
 * @param message the message
 * @returns the ICMPv6 message bytes, Code 0
 * @throws {MalformedMessageError} when a field does not fit (a lifetime over 32 bits,
 * a prefix length over 128, a multicast target, bad address text, ...)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "./_bytes.ts";
 * const rs = encodeNdMessage({ kind: "router-solicitation", options: [] });
 * assertEquals(hex(rs), "8500000000000000");
 * ```
 */
export function encodeNdMessage(message: NdMessage): Uint8Array {
  const options = message.options.map(_encodeOption);
  const fixed = _FIXED_LENGTH[message.kind];
  const out = new Uint8Array(fixed + options.reduce((n, o) => n + o.length, 0));
  const view = new DataView(out.buffer);
  switch (message.kind) {
    case "router-solicitation":
      out[0] = NdType.RouterSolicitation;
      break;
    case "router-advertisement":
      out[0] = NdType.RouterAdvertisement;
      out[4] = _checkInt(message.curHopLimit, 0xff, "Cur Hop Limit");
      out[5] = (message.managed ? 0x80 : 0) | (message.other ? 0x40 : 0);
      view.setUint16(6, _checkInt(message.routerLifetime, 0xffff, "Router Lifetime"));
      view.setUint32(8, _checkInt(message.reachableTime, 0xffffffff, "Reachable Time"));
      view.setUint32(12, _checkInt(message.retransTimer, 0xffffffff, "Retrans Timer"));
      break;
    case "neighbor-solicitation":
      out[0] = NdType.NeighborSolicitation;
      out.set(_target(message.target), 8);
      break;
    case "neighbor-advertisement":
      out[0] = NdType.NeighborAdvertisement;
      out[4] = (message.router ? 0x80 : 0) | (message.solicited ? 0x40 : 0) |
        (message.override ? 0x20 : 0);
      out.set(_target(message.target), 8);
      break;
  }
  let offset = fixed;
  for (const o of options) {
    out.set(o, offset);
    offset += o.length;
  }
  return out;
}

/**
 * Decodes a Neighbor Discovery ICMPv6 message (the checksum is not verified here: see
 * {@linkcode parseNdPacket}). Applies the message checks of RFC 4861 sections 6.1.1,
 * 6.1.2, 7.1.1 and 7.1.2 that need no IP header: Code 0, the minimum length, no
 * option of length 0, a unicast target.
 *
 * @param bytes the ICMPv6 message, from the Type byte
 * @returns the message
 * @throws {MalformedMessageError} on truncation, an option of length 0 or one that
 * runs past the end, a Prefix Information or MTU option of the wrong length, a
 * type that is not RS, RA, NS or NA
 * @throws {ProtocolViolationError} on a Code other than 0, a multicast target or a
 * prefix length over 128
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { fromHex } from "./_bytes.ts";
 * // Linux's Router Solicitation with its Source Link-Layer Address 02:00:00:00:00:0b
 * const rs = decodeNdMessage(fromHex("85007b1800000000 0101 02000000000b"));
 * assertEquals(rs.kind, "router-solicitation");
 * assertEquals(rs.options[0]?.kind, "source-link-layer-address");
 * ```
 */
export function decodeNdMessage(bytes: Uint8Array): NdMessage {
  const r = new ByteReader(bytes);
  const type = r.u8("ICMPv6 header");
  const code = r.u8("ICMPv6 header");
  r.skip(2, "ICMPv6 header");
  let kind: NdMessage["kind"];
  switch (type) {
    case NdType.RouterSolicitation:
      kind = "router-solicitation";
      break;
    case NdType.RouterAdvertisement:
      kind = "router-advertisement";
      break;
    case NdType.NeighborSolicitation:
      kind = "neighbor-solicitation";
      break;
    case NdType.NeighborAdvertisement:
      kind = "neighbor-advertisement";
      break;
    default:
      throw new MalformedMessageError(`Invalid Neighbor Discovery message: ICMPv6 type ${type}`);
  }
  const what = _NAME[kind];
  r.need(_FIXED_LENGTH[kind] - 4, what);
  if (code !== 0) {
    throw new ProtocolViolationError(`Invalid ${what}: ICMP Code ${code}, not 0`);
  }
  switch (kind) {
    case "router-solicitation": {
      r.skip(4, what);
      return { kind, options: _decodeOptions(r) };
    }
    case "router-advertisement": {
      const curHopLimit = r.u8(what);
      const flags = r.u8(what);
      const routerLifetime = r.u16(what);
      const reachableTime = r.u32(what);
      const retransTimer = r.u32(what);
      return {
        kind,
        curHopLimit,
        managed: (flags & 0x80) !== 0,
        other: (flags & 0x40) !== 0,
        routerLifetime,
        reachableTime,
        retransTimer,
        options: _decodeOptions(r),
      };
    }
    case "neighbor-solicitation": {
      r.skip(4, what);
      const target = _readTarget(r, what);
      return { kind, target, options: _decodeOptions(r) };
    }
    case "neighbor-advertisement": {
      const flags = r.u8(what);
      r.skip(3, what);
      const target = _readTarget(r, what);
      return {
        kind,
        router: (flags & 0x80) !== 0,
        solicited: (flags & 0x40) !== 0,
        override: (flags & 0x20) !== 0,
        target,
        options: _decodeOptions(r),
      };
    }
  }
}

const _NAME = {
  "router-solicitation": "Router Solicitation",
  "router-advertisement": "Router Advertisement",
  "neighbor-solicitation": "Neighbor Solicitation",
  "neighbor-advertisement": "Neighbor Advertisement",
} as const;

/** Options of {@linkcode buildNdPacket}. */
export interface BuildNdPacketOptions {
  /** IPv6 source: link-local for RS with an address, RA; `::` for DAD probes. */
  readonly source: string;
  /** IPv6 destination (`ff02::1`, `ff02::2`, a solicited-node group, a unicast address). */
  readonly destination: string;
  /** The message. */
  readonly message: NdMessage;
}

/**
 * Builds an IPv6 packet carrying a Neighbor Discovery message: Hop Limit 255 (RFC 4861
 * sections 6.1, 7.1) and the ICMPv6 checksum.
 *
 * @param options addresses and message
 * @returns the IPv6 packet
 * @throws {MalformedMessageError} as {@linkcode encodeNdMessage}, or on addresses that
 * are not IPv6
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildNdPacket({
 *   source: "fe80::1", destination: "ff02::1",
 *   message: { kind: "neighbor-advertisement", router: true, solicited: false, override: true, target: "2001:db8::1", options: [] },
 * });
 * const nd = parseNdPacket(p);
 * assertEquals(nd.message.kind, "neighbor-advertisement");
 * assertEquals(p[7], 255);
 * ```
 */
export function buildNdPacket(options: BuildNdPacketOptions): Uint8Array {
  return buildIcmpv6Packet({
    source: options.source,
    destination: options.destination,
    ttl: ND_HOP_LIMIT,
    message: encodeNdMessage(options.message),
  });
}

/** A Neighbor Discovery message with its IPv6 addresses, as read by {@linkcode parseNdPacket}. */
export interface NdPacket {
  /** IPv6 source, RFC 5952 text. */
  readonly source: string;
  /** IPv6 destination, RFC 5952 text. */
  readonly destination: string;
  /** The message. */
  readonly message: NdMessage;
}

/**
 * Parses an IPv6 packet carrying a Neighbor Discovery message and applies the
 * validity checks of RFC 4861 sections 6.1.1, 6.1.2, 7.1.1 and 7.1.2: ICMPv6 checksum,
 * Hop Limit 255, Code 0, lengths, options; an RA from a link-local source; no Source
 * Link-Layer Address option with an unspecified source; a DAD probe only to a
 * solicited-node multicast group; no Solicited flag on an NA to a multicast group.
 *
 * @param packet the IPv6 packet
 * @returns its addresses and the message
 * @throws {MalformedMessageError} when the packet does not parse (see
 * {@linkcode decodeNdMessage}) or its checksum is wrong
 * @throws {ProtocolViolationError} when a validity check of RFC 4861 fails
 *
 * @example
 * ```ts
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = buildNdPacket({ source: "fe80::1", destination: "ff02::2", message: { kind: "router-solicitation", options: [] } });
 * parseNdPacket(p); // accepted
 * // A router forwarded it: Hop Limit 254, checksum unaffected (not in the pseudo-header).
 * p[7] = 254;
 * assertThrows(() => parseNdPacket(p), Error, "Hop Limit 254, not 255");
 * ```
 */
export function parseNdPacket(packet: Uint8Array): NdPacket {
  const icmp = parseIcmpv6Packet(packet);
  const message = decodeNdMessage(icmp.message);
  const what = _NAME[message.kind];
  if (icmp.ttl !== ND_HOP_LIMIT) {
    throw new ProtocolViolationError(`Invalid ${what}: Hop Limit ${icmp.ttl}, not 255`);
  }
  const unspecified = icmp.source === "::";
  const hasSlla = message.options.some((o) => o.kind === "source-link-layer-address");
  switch (message.kind) {
    case "router-advertisement":
      if (!icmp.source.startsWith("fe80:")) {
        throw new ProtocolViolationError(
          `Invalid Router Advertisement: source ${icmp.source} is not link-local`,
        );
      }
      break;
    case "router-solicitation":
      if (unspecified && hasSlla) {
        throw new ProtocolViolationError(
          "Invalid Router Solicitation: Source Link-Layer Address option with an unspecified source",
        );
      }
      break;
    case "neighbor-solicitation":
      if (unspecified && hasSlla) {
        throw new ProtocolViolationError(
          "Invalid Neighbor Solicitation: Source Link-Layer Address option with an unspecified source",
        );
      }
      if (unspecified && !icmp.destination.startsWith("ff02::1:ff")) {
        throw new ProtocolViolationError(
          `Invalid Neighbor Solicitation: DAD probe to ${icmp.destination}, not a solicited-node group`,
        );
      }
      break;
    case "neighbor-advertisement":
      if (message.solicited && icmp.destination.startsWith("ff")) {
        throw new ProtocolViolationError(
          `Invalid Neighbor Advertisement: Solicited flag set for multicast ${icmp.destination}`,
        );
      }
      break;
  }
  return { source: icmp.source, destination: icmp.destination, message };
}

/**
 * The solicited-node multicast address of a unicast address (RFC 4291 section
 * 2.7.1): `ff02::1:ff00:0/104` plus its low 24 bits. DAD probes and address resolution
 * go there (RFC 4861 section 7.2.2, RFC 4862 section 5.4.2).
 *
 * @param address an IPv6 address, text
 * @returns the group, RFC 5952 text
 * @throws {MalformedMessageError} on bad address text
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(solicitedNodeAddress("2001:db8::4:c0de"), "ff02::1:ff04:c0de");
 * ```
 */
export function solicitedNodeAddress(address: string): string {
  const a = parseIpv6Address(address);
  const g = parseIpv6Address("ff02::1:ff00:0");
  g.set(a.subarray(13), 13);
  return formatIpv6Address(g);
}

/**
 * The options of one kind in a message (`optionsOf(ra, "prefix-information")`).
 *
 * @param message the message
 * @param kind the option kind
 * @returns the matching options, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const rs = { kind: "router-solicitation", options: [{ kind: "mtu", mtu: 1280 }] } as const;
 * assertEquals(optionsOf(rs, "mtu")[0]?.mtu, 1280);
 * ```
 */
export function optionsOf<K extends NdOption["kind"]>(
  message: NdMessage,
  kind: K,
): NdOptionOf<K>[] {
  return message.options.filter((o): o is NdOptionOf<K> => o.kind === kind);
}

/** The option type(s) whose `kind` can be `K` (`NdOptionOf<"mtu">` is {@linkcode MtuOption}). */
export type NdOptionOf<K extends NdOption["kind"]> = NdOption extends infer O
  ? O extends NdOption ? K extends O["kind"] ? O : never : never
  : never;

// ---------------------------------------------------------------------------

function _checkInt(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new MalformedMessageError(`Invalid Neighbor Discovery ${what}: ${value}`);
  }
  return value;
}

function _target(text: string): Uint8Array {
  const t = parseIpv6Address(text);
  if (t[0] === 0xff) {
    throw new MalformedMessageError(`Invalid Neighbor Discovery target: ${text} is multicast`);
  }
  return t;
}

function _readTarget(r: ByteReader, what: string): string {
  const t = r.bytes(16, what);
  if (t[0] === 0xff) {
    throw new ProtocolViolationError(
      `Invalid ${what}: target ${formatIpv6Address(t)} is multicast`,
    );
  }
  return formatIpv6Address(t);
}

function _maskPrefix(prefix: Uint8Array, length: number): Uint8Array {
  const out = prefix.slice();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    out[i] = out[i]! & ((0xff00 >> keep) & 0xff);
  }
  return out;
}

function _encodeOption(o: NdOption): Uint8Array {
  switch (o.kind) {
    case "source-link-layer-address":
    case "target-link-layer-address": {
      const type = o.kind === "source-link-layer-address"
        ? NdOptionType.SourceLinkLayerAddress
        : NdOptionType.TargetLinkLayerAddress;
      return _optionBytes(type, o.address);
    }
    case "prefix-information": {
      _checkInt(o.prefixLength, 128, "prefix length");
      const body = new Uint8Array(30);
      const view = new DataView(body.buffer);
      body[0] = o.prefixLength;
      body[1] = (o.onLink ? 0x80 : 0) | (o.autonomous ? 0x40 : 0);
      view.setUint32(2, _checkInt(o.validLifetime, 0xffffffff, "Valid Lifetime"));
      view.setUint32(6, _checkInt(o.preferredLifetime, 0xffffffff, "Preferred Lifetime"));
      body.set(_maskPrefix(parseIpv6Address(o.prefix), o.prefixLength), 14);
      return _optionBytes(NdOptionType.PrefixInformation, body);
    }
    case "mtu": {
      const body = new Uint8Array(6);
      new DataView(body.buffer).setUint32(2, _checkInt(o.mtu, 0xffffffff, "MTU"));
      return _optionBytes(NdOptionType.Mtu, body);
    }
    case "rdnss": {
      if (o.servers.length === 0) {
        throw new MalformedMessageError("Invalid RDNSS option: no server");
      }
      const body = new Uint8Array(6 + 16 * o.servers.length);
      new DataView(body.buffer).setUint32(2, _checkInt(o.lifetime, 0xffffffff, "RDNSS Lifetime"));
      o.servers.forEach((s, i) => body.set(parseIpv6Address(s), 6 + 16 * i));
      return _optionBytes(NdOptionType.Rdnss, body);
    }
    case "unknown":
      _checkInt(o.type, 0xff, "option type");
      if (o.type === 0) {
        throw new MalformedMessageError("Invalid Neighbor Discovery option type: 0");
      }
      if ((o.data.length + 2) % 8 !== 0) {
        throw new MalformedMessageError(
          `Invalid Neighbor Discovery option ${o.type}: ${o.data.length} data bytes is not 8n - 2`,
        );
      }
      return _optionBytes(o.type, o.data);
  }
}

/** Type, Length in units of 8 octets, body, zero padding to a multiple of 8 (section 4.6). */
function _optionBytes(type: number, body: Uint8Array): Uint8Array {
  const units = Math.ceil((body.length + 2) / 8);
  if (units > 0xff) {
    throw new MalformedMessageError(`Invalid Neighbor Discovery option ${type}: too long`);
  }
  const out = new Uint8Array(units * 8);
  out[0] = type;
  out[1] = units;
  out.set(body, 2);
  return out;
}

function _decodeOptions(r: ByteReader): NdOption[] {
  const out: NdOption[] = [];
  while (r.remaining > 0) {
    const type = r.u8("Neighbor Discovery option");
    const units = r.u8("Neighbor Discovery option");
    if (units === 0) {
      // RFC 4861 section 4.6: nodes MUST silently discard an ND packet with such an option.
      throw new MalformedMessageError(`Invalid Neighbor Discovery option ${type}: length 0`);
    }
    const data = r.bytes(units * 8 - 2, `Neighbor Discovery option ${type}`);
    out.push(_decodeOption(type, data));
  }
  return out;
}

function _decodeOption(type: number, data: Uint8Array): NdOption {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (type) {
    case NdOptionType.SourceLinkLayerAddress:
      return { kind: "source-link-layer-address", address: data };
    case NdOptionType.TargetLinkLayerAddress:
      return { kind: "target-link-layer-address", address: data };
    case NdOptionType.PrefixInformation: {
      if (data.length !== 30) {
        throw new MalformedMessageError(
          `Invalid Prefix Information option: length ${(data.length + 2) / 8}, not 4`,
        );
      }
      const prefixLength = data[0]!;
      if (prefixLength > 128) {
        throw new ProtocolViolationError(
          `Invalid Prefix Information option: prefix length ${prefixLength}`,
        );
      }
      return {
        kind: "prefix-information",
        prefixLength,
        onLink: (data[1]! & 0x80) !== 0,
        autonomous: (data[1]! & 0x40) !== 0,
        validLifetime: view.getUint32(2),
        preferredLifetime: view.getUint32(6),
        prefix: formatIpv6Address(_maskPrefix(data.subarray(14, 30), prefixLength)),
      };
    }
    case NdOptionType.Mtu:
      if (data.length !== 6) {
        throw new MalformedMessageError(
          `Invalid MTU option: length ${(data.length + 2) / 8}, not 1`,
        );
      }
      return { kind: "mtu", mtu: view.getUint32(2) };
    case NdOptionType.Rdnss: {
      // RFC 8106 section 5.1: Length is 1 + 2 * servers, at least 3.
      if (data.length < 22 || (data.length + 2) % 16 !== 8) {
        throw new MalformedMessageError(
          `Invalid RDNSS option: length ${(data.length + 2) / 8}, not 3, 5, 7, ...`,
        );
      }
      const servers: string[] = [];
      for (let o = 6; o + 16 <= data.length; o += 16) servers.push(formatIpv6Address(data, o));
      return { kind: "rdnss", lifetime: view.getUint32(2), servers };
    }
    default:
      return { kind: "unknown", type, data };
  }
}
