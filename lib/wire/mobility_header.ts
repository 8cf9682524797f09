/**
 * The Mobile IPv6 Mobility Header (RFC 6275 sections 6.1 and 6.2, with the Binding
 * Identifier option of RFC 5648 section 6.1): encode and decode the eight messages of
 * RFC 6275 and their mobility options, compute the checksum, and locate the
 * Authenticator for `lib/keys/binding_auth.ts`.
 *
 * Transport: the kernel here has no Mobile IPv6, so the Mobility Header travels as the
 * payload of a UDP datagram on port 4191 (the port of RFC 5555) rather than as IPv6
 * extension header 135. The Checksum field is kept: when the caller gives the
 * addresses the IPv6 header would have carried (`checksum: { source, destination }`,
 * normally the home address or care-of address and the peer's address), it is
 * computed over the RFC 2460 section 8.1 pseudo-header with Next Header 135 exactly as
 * RFC 6275 section 6.1.1 says; without addresses it is sent as zero and not verified,
 * the UDP checksum then being the only integrity check of the datagram.
 *
 * Layout rules:
 * - the Mobility Header is a multiple of 8 bytes and Header Len counts the 8-byte
 *   units after the first 8 (section 6.1.1); the decoder requires the datagram to be
 *   exactly that long;
 * - options keep their alignment, counted from the first byte of the Mobility Header:
 *   Binding Refresh Advice 2n, Alternate Care-of Address 8n+6, Nonce Indices 2n,
 *   Binding Authorization Data 8n+2 (sections 6.2.4 to 6.2.7); the encoder inserts
 *   Pad1 / PadN before an option as needed and at the end up to the 8-byte multiple,
 *   so callers never write padding. The encoder also places the Binding Identifier at
 *   8n+2 (its care-of address then falls on an 8-byte boundary); the decoder does not
 *   enforce that one, because this implementation could not check the RFC 5648 text
 *   for it;
 * - the Binding Authorization Data option must be the last option (section 6.2.7):
 *   only padding may follow it;
 * - at most one Binding Refresh Advice, Alternate Care-of Address, Nonce Indices and
 *   Binding Authorization Data option per message; any number of Binding Identifier
 *   options (RFC 5648 bulk registration); unknown options are kept as `unknown` and
 *   are for the caller to skip (section 6.2.1);
 * - the Lifetime fields (BU, BA) and the Refresh Interval are in units of 4 seconds
 *   on the wire and in seconds here; the encoder rounds a lifetime down to a multiple
 *   of 4 seconds (never granting more than asked).
 *
 * Errors: {@linkcode MalformedMessageError} for bytes that do not parse (truncated,
 * Header Len disagreeing with the data, an option running past the end or with the
 * wrong length, a bad checksum); {@linkcode ProtocolViolationError} for a well-formed
 * header the protocol forbids (Payload Proto other than IPPROTO_NONE, a misaligned
 * option, an option after Binding Authorization Data, a repeated single option).
 * An unknown MH Type decodes as `{ kind: "unknown" }` so that the receiver can answer
 * with a Binding Error, status 2 (section 9.2).
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import {
  formatIpv4Address,
  formatIpv6Address,
  ipv6MappedAddress,
  parseIpv4Address,
  parseIpv6Address,
} from "./ip_header.ts";
import {
  IPPROTO_MH,
  IPPROTO_NONE,
  MH_FIXED_LENGTH,
  MH_LIFETIME_UNIT_SECONDS,
  MH_MAX_LENGTH,
  MH_MAX_LIFETIME_SECONDS,
  MhType,
  MOBILITY_OPTION_ALIGNMENT,
  MobilityOptionType,
} from "./mobility_constants.ts";

/** Binding Refresh Advice (RFC 6275 section 6.2.4): when to refresh, in BA only. */
export interface BindingRefreshAdviceOption {
  /** Discriminant. */
  readonly kind: "bindingRefreshAdvice";
  /** Refresh Interval, seconds (a multiple of 4 on the wire). */
  readonly refreshInterval: number;
}

/** Alternate Care-of Address (RFC 6275 section 6.2.5): the CoA, when not the source address. */
export interface AlternateCareOfAddressOption {
  /** Discriminant. */
  readonly kind: "alternateCareOfAddress";
  /** The care-of address, IPv6 text (canonical on decode). */
  readonly address: string;
}

/** Nonce Indices (RFC 6275 section 6.2.6): the return routability nonces used. */
export interface NonceIndicesOption {
  /** Discriminant. */
  readonly kind: "nonceIndices";
  /** Home Nonce Index, 0 to 65535. */
  readonly homeNonceIndex: number;
  /** Care-of Nonce Index, 0 to 65535. */
  readonly careOfNonceIndex: number;
}

