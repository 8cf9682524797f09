/**
 * EAP-PSK messages 1 to 4 (RFC 4764 section 5): the Type-Data of an EAP Request or
 * Response of type 47, starting at the Flags octet. Pure structure: the MACs, the
 * EAX encryption of the protected channel (PCHANNEL) and the key derivation live in
 * `lib/keys/`; whether a message may come now is the state machine's business.
 *
 * Layouts (sizes in bytes):
 *
 * | message | fields after Flags (T in the two high bits) |
 * | --- | --- |
 * | 1, T=0 (Request) | RAND_S 16, ID_S variable |
 * | 2, T=1 (Response) | RAND_S 16, RAND_P 16, MAC_P 16, ID_P variable |
 * | 3, T=2 (Request) | RAND_S 16, MAC_S 16, PCHANNEL |
 * | 4, T=3 (Response) | RAND_S 16, PCHANNEL |
 *
 * PCHANNEL = Nonce 4 (big-endian), Tag 16, then the EAX ciphertext, whose plaintext
 * starts with the R (2 bits) and E (1 bit) flags (section 5.3).
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import {
  EAP_PSK_E_FLAG,
  EAP_PSK_HEADER_LENGTH,
  EAP_PSK_MAC_LENGTH,
  EAP_PSK_NONCE_LENGTH,
  EAP_PSK_RAND_LENGTH,
  EAP_PSK_TAG_LENGTH,
  EAP_TYPED_HEADER_LENGTH,
  EapCode,
  EapPskResult,
  EapType,
} from "./eap_constants.ts";
import type { EapTypedPacket } from "./eap.ts";

/** The protected channel of messages 3 and 4 (RFC 4764 section 5.3), still encrypted. */
export interface EapPskChannel {
  /** The 4-byte nonce N as an unsigned 32-bit integer. */
  readonly nonce: number;
  /** The 16-byte EAX tag. */
  readonly tag: Uint8Array;
  /** The EAX ciphertext, at least 1 byte (the encrypted R/E flags). */
  readonly encrypted: Uint8Array;
}

/** Message 1, server to peer (RFC 4764 section 5.1). */
export interface EapPskMessage1 {
  /** T = 0. */
  readonly t: 0;
  /** The server's 16-byte random. */
  readonly randS: Uint8Array;
  /** The server's identity, non-empty. */
  readonly idS: Uint8Array;
}

/** Message 2, peer to server (RFC 4764 section 5.2). */
export interface EapPskMessage2 {
  /** T = 1. */
  readonly t: 1;
  /** RAND_S echoed, 16 bytes. */
  readonly randS: Uint8Array;
  /** The peer's 16-byte random. */
  readonly randP: Uint8Array;
  /** The peer's 16-byte MAC. */
  readonly macP: Uint8Array;
  /** The peer's identity, non-empty. */
  readonly idP: Uint8Array;
}

/** Message 3, server to peer (RFC 4764 section 5.3). */
export interface EapPskMessage3 {
  /** T = 2. */
  readonly t: 2;
  /** RAND_S echoed, 16 bytes. */
  readonly randS: Uint8Array;
  /** The server's 16-byte MAC. */
  readonly macS: Uint8Array;
  /** The protected channel. */
  readonly pchannel: EapPskChannel;
}

/** Message 4, peer to server (RFC 4764 section 5.4). */
export interface EapPskMessage4 {
  /** T = 3. */
  readonly t: 3;
  /** RAND_S echoed, 16 bytes. */
  readonly randS: Uint8Array;
  /** The protected channel. */
  readonly pchannel: EapPskChannel;
}

/** Any EAP-PSK message, discriminated by `t`. */
export type EapPskMessage = EapPskMessage1 | EapPskMessage2 | EapPskMessage3 | EapPskMessage4;

const _CHANNEL_MIN = EAP_PSK_NONCE_LENGTH + EAP_PSK_TAG_LENGTH + 1;
const _MAX_TYPE_DATA = 0xffff - EAP_TYPED_HEADER_LENGTH;

function _fixed(bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length !== size) {
    throw new MalformedMessageError(
      `Invalid EAP-PSK ${what}: ${bytes.length} bytes, expected ${size}`,
    );
  }
}

function _identity(bytes: Uint8Array, what: string): void {
  if (bytes.length === 0) throw new ProtocolViolationError(`Invalid EAP-PSK ${what}: empty`);
}

