/**
 * Private helper of the link and tunnel adapters: long-lived `ip -batch -` processes
 * that run ip(8) commands without a process start each (a few ms on a small machine;
 * several of them in a row dominated the layer-3 part of an MPA handover, RFC 6252
 * section 6.3 steps 4-6 and Appendix C.5's "interruption <= link switch + one packet
 * interval").
 *
 * One {@link _IpBatch} is one `ip [-n NS] [-4|-6] -o -force -batch -` process fed on
 * its stdin. To learn when (and whether) each command completed, every command is
 * followed by a marker command, `link show dev lo`, whose one-line output (`1: lo:
 * ...`) comes back on stdout (ip flushes after printing a link); stderr is merged into
 * stdout (`2>&1`), so that an error message and its `Command failed -:N` line arrive
 * before the marker of their command, in order. `-force` keeps ip going after a failed
 * command. Some failures (an argument naming a device that does not exist) make ip
 * exit instead: that command fails with what ip printed, the commands queued behind
 * it were never read and are run again by a new process.
 *
 * {@link _IpBatches} keeps one process per global option set (`ip -batch` refuses
 * `-4` / `-6` on a command line, so each family has its own) and runs anything batch
 * mode cannot answer as a process of its own: commands with other options (`-j`
 * queries, whose output is parsed), commands that only print (`show`), arguments a
 * batch line cannot carry (blanks, quotes), and commands whose batch process could
 * not answer (it could not start, or died). A long-lived ip remembers interface
 * indexes by name: after an interface is deleted and another created under the same
 * name (TUN devices `mpa%d`), its cached index is stale and the kernel answers "Device
 * not found". A command that fails for a missing device is therefore run again once in
 * a fresh process before its failure counts.
 *
 * While no command is pending the processes are unreferenced: they never keep the
 * caller's process alive, and they end when it does (their stdin closes). `close`
 * ends them explicitly. The caller's own namespace has one shared set
 * ({@link _ownIpBatches}), so that the handover's commands find a process the
 * preparation already started (the MN's TUN setup warms the one its detach and the
 * nCoA's assignment use). A set for another namespace (`ip -n NS`) belongs to its
 * user, who must close it: a process inside a namespace keeps that namespace and its
 * interfaces alive after `ip netns del` for as long as it runs.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";

const _logger = getLogger(["mpa", "link", "ip"]);

/** Options ip accepts in front of a batch (per process, not per command). */
const _FAMILY = new Set(["-4", "-6"]);
/** Objects and verbs that change kernel state and print nothing on success. */
const _OBJECTS = new Set([
  "link",
  "addr",
  "address",
  "route",
  "rule",
  "neigh",
  "neighbor",
  "neighbour",
]);
const _VERBS = new Set(["add", "del", "delete", "replace", "change", "set", "flush", "append"]);
/** A token a batch line carries as is (ip splits lines on blanks and reads quotes). */
const _TOKEN = /^[A-Za-z0-9_.:/@%+=,-]+$/;
/** ip's line after a failed batch command. */
const _FAILED = /^Command failed -:\d+$/;
/** The marker command's output. */
const _MARKER = /^\d+: lo[:@]/;
/** A failure that a stale cached interface index can cause. */
const _MISSING_DEVICE = /Device not found|No such device|Cannot find device|does not exist/i;

/**
 * Splits `ip` arguments into the batch process's options and the batch line, or
 * `undefined` when batch mode cannot run them (see the module doc).
 *
 * @param args the `ip` arguments, without `-n NS`
 * @returns the options (`[]`, `["-4"]` or `["-6"]`) and the line
 */
export function _batchLine(
  args: readonly string[],
): { readonly options: readonly string[]; readonly line: string } | undefined {
  let i = 0;
  while (i < args.length && _FAMILY.has(args[i]!)) i++;
  const options = args.slice(0, i);
  const command = args.slice(i);
  if (options.length > 1) return undefined;
  const [object, verb] = command;
  if (object === undefined || verb === undefined) return undefined;
  if (!_OBJECTS.has(object) || !_VERBS.has(verb)) return undefined;
  if (!command.every((token) => _TOKEN.test(token))) return undefined;
  return { options, line: command.join(" ") };
}

/** What a command run in batch mode printed, and whether ip counted it as failed. */
export interface _IpBatchReply {
  /** ip printed `Command failed` for it (or exited on it). */
  readonly failed: boolean;
  /** What it printed, stdout and stderr merged, trimmed, one line per line. */
  readonly output: string;
}

/** The batch process could not answer a command (it could not start, or it exited). */
export class _IpBatchExitedError extends Error {
  /** Always `IpBatchExitedError`. */
  override readonly name = "IpBatchExitedError";
  /** `false`: ip never read the command; `undefined`: unknown (ip died while at it). */
  readonly executed: false | undefined;

