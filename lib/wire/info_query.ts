/**
 * The information-service query of the discovery step (RFC 6252 section 7.1, section
 * 6.3 step 1): the MN asks a server "which candidate target networks, with which
 * authentication agent, configuration agent and access router addresses, are near
 * this position", as the information service of IEEE 802.21 answers. The messages
 * are small JSON objects, one per UDP datagram, like 802.21's MIH protocol over UDP:
 * a query is one datagram and an answer one datagram, so the client needs no
 * connection and simply retransmits a lost query (the same request id) after a
 * timeout. HTTP would add a TCP handshake per query (or a kept-alive connection to
 * manage across link switches) for no gain at these sizes.
 *
 * Wire form (UTF-8 JSON text, keys in this order when encoded):
 *
 * - query: `{"v":1,"type":"query","id":7,"pos":{"x":10,"y":0},"radius":500}`;
 *   `pos` and `radius` are optional (no `pos`: every CTN known; `radius` needs `pos`);
 * - answer: `{"v":1,"type":"answer","id":7,"truncated":true,"ctns":[...]}`, the
 *   {@link CtnInfo} objects of lib/ports.ts, nearest first; `truncated` is present
 *   only when the server left out the farthest CTNs to fit one datagram.
 *
 * Decoding is strict: any JSON that is not exactly this shape (unknown key, wrong
 * type, non-integer id or port, non-finite number, address that is not an IP
 * literal, too many CTNs, string too long, oversized datagram, invalid UTF-8) throws
 * {@link MalformedMessageError}, never returns `undefined`. Encoding validates the
 * same way, so nothing invalid is ever sent. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const q = encodeInfoMessage({ type: "query", id: 7, pos: { x: 10, y: 0 }, radius: 500 });
 * assertEquals(new TextDecoder().decode(q), '{"v":1,"type":"query","id":7,"pos":{"x":10,"y":0},"radius":500}');
 * assertEquals(decodeInfoMessage(q), { type: "query", id: 7, pos: { x: 10, y: 0 }, radius: 500 });
 * ```
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import type { Cell, CtnProfile } from "../metrics/cell.ts";
import type { Position } from "../metrics/link_sample.ts";
import type { CtnInfo, ServiceAddress } from "../ports.ts";
import { parseIpAddress } from "./ip_header.ts";

/** The protocol version carried in every message (`"v": 1`). */
export const INFO_QUERY_VERSION = 1;

/** The longest query datagram accepted, bytes: a query is about 80 bytes. */
export const INFO_QUERY_MAX_QUERY_LENGTH = 512;

/**
 * The longest datagram accepted or sent, bytes: below the largest UDP payload over
 * IPv4 (65507) and IPv6 (65527). Answers longer than this are truncated by
 * {@link encodeInfoAnswer}.
 */
export const INFO_QUERY_MAX_MESSAGE_LENGTH = 60_000;

/** At most this many CTNs in one answer. */
export const INFO_QUERY_MAX_CTNS = 256;

/** At most this many PoAs, and this many cells, per CTN. */
export const INFO_QUERY_MAX_POAS = 256;

/** The longest string (network id, PoA id, address, subnet), UTF-16 code units. */
export const INFO_QUERY_MAX_STRING_LENGTH = 255;

/** The largest request id: ids are unsigned 32-bit integers. */
export const INFO_QUERY_MAX_ID = 0xffff_ffff;

/** A query: which CTNs are near this position (RFC 6252 section 7.1). */
export interface InfoQuery {
  /** Always `query`. */
  readonly type: "query";
  /** Request id, 0 to 2^32 - 1; the answer echoes it. Retransmissions keep it. */
  readonly id: number;
  /** Where the MN is, metres; omitted asks for every CTN the server knows. */
  readonly pos?: Position;
  /** Only CTNs whose nearest cell's coverage edge is within this many metres; needs `pos`. */
  readonly radius?: number;
}

