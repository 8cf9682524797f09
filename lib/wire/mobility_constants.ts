/**
 * Mobile IPv6 constants (RFC 6275 with the multiple care-of address extension of RFC
 * 5648), each with the section or registry that defines it: Mobility Header types,
 * mobility option types and their alignment, Binding Acknowledgement and Binding
 * Error status codes, and the UDP port this implementation carries the Mobility
 * Header on.
 *
 * @module
 */

/**
 * The UDP port of Mobile IPv6 over UDP, assigned by RFC 5555 (DSMIPv6, IANA service
 * name "dsmipv6"). The kernel here has no Mobile IPv6, so this implementation sends
 * the Mobility Header as the UDP payload on this port instead of as IPv6 extension
 * header 135 (RFC 5555 wraps a whole IPv6 packet; we carry the Mobility Header alone).
 */
export const MIP6_UDP_PORT = 4191;

/** The IPv6 Next Header value of the Mobility Header (RFC 6275 section 6.1.1). */
export const IPPROTO_MH = 135;

/**
 * IPPROTO_NONE: the only Payload Proto value RFC 6275 section 6.1.1 allows; section 9.2
 * makes the receiver discard a Mobility Header with any other.
 */
export const IPPROTO_NONE = 59;

/**
 * Length of the fixed part of the Mobility Header before the message data: Payload
 * Proto, Header Len, MH Type, Reserved, Checksum (RFC 6275 section 6.1.1).
 */
export const MH_FIXED_LENGTH = 6;

/**
 * The largest Mobility Header: Header Len is 8 bits in units of 8 octets, not counting
 * the first 8 (RFC 6275 section 6.1.1), so (255 + 1) * 8 bytes.
 */
export const MH_MAX_LENGTH = 2048;

/** The unit of the BU / BA Lifetime and Binding Refresh Advice fields, seconds (RFC 6275 sections 6.1.7, 6.2.4). */
export const MH_LIFETIME_UNIT_SECONDS = 4;

/** The largest Lifetime a 16-bit field in 4-second units can carry, seconds. */
export const MH_MAX_LIFETIME_SECONDS = 0xffff * MH_LIFETIME_UNIT_SECONDS;

/**
 * The longest binding lifetime a correspondent node grants for route optimization,
 * seconds (RFC 6275 section 12, MAX_RR_BINDING_LIFETIME).
 */
export const MAX_RR_BINDING_LIFETIME = 420;

/** Length of the Authenticator of the Binding Authorization Data option, bytes (96 bits, RFC 6275 section 5.2.6). */
export const MH_AUTHENTICATOR_LENGTH = 12;

/**
 * Mobility Header types (RFC 6275 section 6.1, IANA "Mobility Header Types - for the
 * MH Type field in the Mobility Header").
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(MhType.BindingUpdate, 5);
 * ```
 */
export const MhType = {
  /** Binding Refresh Request (section 6.1.2). */
  BindingRefreshRequest: 0,
  /** Home Test Init (section 6.1.3). */
  HomeTestInit: 1,
  /** Care-of Test Init (section 6.1.4). */
  CareOfTestInit: 2,
  /** Home Test (section 6.1.5). */
  HomeTest: 3,
  /** Care-of Test (section 6.1.6). */
  CareOfTest: 4,
  /** Binding Update (section 6.1.7). */
  BindingUpdate: 5,
  /** Binding Acknowledgement (section 6.1.8). */
  BindingAck: 6,
  /** Binding Error (section 6.1.9). */
  BindingError: 7,
} as const;

/**
 * Mobility option types (RFC 6275 section 6.2, RFC 5648 section 6.1; IANA "Mobility
 * Options").
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(MobilityOptionType.BindingIdentifier, 35);
 * ```
 */
export const MobilityOptionType = {
  /** Pad1: one byte of padding, no length field (section 6.2.2). */
  Pad1: 0,
  /** PadN: two or more bytes of padding (section 6.2.3). */
  PadN: 1,
  /** Binding Refresh Advice (section 6.2.4); data length 2. */
  BindingRefreshAdvice: 2,
  /** Alternate Care-of Address (section 6.2.5); data length 16. */
  AlternateCareOfAddress: 3,
  /** Nonce Indices (section 6.2.6); data length 4. */
  NonceIndices: 4,
  /** Binding Authorization Data (section 6.2.7); the Authenticator. */
  BindingAuthorizationData: 5,
  /** Binding Identifier (RFC 5648 section 6.1); data length 4, 8 or 20. */
  BindingIdentifier: 35,
} as const;

