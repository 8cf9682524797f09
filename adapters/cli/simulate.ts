/**
 * `mpa simulate --scenario NAME --seed N [--duration S] [--period MS]`: writes a
 * simulated LinkSample trace (JSONL) to stdout; `--list` names the scenarios and
 * `--config` prints a scenario's cells and CTN timings as a replay config.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { formatLinkSample } from "../../lib/metrics/link_sample.ts";
import { scenario as findScenario, scenarios } from "../metrics/scenarios.ts";
import { simulateTrace } from "../metrics/simulator.ts";
import { CliError } from "./replay.ts";
import { attachNegativeValues, LineWriter } from "./_io.ts";

/**
 * Help text of `mpa simulate`: the three forms (trace, `--list`, `--config`) and the
 * options.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { SIMULATE_HELP } from "./simulate.ts";
 * assertStringIncludes(SIMULATE_HELP, "--scenario NAME");
 * assertStringIncludes(SIMULATE_HELP, "--seed N");
 * ```
 */
export const SIMULATE_HELP =
  `Usage: mpa simulate --scenario NAME --seed N [--duration S] [--period MS]
       mpa simulate --list
       mpa simulate --scenario NAME --config

Writes LinkSample JSONL (one line per PoA heard per instant) to stdout, from a
mobility scenario with log-distance path loss and seeded log-normal shadowing.
The same scenario and seed always give the same trace.

Options:
  --scenario NAME  the scenario (see --list)
  --seed N         seed of all randomness (integer)
  --duration S     length in seconds (default: the scenario's)
  --period MS      time between measurement instants (default 100)
  --list           name and describe the scenarios
  --config         print the scenario's cells and CTN timings as a replay config
  -h, --help       this text`;

/**
 * Runs `mpa simulate`: writes a seeded, deterministic LinkSample trace (JSONL) of a
 * built-in scenario to stdout; `--list` names the scenarios, `--config` prints a
 * scenario's cells and CTN timings as a `replay --config` file.
 *
 * @param args the arguments after `simulate`
 * @returns the exit status (0 when done)
 * @throws {CliError} with status 2 for unknown options, a missing `--scenario` or
 *   `--seed`, or an out-of-range number
 * @throws {ConfigError} for an unknown scenario name
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { simulateCommand } from "./simulate.ts";
 * assertEquals(await simulateCommand(["--help"]), 0); // prints SIMULATE_HELP
 * assertThrows(() => simulateCommand(["--scenario", "demo"]), CliError, "Missing --seed");
 * ```
 */
export function simulateCommand(args: readonly string[]): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, ["scenario", "seed", "duration", "period"]), {
    string: ["scenario", "seed", "duration", "period"],
    boolean: ["help", "list", "config"],
    alias: { h: "help" },
  });
  const known = ["_", "scenario", "seed", "duration", "period", "help", "h", "list", "config"];
  const unknown = Object.keys(flags).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new CliError(2, `Unknown option --${unknown[0]}\n\n${SIMULATE_HELP}`);
  }
  if (flags.help) {
    console.log(SIMULATE_HELP);
    return Promise.resolve(0);
  }
  const out = new LineWriter();
  if (flags.list) {
    for (const s of scenarios()) out.line(`${s.name.padEnd(10)} ${s.description}`);
    out.flush();
    return Promise.resolve(0);
  }
  if (flags.scenario === undefined) throw new CliError(2, `Missing --scenario\n\n${SIMULATE_HELP}`);
  const scenario = findScenario(String(flags.scenario));
  if (flags.config) {
    out.line(JSON.stringify({ cells: scenario.cells, ctns: scenario.ctns }, null, 2));
    out.flush();
    return Promise.resolve(0);
  }
  if (flags.seed === undefined) throw new CliError(2, `Missing --seed\n\n${SIMULATE_HELP}`);
  const seed = _number(flags.seed, "--seed");
  const durationS = flags.duration === undefined
    ? undefined
    : _number(flags.duration, "--duration");
  const periodMs = flags.period === undefined ? undefined : _number(flags.period, "--period");
  const period = periodMs ?? 100;
  const duration = durationS ?? scenario.durationS;
  if (!(period > 0)) throw new CliError(2, `Invalid --period: must be > 0, got ${period}`);
  if (!(duration >= 0 && duration <= _MAX_DURATION_S)) {
    throw new CliError(
      2,
      `Invalid --duration: expected 0 to ${_MAX_DURATION_S} s, got ${duration}`,
    );
  }
  if ((duration * 1000) / period > _MAX_INSTANTS) {
    throw new CliError(
      2,
      `Invalid --duration/--period: ${duration} s every ${period} ms is more than ${_MAX_INSTANTS} instants`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new CliError(2, `Invalid --seed: expected an integer, got ${seed}`);
  }
  const trace = simulateTrace(scenario, { seed, durationS: duration, periodMs: period });
  for (const s of trace) {
    out.line(formatLinkSample(s));
    if (out.closed) break;
  }
  out.flush();
  return Promise.resolve(0);
}

/** The largest trace simulate writes: a day at 10 instants per second. */
const _MAX_INSTANTS = 864_000;
/** The longest trace, s: the movement models plan their legs for the whole duration. */
const _MAX_DURATION_S = 86_400;

function _number(value: unknown, flag: string): number {
  const text = String(value);
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) {
    throw new CliError(2, `Invalid ${flag}: expected a number, got ${text}`);
  }
  return n;
}
