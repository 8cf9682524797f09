/**
 * The EAP-PSK server (RFC 4764) inside an RFC 3748 authenticator: the AA side of EAP
 * for one PANA session when the AA authenticates locally.
 *
 * The conversation: Request/Identity, then message 1 (RAND_S, ID_S); message 2 names
 * the peer (ID_P), whose PSK comes from `lookup`; MAC_P is checked in constant time,
 * then message 3 carries MAC_S and the protected channel (nonce 0, DONE_SUCCESS);
 * message 4 must come back on the channel with nonce 1 and DONE_SUCCESS, and then
 * the authenticator sends EAP Success with the MSK (section 3.2) and ID_P.
 *
 * Each new Request takes the next Identifier (modulo 256); Responses with another
 * Identifier, of another type, or out of order are discarded (RFC 3748 section 4.1);
 * an unknown ID_P, a bad MAC_P, a Nak (only EAP-PSK is offered, section 5.3) or a
 * protected channel that does not verify ends the conversation with EAP Failure.
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
import { eapIdentity, encodeEap, readEapIdentity } from "../wire/eap.ts";
import { EAP_PSK_RAND_LENGTH, EapCode, EapPskResult, EapType } from "../wire/eap_constants.ts";
import {
  decodeEapPsk,
  decodeEapPskChannelPlaintext,
  eapPskHeader,
  eapPskHeaderFor,
  type EapPskMessage,
  type EapPskMessage2,
  type EapPskMessage4,
  encodeEapPsk,
  encodeEapPskChannelPlaintext,
} from "../wire/eap_psk.ts";
import type {
  EapAuthenticator,
  EapAuthenticatorFactory,
  EapAuthStep,
  RandomBytes,
} from "./eap_method.ts";
import { SerialQueue } from "./serial_queue.ts";
import { discardOnCodecError, readEapResponse } from "./eap_response.ts";

/** Options of {@link createEapPskServerFactory}. */
export interface EapPskServerFactoryOptions {
  /** The server's identity ID_S, sent in message 1 (RFC 4764 section 5.1). */
  readonly serverId: string;
  /**
   * The 16-byte PSK of a peer identity (ID_P), or undefined when the peer is unknown.
   * Called once per conversation, with ID_P decoded as UTF-8.
   */
  readonly lookup: (idP: string) => Uint8Array | undefined;
  /** The source of RAND_S (and of the first Identifier when none is given). */
  readonly random: RandomBytes;
}

/** Options of {@link createEapPskServer}. */
export interface EapPskServerOptions extends EapPskServerFactoryOptions {
  /** The Identifier of the first Request, 0 to 255; default random. */
  readonly identifierStart?: number;
}

/** The PCHANNEL nonces of messages 3 and 4 (RFC 4764 sections 3.3, 5.3 and 5.4). */
const _SERVER_NONCE = 0;
const _PEER_NONCE = 1;

const _utf8 = new TextEncoder();
const _utf8Strict = new TextDecoder("utf-8", { fatal: true });

type _Phase =
  | { readonly name: "new" }
  /** Request/Identity sent. */
  | { readonly name: "identity-sent" }
  /** Message 1 sent with this RAND_S. */
  | { readonly name: "msg1-sent"; readonly randS: Uint8Array }
  /** Message 3 sent: waiting for message 4 under TEK. */
  | {
    readonly name: "msg3-sent";
    readonly randS: Uint8Array;
    /** The TEK, imported once for message 3 and message 4. */
    readonly channel: EapPskChannelKey;
    readonly msk: Uint8Array;
    readonly identity: string;
  }
  | { readonly name: "done" };

