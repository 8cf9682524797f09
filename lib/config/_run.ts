/**
 * Runs a configuration check over a value or a JSONC text and throws one
 * {@link ConfigFileError} with every problem, in text order.
 *
 * @module
 */
import { ConfigFileError, type ConfigIssue } from "./config_error.ts";
import { type JsoncPosition, JsoncSyntaxError, parseJsonc } from "./jsonc.ts";
import { type _Check, type _Ctx, _INVALID } from "./_schema.ts";

/** What the runner needs besides the value. */
export interface _RunOptions {
  /** Value positions by path, from {@link parseJsonc}. */
  readonly positions?: ReadonlyMap<string, JsoncPosition>;
  /** Key positions by path, from {@link parseJsonc}. */
  readonly keyPositions?: ReadonlyMap<string, JsoncPosition>;
  /** Resolves file paths; default: unchanged. */
  readonly resolvePath?: (path: string) => string;
  /** Issues found before validation (duplicate keys). */
  readonly issues?: readonly ConfigIssue[];
}

function _order(a: ConfigIssue, b: ConfigIssue): number {
  const la = a.line ?? Infinity;
  const lb = b.line ?? Infinity;
  if (la !== lb) return la - lb;
  return (a.column ?? 0) - (b.column ?? 0);
}

/** Validates `value` with `check`; throws every problem at once. */
export function _run<T>(check: _Check<T>, value: unknown, source: string, options: _RunOptions): T {
  const ctx: _Ctx = {
    issues: [...(options.issues ?? [])],
    positions: options.positions ?? new Map(),
    keyPositions: options.keyPositions ?? new Map(),
    resolvePath: options.resolvePath ?? ((p) => p),
  };
  const r = check(value, "", ctx);
  if (ctx.issues.length > 0 || r === _INVALID) {
    // Array.prototype.sort is stable: problems on one spot keep their check order.
    throw new ConfigFileError(source, [...ctx.issues].sort(_order));
  }
  return r;
}

/** Parses JSONC `text` and validates it; syntax errors and duplicate keys included. */
export function _runText<T>(
  check: _Check<T>,
  text: string,
  source: string,
  resolvePath: ((path: string) => string) | undefined,
): T {
  let doc;
  try {
    doc = parseJsonc(text);
  } catch (error) {
    if (!(error instanceof JsoncSyntaxError)) throw error;
    const m = /^expected (.*), got (.*)$/s.exec(error.reason);
    throw new ConfigFileError(source, [{
      path: "",
      expected: m === null ? `valid JSONC (${error.reason})` : `${m[1]!} (JSONC syntax)`,
      got: m === null ? "a syntax error" : m[2]!,
      line: error.line,
      column: error.column,
    }]);
  }
  const duplicates = doc.duplicates.map((d): ConfigIssue => ({
    path: d.path,
    expected: `each field once (first given at ${d.first.line}:${d.first.column})`,
    got: "a duplicate",
    line: d.at.line,
    column: d.at.column,
  }));
  return _run(check, doc.value, source, {
    positions: doc.positions,
    keyPositions: doc.keyPositions,
    issues: duplicates,
    ...(resolvePath === undefined ? {} : { resolvePath }),
  });
}
