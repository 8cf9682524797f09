/**
 * Private helpers of the autoconf adapters: run iproute2's `ip` (in a named network
 * namespace with `ip -n NS` when asked), read and write per-interface IPv6 sysctls,
 * and list the IPv6 addresses of a device from `ip -6 -j addr show dev IF`.
 *
 * @module
 */
import { PortError } from "../../lib/ports.ts";

/** Where an `ip` command runs. */
export interface _Where {
  /** Named network namespace; the caller's own when omitted. */
  readonly netns?: string;
}

/** The result of one command. */
export interface _CmdResult {
  /** Exit code. */
  readonly code: number;
  /** stdout, decoded. */
  readonly stdout: string;
  /** stderr, decoded and trimmed. */
  readonly stderr: string;
}

/**
 * Runs a program and waits for it.
 *
 * @param program the program
 * @param args its arguments
 * @returns exit code, stdout and stderr
 */
export async function _run(program: string, args: readonly string[]): Promise<_CmdResult> {
  const out = await new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr).trim(),
  };
}

/**
 * Runs `ip [-n NS] ARGS` without throwing.
 *
 * @param args `ip` arguments
 * @param where namespace
 * @returns the result
 */
export function _ipTry(args: readonly string[], where: _Where): Promise<_CmdResult> {
  return _run("ip", where.netns === undefined ? args : ["-n", where.netns, ...args]);
}

/**
 * Runs `ip [-n NS] ARGS` and returns stdout.
 *
 * @param args `ip` arguments
 * @param where namespace
 * @returns stdout
 * @throws {PortError} `Configurator` / `unreachable` with the command and its stderr
 */
export async function _ip(args: readonly string[], where: _Where): Promise<string> {
  const r = await _ipTry(args, where);
  if (r.code !== 0) {
    throw new PortError(
      "Configurator",
      "unreachable",
      `Command failed: ip ${where.netns === undefined ? "" : `-n ${where.netns} `}${
        args.join(" ")
      }: ${r.stderr || `exit code ${r.code}`}`,
    );
  }
  return r.stdout;
}

/**
 * Reads a sysctl, `undefined` when it does not exist.
 *
 * @param key dotted name (`net.ipv6.conf.eth0.optimistic_dad`)
 * @param where namespace
 * @returns the value, trimmed
 */
export async function _sysctlGet(key: string, where: _Where): Promise<string | undefined> {
  const r = where.netns === undefined
    ? await _run("sysctl", ["-n", key])
    : await _run("ip", ["netns", "exec", where.netns, "sysctl", "-n", key]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * Writes a sysctl.
 *
 * @param key dotted name
 * @param value the value
 * @param where namespace
 * @throws {PortError} `Configurator` / `unreachable` when it cannot be written
 */
export async function _sysctlSet(
  key: string,
  value: string | number,
  where: _Where,
): Promise<void> {
  const args = ["-qw", `${key}=${value}`];
  const r = where.netns === undefined
    ? await _run("sysctl", args)
    : await _run("ip", ["netns", "exec", where.netns, "sysctl", ...args]);
  if (r.code !== 0) {
    throw new PortError(
      "Configurator",
      "unreachable",
      `Command failed: sysctl ${key}=${value}: ${r.stderr || `exit code ${r.code}`}`,
    );
  }
}

/** One IPv6 address of a device, as `ip -6 -j addr` reports it. */
export interface _AddrInfo {
  /** The address, as `ip` prints it. */
  readonly local: string;
  /** Prefix length. */
  readonly prefixlen: number;
  /** DAD has not finished. */
  readonly tentative: boolean;
  /** DAD found a duplicate. */
  readonly dadfailed: boolean;
  /** Optimistic DAD (RFC 4429) is running for it. */
  readonly optimistic: boolean;
  /** Added with `nodad`. */
  readonly nodad: boolean;
}

/**
 * Lists the IPv6 addresses of a device.
 *
 * @param device interface name
 * @param where namespace
 * @returns its addresses with their DAD flags
 * @throws {PortError} when `ip` fails (no such device)
 */
export async function _addresses(device: string, where: _Where): Promise<_AddrInfo[]> {
  const text = await _ip(["-6", "-j", "addr", "show", "dev", device], where);
  const links = JSON.parse(text || "[]") as { addr_info?: Record<string, unknown>[] }[];
  const out: _AddrInfo[] = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a["family"] !== "inet6" || typeof a["local"] !== "string") continue;
      out.push({
        local: a["local"],
        prefixlen: Number(a["prefixlen"]),
        tentative: a["tentative"] === true,
        dadfailed: a["dadfailed"] === true,
        optimistic: a["optimistic"] === true,
        nodad: a["nodad"] === true,
      });
    }
  }
  return out;
}
