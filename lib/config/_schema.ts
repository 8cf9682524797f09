/**
 * A tiny schema language for the configuration files: checks compose into objects,
 * tagged variants, arrays; each check knows its expected form, reports every problem
 * into a shared context (never stops at the first) and returns the typed value, or
 * {@link _INVALID} when the value did not validate.
 *
 * @module
 */
import type { ConfigIssue } from "./config_error.ts";
import type { JsoncPosition } from "./jsonc.ts";
import { jsoncPath } from "./jsonc.ts";
import { _suggest } from "./_suggest.ts";
import { parseIpv4Address, parseIpv6Address } from "../wire/ip_header.ts";

/** Marks a value that did not validate (its problems are in the context). */
export const _INVALID: unique symbol = Symbol("invalid");

/** A validated value or {@link _INVALID}. */
export type _Result<T> = T | typeof _INVALID;

/** Where the problems go, and what the checks need from outside. */
export interface _Ctx {
  /** The problems found so far. */
  readonly issues: ConfigIssue[];
  /** Where values start, by path. */
  readonly positions: ReadonlyMap<string, JsoncPosition>;
  /** Where object keys start, by path. */
  readonly keyPositions: ReadonlyMap<string, JsoncPosition>;
  /** Turns a file path from the configuration into the one to open. */
  readonly resolvePath: (path: string) => string;
}

/** A check: validates `value` found at `path`; knows its expected form. */
export interface _Check<T> {
  /** Validates. */
  (value: unknown, path: string, ctx: _Ctx): _Result<T>;
  /** The expected form, for messages (`an integer 1-65535`). */
  readonly expected: string;
}

/** Makes a check from its expected form and its function. */
export function _check<T>(
  expected: string,
  fn: (value: unknown, path: string, ctx: _Ctx) => _Result<T>,
): _Check<T> {
  return Object.assign(fn, { expected });
}

/** A short description of a JSON value for "got ..." (strings quoted, truncated). */
export function _describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : "an array";
  return "an object";
}

/** Options of {@link _issue}. */
export interface _IssueOptions {
  /** A hint after the message. */
  readonly hint?: string | undefined;
  /** Point at the key (unknown fields) rather than the value. */
  readonly atKey?: boolean;
  /** Point at this path's value instead (missing fields: the parent object). */
  readonly at?: string;
}

/** Records one problem, with the position of the value (or key) when known. */
export function _issue(
  ctx: _Ctx,
  path: string,
  expected: string,
  got: string,
  options: _IssueOptions = {},
): typeof _INVALID {
  const pos = options.atKey === true
    ? ctx.keyPositions.get(path)
    : ctx.positions.get(options.at ?? path);
  ctx.issues.push({
    path,
    expected,
    got,
    ...(options.hint === undefined ? {} : { hint: options.hint }),
    ...(pos === undefined ? {} : { line: pos.line, column: pos.column }),
  });
  return _INVALID;
}

/** A non-empty string. */
export function _string(expected = "a non-empty string"): _Check<string> {
  return _check(
    expected,
    (v, path, ctx) =>
      typeof v === "string" && v !== "" ? v : _issue(ctx, path, expected, _describe(v)),
  );
}

/** A string matching `pattern` (anchored by the caller). */
export function _pattern(pattern: RegExp, expected: string): _Check<string> {
  return _check(
    expected,
    (v, path, ctx) =>
      typeof v === "string" && pattern.test(v) ? v : _issue(ctx, path, expected, _describe(v)),
  );
}

/** An integer in `[min, max]`. */
export function _int(min: number, max = Number.MAX_SAFE_INTEGER): _Check<number> {
  const expected = max === Number.MAX_SAFE_INTEGER
    ? `an integer >= ${min}`
    : `an integer ${min}-${max}`;
  return _check(
    expected,
    (v, path, ctx) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
        ? v
        : _issue(ctx, path, expected, _describe(v)),
  );
}

