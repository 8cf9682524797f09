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
 * Every change is one nftables transaction. {@link NftGate.allow} and
 * {@link NftGate.revoke} (the AA's key delivery, on the authentication's critical
 * path) go through ONE long-lived `nft -i` process per gate (`ip netns exec NS nft -i`
 * with `netns`), started by {@link NftGate.install}: each change is one input line
 * (its `;`-separated commands are one transaction, as with `nft -f`), followed by a
 * marker line, `describe tcp dport`, whose fixed one-line output says that nft has
 * run the change; stderr is merged into stdout, so an `Error:` line of the change
 * comes before its marker. This costs a netlink round trip instead of a process start
 * (see {@link NftGateOptions.persistent}). When that process cannot start or exits,
 * the change is made by a one-shot `nft -f -` instead, and the next change starts a
 * new process. Installing, uninstalling and listing always run a one-shot `nft`.
 * nft's failures become {@link NftGateError} with nft's error text. Needs
 * CAP_NET_ADMIN (root).
 *
 * With {@link NftGateOptions.inProcess}, {@link NftGate.allow} and
 * {@link NftGate.revoke} call libnftables (the library under `nft`, through Deno's FFI:
 * needs `--allow-ffi`) in this process instead: the same transaction text, run
 * synchronously, with no other process to wake. Measured on the testbed's 2-vCPU
 * machine, an admission a few hundred milliseconds after the previous one costs
 * about 1 to 3 ms through the idle `nft -i` process (pipe hop, its wake-up, the marker)
 * and about 0.4 to 1 ms in process; the AA's final PANA-Auth-Request waits for it.
 * With `netns`, the netlink socket must live in that namespace: each call enters it
 * (`setns(2)` on the calling thread, the event loop's, which runs nothing else during
 * the synchronous call), and returns to the original namespace before anything else
 * runs. When the library or libc cannot be loaded, or the namespace cannot be entered,
 * the gate falls back to the `nft -i` process.
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
  /**
   * Changes through one long-lived `nft -i` process (default true); false: one
   * `nft -f -` process per change.
   */
  readonly persistent?: boolean;
  /**
   * Changes through libnftables in this process (FFI, see the module documentation)
   * when it loads; default false. Falls back to `persistent`'s choice otherwise.
   */
  readonly inProcess?: boolean;
  /** The libnftables file name for `inProcess`; default `libnftables.so.1`. */
  readonly library?: string;
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
  /**
   * nft's exit code (undefined when it could not be started, or when the change failed
   * in the long-lived `nft -i` process, which goes on).
   */
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
  #persistent: boolean;
  #shell: _NftShell | undefined;
  #lib: _NftLib | undefined;
  #installed = true;

  private constructor(
    options: Required<Omit<NftGateOptions, "netns" | "port" | "inProcess" | "library">> & {
      netns: string | undefined;
    },
  ) {
    this.#netns = options.netns;
    this.#family = options.family;
    this.#table = options.table;
    this.#set = options.set;
    this.#nft = options.nft;
    this.#persistent = options.persistent;
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
      persistent: options.persistent ?? true,
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
    if (options.inProcess === true) {
      gate.#lib = _NftLib.open(options.library ?? "libnftables.so.1", options.netns);
      if (gate.#lib !== undefined) return gate;
    }
    // Started now, so that the first change (an MN's authentication) does not wait
    // for it; a process that does not come up leaves the one-shot path.
    if (gate.#persistent && !(await gate.#startShell().whenReady(_SHELL_READY_MS))) {
      // Not an nft that answers on stdin: one-shot processes from now on.
      gate.#persistent = false;
      await gate.#shell?.close();
      gate.#shell = undefined;
    }
    return gate;
  }

  /** Whether changes go through libnftables in this process (`inProcess`). */
  get inProcess(): boolean {
    return this.#lib !== undefined;
  }

  /** Whether changes go through a running long-lived `nft -i` process now. */
  get persistent(): boolean {
    return this.#shell !== undefined && !this.#shell.exited;
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
    await this.#change([
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
    await this.#change([`add element ${s} { ${ip} }`, `delete element ${s} { ${ip} }`]);
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
    await this.#shell?.close();
    this.#shell = undefined;
    this.#lib?.close();
    this.#lib = undefined;
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

  #argv(args: readonly string[]): string[] {
    return this.#netns === undefined
      ? [this.#nft, ...args]
      : ["ip", "netns", "exec", this.#netns, this.#nft, ...args];
  }

  #startShell(): _NftShell {
    this.#shell = new _NftShell(this.#argv(["-i"]));
    return this.#shell;
  }

  /**
   * One transaction: through libnftables in process, else the long-lived process when
   * it runs, else one-shot.
   */
  async #change(lines: readonly string[]): Promise<void> {
    if (this.#lib !== undefined && this.#installed) {
      this.#lib.run(lines.join("; "));
      return;
    }
    if (this.#persistent && this.#installed) {
      let shell = this.#shell;
      if (shell === undefined || shell.exited) {
        await shell?.close();
        shell = this.#startShell();
      }
      try {
        await shell.run(lines.join("; "), _SHELL_CHANGE_MS);
        return;
      } catch (error) {
        if (error instanceof NftGateError) throw error; // nft refused the change
        // The process failed: the one-shot path below, a new process next time (or
        // never again when it never answered at all).
        if (!shell.answered) this.#persistent = false;
        await shell.close();
      }
    }
    await this.#run(lines);
  }

  async #run(lines: readonly string[]): Promise<void> {
    await this.#exec(["-f", "-"], lines.join("\n") + "\n");
  }

  async #exec(args: readonly string[], input: string): Promise<string> {
    const argv = this.#argv(args);
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

