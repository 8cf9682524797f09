/**
 * Key delivery that also opens the configuration agent's admission filter (RFC 6252
 * section 7.3.3 with section 6.3 step 1): when the AA delivers the MN-CA key of a new
 * MPA-SA, the MN's current address is admitted to the CA's unicast DHCP for the SA's
 * lifetime; when the SA is revoked, the address is withdrawn.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { isIP } from "node:net";
import type { DeliveredSa, KeyDelivery } from "../aa/key_delivery.ts";

/**
 * What {@link gatedKeyDelivery} needs of a gate: {@link NftGate} in a real CTN, any
 * allow list in the loopback demo.
 */
export interface AddressGate {
  /**
   * Admits an address for a time.
   *
   * @param address the IPv4 address
   * @param ttlMs how long, ms
   * @returns when admitted
   */
  allow(address: string, ttlMs: number): Promise<void>;
  /**
   * Withdraws an address.
   *
   * @param address the IPv4 address
   * @returns when withdrawn
   */
  revoke(address: string): Promise<void>;
}

/** Options of {@link gatedKeyDelivery}. */
export interface GatedKeyDeliveryOptions {
  /** The clock, epoch ms, that `expiresAt` is compared with. Default `Date.now`. */
  readonly now?: () => number;
}

const log = getLogger(["mpa", "dhcp", "gate"]);

/**
 * Wraps a {@link KeyDelivery} so that each delivered SA admits `sa.mnAddress` to the
 * gate until `sa.expiresAt`, and each revoked SA withdraws it. The inner delivery runs
 * first on deliver (the CA holds the key before the MN is let in) and last on revoke.
 * An SA already expired, or with an IPv6 address (DHCPv4 only), is delivered but
 * admits nothing. Two SAs from the same address keep it admitted until both are gone.
 *
 * @param inner the delivery to the CA and AR
 * @param gate the admission filter
 * @param options the clock
 * @returns the wrapping delivery
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { InProcessKeyDelivery } from "../aa/key_delivery.ts";
 * const admitted = new Map<string, number>();
 * const gate = {
 *   allow: (a: string, ttl: number) => Promise.resolve(void admitted.set(a, ttl)),
 *   revoke: (a: string) => Promise.resolve(void admitted.delete(a)),
 * };
 * const delivery = gatedKeyDelivery(new InProcessKeyDelivery({ now: () => 1000 }), gate, {
 *   now: () => 1000,
 * });
 * await delivery.deliver({
 *   sessionId: 7, mnAddress: "10.0.1.2", identity: "mn", ctn: "b",
 *   keyIds: { msk: 1, mnCa: "a", mnAr: "b" },
 *   mnCa: new Uint8Array(32), mnAr: new Uint8Array(32), expiresAt: 61_000,
 * });
 * assertEquals(admitted.get("10.0.1.2"), 60_000);
 * await delivery.revoke!(7);
 * assertEquals(admitted.size, 0);
 * ```
 */
export function gatedKeyDelivery(
  inner: KeyDelivery,
  gate: AddressGate,
  options: GatedKeyDeliveryOptions = {},
): KeyDelivery {
  const now = options.now ?? Date.now;
  const addressOf = new Map<number, string>();
  const holders = (address: string) => [...addressOf.values()].filter((a) => a === address).length;
  return {
    async deliver(sa: DeliveredSa): Promise<void> {
      await inner.deliver(sa);
      const ttlMs = sa.expiresAt - now();
      if (isIP(sa.mnAddress) !== 4 || ttlMs <= 0) {
        log.warn("SA {sessionId} admits nothing: address {address}, ttl {ttlMs} ms", {
          sessionId: sa.sessionId,
          address: sa.mnAddress,
          ttlMs,
        });
        return;
      }
      const previous = addressOf.get(sa.sessionId);
      addressOf.set(sa.sessionId, sa.mnAddress);
      await gate.allow(sa.mnAddress, ttlMs);
      if (previous !== undefined && previous !== sa.mnAddress && holders(previous) === 0) {
        await gate.revoke(previous);
      }
      log.info("Admitted {address} to the CA for {ttlMs} ms (session {sessionId})", {
        address: sa.mnAddress,
        ttlMs,
        sessionId: sa.sessionId,
      });
    },
    async revoke(sessionId: number): Promise<void> {
      const address = addressOf.get(sessionId);
      addressOf.delete(sessionId);
      if (address !== undefined && holders(address) === 0) {
        await gate.revoke(address);
        log.info("Withdrew {address} from the CA (session {sessionId})", {
          address,
          sessionId,
        });
      }
      await inner.revoke?.(sessionId);
    },
  };
}
