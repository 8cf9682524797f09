/**
 * Decision quality: the built-in simulator scenarios x 20 seeds through `decide` and
 * through a plain A3 baseline (layer-3 filter, hysteresis 3 dB / leave 2 dB,
 * time-to-trigger 256 ms; no planner, no recovery, no forced switch on outage), with
 * handovers, ping-pongs, too-late handovers and fully prepared inter-network
 * switches per scenario (metrics in `bench/_quality.ts`).
 *
 * `deno run --allow-read bench/decision_quality.ts` (`deno task quality`) prints a
 * markdown table and the verdict on the goals (ping-pongs at most 20% of the
 * baseline's, no more too-late handovers); `--json` prints the raw numbers instead.
 *
 * @module
 */
import { defer, filter, from, map, type Observable, tap } from "npm:rxjs@^7.8.2";
import { scenarios } from "../adapters/metrics/scenarios.ts";
import { simulateTrace } from "../adapters/metrics/simulator.ts";
import { decide, type DecideOptions } from "../lib/decision/decide.ts";
import type { Decision, SwitchDecision } from "../lib/decision/decision.ts";
import { SampleClock } from "../lib/decision/sample_clock.ts";
import type { LinkSample } from "../lib/metrics/link_sample.ts";
import { hysteresis, type Qualification } from "../lib/operators/hysteresis.ts";
import { l3Filter } from "../lib/operators/l3_filter.ts";
import { timeToTrigger } from "../lib/operators/time_to_trigger.ts";
import { addCounts, NO_COUNTS, type QualityCounts, qualityOf, switchesOf } from "./_quality.ts";

/** Settings of the plain A3 baseline. */
export interface A3BaselineOptions {
  /** L3 filter coefficient k. Default 4. */
  readonly k?: number;
  /** A3 margin, dB. Default 3. */
  readonly margin?: number;
  /** Leave margin, dB. Default 2. */
  readonly leave?: number;
  /** Time-to-trigger, ms. Default 256. */
  readonly timeToTrigger?: number;
  /** A neighbour not heard for this long is forgotten, ms. Default 1000. */
  readonly maxAgeMs?: number;
}

/**
 * A plain A3 handover (3GPP TS 36.331 event A3 with time-to-trigger) from the same
 * operators `decide` uses: l3Filter → hysteresis against the serving PoA →
 * timeToTrigger on the sample clock → switch. The first attachment is the strongest
 * PoA of the first instant (as in `decide`). No preparation (`prepared` is always
 * empty), no recovery, no forced switch when the serving link is lost.
 *
 * @param samples$ link samples, time never decreasing
 * @param options the A3 settings
 * @returns the switch decisions
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const samples = [];
 * for (let t = 0; t <= 3000; t += 100) {
 *   samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
 *   samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
 * }
 * const out = await lastValueFrom(a3Baseline(from(samples)).pipe(toArray()));
 * assertEquals(out.map((d) => [d.from, d.poa, d.prepared.length]), [["a1", "b1", 0]]);
 * ```
 */
export function a3Baseline(
  samples$: Observable<LinkSample>,
  options: A3BaselineOptions = {},
): Observable<SwitchDecision> {
  return defer(() => {
    const clock = new SampleClock();
    let started = false;
    let firstT: number | undefined;
    let serving: { poa: string; network: string; snr: number } | undefined;
    return samples$.pipe(
      tap((s) => {
        if (!started) {
          started = true;
          clock.frame = s.t;
        } else clock.advanceTo(s.t);
      }),
      l3Filter({ k: options.k ?? 4 }),
      tap((s) => {
        // The first attachment: the strongest PoA of the first instant.
        if (serving === undefined) {
          firstT = s.t;
          serving = { poa: s.poa, network: s.network, snr: s.snr };
        } else if (s.t === firstT && s.snr > serving.snr && s.poa !== serving.poa) {
          serving = { poa: s.poa, network: s.network, snr: s.snr };
        }
      }),
      hysteresis({
        serving: () => serving?.poa,
        margin: options.margin ?? 3,
        leave: options.leave ?? 2,
        maxAgeMs: options.maxAgeMs ?? 1000,
      }),
      timeToTrigger({
        key: (q: Qualification) => q.poa,
        holds: (q: Qualification) => q.qualified,
        dwell: options.timeToTrigger ?? 256,
        scheduler: clock,
      }),
      // A trigger counts only if it is still about the current serving PoA.
      filter((q) =>
        q.qualified && serving !== undefined && q.serving === serving.poa &&
        q.poa !== serving.poa
      ),
      map((q): SwitchDecision => {
        const left = serving!;
        serving = { poa: q.poa, network: q.network, snr: q.snr };
        const inter = q.network !== left.network;
        return {
          kind: "switch",
          t: clock.now(),
          ctn: q.network,
          poa: q.poa,
          from: left.poa,
          fromNetwork: left.network,
          prepared: [],
          reactive: inter,
          reason: `A3: ${q.poa} beat serving ${q.serving} (${q.snr.toFixed(1)} vs ${
            q.servingSnr.toFixed(1)
          } dB) for the time-to-trigger`,
        };
      }),
    );
  });
}

