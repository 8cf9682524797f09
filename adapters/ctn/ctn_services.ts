/**
 * The services of a candidate target network (CTN) in one process (RFC 6252 sections
 * 6.3 steps 1-2, 7.3.3, 7.4): the authentication agent (AA, a PANA PAA), the access
 * router's end of the proactive handover tunnels (AR) and the configuration agent's
 * admission (CA), joined by the AA's key delivery.
 *
 * When the AA establishes an MPA-SA it delivers the SA's keys in process (section 6.3
 * step 1: "the MN-CA key and the MN-AR key are delivered to the CA and the AR"):
 *
 * - into an {@link InProcessKeyDelivery}, where the AR finds the MN-AR key by PANA
 *   session id when the MN creates its tunnel (section 7.4);
 * - with `caGate`, through {@link gatedKeyDelivery} into an {@link NftGate}: the MN's
 *   current address (oCoA) is admitted to an external CA's unicast DHCP (Kea or
 *   dnsmasq, in this namespace or another) for the SA's lifetime (section 7.3.3:
 *   "block unicast DHCP messages ... from mobile nodes that are not pre-authenticated");
 *   the gate changes its set through libnftables in process unless `caGate.inProcess`
 *   is false or `caGate.nft` names another executable (the AA's final PAR waits for
 *   each admission);
 * - with `embeddedCa`, into the embedded DHCP server ({@link EmbeddedCa}), gated in
 *   process by the same delivered addresses, and requiring option 90 (RFC 3118) under
 *   the delivered MN-CA key.
 *
 * When an MN opens its tunnel (authenticated with the MN-AR key of its SA), the AR
 * admits the tunnel's nCoA at the CA gates too, for the rest of the SA's lifetime: after
 * the move the MN renews its lease and asks for the other parameters from the nCoA
 * (section 7.3.3), which the gates would otherwise drop.
 *
 * With `ar.tun` the AR routes real packets: a {@link TunDevice} and
 * {@link attachArTun} install a host route and a proxy ARP entry for each tunnel's
 * nCoA. Without it the AR works in user space: feed packets to `ar.deliver` and take
 * the MNs' packets from `ar.onPacket`.
 *
 * The parts start in the order that never hands out a key nobody can use (key store,
 * CA gate, CA, AR, then the AA) and close in the reverse order; a part that fails to
 * close does not keep the others open.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError } from "../../lib/errors.ts";
import {
  type AaService,
  type AaServiceOptions,
  type AaServiceStats,
  startAa,
} from "../aa/aa_service.ts";
import { type DeliveredSa, InProcessKeyDelivery, type KeyDelivery } from "../aa/key_delivery.ts";
import { EmbeddedCa, type EmbeddedCaOptions, type EmbeddedCaStats } from "../dhcp/embedded_ca.ts";
import { type AddressGate, gatedKeyDelivery } from "../dhcp/gated_key_delivery.ts";
import { NftGate, type NftGateOptions } from "../dhcp/nft_gate.ts";
import {
  PhtAr,
  type PhtArStats,
  type PhtArTunnel,
  type PhtTunnelDownReason,
} from "../tunnel/pht_ar.ts";
import { TunDevice } from "../tunnel/tun.ts";
import { type ArTunGlue, attachArTun, type TunGlueStats } from "../tunnel/tun_glue.ts";

const _logger = getLogger(["mpa", "ctn"]);

/** The AA's options, without what the services set themselves. */
export type CtnAaOptions = Omit<AaServiceOptions, "ctn" | "keyDelivery" | "now">;

/** The AR's TUN device: real packets routed to and from the tunnels. */
export interface CtnArTunOptions {
  /** The interface of the CTN link the MN attaches to (proxy ARP, flushed packets). */
  readonly ctnInterface: string;
  /** TUN device name; `%d` is numbered by the kernel. Default `mpa%d`. */
  readonly name?: string;
  /** TUN MTU. Default 1400 (room for the PHT's UDP and AEAD overhead). */
  readonly mtu?: number;
  /** Watch the CTN link's neighbour table for the MN's arrival. Default true. */
  readonly detectAttachment?: boolean;
}

