/**
 * The handover testbed (RFC 6252 Appendix C.5): builds the namespaces of
 * topology.ts, runs each scenario N times with real processes, measures every run
 * (measure.ts) and writes the report (report.ts) and the raw JSON.
 *
 * ```
 * deno run -A bench/handover/run.ts [--runs N] [--scenarios a,b] [--protocols sip,mip6]
 *   [--aaa local,roaming] [--reduced] [--rate 50|62.5] [--out DIR] [--cn-rtt MS]
 *   [--aaa-rtt MS] [--association-ms MS] [--driver scripted|agent] [--prefix P]
 * ```
 *
 * Scenarios (in order of value): `reactive` (no MPA: switch, then authenticate,
 * configure and bind), `mpa-buffering`, `mpa-no-buffering`, `not-chosen` (two CTNs
 * prepared, the binding through the first, the MN ends in the second), `ping-pong`
 * (RFC 6252 C.1, C.2: both CTNs prepared, MPA with buffering into A = the first,
 * then A -> B -> A -> B on the retained contexts, 1.5 s dwell, each switch measured:
 * before each switch the MN re-opens the proactive tunnel to the retained target from
 * its current address, binds through it and buffers there; see `reopen` in
 * _mn_scripted.ts), `multi-interface` (RFC 6252 section 7.6.2: copy-and-forward to
 * the MN's second interface in CTN 1's cell, then a sudden loss of the first
 * interface's link; the topology gets the second interface only when it runs). Each runs
 * with SIP and Mobile IPv6 bindings and, with `--aaa local,roaming`, with local and
 * roaming authentication. `--reduced` is CI's: one CTN, three runs, reactive and
 * mpa-buffering, SIP, local. Needs root, /dev/net/tun, kea-dhcp4 and nft (hostapd
 * for roaming). Everything is torn down at the end, after a failure, and on SIGINT /
 * SIGTERM.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import type { JsonLineChild } from "../../tests/fixtures/netns/json_line_child.ts";
import { measureLegs, measureRun } from "./measure.ts";
import { agentDriverRefusal } from "./_mn_agent.ts";
import {
  type BindingProtocol,
  createMnDriver,
  type HandoverPlan,
  MIP_KEY_HEX,
} from "./mn_driver.ts";
import {
  compactResults,
  renderReport,
  type RunRecord,
  type ScenarioResult,
  type TestbedResults,
} from "./report.ts";
import { ADDR, buildHandoverTopology, type HandoverTopology } from "./topology.ts";

/** Scenario ids, in order of value. */
export const SCENARIOS = [
  "reactive",
  "mpa-buffering",
  "mpa-no-buffering",
  "not-chosen",
  "ping-pong",
  "multi-interface",
] as const;
/** A scenario id. */
export type ScenarioId = typeof SCENARIOS[number];

