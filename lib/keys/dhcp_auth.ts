/**
 * DHCP authentication (option 90, RFC 3118) under the MN-CA key of an MPA-SA, so
 * that the configuration agent of a candidate target network hands an address only
 * to a pre-authenticated mobile node (RFC 6252 section 7.3.3: "the DHCP
 * authentication key may be derived from the MPA-SA").
 *
 * Layout: protocol 1 (delayed authentication, RFC 3118 section 5), replay detection
 * method 0 with a monotonically increasing 64-bit counter in the replay field, and
 * authentication information = 4-byte secret id (the PANA session id, which names
 * the MN-CA key at the CA) + 16-byte MAC. The MAC is computed over the whole message
 * with `hops` and `giaddr` set to zero and the MAC field set to zero (RFC 3118
 * section 5.4), so relays may change those two fields.
 *
 * **Departure from RFC 3118.** The RFC defines only algorithm 1, HMAC-MD5. Here the
 * algorithm is 2 = HMAC-SHA-256 truncated to 16 bytes ("HMAC-SHA-256-128"), not an
 * IANA-assigned value: the MN-CA key is a non-extractable WebCrypto HMAC-SHA-256
 * `CryptoKey` and WebCrypto has no MD5. Both ends are of one MPA domain (the MN and
 * its CA), so no third-party server needs to understand it; servers that do not
 * (Kea, dnsmasq) ignore option 90 and rely on the CA's packet filter instead. Unlike
 * RFC 3118's delayed authentication, DHCPDISCOVER is authenticated too: the key is
 * already shared from pre-authentication, no exchange is needed to learn it.
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import {
  type DhcpMessage,
  encodeDhcp,
  type EncodeDhcpOptions,
  findDhcpOption,
} from "../wire/dhcp.ts";
import {
  DHCP_AUTH_FIXED_LENGTH,
  DHCP_AUTH_MAC_LENGTH,
  DHCP_AUTH_RDM_COUNTER,
  DHCP_AUTH_SECRET_ID_LENGTH,
  DHCP_GIADDR_OFFSET,
  DHCP_HOPS_OFFSET,
  DhcpAuthAlgorithm,
  DhcpAuthProtocol,
  DhcpOption,
} from "../wire/dhcp_constants.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { IntegrityError } from "./integrity_error.ts";

/** What {@link verifyDhcp} learned from a valid option 90. */
export interface DhcpAuthResult {
  /** The secret id: the PANA session id naming the MN-CA key. */
  readonly sessionId: number;
  /** The replay detection counter (RDM 0). */
  readonly counter: bigint;
}

/** Options of {@link verifyDhcp}. */
export interface VerifyDhcpOptions {
  /**
   * The last counter accepted from this session: a counter not greater than it is a
   * replay and is refused (RFC 3118 section 2, RDM 0).
   */
  readonly after?: bigint;
}

const _MAX_COUNTER = (1n << 64n) - 1n;

async function _mac(key: CryptoKey, bytes: Uint8Array, macOffset: number): Promise<Uint8Array> {
  const input = bytes.slice();
  input[DHCP_HOPS_OFFSET] = 0;
  input.fill(0, DHCP_GIADDR_OFFSET, DHCP_GIADDR_OFFSET + 4);
  input.fill(0, macOffset, macOffset + DHCP_AUTH_MAC_LENGTH);
  const full = new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
  return full.slice(0, DHCP_AUTH_MAC_LENGTH);
}

/**
 * Encodes a DHCP message with an option 90 (delayed authentication, RDM 0,
 * HMAC-SHA-256-128) computed under the MN-CA key. Any `auth` option in `msg` is
 * replaced.
 *
 * @param msg the message to sign
 * @param key the MN-CA key: a WebCrypto HMAC-SHA-256 key with the `sign` usage
 * @param sessionId the PANA session id (32-bit unsigned), sent as the secret id
 * @param counter the replay counter, greater than any sent before with this key
 * @param options encoder options (`minLength`)
 * @returns the encoded, signed message
 * @throws {ProtocolViolationError} for a session id or counter out of range
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { dhcpMessage } from "../wire/dhcp.ts";
 * const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
 * const bytes = await signDhcp(dhcpMessage({ xid: 9, options: { messageType: 1 } }), key, 42, 1n);
 * assertEquals(await verifyDhcp(bytes, key), { sessionId: 42, counter: 1n });
 * ```
 */