  /**
   * @param message what happened
   * @param executed whether ip read the command
   */
  constructor(message: string, executed: false | undefined) {
    super(message);
    this.executed = executed;
  }
}

interface _Pending {
  readonly line: string;
  readonly lines: string[];
  readonly resolve: (reply: _IpBatchReply) => void;
  readonly reject: (e: _IpBatchExitedError) => void;
}

/** Options of {@link _IpBatch}. */
export interface _IpBatchOptions {
  /** Run in this named network namespace (`ip -n NS`); the caller's own when omitted. */
  readonly netns?: string | undefined;
  /** Global options of the process: `[]`, `["-4"]` or `["-6"]`. */
  readonly options?: readonly string[];
}

/** One long-lived `ip -o -force -batch -` process and the commands waiting for their marker. */
export class _IpBatch {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting: _Pending[] = [];
  readonly #done: Promise<void>;
  readonly #encoder = new TextEncoder();
  #exited = false;
  #closing = false;
  #referenced = true;

  /**
   * Starts the process.
   *
   * @param options namespace and global options
   * @throws {Error} when `sh` cannot be started
   */
  constructor(options: _IpBatchOptions = {}) {
    const where = options.netns === undefined ? [] : ["-n", options.netns];
    // 2>&1 through sh: one ordered stream for output and errors.
    this.#child = new Deno.Command("sh", {
      args: [
        "-c",
        'exec ip "$@" 2>&1',
        "sh",
        ...where,
        ...(options.options ?? []),
        "-o",
        "-force",
        "-batch",
        "-",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#done = this.#read();
    this.#unrefIfIdle();
  }

  /** Whether the process exited (or is closing): it takes no more commands. */
  get exited(): boolean {
    return this.#exited || this.#closing;
  }

  /** The process id (of ip: sh execs it). */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Runs one command line (as {@link _batchLine} makes it).
   *
   * @param line the command, without options
   * @returns what it printed and whether it failed
   * @throws {_IpBatchExitedError} when the process exited before answering
   */
  run(line: string): Promise<_IpBatchReply> {
    if (this.exited) {
      return Promise.reject(new _IpBatchExitedError("ip -batch exited", false));
    }
    return new Promise<_IpBatchReply>((resolve, reject) => {
      this.#waiting.push({ line, lines: [], resolve, reject });
      this.#ref();
      this.#writer.write(this.#encoder.encode(`${line}\nlink show dev lo\n`)).catch((e) => {
        this.#fail(`ip -batch stdin closed: ${e instanceof Error ? e.message : e}`);
      });
    });
  }

  /**
   * Lets the pending commands complete, then ends the process (its stdin closes);
   * kills it when it has not exited after `killAfterMs`. Idempotent.
   *
   * @param killAfterMs how long to wait for the exit
   * @returns when the process has exited
   */
  async close(killAfterMs = 2_000): Promise<void> {
    this.#closing = true;
    this.#ref(); // until it has exited
    try {
      await this.#writer.close();
    } catch {
      // already closed
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, killAfterMs);
    try {
      await this.#done;
      await this.#child.status;
    } finally {
      clearTimeout(timer);
    }
  }

  async #read(): Promise<void> {
    let buffer = "";
    try {
      const reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          this.#line(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch (e) {
      _logger.warn("ip -batch output failed: {error}", { error: String(e) });
    }
    if (buffer.trim() !== "") this.#waiting[0]?.lines.push(buffer.trim());
    this.#fail("ip -batch exited");
  }

  #line(line: string): void {
    const head = this.#waiting[0];
    if (_MARKER.test(line)) {
      if (head === undefined) return;
      this.#waiting.shift();
      const failed = head.lines.some((l) => _FAILED.test(l));
      const output = head.lines.filter((l) => !_FAILED.test(l)).join("\n");
      head.resolve({ failed, output });
      this.#unrefIfIdle();
      return;
    }
    if (head === undefined) {
      _logger.warn("Unexpected ip -batch output: {line}", { line });
      return;
    }
    head.lines.push(line.trim());
  }

  /** The process is gone: its head command failed (or is unknown), the rest never ran. */
  #fail(reason: string): void {
    this.#exited = true;
    const [head, ...rest] = this.#waiting.splice(0);
    if (head !== undefined) {
      const printed = head.lines.filter((l) => l !== "" && !_FAILED.test(l));
      if (printed.length > 0) head.resolve({ failed: true, output: printed.join("\n") });
      else head.reject(new _IpBatchExitedError(`${reason} while running: ${head.line}`, undefined));
    }
    for (const pending of rest) {
      pending.reject(new _IpBatchExitedError(`${reason} before: ${pending.line}`, false));
    }
    this.#unrefIfIdle();
  }

  #ref(): void {
    if (this.#referenced) return;
    this.#referenced = true;
    this.#child.ref();
  }

  #unrefIfIdle(): void {
    if (!this.#referenced || this.#waiting.length > 0 || this.#closing) return;
    this.#referenced = false;
    this.#child.unref();
  }
}