/**
 * Creates the EAP-PSK authenticator of one session. Calls to `start` and `handle`
 * are processed one at a time, in call order.
 *
 * @param options ID_S, the PSK lookup, the random source and the first Identifier
 * @returns the authenticator
 * @throws {ConfigError} for an empty `serverId` or an `identifierStart` that is not
 *   an octet
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const server = createEapPskServer({
 *   serverId: "aa.ctn",
 *   lookup: () => undefined,
 *   random: (n) => new Uint8Array(n),
 *   identifierStart: 9,
 * });
 * assertEquals(await server.start(), { kind: "request", eap: new Uint8Array([1, 9, 0, 5, 1]) });
 * // Response/Identity -> message 1 (T=0, RAND_S, ID_S "aa.ctn") with the next identifier.
 * const step = await server.handle(new Uint8Array([2, 9, 0, 7, 1, 0x6d, 0x6e]));
 * assertEquals(step.kind === "request" && [step.eap[1], step.eap[4], step.eap[5]], [10, 47, 0]);
 * ```
 */
export function createEapPskServer(options: EapPskServerOptions): EapAuthenticator {
  return new _EapPskServer(options);
}

/**
 * Creates a factory of EAP-PSK authenticators, one per PANA session, each starting at
 * a random Identifier.
 *
 * @param options ID_S, the PSK lookup and the random source
 * @returns the factory
 * @throws {ConfigError} for an empty `serverId`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const factory = createEapPskServerFactory({
 *   serverId: "aa.ctn",
 *   lookup: () => undefined,
 *   random: (n) => new Uint8Array(n).fill(3),
 * });
 * const step = await factory.create({ sessionId: 1, peer: "192.0.2.7:716" }).start();
 * assertEquals(step, { kind: "request", eap: new Uint8Array([1, 3, 0, 5, 1]) });
 * ```
 */
export function createEapPskServerFactory(
  options: EapPskServerFactoryOptions,
): EapAuthenticatorFactory {
  _checkServerId(options.serverId);
  const { serverId, lookup, random } = options;
  const prepared = new _PreparedKeys();
  return { create: () => new _EapPskServer({ serverId, lookup, random }, prepared) };
}

/**
 * The prepared AK and KDK of each PSK the lookup returned (RFC 4764 section 3.1: they
 * depend on the PSK only), so that a conversation does not run the key setup again.
 * Held weakly by the PSK array; an array whose bytes changed since (a key rotated in
 * place) is set up again.
 */
class _PreparedKeys {
  readonly #byPsk = new WeakMap<
    Uint8Array,
    { readonly psk: Uint8Array; readonly keys: Promise<EapPskPreparedKeys> }
  >();

  get(psk: Uint8Array): Promise<EapPskPreparedKeys> {
    const entry = this.#byPsk.get(psk);
    if (entry !== undefined && constantTimeEqual(entry.psk, psk)) return entry.keys;
    const keys = eapPskPrepareKeys(psk);
    this.#byPsk.set(psk, { psk: psk.slice(), keys });
    // A failed set-up is not kept: the next conversation tries again.
    keys.catch(() => {
      if (this.#byPsk.get(psk)?.keys === keys) this.#byPsk.delete(psk);
    });
    return keys;
  }
}

function _checkServerId(serverId: string): void {
  if (serverId.length === 0) {
    throw new ConfigError("serverId", "Invalid EAP-PSK server identity: empty");
  }
}

class _EapPskServer implements EapAuthenticator {
  readonly #idS: Uint8Array;
  readonly #lookup: (idP: string) => Uint8Array | undefined;
  readonly #random: RandomBytes;
  readonly #identifierStart: number | undefined;
  /** The Identifier of the outstanding Request. */
  #identifier = 0;
  #request: Uint8Array | undefined;
  #phase: _Phase = { name: "new" };
  readonly #queue = new SerialQueue();
  readonly #prepared: _PreparedKeys;

  constructor(options: EapPskServerOptions, prepared: _PreparedKeys = new _PreparedKeys()) {
    _checkServerId(options.serverId);
    this.#prepared = prepared;
    const start = options.identifierStart;
    if (start !== undefined && (!Number.isInteger(start) || start < 0 || start > 0xff)) {
      throw new ConfigError(
        "identifierStart",
        `Invalid EAP identifier: ${start} is not an octet`,
      );
    }
    this.#idS = _utf8.encode(options.serverId);
    this.#lookup = options.lookup;
    this.#random = options.random;
    this.#identifierStart = start;
  }

