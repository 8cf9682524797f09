/**
 * Codec of the proactive handover tunnel (PHT) protocol (RFC 6252 sections 6.3 step
 * 2, 7.4, 7.6): one 16-byte header for every frame, then either a sealed inner IP
 * packet (data frame: AES-GCM ciphertext and tag) or a tunnel-management message (a
 * TLV body and a 16-byte truncated HMAC-SHA-256 trailer).
 *
 * ```
 *  0               1               2               3
 * +---------------+---------------+-------------------------------+
 * |  Version = 1  |     Type      |             Flags             |
 * +---------------+---------------+-------------------------------+
 * |                           Tunnel Id                           |
 * +---------------------------------------------------------------+
 * |                  Sequence Number (64 bits)                    |
 * |                                                               |
 * +---------------------------------------------------------------+
 * | data: ciphertext || 16-byte GCM tag                           |
 * | management: TLVs (type 1 byte, length 1 byte, value) || MAC   |
 * +---------------------------------------------------------------+
 * ```
 *
 * Data frames count one sequence per tunnel and direction (anti-replay window);
 * management messages carry the MN's 64-bit management sequence and the AR answers
 * with the sequence of the request it answers. The key handling (sealing, MAC) is in
 * `lib/pht/`; this file is pure byte layout. Bad input throws
 * {@linkcode MalformedMessageError}.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { formatIpv4Address, formatIpv6Address, parseIpAddress } from "./ip_header.ts";
import {
  PHT_GCM_TAG_LENGTH,
  PHT_HEADER_LENGTH,
  PHT_INTERFACE_ID_LENGTH,
  PHT_MAC_LENGTH,
  PHT_MAX_DATAGRAM_LENGTH,
  PHT_MAX_LINK_LAYER_ADDRESS_LENGTH,
  PHT_NONCE_LENGTH,
  PHT_VERSION,
  PhtErrorCode,
  type PhtErrorCodeValue,
  PhtFrameType,
  type PhtFrameTypeValue,
  PhtTlvType,
} from "./pht_constants.ts";

const _U64_MAX = (1n << 64n) - 1n;

/** The fixed header of every PHT frame. */
export interface PhtHeader {
  /** Frame type, a {@link PhtFrameType}. */
  readonly type: PhtFrameTypeValue;
  /** Flags; none are defined, sent as 0 and ignored on receipt. */
  readonly flags: number;
  /** Tunnel id assigned by the AR (0 in create and in errors answering a create). */
  readonly tunnelId: number;
  /** 64-bit sequence number: data sequence, or the management sequence. */
  readonly sequence: bigint;
}