/**
 * Alignment requirement `xn+y` of each option as `[x, y]`, counted from the start of the
 * Mobility Header (RFC 6275 sections 6.2.4 to 6.2.7: 2n, 8n+6, 2n, 8n+2 so that the
 * address and the Authenticator fall on 8-byte boundaries). The Binding Identifier's
 * 8n+2 puts its care-of address on an 8-byte boundary too; see the module notes of
 * `mobility_header.ts` on how it is checked.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(MOBILITY_OPTION_ALIGNMENT[MobilityOptionType.AlternateCareOfAddress], [8, 6]);
 * ```
 */
export const MOBILITY_OPTION_ALIGNMENT: Readonly<Record<number, readonly [number, number]>> = {
  [MobilityOptionType.BindingRefreshAdvice]: [2, 0],
  [MobilityOptionType.AlternateCareOfAddress]: [8, 6],
  [MobilityOptionType.NonceIndices]: [2, 0],
  [MobilityOptionType.BindingAuthorizationData]: [8, 2],
  [MobilityOptionType.BindingIdentifier]: [8, 2],
};

/**
 * Binding Acknowledgement status codes (RFC 6275 section 6.1.8, RFC 5648 section 6.2;
 * IANA "Status Codes"). Values under 128 accept the Binding Update, 128 and above
 * reject it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(BindingAckStatus.SequenceNumberOutOfWindow, 135);
 * ```
 */
export const BindingAckStatus = {
  /** Binding Update accepted. */
  Accepted: 0,
  /** Accepted but prefix discovery necessary. */
  AcceptedPrefixDiscoveryNecessary: 1,
  /** MCOA NOTCOMPLETE (RFC 5648): some of the bulk-registered bindings were refused; see each BID's status. */
  McoaNotComplete: 4,
  /** MCOA RETURNHOME WO/NDP (RFC 5648): returning home without neighbor discovery. */
  McoaReturnHomeWithoutNdp: 5,
  /** Reason unspecified. */
  ReasonUnspecified: 128,
  /** Administratively prohibited. */
  AdministrativelyProhibited: 129,
  /** Insufficient resources. */
  InsufficientResources: 130,
  /** Home registration not supported. */
  HomeRegistrationNotSupported: 131,
  /** Not home subnet. */
  NotHomeSubnet: 132,
  /** Not home agent for this mobile node (also: no binding for the BID to delete, RFC 5648). */
  NotHomeAgentForThisMobileNode: 133,
  /** Duplicate Address Detection failed. */
  DuplicateAddressDetectionFailed: 134,
  /** Sequence number out of window (section 9.5.1): the BA carries the last accepted sequence number. */
  SequenceNumberOutOfWindow: 135,
  /** Expired home nonce index. */
  ExpiredHomeNonceIndex: 136,
  /** Expired care-of nonce index. */
  ExpiredCareOfNonceIndex: 137,
  /** Expired nonces. */
  ExpiredNonces: 138,
  /** Registration type change disallowed. */
  RegistrationTypeChangeDisallowed: 139,
  /** MCOA MALFORMED (RFC 5648): the Binding Identifier options are malformed. */
  McoaMalformed: 164,
  /** MCOA NON-MCOA BINDING EXISTS (RFC 5648): a binding without BID is registered. */
  McoaNonMcoaBindingExists: 165,
  /** MCOA PROHIBITED (RFC 5648): multiple care-of addresses are not allowed. */
  McoaProhibited: 166,
  /** MCOA UNKNOWN COA (RFC 5648). */
  McoaUnknownCoa: 167,
  /** MCOA BULK REGISTRATION PROHIBITED (RFC 5648): one BU may carry one BID only. */
  McoaBulkRegistrationProhibited: 168,
  /** MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED (RFC 5648). */
  McoaSimultaneousHomeAndForeignProhibited: 169,
  /** Invalid Care-of Address (RFC 6275). */
  InvalidCareOfAddress: 174,
} as const;

/**
 * Binding Error status codes (RFC 6275 section 6.1.9).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(BindingErrorStatus.UnrecognizedMhType, 2);
 * ```
 */
export const BindingErrorStatus = {
  /** Unknown binding for Home Address destination option. */
  UnknownBindingForHomeAddressOption: 1,
  /** Unrecognized MH Type value. */
  UnrecognizedMhType: 2,
} as const;

/**
 * Whether a Binding Acknowledgement status accepts the Binding Update (RFC 6275
 * section 6.1.8: values under 128).
 *
 * @param status the Status field, 0 to 255
 * @returns true for an acceptance
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(isBindingAccepted(BindingAckStatus.Accepted), true);
 * assertEquals(isBindingAccepted(BindingAckStatus.SequenceNumberOutOfWindow), false);
 * ```
 */
export function isBindingAccepted(status: number): boolean {
  return status < 128;
}