  start(): Promise<EapAuthStep> {
    return this.#queue.run(() => this.#start());
  }

  handle(eap: Uint8Array): Promise<EapAuthStep> {
    return this.#queue.run(() => this.#handle(eap));
  }

  #start(): EapAuthStep {
    if (this.#phase.name !== "new") {
      // Idempotent while the Identity exchange is pending: the same Request again.
      if (this.#phase.name === "identity-sent" && this.#request !== undefined) {
        return { kind: "request", eap: this.#request };
      }
      return { kind: "discard", reason: "EAP conversation already started" };
    }
    this.#identifier = this.#identifierStart ?? this.#randomBytes(1)[0]!;
    this.#phase = { name: "identity-sent" };
    return this.#send(encodeEap(eapIdentity(EapCode.Request, this.#identifier, "")));
  }

  async #handle(bytes: Uint8Array): Promise<EapAuthStep> {
    const phase = this.#phase;
    if (phase.name === "new") return { kind: "discard", reason: "EAP conversation not started" };
    if (phase.name === "done") {
      return { kind: "discard", reason: "EAP conversation already finished" };
    }
    const read = readEapResponse(bytes, this.#identifier);
    if (read.kind === "discard") return read;
    const packet = read.packet;
    try {
      if (phase.name === "identity-sent") {
        if (packet.type !== EapType.Identity) {
          return { kind: "discard", reason: `EAP Response of type ${packet.type} to Identity` };
        }
        readEapIdentity(packet);
        return this.#message1();
      }
      if (packet.type === EapType.Nak || packet.type === EapType.Expanded) {
        return this.#fail("Peer refused EAP-PSK with a Nak: no other method is offered");
      }
      if (packet.type !== EapType.Psk) {
        return { kind: "discard", reason: `EAP Response of type ${packet.type} to EAP-PSK` };
      }
      const msg = decodeEapPsk(packet.typeData);
      if (msg.t === 1 && phase.name === "msg1-sent") return await this.#onMessage2(msg, phase);
      if (msg.t === 3 && phase.name === "msg3-sent") {
        return await this.#onMessage4(msg, bytes, phase);
      }
      return { kind: "discard", reason: `EAP-PSK message ${msg.t + 1} unexpected now` };
    } catch (error) {
      return discardOnCodecError(error);
    }
  }

  #message1(): EapAuthStep {
    const randS = this.#randomBytes(EAP_PSK_RAND_LENGTH);
    this.#phase = { name: "msg1-sent", randS };
    return this.#sendPsk(encodeEapPsk({ t: 0, randS, idS: this.#idS }));
  }

