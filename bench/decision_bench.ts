/**
 * Decision benchmark: the cost of `decide` (the rxjs pipeline) per trace of link
 * samples with 1, 8 and 32 PoAs, next to {@link referenceDecide}, a hand-written
 * imperative loop that gives the same decisions (the baseline: what the rxjs
 * plumbing costs). Each iteration processes a whole pre-built trace of a few
 * thousand samples (`bench/_traces.ts`).
 *
 * - `deno bench -A bench/decision_bench.ts` (`deno task bench`): the bench table.
 * - `deno run -A bench/decision_bench.ts --per-sample [--runs N]`: median time per
 *   sample over N runs (default 50) of each case, as a markdown table, with the
 *   goals (decide within 2x of the reference at 8 PoAs; median at or below 1 µs per
 *   sample at 32 PoAs).
 *
 * @module
 */
import { from } from "npm:rxjs@^7.8.2";
import { decide } from "../lib/decision/decide.ts";
import type { Decision } from "../lib/decision/decision.ts";
import { type BenchTrace, rowTrace } from "./_traces.ts";
import { referenceDecide } from "./reference_decide.ts";

/** The benchmark cases, built once. */
const TRACES: readonly BenchTrace[] = [rowTrace(1), rowTrace(8), rowTrace(32)];

/**
 * Runs `decide` over a whole trace, synchronously, collecting the decisions.
 *
 * @param trace the trace and its options
 * @returns the decisions
 */
function runDecide(trace: BenchTrace): Decision[] {
  const out: Decision[] = [];
  decide(from(trace.samples), trace.options).subscribe((d) => out.push(d));
  return out;
}

/**
 * Runs the imperative reference over a whole trace.
 *
 * @param trace the trace and its options
 * @returns the decisions
 */
function runReference(trace: BenchTrace): Decision[] {
  return referenceDecide(trace.samples, trace.options);
}

function _median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function _perSample(runs: number): void {
  console.log(`Median time per sample over ${runs} runs of each trace (after 5 warm-up runs)\n`);
  console.log(
    "| case | samples | decisions | decide ns/sample | reference ns/sample | decide / reference |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  const medians = new Map<number, { decide: number; reference: number }>();
  for (const trace of TRACES) {
    const n = trace.samples.length;
    let decisions = 0;
    for (let i = 0; i < 5; i++) {
      decisions = runDecide(trace).length;
      runReference(trace);
    }
    const d: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so that drift (JIT, GC, frequency) hits both alike.
      let t0 = performance.now();
      runDecide(trace);
      d.push(((performance.now() - t0) * 1e6) / n);
      t0 = performance.now();
      runReference(trace);
      r.push(((performance.now() - t0) * 1e6) / n);
    }
    const md = _median(d);
    const mr = _median(r);
    medians.set(trace.poas, { decide: md, reference: mr });
    console.log(
      `| ${trace.name} | ${n} | ${decisions} | ${md.toFixed(0)} | ${mr.toFixed(0)} | ${
        (md / mr).toFixed(2)
      }x |`,
    );
  }
  const eight = medians.get(8)!;
  const ratio = eight.decide / eight.reference;
  const at32 = medians.get(32)!.decide;
  console.log(
    `\ngoal decide <= 2x reference at 8 PoAs: ${ratio.toFixed(2)}x: ${
      ratio <= 2 ? "met" : "not met"
    }`,
  );
  console.log(
    `goal decide median <= 1000 ns/sample at 32 PoAs: ${at32.toFixed(0)} ns: ${
      at32 <= 1000 ? "met" : "not met"
    }`,
  );
}

if (Deno.args.includes("--per-sample")) {
  const i = Deno.args.indexOf("--runs");
  const runs = i >= 0 ? Number(Deno.args[i + 1]) : 50;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`Invalid --runs: expected a positive integer, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  _perSample(runs);
} else {
  for (const trace of TRACES) {
    const group = trace.name;
    Deno.bench({
      name: `decide (${trace.samples.length} samples)`,
      group,
      fn: () => {
        runDecide(trace);
      },
    });
    Deno.bench({
      name: `reference (${trace.samples.length} samples)`,
      group,
      baseline: true,
      fn: () => {
        runReference(trace);
      },
    });
  }
}
