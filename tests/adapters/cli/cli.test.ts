/**
 * End-to-end tests of the `mpa` command line: each test spawns
 * `deno run -A mod.ts <command>` as a user would and checks exit status, stdout and
 * stderr. Outputs shared by several tests (simulated traces, the default replay) are
 * produced once in `beforeAll`.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { DEMO_HELP, MAIN_HELP, REPLAY_HELP, SIMULATE_HELP } from "../../../adapters/cli/mod.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const MOD = `${ROOT}mod.ts`;
const TIMEOUT = 60_000;
const SCENARIOS = ["walk", "drive", "waypoint", "manhattan", "border", "demo"];
const KINDS = [
  "prepare",
  "preconfigure",
  "commit",
  "switch",
  "release",
  "abort",
  "restore",
  "bicast",
];
/** A line of a JavaScript stack trace, which a user must never see. */
const STACK = "    at ";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, ms. */
  readonly ms: number;
}

function spawn(args: readonly string[], stdin: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--node-modules-dir=manual", MOD, ...args],
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** Runs `mpa ...args`, feeding `stdin` when given. */
async function mpa(args: readonly string[], stdin?: string): Promise<Run> {
  const start = performance.now();
  const child = spawn(args, stdin === undefined ? "null" : "piped");
  const output = child.output();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    } catch (error) {
      // The command may stop reading early (at a malformed line, say).
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  }
  const { code, stdout, stderr } = await output;
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
    ms: performance.now() - start,
  };
}

/** The non-empty lines of a text. */
function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** Reads a stream to its end, noting when (ms after `start`) each line arrives. */
async function timedLines(
  stream: ReadableStream<Uint8Array>,
  start: number,
): Promise<{ readonly line: string; readonly at: number }[]> {
  const out: { line: string; at: number }[] = [];
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    const at = performance.now() - start;
    rest += decoder.decode(chunk, { stream: true });
    const parts = rest.split("\n");
    rest = parts.pop()!;
    for (const line of parts) out.push({ line, at });
  }
  return out;
}

/** Reads a stream up to its first newline, then cancels it (the reader goes away). */
async function firstLineThenClose(
  stream: ReadableStream<Uint8Array>,
): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.slice(0, text.indexOf("\n"));
}

interface Sample {
  readonly t: number;
  readonly poa: string;
  readonly network: string;
  readonly snr: number;
}

function sampleLine(t: number, poa: string, network: string, snr: number): string {
  return JSON.stringify({ t, poa, network, snr });
}

/** Checks one line of `replay` output and returns it parsed. */
function decision(line: string): Record<string, unknown> {
  const d = JSON.parse(line) as Record<string, unknown>;
  expect(typeof d.t, line).toBe("number");
  expect(KINDS, line).toContain(d.kind);
  expect(typeof d.poa, line).toBe("string");
  expect(typeof d.reason, line).toBe("string");
  expect((d.reason as string).length, line).toBeGreaterThan(0);
  const target = typeof d.ctn === "string" ||
    (Array.isArray(d.ctns) && d.ctns.every((c) => typeof c === "string"));
  expect(target, `${line} names its ctn or ctns`).toBe(true);
  return d;
}

let dir = "";
/** `simulate --scenario walk --seed 3 --duration 5`, run twice, and with seed 4. */
let walk3: Run;
let walk3Again: Run;
let walk4: Run;
/** The demo scenario's full trace (seed 1), its file, and `replay FILE` of it. */
let demoTrace = "";
let demoFile = "";
let demoReplay: Run;
/** `simulate --scenario demo --config`, saved as a file. */
let configRun: Run;
let configFile = "";

/** Writes the demo trace with line `n` (1-based) replaced by what `edit` makes of it. */
async function demoTraceWith(
  name: string,
  n: number,
  edit: (line: string) => string,
): Promise<string> {
  const all = demoTrace.split("\n");
  all[n - 1] = edit(all[n - 1]!);
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, all.join("\n"));
  return path;
}

