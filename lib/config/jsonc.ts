/**
 * A JSONC parser: JSON (RFC 8259) plus `//` line comments, `/* *\/` block comments
 * (not nested) and trailing commas, with the line and column of every value and key
 * kept by its field path, so that a configuration error can point at the offending
 * value. A leading byte order mark is skipped. Pure: text in, values out.
 *
 * Duplicate keys are not a syntax error (the text parses, the last value wins as in
 * `JSON.parse`) but are reported in {@link JsoncDocument.duplicates} so that the
 * configuration loader can refuse them.
 *
 * @module
 */

/** Where a value or key starts in the text: 1-based line and column, 0-based offset. */
export interface JsoncPosition {
  /** Line, from 1. */
  readonly line: number;
  /** Column, from 1, in UTF-16 code units (a byte order mark is not counted). */
  readonly column: number;
  /** Offset in the text, UTF-16 code units. */
  readonly offset: number;
}

/** A key given twice in one object. */
export interface JsoncDuplicate {
  /** Field path of the key (`ctns[0].aa`). */
  readonly path: string;
  /** Where the second occurrence's key starts. */
  readonly at: JsoncPosition;
  /** Where the first occurrence's key starts. */
  readonly first: JsoncPosition;
}

/** The result of {@link parseJsonc}. */
export interface JsoncDocument {
  /** The value, as `JSON.parse` would give it for the same text without comments. */
  readonly value: unknown;
  /**
   * Where each value starts, by field path: `""` for the root, `mn.identity`,
   * `ctns[1].ar.port`, `a["odd key"]` (see {@link jsoncPath}).
   */
  readonly positions: ReadonlyMap<string, JsoncPosition>;
  /** Where each object member's key starts, by the member's field path. */
  readonly keyPositions: ReadonlyMap<string, JsoncPosition>;
  /** Keys given more than once in the same object, in text order. */
  readonly duplicates: readonly JsoncDuplicate[];
}

/**
 * Text that is not JSONC: `reason` says what was expected and what was found, the
 * position says where.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { JsoncSyntaxError, parseJsonc } from "./jsonc.ts";
 * const e = assertThrows(() => parseJsonc('{\n  "a": tru\n}'), JsoncSyntaxError);
 * assertEquals([e.line, e.column], [2, 8]);
 * ```
 */
export class JsoncSyntaxError extends Error {
  /** Always `JsoncSyntaxError`. */
  override readonly name = "JsoncSyntaxError";
  /** Line of the offending character, from 1. */
  readonly line: number;
  /** Column of the offending character, from 1. */
  readonly column: number;
  /** Offset of the offending character. */
  readonly offset: number;
  /** What was expected and found, without the position (`expected "," or "}", got "x"`). */
  readonly reason: string;
  /**
   * Creates the error.
   *
   * @param reason what was expected and found
   * @param at where
   */
  constructor(reason: string, at: JsoncPosition) {
    super(`Invalid JSONC at ${at.line}:${at.column}: ${reason}`);
    this.reason = reason;
    this.line = at.line;
    this.column = at.column;
    this.offset = at.offset;
  }
}

