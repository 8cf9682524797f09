/**
 * SIP message codec (RFC 3261 sections 7, 18.3, 20 and 25) with what the SIP
 * mobility user agent of RFC 6252 section 7.5 needs: header lookup (compact forms
 * normalised, lists split where the grammar allows), parsed Via, CSeq, From, To,
 * Contact, Call-ID, Max-Forwards and Expires, the mandatory-header check of section
 * 8.1.1, and builders for a request and for a response to a request (section 8.2.6).
 *
 * Pure: no sockets, no clocks. Randomness (branches, tags, Call-IDs) comes from an
 * injected `(n) => Uint8Array`. Bodies are bytes; the codec never looks into them
 * (see `sdp.ts` for SDP). Decoding is bounded by {@link SIP_LIMITS}: message size,
 * header count and line length.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const text = "OPTIONS sip:bob@192.0.2.4 SIP/2.0\r\n" +
 *   "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n" +
 *   "Max-Forwards: 70\r\nt: <sip:bob@192.0.2.4>\r\nf: <sip:alice@192.0.2.1>;tag=1928301774\r\n" +
 *   "i: a84b4c76e66710\r\nCSeq: 63104 OPTIONS\r\nl: 0\r\n\r\n";
 * const msg = validateSipMessage(decodeSip(new TextEncoder().encode(text)));
 * assertEquals(header(msg, "Call-ID"), "a84b4c76e66710");
 * assertEquals(topVia(msg).branch, "z9hG4bK776asdhds");
 * assertEquals(cseq(msg), { seq: 63104, method: "OPTIONS" });
 * assertEquals(decodeSip(encodeSip(msg)), msg);
 * ```
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { hex } from "./_bytes.ts";
import {
  BRANCH_MAGIC_COOKIE,
  COMPACT_HEADER_FORMS,
  DEFAULT_MAX_FORWARDS,
  MAX_MAX_FORWARDS,
  SIP_LIMITS,
  SIP_LIST_HEADERS,
  SIP_VERSION,
  type SipLimits,
} from "./sip_constants.ts";

/** One header field (RFC 3261 section 7.3), unfolded, compact name normalised. */
export interface SipHeader {
  /** The field name as received, except that compact forms become long names. */
  readonly name: string;
  /** The field value without leading or trailing whitespace, folding undone. */
  readonly value: string;
}

/** A SIP request (RFC 3261 section 7.1). */
export interface SipRequest {
  /** Discriminates requests from responses. */
  readonly kind: "request";
  /** The method, a token, case-sensitive (`INVITE`). */
  readonly method: string;
  /** The Request-URI (`sip:bob@192.0.2.4`). */
  readonly uri: string;
  /** The SIP version, `SIP/2.0`. */
  readonly version: string;
  /** The header fields, in order. */
  readonly headers: readonly SipHeader[];
  /** The message body (possibly empty). */
  readonly body: Uint8Array;
}

/** A SIP response (RFC 3261 section 7.2). */
export interface SipResponse {
  /** Discriminates responses from requests. */
  readonly kind: "response";
  /** The status code, 100 to 699. */
  readonly status: number;
  /** The reason phrase (possibly empty). */
  readonly reason: string;
  /** The SIP version, `SIP/2.0`. */
  readonly version: string;
  /** The header fields, in order. */
  readonly headers: readonly SipHeader[];
  /** The message body (possibly empty). */
  readonly body: Uint8Array;
}

/** A SIP request or response. */
export type SipMessage = SipRequest | SipResponse;

/** Options of {@link decodeSip}. */
export interface DecodeSipOptions {
  /** Limits replacing those of {@link SIP_LIMITS}. */
  readonly limits?: Partial<SipLimits>;
}

/** A parsed Via value (RFC 3261 section 20.42, RFC 3581 for rport). */
export interface SipVia {
  /** Protocol name and version, `SIP/2.0`. */
  readonly protocol: string;
  /** The transport, upper-case (`UDP`). */
  readonly transport: string;
  /** The sent-by host: a name, an IPv4 address or a bracketed IPv6 reference. */
  readonly host: string;
  /** The sent-by port, when given. */
  readonly port?: number;
  /** All parameters, names lower-case; a flag parameter has the value "". */
  readonly params: ReadonlyMap<string, string>;
  /** The branch parameter (RFC 3261 section 8.1.1.7). */
  readonly branch?: string;
  /** The received parameter added by the server (RFC 3261 section 18.2.1). */
  readonly received?: string;
  /** rport: `true` when asked for (flag), the port once filled in (RFC 3581). */
  readonly rport?: number | true;
}

/** A parsed From, To or Contact value (RFC 3261 sections 20.10, 20.20, 20.39). */
export interface SipNameAddr {
  /** The display name, unquoted, when present. */
  readonly displayName?: string;
  /** The URI (`sip:alice@192.0.2.1`), or `*` for a wildcard Contact. */
  readonly uri: string;
  /** The header parameters, names lower-case; a flag parameter has the value "". */
  readonly params: ReadonlyMap<string, string>;
  /** The tag parameter (RFC 3261 section 19.3). */
  readonly tag?: string;
  /** The expires parameter of a Contact, seconds (RFC 3261 section 20.10). */
  readonly expires?: number;
}

/** A parsed CSeq value (RFC 3261 section 20.16). */
export interface SipCSeq {
  /** The sequence number, 0 to 2^32 - 1. */
  readonly seq: number;
  /** The method. */
  readonly method: string;
}

/** A parsed SIP or SIPS URI (RFC 3261 section 19.1.1). */
export interface SipUri {
  /** `sip` or `sips`, lower-case. */
  readonly scheme: "sip" | "sips";
  /** The user part, when present (still %-escaped). */
  readonly user?: string;
  /** The host: a name, an IPv4 address or a bracketed IPv6 reference. */
  readonly host: string;
  /** The port, when given. */
  readonly port?: number;
  /** The URI parameters, names lower-case; a flag parameter has the value "". */
  readonly params: ReadonlyMap<string, string>;
}

