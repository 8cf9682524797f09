/**
 * Private helpers shared by the PaC and PAA state machines: AUTH signing and
 * verification (RFC 5191 section 5.3), sequence-number arithmetic (section 5.1),
 * nonces (section 8.5) and random integers from the injected source.
 *
 * @module
 */
import type { RandomBytes } from "../eap/eap_method.ts";
import { ConfigError } from "../errors.ts";
import { constantTimeEqual } from "../keys/constant_time.ts";
import { PANA_AUTH_AVP_LENGTH, panaAuthAvp, verifyPanaAuth } from "../keys/pana_keys.ts";
import { encodePana, panaAuthOffset, type PanaMessage, zeroAuthAvp } from "../wire/pana.ts";
import { PanaIntegrityAlgorithm, PanaPrfAlgorithm } from "../wire/pana_constants.ts";
import type { PanaRetransmission } from "./retransmission.ts";
import { panaRand, retransmissionExhausted, retransmissionTimeout } from "./retransmission.ts";

/** The PRF this implementation offers and accepts (RFC 5191 section 8.6): PRF_HMAC_SHA2_256. */
export const _PRF = PanaPrfAlgorithm.HmacSha2_256;

/** The integrity algorithm this implementation offers and accepts (section 8.3). */
export const _INTEGRITY = PanaIntegrityAlgorithm.HmacSha2_256_128;

/** Length of the nonces we send: 32 bytes, the output size of the negotiated PRF. */
export const _NONCE_LENGTH = 32;

/**
 * Nonce lengths we accept (RFC 5191 section 8.5 defers to IKEv2: at least 128 bits,
 * RFC 7296 section 2.10; at most 256 bytes).
 */
export const _NONCE_MIN = 16;
/** The longest nonce accepted, bytes. */
export const _NONCE_MAX = 256;

/** The next sequence number, modulo 2^32 (RFC 5191 section 5.1). */
export function _nextSeq(seq: number): number {
  return (seq + 1) >>> 0;
}

/** A random 32-bit unsigned integer. */
export function _randomU32(random: RandomBytes): number {
  const b = random(4);
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

/** Whether two byte arrays are equal (not secret: constant time is not needed, but harmless). */
export function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return constantTimeEqual(a, b);
}

/**
 * Encodes a message with an AUTH AVP appended and filled in: the AUTH value is the
 * MAC over the whole message with that value zeroed (RFC 5191 section 5.3).
 */
export async function _signPana(
  msg: PanaMessage,
  authKey: Uint8Array | CryptoKey,
  maxLength: number,
): Promise<Uint8Array> {
  const bytes = encodePana({
    ...msg,
    avps: [...msg.avps, { kind: "auth", value: new Uint8Array(PANA_AUTH_AVP_LENGTH) }],
  }, { maxLength });
  const at = panaAuthOffset(bytes, { maxLength });
  if (at === undefined) throw new Error("AUTH AVP vanished while encoding");
  bytes.set(await panaAuthAvp(authKey, bytes), at.offset);
  return bytes;
}

/** The outcome of checking a received message's AUTH AVP. */
export type _AuthCheck = "ok" | "missing" | "wrong";

/** Verifies the AUTH AVP of a received, already decoded message (RFC 5191 section 5.3). */
export async function _verifyPana(
  bytes: Uint8Array,
  authKey: Uint8Array | CryptoKey,
  maxLength: number,
): Promise<_AuthCheck> {
  let at;
  try {
    at = panaAuthOffset(bytes, { maxLength });
  } catch {
    return "wrong"; // two AUTH AVPs: ambiguous, refused
  }
  if (at === undefined) return "missing";
  const received = bytes.slice(at.offset, at.offset + at.length);
  const ok = await verifyPanaAuth(authKey, zeroAuthAvp(bytes, { maxLength }), received);
  return ok ? "ok" : "wrong";
}

/** Names an AUTH failure for a drop detail. */
export function _authDetail(check: Exclude<_AuthCheck, "ok">, what: string): string {
  return check === "missing" ? `No AUTH AVP in ${what}` : `AUTH AVP of ${what} does not verify`;
}

/** A request waiting for its answer, with its retransmission state. */
export interface _Outstanding {
  /** The encoded request, resent as is (RFC 5191 section 9). */
  readonly bytes: Uint8Array;
  /** Its sequence number; the answer echoes it. */
  readonly seq: number;
  /** Its message type; the answer has the same. */
  readonly type: number;
  /** A name for logs (`PAR`, `PNR`, ...). */
  readonly name: string;
  /** When it was first sent, ms. */
  readonly firstAt: number;
  /** How many times it was sent. */
  transmissions: number;
  /** The current timeout, ms. */
  rt: number;
}

/** Starts tracking a request just sent; returns it and its first timeout. */
export function _outstanding(
  bytes: Uint8Array,
  seq: number,
  type: number,
  name: string,
  now: number,
  params: PanaRetransmission,
  random: RandomBytes,
): _Outstanding {
  return {
    bytes,
    seq,
    type,
    name,
    firstAt: now,
    transmissions: 1,
    rt: retransmissionTimeout(undefined, params, panaRand(random)),
  };
}

/**
 * Advances a request's retransmission when its timer fires: true with `rt` updated
 * when it must be resent, false when it must be given up.
 */
export function _retransmit(
  o: _Outstanding,
  now: number,
  params: PanaRetransmission,
  random: RandomBytes,
): boolean {
  if (retransmissionExhausted(o.transmissions, now - o.firstAt, params)) return false;
  o.transmissions++;
  o.rt = retransmissionTimeout(o.rt, params, panaRand(random));
  if (params.mrd > 0) o.rt = Math.max(1, Math.min(o.rt, o.firstAt + params.mrd - now));
  return true;
}

/** The message of an error, for drop details. */
export function _errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Validates a positive option (a duration, ms, or a count with `integer`). */
export function _positiveOption(value: number, option: string, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new ConfigError(option, `Invalid ${option}: ${value}`);
  }
  return value;
}
