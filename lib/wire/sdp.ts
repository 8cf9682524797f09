/**
 * SDP codec (RFC 4566) with what SIP mobility needs (RFC 6252 section 7.5): the
 * connection address a peer sends media to (session or media level c=), the media
 * ports, the o= session version, and {@link withConnectionAddress}, which moves a
 * session description to a new address and increments the version as a changed
 * offer must (RFC 4566 section 5.2, RFC 3264 section 8).
 *
 * A description is kept as its fields in order (session part, then one section per
 * m=), so fields this module does not interpret (i=, b=, k=, a=, ...) survive a
 * round trip unchanged. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n" +
 *   "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
 * const moved = withConnectionAddress(sdp, "198.51.100.9");
 * assertEquals(sdpConnection(moved)?.address, "198.51.100.9");
 * assertEquals(sdpOrigin(moved).sessionVersion, 2n);
 * assertEquals(sdpMedia(moved)[0]?.port, 6000);
 * ```
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";

/** One SDP field, `<type>=<value>` (RFC 4566 section 5). */
export interface SdpField {
  /** The one-letter type (`v`, `o`, `c`, `m`, `a`, ...). */
  readonly type: string;
  /** Everything after the `=`. */
  readonly value: string;
}

/** A session description: the session-level fields, then one list per m= section. */
export interface SessionDescription {
  /** Session-level fields in order, starting with v=, o=, s=. */
  readonly session: readonly SdpField[];
  /** Media descriptions in order; each starts with its m= field. */
  readonly media: readonly (readonly SdpField[])[];
}

/** A parsed o= field (RFC 4566 section 5.2). */
export interface SdpOrigin {
  /** The user's login, or `-`. */
  readonly username: string;
  /** The session id, a numeric string. */
  readonly sessionId: string;
  /** The session version; a changed description has a higher one (RFC 3264 section 8). */
  readonly sessionVersion: bigint;
  /** `IN`. */
  readonly netType: string;
  /** `IP4` or `IP6`. */
  readonly addrType: string;
  /** The address of the machine that created the session. */
  readonly address: string;
}

/** A parsed c= field (RFC 4566 section 5.7). */
export interface SdpConnection {
  /** `IN`. */
  readonly netType: string;
  /** `IP4` or `IP6`. */
  readonly addrType: string;
  /** The address, without the multicast TTL or count suffix. */
  readonly address: string;
  /** The IPv4 multicast TTL, when given. */
  readonly ttl?: number;
  /** The number of multicast addresses, when given. */
  readonly count?: number;
}

/** A parsed m= field (RFC 4566 section 5.14). */
export interface SdpMediaLine {
  /** `audio`, `video`, `text`, `application` or `message`. */
  readonly media: string;
  /** The transport port; 0 marks a rejected or disabled stream (RFC 3264 section 6). */
  readonly port: number;
  /** The number of ports, when given (`m=video 49170/2 ...`). */
  readonly portCount?: number;
  /** The transport protocol (`RTP/AVP`). */
  readonly proto: string;
  /** The media formats (payload types for RTP). */
  readonly formats: readonly string[];
}

/** The largest description `decodeSdp` reads, characters (a SIP UDP body is smaller). */
export const SDP_MAX_LENGTH = 65536;

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const ENCODER = new TextEncoder();

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

function _quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/**
 * Decodes a session description (RFC 4566 section 5): lines `<type>=<value>` ending
 * in CRLF or, tolerated, a bare LF; v=0, o= and s= first, at least one t=, and a c=
 * at session level or in every media description (section 5.7).
 *
 * @param input the description, as bytes (UTF-8, e.g. a SIP body) or text
 * @returns the fields, session part and media sections
 * @throws {MalformedMessageError} on bytes that are not UTF-8, a line that is not
 *   `<letter>=<value>`, a missing or out-of-order v=, o=, s=, a bad o=, c= or m=, no
 *   t=, or input over {@link SDP_MAX_LENGTH}
 * @throws {ProtocolViolationError} when a media description has no connection address
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n");
 * assertEquals(sdp.session.length, 5);
 * assertThrows(() => decodeSdp("v=1\r\n"));
 * ```
 */