/** What {@link _IpBatches.run} reports, as a process's exit would. */
export interface _IpOutput {
  /** 0 on success; 1 for a failed batch command; the exit code of a spawned ip. */
  readonly code: number;
  /** stdout (a batch command's output on success). */
  readonly stdout: string;
  /** stderr, trimmed (a batch command's output on failure). */
  readonly stderr: string;
  /** Whether a batch process answered (false: a process of its own ran). */
  readonly batched: boolean;
}

/**
 * The `ip -batch` processes of one namespace, one per global option set, started on
 * first use and replaced when they exit; commands batch mode cannot run are spawned.
 */
export class _IpBatches {
  readonly #netns: string | undefined;
  readonly #batches = new Map<string, _IpBatch>();
  readonly #retiring = new Set<Promise<void>>();
  #closed = false;

  /**
   * @param netns the namespace (`ip -n NS`); the caller's own when omitted
   */
  constructor(netns?: string) {
    this.#netns = netns;
  }

  /** Whether {@link _IpBatches.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The ids of the live batch processes (for tests). */
  pids(): number[] {
    return [...this.#batches.values()].filter((b) => !b.exited).map((b) => b.pid);
  }

  /**
   * Runs `ip [-n NS] ARGS...` in a batch process when it can (see the module doc),
   * else as a process of its own. Never throws for a failed command: the caller reads
   * `code` and `stderr`.
   *
   * @param args the `ip` arguments, without `-n NS`
   * @returns the exit code, stdout and stderr
   * @throws {Error} only when ip cannot be started at all (`Deno.errors.NotFound`)
   */
  async run(args: readonly string[]): Promise<_IpOutput> {
    const batch = this.#closed ? undefined : _batchLine(args);
    if (batch !== undefined) {
      const key = batch.options.join(" ");
      for (let attempt = 0; attempt < 3; attempt++) {
        let process: _IpBatch;
        try {
          process = this.#process(key, batch.options);
        } catch (e) {
          _logger.debug("ip -batch cannot start: {error}", { error: String(e) });
          break;
        }
        let reply: _IpBatchReply;
        try {
          reply = await process.run(batch.line);
        } catch (e) {
          if (e instanceof _IpBatchExitedError && e.executed === false) continue;
          _logger.warn("ip -batch could not answer: {error}", { error: String(e) });
          break;
        }
        if (reply.failed && attempt === 0 && _MISSING_DEVICE.test(reply.output)) {
          // Perhaps a stale cached interface index: ask a fresh process once.
          this.#retire(key, process);
          continue;
        }
        return reply.failed ? { code: 1, stdout: "", stderr: reply.output, batched: true } : {
          code: 0,
          stdout: reply.output === "" ? "" : `${reply.output}\n`,
          stderr: "",
          batched: true,
        };
      }
    }
    return await this.#spawn(args);
  }

  /**
   * Ends every batch process (pending commands complete first); later commands run as
   * processes of their own. Idempotent.
   *
   * @returns when every process has exited
   */
  async close(): Promise<void> {
    this.#closed = true;
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    await Promise.all([...batches.map((b) => b.close()), ...this.#retiring]);
  }

  #process(key: string, options: readonly string[]): _IpBatch {
    const current = this.#batches.get(key);
    if (current !== undefined && !current.exited) return current;
    const fresh = new _IpBatch({ netns: this.#netns, options });
    this.#batches.set(key, fresh);
    return fresh;
  }

  #retire(key: string, batch: _IpBatch): void {
    if (this.#batches.get(key) === batch) this.#batches.delete(key);
    const closing = batch.close().catch(() => {});
    this.#retiring.add(closing);
    void closing.finally(() => this.#retiring.delete(closing));
  }

  async #spawn(args: readonly string[]): Promise<_IpOutput> {
    const full = this.#netns === undefined ? [...args] : ["-n", this.#netns, ...args];
    const out = await new Deno.Command("ip", {
      args: full,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr).trim(),
      batched: false,
    };
  }
}

let _own: _IpBatches | undefined;

/**
 * The batch processes of the caller's own namespace, shared by every user in this
 * process (started on first use).
 *
 * @returns the shared set
 */
export function _ownIpBatches(): _IpBatches {
  if (_own === undefined || _own.closed) _own = new _IpBatches();
  return _own;
}

/**
 * Ends the shared batch processes of the caller's own namespace (pending commands
 * complete first); the next {@link _ownIpBatches} starts new ones. For tests and
 * orderly shutdowns: the processes end with the caller's process anyway.
 *
 * @returns when they have exited
 */
export async function _closeOwnIpBatches(): Promise<void> {
  const own = _own;
  _own = undefined;
  await own?.close();
}
