/**
 * `mpa demo`: the embedded demo (RFC 6252 sections 6.3, 7.4-7.6, C.5). One process
 * starts two candidate target networks of two domains (AA, CA and AR each on its own
 * loopback address), a correspondent streaming RTP at 50 packets/s, and the mobile
 * node's MPA sessions driven by a simulated drive across the cells; the protocols are
 * the real ones on real sockets (PANA/EAP-PSK, DHCP, the proactive handover tunnel
 * carrying IP packets in user space, SIP re-INVITE). It prints a live timeline (with a
 * progress bar on a terminal) and a table of the phase timings and of the stream's
 * packets at the end; see `adapters/demo/embedded_demo.ts`.
 *
 * `--decisions` keeps the earlier view: the handover decisions of a simulated drive,
 * without any network.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { demoNetns } from "./_demo_netns.ts";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { decide } from "../../lib/decision/decide.ts";
import { formatDecisionRow } from "../../lib/decision/format.ts";
import { scenario as findScenario } from "../metrics/scenarios.ts";
import { simulateTrace } from "../metrics/simulator.ts";
import { runEmbeddedDemo } from "../demo/embedded_demo.ts";
import {
  demoSummaryJson,
  formatDemoEvent,
  formatDemoSummary,
  formatProgress,
} from "../demo/demo_report.ts";
import { CliError } from "./replay.ts";
import { attachNegativeValues, LineWriter } from "./_io.ts";

/**
 * Help text of `mpa demo`: what the embedded demo runs and shows (RFC 6252 section 6.3
 * with the section C.6 phase timings and the section C.5 stream figures), and the
 * options, `--decisions` among them.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DEMO_HELP } from "./demo.ts";
 * assertStringIncludes(DEMO_HELP, "--seed N");
 * assertStringIncludes(DEMO_HELP, "--no-buffering");
 * assertStringIncludes(DEMO_HELP, "section C.6");
 * ```
 */
export const DEMO_HELP = `Usage: mpa demo [--speed N] [--seed N] [--no-buffering] [--json]
       mpa demo --netns
       mpa demo --decisions [--seed N] [--scenario NAME]

Runs an MPA handover for real, in one process on loopback, no root needed: two
candidate target networks of two domains (domainB, domainC: authentication agent,
DHCP server and access router each on its own 127.0.x.y address), a correspondent
streaming RTP at 50 packets/s, and the mobile node driven by a simulated drive from
domainA towards them. PANA/EAP-PSK with both CTNs in parallel (RFC 6252 step 1),
DHCP and the proactive handover tunnel to the likelier one (step 2), the SIP
re-INVITE through the tunnel (step 3), AR buffering across the link switch (steps
4-6), the release of the CTN not chosen. The tunnel carries real IP packets between
user-space endpoints (no TUN device).

Prints a timeline (wall time, drive time, what happened), a progress bar of the
drive on a terminal, and a table: per CTN the section C.6 phases Tauth, Tconf,
tunnel, BU and switch; the packets sent, received, lost, duplicated and buffered;
the interruption (largest gap between packets) and the jitter.

Options:
  --speed N         drive time compression (default 2: 10 s of drive in 5 s)
  --seed N          seed of the simulated drive (default 3; 1 with --decisions)
  --no-buffering    no AR buffering: the packets of the link switch are lost
  --link-delay MS   link-layer association time of the switch (default 40)
  --settle MS       how long the stream runs after the handover (default 1000)
  --net N           use 127.N.0.0/16 (default 0), to run two demos at once
  --json            print only the summary, as one JSON line
  --netns           the same with network namespaces and TUN devices (root, a
                    source checkout): one MPA and one reactive handover of the
                    testbed (bench/handover), printed as a table
  --decisions       print only the handover decisions of the built-in scenario
                    "demo" (no network), as before
  --scenario NAME   with --decisions: another built-in scenario
  -h, --help        this text`;

function _number(
  flags: Record<string, unknown>,
  name: string,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (String(text).trim() === "" || !check(n)) {
    throw new CliError(2, `Invalid --${name}: expected ${expected}, got ${text}`);
  }
  return n;
}

/**
 * Runs `mpa demo`: the embedded demo (a live timeline, then the table, or one JSON
 * line with `--json`), or with `--decisions` the decisions of a simulated drive.
 *
 * @param args the arguments after `demo`
 * @returns the exit status: 0 when done (1 when the run could not release everything)
 * @throws {CliError} with status 2 for unknown options or bad values
 * @throws {ConfigError} for an unknown scenario name
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { demoCommand } from "./demo.ts";
 * assertEquals(await demoCommand(["--help"]), 0); // prints DEMO_HELP
 * ```
 */
