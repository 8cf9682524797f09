/**
 * RADIUS codec (RFC 2865) with what an authentication agent needs to relay EAP to an
 * AAA server: EAP-Message fragmentation and the Message-Authenticator of RFC 3579,
 * the Response Authenticator of RFC 2865 section 3, vendor-specific attributes
 * (RFC 2865 section 5.26) and the MS-MPPE-Send-Key / MS-MPPE-Recv-Key attributes of
 * RFC 2548 sections 2.4.2-2.4.3, through which the server hands over the MSK.
 *
 * Pure: no sockets, no clocks, no randomness. Callers supply the Request
 * Authenticator and MPPE salts. Shared secrets and keys are never put in an error
 * message. MD5 comes from `lib/keys/md5.ts` (WebCrypto has none).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { RadiusCode } from "./radius_constants.ts";
 * const request = withMessageAuthenticator({
 *   code: RadiusCode.AccessRequest,
 *   identifier: 7,
 *   authenticator: new Uint8Array(16).fill(1),
 *   attributes: [radiusAttribute(1, "alice"), ...eapMessageAttributes(new Uint8Array([2, 0, 0, 10, 1, 97, 108, 105, 99, 101]))],
 * }, "secret");
 * const bytes = encodeRadius(request);
 * assertEquals(verifyMessageAuthenticator(bytes, "secret"), true);
 * assertEquals(joinEapMessage(decodeRadius(bytes))?.length, 10);
 * ```
 *
 * @module
 */
import { ConfigError, MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { constantTimeEqual } from "../keys/constant_time.ts";
import { hmacMd5, md5 } from "../keys/md5.ts";
import {
  MESSAGE_AUTHENTICATOR_LENGTH,
  MICROSOFT_VENDOR_ID,
  MicrosoftVendorType,
  MPPE_KEY_LENGTH,
  RADIUS_ATTRIBUTE_MAX_VALUE,
  RADIUS_AUTHENTICATOR_LENGTH,
  RADIUS_HEADER_LENGTH,
  RADIUS_MAX_LENGTH,
  RADIUS_MIN_LENGTH,
  RadiusAttributeType,
  RadiusCode,
} from "./radius_constants.ts";

/** One RADIUS attribute (RFC 2865 section 5): a type and a value of 0 to 253 bytes. */
export interface RadiusAttribute {
  /** Attribute type, 0-255 (see `RadiusAttributeType`). */
  readonly type: number;
  /** Attribute value, without the Type and Length bytes. */
  readonly value: Uint8Array;
}

/** A RADIUS packet (RFC 2865 section 3). */
export interface RadiusPacket {
  /** Packet code, 0-255 (see `RadiusCode`). */
  readonly code: number;
  /** Identifier, 0-255: matches a response to its request. */
  readonly identifier: number;
  /** Request Authenticator (requests) or Response Authenticator (responses), 16 bytes. */
  readonly authenticator: Uint8Array;
  /** Attributes in wire order; the order of attributes of one type is significant. */
  readonly attributes: readonly RadiusAttribute[];
}

/** A RADIUS shared secret: text (UTF-8 encoded) or raw bytes; never empty. */
export type RadiusSecret = string | Uint8Array;

/** The two MS-MPPE keys of an Access-Accept, decrypted (RFC 2548 sections 2.4.2-2.4.3). */
export interface MppeKeys {
  /** MS-MPPE-Send-Key. */
  readonly send: Uint8Array;
  /** MS-MPPE-Recv-Key. */
  readonly recv: Uint8Array;
}

/** The salts that {@link mppeKeyAttributes} uses, each with its high bit set. */
export interface MppeSalts {
  /** Salt of MS-MPPE-Send-Key, 0x8000-0xffff. */
  readonly send: number;
  /** Salt of MS-MPPE-Recv-Key, 0x8000-0xffff; must differ from `send`. */
  readonly recv: number;
}

const _encoder = new TextEncoder();

/** The secret as bytes; refuses an empty secret. */
function _secret(secret: RadiusSecret): Uint8Array {
  const bytes = typeof secret === "string" ? _encoder.encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ConfigError("secret", "Invalid RADIUS shared secret: empty");
  }
  return bytes;
}

function _requireAuthenticator(value: Uint8Array, what: string): void {
  if (!(value instanceof Uint8Array) || value.length !== RADIUS_AUTHENTICATOR_LENGTH) {
    throw new ProtocolViolationError(
      `Invalid ${what}: expected ${RADIUS_AUTHENTICATOR_LENGTH} bytes, got ${
        value instanceof Uint8Array ? value.length : typeof value
      }`,
    );
  }
}

function _requireByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new ProtocolViolationError(
      `Invalid ${what}: expected an integer in [0, 255], got ${value}`,
    );
  }
}

