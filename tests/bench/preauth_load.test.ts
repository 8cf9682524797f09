/**
 * The pre-authentication load script runs and checks what it claims: a short run of
 * `bench/preauth_load.ts` with a few MNs, the AA in a child process, every success
 * matched by an SA on the AA. Seconds, not a measurement.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";

const root = new URL("../../", import.meta.url).pathname;

async function run(args: readonly string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "bench/preauth_load.ts", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    out: new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr),
  };
}

describe("bench/preauth_load.ts (issue 3 section 7)", () => {
  it("runs 5 MNs against an AA in its own process and finds no state lost", async () => {
    const { code, out } = await run(["--mns", "5", "--seconds", "1", "--no-pin"]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/\| pre-authentications per second \| \d+ \|/);
    expect(out).toMatch(/\| AA CPU time per pre-authentication \| [\d.]+ ms \|/);
    expect(out).toMatch(/\| MN failures \| 0 \|/);
    expect(out).toMatch(/ 0 half-open, 0 without a matching SA \|/);
    expect(out).toContain("goal no state lost: met");
  }, 60_000);

  it("refuses a bad option with status 2 and the usage", async () => {
    const { code, out } = await run(["--mns", "zero"]);
    expect(code).toBe(2);
    expect(out).toContain('Invalid --mns: expected a positive integer, got "zero"');
    expect(out).toContain("Usage:");
  });
});
