/**
 * Key delivery from the authentication agent to the configuration agent (CA) and the
 * access router (AR) of its network (RFC 6252 section 6.3 step 1: "the MN-CA key and
 * the MN-AR key are delivered to the CA and the AR"). The AA calls a
 * {@link KeyDelivery} once per MPA-SA it establishes; {@link InProcessKeyDelivery}
 * keeps the keys in memory for a CA and an AR running in the same process (the
 * default; the CA and AR themselves come with a later issue).
 *
 * The keys are raw bytes: keep them inside the process and never log them (log
 * `keyFingerprint` of them).
 *
 * @module
 */
import type { MpaSaKeyIds } from "../../lib/ports.ts";

/** What the AA hands to the CA and the AR for one MPA-SA. */
export interface DeliveredSa {
  /** PANA Session Identifier of the MPA-SA. */
  readonly sessionId: number;
  /** The MN's IP address, as its PANA datagrams came from (its current address). */
  readonly mnAddress: string;
  /** The MN's identity as authenticated by EAP. */
  readonly identity: string;
  /** This CTN's network id (bound into both keys). */
  readonly ctn: string;
  /** Key identifiers, safe to log. */
  readonly keyIds: MpaSaKeyIds;
  /** The MN-CA key, 32 bytes: protects configuration (RFC 6252 section 7.3). */
  readonly mnCa: Uint8Array;
  /** The MN-AR key, 32 bytes: protects the proactive handover tunnel (section 7.4). */
  readonly mnAr: Uint8Array;
  /** When the SA expires, epoch ms: the keys must not be used afterwards. */
  readonly expiresAt: number;
}

/**
 * The port through which the AA delivers the MN-CA and MN-AR keys (RFC 6252 section
 * 6.3 step 1). Implementations copy what they keep: the caller may wipe the arrays
 * once `deliver` resolves.
 */
export interface KeyDelivery {
  /**
   * Delivers the keys of a new MPA-SA.
   *
   * @param sa the SA and its two keys
   * @returns when the CA and the AR hold the keys
   */
  deliver(sa: DeliveredSa): Promise<void>;
  /**
   * Withdraws the keys of an SA that ended (terminated or expired). Optional: a
   * delivery that honours `expiresAt` on its own may omit it.
   *
   * @param sessionId the PANA Session Identifier
   * @returns when the keys are gone
   */
  revoke?(sessionId: number): Promise<void>;
}

/** Options of {@link InProcessKeyDelivery}. */
export interface InProcessKeyDeliveryOptions {
  /** The clock, epoch ms, that `expiresAt` is compared with. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A {@link KeyDelivery} that keeps the keys in memory, by session id, for a CA and an
 * AR in the same process. Expired SAs are never returned; their keys are wiped when
 * they are noticed (on any call) and on {@link InProcessKeyDelivery.revoke}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * let now = 1_000;
 * const delivery = new InProcessKeyDelivery({ now: () => now });
 * await delivery.deliver({
 *   sessionId: 7,
 *   mnAddress: "192.0.2.10",
 *   identity: "mn@example",
 *   ctn: "ctn-b",
 *   keyIds: { msk: 1, mnCa: "mn-ca-7", mnAr: "mn-ar-7" },
 *   mnCa: new Uint8Array(32).fill(1),
 *   mnAr: new Uint8Array(32).fill(2),
 *   expiresAt: 2_000,
 * });
 * assertEquals(delivery.get(7)?.mnAr[0], 2);
 * now = 2_000;
 * assertEquals(delivery.get(7), undefined);
 * ```
 */
export class InProcessKeyDelivery implements KeyDelivery {
  readonly #now: () => number;
  readonly #sas = new Map<number, DeliveredSa>();

  /**
   * Creates an empty delivery.
   *
   * @param options the clock
   */
  constructor(options: InProcessKeyDeliveryOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** How many unexpired SAs are held. */
  get size(): number {
    this.#prune();
    return this.#sas.size;
  }

  /**
   * Keeps a copy of the SA's keys, replacing an SA with the same session id.
   *
   * @param sa the SA and its keys
   * @returns when kept
   */
  deliver(sa: DeliveredSa): Promise<void> {
    this.#prune();
    this.#wipe(sa.sessionId);
    this.#sas.set(sa.sessionId, {
      ...sa,
      keyIds: { ...sa.keyIds },
      mnCa: sa.mnCa.slice(),
      mnAr: sa.mnAr.slice(),
    });
    return Promise.resolve();
  }

  /**
   * Wipes and forgets an SA's keys.
   *
   * @param sessionId the PANA Session Identifier
   * @returns when forgotten (at once)
   */
  revoke(sessionId: number): Promise<void> {
    this.#wipe(sessionId);
    return Promise.resolve();
  }

  /**
   * The keys of an unexpired SA, as the CA and the AR look them up. The arrays are
   * copies: wiping them does not affect the delivery.
   *
   * @param sessionId the PANA Session Identifier
   * @returns the SA, or undefined when unknown, revoked or expired
   */
  get(sessionId: number): DeliveredSa | undefined {
    this.#prune();
    const sa = this.#sas.get(sessionId);
    return sa === undefined ? undefined : { ...sa, mnCa: sa.mnCa.slice(), mnAr: sa.mnAr.slice() };
  }

  /** Wipes every key held. */
  clear(): void {
    for (const id of [...this.#sas.keys()]) this.#wipe(id);
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, sa] of this.#sas) if (sa.expiresAt <= now) this.#wipe(id);
  }

  #wipe(sessionId: number): void {
    const sa = this.#sas.get(sessionId);
    if (sa === undefined) return;
    sa.mnCa.fill(0);
    sa.mnAr.fill(0);
    this.#sas.delete(sessionId);
  }
}