  async #onMessage2(
    msg: EapPskMessage2,
    phase: Extract<_Phase, { name: "msg1-sent" }>,
  ): Promise<EapAuthStep> {
    if (!_sameBytes(msg.randS, phase.randS)) {
      return { kind: "discard", reason: "EAP-PSK message 2 with another RAND_S" };
    }
    let identity: string;
    try {
      identity = _utf8Strict.decode(msg.idP);
    } catch {
      return this.#fail("Unknown EAP-PSK peer identity: ID_P is not UTF-8");
    }
    const psk = this.#lookup(identity);
    if (psk === undefined) return this.#fail(`Unknown EAP-PSK peer identity: "${identity}"`);
    if (!(psk instanceof Uint8Array) || psk.length !== EAP_PSK_KEY_LENGTH) {
      return this.#fail(`Unusable PSK for "${identity}": expected ${EAP_PSK_KEY_LENGTH} bytes`);
    }
    const keys = await this.#prepared.get(psk);
    // The session keys need KDK and RAND_P only: derived alongside the MACs (each
    // WebCrypto call is a round trip to its threads), used only if MAC_P verifies;
    // the TEK is imported once for messages 3 and 4.
    const [{ macP, macS }, { channel, msk }] = await Promise.all([
      eapPskMacs(keys, msg.idP, this.#idS, phase.randS, msg.randP),
      eapPskDeriveKeys(keys, msg.randP).then(async ({ tek, msk }) => {
        try {
          return { channel: await eapPskChannelKey(tek), msk };
        } finally {
          tek.fill(0);
        }
      }),
    ]);
    if (!constantTimeEqual(macP, msg.macP)) {
      return this.#fail(`EAP-PSK MAC_P does not verify for "${identity}": wrong PSK`);
    }
    const plaintext = encodeEapPskChannelPlaintext({ result: EapPskResult.DoneSuccess });
    const identifier = (this.#identifier + 1) & 0xff;
    const draft: EapPskMessage = {
      t: 2,
      randS: phase.randS,
      macS,
      pchannel: { nonce: _SERVER_NONCE, tag: new Uint8Array(16), encrypted: plaintext },
    };
    const header = eapPskHeaderFor(EapCode.Request, identifier, draft);
    const sealed = await eapPskChannelSeal(channel, _SERVER_NONCE, header, plaintext);
    this.#phase = { name: "msg3-sent", randS: phase.randS, channel, msk, identity };
    return this.#sendPsk(encodeEapPsk({
      t: 2,
      randS: phase.randS,
      macS,
      pchannel: { nonce: _SERVER_NONCE, tag: sealed.tag, encrypted: sealed.ciphertext },
    }));
  }

  async #onMessage4(
    msg: EapPskMessage4,
    bytes: Uint8Array,
    phase: Extract<_Phase, { name: "msg3-sent" }>,
  ): Promise<EapAuthStep> {
    if (!_sameBytes(msg.randS, phase.randS)) {
      return { kind: "discard", reason: "EAP-PSK message 4 with another RAND_S" };
    }
    if (msg.pchannel.nonce !== _PEER_NONCE) {
      return this.#fail(
        `EAP-PSK message 4 nonce ${msg.pchannel.nonce}, expected ${_PEER_NONCE}`,
      );
    }
    let plaintext: Uint8Array;
    try {
      plaintext = await eapPskChannelOpen(
        phase.channel,
        msg.pchannel.nonce,
        eapPskHeader(bytes),
        msg.pchannel.encrypted,
        msg.pchannel.tag,
      );
    } catch (error) {
      if (error instanceof IntegrityError) {
        return this.#fail("EAP-PSK message 4 protected channel does not verify");
      }
      throw error;
    }
    const { result } = decodeEapPskChannelPlaintext(plaintext);
    if (result !== EapPskResult.DoneSuccess) {
      return this.#fail(
        `EAP-PSK peer answered ${result === EapPskResult.DoneFailure ? "DONE_FAILURE" : "CONT"}`,
      );
    }
    this.#phase = { name: "done" };
    return {
      kind: "success",
      eap: encodeEap({ code: EapCode.Success, identifier: this.#identifier }),
      msk: phase.msk,
      identity: phase.identity,
    };
  }

  /** Sends the next Request: a new Identifier, this EAP-PSK Type-Data. */
  #sendPsk(typeData: Uint8Array): EapAuthStep {
    this.#identifier = (this.#identifier + 1) & 0xff;
    return this.#send(
      encodeEap({
        code: EapCode.Request,
        identifier: this.#identifier,
        type: EapType.Psk,
        typeData,
      }),
    );
  }

  #send(eap: Uint8Array): EapAuthStep {
    this.#request = eap;
    return { kind: "request", eap };
  }

  /** Ends with EAP Failure; its Identifier is that of the Response (RFC 3748 section 4.2). */
  #fail(reason: string): EapAuthStep {
    this.#phase = { name: "done" };
    return {
      kind: "failure",
      eap: encodeEap({ code: EapCode.Failure, identifier: this.#identifier }),
      reason,
    };
  }

  #randomBytes(length: number): Uint8Array {
    const bytes = this.#random(length);
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new RangeError(`Invalid random source: asked for ${length} bytes`);
    }
    return bytes.slice();
  }
}

/** Plain comparison, for public values (RAND_S). */
function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
