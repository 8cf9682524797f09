/**
 * The error of a configuration file that does not validate: every problem found,
 * each naming the file, the field path, the expected form and what was there.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** Field path (`ctns[1].ar.port`); `""` for the whole document. */
  readonly path: string;
  /** The expected form, without "expected" (`an integer 1-65535`). */
  readonly expected: string;
  /** What was there (`"7716x"`, `nothing`, `an array`). */
  readonly got: string;
  /** A hint, e.g. `did you mean "identity"?`. */
  readonly hint?: string;
  /** Line of the offending value or key, from 1, when known. */
  readonly line?: number;
  /** Column of the offending value or key, from 1, when known. */
  readonly column?: number;
}

/**
 * Formats one issue as a line: `FILE:LINE:COLUMN: PATH: expected FORM, got WHAT`,
 * with `:LINE:COLUMN` only when known, `PATH: ` only for a field, and `; HINT` when
 * there is a hint.
 *
 * @param source the file's name as the user knows it
 * @param issue the issue
 * @returns one line
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(
 *   formatConfigIssue("mn.jsonc", {
 *     path: "ctns[1].ar.port", expected: "an integer 1-65535", got: '"7716x"', line: 9, column: 17,
 *   }),
 *   'mn.jsonc:9:17: ctns[1].ar.port: expected an integer 1-65535, got "7716x"',
 * );
 * ```
 */
export function formatConfigIssue(source: string, issue: ConfigIssue): string {
  const at = issue.line !== undefined && issue.column !== undefined
    ? `:${issue.line}:${issue.column}`
    : "";
  const path = issue.path === "" ? "" : `${issue.path}: `;
  const hint = issue.hint === undefined ? "" : `; ${issue.hint}`;
  return `${source}${at}: ${path}expected ${issue.expected}, got ${issue.got}${hint}`;
}

/**
 * A configuration file that does not parse or validate. Carries ALL the problems
 * found (in text order), one per line of the message, so that a user fixes them in
 * one pass. Extends {@link ConfigError} (its `name` stays `ConfigError` and its
 * `option` is the first issue's path) so that the CLI's handler prints the message
 * and exits with status 2, without a stack trace.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigError } from "../errors.ts";
 * const e = new ConfigFileError("ctn.jsonc", [
 *   { path: "aa.listen", expected: '"HOST:PORT" with an IP address', got: '"x"', line: 3, column: 13 },
 *   { path: "ar", expected: "an object", got: "nothing (required)" },
 * ]);
 * assert(e instanceof ConfigError);
 * assertEquals(e.option, "aa.listen");
 * assertEquals(e.message.split("\n"), [
 *   'ctn.jsonc:3:13: aa.listen: expected "HOST:PORT" with an IP address, got "x"',
 *   "ctn.jsonc: ar: expected an object, got nothing (required)",
 * ]);
 * ```
 */
export class ConfigFileError extends ConfigError {
  /** The file's name as given to the parser (a path, or a label like `<stdin>`). */
  readonly source: string;
  /** Every problem found, at least one, in text order (positionless ones last). */
  readonly issues: readonly ConfigIssue[];
  /**
   * Creates the error.
   *
   * @param source the file's name
   * @param issues at least one issue
   */
  constructor(source: string, issues: readonly ConfigIssue[]) {
    const first = issues[0] ?? { path: "", expected: "a valid configuration", got: "errors" };
    super(first.path, issues.map((i) => formatConfigIssue(source, i)).join("\n"));
    this.source = source;
    this.issues = issues.length > 0 ? issues : [first];
  }
}
