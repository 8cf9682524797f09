/**
 * End-to-end tests of `mpa preconfigure` against `mpa ctn --aa --ar --ca-embedded` on
 * loopback, no root (RFC 6252 section 6.3 steps 1-2, 7.3.3, 7.4): one CTN process for
 * the file, MN processes against it as a user runs them. Exit statuses, the JSON
 * line, one-line reasons naming the phase and the error code, never a stack trace or
 * a key; the CTN's final counters show what the MN released.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket } from "node:dgram";
import { CliProcess } from "../../fixtures/preconfig/_cli_process.ts";
import { PRECONFIGURE_HELP } from "../../../adapters/cli/preconfigure.ts";

const TIMEOUT = 60_000;
const STACK = "    at ";
const CTN = "ctn-b.example";
const IDENTITY = "mn@example";
const PSK_HEX = "000102030405060708090a0b0c0d0e0f";

let dir = "";
let ctn: CliProcess | undefined;
let listening: { listening: string; ctn: string; ar: string; ca: string } | undefined;

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** A LogTape record below warning level, as the teardown logs it. */
/** A log record below warning, as LogTape's JSON Lines (stderr is a pipe in these tests). */
const INFO_LOG = /^\{"@timestamp":"[^"]+","level":"(INFO|DEBUG)"/;

/**
 * Expects exit status `code` and one line on stderr that is not an info log: the
 * reason, matching `reason`, last (the teardown after a failure may log info lines,
 * e.g. the PANA session's termination, before it).
 */
function expectOneLineFailure(
  r: { code: number; stdout: string; stderr: string },
  code: number,
  reason: string | RegExp,
): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr).not.toContain(STACK);
  const other = lines(r.stderr).filter((l) => !INFO_LOG.test(l));
  expect(other, r.stderr).toHaveLength(1);
  expect(lines(r.stderr).at(-1)).toBe(other[0]);
  if (typeof reason === "string") expect(other[0]).toContain(reason);
  else expect(other[0]).toMatch(reason);
}

/** A UDP port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** The MN's arguments against the CTN of this file, with `extra` appended. */
function mnArgs(extra: readonly string[] = [], psk = `${dir}/psk`): string[] {
  return [
    "preconfigure",
    "--aa",
    listening!.listening,
    "--identity",
    IDENTITY,
    "--psk-file",
    psk,
    "--ctn",
    CTN,
    "--ca",
    listening!.ca,
    "--subnet",
    "10.0.2.0/24",
    "--ar",
    listening!.ar,
    "--bind",
    "127.0.0.1",
    "--source-port",
    "0",
    ...extra,
  ];
}

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpapc-cli-" });
  await Deno.writeTextFile(`${dir}/credentials`, `${IDENTITY} ${PSK_HEX}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/psk`, `${PSK_HEX}\n`);
  await Deno.writeTextFile(`${dir}/wrong-psk`, `${"ff".repeat(16)}\n`);
  ctn = CliProcess.spawn(undefined, [
    "ctn",
    "--aa",
    "--ctn",
    CTN,
    "--listen",
    "127.0.0.1:0",
    "--credentials",
    `${dir}/credentials`,
    "--ar",
    "--ar-listen",
    "127.0.0.1:0",
    "--ca-embedded",
    "--ca-listen",
    "127.0.0.1:0",
    "--subnet",
    "10.0.2.0/24",
    "--range",
    "10.0.2.100-10.0.2.199",
    "--router",
    "10.0.2.1",
    "--dns",
    "10.0.2.2,10.0.2.3",
  ], "mpa ctn");
  listening = JSON.parse(await ctn.firstLine());
}, TIMEOUT);

afterAll(async () => {
  await ctn?.stop();
  if (dir !== "") await Deno.remove(dir, { recursive: true });
}, TIMEOUT);

describe("mpa ctn --aa --ar --ca-embedded", () => {
  it("prints one JSON line with a field per service", () => {
    expect(Object.keys(listening!)).toEqual(["listening", "ctn", "ar", "ca"]);
    for (const field of ["listening", "ar", "ca"] as const) {
      expect(listening![field]).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    }
    expect(listening!.ctn).toBe(CTN);
  });
});

