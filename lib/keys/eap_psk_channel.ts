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
import { _requireLength, _requireUint32 } from "./_bytes.ts";
import { eaxDecrypt, eaxEncrypt, type EaxSealed } from "./eax.ts";
import { EAP_PSK_KEY_LENGTH } from "./eap_psk_keys.ts";

/** Length of the EAX header of the EAP-PSK protected channel, bytes (RFC 4764 section 3.3). */
export const EAP_PSK_CHANNEL_HEADER_LENGTH = 22;

/** Length of the protected channel's tag, bytes (RFC 4764 section 3.3). */
export const EAP_PSK_CHANNEL_TAG_LENGTH = 16;

/**
 * Seals data for the EAP-PSK protected channel (RFC 4764 section 3.3).
 *
 * @param tek the 16-byte TEK from `eapPskDeriveKeys`
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
  tek: Uint8Array,
  nonce: number,
  header: Uint8Array,
  plaintext: Uint8Array,
): Promise<EaxSealed> {
  const key = await _channelKey(tek, nonce, header);
  return await eaxEncrypt(key, _eaxNonce(nonce), header, plaintext);
}

/**
 * Verifies and opens data from the EAP-PSK protected channel (RFC 4764 section 3.3).
 *
 * @param tek the 16-byte TEK from `eapPskDeriveKeys`
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
  tek: Uint8Array,
  nonce: number,
  header: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  _requireLength(tag, EAP_PSK_CHANNEL_TAG_LENGTH, "EAP-PSK protected channel tag");
  const key = await _channelKey(tek, nonce, header);
  return await eaxDecrypt(key, _eaxNonce(nonce), header, ciphertext, tag);
}

async function _channelKey(tek: Uint8Array, nonce: number, header: Uint8Array): Promise<CryptoKey> {
  _requireLength(tek, EAP_PSK_KEY_LENGTH, "EAP-PSK TEK");
  _requireUint32(nonce, "EAP-PSK protected channel nonce");
  _requireLength(header, EAP_PSK_CHANNEL_HEADER_LENGTH, "EAP-PSK protected channel header");
  return await importAesKey(tek);
}

/** The 16-byte EAX nonce: 96 zero bits, then the 32-bit Nonce, big-endian. */
function _eaxNonce(nonce: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setUint32(12, nonce);
  return out;
}