/** What {@link formatVia} and {@link sipRequest} need to write a Via value. */
export interface SipViaInit {
  /** The transport; default `UDP`. */
  readonly transport?: string;
  /** The sent-by host (an IPv6 address is bracketed automatically). */
  readonly host: string;
  /** The sent-by port. */
  readonly port?: number;
  /** The branch, from {@link newBranch}. */
  readonly branch: string;
  /** Asks for the rport parameter (RFC 3581 section 3). */
  readonly rport?: boolean;
}

/** What {@link formatNameAddr} and {@link sipRequest} need to write From, To, Contact. */
export interface SipNameAddrInit {
  /** The URI. */
  readonly uri: string;
  /** The display name, quoted on output. */
  readonly displayName?: string;
  /** The tag parameter. */
  readonly tag?: string;
  /** Other header parameters (`{ expires: "3600" }`); "" writes a flag. */
  readonly params?: Readonly<Record<string, string>>;
}

/** What {@link sipRequest} needs (RFC 3261 section 8.1.1). */
export interface SipRequestInit {
  /** The method (`INVITE`). */
  readonly method: string;
  /** The Request-URI. */
  readonly uri: string;
  /** The Via of this UA, with a fresh branch. */
  readonly via: SipViaInit;
  /** The From (with the UAC's tag, section 8.1.1.3). */
  readonly from: SipNameAddrInit;
  /** The To (with the remote tag inside a dialog). */
  readonly to: SipNameAddrInit;
  /** The Call-ID. */
  readonly callId: string;
  /** The CSeq number; the method is the request's. */
  readonly cseq: number;
  /** The Contact, required in an INVITE (section 8.1.1.8). */
  readonly contact?: SipNameAddrInit;
  /** Max-Forwards; default 70 (section 8.1.1.6). */
  readonly maxForwards?: number;
  /** More headers, placed after the ones above. */
  readonly headers?: readonly SipHeader[];
  /** The body; a string is encoded as UTF-8. */
  readonly body?: Uint8Array | string;
  /** The Content-Type of the body (`application/sdp`). */
  readonly contentType?: string;
}

/** Options of {@link sipResponseTo}. */
export interface SipResponseOptions {
  /**
   * The UAS's tag, added to To when the request's To has none; required then for
   * every status but 100 (RFC 3261 section 8.2.6.2). Use the same tag for every
   * response of one dialog (from {@link newTag}).
   */
  readonly toTag?: string;
  /** More headers, placed after the copied ones. */
  readonly headers?: readonly SipHeader[];
  /** The body; a string is encoded as UTF-8. */
  readonly body?: Uint8Array | string;
  /** The Content-Type of the body (`application/sdp`). */
  readonly contentType?: string;
}

const CR = 0x0d;
const LF = 0x0a;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const ENCODER = new TextEncoder();
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const VERSION = /^SIP\/[0-9]+\.[0-9]+$/i;
const URI = /^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$/;
const DIGITS = /^[0-9]+$/;
const MAX_U32 = 0xffffffff;

/** Whether text has a control character other than HTAB (CR and LF included). */
function _hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

function _malformed(message: string): MalformedMessageError {
  return new MalformedMessageError(message);
}

/** Shortens text quoted in an error message. */
function _quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/**
 * The long name of a header: compact forms (RFC 3261 section 7.3.3) become long
 * names, every other name is returned unchanged.
 *
 * @param name a header name, any case
 * @returns the long name for a compact form, else `name`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(canonicalHeaderName("I"), "Call-ID");
 * assertEquals(canonicalHeaderName("x-custom"), "x-custom");
 * ```
 */
export function canonicalHeaderName(name: string): string {
  return name.length === 1 ? COMPACT_HEADER_FORMS.get(name.toLowerCase()) ?? name : name;
}

/** Lower-case long name, for case-insensitive comparison. */
function _key(name: string): string {
  return canonicalHeaderName(name).toLowerCase();
}

/** Decodes one physical line, refusing bytes that are not UTF-8 or are control characters. */
function _line(bytes: Uint8Array, number: number): string {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
      throw _malformed(
        `Invalid SIP message: control character 0x${
          b.toString(16).padStart(2, "0")
        } in line ${number}`,
      );
    }
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    throw _malformed(`Invalid SIP message: line ${number} is not UTF-8`);
  }
}

function _startLine(
  line: string,
):
  | Pick<SipRequest, "kind" | "method" | "uri" | "version">
  | Pick<
    SipResponse,
    "kind" | "status" | "reason" | "version"
  > {
  if (/^SIP\//i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 section 7.2)
    const m = /^([^ ]+) ([0-9]{3})(?: (.*))?$/.exec(line);
    if (m === null || !VERSION.test(m[1]!)) {
      throw _malformed(`Invalid SIP status line: ${_quote(line)}`);
    }
    const status = Number(m[2]);
    if (status < 100 || status > 699) {
      throw _malformed(`Invalid SIP status code: ${m[2]}`);
    }
    return { kind: "response", version: m[1]!.toUpperCase(), status, reason: m[3] ?? "" };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 section 7.1)
  const parts = line.split(" ");
  if (
    parts.length !== 3 || !TOKEN.test(parts[0]!) || !URI.test(parts[1]!) ||
    !VERSION.test(parts[2]!)
  ) {
    throw _malformed(`Invalid SIP request line: ${_quote(line)}`);
  }
  return { kind: "request", method: parts[0]!, uri: parts[1]!, version: parts[2]!.toUpperCase() };
}

function _header(field: string): SipHeader {
  const colon = field.indexOf(":");
  const name = colon < 0 ? "" : field.slice(0, colon).replace(/[ \t]+$/, "");
  if (!TOKEN.test(name)) {
    throw _malformed(`Invalid SIP header: ${_quote(field)}`);
  }
  return {
    name: canonicalHeaderName(name),
    value: field.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ""),
  };
}

