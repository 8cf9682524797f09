/**
 * `mpa replay FILE|- [--config FILE] [--pace fast|realtime]`: reads LinkSample
 * JSONL and writes one JSON decision per line to stdout.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { ConfigError } from "../../lib/errors.ts";
import { decide, type DecideOptions } from "../../lib/decision/decide.ts";
import { parseDecideConfig } from "../../lib/decision/config.ts";
import { formatDecisionJson } from "../../lib/decision/format.ts";
import { replayTrace, TraceError } from "../metrics/trace_replay.ts";
import { attachNegativeValues, LineWriter, readLines } from "./_io.ts";

/**
 * Help text of `mpa replay`: arguments, output format, options and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { REPLAY_HELP } from "./replay.ts";
 * assertStringIncludes(REPLAY_HELP, "--pace MODE");
 * assertStringIncludes(REPLAY_HELP, "--config FILE");
 * ```
 */
export const REPLAY_HELP = `Usage: mpa replay FILE|- [--config FILE] [--pace fast|realtime]

Reads link samples (JSONL, one per PoA per instant) from FILE or stdin (-) and
writes one JSON decision per line to stdout:
  {"t": ms, "kind": "prepare"|"preconfigure"|"commit"|"switch"|"release"|"abort"|
   "restore"|"bicast", "ctn": id | "ctns": [ids], "poa": id, "reason": text, ...}
Logs and errors go to stderr.

Options:
  --config FILE   cells, CTN timings and decide options (JSON; see README);
                  without it, decisions use SNR alone and RFC 6252 C.6 timings
  --pace MODE     fast (default): as fast as possible; realtime: wait between
                  samples as their timestamps say
  -h, --help      this text

Exit status: 0 done, 1 failure, 2 bad arguments, bad config or a malformed line
(reported as FILE:LINE: why).`;

/**
 * A command's failure with its exit status and a message for stderr; `main`
 * prints the message and returns `code` (2 for bad arguments, config or input).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * const e = new CliError(2, "Missing --seed");
 * assertEquals([e.name, e.code, e.message], ["CliError", 2, "Missing --seed"]);
 * ```
 */
export class CliError extends Error {
  /** Always `CliError`. */
  override readonly name = "CliError";
  /** Process exit status. */
  readonly code: number;
  /**
   * Creates the error.
   *
   * @param code process exit status
   * @param message what went wrong
   */
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Reads and validates a `--config` file: JSON with cells, CTN timings and
 * {@link DecideOptions} (see `parseDecideConfig`). Needs read permission.
 *
 * @param path the file
 * @returns decide options
 * @throws {CliError} with status 2 naming the file and the bad field (or the
 *   read or JSON error)
 *
 * @example
 * ```ts ignore
 * import { from } from "npm:rxjs@^7.8.2";
 * import { decide } from "../../lib/decision/decide.ts";
 * import { loadConfig } from "./replay.ts";
 * const options = await loadConfig("demo-config.json"); // as `mpa simulate --config` prints it
 * decide(from([]), options).subscribe(console.log);
 * ```
 */
export async function loadConfig(path: string): Promise<DecideOptions> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(2, `Cannot read config ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(2, `${path}: invalid JSON: ${(error as Error).message}`);
  }
  try {
    return parseDecideConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(2, `${path}: ${error.message}`);
    throw error;
  }
}

/**
 * Runs `mpa replay`: reads LinkSample JSONL from a file or stdin (`-`), runs
 * `decide` over it and writes one JSON decision per line to stdout. Needs read
 * permission for the trace and config files.
 *
 * @param args the arguments after `replay`
 * @returns the exit status (0 when done)
 * @throws {CliError} with status 2 for bad arguments, an unreadable file, a bad
 *   config or a malformed line (`FILE:LINE: why`)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { replayCommand } from "./replay.ts";
 * assertEquals(await replayCommand(["--help"]), 0); // prints REPLAY_HELP
 * ```
 */
export async function replayCommand(args: readonly string[]): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, ["config", "pace"]), {
    string: ["config", "pace"],
    boolean: ["help"],
    alias: { h: "help" },
    default: { pace: "fast" },
  });
  if (flags.help) {
    console.log(REPLAY_HELP);
    return 0;
  }
  const unknown = Object.keys(flags).filter((k) =>
    !["_", "config", "pace", "help", "h"].includes(k)
  );
  if (unknown.length > 0) throw new CliError(2, `Unknown option --${unknown[0]}\n\n${REPLAY_HELP}`);
  const positional = flags._ as unknown[];
  if (positional.length !== 1) {
    throw new CliError(
      2,
      `Expected exactly one FILE or -, got ${positional.length}\n\n${REPLAY_HELP}`,
    );
  }
  const source = String(positional[0]);
  const pace = String(flags.pace);
  if (pace !== "fast" && pace !== "realtime") {
    throw new CliError(2, `Invalid --pace: expected fast or realtime, got ${pace}`);
  }
  const options = flags.config === undefined ? {} : await loadConfig(String(flags.config));
  const out = new LineWriter();
  const name = source === "-" ? "<stdin>" : source;
  if (source !== "-") {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(source);
    } catch (error) {
      throw new CliError(2, `Cannot read ${name}: ${(error as Error).message}`);
    }
    if (!info.isFile) throw new CliError(2, `Cannot read ${name}: not a file`);
  }
  const samples$ = replayTrace(readLines(source), { pace, source: name });
  await new Promise<void>((resolve, reject) => {
    const sub = decide(samples$, options).subscribe({
      next: (d) => {
        out.line(formatDecisionJson(d));
        if (pace === "realtime") out.flush(); // a live consumer sees each decision when made
        if (out.closed) {
          sub.unsubscribe();
          resolve();
        }
      },
      error: (e) => {
        out.flush();
        reject(e instanceof TraceError ? new CliError(2, e.message) : e);
      },
      complete: () => {
        out.flush();
        resolve();
      },
    });
  });
  return 0;
}
