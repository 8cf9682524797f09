/**
 * Private helpers of the tunnel adapters: run iproute2's `ip` (optionally in a named
 * network namespace with `ip -n NS`) and set sysctls. Used to bring TUN devices up,
 * add addresses, routes, policy rules and proxy neighbour entries (RFC 6252 section
 * 7.4, Appendix B).
 *
 * @module
 */

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
 * Runs `ip [-n NS] ARGS...` and returns its stdout.
 *
 * @param args the `ip` arguments
 * @param options namespace, errors to ignore
 * @returns stdout
 * @throws {_IpCommandError} on a non-zero exit not matched by `ignore`
 */
export async function _ip(args: readonly string[], options: _IpOptions = {}): Promise<string> {
  const full = options.netns === undefined ? [...args] : ["-n", options.netns, ...args];
  return await _run("ip", full, options.ignore);
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
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.code !== 0 && !(ignore !== undefined && ignore.test(stderr))) {
    throw new _IpCommandError(`${cmd} ${args.join(" ")}`, out.code, stderr);
  }
  return new TextDecoder().decode(out.stdout);
}
