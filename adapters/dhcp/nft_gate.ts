/**
 * The configuration agent's admission filter (RFC 6252 section 7.3.3: "the access
 * router should be configured with a filter to block unicast DHCP messages sent to the
 * remote DHCP server from mobile nodes that are not pre-authenticated"), as an
 * nftables table in the current network namespace or in a named one.
 *
 * The table (default `inet mpa_ca`) holds a set of IPv4 addresses with per-element
 * timeouts (the MPA-SA lifetime) and one rule on the input hook:
 *
 * ```
 * udp dport 67 fib daddr type != broadcast ip daddr != 255.255.255.255
 *   ip saddr != @allowed counter drop
 * ```
 *
 * so a unicast DHCP message (to the server's own address, as the MN sends it from its
 * old address, or as a relay forwards it) is dropped unless its source is in the set;
 * broadcast DHCP of clients attached to the CTN itself is untouched. Only IPv4: the
 * proactive DHCP of section 7.3.3 is DHCPv4 only.
 *
 * Every change is one `nft -f -` transaction (`ip netns exec NS nft -f -` with
 * `netns`); nft's failures become {@link NftGateError} with nft's stderr. Needs
 * CAP_NET_ADMIN (root).
 *
 * @module
 */
import { isIP } from "node:net";

/** Options of {@link NftGate.install}. */
export interface NftGateOptions {
  /** The network namespace (`ip netns` name); default the current one. */
  readonly netns?: string;
  /** The nftables family of the table: `inet` (default) or `ip`. */
  readonly family?: "inet" | "ip";
  /** The table name; default `mpa_ca`. */
  readonly table?: string;
  /** The set name; default `allowed`. */
  readonly set?: string;
  /** The UDP destination port guarded; default 67 (DHCP server and relay). */
  readonly port?: number;
  /** The nft executable; default `nft` (found on PATH or in /usr/sbin). */
  readonly nft?: string;
}

/** One address admitted by the gate. */
export interface NftGateEntry {
  /** The IPv4 address. */
  readonly address: string;
  /** Milliseconds until it leaves the set; undefined when it never expires. */
  readonly expiresInMs: number | undefined;
}

/** An `nft` invocation that failed, with what nft printed on stderr. */
export class NftGateError extends Error {
  /** Always `NftGateError`. */
  override readonly name = "NftGateError";
  /** nft's stderr (empty when nft could not be started). */
  readonly stderr: string;
  /** nft's exit code (undefined when it could not be started). */
  readonly exitCode: number | undefined;
  /**
   * Creates an nft failure.
   *
   * @param message human-readable reason, detail after a colon
   * @param stderr what nft printed on stderr
   * @param exitCode nft's exit code
   * @param options `cause`
   */
  constructor(
    message: string,
    stderr: string,
    exitCode: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const NETNS = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses an nft duration (`1d2h3m4s500ms`) into milliseconds. */
function _parseNftDuration(text: string): number {
  const units: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const match of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    total += Number(match[1]) * units[match[2]!]!;
  }
  return total;
}

/**
 * An nftables gate admitting unicast DHCP only from pre-authenticated MNs (RFC 6252
 * section 7.3.3). Install it, {@link NftGate.allow} each MN's current address for the
 * lifetime of its MPA-SA, {@link NftGate.uninstall} at the end (`await using` works).
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * // Validation happens before nft runs: a bad table name never reaches nft.
 * await assertRejects(() => NftGate.install({ table: "x; flush ruleset" }), TypeError);
 * assertEquals(typeof NftGate.install, "function");
 * ```
 */
export class NftGate implements AsyncDisposable {
  readonly #netns: string | undefined;
  readonly #family: "inet" | "ip";
  readonly #table: string;
  readonly #set: string;
  readonly #nft: string;
  #installed = true;

  private constructor(
    options: Required<Omit<NftGateOptions, "netns" | "port">> & {
      netns: string | undefined;
    },
  ) {
    this.#netns = options.netns;
    this.#family = options.family;
    this.#table = options.table;
    this.#set = options.set;
    this.#nft = options.nft;
  }

