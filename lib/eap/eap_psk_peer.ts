/**
 * The EAP-PSK peer (RFC 4764) inside an RFC 3748 peer: the MN side of EAP for one
 * PANA session. It answers Request/Identity, runs the four EAP-PSK messages
 * (section 5), and reports the MSK and EMSK once EAP Success follows message 4.
 *
 * Behaviour at the EAP layer (RFC 3748):
 *
 * - a Request with the Identifier and bytes of the last one answered is a
 *   retransmission: the previous Response is sent again without reprocessing
 *   (section 4.1);
 * - a Request for another method before EAP-PSK starts gets a legacy Nak proposing
 *   EAP-PSK (section 5.3.1); a Notification gets its empty Response (section 5.2);
 * - a Success before message 4 is refused (section 4.2: the peer has not
 *   authenticated the server yet, so it cannot accept; this peer ends the
 *   conversation with a failure rather than keep waiting);
 * - a Failure ends the conversation, except after both sides exchanged protected
 *   success indications (DONE_SUCCESS in messages 3 and 4), where RFC 3748 section
 *   4.2 says to discard it silently;
 * - a Success is accepted whatever its Identifier: message 4 already proved both
 *   sides, and some authenticators number it differently;
 * - anything unexpected (Responses, malformed packets, messages out of order) is
 *   discarded with a reason.
 *
 * Keys never appear in results other than `success`, nor in reasons.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import { constantTimeEqual } from "../keys/constant_time.ts";
import {
  type EapPskChannelKey,
  eapPskChannelKey,
  eapPskChannelOpen,
  eapPskChannelSeal,
} from "../keys/eap_psk_channel.ts";
import {
  EAP_PSK_KEY_LENGTH,
  eapPskDeriveKeys,
  eapPskMacs,
  type EapPskPreparedKeys,
  eapPskPrepareKeys,
} from "../keys/eap_psk_keys.ts";
import { IntegrityError } from "../keys/integrity_error.ts";
import { decodeEap, eapIdentity, type EapPacket, encodeEap } from "../wire/eap.ts";
import { EAP_PSK_RAND_LENGTH, EapCode, EapPskResult, EapType } from "../wire/eap_constants.ts";
import {
  decodeEapPsk,
  decodeEapPskChannelPlaintext,
  eapPskHeader,
  eapPskHeaderFor,
  type EapPskMessage,
  type EapPskMessage1,
  type EapPskMessage2,
  type EapPskMessage3,
  encodeEapPsk,
  encodeEapPskChannelPlaintext,
} from "../wire/eap_psk.ts";
import type { EapPeer, EapPeerStep, RandomBytes } from "./eap_method.ts";
import { SerialQueue } from "./serial_queue.ts";
import { discardOnCodecError } from "./eap_response.ts";

/** Options of {@link createEapPskPeer}. */
export interface EapPskPeerOptions {
  /** The peer's identity: the Identity Response and ID_P (RFC 4764 section 5.2). */
  readonly identity: string;
  /** The 16-byte pre-shared key (RFC 4764 section 3.1); copied, never logged. */
  readonly psk: Uint8Array;
  /** The source of RAND_P (RFC 4764 section 5.2). */
  readonly random: RandomBytes;
  /** When set, message 1 with any other ID_S is refused (RFC 4764 section 5.1). */
  readonly serverId?: string;
  /**
   * AK and KDK of `psk` already set up, from `eapPskPrepareKeys(psk)` (RFC 4764
   * section 3.1: they depend on the PSK only): an MN running many sessions with one
   * PSK sets them up once, ahead of its pre-authentications, instead of on receiving
   * message 1. They must be those of `psk`, or MAC_P does not verify. Default: set up
   * from `psk` with the first message 1.
   */
  readonly prepared?: Promise<EapPskPreparedKeys>;
}

/**
 * The PCHANNEL nonce of message 3: the server starts the protected channel at 0 and
 * the peer answers with the next value (RFC 4764 sections 3.3 and 5.3, 5.4).
 */
const _SERVER_NONCE = 0;

const _utf8 = new TextEncoder();
const _utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** The session keys as the peer keeps them: the TEK only as the channel's key. */
interface _SessionKeys {
  readonly channel: EapPskChannelKey;
  readonly msk: Uint8Array;
  readonly emsk: Uint8Array;
}