/** Binding Authorization Data (RFC 6275 section 6.2.7); always the last option. */
export interface BindingAuthorizationDataOption {
  /** Discriminant. */
  readonly kind: "bindingAuthorizationData";
  /** The Authenticator (12 bytes with the constructions of RFC 6275 and `binding_auth.ts`). */
  readonly authenticator: Uint8Array;
}

/** Binding Identifier (RFC 5648 section 6.1): one binding among several for a home address. */
export interface BindingIdentifierOption {
  /** Discriminant. */
  readonly kind: "bindingIdentifier";
  /** Binding ID, 1 to 65535 (0 is reserved; the binding cache answers it with MCOA MALFORMED). */
  readonly bid: number;
  /** Status: in a BA, this BID's status (overrides the BA's for this BID); 0 elsewhere. */
  readonly status: number;
  /** H flag: simultaneous home and foreign binding (BU to the home agent only). */
  readonly simultaneousHome: boolean;
  /** O flag: replace all the bindings of the home address with those of this BU. */
  readonly overwrite: boolean;
  /** The care-of address of this BID, IPv4 or IPv6 text; absent when the option has none. */
  readonly careOfAddress?: string;
}

/** A mobility option this codec does not interpret; to be skipped (RFC 6275 section 6.2.1). */
export interface UnknownMobilityOption {
  /** Discriminant. */
  readonly kind: "unknown";
  /** Option Type, 0 to 255 (never 0 or 1: padding is not kept). */
  readonly type: number;
  /** Option Data. */
  readonly data: Uint8Array;
}

/** A mobility option (padding excluded: the encoder adds it, the decoder drops it). */
export type MobilityOption =
  | BindingRefreshAdviceOption
  | AlternateCareOfAddressOption
  | NonceIndicesOption
  | BindingAuthorizationDataOption
  | BindingIdentifierOption
  | UnknownMobilityOption;

/** The `kind` of a {@linkcode MobilityOption}. */
export type MobilityOptionKind = MobilityOption["kind"];