/**
 * Decodes a SIP message received in one UDP datagram (RFC 3261 sections 7 and
 * 18.3). Leading CRLFs are skipped (section 7.5); lines may end in CRLF or a bare
 * LF; folded header lines are joined with one space (section 7.3.1); compact header
 * names become long names. The body is what Content-Length says: absent, the rest
 * of the datagram; smaller, the extra bytes are dropped; larger, the message is
 * malformed (section 18.3).
 *
 * @param bytes the datagram
 * @param options limits replacing those of {@link SIP_LIMITS}
 * @returns the request or response; call {@link validateSipMessage} before acting on it
 * @throws {MalformedMessageError} on a bad start line or header, bytes that are not
 *   UTF-8 or are control characters in the header section, a bad or too large
 *   Content-Length, or a limit exceeded (message size, header count, line length)
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = new TextEncoder().encode("SIP/2.0 180 Ringing\r\nl: 0\r\n\r\n");
 * const msg = decodeSip(bytes);
 * assertEquals(msg.kind === "response" && msg.status, 180);
 * assertEquals(msg.headers, [{ name: "Content-Length", value: "0" }]);
 * assertThrows(() => decodeSip(new TextEncoder().encode("SIP/2.0 180 Ringing\r\nl: 9\r\n\r\n")));
 * ```
 */
export function decodeSip(bytes: Uint8Array, options: DecodeSipOptions = {}): SipMessage {
  const limits: SipLimits = { ...SIP_LIMITS, ...options.limits };
  if (bytes.length > limits.maxMessageBytes) {
    throw _malformed(
      `SIP message too large: ${bytes.length} bytes, limit maxMessageBytes ${limits.maxMessageBytes}`,
    );
  }
  let pos = 0;
  while (pos < bytes.length && (bytes[pos] === CR || bytes[pos] === LF)) pos++;
  if (pos === bytes.length) throw _malformed("Invalid SIP message: empty");
  const lines: string[] = [];
  let bodyStart = -1;
  while (pos < bytes.length) {
    const lf = bytes.indexOf(LF, pos);
    const stop = lf < 0 ? bytes.length : lf;
    const end = stop > pos && bytes[stop - 1] === CR ? stop - 1 : stop;
    if (end - pos > limits.maxLineBytes) {
      throw _malformed(
        `SIP line too long: line ${lines.length + 1} has ${
          end - pos
        } bytes, limit maxLineBytes ${limits.maxLineBytes}`,
      );
    }
    if (lf < 0) break;
    if (end === pos) {
      bodyStart = lf + 1;
      break;
    }
    lines.push(_line(bytes.subarray(pos, end), lines.length + 1));
    pos = lf + 1;
  }
  if (bodyStart < 0) {
    throw _malformed("Invalid SIP message: no empty line after the header fields");
  }
  const start = _startLine(lines[0]!);
  const fields: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line[0] === " " || line[0] === "\t") {
      // LWS continuation (RFC 3261 section 7.3.1): the fold is one SP.
      if (fields.length === 0) {
        throw _malformed("Invalid SIP header: continuation line before the first header");
      }
      const joined = `${fields[fields.length - 1]!.replace(/[ \t]+$/, "")} ${
        line.replace(/^[ \t]+/, "")
      }`;
      if (joined.length > limits.maxLineBytes) {
        throw _malformed(
          `SIP header too long: more than maxLineBytes ${limits.maxLineBytes} after unfolding`,
        );
      }
      fields[fields.length - 1] = joined;
      continue;
    }
    if (fields.length >= limits.maxHeaders) {
      throw _malformed(`Too many SIP headers: more than maxHeaders ${limits.maxHeaders}`);
    }
    fields.push(line);
  }
  const headerList = fields.map(_header);
  const rest = bytes.subarray(bodyStart);
  let length: number | undefined;
  for (const h of headerList) {
    if (h.name.toLowerCase() !== "content-length") continue;
    if (!DIGITS.test(h.value) || h.value.length > 10) {
      throw _malformed(`Invalid SIP Content-Length: ${_quote(h.value)}`);
    }
    const n = Number(h.value);
    if (length !== undefined && n !== length) {
      throw _malformed(`Invalid SIP Content-Length: two values, ${length} and ${n}`);
    }
    length = n;
  }
  if (length !== undefined && length > rest.length) {
    throw _malformed(
      `Truncated SIP body: Content-Length ${length}, datagram has ${rest.length} bytes`,
    );
  }
  const body = rest.slice(0, length ?? rest.length);
  // The value in canonical form ("007" -> "7"), as the encoder writes it.
  const normalised = length === undefined
    ? headerList
    : headerList.map((h) =>
      h.name.toLowerCase() === "content-length" ? { name: h.name, value: String(length) } : h
    );
  return { ...start, headers: normalised, body };
}

function _checkValue(what: string, value: string): void {
  if (_hasControl(value)) {
    throw new ProtocolViolationError(`Invalid SIP ${what}: control character in ${_quote(value)}`);
  }
}

/**
 * Encodes a SIP message with CRLF line ends (RFC 3261 section 7). Headers are
 * written in order as `Name: value`; Content-Length is always written with the
 * body's actual length (replacing a stale value in place, dropping duplicates, or
 * appended when absent; RFC 3261 section 20.14), so the output never lies about its
 * body.
 *
 * @param msg the message
 * @returns the bytes, ready for one UDP datagram
 * @throws {ProtocolViolationError} on a start line that breaks the grammar, a header
 *   name that is not a token, or a control character (CR, LF, NUL...) in a value,
 *   which would inject headers
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const bytes = encodeSip({
 *   kind: "response", status: 200, reason: "OK", version: "SIP/2.0",
 *   headers: [{ name: "Call-ID", value: "abc" }], body: new Uint8Array(0),
 * });
 * assertEquals(new TextDecoder().decode(bytes), "SIP/2.0 200 OK\r\nCall-ID: abc\r\nContent-Length: 0\r\n\r\n");
 * ```
 */
