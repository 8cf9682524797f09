/**
 * Forwarding of transient traffic by the previous network (RFC 6252 section 7.2,
 * second solution): where the mobility protocol cannot bind several care-of
 * addresses at once - SIP, whose dialog has one contact and whose SDP has one
 * connection address per media stream (`SipMobility.multipleCoAs` is false) - the
 * correspondent keeps sending to the old address until the binding update from the
 * new network takes effect. The previous network forwards that traffic to the MN's
 * new address meanwhile.
 *
 * Implemented as a reverse tunnel with the SAME proactive handover tunnel protocol
 * (section 7.4), with the roles of the two addresses swapped:
 *
 * ```
 *                 PHT role   forward PHT (section 7.4)    reverse PHT (this module)
 * endpoints.oCoA  outer      the old CoA (MN still there) newAddress (MN moved there)
 * endpoints.nCoA  inner      the new CoA (reserved)       oldAddress (the MN left it)
 * endpoints.ar    far end    the CTN's access router      the PREVIOUS access router
 * ```
 *
 * The previous AR runs a `PhtAr` like any CTN's AR: it routes packets for the tunnel's
 * inner address - here the old care-of address - into the tunnel (host route and proxy
 * ARP on the old link, `attachArTun` with the old link as `ctnInterface`), and the MN
 * opens the tunnel from its new address, with the MN-AR key of the MPA-SA it holds
 * with that network (the one it used when that network was its target). The MN's
 * `PhtTunnelManager` binds the tunnel's UDP socket to the outer address, its new
 * address. Inner packets arriving from the previous AR are for the old address: write
 * them into a TUN device that holds the old address (kernel delivery to sockets still
 * bound there), or hand them to a `PhtDatagramStack` built on the returned handle
 * (user space; its address is then the old address).
 *
 * The forwarding is time-bound (section 7.2): it ends after `lifetimeMs` or when
 * {@linkcode TransientForwarding.stop} is called, typically a moment after the
 * re-INVITE from the new network was answered (the correspondent redirects before it
 * answers, so only datagrams already in flight still take the old path).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importMnArKey } from "../../lib/keys/pht_keys.ts";
 * import { PhtAr } from "../tunnel/pht_ar.ts";
 * import { PhtTunnelManager } from "../tunnel/pht_mn.ts";
 * const raw = new Uint8Array(32).fill(3);
 * await using par = await PhtAr.listen({
 *   listen: { address: "127.0.0.1", port: 0 },
 *   keys: (id) => id === 9 ? raw : undefined,
 * });
 * await using manager = new PhtTunnelManager({ sessionId: () => 9 });
 * const forwarding = await startTransientForwarding(manager, {
 *   previousAr: { address: "127.0.0.1", port: par.address.port },
 *   oldAddress: "127.0.0.3",
 *   newAddress: "127.0.0.2",
 *   key: await importMnArKey(raw),
 *   lifetimeMs: 5_000,
 * });
 * // The previous AR now routes the old address into the tunnel.
 * assertEquals(par.tunnels()[0]?.nCoA, "127.0.0.3");
 * assertEquals(par.tunnels()[0]?.oCoA, "127.0.0.2");
 * assertEquals(await forwarding.stop(), "stopped");
 * assertEquals(par.tunnels().length, 0);
 * ```
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type {
  PortCallOptions,
  ServiceAddress,
  TunnelHandle,
  TunnelManager,
} from "../../lib/ports.ts";

const _logger = getLogger(["mpa", "mobility", "transient-forwarding"]);

/** Options of {@linkcode startTransientForwarding}. */
export interface TransientForwardingOptions extends PortCallOptions {
  /** The previous network's access router (a `PhtAr`); port default 7716. */
  readonly previousAr: ServiceAddress;
  /** The care-of address the MN left: the reverse tunnel's INNER address. */
  readonly oldAddress: string;
  /** The MN's address in the new network: the reverse tunnel's OUTER address. */
  readonly newAddress: string;
  /** The MN-AR key of the MPA-SA with the previous network (an HKDF `CryptoKey`). */
  readonly key: CryptoKey;
  /** How long the previous network forwards at most, ms (section 7.2: time-bound). */
  readonly lifetimeMs: number;
  /**
   * The network id passed to `TunnelManager.open` (a `PhtTunnelManager` maps it to
   * the PANA session id); default `previous`.
   */
  readonly network?: string;
}

