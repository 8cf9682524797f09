/**
 * EAP (RFC 3748) and EAP-PSK (RFC 4764) constants, with the section that defines each.
 *
 * @module
 */

/**
 * EAP packet codes (RFC 3748 section 4). Packets with any other code MUST be silently
 * discarded, so the decoder refuses them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([EapCode.Request, EapCode.Response, EapCode.Success, EapCode.Failure], [1, 2, 3, 4]);
 * ```
 */
export const EapCode = {
  /** RFC 3748 section 4.1. */
  Request: 1,
  /** RFC 3748 section 4.1. */
  Response: 2,
  /** RFC 3748 section 4.2. */
  Success: 3,
  /** RFC 3748 section 4.2. */
  Failure: 4,
} as const;

/** One of the {@linkcode EapCode} values. */
export type EapCode = typeof EapCode[keyof typeof EapCode];

/**
 * EAP method types used here (RFC 3748 section 5; EAP-PSK: RFC 4764 section 7).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(EapType.Psk, 47);
 * ```
 */
export const EapType = {
  /** RFC 3748 section 5.1. */
  Identity: 1,
  /** RFC 3748 section 5.2. */
  Notification: 2,
  /** Legacy Nak, Response only (RFC 3748 section 5.3.1). */
  Nak: 3,
  /** RFC 3748 section 5.4. */
  Md5Challenge: 4,
  /** EAP-PSK (RFC 4764 section 7, IANA EAP method type 47). */
  Psk: 47,
  /** Expanded Types (RFC 3748 section 5.7). */
  Expanded: 254,
  /** Experimental (RFC 3748 section 5.8). */
  Experimental: 255,
} as const;

/** Length of the Code, Identifier and Length fields (RFC 3748 section 4). */
export const EAP_HEADER_LENGTH = 4;

/** Length of an EAP Request/Response header including the Type octet (RFC 3748 section 4.1). */
export const EAP_TYPED_HEADER_LENGTH = 5;

/** Length of RAND_S and RAND_P (RFC 4764 section 5.1, 5.2). */
export const EAP_PSK_RAND_LENGTH = 16;

/** Length of MAC_P and MAC_S (RFC 4764 section 5.2, 5.3). */
export const EAP_PSK_MAC_LENGTH = 16;

/** Length of the PCHANNEL Nonce field (RFC 4764 section 5.3). */
export const EAP_PSK_NONCE_LENGTH = 4;

/** Length of the PCHANNEL Tag field, the EAX tag (RFC 4764 section 5.3). */
export const EAP_PSK_TAG_LENGTH = 16;

/**
 * Length of the EAX associated data of a PCHANNEL: the first 22 bytes of the EAP
 * packet, that is Code, Identifier, Length, Type, Flags and RAND_S (RFC 4764 sections
 * 5.3 and 5.4).
 */
export const EAP_PSK_HEADER_LENGTH = 22;

/**
 * Value of the T field (the two high bits of the EAP-PSK Flags octet) of each message
 * (RFC 4764 section 5.1 to 5.4). The six low bits are reserved: sent as zero, ignored.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(EapPskT.Third << 6, 0x80);
 * ```
 */
export const EapPskT = {
  /** First message, server to peer, in an EAP-Request (section 5.1). */
  First: 0,
  /** Second message, peer to server, in an EAP-Response (section 5.2). */
  Second: 1,
  /** Third message, server to peer, in an EAP-Request (section 5.3). */
  Third: 2,
  /** Fourth message, peer to server, in an EAP-Response (section 5.4). */
  Fourth: 3,
} as const;

/**
 * The R field of the protected channel: the two high bits of the first plaintext byte
 * (RFC 4764 section 5.3). The value 0 is reserved.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(EapPskResult.DoneSuccess << 6, 0x80);
 * ```
 */
export const EapPskResult = {
  /** CONT (binary 01): the conversation continues. */
  Cont: 1,
  /** DONE_SUCCESS (binary 10). */
  DoneSuccess: 2,
  /** DONE_FAILURE (binary 11). */
  DoneFailure: 3,
} as const;

/** One of the {@linkcode EapPskResult} values. */
export type EapPskResult = typeof EapPskResult[keyof typeof EapPskResult];

/** The E (extension present) bit of the first plaintext byte of a PCHANNEL (RFC 4764 section 5.3). */
export const EAP_PSK_E_FLAG = 0x20;
