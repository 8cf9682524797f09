/**
 * Mobility simulator: deterministic {@link LinkSample} traces from a {@link Scenario}
 * and a seed. A mover (straight walk, vehicular drive, random waypoint, Manhattan
 * grid, or a walker lingering at a cell border) gives the mobile node's position and
 * velocity over time; each cell's SNR follows log-distance path loss plus log-normal
 * shadowing correlated over the distance travelled (Gudmundson), and a PoA is heard
 * at an instant only when its SNR reaches the detection floor. Pure: no clocks, no
 * I/O; the same seed gives a byte-identical JSONL trace.
 *
 * @module
 */
import { defer, type Observable, type SchedulerLike } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../../lib/errors.ts";
import type { Cell } from "../../lib/metrics/cell.ts";
import type { LinkSample, Position, Velocity } from "../../lib/metrics/link_sample.ts";
import { Prng } from "../../lib/metrics/prng.ts";
import type { Scenario } from "./scenarios.ts";
import { type Pace, replaySamples } from "./trace_replay.ts";

/**
 * Defaults of the radio model and the sampling, used when a scenario or option omits
 * them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const d = SIMULATOR_DEFAULTS;
 * // SNR = txPower - PL0 - noise at the reference distance.
 * assertEquals(d.txPowerDbm - d.referenceLossDb - d.noiseFloorDbm, 75);
 * ```
 */
export const SIMULATOR_DEFAULTS = {
  /** Sampling period, ms. */
  periodMs: 100,
  /** Transmit power of a cell, dBm. */
  txPowerDbm: 20,
  /** Path loss at the reference distance (PL0), dB. */
  referenceLossDb: 40,
  /** Reference distance (d0), m. */
  referenceDistanceM: 1,
  /** Path-loss exponent (n). */
  pathLossExponent: 3,
  /** Noise floor, dBm. */
  noiseFloorDbm: -95,
  /** Standard deviation of the log-normal shadowing, dB. */
  shadowingSigmaDb: 4,
  /** Decorrelation distance of the shadowing (Gudmundson), m. */
  shadowingDecorrelationM: 20,
  /** A PoA is heard only at or above this SNR, dB. */
  detectionFloorDb: -3,
  /** SNR at the edge of a cell's coverage radius, dB. */
  edgeSnrDb: 5,
} as const;

/** A speed range `[min, max]`, m/s. */
export type SpeedRange = readonly [min: number, max: number];

/**
 * Straight walk: constant heading; the speed changes every 3 to 8 s to a new value
 * drawn from `speedRange` (default 1 to 1.5 m/s), ramping linearly.
 */
export interface StraightWalk {
  /** Discriminant. */
  readonly kind: "walk";
  /** Start position, m. */
  readonly from: Position;
  /** Direction of travel, radians (0 = +x). */
  readonly heading: number;
  /** Speed range, m/s. Default `[1, 1.5]`. */
  readonly speedRange?: SpeedRange;
}

/**
 * Vehicular drive along a road (a polyline, extended past its last point along the
 * last segment): the vehicle cruises 3 to 10 s, then accelerates or brakes at
 * `accel` to a new speed drawn from `speedRange` (default 10 to 40 m/s).
 */
export interface VehicularDrive {
  /** Discriminant. */
  readonly kind: "drive";
  /** The road, at least two distinct points; the drive starts at the first. */
  readonly road: readonly Position[];
  /** Speed range, m/s. Default `[10, 40]`. */
  readonly speedRange?: SpeedRange;
  /** Acceleration and braking, m/s². Default 2. */
  readonly accel?: number;
}

/** An axis-aligned rectangle. */
export interface Area {
  /** Corner with the smallest coordinates, m. */
  readonly min: Position;
  /** Corner with the largest coordinates, m. */
  readonly max: Position;
}

/**
 * Random waypoint: go in a straight line to a uniformly drawn point of `area` at a
 * speed drawn from `speedRange`, pause for a time drawn from `pauseS`, repeat.
 */
