/**
 * The replay/agent configuration file (JSON): cells, CTN timings and `decide`
 * options, validated into {@link DecideOptions}. Documented in the README.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { Cell, CtnProfile } from "../metrics/cell.ts";
import type { DecideOptions, RecoveryOptions } from "./decide.ts";
import { resolveDecideOptions } from "./decide.ts";

const _NUMERIC_OPTIONS = [
  "k",
  "margin",
  "leave",
  "timeToTrigger",
  "prepareMargin",
  "prepareLeave",
  "prepareDwell",
  "releaseDwell",
  "topK",
  "maxPreconfigured",
  "outageSnr",
  "safety",
  "maxAgeMs",
  "trendWindowMs",
] as const;

const _RECOVERY_OPTIONS = [
  "retainMs",
  "returnPenaltyDb",
  "pingPongWindowMs",
  "holdDownMs",
  "bicastMs",
] as const;

function _object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `Invalid ${path}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function _num(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ConfigError(
      path,
      `Invalid ${path}: expected a finite number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function _str(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") {
    throw new ConfigError(
      path,
      `Invalid ${path}: expected a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function _array(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(path, `Invalid ${path}: expected an array`);
  }
  return value;
}

function _unknownKeys(
  o: Record<string, unknown>,
  known: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        `${path}.${key}`,
        `Unknown option ${path}.${key}: expected one of ${known.join(", ")}`,
      );
    }
  }
}

/**
 * Validates a parsed configuration file into {@link DecideOptions}.
 *
 * @param json the parsed JSON
 * @returns options for `decide`, every value checked
 * @throws {ConfigError} naming the bad field by its path (`cells[2].coverage`)
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const o = parseDecideConfig({ ctns: [{ network: "B", rttMs: 40 }], decide: { topK: 3 } });
 * assertEquals(o.topK, 3);
 * assertThrows(() => parseDecideConfig({ decide: { topk: 3 } }));
 * ```
 */
export function parseDecideConfig(json: unknown): DecideOptions {
  const root = _object(json, "config");
  _unknownKeys(
    root,
    ["cells", "ctns", "decide", "$schema", "description"],
    "config",
  );
  const out: { -readonly [K in keyof DecideOptions]: DecideOptions[K] } = {};
  if (root.cells !== undefined) {
    out.cells = _array(root.cells, "cells").map((c, i): Cell => {
      const p = `cells[${i}]`;
      const o = _object(c, p);
      _unknownKeys(o, ["poa", "network", "pos", "coverage", "txPower"], p);
      const pos = _object(o.pos, `${p}.pos`);
      _unknownKeys(pos, ["x", "y"], `${p}.pos`);
      const coverage = _num(o.coverage, `${p}.coverage`);
      if (coverage <= 0) {
        throw new ConfigError(
          `${p}.coverage`,
          `Invalid ${p}.coverage: must be > 0`,
        );
      }
      const cell: { -readonly [K in keyof Cell]: Cell[K] } = {
        poa: _str(o.poa, `${p}.poa`),
        network: _str(o.network, `${p}.network`),
        pos: { x: _num(pos.x, `${p}.pos.x`), y: _num(pos.y, `${p}.pos.y`) },
        coverage,
      };
      if (o.txPower !== undefined) {
        cell.txPower = _num(o.txPower, `${p}.txPower`);
      }
      return cell;
    });
  }
  if (root.ctns !== undefined) {
    out.ctns = _array(root.ctns, "ctns").map((c, i): CtnProfile => {
      const p = `ctns[${i}]`;
      const o = _object(c, p);
      _unknownKeys(o, ["network", "rttMs", "tpskMs", "tconfMs", "tbuMs"], p);
      const profile: { -readonly [K in keyof CtnProfile]: CtnProfile[K] } = {
        network: _str(o.network, `${p}.network`),
      };
      for (const key of ["rttMs", "tpskMs", "tconfMs", "tbuMs"] as const) {
        if (o[key] !== undefined) {
          const v = _num(o[key], `${p}.${key}`);
          if (v < 0) {
            throw new ConfigError(
              `${p}.${key}`,
              `Invalid ${p}.${key}: must be >= 0`,
            );
          }
          profile[key] = v;
        }
      }
      return profile;
    });
  }
  if (root.decide !== undefined) {
    const d = _object(root.decide, "decide");
    _unknownKeys(d, [..._NUMERIC_OPTIONS, "recovery"], "decide");
    for (const key of _NUMERIC_OPTIONS) {
      if (d[key] !== undefined) out[key] = _num(d[key], `decide.${key}`);
    }
    if (d.recovery === "off") out.recovery = "off";
    else if (d.recovery !== undefined) {
      const r = _object(d.recovery, "decide.recovery");
      _unknownKeys(r, _RECOVERY_OPTIONS, "decide.recovery");
      const rec: {
        -readonly [K in keyof RecoveryOptions]: RecoveryOptions[K];
      } = {};
      for (const key of _RECOVERY_OPTIONS) {
        if (r[key] !== undefined) {
          rec[key] = _num(r[key], `decide.recovery.${key}`);
        }
      }
      out.recovery = rec;
    }
  }
  try {
    resolveDecideOptions(out); // range checks
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      `decide.${error.option}`,
      error.message.replace(
        `Invalid ${error.option}`,
        `Invalid decide.${error.option}`,
      ),
    );
  }
  return out;
}
