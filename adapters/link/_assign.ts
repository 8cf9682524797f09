/**
 * Private helpers of the link adapters: run a command (optionally in a named network
 * namespace) with an abort signal, map its failure to a `PortError("LinkControl")`,
 * and assign an address to the MN's physical interface, set the default route and
 * announce the address with a gratuitous ARP (RFC 6252 section 6.3 step 6, Appendix
 * B). Shared by {@link NetnsLinkControl} and {@link IpLinkControl}.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { PortError, type PortErrorCode } from "../../lib/ports.ts";
import { parseIpAddress } from "../../lib/wire/ip_header.ts";
import type { _Announcer } from "./_announcer.ts";
import type { _IpBatches, _IpOutput } from "./_ip_batch.ts";

const _logger = getLogger(["mpa", "link"]);

/** An interface name `ip` accepts and that cannot smuggle a second command into a batch. */
export const _IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

/** Whether a program can be found on PATH (cached). */
const _found = new Map<string, boolean>();
export function _onPath(program: string): boolean {
  const cached = _found.get(program);
  if (cached !== undefined) return cached;
  let found = false;
  for (const dir of (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) {
        found = true;
        break;
      }
    } catch {
      // not in this directory
    }
  }
  _found.set(program, found);
  return found;
}

/** `ip netns exec NS CMD...` when a namespace is given, else the command as is. */
export function _inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns === undefined ? [...argv] : ["ip", "netns", "exec", netns, ...argv];
}

/** The PortError code for the stderr of a failed `ip` command. */
export function _codeOf(stderr: string): PortErrorCode {
  return /Cannot find device|does not exist|No such device|Cannot open network namespace|unreachable/i
      .test(stderr)
    ? "unreachable"
    : "rejected";
}

/** The aborted error of the LinkControl port. */
export function _aborted(what: string, signal: AbortSignal): PortError {
  return new PortError("LinkControl", "aborted", `Link control aborted: ${what}`, {
    cause: signal.reason,
  });
}

/**
 * Runs a command to completion; rejects with a `PortError("LinkControl")` on a
 * non-zero exit (code from {@link _codeOf}), a missing program (`unreachable`), a
 * timeout (`timeout`, the child is killed) or an abort (`aborted`, the child is
 * killed).
 *
 * @returns stdout
 */
