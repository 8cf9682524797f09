/**
 * PANA messages (RFC 5191 sections 6 to 8, with the E flag of RFC 5873): encode and
 * decode the header and AVPs, find AVPs, and locate or zero the AUTH AVP value for the
 * MAC computation of RFC 5191 section 5.3.
 *
 * Decoding rules:
 * - the datagram must be exactly Message Length bytes (no padding rule exists for
 *   PANA) and at most `maxLength` bytes ({@linkcode PANA_MAX_MESSAGE_LENGTH} by
 *   default);
 * - the Reserved field, reserved flag bits, AVP reserved flag bits, the AVP Reserved
 *   field and padding bytes are ignored: sent as zero, ignored on receipt (sections
 *   6.2, 6.3);
 * - AVP Length counts the Value only, not the header, the Vendor-Id nor the padding;
 *   every AVP is padded to 4 bytes, the last one included;
 * - unknown AVPs and vendor AVPs (V flag) are kept as `unknown` with their raw value.
 *   PANA has no M (mandatory) bit, so ignoring them is up to the caller.
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import {
  PANA_AVP_FLAG_VENDOR,
  PANA_AVP_HEADER_LENGTH,
  PANA_HEADER_LENGTH,
  PANA_MAX_MESSAGE_LENGTH,
  PANA_VENDOR_AVP_HEADER_LENGTH,
  PanaAvpCode,
  PanaFlag,
  PanaMessageType,
} from "./pana_constants.ts";

/** The header flags of a PANA message, decoded (RFC 5191 section 6.2, RFC 5873). */
export interface PanaFlags {
  /** R: a Request (true) or an Answer (false). */
  readonly request: boolean;
  /** S: first PAR/PAN of the authentication phase. */
  readonly start: boolean;
  /** C: last PAR/PAN of the authentication phase. */
  readonly complete: boolean;
  /** A: PNR/PNA starting re-authentication. */
  readonly auth: boolean;
  /** P: PNR/PNA liveness test. */
  readonly ping: boolean;
  /** I: the PAA asks the PaC to reconfigure its IP address. */
  readonly ipReconfig: boolean;
  /** E: pre-authentication (RFC 5873). */
  readonly preauth: boolean;
}

/** An AVP whose value is an OctetString. */
export interface PanaOctetsAvp<K extends string> {
  /** Which AVP. */
  readonly kind: K;
  /** The value, without padding. */
  readonly value: Uint8Array;
}

/** An AVP whose value is an Unsigned32 (or an Enumerated with non-negative values). */
export interface PanaUint32Avp<K extends string> {
  /** Which AVP. */
  readonly kind: K;
  /** The value, 0 to 2^32 - 1. */
  readonly value: number;
}

/** An AVP this codec does not interpret: a vendor AVP, or an IETF code other than 1 to 9. */
export interface PanaUnknownAvp {
  /** Always `unknown`. */
  readonly kind: "unknown";
  /** The AVP Code, 0 to 65535. */
  readonly code: number;
  /** The Vendor-Id; present exactly when the V flag is set. */
  readonly vendorId?: number;
  /** The raw value, without padding. */
  readonly value: Uint8Array;
}

/** A PANA AVP (RFC 5191 section 8), discriminated by `kind`. */
export type PanaAvp =
  | PanaOctetsAvp<"auth">
  | PanaOctetsAvp<"eapPayload">
  | PanaOctetsAvp<"nonce">
  | PanaUint32Avp<"integrityAlgorithm">
  | PanaUint32Avp<"keyId">
  | PanaUint32Avp<"prfAlgorithm">
  | PanaUint32Avp<"resultCode">
  | PanaUint32Avp<"sessionLifetime">
  | PanaUint32Avp<"terminationCause">
  | PanaUnknownAvp;

/** The `kind` of a {@linkcode PanaAvp}. */
export type PanaAvpKind = PanaAvp["kind"];

/** A PANA message (RFC 5191 section 6). */
export interface PanaMessage {
  /** The header flags. */
  readonly flags: PanaFlags;
  /** The Message Type, 0 to 65535 (see {@linkcode PanaMessageType}). */
  readonly type: number;
  /** The Session Identifier, 0 to 2^32 - 1. */
  readonly sessionId: number;
  /** The Sequence Number, 0 to 2^32 - 1. */
  readonly seq: number;
  /** The AVPs, in wire order. */
  readonly avps: readonly PanaAvp[];
}