export interface RandomWaypoint {
  /** Discriminant. */
  readonly kind: "waypoint";
  /** Where waypoints are drawn. */
  readonly area: Area;
  /** Speed range, m/s (min above 0). Default `[0.5, 1.5]`. */
  readonly speedRange?: SpeedRange;
  /** Pause range, s. Default `[0, 10]`. */
  readonly pauseS?: readonly [min: number, max: number];
  /** Start position. Default the centre of `area`. */
  readonly start?: Position;
}

/**
 * Manhattan grid: streets along `x = origin.x + i·blockM` (i = 0..columns) and
 * `y = origin.y + j·blockM` (j = 0..rows). Each block is driven at a speed drawn from
 * `speedRange`; at an intersection the mover goes straight with probability 0.5, turns
 * left or right with 0.25 each (renormalised over the streets that exist; a U-turn
 * only at a dead end).
 */
export interface ManhattanGrid {
  /** Discriminant. */
  readonly kind: "manhattan";
  /** South-west intersection. Default `{x: 0, y: 0}`. */
  readonly origin?: Position;
  /** Block length, m. */
  readonly blockM: number;
  /** Number of blocks along x (at least 1). */
  readonly columns: number;
  /** Number of blocks along y (at least 1). */
  readonly rows: number;
  /** Speed range, m/s (min above 0). Default `[5, 15]`. */
  readonly speedRange?: SpeedRange;
  /** Start intersection (indices). Default the one nearest the centre. */
  readonly start?: { readonly column: number; readonly row: number };
}

/**
 * A walker who lingers at a cell border: walks straight from `from` to `border` (a
 * point on the border between two cells), then for `lingerS` wanders slowly back and
 * forth across the border line (perpendicular to the approach, through `border`),
 * with short pauses, then walks on in the approach direction. Ping-pong prone.
 */
export interface BorderLinger {
  /** Discriminant. */
  readonly kind: "border";
  /** Start position, m. */
  readonly from: Position;
  /** A point on the border; the approach goes straight to it. */
  readonly border: Position;
  /** Walking speed range (approach and leaving), m/s. Default `[1, 1.5]`. */
  readonly speedRange?: SpeedRange;
  /** Time spent lingering, s. Default 100. */
  readonly lingerS?: number;
  /** Lingering speed range, m/s (min above 0). Default `[0.5, 1]`. */
  readonly lingerSpeedRange?: SpeedRange;
  /** How far past the border line each excursion goes, m. Default `[1, 5]`. */
  readonly lingerAmplitudeM?: readonly [min: number, max: number];
}

/** A movement model (data); {@link trajectory} turns it into a function of time. */
export type Mover =
  | StraightWalk
  | VehicularDrive
  | RandomWaypoint
  | ManhattanGrid
  | BorderLinger;

/** Where the mobile node is and how it moves at one instant. */
export interface Kinematics {
  /** Position, m. */
  readonly pos: Position;
  /** Velocity; heading in radians (0 = +x). */
  readonly vel: Velocity;
}

/**
 * The mobile node's motion as a function of time in ms (from 0). Deterministic: the
 * answer for a given time does not depend on which times were asked before.
 */
export type Trajectory = (tMs: number) => Kinematics;

/** Options of {@link simulateTrace}. */
export interface SimulateOptions {
  /** Seed of all randomness (movement and shadowing); a safe integer. */
  readonly seed: number;
  /** Length of the trace, s. Default the scenario's `durationS`. */
  readonly durationS?: number;
  /** Time between instants, ms. Default 100. */
  readonly periodMs?: number;
}