export function encodeSip(msg: SipMessage): Uint8Array {
  if (!VERSION.test(msg.version)) {
    throw new ProtocolViolationError(`Invalid SIP version: ${_quote(msg.version)}`);
  }
  let start: string;
  if (msg.kind === "request") {
    if (!TOKEN.test(msg.method)) {
      throw new ProtocolViolationError(`Invalid SIP method: ${_quote(msg.method)}`);
    }
    if (!URI.test(msg.uri)) {
      throw new ProtocolViolationError(`Invalid SIP Request-URI: ${_quote(msg.uri)}`);
    }
    start = `${msg.method} ${msg.uri} ${msg.version}`;
  } else {
    if (!Number.isInteger(msg.status) || msg.status < 100 || msg.status > 699) {
      throw new ProtocolViolationError(`Invalid SIP status code: ${msg.status}`);
    }
    _checkValue("reason phrase", msg.reason);
    start = `${msg.version} ${msg.status} ${msg.reason}`;
  }
  let text = `${start}\r\n`;
  let lengthWritten = false;
  for (const h of msg.headers) {
    if (!TOKEN.test(h.name)) {
      throw new ProtocolViolationError(`Invalid SIP header name: ${_quote(h.name)}`);
    }
    if (_key(h.name) === "content-length") {
      if (!lengthWritten) text += `${h.name}: ${msg.body.length}\r\n`;
      lengthWritten = true;
      continue;
    }
    _checkValue(`${h.name} value`, h.value);
    text += `${h.name}: ${h.value}\r\n`;
  }
  if (!lengthWritten) text += `Content-Length: ${msg.body.length}\r\n`;
  const head = ENCODER.encode(`${text}\r\n`);
  const out = new Uint8Array(head.length + msg.body.length);
  out.set(head);
  out.set(msg.body, head.length);
  return out;
}

/**
 * Narrows a message to a request.
 *
 * @param msg a request or response
 * @returns whether it is a request
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\n\r\n"));
 * assertEquals(isSipRequest(msg) && msg.method, "BYE");
 * ```
 */
export function isSipRequest(msg: SipMessage): msg is SipRequest {
  return msg.kind === "request";
}

/**
 * The first value of a header, by case-insensitive name (compact forms accepted).
 *
 * @param msg the message
 * @param name the header name (`call-id`, `i`, `Call-ID` are the same)
 * @returns the value of the first such field, or undefined
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\ni: x1\r\n\r\n"));
 * assertEquals(header(msg, "CALL-ID"), "x1");
 * assertEquals(header(msg, "To"), undefined);
 * ```
 */
export function header(msg: SipMessage, name: string): string | undefined {
  const key = _key(name);
  return msg.headers.find((h) => _key(h.name) === key)?.value;
}

/**
 * Splits a comma-separated header value at the commas outside quoted strings and
 * angle brackets (RFC 3261 section 7.3.1), dropping empty elements.
 */
function _splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "<") angle = true;
    else if (c === ">") angle = false;
    else if (c === "," && !angle) {
      out.push(value.slice(from, i));
      from = i + 1;
    }
  }
  out.push(value.slice(from));
  return out.map((s) => s.replace(/^[ \t]+|[ \t]+$/g, "")).filter((s) => s !== "");
}

/**
 * Every value of a header, by case-insensitive name, with fields of list headers
 * (Via, Contact, Route, Allow, ... see `SIP_LIST_HEADERS`) split at their commas;
 * other headers (WWW-Authenticate, Date, extension headers) are never split (RFC
 * 3261 section 7.3.1).
 *
 * @param msg the message
 * @param name the header name, any case, compact forms accepted
 * @returns the values in order (empty when absent)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode(
 *   "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2;branch=z9hG4bK2\r\n" +
 *   'WWW-Authenticate: Digest realm="r", nonce="n"\r\n\r\n',
 * ));
 * assertEquals(headers(msg, "v").length, 2);
 * assertEquals(headers(msg, "WWW-Authenticate"), ['Digest realm="r", nonce="n"']);
 * ```
 */
export function headers(msg: SipMessage, name: string): string[] {
  const key = _key(name);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (_key(h.name) !== key) continue;
    if (SIP_LIST_HEADERS.has(key)) out.push(..._splitList(h.value));
    else out.push(h.value);
  }
  return out;
}

/**
 * A copy of the message with one header set: the first field of that name gets the
 * value, later ones are removed; appended when absent.
 *
 * @param msg the message
 * @param name the header name (a compact form is written as the long name)
 * @param value the new value
 * @returns the new message
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nm: <sip:a@h1>\r\n\r\n"));
 * assertEquals(header(setHeader(msg, "Contact", "<sip:a@h2>"), "m"), "<sip:a@h2>");
 * ```
 */
export function setHeader<T extends SipMessage>(msg: T, name: string, value: string): T {
  const key = _key(name);
  const out: SipHeader[] = [];
  let done = false;
  for (const h of msg.headers) {
    if (_key(h.name) !== key) out.push(h);
    else if (!done) {
      out.push({ name: h.name, value });
      done = true;
    }
  }
  if (!done) out.push({ name: canonicalHeaderName(name), value });
  return { ...msg, headers: out };
}

/**
 * A copy of the message without any field of one header.
 *
 * @param msg the message
 * @param name the header name, any case, compact forms accepted
 * @returns the new message
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\ns: hi\r\n\r\n"));
 * assertEquals(removeHeader(msg, "subject").headers, []);
 * ```
 */
export function removeHeader<T extends SipMessage>(msg: T, name: string): T {
  const key = _key(name);
  return { ...msg, headers: msg.headers.filter((h) => _key(h.name) !== key) };
}

/** Reads a quoted-string starting at `i` (the opening quote); returns text and end. */
function _quoted(text: string, i: number): [string, number] {
  let out = "";
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]!;
    if (c === "\\") {
      if (j + 1 >= text.length) break;
      out += text[++j];
    } else if (c === '"') return [out, j + 1];
    else out += c;
  }
  throw _malformed(`Invalid SIP quoted string: ${_quote(text.slice(i))}`);
}

/** Parses `;name=value;flag` parameters (generic-param, RFC 3261 section 25.1). */
function _params(text: string, what: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  const skip = () => {
    while (text[i] === " " || text[i] === "\t") i++;
  };
  skip();
  while (i < text.length) {
    if (text[i] !== ";") throw _malformed(`Invalid SIP ${what} parameters: ${_quote(text)}`);
    i++;
    skip();
    const nameMatch = /^[A-Za-z0-9\-.!%*_+`'~]+/.exec(text.slice(i));
    if (nameMatch === null) throw _malformed(`Invalid SIP ${what} parameters: ${_quote(text)}`);
    const name = nameMatch[0].toLowerCase();
    i += nameMatch[0].length;
    skip();
    let value = "";
    if (text[i] === "=") {
      i++;
      skip();
      if (text[i] === '"') {
        [value, i] = _quoted(text, i);
      } else {
        // token / host (an IPv6 reference has colons and brackets)
        const m = /^[A-Za-z0-9\-.!%*_+`'~:[\]]+/.exec(text.slice(i));
        if (m === null) throw _malformed(`Invalid SIP ${what} parameters: ${_quote(text)}`);
        value = m[0];
        i += value.length;
      }
      skip();
    }
    params.set(name, value);
  }
  return params;
}