function withField(line: string, field: string, value: unknown): string {
  return JSON.stringify({ ...JSON.parse(line) as Record<string, unknown>, [field]: value });
}

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpa-cli-test-" });
  const demoSim = mpa(["simulate", "--scenario", "demo", "--seed", "1"]);
  [walk3, walk3Again, walk4, configRun] = await Promise.all([
    mpa(["simulate", "--scenario", "walk", "--seed", "3", "--duration", "5"]),
    mpa(["simulate", "--scenario", "walk", "--seed", "3", "--duration", "5"]),
    mpa(["simulate", "--scenario", "walk", "--seed", "4", "--duration", "5"]),
    mpa(["simulate", "--scenario", "demo", "--config"]),
  ]);
  const demo = await demoSim;
  expect(demo.code, demo.stderr).toBe(0);
  demoTrace = demo.stdout;
  demoFile = `${dir}/demo.jsonl`;
  configFile = `${dir}/demo-config.json`;
  await Promise.all([
    Deno.writeTextFile(demoFile, demoTrace),
    Deno.writeTextFile(configFile, configRun.stdout),
  ]);
  demoReplay = await mpa(["replay", demoFile]);
}, TIMEOUT);

afterAll(async () => {
  if (dir !== "") await Deno.remove(dir, { recursive: true });
});