/** Why the forwarding ended. */
export type TransientForwardingEnd = "stopped" | "expired";

/** A running forwarding from the previous network. */
export interface TransientForwarding {
  /** The reverse tunnel: `endpoints.oCoA` is the new address, `endpoints.nCoA` the old. */
  readonly tunnel: TunnelHandle;
  /** When the forwarding stops by itself, epoch ms. */
  readonly expiresAt: number;
  /** Resolves when the forwarding ended, and how. */
  readonly ended: Promise<TransientForwardingEnd>;
  /**
   * Ends the forwarding: deletes the reverse tunnel at the previous AR. Idempotent.
   *
   * @returns how it ended (`expired` when the lifetime had run out first)
   */
  stop(): Promise<TransientForwardingEnd>;
}

/**
 * Asks the previous network's access router to forward traffic for the old care-of
 * address to the MN's new address (RFC 6252 section 7.2), through a PHT opened from
 * the new address with the two addresses' roles swapped (see the module notes).
 *
 * @param manager the MN's tunnel manager (a `PhtTunnelManager`); its `onPacket`
 *   receives the forwarded packets (destination: the old address)
 * @param options the previous AR, the old and new addresses, the key, the lifetime
 * @returns the running forwarding
 * @throws {RangeError} for a lifetime that is not a positive number
 * @throws {PortError} from `open`: `not-found` (no SA with the previous network),
 *   `rejected`, `timeout`, `unreachable`, `aborted`
 */
export async function startTransientForwarding(
  manager: Pick<TunnelManager, "open" | "close">,
  options: TransientForwardingOptions,
): Promise<TransientForwarding> {
  if (!(options.lifetimeMs > 0) || !Number.isFinite(options.lifetimeMs)) {
    throw new RangeError(`Invalid forwarding lifetime: ${options.lifetimeMs} ms`);
  }
  const tunnel = await manager.open(
    options.network ?? "previous",
    // The role swap: outer = where the MN is now, inner = the address it left.
    { oCoA: options.newAddress, nCoA: options.oldAddress, ar: options.previousAr },
    options.key,
    options.signal === undefined ? {} : { signal: options.signal },
  );
  const expiresAt = Date.now() + options.lifetimeMs;
  let end: TransientForwardingEnd | undefined;
  let closing: Promise<void> | undefined;
  let resolveEnded!: (how: TransientForwardingEnd) => void;
  const ended = new Promise<TransientForwardingEnd>((r) => resolveEnded = r);
  const finish = (how: TransientForwardingEnd): Promise<TransientForwardingEnd> => {
    if (closing === undefined) {
      end = how;
      clearTimeout(timer);
      closing = manager.close(tunnel).catch((error: unknown) => {
        // Not confirmed: the AR lets the tunnel expire (section 7.2).
        _logger.warn("Transient forwarding tunnel {id} not deleted: {error}", {
          id: tunnel.id,
          error: String(error),
        });
      });
      void closing.then(() => resolveEnded(how));
      _logger.info("Transient forwarding for {old} {how}", { old: options.oldAddress, how });
    }
    return closing.then(() => end!);
  };
  const timer = setTimeout(() => void finish("expired"), options.lifetimeMs);
  _logger.info("Transient forwarding for {old} to {new} via {ar} for {ms} ms", {
    old: options.oldAddress,
    new: options.newAddress,
    ar: options.previousAr.address,
    ms: options.lifetimeMs,
  });
  return { tunnel, expiresAt, ended, stop: () => finish("stopped") };
}