function _port(text: string, what: string): number {
  const port = Number(text);
  if (!DIGITS.test(text) || port < 1 || port > 65535) {
    throw _malformed(`Invalid SIP ${what} port: ${_quote(text)}`);
  }
  return port;
}

/** Splits `host[:port]` (IPv6 references bracketed). */
function _hostPort(text: string, what: string): { host: string; port?: number } {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?::([0-9]*))?$/.exec(text);
  if (m === null) throw _malformed(`Invalid SIP ${what} host: ${_quote(text)}`);
  return m[2] === undefined ? { host: m[1]! } : { host: m[1]!, port: _port(m[2], what) };
}

/**
 * Parses one Via value (RFC 3261 section 20.42; rport of RFC 3581).
 *
 * @param value one Via value (split lists with {@link headers} first)
 * @returns the sent-protocol, sent-by and parameters
 * @throws {MalformedMessageError} when it does not follow the grammar
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const via = parseVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;received=198.51.100.7;rport=4000");
 * assertEquals([via.transport, via.host, via.port, via.branch, via.received, via.rport],
 *   ["UDP", "192.0.2.1", 5060, "z9hG4bK74bf9", "198.51.100.7", 4000]);
 * assertEquals(parseVia("SIP/2.0/UDP h;rport").rport, true);
 * ```
 */
export function parseVia(value: string): SipVia {
  const m = /^([^\s/]+)[ \t]*\/[ \t]*([^\s/]+)[ \t]*\/[ \t]*([^\s/;]+)[ \t]+([^;]+?)[ \t]*(;.*)?$/
    .exec(value);
  if (m === null) throw _malformed(`Invalid SIP Via: ${_quote(value)}`);
  const sentBy = _hostPort(m[4]!.replace(/[ \t]*:[ \t]*([0-9]*)$/, ":$1"), "Via");
  const params = _params(m[5] ?? "", "Via");
  const via: {
    -readonly [K in keyof SipVia]: SipVia[K];
  } = {
    protocol: `${m[1]!.toUpperCase()}/${m[2]}`,
    transport: m[3]!.toUpperCase(),
    ...sentBy,
    params,
  };
  const branch = params.get("branch");
  if (branch !== undefined) via.branch = branch;
  const received = params.get("received");
  if (received !== undefined) via.received = received;
  const rport = params.get("rport");
  if (rport !== undefined) via.rport = rport === "" ? true : _port(rport, "Via rport");
  return via;
}

/**
 * Writes a Via value (RFC 3261 section 20.42).
 *
 * @param via transport, sent-by, branch and whether to ask for rport
 * @returns the value, e.g. `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...;rport`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatVia({ host: "2001:db8::1", port: 5060, branch: "z9hG4bKx", rport: true }),
 *   "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKx;rport");
 * ```
 */
export function formatVia(via: SipViaInit): string {
  const host = via.host.includes(":") && !via.host.startsWith("[") ? `[${via.host}]` : via.host;
  const port = via.port === undefined ? "" : `:${via.port}`;
  return `${SIP_VERSION}/${via.transport ?? "UDP"} ${host}${port};branch=${via.branch}${
    via.rport === true ? ";rport" : ""
  }`;
}

/**
 * Parses a From, To or Contact value: name-addr (`"Alice" <sip:...>;tag=x`) or
 * addr-spec (`sip:...;tag=x`, where the parameters belong to the header; RFC 3261
 * sections 20.10 and 25.1), or the `*` of a REGISTER Contact.
 *
 * @param value one value (split Contact lists with {@link headers} first)
 * @returns the display name, URI and parameters, with tag and expires picked out
 * @throws {MalformedMessageError} on an unterminated quote or angle bracket, or a bad
 *   parameter or expires value
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const from = parseNameAddr('"Alice \\"A\\"" <sip:alice@192.0.2.1;transport=udp>;tag=88sja8x');
 * assertEquals([from.displayName, from.uri, from.tag], ['Alice "A"', "sip:alice@192.0.2.1;transport=udp", "88sja8x"]);
 * assertEquals(parseNameAddr("sip:bob@192.0.2.4;expires=60").expires, 60);
 * ```
 */
export function parseNameAddr(value: string): SipNameAddr {
  const text = value.replace(/^[ \t]+|[ \t]+$/g, "");
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  let i = 0;
  if (text[0] === '"') {
    [displayName, i] = _quoted(text, 0);
    while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] !== "<") throw _malformed(`Invalid SIP name-addr: ${_quote(value)}`);
  }
  const open = text.indexOf("<", i);
  if (open >= 0) {
    if (displayName === undefined) {
      const name = text.slice(0, open).replace(/[ \t]+$/, "");
      if (name !== "") displayName = name;
    }
    const close = text.indexOf(">", open);
    if (close < 0) throw _malformed(`Invalid SIP name-addr: ${_quote(value)}`);
    uri = text.slice(open + 1, close);
    rest = text.slice(close + 1);
  } else {
    const semi = text.indexOf(";");
    uri = semi < 0 ? text : text.slice(0, semi);
    rest = semi < 0 ? "" : text.slice(semi);
  }
  if (uri !== "*" && !URI.test(uri)) throw _malformed(`Invalid SIP URI: ${_quote(uri)}`);
  const params = _params(rest, "header");
  const out: { -readonly [K in keyof SipNameAddr]: SipNameAddr[K] } = { uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  const tag = params.get("tag");
  if (tag !== undefined) out.tag = tag;
  const expires = params.get("expires");
  if (expires !== undefined) out.expires = _deltaSeconds(expires, "Contact expires");
  return out;
}

