/**
 * Constants of the proactive handover tunnel (PHT) protocol of mpa: the frame
 * header, message types, TLV types, error codes and default timers (RFC 6252
 * sections 6.3 step 2, 7.2, 7.4, 7.6). RFC 6252 leaves the tunnel management
 * protocol open ("a tunnel management protocol", section 6.1); this one is mpa's
 * own, documented in ARCHITECTURE.md ("Tunnel"). Times are in milliseconds.
 *
 * @module
 */

/**
 * The UDP port of the PHT, MN to AR and back. RFC 6252 assigns no port and IANA has
 * none for a proactive handover tunnel; 7716 is unassigned in the IANA "Service Name
 * and Transport Protocol Port Number Registry" and recalls PANA's 716 (the AR and
 * the AA often share a host). Every endpoint takes the port as an option.
 */
export const PHT_UDP_PORT = 7716;

/** The PHT protocol version carried in the first byte of every frame. */
export const PHT_VERSION = 1;

/**
 * Length of the PHT frame header: version (1), type (1), flags (2), tunnel id (4),
 * sequence number (8).
 */
export const PHT_HEADER_LENGTH = 16;

/** Length of the AES-GCM authentication tag that ends a sealed data frame. */
export const PHT_GCM_TAG_LENGTH = 16;

/** Length of the truncated HMAC-SHA-256 that ends a management message. */
export const PHT_MAC_LENGTH = 16;

/** Length of the MN and AR nonces exchanged in create / create-ack. */
export const PHT_NONCE_LENGTH = 16;

/**
 * The largest PHT datagram accepted or built: a 65535-byte inner IPv4 packet plus
 * the header and tag would not fit in one UDP datagram, so inner packets are bounded
 * by 65535 - 8 (UDP) - 40 (outer IPv6) - 16 (header) - 16 (tag) bytes.
 */
export const PHT_MAX_DATAGRAM_LENGTH = 65_535 - 8 - 40;

/** The largest inner IP packet a data frame carries, in bytes. */
export const PHT_MAX_INNER_PACKET_LENGTH = PHT_MAX_DATAGRAM_LENGTH - PHT_HEADER_LENGTH -
  PHT_GCM_TAG_LENGTH;

/**
 * Frame types (byte 2 of the header). Type 0 carries a sealed inner IP packet; the
 * others are tunnel-management messages with a TLV body and an HMAC trailer.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PhtFrameType.Data, 0);
 * assertEquals(PhtFrameType.CreateAck, PhtFrameType.Create + 1);
 * ```
 */
export const PhtFrameType = {
  /** Sealed inner IP packet (RFC 6252 section 6.3 step 3). */
  Data: 0,
  /** MN asks the AR for a tunnel from its oCoA for its nCoA (section 7.4). */
  Create: 1,
  /** AR grants the tunnel: id, lifetime, AR nonce. */
  CreateAck: 2,
  /** MN extends the tunnel's lifetime (time-bound tunnels, section 7.2). */
  Refresh: 3,
  /** AR grants the new lifetime. */
  RefreshAck: 4,
  /** MN deletes the tunnel (section 6.3 steps 4 and 6). */
  Delete: 5,
  /** AR confirms the deletion. */
  DeleteAck: 6,
  /** MN asks the AR to hold packets for the nCoA (section 7.6.1). */
  Buffer: 7,
  /** AR confirms it is buffering. */
  BufferAck: 8,
  /** MN asks the AR to release the held packets in order (section 7.6.1). */
  Flush: 9,
  /** AR confirms, with the number of packets released. */
  FlushAck: 10,
  /** MN tests reachability through the tunnel before switching (section 7.6.3). */
  Probe: 11,
  /** AR answers a probe. */
  ProbeAck: 12,
  /** MN asks the AR to copy packets to its prepared interface (section 7.6.2). */
  CopyStart: 13,
  /** AR confirms it is copying. */
  CopyStartAck: 14,
  /** MN asks the AR to stop copying. */
  CopyStop: 15,
  /** AR confirms it stopped copying. */
  CopyStopAck: 16,
  /**
   * MN names the inner address it formed by SLAAC from the RA sent through the tunnel
   * (RFC 6252 section 7.3.4); the AR runs DAD for it on the CTN link (Appendix A)
   * before routing it into the tunnel. Also updates the MN's link-layer address
   * (Appendix B).
   */
  Update: 17,
  /** AR accepts the address: unique on the CTN link, routed into the tunnel. */
  UpdateAck: 18,
  /** AR refuses a request, with an error code. */
  Error: 31,
} as const;

