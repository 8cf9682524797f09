/**
 * `mpa status [--url URL] [--json] [--timeout MS]`: asks a running agent's status
 * endpoint and prints the serving network, counters, each MPA session with its
 * phase and phase timings (RFC 6252 section 6.3), and the retained contexts
 * (sections C.1, C.2).
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import type { AgentStatus } from "../../lib/observe/agent_status.ts";
import { formatAgentStatus } from "../../lib/observe/format_agent_status.ts";
import { parseAgentStatus } from "../../lib/observe/parse_agent_status.ts";
import { CliError } from "./replay.ts";
import { attachNegativeValues } from "./_io.ts";
import { _oneLine, _onlyKnown, _positive, _string } from "./_net_args.ts";

/** The URL `mpa status` asks when `--url` is not given (the status server's default). */
export const STATUS_DEFAULT_URL = "http://127.0.0.1:9716";

const _DEFAULT_TIMEOUT_MS = 2000;

/**
 * Help text of `mpa status`: options, output and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { STATUS_HELP } from "./status.ts";
 * assertStringIncludes(STATUS_HELP, "--url URL");
 * assertStringIncludes(STATUS_HELP, "--json");
 * ```
 */
export const STATUS_HELP = `Usage: mpa status [--url URL] [--json] [--timeout MS]

Asks a running agent's status endpoint (GET URL/status) and prints the serving
network, the counters, one table per MPA session with its phase and the start,
end and duration of each phase in ms (RFC 6252 section 6.3), and the contexts
retained for a switch-back (sections C.1, C.2). Metrics for Prometheus are at
URL/metrics.

Options:
  --url URL     the agent's status server (default ${STATUS_DEFAULT_URL})
  --json        print the agent's JSON as received (one line) instead of text
  --timeout MS  give up after MS milliseconds (default ${_DEFAULT_TIMEOUT_MS})
  -h, --help    this text

Exit status: 0 printed, 1 agent unreachable, answering with an error, or sending
an invalid status, 2 bad arguments.`;

const _VALUED = ["url", "timeout"];

/** Options of {@link statusCommand}. */
export interface StatusCommandOptions {
  /** Where output goes, one call per printed block (default `console.log`). */
  readonly write?: (text: string) => void;
}

/**
 * Runs `mpa status`. Needs network permission for the URL.
 *
 * @param args the arguments after `status`
 * @param options where the output goes
 * @returns 0 once printed
 * @throws {CliError} status 1 with a one-line reason when the agent cannot be
 *   reached, answers with an HTTP error, or sends something that is not an agent
 *   status; status 2 for bad arguments
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { statusCommand } from "./status.ts";
 * assertEquals(await statusCommand(["--help"], { write: () => {} }), 0);
 * await assertRejects(() => statusCommand(["--url", "ftp://x"]), CliError, "Invalid --url");
 * ```
 */
export async function statusCommand(
  args: readonly string[],
  options: StatusCommandOptions = {},
): Promise<number> {
  const write = options.write ?? ((text: string) => console.log(text));
  const flags = parseArgs(attachNegativeValues(args, _VALUED), {
    string: _VALUED,
    boolean: ["help", "json"],
    alias: { h: "help" },
  });
  if (flags.help) {
    write(STATUS_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, "json", "help", "h"], "status");
  const base = _baseUrl(_string(flags, "url") ?? STATUS_DEFAULT_URL);
  const timeoutText = _string(flags, "timeout");
  const timeoutMs = timeoutText === undefined
    ? _DEFAULT_TIMEOUT_MS
    : _positive(timeoutText, "--timeout", { integer: true, max: 3_600_000 });
  const url = `${base}/status`;
  const body = await _fetchStatus(url, timeoutMs);
  let status: AgentStatus;
  try {
    status = parseAgentStatus(JSON.parse(body));
  } catch (error) {
    throw new CliError(1, `Invalid status from ${url}: ${_oneLine(error)}`);
  }
  write(flags.json ? body.trim() : formatAgentStatus(status));
  return 0;
}

/** Checks `--url` and drops trailing slashes. */
function _baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(2, `Invalid --url: expected an http:// or https:// URL, got "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(2, `Invalid --url: expected an http:// or https:// URL, got "${text}"`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new CliError(2, `Invalid --url: expected a base URL without query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

/** GETs the status body; every failure is a one-line CliError with status 1. */
async function _fetchStatus(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
  } catch (error) {
    const reason = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer within ${timeoutMs} ms`
      : _oneLine(error);
    throw new CliError(1, `Cannot reach the agent at ${url}: ${reason}`);
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    throw new CliError(1, `Cannot read the status from ${url}: ${_oneLine(error)}`);
  }
  if (!response.ok) {
    throw new CliError(
      1,
      `Agent status request failed: HTTP ${response.status} ${response.statusText} from ${url}`,
    );
  }
  return body;
}