export async function demoCommand(args: readonly string[]): Promise<number> {
  const valued = ["seed", "scenario", "speed", "link-delay", "settle", "net"];
  const flags = parseArgs(attachNegativeValues(args, valued), {
    string: valued,
    boolean: ["help", "decisions", "json", "buffering", "netns"],
    negatable: ["buffering"],
    alias: { h: "help" },
    default: { buffering: true },
  });
  const known = ["_", ...valued, "help", "h", "decisions", "json", "buffering", "netns"];
  const unknown = Object.keys(flags).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new CliError(2, `Unknown option --${unknown[0]}\n\n${DEMO_HELP}`);
  if (flags._.length > 0) {
    throw new CliError(2, `Unexpected argument ${flags._[0]}\n\n${DEMO_HELP}`);
  }
  if (flags.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const seed = _number(flags, "seed", Number.isSafeInteger, "an integer");
  if (flags.netns) {
    const others = [...valued, "decisions", "json"].filter((n) =>
      flags[n] !== undefined &&
      flags[n] !== false
    );
    if (others.length > 0 || flags.buffering === false) {
      throw new CliError(2, `--netns takes no other option, got --${others[0] ?? "no-buffering"}`);
    }
    const out = new LineWriter();
    const status = await demoNetns((text) => {
      out.line(text);
      out.flush();
    });
    out.flush();
    return status;
  }
  if (flags.decisions) {
    for (const name of ["speed", "link-delay", "settle", "net"]) {
      if (flags[name] !== undefined) {
        throw new CliError(2, `--${name} does not apply to --decisions`);
      }
    }
    return await _decisions(seed ?? 1, String(flags.scenario ?? "demo"));
  }
  if (flags.scenario !== undefined) {
    throw new CliError(
      2,
      "--scenario applies to --decisions only: the embedded demo has its own drive",
    );
  }
  const speed = _number(flags, "speed", (n) => n > 0 && n <= 1000, "a number in (0, 1000]");
  const linkDelay = _number(flags, "link-delay", (n) => n >= 0 && n <= 10_000, "0 to 10000 ms");
  const settle = _number(flags, "settle", (n) => n >= 0 && n <= 60_000, "0 to 60000 ms");
  const net = _number(flags, "net", (n) => Number.isInteger(n) && n >= 0 && n <= 255, "0 to 255");
  const json = flags.json === true;
  const out = new LineWriter();
  const bar = !json && Deno.stdout.isTerminal();
  const encoder = new TextEncoder();
  let progress = "";
  const raw = (text: string) => {
    try {
      Deno.stdout.writeSync(encoder.encode(text));
    } catch {
      // the reader went away: the summary is lost, the run still releases everything
    }
  };
  const line = (text: string) => {
    if (json) return;
    if (bar && progress !== "") raw("\r\x1b[2K");
    out.line(text);
    out.flush();
    if (bar && progress !== "") raw(progress);
  };
  let lastBar = 0;
  const summary = await runEmbeddedDemo({
    ...(seed === undefined ? {} : { seed }),
    ...(speed === undefined ? {} : { speed }),
    buffering: flags.buffering !== false,
    ...(linkDelay === undefined ? {} : { associationDelayMs: linkDelay }),
    ...(settle === undefined ? {} : { settleMs: settle }),
    ...(net === undefined ? {} : { net }),
    onEvent: (e) => line(formatDemoEvent(e)),
    ...(bar
      ? {
        onProgress: (done: number, total: number) => {
          const now = performance.now();
          if (now - lastBar < 100 && done < total) return;
          lastBar = now;
          progress = formatProgress(done, total);
          raw(`\r\x1b[2K${progress}`);
        },
      }
      : {}),
  });
  if (bar && progress !== "") raw("\r\x1b[2K");
  progress = "";
  if (json) out.line(demoSummaryJson(summary));
  else {
    out.line("");
    for (const l of formatDemoSummary(summary)) out.line(l);
  }
  out.flush();
  return summary.release.allReleased ? 0 : 1;
}

/** The decisions-only view (`--decisions`): the timeline of `decide` over a simulated drive. */
async function _decisions(seed: number, name: string): Promise<number> {
  const scenario = findScenario(name);
  const trace = simulateTrace(scenario, { seed });
  const decisions = await lastValueFrom(
    decide(from(trace), { cells: scenario.cells, ctns: scenario.ctns }).pipe(toArray()),
  );
  const out = new LineWriter();
  const networks = new Set(scenario.cells.map((c) => c.network));
  out.line(`mpa demo --decisions: ${scenario.description}`);
  out.line(
    `scenario "${scenario.name}", seed ${seed}: ${scenario.cells.length} cells in ${networks.size} domains, ` +
      `${trace.length} link samples over ${scenario.durationS} s`,
  );
  for (const p of scenario.ctns) {
    out.line(
      `  ${p.network}: RTT ${p.rttMs ?? "?"} ms, Tpsk ${p.tpskMs ?? "?"} ms, Tconf ${
        p.tconfMs ?? "?"
      } ms, T_BU ${p.tbuMs ?? "?"} ms`,
    );
  }
  out.line("");
  out.line("    time    decision      target     poa   reason");
  for (const d of decisions) out.line(formatDecisionRow(d, 0));
  const switches = decisions.filter((d) => d.kind === "switch");
  const inter = switches.filter((d) => d.kind === "switch" && d.ctn !== d.fromNetwork);
  const ready = inter.filter((d) => d.kind === "switch" && d.prepared.length === 3);
  out.line("");
  out.line(
    `${switches.length} switch(es), ${inter.length} between domains, ${ready.length} of them fully prepared ` +
      `(pre-authenticated, pre-configured and bound before the link switch).`,
  );
  out.line("Decisions only: 'mpa demo' without --decisions carries them out on loopback.");
  out.flush();
  return 0;
}