/** Options of {@link simulatorSource}. */
export interface SimulatorSourceOptions extends SimulateOptions {
  /** Pacing of the emitted samples. */
  readonly pace: Pace;
  /** Clock and timers for `realtime` pacing. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Propagation parameters of {@link meanSnr}. */
export interface PropagationOptions {
  /** Path-loss exponent. Default 3. */
  readonly pathLossExponent?: number;
  /** Noise floor, dBm. Default -95. */
  readonly noiseFloorDbm?: number;
}

/** Parameters of {@link coverageRadius}. */
export interface CoverageOptions extends PropagationOptions {
  /** Transmit power, dBm. Default 20. */
  readonly txPowerDbm?: number;
  /** SNR at the edge, dB. Default 5. */
  readonly edgeSnrDb?: number;
}

/**
 * Log-distance path loss `PL(d) = PL0 + 10·n·log10(max(d, d0) / d0)` with PL0 = 40 dB
 * and d0 = 1 m.
 *
 * @param distanceM distance from the antenna, m
 * @param exponent the path-loss exponent n, default 3
 * @returns the path loss, dB
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(pathLossDb(100, 3), 100);
 * assertEquals(pathLossDb(0.5), 40);
 * ```
 */
export function pathLossDb(
  distanceM: number,
  exponent: number = SIMULATOR_DEFAULTS.pathLossExponent,
): number {
  const d0 = SIMULATOR_DEFAULTS.referenceDistanceM;
  return SIMULATOR_DEFAULTS.referenceLossDb +
    10 * exponent * Math.log10(Math.max(distanceM, d0) / d0);
}

/**
 * The SNR of a cell at a position without shadowing: `txPower − PL(d) − noise`.
 *
 * @param cell the cell (its `txPower` defaults to 20 dBm)
 * @param pos the mobile node's position
 * @param options path-loss exponent and noise floor
 * @returns the mean SNR, dB
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const cell = { poa: "a1", network: "domainA", pos: { x: 0, y: 0 }, coverage: 215 };
 * assertEquals(meanSnr(cell, { x: 100, y: 0 }), 15);
 * ```
 */
export function meanSnr(
  cell: Cell,
  pos: Position,
  options: PropagationOptions = {},
): number {
  const tx = cell.txPower ?? SIMULATOR_DEFAULTS.txPowerDbm;
  const noise = options.noiseFloorDbm ?? SIMULATOR_DEFAULTS.noiseFloorDbm;
  const d = Math.hypot(pos.x - cell.pos.x, pos.y - cell.pos.y);
  return tx - pathLossDb(d, options.pathLossExponent) - noise;
}

/**
 * The distance at which the mean SNR falls to the edge SNR (5 dB by default): the
 * coverage radius consistent with the path-loss model.
 *
 * @param options transmit power, path-loss exponent, noise floor and edge SNR
 * @returns the radius, m
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(Math.round(coverageRadius({ txPowerDbm: 20, pathLossExponent: 3.5 })), 100);
 * ```
 */
export function coverageRadius(options: CoverageOptions = {}): number {
  const tx = options.txPowerDbm ?? SIMULATOR_DEFAULTS.txPowerDbm;
  const n = options.pathLossExponent ?? SIMULATOR_DEFAULTS.pathLossExponent;
  const noise = options.noiseFloorDbm ?? SIMULATOR_DEFAULTS.noiseFloorDbm;
  const edge = options.edgeSnrDb ?? SIMULATOR_DEFAULTS.edgeSnrDb;
  const budget = tx - noise - edge - SIMULATOR_DEFAULTS.referenceLossDb;
  return SIMULATOR_DEFAULTS.referenceDistanceM * 10 ** (budget / (10 * n));
}

// ---------------------------------------------------------------------------------
// Movement: a trajectory is a lazily generated list of legs. A leg starts at `t0`
// (s) with speed `v0` and constant acceleration `accel` until `t1`; `pose(d)` places
// the node `d` metres into the leg.

interface _Pose {
  readonly x: number;
  readonly y: number;
  readonly heading: number;
}

interface _Leg {
  readonly t0: number;
  readonly t1: number;
  readonly v0: number;
  readonly accel: number;
  readonly pose: (d: number) => _Pose;
}

/** Shortest leg, s: keeps generation moving even for degenerate draws. */
const _MIN_LEG_S = 1e-3;

function _leg(
  t0: number,
  durationS: number,
  v0: number,
  v1: number,
  pose: (d: number) => _Pose,
): _Leg {
  const duration = Math.max(durationS, _MIN_LEG_S);
  const accel = Number.isFinite(duration) ? (v1 - v0) / duration : 0;
  return { t0, t1: t0 + duration, v0, accel, pose };
}

function _line(
  from: Position,
  dx: number,
  dy: number,
  heading: number,
): (d: number) => _Pose {
  return (d) => ({ x: from.x + d * dx, y: from.y + d * dy, heading });
}

function _toward(
  from: Position,
  to: Position,
): { dx: number; dy: number; length: number; heading: number } {
  const ex = to.x - from.x;
  const ey = to.y - from.y;
  const length = Math.hypot(ex, ey);
  if (length === 0) return { dx: 0, dy: 0, length: 0, heading: 0 };
  return {
    dx: ex / length,
    dy: ey / length,
    length,
    heading: Math.atan2(ey, ex),
  };
}

function _legTrajectory(nextLeg: (t0: number) => _Leg): Trajectory {
  const legs: _Leg[] = [];
  let end = 0;
  let cursor = 0;
  return (tMs) => {
    const t = Math.max(0, tMs / 1000);
    while (end <= t) {
      const leg = nextLeg(end);
      legs.push(leg);
      end = leg.t1;
    }
    if (legs[cursor]!.t0 > t) {
      let lo = 0;
      let hi = cursor;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (legs[mid]!.t1 <= t) lo = mid + 1;
        else hi = mid;
      }
      cursor = lo;
    }
    while (legs[cursor]!.t1 <= t) cursor++;
    const leg = legs[cursor]!;
    const tau = t - leg.t0;
    const speed = Math.max(0, leg.v0 + leg.accel * tau);
    const p = leg.pose(leg.v0 * tau + 0.5 * leg.accel * tau * tau);
    return { pos: { x: p.x, y: p.y }, vel: { speed, heading: p.heading } };
  };
}

