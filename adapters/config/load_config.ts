/**
 * Reads the agent's and a CTN's JSONC configuration files: the file's text goes to
 * the pure parsers of `lib/config`, relative file paths inside (PSK, credentials,
 * secrets, traces, keys) are resolved against the configuration file's directory.
 * Every failure - unreadable file, JSONC syntax error, schema problems - is one
 * {@link ConfigFileError} (a `ConfigError`: the CLI prints its message and exits 2,
 * without a stack trace).
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { type AgentConfig, parseAgentConfigText } from "../../lib/config/agent_config.ts";
import { type CtnConfig, parseCtnConfigText } from "../../lib/config/ctn_config.ts";
import { ConfigFileError } from "../../lib/config/config_error.ts";
import { scenarios } from "../metrics/scenarios.ts";

/** Reads a config file, or throws a {@link ConfigFileError} naming it. */
async function _read(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "a directory"
      : (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    throw new ConfigFileError(path, [{ path: "", expected: "a readable file", got: reason }]);
  }
}

/** Resolves paths in the file against its directory (absolute paths unchanged). */
function _resolver(configPath: string): (path: string) => string {
  const dir = dirname(resolve(configPath));
  return (path) => isAbsolute(path) ? path : resolve(dir, path);
}

/**
 * Loads and validates an agent configuration file (JSONC). `metrics.scenario` must
 * name a scenario of `adapters/metrics/scenarios.ts`.
 *
 * @param path the file; messages name it as given
 * @returns the typed configuration, file paths absolute
 * @throws {ConfigFileError} unreadable file, syntax error (line:column), or every
 *   schema problem (file, field path, expected form, line:column)
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigFileError } from "../../lib/config/config_error.ts";
 * const config = await loadAgentConfig(new URL("../../examples/mn.jsonc", import.meta.url).pathname);
 * assertEquals(config.mn.pskFile.startsWith("/"), true);
 * await assertRejects(() => loadAgentConfig("/nonexistent/mn.jsonc"), ConfigFileError, "no such file");
 * ```
 */
export async function loadAgentConfig(path: string): Promise<AgentConfig> {
  const text = await _read(path);
  return parseAgentConfigText(text, path, {
    resolvePath: _resolver(path),
    scenarios: scenarios().map((s) => s.name),
  });
}

/**
 * Loads and validates a CTN configuration file (JSONC).
 *
 * @param path the file; messages name it as given
 * @returns the typed configuration, file paths absolute
 * @throws {ConfigFileError} unreadable file, syntax error (line:column), or every
 *   schema problem
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const config = await loadCtnConfig(new URL("../../examples/ctn.jsonc", import.meta.url).pathname);
 * assertEquals(config.aa.backend.kind, "local");
 * ```
 */
export async function loadCtnConfig(path: string): Promise<CtnConfig> {
  const text = await _read(path);
  return parseCtnConfigText(text, path, { resolvePath: _resolver(path) });
}
