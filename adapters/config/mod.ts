/**
 * Loading the agent's and a CTN's configuration files (JSONC) from disk.
 *
 * @module
 */
export * from "./load_config.ts";