function _range(
  value: readonly [number, number] | undefined,
  fallback: readonly [number, number],
  option: string,
  positive: boolean,
): readonly [number, number] {
  const r = value ?? fallback;
  const [min, max] = r;
  if (
    !Number.isFinite(min) || !Number.isFinite(max) || min < 0 || max < min ||
    (positive && min <= 0)
  ) {
    throw new ConfigError(
      option,
      `Invalid ${option}: expected [min, max] with ${
        positive ? "0 < min" : "0 <= min"
      } <= max, got [${min}, ${max}]`,
    );
  }
  return r;
}

function _positive(value: number, option: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      option,
      `Invalid ${option}: expected a positive number, got ${value}`,
    );
  }
  return value;
}

/** Maps arc length along a polyline to a pose; extends past both ends along the end segments. */
function _polyline(points: readonly Position[]): (s: number) => _Pose {
  const pts = points.filter((p, i) =>
    i === 0 || p.x !== points[i - 1]!.x || p.y !== points[i - 1]!.y
  );
  if (pts.length < 2) {
    throw new ConfigError(
      "mover.road",
      "Invalid mover.road: expected at least two distinct points",
    );
  }
  const segments = pts.slice(1).map((to, i) => ({
    from: pts[i]!,
    ..._toward(pts[i]!, to),
  }));
  const starts: number[] = [];
  let total = 0;
  for (const seg of segments) {
    starts.push(total);
    total += seg.length;
  }
  let k = 0;
  return (s) => {
    if (s < starts[k]!) k = 0;
    while (k < segments.length - 1 && s >= starts[k + 1]!) k++;
    const seg = segments[k]!;
    const d = s - starts[k]!;
    return {
      x: seg.from.x + d * seg.dx,
      y: seg.from.y + d * seg.dy,
      heading: seg.heading,
    };
  };
}

function _walk(mover: StraightWalk, prng: Prng): Trajectory {
  const [min, max] = _range(
    mover.speedRange,
    [1, 1.5],
    "mover.speedRange",
    false,
  );
  const dx = Math.cos(mover.heading);
  const dy = Math.sin(mover.heading);
  const heading = Math.atan2(dy, dx);
  let s = 0;
  let v = prng.uniform(min, max);
  return _legTrajectory((t0) => {
    const duration = prng.uniform(3, 8);
    const v1 = prng.uniform(min, max);
    const s0 = s;
    s += ((v + v1) / 2) * duration;
    const leg = _leg(t0, duration, v, v1, (d) => ({
      x: mover.from.x + (s0 + d) * dx,
      y: mover.from.y + (s0 + d) * dy,
      heading,
    }));
    v = v1;
    return leg;
  });
}

