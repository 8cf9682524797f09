/**
 * Small I/O helpers for the CLI: lines from a file or stdin, a buffered stdout
 * writer that tolerates a closed pipe, and the stderr logger (LogTape).
 *
 * @module
 */
import { getLogger, type Logger, type LogLevel } from "npm:@logtape/logtape@^2.4.2";
import { configureLogging } from "../observe/log_setup.ts";

/** Reads text lines (without line terminators) from a file path or `-` for stdin. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const file = path === "-" ? Deno.stdin : await Deno.open(path, { read: true });
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of file.readable) {
      rest += decoder.decode(chunk, { stream: true });
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        yield rest.slice(0, nl).replace(/\r$/, "");
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
      }
    }
    rest += decoder.decode();
    if (rest.length > 0) yield rest.replace(/\r$/, "");
  } finally {
    if (path !== "-") {
      try {
        (file as Deno.FsFile).close();
      } catch {
        // already closed by the readable stream
      }
    }
  }
}

/** Buffers output lines and writes them to stdout in large chunks. */
export class LineWriter {
  #parts: string[] = [];
  #size = 0;
  #closed = false;
  readonly #encoder = new TextEncoder();

  /** Whether the reader went away (EPIPE): later writes are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues one line; flushes when 64 KiB are pending. */
  line(text: string): void {
    if (this.#closed) return;
    this.#parts.push(text, "\n");
    this.#size += text.length + 1;
    if (this.#size >= 65536) this.flush();
  }

  /** Writes everything pending. */
  flush(): void {
    if (this.#parts.length === 0 || this.#closed) return;
    const bytes = this.#encoder.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    try {
      let off = 0;
      while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) this.#closed = true;
      else throw error;
    }
  }
}

let _configured = false;

/**
 * Sends log records to stderr (never stdout, which carries data): readable text on a
 * terminal, JSON lines otherwise ({@link configureLogging}). Configures once; later
 * calls return the logger.
 *
 * @param level the lowest level shown
 * @returns the `mpa` logger
 */
export function setupLogging(level: LogLevel = "info"): Logger {
  if (!_configured) {
    _configured = true;
    configureLogging({ level });
  }
  return getLogger(["mpa"]);
}

/**
 * Joins `--flag -1` into `--flag=-1` for flags that take a value, so that negative
 * numbers reach the flag instead of being read as short options by parseArgs.
 *
 * @param args the raw arguments
 * @param valued the flags (without dashes) that take a value
 * @returns the arguments with negative values attached to their flags
 */
export function attachNegativeValues(args: readonly string[], valued: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (
      arg.startsWith("--") && valued.includes(arg.slice(2)) && next !== undefined &&
      /^-\d/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