/** A finite number in `[min, max]`. */
export function _number(min = -Infinity, max = Infinity): _Check<number> {
  const expected = min === -Infinity && max === Infinity
    ? "a number"
    : max === Infinity
    ? `a number >= ${min}`
    : `a number in [${min}, ${max}]`;
  return _check(
    expected,
    (v, path, ctx) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && v <= max
        ? v
        : _issue(ctx, path, expected, _describe(v)),
  );
}

/** `true` or `false`. */
export function _bool(): _Check<boolean> {
  return _check(
    "true or false",
    (v, path, ctx) => typeof v === "boolean" ? v : _issue(ctx, path, "true or false", _describe(v)),
  );
}

/** One of the given strings; a near miss gets a "did you mean". */
export function _literal<const L extends string>(...values: readonly L[]): _Check<L> {
  const expected = values.length === 1
    ? JSON.stringify(values[0])
    : `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return _check(expected, (v, path, ctx) => {
    if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as L;
    const near = typeof v === "string" ? _suggest(v, values) : undefined;
    return _issue(ctx, path, expected, _describe(v), {
      hint: near === undefined ? undefined : `did you mean ${JSON.stringify(near)}?`,
    });
  });
}

/** The IP version of an address literal, or 0. */
export function _ipVersion(text: string): 0 | 4 | 6 {
  try {
    if (text.includes(":")) {
      parseIpv6Address(text);
      return 6;
    }
    parseIpv4Address(text);
    return 4;
  } catch {
    return 0;
  }
}

/** An IP address literal (either version, or only `version`). */
export function _ip(version?: 4 | 6): _Check<string> {
  const expected = version === undefined ? "an IPv4 or IPv6 address" : `an IPv${version} address`;
  return _check(expected, (v, path, ctx) => {
    if (typeof v === "string") {
      const got = _ipVersion(v);
      if (got !== 0 && (version === undefined || got === version)) return v;
    }
    return _issue(ctx, path, expected, _describe(v));
  });
}

/** An IPv4 address as a 32-bit unsigned number. */
export function _ipv4Number(text: string): number {
  const b = parseIpv4Address(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** An IPv4 subnet in CIDR form with zero host bits (`10.0.2.0/24`). */
export function _cidr4(): _Check<string> {
  const expected = "an IPv4 subnet in CIDR form with zero host bits (e.g. 10.0.2.0/24)";
  return _check(expected, (v, path, ctx) => {
    const m = typeof v === "string" ? /^([0-9.]+)\/([0-9]{1,2})$/.exec(v) : null;
    if (m !== null && _ipVersion(m[1]!) === 4 && Number(m[2]) <= 32) {
      const bits = Number(m[2]);
      const host = bits === 32 ? 0 : (0xffffffff >>> bits);
      if ((_ipv4Number(m[1]!) & host) === 0) return v as string;
    }
    return _issue(ctx, path, expected, _describe(v));
  });
}

/** Whether an IPv4 address lies in a CIDR subnet (both already validated). */
export function _inSubnet4(address: string, cidr: string): boolean {
  const [net, bits] = cidr.split("/") as [string, string];
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return ((_ipv4Number(address) & mask) >>> 0) === _ipv4Number(net);
}

/** An address and port to listen on or connect to. */
export interface _HostPort {
  /** IP address literal, no brackets. */
  readonly address: string;
  /** UDP/TCP port. */
  readonly port: number;
}

/**
 * `"HOST:PORT"`, `"[V6]:PORT"` or a bare `"HOST"` (then `defaultPort`), HOST an IP
 * address literal; port 0 (ephemeral) allowed when `allowZero`.
 */
export function _hostPort(defaultPort: number, allowZero: boolean): _Check<_HostPort> {
  const min = allowZero ? 0 : 1;
  const expected =
    `"HOST:PORT" with an IP address and a port ${min}-65535 (or "HOST" for port ${defaultPort})`;
  return _check(expected, (v, path, ctx) => {
    if (typeof v === "string") {
      let host = v;
      let portText: string | undefined;
      const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
      if (bracketed !== null) {
        host = bracketed[1]!;
        portText = bracketed[2];
      } else if (_ipVersion(v) === 0) {
        const colon = v.lastIndexOf(":");
        if (colon >= 0) {
          host = v.slice(0, colon);
          portText = v.slice(colon + 1);
        }
      }
      const port = portText === undefined
        ? defaultPort
        : /^[0-9]{1,5}$/.test(portText)
        ? Number(portText)
        : NaN;
      const okHost = _ipVersion(host) !== 0 && (bracketed === null || host.includes(":"));
      if (okHost && port >= min && port <= 65535) return { address: host, port };
    }
    return _issue(ctx, path, expected, _describe(v));
  });
}

/** A file path (non-empty), resolved by the context (relative to the config file). */
export function _file(): _Check<string> {
  const expected = "a file path (relative to this file's directory, or absolute)";
  return _check(
    expected,
    (v, path, ctx) =>
      typeof v === "string" && v !== "" && !v.includes("\0")
        ? ctx.resolvePath(v)
        : _issue(ctx, path, expected, _describe(v)),
  );
}

/** An array whose elements pass `item`; at least `min` of them. */
export function _array<T>(item: _Check<T>, min = 0): _Check<readonly T[]> {
  const expected = min > 0
    ? `a non-empty array of ${item.expected}`
    : `an array of ${item.expected}`;
  return _check(expected, (v, path, ctx) => {
    if (!Array.isArray(v) || v.length < min) return _issue(ctx, path, expected, _describe(v));
    const out: T[] = [];
    let ok = true;
    v.forEach((element, i) => {
      const r = item(element, jsoncPath(path, i), ctx);
      if (r === _INVALID) ok = false;
      else out.push(r);
    });
    return ok ? out : _INVALID;
  });
}

/** An object used as a dictionary: every key non-empty, every value passes `item`; at least `min` entries. */
export function _dict<T>(item: _Check<T>, min = 0): _Check<Readonly<Record<string, T>>> {
  const expected = `an object of names to ${item.expected}` +
    (min > 0 ? ` (at least ${min})` : "");
  return _check(expected, (v, path, ctx) => {
    if (!_isObject(v) || Object.keys(v).length < min) {
      return _issue(ctx, path, expected, _describe(v));
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const [key, value] of Object.entries(v)) {
      const r = item(value, jsoncPath(path, key), ctx);
      if (r === _INVALID) ok = false;
      else out[key] = r;
    }
    return ok ? out : _INVALID;
  });
}

/** Transforms a valid value. */
export function _map<A, B>(check: _Check<A>, fn: (value: A) => B): _Check<B> {
  return _check(check.expected, (v, path, ctx) => {
    const r = check(v, path, ctx);
    return r === _INVALID ? _INVALID : fn(r);
  });
}

/**
 * Adds a cross-field rule to a valid value: `rule` reports its problems with
 * {@link _issue}. The value stays usable by the enclosing checks (so that their own
 * rules run too and every problem is found); the run fails on any reported issue.
 */
export function _refine<T>(
  check: _Check<T>,
  rule: (value: T, path: string, ctx: _Ctx) => void,
): _Check<T> {
  return _check(check.expected, (v, path, ctx) => {
    const r = check(v, path, ctx);
    if (r !== _INVALID) rule(r, path, ctx);
    return r;
  });
}

/** Either check: the first that fits by `accepts`. */
export function _either<A, B>(
  a: _Check<A>,
  accepts: (value: unknown) => boolean,
  b: _Check<B>,
): _Check<A | B> {
  return _check(
    `${a.expected} or ${b.expected}`,
    (v, path, ctx) => accepts(v) ? a(v, path, ctx) : b(v, path, ctx),
  );
}

type _Kind = "req" | "opt" | "def";

/** A member of an object spec: required, optional, or with a default. */
export interface _Field<T, K extends _Kind> {
  /** The member's check. */
  readonly check: _Check<T>;
  /** Required, optional (absent stays absent) or defaulted. */
  readonly kind: K;
  /** The default, for `def`. */
  readonly fallback?: T;
}

/** A required member. */
export function _req<T>(check: _Check<T>): _Field<T, "req"> {
  return { check, kind: "req" };
}

/** An optional member: absent in the input, absent in the output. */
export function _opt<T>(check: _Check<T>): _Field<T, "opt"> {
  return { check, kind: "opt" };
}

/** A member with a default. */
export function _def<T>(check: _Check<T>, fallback: T): _Field<T, "def"> {
  return { check, kind: "def", fallback };
}

/** An object spec: member name to field. */
export type _Spec = { readonly [key: string]: _Field<unknown, _Kind> };

type _OptKeys<S> = { [K in keyof S]: S[K] extends _Field<unknown, "opt"> ? K : never }[keyof S];
type _ReqKeys<S> = Exclude<keyof S, _OptKeys<S>>;
type _ValueOf<F> = F extends _Field<infer T, _Kind> ? T : never;

/** The output type of an object spec. */
export type _Out<S extends _Spec> =
  & { readonly [K in _ReqKeys<S>]: _ValueOf<S[K]> }
  & { readonly [K in _OptKeys<S>]?: _ValueOf<S[K]> };

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function _fieldsOf(path: string): string {
  return path === "" ? "the top-level fields" : `the fields of ${path}`;
}

/** Checks the members of an object that is known to be an object. */
function _members<S extends _Spec>(
  spec: S,
  o: Record<string, unknown>,
  path: string,
  ctx: _Ctx,
  ignore: readonly string[],
): _Result<_Out<S>> {
  const known = Object.keys(spec);
  let ok = true;
  for (const key of Object.keys(o)) {
    if (Object.hasOwn(spec, key) || ignore.includes(key)) continue;
    const near = _suggest(key, known);
    _issue(
      ctx,
      jsoncPath(path, key),
      `one of ${_fieldsOf(path)} (${known.join(", ")})`,
      "an unknown field",
      { atKey: true, hint: near === undefined ? undefined : `did you mean "${near}"?` },
    );
    ok = false;
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    const child = jsoncPath(path, key);
    if (!Object.hasOwn(o, key)) {
      if (field.kind === "req") {
        _issue(ctx, child, field.check.expected, "nothing (the field is required)", { at: path });
        ok = false;
      } else if (field.kind === "def") {
        out[key] = field.fallback;
      }
      continue;
    }
    const r = field.check(o[key], child, ctx);
    if (r === _INVALID) ok = false;
    else out[key] = r;
  }
  return ok ? out as _Out<S> : _INVALID;
}

/**
 * An object with exactly the members of `spec` (unknown members are refused with a
 * "did you mean"); `ignore` lists members accepted and dropped (`$schema`).
 */
export function _object<S extends _Spec>(
  spec: S,
  expected = "an object",
  ignore: readonly string[] = [],
): _Check<_Out<S>> {
  return _check(
    expected,
    (v, path, ctx) =>
      _isObject(v)
        ? _members(spec, v, path, ctx, ignore)
        : _issue(ctx, path, expected, _describe(v)),
  );
}

/** The output of {@link _variants}: a union tagged by `D`. */
export type _VariantsOut<D extends string, V extends { readonly [k: string]: _Spec }> = {
  [K in keyof V & string]: { readonly [P in D]: K } & _Out<V[K]>;
}[keyof V & string];

/**
 * An object tagged by member `tag` (`"kind": "sip"`): the tag selects the spec of
 * the other members.
 */
export function _variants<D extends string, V extends { readonly [k: string]: _Spec }>(
  tag: D,
  variants: V,
): _Check<_VariantsOut<D, V>> {
  const tags = Object.keys(variants);
  const tagCheck = _literal(...tags);
  const expected = `an object with "${tag}": ${tags.map((t) => JSON.stringify(t)).join(" | ")}`;
  return _check(expected, (v, path, ctx) => {
    if (!_isObject(v)) return _issue(ctx, path, expected, _describe(v));
    const tagPath = jsoncPath(path, tag);
    if (!Object.hasOwn(v, tag)) {
      return _issue(ctx, tagPath, tagCheck.expected, "nothing (the field is required)", {
        at: path,
      });
    }
    const t = tagCheck(v[tag], tagPath, ctx);
    if (t === _INVALID) return _INVALID;
    const r = _members(variants[t]!, v, path, ctx, [tag]);
    return r === _INVALID ? _INVALID : { [tag]: t, ...r } as _VariantsOut<D, V>;
  });
}