/** Options of the AR part of {@link startCtnServices}. */
export interface CtnArOptions {
  /** Address to bind. Default `0.0.0.0`. */
  readonly listen?: string;
  /** UDP port. Default 7716 (`PHT_UDP_PORT`); 0 for an ephemeral one. */
  readonly port?: number;
  /** A TUN device for real packets, or `false` (default) for user space only. */
  readonly tun?: CtnArTunOptions | false;
  /** Buffer bounds per tunnel (section 7.6.1): packets and age, ms. */
  readonly buffer?: { readonly maxPackets?: number; readonly maxAgeMs?: number };
  /** The longest tunnel lifetime granted, ms. Default the AR's (600000). */
  readonly maxLifetimeMs?: number;
  /** Without a TUN: inner packets from MNs (authenticated, source = the nCoA). */
  readonly onPacket?: (tunnel: PhtArTunnel, packet: Uint8Array) => void;
  /** Without a TUN: flushed or copied packets once the MN is on its new link. */
  readonly deliverDirect?: (nCoA: string, packet: Uint8Array) => void;
  /** A tunnel came up (after the TUN glue's route, when there is one). */
  readonly onTunnelUp?: (tunnel: PhtArTunnel) => void | Promise<void>;
  /** A tunnel went down (after the TUN glue removed its route). */
  readonly onTunnelDown?: (
    tunnel: PhtArTunnel,
    reason: PhtTunnelDownReason,
  ) => void | Promise<void>;
}

/** The embedded CA's options: the services supply admission, keys and clock. */
export type CtnEmbeddedCaOptions = Omit<EmbeddedCaOptions, "isAllowed" | "keys" | "now">;

/** Options of {@link startCtnServices}. */
export interface CtnServicesOptions {
  /** This CTN's network id, bound into the MN-CA and MN-AR keys. */
  readonly ctn: string;
  /**
   * The authentication agent. Without it nothing delivers keys unless the caller
   * does, into {@link CtnServices.keys} (tests, a remote delivery).
   */
  readonly aa?: CtnAaOptions;
  /** The AR's PHT endpoint. */
  readonly ar?: CtnArOptions;
  /** An nftables gate in front of an external CA (Kea, dnsmasq), RFC 6252 7.3.3. */
  readonly caGate?: NftGateOptions;
  /** The embedded DHCP server as the CA. */
  readonly embeddedCa?: CtnEmbeddedCaOptions;
  /** The clock, epoch ms, for SA expiry. Default `Date.now`. */
  readonly now?: () => number;
}

/** Counters of the nftables gate as the key delivery drives it. */
export interface CtnCaGateStats {
  /** Addresses admitted (or re-admitted with a new timeout). */
  readonly admitted: number;
  /** Addresses withdrawn. */
  readonly withdrawn: number;
  /** nft invocations that failed. */
  readonly errors: number;
}

/** Counters of running CTN services; a part that does not run is absent. */
export interface CtnServicesStats {
  /** Unexpired MPA-SAs whose keys the CA and the AR hold. */
  readonly sas: number;
  /** The AA's counters. */
  readonly aa?: AaServiceStats;
  /** The AR's PHT counters. */
  readonly ar?: PhtArStats;
  /** The AR's TUN glue counters. */
  readonly arTun?: TunGlueStats;
  /** The embedded CA's counters. */
  readonly ca?: EmbeddedCaStats;
  /** The CA gate's counters. */
  readonly caGate?: CtnCaGateStats;
}

/** Running CTN services (see {@link startCtnServices}). */
export interface CtnServices extends AsyncDisposable {
  /** The CTN id. */
  readonly ctn: string;
  /** The AA, when configured. */
  readonly aa: AaService | undefined;
  /** The AR's PHT endpoint, when configured: `deliver` packets to it without a TUN. */
  readonly ar: PhtAr | undefined;
  /** The AR's TUN glue, with `ar.tun`. */
  readonly arTun: ArTunGlue | undefined;
  /** The embedded CA, when configured. */
  readonly ca: EmbeddedCa | undefined;
  /** The nftables gate, with `caGate`. */
  readonly caGate: NftGate | undefined;
  /** Where the delivered keys are held (the CA and the AR read them here). */
  readonly keys: InProcessKeyDelivery;
  /** What the AA delivers into: {@link CtnServices.keys} behind the gates. */
  readonly keyDelivery: KeyDelivery;
  /**
   * A snapshot of every part's counters.
   *
   * @returns the counters
   */
  stats(): CtnServicesStats;
  /**
   * Closes the AA, the AR (tunnels, routes, TUN), the CA and the gate, in that
   * order, then wipes the keys. Every part is closed even when another fails.
   * Idempotent.
   *
   * @returns when everything is closed
   * @throws {AggregateError} naming each part that failed to close
   */
  close(): Promise<void>;
}