/** Options of the PANA codec. */
export interface PanaCodecOptions {
  /** The largest message accepted or built, in bytes; defaults to {@linkcode PANA_MAX_MESSAGE_LENGTH}. */
  readonly maxLength?: number;
}

type _KnownKind = Exclude<PanaAvpKind, "unknown">;

/** IETF AVP code to kind, for codes 1 to 9. */
const _KIND_OF_CODE: readonly (_KnownKind | undefined)[] = [
  undefined,
  "auth",
  "eapPayload",
  "integrityAlgorithm",
  "keyId",
  "nonce",
  "prfAlgorithm",
  "resultCode",
  "sessionLifetime",
  "terminationCause",
];

const _CODE_OF_KIND: { readonly [K in _KnownKind]: number } = {
  auth: PanaAvpCode.Auth,
  eapPayload: PanaAvpCode.EapPayload,
  integrityAlgorithm: PanaAvpCode.IntegrityAlgorithm,
  keyId: PanaAvpCode.KeyId,
  nonce: PanaAvpCode.Nonce,
  prfAlgorithm: PanaAvpCode.PrfAlgorithm,
  resultCode: PanaAvpCode.ResultCode,
  sessionLifetime: PanaAvpCode.SessionLifetime,
  terminationCause: PanaAvpCode.TerminationCause,
};

/** Whether each IETF code 1 to 9 carries an OctetString (else an Unsigned32). */
const _OCTETS_CODE: readonly boolean[] = [
  false,
  true, // AUTH
  true, // EAP-Payload
  false,
  false,
  true, // Nonce
  false,
  false,
  false,
  false,
];

const _NAME_OF_CODE: readonly string[] = [
  "",
  "AUTH",
  "EAP-Payload",
  "Integrity-Algorithm",
  "Key-Id",
  "Nonce",
  "PRF-Algorithm",
  "Result-Code",
  "Session-Lifetime",
  "Termination-Cause",
];

const _NO_FLAGS: PanaFlags = {
  request: false,
  start: false,
  complete: false,
  auth: false,
  ping: false,
  ipReconfig: false,
  preauth: false,
};

/**
 * Builds a full {@linkcode PanaFlags} from the flags that are set.
 *
 * @param set the flags to set; the others are false
 * @returns the flags
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const f = panaFlags({ request: true, start: true });
 * assertEquals([f.request, f.start, f.complete], [true, true, false]);
 * ```
 */
export function panaFlags(set: Partial<PanaFlags> = {}): PanaFlags {
  return { ..._NO_FLAGS, ...set };
}

function _flagBits(f: PanaFlags): number {
  return (f.request ? PanaFlag.Request : 0) | (f.start ? PanaFlag.Start : 0) |
    (f.complete ? PanaFlag.Complete : 0) | (f.auth ? PanaFlag.Auth : 0) |
    (f.ping ? PanaFlag.Ping : 0) | (f.ipReconfig ? PanaFlag.IpReconfig : 0) |
    (f.preauth ? PanaFlag.Preauth : 0);
}

function _flags(bits: number): PanaFlags {
  return {
    request: (bits & PanaFlag.Request) !== 0,
    start: (bits & PanaFlag.Start) !== 0,
    complete: (bits & PanaFlag.Complete) !== 0,
    auth: (bits & PanaFlag.Auth) !== 0,
    ping: (bits & PanaFlag.Ping) !== 0,
    ipReconfig: (bits & PanaFlag.IpReconfig) !== 0,
    preauth: (bits & PanaFlag.Preauth) !== 0,
  };
}

function _uint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new MalformedMessageError(`Invalid PANA ${what}: ${value} is out of range 0 to ${max}`);
  }
}

function _limit(options: PanaCodecOptions | undefined): number {
  const max = options?.maxLength ?? PANA_MAX_MESSAGE_LENGTH;
  return Math.min(max, 0xffff);
}

function _pad(length: number): number {
  return (4 - (length & 3)) & 3;
}