/** A management message, by kind; `tunnelId` and `sequence` as in the header. */
export type PhtManagementMessage =
  | {
    /** Create a tunnel (RFC 6252 section 7.4); `tunnelId` is 0. */
    readonly kind: "create";
    readonly tunnelId: number;
    readonly sequence: bigint;
    /** PANA session id of the MPA-SA: names the MN-AR key at the AR. */
    readonly sessionId: number;
    /** Outer address of the MN. */
    readonly oCoA: string;
    /** Inner address of the MN. */
    readonly nCoA: string;
    /** Requested lifetime, ms. */
    readonly lifetimeMs: number;
    /** 16 random bytes of the MN (salt of the data keys). */
    readonly mnNonce: Uint8Array;
    /**
     * IPv6 autoconf requested (RFC 6252 section 7.3.4): the MN's 64-bit interface
     * identifier. `nCoA` is then `::` until an `update` names the SLAAC address.
     */
    readonly interfaceId?: Uint8Array;
    /** The MN's link-layer address on the CTN link (Appendix B). */
    readonly linkLayerAddress?: Uint8Array;
  }
  | {
    /**
     * The MN names its inner address, formed by SLAAC from the RA the AR sent through
     * the tunnel (RFC 6252 section 7.3.4); the AR answers `update-ack` once proactive
     * DAD found it unique (Appendix A), or an error `Duplicate`.
     */
    readonly kind: "update";
    readonly tunnelId: number;
    readonly sequence: bigint;
    /** The new inner address. */
    readonly nCoA: string;
    /** The MN's link-layer address on the CTN link (Appendix B), if it changed or was not sent. */
    readonly linkLayerAddress?: Uint8Array;
  }
  | {
    /** The AR routes `nCoA` into the tunnel. */
    readonly kind: "update-ack";
    readonly tunnelId: number;
    readonly sequence: bigint;
    /** The inner address now routed. */
    readonly nCoA: string;
  }
  | {
    /** The AR grants a tunnel. */
    readonly kind: "create-ack";
    readonly tunnelId: number;
    readonly sequence: bigint;
    /** Granted lifetime, ms. */
    readonly lifetimeMs: number;
    /** 16 random bytes of the AR (salt of the data keys). */
    readonly arNonce: Uint8Array;
  }
  | {
    /** Refresh request or answer: the requested or granted lifetime (section 7.2). */
    readonly kind: "refresh" | "refresh-ack";
    readonly tunnelId: number;
    readonly sequence: bigint;
    readonly lifetimeMs: number;
  }
  | {
    /** The AR released the packets it held: how many (section 7.6.1). */
    readonly kind: "flush-ack";
    readonly tunnelId: number;
    readonly sequence: bigint;
    readonly count: number;
  }
  | {
    /** Copy packets for the nCoA to `address`, or to the nCoA when absent (7.6.2). */
    readonly kind: "copy-start";
    readonly tunnelId: number;
    readonly sequence: bigint;
    readonly address?: string;
  }
  | {
    /** The AR refuses the request with the same sequence. */
    readonly kind: "error";
    readonly tunnelId: number;
    readonly sequence: bigint;
    readonly code: PhtErrorCodeValue;
  }
  | {
    /** Messages without a body. */
    readonly kind:
      | "delete"
      | "delete-ack"
      | "buffer"
      | "buffer-ack"
      | "flush"
      | "probe"
      | "probe-ack"
      | "copy-start-ack"
      | "copy-stop"
      | "copy-stop-ack";
    readonly tunnelId: number;
    readonly sequence: bigint;
  };

/** The kind of a management message. */
export type PhtManagementKind = PhtManagementMessage["kind"];

/** A decoded data frame: header and the sealed bytes (ciphertext and tag). */
export interface PhtDataFrame {
  /** Always `data`. */
  readonly kind: "data";
  /** The header; its 16 bytes are the AEAD additional data. */
  readonly header: PhtHeader;
  /** The header bytes as received (the AAD). */
  readonly headerBytes: Uint8Array;
  /** Ciphertext and the 16-byte tag. */
  readonly sealed: Uint8Array;
}

/** A decoded management frame: the message, the bytes the MAC covers and the MAC. */
export interface PhtManagementFrame {
  /** Always `management`. */
  readonly kind: "management";
  /** The decoded message. */
  readonly message: PhtManagementMessage;
  /** Header and TLVs: the input of the MAC. */
  readonly signed: Uint8Array;
  /** The 16-byte MAC trailer as received. */
  readonly mac: Uint8Array;
}

/** A decoded PHT frame. */
export type PhtFrame = PhtDataFrame | PhtManagementFrame;

const _KIND_TO_TYPE: Readonly<Record<PhtManagementKind, PhtFrameTypeValue>> = {
  "create": PhtFrameType.Create,
  "create-ack": PhtFrameType.CreateAck,
  "refresh": PhtFrameType.Refresh,
  "refresh-ack": PhtFrameType.RefreshAck,
  "delete": PhtFrameType.Delete,
  "delete-ack": PhtFrameType.DeleteAck,
  "buffer": PhtFrameType.Buffer,
  "buffer-ack": PhtFrameType.BufferAck,
  "flush": PhtFrameType.Flush,
  "flush-ack": PhtFrameType.FlushAck,
  "probe": PhtFrameType.Probe,
  "probe-ack": PhtFrameType.ProbeAck,
  "copy-start": PhtFrameType.CopyStart,
  "copy-start-ack": PhtFrameType.CopyStartAck,
  "copy-stop": PhtFrameType.CopyStop,
  "copy-stop-ack": PhtFrameType.CopyStopAck,
  "update": PhtFrameType.Update,
  "update-ack": PhtFrameType.UpdateAck,
  "error": PhtFrameType.Error,
};

