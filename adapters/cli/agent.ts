/**
 * `mpa agent --config FILE [--status-listen HOST:PORT | --no-status] [--dry-run]`:
 * the mobile node's background agent (RFC 6252 sections 6.3, 7.2, C.1-C.6): link
 * metrics, candidate discovery, pre-authentication, pre-configuration, the proactive
 * handover tunnel, the binding update and the link switch, as the configuration file
 * says; a status endpoint on loopback (`/status`, `/metrics`, read by `mpa status`).
 * SIGINT/SIGTERM shut down gracefully (tunnels, leases and bindings released; a
 * second signal exits at once with 130); SIGHUP reloads the file.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { AgentConfig } from "../../lib/config/agent_config.ts";
import { formatListenAddress } from "../../lib/config/listen_address.ts";
import { type Agent, startAgent } from "../agent/agent.ts";
import { agentEventRecord } from "../agent/event_record.ts";
import { loadAgentConfig } from "../config/load_config.ts";
import { configureLogging, resolveLogLevel } from "../observe/log_setup.ts";
import { CliError } from "./replay.ts";
import { LineWriter } from "./_io.ts";
import { _formatHostPort, _oneLine, _onlyKnown, _parseHostPort, _string } from "./_net_args.ts";

const _logger = getLogger(["mpa", "agent"]);

/**
 * Help text of `mpa agent`: options, output line, signals and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { AGENT_HELP } from "./agent.ts";
 * assertStringIncludes(AGENT_HELP, "--config FILE");
 * assertStringIncludes(AGENT_HELP, "SIGHUP");
 * ```
 */
export const AGENT_HELP =
  `Usage: mpa agent --config FILE [--status-listen HOST:PORT | --no-status] [--dry-run]
                 [--log-level LEVEL] [--events FILE]

Runs the mobile node's agent (RFC 6252): link metrics from the simulator or a
trace, candidate target networks from the static table or an information server,
and for each candidate the MPA steps of section 6.3 - pre-authentication (PANA with
EAP-PSK), the new address by unicast DHCP, the proactive handover tunnel, the
binding update (SIP, Mobile IPv6, or none) - then the link switch. A failed step
falls back (a reactive handover, the previous network's retained context); the
agent keeps running.

Prints one JSON line to stdout once running:
  {"agent": "running", "status": "http://127.0.0.1:9716" | null, "mn": ID}
Logs go to stderr (text on a terminal, JSON lines otherwise; "log" in the file).
'mpa status' shows the status endpoint readably; Prometheus metrics are at /metrics.

Signals: SIGINT or SIGTERM shut down gracefully (tunnels closed, leases released,
the binding deregistered); a second one exits at once with status 130. SIGHUP
reloads the file: the log level, the decision parameters, the CTN table and the
limits change live; other changes are logged as needing a restart. An invalid file
is logged and the running configuration kept.

Options:
  --config FILE              the agent configuration (JSONC; see examples/mn.jsonc)
  --status-listen HOST:PORT  the status endpoint (default the file's status.listen,
                             127.0.0.1:9716; loopback only; port 0 picks one)
  --no-status                no status endpoint
  --dry-run                  validate the file, print a summary line, exit
  --log-level LEVEL          trace, debug, info, warning, error (default the file's)
  --events FILE              append every decision, port command, result and notice
                             as a JSON line with an epoch-ms time "t" (sub-ms), for
                             timing handovers; no keys or SAs are written
  -h, --help                 this text

Exit status: 0 stopped (by a signal, or the metrics source ended), 1 failure, 2 bad
arguments or configuration (the file, line:column and field of each mistake).`;

const _VALUED = ["config", "status-listen", "log-level", "events"];