  /**
   * Creates (or replaces) the table, its set and its drop rule in one transaction.
   *
   * @param options namespace, names and port
   * @returns the installed gate, with an empty set
   * @throws {TypeError} for a bad name, namespace or port
   * @throws {NftGateError} when nft fails (not root, no nftables, unknown namespace)
   */
  static async install(options: NftGateOptions = {}): Promise<NftGate> {
    const family = options.family ?? "inet";
    const table = options.table ?? "mpa_ca";
    const set = options.set ?? "allowed";
    const port = options.port ?? 67;
    if (family !== "inet" && family !== "ip") throw new TypeError(`Invalid family: ${family}`);
    if (!NAME.test(table)) throw new TypeError(`Invalid nftables table name: ${table}`);
    if (!NAME.test(set)) throw new TypeError(`Invalid nftables set name: ${set}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError(`Invalid port: ${port}`);
    }
    if (options.netns !== undefined && !NETNS.test(options.netns)) {
      throw new TypeError(`Invalid network namespace name: ${options.netns}`);
    }
    const gate = new NftGate({
      netns: options.netns,
      family,
      table,
      set,
      nft: options.nft ?? _findNft(),
    });
    const t = `${family} ${table}`;
    await gate.#run([
      // add + delete + add: replaces a table left over from an earlier run.
      `add table ${t}`,
      `delete table ${t}`,
      `add table ${t}`,
      `add set ${t} ${set} { type ipv4_addr; flags timeout; }`,
      `add chain ${t} input { type filter hook input priority filter; policy accept; }`,
      `add rule ${t} input udp dport ${port} fib daddr type != broadcast ` +
      `ip daddr != 255.255.255.255 ip saddr != @${set} counter drop`,
    ]);
    return gate;
  }

  /** The table as nft names it, e.g. `inet mpa_ca`. */
  get table(): string {
    return `${this.#family} ${this.#table}`;
  }

  /**
   * Admits unicast DHCP from `address` for `ttlMs` (the MPA-SA's remaining lifetime);
   * an address already admitted gets the new timeout.
   *
   * @param address the MN's current IPv4 address
   * @param ttlMs how long, ms (rounded up to whole ms, at least 1)
   * @returns when the set holds it
   * @throws {TypeError} for an address that is not IPv4 or a ttl that is not positive
   * @throws {NftGateError} when nft fails
   */
  async allow(address: string, ttlMs: number): Promise<void> {
    const ip = _ipv4(address);
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError(`Invalid ttl: ${ttlMs}`);
    const ms = Math.max(1, Math.ceil(ttlMs));
    const s = this.#setRef();
    // add (no-op if present) + delete + add: sets the new timeout in one transaction.
    await this.#run([
      `add element ${s} { ${ip} timeout ${ms}ms }`,
      `delete element ${s} { ${ip} }`,
      `add element ${s} { ${ip} timeout ${ms}ms }`,
    ]);
  }

  /**
   * Withdraws an address (no-op when it is not in the set).
   *
   * @param address the IPv4 address
   * @returns when the set no longer holds it
   * @throws {TypeError} for an address that is not IPv4
   * @throws {NftGateError} when nft fails
   */
  async revoke(address: string): Promise<void> {
    const ip = _ipv4(address);
    const s = this.#setRef();
    await this.#run([`add element ${s} { ${ip} }`, `delete element ${s} { ${ip} }`]);
  }

  /**
   * The addresses admitted now, as the kernel holds them (expired ones are gone).
   *
   * @returns the entries, in nft's order
   * @throws {NftGateError} when nft fails
   */
  async list(): Promise<readonly NftGateEntry[]> {
    const text = await this.#exec(["list", "set", this.#family, this.#table, this.#set], "");
    const body = /elements = \{([^}]*)\}/.exec(text)?.[1] ?? "";
    const entries: NftGateEntry[] = [];
    for (const part of body.split(",")) {
      const match = /^\s*(\d+\.\d+\.\d+\.\d+)(?:\s+timeout\s+(\S+))?(?:\s+expires\s+(\S+))?/
        .exec(part);
      if (match === null) continue;
      entries.push({
        address: match[1]!,
        expiresInMs: match[3] !== undefined ? _parseNftDuration(match[3]) : undefined,
      });
    }
    return entries;
  }

  /**
   * Packets the drop rule has dropped so far (its counter).
   *
   * @returns the packet count
   * @throws {NftGateError} when nft fails
   */
  async dropped(): Promise<number> {
    const text = await this.#exec(["list", "chain", this.#family, this.#table, "input"], "");
    return Number(/counter packets (\d+)/.exec(text)?.[1] ?? 0);
  }

  /**
   * Deletes the table, its set and its rule. Idempotent: a table already gone is fine.
   *
   * @returns when deleted
   * @throws {NftGateError} when nft fails for another reason
   */
  async uninstall(): Promise<void> {
    if (!this.#installed) return;
    const t = this.table;
    await this.#run([`add table ${t}`, `delete table ${t}`]);
    this.#installed = false;
  }

  /** Same as {@link NftGate.uninstall}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.uninstall();
  }

  #setRef(): string {
    return `${this.#family} ${this.#table} ${this.#set}`;
  }

  async #run(lines: readonly string[]): Promise<void> {
    await this.#exec(["-f", "-"], lines.join("\n") + "\n");
  }

  async #exec(args: readonly string[], input: string): Promise<string> {
    const argv = this.#netns === undefined
      ? [this.#nft, ...args]
      : ["ip", "netns", "exec", this.#netns, this.#nft, ...args];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      throw new NftGateError(
        `Cannot run nft: ${error instanceof Error ? error.message : String(error)}`,
        "",
        undefined,
        { cause: error },
      );
    }
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input)).catch(() => {});
    await writer.close().catch(() => {});
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    if (!out.success) {
      throw new NftGateError(
        `Command nft failed: ${stderr.split("\n")[0] ?? `exit code ${out.code}`}`,
        stderr,
        out.code,
      );
    }
    return new TextDecoder().decode(out.stdout);
  }
}

function _ipv4(address: string): string {
  if (isIP(address) !== 4) throw new TypeError(`Invalid IPv4 address: ${address}`);
  return address;
}

function _findNft(): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/nft`).isFile) return `${dir}/nft`;
    } catch {
      // not here
    }
  }
  return "nft";
}