/** A value of {@link PhtFrameType}. */
export type PhtFrameTypeValue = typeof PhtFrameType[keyof typeof PhtFrameType];

/**
 * TLV types of the management body: type (1 byte), length (1 byte), value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PhtTlvType.SessionId, 1);
 * ```
 */
export const PhtTlvType = {
  /** PANA Session Identifier of the MPA-SA whose MN-AR key protects the tunnel (u32). */
  SessionId: 1,
  /** The MN's current care-of address, the outer address (4 or 16 bytes). */
  OCoA: 2,
  /** The proactively acquired address, the inner address (4 or 16 bytes). */
  NCoA: 3,
  /** Requested or granted lifetime, ms (u32). */
  Lifetime: 4,
  /** MN nonce, 16 bytes, salt of the data keys. */
  MnNonce: 5,
  /** AR nonce, 16 bytes, salt of the data keys. */
  ArNonce: 6,
  /** Error code (u8), a {@link PhtErrorCode}. */
  ErrorCode: 7,
  /** A packet count (u32): packets released by a flush. */
  Count: 8,
  /** Where copies go (4 or 16 bytes), copy-and-forward (section 7.6.2). */
  Address: 9,
  /**
   * The MN's link-layer address on the CTN link (1 to 32 bytes; 6 for Ethernet), in
   * create or update: the AR installs a neighbour entry nCoA -> this address on the
   * CTN link at the switch, so that the first packets after it need no address
   * resolution (RFC 6252 Appendix B).
   */
  LinkLayerAddress: 10,
  /**
   * The MN's 64-bit IPv6 interface identifier (8 bytes), in create: "IPv6 autoconf
   * requested" (RFC 6252 section 7.3.4). The create's nCoA is then `::` (pending): the
   * AR sends its Router Advertisement through the tunnel and waits for an update
   * naming the address the MN formed.
   */
  InterfaceId: 11,
} as const;

/**
 * Error codes carried by an error message.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PhtErrorCode.UnknownSession, 1);
 * ```
 */
export const PhtErrorCode = {
  /** The AR holds no MN-AR key for the session id. */
  UnknownSession: 1,
  /** The tunnel id names no tunnel of this MN. */
  UnknownTunnel: 2,
  /** The request is well-formed but not acceptable (bad address, family mismatch). */
  BadRequest: 3,
  /** The AR has no room for another tunnel or the nCoA is taken. */
  Refused: 4,
  /**
   * Proactive DAD on the CTN link found the address in use (RFC 6252 Appendix A, RFC
   * 4862 section 5.4.5): the MN forms another one (RFC 7217 section 6, DAD_Counter).
   */
  Duplicate: 5,
} as const;

/** A value of {@link PhtErrorCode}. */
export type PhtErrorCodeValue = typeof PhtErrorCode[keyof typeof PhtErrorCode];

/** Requested tunnel lifetime when the MN names none, ms (time-bound, section 7.2). */
export const PHT_DEFAULT_LIFETIME_MS = 60_000;

/** The longest lifetime an AR grants by default, ms. */
export const PHT_DEFAULT_MAX_LIFETIME_MS = 600_000;

/** Bounds of the Link-Layer Address TLV value, bytes (RFC 6252 Appendix B). */
export const PHT_MAX_LINK_LAYER_ADDRESS_LENGTH = 32;

/** Length of the Interface Identifier TLV value, bytes (RFC 4862 section 5.5.3 (d)). */
export const PHT_INTERFACE_ID_LENGTH = 8;

/** Default size of the anti-replay window of data frames, in sequence numbers. */
export const PHT_REPLAY_WINDOW = 1024;

/** Default bound of an AR's buffer per tunnel, packets (section 7.6.1). */
export const PHT_DEFAULT_BUFFER_PACKETS = 1024;

/** Default longest time a packet waits in an AR's buffer, ms (section 7.6.1). */
export const PHT_DEFAULT_BUFFER_AGE_MS = 2_000;