function _channelLength(c: EapPskChannel): number {
  if (!Number.isInteger(c.nonce) || c.nonce < 0 || c.nonce > 0xffffffff) {
    throw new MalformedMessageError(
      `Invalid EAP-PSK nonce: ${c.nonce} is not an unsigned 32-bit integer`,
    );
  }
  _fixed(c.tag, EAP_PSK_TAG_LENGTH, "tag");
  if (c.encrypted.length === 0) {
    throw new MalformedMessageError("Invalid EAP-PSK PCHANNEL: empty ciphertext");
  }
  return EAP_PSK_NONCE_LENGTH + EAP_PSK_TAG_LENGTH + c.encrypted.length;
}

/** Validates the fields and returns the encoded size. */
function _size(msg: EapPskMessage): number {
  _fixed(msg.randS, EAP_PSK_RAND_LENGTH, "RAND_S");
  switch (msg.t) {
    case 0:
      _identity(msg.idS, "ID_S");
      return 1 + EAP_PSK_RAND_LENGTH + msg.idS.length;
    case 1:
      _fixed(msg.randP, EAP_PSK_RAND_LENGTH, "RAND_P");
      _fixed(msg.macP, EAP_PSK_MAC_LENGTH, "MAC_P");
      _identity(msg.idP, "ID_P");
      return 1 + 2 * EAP_PSK_RAND_LENGTH + EAP_PSK_MAC_LENGTH + msg.idP.length;
    case 2:
      _fixed(msg.macS, EAP_PSK_MAC_LENGTH, "MAC_S");
      return 1 + EAP_PSK_RAND_LENGTH + EAP_PSK_MAC_LENGTH + _channelLength(msg.pchannel);
    case 3:
      return 1 + EAP_PSK_RAND_LENGTH + _channelLength(msg.pchannel);
    default:
      throw new MalformedMessageError(`Invalid EAP-PSK T: ${String((msg as { t: unknown }).t)}`);
  }
}

/**
 * Encodes an EAP-PSK message as EAP Type-Data (from the Flags octet on), reserved
 * flag bits zero.
 *
 * @param msg the message
 * @returns the Type-Data bytes, to put in an EAP packet of type 47
 * @throws {MalformedMessageError} when a fixed-size field has the wrong size, the
 * nonce is not a uint32, the ciphertext is empty, or the result exceeds an EAP packet
 * @throws {ProtocolViolationError} when ID_S or ID_P is empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const td = encodeEapPsk({ t: 0, randS: new Uint8Array(16), idS: new Uint8Array([0x61]) });
 * assertEquals(td.length, 18);
 * assertEquals(td[0], 0x00);
 * ```
 */
export function encodeEapPsk(msg: EapPskMessage): Uint8Array {
  const size = _size(msg);
  if (size > _MAX_TYPE_DATA) {
    throw new MalformedMessageError(
      `Oversized EAP-PSK message: ${size} bytes, limit ${_MAX_TYPE_DATA}`,
    );
  }
  const w = new ByteWriter(size).u8(msg.t << 6).bytes(msg.randS);
  switch (msg.t) {
    case 0:
      w.bytes(msg.idS);
      break;
    case 1:
      w.bytes(msg.randP).bytes(msg.macP).bytes(msg.idP);
      break;
    case 2:
      w.bytes(msg.macS);
      _writeChannel(w, msg.pchannel);
      break;
    case 3:
      _writeChannel(w, msg.pchannel);
      break;
  }
  return w.finish();
}

function _writeChannel(w: ByteWriter, c: EapPskChannel): void {
  w.u32(c.nonce).bytes(c.tag).bytes(c.encrypted);
}

function _readChannel(r: ByteReader, what: string): EapPskChannel {
  r.need(_CHANNEL_MIN, what);
  const nonce = r.u32(what);
  const tag = r.bytes(EAP_PSK_TAG_LENGTH, what);
  return { nonce, tag, encrypted: r.rest() };
}

function _readIdentity(r: ByteReader, what: string): Uint8Array {
  const id = r.rest();
  _identity(id, what);
  return id;
}

/**
 * Decodes EAP-PSK Type-Data (from the Flags octet on). The six reserved flag bits are
 * ignored (RFC 4764 section 5.1).
 *
 * @param typeData the Type-Data of an EAP packet of type 47
 * @returns the message; byte fields are copies
 * @throws {MalformedMessageError} when too short for its T (a missing PCHANNEL
 * ciphertext byte counts as too short)
 * @throws {ProtocolViolationError} when ID_S or ID_P is empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const td = new Uint8Array(18);
 * td[17] = 0x61;
 * const m = decodeEapPsk(td);
 * assertEquals(m.t, 0);
 * ```
 */
