/**
 * Authentication of Mobile IPv6 binding messages (Binding Update, Binding
 * Acknowledgement) with a key shared by the mobile node and its home agent (or
 * correspondent), carried in the Binding Authorization Data option.
 *
 * The construction is that of RFC 6275 section 5.2.6 with two changes:
 *
 * ```
 * Authenticator = First (96, HMAC-SHA-256 (K, care-of address | peer address | MH Data))
 * ```
 *
 * - `K` is a pre-shared key of at least 16 bytes (32 recommended, e.g. from the key
 *   hierarchy), not the route optimization key Kbm = SHA1(home keygen token | care-of
 *   keygen token) of section 5.2.5. RFC 6275 protects home registrations with IPsec
 *   ESP (section 5.1), which this kernel does not have, and runs return routability
 *   only towards correspondents; a shared key in the option RFC 6275 already defines
 *   protects both with one mechanism.
 * - HMAC-SHA-256 instead of HMAC-SHA1, as everywhere else in this implementation (PANA
 *   AUTH_HMAC_SHA2_256_128, the MPA key hierarchy). The output is truncated to 96 bits
 *   as in section 5.2.6, so the option keeps its 12-byte Authenticator and the 8n+2
 *   alignment still ends the Mobility Header on an 8-byte boundary.
 * - `care-of address` is the mobile node's care-of address (the source of a BU, the
 *   destination of a BA), `peer address` the home agent's or correspondent's, 16 bytes
 *   each; an IPv4 address (DSMIPv6-style transport) enters as `::ffff:a.b.c.d`.
 * - `MH Data` is the whole Mobility Header with the Checksum field taken as zero and
 *   without the Authenticator bytes themselves (its Type and Length are included), as
 *   in section 5.2.6. Since the option is the last one, this is everything before the
 *   Authenticator.
 *
 * Replays are refused by the binding cache's Sequence Number check (RFC 6275 section
 * 9.5.1), which the authenticator covers. The MAC is compared in constant time.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import { ipv6MappedAddress } from "../wire/ip_header.ts";
import {
  type AuthenticatorLocation,
  type BindingAck,
  type BindingUpdate,
  encodeMobilityHeader,
  findAuthenticator,
  mobilityHeaderChecksum,
  type MobilityHeaderCodecOptions,
} from "../wire/mobility_header.ts";
import { MH_AUTHENTICATOR_LENGTH } from "../wire/mobility_constants.ts";
import { _concat, _requireBytes, _requireMinLength } from "./_bytes.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { prfHmacSha256 } from "./prf_plus.ts";

/** The shortest pre-shared binding key accepted, bytes (32 recommended: the HMAC-SHA-256 output size). */
export const BINDING_AUTH_KEY_MIN_LENGTH = 16;

/** The addresses the Authenticator binds the message to (RFC 6275 section 5.2.6). */
export interface BindingAuthAddresses {
  /** The mobile node's care-of address, IPv6 or IPv4 text. */
  readonly careOf: string;
  /** The home agent's or correspondent's address, IPv6 or IPv4 text. */
  readonly peer: string;
}

/** The MH Data of section 5.2.6: checksum zeroed, Authenticator bytes left out. */
function _mhData(mh: Uint8Array, offset: number, length: number): Uint8Array {
  const out = _concat(mh.subarray(0, offset), mh.subarray(offset + length));
  out[4] = 0;
  out[5] = 0;
  return out;
}

/**
 * Computes the 96-bit Authenticator over the addresses and the MH Data (the Mobility
 * Header with its Checksum zeroed and without the Authenticator bytes).
 *
 * @param key the pre-shared key, at least {@linkcode BINDING_AUTH_KEY_MIN_LENGTH} bytes
 * @param addresses the care-of and peer addresses
 * @param mhData the MH Data
 * @returns the 12-byte Authenticator
 * @throws {RangeError} when the key is too short
 * @throws {MalformedMessageError} when an address does not parse
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = new Uint8Array(32).fill(9);
 * const data = new Uint8Array([0x3b, 0x02, 0x05, 0x00]);
 * const a = await bindingAuthenticator(key, { careOf: "2001:db8:c::1", peer: "2001:db8:a::1" }, data);
 * const b = await bindingAuthenticator(key, { careOf: "2001:db8:c::2", peer: "2001:db8:a::1" }, data);
 * assertEquals(a.length, 12);
 * assertNotEquals(a, b);
 * ```
 */
export async function bindingAuthenticator(
  key: Uint8Array,
  addresses: BindingAuthAddresses,
  mhData: Uint8Array,
): Promise<Uint8Array> {
  _requireMinLength(key, BINDING_AUTH_KEY_MIN_LENGTH, "binding key");
  _requireBytes(mhData, "MH Data");
  const input = _concat(
    ipv6MappedAddress(addresses.careOf),
    ipv6MappedAddress(addresses.peer),
    mhData,
  );
  return (await prfHmacSha256(key, input)).slice(0, MH_AUTHENTICATOR_LENGTH);
}