function _message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!;
}

/** An in-process {@link AddressGate}: addresses admitted until a deadline. */
class _AllowList implements AddressGate {
  readonly #until = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  allow(address: string, ttlMs: number): Promise<void> {
    this.#until.set(address, this.#now() + ttlMs);
    return Promise.resolve();
  }

  revoke(address: string): Promise<void> {
    this.#until.delete(address);
    return Promise.resolve();
  }

  has(address: string): boolean {
    const until = this.#until.get(address);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(address);
    return false;
  }
}

/**
 * A delivery that also keeps each SA's MN-CA key as a WebCrypto HMAC key, for the
 * embedded CA's synchronous lookup (option 90, RFC 3118).
 */
class _CaKeys implements KeyDelivery {
  readonly #inner: KeyDelivery;
  readonly #now: () => number;
  readonly #keys = new Map<number, { readonly key: CryptoKey; readonly expiresAt: number }>();

  constructor(inner: KeyDelivery, now: () => number) {
    this.#inner = inner;
    this.#now = now;
  }

  async deliver(sa: DeliveredSa): Promise<void> {
    await this.#inner.deliver(sa);
    const raw = sa.mnCa.slice();
    try {
      const key = await crypto.subtle.importKey(
        "raw",
        raw,
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      );
      this.#keys.set(sa.sessionId, { key, expiresAt: sa.expiresAt });
    } finally {
      raw.fill(0);
    }
  }

  async revoke(sessionId: number): Promise<void> {
    this.#keys.delete(sessionId);
    await this.#inner.revoke?.(sessionId);
  }

