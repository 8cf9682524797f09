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

/** Help text of `mpa replay`. */
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

/** Exit status and a message for stderr. */
export class CliError extends Error {
  override readonly name = "CliError";
  /** Process exit status. */
  readonly code: number;
  /**
   * @param code process exit status
   * @param message what went wrong
   */
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Reads and validates a configuration file.
 *
 * @param path the file
 * @returns decide options
 * @throws {CliError} with status 2 naming the file and the bad field
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
 * Runs `mpa replay`.
 *
 * @param args the arguments after `replay`
 * @returns the exit status
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
