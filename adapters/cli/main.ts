/**
 * The `mpa` command line: `deno run mod.ts <command>`.
 *
 * @module
 */
import { ConfigError, MetricsValidationError } from "../../lib/errors.ts";
import { CliError, replayCommand } from "./replay.ts";
import { simulateCommand } from "./simulate.ts";
import { demoCommand } from "./demo.ts";
import { preauthCommand } from "./preauth.ts";
import { ctnCommand } from "./ctn.ts";
import { dhcpAcquireCommand } from "./dhcp_acquire.ts";
import { preconfigureCommand } from "./preconfigure.ts";
import { setupLogging } from "./_io.ts";
import { statusCommand } from "./status.ts";
import { agentCommand } from "./agent.ts";
import { resolveLogLevel } from "../observe/log_setup.ts";

/**
 * Help text of `mpa`: the usage line and the commands. Printed to stdout by
 * `mpa --help`, and to stderr (with exit status 2) when no command is given.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MAIN_HELP } from "./main.ts";
 * for (const command of ["simulate", "replay", "demo", "preauth", "ctn", "dhcp-acquire", "preconfigure", "agent", "status"]) assertStringIncludes(MAIN_HELP, command);
 * ```
 */
export const MAIN_HELP = `mpa: Media-independent Pre-Authentication (RFC 6252)

Usage: deno run -A mod.ts [--log-level LEVEL] <command> [options]

Commands:
  simulate      generate LinkSample JSONL from a mobility scenario
  replay        turn LinkSample JSONL into handover decisions (JSON lines)
  demo          a drive across three cells of two domains, as a readable timeline
  preauth       pre-authenticate once with a CTN's authentication agent (PANA, EAP-PSK)
  ctn           run a CTN's services: authentication agent, access router, CA gate
  dhcp-acquire  acquire an address proactively by unicast DHCPv4 (RFC 6252 7.3.3)
  preconfigure  prepare a handover: pre-authenticate, get the nCoA, open the tunnel
  agent         run the mobile node's agent from a configuration file (mn.jsonc)
  status        show a running agent's status endpoint readably

Logs go to stderr: readable text on a terminal, JSON lines otherwise; --log-level
debug|info|warning|error (default info) before the command sets the level.

Run 'mpa <command> --help' for a command's options.`;

const _COMMANDS: Record<string, (args: readonly string[]) => Promise<number>> = {
  simulate: simulateCommand,
  replay: replayCommand,
  demo: demoCommand,
  preauth: preauthCommand,
  ctn: ctnCommand,
  "dhcp-acquire": dhcpAcquireCommand,
  preconfigure: preconfigureCommand,
  agent: agentCommand,
  status: statusCommand,
};

/**
 * Runs the CLI: dispatches `args[0]` to `simulate`, `replay`, `demo`, `preauth`,
 * `ctn`, `dhcp-acquire`, `preconfigure`, `agent` or `status`, prints
 * {@link CliError}, {@link ConfigError} and {@link MetricsValidationError}
 * messages to stderr with status 2 (or the
 * `CliError`'s own code), and logs anything else to stderr with status 1. Data
 * goes to stdout, never logs.
 *
 * @param args the command line arguments, without the program name
 * @returns the exit status (0 ok, 1 failure, 2 bad usage or input)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { main } from "./main.ts";
 * assertEquals(await main(["--help"]), 0); // prints MAIN_HELP
 * assertEquals(await main(["no-such-command"]), 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  let level: ReturnType<typeof resolveLogLevel>;
  let remaining: readonly string[];
  try {
    [level, remaining] = _logLevelFlag(args);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
  // The demo draws a live timeline on stdout: only warnings and errors on stderr,
  // unless --log-level asks for more.
  if (remaining[0] === "demo" && remaining.length === args.length) level = "warning";
  const log = setupLogging(level);
  const [command, ...given] = remaining;
  // `deno task demo -- --netns` passes the `--` on: it separates nothing here.
  const rest = given[0] === "--" ? given.slice(1) : given;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    if (command === undefined) {
      console.error(MAIN_HELP);
      return 2;
    }
    console.log(MAIN_HELP);
    return 0;
  }
  const run = _COMMANDS[command];
  if (run === undefined) {
    console.error(`Unknown command ${command}\n\n${MAIN_HELP}`);
    return 2;
  }
  // `mpa --log-level L agent|ctn`: the flag overrides the configuration file's level.
  const forwarded = (command === "agent" || command === "ctn") &&
      remaining.length !== args.length
    ? ["--log-level", level, ...rest]
    : rest;
  try {
    return await run(forwarded);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(error.message);
      return error.code;
    }
    if (error instanceof ConfigError || error instanceof MetricsValidationError) {
      console.error(error.message);
      return 2;
    }
    log.error("{command} failed: {error}", { command, error: String(error) });
    return 1;
  }
}

/** Takes a leading `--log-level LEVEL` (or `--log-level=LEVEL`) off the arguments. */
function _logLevelFlag(
  args: readonly string[],
): [ReturnType<typeof resolveLogLevel>, readonly string[]] {
  const [first, second] = args;
  if (first === "--log-level") {
    if (second === undefined) throw new ConfigError("logLevel", "Missing value: --log-level");
    return [resolveLogLevel(second, undefined), args.slice(2)];
  }
  if (first?.startsWith("--log-level=")) {
    return [resolveLogLevel(first.slice("--log-level=".length), undefined), args.slice(1)];
  }
  return [resolveLogLevel(undefined, undefined), args];
}