export async function signDhcp(
  msg: DhcpMessage,
  key: CryptoKey,
  sessionId: number,
  counter: bigint,
  options: EncodeDhcpOptions = {},
): Promise<Uint8Array> {
  if (!Number.isInteger(sessionId) || sessionId < 0 || sessionId > 0xffffffff) {
    throw new ProtocolViolationError(`Invalid DHCP authentication secret id: ${sessionId}`);
  }
  if (counter < 0n || counter > _MAX_COUNTER) {
    throw new ProtocolViolationError(`Invalid DHCP authentication counter: ${counter}`);
  }
  const replay = new Uint8Array(8);
  new DataView(replay.buffer).setBigUint64(0, counter);
  const info = new Uint8Array(DHCP_AUTH_SECRET_ID_LENGTH + DHCP_AUTH_MAC_LENGTH);
  new DataView(info.buffer).setUint32(0, sessionId);
  const bytes = encodeDhcp({
    ...msg,
    options: {
      ...msg.options,
      auth: {
        protocol: DhcpAuthProtocol.Delayed,
        algorithm: DhcpAuthAlgorithm.HmacSha256_128,
        rdm: DHCP_AUTH_RDM_COUNTER,
        replay,
        info,
      },
    },
  }, options);
  const [where] = findDhcpOption(bytes, DhcpOption.Authentication);
  const macOffset = where!.start + DHCP_AUTH_FIXED_LENGTH + DHCP_AUTH_SECRET_ID_LENGTH;
  bytes.set(await _mac(key, bytes, macOffset), macOffset);
  return bytes;
}

/**
 * Verifies the option 90 of a received DHCP message (RFC 3118 section 5.4): one
 * instance in the options field, protocol 1, algorithm 2 (HMAC-SHA-256-128), RDM 0,
 * a 20-byte authentication information, and a MAC that matches (compared in
 * constant time) with `hops`, `giaddr` and the MAC field zeroed.
 *
 * @param bytes the message as received
 * @param key the MN-CA key (HMAC-SHA-256, `sign` usage)
 * @param options `after`: the last counter accepted, to refuse replays
 * @returns the secret id (session id) and counter
 * @throws {MalformedMessageError} bytes that are no DHCP message, no option 90
 * @throws {ProtocolViolationError} two option-90 instances, another protocol,
 *   algorithm or RDM, a wrong-length authentication information, a replayed counter
 * @throws {IntegrityError} the MAC does not match
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { dhcpMessage } from "../wire/dhcp.ts";
 * import { IntegrityError } from "./integrity_error.ts";
 * const key = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
 * const bytes = await signDhcp(dhcpMessage({ options: { messageType: 3 } }), key, 7, 5n);
 * bytes[3] = 1; // hops, changed by a relay: still valid
 * assertEquals((await verifyDhcp(bytes, key)).counter, 5n);
 * bytes[4] = bytes[4]! ^ 1; // xid: tampered
 * await assertRejects(() => verifyDhcp(bytes, key), IntegrityError);
 * ```
 */
export async function verifyDhcp(
  bytes: Uint8Array,
  key: CryptoKey,
  options: VerifyDhcpOptions = {},
): Promise<DhcpAuthResult> {
  const found = findDhcpOption(bytes, DhcpOption.Authentication);
  if (found.length === 0) {
    throw new MalformedMessageError("Unauthenticated DHCP message: no option 90");
  }
  if (found.length > 1) {
    throw new ProtocolViolationError(
      `Invalid DHCP authentication: ${found.length} option-90 instances`,
    );
  }
  const { start, length } = found[0]!;
  const protocol = bytes[start]!;
  const algorithm = bytes[start + 1]!;
  const rdm = bytes[start + 2]!;
  if (length !== DHCP_AUTH_FIXED_LENGTH + DHCP_AUTH_SECRET_ID_LENGTH + DHCP_AUTH_MAC_LENGTH) {
    throw new ProtocolViolationError(
      `Invalid DHCP authentication option: ${length} bytes, expected 31`,
    );
  }
  if (protocol !== DhcpAuthProtocol.Delayed) {
    throw new ProtocolViolationError(`Unsupported DHCP authentication protocol: ${protocol}`);
  }
  if (algorithm !== DhcpAuthAlgorithm.HmacSha256_128) {
    throw new ProtocolViolationError(`Unsupported DHCP authentication algorithm: ${algorithm}`);
  }
  if (rdm !== DHCP_AUTH_RDM_COUNTER) {
    throw new ProtocolViolationError(`Unsupported DHCP replay detection method: ${rdm}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counter = view.getBigUint64(start + 3);
  const sessionId = view.getUint32(start + DHCP_AUTH_FIXED_LENGTH);
  const macOffset = start + DHCP_AUTH_FIXED_LENGTH + DHCP_AUTH_SECRET_ID_LENGTH;
  const expected = await _mac(key, bytes, macOffset);
  if (!constantTimeEqual(expected, bytes.subarray(macOffset, macOffset + DHCP_AUTH_MAC_LENGTH))) {
    throw new IntegrityError("DHCP authentication failed: MAC mismatch");
  }
  if (options.after !== undefined && counter <= options.after) {
    throw new ProtocolViolationError(
      `Replayed DHCP message: counter ${counter} not above ${options.after}`,
    );
  }
  return { sessionId, counter };
}
