/**
 * RADIUS constants: packet codes, attribute types, size limits, the Microsoft
 * vendor-specific attributes that carry the MSK, and the client's retransmission
 * defaults, each with its RFC section (RFC 2865, RFC 3579, RFC 2548, RFC 5080).
 *
 * @module
 */

/**
 * RADIUS packet codes (RFC 2865 sections 3 and 4; RFC 2866 for accounting).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(RadiusCode.AccessChallenge, 11);
 * ```
 */
export const RadiusCode = {
  /** Access-Request, RFC 2865 section 4.1. */
  AccessRequest: 1,
  /** Access-Accept, RFC 2865 section 4.2. */
  AccessAccept: 2,
  /** Access-Reject, RFC 2865 section 4.3. */
  AccessReject: 3,
  /** Accounting-Request, RFC 2866 section 4.1. */
  AccountingRequest: 4,
  /** Accounting-Response, RFC 2866 section 4.2. */
  AccountingResponse: 5,
  /** Access-Challenge, RFC 2865 section 4.4. */
  AccessChallenge: 11,
  /** Status-Server (experimental), RFC 2865 section 3, RFC 5997. */
  StatusServer: 12,
} as const;

/** A RADIUS packet code named in {@link RadiusCode}. */
export type RadiusCodeValue = typeof RadiusCode[keyof typeof RadiusCode];

/**
 * RADIUS attribute types used by the authentication agent (RFC 2865 section 5, RFC
 * 3579 section 3).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([RadiusAttributeType.EapMessage, RadiusAttributeType.MessageAuthenticator], [79, 80]);
 * ```
 */
export const RadiusAttributeType = {
  /** User-Name, RFC 2865 section 5.1: the EAP identity (RFC 3579 section 2.1). */
  UserName: 1,
  /** User-Password, RFC 2865 section 5.2. */
  UserPassword: 2,
  /** NAS-IP-Address, RFC 2865 section 5.4 (4 bytes). */
  NasIpAddress: 4,
  /** NAS-Port, RFC 2865 section 5.5. */
  NasPort: 5,
  /** Service-Type, RFC 2865 section 5.6. */
  ServiceType: 6,
  /** Framed-MTU, RFC 2865 section 5.12 (RFC 3579 section 2.4 recommends it with EAP). */
  FramedMtu: 12,
  /** Reply-Message, RFC 2865 section 5.18. */
  ReplyMessage: 18,
  /** State, RFC 2865 section 5.24: copied unchanged from an Access-Challenge. */
  State: 24,
  /** Class, RFC 2865 section 5.25. */
  Class: 25,
  /** Vendor-Specific, RFC 2865 section 5.26. */
  VendorSpecific: 26,
  /** Session-Timeout, RFC 2865 section 5.27. */
  SessionTimeout: 27,
  /** Called-Station-Id, RFC 2865 section 5.30. */
  CalledStationId: 30,
  /** Calling-Station-Id, RFC 2865 section 5.31. */
  CallingStationId: 31,
  /** NAS-Identifier, RFC 2865 section 5.32. */
  NasIdentifier: 32,
  /** Proxy-State, RFC 2865 section 5.33. */
  ProxyState: 33,
  /** NAS-Port-Type, RFC 2865 section 5.41. */
  NasPortType: 61,
  /** EAP-Message, RFC 3579 section 3.1: an EAP packet split over several attributes. */
  EapMessage: 79,
  /** Message-Authenticator, RFC 3579 section 3.2: HMAC-MD5 over the packet. */
  MessageAuthenticator: 80,
  /** NAS-IPv6-Address, RFC 3162 section 2.1 (16 bytes). */
  NasIpv6Address: 95,
} as const;

/** Length of the RADIUS header: Code, Identifier, Length, Authenticator (RFC 2865 section 3). */
export const RADIUS_HEADER_LENGTH = 20;

/** Smallest RADIUS packet, the bare header (RFC 2865 section 3, "Length"). */
export const RADIUS_MIN_LENGTH = 20;

/** Largest RADIUS packet (RFC 2865 section 3, "Length"). */
export const RADIUS_MAX_LENGTH = 4096;

/** Length of the Request and Response Authenticators (RFC 2865 section 3). */
export const RADIUS_AUTHENTICATOR_LENGTH = 16;

/** Largest attribute, Type and Length included (RFC 2865 section 5: Length is one byte). */
export const RADIUS_ATTRIBUTE_MAX_LENGTH = 255;

/**
 * Largest attribute value: 255 minus the Type and Length bytes (RFC 2865 section 5);
 * also the fragment size of EAP-Message (RFC 3579 section 3.1).
 */
export const RADIUS_ATTRIBUTE_MAX_VALUE = 253;

/** Length of the Message-Authenticator value, an HMAC-MD5 (RFC 3579 section 3.2). */
export const MESSAGE_AUTHENTICATOR_LENGTH = 16;

/** The well-known RADIUS authentication port (RFC 2865 section 3). */
export const RADIUS_AUTH_PORT = 1812;

/** Microsoft's SMI Network Management Private Enterprise Code (RFC 2548 section 2). */
export const MICROSOFT_VENDOR_ID = 311;

/**
 * Microsoft vendor-specific attribute types that carry keys (RFC 2548 sections 2.4.2
 * and 2.4.3).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(MicrosoftVendorType.MppeRecvKey, 17);
 * ```
 */
export const MicrosoftVendorType = {
  /** MS-MPPE-Send-Key, RFC 2548 section 2.4.2: the second half of the MSK. */
  MppeSendKey: 16,
  /** MS-MPPE-Recv-Key, RFC 2548 section 2.4.3: the first half of the MSK. */
  MppeRecvKey: 17,
} as const;

/**
 * Length of each MS-MPPE key when it carries half of a 64-byte MSK. RFC 3748 section
 * 7.10 makes the MSK at least 64 bytes; the split is the convention of RADIUS servers,
 * not of an RFC: hostapd's RADIUS server sends MSK[0..32] as MS-MPPE-Recv-Key and
 * MSK[32..64] as MS-MPPE-Send-Key, and Microsoft's MS-CHAP specification (section
 * 3.1.5.1) writes MSK = MasterReceiveKey + MasterSendKey.
 */
export const MPPE_KEY_LENGTH = 32;

/**
 * Client retransmission defaults. RFC 2865 section 2.5 requires a retransmission to
 * the same server to reuse the Identifier, the Request Authenticator and the source
 * port but leaves timers open; RFC 5080 section 2.2.1 recommends a back-off. The
 * client waits `timeoutMs`, then twice that, and so on, for `retries` retransmissions:
 * 1 + 2 + 4 = 7 s in all before it calls the server unreachable.
 */
export const RADIUS_CLIENT_DEFAULTS = {
  /** Wait before the first retransmission, ms. */
  timeoutMs: 1000,
  /** Retransmissions after the first transmission (3 transmissions in all). */
  retries: 2,
  /** NAS-Identifier sent when the request names no NAS (RFC 2865 section 4.1). */
  nasIdentifier: "mpa",
} as const;
