/**
 * The AA's RADIUS backend: an EAP pass-through authenticator (RFC 3748 section 2,
 * RFC 3579) that relays the MN's EAP Responses to an AAA server in Access-Requests
 * and hands back its EAP Requests, Success or Failure.
 *
 * The AA asks for the identity itself (Request/Identity, RFC 3579 section 2.1), then
 * each Response goes out with User-Name (the identity), the EAP-Message attributes,
 * Calling-Station-Id (the MN's PANA address), Framed-MTU and the State of the last
 * Access-Challenge (RFC 2865 section 5.24). An Access-Challenge gives the next EAP
 * Request; an Access-Accept gives EAP Success and the MSK from its MS-MPPE keys
 * (RFC 2548; an Accept without them is refused, since MPA needs the MSK); an
 * Access-Reject gives EAP Failure. When the server does not answer, the conversation
 * fails with the reason `AAA server unreachable: ...` and one log line (LogTape
 * category `mpa.aaa`). Keys are never logged.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type {
  EapAuthenticator,
  EapAuthenticatorFactory,
  EapAuthStep,
  RandomBytes,
} from "../../lib/eap/eap_method.ts";
import { ConfigError, MalformedMessageError, ProtocolViolationError } from "../../lib/errors.ts";
import {
  decodeEap,
  eapIdentity,
  type EapPacket,
  encodeEap,
  readEapIdentity,
} from "../../lib/wire/eap.ts";
import { EapCode, EapType } from "../../lib/wire/eap_constants.ts";
import {
  attributeValue,
  eapMessageAttributes,
  joinEapMessage,
  type RadiusAttribute,
  radiusAttribute,
} from "../../lib/wire/radius.ts";
import { RadiusAttributeType, RadiusCode } from "../../lib/wire/radius_constants.ts";
import {
  type RadiusClient,
  RadiusClientClosedError,
  type RadiusReply,
  RadiusUnreachableError,
} from "../radius/client.ts";
import { SerialQueue } from "../../lib/eap/serial_queue.ts";
import { discardOnCodecError, readEapResponse } from "../../lib/eap/eap_response.ts";

const _logger = getLogger(["mpa", "aaa"]);

/** What the pass-through needs of a {@link RadiusClient}. */
export type RadiusEapClient = Pick<RadiusClient, "accessRequest" | "msk">;

/** Options of {@link radiusEapFactory}. */
export interface RadiusEapFactoryOptions {
  /** The RADIUS client towards the AAA server (shared by all sessions). */
  readonly client: RadiusEapClient;
  /** NAS-Identifier to send; default the client's own (`mpa`). */
  readonly nasIdentifier?: string;
  /**
   * Framed-MTU to announce, bytes: the largest EAP packet the AAA server should send
   * (RFC 3579 section 2.4). Default 1400, which fits PANA over UDP on Ethernet.
   */
  readonly framedMtu?: number;
  /** Source of the Request/Identity identifier; default `crypto.getRandomValues`. */
  readonly random?: RandomBytes;
}