const _IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The field path of a member or element: `parent.key`, `parent["odd key"]` for a key
 * that is not an identifier, `parent[3]` for an array index; the root is `""`.
 *
 * @param parent the parent's path (`""` for the root)
 * @param key a member name or an array index
 * @returns the child's path
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(jsoncPath(jsoncPath(jsoncPath("", "ctns"), 1), "ar"), "ctns[1].ar");
 * assertEquals(jsoncPath("a", "x y"), 'a["x y"]');
 * ```
 */
export function jsoncPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (_IDENTIFIER.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Nesting deeper than this is refused (a stack guard for hostile input). */
const _MAX_DEPTH = 256;

class _Parser {
  readonly #text: string;
  readonly #bom: number;
  #i: number;
  readonly #lineStarts: number[] = [0];
  #scannedTo = 0;
  readonly positions = new Map<string, JsoncPosition>();
  readonly keyPositions = new Map<string, JsoncPosition>();
  readonly duplicates: JsoncDuplicate[] = [];

  constructor(text: string) {
    this.#text = text;
    this.#bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.#i = this.#bom;
  }

  position(offset: number): JsoncPosition {
    // Line starts are found lazily, left to right, up to the asked offset.
    for (; this.#scannedTo < offset && this.#scannedTo < this.#text.length; this.#scannedTo++) {
      if (this.#text.charCodeAt(this.#scannedTo) === 10) this.#lineStarts.push(this.#scannedTo + 1);
    }
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = lo === 0 ? this.#bom : this.#lineStarts[lo]!;
    return { line: lo + 1, column: offset - start + 1, offset };
  }

  fail(reason: string, offset = this.#i): never {
    throw new JsoncSyntaxError(reason, this.position(offset));
  }

  found(offset = this.#i): string {
    if (offset >= this.#text.length) return "the end of the text";
    const c = this.#text[offset]!;
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      return `control character U+${code.toString(16).padStart(4, "0")}`;
    }
    return JSON.stringify(c);
  }

  skip(): void {
    const t = this.#text;
    for (;;) {
      const c = t.charCodeAt(this.#i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        this.#i++;
      } else if (c === 0x2f && t.charCodeAt(this.#i + 1) === 0x2f) {
        const end = t.indexOf("\n", this.#i);
        this.#i = end < 0 ? t.length : end + 1;
      } else if (c === 0x2f && t.charCodeAt(this.#i + 1) === 0x2a) {
        const end = t.indexOf("*/", this.#i + 2);
        if (end < 0) this.fail('expected "*/" to close the comment, got the end of the text');
        this.#i = end + 2;
      } else if (c === 0x2f) {
        this.fail(`expected a comment (// or /*), got "/" followed by ${this.found(this.#i + 1)}`);
      } else {
        return;
      }
    }
  }

  document(): JsoncDocument {
    this.skip();
    if (this.#i >= this.#text.length) this.fail("expected a value, got the end of the text");
    const value = this.value("", 0);
    this.skip();
    if (this.#i < this.#text.length) {
      this.fail(`expected the end of the text after the value, got ${this.found()}`);
    }
    return {
      value,
      positions: this.positions,
      keyPositions: this.keyPositions,
      duplicates: this.duplicates,
    };
  }

  value(path: string, depth: number): unknown {
    if (depth > _MAX_DEPTH) this.fail(`expected at most ${_MAX_DEPTH} levels of nesting, got more`);
    this.positions.set(path, this.position(this.#i));
    const t = this.#text;
    const c = t[this.#i];
    if (c === "{") return this.object(path, depth);
    if (c === "[") return this.array(path, depth);
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (t.startsWith(word, this.#i)) {
        const after = t.charCodeAt(this.#i + word.length);
        if (
          !(after >= 0x30 && after <= 0x39) && !/[A-Za-z_$]/.test(t[this.#i + word.length] ?? "")
        ) {
          this.#i += word.length;
          return v;
        }
      }
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(t.slice(this.#i, this.#i + 40));
    if (word !== null) {
      this.fail(
        `expected a value (string, number, object, array, true, false, null), got ${word[0]}`,
      );
    }
    this.fail(`expected a value, got ${this.found()}`);
  }

  object(path: string, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, JsoncPosition>();
    this.#i++; // {
    this.skip();
    if (this.#text[this.#i] === "}") {
      this.#i++;
      return out;
    }
    for (;;) {
      if (this.#text[this.#i] !== '"') {
        this.fail(
          seen.size === 0
            ? `expected a "quoted" key or "}", got ${this.found()}`
            : `expected a "quoted" key or "}" after ",", got ${this.found()}`,
        );
      }
      const keyAt = this.position(this.#i);
      const key = this.string();
      const child = jsoncPath(path, key);
      const first = seen.get(key);
      if (first !== undefined) this.duplicates.push({ path: child, at: keyAt, first });
      else seen.set(key, keyAt);
      this.keyPositions.set(child, first ?? keyAt);
      this.skip();
      if (this.#text[this.#i] !== ":") this.fail(`expected ":" after the key, got ${this.found()}`);
      this.#i++;
      this.skip();
      if (this.#i >= this.#text.length || this.#text[this.#i] === "}") {
        this.fail(`expected a value for key ${JSON.stringify(key)}, got ${this.found()}`);
      }
      // defineProperty: "__proto__" becomes an ordinary own key, as with JSON.parse.
      Object.defineProperty(out, key, {
        value: this.value(child, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skip();
      const sep = this.#text[this.#i];
      if (sep === ",") {
        this.#i++;
        this.skip();
        if (this.#text[this.#i] === "}") {
          this.#i++;
          return out;
        }
      } else if (sep === "}") {
        this.#i++;
        return out;
      } else {
        this.fail(
          `expected "," or "}" after the value of ${JSON.stringify(key)}, got ${this.found()}`,
        );
      }
    }
  }

  array(path: string, depth: number): unknown[] {
    const out: unknown[] = [];
    this.#i++; // [
    this.skip();
    if (this.#text[this.#i] === "]") {
      this.#i++;
      return out;
    }
    for (;;) {
      if (this.#text[this.#i] === "," || this.#text[this.#i] === "]") {
        this.fail(`expected a value, got ${this.found()}`);
      }
      out.push(this.value(jsoncPath(path, out.length), depth + 1));
      this.skip();
      const sep = this.#text[this.#i];
      if (sep === ",") {
        this.#i++;
        this.skip();
        if (this.#text[this.#i] === "]") {
          this.#i++;
          return out;
        }
      } else if (sep === "]") {
        this.#i++;
        return out;
      } else {
        this.fail(`expected "," or "]" after an array element, got ${this.found()}`);
      }
    }
  }

  string(): string {
    const t = this.#text;
    const start = this.#i;
    this.#i++; // opening quote
    let out = "";
    let run = this.#i;
    for (;;) {
      if (this.#i >= t.length) {
        this.fail("expected a closing quote, got the end of the text", start);
      }
      const c = t.charCodeAt(this.#i);
      if (c === 0x22) {
        out += t.slice(run, this.#i);
        this.#i++;
        return out;
      }
      if (c < 0x20) {
        this.fail(`expected an escape sequence in the string, got ${this.found()}`);
      }
      if (c !== 0x5c) {
        this.#i++;
        continue;
      }
      out += t.slice(run, this.#i);
      const e = t[this.#i + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        b: "\b",
        f: "\f",
        n: "\n",
        r: "\r",
        t: "\t",
      };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e]!;
        this.#i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(t.slice(this.#i + 2, this.#i + 6))) {
        out += String.fromCharCode(parseInt(t.slice(this.#i + 2, this.#i + 6), 16));
        this.#i += 6;
      } else {
        this.fail(
          `expected an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), got ${
            JSON.stringify(t.slice(this.#i, this.#i + 2))
          }`,
        );
      }
      run = this.#i;
    }
  }

  number(): number {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      this.#text.slice(this.#i, this.#i + 400),
    );
    const after = m === null ? this.#i : this.#i + m[0].length;
    const next = this.#text[after];
    if (m === null || (next !== undefined && /[0-9A-Za-z_.+-]/.test(next))) {
      const bad = /^[^\s,\]}/]*/.exec(this.#text.slice(this.#i, this.#i + 40))![0];
      this.fail(`expected a number (JSON form, e.g. 42, -1.5, 1e3), got ${bad}`);
    }
    this.#i = after;
    return Number(m[0]);
  }
}

/**
 * Parses JSONC text: JSON with comments and trailing commas.
 *
 * @param text the text (a leading byte order mark is skipped)
 * @returns the value, the position of every value and key, and the duplicate keys
 * @throws {JsoncSyntaxError} with the line and column of the first offending character
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const doc = parseJsonc(`{
 *   // the CTN's access router
 *   "ar": { "address": "10.0.2.1", "port": 7716, }, /* trailing comma allowed *\/
 * }`);
 * assertEquals(doc.value, { ar: { address: "10.0.2.1", port: 7716 } });
 * assertEquals(doc.positions.get("ar.port"), { line: 3, column: 42, offset: 72 });
 * ```
 */
export function parseJsonc(text: string): JsoncDocument {
  return new _Parser(text).document();
}