/** The scenarios the quality run covers. */
export const QUALITY_SCENARIOS: readonly string[] = [
  "walk",
  "drive",
  "waypoint",
  "manhattan",
  "border",
  "demo",
];

/** The seeds of each scenario. */
export const QUALITY_SEEDS: readonly number[] = Array.from({ length: 20 }, (_, i) => i + 1);

/** The counts of one scenario, summed over the seeds, and per seed. */
export interface ScenarioQuality {
  /** The scenario's name. */
  readonly scenario: string;
  /** `decide`'s counts, summed over the seeds. */
  readonly decide: QualityCounts;
  /** The A3 baseline's counts, summed over the seeds. */
  readonly a3: QualityCounts;
  /** The counts of each seed, with the trace's sample count. */
  readonly perSeed: readonly {
    readonly seed: number;
    readonly samples: number;
    readonly decide: QualityCounts;
    readonly a3: QualityCounts;
  }[];
}

function _sync<T>(source: Observable<T>): T[] {
  const out: T[] = [];
  let failure: unknown;
  source.subscribe({ next: (v) => out.push(v), error: (e) => (failure = e) });
  if (failure !== undefined) throw failure;
  return out;
}

/**
 * Runs one scenario over the seeds through `decide` (with the scenario's cells and
 * CTN timings) and through {@link a3Baseline}.
 *
 * @param name a built-in scenario's name
 * @param seeds the simulator seeds
 * @returns the counts, summed and per seed
 */
export function scenarioQuality(
  name: string,
  seeds: readonly number[] = QUALITY_SEEDS,
): ScenarioQuality {
  const sc = scenarios().find((s) => s.name === name);
  if (sc === undefined) throw new RangeError(`Unknown scenario: ${name}`);
  const options: DecideOptions = { cells: sc.cells, ctns: sc.ctns };
  let d = NO_COUNTS;
  let b = NO_COUNTS;
  const perSeed = [];
  for (const seed of seeds) {
    const trace = simulateTrace(sc, { seed });
    const decisions: Decision[] = _sync(decide(from(trace), options));
    const dq = qualityOf(trace, switchesOf(decisions));
    const bq = qualityOf(trace, _sync(a3Baseline(from(trace))));
    d = addCounts(d, dq);
    b = addCounts(b, bq);
    perSeed.push({ seed, samples: trace.length, decide: dq, a3: bq });
  }
  return { scenario: name, decide: d, a3: b, perSeed };
}

function _percent(part: number, whole: number): string {
  return whole === 0 ? (part === 0 ? "0%" : "n/a") : `${((100 * part) / whole).toFixed(1)}%`;
}

function _main(args: readonly string[]): void {
  const rows = QUALITY_SCENARIOS.map((name) => scenarioQuality(name));
  let d = NO_COUNTS;
  let b = NO_COUNTS;
  for (const r of rows) {
    d = addCounts(d, r.decide);
    b = addCounts(b, r.a3);
  }
  const pingPongMet = d.pingPongs <= 0.2 * b.pingPongs;
  const tooLateMet = d.tooLate <= b.tooLate;
  if (args.includes("--json")) {
    console.log(JSON.stringify(
      {
        seeds: QUALITY_SEEDS,
        scenarios: rows,
        totals: { decide: d, a3: b },
        goals: { pingPongs: pingPongMet, tooLate: tooLateMet },
      },
      null,
      2,
    ));
    return;
  }
  console.log(
    `Decision quality: ${rows.length} scenarios x ${QUALITY_SEEDS.length} seeds (${
      QUALITY_SEEDS[0]
    }..${QUALITY_SEEDS.at(-1)}), totals over the seeds; decide vs plain A3 (3 dB, TTT 256 ms)\n`,
  );
  console.log(
    "| scenario | handovers (decide / A3) | ping-pongs (decide / A3) | too-late (decide / A3) | fully prepared (decide, of inter-network) |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const line = (name: string, x: QualityCounts, y: QualityCounts) =>
    console.log(
      `| ${name} | ${x.handovers} / ${y.handovers} | ${x.pingPongs} / ${y.pingPongs} | ${x.tooLate} / ${y.tooLate} | ${x.fullyPrepared} of ${x.interNetwork} |`,
    );
  for (const r of rows) line(r.scenario, r.decide, r.a3);
  line("**total**", d, b);
  console.log("");
  console.log(
    `ping-pongs: decide ${d.pingPongs} = ${
      _percent(d.pingPongs, b.pingPongs)
    } of A3 ${b.pingPongs}: goal <= 20% ${pingPongMet ? "met" : "not met"}`,
  );
  console.log(
    `too-late: decide ${d.tooLate} vs A3 ${b.tooLate}: goal no more than A3 ${
      tooLateMet ? "met" : "not met"
    }`,
  );
}

if (import.meta.main) _main(Deno.args);
