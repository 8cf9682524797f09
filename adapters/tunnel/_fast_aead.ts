/**
 * Synchronous AES-256-GCM for PHT data frames (RFC 6252 sections 6.3 step 3, 7.4):
 * the same frame layout, nonce and additional data as `lib/pht/pht_data_seal.ts`,
 * through `node:crypto` (`createCipheriv` / `createDecipheriv`, native and
 * synchronous in Deno) instead of WebCrypto, whose every call is an asynchronous
 * operation (one event-loop hop per packet and direction). Frames sealed by either
 * path open with the other (tests/adapters/tunnel/fast_aead.test.ts).
 *
 * Trade-off: `node:crypto` needs the data keys as raw bytes, so the two 32-byte keys
 * of each tunnel live in this process's memory (derived by `phtDataKeyBytes` with
 * exactly the HKDF parameters of `phtDataKeys`), where WebCrypto keeps them
 * non-extractable. The AR holds the raw MN-AR key anyway (it receives it from the
 * AA); at the MN, the MN-AR key itself stays a non-extractable HKDF key and only the
 * per-tunnel data keys become bytes. {@linkcode _FastAead.wipe} zeroes them when the
 * tunnel goes. An MN-AR key without the `deriveBits` usage keeps the WebCrypto path
 * ({@linkcode _fastDataKeys} returns `undefined`).
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { phtDataKeyBytes } from "../../lib/keys/pht_keys.ts";
import { IntegrityError } from "../../lib/keys/integrity_error.ts";
import type { PhtDirection } from "../../lib/pht/pht_data_seal.ts";
import type { PhtDataFrame } from "../../lib/wire/pht.ts";
import {
  PHT_GCM_TAG_LENGTH,
  PHT_HEADER_LENGTH,
  PHT_MAX_INNER_PACKET_LENGTH,
  PHT_VERSION,
  PhtFrameType,
} from "../../lib/wire/pht_constants.ts";

/** One direction's data key of one tunnel, sealing or opening synchronously. */
export class _FastAead {
  readonly #key: Uint8Array;
  readonly #direction: PhtDirection;
  readonly #iv = new Uint8Array(12);
  readonly #ivView = new DataView(this.#iv.buffer);
  #wiped = false;

  /**
   * @param key 32 raw key bytes; kept (not copied), zeroed by {@linkcode _FastAead.wipe}
   * @param direction the direction this key seals, bound into the nonce
   */
  constructor(key: Uint8Array, direction: PhtDirection) {
    if (key.length !== 32) throw new RangeError(`Invalid AES-256 key length: ${key.length}`);
    this.#key = key;
    this.#direction = direction;
    this.#ivView.setUint32(0, direction === "mn-to-ar" ? 0 : 1);
  }

  /** Whether {@linkcode _FastAead.wipe} was called. */
  get wiped(): boolean {
    return this.#wiped;
  }

  /**
   * Seals an inner IP packet into a whole data frame (header, ciphertext, tag).
   *
   * @throws {RangeError} for a packet too long for one PHT datagram, or after wipe
   */
  seal(tunnelId: number, sequence: bigint, packet: Uint8Array): Uint8Array {
    if (this.#wiped) throw new RangeError("PHT data key wiped");
    if (packet.length > PHT_MAX_INNER_PACKET_LENGTH) {
      throw new RangeError(`Inner packet too long for a PHT frame: ${packet.length} bytes`);
    }
    const out = new Uint8Array(PHT_HEADER_LENGTH + packet.length + PHT_GCM_TAG_LENGTH);
    const view = new DataView(out.buffer);
    out[0] = PHT_VERSION;
    out[1] = PhtFrameType.Data;
    view.setUint32(4, tunnelId >>> 0);
    view.setBigUint64(8, sequence);
    this.#ivView.setBigUint64(4, sequence);
    const cipher = createCipheriv("aes-256-gcm", this.#key, this.#iv);
    cipher.setAAD(out.subarray(0, PHT_HEADER_LENGTH));
    const body = cipher.update(packet);
    const last = cipher.final();
    out.set(body, PHT_HEADER_LENGTH);
    if (last.length > 0) out.set(last, PHT_HEADER_LENGTH + body.length);
    out.set(cipher.getAuthTag(), PHT_HEADER_LENGTH + packet.length);
    return out;
  }

  /**
   * Opens a data frame of this direction.
   *
   * @throws {IntegrityError} when the tag does not verify (altered frame, wrong key
   *   or direction), or after wipe
   */
  open(frame: PhtDataFrame): Uint8Array {
    if (this.#wiped) throw new IntegrityError("PHT data frame does not authenticate: key wiped");
    const sealed = frame.sealed;
    const textLength = sealed.length - PHT_GCM_TAG_LENGTH;
    try {
      if (textLength < 0) throw new RangeError("Sealed part shorter than the tag");
      this.#ivView.setBigUint64(4, frame.header.sequence);
      const decipher = createDecipheriv("aes-256-gcm", this.#key, this.#iv);
      decipher.setAAD(frame.headerBytes);
      decipher.setAuthTag(sealed.subarray(textLength));
      const body = decipher.update(sealed.subarray(0, textLength));
      const last = decipher.final();
      if (last.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
      const out = new Uint8Array(body.length + last.length);
      out.set(body);
      out.set(last, body.length);
      return out;
    } catch (error) {
      throw new IntegrityError("PHT data frame does not authenticate", { cause: error });
    }
  }

  /** Zeroes the key bytes; later seal / open fail. Idempotent. */
  wipe(): void {
    this.#key.fill(0);
    this.#wiped = true;
  }
}

/** Both directions' fast keys of one tunnel. */
export interface _FastDataKeys {
  /** Seals MN-to-AR frames (the MN's tx, the AR's rx). */
  readonly mnToAr: _FastAead;
  /** Seals AR-to-MN frames (the AR's tx, the MN's rx). */
  readonly arToMn: _FastAead;
}

/**
 * Derives a tunnel's data keys as {@linkcode _FastAead}s, or `undefined` when the
 * MN-AR key does not allow `deriveBits` (the caller keeps WebCrypto then).
 */
export async function _fastDataKeys(
  mnAr: CryptoKey,
  mnNonce: Uint8Array,
  arNonce: Uint8Array,
  tunnelId: number,
): Promise<_FastDataKeys | undefined> {
  if (!mnAr.usages.includes("deriveBits")) return undefined;
  try {
    const bytes = await phtDataKeyBytes(mnAr, mnNonce, arNonce, tunnelId);
    return {
      mnToAr: new _FastAead(bytes.mnToAr, "mn-to-ar"),
      arToMn: new _FastAead(bytes.arToMn, "ar-to-mn"),
    };
  } catch {
    return undefined;
  }
}