/** An answer: the CTNs near the queried position, nearest first. */
export interface InfoAnswer {
  /** Always `answer`. */
  readonly type: "answer";
  /** The id of the query answered. */
  readonly id: number;
  /** The candidates, nearest first; may be empty. */
  readonly ctns: readonly CtnInfo[];
  /** True when the server left out the farthest CTNs to fit one datagram. */
  readonly truncated?: boolean;
}

/** A message of the information query protocol. */
export type InfoMessage = InfoQuery | InfoAnswer;

/** A validation failure at a path inside the message, turned into the public error. */
class _Invalid extends Error {
  readonly path: string;
  readonly detail: string;
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
    this.detail = detail;
  }
}

/**
 * Decodes one datagram of the information query protocol.
 *
 * @param bytes the datagram's payload
 * @returns the query or answer, validated
 * @throws {MalformedMessageError} for an empty, oversized (query over
 *   {@link INFO_QUERY_MAX_QUERY_LENGTH}, any message over
 *   {@link INFO_QUERY_MAX_MESSAGE_LENGTH}), non-UTF-8 or non-JSON datagram, another
 *   version, or any field out of shape
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MalformedMessageError } from "../errors.ts";
 * const bytes = new TextEncoder().encode('{"v":1,"type":"answer","id":7,"ctns":[]}');
 * assertEquals(decodeInfoMessage(bytes), { type: "answer", id: 7, ctns: [] });
 * assertThrows(
 *   () => decodeInfoMessage(new TextEncoder().encode('{"v":1,"type":"query","id":-1}')),
 *   MalformedMessageError,
 *   "Malformed info message: id",
 * );
 * ```
 */