function _quoteDisplayName(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function _formatParams(params: Readonly<Record<string, string>>): string {
  let out = "";
  for (const [k, v] of Object.entries(params)) out += v === "" ? `;${k}` : `;${k}=${v}`;
  return out;
}

/**
 * Writes a From, To or Contact value in name-addr form (always with angle brackets,
 * so URI parameters never mix with header parameters; RFC 3261 section 20.10).
 *
 * @param value URI, display name, tag and other parameters
 * @returns the value
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatNameAddr({ uri: "sip:alice@192.0.2.1", displayName: "Alice", tag: "1" }),
 *   '"Alice" <sip:alice@192.0.2.1>;tag=1');
 * ```
 */
export function formatNameAddr(value: SipNameAddrInit): string {
  const name = value.displayName === undefined ? "" : `${_quoteDisplayName(value.displayName)} `;
  const tag = value.tag === undefined ? "" : `;tag=${value.tag}`;
  return `${name}<${value.uri}>${tag}${_formatParams(value.params ?? {})}`;
}

function _deltaSeconds(text: string, what: string): number {
  if (!DIGITS.test(text)) throw _malformed(`Invalid SIP ${what}: ${_quote(text)}`);
  // RFC 3261 section 20.19 and 10.2.1.1: at most 2^32 - 1 seconds.
  return text.length > 10 ? MAX_U32 : Math.min(Number(text), MAX_U32);
}

/**
 * Parses a CSeq value (RFC 3261 section 20.16).
 *
 * @param value the value, `<number> <method>`
 * @returns the sequence number and method
 * @throws {MalformedMessageError} when the number is not 0 to 2^32 - 1 or the method
 *   is not a token
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(parseCSeq("4711 INVITE"), { seq: 4711, method: "INVITE" });
 * ```
 */
export function parseCSeq(value: string): SipCSeq {
  const m = /^([0-9]{1,10})[ \t]+([^ \t]+)$/.exec(value);
  if (m === null || Number(m[1]) > MAX_U32 || !TOKEN.test(m[2]!)) {
    throw _malformed(`Invalid SIP CSeq: ${_quote(value)}`);
  }
  return { seq: Number(m[1]), method: m[2]! };
}

/**
 * Parses a SIP or SIPS URI (RFC 3261 section 19.1.1): user, host, port and URI
 * parameters (URI headers after `?` are ignored).
 *
 * @param uri the URI, e.g. a Contact's or the Request-URI
 * @returns its parts
 * @throws {MalformedMessageError} when it is not a SIP or SIPS URI with a valid host
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const uri = parseSipUri("sip:alice@[2001:db8::7]:5070;transport=udp");
 * assertEquals([uri.user, uri.host, uri.port, uri.params.get("transport")], ["alice", "[2001:db8::7]", 5070, "udp"]);
 * ```
 */
export function parseSipUri(uri: string): SipUri {
  const m = /^(sips?):([^?]*)(?:\?.*)?$/i.exec(uri);
  if (m === null) throw _malformed(`Invalid SIP URI: ${_quote(uri)}`);
  let rest = m[2]!;
  let user: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    rest = rest.slice(at + 1);
    if (user === "") throw _malformed(`Invalid SIP URI: ${_quote(uri)}`);
  }
  const semi = rest.indexOf(";");
  const hostPort = _hostPort(semi < 0 ? rest : rest.slice(0, semi), "URI");
  const params = _params(semi < 0 ? "" : rest.slice(semi), "URI");
  const scheme = m[1]!.toLowerCase() === "sips" ? "sips" : "sip";
  return user === undefined
    ? { scheme, ...hostPort, params }
    : { scheme, user, ...hostPort, params };
}

function _required(msg: SipMessage, name: string): string {
  const value = header(msg, name);
  if (value === undefined) throw new ProtocolViolationError(`Missing SIP header: ${name}`);
  return value;
}

/**
 * Every Via of a message, parsed, top first (RFC 3261 section 20.42).
 *
 * @param msg the message
 * @returns the Via values (empty when there is none)
 * @throws {MalformedMessageError} when one does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP h2\r\n\r\n"));
 * assertEquals(vias(msg).map((v) => v.host), ["p1", "h2"]);
 * ```
 */
export function vias(msg: SipMessage): SipVia[] {
  return headers(msg, "Via").map(parseVia);
}

/**
 * The top Via of a message, parsed: the one a response is sent back along (RFC 3261
 * section 18.2.2) and whose branch identifies the transaction (section 17.2.3).
 *
 * @param msg the message
 * @returns the first Via
 * @throws {ProtocolViolationError} when there is no Via
 * @throws {MalformedMessageError} when it does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\n\r\n"));
 * assertEquals(topVia(msg).branch, "z9hG4bKq");
 * ```
 */
export function topVia(msg: SipMessage): SipVia {
  const first = headers(msg, "Via")[0];
  if (first === undefined) throw new ProtocolViolationError("Missing SIP header: Via");
  return parseVia(first);
}

/**
 * The parsed CSeq of a message (RFC 3261 section 20.16).
 *
 * @param msg the message
 * @returns sequence number and method
 * @throws {ProtocolViolationError} when there is no CSeq
 * @throws {MalformedMessageError} when it does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n"));
 * assertEquals(cseq(msg).seq, 2);
 * ```
 */
export function cseq(msg: SipMessage): SipCSeq {
  return parseCSeq(_required(msg, "CSeq"));
}

/**
 * The parsed From of a message (RFC 3261 section 20.20).
 *
 * @param msg the message
 * @returns URI, display name, tag
 * @throws {ProtocolViolationError} when there is no From
 * @throws {MalformedMessageError} when it does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nf: <sip:a@h>;tag=7\r\n\r\n"));
 * assertEquals(fromHeader(msg).tag, "7");
 * ```
 */
export function fromHeader(msg: SipMessage): SipNameAddr {
  return parseNameAddr(_required(msg, "From"));
}

/**
 * The parsed To of a message (RFC 3261 section 20.39).
 *
 * @param msg the message
 * @returns URI, display name, tag (absent outside a dialog)
 * @throws {ProtocolViolationError} when there is no To
 * @throws {MalformedMessageError} when it does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nt: sip:b@h\r\n\r\n"));
 * assertEquals([toHeader(msg).uri, toHeader(msg).tag], ["sip:b@h", undefined]);
 * ```
 */
