/**
 * IPv6 pre-configuration through the proactive handover tunnel, end to end (RFC 6252
 * section 7.3.4, Appendices A and B), wiring the building blocks of
 * `adapters/autoconf/` into the PHT endpoints:
 *
 * 1. The MN creates an IPv6 PHT before it has an nCoA: the create carries its
 *    interface identifier (Interface Identifier TLV: "IPv6 autoconf requested") and
 *    the pending nCoA `::`, and optionally its MAC on the CTN link (Link-Layer Address
 *    TLV, Appendix B).
 * 2. The AR grants the tunnel (create-ack) without routing anything into it, and
 *    seals the CTN link's Router Advertisement into it at once
 *    ({@linkcode arIpv6Autoconf} `routerAdvertisement`, built by `buildRaForTunnel`,
 *    sent to the MN's link-local address). An RA lost or early is covered by a Router
 *    Solicitation through the tunnel, which the AR answers (RFC 4861 section 6.2.6).
 * 3. The MN forms its nCoA by SLAAC from that RA (`handleRaFromTunnel`, RFC 4862
 *    section 5.5.3) and names it in an authenticated `update`.
 * 4. The AR runs DAD for it on the CTN link (proactive DAD, `proactiveDad` with the
 *    proxy left to the TUN glue); if unique it installs the host route and the
 *    neighbour proxy (`onTunnelUp` of `tun_glue.ts`) and answers `update-ack`; if
 *    not, the error `Duplicate`, and the MN forms another identifier (RFC 7217
 *    section 6: DAD_Counter + 1, at most IDGEN_RETRIES = 3 times).
 * 5. After the move the MN adds the nCoA to its physical interface as an Optimistic
 *    address (RFC 4429, `addOptimisticAddress`), usable at once
 *    ({@linkcode attachIpv6NCoA}); at the delete the AR replaces its proxy entry by a
 *    neighbour entry with the MN's MAC (Appendix B, `tun_glue.ts`).
 *
 * Design choice: the pending nCoA `::` plus an Interface Identifier TLV rather than
 * a tunnel keyed by the MN's link-local address. The tunnel's inner address is what
 * the AR routes and checks as the source of inner packets; a link-local address is
 * neither routable from the CN nor unique beyond one link, so the tunnel carries no
 * data until the AR has checked and routed a global address. The interface
 * identifier in the create only addresses the RA (to `fe80::IID`); the SLAAC
 * identifier may differ (RFC 7217 makes it depend on the prefix, learned from the RA).
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { slaacFromRa } from "../../lib/autoconf/slaac.ts";
import { type PortCallOptions, PortError, type TunnelHandle } from "../../lib/ports.ts";
import type { Lease } from "../../lib/ports.ts";
import { buildNdPacket, parseNdPacket } from "../../lib/wire/icmpv6.ts";
import { formatIpv6Address, parseIpv6Address } from "../../lib/wire/ip_header.ts";
import { buildRaForTunnel, handleRaFromTunnel } from "../autoconf/ra_over_pht.ts";
import { proactiveDad } from "../autoconf/proactive_dad.ts";
import {
  addOptimisticAddress,
  type OptimisticAddressResult,
} from "../autoconf/optimistic_address.ts";
import type { PhtArIpv6Autoconf, PhtArTunnel } from "./pht_ar.ts";
import type { PhtAssignResult, PhtOpenOptions } from "./pht_mn.ts";
import { _ip } from "./_ip_cmd.ts";
import { _preciseNow } from "./_pht_udp.ts";

const log = getLogger(["mpa", "tunnel", "ipv6"]);

/** RFC 7217 section 6: how many times a new identifier is tried after a DAD failure. */
export const IDGEN_RETRIES = 3;

/** RFC 4861 section 10: MAX_RTR_SOLICITATIONS. */
export const MAX_RTR_SOLICITATIONS = 3;

