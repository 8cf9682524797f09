/**
 * DHCPv4 constants: BOOTP opcodes, ports, header layout, message types, option codes
 * and the option-90 authentication values used by the proactive DHCP client of RFC
 * 6252 section 7.3.3, each with its RFC section (RFC 2131, RFC 2132, RFC 3011, RFC
 * 3046, RFC 3118, RFC 3396, RFC 4039).
 *
 * @module
 */

/**
 * BOOTP `op` values (RFC 2131 section 2, figure 1).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([DhcpOp.BootRequest, DhcpOp.BootReply], [1, 2]);
 * ```
 */
export const DhcpOp = {
  /** BOOTREQUEST: client (or relay) to server. */
  BootRequest: 1,
  /** BOOTREPLY: server to client (or relay). */
  BootReply: 2,
} as const;

/** The UDP port a DHCP server (and a relay agent) listens on, RFC 2131 section 4.1. */
export const DHCP_SERVER_PORT = 67;

/** The UDP port a DHCP client listens on, RFC 2131 section 4.1. */
export const DHCP_CLIENT_PORT = 68;

/** `htype` of Ethernet (10 Mb), RFC 1700 "Hardware Type": chaddr is a 6-byte MAC. */
export const DHCP_HTYPE_ETHERNET = 1;

/** The magic cookie 99.130.83.99 that starts the options field, RFC 2131 section 3. */
export const DHCP_MAGIC_COOKIE = 0x63825363;

/**
 * Length of the fixed BOOTP header before the magic cookie: op..file (RFC 2131
 * section 2, figure 1).
 */
export const DHCP_HEADER_LENGTH = 236;

/** Length of the `chaddr` field, RFC 2131 section 2. */
export const DHCP_CHADDR_LENGTH = 16;

/** Length of the `sname` field, RFC 2131 section 2. */
export const DHCP_SNAME_LENGTH = 64;

/** Length of the `file` field, RFC 2131 section 2. */
export const DHCP_FILE_LENGTH = 128;

/** Offset of `sname` in the header, RFC 2131 section 2. */
export const DHCP_SNAME_OFFSET = 44;

/** Offset of `file` in the header, RFC 2131 section 2. */
export const DHCP_FILE_OFFSET = 108;

/** Offset of `hops` in the header (zeroed for the option-90 MAC, RFC 3118 section 5.4). */
export const DHCP_HOPS_OFFSET = 3;

/** Offset of `giaddr` in the header (zeroed for the option-90 MAC, RFC 3118 section 5.4). */
export const DHCP_GIADDR_OFFSET = 24;

/**
 * The `flags` bit asking the server to broadcast its reply, RFC 2131 section 2
 * (figure 2). RFC 6252 section 7.3.3: the MN leaves it 0 so that the reply is unicast
 * back to its current address.
 */
export const DHCP_FLAG_BROADCAST = 0x8000;

/**
 * Smallest BOOTP message a relay agent must accept (RFC 1542 section 2.1): the
 * encoder pads shorter messages with Pad options up to this length by default.
 */
export const DHCP_MIN_MESSAGE_LENGTH = 300;

/**
 * DHCP message types, option 53 (RFC 2132 section 9.6; RFC 2131 section 3.1 for
 * their use).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([DhcpMessageType.Discover, DhcpMessageType.Ack, DhcpMessageType.Inform], [1, 5, 8]);
 * ```
 */
export const DhcpMessageType = {
  /** DHCPDISCOVER, RFC 2131 section 3.1 step 1. */
  Discover: 1,
  /** DHCPOFFER, RFC 2131 section 3.1 step 2. */
  Offer: 2,
  /** DHCPREQUEST, RFC 2131 section 3.1 step 3 (also renewal, section 4.3.2). */
  Request: 3,
  /** DHCPDECLINE, RFC 2131 section 3.1 step 5. */
  Decline: 4,
  /** DHCPACK, RFC 2131 section 3.1 step 4. */
  Ack: 5,
  /** DHCPNAK, RFC 2131 section 3.1 step 4. */
  Nak: 6,
  /** DHCPRELEASE, RFC 2131 section 3.1 step 6. */
  Release: 7,
  /** DHCPINFORM, RFC 2131 section 3.4. */
  Inform: 8,
} as const;

/** A DHCP message type named in {@link DhcpMessageType}. */
export type DhcpMessageTypeValue = typeof DhcpMessageType[keyof typeof DhcpMessageType];

/**
 * DHCP option codes decoded by the codec (RFC 2132 unless noted).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([DhcpOption.SubnetSelection, DhcpOption.Authentication], [118, 90]);
 * ```
 */