const _TYPE_TO_KIND = new Map<number, PhtManagementKind>(
  Object.entries(_KIND_TO_TYPE).map(([k, t]) => [t, k as PhtManagementKind]),
);

const _ERROR_CODES = new Set<number>(Object.values(PhtErrorCode));

/**
 * The management kind of a frame type, or `undefined` for data and unknown types.
 *
 * @param type a frame type byte
 * @returns the kind, e.g. `create` for 1
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(phtManagementKind(1), "create");
 * assertEquals(phtManagementKind(0), undefined);
 * ```
 */
export function phtManagementKind(type: number): PhtManagementKind | undefined {
  return _TYPE_TO_KIND.get(type);
}

/**
 * Encodes the 16-byte frame header (the AAD of a data frame).
 *
 * @param header type, flags, tunnel id and 64-bit sequence number
 * @returns 16 bytes
 * @throws {RangeError} for a tunnel id or sequence out of range
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "./_bytes.ts";
 * const h = encodePhtHeader({ type: 0, flags: 0, tunnelId: 0x0a0b0c0d, sequence: 5n });
 * assertEquals(hex(h), "010000000a0b0c0d0000000000000005");
 * ```
 */
export function encodePhtHeader(header: PhtHeader): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PHT_HEADER_LENGTH);
  _writeHeader(out, header);
  return out;
}

function _writeHeader(out: Uint8Array, header: PhtHeader): void {
  if (!Number.isInteger(header.tunnelId) || header.tunnelId < 0 || header.tunnelId > 0xffffffff) {
    throw new RangeError(`Invalid PHT tunnel id: ${header.tunnelId}`);
  }
  if (header.sequence < 0n || header.sequence > _U64_MAX) {
    throw new RangeError(`Invalid PHT sequence number: ${header.sequence}`);
  }
  const view = new DataView(out.buffer, out.byteOffset, PHT_HEADER_LENGTH);
  view.setUint8(0, PHT_VERSION);
  view.setUint8(1, header.type);
  view.setUint16(2, header.flags & 0xffff);
  view.setUint32(4, header.tunnelId);
  view.setBigUint64(8, header.sequence);
}

/**
 * Decodes the 16-byte frame header.
 *
 * @param bytes a frame, at least 16 bytes
 * @returns the header
 * @throws {MalformedMessageError} on a short frame, a version other than 1 or an
 *   unknown type
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { fromHex } from "./_bytes.ts";
 * const h = decodePhtHeader(fromHex("01030000000000070000000000000009"));
 * assertEquals(h, { type: 3, flags: 0, tunnelId: 7, sequence: 9n });
 * ```
 */