function _concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Where one attribute sits in a packet's bytes. */
interface _Slot {
  readonly type: number;
  /** Offset of the Type byte. */
  readonly offset: number;
  /** The Length byte: Type and Length included. */
  readonly length: number;
}

/**
 * Checks the header and walks the attributes of `bytes` (RFC 2865 sections 3 and 5).
 * Octets after the Length field are padding and ignored (RFC 2865 section 3).
 */
function _layout(bytes: Uint8Array): { readonly length: number; readonly slots: _Slot[] } {
  if (!(bytes instanceof Uint8Array)) {
    throw new MalformedMessageError("Invalid RADIUS packet: expected a Uint8Array");
  }
  if (bytes.length < RADIUS_MIN_LENGTH) {
    throw new MalformedMessageError(
      `Truncated RADIUS packet: ${bytes.length} bytes, the header needs ${RADIUS_HEADER_LENGTH}`,
    );
  }
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length < RADIUS_MIN_LENGTH || length > RADIUS_MAX_LENGTH) {
    throw new MalformedMessageError(
      `Invalid RADIUS Length: ${length}, expected ${RADIUS_MIN_LENGTH} to ${RADIUS_MAX_LENGTH}`,
    );
  }
  if (length > bytes.length) {
    throw new MalformedMessageError(
      `Truncated RADIUS packet: Length is ${length} bytes, got ${bytes.length}`,
    );
  }
  const slots: _Slot[] = [];
  let offset = RADIUS_HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) {
      throw new MalformedMessageError(
        `Truncated RADIUS attribute at offset ${offset}: 1 byte left, the header needs 2`,
      );
    }
    const type = bytes[offset]!;
    const attrLength = bytes[offset + 1]!;
    if (attrLength < 2) {
      throw new MalformedMessageError(
        `Invalid RADIUS attribute length at offset ${offset}: ${attrLength}, at least 2`,
      );
    }
    if (offset + attrLength > length) {
      throw new MalformedMessageError(
        `Truncated RADIUS attribute ${type} at offset ${offset}: length ${attrLength}, ${
          length - offset
        } bytes left`,
      );
    }
    slots.push({ type, offset, length: attrLength });
    offset += attrLength;
  }
  return { length, slots };
}

/** The one Message-Authenticator slot, undefined when absent (RFC 3579 section 3.2). */
function _messageAuthenticatorSlot(slots: readonly _Slot[]): _Slot | undefined {
  let found: _Slot | undefined;
  for (const slot of slots) {
    if (slot.type !== RadiusAttributeType.MessageAuthenticator) continue;
    if (found !== undefined) {
      throw new ProtocolViolationError(
        "Duplicate Message-Authenticator: RFC 3579 section 3.2 allows one per packet",
      );
    }
    if (slot.length !== 2 + MESSAGE_AUTHENTICATOR_LENGTH) {
      throw new ProtocolViolationError(
        `Invalid Message-Authenticator length: ${
          slot.length - 2
        } bytes, expected ${MESSAGE_AUTHENTICATOR_LENGTH}`,
      );
    }
    found = slot;
  }
  return found;
}

/**
 * Makes an attribute from text (UTF-8 encoded) or bytes.
 *
 * @param type the attribute type, 0-255 (see `RadiusAttributeType`)
 * @param value text such as a User-Name, or raw bytes (copied)
 * @returns the attribute
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(radiusAttribute(1, "bob").value, new Uint8Array([98, 111, 98]));
 * ```
 */
export function radiusAttribute(type: number, value: string | Uint8Array): RadiusAttribute {
  return { type, value: typeof value === "string" ? _encoder.encode(value) : value.slice() };
}

/**
 * Encodes a packet (RFC 2865 section 3): the Length field is computed.
 *
 * @param packet the packet; nothing is added or signed (see
 *   {@link withMessageAuthenticator} and {@link signResponse})
 * @returns the bytes, 20 to 4096 long
 * @throws {ProtocolViolationError} for a code, identifier or type outside 0-255, an
 *   authenticator not 16 bytes long, a value over 253 bytes, or a packet over 4096
 *   bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeRadius({ code: 1, identifier: 2, authenticator: new Uint8Array(16), attributes: [radiusAttribute(1, "a")] });
 * assertEquals(Array.from(bytes.subarray(0, 4)), [1, 2, 0, 23]);
 * assertEquals(Array.from(bytes.subarray(20)), [1, 3, 97]);
 * ```
 */
