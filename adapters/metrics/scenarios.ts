/**
 * Built-in simulation scenarios: cell layouts of several network domains, CTN timing
 * profiles, and a movement model each. Coverage radii follow from the path-loss model
 * (the distance at which the mean SNR falls to 5 dB), so geometry-based estimates
 * (RFC 6252 section C.6) agree with the simulated SNR.
 *
 * @module
 */
import { ConfigError } from "../../lib/errors.ts";
import type { Cell, CtnProfile } from "../../lib/metrics/cell.ts";
import { coverageRadius, type Mover } from "./simulator.ts";

/** A simulation set-up: where the cells are, how the radio behaves, how the node moves. */
export interface Scenario {
  /** Short name, e.g. `walk`. */
  readonly name: string;
  /** One-sentence description. */
  readonly description: string;
  /** The cells (PoAs), each with its network; coverage consistent with the path loss. */
  readonly cells: readonly Cell[];
  /** Timings towards every network of `cells` (RFC 6252 section C.6). */
  readonly ctns: readonly CtnProfile[];
  /** Default length of a simulated trace, s. */
  readonly durationS: number;
  /** Path-loss exponent n. Default 3. */
  readonly pathLossExponent?: number;
  /** Shadowing standard deviation, dB. Default 4. */
  readonly shadowingSigmaDb?: number;
  /** Shadowing decorrelation distance, m. Default 20. */
  readonly shadowingDecorrelationM?: number;
  /** Noise floor, dBm. Default -95. */
  readonly noiseFloorDbm?: number;
  /** Minimum SNR at which a PoA is heard, dB. Default -3. */
  readonly detectionFloorDb?: number;
  /** How the mobile node moves. */
  readonly mover: Mover;
}

/** A cell whose coverage radius follows from its power and the path-loss exponent. */
function _cell(
  poa: string,
  network: string,
  x: number,
  y: number,
  txPower: number,
  n: number,
): Cell {
  const coverage = Math.round(
    coverageRadius({ txPowerDbm: txPower, pathLossExponent: n }),
  );
  return { poa, network, pos: { x, y }, coverage, txPower };
}

function _ctn(
  network: string,
  rttMs: number,
  tpskMs: number,
  tconfMs: number,
  tbuMs: number,
): CtnProfile {
  return { network, rttMs, tpskMs, tconfMs, tbuMs };
}

function _walk(): Scenario {
  // Wi-Fi: 15 dBm, n = 3.5, coverage 72 m; cells 110 m apart.
  const n = 3.5;
  return {
    name: "walk",
    description:
      "A pedestrian (1-1.5 m/s) walks straight past three Wi-Fi cells: a1, a2 of domainA, then b1 of domainB",
    cells: [
      _cell("a1", "domainA", 0, 0, 15, n),
      _cell("a2", "domainA", 110, 0, 15, n),
      _cell("b1", "domainB", 220, 0, 15, n),
    ],
    ctns: [_ctn("domainA", 30, 10, 80, 40), _ctn("domainB", 70, 12, 150, 60)],
    durationS: 240,
    pathLossExponent: n,
    mover: {
      kind: "walk",
      from: { x: -40, y: 8 },
      heading: 0,
      speedRange: [1, 1.5],
    },
  };
}

function _drive(): Scenario {
  // Macro cells: 30 dBm, n = 3.2, coverage 316 m; sites 500 m apart along the road.
  const n = 3.2;
  const site = (poa: string, network: string, x: number, y: number) =>
    _cell(poa, network, x, y, 30, n);
  return {
    name: "drive",
    description:
      "A vehicle (10-40 m/s, varying) drives a 5 km road past ten ~316 m cells: two of domainA, two of domainB, six of domainC",
    cells: [
      site("a1", "domainA", 0, 60),
      site("a2", "domainA", 500, -50),
      site("b1", "domainB", 1000, 70),
      site("b2", "domainB", 1500, -40),
      site("c1", "domainC", 2000, 60),
      site("c2", "domainC", 2500, -60),
      site("c3", "domainC", 3000, 50),
      site("c4", "domainC", 3500, -50),
      site("c5", "domainC", 4000, 60),
      site("c6", "domainC", 4500, -40),
    ],
    ctns: [
      _ctn("domainA", 40, 10, 120, 50),
      _ctn("domainB", 90, 11, 200, 80),
      _ctn("domainC", 25, 9, 60, 30),
    ],
    durationS: 120,
    pathLossExponent: n,
    shadowingDecorrelationM: 50,
    mover: {
      kind: "drive",
      road: [
        { x: -200, y: 0 },
        { x: 1200, y: 30 },
        { x: 2600, y: -20 },
        { x: 4000, y: 20 },
        { x: 5200, y: 0 },
      ],
      speedRange: [10, 40],
    },
  };
}

