/**
 * Deterministic synthetic traces for the decision benchmark and its tests: a road
 * past a row of N cells (a mix of 2 to 4 networks), simulated with the metrics
 * simulator, so that every sample is a real measurement and handovers, preparation
 * and releases really happen.
 *
 * @module
 */
import { coverageRadius, simulateTrace } from "../adapters/metrics/simulator.ts";
import type { Scenario } from "../adapters/metrics/scenarios.ts";
import type { DecideOptions } from "../lib/decision/decide.ts";
import type { Cell, CtnProfile } from "../lib/metrics/cell.ts";
import type { LinkSample, Position } from "../lib/metrics/link_sample.ts";

/** A pre-built trace and the options to decide it with. */
export interface BenchTrace {
  /** Short name, e.g. `8 PoAs`. */
  readonly name: string;
  /** How many cells (PoAs) the row has. */
  readonly poas: number;
  /** The scenario the trace was simulated from. */
  readonly scenario: Scenario;
  /** The samples, in time order. */
  readonly samples: readonly LinkSample[];
  /** `decide` options: the scenario's cells and CTN timings. */
  readonly options: DecideOptions;
}

/** Options of {@link rowTrace}. */
export interface RowTraceOptions {
  /** Simulator seed. Default 1. */
  readonly seed?: number;
  /** About how many samples the trace should have (it sets the duration). Default 4800. */
  readonly samples?: number;
}

/** Distance between neighbouring cells along the road, m. */
const _SPACING_M = 40;
/** Cells stand this far beside the road, alternating sides, m. */
const _OFFSET_M = 25;
/** Macro-like cells: 30 dBm, n = 3 (coverage ~464 m, heard to ~860 m), so a whole row is heard. */
const _TX_DBM = 30;
const _N = 3;
const _NETWORKS = ["domainA", "domainB", "domainC", "domainD"] as const;
const _PERIOD_MS = 100;
const _SPEED: readonly [number, number] = [10, 20];

/**
 * How many networks a row of `poas` cells mixes: 1 for a single cell, else 2 to 4.
 *
 * @param poas the number of cells
 * @returns the number of networks
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals([1, 2, 8, 32].map(networksFor), [1, 2, 3, 4]);
 * ```
 */
export function networksFor(poas: number): number {
  return poas === 1 ? 1 : Math.min(4, Math.max(2, Math.ceil(poas / 3)));
}

/**
 * A scenario with `poas` cells 40 m apart along a straight road, alternating sides,
 * in runs of two per network (so both intra- and inter-network handovers happen),
 * and a vehicle (10-20 m/s) that starts mid-row and drives to the ends and back.
 *
 * @param poas the number of cells, at least 1
 * @param durationS the default trace length, s
 * @returns the scenario
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = rowScenario(8, 60);
 * assertEquals(s.cells.length, 8);
 * assertEquals(new Set(s.cells.map((c) => c.network)).size, 3);
 * ```
 */
export function rowScenario(poas: number, durationS: number): Scenario {
  if (!Number.isInteger(poas) || poas < 1) {
    throw new RangeError(`Invalid poas: expected an integer of at least 1, got ${poas}`);
  }
  const nets = networksFor(poas);
  const coverage = Math.round(coverageRadius({ txPowerDbm: _TX_DBM, pathLossExponent: _N }));
  const cells: Cell[] = [];
  for (let i = 0; i < poas; i++) {
    cells.push({
      poa: `p${String(i + 1).padStart(2, "0")}`,
      network: _NETWORKS[Math.floor(i / 2) % nets]!,
      pos: { x: i * _SPACING_M, y: i % 2 === 0 ? _OFFSET_M : -_OFFSET_M },
      coverage,
      txPower: _TX_DBM,
    });
  }
  const ctns: CtnProfile[] = [];
  for (let j = 0; j < nets; j++) {
    ctns.push({
      network: _NETWORKS[j]!,
      rttMs: 30 + 25 * j,
      tpskMs: 10,
      tconfMs: 80 + 40 * j,
      tbuMs: 40 + 10 * j,
    });
  }
  // Start mid-row, then drive to one end and back and forth, far enough for the
  // whole duration at the top speed.
  const x0 = -100;
  const x1 = (poas - 1) * _SPACING_M + 100;
  const road: Position[] = [{ x: (x0 + x1) / 2, y: 0 }];
  let length = 0;
  for (let leg = 0; length < durationS * _SPEED[1] + x1 - x0; leg++) {
    road.push({ x: leg % 2 === 0 ? x1 : x0, y: 0 });
    length += x1 - x0;
  }
  return {
    name: `row${poas}`,
    description:
      `A vehicle drives back and forth past a row of ${poas} cells 40 m apart (${nets} networks)`,
    cells,
    ctns,
    durationS,
    pathLossExponent: _N,
    shadowingDecorrelationM: 50,
    mover: { kind: "drive", road, speedRange: _SPEED },
  };
}

/**
 * The benchmark trace for `poas` PoAs: {@link rowScenario} simulated for a duration
 * chosen so that the trace has about `samples` samples (one per heard PoA per 100 ms
 * instant), with decide options naming its cells and CTN timings.
 *
 * @param poas the number of cells
 * @param options seed and target sample count
 * @returns the trace and its options
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = rowTrace(8, { samples: 800 });
 * assertEquals(a.samples.length > 400, true);
 * assertEquals(rowTrace(8, { samples: 800 }).samples, a.samples);
 * ```
 */
export function rowTrace(poas: number, options: RowTraceOptions = {}): BenchTrace {
  const target = options.samples ?? 4800;
  const durationS = Math.max(1, Math.round((target * _PERIOD_MS) / 1000 / poas));
  const scenario = rowScenario(poas, durationS);
  const samples = simulateTrace(scenario, { seed: options.seed ?? 1, periodMs: _PERIOD_MS });
  return {
    name: poas === 1 ? "1 PoA" : `${poas} PoAs`,
    poas,
    scenario,
    samples,
    options: { cells: scenario.cells, ctns: scenario.ctns },
  };
}