export function decodeInfoMessage(bytes: Uint8Array): InfoMessage {
  if (bytes.length === 0) throw new MalformedMessageError("Malformed info message: empty datagram");
  if (bytes.length > INFO_QUERY_MAX_MESSAGE_LENGTH) {
    throw new MalformedMessageError(
      `Oversized info message: ${bytes.length} bytes, at most ${INFO_QUERY_MAX_MESSAGE_LENGTH}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new MalformedMessageError("Malformed info message: invalid UTF-8", { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new MalformedMessageError("Malformed info message: not JSON", { cause });
  }
  const message = _wrap("Malformed info message", () => _message(json));
  if (message.type === "query" && bytes.length > INFO_QUERY_MAX_QUERY_LENGTH) {
    throw new MalformedMessageError(
      `Oversized info query: ${bytes.length} bytes, at most ${INFO_QUERY_MAX_QUERY_LENGTH}`,
    );
  }
  return message;
}

/**
 * Encodes a query or an answer, after validating it as {@link decodeInfoMessage}
 * does; keys come out in the canonical order of the module documentation.
 *
 * @param message the query or answer
 * @returns the datagram's payload
 * @throws {MalformedMessageError} for an invalid field, or a message longer than the
 *   limits (use {@link encodeInfoAnswer} to truncate an answer instead)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = encodeInfoMessage({ type: "answer", id: 1, ctns: [] });
 * assertEquals(new TextDecoder().decode(a), '{"v":1,"type":"answer","id":1,"ctns":[]}');
 * ```
 */
export function encodeInfoMessage(message: InfoMessage): Uint8Array {
  const canonical = _wrap("Malformed info message", () => _message(_wire(message)));
  const bytes = new TextEncoder().encode(JSON.stringify(_wire(canonical)));
  const limit = canonical.type === "query"
    ? INFO_QUERY_MAX_QUERY_LENGTH
    : INFO_QUERY_MAX_MESSAGE_LENGTH;
  if (bytes.length > limit) {
    throw new MalformedMessageError(
      `Oversized info ${canonical.type}: ${bytes.length} bytes, at most ${limit}`,
    );
  }
  return bytes;
}

/**
 * Encodes an answer that fits one datagram: when all the CTNs do not fit in
 * `maxLength` bytes (or exceed {@link INFO_QUERY_MAX_CTNS}), the longest prefix of
 * the list that fits is sent, flagged `truncated` (the list is nearest first, so the
 * farthest CTNs are left out).
 *
 * @param id the id of the query answered
 * @param ctns the candidates, nearest first
 * @param maxLength the datagram limit, bytes (default and at most
 *   {@link INFO_QUERY_MAX_MESSAGE_LENGTH})
 * @returns the payload and how many CTNs it carries
 * @throws {MalformedMessageError} for an invalid id or CTN
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ctn = (n: number) => ({
 *   network: `net${n}`, aa: { address: "10.0.0.1" }, ca: { address: "10.0.0.2" },
 *   ar: { address: "10.0.0.3" }, poas: [`ap${n}`],
 * });
 * const { bytes, included } = encodeInfoAnswer(9, [ctn(1), ctn(2), ctn(3)], 300);
 * assertEquals(included, 2);
 * assertEquals(decodeInfoMessage(bytes), { type: "answer", id: 9, truncated: true, ctns: [ctn(1), ctn(2)] });
 * ```
 */
export function encodeInfoAnswer(
  id: number,
  ctns: readonly CtnInfo[],
  maxLength: number = INFO_QUERY_MAX_MESSAGE_LENGTH,
): { readonly bytes: Uint8Array; readonly included: number } {
  const limit = Math.min(maxLength, INFO_QUERY_MAX_MESSAGE_LENGTH);
  const all = Math.min(ctns.length, INFO_QUERY_MAX_CTNS);
  const encode = (n: number): Uint8Array => {
    const answer: InfoAnswer = n < ctns.length
      ? { type: "answer", id, truncated: true, ctns: ctns.slice(0, n) }
      : { type: "answer", id, ctns };
    const canonical = _wrap("Malformed info message", () => _message(_wire(answer)));
    return new TextEncoder().encode(JSON.stringify(_wire(canonical)));
  };
  const full = encode(all);
  if (full.length <= limit) return { bytes: full, included: all };
  // Binary search for the longest prefix that fits (the length grows with n).
  let lo = 0;
  let hi = all - 1;
  let best = encode(0);
  if (best.length > limit) {
    throw new MalformedMessageError(
      `Oversized info answer: ${best.length} bytes with no CTN, at most ${limit}`,
    );
  }
  let bestN = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const bytes = encode(mid);
    if (bytes.length <= limit) {
      best = bytes;
      bestN = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return { bytes: best, included: bestN };
}

/**
 * Validates an untrusted value (parsed JSON, a configuration file) as a
 * {@link CtnInfo}, with the same rules as the wire codec: addresses are IP literals,
 * ports integers 1-65535, each cell and the profile name this CTN's network, each
 * cell's PoA is one of `poas`, no unknown keys (a typo such as `cell` for `cells` is
 * refused rather than silently ignored).
 *
 * @param value the candidate
 * @param path the name of the value in error messages (default `ctn`)
 * @returns a fresh, validated copy with keys in canonical order
 * @throws {MalformedMessageError} naming the offending field
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ctn = { network: "B", aa: { address: "10.0.2.2", port: 7160 }, ca: { address: "10.0.2.3" },
 *   ar: { address: "10.0.2.1" }, poas: ["apB1"] };
 * assertEquals(parseCtnInfo(ctn), ctn);
 * assertThrows(() => parseCtnInfo({ ...ctn, ar: { address: "ten" } }), Error, "Invalid CTN info: ctn.ar.address");
 * ```
 */
export function parseCtnInfo(value: unknown, path = "ctn"): CtnInfo {
  return _wrap("Invalid CTN info", () => _ctn(value, path));
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

function _wrap<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof _Invalid) throw new MalformedMessageError(`${prefix}: ${e.message}`);
    throw e;
  }
}

/** The plain-object form to serialize (drops `undefined`, adds the version). */
function _wire(message: InfoMessage): unknown {
  if (message.type === "query") {
    return {
      v: INFO_QUERY_VERSION,
      type: "query",
      id: message.id,
      ...(message.pos === undefined ? {} : { pos: message.pos }),
      ...(message.radius === undefined ? {} : { radius: message.radius }),
    };
  }
  return {
    v: INFO_QUERY_VERSION,
    type: "answer",
    id: message.id,
    ...(message.truncated === true ? { truncated: true } : {}),
    ctns: message.ctns,
  };
}

function _message(json: unknown): InfoMessage {
  const o = _object(json, "message");
  if (o.v !== INFO_QUERY_VERSION) {
    throw new _Invalid("v", `expected version ${INFO_QUERY_VERSION}, got ${_show(o.v)}`);
  }
  const id = _int(o.id, "id", 0, INFO_QUERY_MAX_ID);
  if (o.type === "query") {
    _keys(o, "message", ["v", "type", "id", "pos", "radius"]);
    const pos = o.pos === undefined ? undefined : _position(o.pos, "pos");
    if (o.radius !== undefined && pos === undefined) {
      throw new _Invalid("radius", "needs pos");
    }
    const radius = o.radius === undefined ? undefined : _positive(o.radius, "radius");
    return {
      type: "query",
      id,
      ...(pos === undefined ? {} : { pos }),
      ...(radius === undefined ? {} : { radius }),
    };
  }
  if (o.type === "answer") {
    _keys(o, "message", ["v", "type", "id", "truncated", "ctns"]);
    if (o.truncated !== undefined && o.truncated !== true) {
      throw new _Invalid("truncated", `expected true or nothing, got ${_show(o.truncated)}`);
    }
    const list = _array(o.ctns, "ctns", INFO_QUERY_MAX_CTNS);
    const ctns = list.map((c, i) => _ctn(c, `ctns[${i}]`));
    const seen = new Set<string>();
    for (const [i, c] of ctns.entries()) {
      if (seen.has(c.network)) throw new _Invalid(`ctns[${i}].network`, `duplicate ${c.network}`);
      seen.add(c.network);
    }
    return { type: "answer", id, ...(o.truncated === true ? { truncated: true } : {}), ctns };
  }
  throw new _Invalid("type", `expected "query" or "answer", got ${_show(o.type)}`);
}

function _ctn(value: unknown, path: string): CtnInfo {
  const o = _object(value, path);
  _keys(o, path, ["network", "aa", "ca", "ar", "poas", "cells", "subnet", "profile"]);
  const network = _string(o.network, `${path}.network`);
  const aa = _service(o.aa, `${path}.aa`);
  const ca = _service(o.ca, `${path}.ca`);
  const ar = _service(o.ar, `${path}.ar`);
  const poas = _array(o.poas, `${path}.poas`, INFO_QUERY_MAX_POAS).map((p, i) =>
    _string(p, `${path}.poas[${i}]`)
  );
  if (new Set(poas).size !== poas.length) throw new _Invalid(`${path}.poas`, "duplicate PoA");
  const cells = o.cells === undefined
    ? undefined
    : _array(o.cells, `${path}.cells`, INFO_QUERY_MAX_POAS).map((c, i) =>
      _cell(c, `${path}.cells[${i}]`, network, poas)
    );
  const subnet = o.subnet === undefined ? undefined : _cidr(o.subnet, `${path}.subnet`);
  const profile = o.profile === undefined
    ? undefined
    : _profile(o.profile, `${path}.profile`, network);
  return {
    network,
    aa,
    ca,
    ar,
    poas,
    ...(cells === undefined ? {} : { cells }),
    ...(subnet === undefined ? {} : { subnet }),
    ...(profile === undefined ? {} : { profile }),
  };
}

function _service(value: unknown, path: string): ServiceAddress {
  const o = _object(value, path);
  _keys(o, path, ["address", "port"]);
  const address = _ip(o.address, `${path}.address`);
  const port = o.port === undefined ? undefined : _int(o.port, `${path}.port`, 1, 65535);
  return port === undefined ? { address } : { address, port };
}

function _cell(value: unknown, path: string, network: string, poas: readonly string[]): Cell {
  const o = _object(value, path);
  _keys(o, path, ["poa", "network", "pos", "coverage", "txPower"]);
  const poa = _string(o.poa, `${path}.poa`);
  if (!poas.includes(poa)) throw new _Invalid(`${path}.poa`, `${poa} is not in poas`);
  const cellNetwork = _string(o.network, `${path}.network`);
  if (cellNetwork !== network) {
    throw new _Invalid(`${path}.network`, `expected ${network}, got ${cellNetwork}`);
  }
  const pos = _position(o.pos, `${path}.pos`);
  const coverage = _positive(o.coverage, `${path}.coverage`);
  const txPower = o.txPower === undefined ? undefined : _finite(o.txPower, `${path}.txPower`);
  return {
    poa,
    network,
    pos,
    coverage,
    ...(txPower === undefined ? {} : { txPower }),
  };
}

function _profile(value: unknown, path: string, network: string): CtnProfile {
  const o = _object(value, path);
  _keys(o, path, ["network", "rttMs", "tpskMs", "tconfMs", "tbuMs"]);
  const n = _string(o.network, `${path}.network`);
  if (n !== network) throw new _Invalid(`${path}.network`, `expected ${network}, got ${n}`);
  const out: {
    network: string;
    rttMs?: number;
    tpskMs?: number;
    tconfMs?: number;
    tbuMs?: number;
  } = { network };
  for (const key of ["rttMs", "tpskMs", "tconfMs", "tbuMs"] as const) {
    if (o[key] !== undefined) out[key] = _nonNegative(o[key], `${path}.${key}`);
  }
  return out;
}

function _position(value: unknown, path: string): Position {
  const o = _object(value, path);
  _keys(o, path, ["x", "y"]);
  return { x: _finite(o.x, `${path}.x`), y: _finite(o.y, `${path}.y`) };
}

function _cidr(value: unknown, path: string): string {
  const text = _string(value, path);
  const slash = text.indexOf("/");
  if (slash < 0) throw new _Invalid(path, `expected ADDRESS/PREFIX, got ${_show(text)}`);
  const bytes = _parseIp(text.slice(0, slash), path);
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > bytes.length * 8) {
    throw new _Invalid(path, `invalid prefix length in ${_show(text)}`);
  }
  return text;
}

function _ip(value: unknown, path: string): string {
  const text = _string(value, path);
  _parseIp(text, path);
  return text;
}

function _parseIp(text: string, path: string): Uint8Array {
  try {
    return parseIpAddress(text);
  } catch {
    throw new _Invalid(path, `expected an IP address, got ${_show(text)}`);
  }
}

function _object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new _Invalid(path, `expected an object, got ${_show(value)}`);
  }
  return value as Record<string, unknown>;
}