function _waypoint(): Scenario {
  // Wi-Fi: 15 dBm, n = 3.5, coverage 72 m; four cells 100 m apart in a 200 m square.
  const n = 3.5;
  return {
    name: "waypoint",
    description:
      "A pedestrian moves by random waypoint (0.8-1.8 m/s, pauses up to 10 s) in a 200 m square covered by a1, a2 of domainA and b1, b2 of domainB",
    cells: [
      _cell("a1", "domainA", 50, 50, 15, n),
      _cell("a2", "domainA", 150, 50, 15, n),
      _cell("b1", "domainB", 50, 150, 15, n),
      _cell("b2", "domainB", 150, 150, 15, n),
    ],
    ctns: [_ctn("domainA", 20, 10, 50, 30), _ctn("domainB", 60, 10, 110, 50)],
    durationS: 300,
    pathLossExponent: n,
    mover: {
      kind: "waypoint",
      area: { min: { x: 0, y: 0 }, max: { x: 200, y: 200 } },
      speedRange: [0.8, 1.8],
      pauseS: [0, 10],
    },
  };
}

function _manhattan(): Scenario {
  // Street-level small cells: 23 dBm, n = 3.6, coverage 107 m; 4 x 3 blocks of 100 m.
  const n = 3.6;
  const site = (poa: string, network: string, x: number, y: number) =>
    _cell(poa, network, x, y, 23, n);
  return {
    name: "manhattan",
    description:
      "A car (5-15 m/s) drives a 4 x 3 grid of 100 m blocks, turning at random, under six cells of domainA, domainB and domainC",
    cells: [
      site("a1", "domainA", 67, 75),
      site("a2", "domainA", 200, 75),
      site("b1", "domainB", 333, 75),
      site("b2", "domainB", 333, 225),
      site("c1", "domainC", 200, 225),
      site("c2", "domainC", 67, 225),
    ],
    ctns: [
      _ctn("domainA", 35, 10, 90, 45),
      _ctn("domainB", 55, 12, 130, 55),
      _ctn("domainC", 100, 10, 180, 75),
    ],
    durationS: 300,
    pathLossExponent: n,
    mover: {
      kind: "manhattan",
      blockM: 100,
      columns: 4,
      rows: 3,
      speedRange: [5, 15],
    },
  };
}

function _border(): Scenario {
  // Wi-Fi: 15 dBm, n = 3.5, coverage 72 m; the border is at x = 50.
  const n = 3.5;
  return {
    name: "border",
    description:
      "A pedestrian walks to the border between a1 (domainA) and b1 (domainB), wanders slowly back and forth across it for 100 s, then walks on into b1",
    cells: [
      _cell("a1", "domainA", 0, 0, 15, n),
      _cell("b1", "domainB", 100, 0, 15, n),
    ],
    ctns: [_ctn("domainA", 25, 10, 70, 35), _ctn("domainB", 80, 12, 160, 65)],
    durationS: 220,
    pathLossExponent: n,
    // Indoors: milder shadowing that decorrelates within a few metres, so the
    // lingering keeps flipping which cell is stronger.
    shadowingSigmaDb: 3,
    shadowingDecorrelationM: 5,
    mover: {
      kind: "border",
      from: { x: -20, y: 4 },
      border: { x: 50, y: 4 },
      lingerS: 100,
      lingerSpeedRange: [0.5, 1],
      lingerAmplitudeM: [1, 5],
    },
  };
}

function _demo(): Scenario {
  // 20 dBm, n = 3, coverage 215 m; a2/b1 equal-SNR point at x = 495, reached near
  // 33 s of 60.
  const n = 3;
  return {
    name: "demo",
    description:
      "A car (~15 m/s) drives 60 s past a1 and a2 of domainA into b1 of domainB; the inter-domain handover falls mid-run",
    cells: [
      _cell("a1", "domainA", 100, 0, 20, n),
      _cell("a2", "domainA", 330, 0, 20, n),
      _cell("b1", "domainB", 660, 0, 20, n),
    ],
    ctns: [_ctn("domainA", 30, 10, 90, 40), _ctn("domainB", 65, 12, 140, 60)],
    durationS: 60,
    pathLossExponent: n,
    shadowingSigmaDb: 3,
    shadowingDecorrelationM: 50,
    mover: {
      kind: "drive",
      road: [{ x: 0, y: 15 }, { x: 1200, y: 15 }],
      speedRange: [14, 16],
      accel: 1,
    },
  };
}

function _deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) _deepFreeze(inner);
  }
  return value;
}

let _all: readonly Scenario[] | undefined;

/**
 * The built-in scenarios: `walk`, `drive`, `waypoint`, `manhattan`, `border`, `demo`.
 * The objects are frozen and shared.
 *
 * @returns the scenarios, in that order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(scenarios().map((s) => s.name), ["walk", "drive", "waypoint", "manhattan", "border", "demo"]);
 * ```
 */
export function scenarios(): readonly Scenario[] {
  _all ??= _deepFreeze([
    _walk(),
    _drive(),
    _waypoint(),
    _manhattan(),
    _border(),
    _demo(),
  ]);
  return _all;
}

/**
 * Looks a built-in scenario up by name.
 *
 * @param name the scenario's name
 * @returns the scenario
 * @throws {ConfigError} for an unknown name, listing the known ones
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(scenario("demo").cells.length, 3);
 * assertThrows(() => scenario("moon"), Error, "Unknown scenario: moon (known: walk, drive, waypoint, manhattan, border, demo)");
 * ```
 */
export function scenario(name: string): Scenario {
  const all = scenarios();
  const found = all.find((s) => s.name === name);
  if (found === undefined) {
    throw new ConfigError(
      "scenario",
      `Unknown scenario: ${name} (known: ${all.map((s) => s.name).join(", ")})`,
    );
  }
  return found;
}
