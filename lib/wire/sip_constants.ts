/**
 * SIP constants (RFC 3261): the protocol version, the branch magic cookie, the
 * compact header forms, which headers carry comma-separated lists, the default
 * Max-Forwards, the default port, the methods and status codes the mobility UA uses,
 * and the decoder's limits against hostile input, each with its RFC section.
 *
 * @module
 */

/** The only SIP version this codec speaks, RFC 3261 section 7.1. */
export const SIP_VERSION = "SIP/2.0";

/** The default SIP port for UDP and TCP, RFC 3261 section 19.1.2. */
export const SIP_DEFAULT_PORT = 5060;

/**
 * The magic cookie every RFC 3261 branch parameter starts with, RFC 3261 section
 * 8.1.1.7.
 */
export const BRANCH_MAGIC_COOKIE = "z9hG4bK";

/** The Max-Forwards a UAC puts in a request, RFC 3261 section 8.1.1.6. */
export const DEFAULT_MAX_FORWARDS = 70;

/** The largest Max-Forwards value, RFC 3261 section 20.22 ("0-255" in practice). */
export const MAX_MAX_FORWARDS = 255;

/**
 * Limits of `decodeSip` against hostile input. A UDP datagram cannot exceed 64 KiB
 * (RFC 768), so a larger message is refused outright; the header count and line
 * length bound the work and memory a single message can cost.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(SIP_LIMITS.maxMessageBytes, 65536);
 * ```
 */
export const SIP_LIMITS = {
  /** The largest message, bytes (start line, headers and body). */
  maxMessageBytes: 65536,
  /** The most header fields after unfolding (RFC 3261 section 7.3.1). */
  maxHeaders: 256,
  /** The longest start line or header field, bytes, after unfolding. */
  maxLineBytes: 8192,
} as const;

/** Limits accepted by `decodeSip` (see {@link SIP_LIMITS} for the defaults). */
export interface SipLimits {
  /** The largest message, bytes. */
  readonly maxMessageBytes: number;
  /** The most header fields. */
  readonly maxHeaders: number;
  /** The longest start line or header field, bytes. */
  readonly maxLineBytes: number;
}

/**
 * Compact header forms and their long names: the ten of RFC 3261 section 7.3.3
 * (c, e, f, i, k, l, m, s, t, v) and the later ones registered at IANA (o and u, RFC
 * 6665 sections 8.2.1 and 8.2.2; r, RFC 3515 section 2.1; b, RFC 3892 section 3; x,
 * RFC 4028 section 4; a, j, d, RFC 3841 section 9; y, RFC 8224 section 4.1.1; n,
 * RFC 4474 section 9).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(COMPACT_HEADER_FORMS.get("i"), "Call-ID");
 * assertEquals(COMPACT_HEADER_FORMS.get("v"), "Via");
 * ```
 */
export const COMPACT_HEADER_FORMS: ReadonlyMap<string, string> = new Map([
  ["a", "Accept-Contact"],
  ["b", "Referred-By"],
  ["c", "Content-Type"],
  ["d", "Request-Disposition"],
  ["e", "Content-Encoding"],
  ["f", "From"],
  ["i", "Call-ID"],
  ["j", "Reject-Contact"],
  ["k", "Supported"],
  ["l", "Content-Length"],
  ["m", "Contact"],
  ["n", "Identity-Info"],
  ["o", "Event"],
  ["r", "Refer-To"],
  ["s", "Subject"],
  ["t", "To"],
  ["u", "Allow-Events"],
  ["v", "Via"],
  ["x", "Session-Expires"],
  ["y", "Identity"],
]);

/**
 * Headers whose value is a comma-separated list, lower-case: several of them may be
 * combined into one field and one field may be split into several (RFC 3261 section
 * 7.3.1, grammar of section 25.1). Every other header is never split: not the
 * authentication headers (WWW-Authenticate, Authorization, Proxy-Authenticate,
 * Proxy-Authorization, whose parameters are comma-separated, section 7.3.1), nor
 * single values that may contain a comma (Date, Subject, From, To, Retry-After, ...),
 * nor unknown extension headers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(SIP_LIST_HEADERS.has("via"), true);
 * assertEquals(SIP_LIST_HEADERS.has("www-authenticate"), false);
 * ```
 */
export const SIP_LIST_HEADERS: ReadonlySet<string> = new Set([
  "accept", // 20.1
  "accept-contact", // RFC 3841
  "accept-encoding", // 20.2
  "accept-language", // 20.3
  "alert-info", // 20.4
  "allow", // 20.5
  "allow-events", // RFC 6665
  "call-info", // 20.9
  "contact", // 20.10
  "content-encoding", // 20.12
  "content-language", // 20.13
  "error-info", // 20.18
  "in-reply-to", // 20.21
  "path", // RFC 3327
  "proxy-require", // 20.29
  "record-route", // 20.30
  "reject-contact", // RFC 3841
  "require", // 20.32
  "route", // 20.34
  "service-route", // RFC 3608
  "supported", // 20.37
  "unsupported", // 20.40
  "via", // 20.42
  "warning", // 20.43
]);

/**
 * The SIP methods of RFC 3261 section 7.1 and the extensions a mobility UA meets.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(SipMethod.Invite, "INVITE");
 * ```
 */
export const SipMethod = {
  /** Session setup and, inside a dialog, session modification (re-INVITE), section 14. */
  Invite: "INVITE",
  /** Acknowledges a final response to an INVITE, section 17.1.1.3 and 13.2.2.4. */
  Ack: "ACK",
  /** Ends a dialog, section 15. */
  Bye: "BYE",
  /** Cancels a pending request, section 9. */
  Cancel: "CANCEL",
  /** Binds an address-of-record to contacts, section 10. */
  Register: "REGISTER",
  /** Queries capabilities, section 11. */
  Options: "OPTIONS",
  /** Session modification before the dialog is confirmed, RFC 3311. */
  Update: "UPDATE",
  /** Mid-session information, RFC 6086. */
  Info: "INFO",
} as const;

/**
 * The status codes the mobility UA sends or expects (RFC 3261 section 21) with their
 * default reason phrases.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(SIP_REASON_PHRASES.get(180), "Ringing");
 * ```
 */
export const SIP_REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, "Trying"], // 21.1.1
  [180, "Ringing"], // 21.1.2
  [183, "Session Progress"], // 21.1.5
  [200, "OK"], // 21.2.1
  [400, "Bad Request"], // 21.4.1
  [403, "Forbidden"], // 21.4.4
  [404, "Not Found"], // 21.4.5
  [405, "Method Not Allowed"], // 21.4.6
  [408, "Request Timeout"], // 21.4.9
  [481, "Call/Transaction Does Not Exist"], // 21.4.19
  [486, "Busy Here"], // 21.4.24
  [487, "Request Terminated"], // 21.4.25
  [480, "Temporarily Unavailable"], // 21.4.18
  [488, "Not Acceptable Here"], // 21.4.26
  [491, "Request Pending"], // 21.4.27
  [500, "Server Internal Error"], // 21.5.1
  [501, "Not Implemented"], // 21.5.2
  [503, "Service Unavailable"], // 21.5.4
  [505, "Version Not Supported"], // 21.5.6
  [513, "Message Too Large"], // 21.5.7
  [600, "Busy Everywhere"], // 21.6.1
  [603, "Decline"], // 21.6.2
]);
