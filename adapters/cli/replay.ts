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
import { parseLinkSampleLine } from "../../lib/metrics/link_sample.ts";
import { Subject } from "npm:rxjs@^7.8.2";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import { LineWriter, readLines } from "./_io.ts";

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
  const flags = parseArgs([...args], {
    string: ["config", "pace"],
    boolean: ["help"],
    alias: { h: "help" },
    default: { pace: "fast" },
  });
  if (flags.help) {
    console.log(REPLAY_HELP);
    return 0;
  }
  const unknown = Object.keys(flags).filter((k) => !["_", "config", "pace", "help", "h"].includes(k));
  if (unknown.length > 0) throw new CliError(2, `Unknown option --${unknown[0]}\n\n${REPLAY_HELP}`);
  const positional = flags._ as unknown[];
  if (positional.length !== 1) {
    throw new CliError(2, `Expected exactly one FILE or -, got ${positional.length}\n\n${REPLAY_HELP}`);
  }
  const source = String(positional[0]);
  const pace = String(flags.pace);
  if (pace !== "fast" && pace !== "realtime") {
    throw new CliError(2, `Invalid --pace: expected fast or realtime, got ${pace}`);
  }
  const options = flags.config === undefined ? {} : await loadConfig(String(flags.config));
  const out = new LineWriter();
  const input = new Subject<LinkSample>();
  let failure: unknown;
  const sub = decide(input, options).subscribe({
    next: (d) => out.line(formatDecisionJson(d)),
    error: (e) => failure = e,
  });
  const name = source === "-" ? "<stdin>" : source;
  let lineNo = 0;
  let previousT: number | undefined;
  let lastT: number | undefined;
  let lastWall = 0;
  try {
    for await (const line of readLines(source)) {
      lineNo++;
      if (line.trim() === "") continue;
      let sample: LinkSample;
      try {
        sample = parseLinkSampleLine(line, previousT);
      } catch (error) {
        throw new CliError(2, `${name}:${lineNo}: ${(error as Error).message}`);
      }
      previousT = sample.t;
      if (pace === "realtime") {
        const now = performance.now();
        if (lastT !== undefined) {
          const wait = (sample.t - lastT) - (now - lastWall);
          if (wait > 0) {
            out.flush();
            await new Promise((r) => setTimeout(r, wait));
          }
        }
        lastT = sample.t;
        lastWall = performance.now();
      }
      input.next(sample);
      if (failure !== undefined) throw failure;
      if (out.closed) break;
    }
    input.complete();
    if (failure !== undefined) throw failure;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(2, `Cannot read ${name}: no such file`);
    }
    throw error;
  } finally {
    sub.unsubscribe();
    out.flush();
  }
  return 0;
}