const _DEFAULT_FRAMED_MTU = 1400;
const _utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * The factory of RADIUS pass-through authenticators, one per PANA session.
 *
 * @param options the RADIUS client, NAS-Identifier, Framed-MTU and random source
 * @returns the factory, for the PAA
 * @throws {ConfigError} for an empty NAS-Identifier or a Framed-MTU outside 64 to
 *   65535
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const client = {
 *   accessRequest: () => Promise.reject(new Error("not used")),
 *   msk: () => undefined,
 * };
 * const factory = radiusEapFactory({ client, random: (n) => new Uint8Array(n).fill(7) });
 * const step = await factory.create({ sessionId: 1, peer: "192.0.2.7:716" }).start();
 * assertEquals(step, { kind: "request", eap: new Uint8Array([1, 7, 0, 5, 1]) });
 * ```
 */
export function radiusEapFactory(options: RadiusEapFactoryOptions): EapAuthenticatorFactory {
  const mtu = options.framedMtu ?? _DEFAULT_FRAMED_MTU;
  if (!Number.isInteger(mtu) || mtu < 64 || mtu > 65535) {
    throw new ConfigError("framedMtu", `Invalid Framed-MTU: ${mtu}`);
  }
  if (options.nasIdentifier !== undefined && options.nasIdentifier.length === 0) {
    throw new ConfigError("nasIdentifier", "Invalid NAS-Identifier: empty");
  }
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const fixed: RadiusAttribute[] = [_uint32Attribute(RadiusAttributeType.FramedMtu, mtu)];
  if (options.nasIdentifier !== undefined) {
    fixed.push(radiusAttribute(RadiusAttributeType.NasIdentifier, options.nasIdentifier));
  }
  return {
    create: (session) => new _RadiusEapAuthenticator(options.client, session, fixed, random),
  };
}

type _Phase = "new" | "identity-sent" | "relaying" | "done";

class _RadiusEapAuthenticator implements EapAuthenticator {
  readonly #client: RadiusEapClient;
  readonly #session: { readonly sessionId: number; readonly peer: string };
  readonly #fixed: readonly RadiusAttribute[];
  readonly #random: RandomBytes;
  #phase: _Phase = "new";
  /** The identifier of the outstanding EAP Request. */
  #identifier = 0;
  #identityRequest: Uint8Array | undefined;
  #userName = "";
  #state: Uint8Array | undefined;
  readonly #queue = new SerialQueue();

  constructor(
    client: RadiusEapClient,
    session: { readonly sessionId: number; readonly peer: string },
    fixed: readonly RadiusAttribute[],
    random: RandomBytes,
  ) {
    this.#client = client;
    this.#session = session;
    this.#fixed = fixed;
    this.#random = random;
  }

  start(): Promise<EapAuthStep> {
    return this.#queue.run(() => this.#start());
  }

  handle(eap: Uint8Array): Promise<EapAuthStep> {
    return this.#queue.run(() => this.#handle(eap));
  }

  #start(): EapAuthStep {
    if (this.#phase === "identity-sent" && this.#identityRequest !== undefined) {
      return { kind: "request", eap: this.#identityRequest };
    }
    if (this.#phase !== "new") {
      return { kind: "discard", reason: "EAP conversation already started" };
    }
    const id = this.#random(1)[0];
    if (id === undefined) throw new RangeError("Invalid random source: asked for 1 byte");
    this.#identifier = id;
    this.#phase = "identity-sent";
    this.#identityRequest = encodeEap(eapIdentity(EapCode.Request, id, ""));
    return { kind: "request", eap: this.#identityRequest };
  }

  async #handle(bytes: Uint8Array): Promise<EapAuthStep> {
    if (this.#phase === "new") return { kind: "discard", reason: "EAP conversation not started" };
    if (this.#phase === "done") {
      return { kind: "discard", reason: "EAP conversation already finished" };
    }
    const read = readEapResponse(bytes, this.#identifier);
    if (read.kind === "discard") return read;
    const packet = read.packet;
    if (this.#phase === "identity-sent") {
      if (packet.type !== EapType.Identity) {
        return { kind: "discard", reason: `EAP Response of type ${packet.type} to Identity` };
      }
      try {
        this.#userName = readEapIdentity(packet);
      } catch (error) {
        return discardOnCodecError(error);
      }
      if (this.#userName.length === 0) return this.#fail("Empty EAP identity: no User-Name");
      this.#phase = "relaying";
    }
    const length = (bytes[2]! << 8) | bytes[3]!;
    return await this.#relay(bytes.subarray(0, length));
  }

  async #relay(eap: Uint8Array): Promise<EapAuthStep> {
    const attributes: RadiusAttribute[] = [
      radiusAttribute(RadiusAttributeType.UserName, this.#userName),
      ...eapMessageAttributes(eap),
      radiusAttribute(RadiusAttributeType.CallingStationId, this.#session.peer),
      ...this.#fixed,
    ];
    if (this.#state !== undefined) {
      attributes.push(radiusAttribute(RadiusAttributeType.State, this.#state));
    }
    let reply: RadiusReply;
    try {
      reply = await this.#client.accessRequest(attributes);
    } catch (error) {
      if (error instanceof RadiusUnreachableError) {
        const reason = `AAA server unreachable: ${
          error.message.replace(/^RADIUS server unreachable: /, "")
        }`;
        _logger.warn("PANA session {sessionId} ({peer}): {reason}", {
          sessionId: this.#session.sessionId,
          peer: this.#session.peer,
          reason,
        });
        return this.#fail(reason);
      }
      if (
        error instanceof RadiusClientClosedError || error instanceof ProtocolViolationError ||
        error instanceof MalformedMessageError
      ) {
        return this.#fail(`AAA request failed: ${error.message}`);
      }
      throw error;
    }
    const packet = reply.packet;
    switch (packet.code) {
      case RadiusCode.AccessChallenge:
        return this.#onChallenge(reply);
      case RadiusCode.AccessAccept:
        return this.#onAccept(reply);
      default: {
        const message = _text(attributeValue(packet, RadiusAttributeType.ReplyMessage));
        const reason = `Access-Reject from the AAA server${
          message === undefined ? "" : `: ${message}`
        }`;
        _logger.info("PANA session {sessionId} ({peer}): {reason} for {user}", {
          sessionId: this.#session.sessionId,
          peer: this.#session.peer,
          reason,
          user: this.#userName,
        });
        return this.#fail(reason, _eapOfCode(joinEapMessage(packet), EapCode.Failure));
      }
    }
  }

  #onChallenge(reply: RadiusReply): EapAuthStep {
    const eap = joinEapMessage(reply.packet);
    if (eap === undefined) return this.#fail("Access-Challenge without EAP-Message");
    let request: EapPacket;
    try {
      request = decodeEap(eap);
    } catch (error) {
      return this.#fail(
        `Access-Challenge with a malformed EAP-Message: ${(error as Error).message}`,
      );
    }
    if (request.code !== EapCode.Request) {
      return this.#fail(`Access-Challenge carried EAP code ${request.code}, not a Request`);
    }
    this.#state = attributeValue(reply.packet, RadiusAttributeType.State);
    this.#identifier = request.identifier;
    return { kind: "request", eap: eap.subarray(0, (eap[2]! << 8) | eap[3]!) };
  }

  #onAccept(reply: RadiusReply): EapAuthStep {
    const carried = joinEapMessage(reply.packet);
    const contradiction = _eapOfCode(carried, EapCode.Failure);
    if (contradiction !== undefined) {
      return this.#fail("Access-Accept carried an EAP Failure", contradiction);
    }
    let msk: Uint8Array | undefined;
    try {
      msk = this.#client.msk(reply);
    } catch (error) {
      return this.#fail(`Access-Accept with unusable MS-MPPE keys: ${(error as Error).message}`);
    }
    if (msk === undefined) {
      return this.#fail("Access-Accept without MS-MPPE keys: no MSK for the MPA keys");
    }
    this.#phase = "done";
    const identity = _text(attributeValue(reply.packet, RadiusAttributeType.UserName)) ??
      this.#userName;
    return {
      kind: "success",
      eap: _eapOfCode(carried, EapCode.Success) ??
        encodeEap({ code: EapCode.Success, identifier: this.#identifier }),
      msk,
      identity,
    };
  }

  /** Ends with EAP Failure: the server's, or one with the Response's identifier. */
  #fail(reason: string, eap?: Uint8Array): EapAuthStep {
    this.#phase = "done";
    return {
      kind: "failure",
      eap: eap ?? encodeEap({ code: EapCode.Failure, identifier: this.#identifier }),
      reason,
    };
  }
}

/** The EAP Success or Failure if `eap` decodes as one with this code, else undefined. */
function _eapOfCode(eap: Uint8Array | undefined, code: number): Uint8Array | undefined {
  if (eap === undefined) return undefined;
  try {
    return decodeEap(eap).code === code ? eap.subarray(0, 4) : undefined;
  } catch {
    return undefined;
  }
}

function _uint32Attribute(type: number, value: number): RadiusAttribute {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return radiusAttribute(type, bytes);
}

function _text(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  try {
    return _utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}