export function encodeRadius(packet: RadiusPacket): Uint8Array {
  _requireByte(packet.code, "RADIUS code");
  _requireByte(packet.identifier, "RADIUS identifier");
  _requireAuthenticator(packet.authenticator, "RADIUS authenticator");
  let length = RADIUS_HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    _requireByte(attribute.type, "RADIUS attribute type");
    if (attribute.value.length > RADIUS_ATTRIBUTE_MAX_VALUE) {
      throw new ProtocolViolationError(
        `Oversized RADIUS attribute ${attribute.type}: ${attribute.value.length} bytes, at most ${RADIUS_ATTRIBUTE_MAX_VALUE}`,
      );
    }
    length += 2 + attribute.value.length;
  }
  if (length > RADIUS_MAX_LENGTH) {
    throw new ProtocolViolationError(
      `Oversized RADIUS packet: ${length} bytes, at most ${RADIUS_MAX_LENGTH}`,
    );
  }
  const out = new Uint8Array(length);
  out[0] = packet.code;
  out[1] = packet.identifier;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out.set(packet.authenticator, 4);
  let offset = RADIUS_HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    out[offset] = attribute.type;
    out[offset + 1] = 2 + attribute.value.length;
    out.set(attribute.value, offset + 2);
    offset += 2 + attribute.value.length;
  }
  return out;
}

/**
 * Decodes a packet (RFC 2865 section 3). Octets past the Length field are padding
 * and ignored. The result holds copies, not views of `bytes`.
 *
 * @param bytes one UDP payload
 * @returns the packet
 * @throws {MalformedMessageError} for fewer than 20 bytes, a Length field outside
 *   20-4096 or beyond the datagram, an attribute length below 2 or past the packet's
 *   end
 * @throws {ProtocolViolationError} for a Message-Authenticator that is repeated or not
 *   16 bytes long, or an EAP-Message without a Message-Authenticator (RFC 3579
 *   section 3.2)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = new Uint8Array([2, 9, 0, 20, ...new Uint8Array(16)]);
 * assertEquals(decodeRadius(bytes), { code: 2, identifier: 9, authenticator: new Uint8Array(16), attributes: [] });
 * ```
 */
export function decodeRadius(bytes: Uint8Array): RadiusPacket {
  const { slots } = _layout(bytes);
  const hasMessageAuthenticator = _messageAuthenticatorSlot(slots) !== undefined;
  if (!hasMessageAuthenticator && slots.some((s) => s.type === RadiusAttributeType.EapMessage)) {
    throw new ProtocolViolationError(
      "EAP-Message without Message-Authenticator: RFC 3579 section 3.2 requires it",
    );
  }
  return {
    code: bytes[0]!,
    identifier: bytes[1]!,
    authenticator: bytes.slice(4, RADIUS_HEADER_LENGTH),
    attributes: slots.map((s) => ({
      type: s.type,
      value: bytes.slice(s.offset + 2, s.offset + s.length),
    })),
  };
}

/**
 * The value of the first attribute of a type.
 *
 * @param packet the packet
 * @param type the attribute type
 * @returns the value, or undefined when the packet has no such attribute
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = { code: 11, identifier: 0, authenticator: new Uint8Array(16), attributes: [radiusAttribute(24, "s1")] };
 * assertEquals(attributeValue(packet, 24), new Uint8Array([115, 49]));
 * assertEquals(attributeValue(packet, 1), undefined);
 * ```
 */
export function attributeValue(packet: RadiusPacket, type: number): Uint8Array | undefined {
  return packet.attributes.find((a) => a.type === type)?.value;
}

/**
 * The values of all attributes of a type, in packet order.
 *
 * @param packet the packet
 * @param type the attribute type
 * @returns the values; empty when there are none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = { code: 2, identifier: 0, authenticator: new Uint8Array(16), attributes: [radiusAttribute(25, "a"), radiusAttribute(25, "b")] };
 * assertEquals(attributeValues(packet, 25).length, 2);
 * ```
 */
export function attributeValues(packet: RadiusPacket, type: number): Uint8Array[] {
  return packet.attributes.filter((a) => a.type === type).map((a) => a.value);
}

/**
 * Splits an EAP packet into EAP-Message attributes of at most 253 bytes (RFC 3579
 * section 3.1). An empty EAP packet gives one empty attribute: the EAP-Start of RFC
 * 3579 section 2.1.
 *
 * @param eap the EAP packet (RFC 3748 section 4)
 * @returns the attributes, in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const attributes = eapMessageAttributes(new Uint8Array(600));
 * assertEquals(attributes.map((a) => a.value.length), [253, 253, 94]);
 * ```
 */
export function eapMessageAttributes(eap: Uint8Array): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  let offset = 0;
  do {
    out.push({
      type: RadiusAttributeType.EapMessage,
      value: eap.slice(offset, offset + RADIUS_ATTRIBUTE_MAX_VALUE),
    });
    offset += RADIUS_ATTRIBUTE_MAX_VALUE;
  } while (offset < eap.length);
  return out;
}

/**
 * Joins the EAP-Message attributes of a packet into one EAP packet (RFC 3579 section
 * 3.1).
 *
 * @param packet the packet
 * @returns the EAP packet, or undefined when the packet has no EAP-Message
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const eap = new Uint8Array(300).map((_, i) => i);
 * const packet = { code: 11, identifier: 1, authenticator: new Uint8Array(16), attributes: eapMessageAttributes(eap) };
 * assertEquals(joinEapMessage(packet), eap);
 * ```
 */
