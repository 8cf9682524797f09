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

/** What {@link _assign} needs to know about the MN's interface. */
export interface _AssignTarget {
  /** The MN's physical interface. */
  readonly interface: string;
  /** The namespace it lives in; the caller's own when omitted. */
  readonly netns?: string | undefined;
}

/** Background gratuitous-ARP senders still running (reaped on exit, awaited on close). */
export class _Announcer {
  readonly #running = new Set<Promise<void>>();

  /**
   * Starts `arping -U -c 1 -I IF ADDR` in the background and resolves at once: arping
   * sends its one unsolicited ARP right after it starts, then waits a second for
   * replies that an unsolicited ARP never gets. We do not wait for its first output
   * line either: into a pipe arping's stdout is block-buffered, so the header only
   * arrives when it exits, a second later (the testbed saw this as a 1 s stall in
   * every address assignment). A failure is logged when arping exits.
   *
   * @returns whether arping was started (false when it is not installed)
   */
  garp(target: _AssignTarget, address: string): Promise<boolean> {
    if (!_onPath("arping")) return Promise.resolve(false);
    const argv = _inNetns(target.netns, [
      "arping",
      "-U",
      "-c",
      "1",
      "-I",
      target.interface,
      address,
    ]);
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const done = (async () => {
      try {
        const stderr = await new Response(child.stderr).text();
        const status = await child.status;
        if (!status.success) {
          _logger.warn("Gratuitous ARP for {address} on {interface} failed: {stderr}", {
            address,
            interface: target.interface,
            stderr: stderr.trim(),
          });
        }
      } catch (e) {
        _logger.warn("Gratuitous ARP for {address}: {error}", { address, error: String(e) });
      }
    })();
    this.#running.add(done);
    void done.finally(() => this.#running.delete(done));
    return Promise.resolve(true);
  }

  /** Waits for every background arping to exit. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
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
 * announces an IPv4 address with a gratuitous ARP (Appendix B).
 */
export async function _assign(
  target: _AssignTarget,
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
  const ip = (args: readonly string[]) =>
    target.netns === undefined ? ["ip", ...args] : ["ip", "-n", target.netns, ...args];
  const family = v6 ? "-6" : "-4";
  await _runOrFail(
    ip([
      family,
      "addr",
      "replace",
      `${address}/${prefixLength}`,
      "dev",
      target.interface,
      ...(v6 ? ["nodad"] : []),
    ]),
    `add ${address}/${prefixLength} to ${target.interface}`,
    { signal: options.signal },
  );
  if (options.router !== undefined) {
    await _runOrFail(
      ip([family, "route", "replace", "default", "via", options.router, "dev", target.interface]),
      `default route via ${options.router}`,
      { signal: options.signal },
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
