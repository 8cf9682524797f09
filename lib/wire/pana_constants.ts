/**
 * PANA constants and timers (RFC 5191, with RFC 5873 for pre-authentication), each
 * with the section or registry that defines it. Times are in milliseconds, for an
 * rxjs scheduler.
 *
 * @module
 */

/** The UDP port of PANA, PaC to PAA and back (RFC 5191; IANA service name "pana"). */
export const PANA_UDP_PORT = 716;

/** Length of the PANA message header (RFC 5191 section 6.2). */
export const PANA_HEADER_LENGTH = 16;

/** Length of an AVP header without Vendor-Id (RFC 5191 section 6.3). */
export const PANA_AVP_HEADER_LENGTH = 8;

/** Length of an AVP header with Vendor-Id, i.e. with the V flag set (RFC 5191 section 6.3). */
export const PANA_VENDOR_AVP_HEADER_LENGTH = 12;

/**
 * The largest PANA message this implementation accepts or builds, in bytes. The
 * Message Length field allows 65535, but EAP-PSK exchanges stay under 300 bytes and
 * RFC 3748 section 3.1 lets EAP assume only a 1020-byte MTU; 4096 leaves room for
 * methods with larger messages while bounding what one datagram may make us parse.
 * Codecs take a `maxLength` option to change it.
 */
export const PANA_MAX_MESSAGE_LENGTH = 4096;

/**
 * Message types (RFC 5191 section 7, IANA "PANA Message Types"); the R flag tells the
 * Request from the Answer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaMessageType.Auth, 2);
 * ```
 */
export const PanaMessageType = {
  /** PANA-Client-Initiation, PCI (RFC 5191 section 7.1); never a Request. */
  ClientInitiation: 1,
  /** PANA-Auth-Request/Answer, PAR/PAN (RFC 5191 sections 7.2, 7.3). */
  Auth: 2,
  /** PANA-Termination-Request/Answer, PTR/PTA (RFC 5191 sections 7.4, 7.5). */
  Termination: 3,
  /** PANA-Notification-Request/Answer, PNR/PNA (RFC 5191 sections 7.6, 7.7). */
  Notification: 4,
  /** PANA-Relay, PRY (RFC 6345). */
  Relay: 5,
} as const;

/**
 * Message header flags (RFC 5191 section 6.2; bit 0 is the most significant bit of the
 * 16-bit field). The other bits are reserved: sent as zero, ignored on receipt.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaFlag.Preauth, 0x0200);
 * ```
 */
export const PanaFlag = {
  /** R, bit 0: Request (set) or Answer (clear). */
  Request: 0x8000,
  /** S, bit 1: Start, in the first PAR and PAN of the authentication phase. */
  Start: 0x4000,
  /** C, bit 2: Complete, in the last PAR and PAN of the authentication phase. */
  Complete: 0x2000,
  /** A, bit 3: re-Authentication, in a PNR/PNA that starts re-authentication. */
  Auth: 0x1000,
  /** P, bit 4: Ping, in a PNR/PNA for a liveness test. */
  Ping: 0x0800,
  /** I, bit 5: IP Reconfiguration, set by the PAA in PAR to ask the PaC to get a new address. */
  IpReconfig: 0x0400,
  /**
   * E, bit 6: prE-authentication (RFC 5873; IANA "PANA Message Flags" bit 6). Marks the
   * messages that negotiate and run a pre-authentication session with a PAA of a
   * network the PaC has not moved to yet; which messages carry it is the state
   * machine's concern, the codec only reads and writes the bit.
   */
  Preauth: 0x0200,
} as const;

/** The V (Vendor) bit of the AVP Flags field: a Vendor-Id follows the header (RFC 5191 section 6.3). */
export const PANA_AVP_FLAG_VENDOR = 0x8000;

/**
 * AVP codes (RFC 5191 section 8, IANA "PANA AVP Codes").
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaAvpCode.EapPayload, 2);
 * ```
 */
export const PanaAvpCode = {
  /** AUTH, OctetString: the message MAC (section 8.1). */
  Auth: 1,
  /** EAP-Payload, OctetString: one EAP packet (section 8.2). */
  EapPayload: 2,
  /** Integrity-Algorithm, Unsigned32: an IKEv2 Transform Type 3 number (section 8.3). */
  IntegrityAlgorithm: 3,
  /** Key-Id, Unsigned32 (section 8.4 as corrected by erratum 2997): the MSK identifier. */
  KeyId: 4,
  /** Nonce, OctetString (section 8.5). */
  Nonce: 5,
  /** PRF-Algorithm, Unsigned32: an IKEv2 Transform Type 2 number (section 8.6). */
  PrfAlgorithm: 6,
  /** Result-Code, Unsigned32 (section 8.7). */
  ResultCode: 7,
  /** Session-Lifetime, Unsigned32 seconds (section 8.8). */
  SessionLifetime: 8,
  /** Termination-Cause, Enumerated (section 8.9). */
  TerminationCause: 9,
  /** PaC-Information (RFC 6345); not interpreted here. */
  PacInformation: 10,
  /** Relayed-Message (RFC 6345); not interpreted here. */
  RelayedMessage: 11,
  /** Encryption-Encap (RFC 6786); not interpreted here. */
  EncryptionEncap: 12,
  /** Encryption-Algorithm (RFC 6786); not interpreted here. */
  EncryptionAlgorithm: 13,
} as const;