type _Phase =
  /** Waiting for Identity or message 1. */
  | { readonly name: "idle" }
  /** Message 2 sent: waiting for message 3. */
  | {
    readonly name: "msg2-sent";
    readonly randS: Uint8Array;
    readonly randP: Uint8Array;
    readonly macS: Uint8Array;
    /**
     * The TEK imported for the protected channel, MSK and EMSK: derived while message
     * 2 travels (they need RAND_P only).
     */
    readonly sessionKeys: Promise<_SessionKeys>;
  }
  /** Message 4 sent with DONE_SUCCESS: waiting for EAP Success. */
  | { readonly name: "msg4-sent"; readonly msk: Uint8Array; readonly emsk: Uint8Array }
  /** Finished (success or failure): everything is discarded. */
  | { readonly name: "done" };

/**
 * Creates the EAP-PSK peer of one session (RFC 3748 peer, RFC 4764 method). Calls to
 * `handle` are processed one at a time, in call order.
 *
 * @param options identity (ID_P), PSK, random source, and the expected ID_S if any
 * @returns the peer
 * @throws {ConfigError} when the identity is empty, the PSK is not 16 bytes, or
 *   `serverId` is empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const peer = createEapPskPeer({
 *   identity: "mn@example",
 *   psk: new Uint8Array(16).fill(7),
 *   random: (n) => new Uint8Array(n).fill(1),
 * });
 * // Request/Identity, identifier 5 -> Response/Identity "mn@example", identifier 5.
 * const step = await peer.handle(new Uint8Array([1, 5, 0, 5, 1]));
 * assertEquals(step, {
 *   kind: "response",
 *   eap: new Uint8Array([2, 5, 0, 15, 1, ...new TextEncoder().encode("mn@example")]),
 * });
 * ```
 */
export function createEapPskPeer(options: EapPskPeerOptions): EapPeer {
  return new _EapPskPeer(options);
}

class _EapPskPeer implements EapPeer {
  readonly #idP: Uint8Array;
  readonly #identity: string;
  readonly #psk: Uint8Array;
  readonly #random: RandomBytes;
  readonly #serverId: Uint8Array | undefined;
  #prepared: Promise<EapPskPreparedKeys> | undefined;
  #phase: _Phase = { name: "idle" };
  /** The last Request answered and the Response sent, for retransmissions. */
  #last: { readonly request: Uint8Array; readonly response: Uint8Array } | undefined;
  readonly #queue = new SerialQueue();

  constructor(options: EapPskPeerOptions) {
    if (options.identity.length === 0) {
      throw new ConfigError("identity", "Invalid EAP-PSK peer identity: empty");
    }
    if (!(options.psk instanceof Uint8Array) || options.psk.length !== EAP_PSK_KEY_LENGTH) {
      throw new ConfigError(
        "psk",
        `Invalid EAP-PSK PSK: expected ${EAP_PSK_KEY_LENGTH} bytes, got ${
          options.psk instanceof Uint8Array ? options.psk.length : typeof options.psk
        }`,
      );
    }
    if (options.serverId !== undefined && options.serverId.length === 0) {
      throw new ConfigError("serverId", "Invalid EAP-PSK server identity: empty");
    }
    this.#identity = options.identity;
    this.#idP = _utf8.encode(options.identity);
    this.#psk = options.psk.slice();
    this.#random = options.random;
    this.#serverId = options.serverId === undefined ? undefined : _utf8.encode(options.serverId);
    this.#prepared = options.prepared;
  }

  handle(eap: Uint8Array): Promise<EapPeerStep> {
    return this.#queue.run(() => this.#handle(eap));
  }

