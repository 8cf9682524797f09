/**
 * A trivial EAP method pair for testing PANA without EAP-PSK: an in-memory
 * {@link EapPeer} and {@link EapAuthenticatorFactory} that run two round trips
 * (Identity, then a challenge of the Experimental type 255 answered with the shared
 * secret in clear) and export a fixed MSK. Real EAP packets (RFC 3748), so PANA
 * carries them as it would any method; no security whatsoever.
 *
 * Both sides follow RFC 3748's rules that PANA relies on: the peer answers a
 * retransmitted Request with the same Response, and the authenticator discards a
 * Response whose Identifier does not match its outstanding Request.
 *
 * @module
 */
import type {
  EapAuthenticator,
  EapAuthenticatorFactory,
  EapAuthStep,
  EapPeer,
  EapPeerStep,
} from "../../lib/eap/eap_method.ts";
import { decodeEap, eapIdentity, encodeEap, readEapIdentity } from "../../lib/wire/eap.ts";
import { EapCode, EapType } from "../../lib/wire/eap_constants.ts";

/** The MSK both sides export: 64 bytes, `i ^ 0x5a`. */
export const FAKE_EAP_MSK: Uint8Array = Uint8Array.from({ length: 64 }, (_, i) => i ^ 0x5a);

/** The challenge of the second round trip (fixed: this method proves nothing). */
const _CHALLENGE = new TextEncoder().encode("fake-eap-challenge");

const _utf8 = new TextEncoder();

/** Options of {@link FakeEapPeer}. */
export interface FakeEapPeerOptions {
  /** The identity sent in the Identity Response. Default `mn@fake`. */
  readonly identity?: string;
  /** The secret sent in answer to the challenge. Default `secret`. */
  readonly secret?: string;
  /** The MSK exported on EAP Success. Default {@link FAKE_EAP_MSK}. */
  readonly msk?: Uint8Array;
}

/** The MN side of the fake method. */
export class FakeEapPeer implements EapPeer {
  readonly #identity: string;
  readonly #secret: Uint8Array;
  readonly #msk: Uint8Array;
  #answeredChallenge = false;
  #done = false;
  /** Every EAP packet handed to the peer, in order. */
  readonly received: Uint8Array[] = [];

  /** @param options identity, secret, MSK */
  constructor(options: FakeEapPeerOptions = {}) {
    this.#identity = options.identity ?? "mn@fake";
    this.#secret = _utf8.encode(options.secret ?? "secret");
    this.#msk = (options.msk ?? FAKE_EAP_MSK).slice();
  }