export const DhcpOption = {
  /** Pad, RFC 2132 section 3.1 (one byte, no length). */
  Pad: 0,
  /** Subnet Mask, RFC 2132 section 3.3 (4 bytes). */
  SubnetMask: 1,
  /** Router, RFC 2132 section 3.5 (n x 4 bytes). */
  Router: 3,
  /** Domain Name Server, RFC 2132 section 3.8 (n x 4 bytes). */
  DomainNameServer: 6,
  /** Host Name, RFC 2132 section 3.14. */
  HostName: 12,
  /** Requested IP Address, RFC 2132 section 9.1 (4 bytes). */
  RequestedAddress: 50,
  /** IP Address Lease Time, RFC 2132 section 9.2 (4 bytes, seconds). */
  LeaseTime: 51,
  /** Option Overload, RFC 2132 section 9.3 (1 byte: 1 file, 2 sname, 3 both). */
  Overload: 52,
  /** DHCP Message Type, RFC 2132 section 9.6 (1 byte). */
  MessageType: 53,
  /** Server Identifier, RFC 2132 section 9.7 (4 bytes). */
  ServerId: 54,
  /** Parameter Request List, RFC 2132 section 9.8. */
  ParameterRequestList: 55,
  /** Message, RFC 2132 section 9.9 (text, e.g. why a NAK). */
  Message: 56,
  /** Maximum DHCP Message Size, RFC 2132 section 9.10 (2 bytes). */
  MaxMessageSize: 57,
  /** Renewal (T1) Time Value, RFC 2132 section 9.11 (4 bytes, seconds). */
  RenewalTime: 58,
  /** Rebinding (T2) Time Value, RFC 2132 section 9.12 (4 bytes, seconds). */
  RebindingTime: 59,
  /** Client-identifier, RFC 2132 section 9.14 (type byte + identifier, at least 2 bytes). */
  ClientId: 61,
  /** Rapid Commit, RFC 4039 section 4 (no data). */
  RapidCommit: 80,
  /** Relay Agent Information, RFC 3046 section 2.0 (sub-options). */
  RelayAgentInfo: 82,
  /** Authentication, RFC 3118 section 2. */
  Authentication: 90,
  /** Subnet Selection, RFC 3011 section 3 (4 bytes). */
  SubnetSelection: 118,
  /** End, RFC 2132 section 3.2 (one byte, no length). */
  End: 255,
} as const;

/** Values of the Option Overload option 52 (RFC 2132 section 9.3). */
export const DhcpOverload = {
  /** The `file` field holds options. */
  File: 1,
  /** The `sname` field holds options. */
  Sname: 2,
  /** Both fields hold options. */
  Both: 3,
} as const;

/**
 * Authentication option protocol values (RFC 3118 section 2).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(DhcpAuthProtocol.Delayed, 1);
 * ```
 */
export const DhcpAuthProtocol = {
  /** Configuration token, RFC 3118 section 4. */
  ConfigurationToken: 0,
  /** Delayed authentication, RFC 3118 section 5. */
  Delayed: 1,
} as const;

/**
 * Authentication option algorithm values for delayed authentication.
 *
 * RFC 3118 section 5 defines only 1 = HMAC-MD5. Value 2 = HMAC-SHA-256 truncated to
 * 16 bytes is this project's departure (see `lib/keys/dhcp_auth.ts`): the MN-CA key is
 * a non-extractable WebCrypto HMAC-SHA-256 key and WebCrypto has no MD5.
 */
export const DhcpAuthAlgorithm = {
  /** HMAC-MD5, RFC 3118 section 5. */
  HmacMd5: 1,
  /** HMAC-SHA-256-128: not assigned by the RFC, used between MN and CA of one MPA domain. */
  HmacSha256_128: 2,
} as const;

/** Replay detection method 0: a monotonically increasing counter, RFC 3118 section 2. */
export const DHCP_AUTH_RDM_COUNTER = 0;

/** Length of the replay detection field of option 90, RFC 3118 section 2. */
export const DHCP_AUTH_REPLAY_LENGTH = 8;

/** Length of the fixed part of option 90 (protocol, algorithm, RDM, replay), RFC 3118 section 2. */
export const DHCP_AUTH_FIXED_LENGTH = 11;

/** Length of the delayed-authentication MAC, RFC 3118 section 5 (HMAC-MD5: 16 bytes). */
export const DHCP_AUTH_MAC_LENGTH = 16;

/** Length of the secret id that precedes the MAC, RFC 3118 section 5. */
export const DHCP_AUTH_SECRET_ID_LENGTH = 4;
