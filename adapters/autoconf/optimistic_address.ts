/**
 * The mobile node's side after the move (RFC 6252 Appendix A): configure the nCoA,
 * used inside the proactive handover tunnel until now, on the physical interface to
 * the target network as an Optimistic address (RFC 4429), so that it is usable at
 * once while DAD runs, instead of waiting about a second for DAD to finish.
 *
 * Linux supports Optimistic DAD when built with `CONFIG_IPV6_OPTIMISTIC_DAD` and
 * `net.ipv6.conf.IF.optimistic_dad=1`; this adapter sets that sysctl, adds the
 * address with the `optimistic` flag and reads the flags back. If the kernel lacks
 * the feature (no sysctl, or the address comes back plain `tentative`), it re-adds the
 * address with `nodad` instead and says so in the result (`mode: "nodad"`): usable at
 * once, but never checked on the new link; the AR's proactive DAD (Appendix A, see
 * `proactive_dad.ts`) is then the only check.
 *
 * Unsolicited Neighbor Advertisement: Linux 6.x does not send one when an address is
 * added (optimistic or not), even with `ndisc_notify=1` (observed on 6.18: only the
 * DAD probe goes out). This adapter cannot send one itself (it would need a raw
 * ICMPv6 socket). The result reports `unsolicitedNa: false`; the AR's proxy entry
 * removal and the MN's first packets (with the nCoA as source, resolved through a
 * normal NS/NA exchange) update the neighbours' caches instead.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { PortError } from "../../lib/ports.ts";
import { formatIpv6Address, parseIpv6Address } from "../../lib/wire/ip_header.ts";
import { _addresses, _ip, _ipTry, _sysctlGet, _sysctlSet, type _Where } from "./_ip.ts";

const log = getLogger(["mpa", "autoconf", "optimistic"]);

/** Options of {@linkcode addOptimisticAddress}. */
export interface OptimisticAddressOptions {
  /** The nCoA, IPv6 text. */
  readonly address: string;
  /** Prefix length; default 64 (SLAAC). */
  readonly prefixLength?: number;
  /** The MN's physical interface on the target network. */
  readonly device: string;
  /** Run the commands in this named network namespace (`ip -n NS`). */
  readonly netns?: string;
}

/** What {@linkcode addOptimisticAddress} did. */
export interface OptimisticAddressResult {
  /** The address, RFC 5952 text. */
  readonly address: string;
  /**
   * `optimistic`: added as an Optimistic address, DAD running (RFC 4429);
   * `nodad`: the kernel lacks Optimistic DAD, added without DAD.
   */
  readonly mode: "optimistic" | "nodad";
  /** Why `nodad` was used; absent for `optimistic`. */
  readonly fallbackReason?: string;
  /** Whether an unsolicited Neighbor Advertisement was sent: always false (see the module doc). */
  readonly unsolicitedNa: false;
}

/**
 * Adds the nCoA to the MN's interface as an Optimistic address (RFC 4429, RFC 6252
 * Appendix A), falling back to `nodad` when the kernel lacks Optimistic DAD.
 *
 * @param options address, prefix length, device, namespace
 * @returns the mode used
 * @throws {PortError} `Configurator`: `unreachable` when the device is missing or `ip`
 * fails; `rejected` when the address is already configured there
 *
 * @example
 * ```ts ignore
 * const r = await addOptimisticAddress({ address: "2001:db8:1::ff:fe00:b", device: "wlan0" });
 * if (r.mode === "nodad") console.warn(r.fallbackReason);
 * ```
 */
export async function addOptimisticAddress(
  options: OptimisticAddressOptions,
): Promise<OptimisticAddressResult> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const address = formatIpv6Address(parseIpv6Address(options.address));
  const cidr = `${address}/${options.prefixLength ?? 64}`;
  const dev = options.device;
  const key = `net.ipv6.conf.${dev}.optimistic_dad`;
  const current = await _sysctlGet(key, where);
  let fallbackReason: string | undefined;
  if (current === undefined) {
    fallbackReason = `Kernel lacks Optimistic DAD: no sysctl ${key}`;
  } else {
    if (current !== "1") await _sysctlSet(key, 1, where);
    await _add([cidr, "optimistic"], dev, where);
    const mine = (await _addresses(dev, where)).find((a) => a.local === address);
    if (mine?.optimistic === true || (mine !== undefined && !mine.tentative)) {
      // Optimistic, or DAD already over (a very fast link): usable either way.
      return { address, mode: "optimistic", unsolicitedNa: false };
    }
    fallbackReason = "Kernel ignored the optimistic flag: the address came back tentative";
    await _ipTry(["-6", "addr", "del", cidr, "dev", dev], where);
  }
  log.warn("Optimistic DAD unavailable on {dev}, adding {address} with nodad: {reason}", {
    dev,
    address,
    reason: fallbackReason,
  });
  await _add([cidr, "nodad"], dev, where);
  return { address, mode: "nodad", fallbackReason, unsolicitedNa: false };
}

/**
 * Removes an address from an interface (the MN leaves the network, or a test cleans
 * up). Removing an address that is not there is not an error.
 *
 * @param options address, prefix length, device, namespace
 * @returns whether it was removed
 *
 * @example
 * ```ts ignore
 * await removeAddress({ address: "2001:db8:1::ff:fe00:b", device: "wlan0" });
 * ```
 */
export async function removeAddress(options: OptimisticAddressOptions): Promise<boolean> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const address = formatIpv6Address(parseIpv6Address(options.address));
  const r = await _ipTry(
    ["-6", "addr", "del", `${address}/${options.prefixLength ?? 64}`, "dev", options.device],
    where,
  );
  return r.code === 0;
}

async function _add(args: readonly string[], dev: string, where: _Where): Promise<void> {
  const [cidr, ...flags] = args;
  const r = await _ipTry(["-6", "addr", "add", cidr!, "dev", dev, ...flags], where);
  if (r.code === 0) return;
  if (/File exists|already assigned/.test(r.stderr)) {
    throw new PortError(
      "Configurator",
      "rejected",
      `Address already configured: ${cidr} on ${dev}`,
    );
  }
  await _ip(["-6", "addr", "add", cidr!, "dev", dev, ...flags], where); // throws with stderr
}