export function toHeader(msg: SipMessage): SipNameAddr {
  return parseNameAddr(_required(msg, "To"));
}

/**
 * Every Contact of a message, parsed (RFC 3261 section 20.10); the mobility UA reads
 * the peer's current address from it.
 *
 * @param msg the message
 * @returns the contacts in order (empty when absent)
 * @throws {MalformedMessageError} when one does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("REGISTER sip:r SIP/2.0\r\nm: <sip:a@h1>;expires=60, <sip:a@h2>\r\n\r\n"));
 * assertEquals(contacts(msg).map((c) => [c.uri, c.expires]), [["sip:a@h1", 60], ["sip:a@h2", undefined]]);
 * ```
 */
export function contacts(msg: SipMessage): SipNameAddr[] {
  return headers(msg, "Contact").map(parseNameAddr);
}

/**
 * The Call-ID of a message (RFC 3261 section 20.8), compared case-sensitively.
 *
 * @param msg the message
 * @returns the Call-ID
 * @throws {ProtocolViolationError} when there is none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\ni: f81d4fae@foo.bar\r\n\r\n"));
 * assertEquals(callId(msg), "f81d4fae@foo.bar");
 * ```
 */
export function callId(msg: SipMessage): string {
  return _required(msg, "Call-ID");
}

/**
 * The Max-Forwards of a message (RFC 3261 section 20.22).
 *
 * @param msg the message
 * @returns 0 to 255, or undefined when absent
 * @throws {MalformedMessageError} when it is not a number in that range
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nMax-Forwards: 69\r\n\r\n"));
 * assertEquals(maxForwards(msg), 69);
 * ```
 */
export function maxForwards(msg: SipMessage): number | undefined {
  const value = header(msg, "Max-Forwards");
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!DIGITS.test(value) || n > MAX_MAX_FORWARDS) {
    throw _malformed(`Invalid SIP Max-Forwards: ${_quote(value)}`);
  }
  return n;
}

/**
 * The Expires of a message, seconds (RFC 3261 section 20.19), capped at 2^32 - 1.
 *
 * @param msg the message
 * @returns the seconds, or undefined when absent
 * @throws {MalformedMessageError} when it is not delta-seconds
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const msg = decodeSip(new TextEncoder().encode("REGISTER sip:r SIP/2.0\r\nExpires: 3600\r\n\r\n"));
 * assertEquals(expires(msg), 3600);
 * ```
 */
export function expires(msg: SipMessage): number | undefined {
  const value = header(msg, "Expires");
  return value === undefined ? undefined : _deltaSeconds(value, "Expires");
}

const SINGLE_VALUED = ["To", "From", "CSeq", "Call-ID", "Max-Forwards", "Content-Type"] as const;

/**
 * Checks what RFC 3261 requires of every message before a UA acts on it: version
 * SIP/2.0 (section 8.2, else 505); To, From, CSeq, Call-ID and Via present, and
 * Max-Forwards in a request (section 8.1.1); To, From, CSeq, Call-ID, Max-Forwards
 * and Content-Type at most once (section 7.3.1); a request's CSeq method equal to
 * its method (section 8.1.1.5); a Content-Type for a non-empty body (section
 * 20.15); and that those headers and every Via parse.
 *
 * @param msg a decoded message
 * @returns the same message, for chaining after {@link decodeSip}
 * @throws {ProtocolViolationError} naming the missing, repeated or mismatched header
 * @throws {MalformedMessageError} when one of those headers does not parse
 *
 * @example
 * ```ts
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ProtocolViolationError } from "../errors.ts";
 * const msg = decodeSip(new TextEncoder().encode("BYE sip:a@b SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n"));
 * assertThrows(() => validateSipMessage(msg), ProtocolViolationError, "Missing SIP header: To");
 * ```
 */
export function validateSipMessage<T extends SipMessage>(msg: T): T {
  if (msg.version !== SIP_VERSION) {
    throw new ProtocolViolationError(`Unsupported SIP version: ${msg.version}`);
  }
  const mandatory = msg.kind === "request"
    ? ["To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via"]
    : ["To", "From", "CSeq", "Call-ID", "Via"];
  for (const name of mandatory) _required(msg, name);
  for (const name of SINGLE_VALUED) {
    const key = name.toLowerCase();
    if (msg.headers.filter((h) => _key(h.name) === key).length > 1) {
      throw new ProtocolViolationError(`Duplicate SIP header: ${name}`);
    }
  }
  const seq = cseq(msg);
  if (msg.kind === "request" && seq.method !== msg.method) {
    throw new ProtocolViolationError(
      `Invalid SIP CSeq: method ${seq.method} does not match request method ${msg.method}`,
    );
  }
  fromHeader(msg);
  toHeader(msg);
  maxForwards(msg);
  if (vias(msg).length === 0) throw new ProtocolViolationError("Missing SIP header: Via");
  if (msg.body.length > 0 && header(msg, "Content-Type") === undefined) {
    throw new ProtocolViolationError("Missing SIP header: Content-Type (the body is not empty)");
  }
  return msg;
}

function _bodyHeaders(
  body: Uint8Array | string | undefined,
  contentType: string | undefined,
): [Uint8Array, SipHeader[]] {
  const bytes = body === undefined
    ? new Uint8Array(0)
    : typeof body === "string"
    ? ENCODER.encode(body)
    : body;
  const out: SipHeader[] = [];
  if (contentType !== undefined) out.push({ name: "Content-Type", value: contentType });
  out.push({ name: "Content-Length", value: String(bytes.length) });
  return [bytes, out];
}

