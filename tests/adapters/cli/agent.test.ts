/**
 * `mpa agent` as a real subprocess: `--dry-run` on the example configuration, a
 * broken configuration (exit 2, one line naming file:line:column and the field), and
 * a running agent whose candidate networks are unreachable (pre-authentication
 * fails and falls back, RFC 6252 section C.6): the status endpoint answers, SIGHUP
 * reloads (and an invalid file is refused, the agent keeps running), SIGTERM shuts
 * down gracefully with exit status 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MOD = `${ROOT}mod.ts`;
const FIXTURE = `${ROOT}tests/fixtures/agent/mn-unreachable.jsonc`;

let dir: string;
beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpa-agent-cli-" });
});
afterAll(async () => {
  await Deno.remove(dir, { recursive: true });
});

async function run(args: readonly string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--node-modules-dir=manual", MOD, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Reads a piped stream line by line into `lines`; resolves waiters when a line matches. */
class Lines {
  readonly lines: string[] = [];
  readonly #waiters: Array<
    { readonly test: (line: string) => boolean; readonly resolve: (l: string) => void }
  > = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        let nl;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          this.lines.push(line);
          for (const w of [...this.#waiters]) {
            if (w.test(line)) {
              this.#waiters.splice(this.#waiters.indexOf(w), 1);
              w.resolve(line);
            }
          }
        }
      }
    })();
  }

  /** The first line (already read or to come) that passes `test`. */
  wait(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }
}

function message(line: string): string {
  try {
    return String(JSON.parse(line).message);
  } catch {
    return line;
  }
}

describe("mpa agent", () => {
  it("--dry-run validates examples/mn.jsonc and prints the summary (exit 0)", async () => {
    const r = await run(["agent", "--config", `${ROOT}examples/mn.jsonc`, "--dry-run"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    expect(summary).toMatchObject({
      valid: true,
      mn: "mn1",
      mobility: "sip",
      discovery: { kind: "static", ctns: ["domainA", "domainB"] },
      status: "http://127.0.0.1:9716",
    });
  });

  it("refuses a broken configuration with one line naming file:line:column and the field (exit 2)", async () => {
    const bad = `${dir}/bad.jsonc`;
    const text = await Deno.readTextFile(FIXTURE);
    await Deno.writeTextFile(bad, text.replace('"pace": "realtime"', '"pace": "slow"'));
    const r = await run(["agent", "--config", bad]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /bad\.jsonc:\d+:\d+: metrics\.pace: expected one of "realtime", "fast", got "slow"$/,
    );
    expect(r.stdout).toBe("");
  });

  it("refuses bad arguments (exit 2)", async () => {
    const r = await run([
      "agent",
      "--config",
      FIXTURE,
      "--no-status",
      "--status-listen",
      "127.0.0.1:0",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Invalid --status-listen");
  });

  it("runs with unreachable CTNs: status answers, SIGHUP reloads, SIGTERM stops gracefully (exit 0)", async () => {
    const config = `${dir}/mn.jsonc`;
    await Deno.copyFile(`${ROOT}tests/fixtures/agent/mn1.psk`, `${dir}/mn1.psk`);
    const original = await Deno.readTextFile(FIXTURE);
    await Deno.writeTextFile(config, original);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--node-modules-dir=manual", MOD, "agent", "--config", config],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Lines(child.stdout);
    const stderr = new Lines(child.stderr);
    try {
      const running = JSON.parse(await stdout.wait(() => true));
      expect(running).toMatchObject({ agent: "running", mn: "mn1" });
      expect(running.status).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      // Pre-authentication to the closed port fails; the agent keeps going.
      await stderr.wait((l) => /preauth failed/.test(message(l)));
      const status = await (await fetch(`${running.status}/status`)).json();
      expect(status.serving).not.toBeNull();
      expect(status.counters.failures).toBeGreaterThanOrEqual(1);
      const metrics = await (await fetch(`${running.status}/metrics`)).text();
      expect(metrics).toMatch(
        /^mpa_failures_total\{phase="pre-authenticating",code="[a-z-]+"\} [1-9]/m,
      );

      // SIGHUP with a new log level and decision margin: applied live.
      await Deno.writeTextFile(
        config,
        original.replace('"retries"', '"decision": { "margin": 4 },\n  "retries"')
          .replace('"level": "info"', '"level": "debug"'),
      );
      child.kill("SIGHUP");
      const reloaded = await stderr.wait((l) => message(l).startsWith("Configuration reloaded"));
      expect(JSON.parse(reloaded).properties.applied).toBe("log, decision");
      await stderr.wait((l) => JSON.parse(l).level === "DEBUG");

      // SIGHUP with an invalid file: logged, the running configuration kept.
      await Deno.writeTextFile(config, original.replace('"seed": 1', '"seed": -1'));
      child.kill("SIGHUP");
      const refused = await stderr.wait((l) => message(l).startsWith("Reload failed"));
      expect(message(refused)).toContain("metrics.seed");
      expect((await fetch(`${running.status}/status`)).status).toBe(200);

      child.kill("SIGTERM");
      const { code } = await child.status;
      await stderr.done;
      expect(code).toBe(0);
      expect(stderr.lines.some((l) => message(l).startsWith("Agent stopped"))).toBe(true);
      expect(stderr.lines.some((l) => message(l).includes("SIGTERM received"))).toBe(true);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await stdout.done.catch(() => {});
      await stderr.done.catch(() => {});
    }
  });

  it("exits 0 by itself once a fast trace ends", async () => {
    const config = `${dir}/fast.jsonc`;
    await Deno.copyFile(`${ROOT}tests/fixtures/agent/mn1.psk`, `${dir}/mn1.psk`);
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(FIXTURE)).replace('"pace": "realtime"', '"pace": "fast"')
        .replace('"durationS": 600', '"durationS": 20'),
    );
    const r = await run(["agent", "--config", config, "--no-status"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ agent: "running", status: null, mn: "mn1" });
    expect(r.stderr).toContain("Agent stopped");
  });

  it("--events writes decisions, commands and results as JSON lines with times, and no secrets", async () => {
    const config = `${dir}/events.jsonc`;
    await Deno.copyFile(`${ROOT}tests/fixtures/agent/mn1.psk`, `${dir}/mn1.psk`);
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(FIXTURE)).replace('"pace": "realtime"', '"pace": "fast"')
        .replace('"durationS": 600', '"durationS": 20'),
    );
    const events = `${dir}/events.jsonl`;
    const r = await run(["agent", "--config", config, "--no-status", "--events", events]);
    expect(r.code).toBe(0);
    const text = await Deno.readTextFile(events);
    const records = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(3);
    for (const rec of records) {
      expect(typeof rec.t).toBe("number");
      expect(["decision", "command", "result", "event", "notice"]).toContain(rec.type);
      expect(typeof rec.kind).toBe("string");
    }
    // Times never go back, the first decision is a preparation, and a
    // pre-authentication command was issued (it fails: the CTNs are unreachable).
    const times = records.map((rec) => rec.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(records.find((rec) => rec.type === "decision")?.kind).toBe("prepare");
    expect(records.some((rec) => rec.type === "command" && rec.kind === "preauthenticate")).toBe(
      true,
    );
    expect(text).not.toMatch(/psk|"keys?"|msk/i);
  });

  it("--events with a file that cannot be opened is refused (exit 2)", async () => {
    const r = await run([
      "agent",
      "--config",
      FIXTURE,
      "--no-status",
      "--events",
      `${dir}/no/such/dir/events.jsonl`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Invalid --events");
  });
});
