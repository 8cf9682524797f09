import { describe, expect, it } from "npm:vitest@4.1.12";
import { jsoncPath, JsoncSyntaxError, parseJsonc } from "../../../lib/config/jsonc.ts";

function syntaxError(text: string): JsoncSyntaxError {
  try {
    parseJsonc(text);
  } catch (error) {
    expect(error).toBeInstanceOf(JsoncSyntaxError);
    return error as JsoncSyntaxError;
  }
  throw new Error(`parsed: ${text}`);
}

describe("parseJsonc", () => {
  it("parses plain JSON exactly like JSON.parse", () => {
    const texts = [
      '{"a":[1,-2.5e3,0,true,false,null,"x\\n\\u00e9\\"\\\\\\/"],"b":{}}',
      "[]",
      '"s"',
      "0",
      "-0.5E-2",
      '{"nested":{"deep":[[[]]]}}',
    ];
    for (const t of texts) expect(parseJsonc(t).value).toEqual(JSON.parse(t));
  });

  it("skips // and /* */ comments, also at the very end and before the value", () => {
    const doc = parseJsonc(`// head
/* block
   over lines */ { "a": /* inline */ 1, // tail
  "b": 2 } // end`);
    expect(doc.value).toEqual({ a: 1, b: 2 });
  });

  it("keeps comment markers inside strings", () => {
    const doc = parseJsonc('{ "url": "http://x/*y*/", "c": "// not a comment" }');
    expect(doc.value).toEqual({ url: "http://x/*y*/", c: "// not a comment" });
  });

  it("refuses nested block comments: the first */ closes the comment", () => {
    const e = syntaxError("{ /* outer /* inner */ still */ }");
    expect(e.reason).toBe('expected a "quoted" key or "}", got "s"');
    expect([e.line, e.column]).toEqual([1, 24]);
  });

  it("refuses an unterminated block comment and a lone slash", () => {
    expect(syntaxError('{ "a": 1 /* open').reason).toBe(
      'expected "*/" to close the comment, got the end of the text',
    );
    expect(syntaxError('{ "a": 1 / }').reason).toContain("expected a comment (// or /*)");
  });

  it("accepts one trailing comma in objects and arrays, not two nor a leading one", () => {
    expect(parseJsonc('{ "a": [1, 2,], }').value).toEqual({ a: [1, 2] });
    expect(syntaxError("[1,,]").reason).toBe('expected a value, got ","');
    expect(syntaxError("[,1]").reason).toBe('expected a value, got ","');
    expect(syntaxError('{ "a": 1,, }').reason).toContain('expected a "quoted" key or "}"');
    expect(syntaxError("{,}").reason).toContain('expected a "quoted" key');
  });

  it("skips a leading byte order mark without shifting columns", () => {
    const doc = parseJsonc('\uFEFF{ "a": 1 }');
    expect(doc.value).toEqual({ a: 1 });
    expect(doc.positions.get("a")).toEqual({ line: 1, column: 8, offset: 8 });
  });

  it("records where every value and key starts, by field path", () => {
    const doc = parseJsonc('{\n  "ctns": [\n    {},\n    { "ar": { "port": "7716x" } }\n  ]\n}');
    expect(doc.positions.get("")).toEqual({ line: 1, column: 1, offset: 0 });
    expect(doc.positions.get("ctns[0]")).toMatchObject({ line: 3, column: 5 });
    expect(doc.positions.get("ctns[1].ar.port")).toMatchObject({ line: 4, column: 23 });
    expect(doc.keyPositions.get("ctns[1].ar.port")).toMatchObject({ line: 4, column: 15 });
  });

  it("reports duplicate keys with both positions; the last value wins", () => {
    const doc = parseJsonc('{ "a": 1,\n  "b": { "x": 1, "x": 2 },\n  "a": 3 }');
    expect(doc.value).toEqual({ a: 3, b: { x: 2 } });
    expect(doc.duplicates).toEqual([
      {
        path: "b.x",
        at: { line: 2, column: 18, offset: 27 },
        first: { line: 2, column: 10, offset: 19 },
      },
      {
        path: "a",
        at: { line: 3, column: 3, offset: 39 },
        first: { line: 1, column: 3, offset: 2 },
      },
    ]);
  });

  it("keeps __proto__ as an ordinary key (no prototype pollution)", () => {
    const v = parseJsonc('{ "__proto__": { "polluted": true } }').value as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it("gives line and column of syntax errors", () => {
    const e = syntaxError('{\n  "a": 1\n  "b": 2\n}');
    expect(e.reason).toBe('expected "," or "}" after the value of "a", got "\\""');
    expect([e.line, e.column, e.offset]).toEqual([3, 3, 13]);
    expect(e.message).toBe(`Invalid JSONC at 3:3: ${e.reason}`);
  });

  it("refuses what JSON refuses: single quotes, bare words, bad numbers, raw newlines", () => {
    expect(syntaxError("{ 'a': 1 }").reason).toContain('expected a "quoted" key');
    expect(syntaxError('{ "a": yes }').reason).toBe(
      "expected a value (string, number, object, array, true, false, null), got yes",
    );
    expect(syntaxError('{ "a": truex }').reason).toContain("got truex");
    expect(syntaxError("[01]").reason).toBe(
      "expected a number (JSON form, e.g. 42, -1.5, 1e3), got 01",
    );
    expect(syntaxError("[1.]").reason).toContain("got 1.");
    expect(syntaxError("[+1]").reason).toBe('expected a value, got "+"');
    expect(syntaxError('["a\nb"]').reason).toBe(
      "expected an escape sequence in the string, got control character U+000a",
    );
    expect(syntaxError('["\\x"]').reason).toContain("expected an escape");
    expect(syntaxError('"open').reason).toBe("expected a closing quote, got the end of the text");
    expect(syntaxError("").reason).toBe("expected a value, got the end of the text");
    expect(syntaxError("{} {}").reason).toBe(
      'expected the end of the text after the value, got "{"',
    );
    expect(syntaxError('{ "a" 1 }').reason).toBe('expected ":" after the key, got "1"');
    expect(syntaxError('{ "a": }').reason).toBe('expected a value for key "a", got "}"');
  });

  it("refuses nesting deeper than 256 levels instead of overflowing the stack", () => {
    expect(syntaxError("[".repeat(300) + "]".repeat(300)).reason).toContain("at most 256 levels");
    expect(parseJsonc("[".repeat(200) + "]".repeat(200)).value).toBeInstanceOf(Array);
  });
});

describe("jsoncPath", () => {
  it("joins identifiers with dots, indexes and odd keys with brackets", () => {
    expect(jsoncPath("", "mn")).toBe("mn");
    expect(jsoncPath("mn", "pskFile")).toBe("mn.pskFile");
    expect(jsoncPath("ctns", 2)).toBe("ctns[2]");
    expect(jsoncPath("", "$schema")).toBe("$schema");
    expect(jsoncPath("discovery", "information-server")).toBe('discovery["information-server"]');
  });
});