export async function _runOrFail(
  argv: readonly string[],
  what: string,
  options: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number } = {},
): Promise<string> {
  const { signal } = options;
  if (signal?.aborted === true) throw _aborted(what, signal);
  const [program, ...args] = argv;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program!, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .spawn();
  } catch (e) {
    throw new PortError(
      "LinkControl",
      "unreachable",
      `Link control failed: ${what}: cannot run ${program}: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
  let cut: "aborted" | "timeout" | undefined;
  const kill = (why: "aborted" | "timeout") => {
    cut ??= why;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  const onAbort = () => kill("aborted");
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = options.timeoutMs === undefined
    ? undefined
    : setTimeout(() => kill("timeout"), options.timeoutMs);
  try {
    const out = await child.output();
    if (cut === "aborted") throw _aborted(what, signal!);
    if (cut === "timeout") {
      throw new PortError(
        "LinkControl",
        "timeout",
        `Link control timed out: ${what}: no exit after ${options.timeoutMs} ms`,
      );
    }
    const stderr = new TextDecoder().decode(out.stderr).trim();
    if (out.code !== 0) {
      throw new PortError(
        "LinkControl",
        _codeOf(stderr),
        `Link control failed: ${what}: ${stderr || `exit code ${out.code}`}`,
      );
    }
    return new TextDecoder().decode(out.stdout);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Runs `ip ARGS...` through the batch processes (see adapters/link/_ip_batch.ts);
 * rejects with a `PortError("LinkControl")` on a failure (code from {@link _codeOf},
 * ip's error text after the colon), a missing ip (`unreachable`) or an abort
 * (`aborted`: the call returns at once, the command still completes in order).
 *
 * @returns stdout
 */
export async function _ipOrFail(
  ip: _IpBatches,
  args: readonly string[],
  what: string,
  signal?: AbortSignal,
): Promise<string> {
  if (signal?.aborted === true) throw _aborted(what, signal);
  const run = ip.run(args);
  let out: _IpOutput;
  try {
    out = await _abortable(run, what, signal);
  } catch (e) {
    if (e instanceof PortError) throw e;
    throw new PortError(
      "LinkControl",
      "unreachable",
      `Link control failed: ${what}: cannot run ip: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
  if (out.code !== 0) {
    throw new PortError(
      "LinkControl",
      _codeOf(out.stderr),
      `Link control failed: ${what}: ${out.stderr || `exit code ${out.code}`}`,
    );
  }
  return out.stdout;
}

/** The promise, or the aborted error as soon as the signal fires (the work goes on). */
export async function _abortable<T>(
  work: Promise<T>,
  what: string,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return await work;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(_aborted(what, signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort!);
    work.catch(() => {}); // an abandoned command still completes in order
  }
}

/** What {@link _assign} needs to know about the MN's interface. */
export interface _AssignTarget {
  /** The MN's physical interface. */
  readonly interface: string;
  /** The namespace it lives in; the caller's own when omitted. */
  readonly netns?: string | undefined;
}

/** Options of {@link _assign}. */
export interface _AssignOptions {
  /** Default router in the new network; the default route is replaced through it. */
  readonly router?: string | undefined;
  /** Abort signal. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Adds `address/prefixLength` to the interface (`ip addr replace`: idempotent; IPv6
 * with `nodad`, the nCoA's uniqueness having been checked proactively, RFC 6252
 * section 7.3.4), replaces the default route through the router when given, and
 * announces an IPv4 address with a gratuitous ARP (Appendix B). The two ip commands
 * run in `ip`'s batch processes for the target's namespace (no process start each).
 */
export async function _assign(
  target: _AssignTarget,
  ip: _IpBatches,
  announcer: _Announcer,
  address: string,
  prefixLength: number,
  options: _AssignOptions,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = parseIpAddress(address);
  } catch (e) {
    throw new PortError("LinkControl", "protocol", `Invalid address: ${JSON.stringify(address)}`, {
      cause: e,
    });
  }
  const v6 = bytes.length === 16;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bytes.length * 8) {
    throw new PortError(
      "LinkControl",
      "protocol",
      `Invalid prefix length: expected 0 to ${bytes.length * 8}, got ${prefixLength}`,
    );
  }
  if (options.router !== undefined) {
    let routerBytes: Uint8Array | undefined;
    try {
      routerBytes = parseIpAddress(options.router);
    } catch {
      routerBytes = undefined;
    }
    if (routerBytes === undefined || routerBytes.length !== bytes.length) {
      throw new PortError(
        "LinkControl",
        "protocol",
        `Invalid router: expected an IPv${v6 ? 6 : 4} address, got ${
          JSON.stringify(options.router)
        }`,
      );
    }
  }
  const family = v6 ? "-6" : "-4";
  await _ipOrFail(
    ip,
    [
      family,
      "addr",
      "replace",
      `${address}/${prefixLength}`,
      "dev",
      target.interface,
      ...(v6 ? ["nodad"] : []),
    ],
    `add ${address}/${prefixLength} to ${target.interface}`,
    options.signal,
  );
  if (options.router !== undefined) {
    await _ipOrFail(
      ip,
      [family, "route", "replace", "default", "via", options.router, "dev", target.interface],
      `default route via ${options.router}`,
      options.signal,
    );
  }
  if (v6) {
    // No unsolicited Neighbor Advertisement: sending one needs a raw ICMPv6 socket and
    // no installed tool sends one (ndisc6 only solicits). Neighbours learn the new
    // address by ordinary Neighbor Discovery when the MN first sends.
    _logger.debug("No unsolicited NA for {address}: not supported", { address });
    return;
  }
  if (options.signal?.aborted === true) throw _aborted("before the gratuitous ARP", options.signal);
  const sent = await announcer.garp(target, address);
  if (!sent) {
    _logger.warn(
      "Gratuitous ARP for {address} not sent: arping (iputils-arping) is not installed",
      { address },
    );
  }
}