/** Options of {@linkcode arIpv6Autoconf}. */
export interface ArIpv6AutoconfOptions {
  /** The AR's interface on the CTN link (DAD runs there). */
  readonly ctnInterface: string;
  /** The CTN link's /64 prefix, `2001:db8:2::`. */
  readonly prefix: string;
  /** The AR's link-local address on the CTN link (the RA's source); read from the interface when omitted. */
  readonly arLinkLocal?: string;
  /** The AR's MAC on the CTN link (Source Link-Layer Address option); read when omitted. */
  readonly arMac?: Uint8Array;
  /** Valid lifetime of the prefix, s; default 86400. */
  readonly validS?: number;
  /** Preferred lifetime of the prefix, s; default 14400. */
  readonly preferredS?: number;
  /** Link MTU to advertise; none when omitted. */
  readonly mtu?: number;
  /** DNS servers (RDNSS). */
  readonly dns?: readonly string[];
  /** Longest proactive DAD, ms; default 5000. */
  readonly dadTimeoutMs?: number;
  /** Run the `ip` commands in this named network namespace. */
  readonly netns?: string;
}

/** One proactive DAD run of {@linkcode arIpv6Autoconf}, for reports. */
export interface ArDadRecord {
  /** The address checked. */
  readonly nCoA: string;
  /** The verdict. */
  readonly status: "unique" | "duplicate";
  /** How long DAD took, ms. */
  readonly durationMs: number;
}

/** The AR's IPv6 autoconf: pass it as `PhtAr.listen({ ipv6Autoconf })`. */
export interface ArIpv6Autoconf extends PhtArIpv6Autoconf {
  /** The DAD runs so far. */
  readonly dadRuns: readonly ArDadRecord[];
}

/**
 * The AR's half of IPv6 pre-configuration (RFC 6252 section 7.3.4, Appendix A): builds
 * the RA of the CTN link for each autoconf tunnel (to the MN's link-local address
 * `fe80::IID`) and runs proactive DAD on the CTN interface for the address the MN
 * names. The neighbour proxy is not installed here: `tun_glue.ts` does it in
 * `onTunnelUp`, which the AR calls once DAD said unique.
 *
 * @param options the CTN interface and prefix, RA contents, DAD bound
 * @returns the hooks for `PhtAr.listen({ ipv6Autoconf })`
 * @throws {Error} when the AR's link-local address or MAC cannot be read
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const hooks = await arIpv6Autoconf({
 *   ctnInterface: "cellb", prefix: "2001:db8:2::", arLinkLocal: "fe80::1", arMac: new Uint8Array(6),
 * });
 * assertEquals(hooks.acceptsAddress?.("2001:db8:2::b"), true);
 * assertEquals(hooks.acceptsAddress?.("2001:db8:3::b"), false);
 * ```
 */
export async function arIpv6Autoconf(options: ArIpv6AutoconfOptions): Promise<ArIpv6Autoconf> {
  const where = options.netns === undefined ? {} : { netns: options.netns };
  const dev = options.ctnInterface;
  const arLinkLocal = options.arLinkLocal ?? await _linkLocalOf(dev, where);
  const arMac = options.arMac ?? await _macOf(dev, where);
  const prefix = parseIpv6Address(options.prefix).subarray(0, 8);
  const dadRuns: ArDadRecord[] = [];
  return {
    dadRuns,
    routerAdvertisement(tunnel: PhtArTunnel): Uint8Array {
      const destination = tunnel.interfaceId === undefined
        ? "ff02::1"
        : _linkLocal(tunnel.interfaceId);
      return buildRaForTunnel({
        arLinkLocal,
        prefix: options.prefix,
        prefixLength: 64,
        validS: options.validS ?? 86_400,
        preferredS: options.preferredS ?? 14_400,
        destination,
        arMac,
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
        ...(options.dns === undefined ? {} : { dns: options.dns }),
      });
    },
    async checkAddress(_tunnel: PhtArTunnel, nCoA: string): Promise<"unique" | "duplicate"> {
      const r = await proactiveDad({
        address: nCoA,
        device: dev,
        proxy: false,
        timeoutMs: options.dadTimeoutMs ?? 5_000,
        ...where,
      });
      dadRuns.push({ nCoA: r.address, status: r.status, durationMs: r.durationMs });
      return r.status;
    },
    acceptsAddress(nCoA: string): boolean {
      const a = parseIpv6Address(nCoA);
      return prefix.every((b, i) => a[i] === b);
    },
  };
}