export function decodeEapPsk(typeData: Uint8Array): EapPskMessage {
  const r = new ByteReader(typeData);
  const t = r.u8("EAP-PSK flags") >> 6;
  switch (t) {
    case 0: {
      r.need(EAP_PSK_RAND_LENGTH + 1, "EAP-PSK message 1");
      const randS = r.bytes(EAP_PSK_RAND_LENGTH, "EAP-PSK message 1");
      return { t: 0, randS, idS: _readIdentity(r, "EAP-PSK ID_S") };
    }
    case 1: {
      r.need(2 * EAP_PSK_RAND_LENGTH + EAP_PSK_MAC_LENGTH + 1, "EAP-PSK message 2");
      const randS = r.bytes(EAP_PSK_RAND_LENGTH, "EAP-PSK message 2");
      const randP = r.bytes(EAP_PSK_RAND_LENGTH, "EAP-PSK message 2");
      const macP = r.bytes(EAP_PSK_MAC_LENGTH, "EAP-PSK message 2");
      return { t: 1, randS, randP, macP, idP: _readIdentity(r, "EAP-PSK ID_P") };
    }
    case 2: {
      r.need(EAP_PSK_RAND_LENGTH + EAP_PSK_MAC_LENGTH + _CHANNEL_MIN, "EAP-PSK message 3");
      const randS = r.bytes(EAP_PSK_RAND_LENGTH, "EAP-PSK message 3");
      const macS = r.bytes(EAP_PSK_MAC_LENGTH, "EAP-PSK message 3");
      return { t: 2, randS, macS, pchannel: _readChannel(r, "EAP-PSK message 3") };
    }
    default: {
      r.need(EAP_PSK_RAND_LENGTH + _CHANNEL_MIN, "EAP-PSK message 4");
      const randS = r.bytes(EAP_PSK_RAND_LENGTH, "EAP-PSK message 4");
      return { t: 3, randS, pchannel: _readChannel(r, "EAP-PSK message 4") };
    }
  }
}

/**
 * Returns the EAX associated data of a PCHANNEL: the first 22 bytes of the EAP packet
 * that carries it, i.e. Code, Identifier, Length, Type, Flags and RAND_S (RFC 4764
 * sections 5.3 and 5.4).
 *
 * @param eapPacket the whole EAP packet (from the Code octet)
 * @returns a copy of its first 22 bytes
 * @throws {MalformedMessageError} when it is not an EAP Request/Response of type 47 of
 * at least 22 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = new Uint8Array(60);
 * packet.set([1, 5, 0, 60, 47, 0x80]);
 * assertEquals(eapPskHeader(packet).length, 22);
 * ```
 */
export function eapPskHeader(eapPacket: Uint8Array): Uint8Array {
  const r = new ByteReader(eapPacket);
  r.need(EAP_PSK_HEADER_LENGTH, "EAP-PSK header");
  const code = r.u8("EAP-PSK header");
  r.skip(1, "EAP-PSK header");
  const length = r.u16("EAP-PSK header");
  const type = r.u8("EAP-PSK header");
  if (code !== EapCode.Request && code !== EapCode.Response) {
    throw new MalformedMessageError(`Invalid EAP-PSK packet: code ${code}`);
  }
  if (type !== EapType.Psk) {
    throw new MalformedMessageError(`Invalid EAP-PSK packet: type ${type}, expected 47`);
  }
  if (length < EAP_PSK_HEADER_LENGTH || length > eapPacket.length) {
    throw new MalformedMessageError(
      `Invalid EAP-PSK packet: Length ${length} with ${eapPacket.length} bytes received`,
    );
  }
  return eapPacket.slice(0, EAP_PSK_HEADER_LENGTH);
}