function _drive(mover: VehicularDrive, prng: Prng): Trajectory {
  const [min, max] = _range(
    mover.speedRange,
    [10, 40],
    "mover.speedRange",
    false,
  );
  const accel = _positive(mover.accel ?? 2, "mover.accel");
  const road = _polyline(mover.road);
  let s = 0;
  let v = prng.uniform(min, max);
  let cruising = true;
  return _legTrajectory((t0) => {
    const s0 = s;
    const place = (d: number): _Pose => road(s0 + d);
    if (cruising) {
      cruising = false;
      const duration = prng.uniform(3, 10);
      s += v * duration;
      return _leg(t0, duration, v, v, place);
    }
    cruising = true;
    const target = prng.uniform(min, max);
    const duration = Math.max(Math.abs(target - v) / accel, _MIN_LEG_S);
    s += ((v + target) / 2) * duration;
    const leg = _leg(t0, duration, v, target, place);
    v = target;
    return leg;
  });
}

function _waypoint(mover: RandomWaypoint, prng: Prng): Trajectory {
  const [vMin, vMax] = _range(
    mover.speedRange,
    [0.5, 1.5],
    "mover.speedRange",
    true,
  );
  const [pMin, pMax] = _range(mover.pauseS, [0, 10], "mover.pauseS", false);
  const { min, max } = mover.area;
  if (!(max.x > min.x && max.y > min.y)) {
    throw new ConfigError(
      "mover.area",
      "Invalid mover.area: expected max above min on both axes",
    );
  }
  let p: Position = mover.start ??
    { x: (min.x + max.x) / 2, y: (min.y + max.y) / 2 };
  let heading = 0;
  let pauseNext = false;
  return _legTrajectory((t0) => {
    if (pauseNext) {
      pauseNext = false;
      const pause = prng.uniform(pMin, pMax);
      if (pause >= _MIN_LEG_S) {
        const here: _Pose = { x: p.x, y: p.y, heading };
        return _leg(t0, pause, 0, 0, () => here);
      }
    }
    pauseNext = true;
    const to = { x: prng.uniform(min.x, max.x), y: prng.uniform(min.y, max.y) };
    const speed = prng.uniform(vMin, vMax);
    const dir = _toward(p, to);
    if (dir.length > 0) heading = dir.heading;
    const leg = _leg(
      t0,
      dir.length / speed,
      speed,
      speed,
      _line(p, dir.dx, dir.dy, heading),
    );
    p = to;
    return leg;
  });
}

/** Unit steps and headings of the four street directions: east, north, west, south. */
const _STREETS = [
  { dx: 1, dy: 0, heading: 0 },
  { dx: 0, dy: 1, heading: Math.PI / 2 },
  { dx: -1, dy: 0, heading: Math.PI },
  { dx: 0, dy: -1, heading: -Math.PI / 2 },
] as const;