export function joinEapMessage(packet: RadiusPacket): Uint8Array | undefined {
  const parts = attributeValues(packet, RadiusAttributeType.EapMessage);
  return parts.length === 0 ? undefined : _concat(parts);
}

/**
 * Adds a Message-Authenticator (RFC 3579 section 3.2), replacing any there is, as
 * the first attribute. In a request it is the HMAC-MD5, keyed with the shared
 * secret, of the packet with the attribute's value zeroed. In an Access-Accept,
 * Access-Reject or Access-Challenge the Request Authenticator of the request takes
 * the place of the authenticator field; pass it as `requestAuthenticator`, and
 * compute the Response Authenticator after this (see {@link signResponse}).
 *
 * @param packet the packet to sign
 * @param secret the shared secret
 * @param requestAuthenticator for a response: the Request Authenticator it answers
 * @returns a new packet with the Message-Authenticator first
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const signed = withMessageAuthenticator({ code: 1, identifier: 0, authenticator: new Uint8Array(16), attributes: [] }, "s");
 * assertEquals(signed.attributes[0]?.type, 80);
 * assertEquals(verifyMessageAuthenticator(encodeRadius(signed), "s"), true);
 * ```
 */
export function withMessageAuthenticator(
  packet: RadiusPacket,
  secret: RadiusSecret,
  requestAuthenticator?: Uint8Array,
): RadiusPacket {
  const key = _secret(secret);
  if (requestAuthenticator !== undefined) {
    _requireAuthenticator(requestAuthenticator, "Request Authenticator");
  }
  const rest = packet.attributes.filter((a) => a.type !== RadiusAttributeType.MessageAuthenticator);
  const zeroed: RadiusPacket = {
    ...packet,
    attributes: [
      {
        type: RadiusAttributeType.MessageAuthenticator,
        value: new Uint8Array(MESSAGE_AUTHENTICATOR_LENGTH),
      },
      ...rest,
    ],
  };
  const bytes = encodeRadius(zeroed);
  if (requestAuthenticator !== undefined) bytes.set(requestAuthenticator, 4);
  return {
    ...packet,
    attributes: [
      { type: RadiusAttributeType.MessageAuthenticator, value: hmacMd5(key, bytes) },
      ...rest,
    ],
  };
}

/**
 * Checks the Message-Authenticator of a packet as received (RFC 3579 section 3.2),
 * comparing in constant time.
 *
 * @param bytes the packet's bytes
 * @param secret the shared secret
 * @param requestAuthenticator for a response: the Request Authenticator of the
 *   request it answers; omit for a request
 * @returns true when the attribute is present and correct; false when it is absent
 *   or wrong
 * @throws {MalformedMessageError} when `bytes` does not parse as RADIUS
 * @throws {ProtocolViolationError} for a repeated or mis-sized Message-Authenticator
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeRadius(withMessageAuthenticator({ code: 1, identifier: 0, authenticator: new Uint8Array(16), attributes: [] }, "s"));
 * assertEquals(verifyMessageAuthenticator(bytes, "s"), true);
 * assertEquals(verifyMessageAuthenticator(bytes, "other"), false);
 * ```
 */
export function verifyMessageAuthenticator(
  bytes: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator?: Uint8Array,
): boolean {
  const key = _secret(secret);
  const { length, slots } = _layout(bytes);
  const slot = _messageAuthenticatorSlot(slots);
  if (slot === undefined) return false;
  const copy = bytes.slice(0, length);
  if (requestAuthenticator !== undefined) {
    _requireAuthenticator(requestAuthenticator, "Request Authenticator");
    copy.set(requestAuthenticator, 4);
  }
  const start = slot.offset + 2;
  copy.fill(0, start, start + MESSAGE_AUTHENTICATOR_LENGTH);
  return constantTimeEqual(
    hmacMd5(key, copy),
    bytes.subarray(start, start + MESSAGE_AUTHENTICATOR_LENGTH),
  );
}

/**
 * The Response Authenticator of a response (RFC 2865 section 3):
 * MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret).
 *
 * @param packet the response, with its final attributes (its own authenticator
 *   field is ignored)
 * @param requestAuthenticator the Request Authenticator of the request it answers
 * @param secret the shared secret
 * @returns the 16-byte Response Authenticator
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const request = new Uint8Array(16).fill(7);
 * const reply = { code: 3, identifier: 1, authenticator: new Uint8Array(16), attributes: [] };
 * const auth = responseAuthenticator(reply, request, "s");
 * assertEquals(verifyResponseAuthenticator(encodeRadius({ ...reply, authenticator: auth }), request, "s"), true);
 * ```
 */