/** The code, vendor and value length of an AVP about to be written. */
function _avpWireCode(avp: PanaAvp): number {
  return avp.kind === "unknown" ? avp.code : _CODE_OF_KIND[avp.kind];
}

function _avpValueLength(avp: PanaAvp): number {
  return typeof avp.value === "number" ? 4 : avp.value.length;
}

function _avpSize(avp: PanaAvp): number {
  let header = PANA_AVP_HEADER_LENGTH;
  if (avp.kind === "unknown") {
    _uint(avp.code, 0xffff, "AVP code");
    if (avp.vendorId !== undefined) {
      _uint(avp.vendorId, 0xffffffff, "AVP Vendor-Id");
      header = PANA_VENDOR_AVP_HEADER_LENGTH;
    }
  } else if (typeof avp.value === "number") {
    _uint(avp.value, 0xffffffff, `${avp.kind} value`);
  }
  const length = _avpValueLength(avp);
  if (length > 0xffff) {
    throw new MalformedMessageError(`Invalid PANA AVP: value of ${length} bytes exceeds 65535`);
  }
  return header + length + _pad(length);
}

/**
 * Encodes a PANA message: Reserved zero, Message Length computed, reserved flag bits
 * zero, every AVP padded to 4 bytes with zeros.
 *
 * @param msg the message
 * @param options `maxLength` (default {@linkcode PANA_MAX_MESSAGE_LENGTH})
 * @returns the datagram payload
 * @throws {MalformedMessageError} when a field is out of range or the message would
 * exceed `maxLength`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const pci = encodePana({ flags: panaFlags(), type: 1, sessionId: 0, seq: 0, avps: [] });
 * assertEquals(pci, new Uint8Array([0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
 * ```
 */
export function encodePana(msg: PanaMessage, options?: PanaCodecOptions): Uint8Array {
  _uint(msg.type, 0xffff, "Message Type");
  _uint(msg.sessionId, 0xffffffff, "Session Identifier");
  _uint(msg.seq, 0xffffffff, "Sequence Number");
  let length = PANA_HEADER_LENGTH;
  for (const avp of msg.avps) length += _avpSize(avp);
  const limit = _limit(options);
  if (length > limit) {
    throw new MalformedMessageError(`Oversized PANA message: ${length} bytes, limit ${limit}`);
  }
  const w = new ByteWriter(length).u16(0).u16(length).u16(_flagBits(msg.flags)).u16(msg.type)
    .u32(msg.sessionId).u32(msg.seq);
  for (const avp of msg.avps) {
    const vendor = avp.kind === "unknown" ? avp.vendorId : undefined;
    const valueLength = _avpValueLength(avp);
    w.u16(_avpWireCode(avp)).u16(vendor === undefined ? 0 : PANA_AVP_FLAG_VENDOR).u16(valueLength)
      .u16(0);
    if (vendor !== undefined) w.u32(vendor);
    if (typeof avp.value === "number") w.u32(avp.value);
    else w.bytes(avp.value);
    w.zeros(_pad(valueLength));
  }
  return w.finish();
}

/** The decoded header fields. */
interface _Header {
  readonly flags: number;
  readonly type: number;
  readonly sessionId: number;
  readonly seq: number;
}

function _readHeader(r: ByteReader, size: number, limit: number): _Header {
  if (size > limit) {
    throw new MalformedMessageError(`Oversized PANA message: ${size} bytes, limit ${limit}`);
  }
  r.need(PANA_HEADER_LENGTH, "PANA header");
  r.skip(2, "PANA header"); // Reserved: ignored on receipt
  const length = r.u16("PANA header");
  const flags = r.u16("PANA header");
  const type = r.u16("PANA header");
  const sessionId = r.u32("PANA header");
  const seq = r.u32("PANA header");
  if (length !== size) {
    throw new MalformedMessageError(
      `Invalid PANA Message Length: field says ${length} bytes, datagram has ${size}`,
    );
  }
  return { flags, type, sessionId, seq };
}

/** The header of one AVP, with the offset of its value. */
interface _AvpHeader {
  readonly code: number;
  readonly vendorId: number | undefined;
  readonly valueOffset: number;
  readonly valueLength: number;
}