export function decodeSdp(input: Uint8Array | string): SessionDescription {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = UTF8.decode(input);
    } catch {
      throw _malformed("Invalid SDP: not UTF-8");
    }
  }
  if (text.length > SDP_MAX_LENGTH) {
    throw _malformed(`SDP too large: ${text.length} characters, limit ${SDP_MAX_LENGTH}`);
  }
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === "") lines.pop();
  const session: SdpField[] = [];
  const media: SdpField[][] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^([a-z])=(.*)$/.exec(line);
    if (m === null || _hasControl(line)) {
      throw _malformed(`Invalid SDP line ${i + 1}: ${_quote(line)}`);
    }
    const field = { type: m[1]!, value: m[2]! };
    if (field.type === "m") {
      _mediaLine(field.value);
      media.push([field]);
    } else if (media.length > 0) media[media.length - 1]!.push(field);
    else session.push(field);
  }
  if (session[0]?.type !== "v" || session[0].value !== "0") {
    throw _malformed("Invalid SDP: must start with v=0");
  }
  if (session[1]?.type !== "o") throw _malformed("Invalid SDP: o= must follow v=");
  _origin(session[1].value);
  if (session[2]?.type !== "s") throw _malformed("Invalid SDP: s= must follow o=");
  if (!session.some((f) => f.type === "t")) throw _malformed("Invalid SDP: no t= field");
  const sessionC = session.filter((f) => f.type === "c");
  for (const f of sessionC) _connection(f.value);
  for (const [i, section] of media.entries()) {
    const c = section.filter((f) => f.type === "c");
    for (const f of c) _connection(f.value);
    if (c.length === 0 && sessionC.length === 0) {
      throw new ProtocolViolationError(`Invalid SDP: media ${i} has no c= and the session none`);
    }
  }
  return { session, media };
}

/**
 * Writes a session description with CRLF line ends (RFC 4566 section 5), as text.
 *
 * @param sdp the description
 * @returns the text, ending in CRLF
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const text = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
 * assertEquals(formatSdp(decodeSdp(text)), text);
 * ```
 */
export function formatSdp(sdp: SessionDescription): string {
  let out = "";
  for (const f of [...sdp.session, ...sdp.media.flat()]) {
    if (!/^[a-z]$/.test(f.type) || _hasControl(f.value)) {
      throw new ProtocolViolationError(`Invalid SDP field: ${_quote(`${f.type}=${f.value}`)}`);
    }
    out += `${f.type}=${f.value}\r\n`;
  }
  return out;
}

/**
 * Encodes a session description as UTF-8 bytes with CRLF line ends (for a SIP
 * body with `Content-Type: application/sdp`).
 *
 * @param sdp the description
 * @returns the bytes
 * @throws {ProtocolViolationError} on a field type that is not one letter or a value
 *   with a control character
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n");
 * assertEquals(decodeSdp(encodeSdp(sdp)), sdp);
 * ```
 */
export function encodeSdp(sdp: SessionDescription): Uint8Array {
  return ENCODER.encode(formatSdp(sdp));
}

function _origin(value: string): SdpOrigin {
  const p = value.split(" ");
  if (p.length !== 6 || p.some((x) => x === "") || !/^[0-9]+$/.test(p[2]!)) {
    throw _malformed(`Invalid SDP o=: ${_quote(value)}`);
  }
  return {
    username: p[0]!,
    sessionId: p[1]!,
    sessionVersion: BigInt(p[2]!),
    netType: p[3]!,
    addrType: p[4]!,
    address: p[5]!,
  };
}

function _connection(value: string): SdpConnection {
  const p = value.split(" ");
  if (p.length !== 3 || p.some((x) => x === "")) {
    throw _malformed(`Invalid SDP c=: ${_quote(value)}`);
  }
  const [address, ...suffix] = p[2]!.split("/");
  if (address === "" || suffix.length > 2 || suffix.some((s) => !/^[0-9]+$/.test(s))) {
    throw _malformed(`Invalid SDP c=: ${_quote(value)}`);
  }
  const out: { -readonly [K in keyof SdpConnection]: SdpConnection[K] } = {
    netType: p[0]!,
    addrType: p[1]!,
    address: address!,
  };
  // IP4 multicast: address/ttl[/count]; IP6 multicast: address[/count] (section 5.7).
  if (p[1] === "IP6") {
    if (suffix.length > 1) throw _malformed(`Invalid SDP c=: ${_quote(value)}`);
    if (suffix[0] !== undefined) out.count = Number(suffix[0]);
  } else {
    if (suffix[0] !== undefined) out.ttl = Number(suffix[0]);
    if (suffix[1] !== undefined) out.count = Number(suffix[1]);
  }
  return out;
}

function _mediaLine(value: string): SdpMediaLine {
  const m = /^([^ ]+) ([0-9]{1,5})(?:\/([0-9]+))? ([^ ]+)((?: [^ ]+)*)$/.exec(value);
  if (m === null || Number(m[2]) > 65535) throw _malformed(`Invalid SDP m=: ${_quote(value)}`);
  const formats = m[5]!.split(" ").filter((f) => f !== "");
  const out: { -readonly [K in keyof SdpMediaLine]: SdpMediaLine[K] } = {
    media: m[1]!,
    port: Number(m[2]),
    proto: m[4]!,
    formats,
  };
  if (m[3] !== undefined) out.portCount = Number(m[3]);
  return out;
}