function _manhattan(mover: ManhattanGrid, prng: Prng): Trajectory {
  const block = _positive(mover.blockM, "mover.blockM");
  const columns = mover.columns;
  const rows = mover.rows;
  if (
    !Number.isInteger(columns) || !Number.isInteger(rows) || columns < 1 ||
    rows < 1
  ) {
    throw new ConfigError(
      "mover.columns",
      "Invalid mover.columns/rows: expected integers of at least 1",
    );
  }
  const [vMin, vMax] = _range(
    mover.speedRange,
    [5, 15],
    "mover.speedRange",
    true,
  );
  const origin = mover.origin ?? { x: 0, y: 0 };
  let column = mover.start?.column ?? Math.round(columns / 2);
  let row = mover.start?.row ?? Math.round(rows / 2);
  if (column < 0 || column > columns || row < 0 || row > rows) {
    throw new ConfigError(
      "mover.start",
      "Invalid mover.start: outside the grid",
    );
  }
  const open = (c: number, r: number, dir: number): boolean => {
    const street = _STREETS[dir]!;
    const nc = c + street.dx;
    const nr = r + street.dy;
    return nc >= 0 && nc <= columns && nr >= 0 && nr <= rows;
  };
  // Start in a random open direction.
  const first = [0, 1, 2, 3].filter((d) => open(column, row, d));
  let dir = first[Math.floor(prng.next() * first.length)]!;
  return _legTrajectory((t0) => {
    const street = _STREETS[dir]!;
    const from = { x: origin.x + column * block, y: origin.y + row * block };
    const speed = prng.uniform(vMin, vMax);
    const leg = _leg(
      t0,
      block / speed,
      speed,
      speed,
      _line(from, street.dx, street.dy, street.heading),
    );
    column += street.dx;
    row += street.dy;
    // Turn at the intersection reached: straight 0.5, left 0.25, right 0.25.
    const choices = [
      { dir, weight: 0.5 },
      { dir: (dir + 1) % 4, weight: 0.25 },
      { dir: (dir + 3) % 4, weight: 0.25 },
    ].filter((c) => open(column, row, c.dir));
    if (choices.length === 0) {
      dir = (dir + 2) % 4;
    } else {
      let x = prng.next() * choices.reduce((sum, c) => sum + c.weight, 0);
      let pick = choices[choices.length - 1]!;
      for (const c of choices) {
        if (x < c.weight) {
          pick = c;
          break;
        }
        x -= c.weight;
      }
      dir = pick.dir;
    }
    return leg;
  });
}

function _border(mover: BorderLinger, prng: Prng): Trajectory {
  const [wMin, wMax] = _range(
    mover.speedRange,
    [1, 1.5],
    "mover.speedRange",
    true,
  );
  const [lMin, lMax] = _range(
    mover.lingerSpeedRange,
    [0.5, 1],
    "mover.lingerSpeedRange",
    true,
  );
  const [aMin, aMax] = _range(
    mover.lingerAmplitudeM,
    [1, 5],
    "mover.lingerAmplitudeM",
    false,
  );
  const lingerS = mover.lingerS ?? 100;
  if (!Number.isFinite(lingerS) || lingerS < 0) {
    throw new ConfigError(
      "mover.lingerS",
      `Invalid mover.lingerS: expected at least 0, got ${lingerS}`,
    );
  }
  const approach = _toward(mover.from, mover.border);
  if (approach.length === 0) {
    throw new ConfigError(
      "mover.border",
      "Invalid mover.border: must differ from mover.from",
    );
  }
  const { dx, dy } = approach;
  const walkSpeed = prng.uniform(wMin, wMax);
  let phase: "approach" | "linger" | "leave" = "approach";
  let lingerEnd = Infinity;
  let p: Position = mover.from;
  let heading = approach.heading;
  let side = 1;
  let pauseNext = false;
  return _legTrajectory((t0) => {
    if (phase === "approach") {
      phase = "linger";
      p = mover.border;
      lingerEnd = t0 + approach.length / walkSpeed + lingerS;
      return _leg(
        t0,
        approach.length / walkSpeed,
        walkSpeed,
        walkSpeed,
        _line(mover.from, dx, dy, heading),
      );
    }
    if (phase === "linger" && t0 < lingerEnd) {
      if (pauseNext) {
        pauseNext = false;
        if (prng.next() < 0.5) {
          const here: _Pose = { x: p.x, y: p.y, heading };
          return _leg(t0, prng.uniform(0.5, 3), 0, 0, () => here);
        }
      }
      pauseNext = true;
      // Cross the border line to the other side, wandering a little along it.
      const along = side * prng.uniform(aMin, aMax);
      const across = prng.uniform(-2, 2);
      side = -side;
      const to = {
        x: mover.border.x + along * dx - across * dy,
        y: mover.border.y + along * dy + across * dx,
      };
      const dir = _toward(p, to);
      if (dir.length > 0) heading = dir.heading;
      const speed = prng.uniform(lMin, lMax);
      const leg = _leg(
        t0,
        dir.length / speed,
        speed,
        speed,
        _line(p, dir.dx, dir.dy, heading),
      );
      p = to;
      return leg;
    }
    phase = "leave";
    return _leg(
      t0,
      Infinity,
      walkSpeed,
      walkSpeed,
      _line(p, dx, dy, approach.heading),
    );
  });
}

