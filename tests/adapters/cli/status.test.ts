/**
 * `mpa status` against a real status server on loopback: readable text, raw JSON,
 * and one-line failures (exit status 1 unreachable / HTTP error / invalid status,
 * 2 bad arguments).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import type { AgentStatus } from "../../../lib/observe/agent_status.ts";
import { formatAgentStatus } from "../../../lib/observe/format_agent_status.ts";
import { MetricsRegistry } from "../../../lib/observe/metrics_registry.ts";
import { startStatusServer, type StatusServer } from "../../../adapters/observe/status_server.ts";
import { STATUS_DEFAULT_URL, STATUS_HELP, statusCommand } from "../../../adapters/cli/status.ts";
import { CliError } from "../../../adapters/cli/replay.ts";

const STATUS: AgentStatus = {
  generatedAt: 50_000,
  serving: { network: "net-a", poa: "ap-1", address: "10.0.0.5", since: 10_000 },
  sessions: [{
    ctn: "ctn-b",
    phase: "bound",
    since: 49_000,
    phases: {
      "pre-authenticating": { startedAt: 48_000, endedAt: 48_015, durationMs: 15 },
      "pre-configuring": { startedAt: 48_015, endedAt: 48_900, durationMs: 885 },
      bound: { startedAt: 49_000 },
    },
  }],
  retained: [],
  counters: { handovers: 2, pingPongs: 1, failures: 0, packetsBuffered: 12 },
};

let current: unknown = STATUS;
let server: StatusServer;
let hang: Promise<void> | undefined;
let releaseHang = () => {};

beforeAll(async () => {
  server = await startStatusServer({
    listen: "127.0.0.1:0",
    status: async () => {
      if (hang !== undefined) await hang;
      return current as AgentStatus;
    },
    metrics: new MetricsRegistry(),
  });
});
afterAll(async () => {
  releaseHang();
  await server.close();
});

async function run(args: readonly string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await statusCommand(args, { write: (t) => out.push(t) });
  return { code, out };
}

/** Runs and expects a CliError with `code` and a one-line message containing `text`. */
async function failure(args: readonly string[], code: number, text: string | RegExp) {
  const out: string[] = [];
  const error = await statusCommand(args, { write: (t) => out.push(t) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).code).toBe(code);
  const message = (error as CliError).message;
  expect(message).not.toContain("\n");
  if (typeof text === "string") expect(message).toContain(text);
  else expect(message).toMatch(text);
  expect(out).toEqual([]);
  return message;
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

describe("mpa status", () => {
  it("prints the status readably: serving network, counters, a phase table per session", async () => {
    current = STATUS;
    const { code, out } = await run(["--url", server.url]);
    expect(code).toBe(0);
    expect(out).toEqual([formatAgentStatus(STATUS)]);
    expect(out[0]).toContain("Session ctn-b: bound for 1000.0 ms");
    expect(out[0]).toContain("  pre-configuring         15.0    900.0        885.0");
  });

  it("prints the raw JSON with --json, and accepts a trailing slash on --url", async () => {
    current = STATUS;
    const { code, out } = await run(["--json", "--url", `${server.url}/`]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain("\n");
    expect(JSON.parse(out[0]!)).toEqual(STATUS);
  });

  it("exits 1 with one line when nothing listens at --url", async () => {
    const port = closedPort();
    await failure(
      ["--url", `http://127.0.0.1:${port}`],
      1,
      `Cannot reach the agent at http://127.0.0.1:${port}/status: `,
    );
  });

  it("exits 1 with one line on an HTTP error", async () => {
    await failure(["--url", `${server.url}/nope`], 1, /^Agent status request failed: HTTP 404 /);
  });

  it("exits 1 with one line when the agent sends something that is not a status", async () => {
    current = { ...STATUS, sessions: [{ ctn: "x", phase: "teleporting", since: 0, phases: {} }] };
    const message = await failure(["--url", server.url], 1, "Invalid status from");
    expect(message).toContain("sessions[0].phase");
    current = STATUS;
  });

  it("exits 1 with one line when the agent does not answer within --timeout", async () => {
    hang = new Promise<void>((resolve) => (releaseHang = resolve));
    try {
      await failure(["--url", server.url, "--timeout", "200"], 1, "no answer within 200 ms");
    } finally {
      releaseHang();
      hang = undefined;
    }
  });

  it("exits 2 for bad arguments", async () => {
    await failure(["--url", "not a url"], 2, "Invalid --url");
    await failure(["--url", "ftp://127.0.0.1/"], 2, "Invalid --url");
    await failure(["--url", `${server.url}?a=1`], 2, "without query");
    await failure(["--timeout", "0"], 2, "Invalid --timeout");
    await failure(["--timeout", "-5"], 2, "Invalid --timeout");
    await failure(["--verbose"], 2, "Unknown option --verbose");
    await failure(["extra"], 2, "Unexpected argument extra");
  });

  it("prints help with exit 0, naming the default URL", async () => {
    const { code, out } = await run(["--help"]);
    expect(code).toBe(0);
    expect(out).toEqual([STATUS_HELP]);
    expect(STATUS_HELP).toContain(STATUS_DEFAULT_URL);
  });
});
