/**
 * End-to-end tests of `mpa demo`, the embedded demo (RFC 6252 sections 6.3, 7.6.1,
 * C.5): each test spawns `deno run --allow-read --allow-net mod.ts demo ...` (the
 * permissions of `deno task demo`) and checks the exit status, the timeline and the
 * summary. The process must exit by itself: every session released, every socket
 * closed. Each run uses its own 127.N.0.0/16 (`--net`), so that runs do not collide.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";

const ROOT = new URL("../../../", import.meta.url).pathname;
const TIMEOUT = 90_000;
/** A line of a JavaScript stack trace, which a user must never see. */
const STACK = "    at ";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function demo(args: readonly string[]): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net",
      "--node-modules-dir=manual",
      `${ROOT}mod.ts`,
      "demo",
      ...args,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

interface Summary {
  readonly buffering: boolean;
  readonly chosen?: string;
  readonly released: readonly string[];
  readonly decisions: Readonly<Record<string, number>>;
  readonly phases: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly packets: {
    readonly sent: number;
    readonly received: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly reordered: number;
    readonly buffered: number;
    readonly flushed: number;
    readonly droppedOffLink: number;
  };
  readonly interruptionMs: number;
  readonly jitterMs: number;
  readonly release: {
    readonly mnSessions: number;
    readonly aaSessions: number;
    readonly arTunnels: number;
    readonly leases: number;
    readonly sockets: number;
    readonly allReleased: boolean;
  };
}

function summaryOf(run: Run): Summary {
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  expect(lines.length, run.stdout).toBe(1);
  return JSON.parse(lines[0]!) as Summary;
}

const FAST = ["--speed", "20", "--settle", "400", "--json"];

describe("mpa demo (embedded, RFC 6252 section 6.3 on loopback)", () => {
  it(
    "with buffering (section 7.6.1): a full MPA handover, no packet lost, all released",
    async () => {
      const r = await demo([...FAST, "--net", "61"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain(STACK);
      const s = summaryOf(r);
      expect(s.buffering).toBe(true);
      expect(s.chosen).toBe("domainB");
      // Both CTNs pre-authenticated in parallel (section 7.2), the other one released.
      expect(s.released).toEqual(["domainC"]);
      expect(s.phases.domainC?.tauthMs).toBeGreaterThan(0);
      const b = s.phases.domainB!;
      for (const phase of ["tauthMs", "tconfMs", "tunnelMs", "buMs", "switchMs"]) {
        expect(b[phase], phase).toBeGreaterThan(0);
      }
      const p = s.packets;
      expect(p.sent).toBeGreaterThan(20);
      expect(p.lost).toBe(0);
      expect(p.received).toBe(p.sent);
      expect(p.duplicated).toBeGreaterThanOrEqual(0);
      expect(p.droppedOffLink).toBe(0);
      expect(p.flushed).toBe(p.buffered);
      expect(s.interruptionMs).toBeGreaterThan(0);
      expect(s.release).toEqual({
        mnSessions: 0,
        aaSessions: 0,
        arTunnels: 0,
        leases: 0,
        sockets: 0,
        allReleased: true,
      });
    },
    TIMEOUT,
  );

  it("without buffering: the loss of the link switch is reported, and consistent", async () => {
    const r = await demo([...FAST, "--net", "62", "--no-buffering", "--link-delay", "100"]);
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r);
    expect(s.buffering).toBe(false);
    const p = s.packets;
    expect(p.sent).toBe(p.received + p.lost);
    expect(p.lost).toBeGreaterThanOrEqual(0);
    expect(p.buffered).toBe(0);
    expect(s.phases.domainB?.switchMs).toBeGreaterThan(0);
    expect(s.release.allReleased).toBe(true);
  }, TIMEOUT);

  it("prints a timeline of every MPA step and the end table", async () => {
    const r = await demo(["--speed", "20", "--settle", "200", "--net", "63"]);
    expect(r.code, r.stderr).toBe(0);
    const kinds = new Set(
      r.stdout.split("\n").map((l) => /^\s*\d+\.\d ms\s+\d+\.\d s {2}(\S+)/.exec(l)?.[1]).filter(
        (k) => k !== undefined,
      ),
    );
    for (
      const kind of [
        "prepare",
        "preauth",
        "dhcp",
        "tunnel",
        "bu",
        "buffer",
        "switch",
        "assign",
        "untunnel",
        "flush",
        "release",
        "stream",
        "end",
      ]
    ) {
      expect(kinds, kind).toContain(kind);
    }
    expect(r.stdout).toMatch(/^CTN +Tauth +Tconf +tunnel +BU +switch$/m);
    expect(r.stdout).toMatch(/^packets: \d+ sent, \d+ received, 0 lost, \d+ duplicated/m);
    expect(r.stdout).toMatch(/^interruption \(largest gap between packets\): \d+\.\d ms/m);
    expect(r.stdout).toContain("release: all sessions released");
    // Not a terminal: no progress bar.
    expect(r.stdout).not.toContain("drive [");
  }, TIMEOUT);

  it("--decisions keeps the decisions-only view of the built-in scenario", async () => {
    const r = await demo(["--decisions"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^\s*\d+\.\d{3} s {2}switch\s+domainB/m);
    expect(r.stdout).toMatch(/^\d+ switch\(es\), \d+ between domains/m);
  }, TIMEOUT);

  it("refuses bad values with exit 2 and the reason", async () => {
    const runs = await Promise.all([
      demo(["--speed", "0"]),
      demo(["--net", "300"]),
      demo(["--decisions", "--speed", "2"]),
      demo(["--scenario", "walk"]),
      demo(["extra"]),
    ]);
    const messages = [
      "Invalid --speed: expected a number in (0, 1000], got 0",
      "Invalid --net: expected 0 to 255, got 300",
      "--speed does not apply to --decisions",
      "--scenario applies to --decisions only",
      "Unexpected argument extra",
    ];
    runs.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(messages[i]);
      expect(r.stderr).not.toContain(STACK);
    });
  }, TIMEOUT);
});

describe("mpa demo --netns (network namespaces, TUN, the testbed of bench/handover)", () => {
  const root = Deno.uid() === 0;
  it("--netns takes no other option", async () => {
    const r = await demo(["--netns", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--netns takes no other option");
    expect(r.stderr).not.toContain(STACK);
  }, TIMEOUT);

  it.skipIf(!root)(
    "needs root and /dev/net/tun (runs in CI): one MPA handover with buffering loses nothing and one reactive handover is printed beside it",
    async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--node-modules-dir=manual", `${ROOT}mod.ts`, "demo", "--", "--netns"],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      });
      const out = await child.output();
      const stdout = new TextDecoder().decode(out.stdout);
      expect(out.code, stdout + new TextDecoder().decode(out.stderr)).toBe(0);
      const row = (id: string) =>
        stdout.split("\n").find((l) => l.startsWith(id.padEnd(14)))?.trim().split(/\s{2,}/);
      const mpa = row("mpa-buffering");
      const reactive = row("reactive");
      expect(mpa, stdout).toBeDefined();
      expect(reactive, stdout).toBeDefined();
      // Columns: id, Tauth, Tconf, tunnel, BU, switch, L3, lost, buffered, interruption.
      expect(mpa![7]).toBe("0");
      expect(Number(reactive![7])).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
