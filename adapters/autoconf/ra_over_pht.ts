/**
 * Router Advertisements over the proactive handover tunnel (RFC 6252 section 7.3.4):
 * the CTN's access router writes an RA for its link into the MN's PHT as soon as the
 * tunnel is up ({@linkcode buildRaForTunnel}), and the MN forms its nCoA from it by
 * SLAAC ({@linkcode handleRaFromTunnel}, RFC 4862 section 5.5.3) without waiting to be
 * on the link. The DAD for that address is done by the AR ahead of time (Appendix A,
 * `proactive_dad.ts`).
 *
 * Pure functions on packets: the PHT endpoints (`adapters/tunnel/`) carry the bytes.
 *
 * @module
 */
import { ProtocolViolationError } from "../../lib/errors.ts";
import type { Lease } from "../../lib/ports.ts";
import { slaacFromRa } from "../../lib/autoconf/slaac.ts";
import { buildNdPacket, type NdOption, parseNdPacket } from "../../lib/wire/icmpv6.ts";

/** Options of {@linkcode buildRaForTunnel}. */
export interface RaForTunnelOptions {
  /** The AR's link-local address on the CTN link: the RA's source (RFC 4861 section 6.1.2). */
  readonly arLinkLocal: string;
  /** The CTN link's prefix (`2001:db8:1::`). */
  readonly prefix: string;
  /** Prefix length; 64 for SLAAC (RFC 4862 section 5.5.3 (d)). */
  readonly prefixLength: 64;
  /** Valid Lifetime of the prefix, seconds. */
  readonly validS: number;
  /** Preferred Lifetime of the prefix, seconds (at most `validS`). */
  readonly preferredS: number;
  /** Link MTU to advertise (MTU option, RFC 4861 section 4.6.4); none when omitted. */
  readonly mtu?: number;
  /** Destination: `ff02::1` (default) or the MN's link-local address. */
  readonly destination?: string;
  /** Router Lifetime, seconds; default 1800 (RFC 4861 section 6.2.1: 3 * MaxRtrAdvInterval). */
  readonly routerLifetimeS?: number;
  /** The AR's MAC on the CTN link (Source Link-Layer Address option); none when omitted. */
  readonly arMac?: Uint8Array;
  /** DNS servers to advertise (RDNSS, RFC 8106), with `validS` as lifetime. */
  readonly dns?: readonly string[];
}

/**
 * Builds the IPv6 packet carrying the AR's Router Advertisement for the MN's PHT:
 * source the AR's link-local address, destination `ff02::1` or the MN, Hop Limit 255,
 * one Prefix Information option with the L and A flags (RFC 4861 section 4.6.2).
 *
 * @param options addresses, prefix, lifetimes, MTU and extras
 * @returns the IPv6 packet
 * @throws {MalformedMessageError} on bad addresses or values that do not fit
 * @throws {ProtocolViolationError} when `arLinkLocal` is not link-local or the
 * preferred lifetime exceeds the valid one (the MN would ignore the RA)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = buildRaForTunnel({ arLinkLocal: "fe80::1", prefix: "2001:db8:1::", prefixLength: 64, validS: 600, preferredS: 300, mtu: 1400 });
 * const iid = new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b]);
 * const lease = handleRaFromTunnel(packet, iid, { ctn: "ctn-b", now: 0 });
 * assertEquals(lease.nCoA, "2001:db8:1::ff:fe00:b");
 * assertEquals(lease.router, "fe80::1");
 * ```
 */
