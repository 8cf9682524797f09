/**
 * DHCPv4 message codec (RFC 2131 section 2, options of RFC 2132): the messages the
 * mobile node exchanges with the configuration agent of a candidate target network to
 * acquire an address proactively (RFC 6252 section 7.3.3).
 *
 * The options the MPA flows need are decoded into typed fields of
 * {@link DhcpOptions}; every other option is kept raw, in order, and re-encoded as it
 * came. Decoding follows option overload (option 52, RFC 2132 section 9.3) into the
 * `file` and `sname` fields and concatenates every instance of an option (RFC 3396
 * section 7: options field, then `file`, then `sname`); encoding splits an option
 * longer than 255 bytes into several instances (RFC 3396 section 5).
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import {
  DHCP_AUTH_FIXED_LENGTH,
  DHCP_AUTH_REPLAY_LENGTH,
  DHCP_CHADDR_LENGTH,
  DHCP_FILE_LENGTH,
  DHCP_FILE_OFFSET,
  DHCP_HEADER_LENGTH,
  DHCP_HTYPE_ETHERNET,
  DHCP_MAGIC_COOKIE,
  DHCP_MIN_MESSAGE_LENGTH,
  DHCP_SNAME_LENGTH,
  DHCP_SNAME_OFFSET,
  DhcpOp,
  DhcpOption,
  DhcpOverload,
} from "./dhcp_constants.ts";
import { formatIpv4Address, parseIpv4Address } from "./ip_header.ts";

/** One option as it is on the wire, after RFC 3396 concatenation. */
export interface DhcpRawOption {
  /** Option code, 1 to 254. */
  readonly code: number;
  /** Option data, without code and length. */
  readonly data: Uint8Array;
}

/**
 * The Authentication option 90 (RFC 3118 section 2).
 */
export interface DhcpAuthOption {
  /** Protocol: 0 configuration token, 1 delayed authentication. */
  readonly protocol: number;
  /** Algorithm (RFC 3118: 1 HMAC-MD5; this project: 2 HMAC-SHA-256-128). */
  readonly algorithm: number;
  /** Replay detection method: 0 monotonically increasing counter. */
  readonly rdm: number;
  /** Replay detection field, 8 bytes. */
  readonly replay: Uint8Array;
  /** Authentication information (delayed: 4-byte secret id + MAC). */
  readonly info: Uint8Array;
}

/**
 * The options of a DHCP message. Typed fields hold the options the MPA flows use;
 * `other` holds every other option, raw, in the order met.
 */
export interface DhcpOptions {
  /** Option 53, DHCP message type (RFC 2132 section 9.6), see `DhcpMessageType`. */
  readonly messageType?: number;
  /** Option 1, subnet mask, dotted (RFC 2132 section 3.3). */
  readonly subnetMask?: string;
  /** Option 3, routers, dotted (RFC 2132 section 3.5). */
  readonly routers?: readonly string[];
  /** Option 6, DNS servers, dotted (RFC 2132 section 3.8). */
  readonly dns?: readonly string[];
  /** Option 12, host name (RFC 2132 section 3.14). */
  readonly hostname?: string;
  /** Option 50, requested IP address (RFC 2132 section 9.1). */
  readonly requestedAddress?: string;
  /** Option 51, lease time in seconds (RFC 2132 section 9.2). */
  readonly leaseTime?: number;
  /** Option 54, server identifier (RFC 2132 section 9.7). */
  readonly serverId?: string;
  /** Option 55, parameter request list: option codes (RFC 2132 section 9.8). */
  readonly parameterRequestList?: readonly number[];
  /** Option 56, message text (RFC 2132 section 9.9), e.g. the reason of a NAK. */
  readonly message?: string;
  /** Option 58, renewal time T1 in seconds (RFC 2132 section 9.11). */
  readonly renewalTime?: number;
  /** Option 59, rebinding time T2 in seconds (RFC 2132 section 9.12). */
  readonly rebindingTime?: number;
  /**
   * Option 61, client identifier: the whole option data, type byte first (RFC 2132
   * section 9.14; type 1 + MAC, type 0 + text, 255 + IAID/DUID).
   */
  readonly clientId?: Uint8Array;
  /** Option 80, rapid commit (RFC 4039 section 4): present or absent. */
  readonly rapidCommit?: boolean;
  /** Option 82, relay agent information: its sub-options, raw (RFC 3046 section 2.0). */
  readonly relayAgentInfo?: readonly DhcpRawOption[];
  /** Option 90, authentication (RFC 3118 section 2). */
  readonly auth?: DhcpAuthOption;
  /** Option 118, subnet selection, dotted (RFC 3011 section 3). */
  readonly subnetSelection?: string;
  /** Every other option, raw, in order (never 0, 52 or 255). */
  readonly other?: readonly DhcpRawOption[];
}

