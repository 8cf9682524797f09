/**
 * Configuration files of the agent and of a CTN: a JSONC parser with positions, the
 * schemas, and {@link ConfigFileError} that names file, field path, expected form
 * and line:column of every problem. Pure; the config adapter reads the files.
 *
 * @module
 */
export * from "./jsonc.ts";
export * from "./config_error.ts";
export * from "./listen_address.ts";
export { DEFAULT_LOG_CONFIG, LOG_FORMATS, LOG_LEVELS } from "./log_config.ts";
export type { LogConfig, LogFormat, LogLevel } from "./log_config.ts";
export * from "./agent_config.ts";
export * from "./ctn_config.ts";