/** How long install waits for the long-lived process's first marker, ms. */
const _SHELL_READY_MS = 3000;
/** How long a change waits for its marker before the one-shot path, ms. */
const _SHELL_CHANGE_MS = 5000;

/** The marker command: fixed one-line output, touches no kernel state. */
const _MARKER = "describe tcp dport";

interface _Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly errors: string[];
}

/**
 * The long-lived `nft -i` process of one gate: each change is one line, followed by
 * the marker line; the change is done when the marker's output comes back, and failed
 * when an `Error:` line came before it. Rejects with a plain Error (not NftGateError)
 * when the process itself fails.
 */
class _NftShell {
  readonly #child: Deno.ChildProcess | undefined;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #waiting: _Waiter[] = [];
  readonly #done: Promise<void>;
  readonly #encoder = new TextEncoder();
  /** The marker's output line, learned from the first marker. */
  #markerLine: string | undefined;
  #exited = false;
  /** Resolved when the first marker came back (the process works). */
  readonly ready: Promise<void>;

  constructor(argv: readonly string[]) {
    try {
      // 2>&1 through sh: one ordered stream for output and errors.
      this.#child = new Deno.Command("sh", {
        args: ["-c", 'exec "$@" 2>&1', "sh", ...argv],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      this.#writer = this.#child.stdin.getWriter();
      this.#done = this.#read(this.#child);
    } catch (error) {
      this.#exited = true;
      this.#done = Promise.resolve();
      this.ready = Promise.reject(error);
      this.ready.catch(() => {});
      return;
    }
    this.ready = this.#send("");
    this.ready.catch(() => {});
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Whether a marker ever came back (the process works). */
  get answered(): boolean {
    return this.#markerLine !== undefined;
  }

  /** Whether the first marker comes back within `ms`. */
  async whenReady(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms));
    const ok = await Promise.race([this.ready.then(() => true, () => false), late]);
    clearTimeout(timer);
    return ok;
  }

  /**
   * Runs one line (one transaction); rejects with NftGateError when nft refused it,
   * with a plain Error when the process failed or no marker came within `ms`.
   */
  async run(line: string, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`nft -i did not answer in ${ms} ms`)), ms)
    );
    try {
      await Promise.race([this.#send(line), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #send(line: string): Promise<void> {
    if (this.#exited || this.#writer === undefined) {
      return Promise.reject(new Error("nft -i exited"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject, errors: [] });
      const text = (line === "" ? "" : `${line}\n`) + `${_MARKER}\n`;
      this.#writer!.write(this.#encoder.encode(text)).catch((error) => {
        this.#fail(`nft -i stdin closed: ${error instanceof Error ? error.message : error}`);
      });
    });
  }

  async #read(child: Deno.ChildProcess): Promise<void> {
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          this.#line(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      }
    } catch {
      // the process went away; reported below
    }
    this.#fail("nft -i exited");
  }

  #line(line: string): void {
    const waiter = this.#waiting[0];
    if (waiter === undefined) return;
    if (this.#markerLine === undefined) {
      // The first marker (sent alone at start) tells what a marker's output is.
      // (`payload expression, datatype inet_service ...`; anything else before it is
      // an error, e.g. of `ip netns exec`.)
      if (!/datatype/.test(line)) {
        waiter.errors.push(line);
        return;
      }
      this.#markerLine = line;
    } else if (line !== this.#markerLine) {
      // An error and its command / caret lines (changes print nothing else).
      waiter.errors.push(line);
      return;
    }
    this.#waiting.shift();
    const errors = waiter.errors;
    const first = errors.find((l) => l.startsWith("Error:"));
    if (first === undefined) waiter.resolve();
    else {
      waiter.reject(
        new NftGateError(`Command nft failed: ${first}`, errors.join("\n"), undefined),
      );
    }
  }

  #fail(reason: string): void {
    this.#exited = true;
    for (const w of this.#waiting.splice(0)) w.reject(new Error(reason));
  }

  async close(): Promise<void> {
    if (this.#child === undefined) return;
    this.#exited = true;
    await this.#writer?.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child!.kill("SIGKILL");
      } catch {
        // exited
      }
    }, 2000);
    await this.#child.status.catch(() => {});
    clearTimeout(timer);
    await this.#done;
    for (const w of this.#waiting.splice(0)) w.reject(new Error("nft -i closed"));
  }
}