/**
 * A DHCP message (RFC 2131 section 2, figure 1). Addresses are dotted-quad strings.
 */
export interface DhcpMessage {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  readonly op: number;
  /** Hardware address type (1 Ethernet). */
  readonly htype: number;
  /** Hardware address length (6 for Ethernet). */
  readonly hlen: number;
  /** Relay hops. */
  readonly hops: number;
  /** Transaction id, 32-bit unsigned. */
  readonly xid: number;
  /** Seconds elapsed since the client began the exchange. */
  readonly secs: number;
  /** Flags; bit 15 (`DHCP_FLAG_BROADCAST`) asks for a broadcast reply. */
  readonly flags: number;
  /** Client IP address (set when the client has an address it can receive on). */
  readonly ciaddr: string;
  /** "Your" (client) IP address, set by the server. */
  readonly yiaddr: string;
  /** Next server address. */
  readonly siaddr: string;
  /** Relay agent address. */
  readonly giaddr: string;
  /** Client hardware address, `hlen` bytes (at most 16). */
  readonly chaddr: Uint8Array;
  /** Server host name (empty when the field is overloaded with options). */
  readonly sname: string;
  /** Boot file name (empty when the field is overloaded with options). */
  readonly file: string;
  /** The options. */
  readonly options: DhcpOptions;
}

/** What {@link dhcpMessage} needs: every header field is optional. */
export type DhcpMessageInit = Partial<DhcpMessage>;

/** Options of {@link encodeDhcp}. */
export interface EncodeDhcpOptions {
  /**
   * Pads the message with Pad options up to this many bytes; default 300, the
   * smallest BOOTP message relays must accept (RFC 1542 section 2.1). 0: no padding.
   */
  readonly minLength?: number;
}

/**
 * Builds a message with defaults for the fields not given: a BOOTREQUEST from an
 * Ethernet client (`htype` 1), addresses `0.0.0.0`, `hlen` the length of `chaddr`
 * (an all-zero 6-byte chaddr by default), no flags, empty `sname`/`file`/options.
 *
 * @param init the fields to set
 * @returns the complete message
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const m = dhcpMessage({ xid: 7, options: { messageType: 1 } });
 * assertEquals([m.op, m.htype, m.hlen, m.ciaddr, m.flags], [1, 1, 6, "0.0.0.0", 0]);
 * ```
 */
