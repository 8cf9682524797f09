/**
 * Sealing and opening of PHT data frames (RFC 6252 sections 6.3 step 3, 7.4):
 * AES-256-GCM under the tunnel's data key of the direction, nonce = 4-byte direction
 * || 8-byte sequence number, additional data = the 16-byte frame header.
 *
 * @module
 */
import { IntegrityError } from "../keys/integrity_error.ts";
import { _bufferSource } from "./_buffer_source.ts";
import { encodePhtDataFrame, encodePhtHeader, type PhtDataFrame } from "../wire/pht.ts";
import { PHT_MAX_INNER_PACKET_LENGTH, PhtFrameType } from "../wire/pht_constants.ts";

/** Which way a data frame travels; part of the GCM nonce. */
export type PhtDirection = "mn-to-ar" | "ar-to-mn";

function _nonce(direction: PhtDirection, sequence: bigint): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  const view = new DataView(iv.buffer);
  view.setUint32(0, direction === "mn-to-ar" ? 0 : 1);
  view.setBigUint64(4, sequence);
  return iv;
}

/**
 * Seals an inner IP packet into a data frame.
 *
 * @param key the tunnel's AES-GCM data key of this direction
 * @param direction the direction, bound into the nonce
 * @param tunnelId the tunnel id
 * @param sequence the frame's sequence number, 1 and up, never reused with this key
 * @param packet the inner IP packet
 * @returns the whole frame: header, ciphertext, tag
 * @throws {RangeError} for a packet too long for one PHT datagram
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePhtFrame } from "../wire/pht.ts";
 * const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt", "decrypt",
 * ]);
 * const frame = await sealPhtData(key, "mn-to-ar", 7, 1n, Uint8Array.of(0x45, 1, 2));
 * const decoded = decodePhtFrame(frame);
 * assertEquals(decoded.kind === "data" && await openPhtData(key, "mn-to-ar", decoded),
 *   Uint8Array.of(0x45, 1, 2));
 * ```
 */
export async function sealPhtData(
  key: CryptoKey,
  direction: PhtDirection,
  tunnelId: number,
  sequence: bigint,
  packet: Uint8Array,
): Promise<Uint8Array> {
  if (packet.length > PHT_MAX_INNER_PACKET_LENGTH) {
    throw new RangeError(`Inner packet too long for a PHT frame: ${packet.length} bytes`);
  }
  const header = encodePhtHeader({ type: PhtFrameType.Data, flags: 0, tunnelId, sequence });
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: _nonce(direction, sequence), additionalData: header },
    key,
    _bufferSource(packet),
  );
  return encodePhtDataFrame(header, new Uint8Array(sealed));
}

/**
 * Opens a data frame: checks the tag over header and ciphertext.
 *
 * @param key the tunnel's AES-GCM data key of this direction
 * @param direction the direction the frame travelled
 * @param frame the decoded frame
 * @returns the inner IP packet
 * @throws {IntegrityError} when the tag does not verify (altered frame, wrong key,
 *   wrong direction)
 *
 * @example
 * ```ts
 * import { assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePhtFrame } from "../wire/pht.ts";
 * const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
 *   "encrypt", "decrypt",
 * ]);
 * const frame = decodePhtFrame(await sealPhtData(key, "ar-to-mn", 7, 1n, Uint8Array.of(1)));
 * if (frame.kind !== "data") throw new Error("not data");
 * await assertRejects(() => openPhtData(key, "mn-to-ar", frame), Error, "PHT data frame");
 * ```
 */
export async function openPhtData(
  key: CryptoKey,
  direction: PhtDirection,
  frame: PhtDataFrame,
): Promise<Uint8Array> {
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: _nonce(direction, frame.header.sequence),
        additionalData: _bufferSource(frame.headerBytes),
      },
      key,
      _bufferSource(frame.sealed),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw new IntegrityError("PHT data frame does not authenticate", { cause: error });
  }
}