function _readAvpHeader(r: ByteReader): _AvpHeader {
  r.need(PANA_AVP_HEADER_LENGTH, "PANA AVP header");
  const code = r.u16("PANA AVP header");
  const flags = r.u16("PANA AVP header");
  const valueLength = r.u16("PANA AVP header");
  r.skip(2, "PANA AVP header"); // Reserved: ignored on receipt
  const vendorId = (flags & PANA_AVP_FLAG_VENDOR) !== 0 ? r.u32("PANA AVP header") : undefined;
  r.need(valueLength + _pad(valueLength), "PANA AVP value");
  return { code, vendorId, valueOffset: r.offset, valueLength };
}

function _readAvp(r: ByteReader, h: _AvpHeader): PanaAvp {
  const kind = h.vendorId === undefined ? _KIND_OF_CODE[h.code] : undefined;
  let avp: PanaAvp;
  if (kind === undefined) {
    const value = r.bytes(h.valueLength, "PANA AVP value");
    avp = h.vendorId === undefined
      ? { kind: "unknown", code: h.code, value }
      : { kind: "unknown", code: h.code, vendorId: h.vendorId, value };
  } else if (_OCTETS_CODE[h.code]) {
    avp = { kind, value: r.bytes(h.valueLength, "PANA AVP value") } as PanaAvp;
  } else {
    if (h.valueLength !== 4) {
      throw new MalformedMessageError(
        `Invalid PANA ${_NAME_OF_CODE[h.code]} AVP: length ${h.valueLength}, expected 4`,
      );
    }
    avp = { kind, value: r.u32("PANA AVP value") } as PanaAvp;
  }
  r.skip(_pad(h.valueLength), "PANA AVP padding");
  return avp;
}

/**
 * Decodes a PANA message.
 *
 * @param bytes the UDP payload, exactly one message
 * @param options `maxLength` (default {@linkcode PANA_MAX_MESSAGE_LENGTH})
 * @returns the message; byte values are copies
 * @throws {MalformedMessageError} when oversized, truncated, when Message Length is not
 * the datagram size, when an AVP (with its padding) runs past the end, or when an
 * Unsigned32 AVP is not 4 bytes long
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const m = decodePana(new Uint8Array([0, 0, 0, 16, 0x82, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
 * assertEquals([m.type, m.flags.request, m.flags.preauth], [1, true, true]);
 * ```
 */
export function decodePana(bytes: Uint8Array, options?: PanaCodecOptions): PanaMessage {
  const r = new ByteReader(bytes);
  const h = _readHeader(r, bytes.length, _limit(options));
  const avps: PanaAvp[] = [];
  while (r.remaining > 0) avps.push(_readAvp(r, _readAvpHeader(r)));
  return { flags: _flags(h.flags), type: h.type, sessionId: h.sessionId, seq: h.seq, avps };
}

/**
 * Finds the first AVP of a kind.
 *
 * @param msg the message
 * @param kind the AVP kind (`eapPayload`, `resultCode`, ...)
 * @returns the AVP, or undefined when the message has none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = { flags: panaFlags(), type: 2, sessionId: 1, seq: 1,
 *   avps: [{ kind: "resultCode" as const, value: 0 }] };
 * assertEquals(findAvp(msg, "resultCode")?.value, 0);
 * assertEquals(findAvp(msg, "eapPayload"), undefined);
 * ```
 */
export function findAvp<K extends PanaAvpKind>(
  msg: PanaMessage,
  kind: K,
): Extract<PanaAvp, { kind: K }> | undefined {
  for (const avp of msg.avps) {
    if (avp.kind === kind) return avp as Extract<PanaAvp, { kind: K }>;
  }
  return undefined;
}

/**
 * Finds every AVP of a kind, in wire order.
 *
 * @param msg the message
 * @param kind the AVP kind
 * @returns the AVPs, possibly none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = { flags: panaFlags(), type: 2, sessionId: 1, seq: 1,
 *   avps: [{ kind: "auth" as const, value: new Uint8Array(16) }] };
 * assertEquals(findAvps(msg, "auth").length, 1);
 * ```
 */