export function responseAuthenticator(
  packet: RadiusPacket,
  requestAuthenticator: Uint8Array,
  secret: RadiusSecret,
): Uint8Array {
  const key = _secret(secret);
  _requireAuthenticator(requestAuthenticator, "Request Authenticator");
  const bytes = encodeRadius({ ...packet, authenticator: requestAuthenticator });
  return md5(_concat([bytes, key]));
}

/**
 * Checks the Response Authenticator of a response as received (RFC 2865 section 3),
 * comparing in constant time.
 *
 * @param responseBytes the response's bytes
 * @param requestAuthenticator the Request Authenticator of the request it answers
 * @param secret the shared secret
 * @returns true when it is correct
 * @throws {MalformedMessageError} when `responseBytes` does not parse as RADIUS
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const request = new Uint8Array(16).fill(3);
 * const reply = signResponse({ code: 2, identifier: 4, authenticator: new Uint8Array(16), attributes: [] }, request, "s");
 * assertEquals(verifyResponseAuthenticator(encodeRadius(reply), request, "s"), true);
 * assertEquals(verifyResponseAuthenticator(encodeRadius(reply), new Uint8Array(16), "s"), false);
 * ```
 */
export function verifyResponseAuthenticator(
  responseBytes: Uint8Array,
  requestAuthenticator: Uint8Array,
  secret: RadiusSecret,
): boolean {
  const key = _secret(secret);
  _requireAuthenticator(requestAuthenticator, "Request Authenticator");
  const { length } = _layout(responseBytes);
  const copy = responseBytes.slice(0, length);
  copy.set(requestAuthenticator, 4);
  return constantTimeEqual(
    md5(_concat([copy, key])),
    responseBytes.subarray(4, RADIUS_HEADER_LENGTH),
  );
}

/**
 * Signs a response as a RADIUS server does: adds a Message-Authenticator computed
 * with the Request Authenticator (RFC 3579 section 3.2), then sets the Response
 * Authenticator (RFC 2865 section 3). For fake servers in tests and for the
 * authentication agent's own checks.
 *
 * @param packet the response (Access-Accept, Access-Reject or Access-Challenge)
 * @param requestAuthenticator the Request Authenticator of the request it answers
 * @param secret the shared secret
 * @returns the signed response
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const request = new Uint8Array(16).fill(9);
 * const bytes = encodeRadius(signResponse({ code: 11, identifier: 1, authenticator: new Uint8Array(16), attributes: [] }, request, "s"));
 * assertEquals(verifyMessageAuthenticator(bytes, "s", request), true);
 * assertEquals(verifyResponseAuthenticator(bytes, request, "s"), true);
 * ```
 */
export function signResponse(
  packet: RadiusPacket,
  requestAuthenticator: Uint8Array,
  secret: RadiusSecret,
): RadiusPacket {
  const signed = withMessageAuthenticator(packet, secret, requestAuthenticator);
  return { ...signed, authenticator: responseAuthenticator(signed, requestAuthenticator, secret) };
}

/**
 * Makes a Vendor-Specific attribute in the layout RFC 2865 section 5.26 recommends:
 * Vendor-Id (4 bytes), then one sub-attribute (Vendor-Type, Vendor-Length, data).
 *
 * @param vendorId the vendor's private enterprise number (311 for Microsoft)
 * @param vendorType the sub-attribute type, 0-255
 * @param data the sub-attribute data, at most 247 bytes
 * @returns the attribute
 * @throws {ProtocolViolationError} when it would not fit in one attribute
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const attribute = vendorSpecificAttribute(311, 16, new Uint8Array([1, 2]));
 * assertEquals(Array.from(attribute.value), [0, 0, 1, 55, 16, 4, 1, 2]);
 * ```
 */
export function vendorSpecificAttribute(
  vendorId: number,
  vendorType: number,
  data: Uint8Array,
): RadiusAttribute {
  if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffffffff) {
    throw new ProtocolViolationError(`Invalid Vendor-Id: ${vendorId}`);
  }
  _requireByte(vendorType, "Vendor-Type");
  if (data.length > RADIUS_ATTRIBUTE_MAX_VALUE - 6) {
    throw new ProtocolViolationError(
      `Oversized vendor-specific attribute: ${data.length} bytes of data, at most ${
        RADIUS_ATTRIBUTE_MAX_VALUE - 6
      }`,
    );
  }
  const value = new Uint8Array(6 + data.length);
  new DataView(value.buffer).setUint32(0, vendorId);
  value[4] = vendorType;
  value[5] = 2 + data.length;
  value.set(data, 6);
  return { type: RadiusAttributeType.VendorSpecific, value };
}

