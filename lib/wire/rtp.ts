/**
 * RTP fixed header codec (RFC 3550 section 5.1): version 2, padding, extension
 * (section 5.3.1, skipped over and kept as bytes), CSRC list, marker, payload type,
 * sequence number, timestamp and SSRC. This is the media stream of the SIP mobility
 * testbed (RFC 6252 sections 7.5, C.5.1): the correspondent sends it, the mobile node
 * counts what arrives where.
 *
 * Pure: no sockets, no clocks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeRtp({
 *   payloadType: 0, sequence: 1, timestamp: 160, ssrc: 0x11223344,
 *   payload: new Uint8Array([0xff, 0xfe]),
 * });
 * assertEquals(bytes.length, 14);
 * const p = decodeRtp(bytes);
 * assertEquals([p.sequence, p.timestamp, p.ssrc], [1, 160, 0x11223344]);
 * ```
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";

/** The RTP version of RFC 3550 section 5.1. */
export const RTP_VERSION = 2;

/** The length of the fixed RTP header, bytes (RFC 3550 section 5.1). */
export const RTP_HEADER_LENGTH = 12;

/** The most CSRC identifiers one header can carry (4-bit CC, RFC 3550 section 5.1). */
export const RTP_MAX_CSRCS = 15;

/** A header extension (RFC 3550 section 5.3.1): a profile-defined id and 32-bit words. */
export interface RtpExtension {
  /** The 16 "defined by profile" bits. */
  readonly profile: number;
  /** The extension data, a multiple of 4 bytes. */
  readonly data: Uint8Array;
}

/** An RTP packet (RFC 3550 section 5.1). */
export interface RtpPacket {
  /** Marker bit M, profile-defined (the first packet of a talkspurt for audio). */
  readonly marker?: boolean;
  /** Payload type PT, 0 to 127 (0 = PCMU, RFC 3551 section 6). */
  readonly payloadType: number;
  /** Sequence number, 0 to 65535, +1 per packet, wrapping. */
  readonly sequence: number;
  /** Timestamp, 0 to 2^32 - 1, in the payload's clock (8000 Hz for PCMU). */
  readonly timestamp: number;
  /** Synchronization source identifier, 0 to 2^32 - 1. */
  readonly ssrc: number;
  /** Contributing sources, at most 15. */
  readonly csrcs?: readonly number[];
  /** The header extension, when the X bit is set. */
  readonly extension?: RtpExtension;
  /** The payload, padding removed. */
  readonly payload: Uint8Array;
  /**
   * Padding octets after the payload, including the final count octet (P bit,
   * section 5.1); 0 or absent for none. On decode, the count read.
   */
  readonly padding?: number;
}