export function findAvps<K extends PanaAvpKind>(
  msg: PanaMessage,
  kind: K,
): Extract<PanaAvp, { kind: K }>[] {
  return msg.avps.filter((a): a is Extract<PanaAvp, { kind: K }> => a.kind === kind);
}

/** Where the AUTH AVP value sits in an encoded message. */
export interface PanaAuthLocation {
  /** Byte offset of the value from the start of the message. */
  readonly offset: number;
  /** Length of the value (16 for AUTH_HMAC_SHA2_256_128). */
  readonly length: number;
}

/**
 * Locates the value of the AUTH AVP in an encoded message, validating the message
 * structure as {@linkcode decodePana} does.
 *
 * @param bytes the encoded message
 * @param options `maxLength` (default {@linkcode PANA_MAX_MESSAGE_LENGTH})
 * @returns the value's offset and length, or undefined when there is no AUTH AVP
 * @throws {MalformedMessageError} when the message does not parse
 * @throws {ProtocolViolationError} when there is more than one AUTH AVP (the MAC would
 * be ambiguous)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodePana({ flags: panaFlags({ request: true }), type: 2, sessionId: 1, seq: 2,
 *   avps: [{ kind: "auth", value: new Uint8Array(16) }] });
 * assertEquals(panaAuthOffset(bytes), { offset: 24, length: 16 });
 * ```
 */
export function panaAuthOffset(
  bytes: Uint8Array,
  options?: PanaCodecOptions,
): PanaAuthLocation | undefined {
  const r = new ByteReader(bytes);
  _readHeader(r, bytes.length, _limit(options));
  let found: PanaAuthLocation | undefined;
  while (r.remaining > 0) {
    const h = _readAvpHeader(r);
    if (h.code === PanaAvpCode.Auth && h.vendorId === undefined) {
      if (found !== undefined) {
        throw new ProtocolViolationError("Invalid PANA message: two AUTH AVPs");
      }
      found = { offset: h.valueOffset, length: h.valueLength };
    }
    r.skip(h.valueLength + _pad(h.valueLength), "PANA AVP value");
  }
  return found;
}

/**
 * Returns a copy of an encoded message with the AUTH AVP value set to zeros: the input
 * of the AUTH computation (RFC 5191 section 5.3).
 *
 * @param bytes the encoded message, unchanged
 * @param options `maxLength` (default {@linkcode PANA_MAX_MESSAGE_LENGTH})
 * @returns the copy with the AUTH value zeroed
 * @throws {MalformedMessageError} when the message does not parse
 * @throws {ProtocolViolationError} when it has no AUTH AVP, or more than one
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodePana({ flags: panaFlags(), type: 2, sessionId: 1, seq: 2,
 *   avps: [{ kind: "auth", value: new Uint8Array(16).fill(0xaa) }] });
 * assertEquals(zeroAuthAvp(bytes).subarray(24), new Uint8Array(16));
 * ```
 */
export function zeroAuthAvp(bytes: Uint8Array, options?: PanaCodecOptions): Uint8Array {
  const at = panaAuthOffset(bytes, options);
  if (at === undefined) throw new ProtocolViolationError("Invalid PANA message: no AUTH AVP");
  const out = bytes.slice();
  out.fill(0, at.offset, at.offset + at.length);
  return out;
}

const _ANSWER_NAMES: readonly string[] = ["", "PCI", "PAN", "PTA", "PNA", "PRY"];
const _REQUEST_NAMES: readonly string[] = ["", "PCI", "PAR", "PTR", "PNR", "PRY"];

/**
 * Names a message by its RFC 5191 abbreviation, for logs.
 *
 * @param msg the message (only `type` and `flags.request` matter)
 * @returns `PCI`, `PAR`, `PAN`, `PTR`, `PTA`, `PNR`, `PNA`, `PRY`, or `type <n>`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(panaMessageName({ type: 2, flags: panaFlags({ request: true }) }), "PAR");
 * ```
 */
export function panaMessageName(msg: Pick<PanaMessage, "type" | "flags">): string {
  const names = msg.flags.request ? _REQUEST_NAMES : _ANSWER_NAMES;
  return msg.type > 0 && msg.type <= PanaMessageType.Relay ? names[msg.type]! : `type ${msg.type}`;
}
