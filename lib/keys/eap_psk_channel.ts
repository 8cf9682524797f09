/**
 * The EAP-PSK protected channel (RFC 4764 section 3.3): EAX with AES-128 under the
 * TEK, the 4-byte Nonce field padded with 96 leading zero bits as the EAX nonce, and
 * the first 22 bytes of the EAP packet (EAP header, EAP-PSK Flags, RAND_S) as the
 * EAX header; the tag is 16 bytes. The server sends Nonce 0 in message 3; the peer
 * answers with Nonce 1 in message 4 (each side increments the peer's value).
 *
 * The codec frames the PCHANNEL field (Nonce || Tag || encrypted data); these two
 * functions only seal and open it.
 *
 * @module
 */
import { importAesKey } from "./aes_block.ts";
import { _checkAesKey, _cmacSubkeys, type _Subkeys } from "./_aes.ts";
import { _requireBytes, _requireLength, _requireUint32 } from "./_bytes.ts";
import { _eaxOpen, _eaxSeal, type EaxSealed } from "./eax.ts";
import { EAP_PSK_KEY_LENGTH } from "./eap_psk_keys.ts";

/** Length of the EAX header of the EAP-PSK protected channel, bytes (RFC 4764 section 3.3). */
export const EAP_PSK_CHANNEL_HEADER_LENGTH = 22;

/** Length of the protected channel's tag, bytes (RFC 4764 section 3.3). */
export const EAP_PSK_CHANNEL_TAG_LENGTH = 16;

/**
 * The TEK imported once for the protected channel, with its CMAC subkeys: one run
 * opens message 3 and seals message 4 under the same TEK, so a peer prepares it while
 * message 2 travels and the channel costs no key set-up on the critical path. Opaque:
 * hold it, pass it to {@link eapPskChannelSeal} and {@link eapPskChannelOpen}.
 */
export interface EapPskChannelKey {
  /** The TEK as a non-extractable AES-128 key (`importAesKey`). */
  readonly key: CryptoKey;
  /** Its CMAC subkeys (RFC 4493 section 2.3), for the OMACs of EAX. */
  readonly subkeys: _Subkeys;
}

/**
 * Imports the TEK for the protected channel (RFC 4764 section 3.3) once, for both
 * directions.
 *
 * @param tek the 16-byte TEK from `eapPskDeriveKeys`
 * @returns the prepared channel key
 * @throws {RangeError} when `tek` is not 16 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const tek = new Uint8Array(16).fill(3);
 * const header = new Uint8Array(22).fill(9);
 * const channel = await eapPskChannelKey(tek);
 * const sealed = await eapPskChannelSeal(channel, 1, header, new Uint8Array([0x80]));
 * // The prepared key and the raw TEK give the same channel.
 * assertEquals(await eapPskChannelSeal(tek, 1, header, new Uint8Array([0x80])), sealed);
 * ```
 */
export async function eapPskChannelKey(tek: Uint8Array): Promise<EapPskChannelKey> {
  _requireLength(tek, EAP_PSK_KEY_LENGTH, "EAP-PSK TEK");
  const key = await importAesKey(tek);
  return { key, subkeys: await _cmacSubkeys(key) };
}

/**
 * Seals data for the EAP-PSK protected channel (RFC 4764 section 3.3).
 *
 * @param tek the 16-byte TEK from `eapPskDeriveKeys`, or {@link eapPskChannelKey} of it
 * @param nonce the 32-bit Nonce field value of this message
 * @param header the first 22 bytes of the EAP packet being built (its Length field
 *   already final)
 * @param plaintext the protected data (for results, one byte: R flag and E flag)
 * @returns the encrypted data and the 16-byte tag
 * @throws {RangeError} when `tek` is not 16 bytes, `header` not 22 bytes or `nonce`
 *   not a 32-bit unsigned integer
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const tek = new Uint8Array(16).fill(9);
 * const header = new Uint8Array(22).fill(1);
 * const sealed = await eapPskChannelSeal(tek, 0, header, new Uint8Array([0x80]));
 * assertEquals(await eapPskChannelOpen(tek, 0, header, sealed.ciphertext, sealed.tag), new Uint8Array([0x80]));
 * ```
 */
export async function eapPskChannelSeal(
  tek: Uint8Array | EapPskChannelKey,
  nonce: number,
  header: Uint8Array,
  plaintext: Uint8Array,
): Promise<EaxSealed> {
  _requireBytes(plaintext, "EAP-PSK protected channel plaintext");
  const channel = await _channelKey(tek, nonce, header);
  return await _eaxSeal(
    channel.key,
    channel.subkeys,
    _eaxNonce(nonce),
    header,
    plaintext,
    EAP_PSK_CHANNEL_TAG_LENGTH,
  );
}

/**
 * Verifies and opens data from the EAP-PSK protected channel (RFC 4764 section 3.3).
 *
 * @param tek the 16-byte TEK from `eapPskDeriveKeys`, or {@link eapPskChannelKey} of it
 * @param nonce the 32-bit Nonce field value received
 * @param header the first 22 bytes of the received EAP packet
 * @param ciphertext the encrypted data
 * @param tag the 16-byte tag received
 * @returns the protected data
 * @throws {IntegrityError} when the tag does not verify (wrong TEK, altered header or data)
 * @throws {RangeError} when a length or `nonce` is out of range
 *
 * @example
 * ```ts
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { IntegrityError } from "./integrity_error.ts";
 * const tek = new Uint8Array(16).fill(9);
 * const header = new Uint8Array(22);
 * const sealed = await eapPskChannelSeal(tek, 0, header, new Uint8Array([0x80]));
 * // The peer must not accept the server's message replayed under another Nonce.
 * await assertRejects(
 *   () => eapPskChannelOpen(tek, 1, header, sealed.ciphertext, sealed.tag), IntegrityError);
 * ```
 */
export async function eapPskChannelOpen(
  tek: Uint8Array | EapPskChannelKey,
  nonce: number,
  header: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireLength(tag, EAP_PSK_CHANNEL_TAG_LENGTH, "EAP-PSK protected channel tag");
  _requireBytes(ciphertext, "EAP-PSK protected channel data");
  const channel = await _channelKey(tek, nonce, header);
  return await _eaxOpen(channel.key, channel.subkeys, _eaxNonce(nonce), header, ciphertext, tag);
}

/** Checks the arguments; imports a raw TEK (a prepared one is used as it is). */
async function _channelKey(
  tek: Uint8Array | EapPskChannelKey,
  nonce: number,
  header: Uint8Array,
): Promise<EapPskChannelKey> {
  _requireUint32(nonce, "EAP-PSK protected channel nonce");
  _requireLength(header, EAP_PSK_CHANNEL_HEADER_LENGTH, "EAP-PSK protected channel header");
  if (tek instanceof Uint8Array) return await eapPskChannelKey(tek);
  _checkAesKey(tek.key);
  return tek;
}

/** The 16-byte EAX nonce: 96 zero bits, then the 32-bit Nonce, big-endian. */
function _eaxNonce(nonce: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setUint32(12, nonce);
  return out;
}