/**
 * Computes the same 22 bytes as {@linkcode eapPskHeader} from the message before the
 * packet exists, which is what the sender needs to encrypt: EAX keeps the length, so
 * pass the message with the plaintext (or any bytes of its length) as `encrypted`.
 *
 * @param code {@linkcode EapCode.Request} (messages 1, 3) or {@linkcode EapCode.Response} (2, 4)
 * @param identifier the EAP Identifier, 0 to 255
 * @param msg the message (only its T, RAND_S and encoded length matter)
 * @returns the 22-byte associated data
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = {
 *   t: 2 as const, randS: new Uint8Array(16), macS: new Uint8Array(16),
 *   pchannel: { nonce: 0, tag: new Uint8Array(16), encrypted: new Uint8Array([0x80]) },
 * };
 * assertEquals(eapPskHeaderFor(1, 5, msg).subarray(0, 6), new Uint8Array([1, 5, 0, 59, 47, 0x80]));
 * ```
 */
export function eapPskHeaderFor(
  code: EapTypedPacket["code"],
  identifier: number,
  msg: EapPskMessage,
): Uint8Array {
  const size = _size(msg);
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 0xff) {
    throw new MalformedMessageError(`Invalid EAP identifier: ${identifier} is not an octet`);
  }
  return new ByteWriter(EAP_PSK_HEADER_LENGTH).u8(code).u8(identifier).u16(
    EAP_TYPED_HEADER_LENGTH + size,
  ).u8(EapType.Psk).u8(msg.t << 6).bytes(msg.randS).finish();
}

/** The decrypted PCHANNEL content (RFC 4764 section 5.3). */
export interface EapPskChannelPlaintext {
  /** The R flag: CONT, DONE_SUCCESS or DONE_FAILURE. */
  readonly result: EapPskResult;
  /** Present when the E flag is set: EXT_Type and EXT_Payload. */
  readonly extension?: {
    /** EXT_Type, 0 to 255. */
    readonly type: number;
    /** EXT_Payload, possibly empty. */
    readonly payload: Uint8Array;
  };
}

/**
 * Encodes the PCHANNEL plaintext: the flags byte (R in the two high bits, E next,
 * five reserved zero bits) and, with E set, EXT_Type and EXT_Payload.
 *
 * @param p the result and optional extension
 * @returns the plaintext to encrypt with EAX
 * @throws {MalformedMessageError} for an R value other than 1 to 3 or an EXT_Type that
 * is not an octet
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(encodeEapPskChannelPlaintext({ result: 2 }), new Uint8Array([0x80]));
 * ```
 */
export function encodeEapPskChannelPlaintext(p: EapPskChannelPlaintext): Uint8Array {
  if (
    p.result !== EapPskResult.Cont && p.result !== EapPskResult.DoneSuccess &&
    p.result !== EapPskResult.DoneFailure
  ) {
    throw new MalformedMessageError(`Invalid EAP-PSK R flag: ${String(p.result)}`);
  }
  const ext = p.extension;
  if (ext === undefined) return new Uint8Array([p.result << 6]);
  if (!Number.isInteger(ext.type) || ext.type < 0 || ext.type > 0xff) {
    throw new MalformedMessageError(`Invalid EAP-PSK EXT_Type: ${ext.type} is not an octet`);
  }
  return new ByteWriter(2 + ext.payload.length).u8((p.result << 6) | EAP_PSK_E_FLAG).u8(ext.type)
    .bytes(ext.payload).finish();
}

/**
 * Decodes the PCHANNEL plaintext. Reserved bits are ignored.
 *
 * @param plaintext the EAX-decrypted bytes
 * @returns the result and, when the E flag is set, the extension
 * @throws {MalformedMessageError} when empty, when E is set without EXT_Type, or when
 * bytes follow the flags without E
 * @throws {ProtocolViolationError} when R is the reserved value 00
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(decodeEapPskChannelPlaintext(new Uint8Array([0xc0])), { result: 3 });
 * ```
 */
export function decodeEapPskChannelPlaintext(plaintext: Uint8Array): EapPskChannelPlaintext {
  const r = new ByteReader(plaintext);
  const flags = r.u8("EAP-PSK PCHANNEL");
  const result = flags >> 6;
  if (result === 0) throw new ProtocolViolationError("Invalid EAP-PSK R flag: 00 is reserved");
  if ((flags & EAP_PSK_E_FLAG) === 0) {
    if (r.remaining !== 0) {
      throw new MalformedMessageError(
        `Invalid EAP-PSK PCHANNEL: ${r.remaining} trailing byte${
          r.remaining === 1 ? "" : "s"
        } without the E flag`,
      );
    }
    return { result: result as EapPskResult };
  }
  const type = r.u8("EAP-PSK extension");
  return { result: result as EapPskResult, extension: { type, payload: r.rest() } };
}
