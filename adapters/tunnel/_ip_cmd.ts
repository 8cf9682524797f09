/**
 * Private helpers of the tunnel adapters: run iproute2's `ip` (optionally in a named
 * network namespace with `ip -n NS`) and set sysctls. Used to bring TUN devices up,
 * add addresses, routes, policy rules and proxy neighbour entries (RFC 6252 section
 * 7.4, Appendix B).
 *
 * Commands in the caller's own namespace that change kernel state go through
 * long-lived `ip -batch` processes shared by every caller in this process
 * (adapters/link/_ip_batch.ts `_ownIpBatches`; `_closeOwnIpBatches` ends them): a command then costs one netlink request instead of a
 * process start, which matters on the handover path (the MN's TUN detach, the AR's
 * proxy-ARP removal and neighbour entry, RFC 6252 section 6.3 steps 4-6). Queries
 * (`-j`, `show`) and commands for another namespace run as processes of their own:
 * a batch process in another namespace would keep that namespace and its interfaces
 * alive after `ip netns del` for as long as it runs.
 *
 * @module
 */
import { _ownIpBatches } from "../link/_ip_batch.ts";

/** An `ip` or `sysctl` command failed; the message carries the command and its stderr. */
export class _IpCommandError extends Error {
  /** Always `IpCommandError`. */
  override readonly name = "IpCommandError";
  /** The command's exit code. */
  readonly exitCode: number;
  /** What the command wrote on stderr, trimmed. */
  readonly stderr: string;

  /**
   * @param command the command line
   * @param exitCode exit code
   * @param stderr its stderr
   */
  constructor(command: string, exitCode: number, stderr: string) {
    super(`Command failed: ${command}: ${stderr || `exit code ${exitCode}`}`);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Options of {@link _ip}. */
export interface _IpOptions {
  /** Run in this named network namespace (`ip -n NS`); the caller's own when omitted. */
  readonly netns?: string;
  /** Do not throw when stderr matches (e.g. `/File exists|No such/` for idempotent edits). */
  readonly ignore?: RegExp;
}

/**
 * Runs `ip [-n NS] ARGS...` and returns its stdout. In the caller's own namespace a
 * command that changes state runs in a shared `ip -batch` process (a failure there
 * has exit code 1 and ip's error text as stderr).
 *
 * @param args the `ip` arguments
 * @param options namespace, errors to ignore
 * @returns stdout
 * @throws {_IpCommandError} on a non-zero exit not matched by `ignore`
 */
export async function _ip(args: readonly string[], options: _IpOptions = {}): Promise<string> {
  if (options.netns !== undefined) {
    return await _run("ip", ["-n", options.netns, ...args], options.ignore);
  }
  const out = await _ownIpBatches().run(args);
  _check(`ip ${args.join(" ")}`, out.code, out.stderr, options.ignore);
  return out.stdout;
}

/**
 * Sets a sysctl (`net.ipv4.conf.tun0.rp_filter`), in a namespace when asked. In the
 * caller's own namespace it writes `/proc/sys` directly (no process).
 *
 * @param key dotted sysctl name; interface names may contain dots only as written by `ip`
 * @param value the value
 * @param options namespace
 * @throws {_IpCommandError} or the file-system error
 */
export async function _sysctl(
  key: string,
  value: string | number,
  options: { readonly netns?: string } = {},
): Promise<void> {
  if (options.netns !== undefined) {
    await _run("ip", ["netns", "exec", options.netns, "sysctl", "-qw", `${key}=${value}`]);
    return;
  }
  await Deno.writeTextFile(`/proc/sys/${key.replaceAll(".", "/")}`, `${value}\n`);
}

async function _run(cmd: string, args: readonly string[], ignore?: RegExp): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  _check(`${cmd} ${args.join(" ")}`, out.code, new TextDecoder().decode(out.stderr).trim(), ignore);
  return new TextDecoder().decode(out.stdout);
}

function _check(command: string, code: number, stderr: string, ignore?: RegExp): void {
  if (code !== 0 && !(ignore !== undefined && ignore.test(stderr))) {
    throw new _IpCommandError(command, code, stderr);
  }
}
