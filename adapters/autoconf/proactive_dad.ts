/**
 * Proactive Duplicate Address Detection by the access router on behalf of the mobile
 * node (RFC 6252 Appendix A, section 7.3.4): the AR adds the MN's future address (the
 * nCoA) to its own interface on the candidate target network's link, so that the
 * kernel runs DAD for it (RFC 4862 section 5.4); it waits until the address is no
 * longer `tentative` (unique) or is `dadfailed` (duplicate), deletes it, and then
 * installs a proxy neighbour entry (`ip -6 neigh add proxy ADDR dev IF`, with
 * `proxy_ndp` on) so that the AR answers Neighbor Solicitations for the nCoA until the
 * MN arrives (Appendix B) and the address stays defended. {@linkcode removeProxy}
 * removes that entry when the MN has attached.
 *
 * Linux does the DAD itself (one probe per `dad_transmits`, `retrans_time_ms` apart,
 * 1 s by default); this adapter only watches `ip -6 -j addr show dev IF`.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { PortError } from "../../lib/ports.ts";
import { formatIpv6Address, parseIpv6Address } from "../../lib/wire/ip_header.ts";
import { _addresses, _ip, _ipTry, _sysctlGet, _sysctlSet, type _Where } from "./_ip.ts";

const log = getLogger(["mpa", "autoconf", "dad"]);

/** Options of {@linkcode proactiveDad}. */
export interface ProactiveDadOptions {
  /** The MN's nCoA to check, IPv6 text. */
  readonly address: string;
  /** The AR's interface on the CTN link. */
  readonly device: string;
  /** Run the `ip` commands in this named network namespace (`ip -n NS`). */
  readonly netns?: string;
  /** Give up after this long, ms; default 5000 (DAD takes about 1 s with Linux defaults). */
  readonly timeoutMs?: number;
  /** Poll interval of `ip -6 -j addr`, ms; default 50. */
  readonly pollMs?: number;
  /** Install the proxy neighbour entry when the address is unique; default true. */
  readonly proxy?: boolean;
  /** Abandons the check (the address is deleted, nothing is proxied). */
  readonly signal?: AbortSignal;
}

/** The outcome of {@linkcode proactiveDad}. */
export type ProactiveDadResult =
  | {
    /** No other node answered: the nCoA may be handed to the MN. */
    readonly status: "unique";
    /** The address checked, RFC 5952 text. */
    readonly address: string;
    /** From `ip addr add` until the address was no longer tentative, ms. */
    readonly durationMs: number;
    /** Whether the proxy neighbour entry was installed. */
    readonly proxied: boolean;
  }
  | {
    /** Another node holds or claims the address (RFC 4862 section 5.4.5). */
    readonly status: "duplicate";
    /** The address checked, RFC 5952 text. */
    readonly address: string;
    /** From `ip addr add` until `dadfailed`, ms (0 when the AR itself holds it). */
    readonly durationMs: number;
  };

/**
 * Runs DAD for the MN's nCoA on the AR's CTN interface (RFC 6252 Appendix A) and, when
 * it is unique, proxies Neighbor Discovery for it (Appendix B).
 *
 * @param options address, device, namespace, timeout, proxy, signal
 * @returns `unique` (with the proxy entry installed unless `proxy: false`) or `duplicate`
 * @throws {PortError} `Configurator`: `protocol` when DAD is disabled on the device
 * (`accept_dad` 0 or `dad_transmits` 0: the answer would be meaningless), `timeout`
 * when the address stays tentative (link down?), `aborted` on the signal,
 * `unreachable` when an `ip` command fails (no such device)
 *
 * @example
 * ```ts ignore
 * const r = await proactiveDad({ address: "2001:db8:1::ff:fe00:b", device: "eth1" });
 * if (r.status === "duplicate") throw new Error("pick another nCoA");
 * // ... when the MN has attached:
 * await removeProxy({ address: "2001:db8:1::ff:fe00:b", device: "eth1" });
 * ```
 */
