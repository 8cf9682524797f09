/**
 * Link metrics: one {@link LinkSample} per point of attachment (PoA) heard per
 * measurement instant (RFC 6252 section 7.1 and C.1: SNR, location and velocity are
 * the inputs to the handover decision).
 *
 * @module
 */
import { MetricsValidationError } from "../errors.ts";

/** A position in metres on the simulation / site plane. */
export interface Position {
  /** East, metres. */
  readonly x: number;
  /** North, metres. */
  readonly y: number;
}

/** A velocity: speed in m/s and heading in radians (0 = +x, counter-clockwise). */
export interface Velocity {
  /** Speed, m/s, at least 0. */
  readonly speed: number;
  /** Heading, radians; 0 points along +x, pi/2 along +y. */
  readonly heading: number;
}

/**
 * One measurement of one PoA at one instant. Its JSONL form is stable:
 * `{"t": 1200, "poa": "ap1", "network": "domainA", "snr": 23.5, "pos": {"x": 10, "y": 5}, "vel": {"speed": 1.4, "heading": 0}}`.
 */
export interface LinkSample {
  /** Time of the measurement, milliseconds (any epoch; never decreasing). */
  readonly t: number;
  /** Point-of-attachment id (an access point, base station, ...). */
  readonly poa: string;
  /** Network (domain / candidate target network) the PoA belongs to. */
  readonly network: string;
  /** Signal-to-noise ratio in dB. */
  readonly snr: number;
  /** The mobile node's position when known. */
  readonly pos?: Position;
  /** The mobile node's velocity when known. */
  readonly vel?: Velocity;
}

function _finite(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new MetricsValidationError(
      field,
      `Invalid ${field}: expected a finite number, got ${_show(value)}`,
    );
  }
  return value;
}

function _id(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new MetricsValidationError(
      field,
      `Invalid ${field}: expected a non-empty string, got ${_show(value)}`,
    );
  }
  return value;
}