/**
 * Result-Code AVP values (RFC 5191 section 8.7, IANA "Result-Code AVP Values").
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaResultCode.Success, 0);
 * ```
 */
export const PanaResultCode = {
  /** PANA_SUCCESS: authentication and authorization succeeded. */
  Success: 0,
  /** PANA_AUTHENTICATION_REJECTED: authentication failed (so did authorization). */
  AuthenticationRejected: 1,
  /** PANA_AUTHORIZATION_REJECTED: authentication succeeded, authorization failed. */
  AuthorizationRejected: 2,
} as const;

/**
 * Termination-Cause AVP values (RFC 5191 section 8.9, taken from the Diameter
 * Termination-Cause values).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaTerminationCause.SessionTimeout, 8);
 * ```
 */
export const PanaTerminationCause = {
  /** LOGOUT: the client initiated a disconnect (PaC to PAA). */
  Logout: 1,
  /** ADMINISTRATIVE: the client was not granted access or was disconnected (PAA to PaC). */
  Administrative: 4,
  /** SESSION_TIMEOUT: the session timed out and service ended (PAA to PaC). */
  SessionTimeout: 8,
} as const;

/**
 * PRF-Algorithm AVP values: the IKEv2 Transform Type 2 registry (RFC 7296 section
 * 3.3.2, IANA "IKEv2 Parameters"), as RFC 5191 section 8.6 specifies.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaPrfAlgorithm.HmacSha2_256, 5);
 * ```
 */
export const PanaPrfAlgorithm = {
  /** PRF_HMAC_SHA1, which RFC 5191 makes mandatory to implement. */
  HmacSha1: 2,
  /** PRF_HMAC_SHA2_256, used by this implementation (issue 3, RFC 4868). */
  HmacSha2_256: 5,
} as const;

/**
 * Integrity-Algorithm AVP values: the IKEv2 Transform Type 3 registry (RFC 7296
 * section 3.3.2, IANA "IKEv2 Parameters"), as RFC 5191 section 8.3 specifies.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaIntegrityAlgorithm.HmacSha2_256_128, 12);
 * ```
 */
export const PanaIntegrityAlgorithm = {
  /** AUTH_HMAC_SHA1_160 (20-byte AUTH value), which RFC 5191 makes mandatory to implement. */
  HmacSha1_160: 7,
  /** AUTH_HMAC_SHA2_256_128 (16-byte AUTH value, RFC 4868), used by this implementation. */
  HmacSha2_256_128: 12,
} as const;

/** AUTH AVP value length for AUTH_HMAC_SHA2_256_128: the HMAC truncated to 128 bits (RFC 4868 section 2.3). */
export const PANA_AUTH_LENGTH_SHA2_256_128 = 16;

/**
 * Retransmission parameters (RFC 5191 section 9, which applies the algorithm of RFC
 * 3315 section 14: RT doubles from IRT up to MRT, with a random factor of plus or
 * minus 0.1, for at most MRC retransmissions within MRD; 0 means no limit). The PaC
 * uses the PCI_* values for PCI, both sides the REQ_* values for requests.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaTimers.REQ_MRC, 10);
 * ```
 */
export const PanaTimers = {
  /** Initial PCI timeout, 1 s. */
  PCI_IRT: 1_000,
  /** Maximum PCI timeout, 120 s. */
  PCI_MRT: 120_000,
  /** Maximum PCI retransmissions, 0 (no limit). */
  PCI_MRC: 0,
  /** Maximum PCI retransmission duration, 0 (no limit). */
  PCI_MRD: 0,
  /** Initial request timeout, 1 s. */
  REQ_IRT: 1_000,
  /** Maximum request timeout, 30 s. */
  REQ_MRT: 30_000,
  /** Maximum request retransmissions, 10. */
  REQ_MRC: 10,
  /** Maximum request retransmission duration, 0 (no limit). */
  REQ_MRD: 0,
  /** The random factor RAND is drawn uniformly from [-RAND_FACTOR, +RAND_FACTOR] (RFC 3315 section 14). */
  RAND_FACTOR: 0.1,
} as const;