describe("mpa preconfigure against mpa ctn", () => {
  it(
    "RFC 6252 6.3 steps 1-2: prepares (exit 0, one JSON line with the nCoA, tunnel and phase timings) and releases",
    async () => {
      const r = await CliProcess.run(undefined, mnArgs());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain(STACK);
      expect(r.stderr).not.toContain(PSK_HEX);
      const out = lines(r.stdout);
      expect(out).toHaveLength(1);
      const line = JSON.parse(out[0]!);
      expect(line).toMatchObject({
        ctn: CTN,
        oCoA: "127.0.0.1",
        lease: {
          prefixLength: 24,
          router: "10.0.2.1",
          dns: ["10.0.2.2", "10.0.2.3"],
          serverId: "127.0.0.1",
          lifetimeMs: 600_000,
        },
        tunnel: { id: "pht-1", ar: listening!.ar, tun: null },
      });
      expect(line.nCoA).toMatch(/^10\.0\.2\.1\d\d$/);
      expect(Number.isInteger(line.sessionId)).toBe(true);
      const t = line.timings;
      expect(Object.keys(t)).toEqual(["preauthMs", "dhcpMs", "tunnelMs", "totalMs"]);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.preauthMs + t.dhcpMs + t.tunnelMs);
    },
    TIMEOUT,
  );

  it("--hold stays prepared until SIGTERM, then releases and exits 0", async () => {
    const mn = CliProcess.spawn(undefined, mnArgs(["--hold"]), "mpa preconfigure --hold");
    try {
      const line = JSON.parse(await mn.firstLine());
      expect(line.nCoA).toMatch(/^10\.0\.2\.1\d\d$/);
      mn.kill("SIGTERM");
      const status = await mn.status();
      expect(status.code, mn.stderr).toBe(0);
      expect(mn.stderr).toContain("Releasing");
      expect(mn.stderr).not.toContain(STACK);
    } finally {
      await mn.stop();
    }
  }, TIMEOUT);

  it("a wrong PSK: exit 1, one line naming the phase and the error code", async () => {
    const r = await CliProcess.run(undefined, mnArgs([], `${dir}/wrong-psk`));
    expectOneLineFailure(r, 1, /^Pre-configuration failed in phase preauth: rejected: /);
    expect(r.stderr).not.toContain("ff".repeat(16));
  }, TIMEOUT);

  it("a CA that does not answer: exit 1 in phase dhcp with code timeout", async () => {
    const port = await closedPort();
    const args = mnArgs(["--timeout", "800"]).map((a) =>
      a === listening!.ca ? `127.0.0.1:${port}` : a
    );
    const r = await CliProcess.run(undefined, args);
    expectOneLineFailure(r, 1, /^Pre-configuration failed in phase dhcp: timeout: /);
  }, TIMEOUT);

  it("an AR that does not answer: exit 1 in phase tunnel", async () => {
    const port = await closedPort();
    const args = mnArgs().map((a) => a === listening!.ar ? `127.0.0.1:${port}` : a);
    const r = await CliProcess.run(undefined, args);
    expectOneLineFailure(
      r,
      1,
      /^Pre-configuration failed in phase tunnel: (timeout|unreachable): /,
    );
  }, TIMEOUT);

  it("bad arguments and PSK files: exit 2 with a one-line reason", async () => {
    const base = mnArgs();
    const without = (flag: string) => {
      const i = base.indexOf(flag);
      return [...base.slice(0, i), ...base.slice(i + 2)];
    };
    const runs = await Promise.all([
      CliProcess.run(undefined, without("--ca")),
      CliProcess.run(undefined, without("--ctn")),
      CliProcess.run(undefined, [...base, "--mode", "broadcast"]),
      CliProcess.run(undefined, base.map((a) => a === "10.0.2.0/24" ? "10.0.2.0" : a)),
      CliProcess.run(undefined, [...base, "--frobnicate"]),
      CliProcess.run(undefined, mnArgs([], `${dir}/missing`)),
      CliProcess.run(undefined, [...base, "--dhcp-retransmit", "0"]),
      CliProcess.run(undefined, [...base, "--bind", "::1"]),
    ]);
    const reasons = [
      "Missing --ca",
      "Missing --ctn",
      'Invalid --mode: expected ciaddr or relay, got "broadcast"',
      "Invalid --subnet",
      "Unknown option --frobnicate",
      `Cannot read --psk-file ${dir}/missing`,
      "Invalid --dhcp-retransmit",
      "Invalid --bind",
    ];
    runs.forEach((r, i) => expectOneLineFailure(r, 2, reasons[i]!));
  }, TIMEOUT);

  it("--help prints the usage, the output line and the exit statuses", async () => {
    const r = await CliProcess.run(undefined, ["preconfigure", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(PRECONFIGURE_HELP);
    const main = await CliProcess.run(undefined, ["--help"]);
    expect(main.stdout).toMatch(/^ {2}preconfigure {2}prepare a handover/m);
  }, TIMEOUT);
});

describe("mpa ctn shutdown", () => {
  it(
    "stops on SIGTERM with exit 0; its counters show every tunnel closed and every lease released",
    async () => {
      ctn!.kill("SIGTERM");
      const status = await ctn!.status();
      expect(status.code, ctn!.stderr).toBe(0);
      const err = ctn!.stderr;
      expect(err).not.toContain(STACK);
      expect(err).not.toContain(PSK_HEX);
      // Two preparations succeeded and released; the wrong PSK was rejected; the
      // CA-timeout and AR-timeout runs got their SAs (the second also a lease).
      expect(err).toMatch(/AA stopped: .*\b4 authorized\b.*\b1 rejected\b/);
      expect(err).toMatch(/AR stopped: 2 tunnels created/);
      expect(err).toMatch(/CA stopped: 3 offers, 3 acks, 0 naks, 3 releases/);
      ctn = undefined;
    },
    TIMEOUT,
  );
});