function _show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Validates an untrusted value (parsed JSON, say) as a {@link LinkSample}.
 * Unknown keys are ignored and dropped from the result.
 *
 * @param value the candidate sample
 * @param previousT the time of the previous sample in the same stream, if any;
 *   a smaller `t` is rejected (time going backwards)
 * @returns a fresh, validated sample
 * @throws {MetricsValidationError} naming the offending field
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = parseLinkSample({ t: 0, poa: "ap1", network: "A", snr: 20, extra: 1 });
 * assertEquals(s, { t: 0, poa: "ap1", network: "A", snr: 20 });
 * assertThrows(() => parseLinkSample({ t: 0, poa: "ap1", network: "A", snr: NaN }));
 * ```
 */
export function parseLinkSample(value: unknown, previousT?: number): LinkSample {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MetricsValidationError(
      "sample",
      `Invalid sample: expected an object, got ${_show(value)}`,
    );
  }
  const v = value as Record<string, unknown>;
  const t = _finite(v.t, "t");
  if (previousT !== undefined && t < previousT) {
    throw new MetricsValidationError(
      "t",
      `Invalid t: time goes backwards: ${t} after ${previousT}`,
    );
  }
  const poa = _id(v.poa, "poa");
  const network = _id(v.network, "network");
  const snr = _finite(v.snr, "snr");
  let pos: Position | undefined;
  if (v.pos !== undefined) {
    if (typeof v.pos !== "object" || v.pos === null) {
      throw new MetricsValidationError(
        "pos",
        `Invalid pos: expected an object, got ${_show(v.pos)}`,
      );
    }
    const p = v.pos as Record<string, unknown>;
    pos = { x: _finite(p.x, "pos.x"), y: _finite(p.y, "pos.y") };
  }
  let vel: Velocity | undefined;
  if (v.vel !== undefined) {
    if (typeof v.vel !== "object" || v.vel === null) {
      throw new MetricsValidationError(
        "vel",
        `Invalid vel: expected an object, got ${_show(v.vel)}`,
      );
    }
    const w = v.vel as Record<string, unknown>;
    const speed = _finite(w.speed, "vel.speed");
    if (speed < 0) {
      throw new MetricsValidationError("vel.speed", `Invalid vel.speed: negative: ${speed}`);
    }
    vel = { speed, heading: _finite(w.heading, "vel.heading") };
  }
  const sample: { -readonly [K in keyof LinkSample]: LinkSample[K] } = { t, poa, network, snr };
  if (pos) sample.pos = pos;
  if (vel) sample.vel = vel;
  return sample;
}

/**
 * Checks a typed {@link LinkSample} in place, without copying it: the fast path for
 * samples that come from code rather than text (`decide` runs it on every sample).
 *
 * @param sample the sample
 * @param previousT the previous sample's time, if any
 * @throws {MetricsValidationError} naming the offending field
 *
 * @example
 * ```ts
 * import { assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertLinkSample({ t: 5, poa: "a", network: "n", snr: 1 }, 4);
 * assertThrows(() => assertLinkSample({ t: 5, poa: "a", network: "n", snr: 1, pos: { x: NaN, y: 0 } }));
 * ```
 */
export function assertLinkSample(sample: LinkSample, previousT?: number): void {
  if (typeof sample !== "object" || sample === null) {
    throw new MetricsValidationError("sample", "Invalid sample: expected an object");
  }
  const t = _finite(sample.t, "t");
  if (previousT !== undefined && t < previousT) {
    throw new MetricsValidationError(
      "t",
      `Invalid t: time goes backwards: ${t} after ${previousT}`,
    );
  }
  _id(sample.poa, "poa");
  _id(sample.network, "network");
  _finite(sample.snr, "snr");
  const pos = sample.pos;
  if (pos !== undefined) {
    if (typeof pos !== "object" || pos === null) {
      throw new MetricsValidationError("pos", `Invalid pos: expected an object, got ${_show(pos)}`);
    }
    _finite(pos.x, "pos.x");
    _finite(pos.y, "pos.y");
  }
  const vel = sample.vel;
  if (vel !== undefined) {
    if (typeof vel !== "object" || vel === null) {
      throw new MetricsValidationError("vel", `Invalid vel: expected an object, got ${_show(vel)}`);
    }
    if (_finite(vel.speed, "vel.speed") < 0) {
      throw new MetricsValidationError("vel.speed", `Invalid vel.speed: negative: ${vel.speed}`);
    }
    _finite(vel.heading, "vel.heading");
  }
}

/**
 * Parses one JSONL line as a {@link LinkSample}.
 *
 * @param line one line of text
 * @param previousT the previous sample's time, if any
 * @returns the validated sample
 * @throws {MetricsValidationError} for bad JSON (`field` is `json`) or a bad field
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(parseLinkSampleLine('{"t":1,"poa":"a","network":"n","snr":3}').snr, 3);
 * ```
 */
export function parseLinkSampleLine(line: string, previousT?: number): LinkSample {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new MetricsValidationError("json", `Invalid JSON: ${(error as Error).message}`);
  }
  return parseLinkSample(json, previousT);
}

/**
 * Formats a sample as one JSONL line (no newline), keys in the stable order.
 *
 * @param sample the sample
 * @returns the JSON text
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatLinkSample({ t: 1, poa: "a", network: "n", snr: 3 }), '{"t":1,"poa":"a","network":"n","snr":3}');
 * ```
 */
export function formatLinkSample(sample: LinkSample): string {
  const out: Record<string, unknown> = {
    t: sample.t,
    poa: sample.poa,
    network: sample.network,
    snr: sample.snr,
  };
  if (sample.pos) out.pos = { x: sample.pos.x, y: sample.pos.y };
  if (sample.vel) out.vel = { speed: sample.vel.speed, heading: sample.vel.heading };
  return JSON.stringify(out);
}
