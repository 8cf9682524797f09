/**
 * The MN's care-of address when the agent starts (the serving network's CoA, the
 * outer address of every proactive handover tunnel, RFC 6252 sections 6.3, 7.4): a
 * fixed `link.oCoA`, or the source address the kernel picks towards the first CTN's
 * authentication agent (or the information server); its prefix length from the
 * interface when there is one.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { AgentConfig } from "../../lib/config/agent_config.ts";
import { _localAddressFor } from "../dhcp/_dhcp_udp.ts";

const _logger = getLogger(["mpa", "agent"]);

/** An address on the MN's interface. */
export interface _InterfaceAddress {
  /** The address. */
  readonly address: string;
  /** Its prefix length. */
  readonly prefixLength: number;
  /** The next hop towards the CTNs, when the route has one. */
  readonly router?: string;
}

/** Where the kernel's route lookup aims: the first CTN's AA, or the information server. */
function _target(config: AgentConfig): { readonly address: string; readonly port: number } {
  const d = config.discovery;
  if (d.kind === "information-server") return d.server;
  const first = d.ctns[0]!;
  return { address: first.aa.address, port: first.aa.port ?? 716 };
}

/**
 * Resolves the starting care-of address of a configuration.
 *
 * @param config the agent configuration
 * @returns the address and prefix length
 * @throws {Error} for an `ip` link with `oCoA: "auto"` and no route to the target
 */
export async function _currentAddress(config: AgentConfig): Promise<_InterfaceAddress> {
  const link = config.link;
  if (link.kind === "ip" || link.kind === "netns") {
    const address = link.oCoA !== "auto"
      ? link.oCoA
      : await _localAddressFor(_target(config).address, _target(config).port);
    const prefixLength = await _prefixOf(link.interface, link.netns, address) ?? 32;
    const router = await _gatewayTo(_target(config).address, link.netns);
    return { address, prefixLength, ...(router === undefined ? {} : { router }) };
  }
  try {
    const t = _target(config);
    return { address: await _localAddressFor(t.address, t.port), prefixLength: 32 };
  } catch (error) {
    _logger.warn("No route towards the CTNs ({error}): using 127.0.0.1 as the care-of address", {
      error: error instanceof Error ? error.message : String(error),
    });
    return { address: "127.0.0.1", prefixLength: 8 };
  }
}

/** The next hop of the route towards `destination`, from `ip -j route get`. */
async function _gatewayTo(
  destination: string,
  netns: string | undefined,
): Promise<string | undefined> {
  try {
    const args = [
      ...(netns === undefined ? [] : ["-n", netns]),
      "-j",
      "route",
      "get",
      destination,
    ];
    const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "null" }).output();
    if (!out.success) return undefined;
    const routes = JSON.parse(new TextDecoder().decode(out.stdout)) as { gateway?: unknown }[];
    const gateway = routes[0]?.gateway;
    return typeof gateway === "string" ? gateway : undefined;
  } catch {
    return undefined;
  }
}

/** The prefix length of `address` on the interface, from `ip -j addr show`. */
async function _prefixOf(
  ifName: string,
  netns: string | undefined,
  address: string,
): Promise<number | undefined> {
  try {
    const args = [
      ...(netns === undefined ? [] : ["-n", netns]),
      "-j",
      "addr",
      "show",
      "dev",
      ifName,
    ];
    const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "null" }).output();
    if (!out.success) return undefined;
    const links = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      addr_info?: { local?: string; prefixlen?: number }[];
    }[];
    for (const l of links) {
      for (const a of l.addr_info ?? []) if (a.local === address) return a.prefixlen;
    }
  } catch {
    // no ip(8), or output not understood: the caller's default
  }
  return undefined;
}
