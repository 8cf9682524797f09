/**
 * End-to-end tests of `mpa ctn --aa` and `mpa preauth` (RFC 6252 section 6.3 step 1):
 * one AA process on loopback for the whole file, MN processes against it, as a user
 * would run them. Exit statuses, the JSON lines, one-line reasons, and never a stack
 * trace or a key.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket } from "node:dgram";
import { CTN_HELP, PREAUTH_HELP } from "../../../adapters/cli/mod.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const MOD = `${ROOT}mod.ts`;
const TIMEOUT = 60_000;
/** A line of a JavaScript stack trace, which a user must never see. */
const STACK = "    at ";
const CTN = "ctn-b.example";
const IDENTITY = "mn@example";
const PSK_HEX = "000102030405060708090a0b0c0d0e0f";
const HEX32 = /^[0-9a-f]{32}$/;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function command(args: readonly string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--node-modules-dir=manual", MOD, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

async function mpa(args: readonly string[]): Promise<Run> {
  const { code, stdout, stderr } = await command(args).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** Expects exit status `code` with exactly one line on stderr, containing `reason`. */
function expectOneLineFailure(r: Run, code: number, reason: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toContain(STACK);
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  if (typeof reason === "string") expect(r.stderr).toContain(reason);
  else expect(r.stderr).toMatch(reason);
}

/** A UDP port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

let dir = "";
let credentials = "";
let pskFile = "";
let wrongPskFile = "";
let kvKeyFile = "";
let ctn: Deno.ChildProcess | undefined;
let ctnStderr = "";
let ctnStderrDone: Promise<void> = Promise.resolve();
let aaPort = 0;
let listening: Record<string, unknown> = {};

/** Reads the AA's stdout up to its first line (the listening line). */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = setTimeout(() => reader.cancel(), 20_000);
  try {
    while (!text.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
  return text.split("\n")[0]!;
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpa-preauth-test-" });
  credentials = `${dir}/aa.psk`;
  pskFile = `${dir}/mn.psk`;
  wrongPskFile = `${dir}/wrong.psk`;
  kvKeyFile = `${dir}/kv.key`;
  await Promise.all([
    Deno.writeTextFile(credentials, `# test peers\n${IDENTITY} ${PSK_HEX}\n`, { mode: 0o600 }),
    // Whitespace and newlines inside the hex are allowed.
    Deno.writeTextFile(pskFile, `${PSK_HEX.slice(0, 16)}\n${PSK_HEX.slice(16)}\n`),
    Deno.writeTextFile(wrongPskFile, "ff".repeat(16)),
    Deno.writeTextFile(kvKeyFile, "42".repeat(32)),
  ]);
  ctn = command([
    "ctn",
    "--aa",
    "--listen",
    "127.0.0.1:0",
    "--ctn",
    CTN,
    "--credentials",
    credentials,
    "--kv",
    `${dir}/sa.sqlite`,
    "--kv-key-file",
    kvKeyFile,
  ]).spawn();
  ctnStderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of ctn!.stderr) ctnStderr += decoder.decode(chunk, { stream: true });
  })();
  const line = await firstLine(ctn.stdout);
  expect(line, ctnStderr).not.toBe("");
  listening = JSON.parse(line) as Record<string, unknown>;
  aaPort = Number(String(listening.listening).split(":")[1]);
}, TIMEOUT);

afterAll(async () => {
  if (ctn !== undefined) {
    try {
      ctn.kill("SIGTERM");
    } catch {
      // already exited
    }
    await ctn.status;
    await ctn.stdout.cancel().catch(() => {});
    await ctnStderrDone;
  }
  if (dir !== "") await Deno.remove(dir, { recursive: true });
});