/**
 * Encodes a Binding Update or Binding Acknowledgement with a Binding Authorization
 * Data option (replacing any the message has) whose Authenticator is computed under
 * `key`; then sets the Checksum when `options.checksum` gives the pseudo-header
 * addresses (the Authenticator is computed with the Checksum as zero, so the order
 * does not matter to the peer).
 *
 * @param key the pre-shared key, at least {@linkcode BINDING_AUTH_KEY_MIN_LENGTH} bytes
 * @param msg the message, without or with a placeholder Binding Authorization Data option
 * @param addresses the care-of and peer addresses
 * @param options `checksum` addresses, as for `encodeMobilityHeader`
 * @returns the signed Mobility Header bytes
 * @throws {RangeError} when the key is too short
 * @throws {MalformedMessageError | ProtocolViolationError} as `encodeMobilityHeader`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { bindingUpdateFlags } from "../wire/mobility_header.ts";
 * const key = new Uint8Array(32).fill(9);
 * const addresses = { careOf: "2001:db8:c::1", peer: "2001:db8:a::1" };
 * const mh = await signMobilityHeader(key, {
 *   kind: "bindingUpdate", sequence: 1, flags: bindingUpdateFlags({ ack: true, home: true }),
 *   lifetime: 60, options: [],
 * }, addresses);
 * assertEquals(await verifyMobilityHeader(key, mh, addresses), true);
 * assertEquals(await verifyMobilityHeader(key, mh, { ...addresses, careOf: "2001:db8:c::2" }), false);
 * ```
 */
export async function signMobilityHeader(
  key: Uint8Array,
  msg: BindingUpdate | BindingAck,
  addresses: BindingAuthAddresses,
  options?: MobilityHeaderCodecOptions,
): Promise<Uint8Array> {
  _requireMinLength(key, BINDING_AUTH_KEY_MIN_LENGTH, "binding key");
  const placeholder = {
    ...msg,
    options: [
      ...msg.options.filter((o) => o.kind !== "bindingAuthorizationData"),
      {
        kind: "bindingAuthorizationData" as const,
        authenticator: new Uint8Array(MH_AUTHENTICATOR_LENGTH),
      },
    ],
  };
  const mh = encodeMobilityHeader(placeholder);
  const at = findAuthenticator(mh);
  if (at === undefined) {
    throw new MalformedMessageError("Invalid Mobility Header: no Binding Authorization Data");
  }
  mh.set(await bindingAuthenticator(key, addresses, _mhData(mh, at.offset, at.length)), at.offset);
  if (options?.checksum !== undefined) {
    const sum = mobilityHeaderChecksum(mh, options.checksum);
    mh[4] = sum >> 8;
    mh[5] = sum & 0xff;
  }
  return mh;
}

/**
 * Verifies the Binding Authorization Data of a received Mobility Header, comparing
 * the Authenticator in constant time. A message without the option, with an
 * Authenticator that is not 12 bytes, or that does not decode, does not verify.
 *
 * @param key the pre-shared key, at least {@linkcode BINDING_AUTH_KEY_MIN_LENGTH} bytes
 * @param mh the Mobility Header bytes as received
 * @param addresses the care-of and peer addresses the message came with
 * @returns true when the Authenticator is that of the message under `key`
 * @throws {RangeError} when the key is too short
 * @throws {MalformedMessageError} when an address does not parse
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const key = new Uint8Array(32).fill(9);
 * const addresses = { careOf: "192.0.2.10", peer: "2001:db8:a::1" };
 * const mh = await signMobilityHeader(key, {
 *   kind: "bindingAck", status: 0, keyManagement: false, sequence: 1, lifetime: 60, options: [],
 * }, addresses);
 * assertEquals(await verifyMobilityHeader(key, mh, addresses), true);
 * mh[8] = mh[8]! ^ 1; // flip a bit of the Sequence Number
 * assertEquals(await verifyMobilityHeader(key, mh, addresses), false);
 * ```
 */
export async function verifyMobilityHeader(
  key: Uint8Array,
  mh: Uint8Array,
  addresses: BindingAuthAddresses,
): Promise<boolean> {
  _requireMinLength(key, BINDING_AUTH_KEY_MIN_LENGTH, "binding key");
  let at: AuthenticatorLocation | undefined;
  try {
    at = findAuthenticator(mh);
  } catch {
    return false;
  }
  if (at === undefined || at.length !== MH_AUTHENTICATOR_LENGTH) return false;
  const received = mh.slice(at.offset, at.offset + at.length);
  const expected = await bindingAuthenticator(key, addresses, _mhData(mh, at.offset, at.length));
  return constantTimeEqual(expected, received);
}