/** Options of {@link agentCommand}. */
export interface AgentCommandOptions {
  /** Stops the agent like SIGTERM does (tests, embedding). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `mpa agent`. Needs network, read and run permissions (root for TUN devices
 * and a real link).
 *
 * @param args the arguments after `agent`
 * @param options an abort signal that stops the agent
 * @returns 0 once stopped
 * @throws {CliError} status 2 for bad arguments, status 1 when the agent failed
 * @throws {ConfigError} (status 2 from `main`) for a configuration that does not
 *   validate, an unreadable PSK or key file, a status address that cannot be bound
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { agentCommand } from "./agent.ts";
 * assertEquals(await agentCommand(["--help"]), 0); // prints AGENT_HELP
 * await assertRejects(() => agentCommand([]), CliError, "Missing --config");
 * ```
 */
export async function agentCommand(
  args: readonly string[],
  options: AgentCommandOptions = {},
): Promise<number> {
  const flags = parseArgs([...args], {
    string: _VALUED,
    boolean: ["help", "dry-run", "status"],
    negatable: ["status"],
    default: { status: true },
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(AGENT_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, "help", "h", "dry-run", "status"], "agent");
  const path = _string(flags, "config");
  if (path === undefined) {
    throw new CliError(2, "Missing --config FILE: run 'mpa agent --help' for usage");
  }
  const listenText = _string(flags, "status-listen");
  if (listenText !== undefined && flags.status === false) {
    throw new CliError(2, "Invalid --status-listen: it cannot go with --no-status");
  }
  const listen = listenText === undefined
    ? undefined
    : _parseHostPort(listenText, "--status-listen", 9716, { allowZero: true });
  const levelFlag = _string(flags, "log-level");
  if (levelFlag !== undefined) resolveLogLevel(levelFlag, undefined); // fails early

  const eventsPath = _string(flags, "events");
  const config = await loadAgentConfig(path);
  if (flags["dry-run"]) {
    const missing = await _missingFiles(config);
    for (const m of missing) {
      _logger.warn("{field} {file} cannot be read: the agent would refuse to start", m);
    }
    const out = new LineWriter();
    out.line(JSON.stringify(_summary(path, config, listen, flags.status !== false, missing)));
    out.flush();
    return 0;
  }

  let eventsFile: Deno.FsFile | undefined;
  if (eventsPath !== undefined) {
    try {
      eventsFile = Deno.openSync(eventsPath, { create: true, append: true });
    } catch (error) {
      throw new CliError(2, `Invalid --events: ${eventsPath} cannot be opened: ${_oneLine(error)}`);
    }
  }
  const applyLog = (log: AgentConfig["log"]) =>
    configureLogging({ level: resolveLogLevel(levelFlag, log.level), format: log.format });
  const agent = await startAgent({
    config,
    status: flags.status === false
      ? false
      : listen === undefined
      ? { listen: formatListenAddress(config.status.listen) }
      : { listen: _formatHostPort(listen.host, listen.port) },
    applyLog,
  }).catch((error: unknown) => {
    eventsFile?.close();
    throw error;
  });
  const stopEvents = eventsPath === undefined || eventsFile === undefined
    ? () => {}
    : _writeEvents(agent, eventsPath, eventsFile);
  const out = new LineWriter();
  out.line(JSON.stringify({
    agent: "running",
    status: agent.statusServer?.url ?? null,
    mn: agent.mnId,
  }));
  out.flush();
  const stopListening = _onSignals(agent, path, options.signal);
  let exit;
  try {
    exit = await agent.done;
  } finally {
    stopListening();
    stopEvents();
  }
  if (exit.reason === "failed") throw new CliError(1, `Agent failed: ${exit.detail}`);
  return 0;
}

/**
 * Appends the agent's events to `path` as JSON lines (`--events`); a write error is
 * logged once and the agent goes on without the file.
 */
function _writeEvents(agent: Agent, path: string, opened: Deno.FsFile): () => void {
  let file: Deno.FsFile | undefined = opened;
  const encoder = new TextEncoder();
  const sub = agent.events$.subscribe((entry) => {
    if (file === undefined) return;
    const t = performance.timeOrigin + performance.now();
    try {
      const line = JSON.stringify(agentEventRecord(entry, t)) + "\n";
      const bytes = encoder.encode(line);
      let done = 0;
      while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
    } catch (error) {
      _logger.error("Events file {path} not written, no more events go there: {error}", {
        path,
        error: _oneLine(error),
      });
      file.close();
      file = undefined;
    }
  });
  return () => {
    sub.unsubscribe();
    file?.close();
    file = undefined;
  };
}

/** SIGINT/SIGTERM: graceful shutdown, then 130 at once; SIGHUP: reload. */
function _onSignals(agent: Agent, path: string, signal: AbortSignal | undefined): () => void {
  const handlers = new Map<Deno.Signal, () => void>();
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) {
      _logger.warn("{signal} again: exiting at once", { signal: why });
      Deno.exit(130);
    }
    stopping = true;
    _logger.info("{signal} received: shutting down", { signal: why });
    void agent.shutdown(`${why} received`);
  };
  const stoppers: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const sig of stoppers) handlers.set(sig, () => stop(sig));
  if (Deno.build.os !== "windows") {
    handlers.set("SIGHUP", () => {
      _logger.info("SIGHUP received: reloading {path}", { path });
      loadAgentConfig(path).then(
        (next) => agent.reload(next),
        (error: unknown) =>
          _logger.error("Reload failed, the running configuration is kept: {error}", {
            error: error instanceof Error ? error.message : String(error),
          }),
      ).catch((error: unknown) =>
        _logger.error("Reload failed: {error}", { error: _oneLine(error) })
      );
    });
  }
  for (const [sig, handler] of handlers) Deno.addSignalListener(sig, handler);
  const onAbort = () => stop("abort");
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return () => {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
    signal?.removeEventListener("abort", onAbort);
  };
}