/**
 * The data of every sub-attribute of one vendor and type, across all Vendor-Specific
 * attributes of a packet (RFC 2865 section 5.26). Other vendors' attributes are
 * skipped unparsed.
 *
 * @param packet the packet
 * @param vendorId the vendor's private enterprise number
 * @param vendorType the sub-attribute type
 * @returns the data, in packet order; empty when there is none
 * @throws {MalformedMessageError} when a Vendor-Specific attribute is shorter than a
 *   Vendor-Id, or one of this vendor's sub-attributes overruns its attribute
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = { code: 2, identifier: 0, authenticator: new Uint8Array(16), attributes: [vendorSpecificAttribute(311, 17, new Uint8Array([5]))] };
 * assertEquals(vendorSpecificValues(packet, 311, 17), [new Uint8Array([5])]);
 * ```
 */
export function vendorSpecificValues(
  packet: RadiusPacket,
  vendorId: number,
  vendorType: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const value of attributeValues(packet, RadiusAttributeType.VendorSpecific)) {
    if (value.length < 4) {
      throw new MalformedMessageError(
        `Truncated Vendor-Specific attribute: ${value.length} bytes, the Vendor-Id needs 4`,
      );
    }
    const id = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
    if (id !== vendorId) continue;
    let offset = 4;
    while (offset < value.length) {
      const subLength = value[offset + 1];
      if (subLength === undefined || subLength < 2 || offset + subLength > value.length) {
        throw new MalformedMessageError(
          `Invalid vendor ${vendorId} sub-attribute at offset ${offset}: length ${
            subLength ?? "missing"
          }, ${value.length - offset} bytes left`,
        );
      }
      if (value[offset] === vendorType) out.push(value.slice(offset + 2, offset + subLength));
      offset += subLength;
    }
  }
  return out;
}

/** The MD5 key stream of RFC 2548 section 2.4.2 applied to `input` (encrypt or decrypt). */
function _mppeCrypt(
  input: Uint8Array,
  key: Uint8Array,
  requestAuthenticator: Uint8Array,
  salt: Uint8Array,
  decrypt: boolean,
): Uint8Array {
  const out = new Uint8Array(input.length);
  let b = md5(_concat([key, requestAuthenticator, salt]));
  for (let offset = 0; offset < input.length; offset += 16) {
    for (let i = 0; i < 16; i++) out[offset + i] = input[offset + i]! ^ b[i]!;
    const cipherBlock = (decrypt ? input : out).subarray(offset, offset + 16);
    b.fill(0);
    b = md5(_concat([key, cipherBlock]));
  }
  b.fill(0);
  return out;
}

/**
 * Encrypts a key into the Salt and String of an MS-MPPE-Send-Key or MS-MPPE-Recv-Key
 * (RFC 2548 section 2.4.2): the plaintext is Key-Length, the key and zero padding to
 * a multiple of 16; b(1) = MD5(secret + Request Authenticator + salt), c(i) = p(i)
 * xor b(i), b(i) = MD5(secret + c(i-1)). A server's operation; here for fake
 * servers and tests.
 *
 * @param key the key, at most 239 bytes (32 for half an MSK)
 * @param secret the shared secret
 * @param requestAuthenticator the Request Authenticator of the Access-Request
 * @param salt 0x8000-0xffff: the high bit must be set, and each key of a packet needs
 *   its own salt
 * @returns the sub-attribute data: 2 salt bytes, then the encrypted String
 * @throws {ProtocolViolationError} for a salt without its high bit or a key too long
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = new Uint8Array(16).fill(1);
 * const value = encryptMppeKey(new Uint8Array(32).fill(5), "s", ra, 0x8001);
 * assertEquals(value.length, 2 + 48);
 * assertEquals(decryptMppeKey(value, "s", ra), new Uint8Array(32).fill(5));
 * ```
 */
export function encryptMppeKey(
  key: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
  salt: number,
): Uint8Array {
  const sharedSecret = _secret(secret);
  _requireAuthenticator(requestAuthenticator, "Request Authenticator");
  if (!Number.isInteger(salt) || salt < 0x8000 || salt > 0xffff) {
    throw new ProtocolViolationError(
      `Invalid MS-MPPE salt: ${salt}, the high bit must be set (RFC 2548 section 2.4.2)`,
    );
  }
  const plainLength = Math.ceil((key.length + 1) / 16) * 16;
  if (plainLength > RADIUS_ATTRIBUTE_MAX_VALUE - 8) {
    throw new ProtocolViolationError(
      `Oversized MS-MPPE key: ${key.length} bytes, at most 239`,
    );
  }
  const plain = new Uint8Array(plainLength);
  plain[0] = key.length;
  plain.set(key, 1);
  const saltBytes = new Uint8Array([salt >> 8, salt & 0xff]);
  const cipher = _mppeCrypt(plain, sharedSecret, requestAuthenticator, saltBytes, false);
  plain.fill(0);
  return _concat([saltBytes, cipher]);
}