/**
 * Builds the trajectory of a movement model. All randomness comes from `prng`, drawn
 * lazily as time advances; asking for the same time again gives the same answer.
 *
 * @param mover the movement model
 * @param prng the random source (use a dedicated fork)
 * @returns position and velocity as a function of time in ms
 * @throws {ConfigError} for an invalid model (bad ranges, a one-point road, ...)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { Prng } from "../../lib/metrics/prng.ts";
 * const walk = trajectory({ kind: "walk", from: { x: 0, y: 0 }, heading: 0 }, new Prng(1));
 * const k = walk(10_000);
 * assertEquals(k.pos.x > 10 && k.pos.x < 15 && k.pos.y === 0, true);
 * assertEquals(k.vel.speed >= 1 && k.vel.speed <= 1.5, true);
 * ```
 */
export function trajectory(mover: Mover, prng: Prng): Trajectory {
  switch (mover.kind) {
    case "walk":
      return _walk(mover, prng);
    case "drive":
      return _drive(mover, prng);
    case "waypoint":
      return _waypoint(mover, prng);
    case "manhattan":
      return _manhattan(mover, prng);
    case "border":
      return _border(mover, prng);
  }
}

// ---------------------------------------------------------------------------------
// Radio.

function _round(value: number, scale: number): number {
  return Math.round(value * scale) / scale + 0; // + 0 turns -0 into 0
}

function _finiteOption(
  value: number,
  option: string,
  min: number,
  strict: boolean,
): number {
  if (!Number.isFinite(value) || value < min || (strict && value === min)) {
    throw new ConfigError(
      option,
      `Invalid ${option}: expected a number ${
        strict ? "above" : "of at least"
      } ${min}, got ${value}`,
    );
  }
  return value;
}

/**
 * Simulates the scenario's mover and radio environment and returns the trace: at each
 * instant `t = 0, periodMs, 2·periodMs, ...` below the duration, one sample per heard
 * PoA (SNR at or above the detection floor), in the order of `scenario.cells`, all
 * with that instant's position and velocity. SNR is rounded to 0.1 dB, positions to
 * 0.01 m, speed to 0.01 m/s and heading to 0.001 rad.
 *
 * SNR = txPower − PL(d) − noise + S, where S is each PoA's own shadowing process,
 * Gaussian in dB with the scenario's sigma, updated per instant as
 * `S ← ρ·S + √(1−ρ²)·σ·N(0,1)` with `ρ = exp(−Δd / dcorr)` over the distance moved
 * (Gudmundson's model; it stays put while the node stands still).
 *
 * @param scenario cells, radio parameters, mover and default duration
 * @param options the seed, and optionally duration and period
 * @returns the samples in time order
 * @throws {ConfigError} for a bad seed, duration, period, or scenario
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatLinkSample } from "../../lib/metrics/link_sample.ts";
 * import { scenario } from "./scenarios.ts";
 * const a = simulateTrace(scenario("walk"), { seed: 7, durationS: 5 });
 * const b = simulateTrace(scenario("walk"), { seed: 7, durationS: 5 });
 * assertEquals(a.map(formatLinkSample), b.map(formatLinkSample));
 * assertEquals(a[0]?.t, 0);
 * ```
 */
