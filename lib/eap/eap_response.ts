/**
 * Checks shared by the EAP authenticators (the local EAP-PSK server and the RADIUS
 * pass-through): a packet from the peer must decode, be a Response, and carry the
 * identifier of the outstanding Request; anything else is silently discarded (RFC
 * 3748 sections 2.1 and 4.1).
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../errors.ts";
import { decodeEap, type EapPacket, type EapTypedPacket } from "../wire/eap.ts";
import { EapCode } from "../wire/eap_constants.ts";

/** A silent discard, with the reason for the log. */
export interface EapDiscard {
  /** Discriminant, shared with `EapAuthStep` and `EapPeerStep`. */
  readonly kind: "discard";
  /** Why, for the log line. */
  readonly reason: string;
}

/**
 * Turns a codec error into a discard; any other error is a bug and is rethrown.
 *
 * @param error what decoding threw
 * @returns the discard
 * @throws the error itself when it is not a codec error
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MalformedMessageError } from "../errors.ts";
 * import { discardOnCodecError } from "./eap_response.ts";
 * assertEquals(discardOnCodecError(new MalformedMessageError("Truncated")).kind, "discard");
 * ```
 */
export function discardOnCodecError(error: unknown): EapDiscard {
  if (error instanceof MalformedMessageError || error instanceof ProtocolViolationError) {
    return { kind: "discard", reason: error.message };
  }
  throw error;
}

/**
 * Decodes a packet from the peer and checks it answers the outstanding Request.
 *
 * @param bytes the EAP packet
 * @param identifier the identifier of the outstanding Request
 * @returns the Response, or a discard saying why not
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { readEapResponse } from "./eap_response.ts";
 * const identity = new Uint8Array([2, 7, 0, 6, 1, 0x61]); // Response/Identity "a", id 7
 * assertEquals(readEapResponse(identity, 7).kind, "response");
 * assertEquals(readEapResponse(identity, 8).kind, "discard");
 * ```
 */
export function readEapResponse(
  bytes: Uint8Array,
  identifier: number,
): { readonly kind: "response"; readonly packet: EapTypedPacket } | EapDiscard {
  let packet: EapPacket;
  try {
    packet = decodeEap(bytes);
  } catch (error) {
    return discardOnCodecError(error);
  }
  if (packet.code !== EapCode.Response) {
    return { kind: "discard", reason: `EAP code ${packet.code} received by the authenticator` };
  }
  if (packet.identifier !== identifier) {
    return {
      kind: "discard",
      reason: `EAP Response identifier ${packet.identifier}, expected ${identifier}`,
    };
  }
  return { kind: "response", packet };
}