function _u(value: number, bits: number, what: string): number {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Invalid RTP ${what}: ${value}, must be an integer 0 to ${max}`);
  }
  return value;
}

/**
 * Encodes an RTP packet (RFC 3550 section 5.1) with version 2.
 *
 * @param packet the header fields, payload and optional CSRCs, extension, padding
 * @returns the datagram payload
 * @throws {RangeError} a field out of range, more than 15 CSRCs, extension data not
 *   a multiple of 4 bytes, padding not 0 to 255
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "./_bytes.ts";
 * const bytes = encodeRtp({
 *   marker: true, payloadType: 0, sequence: 0x1234, timestamp: 0xa0, ssrc: 0xdeadbeef,
 *   payload: new Uint8Array(0),
 * });
 * assertEquals(hex(bytes), "80801234000000a0deadbeef");
 * ```
 */
export function encodeRtp(packet: RtpPacket): Uint8Array {
  const csrcs = packet.csrcs ?? [];
  if (csrcs.length > RTP_MAX_CSRCS) {
    throw new RangeError(`Invalid RTP CSRC count: ${csrcs.length}, at most ${RTP_MAX_CSRCS}`);
  }
  const ext = packet.extension;
  if (ext !== undefined && ext.data.length % 4 !== 0) {
    throw new RangeError(
      `Invalid RTP header extension: ${ext.data.length} bytes, not a multiple of 4`,
    );
  }
  const padding = _u(packet.padding ?? 0, 8, "padding");
  const size = RTP_HEADER_LENGTH + 4 * csrcs.length +
    (ext === undefined ? 0 : 4 + ext.data.length) + packet.payload.length + padding;
  const w = new ByteWriter(size);
  w.u8(
    (RTP_VERSION << 6) | (padding > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) |
      csrcs.length,
  );
  w.u8((packet.marker === true ? 0x80 : 0) | _u(packet.payloadType, 7, "payload type"));
  w.u16(_u(packet.sequence, 16, "sequence number"));
  w.u32(_u(packet.timestamp, 32, "timestamp"));
  w.u32(_u(packet.ssrc, 32, "SSRC"));
  for (const c of csrcs) w.u32(_u(c, 32, "CSRC"));
  if (ext !== undefined) {
    w.u16(_u(ext.profile, 16, "extension profile"));
    w.u16(ext.data.length / 4);
    w.bytes(ext.data);
  }
  w.bytes(packet.payload);
  if (padding > 0) {
    w.zeros(padding - 1);
    w.u8(padding);
  }
  return w.finish();
}

/**
 * Decodes an RTP packet (RFC 3550 section 5.1): checks the version, reads the CSRC
 * list, skips the header extension (section 5.3.1, kept as bytes) and strips the
 * padding (its last octet counts the padding octets, itself included).
 *
 * @param bytes the UDP payload
 * @returns the packet
 * @throws {MalformedMessageError} a version other than 2, fewer bytes than the
 *   header, CSRC list or extension need, or a padding count of 0 or larger than
 *   what follows the header
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { fromHex } from "./_bytes.ts";
 * const p = decodeRtp(fromHex("a0000001000000a00000000a" + "abcd" + "0002"));
 * assertEquals([...p.payload], [0xab, 0xcd]);
 * assertEquals(p.padding, 2);
 * assertThrows(() => decodeRtp(fromHex("4000")), Error, "Truncated RTP header");
 * ```
 */
export function decodeRtp(bytes: Uint8Array): RtpPacket {
  const r = new ByteReader(bytes);
  r.need(RTP_HEADER_LENGTH, "RTP header");
  const b0 = r.u8("RTP header");
  const version = b0 >> 6;
  if (version !== RTP_VERSION) {
    throw new MalformedMessageError(`Invalid RTP version: ${version}, expected 2`);
  }
  const b1 = r.u8("RTP header");
  const sequence = r.u16("RTP header");
  const timestamp = r.u32("RTP header");
  const ssrc = r.u32("RTP header");
  const cc = b0 & 0x0f;
  const csrcs: number[] = [];
  r.need(4 * cc, "RTP CSRC list");
  for (let i = 0; i < cc; i++) csrcs.push(r.u32("RTP CSRC list"));
  let extension: RtpExtension | undefined;
  if ((b0 & 0x10) !== 0) {
    r.need(4, "RTP header extension");
    const profile = r.u16("RTP header extension");
    const words = r.u16("RTP header extension");
    extension = { profile, data: r.bytes(4 * words, "RTP header extension") };
  }
  let body = r.rest();
  let padding = 0;
  if ((b0 & 0x20) !== 0) {
    padding = body.length === 0 ? 0 : body[body.length - 1]!;
    if (padding === 0 || padding > body.length) {
      throw new MalformedMessageError(
        `Invalid RTP padding: count ${padding}, ${body.length} bytes after the header`,
      );
    }
    body = body.subarray(0, body.length - padding);
  }
  const out: { -readonly [K in keyof RtpPacket]: RtpPacket[K] } = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence,
    timestamp,
    ssrc,
    csrcs,
    payload: body,
  };
  if (extension !== undefined) out.extension = extension;
  if (padding > 0) out.padding = padding;
  return out;
}