export function simulateTrace(
  scenario: Scenario,
  options: SimulateOptions,
): LinkSample[] {
  const prng = new Prng(options.seed);
  const periodMs = _finiteOption(
    options.periodMs ?? SIMULATOR_DEFAULTS.periodMs,
    "periodMs",
    0,
    true,
  );
  const durationS = _finiteOption(
    options.durationS ?? scenario.durationS,
    "durationS",
    0,
    false,
  );
  const n = _finiteOption(
    scenario.pathLossExponent ?? SIMULATOR_DEFAULTS.pathLossExponent,
    "scenario.pathLossExponent",
    0,
    true,
  );
  const sigma = _finiteOption(
    scenario.shadowingSigmaDb ?? SIMULATOR_DEFAULTS.shadowingSigmaDb,
    "scenario.shadowingSigmaDb",
    0,
    false,
  );
  const dcorr = _finiteOption(
    scenario.shadowingDecorrelationM ??
      SIMULATOR_DEFAULTS.shadowingDecorrelationM,
    "scenario.shadowingDecorrelationM",
    0,
    true,
  );
  const noise = scenario.noiseFloorDbm ?? SIMULATOR_DEFAULTS.noiseFloorDbm;
  const floor = scenario.detectionFloorDb ??
    SIMULATOR_DEFAULTS.detectionFloorDb;
  const cells = scenario.cells;
  const seen = new Set<string>();
  for (const cell of cells) {
    if (seen.has(cell.poa)) {
      throw new ConfigError(
        "scenario.cells",
        `Invalid scenario.cells: duplicate PoA: ${cell.poa}`,
      );
    }
    seen.add(cell.poa);
  }

  const move = trajectory(scenario.mover, prng.fork("mover"));
  const shadowRng = cells.map((cell) => prng.fork(`shadowing:${cell.poa}`));
  const shadow = shadowRng.map((rng) => rng.gaussian(0, sigma));
  const budget = cells.map((cell) =>
    (cell.txPower ?? SIMULATOR_DEFAULTS.txPowerDbm) - noise -
    SIMULATOR_DEFAULTS.referenceLossDb
  );
  const d0 = SIMULATOR_DEFAULTS.referenceDistanceM;
  const slope = 10 * n;

  const instants = Math.ceil((durationS * 1000) / periodMs - 1e-9);
  const out: LinkSample[] = [];
  let lastX = 0;
  let lastY = 0;
  for (let step = 0; step < instants; step++) {
    const t = step * periodMs;
    const { pos, vel } = move(t);
    if (step > 0) {
      const moved = Math.hypot(pos.x - lastX, pos.y - lastY);
      const rho = Math.exp(-moved / dcorr);
      const innovation = Math.sqrt(1 - rho * rho) * sigma;
      for (let i = 0; i < cells.length; i++) {
        shadow[i] = rho * shadow[i]! + innovation * shadowRng[i]!.gaussian();
      }
    }
    lastX = pos.x;
    lastY = pos.y;
    const samplePos: Position = {
      x: _round(pos.x, 100),
      y: _round(pos.y, 100),
    };
    const sampleVel: Velocity = {
      speed: _round(vel.speed, 100),
      heading: _round(vel.heading, 1000),
    };
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      const d = Math.hypot(pos.x - cell.pos.x, pos.y - cell.pos.y);
      const snr = _round(
        budget[i]! - slope * Math.log10(Math.max(d, d0) / d0) + shadow[i]!,
        10,
      );
      if (snr >= floor) {
        out.push({
          t,
          poa: cell.poa,
          network: cell.network,
          snr,
          pos: samplePos,
          vel: sampleVel,
        });
      }
    }
  }
  return out;
}

/**
 * A simulated metrics source: the trace of {@link simulateTrace}, generated at
 * subscription and emitted fast or in real time (shape of `MetricsSource.samples()`).
 *
 * @param scenario the scenario
 * @param options seed, duration, period, pacing and scheduler
 * @returns the samples; a bad option arrives as an error notification
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { scenario } from "./scenarios.ts";
 * let count = 0;
 * simulatorSource(scenario("demo"), { seed: 1, durationS: 1, pace: "fast" })
 *   .subscribe(() => count++);
 * assertEquals(count > 0, true);
 * ```
 */
export function simulatorSource(
  scenario: Scenario,
  options: SimulatorSourceOptions,
): Observable<LinkSample> {
  return defer(() => replaySamples(simulateTrace(scenario, options), options));
}