/** `setns(2)` flag of a network namespace. */
const _CLONE_NEWNET = 0x40000000;
/** `open(2)` flags: read-only, close-on-exec. */
const _O_RDONLY_CLOEXEC = 0o2000000;

/** The libnftables and libc calls of {@link _NftLib}. */
const _LIBNFTABLES = {
  nft_ctx_new: { parameters: ["u32"], result: "pointer" },
  nft_ctx_free: { parameters: ["pointer"], result: "void" },
  nft_ctx_buffer_output: { parameters: ["pointer"], result: "i32" },
  nft_ctx_buffer_error: { parameters: ["pointer"], result: "i32" },
  nft_ctx_get_error_buffer: { parameters: ["pointer"], result: "pointer" },
  nft_ctx_get_output_buffer: { parameters: ["pointer"], result: "pointer" },
  nft_run_cmd_from_buffer: { parameters: ["pointer", "buffer"], result: "i32" },
} as const;
const _LIBC = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/**
 * libnftables in this process (see the module documentation): one context, and with a
 * namespace, the descriptors to enter it and to come back.
 */
class _NftLib {
  readonly #nft: Deno.DynamicLibrary<typeof _LIBNFTABLES>;
  readonly #libc: Deno.DynamicLibrary<typeof _LIBC> | undefined;
  readonly #ctx: Deno.PointerObject;
  /** [the gate's namespace, this thread's own], or undefined without `netns`. */
  readonly #ns: readonly [number, number] | undefined;
  readonly #encoder = new TextEncoder();

  private constructor(
    nft: Deno.DynamicLibrary<typeof _LIBNFTABLES>,
    libc: Deno.DynamicLibrary<typeof _LIBC> | undefined,
    ctx: Deno.PointerObject,
    ns: readonly [number, number] | undefined,
  ) {
    this.#nft = nft;
    this.#libc = libc;
    this.#ctx = ctx;
    this.#ns = ns;
  }