  /**
   * Handles one EAP packet from the authenticator.
   *
   * @param eap the packet
   * @returns the step
   */
  handle(eap: Uint8Array): Promise<EapPeerStep> {
    this.received.push(eap.slice());
    let packet;
    try {
      packet = decodeEap(eap);
    } catch (error) {
      return Promise.resolve({ kind: "discard", reason: (error as Error).message });
    }
    if (this.#done) return Promise.resolve({ kind: "discard", reason: "Method finished" });
    switch (packet.code) {
      case EapCode.Success:
        if (!this.#answeredChallenge) {
          return Promise.resolve({ kind: "discard", reason: "Premature EAP Success" });
        }
        this.#done = true;
        return Promise.resolve({ kind: "success", msk: this.#msk.slice() });
      case EapCode.Failure:
        this.#done = true;
        return Promise.resolve({ kind: "failure", reason: "EAP Failure received" });
      case EapCode.Request:
        if (packet.type === EapType.Identity) {
          return Promise.resolve({
            kind: "response",
            eap: encodeEap(eapIdentity(EapCode.Response, packet.identifier, this.#identity)),
          });
        }
        if (packet.type === EapType.Experimental) {
          this.#answeredChallenge = true;
          return Promise.resolve({
            kind: "response",
            eap: encodeEap({
              code: EapCode.Response,
              identifier: packet.identifier,
              type: EapType.Experimental,
              typeData: this.#secret,
            }),
          });
        }
        return Promise.resolve({ kind: "discard", reason: `Unknown EAP type ${packet.type}` });
      default:
        return Promise.resolve({ kind: "discard", reason: "Not a Request, Success or Failure" });
    }
  }
}

/** Options of {@link FakeEapAuthenticatorFactory}. */
export interface FakeEapAuthenticatorFactoryOptions {
  /** Identity to secret. Default `{ "mn@fake": "secret" }`. */
  readonly users?: Readonly<Record<string, string>>;
  /** The MSK exported on success. Default {@link FAKE_EAP_MSK}. */
  readonly msk?: Uint8Array;
  /** When set, `create` throws with this message (an AAA backend that is down). */
  readonly createError?: string;
}

/** The AA side of the fake method: one authenticator per PANA session. */
export class FakeEapAuthenticatorFactory implements EapAuthenticatorFactory {
  readonly #users: Readonly<Record<string, string>>;
  readonly #msk: Uint8Array;
  readonly #createError: string | undefined;
  /** Every session an authenticator was created for, in order. */
  readonly created: { readonly sessionId: number; readonly peer: string }[] = [];

  /** @param options users, MSK, failure injection */
  constructor(options: FakeEapAuthenticatorFactoryOptions = {}) {
    this.#users = options.users ?? { "mn@fake": "secret" };
    this.#msk = (options.msk ?? FAKE_EAP_MSK).slice();
    this.#createError = options.createError;
  }

  /**
   * Creates the authenticator of one session.
   *
   * @param session its PANA session id and peer
   * @returns a fresh authenticator
   */
  create(session: { readonly sessionId: number; readonly peer: string }): EapAuthenticator {
    if (this.#createError !== undefined) throw new Error(this.#createError);
    this.created.push({ sessionId: session.sessionId, peer: session.peer });
    return new _FakeEapAuthenticator(this.#users, this.#msk);
  }
}

class _FakeEapAuthenticator implements EapAuthenticator {
  readonly #users: Readonly<Record<string, string>>;
  readonly #msk: Uint8Array;
  #phase: "new" | "identity" | "challenge" | "done" = "new";
  #identifier = 1;
  #identity = "";

  constructor(users: Readonly<Record<string, string>>, msk: Uint8Array) {
    this.#users = users;
    this.#msk = msk;
  }

  start(): Promise<EapAuthStep> {
    this.#phase = "identity";
    return Promise.resolve({
      kind: "request",
      eap: encodeEap(eapIdentity(EapCode.Request, this.#identifier, "")),
    });
  }

  handle(eap: Uint8Array): Promise<EapAuthStep> {
    let packet;
    try {
      packet = decodeEap(eap);
    } catch (error) {
      return Promise.resolve({ kind: "discard", reason: (error as Error).message });
    }
    if (packet.code !== EapCode.Response || packet.identifier !== this.#identifier) {
      return Promise.resolve({ kind: "discard", reason: "Not the Response expected" });
    }
    if (this.#phase === "identity" && packet.type === EapType.Identity) {
      this.#identity = readEapIdentity(packet);
      this.#phase = "challenge";
      this.#identifier = (this.#identifier + 1) & 0xff;
      return Promise.resolve({
        kind: "request",
        eap: encodeEap({
          code: EapCode.Request,
          identifier: this.#identifier,
          type: EapType.Experimental,
          typeData: _CHALLENGE,
        }),
      });
    }
    if (this.#phase === "challenge" && packet.type === EapType.Experimental) {
      this.#phase = "done";
      const secret = this.#users[this.#identity];
      const given = new TextDecoder().decode(packet.typeData);
      if (secret === undefined || secret !== given) {
        return Promise.resolve({
          kind: "failure",
          eap: encodeEap({ code: EapCode.Failure, identifier: this.#identifier }),
          reason: secret === undefined ? `Unknown identity ${this.#identity}` : "Wrong secret",
        });
      }
      return Promise.resolve({
        kind: "success",
        eap: encodeEap({ code: EapCode.Success, identifier: this.#identifier }),
        msk: this.#msk.slice(),
        identity: this.#identity,
      });
    }
    return Promise.resolve({ kind: "discard", reason: `Unexpected Response in ${this.#phase}` });
  }
}
