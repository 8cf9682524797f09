/**
 * A strict reader of the Prometheus text exposition format 0.0.4 for the tests:
 * it refuses anything the format forbids (and some things it merely discourages),
 * so that output it accepts is accepted by every Prometheus scraper.
 * Rules from https://prometheus.io/docs/instrumenting/exposition_formats/.
 *
 * @module
 */

/** One parsed sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its TYPE, HELP and samples. */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string | undefined;
  readonly samples: ParsedSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"];

function fail(lineNo: number, why: string): never {
  throw new Error(`Line ${lineNo}: ${why}`);
}

function parseValue(text: string, lineNo: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!FLOAT.test(text)) fail(lineNo, `bad value "${text}"`);
  return Number(text);
}

function unescapeHelp(text: string, lineNo: number): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    return fail(lineNo, `bad escape \\${c} in HELP`);
  });
}

/** Parses `{a="x",b="y"}` at `line[start]`; returns labels and the index after `}`. */
function parseLabels(
  line: string,
  start: number,
  lineNo: number,
): [Record<string, string>, number] {
  const labels: Record<string, string> = Object.create(null);
  let i = start + 1;
  if (line[i] === "}") return [labels, i + 1];
  for (;;) {
    const eq = line.indexOf("=", i);
    if (eq < 0) fail(lineNo, "label without =");
    const name = line.slice(i, eq);
    if (!LABEL.test(name)) fail(lineNo, `bad label name "${name}"`);
    if (name in labels) fail(lineNo, `duplicate label "${name}"`);
    if (line[eq + 1] !== '"') fail(lineNo, "label value not quoted");
    let j = eq + 2;
    let value = "";
    for (;;) {
      const c = line[j];
      if (c === undefined) fail(lineNo, "unterminated label value");
      if (c === '"') break;
      if (c === "\\") {
        const e = line[j + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else fail(lineNo, `bad escape \\${e ?? ""} in label value`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    j++;
    if (line[j] === "}") return [labels, j + 1];
    if (line[j] !== ",") fail(lineNo, "expected , or } after label");
    i = j + 1;
  }
}

/** The family a sample name belongs to, given the declared TYPEs. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === "histogram" || types.get(base) === "summary") return base;
    }
  }
  return name;
}

/**
 * Parses and checks a whole exposition: line feeds (the last line too), HELP and
 * TYPE at most once per family and before its samples, families not interleaved,
 * name and label syntax, escapes, values, unique series, and histogram invariants
 * (`le` on buckets, bounds increasing to `+Inf`, cumulative counts, `+Inf` equal
 * to `_count`, `_sum` and `_count` present).
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const types = new Map<string, string>();
  if (text === "") return families;
  if (!text.endsWith("\n")) throw new Error("Last line does not end with a line feed");
  const lines = text.slice(0, -1).split("\n");
  const closed = new Set<string>();
  let current: string | undefined;
  const seen = new Set<string>();
  const enter = (family: string, lineNo: number) => {
    if (current !== family) {
      if (closed.has(family)) fail(lineNo, `family ${family} is not grouped together`);
      if (current !== undefined) closed.add(current);
      current = family;
    }
  };
  const familyFor = (name: string): ParsedFamily => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: types.get(name) ?? "untyped", help: undefined, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line === "") fail(lineNo, "empty line (allowed, but never produced by us)");
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (m === null) fail(lineNo, "comment that is neither HELP nor TYPE");
      const [, kind, name, rest] = m;
      if (!METRIC.test(name!)) fail(lineNo, `bad metric name "${name}"`);
      enter(name!, lineNo);
      const f = familyFor(name!);
      if (kind === "TYPE") {
        if (types.has(name!)) fail(lineNo, `second TYPE for ${name}`);
        if (f.samples.length > 0) fail(lineNo, `TYPE after samples of ${name}`);
        if (!TYPES.includes(rest ?? "")) fail(lineNo, `bad type "${rest}"`);
        types.set(name!, rest!);
        families.set(name!, { ...f, type: rest! });
      } else {
        if (f.help !== undefined) fail(lineNo, `second HELP for ${name}`);
        families.set(name!, { ...f, help: unescapeHelp(rest ?? "", lineNo) });
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, "sample without name or value");
    const name = line.slice(0, nameEnd);
    if (!METRIC.test(name)) fail(lineNo, `bad metric name "${name}"`);
    let labels: Record<string, string> = Object.create(null);
    let i = nameEnd;
    if (line[i] === "{") [labels, i] = parseLabels(line, i, lineNo);
    if (line[i] !== " ") fail(lineNo, "expected a space before the value");
    const tokens = line.slice(i + 1).split(" ");
    if (tokens.length < 1 || tokens.length > 2) fail(lineNo, "expected value [timestamp]");
    const value = parseValue(tokens[0]!, lineNo);
    if (tokens.length === 2 && !/^-?\d+$/.test(tokens[1]!)) fail(lineNo, "bad timestamp");
    const family = familyOf(name, types);
    enter(family, lineNo);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) fail(lineNo, `duplicate series ${key}`);
    seen.add(key);
    const f = familyFor(family);
    if (f.type === "histogram") {
      if (name === family) fail(lineNo, `histogram ${family} sample without suffix`);
      if (name.endsWith("_bucket") !== ("le" in labels)) fail(lineNo, "le only on _bucket");
    } else if (f.type === "counter" && !(value >= 0)) fail(lineNo, "negative counter");
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const sum = samples.filter((s) => s.name === `${f.name}_sum`);
    const count = samples.filter((s) => s.name === `${f.name}_count`);
    if (sum.length !== 1 || count.length !== 1) {
      throw new Error(`Histogram ${f.name}${key}: needs one _sum and one _count`);
    }
    const bounds = buckets.map((b) => parseValue(b.labels.le!, 0));
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`Histogram ${f.name}: le not increasing`);
      if (buckets[i]!.value < buckets[i - 1]!.value) {
        throw new Error(`Histogram ${f.name}: buckets not cumulative`);
      }
    }
    if (bounds.at(-1) !== Infinity) throw new Error(`Histogram ${f.name}: no +Inf bucket`);
    if (buckets.at(-1)!.value !== count[0]!.value) {
      throw new Error(`Histogram ${f.name}: +Inf bucket differs from _count`);
    }
  }
}