/** Binding Refresh Request (RFC 6275 section 6.1.2). */
export interface BindingRefreshRequest {
  /** Discriminant. */
  readonly kind: "bindingRefreshRequest";
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** Home Test Init or Care-of Test Init (RFC 6275 sections 6.1.3, 6.1.4). */
export interface TestInit<K extends "homeTestInit" | "careOfTestInit"> {
  /** Discriminant. */
  readonly kind: K;
  /** Home / Care-of Init Cookie, 8 bytes. */
  readonly cookie: Uint8Array;
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** Home Test or Care-of Test (RFC 6275 sections 6.1.5, 6.1.6). */
export interface Test<K extends "homeTest" | "careOfTest"> {
  /** Discriminant. */
  readonly kind: K;
  /** Home / Care-of Nonce Index, 0 to 65535. */
  readonly nonceIndex: number;
  /** Home / Care-of Init Cookie echoed, 8 bytes. */
  readonly cookie: Uint8Array;
  /** Home / Care-of Keygen Token, 8 bytes. */
  readonly keygenToken: Uint8Array;
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** The flags of a Binding Update (RFC 6275 section 6.1.7). */
export interface BindingUpdateFlags {
  /** A: the sender asks for a Binding Acknowledgement. */
  readonly ack: boolean;
  /** H: home registration (to the home agent). */
  readonly home: boolean;
  /** L: link-local address compatibility (home registration only). */
  readonly linkLocal: boolean;
  /** K: key management mobility capability (home registration only). */
  readonly keyManagement: boolean;
}

/** Binding Update (RFC 6275 section 6.1.7). */
export interface BindingUpdate {
  /** Discriminant. */
  readonly kind: "bindingUpdate";
  /** Sequence #, 0 to 65535, compared modulo 2^16 (section 9.5.1). */
  readonly sequence: number;
  /** A, H, L, K. */
  readonly flags: BindingUpdateFlags;
  /** Requested lifetime, seconds; 0 deregisters (a multiple of 4 on the wire). */
  readonly lifetime: number;
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** Binding Acknowledgement (RFC 6275 section 6.1.8). */
export interface BindingAck {
  /** Discriminant. */
  readonly kind: "bindingAck";
  /** Status, 0 to 255 (see `BindingAckStatus`). */
  readonly status: number;
  /** K: key management mobility capability. */
  readonly keyManagement: boolean;
  /** Sequence # of the BU acknowledged (or the last accepted one, with status 135). */
  readonly sequence: number;
  /** Granted lifetime, seconds (a multiple of 4 on the wire). */
  readonly lifetime: number;
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** Binding Error (RFC 6275 section 6.1.9). */
export interface BindingError {
  /** Discriminant. */
  readonly kind: "bindingError";
  /** Status, 0 to 255 (see `BindingErrorStatus`). */
  readonly status: number;
  /** The home address of the offending packet, IPv6 text (canonical on decode). */
  readonly homeAddress: string;
  /** Options, padding excluded. */
  readonly options: readonly MobilityOption[];
}

/** A message of an MH Type this codec does not know; answer it with a Binding Error, status 2. */
export interface UnknownMobilityMessage {
  /** Discriminant. */
  readonly kind: "unknown";
  /** MH Type, 0 to 255 (never 0 to 7). */
  readonly mhType: number;
  /** The message data after the Checksum, uninterpreted. */
  readonly data: Uint8Array;
}

/** A Mobility Header message, discriminated by `kind`. */
export type MobilityMessage =
  | BindingRefreshRequest
  | TestInit<"homeTestInit">
  | TestInit<"careOfTestInit">
  | Test<"homeTest">
  | Test<"careOfTest">
  | BindingUpdate
  | BindingAck
  | BindingError
  | UnknownMobilityMessage;

/** The `kind` of a {@linkcode MobilityMessage}. */
export type MobilityMessageKind = MobilityMessage["kind"];

/** The addresses of the IPv6 pseudo-header over which the Checksum is computed. */
export interface ChecksumAddresses {
  /** Source address, IPv6 text (IPv4 text is mapped to `::ffff:a.b.c.d`). */
  readonly source: string;
  /** Destination address, IPv6 text (IPv4 text is mapped to `::ffff:a.b.c.d`). */
  readonly destination: string;
}

/** Options of {@linkcode encodeMobilityHeader} and {@linkcode decodeMobilityHeader}. */
export interface MobilityHeaderCodecOptions {
  /**
   * The pseudo-header addresses: set the Checksum on encode, verify it on decode.
   * Without them the Checksum is written as zero and not verified on decode.
   */
  readonly checksum?: ChecksumAddresses;
}

const _NO_BU_FLAGS: BindingUpdateFlags = {
  ack: false,
  home: false,
  linkLocal: false,
  keyManagement: false,
};

const _BU_A = 0x8000;
const _BU_H = 0x4000;
const _BU_L = 0x2000;
const _BU_K = 0x1000;
const _BA_K = 0x80;
const _BID_H = 0x80;
const _BID_O = 0x40;

/** Options that may appear at most once in a message. */
const _SINGLE: ReadonlySet<MobilityOptionKind> = new Set<MobilityOptionKind>([
  "bindingRefreshAdvice",
  "alternateCareOfAddress",
  "nonceIndices",
  "bindingAuthorizationData",
]);

/** Options whose alignment the decoder checks (RFC 6275 sections 6.2.4 to 6.2.7). */
const _CHECKED_ALIGNMENT: ReadonlySet<number> = new Set<number>([
  MobilityOptionType.BindingRefreshAdvice,
  MobilityOptionType.AlternateCareOfAddress,
  MobilityOptionType.NonceIndices,
  MobilityOptionType.BindingAuthorizationData,
]);

/**
 * Builds a full {@linkcode BindingUpdateFlags} from the flags that are set.
 *
 * @param set the flags to set; the others are false
 * @returns the flags
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const f = bindingUpdateFlags({ ack: true, home: true });
 * assertEquals([f.ack, f.home, f.linkLocal, f.keyManagement], [true, true, false, false]);
 * ```
 */
export function bindingUpdateFlags(set: Partial<BindingUpdateFlags> = {}): BindingUpdateFlags {
  return { ..._NO_BU_FLAGS, ...set };
}

/**
 * The Mobility Header type of a message kind (RFC 6275 section 6.1).
 *
 * @param msg the message
 * @returns the MH Type, 0 to 255
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(mhTypeOf({ kind: "bindingRefreshRequest", options: [] }), 0);
 * ```
 */
export function mhTypeOf(msg: MobilityMessage): number {
  switch (msg.kind) {
    case "bindingRefreshRequest":
      return MhType.BindingRefreshRequest;
    case "homeTestInit":
      return MhType.HomeTestInit;
    case "careOfTestInit":
      return MhType.CareOfTestInit;
    case "homeTest":
      return MhType.HomeTest;
    case "careOfTest":
      return MhType.CareOfTest;
    case "bindingUpdate":
      return MhType.BindingUpdate;
    case "bindingAck":
      return MhType.BindingAck;
    case "bindingError":
      return MhType.BindingError;
    case "unknown":
      return msg.mhType;
  }
}

function _uint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new MalformedMessageError(
      `Invalid Mobility Header ${what}: ${value} is out of range 0 to ${max}`,
    );
  }
}

function _bytesOf(value: Uint8Array, length: number, what: string): void {
  if (value.length !== length) {
    throw new MalformedMessageError(
      `Invalid Mobility Header ${what}: expected ${length} bytes, got ${value.length}`,
    );
  }
}

/** Seconds to 4-second units, rounded down (never more than asked). */
function _units(seconds: number, what: string): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MH_MAX_LIFETIME_SECONDS) {
    throw new MalformedMessageError(
      `Invalid Mobility Header ${what}: ${seconds} s is out of range 0 to ${MH_MAX_LIFETIME_SECONDS}`,
    );
  }
  return Math.floor(seconds / MH_LIFETIME_UNIT_SECONDS);
}

/** The fixed message data length (after the 6-byte header) of each known kind. */
function _fixedLength(kind: Exclude<MobilityMessageKind, "unknown">): number {
  switch (kind) {
    case "bindingRefreshRequest":
      return 2;
    case "homeTestInit":
    case "careOfTestInit":
      return 10;
    case "homeTest":
    case "careOfTest":
      return 18;
    case "bindingUpdate":
    case "bindingAck":
      return 6;
    case "bindingError":
      return 18;
  }
}

function _optionData(opt: MobilityOption): Uint8Array {
  switch (opt.kind) {
    case "bindingRefreshAdvice": {
      const w = new ByteWriter(2);
      return w.u16(_units(opt.refreshInterval, "Refresh Interval")).finish();
    }
    case "alternateCareOfAddress":
      return parseIpv6Address(opt.address);
    case "nonceIndices":
      _uint(opt.homeNonceIndex, 0xffff, "Home Nonce Index");
      _uint(opt.careOfNonceIndex, 0xffff, "Care-of Nonce Index");
      return new ByteWriter(4).u16(opt.homeNonceIndex).u16(opt.careOfNonceIndex).finish();
    case "bindingAuthorizationData":
      if (opt.authenticator.length === 0 || opt.authenticator.length > 255) {
        throw new MalformedMessageError(
          `Invalid Mobility Header Authenticator: ${opt.authenticator.length} bytes, expected 1 to 255`,
        );
      }
      return opt.authenticator;
    case "bindingIdentifier": {
      _uint(opt.bid, 0xffff, "Binding ID");
      _uint(opt.status, 0xff, "Binding Identifier status");
      const coa = opt.careOfAddress === undefined
        ? new Uint8Array(0)
        : opt.careOfAddress.includes(":")
        ? parseIpv6Address(opt.careOfAddress)
        : parseIpv4Address(opt.careOfAddress);
      return new ByteWriter(4 + coa.length).u16(opt.bid).u8(opt.status)
        .u8((opt.simultaneousHome ? _BID_H : 0) | (opt.overwrite ? _BID_O : 0)).bytes(coa)
        .finish();
    }
    case "unknown":
      _uint(opt.type, 0xff, "option type");
      if (opt.type === MobilityOptionType.Pad1 || opt.type === MobilityOptionType.PadN) {
        throw new MalformedMessageError(
          `Invalid Mobility Header option: type ${opt.type} is padding, which the encoder adds`,
        );
      }
      if (opt.data.length > 255) {
        throw new MalformedMessageError(
          `Invalid Mobility Header option: ${opt.data.length} data bytes exceed 255`,
        );
      }
      return opt.data;
  }
}

function _optionType(opt: MobilityOption): number {
  switch (opt.kind) {
    case "bindingRefreshAdvice":
      return MobilityOptionType.BindingRefreshAdvice;
    case "alternateCareOfAddress":
      return MobilityOptionType.AlternateCareOfAddress;
    case "nonceIndices":
      return MobilityOptionType.NonceIndices;
    case "bindingAuthorizationData":
      return MobilityOptionType.BindingAuthorizationData;
    case "bindingIdentifier":
      return MobilityOptionType.BindingIdentifier;
    case "unknown":
      return opt.type;
  }
}

/** Padding bytes needed at `offset` for alignment `[x, y]`. */
function _padFor(offset: number, align: readonly [number, number] | undefined): number {
  if (align === undefined) return 0;
  const [x, y] = align;
  return (((y - offset) % x) + x) % x;
}

function _writePad(w: ByteWriter, count: number): void {
  if (count === 0) return;
  if (count === 1) w.u8(MobilityOptionType.Pad1);
  else w.u8(MobilityOptionType.PadN).u8(count - 2).zeros(count - 2);
}

/** Checks the option rules that the encoder and decoder share. */
function _checkOptionRules(options: readonly MobilityOption[]): void {
  const seen = new Set<MobilityOptionKind>();
  for (let i = 0; i < options.length; i++) {
    const opt = options[i]!;
    if (_SINGLE.has(opt.kind)) {
      if (seen.has(opt.kind)) {
        throw new ProtocolViolationError(
          `Invalid Mobility Header: two ${opt.kind} options`,
        );
      }
      seen.add(opt.kind);
    }
    if (opt.kind === "bindingAuthorizationData" && i !== options.length - 1) {
      throw new ProtocolViolationError(
        `Invalid Mobility Header: ${
          options[i + 1]!.kind
        } option after Binding Authorization Data, which must be last`,
      );
    }
  }
}

function _messageOptions(msg: MobilityMessage): readonly MobilityOption[] {
  return msg.kind === "unknown" ? [] : msg.options;
}

/**
 * Encodes a Mobility Header message: Payload Proto IPPROTO_NONE, Reserved zero,
 * options aligned with Pad1 / PadN and the whole padded to a multiple of 8 bytes,
 * Header Len computed, the Checksum set over the pseudo-header when `options.checksum`
 * gives the addresses and zero otherwise.
 *
 * @param msg the message
 * @param options `checksum` addresses
 * @returns the Mobility Header bytes
 * @throws {MalformedMessageError} when a field is out of range, a cookie or token is
 * not 8 bytes, an address does not parse, or the result exceeds 2048 bytes
 * @throws {ProtocolViolationError} when an option is repeated or Binding
 * Authorization Data is not last
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "./_bytes.ts";
 * const bu = encodeMobilityHeader({
 *   kind: "bindingUpdate", sequence: 1, flags: bindingUpdateFlags({ ack: true, home: true }),
 *   lifetime: 400, options: [],
 * });
 * // 12 bytes of header and BU, then a 4-byte PadN to reach 16 (RFC 6275 section 6.1.7).
 * assertEquals(hex(bu), "3b01050000000001c00000640102" + "0000");
 * ```
 */
export function encodeMobilityHeader(
  msg: MobilityMessage,
  options?: MobilityHeaderCodecOptions,
): Uint8Array {
  const mhType = mhTypeOf(msg);
  _uint(mhType, 0xff, "MH Type");
  let body: Uint8Array;
  if (msg.kind === "unknown") {
    if (mhType <= MhType.BindingError) {
      throw new MalformedMessageError(
        `Invalid Mobility Header: unknown message with known MH Type ${mhType}`,
      );
    }
    body = msg.data;
    if ((MH_FIXED_LENGTH + body.length) % 8 !== 0) {
      throw new MalformedMessageError(
        `Invalid Mobility Header: ${
          MH_FIXED_LENGTH + body.length
        } bytes of unknown message is not a multiple of 8`,
      );
    }
  } else {
    body = _encodeFixed(msg);
  }
  const opts = _messageOptions(msg);
  _checkOptionRules(opts);
  const datas = opts.map(_optionData);
  // Lay out: compute every padding first, then write once.
  let offset = MH_FIXED_LENGTH + body.length;
  const pads: number[] = [];
  for (let i = 0; i < opts.length; i++) {
    const pad = _padFor(offset, MOBILITY_OPTION_ALIGNMENT[_optionType(opts[i]!)]);
    pads.push(pad);
    offset += pad + 2 + datas[i]!.length;
  }
  const tail = (8 - (offset % 8)) % 8;
  const length = offset + tail;
  if (length > MH_MAX_LENGTH) {
    throw new MalformedMessageError(
      `Oversized Mobility Header: ${length} bytes, limit ${MH_MAX_LENGTH}`,
    );
  }
  const w = new ByteWriter(length).u8(IPPROTO_NONE).u8(length / 8 - 1).u8(mhType).u8(0).u16(0)
    .bytes(body);
  for (let i = 0; i < opts.length; i++) {
    _writePad(w, pads[i]!);
    w.u8(_optionType(opts[i]!)).u8(datas[i]!.length).bytes(datas[i]!);
  }
  _writePad(w, tail);
  const out = w.finish();
  if (options?.checksum !== undefined) {
    const sum = mobilityHeaderChecksum(out, options.checksum);
    out[4] = sum >> 8;
    out[5] = sum & 0xff;
  }
  return out;
}

function _encodeFixed(msg: Exclude<MobilityMessage, UnknownMobilityMessage>): Uint8Array {
  const w = new ByteWriter(_fixedLength(msg.kind));
  switch (msg.kind) {
    case "bindingRefreshRequest":
      return w.u16(0).finish();
    case "homeTestInit":
    case "careOfTestInit":
      _bytesOf(msg.cookie, 8, "Init Cookie");
      return w.u16(0).bytes(msg.cookie).finish();
    case "homeTest":
    case "careOfTest":
      _uint(msg.nonceIndex, 0xffff, "Nonce Index");
      _bytesOf(msg.cookie, 8, "Init Cookie");
      _bytesOf(msg.keygenToken, 8, "Keygen Token");
      return w.u16(msg.nonceIndex).bytes(msg.cookie).bytes(msg.keygenToken).finish();
    case "bindingUpdate": {
      _uint(msg.sequence, 0xffff, "Sequence #");
      const f = msg.flags;
      const bits = (f.ack ? _BU_A : 0) | (f.home ? _BU_H : 0) | (f.linkLocal ? _BU_L : 0) |
        (f.keyManagement ? _BU_K : 0);
      return w.u16(msg.sequence).u16(bits).u16(_units(msg.lifetime, "Lifetime")).finish();
    }
    case "bindingAck":
      _uint(msg.status, 0xff, "Status");
      _uint(msg.sequence, 0xffff, "Sequence #");
      return w.u8(msg.status).u8(msg.keyManagement ? _BA_K : 0).u16(msg.sequence)
        .u16(_units(msg.lifetime, "Lifetime")).finish();
    case "bindingError":
      _uint(msg.status, 0xff, "Status");
      return w.u8(msg.status).u8(0).bytes(parseIpv6Address(msg.homeAddress)).finish();
  }
}

/**
 * Computes the Checksum of a Mobility Header (RFC 6275 section 6.1.1): the 16-bit
 * one's complement of the one's complement sum of the IPv6 pseudo-header (RFC 2460
 * section 8.1: source, destination, upper-layer length, three zero bytes, Next Header
 * 135) followed by the Mobility Header with its Checksum field taken as zero.
 *
 * @param mh the Mobility Header bytes (its Checksum field is ignored)
 * @param addresses the pseudo-header source and destination
 * @returns the Checksum, 0 to 65535
 * @throws {MalformedMessageError} when an address does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const brr = encodeMobilityHeader({ kind: "bindingRefreshRequest", options: [] });
 * const addresses = { source: "2001:db8::1", destination: "2001:db8::2" };
 * const sum = mobilityHeaderChecksum(brr, addresses);
 * const sent = encodeMobilityHeader({ kind: "bindingRefreshRequest", options: [] }, { checksum: addresses });
 * assertEquals((sent[4]! << 8) | sent[5]!, sum);
 * ```
 */
export function mobilityHeaderChecksum(mh: Uint8Array, addresses: ChecksumAddresses): number {
  let sum = 0;
  const add16 = (bytes: Uint8Array, skipChecksum: boolean) => {
    for (let i = 0; i < bytes.length; i += 2) {
      if (skipChecksum && i === 4) continue;
      sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    }
  };
  add16(ipv6MappedAddress(addresses.source), false);
  add16(ipv6MappedAddress(addresses.destination), false);
  sum += (mh.length >>> 16) + (mh.length & 0xffff) + IPPROTO_MH;
  add16(mh, true);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The decoded fixed header. */
interface _Header {
  readonly mhType: number;
  readonly checksum: number;
}

function _readHeader(r: ByteReader, size: number): _Header {
  if (size > MH_MAX_LENGTH) {
    throw new MalformedMessageError(
      `Oversized Mobility Header: ${size} bytes, limit ${MH_MAX_LENGTH}`,
    );
  }
  r.need(8, "Mobility Header");
  const proto = r.u8("Mobility Header");
  const headerLen = r.u8("Mobility Header");
  const mhType = r.u8("Mobility Header");
  r.skip(1, "Mobility Header"); // Reserved: ignored on receipt
  const checksum = r.u16("Mobility Header");
  const length = (headerLen + 1) * 8;
  if (length !== size) {
    throw new MalformedMessageError(
      `Invalid Mobility Header length: Header Len ${headerLen} says ${length} bytes, datagram has ${size}`,
    );
  }
  if (proto !== IPPROTO_NONE) {
    throw new ProtocolViolationError(
      `Invalid Mobility Header: Payload Proto ${proto}, expected ${IPPROTO_NONE} (IPPROTO_NONE)`,
    );
  }
  return { mhType, checksum };
}

const _NAMES: readonly string[] = [
  "Binding Refresh Request",
  "Home Test Init",
  "Care-of Test Init",
  "Home Test",
  "Care-of Test",
  "Binding Update",
  "Binding Acknowledgement",
  "Binding Error",
];

function _readOption(r: ByteReader, type: number, length: number): MobilityOption {
  const what = "Mobility Header option";
  const fixed = (expected: number, name: string) => {
    if (length !== expected) {
      throw new MalformedMessageError(
        `Invalid ${name} option: length ${length}, expected ${expected}`,
      );
    }
  };
  switch (type) {
    case MobilityOptionType.BindingRefreshAdvice:
      fixed(2, "Binding Refresh Advice");
      return {
        kind: "bindingRefreshAdvice",
        refreshInterval: r.u16(what) * MH_LIFETIME_UNIT_SECONDS,
      };
    case MobilityOptionType.AlternateCareOfAddress:
      fixed(16, "Alternate Care-of Address");
      return {
        kind: "alternateCareOfAddress",
        address: formatIpv6Address(r.bytes(16, what)),
      };
    case MobilityOptionType.NonceIndices:
      fixed(4, "Nonce Indices");
      return {
        kind: "nonceIndices",
        homeNonceIndex: r.u16(what),
        careOfNonceIndex: r.u16(what),
      };
    case MobilityOptionType.BindingAuthorizationData:
      if (length === 0) {
        throw new MalformedMessageError(
          "Invalid Binding Authorization Data option: empty Authenticator",
        );
      }
      return { kind: "bindingAuthorizationData", authenticator: r.bytes(length, what) };
    case MobilityOptionType.BindingIdentifier: {
      if (length !== 4 && length !== 8 && length !== 20) {
        throw new MalformedMessageError(
          `Invalid Binding Identifier option: length ${length}, expected 4, 8 or 20`,
        );
      }
      const bid = r.u16(what);
      const status = r.u8(what);
      const flags = r.u8(what);
      const base = {
        kind: "bindingIdentifier" as const,
        bid,
        status,
        simultaneousHome: (flags & _BID_H) !== 0,
        overwrite: (flags & _BID_O) !== 0,
      };
      if (length === 4) return base;
      const coa = r.bytes(length - 4, what);
      return {
        ...base,
        careOfAddress: length === 8 ? formatIpv4Address(coa) : formatIpv6Address(coa),
      };
    }
    default:
      return { kind: "unknown", type, data: r.bytes(length, what) };
  }
}

function _readOptions(r: ByteReader): MobilityOption[] {
  const out: MobilityOption[] = [];
  while (r.remaining > 0) {
    const at = r.offset;
    const type = r.u8("Mobility Header option");
    if (type === MobilityOptionType.Pad1) continue;
    const length = r.u8("Mobility Header option");
    r.need(length, "Mobility Header option");
    if (type === MobilityOptionType.PadN) {
      r.skip(length, "Mobility Header option"); // contents ignored on receipt
      continue;
    }
    if (_CHECKED_ALIGNMENT.has(type)) {
      const align = MOBILITY_OPTION_ALIGNMENT[type]!;
      if (_padFor(at, align) !== 0) {
        throw new ProtocolViolationError(
          `Invalid Mobility Header: option ${type} at offset ${at} breaks its ${align[0]}n+${
            align[1]
          } alignment`,
        );
      }
    }
    out.push(_readOption(r, type, length));
  }
  _checkOptionRules(out);
  return out;
}

/**
 * Decodes a Mobility Header message.
 *
 * @param bytes the UDP payload, exactly one Mobility Header
 * @param options `checksum` addresses to verify the Checksum with
 * @returns the message; byte values are copies, addresses canonical text
 * @throws {MalformedMessageError} when truncated, oversized, when Header Len does not
 * match the datagram, the message is shorter than its type requires, an option runs
 * past the end or has the wrong length, or the Checksum does not verify
 * @throws {ProtocolViolationError} when Payload Proto is not IPPROTO_NONE, an option is
 * misaligned or repeated, or an option follows Binding Authorization Data
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { fromHex } from "./_bytes.ts";
 * const m = decodeMobilityHeader(fromHex("3b01 0600 0000 0000 0005 0064 0102 0000"));
 * assertEquals(m.kind, "bindingAck");
 * if (m.kind === "bindingAck") assertEquals([m.status, m.sequence, m.lifetime], [0, 5, 400]);
 * ```
 */
export function decodeMobilityHeader(
  bytes: Uint8Array,
  options?: MobilityHeaderCodecOptions,
): MobilityMessage {
  const r = new ByteReader(bytes);
  const h = _readHeader(r, bytes.length);
  if (options?.checksum !== undefined) {
    const expected = mobilityHeaderChecksum(bytes, options.checksum);
    if (expected !== h.checksum) {
      throw new MalformedMessageError(
        `Invalid Mobility Header checksum: got 0x${h.checksum.toString(16)}, expected 0x${
          expected.toString(16)
        }`,
      );
    }
  }
  if (h.mhType > MhType.BindingError) {
    return { kind: "unknown", mhType: h.mhType, data: r.rest() };
  }
  const what = _NAMES[h.mhType]!;
  const kind = _KINDS[h.mhType]!;
  const fixed = _fixedLength(kind);
  if (r.remaining < fixed) {
    throw new MalformedMessageError(
      `Truncated ${what}: need ${MH_FIXED_LENGTH + fixed} bytes, Header Len gives ${bytes.length}`,
    );
  }
  switch (kind) {
    case "bindingRefreshRequest":
      r.skip(2, what);
      return { kind, options: _readOptions(r) };
    case "homeTestInit":
    case "careOfTestInit": {
      r.skip(2, what);
      const cookie = r.bytes(8, what);
      return { kind, cookie, options: _readOptions(r) };
    }
    case "homeTest":
    case "careOfTest": {
      const nonceIndex = r.u16(what);
      const cookie = r.bytes(8, what);
      const keygenToken = r.bytes(8, what);
      return { kind, nonceIndex, cookie, keygenToken, options: _readOptions(r) };
    }
    case "bindingUpdate": {
      const sequence = r.u16(what);
      const bits = r.u16(what);
      const lifetime = r.u16(what) * MH_LIFETIME_UNIT_SECONDS;
      const flags: BindingUpdateFlags = {
        ack: (bits & _BU_A) !== 0,
        home: (bits & _BU_H) !== 0,
        linkLocal: (bits & _BU_L) !== 0,
        keyManagement: (bits & _BU_K) !== 0,
      };
      return { kind, sequence, flags, lifetime, options: _readOptions(r) };
    }
    case "bindingAck": {
      const status = r.u8(what);
      const keyManagement = (r.u8(what) & _BA_K) !== 0;
      const sequence = r.u16(what);
      const lifetime = r.u16(what) * MH_LIFETIME_UNIT_SECONDS;
      return { kind, status, keyManagement, sequence, lifetime, options: _readOptions(r) };
    }
    case "bindingError": {
      const status = r.u8(what);
      r.skip(1, what);
      const homeAddress = formatIpv6Address(r.bytes(16, what));
      return { kind, status, homeAddress, options: _readOptions(r) };
    }
  }
}

const _KINDS: readonly Exclude<MobilityMessageKind, "unknown">[] = [
  "bindingRefreshRequest",
  "homeTestInit",
  "careOfTestInit",
  "homeTest",
  "careOfTest",
  "bindingUpdate",
  "bindingAck",
  "bindingError",
];

/**
 * Finds the first option of a kind in a message.
 *
 * @param msg the message
 * @param kind the option kind (`alternateCareOfAddress`, `bindingIdentifier`, ...)
 * @returns the option, or undefined when the message has none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = { kind: "bindingRefreshRequest" as const,
 *   options: [{ kind: "nonceIndices" as const, homeNonceIndex: 1, careOfNonceIndex: 2 }] };
 * assertEquals(findMobilityOption(msg, "nonceIndices")?.careOfNonceIndex, 2);
 * assertEquals(findMobilityOption(msg, "bindingIdentifier"), undefined);
 * ```
 */
export function findMobilityOption<K extends MobilityOptionKind>(
  msg: MobilityMessage,
  kind: K,
): Extract<MobilityOption, { kind: K }> | undefined {
  for (const opt of _messageOptions(msg)) {
    if (opt.kind === kind) return opt as Extract<MobilityOption, { kind: K }>;
  }
  return undefined;
}

/**
 * Finds every option of a kind in a message, in wire order (e.g. the Binding
 * Identifier options of a bulk registration, RFC 5648 section 6.2).
 *
 * @param msg the message
 * @param kind the option kind
 * @returns the options, possibly none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bid = (n: number) => ({ kind: "bindingIdentifier" as const, bid: n, status: 0,
 *   simultaneousHome: false, overwrite: false });
 * const msg = { kind: "bindingRefreshRequest" as const, options: [bid(1), bid(2)] };
 * assertEquals(findMobilityOptions(msg, "bindingIdentifier").map((o) => o.bid), [1, 2]);
 * ```
 */
export function findMobilityOptions<K extends MobilityOptionKind>(
  msg: MobilityMessage,
  kind: K,
): Extract<MobilityOption, { kind: K }>[] {
  const out: Extract<MobilityOption, { kind: K }>[] = [];
  for (const opt of _messageOptions(msg)) {
    if (opt.kind === kind) out.push(opt as Extract<MobilityOption, { kind: K }>);
  }
  return out;
}

/** Where the Authenticator of a Binding Authorization Data option lies in a Mobility Header. */
export interface AuthenticatorLocation {
  /** Offset of the first Authenticator byte from the start of the Mobility Header. */
  readonly offset: number;
  /** Its length in bytes. */
  readonly length: number;
}

/**
 * Locates the Authenticator of the Binding Authorization Data option in encoded
 * Mobility Header bytes, for computing or checking it (RFC 6275 section 5.2.6). The
 * bytes must decode (see {@linkcode decodeMobilityHeader}; the checksum is not
 * verified here).
 *
 * @param mh the Mobility Header bytes
 * @returns the location, or undefined when the message has no such option
 * @throws {MalformedMessageError | ProtocolViolationError} as {@linkcode decodeMobilityHeader}
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const mh = encodeMobilityHeader({
 *   kind: "bindingUpdate", sequence: 7, flags: bindingUpdateFlags({ ack: true }), lifetime: 60,
 *   options: [{ kind: "bindingAuthorizationData", authenticator: new Uint8Array(12) }],
 * });
 * // 12 bytes of BU, a PadN of 6 to reach 8n+2 (18), then type and length: offset 20.
 * assertEquals(findAuthenticator(mh), { offset: 20, length: 12 });
 * ```
 */
export function findAuthenticator(mh: Uint8Array): AuthenticatorLocation | undefined {
  const msg = decodeMobilityHeader(mh);
  if (findMobilityOption(msg, "bindingAuthorizationData") === undefined) return undefined;
  // Walk the options of the validated bytes to find where the option sits.
  const kind = msg.kind as Exclude<MobilityMessageKind, "unknown">;
  let at = MH_FIXED_LENGTH + _fixedLength(kind);
  while (at < mh.length) {
    const type = mh[at]!;
    if (type === MobilityOptionType.Pad1) {
      at++;
      continue;
    }
    const length = mh[at + 1]!;
    if (type === MobilityOptionType.BindingAuthorizationData) return { offset: at + 2, length };
    at += 2 + length;
  }
  return undefined; // unreachable: decoding found the option
}
