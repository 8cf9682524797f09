/**
 * Reads an {@link AgentStatus} back from parsed JSON (the `/status` body), checking
 * every field, so that `mpa status` prints only what it understood.
 *
 * @module
 */
import { MalformedMessageError } from "../errors.ts";
import {
  type AgentCounters,
  type AgentStatus,
  type PhaseTiming,
  type RetainedContext,
  type ServingStatus,
  type SessionFailure,
  type SessionStatus,
  STATUS_PHASES,
  type StatusPhase,
} from "./agent_status.ts";

/**
 * Checks that `value` (parsed JSON) is an {@link AgentStatus} and returns it typed.
 * Unknown extra fields are dropped; missing, mistyped or non-finite ones are refused.
 *
 * @param value the result of `JSON.parse` on a `/status` body
 * @returns the status, holding only known fields
 * @throws {MalformedMessageError} naming the first offending field
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MalformedMessageError } from "../errors.ts";
 * import { parseAgentStatus } from "./parse_agent_status.ts";
 * const status = parseAgentStatus({
 *   generatedAt: 10, serving: null, sessions: [], retained: [],
 *   counters: { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 },
 * });
 * assertEquals(status.sessions, []);
 * assertThrows(() => parseAgentStatus({ generatedAt: "x" }), MalformedMessageError, "generatedAt");
 * ```
 */
export function parseAgentStatus(value: unknown): AgentStatus {
  const o = _object(value, "status");
  const generatedAt = _number(o.generatedAt, "generatedAt");
  return {
    generatedAt,
    serving: o.serving === null ? null : _serving(o.serving),
    sessions: _array(o.sessions, "sessions").map((s, i) => _session(s, `sessions[${i}]`)),
    retained: _array(o.retained, "retained").map((r, i) => _retained(r, `retained[${i}]`)),
    counters: _counters(o.counters),
  };
}

function _fail(path: string, expected: string): never {
  throw new MalformedMessageError(`Invalid agent status: ${path} is not ${expected}`);
}

function _object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    _fail(path, "an object");
  }
  return value as Record<string, unknown>;
}

function _array(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) _fail(path, "an array");
  return value;
}

function _number(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) _fail(path, "a finite number");
  return value;
}

function _count(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    _fail(path, "a non-negative integer");
  }
  return value;
}

function _string(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") _fail(path, "a non-empty string");
  return value;
}

function _phase(value: unknown, path: string): StatusPhase {
  if (typeof value !== "string" || !(STATUS_PHASES as readonly string[]).includes(value)) {
    _fail(path, `one of ${STATUS_PHASES.join(", ")}`);
  }
  return value as StatusPhase;
}

function _serving(value: unknown): ServingStatus {
  const o = _object(value, "serving");
  return {
    network: _string(o.network, "serving.network"),
    ...(o.poa === undefined ? {} : { poa: _string(o.poa, "serving.poa") }),
    ...(o.address === undefined ? {} : { address: _string(o.address, "serving.address") }),
    ...(o.since === undefined ? {} : { since: _number(o.since, "serving.since") }),
  };
}

function _timing(value: unknown, path: string): PhaseTiming {
  const o = _object(value, path);
  return {
    startedAt: _number(o.startedAt, `${path}.startedAt`),
    ...(o.endedAt === undefined ? {} : { endedAt: _number(o.endedAt, `${path}.endedAt`) }),
    ...(o.durationMs === undefined
      ? {}
      : { durationMs: _number(o.durationMs, `${path}.durationMs`) }),
  };
}

function _failure(value: unknown, path: string): SessionFailure {
  const o = _object(value, path);
  return {
    phase: _phase(o.phase, `${path}.phase`),
    code: _string(o.code, `${path}.code`),
    ...(o.message === undefined ? {} : { message: _string(o.message, `${path}.message`) }),
    ...(o.at === undefined ? {} : { at: _number(o.at, `${path}.at`) }),
  };
}

function _session(value: unknown, path: string): SessionStatus {
  const o = _object(value, path);
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  const phases: Record<string, PhaseTiming> = Object.fromEntries(
    Object.entries(_object(o.phases, `${path}.phases`)).map((
      [name, timing],
    ) => [name, _timing(timing, `${path}.phases.${name}`)]),
  );
  return {
    ctn: _string(o.ctn, `${path}.ctn`),
    phase: _phase(o.phase, `${path}.phase`),
    since: _number(o.since, `${path}.since`),
    phases,
    ...(o.lastError === undefined ? {} : { lastError: _failure(o.lastError, `${path}.lastError`) }),
  };
}

function _retained(value: unknown, path: string): RetainedContext {
  const o = _object(value, path);
  return {
    ctn: _string(o.ctn, `${path}.ctn`),
    expiresAt: _number(o.expiresAt, `${path}.expiresAt`),
    ...(o.address === undefined ? {} : { address: _string(o.address, `${path}.address`) }),
  };
}

function _counters(value: unknown): AgentCounters {
  const o = _object(value, "counters");
  return {
    handovers: _count(o.handovers, "counters.handovers"),
    pingPongs: _count(o.pingPongs, "counters.pingPongs"),
    failures: _count(o.failures, "counters.failures"),
    packetsBuffered: _count(o.packetsBuffered, "counters.packetsBuffered"),
  };
}
