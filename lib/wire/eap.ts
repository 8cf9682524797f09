/**
 * EAP packets (RFC 3748 section 4): encode and decode Request, Response, Success and
 * Failure, plus the Identity type (section 5.1).
 *
 * Decoding follows section 4: octets after the Length field's range are Data Link
 * Layer padding and are ignored; a Length larger than the bytes received, or smaller
 * than the header, is refused; codes other than 1 to 4 are refused (the RFC says to
 * discard them silently, which the caller does on the error).
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { EAP_HEADER_LENGTH, EAP_TYPED_HEADER_LENGTH, EapCode, EapType } from "./eap_constants.ts";

/** An EAP Request or Response (RFC 3748 section 4.1). */
export interface EapTypedPacket {
  /** {@linkcode EapCode.Request} or {@linkcode EapCode.Response}. */
  readonly code: typeof EapCode.Request | typeof EapCode.Response;
  /** 0 to 255; matches a Response to its Request. */
  readonly identifier: number;
  /** The method type, 1 to 255 (see {@linkcode EapType}). */
  readonly type: number;
  /** The Type-Data, possibly empty. */
  readonly typeData: Uint8Array;
}

/** An EAP Success or Failure (RFC 3748 section 4.2): no data. */
export interface EapResultPacket {
  /** {@linkcode EapCode.Success} or {@linkcode EapCode.Failure}. */
  readonly code: typeof EapCode.Success | typeof EapCode.Failure;
  /** 0 to 255. */
  readonly identifier: number;
}

/** Any EAP packet, discriminated by `code`. */
export type EapPacket = EapTypedPacket | EapResultPacket;

/** The largest value of the 16-bit Length field. */
const _MAX_LENGTH = 0xffff;

function _checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new MalformedMessageError(`Invalid EAP ${what}: ${value} is not an octet`);
  }
}

/**
 * Encodes an EAP packet.
 *
 * @param packet the packet
 * @returns the bytes, Length field set to their count
 * @throws {MalformedMessageError} when a field does not fit (identifier or type not an
 * octet, a type of 0, or a packet over 65535 bytes)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeEap({ code: 3, identifier: 7 });
 * assertEquals(bytes, new Uint8Array([3, 7, 0, 4]));
 * ```
 */
export function encodeEap(packet: EapPacket): Uint8Array {
  _checkByte(packet.identifier, "identifier");
  if (packet.code === EapCode.Success || packet.code === EapCode.Failure) {
    return new ByteWriter(EAP_HEADER_LENGTH).u8(packet.code).u8(packet.identifier).u16(
      EAP_HEADER_LENGTH,
    ).finish();
  }
  if (packet.code !== EapCode.Request && packet.code !== EapCode.Response) {
    throw new MalformedMessageError(`Invalid EAP code: ${String((packet as EapPacket).code)}`);
  }
  _checkByte(packet.type, "type");
  if (packet.type === 0) throw new MalformedMessageError("Invalid EAP type: 0 is reserved");
  const length = EAP_TYPED_HEADER_LENGTH + packet.typeData.length;
  if (length > _MAX_LENGTH) {
    throw new MalformedMessageError(`Oversized EAP packet: ${length} bytes, limit ${_MAX_LENGTH}`);
  }
  return new ByteWriter(length).u8(packet.code).u8(packet.identifier).u16(length).u8(packet.type)
    .bytes(packet.typeData).finish();
}

/**
 * Decodes an EAP packet. Bytes after the Length field's range are padding and ignored
 * (RFC 3748 section 4).
 *
 * @param bytes at least the packet; may carry trailing padding
 * @returns the packet; `typeData` is a copy
 * @throws {MalformedMessageError} when truncated, when Length is below the header size
 * or above the bytes received, for an unknown code, for Type 0, or for a Success or
 * Failure whose Length is not 4
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = decodeEap(new Uint8Array([1, 1, 0, 5, 1]));
 * assertEquals(p, { code: 1, identifier: 1, type: 1, typeData: new Uint8Array() });
 * ```
 */
export function decodeEap(bytes: Uint8Array): EapPacket {
  const r = new ByteReader(bytes);
  const code = r.u8("EAP header");
  const identifier = r.u8("EAP header");
  const length = r.u16("EAP header");
  if (code < EapCode.Request || code > EapCode.Failure) {
    throw new MalformedMessageError(`Invalid EAP code: ${code}`);
  }
  if (length > bytes.length) {
    throw new MalformedMessageError(
      `Truncated EAP packet: Length field says ${length} bytes, got ${bytes.length}`,
    );
  }
  if (code === EapCode.Success || code === EapCode.Failure) {
    if (length !== EAP_HEADER_LENGTH) {
      throw new MalformedMessageError(
        `Invalid EAP ${
          code === EapCode.Success ? "Success" : "Failure"
        }: Length ${length}, expected 4`,
      );
    }
    return { code, identifier };
  }
  if (length < EAP_TYPED_HEADER_LENGTH) {
    throw new MalformedMessageError(`Invalid EAP Length: ${length}, below the 5-byte header`);
  }
  const type = r.u8("EAP header");
  if (type === 0) throw new MalformedMessageError("Invalid EAP type: 0 is reserved");
  const typeData = r.bytes(length - EAP_TYPED_HEADER_LENGTH, "EAP Type-Data");
  return { code: code as EapTypedPacket["code"], identifier, type, typeData };
}

const _utf8 = new TextEncoder();
const _utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * Builds an EAP Identity Request or Response (RFC 3748 section 5.1). The identity is
 * UTF-8 without a terminating null; a Request's text is an optional prompt.
 *
 * @param code {@linkcode EapCode.Request} or {@linkcode EapCode.Response}
 * @param identifier 0 to 255
 * @param identity the identity (Response) or prompt (Request), possibly empty
 * @returns the packet, ready for {@linkcode encodeEap}
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeEap(eapIdentity(2, 9, "mn"));
 * assertEquals(bytes, new Uint8Array([2, 9, 0, 7, 1, 0x6d, 0x6e]));
 * ```
 */
export function eapIdentity(
  code: EapTypedPacket["code"],
  identifier: number,
  identity: string,
): EapTypedPacket {
  return { code, identifier, type: EapType.Identity, typeData: _utf8.encode(identity) };
}

/**
 * Reads the identity out of an EAP Identity packet (RFC 3748 section 5.1).
 *
 * @param packet a decoded packet
 * @returns the identity text
 * @throws {ProtocolViolationError} when the packet is not an Identity Request/Response
 * @throws {MalformedMessageError} when the Type-Data is not valid UTF-8
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const p = decodeEap(new Uint8Array([2, 9, 0, 7, 1, 0x6d, 0x6e]));
 * assertEquals(readEapIdentity(p), "mn");
 * ```
 */
export function readEapIdentity(packet: EapPacket): string {
  if (
    (packet.code !== EapCode.Request && packet.code !== EapCode.Response) ||
    packet.type !== EapType.Identity
  ) {
    throw new ProtocolViolationError(
      `Not an EAP Identity packet: code ${packet.code}${
        "type" in packet ? `, type ${packet.type}` : ""
      }`,
    );
  }
  try {
    return _utf8Strict.decode(packet.typeData);
  } catch {
    throw new MalformedMessageError("Invalid EAP Identity: not UTF-8");
  }
}