/** The MN-side tunnel endpoint as this glue uses it (`PhtTunnelManager` fits). */
export interface Ipv6AutoconfTunnelManager {
  /** See `PhtTunnelManager.open`. */
  open(
    ctn: string,
    endpoints: {
      readonly oCoA: string;
      readonly nCoA: string;
      readonly ar: TunnelHandle["endpoints"]["ar"];
    },
    key: CryptoKey,
    options?: PhtOpenOptions,
  ): Promise<TunnelHandle>;
  /** See `PhtTunnelManager.receive`. */
  receive(
    handle: TunnelHandle,
    match: (packet: Uint8Array) => boolean,
    options?: PortCallOptions & { readonly timeoutMs?: number },
  ): Promise<Uint8Array>;
  /** See `PhtTunnelManager.send`. */
  send(handle: TunnelHandle, packet: Uint8Array): Promise<void>;
  /** See `PhtTunnelManager.assignAddress`. */
  assignAddress(
    handle: TunnelHandle,
    nCoA: string,
    options?: PortCallOptions & { readonly linkLayerAddress?: Uint8Array },
  ): Promise<PhtAssignResult>;
  /** See `PhtTunnelManager.close`. */
  close(handle: TunnelHandle): Promise<void>;
}

/** Options of {@linkcode openIpv6AutoconfTunnel}. */
export interface Ipv6AutoconfOptions extends PortCallOptions {
  /**
   * The MN's interface identifier for a prefix (RFC 7217 `stableInterfaceId`, or
   * modified EUI-64 ignoring both arguments). Called with `fe80::` and 0 for the
   * identifier sent in the create, then with the CTN prefix and the DAD counter
   * (0, then 1, 2, ... after each duplicate, RFC 7217 section 6).
   */
  readonly interfaceId: (prefix: string, dadCounter: number) => Uint8Array | Promise<Uint8Array>;
  /** The MN's MAC on the CTN link, sent to the AR (RFC 6252 Appendix B). */
  readonly linkLayerAddress?: Uint8Array;
  /** Wait for the RA per try, ms; default 500, then a Router Solicitation is sent. */
  readonly raTimeoutMs?: number;
  /** Clock for the lease, epoch ms; default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
}

/** What {@linkcode openIpv6AutoconfTunnel} did. */
export interface Ipv6AutoconfResult {
  /** The tunnel, with its nCoA. */
  readonly handle: TunnelHandle;
  /** The lease formed from the RA (method `ra`, router = the AR's link-local address). */
  readonly lease: Lease;
  /** The DAD counter of the identifier used (RFC 7217 section 6). */
  readonly dadCounter: number;
  /** Every address tried, in order, with the AR's verdict. */
  readonly attempts: readonly {
    readonly nCoA: string;
    readonly status: "assigned" | "duplicate";
  }[];
  /** Router Solicitations sent because no RA came in time. */
  readonly solicitations: number;
  /** Milestones, ms from the call: tunnel up (create-ack), RA received, address accepted. */
  readonly timings: {
    readonly tunnelUpMs: number;
    readonly raMs: number;
    readonly assignedMs: number;
  };
}

/**
 * The MN's half of IPv6 pre-configuration (RFC 6252 section 7.3.4, Appendix A): opens an
 * autoconf PHT, takes the AR's RA from it (soliciting one if it does not come), forms
 * the nCoA by SLAAC and has the AR check and route it, forming another identifier
 * after each duplicate. On failure the tunnel is closed.
 *
 * @param manager the MN's tunnel endpoint (`PhtTunnelManager`)
 * @param ctn the CTN's network id
 * @param endpoints the oCoA and the AR
 * @param key the MN-AR key
 * @param options interface identifiers, MAC, timers, abort signal
 * @returns the tunnel with its nCoA, the lease, attempts and timings
 * @throws {PortError} from the tunnel (`timeout`, `rejected`, ...), `timeout` when no
 *   RA came, `rejected` when every identifier was a duplicate, `protocol` for an RA
 *   without a usable prefix
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { importMnArKey } from "../../lib/keys/pht_keys.ts";
 * import { PhtAr } from "./pht_ar.ts";
 * import { PhtTunnelManager } from "./pht_mn.ts";
 * const raw = new Uint8Array(32).fill(3);
 * await using ar = await PhtAr.listen({
 *   listen: { address: "127.0.0.1", port: 0 },
 *   keys: () => raw,
 *   ipv6Autoconf: await arIpv6Autoconf({
 *     ctnInterface: "lo", prefix: "2001:db8:2::", arLinkLocal: "fe80::1", arMac: new Uint8Array(6),
 *   }).then((h) => ({ ...h, checkAddress: () => Promise.resolve("unique" as const) })),
 * });
 * await using mn = new PhtTunnelManager({ sessionId: () => 1 });
 * const r = await openIpv6AutoconfTunnel(mn, "ctn-b", {
 *   oCoA: "127.0.0.1", ar: { address: "127.0.0.1", port: ar.address.port },
 * }, await importMnArKey(raw), { interfaceId: () => new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b]) });
 * assertEquals(r.handle.endpoints.nCoA, "2001:db8:2::ff:fe00:b");
 * assertEquals(ar.tunnels()[0]?.nCoA, "2001:db8:2::ff:fe00:b");
 * ```
 */
export async function openIpv6AutoconfTunnel(
  manager: Ipv6AutoconfTunnelManager,
  ctn: string,
  endpoints: { readonly oCoA: string; readonly ar: TunnelHandle["endpoints"]["ar"] },
  key: CryptoKey,
  options: Ipv6AutoconfOptions,
): Promise<Ipv6AutoconfResult> {
  const started = _preciseNow();
  const now = options.now ?? _preciseNow;
  const signal = options.signal;
  const call = signal === undefined ? {} : { signal };
  const lla = options.linkLayerAddress;
  const handle = await manager.open(ctn, { ...endpoints, nCoA: "::" }, key, {
    ...call,
    interfaceId: await options.interfaceId("fe80::", 0),
    ...(lla === undefined ? {} : { linkLayerAddress: lla }),
  });
  const tunnelUpMs = _preciseNow() - started;
  try {
    // The RA the AR sent after the create-ack; solicited if it does not come.
    let ra: Uint8Array | undefined;
    let solicitations = 0;
    for (let attempt = 0; ra === undefined; attempt++) {
      try {
        ra = await manager.receive(handle, _isRouterAdvertisement, {
          ...call,
          timeoutMs: options.raTimeoutMs ?? 500,
        });
      } catch (error) {
        if (!(error instanceof PortError) || error.code !== "timeout") throw error;
        if (attempt >= MAX_RTR_SOLICITATIONS) {
          throw new PortError(
            "TunnelManager",
            "timeout",
            `No Router Advertisement through the PHT: ${solicitations} solicitations`,
          );
        }
        solicitations++;
        await manager.send(handle, _routerSolicitation());
      }
    }
    const raMs = _preciseNow() - started;
    const prefix = _prefixOf(ra);
    const attempts: { nCoA: string; status: "assigned" | "duplicate" }[] = [];
    for (let dadCounter = 0; dadCounter <= IDGEN_RETRIES; dadCounter++) {
      const iid = await options.interfaceId(prefix, dadCounter);
      const lease = handleRaFromTunnel(ra, iid, { ctn, now: now() });
      const r = await manager.assignAddress(handle, lease.nCoA, call);
      if (r.status === "duplicate") {
        attempts.push({ nCoA: lease.nCoA, status: "duplicate" });
        log.info("nCoA {nCoA} is in use on the CTN link: DAD_Counter {next}", {
          nCoA: lease.nCoA,
          next: dadCounter + 1,
        });
        continue;
      }
      attempts.push({ nCoA: lease.nCoA, status: "assigned" });
      const assignedMs = _preciseNow() - started;
      log.info("nCoA {nCoA} through the PHT: RA after {raMs} ms, usable after {assignedMs} ms", {
        nCoA: lease.nCoA,
        raMs: Math.round(raMs),
        assignedMs: Math.round(assignedMs),
      });
      return {
        handle: r.handle,
        lease,
        dadCounter,
        attempts,
        solicitations,
        timings: { tunnelUpMs, raMs, assignedMs },
      };
    }
    throw new PortError(
      "TunnelManager",
      "rejected",
      `Every nCoA is in use on the CTN link: ${attempts.map((a) => a.nCoA).join(", ")}`,
    );
  } catch (error) {
    await manager.close(handle).catch(() => {});
    throw error;
  }
}

/** Options of {@linkcode attachIpv6NCoA}. */
export interface AttachIpv6NCoAOptions {
  /** The nCoA (from the lease). */
  readonly nCoA: string;
  /** Prefix length; default 64. */
  readonly prefixLength?: number;
  /** The MN's physical interface on the CTN link. */
  readonly device: string;
  /** The default router (the lease's `router`, the AR's link-local address); none when omitted. */
  readonly router?: string;
  /** Run the commands in this named network namespace. */
  readonly netns?: string;
}

/**
 * After the move (RFC 6252 section 6.3 step 6, Appendix A): adds the nCoA to the MN's
 * physical interface as an Optimistic address (RFC 4429; `nodad` when the kernel lacks
 * it) and, with a router, the default route via the AR's link-local address, so that
 * the address is usable at once. Detach the MN's TUN (`MnTunAttachment.detach`) first.
 *
 * @param options address, device, router, namespace
 * @returns how the address was added
 * @throws {PortError} `Configurator` from `addOptimisticAddress`, or when `ip` fails
 *
 * @example
 * ```ts ignore
 * await attachIpv6NCoA({ nCoA: lease.nCoA, device: "wlan0", router: lease.router });
 * ```
 */
export async function attachIpv6NCoA(
  options: AttachIpv6NCoAOptions,
): Promise<OptimisticAddressResult> {
  const where = options.netns === undefined ? {} : { netns: options.netns };
  const r = await addOptimisticAddress({
    address: options.nCoA,
    prefixLength: options.prefixLength ?? 64,
    device: options.device,
    ...where,
  });
  if (options.router !== undefined) {
    await _ip(
      ["-6", "route", "replace", "default", "via", options.router, "dev", options.device],
      where,
    );
  }
  return r;
}

function _isRouterAdvertisement(packet: Uint8Array): boolean {
  return packet.length >= 56 && packet[0]! >> 4 === 6 && packet[6] === 58 && packet[40] === 134;
}

/** A Router Solicitation from the unspecified address to all routers (RFC 4861 section 6.3.7). */
function _routerSolicitation(): Uint8Array {
  return buildNdPacket({
    source: "::",
    destination: "ff02::2",
    message: { kind: "router-solicitation", options: [] },
  });
}

/** The first usable prefix of an RA, as SLAAC would use it. */
function _prefixOf(packet: Uint8Array): string {
  const nd = parseNdPacket(packet);
  if (nd.message.kind !== "router-advertisement") {
    throw new PortError("TunnelManager", "protocol", "Invalid packet: not a Router Advertisement");
  }
  const first = slaacFromRa(nd.message, new Uint8Array(8), 0).addresses[0];
  if (first === undefined) {
    throw new PortError(
      "TunnelManager",
      "protocol",
      "Invalid Router Advertisement: no usable prefix",
    );
  }
  return first.prefix;
}

function _linkLocal(iid: Uint8Array): string {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a.set(iid.subarray(0, 8), 8);
  return formatIpv6Address(a);
}

async function _linkLocalOf(dev: string, where: { readonly netns?: string }): Promise<string> {
  const text = await _ip(["-6", "-j", "addr", "show", "dev", dev, "scope", "link"], where);
  const links = JSON.parse(text || "[]") as { addr_info?: { local?: string }[] }[];
  const local = links[0]?.addr_info?.find((a) => typeof a.local === "string")?.local;
  if (local === undefined) throw new Error(`No IPv6 link-local address on ${dev}`);
  return local;
}

async function _macOf(dev: string, where: { readonly netns?: string }): Promise<Uint8Array> {
  const text = await _ip(["-j", "link", "show", "dev", dev], where);
  const mac = (JSON.parse(text || "[]") as { address?: string }[])[0]?.address;
  if (mac === undefined || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) {
    throw new Error(`No Ethernet address on ${dev}`);
  }
  return new Uint8Array(mac.split(":").map((h) => parseInt(h, 16)));
}