describe("mpa simulate", () => {
  it("--list names every built-in scenario, one per line", async () => {
    const r = await mpa(["simulate", "--list"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const names = lines(r.stdout).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(SCENARIOS);
  }, TIMEOUT);

  it("prints valid LinkSample JSONL with t from 0 in 100 ms steps", () => {
    expect(walk3.code, walk3.stderr).toBe(0);
    expect(walk3.stderr).toBe("");
    const samples = lines(walk3.stdout).map((l) => JSON.parse(l) as Sample);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) {
      expect(typeof s.t).toBe("number");
      expect(typeof s.poa).toBe("string");
      expect(typeof s.network).toBe("string");
      expect(Number.isFinite(s.snr)).toBe(true);
    }
    const times = [...new Set(samples.map((s) => s.t))];
    expect(times).toEqual(Array.from({ length: 50 }, (_, i) => i * 100));
    expect(samples.map((s) => s.t)).toEqual(samples.map((s) => s.t).sort((a, b) => a - b));
  });

  it("gives the same trace for the same seed and another for another seed", () => {
    expect(walk3Again.code).toBe(0);
    expect(walk3Again.stdout).toBe(walk3.stdout);
    expect(walk4.code).toBe(0);
    expect(walk4.stdout).not.toBe(walk3.stdout);
  });

  it("--config prints the scenario's cells and CTN timings as JSON", () => {
    expect(configRun.code, configRun.stderr).toBe(0);
    const config = JSON.parse(configRun.stdout) as { cells: unknown[]; ctns: unknown[] };
    expect(config.cells.length).toBeGreaterThan(0);
    expect(config.ctns.length).toBeGreaterThan(0);
  });

  it("refuses an unknown scenario with exit 2, naming the known ones", async () => {
    const r = await mpa(["simulate", "--scenario", "moon", "--seed", "1"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("moon");
    for (const name of SCENARIOS) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toContain(STACK);
  }, TIMEOUT);

  it("refuses a missing or bad --seed with exit 2", async () => {
    const [missing, word, fraction] = await Promise.all([
      mpa(["simulate", "--scenario", "walk"]),
      mpa(["simulate", "--scenario", "walk", "--seed", "x"]),
      mpa(["simulate", "--scenario", "walk", "--seed", "1.5"]),
    ]);
    for (const r of [missing, word, fraction]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/seed/);
      expect(r.stderr).not.toContain(STACK);
    }
    expect(missing.stderr).toContain("Missing --seed");
    expect(word.stderr).toContain("Invalid --seed");
  }, TIMEOUT);
});

describe("mpa replay", () => {
  it("turns simulate's output, piped in, into JSON decisions including a switch", async () => {
    const sim = spawn(["simulate", "--scenario", "demo", "--seed", "1"], "null");
    const replay = spawn(["replay", "-"], "piped");
    const piped = sim.stdout.pipeTo(replay.stdin);
    const [simStatus, out] = await Promise.all([sim.status, replay.output(), piped]);
    expect(simStatus.code).toBe(0);
    const r = {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const decisions = lines(r.stdout).map(decision);
    expect(decisions.map((d) => d.kind)).toContain("switch");
    const times = decisions.map((d) => d.t as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // `replay FILE` of the same trace gives the same decisions.
    expect(demoReplay.code, demoReplay.stderr).toBe(0);
    expect(demoReplay.stdout).toBe(r.stdout);
  }, TIMEOUT);

  it("reads a config file (as printed by simulate --config)", async () => {
    const r = await mpa(["replay", demoFile, "--config", configFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(lines(r.stdout).map(decision).length).toBeGreaterThan(0);
  }, TIMEOUT);

  it("stops at a bad field with FILE:LINE: why, after the decisions before it", async () => {
    const early = await demoTraceWith("snr3.jsonl", 3, (l) => withField(l, "snr", "x"));
    // A line in the middle of the drive, after the first decisions and before the last.
    const n = demoTrace.split("\n").findIndex((l) => (JSON.parse(l) as Sample).t === 35_000) + 1;
    expect(n).toBeGreaterThan(3);
    const late = await demoTraceWith("snr-late.jsonl", n, (l) => withField(l, "snr", "x"));
    const [e, l, viaStdin] = await Promise.all([
      mpa(["replay", early]),
      mpa(["replay", late]),
      mpa(["replay", "-"], await Deno.readTextFile(early)),
    ]);
    for (const r of [e, l, viaStdin]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("snr");
      expect(r.stderr).not.toContain(STACK);
      // stdout carries only the decisions made before the bad line, as JSON lines.
      lines(r.stdout).forEach(decision);
      expect(demoReplay.stdout.startsWith(r.stdout)).toBe(true);
    }
    expect(e.stderr).toContain(`${early}:3:`);
    expect(viaStdin.stderr).toContain("<stdin>:3:");
    expect(l.stderr).toContain(`${late}:${n}:`);
    expect(lines(l.stdout).length).toBeGreaterThan(0);
    expect(l.stdout.length).toBeLessThan(demoReplay.stdout.length);
  }, TIMEOUT);

  it("reports invalid JSON and time going backwards as FILE:LINE", async () => {
    const json = await demoTraceWith("json5.jsonl", 5, () => '{"t": 0, nope');
    const back = await demoTraceWith("back7.jsonl", 7, (l) => withField(l, "t", 0));
    const [j, b] = await Promise.all([mpa(["replay", json]), mpa(["replay", back])]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain(`${json}:5:`);
    expect(j.stderr).toContain("JSON");
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${back}:7:`);
    expect(b.stderr).toContain("backwards");
    for (const r of [j, b]) {
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(STACK);
    }
  }, TIMEOUT);

  it("refuses a missing trace or config file with exit 2 naming it", async () => {
    const nowhere = `${dir}/no-such.jsonl`;
    const [trace, config] = await Promise.all([
      mpa(["replay", nowhere]),
      mpa(["replay", demoFile, "--config", `${dir}/no-such.json`]),
    ]);
    for (const r of [trace, config]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^Cannot read /);
      expect(r.stderr).not.toContain(STACK);
    }
    expect(trace.stderr).toContain(nowhere);
    expect(config.stderr).toContain(`${dir}/no-such.json`);
  }, TIMEOUT);

  it("refuses a bad config with exit 2 naming the option", async () => {
    const misspelt = `${dir}/topk.json`;
    const zero = `${dir}/topK0.json`;
    await Deno.writeTextFile(misspelt, JSON.stringify({ decide: { topk: 3 } }));
    await Deno.writeTextFile(zero, JSON.stringify({ decide: { topK: 0 } }));
    const [m, z] = await Promise.all([
      mpa(["replay", demoFile, "--config", misspelt]),
      mpa(["replay", demoFile, "--config", zero]),
    ]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain(misspelt);
    expect(m.stderr).toContain("decide.topk");
    expect(z.code).toBe(2);
    expect(z.stderr).toContain(zero);
    expect(z.stderr).toContain("topK");
    for (const r of [m, z]) {
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(STACK);
    }
  }, TIMEOUT);

  it("--pace realtime waits between instants as their timestamps say", async () => {
    const trace = [0, 100, 200].map((t) => sampleLine(t, "a1", "A", 20)).join("\n") + "\n";
    const r = await mpa(["replay", "-", "--pace", "realtime"], trace);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(150);
  }, TIMEOUT);

  it("--pace realtime writes each decision when it is made, not at the end", async () => {
    // SNR of a1 falls and of b1 rises: the first decision comes at about 1.3 s; the
    // trace goes on, quietly, until 2.5 s.
    const trace: string[] = [];
    for (let t = 0; t <= 2000; t += 100) {
      trace.push(sampleLine(t, "a1", "A", 30 - t / 100), sampleLine(t, "b1", "B", 5 + t / 100));
    }
    trace.push(sampleLine(2500, "b1", "B", 40));
    const path = `${dir}/live.jsonl`;
    await Deno.writeTextFile(path, trace.join("\n") + "\n");
    const start = performance.now();
    const child = spawn(["replay", path, "--pace", "realtime"], "null");
    const stderr = new Response(child.stderr).text();
    const got = await timedLines(child.stdout, start);
    const status = await child.status;
    const exitAt = performance.now() - start;
    expect(status.code, await stderr).toBe(0);
    got.forEach(({ line }) => decision(line));
    expect(got.length).toBeGreaterThan(0);
    // Decisions at t = 1.3 s to 1.8 s, the end of the trace at 2.5 s.
    expect(exitAt - got[0]!.at).toBeGreaterThanOrEqual(500);
  }, TIMEOUT);
});

describe("help and usage", () => {
  it("--help and -h print each command's usage with exit 0", async () => {
    const cases: [string[], string][] = [
      [["--help"], MAIN_HELP],
      [["simulate", "--help"], SIMULATE_HELP],
      [["replay", "--help"], REPLAY_HELP],
      [["demo", "--help"], DEMO_HELP],
      [["replay", "-h"], REPLAY_HELP],
    ];
    const runs = await Promise.all(cases.map(([args]) => mpa(args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(" ")).toBe(0);
      expect(r.stdout).toBe(`${cases[i]![1]}\n`);
      expect(r.stderr).toBe("");
    });
    expect(MAIN_HELP).toMatch(/^Usage: /m);
    for (const help of [SIMULATE_HELP, REPLAY_HELP, DEMO_HELP]) {
      expect(help).toMatch(/^Usage: mpa /);
    }
  }, TIMEOUT);

  it("no command, an unknown command or an unknown option exits 2 with the usage", async () => {
    const [none, unknown, ...options] = await Promise.all([
      mpa([]),
      mpa(["teleport"]),
      mpa(["simulate", "--bogus"]),
      mpa(["replay", demoFile, "--bogus"]),
      mpa(["demo", "--bogus"]),
    ]);
    expect(none.code).toBe(2);
    expect(none.stdout + none.stderr).toContain(MAIN_HELP);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown command teleport");
    expect(unknown.stderr).toContain(MAIN_HELP);
    for (const r of options) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("Unknown option --bogus");
      expect(r.stderr).toContain("Usage: mpa ");
    }
    for (const r of [none, unknown, ...options]) expect(r.stderr).not.toContain(STACK);
  }, TIMEOUT);
});

describe("mpa demo --decisions", () => {
  it(
    "prints a timeline of prepare, preconfigure, commit and switch rows and a summary",
    async () => {
      // The embedded demo itself is tested in demo.test.ts.
      const r = await mpa(["demo", "--decisions"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
      const rows = lines(r.stdout)
        .map((l) => /^\s*\d+\.\d{3} s {2}(\S+)\s/.exec(l)?.[1])
        .filter((k) => k !== undefined);
      for (const kind of ["prepare", "preconfigure", "commit", "switch"]) {
        expect(rows).toContain(kind);
      }
      for (const kind of rows) expect(KINDS).toContain(kind);
      expect(r.stdout).toMatch(
        /^\d+ switch\(es\), \d+ between domains, \d+ of them fully prepared/m,
      );
    },
    TIMEOUT,
  );
});

describe("a closed output pipe", () => {
  it("ends simulate quietly when the reader goes away (| head -1)", async () => {
    const child = spawn(
      ["simulate", "--scenario", "drive", "--seed", "1", "--duration", "300"],
      "null",
    );
    const stderr = new Response(child.stderr).text();
    const first = await firstLineThenClose(child.stdout);
    expect((JSON.parse(first) as Sample).t).toBe(0);
    const status = await child.status;
    const err = await stderr;
    expect(err).not.toContain(STACK);
    expect(err).not.toMatch(/BrokenPipe|Broken pipe|Uncaught/);
    expect(status.code, err).toBe(0);
  }, TIMEOUT);
});