function _keys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new _Invalid(path, `unknown key ${_show(key)}`);
  }
}

function _array(value: unknown, path: string, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw new _Invalid(path, `expected an array, got ${_show(value)}`);
  if (value.length > max) throw new _Invalid(path, `${value.length} entries, at most ${max}`);
  return value;
}

function _string(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new _Invalid(path, `expected a non-empty string, got ${_show(value)}`);
  }
  if (value.length > INFO_QUERY_MAX_STRING_LENGTH) {
    throw new _Invalid(
      path,
      `${value.length} characters, at most ${INFO_QUERY_MAX_STRING_LENGTH}`,
    );
  }
  return value;
}

function _finite(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new _Invalid(path, `expected a finite number, got ${_show(value)}`);
  }
  return value;
}

function _positive(value: unknown, path: string): number {
  const n = _finite(value, path);
  if (n <= 0) throw new _Invalid(path, `expected a positive number, got ${n}`);
  return n;
}

function _nonNegative(value: unknown, path: string): number {
  const n = _finite(value, path);
  if (n < 0) throw new _Invalid(path, `expected a number at least 0, got ${n}`);
  return n;
}

function _int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new _Invalid(path, `expected an integer ${min} to ${max}, got ${_show(value)}`);
  }
  return value;
}

function _show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
