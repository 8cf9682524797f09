/**
 * The core works when imported by URL with no deno.json of ours around it: a script
 * in a temporary folder outside the project imports mod.ts by file:// URL, then by
 * http:// URL from a static file server on 127.0.0.1, and runs `decide` on a small
 * trace. And `deno publish --dry-run` passes (no slow types in the public API).
 *
 * These tests spawn `deno` (Deno.execPath()), hence the generous timeouts.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";

const TIMEOUT_MS = 60_000;
const root = new URL("../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

/**
 * Two networks, samples every 100 ms for 3 s: the serving PoA of network A fades
 * from 25 to 10 dB while a PoA of network B rises from 10 to 40 dB within 2 s and
 * stays there, so any sane decision switches to B.
 */
function trace(): readonly {
  t: number;
  poa: string;
  network: string;
  snr: number;
}[] {
  const samples = [];
  for (let t = 0; t <= 3000; t += 100) {
    samples.push({ t, poa: "apA1", network: "A", snr: 25 - 15 * t / 3000 });
    samples.push({
      t,
      poa: "apB1",
      network: "B",
      snr: Math.min(40, 10 + 30 * t / 2000),
    });
  }
  return samples;
}

/** The script a user would write, importing the core from `modUrl`. */
function script(modUrl: string): string {
  return [
    `import { decide } from ${JSON.stringify(modUrl)};`,
    `import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";`,
    `const trace = ${JSON.stringify(trace())};`,
    `const decisions = await lastValueFrom(decide(from(trace)).pipe(toArray()));`,
    `console.log(JSON.stringify(decisions));`,
    "",
  ].join("\n");
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function deno(args: readonly string[], cwd: string): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** Writes the script into a fresh folder outside the project, runs it, cleans up. */
async function runScript(
  modUrl: string,
  flags: readonly string[],
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "mpa-url-import-" });
  try {
    expect(
      `${await Deno.realPath(dir)}/`.startsWith(await Deno.realPath(rootPath)),
    ).toBe(false);
    await Deno.writeTextFile(`${dir}/main.ts`, script(modUrl));
    return await deno(["run", ...flags, "main.ts"], dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Checks the script ran and printed decisions including a switch. */
function expectSwitch(run: Run): void {
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split("\n");
  const decisions = JSON.parse(lines[lines.length - 1] ?? "null") as unknown;
  expect(Array.isArray(decisions), run.stdout).toBe(true);
  for (const d of decisions as unknown[]) {
    expect(d).toMatchObject({
      t: expect.any(Number),
      kind: expect.any(String),
      reason: expect.any(String),
    });
  }
  expect(decisions).toContainEqual(expect.objectContaining({ kind: "switch" }));
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ts: "application/typescript",
  mts: "application/typescript",
  js: "application/javascript",
  mjs: "application/javascript",
  json: "application/json",
};

/** A read-only static file server for the project root on 127.0.0.1, any free port. */
function serveProject(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method not allowed", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (
        path.split("/").some((segment) => segment === ".." || segment.startsWith("."))
      ) {
        return new Response("Not found", { status: 404 });
      }
      try {
        const body = await Deno.readFile(`${rootPath}${path.slice(1)}`);
        const ext = path.slice(path.lastIndexOf(".") + 1);
        const type = CONTENT_TYPES[ext] ?? "application/octet-stream";
        return new Response(request.method === "HEAD" ? null : body, {
          headers: { "content-type": type },
        });
      } catch {
        return new Response("Not found", { status: 404 });
      }
    },
  );
}

describe("mod.ts imported by URL, with no deno.json of ours around it", () => {
  it("works by file:// URL from a script in a temporary folder", async () => {
    const modUrl = new URL("mod.ts", root).href;
    expectSwitch(await runScript(modUrl, ["-A", "--no-lock"]));
  }, TIMEOUT_MS);

  it(
    "works by http:// URL from a static file server, with no permission but import",
    async () => {
      const server = serveProject();
      try {
        const host = `127.0.0.1:${server.addr.port}`;
        const served = await fetch(`http://${host}/mod.ts`);
        expect(served.headers.get("content-type")).toBe(
          "application/typescript",
        );
        await served.body?.cancel();
        expectSwitch(
          await runScript(`http://${host}/mod.ts`, [
            "--no-lock",
            `--allow-import=${host}`,
          ]),
        );
      } finally {
        await server.shutdown();
      }
    },
    TIMEOUT_MS,
  );
});

describe("publishing", () => {
  it("passes deno publish --dry-run (no slow types)", async () => {
    const run = await deno(["publish", "--dry-run", "--allow-dirty"], rootPath);
    expect(run.code, run.stderr).toBe(0);
  }, TIMEOUT_MS);
});