  /** Loads the library (and libc with a namespace); undefined when anything fails. */
  static open(library: string, netns: string | undefined): _NftLib | undefined {
    let nft: Deno.DynamicLibrary<typeof _LIBNFTABLES> | undefined;
    let libc: Deno.DynamicLibrary<typeof _LIBC> | undefined;
    let ns: [number, number] | undefined;
    try {
      nft = Deno.dlopen(library, _LIBNFTABLES);
      if (netns !== undefined) {
        libc = Deno.dlopen("libc.so.6", _LIBC);
        const target = libc.symbols.open(_cString(`/run/netns/${netns}`), _O_RDONLY_CLOEXEC);
        const own = libc.symbols.open(_cString("/proc/thread-self/ns/net"), _O_RDONLY_CLOEXEC);
        if (target < 0 || own < 0) {
          if (target >= 0) libc.symbols.close(target);
          if (own >= 0) libc.symbols.close(own);
          throw new Error(`Cannot open the namespace ${netns}`);
        }
        ns = [target, own];
      }
      // Created inside the namespace: the context's netlink socket belongs to the
      // namespace it is opened in.
      const lib = nft;
      const ctx = _inNamespace(libc, ns, () => lib.symbols.nft_ctx_new(0));
      if (ctx === null) throw new Error("nft_ctx_new failed");
      nft.symbols.nft_ctx_buffer_output(ctx);
      nft.symbols.nft_ctx_buffer_error(ctx);
      const gateLib = new _NftLib(nft, libc, ctx, ns);
      // Proves that the namespace can be entered and left, and that nft answers.
      gateLib.run("describe tcp dport");
      return gateLib;
    } catch {
      if (ns !== undefined) {
        libc?.symbols.close(ns[0]);
        libc?.symbols.close(ns[1]);
      }
      libc?.close();
      nft?.close();
      return undefined;
    }
  }

  /**
   * Runs one transaction (`;`-separated commands) synchronously, in the gate's
   * namespace.
   *
   * @throws {NftGateError} when nft refuses it
   * @throws {Error} when the namespace cannot be entered
   */
  run(commands: string): void {
    const rc = _inNamespace(
      this.#libc,
      this.#ns,
      () => this.#nft.symbols.nft_run_cmd_from_buffer(this.#ctx, _cString(commands, this.#encoder)),
    );
    // Read (and so reset) both buffers after every command.
    this.#text(this.#nft.symbols.nft_ctx_get_output_buffer(this.#ctx));
    const stderr = this.#text(this.#nft.symbols.nft_ctx_get_error_buffer(this.#ctx)).trim();
    if (rc !== 0) {
      const first = stderr.split("\n").find((l) => l.startsWith("Error:")) ??
        stderr.split("\n")[0] ?? `code ${rc}`;
      throw new NftGateError(`Command nft failed: ${first}`, stderr, undefined);
    }
  }

  close(): void {
    this.#nft.symbols.nft_ctx_free(this.#ctx);
    if (this.#ns !== undefined) {
      this.#libc?.symbols.close(this.#ns[0]);
      this.#libc?.symbols.close(this.#ns[1]);
    }
    this.#libc?.close();
    this.#nft.close();
  }

  #text(pointer: Deno.PointerValue): string {
    return pointer === null ? "" : Deno.UnsafePointerView.getCString(pointer);
  }
}

/**
 * Runs `fn` (synchronous FFI only) with the calling thread in the gate's namespace
 * `ns[0]`, then back in its own `ns[1]`; without `ns`, just runs it.
 *
 * @throws {Error} when a namespace cannot be entered
 */
function _inNamespace<T>(
  libc: Deno.DynamicLibrary<typeof _LIBC> | undefined,
  ns: readonly [number, number] | undefined,
  fn: () => T,
): T {
  if (ns === undefined || libc === undefined) return fn();
  if (libc.symbols.setns(ns[0], _CLONE_NEWNET) !== 0) {
    throw new Error("Cannot enter the gate's network namespace");
  }
  try {
    return fn();
  } finally {
    if (libc.symbols.setns(ns[1], _CLONE_NEWNET) !== 0) {
      // Does not happen with a descriptor of the thread's own namespace; if it did, the
      // event loop's thread would stay in the gate's namespace.
      // deno-lint-ignore no-unsafe-finally
      throw new Error("Cannot return to the original network namespace");
    }
  }
}

/** A NUL-terminated C string. */
function _cString(text: string, encoder = new TextEncoder()): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
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