export async function proactiveDad(options: ProactiveDadOptions): Promise<ProactiveDadResult> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const address = formatIpv6Address(parseIpv6Address(options.address));
  const dev = options.device;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pollMs = options.pollMs ?? 50;
  _checkAbort(options.signal);

  const acceptDad = await _sysctlGet(`net.ipv6.conf.${dev}.accept_dad`, where);
  const transmits = await _sysctlGet(`net.ipv6.conf.${dev}.dad_transmits`, where);
  if (acceptDad === undefined) {
    throw new PortError("Configurator", "unreachable", `Proactive DAD failed: no device ${dev}`);
  }
  if (acceptDad === "0" || transmits === "0") {
    throw new PortError(
      "Configurator",
      "protocol",
      `Proactive DAD impossible: DAD disabled on ${dev}: accept_dad=${acceptDad}, dad_transmits=${transmits}`,
    );
  }

  const started = performance.now();
  // A /128 without a prefix route: the AR only borrows the address for DAD.
  const add = await _ipTry(
    ["-6", "addr", "add", `${address}/128`, "dev", dev, "noprefixroute"],
    where,
  );
  if (add.code !== 0) {
    if (/File exists|already assigned/.test(add.stderr)) {
      // The AR (or a process on it) already uses the address on this interface.
      log.warn("Proactive DAD: {address} is already configured on {dev}", { address, dev });
      return { status: "duplicate", address, durationMs: 0 };
    }
    throw new PortError(
      "Configurator",
      "unreachable",
      `Command failed: ip -6 addr add ${address}/128 dev ${dev}: ${add.stderr}`,
    );
  }
  let outcome: "unique" | "duplicate" | "timeout" | "aborted" = "timeout";
  let durationMs = 0;
  try {
    while (performance.now() - started < timeoutMs) {
      if (options.signal?.aborted === true) {
        outcome = "aborted";
        break;
      }
      const mine = (await _addresses(dev, where)).find((a) => _same(a.local, address));
      durationMs = performance.now() - started;
      if (mine === undefined) {
        // Removed under us (by a concurrent `ip addr flush`?): no answer.
        throw new PortError(
          "Configurator",
          "protocol",
          `Proactive DAD failed: ${address} vanished from ${dev}`,
        );
      }
      if (mine.dadfailed) {
        outcome = "duplicate";
        break;
      }
      if (!mine.tentative) {
        outcome = "unique";
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await _ipTry(["-6", "addr", "del", `${address}/128`, "dev", dev], where);
  }
  if (outcome === "aborted") {
    throw new PortError("Configurator", "aborted", `Proactive DAD aborted: ${address}`);
  }
  if (outcome === "timeout") {
    throw new PortError(
      "Configurator",
      "timeout",
      `Proactive DAD timed out: ${address} still tentative on ${dev} after ${timeoutMs} ms`,
    );
  }
  log.info("Proactive DAD: {address} on {dev} is {outcome} after {ms} ms", {
    address,
    dev,
    outcome,
    ms: Math.round(durationMs),
  });
  if (outcome === "duplicate") return { status: "duplicate", address, durationMs };
  const proxied = options.proxy ?? true;
  if (proxied) await installProxy({ address, device: dev, ...where });
  return { status: "unique", address, durationMs, proxied };
}

/** Options of {@linkcode installProxy} and {@linkcode removeProxy}. */
export interface ProxyOptions {
  /** The proxied address, IPv6 text. */
  readonly address: string;
  /** The AR's interface on the CTN link. */
  readonly device: string;
  /** Run in this named network namespace. */
  readonly netns?: string;
}

/**
 * Makes the AR answer Neighbor Solicitations for an address on a link (RFC 6252
 * Appendix B, RFC 4861 section 7.2.8): sets `net.ipv6.conf.DEV.proxy_ndp=1` and
 * `net.ipv6.conf.DEV.forwarding=1` (Linux answers for proxied addresses only on an
 * interface in router mode; an AR is a router on its CTN link anyway), and adds
 * `ip -6 neigh replace proxy ADDR dev DEV` (idempotent). Linux answers after a random
 * delay of up to `neigh.DEV.proxy_delay` (0.8 s by default).
 *
 * @param options address, device, namespace
 * @throws {PortError} `Configurator` / `unreachable` when a command fails
 *
 * @example
 * ```ts ignore
 * await installProxy({ address: "2001:db8:1::b", device: "eth1", netns: "ar" });
 * ```
 */
export async function installProxy(options: ProxyOptions): Promise<void> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const address = formatIpv6Address(parseIpv6Address(options.address));
  await _sysctlSet(`net.ipv6.conf.${options.device}.proxy_ndp`, 1, where);
  await _sysctlSet(`net.ipv6.conf.${options.device}.forwarding`, 1, where);
  await _ip(["-6", "neigh", "replace", "proxy", address, "dev", options.device], where);
}

/**
 * Removes the proxy neighbour entry installed by {@linkcode proactiveDad} (the MN has
 * attached and answers for its nCoA itself). Removing an entry that is not there is
 * not an error.
 *
 * @param options address, device, namespace
 * @returns whether an entry was removed
 * @throws {PortError} `Configurator` / `unreachable` when `ip` fails otherwise
 *
 * @example
 * ```ts ignore
 * await removeProxy({ address: "2001:db8:1::b", device: "eth1", netns: "ar" });
 * ```
 */
export async function removeProxy(options: ProxyOptions): Promise<boolean> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const address = formatIpv6Address(parseIpv6Address(options.address));
  const r = await _ipTry(["-6", "neigh", "del", "proxy", address, "dev", options.device], where);
  if (r.code === 0) return true;
  if (/No such file|not found|Cannot assign/i.test(r.stderr) || r.stderr === "") return false;
  throw new PortError(
    "Configurator",
    "unreachable",
    `Command failed: ip -6 neigh del proxy ${address} dev ${options.device}: ${r.stderr}`,
  );
}

/**
 * Lists the proxy neighbour entries of a device (`ip -6 -j neigh show proxy dev DEV`).
 *
 * @param options device and namespace
 * @returns the proxied addresses, RFC 5952 text
 * @throws {PortError} `Configurator` / `unreachable` when `ip` fails
 *
 * @example
 * ```ts ignore
 * const proxied = await listProxies({ device: "eth1", netns: "ar" });
 * ```
 */
export async function listProxies(
  options: { readonly device: string; readonly netns?: string },
): Promise<string[]> {
  const where: _Where = options.netns === undefined ? {} : { netns: options.netns };
  const text = await _ip(["-6", "-j", "neigh", "show", "proxy", "dev", options.device], where);
  const rows = JSON.parse(text || "[]") as { dst?: unknown }[];
  return rows.flatMap((r) =>
    typeof r.dst === "string" ? [formatIpv6Address(parseIpv6Address(r.dst))] : []
  );
}

function _same(a: string, b: string): boolean {
  try {
    return formatIpv6Address(parseIpv6Address(a)) === b;
  } catch {
    return false;
  }
}

function _checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new PortError("Configurator", "aborted", "Proactive DAD aborted");
  }
}