export function decodePhtHeader(bytes: Uint8Array): PhtHeader {
  new ByteReader(bytes).need(PHT_HEADER_LENGTH, "PHT header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, PHT_HEADER_LENGTH);
  const version = view.getUint8(0);
  if (version !== PHT_VERSION) {
    throw new MalformedMessageError(`Unsupported PHT version: ${version}`);
  }
  const type = view.getUint8(1);
  if (type !== PhtFrameType.Data && !_TYPE_TO_KIND.has(type)) {
    throw new MalformedMessageError(`Unknown PHT frame type: ${type}`);
  }
  return {
    type: type as PhtFrameTypeValue,
    flags: view.getUint16(2),
    tunnelId: view.getUint32(4),
    sequence: view.getBigUint64(8),
  };
}

/**
 * Builds a data frame from its header fields and the sealed packet.
 *
 * @param headerBytes the 16 header bytes (from {@linkcode encodePhtHeader}, type 0)
 * @param sealed ciphertext and tag
 * @returns the frame
 * @throws {RangeError} if the frame would exceed the largest PHT datagram
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const header = encodePhtHeader({ type: 0, flags: 0, tunnelId: 1, sequence: 1n });
 * assertEquals(encodePhtDataFrame(header, new Uint8Array(16)).length, 32);
 * ```
 */
export function encodePhtDataFrame(headerBytes: Uint8Array, sealed: Uint8Array): Uint8Array {
  const length = PHT_HEADER_LENGTH + sealed.length;
  if (length > PHT_MAX_DATAGRAM_LENGTH) {
    throw new RangeError(`PHT data frame too long: ${length} bytes`);
  }
  const out = new Uint8Array(length);
  out.set(headerBytes.subarray(0, PHT_HEADER_LENGTH));
  out.set(sealed, PHT_HEADER_LENGTH);
  return out;
}

/**
 * Encodes a management message with a zero MAC trailer; `signPhtManagement` (in
 * `lib/pht/`) fills the last 16 bytes.
 *
 * @param message the message
 * @returns header, TLVs and 16 zero bytes
 * @throws {RangeError} for values out of range (bad address text, nonce, interface
 *   id or link-layer address length, lifetime or count beyond 32 bits)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "./_bytes.ts";
 * const bytes = encodePhtManagement({ kind: "probe", tunnelId: 2, sequence: 3n });
 * assertEquals(hex(bytes), "010b0000000000020000000000000003" + "00".repeat(16));
 * ```
 */
export function encodePhtManagement(message: PhtManagementMessage): Uint8Array {
  const tlvs: [number, Uint8Array][] = [];
  switch (message.kind) {
    case "create":
      tlvs.push([PhtTlvType.SessionId, _u32(message.sessionId, "session id")]);
      tlvs.push([PhtTlvType.OCoA, _address(message.oCoA)]);
      tlvs.push([PhtTlvType.NCoA, _address(message.nCoA)]);
      tlvs.push([PhtTlvType.Lifetime, _u32(message.lifetimeMs, "lifetime")]);
      tlvs.push([PhtTlvType.MnNonce, _nonce(message.mnNonce)]);
      if (message.interfaceId !== undefined) {
        tlvs.push([PhtTlvType.InterfaceId, _interfaceId(message.interfaceId)]);
      }
      if (message.linkLayerAddress !== undefined) {
        tlvs.push([PhtTlvType.LinkLayerAddress, _linkLayer(message.linkLayerAddress)]);
      }
      break;
    case "update":
      tlvs.push([PhtTlvType.NCoA, _address(message.nCoA)]);
      if (message.linkLayerAddress !== undefined) {
        tlvs.push([PhtTlvType.LinkLayerAddress, _linkLayer(message.linkLayerAddress)]);
      }
      break;
    case "update-ack":
      tlvs.push([PhtTlvType.NCoA, _address(message.nCoA)]);
      break;
    case "create-ack":
      tlvs.push([PhtTlvType.Lifetime, _u32(message.lifetimeMs, "lifetime")]);
      tlvs.push([PhtTlvType.ArNonce, _nonce(message.arNonce)]);
      break;
    case "refresh":
    case "refresh-ack":
      tlvs.push([PhtTlvType.Lifetime, _u32(message.lifetimeMs, "lifetime")]);
      break;
    case "flush-ack":
      tlvs.push([PhtTlvType.Count, _u32(message.count, "count")]);
      break;
    case "copy-start":
      if (message.address !== undefined) {
        tlvs.push([PhtTlvType.Address, _address(message.address)]);
      }
      break;
    case "error":
      tlvs.push([PhtTlvType.ErrorCode, Uint8Array.of(message.code)]);
      break;
    default:
      break;
  }
  const length = PHT_HEADER_LENGTH + tlvs.reduce((n, [, v]) => n + 2 + v.length, 0) +
    PHT_MAC_LENGTH;
  const w = new ByteWriter(length);
  const header = encodePhtHeader({
    type: _KIND_TO_TYPE[message.kind],
    flags: 0,
    tunnelId: message.tunnelId,
    sequence: message.sequence,
  });
  w.bytes(header);
  for (const [type, value] of tlvs) w.u8(type).u8(value.length).bytes(value);
  w.zeros(PHT_MAC_LENGTH);
  return w.finish();
}

/**
 * Decodes a PHT frame: a data frame (header and sealed bytes) or a management
 * message (message, MAC input and MAC). The MAC and the tag are not checked here.
 *
 * @param bytes one UDP payload
 * @returns the frame
 * @throws {MalformedMessageError} on a short or oversized frame, a bad version or
 *   type, a TLV that overruns the body, a repeated or ill-sized TLV, a missing
 *   mandatory TLV or an unknown error code
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodePhtManagement({ kind: "flush-ack", tunnelId: 4, sequence: 8n, count: 50 });
 * const frame = decodePhtFrame(bytes);
 * assertEquals(frame.kind === "management" && frame.message, {
 *   kind: "flush-ack", tunnelId: 4, sequence: 8n, count: 50,
 * });
 * ```
 */
export function decodePhtFrame(bytes: Uint8Array): PhtFrame {
  if (bytes.length > PHT_MAX_DATAGRAM_LENGTH) {
    throw new MalformedMessageError(`Oversized PHT frame: ${bytes.length} bytes`);
  }
  const header = decodePhtHeader(bytes);
  if (header.type === PhtFrameType.Data) {
    if (bytes.length < PHT_HEADER_LENGTH + PHT_GCM_TAG_LENGTH) {
      throw new MalformedMessageError(
        `Truncated PHT data frame: need ${
          PHT_HEADER_LENGTH + PHT_GCM_TAG_LENGTH
        } bytes, got ${bytes.length}`,
      );
    }
    return {
      kind: "data",
      header,
      headerBytes: bytes.subarray(0, PHT_HEADER_LENGTH),
      sealed: bytes.subarray(PHT_HEADER_LENGTH),
    };
  }
  if (bytes.length < PHT_HEADER_LENGTH + PHT_MAC_LENGTH) {
    throw new MalformedMessageError(
      `Truncated PHT management message: need ${
        PHT_HEADER_LENGTH + PHT_MAC_LENGTH
      } bytes, got ${bytes.length}`,
    );
  }
  const end = bytes.length - PHT_MAC_LENGTH;
  const tlvs = _readTlvs(bytes.subarray(PHT_HEADER_LENGTH, end));
  const kind = _TYPE_TO_KIND.get(header.type)!;
  return {
    kind: "management",
    message: _message(kind, header, tlvs),
    signed: bytes.subarray(0, end),
    mac: bytes.subarray(end),
  };
}

function _readTlvs(body: Uint8Array): Map<number, Uint8Array> {
  const r = new ByteReader(body);
  const out = new Map<number, Uint8Array>();
  while (r.remaining > 0) {
    const type = r.u8("PHT TLV header");
    const length = r.u8("PHT TLV header");
    const value = r.bytes(length, "PHT TLV value");
    if (out.has(type)) throw new MalformedMessageError(`Repeated PHT TLV: type ${type}`);
    out.set(type, value); // unknown types are skipped by _message
  }
  return out;
}

function _message(
  kind: PhtManagementKind,
  header: PhtHeader,
  tlvs: Map<number, Uint8Array>,
): PhtManagementMessage {
  const base = { tunnelId: header.tunnelId, sequence: header.sequence };
  switch (kind) {
    case "create": {
      const interfaceId = tlvs.has(PhtTlvType.InterfaceId)
        ? _need(tlvs, PhtTlvType.InterfaceId, "interface id", PHT_INTERFACE_ID_LENGTH)
        : undefined;
      const linkLayerAddress = _readLinkLayer(tlvs);
      return {
        kind,
        ...base,
        sessionId: _readU32(tlvs, PhtTlvType.SessionId, "session id"),
        oCoA: _readAddress(tlvs, PhtTlvType.OCoA, "oCoA")!,
        nCoA: _readAddress(tlvs, PhtTlvType.NCoA, "nCoA")!,
        lifetimeMs: _readU32(tlvs, PhtTlvType.Lifetime, "lifetime"),
        mnNonce: _readNonce(tlvs, PhtTlvType.MnNonce, "MN nonce"),
        ...(interfaceId === undefined ? {} : { interfaceId }),
        ...(linkLayerAddress === undefined ? {} : { linkLayerAddress }),
      };
    }
    case "update": {
      const linkLayerAddress = _readLinkLayer(tlvs);
      return {
        kind,
        ...base,
        nCoA: _readAddress(tlvs, PhtTlvType.NCoA, "nCoA")!,
        ...(linkLayerAddress === undefined ? {} : { linkLayerAddress }),
      };
    }
    case "update-ack":
      return { kind, ...base, nCoA: _readAddress(tlvs, PhtTlvType.NCoA, "nCoA")! };
    case "create-ack":
      return {
        kind,
        ...base,
        lifetimeMs: _readU32(tlvs, PhtTlvType.Lifetime, "lifetime"),
        arNonce: _readNonce(tlvs, PhtTlvType.ArNonce, "AR nonce"),
      };
    case "refresh":
    case "refresh-ack":
      return { kind, ...base, lifetimeMs: _readU32(tlvs, PhtTlvType.Lifetime, "lifetime") };
    case "flush-ack":
      return { kind, ...base, count: _readU32(tlvs, PhtTlvType.Count, "count") };
    case "copy-start": {
      const address = _readAddress(tlvs, PhtTlvType.Address, "copy address", true);
      return address === undefined ? { kind, ...base } : { kind, ...base, address };
    }
    case "error": {
      const value = _need(tlvs, PhtTlvType.ErrorCode, "error code", 1);
      const code = value[0]!;
      if (!_ERROR_CODES.has(code)) {
        throw new MalformedMessageError(`Unknown PHT error code: ${code}`);
      }
      return { kind, ...base, code: code as PhtErrorCodeValue };
    }
    default:
      return { kind, ...base };
  }
}

function _need(
  tlvs: Map<number, Uint8Array>,
  type: number,
  what: string,
  size?: number,
): Uint8Array {
  const value = tlvs.get(type);
  if (value === undefined) throw new MalformedMessageError(`Missing PHT TLV: ${what}`);
  if (size !== undefined && value.length !== size) {
    throw new MalformedMessageError(
      `Invalid PHT TLV length: ${what} needs ${size} bytes, got ${value.length}`,
    );
  }
  return value;
}

function _readU32(tlvs: Map<number, Uint8Array>, type: number, what: string): number {
  const v = _need(tlvs, type, what, 4);
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
}

function _readNonce(tlvs: Map<number, Uint8Array>, type: number, what: string): Uint8Array {
  return _need(tlvs, type, what, PHT_NONCE_LENGTH);
}

function _readAddress(
  tlvs: Map<number, Uint8Array>,
  type: number,
  what: string,
  optional = false,
): string | undefined {
  if (optional && !tlvs.has(type)) return undefined;
  const v = _need(tlvs, type, what);
  if (v.length === 4) return formatIpv4Address(v);
  if (v.length === 16) return formatIpv6Address(v);
  throw new MalformedMessageError(
    `Invalid PHT TLV length: ${what} needs 4 or 16 bytes, got ${v.length}`,
  );
}

function _readLinkLayer(tlvs: Map<number, Uint8Array>): Uint8Array | undefined {
  const v = tlvs.get(PhtTlvType.LinkLayerAddress);
  if (v === undefined) return undefined;
  if (v.length === 0 || v.length > PHT_MAX_LINK_LAYER_ADDRESS_LENGTH) {
    throw new MalformedMessageError(
      `Invalid PHT TLV length: link-layer address needs 1 to ${PHT_MAX_LINK_LAYER_ADDRESS_LENGTH} bytes, got ${v.length}`,
    );
  }
  return v;
}

function _interfaceId(iid: Uint8Array): Uint8Array {
  if (iid.length !== PHT_INTERFACE_ID_LENGTH) {
    throw new RangeError(`Invalid PHT interface id length: ${iid.length}`);
  }
  return iid;
}

function _linkLayer(address: Uint8Array): Uint8Array {
  if (address.length === 0 || address.length > PHT_MAX_LINK_LAYER_ADDRESS_LENGTH) {
    throw new RangeError(`Invalid PHT link-layer address length: ${address.length}`);
  }
  return address;
}

function _u32(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Invalid PHT ${what}: ${value}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function _nonce(nonce: Uint8Array): Uint8Array {
  if (nonce.length !== PHT_NONCE_LENGTH) {
    throw new RangeError(`Invalid PHT nonce length: ${nonce.length}`);
  }
  return nonce;
}

function _address(text: string): Uint8Array {
  try {
    return parseIpAddress(text);
  } catch (error) {
    throw new RangeError(`Invalid PHT address: ${JSON.stringify(text)}`, { cause: error });
  }
}