describe("mpa ctn --aa", () => {
  it("prints one JSON line when listening", () => {
    expect(listening).toEqual({ listening: `127.0.0.1:${aaPort}`, ctn: CTN });
    expect(aaPort).toBeGreaterThan(0);
  });

  it("refuses bad arguments and configuration with exit 2 and one line", async () => {
    const runs = await Promise.all([
      mpa(["ctn", "--ctn", CTN, "--credentials", credentials]),
      mpa(["ctn", "--aa", "--credentials", credentials]),
      mpa(["ctn", "--aa", "--ctn", CTN]),
      mpa(["ctn", "--aa", "--ctn", CTN, "--credentials", credentials, "--radius", "127.0.0.1"]),
      mpa(["ctn", "--aa", "--ctn", CTN, "--credentials", pskFile]),
      mpa(["ctn", "--aa", "--ctn", CTN, "--credentials", credentials, "--kv", `${dir}/x`]),
      mpa([
        "ctn",
        "--aa",
        "--ctn",
        CTN,
        "--credentials",
        credentials,
        "--listen",
        `127.0.0.1:${aaPort}`,
      ]),
      mpa(["ctn", "--aa", "--ctn", CTN, "--credentials", credentials, "--lifetime", "0"]),
    ]);
    const reasons = [
      "Missing --aa",
      "Missing --ctn",
      "Expected exactly one of --credentials and --radius",
      "Expected exactly one of --credentials and --radius",
      `${pskFile}:1: Invalid credentials line`,
      "Expected --kv and --kv-key-file together",
      `Cannot bind the PAA to 127.0.0.1:${aaPort}`,
      "Invalid --lifetime",
    ];
    runs.forEach((r, i) => expectOneLineFailure(r, 2, reasons[i]!));
  }, TIMEOUT);

  it("--help describes the AA, the AR and the CA options", async () => {
    const r = await mpa(["ctn", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(CTN_HELP);
    for (const option of ["--aa", "--ar", "--ca-gate", "--ca-embedded"]) {
      expect(CTN_HELP).toContain(option);
    }
  }, TIMEOUT);
});

describe("mpa preauth against mpa ctn --aa", () => {
  it("pre-authenticates: exit 0, one JSON line, the AA logged the same fingerprints", async () => {
    const r = await mpa([
      "preauth",
      "--aa",
      `127.0.0.1:${aaPort}`,
      "--identity",
      IDENTITY,
      "--psk-file",
      pskFile,
      "--ctn",
      CTN,
      "--bind",
      "127.0.0.1",
      "--timeout",
      "5000",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(STACK);
    const out = lines(r.stdout);
    expect(out).toHaveLength(1);
    const sa = JSON.parse(out[0]!) as {
      ctn: string;
      sessionId: number;
      lifetimeMs: number;
      keyId: number;
      timings: Record<string, number>;
      fingerprints: Record<string, string>;
    };
    expect(Object.keys(sa)).toEqual([
      "ctn",
      "sessionId",
      "lifetimeMs",
      "keyId",
      "timings",
      "fingerprints",
    ]);
    expect(sa.ctn).toBe(CTN);
    expect(Number.isInteger(sa.sessionId) && sa.sessionId > 0).toBe(true);
    expect(sa.lifetimeMs).toBe(3_600_000);
    expect(Number.isInteger(sa.keyId)).toBe(true);
    expect(Object.keys(sa.timings)).toEqual(["pciToPar", "eap", "completion", "total"]);
    for (const v of Object.values(sa.timings)) expect(v).toBeGreaterThanOrEqual(0);
    expect(sa.timings.total).toBeGreaterThan(0);
    expect(Object.keys(sa.fingerprints)).toEqual(["msk", "mnCa", "mnAr"]);
    for (const f of Object.values(sa.fingerprints)) expect(f).toMatch(HEX32);
    // The PSK never shows.
    expect(r.stdout + r.stderr).not.toContain(PSK_HEX);

    // The AA's log line for this session carries the same key fingerprints.
    const logged = () =>
      lines(ctnStderr).find((l) => l.includes(`MPA-SA ${sa.sessionId} `) && l.includes("MN-AR"));
    await until(() => logged() !== undefined);
    // stderr is a pipe here, so the AA logs JSON lines (LogTape's JSON Lines format).
    const record = JSON.parse(logged()!) as {
      level: string;
      logger: string;
      properties: Record<string, unknown>;
    };
    expect(record.level).toBe("INFO");
    expect(record.properties).toMatchObject({
      sessionId: sa.sessionId,
      identity: IDENTITY,
      mnCa: sa.fingerprints.mnCa,
      mnAr: sa.fingerprints.mnAr,
    });
  }, TIMEOUT);

  it("a wrong PSK is refused: exit 1 with a one-line reason", async () => {
    const r = await mpa([
      "preauth",
      "--aa",
      `127.0.0.1:${aaPort}`,
      "--identity",
      IDENTITY,
      "--psk-file",
      wrongPskFile,
      "--ctn",
      CTN,
      "--timeout",
      "5000",
    ]);
    expectOneLineFailure(r, 1, `Pre-authentication refused by the AA at 127.0.0.1:${aaPort}`);
  }, TIMEOUT);

  it("an unreachable AA: exit 2 after --timeout with a one-line reason", async () => {
    const port = await closedPort();
    const r = await mpa([
      "preauth",
      "--aa",
      `127.0.0.1:${port}`,
      "--identity",
      IDENTITY,
      "--psk-file",
      pskFile,
      "--timeout",
      "300",
    ]);
    expectOneLineFailure(r, 2, /^AA unreachable: /);
  }, TIMEOUT);

  it("bad arguments and PSK files: exit 2 with a one-line reason", async () => {
    const aa = `127.0.0.1:${aaPort}`;
    const base = ["preauth", "--aa", aa, "--identity", IDENTITY];
    await Deno.writeTextFile(`${dir}/short.psk`, "00112233");
    const runs = await Promise.all([
      mpa(["preauth", "--identity", IDENTITY, "--psk-file", pskFile]),
      mpa(["preauth", "--aa", aa, "--psk-file", pskFile]),
      mpa(base),
      mpa([...base, "--psk-file", `${dir}/missing.psk`]),
      mpa([...base, "--psk-file", `${dir}/short.psk`]),
      mpa([...base, "--psk-file", credentials]),
      mpa(["preauth", "--aa", "aa.example:716", "--identity", IDENTITY, "--psk-file", pskFile]),
      mpa([...base, "--psk-file", pskFile, "--timeout", "-5"]),
      mpa([...base, "--psk-file", pskFile, "--bind", "::1"]),
      mpa([...base, "--psk-file", pskFile, "--frobnicate"]),
    ]);
    const reasons = [
      "Missing --aa",
      "Missing --identity",
      "Missing --psk-file",
      `Cannot read --psk-file ${dir}/missing.psk`,
      "expected 32 hex digits (16 bytes), got 8 hex digits",
      "expected 32 hex digits (16 bytes), got other characters",
      "Invalid --aa: expected HOST:PORT with an IP address",
      "Invalid --timeout",
      "Invalid --bind",
      "Unknown option --frobnicate",
    ];
    runs.forEach((r, i) => expectOneLineFailure(r, 2, reasons[i]!));
    // A malformed PSK file is never echoed.
    expect(runs[5]!.stderr).not.toContain(PSK_HEX);
  }, TIMEOUT);

  it("--help prints the usage, the output line and the exit statuses", async () => {
    const r = await mpa(["preauth", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(PREAUTH_HELP);
  }, TIMEOUT);
});

describe("mpa ctn --aa shutdown", () => {
  it("stops on SIGTERM with exit 0 and logs its final counters", async () => {
    ctn!.kill("SIGTERM");
    const status = await ctn!.status;
    await ctn!.stdout.cancel().catch(() => {});
    await ctnStderrDone;
    expect(status.code, ctnStderr).toBe(0);
    expect(ctnStderr).not.toContain(STACK);
    expect(ctnStderr).not.toContain(PSK_HEX);
    const final = lines(ctnStderr).find((l) => l.includes("AA stopped:"));
    expect(final, ctnStderr).toBeDefined();
    expect(final).toMatch(/\b1 authorized\b/);
    expect(final).toMatch(/\b1 rejected\b/);
    expect(final).toMatch(/\b1 SAs stored\b/);
    ctn = undefined;
  }, TIMEOUT);
});