/**
 * Builds a request as a UAC does (RFC 3261 section 8.1.1): Via, Max-Forwards, To,
 * From, Call-ID, CSeq (with the request's method), Contact, the extra headers,
 * Content-Type and Content-Length, in that order (section 8.1.1 puts the headers
 * proxies read first). For a re-INVITE after a move (RFC 6252 section 7.5), put the
 * new address in the Via, the Contact and the SDP body.
 *
 * @param init method, URI, addresses, dialog identifiers and body
 * @returns the request
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const invite = sipRequest({
 *   method: "INVITE", uri: "sip:bob@192.0.2.4",
 *   via: { host: "192.0.2.1", port: 5060, branch: "z9hG4bK1" },
 *   from: { uri: "sip:alice@192.0.2.1", tag: "a1" }, to: { uri: "sip:bob@192.0.2.4" },
 *   callId: "c1", cseq: 1, contact: { uri: "sip:alice@192.0.2.1:5060" },
 *   body: "v=0\r\n", contentType: "application/sdp",
 * });
 * assertEquals(header(invite, "CSeq"), "1 INVITE");
 * assertEquals(header(invite, "Content-Length"), "5");
 * assertEquals(validateSipMessage(decodeSip(encodeSip(invite))), invite);
 * ```
 */
export function sipRequest(init: SipRequestInit): SipRequest {
  const [body, bodyHeaders] = _bodyHeaders(init.body, init.contentType);
  const list: SipHeader[] = [
    { name: "Via", value: formatVia(init.via) },
    { name: "Max-Forwards", value: String(init.maxForwards ?? DEFAULT_MAX_FORWARDS) },
    { name: "To", value: formatNameAddr(init.to) },
    { name: "From", value: formatNameAddr(init.from) },
    { name: "Call-ID", value: init.callId },
    { name: "CSeq", value: `${init.cseq} ${init.method}` },
  ];
  if (init.contact !== undefined) {
    list.push({ name: "Contact", value: formatNameAddr(init.contact) });
  }
  list.push(...(init.headers ?? []), ...bodyHeaders);
  return {
    kind: "request",
    method: init.method,
    uri: init.uri,
    version: SIP_VERSION,
    headers: list,
    body,
  };
}

/**
 * Builds a response to a request as a UAS does (RFC 3261 section 8.2.6): every Via
 * in order, From, To, Call-ID and CSeq copied; a tag added to To when the request's
 * To has none (section 8.2.6.2; optional for 100, which gets none); Record-Route
 * copied into 101-299 responses to an INVITE (section 12.1.1); Timestamp copied into
 * a 100 (section 8.2.6.1); then the extra headers, Content-Type and Content-Length.
 *
 * @param request the request answered
 * @param status the status code, 100 to 699
 * @param reason the reason phrase (`SIP_REASON_PHRASES` has the usual ones)
 * @param options the To tag, extra headers and body
 * @returns the response
 * @throws {ProtocolViolationError} when a tag is needed and `options.toTag` is missing
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const invite = decodeSip(new TextEncoder().encode(
 *   "INVITE sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n" +
 *   "To: <sip:bob@h>\r\nFrom: <sip:alice@a>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
 * ));
 * if (!isSipRequest(invite)) throw new Error("not a request");
 * const ringing = sipResponseTo(invite, 180, "Ringing", { toTag: "b2" });
 * assertEquals(toHeader(ringing).tag, "b2");
 * assertEquals(header(ringing, "Via"), "SIP/2.0/UDP a;branch=z9hG4bK1");
 * ```
 */
export function sipResponseTo(
  request: SipRequest,
  status: number,
  reason: string,
  options: SipResponseOptions = {},
): SipResponse {
  const [body, bodyHeaders] = _bodyHeaders(options.body, options.contentType);
  const list: SipHeader[] = [];
  const copy = (name: string) => {
    const key = name.toLowerCase();
    for (const h of request.headers) {
      if (_key(h.name) === key) list.push({ name, value: h.value });
    }
  };
  copy("Via");
  if (request.method === "INVITE" && status > 100 && status < 300) copy("Record-Route");
  copy("From");
  const to = _required(request, "To");
  if (parseNameAddr(to).tag !== undefined || status === 100) {
    list.push({ name: "To", value: to });
  } else if (options.toTag === undefined) {
    throw new ProtocolViolationError(
      `Missing To tag: a ${status} response to a request without one needs options.toTag`,
    );
  } else {
    list.push({ name: "To", value: `${to};tag=${options.toTag}` });
  }
  copy("Call-ID");
  copy("CSeq");
  if (status === 100) copy("Timestamp");
  list.push(...(options.headers ?? []), ...bodyHeaders);
  return { kind: "response", status, reason, version: SIP_VERSION, headers: list, body };
}

function _random(random: (n: number) => Uint8Array, n: number): Uint8Array {
  const bytes = random(n);
  if (bytes.length < n) {
    throw new RangeError(`Random source returned ${bytes.length} of ${n} bytes`);
  }
  return bytes.subarray(0, n);
}

/**
 * A fresh branch parameter: the RFC 3261 magic cookie `z9hG4bK` and 96 random bits
 * as hex (RFC 3261 section 8.1.1.7: unique across space and time).
 *
 * @param random the source of random bytes
 * @returns e.g. `z9hG4bK3f2a...` (31 characters)
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * const branch = newBranch((n) => crypto.getRandomValues(new Uint8Array(n)));
 * assert(/^z9hG4bK[0-9a-f]{24}$/.test(branch));
 * ```
 */
export function newBranch(random: (n: number) => Uint8Array): string {
  return `${BRANCH_MAGIC_COOKIE}${hex(_random(random, 12))}`;
}

/**
 * A fresh tag for From or To: 64 random bits as hex (RFC 3261 section 19.3 asks for
 * at least 32).
 *
 * @param random the source of random bytes
 * @returns 16 hex digits
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(newTag((n) => new Uint8Array(n).fill(0xab)), "abababababababab");
 * ```
 */
export function newTag(random: (n: number) => Uint8Array): string {
  return hex(_random(random, 8));
}

/**
 * A fresh Call-ID: 128 random bits as hex, `@host` appended when given (RFC 3261
 * section 8.1.1.4).
 *
 * @param random the source of random bytes
 * @param host the UA's host, optional
 * @returns the Call-ID
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * assert(/^[0-9a-f]{32}@192\.0\.2\.1$/.test(newCallId((n) => crypto.getRandomValues(new Uint8Array(n)), "192.0.2.1")));
 * ```
 */
export function newCallId(random: (n: number) => Uint8Array, host?: string): string {
  const id = hex(_random(random, 16));
  return host === undefined ? id : `${id}@${host}`;
}
