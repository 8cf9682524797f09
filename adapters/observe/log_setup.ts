/**
 * LogTape configuration for the `mpa` processes: readable text when stderr is a
 * terminal, JSON lines otherwise (for log collectors), at a level taken from
 * `--log-level` or the configuration file. Logs always go to stderr, never stdout,
 * which carries data.
 *
 * Compatible with `setupLogging` of `adapters/cli/_io.ts`: the same `["mpa"]`
 * category, the same `["logtape", "meta"]` logger at `warning`, the same text
 * formatter on a terminal; it replaces an earlier configuration (`reset`), so a
 * command may call it after `main` has called `setupLogging`.
 *
 * @module
 */
import {
  configureSync,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  type TextFormatter,
} from "npm:@logtape/logtape@^2.4.2";
import { ConfigError } from "../../lib/errors.ts";

/**
 * The levels `--log-level` accepts, lowest first (LogTape's levels).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { LOG_LEVELS } from "./log_setup.ts";
 * assertEquals(LOG_LEVELS.includes("warning"), true);
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
];

/** How log records are written: `auto` picks `text` on a terminal, `json` otherwise. */
export type LogFormat = "auto" | "text" | "json";

/** Options of {@link configureLogging}. */
export interface LoggingOptions {
  /** The lowest level written (default `info`). */
  readonly level?: LogLevel;
  /** Text, JSON lines, or `auto` (default): text when stderr is a terminal. */
  readonly format?: LogFormat;
  /** Whether stderr is a terminal (default `Deno.stderr.isTerminal()`); for tests. */
  readonly isTerminal?: boolean;
  /** Where formatted records go (default: stderr, synchronously); for tests. */
  readonly write?: (text: string) => void;
}

/**
 * The level to log at: `--log-level` when given, else the configuration's, else
 * `fallback`. Case-insensitive; `warn` means `warning`.
 *
 * @param flag the `--log-level` value, if given
 * @param config the configuration file's level, if any
 * @param fallback the level when neither is given (default `info`)
 * @returns the level
 * @throws {ConfigError} (option `logLevel`) naming the accepted levels
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigError } from "../../lib/errors.ts";
 * import { resolveLogLevel } from "./log_setup.ts";
 * assertEquals(resolveLogLevel("DEBUG", "error"), "debug");
 * assertEquals(resolveLogLevel(undefined, "warn"), "warning");
 * assertEquals(resolveLogLevel(undefined, undefined), "info");
 * assertThrows(() => resolveLogLevel("loud", undefined), ConfigError, "Invalid log level");
 * ```
 */
export function resolveLogLevel(
  flag: string | undefined,
  config: string | undefined,
  fallback: LogLevel = "info",
): LogLevel {
  const text = flag ?? config;
  if (text === undefined) return fallback;
  const lower = text.toLowerCase();
  const level = lower === "warn" ? "warning" : lower;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(
      "logLevel",
      `Invalid log level: expected one of ${LOG_LEVELS.join(", ")}, got "${text}"`,
    );
  }
  return level as LogLevel;
}

/**
 * The formatter for a format: LogTape's text formatter, or its JSON Lines
 * formatter (`@timestamp`, `level`, `message`, `logger`, `properties`).
 *
 * @param format `text` or `json`; `auto` resolves with `isTerminal`
 * @param isTerminal whether the output is a terminal
 * @returns the formatter
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { logFormatter } from "./log_setup.ts";
 * const record = {
 *   category: ["mpa"], level: "info" as const, message: ["Up"], rawMessage: "Up",
 *   timestamp: 0, properties: {},
 * };
 * assertEquals(JSON.parse(logFormatter("auto", false)(record)).message, "Up");
 * assertEquals(logFormatter("auto", true)(record).includes("Up"), true);
 * ```
 */
export function logFormatter(format: LogFormat, isTerminal: boolean): TextFormatter {
  const json = format === "json" || (format === "auto" && !isTerminal);
  return json ? getJsonLinesFormatter() : getTextFormatter();
}

/**
 * Configures LogTape (replacing any earlier configuration) and returns the `mpa`
 * logger.
 *
 * @param options level, format, and for tests the terminal flag and the writer
 * @returns the `["mpa"]` logger
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { resetSync } from "npm:@logtape/logtape@^2.4.2";
 * import { configureLogging } from "./log_setup.ts";
 * const lines: string[] = [];
 * const log = configureLogging({ level: "warning", isTerminal: false, write: (t) => lines.push(t) });
 * log.info("Hidden");
 * log.warn("Shown {n}", { n: 1 });
 * assertEquals(lines.length, 1);
 * assertEquals(JSON.parse(lines[0]!).message, "Shown 1");
 * resetSync();
 * ```
 */
export function configureLogging(options: LoggingOptions = {}): Logger {
  const format = logFormatter(
    options.format ?? "auto",
    options.isTerminal ?? _stderrIsTerminal(),
  );
  const write = options.write ?? _writeStderr;
  configureSync({
    reset: true,
    sinks: {
      stderr: (record: LogRecord) => write(format(record)),
    },
    loggers: [
      { category: ["mpa"], lowestLevel: options.level ?? "info", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  return getLogger(["mpa"]);
}

function _stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

const _encoder = new TextEncoder();

/** Writes all of `text` to stderr; a closed stderr loses the record rather than the process. */
function _writeStderr(text: string): void {
  const bytes = _encoder.encode(text);
  try {
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  } catch {
    // stderr closed (EPIPE): nowhere left to report it
  }
}