  async #handle(bytes: Uint8Array): Promise<EapPeerStep> {
    if (this.#phase.name === "done") {
      return { kind: "discard", reason: "EAP conversation already finished" };
    }
    let packet: EapPacket;
    try {
      packet = decodeEap(bytes);
    } catch (error) {
      return discardOnCodecError(error);
    }
    switch (packet.code) {
      case EapCode.Response:
        return { kind: "discard", reason: "EAP Response received by the peer" };
      case EapCode.Success:
        return this.#onSuccess();
      case EapCode.Failure:
        return this.#onFailure();
    }
    const request = bytes.subarray(0, (bytes[2]! << 8) | bytes[3]!);
    const last = this.#last;
    if (last !== undefined && request[1] === last.request[1]) {
      // RFC 3748 section 4.1: a retransmitted Request gets the same Response.
      if (_sameBytes(request, last.request)) return { kind: "response", eap: last.response };
      return {
        kind: "discard",
        reason: `EAP Request reuses identifier ${packet.identifier} with other content`,
      };
    }
    let step: EapPeerStep;
    try {
      step = await this.#onRequest(packet.identifier, packet.type, packet.typeData, request);
    } catch (error) {
      step = discardOnCodecError(error);
    }
    if (step.kind === "response") this.#last = { request: request.slice(), response: step.eap };
    if (step.kind === "failure") this.#phase = { name: "done" };
    return step;
  }

  #onSuccess(): EapPeerStep {
    const phase = this.#phase;
    if (phase.name === "msg4-sent") {
      this.#phase = { name: "done" };
      return { kind: "success", msk: phase.msk, emsk: phase.emsk };
    }
    // RFC 3748 section 4.2: no Success before the method has authenticated the server.
    this.#phase = { name: "done" };
    return {
      kind: "failure",
      reason: `Premature EAP Success refused: EAP-PSK ${
        phase.name === "idle" ? "not started" : "message 3 not yet verified"
      }`,
    };
  }

  #onFailure(): EapPeerStep {
    if (this.#phase.name === "msg4-sent") {
      // RFC 3748 section 4.2: after protected success indications from both sides
      // (DONE_SUCCESS in messages 3 and 4), a Failure MUST be silently discarded.
      return {
        kind: "discard",
        reason: "EAP Failure after DONE_SUCCESS was exchanged (RFC 3748 section 4.2)",
      };
    }
    this.#phase = { name: "done" };
    return { kind: "failure", reason: "EAP Failure received" };
  }

  async #onRequest(
    identifier: number,
    type: number,
    typeData: Uint8Array,
    request: Uint8Array,
  ): Promise<EapPeerStep> {
    const phase = this.#phase;
    if (type === EapType.Identity) {
      if (phase.name !== "idle") {
        return { kind: "discard", reason: "EAP Request/Identity after EAP-PSK started" };
      }
      return {
        kind: "response",
        eap: encodeEap(eapIdentity(EapCode.Response, identifier, this.#identity)),
      };
    }
    if (type === EapType.Notification) {
      // RFC 3748 section 5.2: acknowledge with an empty Notification Response.
      return {
        kind: "response",
        eap: encodeEap({
          code: EapCode.Response,
          identifier,
          type: EapType.Notification,
          typeData: new Uint8Array(),
        }),
      };
    }
    if (type !== EapType.Psk) {
      if (phase.name !== "idle") {
        return { kind: "discard", reason: `EAP Request of type ${type} during EAP-PSK` };
      }
      // RFC 3748 section 5.3.1: Nak, proposing the only method we have.
      return {
        kind: "response",
        eap: encodeEap({
          code: EapCode.Response,
          identifier,
          type: EapType.Nak,
          typeData: new Uint8Array([EapType.Psk]),
        }),
      };
    }
    const msg = decodeEapPsk(typeData);
    if (msg.t === 0 && phase.name === "idle") return await this.#onMessage1(identifier, msg);
    if (msg.t === 2 && phase.name === "msg2-sent") {
      return await this.#onMessage3(identifier, msg, request, phase);
    }
    return {
      kind: "discard",
      reason: `EAP-PSK message ${msg.t + 1} unexpected ${_phaseText(phase)}`,
    };
  }

  async #onMessage1(identifier: number, msg: EapPskMessage1): Promise<EapPeerStep> {
    if (this.#serverId !== undefined && !_sameBytes(msg.idS, this.#serverId)) {
      return {
        kind: "failure",
        reason: `EAP-PSK server identity refused: got "${_text(msg.idS)}", expected "${
          _text(this.#serverId)
        }"`,
      };
    }
    const randP = this.#random(EAP_PSK_RAND_LENGTH);
    if (!(randP instanceof Uint8Array) || randP.length !== EAP_PSK_RAND_LENGTH) {
      throw new RangeError(`Invalid random source: asked for ${EAP_PSK_RAND_LENGTH} bytes`);
    }
    const keys = await this.#keys();
    const sessionKeys = eapPskDeriveKeys(keys, randP.slice()).then(
      async ({ tek, msk, emsk }): Promise<_SessionKeys> => {
        try {
          return { channel: await eapPskChannelKey(tek), msk, emsk };
        } finally {
          tek.fill(0);
        }
      },
    );
    sessionKeys.catch(() => {}); // awaited with message 3, where a rejection surfaces
    const { macP, macS } = await eapPskMacs(keys, this.#idP, msg.idS, msg.randS, randP);
    const reply: EapPskMessage2 = {
      t: 1,
      randS: msg.randS,
      randP: randP.slice(),
      macP,
      idP: this.#idP,
    };
    const eap = _psk(identifier, reply);
    this.#phase = { name: "msg2-sent", randS: msg.randS, randP: reply.randP, macS, sessionKeys };
    return { kind: "response", eap };
  }

  async #onMessage3(
    identifier: number,
    msg: EapPskMessage3,
    request: Uint8Array,
    phase: Extract<_Phase, { name: "msg2-sent" }>,
  ): Promise<EapPeerStep> {
    if (!_sameBytes(msg.randS, phase.randS)) {
      return { kind: "discard", reason: "EAP-PSK message 3 with another RAND_S" };
    }
    if (!constantTimeEqual(msg.macS, phase.macS)) {
      return { kind: "failure", reason: "EAP-PSK MAC_S does not verify: server not authenticated" };
    }
    if (msg.pchannel.nonce !== _SERVER_NONCE) {
      return {
        kind: "failure",
        reason: `EAP-PSK message 3 nonce ${msg.pchannel.nonce}, expected ${_SERVER_NONCE}`,
      };
    }
    const { channel, msk, emsk } = await phase.sessionKeys;
    let plaintext: Uint8Array;
    try {
      plaintext = await eapPskChannelOpen(
        channel,
        msg.pchannel.nonce,
        eapPskHeader(request),
        msg.pchannel.encrypted,
        msg.pchannel.tag,
      );
    } catch (error) {
      if (error instanceof IntegrityError) {
        return { kind: "failure", reason: "EAP-PSK message 3 protected channel does not verify" };
      }
      throw error;
    }
    // An extension (E flag) is not understood by this version and is ignored.
    const { result } = decodeEapPskChannelPlaintext(plaintext);
    if (result === EapPskResult.DoneFailure) {
      return { kind: "failure", reason: "EAP-PSK server reported DONE_FAILURE" };
    }
    if (result !== EapPskResult.DoneSuccess) {
      return { kind: "failure", reason: "EAP-PSK message 3 result CONT is not supported" };
    }
    const sealedPlaintext = encodeEapPskChannelPlaintext({ result: EapPskResult.DoneSuccess });
    const nonce = _SERVER_NONCE + 1;
    const draft: EapPskMessage = {
      t: 3,
      randS: phase.randS,
      pchannel: { nonce, tag: new Uint8Array(16), encrypted: sealedPlaintext },
    };
    const header = eapPskHeaderFor(EapCode.Response, identifier, draft);
    const sealed = await eapPskChannelSeal(channel, nonce, header, sealedPlaintext);
    const eap = _psk(identifier, {
      t: 3,
      randS: phase.randS,
      pchannel: { nonce, tag: sealed.tag, encrypted: sealed.ciphertext },
    });
    this.#phase = { name: "msg4-sent", msk, emsk };
    return { kind: "response", eap };
  }

  #keys(): Promise<EapPskPreparedKeys> {
    this.#prepared ??= eapPskPrepareKeys(this.#psk);
    return this.#prepared;
  }
}

/** An EAP-Response carrying an EAP-PSK message. */
function _psk(identifier: number, msg: EapPskMessage): Uint8Array {
  return encodeEap({
    code: EapCode.Response,
    identifier,
    type: EapType.Psk,
    typeData: encodeEapPsk(msg),
  });
}

function _phaseText(phase: _Phase): string {
  switch (phase.name) {
    case "idle":
      return "before message 1";
    case "msg2-sent":
      return "while waiting for message 3";
    case "msg4-sent":
      return "after message 4";
    case "done":
      return "after the end";
  }
}

/** Plain comparison, for public values (identities, RAND_S, request bytes). */
function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An identity as text for a reason, escaped when it is not UTF-8. */
function _text(bytes: Uint8Array): string {
  try {
    return _utf8Strict.decode(bytes);
  } catch {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
}