/** Options of {@link runTestbed}. */
export interface TestbedOptions {
  /** Runs per scenario (default 10). */
  readonly runs?: number;
  /** Scenarios (default all). */
  readonly scenarios?: readonly ScenarioId[];
  /** Binding protocols (default sip and mip6). */
  readonly protocols?: readonly BindingProtocol[];
  /** Authentication cases (default local). */
  readonly aaa?: readonly ("local" | "roaming")[];
  /** Packets per second of the stream (50 or 62.5; default 50). */
  readonly rate?: number;
  /** RTT to the CN / home agent, ms (default 100). */
  readonly cnRttMs?: number;
  /** RTT to the home AAA server, roaming, ms (default 100). */
  readonly aaaRttMs?: number;
  /** Modelled layer-2 association time, ms (default 0: only the bridge move). */
  readonly associationDelayMs?: number;
  /** Namespace prefix (default mpatb). */
  readonly prefix?: string;
  /** How many CTNs to bring up (default 2, 1 when neither not-chosen nor ping-pong runs). */
  readonly ctns?: 1 | 2;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Time between two ping-pong switches, ms. */
export const PING_PONG_DWELL_MS = 1500;

/** The ping-pong switches' labels (A = the first CTN, B = the second). */
export const PING_PONG_LEGS = ["A->B", "B->A", "A->B (again)"] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function planOf(
  id: ScenarioId,
  protocol: BindingProtocol,
  topo: HandoverTopology,
  associationDelayMs: number,
): HandoverPlan {
  const [c1, c2] = topo.ctns;
  const base = { protocol, associationDelayMs, mediaPort: 40_000 };
  switch (id) {
    case "reactive":
      return { ...base, mode: "reactive", buffering: false, prepare: [], target: c1! };
    case "mpa-buffering":
      return { ...base, mode: "mpa", buffering: true, prepare: [c1!], target: c1! };
    case "mpa-no-buffering":
      return { ...base, mode: "mpa", buffering: false, prepare: [c1!], target: c1! };
    case "not-chosen":
      return { ...base, mode: "mpa", buffering: true, prepare: [c1!, c2!], target: c2! };
    case "multi-interface":
      return {
        ...base,
        mode: "mpa",
        buffering: false,
        prepare: [c1!],
        target: c1!,
        copyForward: true,
      };
    case "ping-pong":
      return {
        ...base,
        mode: "mpa",
        buffering: true,
        prepare: [c1!, c2!],
        target: c1!,
        pingPong: { legs: [c2!, c1!, c2!], dwellMs: PING_PONG_DWELL_MS },
      };
  }
}

/** One run: CN child, MN driver, stream, metrics. */
async function runOnce(
  topo: HandoverTopology,
  plan: HandoverPlan,
  rate: number,
  driverKind: "scripted" | "agent",
): Promise<RunRecord[]> {
  await topo.resetMn();
  const cn: JsonLineChild = await topo.lab.spawnDeno(
    topo.ns.cn!,
    new URL("../../tests/fixtures/binding/_cn.ts", import.meta.url),
  );
  // The agent runs what it has a trace for; the rest is the scripted MN's.
  const driver = createMnDriver(
    driverKind === "agent" && agentDriverRefusal(plan) === undefined ? "agent" : "scripted",
    topo,
  );
  try {
    if (plan.protocol === "sip") {
      await cn.request("sipListen", { address: ADDR.cn, port: 5060, rate });
    } else {
      await cn.request("haListen", {
        address: ADDR.cn,
        home: ADDR.home,
        keyHex: MIP_KEY_HEX,
        mediaPort: plan.mediaPort,
        rate,
        start: false,
      });
    }
    const trace = await driver.run(plan, {
      streamUp: async () => {
        if (plan.protocol === "mip6") await cn.request("haStream");
      },
      settleMs: 1000,
    });
    await sleep(1000);
    const rec = await cn.request<{ sent: [number, number][] }>("records");
    await sleep(400); // the last packets' flight (one-way delay + the queue)
    const arrivals = await driver.arrivals();
    const sentAt = new Map(rec.sent.map(([s, t]) => [s % 65536, t]));
    const timeline: Timeline = arrivals.map((
      [s, at, dup],
    ) => [at, sentAt.get(s % 65536) ?? NaN, dup]);
    const intervalMs = 1000 / rate;
    if (trace.legs === undefined) {
      return [{
        metrics: measureRun({ sent: rec.sent, arrivals, trace, intervalMs }),
        trace,
        timeline,
      }];
    }
    const { legs, ...before } = trace;
    const per = measureLegs({ sent: rec.sent, arrivals, before, legs, intervalMs });
    return legs.map((leg, i) => ({
      leg: PING_PONG_LEGS[i] ?? `#${i + 1}`,
      metrics: per[i]!,
      trace: leg,
      timeline,
    }));
  } finally {
    await driver.stop().catch(() => {});
    await cn.stop().catch(() => {});
  }
}

/** [arrivedAt, sentAt, duplicate] per datagram. */
export type Timeline = readonly (readonly [number, number, number])[];

/**
 * Runs the testbed and returns every result (report.ts renders them).
 *
 * @param options runs, scenarios, protocols, AAA cases, parameters
 * @param driverKind the MN driver (default scripted)
 * @returns the results
 */
export async function runTestbed(
  options: TestbedOptions = {},
  driverKind: "scripted" | "agent" = "scripted",
): Promise<TestbedResults> {
  const started = performance.now();
  const runs = options.runs ?? 10;
  const scenarios = options.scenarios ?? SCENARIOS;
  const protocols = options.protocols ?? ["sip", "mip6"];
  const rate = options.rate ?? 50;
  const association = options.associationDelayMs ?? 0;
  const log = options.log ?? (() => {});
  const ctns = options.ctns ??
    (scenarios.includes("not-chosen") || scenarios.includes("ping-pong") ? 2 : 1);
  const results: ScenarioResult[] = [];
  let parameters: Record<string, string | number> = {};
  const errors: string[] = [];
  for (const aaa of options.aaa ?? ["local"]) {
    let topo: HandoverTopology;
    try {
      topo = await buildHandoverTopology({
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.cnRttMs === undefined ? {} : { cnRttMs: options.cnRttMs }),
        ...(options.aaaRttMs === undefined ? {} : { aaaRttMs: options.aaaRttMs }),
        aaa,
        ctns,
        secondInterface: scenarios.includes("multi-interface"),
      });
    } catch (error) {
      // A testbed that does not come up (a server that exits) fails that AAA case only.
      errors.push(`${aaa}: testbed did not come up: ${(error as Error).message.slice(0, 2000)}`);
      log(errors.at(-1)!);
      continue;
    }
    const stop = () => void topo.dispose().finally(() => Deno.exit(130));
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      parameters = {
        ...parameters,
        ...topo.parameters,
        aaa: aaa === "local"
          ? String(topo.parameters.aaa)
          : `${parameters.aaa ?? ""}; ${String(topo.parameters.aaa)}`,
        ratePps: rate,
        intervalMs: 1000 / rate,
        associationDelayMs: association,
        pingPongDwellMs: PING_PONG_DWELL_MS,
        settleMs: 1000,
        runs,
        driver: driverKind === "scripted"
          ? "scripted"
          : `agent (mpa agent --config, crossing trace) for ${
            scenarios.filter((id) =>
              agentDriverRefusal(planOf(id, protocols[0]!, topo, association)) === undefined
            ).join(", ") || "none"
          }; scripted for the rest`,
        linkSwitch:
          "NetnsLinkControl: one long-lived ip -batch process re-masters the MN's veth peer",
        kernel: Deno.osRelease(),
        deno: Deno.version.deno,
      };
      for (const protocol of protocols) {
        for (const id of scenarios) {
          const plan = planOf(id, protocol, topo, association);
          const r: ScenarioResult = { id, protocol, aaa, runs: [] };
          for (let i = 0; i < runs; i++) {
            try {
              for (const one of await runOnce(topo, plan, rate, driverKind)) {
                r.runs.push(one);
                log(
                  `${aaa} ${protocol} ${id}${one.leg === undefined ? "" : ` ${one.leg}`} #${
                    i + 1
                  }: lost ${one.metrics.lost}, dup ${one.metrics.duplicated}${
                    one.metrics.dedupDropped === undefined
                      ? ""
                      : ` (dedup dropped ${one.metrics.dedupDropped})`
                  }, interruption ${one.metrics.interruptionMs.toFixed(1)} ms, link ${
                    one.metrics.linkSwitchMs.toFixed(2)
                  } ms, L3 ${one.metrics.l3HandoverMs.toFixed(1)} ms`,
                );
              }
            } catch (error) {
              r.failures = [...(r.failures ?? []), String((error as Error).message).slice(0, 2000)];
              log(`${aaa} ${protocol} ${id} #${i + 1} FAILED: ${(error as Error).message}`);
            }
          }
          results.push(r);
        }
      }
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      await topo.dispose();
    }
  }
  if (errors.length > 0) parameters = { ...parameters, errors: errors.join(" | ") };
  parameters = {
    ...parameters,
    wallTimeMin: Number(((performance.now() - started) / 60_000).toFixed(1)),
  };
  return { parameters, scenarios: results, date: new Date().toISOString() };
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, {
    string: [
      "runs",
      "scenarios",
      "protocols",
      "aaa",
      "rate",
      "out",
      "cn-rtt",
      "aaa-rtt",
      "association-ms",
      "driver",
      "prefix",
    ],
    boolean: ["reduced", "help"],
  });
  if (flags.help) {
    console.log(
      "Usage: deno run -A bench/handover/run.ts [--runs N] [--scenarios " + SCENARIOS.join(",") +
        "] [--protocols sip,mip6] [--aaa local,roaming] [--reduced] [--rate 50|62.5] [--out DIR]" +
        " [--cn-rtt MS] [--aaa-rtt MS] [--association-ms MS] [--driver scripted|agent]" +
        " [--prefix P]",
    );
    Deno.exit(0);
  }
  const list = <T extends string>(v: string | undefined, allowed: readonly T[]) => {
    if (v === undefined) return undefined;
    const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const s of items) {
      if (!allowed.includes(s as T)) {
        console.error(`Invalid value: ${s} (expected one of ${allowed.join(", ")})`);
        Deno.exit(2);
      }
    }
    return items as T[];
  };
  const num = (v: string | undefined) => v === undefined ? undefined : Number(v);
  const reduced = flags.reduced === true;
  const out = flags.out ?? new URL("./", import.meta.url).pathname;
  const options: TestbedOptions = {
    runs: num(flags.runs) ?? (reduced ? 3 : 10),
    scenarios: list(flags.scenarios, SCENARIOS) ??
      (reduced ? ["reactive", "mpa-buffering"] : SCENARIOS),
    protocols: list(flags.protocols, ["sip", "mip6"] as const) ??
      (reduced ? ["sip"] : ["sip", "mip6"]),
    aaa: list(flags.aaa, ["local", "roaming"] as const) ?? ["local"],
    rate: num(flags.rate) ?? 50,
    ...(flags["cn-rtt"] === undefined ? {} : { cnRttMs: Number(flags["cn-rtt"]) }),
    ...(flags["aaa-rtt"] === undefined ? {} : { aaaRttMs: Number(flags["aaa-rtt"]) }),
    ...(flags["association-ms"] === undefined
      ? {}
      : { associationDelayMs: Number(flags["association-ms"]) }),
    ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
    ...(reduced ? { ctns: 1 as const } : {}),
    log: (l) => console.error(l),
  };
  const driver = (flags.driver ?? "scripted") as "scripted" | "agent";
  const t0 = performance.now();
  const results = await runTestbed(options, driver);
  await Deno.mkdir(`${out}/results`, { recursive: true });
  const stamp = results.date.replace(/[:.]/g, "-");
  const report = renderReport(results);
  // The raw JSON: per run its metrics and phase times; packet timelines only for the
  // runs the SVGs show, cut to their window; times rounded to 1 us.
  await Deno.writeTextFile(
    `${out}/results/${stamp}.json`,
    JSON.stringify(
      compactResults(results),
      (_k, v) => typeof v === "number" ? Math.round(v * 1000) / 1000 : v,
    ) + "\n",
  );
  await Deno.writeTextFile(`${out}/report.md`, report.markdown);
  for (const [name, svg] of Object.entries(report.svgs)) {
    await Deno.writeTextFile(`${out}/results/${name}`, svg);
  }
  console.log(
    `Wrote ${out}/report.md and ${out}/results/${stamp}.json in ${
      ((performance.now() - t0) / 60_000).toFixed(1)
    } min`,
  );
}
