/**
 * The `log` section shared by the agent's and the CTN's configuration files.
 *
 * @module
 */
import { type _Check, _def, _literal, _object } from "./_schema.ts";

/** LogTape's levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

/** A log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Log formats: `auto` is text on a terminal, JSON lines otherwise. */
export const LOG_FORMATS = ["auto", "text", "json"] as const;

/** A log format. */
export type LogFormat = typeof LOG_FORMATS[number];

/** The `log` section. */
export interface LogConfig {
  /** Lowest level logged; default `info`. */
  readonly level: LogLevel;
  /** Line format on stderr; default `auto`. */
  readonly format: LogFormat;
}

/**
 * The default `log` section.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(DEFAULT_LOG_CONFIG, { level: "info", format: "auto" });
 * ```
 */
export const DEFAULT_LOG_CONFIG: LogConfig = { level: "info", format: "auto" };

/** The check of the `log` section (private to lib/config). */
export const _logCheck: _Check<LogConfig> = _object({
  level: _def(_literal(...LOG_LEVELS), DEFAULT_LOG_CONFIG.level),
  format: _def(_literal(...LOG_FORMATS), DEFAULT_LOG_CONFIG.format),
});