/** Files the configuration names that cannot be read (the agent reads them at start). */
async function _missingFiles(
  config: AgentConfig,
): Promise<readonly { readonly field: string; readonly file: string }[]> {
  const files: { field: string; file: string }[] = [{
    field: "mn.pskFile",
    file: config.mn.pskFile,
  }];
  if (config.mobility.kind === "mip6") {
    files.push({ field: "mobility.keyFile", file: config.mobility.keyFile });
  }
  if (config.metrics.source === "replay") {
    files.push({ field: "metrics.file", file: config.metrics.file });
  }
  const missing = [];
  for (const f of files) {
    try {
      const info = await Deno.stat(f.file);
      if (!info.isFile) missing.push(f);
    } catch {
      missing.push(f);
    }
  }
  return missing;
}

/** The `--dry-run` line: the resolved configuration in brief. */
function _summary(
  path: string,
  config: AgentConfig,
  listen: { readonly host: string; readonly port: number } | undefined,
  status: boolean,
  missing: readonly { readonly field: string }[],
): Record<string, unknown> {
  const m = config.metrics;
  const d = config.discovery;
  const l = config.link;
  return {
    valid: true,
    config: path,
    mn: config.mn.mnId,
    identity: config.mn.identity,
    link: l.kind === "ip"
      ? { kind: "ip", interface: l.interface, netns: l.netns ?? null, oCoA: l.oCoA }
      : l.kind === "netns"
      ? {
        kind: "netns",
        interface: l.interface,
        netns: l.netns ?? null,
        air: l.air,
        poas: Object.keys(l.poas),
        oCoA: l.oCoA,
      }
      : { kind: l.kind },
    metrics: m.source === "simulate"
      ? { source: "simulate", scenario: m.scenario, seed: m.seed, pace: m.pace }
      : { source: "replay", file: m.file, pace: m.pace },
    discovery: d.kind === "static"
      ? { kind: "static", ctns: d.ctns.map((c) => c.network) }
      : { kind: d.kind, server: _formatHostPort(d.server.address, d.server.port) },
    mobility: config.mobility.kind,
    tunnel: config.tunnel,
    buffering: config.buffering,
    limits: config.limits,
    status: !status
      ? null
      : `http://${
        listen === undefined
          ? formatListenAddress(config.status.listen)
          : _formatHostPort(listen.host, listen.port)
      }`,
    log: config.log,
    unreadableFiles: missing.map((f) => f.field),
  };
}