export function dhcpMessage(init: DhcpMessageInit = {}): DhcpMessage {
  const chaddr = init.chaddr ?? new Uint8Array(6);
  return {
    op: init.op ?? DhcpOp.BootRequest,
    htype: init.htype ?? DHCP_HTYPE_ETHERNET,
    hlen: init.hlen ?? chaddr.length,
    hops: init.hops ?? 0,
    xid: init.xid ?? 0,
    secs: init.secs ?? 0,
    flags: init.flags ?? 0,
    ciaddr: init.ciaddr ?? "0.0.0.0",
    yiaddr: init.yiaddr ?? "0.0.0.0",
    siaddr: init.siaddr ?? "0.0.0.0",
    giaddr: init.giaddr ?? "0.0.0.0",
    chaddr,
    sname: init.sname ?? "",
    file: init.file ?? "",
    options: init.options ?? {},
  };
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------

/**
 * Parses a dotted-quad IPv4 address into 4 bytes.
 *
 * @param address e.g. `192.0.2.1`
 * @returns the 4 bytes, network order
 * @throws {ProtocolViolationError} `Invalid IPv4 address: ...`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(ipv4Bytes("10.0.2.1"), new Uint8Array([10, 0, 2, 1]));
 * ```
 */
export function ipv4Bytes(address: string): Uint8Array {
  try {
    return parseIpv4Address(address);
  } catch {
    // An address handed to the encoder: a caller's mistake, not bytes from the wire.
    throw new ProtocolViolationError(`Invalid IPv4 address: ${address}`);
  }
}

/**
 * Formats 4 bytes as a dotted-quad IPv4 address.
 *
 * @param bytes the bytes; only the 4 at `offset` are read
 * @param offset where the address starts, default 0
 * @returns e.g. `192.0.2.1`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(ipv4Text(new Uint8Array([9, 10, 0, 2, 1]), 1), "10.0.2.1");
 * ```
 */
export function ipv4Text(bytes: Uint8Array, offset = 0): string {
  return formatIpv4Address(bytes, offset);
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

const _encoder = new TextEncoder();
const _decoder = new TextDecoder();

function _u32(value: number, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ProtocolViolationError(`Invalid DHCP ${what}: ${value}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function _addresses(list: readonly string[], what: string): Uint8Array {
  if (list.length === 0) throw new ProtocolViolationError(`Invalid DHCP ${what}: empty list`);
  const out = new Uint8Array(4 * list.length);
  list.forEach((a, i) => out.set(ipv4Bytes(a), 4 * i));
  return out;
}

function _text(value: string, what: string): Uint8Array {
  const b = _encoder.encode(value);
  if (b.length === 0) throw new ProtocolViolationError(`Invalid DHCP ${what}: empty`);
  return b;
}

/** The options in wire order: 53 first, typed ones by code, the raw ones, 90, then 82 (RFC 3046 section 2.1: relay information last). */
function _optionList(o: DhcpOptions): DhcpRawOption[] {
  const out: DhcpRawOption[] = [];
  const add = (code: number, data: Uint8Array | undefined) => {
    if (data !== undefined) out.push({ code, data });
  };
  if (o.messageType !== undefined) {
    if (!Number.isInteger(o.messageType) || o.messageType < 1 || o.messageType > 255) {
      throw new ProtocolViolationError(`Invalid DHCP message type: ${o.messageType}`);
    }
    add(DhcpOption.MessageType, new Uint8Array([o.messageType]));
  }
  add(DhcpOption.SubnetMask, o.subnetMask === undefined ? undefined : ipv4Bytes(o.subnetMask));
  add(DhcpOption.Router, o.routers === undefined ? undefined : _addresses(o.routers, "routers"));
  add(DhcpOption.DomainNameServer, o.dns === undefined ? undefined : _addresses(o.dns, "DNS"));
  add(DhcpOption.HostName, o.hostname === undefined ? undefined : _text(o.hostname, "hostname"));
  add(
    DhcpOption.RequestedAddress,
    o.requestedAddress === undefined ? undefined : ipv4Bytes(o.requestedAddress),
  );
  add(DhcpOption.LeaseTime, o.leaseTime === undefined ? undefined : _u32(o.leaseTime, "lease"));
  add(DhcpOption.ServerId, o.serverId === undefined ? undefined : ipv4Bytes(o.serverId));
  if (o.parameterRequestList !== undefined) {
    const prl = o.parameterRequestList;
    if (prl.length === 0 || prl.some((c) => !Number.isInteger(c) || c < 1 || c > 254)) {
      throw new ProtocolViolationError(`Invalid DHCP parameter request list: ${prl.join(",")}`);
    }
    add(DhcpOption.ParameterRequestList, new Uint8Array(prl));
  }
  add(DhcpOption.Message, o.message === undefined ? undefined : _text(o.message, "message"));
  add(
    DhcpOption.RenewalTime,
    o.renewalTime === undefined ? undefined : _u32(o.renewalTime, "T1"),
  );
  add(
    DhcpOption.RebindingTime,
    o.rebindingTime === undefined ? undefined : _u32(o.rebindingTime, "T2"),
  );
  if (o.clientId !== undefined) {
    if (o.clientId.length < 2) {
      throw new ProtocolViolationError(
        `Invalid DHCP client identifier: need at least 2 bytes, got ${o.clientId.length}`,
      );
    }
    add(DhcpOption.ClientId, o.clientId);
  }
  if (o.rapidCommit === true) add(DhcpOption.RapidCommit, new Uint8Array(0));
  add(
    DhcpOption.SubnetSelection,
    o.subnetSelection === undefined ? undefined : ipv4Bytes(o.subnetSelection),
  );
  for (const raw of o.other ?? []) {
    if (
      !Number.isInteger(raw.code) || raw.code < 1 || raw.code > 254 ||
      raw.code === DhcpOption.Overload
    ) {
      throw new ProtocolViolationError(`Invalid DHCP raw option code: ${raw.code}`);
    }
    out.push(raw);
  }
  if (o.auth !== undefined) {
    const a = o.auth;
    if (a.replay.length !== DHCP_AUTH_REPLAY_LENGTH) {
      throw new ProtocolViolationError(
        `Invalid DHCP authentication option: replay field of ${a.replay.length} bytes`,
      );
    }
    const data = new Uint8Array(DHCP_AUTH_FIXED_LENGTH + a.info.length);
    data[0] = a.protocol;
    data[1] = a.algorithm;
    data[2] = a.rdm;
    data.set(a.replay, 3);
    data.set(a.info, DHCP_AUTH_FIXED_LENGTH);
    add(DhcpOption.Authentication, data);
  }
  if (o.relayAgentInfo !== undefined) {
    const size = o.relayAgentInfo.reduce((n, s) => n + 2 + s.data.length, 0);
    const w = new ByteWriter(size);
    for (const s of o.relayAgentInfo) {
      if (s.data.length > 255) {
        throw new ProtocolViolationError(
          `Invalid DHCP relay agent sub-option ${s.code}: ${s.data.length} bytes`,
        );
      }
      w.u8(s.code).u8(s.data.length).bytes(s.data);
    }
    add(DhcpOption.RelayAgentInfo, w.finish());
  }
  return out;
}

function _fixedText(value: string, size: number, what: string): Uint8Array {
  const b = _encoder.encode(value);
  if (b.length > size) {
    throw new ProtocolViolationError(`Invalid DHCP ${what}: ${b.length} bytes, at most ${size}`);
  }
  return b;
}

/**
 * Encodes a DHCP message (RFC 2131 section 2): the fixed header, the magic cookie,
 * the options (split into several instances when longer than 255 bytes, RFC 3396
 * section 5), End, and Pad options up to `minLength`. Never uses option overload.
 *
 * @param msg the message
 * @param options `minLength`, default 300 (RFC 1542 section 2.1)
 * @returns the bytes
 * @throws {ProtocolViolationError} for a field that does not fit (bad address,
 *   `chaddr` over 16 bytes, empty router list, client id shorter than 2 bytes)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeDhcp(dhcpMessage({ xid: 0x1234, options: { messageType: 1 } }));
 * assertEquals(bytes.length, 300);
 * assertEquals(decodeDhcp(bytes).options.messageType, 1);
 * ```
 */
export function encodeDhcp(msg: DhcpMessage, options: EncodeDhcpOptions = {}): Uint8Array {
  if (msg.chaddr.length > DHCP_CHADDR_LENGTH) {
    throw new ProtocolViolationError(`Invalid DHCP chaddr: ${msg.chaddr.length} bytes, at most 16`);
  }
  for (
    const [v, max, what] of [
      [msg.op, 255, "op"],
      [msg.htype, 255, "htype"],
      [
        msg.hlen,
        255,
        "hlen",
      ],
      [msg.hops, 255, "hops"],
      [msg.secs, 0xffff, "secs"],
      [msg.flags, 0xffff, "flags"],
      [
        msg.xid,
        0xffffffff,
        "xid",
      ],
    ] as const
  ) {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new ProtocolViolationError(`Invalid DHCP ${what}: ${v}`);
    }
  }
  const sname = _fixedText(msg.sname, DHCP_SNAME_LENGTH, "sname");
  const file = _fixedText(msg.file, DHCP_FILE_LENGTH, "file");
  const list = _optionList(msg.options);
  let optionsLength = 1; // End
  for (const o of list) {
    const chunks = Math.max(1, Math.ceil(o.data.length / 255));
    optionsLength += 2 * chunks + o.data.length;
  }
  const unpadded = DHCP_HEADER_LENGTH + 4 + optionsLength;
  const size = Math.max(unpadded, options.minLength ?? DHCP_MIN_MESSAGE_LENGTH);
  const w = new ByteWriter(size);
  w.u8(msg.op).u8(msg.htype).u8(msg.hlen).u8(msg.hops).u32(msg.xid).u16(msg.secs).u16(msg.flags);
  for (const a of [msg.ciaddr, msg.yiaddr, msg.siaddr, msg.giaddr]) w.bytes(ipv4Bytes(a));
  w.bytes(msg.chaddr).zeros(DHCP_CHADDR_LENGTH - msg.chaddr.length);
  w.bytes(sname).zeros(DHCP_SNAME_LENGTH - sname.length);
  w.bytes(file).zeros(DHCP_FILE_LENGTH - file.length);
  w.u32(DHCP_MAGIC_COOKIE);
  for (const o of list) {
    if (o.data.length === 0) {
      w.u8(o.code).u8(0);
      continue;
    }
    for (let i = 0; i < o.data.length; i += 255) {
      const chunk = o.data.subarray(i, Math.min(i + 255, o.data.length));
      w.u8(o.code).u8(chunk.length).bytes(chunk);
    }
  }
  w.u8(DhcpOption.End);
  w.zeros(size - unpadded); // Pad options are zero bytes
  return w.finish();
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/** Splits an options area into instances; returns whether End was met. */
function _scan(
  bytes: Uint8Array,
  start: number,
  end: number,
  field: string,
  out: DhcpRawOption[],
): boolean {
  let i = start;
  while (i < end) {
    const code = bytes[i]!;
    if (code === DhcpOption.Pad) {
      i++;
      continue;
    }
    if (code === DhcpOption.End) return true;
    if (i + 1 >= end) {
      throw new MalformedMessageError(
        `DHCP option overrun: option ${code} at offset ${i} of the ${field} field has no length`,
      );
    }
    const len = bytes[i + 1]!;
    if (i + 2 + len > end) {
      throw new MalformedMessageError(
        `DHCP option overrun: option ${code} at offset ${i} of the ${field} field needs ${len} bytes, ${
          end - i - 2
        } left`,
      );
    }
    out.push({ code, data: bytes.slice(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return false;
}

function _concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** RFC 3396 section 7: every instance of a code, concatenated, in first-seen order. */
function _merge(instances: readonly DhcpRawOption[]): Map<number, Uint8Array> {
  const parts = new Map<number, Uint8Array[]>();
  for (const o of instances) {
    const list = parts.get(o.code);
    if (list === undefined) parts.set(o.code, [o.data]);
    else list.push(o.data);
  }
  const out = new Map<number, Uint8Array>();
  for (const [code, list] of parts) out.set(code, _concat(list));
  return out;
}

function _fixedLength(code: number, data: Uint8Array, length: number, name: string): void {
  if (data.length !== length) {
    throw new ProtocolViolationError(
      `Invalid DHCP option ${code} (${name}): need ${length} bytes, got ${data.length}`,
    );
  }
}

function _addressList(code: number, data: Uint8Array, name: string): string[] {
  if (data.length === 0 || data.length % 4 !== 0) {
    throw new ProtocolViolationError(
      `Invalid DHCP option ${code} (${name}): ${data.length} bytes, not a non-empty multiple of 4`,
    );
  }
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(ipv4Text(data, i));
  return out;
}

function _u32Of(code: number, data: Uint8Array, name: string): number {
  _fixedLength(code, data, 4, name);
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}

function _subOptions(data: Uint8Array): DhcpRawOption[] {
  const out: DhcpRawOption[] = [];
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) {
      throw new MalformedMessageError(
        `DHCP option overrun: relay agent sub-option at offset ${i} has no length`,
      );
    }
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) {
      throw new MalformedMessageError(
        `DHCP option overrun: relay agent sub-option ${data[i]} needs ${len} bytes, ${
          data.length - i - 2
        } left`,
      );
    }
    out.push({ code: data[i]!, data: data.slice(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}

function _nonEmptyText(code: number, data: Uint8Array, name: string): string {
  if (data.length === 0) {
    throw new ProtocolViolationError(`Invalid DHCP option ${code} (${name}): empty`);
  }
  return _decoder.decode(data);
}

function _typed(merged: Map<number, Uint8Array>): DhcpOptions {
  const o: {
    -readonly [K in keyof DhcpOptions]: DhcpOptions[K];
  } = {};
  const other: DhcpRawOption[] = [];
  for (const [code, data] of merged) {
    switch (code) {
      case DhcpOption.MessageType:
        _fixedLength(code, data, 1, "message type");
        o.messageType = data[0]!;
        break;
      case DhcpOption.SubnetMask:
        _fixedLength(code, data, 4, "subnet mask");
        o.subnetMask = ipv4Text(data);
        break;
      case DhcpOption.Router:
        o.routers = _addressList(code, data, "router");
        break;
      case DhcpOption.DomainNameServer:
        o.dns = _addressList(code, data, "DNS");
        break;
      case DhcpOption.HostName:
        o.hostname = _nonEmptyText(code, data, "host name");
        break;
      case DhcpOption.RequestedAddress:
        _fixedLength(code, data, 4, "requested address");
        o.requestedAddress = ipv4Text(data);
        break;
      case DhcpOption.LeaseTime:
        o.leaseTime = _u32Of(code, data, "lease time");
        break;
      case DhcpOption.ServerId:
        _fixedLength(code, data, 4, "server identifier");
        o.serverId = ipv4Text(data);
        break;
      case DhcpOption.ParameterRequestList:
        if (data.length === 0) {
          throw new ProtocolViolationError(
            `Invalid DHCP option ${code} (parameter request list): empty`,
          );
        }
        o.parameterRequestList = [...data];
        break;
      case DhcpOption.Message:
        o.message = _nonEmptyText(code, data, "message");
        break;
      case DhcpOption.RenewalTime:
        o.renewalTime = _u32Of(code, data, "T1");
        break;
      case DhcpOption.RebindingTime:
        o.rebindingTime = _u32Of(code, data, "T2");
        break;
      case DhcpOption.ClientId:
        if (data.length < 2) {
          throw new ProtocolViolationError(
            `Invalid DHCP option ${code} (client identifier): need at least 2 bytes, got ${data.length}`,
          );
        }
        o.clientId = data;
        break;
      case DhcpOption.RapidCommit:
        _fixedLength(code, data, 0, "rapid commit");
        o.rapidCommit = true;
        break;
      case DhcpOption.RelayAgentInfo:
        o.relayAgentInfo = _subOptions(data);
        break;
      case DhcpOption.Authentication:
        if (data.length < DHCP_AUTH_FIXED_LENGTH) {
          throw new ProtocolViolationError(
            `Invalid DHCP option ${code} (authentication): need at least 11 bytes, got ${data.length}`,
          );
        }
        o.auth = {
          protocol: data[0]!,
          algorithm: data[1]!,
          rdm: data[2]!,
          replay: data.slice(3, 3 + DHCP_AUTH_REPLAY_LENGTH),
          info: data.slice(DHCP_AUTH_FIXED_LENGTH),
        };
        break;
      case DhcpOption.SubnetSelection:
        _fixedLength(code, data, 4, "subnet selection");
        o.subnetSelection = ipv4Text(data);
        break;
      case DhcpOption.Overload:
        break; // consumed by the decoder
      default:
        other.push({ code, data });
    }
  }
  if (other.length > 0) o.other = other;
  return o;
}

function _fieldText(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && bytes[end] !== 0) end++;
  return _decoder.decode(bytes.subarray(offset, end));
}

/**
 * Decodes a DHCP message (RFC 2131 section 2): checks the magic cookie, follows
 * option overload (RFC 2132 section 9.3), concatenates split options (RFC 3396
 * section 7) and decodes the options of {@link DhcpOptions}.
 *
 * @param bytes one UDP payload
 * @returns the message
 * @throws {MalformedMessageError} shorter than 240 bytes, bad magic cookie, an
 *   option running past its field, no End option in the options field
 * @throws {ProtocolViolationError} an option of the wrong length (a 3-byte subnet
 *   mask, a 1-byte client id, a bad overload value), `hlen` over 16
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MalformedMessageError } from "../errors.ts";
 * const m = dhcpMessage({ xid: 1, ciaddr: "192.0.2.7", options: { messageType: 3, subnetSelection: "10.0.2.0" } });
 * const back = decodeDhcp(encodeDhcp(m));
 * assertEquals([back.ciaddr, back.options.subnetSelection], ["192.0.2.7", "10.0.2.0"]);
 * assertThrows(() => decodeDhcp(new Uint8Array(100)), MalformedMessageError, "Truncated DHCP message");
 * ```
 */
export function decodeDhcp(bytes: Uint8Array): DhcpMessage {
  const r = new ByteReader(bytes);
  r.need(DHCP_HEADER_LENGTH + 4, "DHCP message");
  const op = r.u8("DHCP header");
  const htype = r.u8("DHCP header");
  const hlen = r.u8("DHCP header");
  const hops = r.u8("DHCP header");
  const xid = r.u32("DHCP header");
  const secs = r.u16("DHCP header");
  const flags = r.u16("DHCP header");
  const ciaddr = ipv4Text(bytes, 12);
  const yiaddr = ipv4Text(bytes, 16);
  const siaddr = ipv4Text(bytes, 20);
  const giaddr = ipv4Text(bytes, 24);
  if (hlen > DHCP_CHADDR_LENGTH) {
    throw new ProtocolViolationError(`Invalid DHCP hlen: ${hlen}, at most 16`);
  }
  const chaddr = bytes.slice(28, 28 + hlen);
  const cookie = new DataView(bytes.buffer, bytes.byteOffset + DHCP_HEADER_LENGTH, 4).getUint32(0);
  if (cookie !== DHCP_MAGIC_COOKIE) {
    throw new MalformedMessageError(
      `Invalid DHCP magic cookie: 0x${cookie.toString(16).padStart(8, "0")}`,
    );
  }
  const instances: DhcpRawOption[] = [];
  if (!_scan(bytes, DHCP_HEADER_LENGTH + 4, bytes.length, "options", instances)) {
    throw new MalformedMessageError("Truncated DHCP options: no End option");
  }
  let overload = 0;
  const overloadParts = instances.filter((o) => o.code === DhcpOption.Overload);
  if (overloadParts.length > 0) {
    const data = _concat(overloadParts.map((o) => o.data));
    if (data.length !== 1 || data[0]! < 1 || data[0]! > 3) {
      throw new ProtocolViolationError(
        `Invalid DHCP option 52 (overload): ${
          data.length === 1 ? `value ${data[0]}` : `${data.length} bytes`
        }`,
      );
    }
    overload = data[0]!;
    // RFC 3396 section 7: options field, then file, then sname.
    if (overload === DhcpOverload.File || overload === DhcpOverload.Both) {
      _scan(bytes, DHCP_FILE_OFFSET, DHCP_FILE_OFFSET + DHCP_FILE_LENGTH, "file", instances);
    }
    if (overload === DhcpOverload.Sname || overload === DhcpOverload.Both) {
      _scan(bytes, DHCP_SNAME_OFFSET, DHCP_SNAME_OFFSET + DHCP_SNAME_LENGTH, "sname", instances);
    }
  }
  const fileOverloaded = overload === DhcpOverload.File || overload === DhcpOverload.Both;
  const snameOverloaded = overload === DhcpOverload.Sname || overload === DhcpOverload.Both;
  return {
    op,
    htype,
    hlen,
    hops,
    xid,
    secs,
    flags,
    ciaddr,
    yiaddr,
    siaddr,
    giaddr,
    chaddr,
    sname: snameOverloaded ? "" : _fieldText(bytes, DHCP_SNAME_OFFSET, DHCP_SNAME_LENGTH),
    file: fileOverloaded ? "" : _fieldText(bytes, DHCP_FILE_OFFSET, DHCP_FILE_LENGTH),
    options: _typed(_merge(instances)),
  };
}

/**
 * Finds the data of the one instance of an option in the options field of encoded
 * bytes (not following overload): what the option-90 MAC is computed over (RFC 3118
 * section 5.4).
 *
 * @param bytes an encoded DHCP message
 * @param code the option code
 * @returns the offsets of every instance's data (`start`, `length`) in `bytes`
 * @throws {MalformedMessageError} as {@link decodeDhcp} for the options field
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeDhcp(dhcpMessage({ options: { messageType: 1 } }));
 * assertEquals(findDhcpOption(bytes, 53), [{ start: 242, length: 1 }]);
 * ```
 */
export function findDhcpOption(
  bytes: Uint8Array,
  code: number,
): readonly { readonly start: number; readonly length: number }[] {
  if (bytes.length < DHCP_HEADER_LENGTH + 4) {
    throw new MalformedMessageError(
      `Truncated DHCP message: need ${DHCP_HEADER_LENGTH + 4} bytes, got ${bytes.length}`,
    );
  }
  const out: { start: number; length: number }[] = [];
  let i = DHCP_HEADER_LENGTH + 4;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c === DhcpOption.Pad) {
      i++;
      continue;
    }
    if (c === DhcpOption.End) break;
    if (i + 1 >= bytes.length || i + 2 + bytes[i + 1]! > bytes.length) {
      throw new MalformedMessageError(`DHCP option overrun: option ${c} at offset ${i}`);
    }
    const len = bytes[i + 1]!;
    if (c === code) out.push({ start: i + 2, length: len });
    i += 2 + len;
  }
  return out;
}