/**
 * Decrypts the Salt and String of an MS-MPPE-Send-Key or MS-MPPE-Recv-Key (RFC 2548
 * sections 2.4.2-2.4.3) back to the key. A wrong secret or Request Authenticator
 * gives garbage, caught only when the decrypted Key-Length does not fit.
 *
 * @param attributeValue the sub-attribute data: 2 salt bytes, then a String of a
 *   multiple of 16 bytes
 * @param secret the shared secret
 * @param requestAuthenticator the Request Authenticator of the Access-Request the
 *   Access-Accept answers
 * @returns the key
 * @throws {MalformedMessageError} for a String that is empty or not a multiple of 16
 *   bytes, or a decrypted Key-Length that overruns it
 * @throws {ProtocolViolationError} for a salt without its high bit
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = new Uint8Array(16).fill(2);
 * const key = new Uint8Array(32).map((_, i) => i);
 * assertEquals(decryptMppeKey(encryptMppeKey(key, "s", ra, 0x9abc), "s", ra), key);
 * ```
 */
export function decryptMppeKey(
  attributeValue: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
): Uint8Array {
  const sharedSecret = _secret(secret);
  _requireAuthenticator(requestAuthenticator, "Request Authenticator");
  const stringLength = attributeValue.length - 2;
  if (stringLength < 16 || stringLength % 16 !== 0) {
    throw new MalformedMessageError(
      `Invalid MS-MPPE key: ${attributeValue.length} bytes, expected 2 salt bytes and a multiple of 16`,
    );
  }
  if ((attributeValue[0]! & 0x80) === 0) {
    throw new ProtocolViolationError(
      "Invalid MS-MPPE salt: the high bit must be set (RFC 2548 section 2.4.2)",
    );
  }
  const plain = _mppeCrypt(
    attributeValue.subarray(2),
    sharedSecret,
    requestAuthenticator,
    attributeValue.subarray(0, 2),
    true,
  );
  const keyLength = plain[0]!;
  if (keyLength > plain.length - 1) {
    plain.fill(0);
    throw new MalformedMessageError(
      `Invalid MS-MPPE key: Key-Length ${keyLength} overruns the ${
        plain.length - 1
      } bytes decrypted (wrong shared secret?)`,
    );
  }
  const key = plain.slice(1, 1 + keyLength);
  plain.fill(0);
  return key;
}

/**
 * Joins the two MS-MPPE keys into the MSK as RADIUS servers split it: MSK =
 * MS-MPPE-Recv-Key | MS-MPPE-Send-Key, 32 bytes each (hostapd's RADIUS server sends
 * MSK[0..32] as the Recv key and MSK[32..64] as the Send key; Microsoft's MS-CHAP
 * specification section 3.1.5.1 agrees). The 64-byte MSK is RFC 3748 section 7.10's
 * minimum and the size EAP-PSK derives (RFC 4764).
 *
 * @param recv MS-MPPE-Recv-Key, 32 bytes
 * @param send MS-MPPE-Send-Key, 32 bytes
 * @returns the 64-byte MSK
 * @throws {ProtocolViolationError} when a key is not 32 bytes long
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msk = mskFromMppe(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
 * assertEquals([msk.length, msk[0], msk[63]], [64, 1, 2]);
 * ```
 */
export function mskFromMppe(recv: Uint8Array, send: Uint8Array): Uint8Array {
  for (const [key, name] of [[recv, "MS-MPPE-Recv-Key"], [send, "MS-MPPE-Send-Key"]] as const) {
    if (key.length !== MPPE_KEY_LENGTH) {
      throw new ProtocolViolationError(
        `Invalid ${name}: ${key.length} bytes, expected ${MPPE_KEY_LENGTH} (half of a 64-byte MSK)`,
      );
    }
  }
  return _concat([recv, send]);
}

/**
 * The MS-MPPE-Send-Key and MS-MPPE-Recv-Key attributes that carry an MSK, as a RADIUS
 * server adds them to an Access-Accept (the inverse of {@link mppeMsk}).
 *
 * @param msk the MSK, 64 bytes
 * @param secret the shared secret
 * @param requestAuthenticator the Request Authenticator of the Access-Request
 * @param salts one salt per key, high bit set, distinct
 * @returns two Vendor-Specific attributes: MS-MPPE-Send-Key, then MS-MPPE-Recv-Key
 * @throws {ProtocolViolationError} for an MSK that is not 64 bytes, or bad salts
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = new Uint8Array(16).fill(4);
 * const msk = new Uint8Array(64).map((_, i) => i);
 * const attributes = mppeKeyAttributes(msk, "s", ra, { send: 0x8001, recv: 0x8002 });
 * const accept = { code: 2, identifier: 0, authenticator: new Uint8Array(16), attributes };
 * assertEquals(mppeMsk(accept, "s", ra), msk);
 * ```
 */