/**
 * The parsed o= field (RFC 4566 section 5.2).
 *
 * @param sdp the description
 * @returns username, session id and version, address
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n");
 * assertEquals(sdpOrigin(sdp).sessionVersion, 2353687637n);
 * ```
 */
export function sdpOrigin(sdp: SessionDescription): SdpOrigin {
  const o = sdp.session.find((f) => f.type === "o");
  if (o === undefined) throw _malformed("Invalid SDP: no o= field");
  return _origin(o.value);
}

/**
 * The connection address (RFC 4566 section 5.7): of a media description (its own
 * c=, else the session's) or, without an index, of the session.
 *
 * @param sdp the description
 * @param mediaIndex which media description (0 is the first m=), optional
 * @returns the c= in effect, or undefined when there is none
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n" +
 *   "m=audio 6000 RTP/AVP 0\nm=video 6002 RTP/AVP 31\nc=IN IP6 2001:db8::2\n");
 * assertEquals(sdpConnection(sdp, 0)?.address, "192.0.2.1");
 * assertEquals(sdpConnection(sdp, 1)?.address, "2001:db8::2");
 * ```
 */
export function sdpConnection(
  sdp: SessionDescription,
  mediaIndex?: number,
): SdpConnection | undefined {
  if (mediaIndex !== undefined) {
    const own = sdp.media[mediaIndex]?.find((f) => f.type === "c");
    if (own !== undefined) return _connection(own.value);
  }
  const c = sdp.session.find((f) => f.type === "c");
  return c === undefined ? undefined : _connection(c.value);
}

/**
 * The parsed m= fields (RFC 4566 section 5.14), in order: media, port, protocol,
 * formats.
 *
 * @param sdp the description
 * @returns one entry per media description
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 6000 RTP/AVP 0 8\n");
 * assertEquals(sdpMedia(sdp), [{ media: "audio", port: 6000, proto: "RTP/AVP", formats: ["0", "8"] }]);
 * ```
 */
export function sdpMedia(sdp: SessionDescription): SdpMediaLine[] {
  return sdp.media.map((section) => _mediaLine(section[0]!.value));
}

function _withVersion(session: readonly SdpField[]): SdpField[] {
  return session.map((f) => {
    if (f.type !== "o") return f;
    const o = _origin(f.value);
    const next = o.sessionVersion + 1n;
    return {
      type: "o",
      value: `${o.username} ${o.sessionId} ${next} ${o.netType} ${o.addrType} ${o.address}`,
    };
  });
}

/**
 * A copy of the description with every c= (session and media level) set to a new
 * unicast address and the o= session version incremented by one, as a re-INVITE
 * after a move needs (RFC 6252 section 7.5; RFC 4566 section 5.2 and RFC 3264
 * section 8: a changed description gets a higher version, and the other o= fields,
 * which identify the session, stay). Without any c=, one is added at session level
 * before the first t=.
 *
 * @param sdp the description
 * @param address the new IPv4 or IPv6 address (the type follows from a colon)
 * @returns the new description
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const sdp = decodeSdp("v=0\no=- 7 41 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 6000 RTP/AVP 0\n");
 * const moved = withConnectionAddress(sdp, "2001:db8::9");
 * assertEquals(sdpConnection(moved, 0), { netType: "IN", addrType: "IP6", address: "2001:db8::9" });
 * assertEquals(sdpOrigin(moved).sessionVersion, 42n);
 * assertEquals(sdpOrigin(moved).address, "192.0.2.1");
 * ```
 */
export function withConnectionAddress(
  sdp: SessionDescription,
  address: string,
): SessionDescription {
  if (!/^[0-9A-Za-z.:\-]+$/.test(address)) {
    throw new ProtocolViolationError(`Invalid SDP connection address: ${_quote(address)}`);
  }
  const c = { type: "c", value: `IN ${address.includes(":") ? "IP6" : "IP4"} ${address}` };
  const replace = (f: SdpField) => (f.type === "c" ? c : f);
  let session = _withVersion(sdp.session).map(replace);
  const hasC = session.some((f) => f.type === "c") ||
    sdp.media.some((m) => m.some((f) => f.type === "c"));
  if (!hasC) {
    const t = session.findIndex((f) => f.type === "t");
    const at = t < 0 ? session.length : t;
    session = [...session.slice(0, at), c, ...session.slice(at)];
  }
  return { session, media: sdp.media.map((m) => m.map(replace)) };
}
