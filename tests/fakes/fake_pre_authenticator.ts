/**
 * In-memory {@link PreAuthenticator}: grants an MPA-SA per call with fresh,
 * non-extractable WebCrypto keys, or refuses the networks it is told to.
 *
 * @module
 */
import type {
  CtnInfo,
  MpaSa,
  MpaSaKeys,
  PortCallOptions,
  PreAuthenticator,
} from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";
import { importMnArKey } from "../../lib/keys/pht_keys.ts";

/** Options of {@link FakePreAuthenticator}. */
export interface FakePreAuthenticatorOptions extends FakeBehaviourOptions {
  /** The MN identity put in the SAs. Default `mn@example.net`. */
  readonly mnId?: string;
  /** Session lifetime granted, ms. Default 3 600 000 (one hour). */
  readonly lifetimeMs?: number;
  /** Networks whose AA refuses the MN (EAP failure): calls fail with `rejected`. */
  readonly rejectNetworks?: readonly string[];
  /** First PANA session id handed out; then counts up. Default 1. */
  readonly firstSessionId?: number;
}

/** A fake PANA PaC. Keeps every SA it granted, in order. */
export class FakePreAuthenticator implements PreAuthenticator {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  readonly #mnId: string;
  readonly #lifetimeMs: number;
  readonly #reject: ReadonlySet<string>;
  readonly #granted: MpaSa[] = [];
  #nextSessionId: number;
  #nextKeyId = 1;

  /** @param options identity, lifetime, refusals, latency, failures */
  constructor(options: FakePreAuthenticatorOptions = {}) {
    this.behaviour = new FakeBehaviour("PreAuthenticator", options);
    this.#mnId = options.mnId ?? "mn@example.net";
    this.#lifetimeMs = options.lifetimeMs ?? 3_600_000;
    this.#reject = new Set(options.rejectNetworks ?? []);
    this.#nextSessionId = options.firstSessionId ?? 1;
  }

  /** Every SA granted so far, oldest first. */
  get granted(): readonly MpaSa[] {
    return this.#granted;
  }

  /**
   * Pre-authenticates with the CTN's AA.
   *
   * @param ctn the candidate target network
   * @param options abort signal
   * @returns a new MPA-SA
   */
  preAuthenticate(ctn: CtnInfo, options?: PortCallOptions): Promise<MpaSa> {
    return this.behaviour.run(
      "preAuthenticate",
      [ctn],
      options?.signal,
      async (establishedAt) => {
        if (this.#reject.has(ctn.network)) {
          throw this.behaviour.error(
            "rejected",
            `EAP failure: the AA of ${ctn.network} refused ${this.#mnId}`,
          );
        }
        const keys: MpaSaKeys = {
          mnCa: await _hmacKey(),
          mnAr: await _mnArKey(),
        };
        const sessionId = this.#nextSessionId++;
        const keyId = this.#nextKeyId++;
        const sa: MpaSa = {
          ctn: ctn.network,
          mnId: this.#mnId,
          sessionId,
          establishedAt,
          lifetimeMs: this.#lifetimeMs,
          expiresAt: establishedAt + this.#lifetimeMs,
          keyIds: {
            msk: keyId,
            mnCa: `mn-ca-${sessionId}`,
            mnAr: `mn-ar-${sessionId}`,
          },
          keys,
        };
        this.#granted.push(sa);
        return sa;
      },
    );
  }
}

function _hmacKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** An MN-AR key as the PANA PaC holds it: HKDF over 32 random bytes (lib/keys/pht_keys.ts). */
function _mnArKey(): Promise<CryptoKey> {
  return importMnArKey(crypto.getRandomValues(new Uint8Array(32)));
}