export function mppeKeyAttributes(
  msk: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
  salts: MppeSalts,
): RadiusAttribute[] {
  if (msk.length !== 2 * MPPE_KEY_LENGTH) {
    throw new ProtocolViolationError(
      `Invalid MSK: ${msk.length} bytes, expected ${2 * MPPE_KEY_LENGTH}`,
    );
  }
  if (salts.send === salts.recv) {
    throw new ProtocolViolationError(
      "Invalid MS-MPPE salts: each key needs its own (RFC 2548 section 2.4.2)",
    );
  }
  const recv = msk.subarray(0, MPPE_KEY_LENGTH);
  const send = msk.subarray(MPPE_KEY_LENGTH);
  return [
    vendorSpecificAttribute(
      MICROSOFT_VENDOR_ID,
      MicrosoftVendorType.MppeSendKey,
      encryptMppeKey(send, secret, requestAuthenticator, salts.send),
    ),
    vendorSpecificAttribute(
      MICROSOFT_VENDOR_ID,
      MicrosoftVendorType.MppeRecvKey,
      encryptMppeKey(recv, secret, requestAuthenticator, salts.recv),
    ),
  ];
}

/**
 * Decrypts both MS-MPPE keys of an Access-Accept (RFC 2548 sections 2.4.2-2.4.3).
 *
 * @param packet the Access-Accept
 * @param secret the shared secret
 * @param requestAuthenticator the Request Authenticator of the Access-Request it
 *   answers
 * @returns both keys, or undefined when the packet carries neither
 * @throws {ProtocolViolationError} when only one of the two is present, or one is
 *   repeated
 * @throws {MalformedMessageError} when one does not decrypt (see
 *   {@link decryptMppeKey})
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = new Uint8Array(16).fill(8);
 * const msk = new Uint8Array(64).fill(3);
 * const accept = { code: 2, identifier: 0, authenticator: new Uint8Array(16), attributes: mppeKeyAttributes(msk, "s", ra, { send: 0x8001, recv: 0x8002 }) };
 * assertEquals(mppeKeys(accept, "s", ra)?.send, new Uint8Array(32).fill(3));
 * ```
 */
export function mppeKeys(
  packet: RadiusPacket,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
): MppeKeys | undefined {
  const send = vendorSpecificValues(packet, MICROSOFT_VENDOR_ID, MicrosoftVendorType.MppeSendKey);
  const recv = vendorSpecificValues(packet, MICROSOFT_VENDOR_ID, MicrosoftVendorType.MppeRecvKey);
  if (send.length === 0 && recv.length === 0) return undefined;
  if (send.length !== 1 || recv.length !== 1) {
    throw new ProtocolViolationError(
      `Invalid MS-MPPE keys: expected one MS-MPPE-Send-Key and one MS-MPPE-Recv-Key, got ${send.length} and ${recv.length}`,
    );
  }
  return {
    send: decryptMppeKey(send[0]!, secret, requestAuthenticator),
    recv: decryptMppeKey(recv[0]!, secret, requestAuthenticator),
  };
}

/**
 * The MSK an AAA server delivered in an Access-Accept: both MS-MPPE keys decrypted
 * and joined by {@link mskFromMppe}.
 *
 * @param packet the Access-Accept
 * @param secret the shared secret
 * @param requestAuthenticator the Request Authenticator of the Access-Request it
 *   answers
 * @returns the 64-byte MSK, or undefined when the packet carries no MS-MPPE keys
 * @throws {ProtocolViolationError} for a lone, repeated or mis-sized key
 * @throws {MalformedMessageError} when a key does not decrypt
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const accept = { code: 2, identifier: 0, authenticator: new Uint8Array(16), attributes: [] };
 * assertEquals(mppeMsk(accept, "s", new Uint8Array(16)), undefined);
 * ```
 */
export function mppeMsk(
  packet: RadiusPacket,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
): Uint8Array | undefined {
  const keys = mppeKeys(packet, secret, requestAuthenticator);
  if (keys === undefined) return undefined;
  const msk = mskFromMppe(keys.recv, keys.send);
  keys.recv.fill(0);
  keys.send.fill(0);
  return msk;
}

/**
 * The name of a packet code for logs (`Access-Challenge`), or `code N` for others.
 *
 * @param code the packet code
 * @returns its RFC name
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([radiusCodeName(11), radiusCodeName(99)], ["Access-Challenge", "code 99"]);
 * ```
 */
export function radiusCodeName(code: number): string {
  switch (code) {
    case RadiusCode.AccessRequest:
      return "Access-Request";
    case RadiusCode.AccessAccept:
      return "Access-Accept";
    case RadiusCode.AccessReject:
      return "Access-Reject";
    case RadiusCode.AccountingRequest:
      return "Accounting-Request";
    case RadiusCode.AccountingResponse:
      return "Accounting-Response";
    case RadiusCode.AccessChallenge:
      return "Access-Challenge";
    case RadiusCode.StatusServer:
      return "Status-Server";
    default:
      return `code ${code}`;
  }
}