export function buildRaForTunnel(options: RaForTunnelOptions): Uint8Array {
  if (!options.arLinkLocal.toLowerCase().startsWith("fe80:")) {
    throw new ProtocolViolationError(
      `Invalid RA source: ${options.arLinkLocal} is not link-local (RFC 4861 section 6.1.2)`,
    );
  }
  if (options.preferredS > options.validS) {
    throw new ProtocolViolationError(
      `Invalid prefix lifetimes: preferred ${options.preferredS} s above valid ${options.validS} s`,
    );
  }
  const opts: NdOption[] = [];
  if (options.arMac !== undefined) {
    opts.push({ kind: "source-link-layer-address", address: options.arMac });
  }
  if (options.mtu !== undefined) opts.push({ kind: "mtu", mtu: options.mtu });
  opts.push({
    kind: "prefix-information",
    prefixLength: options.prefixLength,
    onLink: true,
    autonomous: true,
    validLifetime: options.validS,
    preferredLifetime: options.preferredS,
    prefix: options.prefix,
  });
  if (options.dns !== undefined && options.dns.length > 0) {
    opts.push({ kind: "rdnss", lifetime: options.validS, servers: options.dns });
  }
  return buildNdPacket({
    source: options.arLinkLocal,
    destination: options.destination ?? "ff02::1",
    message: {
      kind: "router-advertisement",
      curHopLimit: 64,
      managed: false,
      other: false,
      routerLifetime: options.routerLifetimeS ?? 1800,
      reachableTime: 0,
      retransTimer: 0,
      options: opts,
    },
  });
}

/** Options of {@linkcode handleRaFromTunnel}. */
export interface HandleRaOptions {
  /** Network id of the CTN whose AR sent the RA (goes into the lease). */
  readonly ctn: string;
  /** The current time, ms (the lease's `obtainedAt`). */
  readonly now: number;
}

/**
 * Forms the MN's nCoA from an RA received through the PHT (RFC 6252 section 7.3.4,
 * RFC 4862 section 5.5.3): the first usable Prefix Information option plus `iid`.
 * The packet is fully validated (checksum, Hop Limit 255, link-local source: RFC 4861
 * section 6.1.2).
 *
 * @param packet the IPv6 packet taken out of the tunnel
 * @param iid the MN's 64-bit interface identifier (modified EUI-64 or RFC 7217)
 * @param options CTN id and the current time
 * @returns the lease: method `ra`, prefix length 64, router = the RA's source, DNS
 * from RDNSS, lifetime = the prefix's valid lifetime (`Infinity` when infinite)
 * @throws {MalformedMessageError} when the packet does not parse
 * @throws {ProtocolViolationError} when it is not a valid RA or has no usable prefix
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const packet = buildRaForTunnel({ arLinkLocal: "fe80::1", prefix: "2001:db8:7::", prefixLength: 64, validS: 60, preferredS: 60 });
 * const lease = handleRaFromTunnel(packet, new Uint8Array(8).fill(1), { ctn: "b", now: 1000 });
 * assertEquals([lease.method, lease.prefixLength, lease.expiresAt], ["ra", 64, 61_000]);
 * ```
 */
export function handleRaFromTunnel(
  packet: Uint8Array,
  iid: Uint8Array,
  options: HandleRaOptions,
): Lease {
  const nd = parseNdPacket(packet);
  if (nd.message.kind !== "router-advertisement") {
    throw new ProtocolViolationError(
      `Invalid packet from the tunnel: ${nd.message.kind}, not a Router Advertisement`,
    );
  }
  const cfg = slaacFromRa(nd.message, iid, options.now);
  const first = cfg.addresses[0];
  if (first === undefined) {
    const why = cfg.ignored.map((i) => `${i.prefix}: ${i.reason}`).join("; ");
    throw new ProtocolViolationError(
      `Invalid Router Advertisement: no usable prefix${why === "" ? "" : `: ${why}`}`,
    );
  }
  return {
    ctn: options.ctn,
    nCoA: first.address,
    prefixLength: first.prefixLength,
    // A router lifetime of 0 means "not a default router" (RFC 4861 section 4.2).
    ...(nd.message.routerLifetime > 0 ? { router: nd.source } : {}),
    dns: cfg.dns,
    obtainedAt: options.now,
    lifetimeMs: first.validUntil - options.now,
    expiresAt: first.validUntil,
    method: "ra",
  };
}