  get(sessionId: number): CryptoKey | undefined {
    const entry = this.#keys.get(sessionId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.key;
    this.#keys.delete(sessionId);
    return undefined;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/**
 * A delivery that, when the AA revokes an SA, also withdraws the nCoAs its tunnels had
 * admitted at the CA gates (the MN's current address is withdrawn by the gated delivery
 * itself).
 */
function _withdrawingNCoAs(
  inner: KeyDelivery,
  admitted: Map<number, Set<string>>,
  gates: readonly AddressGate[],
): KeyDelivery {
  return {
    deliver: (sa) => inner.deliver(sa),
    async revoke(sessionId) {
      await inner.revoke?.(sessionId);
      const addresses = admitted.get(sessionId);
      admitted.delete(sessionId);
      for (const address of addresses ?? []) {
        for (const gate of gates) {
          await gate.revoke(address).catch((error) =>
            _logger.warn("Cannot withdraw {address} from the CA: {error}", {
              address,
              error: _message(error),
            })
          );
        }
      }
    },
  };
}

/** Counts what the key delivery does to the nftables gate. */
function _countingGate(
  gate: NftGate,
  counters: { admitted: number; withdrawn: number; errors: number },
): AddressGate {
  return {
    async allow(address, ttlMs) {
      try {
        await gate.allow(address, ttlMs);
        counters.admitted++;
      } catch (error) {
        counters.errors++;
        throw error;
      }
    },
    async revoke(address) {
      try {
        await gate.revoke(address);
        counters.withdrawn++;
      } catch (error) {
        counters.errors++;
        throw error;
      }
    },
  };
}

/**
 * Starts the services of a CTN (see the module documentation). Only the parts given
 * run; the AA is the only source of keys unless the caller delivers them into
 * {@link CtnServices.keys}.
 *
 * @param options CTN id, and the AA, AR, CA gate and embedded CA options
 * @returns the running services
 * @throws {ConfigError} when a part cannot start (bad option, address in use, no
 *   TUN, nft failing); the parts already started are closed again first
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * await using services = await startCtnServices({
 *   ctn: "ctn-b",
 *   aa: {
 *     host: "127.0.0.1",
 *     port: 0,
 *     backend: { kind: "local", credentials: new Map([["mn", new Uint8Array(16)]]) },
 *   },
 *   ar: { listen: "127.0.0.1", port: 0 },
 *   embeddedCa: {
 *     address: "127.0.0.1",
 *     port: 0,
 *     subnet: "10.0.2.0/24",
 *     range: ["10.0.2.100", "10.0.2.199"],
 *   },
 * });
 * assertEquals(services.stats().sas, 0);
 * assertEquals(services.ar?.tunnels().length, 0);
 * ```
 */
export async function startCtnServices(options: CtnServicesOptions): Promise<CtnServices> {
  if (options.ctn.length === 0) throw new ConfigError("ctn", "Invalid CTN id: empty");
  const now = options.now ?? Date.now;
  const keys = new InProcessKeyDelivery({ now });
  const gateCounters = { admitted: 0, withdrawn: 0, errors: 0 };
  // Gates that admit a tunnel's nCoA (the MN renews from it after the move).
  const nCoAGates: AddressGate[] = [];
  // The nCoAs admitted per PANA session, withdrawn when the AA revokes the SA.
  const admittedNCoAs = new Map<number, Set<string>>();
  let caGate: NftGate | undefined;
  let ca: EmbeddedCa | undefined;
  let caKeys: _CaKeys | undefined;
  let tun: TunDevice | undefined;
  let arTun: ArTunGlue | undefined;
  let ar: PhtAr | undefined;
  let aa: AaService | undefined;

  // Reverse order of start; each step runs even when an earlier one failed.
  const closeAll = async (): Promise<void> => {
    const failures: { part: string; error: unknown }[] = [];
    const steps: [string, () => Promise<void> | void][] = [
      ["aa", () => aa?.close()],
      ["ar", () => ar?.close()],
      ["ar tun glue", () => arTun?.close()],
      ["ar tun", () => tun?.close()],
      ["ca", () => ca?.close()],
      ["ca gate", () => caGate?.uninstall()],
      ["keys", () => {
        caKeys?.clear();
        keys.clear();
      }],
    ];
    for (const [part, step] of steps) {
      try {
        await step();
      } catch (error) {
        failures.push({ part, error });
        _logger.warn("CTN {ctn}: cannot close the {part}: {error}", {
          ctn: options.ctn,
          part,
          error: _message(error),
        });
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(
        failures.map((f) => f.error),
        `Cannot close the CTN services cleanly: ${
          failures.map((f) => `${f.part}: ${_message(f.error)}`).join("; ")
        }`,
      );
    }
  };

  try {
    let delivery: KeyDelivery = keys;

    if (options.caGate !== undefined) {
      try {
        // In process by default with the system's nft (libnftables, falling back to
        // `nft -i`): the admission is on the authentication's critical path (the final
        // PAR waits for it). A given `nft` executable is used as it is.
        caGate = await NftGate.install({
          inProcess: options.caGate.nft === undefined,
          ...options.caGate,
        });
      } catch (error) {
        throw new ConfigError(
          "caGate",
          `Cannot install the CA gate${
            options.caGate.netns === undefined ? "" : ` in ${options.caGate.netns}`
          }: ${_message(error)}`,
        );
      }
    }

    if (options.embeddedCa !== undefined) {
      const allowList = new _AllowList(now);
      nCoAGates.push(allowList);
      const withKeys = new _CaKeys(delivery, now);
      caKeys = withKeys;
      delivery = gatedKeyDelivery(withKeys, allowList, { now });
      const o = options.embeddedCa;
      try {
        ca = await EmbeddedCa.listen({
          ...o,
          isAllowed: (source) => allowList.has(source),
          keys: (sessionId) => withKeys.get(sessionId),
          now,
        });
      } catch (error) {
        throw new ConfigError(
          "embeddedCa",
          `Cannot start the embedded CA on ${o.address}:${o.port ?? 67}: ${_message(error)}`,
        );
      }
    }

    if (caGate !== undefined) {
      const counting = _countingGate(caGate, gateCounters);
      nCoAGates.push(counting);
      delivery = gatedKeyDelivery(delivery, counting, { now });
    }

    delivery = _withdrawingNCoAs(delivery, admittedNCoAs, nCoAGates);

    if (options.ar !== undefined) {
      const o = options.ar;
      if (o.tun !== undefined && o.tun !== false) {
        const t = o.tun;
        try {
          tun = TunDevice.open({ name: t.name ?? "mpa%d", mtu: t.mtu ?? 1400 });
          arTun = await attachArTun(tun, {
            ctnInterface: t.ctnInterface,
            ...(t.detectAttachment === undefined ? {} : { detectAttachment: t.detectAttachment }),
          });
        } catch (error) {
          throw new ConfigError(
            "ar.tun",
            `Cannot attach the AR's TUN device to ${t.ctnInterface}: ${_message(error)}`,
          );
        }
      }
      const glue = arTun?.hooks;
      const listen = o.listen ?? "0.0.0.0";
      try {
        ar = await PhtAr.listen({
          listen: { address: listen, ...(o.port === undefined ? {} : { port: o.port }) },
          keys: (sessionId) => keys.get(sessionId)?.mnAr,
          ...(o.buffer === undefined ? {} : { buffer: o.buffer }),
          ...(o.maxLifetimeMs === undefined ? {} : { maxLifetimeMs: o.maxLifetimeMs }),
          onPacket: glue?.onPacket ?? o.onPacket ?? (() => {}),
          ...(glue !== undefined
            ? { deliverDirect: glue.deliverDirect }
            : o.deliverDirect === undefined
            ? {}
            : { deliverDirect: o.deliverDirect }),
          onTunnelUp: async (tunnel) => {
            await glue?.onTunnelUp(tunnel);
            const sa = keys.get(tunnel.sessionId);
            if (sa !== undefined && !tunnel.nCoA.includes(":") && nCoAGates.length > 0) {
              const ttlMs = sa.expiresAt - now();
              const set = admittedNCoAs.get(tunnel.sessionId) ?? new Set<string>();
              set.add(tunnel.nCoA);
              admittedNCoAs.set(tunnel.sessionId, set);
              for (const gate of nCoAGates) {
                await gate.allow(tunnel.nCoA, ttlMs).catch((error) =>
                  _logger.warn("CTN {ctn}: cannot admit {nCoA} at the CA: {error}", {
                    ctn: options.ctn,
                    nCoA: tunnel.nCoA,
                    error: _message(error),
                  })
                );
              }
            }
            _logger.info("CTN {ctn}: tunnel {id} up for {nCoA} (session {sessionId})", {
              ctn: options.ctn,
              id: tunnel.id,
              nCoA: tunnel.nCoA,
              sessionId: tunnel.sessionId,
            });
            await o.onTunnelUp?.(tunnel);
          },
          onTunnelDown: async (tunnel, reason) => {
            await glue?.onTunnelDown(tunnel);
            _logger.info("CTN {ctn}: tunnel {id} down for {nCoA}: {reason}", {
              ctn: options.ctn,
              id: tunnel.id,
              nCoA: tunnel.nCoA,
              reason,
            });
            await o.onTunnelDown?.(tunnel, reason);
          },
        });
      } catch (error) {
        throw new ConfigError(
          "ar.listen",
          `Cannot bind the AR to ${listen}:${o.port ?? 7716}: ${_message(error)}`,
        );
      }
      arTun?.start(ar);
    }

    if (options.aa !== undefined) {
      aa = await startAa({ ...options.aa, ctn: options.ctn, keyDelivery: delivery, now });
    }

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => closing ??= closeAll();
    const services: CtnServices = {
      ctn: options.ctn,
      aa,
      ar,
      arTun,
      ca,
      caGate,
      keys,
      keyDelivery: delivery,
      stats: () => ({
        sas: keys.size,
        ...(aa === undefined ? {} : { aa: aa.stats }),
        ...(ar === undefined ? {} : { ar: ar.stats() }),
        ...(arTun === undefined ? {} : { arTun: arTun.stats() }),
        ...(ca === undefined ? {} : { ca: ca.stats }),
        ...(caGate === undefined ? {} : { caGate: { ...gateCounters } }),
      }),
      close,
      [Symbol.asyncDispose]: close,
    };
    return services;
  } catch (error) {
    await closeAll().catch(() => {}); // each failure was logged
    throw error;
  }
}
