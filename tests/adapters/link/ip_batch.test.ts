/**
 * The long-lived `ip -batch` processes behind the link and tunnel adapters' ip(8)
 * commands (adapters/link/_ip_batch.ts; RFC 6252 section 6.3 steps 4-6 run them on
 * the handover's path): which commands batch mode takes, failures carrying ip's error
 * text on the right command, a fatal command restarting the process without losing the
 * commands queued behind it, a stale cached interface index after a device is
 * re-created, and no process left behind - by `close`, or when the owning process
 * exits. Namespace tests need root (run in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { _batchLine, _IpBatches } from "../../../adapters/link/_ip_batch.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const ok = canUseNetns();
const SKIP = "needs root (runs in CI)";

/** Whether a process with this id is still running (not a zombie). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Waits until none of the processes runs (the test's timeout bounds it). */
async function gone(pids: readonly number[]): Promise<void> {
  while (pids.some(alive)) await new Promise((r) => setTimeout(r, 10));
}

describe("_batchLine: which ip commands a batch process runs", () => {
  it("takes state changes, with the family as the process's option", () => {
    expect(_batchLine(["-4", "rule", "del", "from", "10.0.0.5/32", "lookup", "7716"])).toEqual({
      options: ["-4"],
      line: "rule del from 10.0.0.5/32 lookup 7716",
    });
    expect(_batchLine(["neigh", "replace", "10.0.2.50", "lladdr", "02:00:00:00:00:0b"]))
      .toEqual({ options: [], line: "neigh replace 10.0.2.50 lladdr 02:00:00:00:00:0b" });
    expect(_batchLine(["-6", "addr", "replace", "2001:db8::5/64", "dev", "eth0", "nodad"]))
      .toMatchObject({ options: ["-6"] });
  });

  it("leaves queries, other options and unsafe tokens to a process of their own", () => {
    expect(_batchLine(["-j", "route", "show"])).toBeUndefined();
    expect(_batchLine(["route", "show", "table", "7716"])).toBeUndefined();
    expect(_batchLine(["monitor", "neigh"])).toBeUndefined();
    expect(_batchLine(["-4", "-6", "route", "flush"])).toBeUndefined();
    expect(_batchLine(["link", "set", "dev", "a b", "up"])).toBeUndefined();
    expect(_batchLine(["link", "set", "dev", "eth0\nlink", "del", "eth0"])).toBeUndefined();
    expect(_batchLine(["addr", "add", "10.0.0.1/24", "dev", "eth0", "label", '"x"']))
      .toBeUndefined();
    expect(_batchLine(["addr"])).toBeUndefined();
    expect(_batchLine([])).toBeUndefined();
  });
});

describe("_IpBatches in a network namespace", () => {
  let lab: NetnsLab;
  let ns: string;

  beforeAll(async () => {
    if (!ok) return;
    lab = new NetnsLab("mpahbt");
    ns = await lab.namespace("ipb", { ipv6: false });
    await lab.run(["ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
    await lab.ip(ns, ["link", "set", "v0", "up"]);
  }, 30_000);

  afterAll(async () => {
    await lab?.dispose();
  }, 30_000);

  it.skipIf(!ok)(
    `${SKIP}: concurrent commands each get their own answer; a failure carries ip's error text`,
    async () => {
      const ip = new _IpBatches(ns);
      try {
        const adds = Array.from(
          { length: 40 },
          (_, i) => ip.run(["-4", "addr", "add", `10.67.0.${i + 1}/32`, "dev", "v0"]),
        );
        const duplicate = ip.run(["-4", "addr", "add", "10.67.0.7/32", "dev", "v0"]);
        const results = await Promise.all(adds);
        expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
        expect(results.every((r) => r.batched)).toBe(true);
        expect(await duplicate).toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/Address already assigned|File exists/),
          batched: true,
        });
        const shown = await lab.ip(ns, ["-4", "addr", "show", "dev", "v0"]);
        expect(shown.match(/inet 10\.67\.0\.\d+\/32/g)).toHaveLength(40);
        // A query is answered by a process of its own, its output intact.
        const query = await ip.run(["-j", "-4", "addr", "show", "dev", "v0"]);
        expect(query.batched).toBe(false);
        expect(JSON.parse(query.stdout)[0].addr_info).toHaveLength(40);
        expect(await ip.run(["-4", "addr", "flush", "dev", "v0"])).toMatchObject({ code: 0 });
      } finally {
        await ip.close();
      }
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: a command that makes ip exit fails with its text; those queued behind it still run`,
    async () => {
      const ip = new _IpBatches(ns);
      try {
        const first = ip.pids();
        const fatal = ip.run(["link", "set", "dev", "v0", "master", "nosuchbr"]);
        const behind = ip.run(["route", "replace", "10.68.0.0/24", "dev", "v0"]);
        expect(await fatal).toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/nosuchbr.*Device does not exist/),
        });
        expect(await behind).toMatchObject({ code: 0 });
        expect(await lab.ip(ns, ["route", "show", "10.68.0.0/24"])).toContain("dev v0");
        expect(first).toEqual([]);
        expect(ip.pids()).toHaveLength(1); // a fresh process took over
      } finally {
        await ip.close();
      }
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: a device deleted and created again under its name is still found (stale index)`,
    async () => {
      const ip = new _IpBatches(ns);
      try {
        await lab.run(["ip", "-n", ns, "link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
        expect(await ip.run(["addr", "add", "10.69.0.1/32", "dev", "t0"])).toMatchObject({
          code: 0,
        });
        await lab.ip(ns, ["link", "del", "t0"]);
        await lab.run(["ip", "-n", ns, "link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
        expect(await ip.run(["addr", "add", "10.69.0.2/32", "dev", "t0"])).toMatchObject({
          code: 0,
        });
        expect(await lab.ip(ns, ["-4", "addr", "show", "dev", "t0"])).toContain("10.69.0.2/32");
        // A device that really is missing still fails, with ip's text.
        expect(await ip.run(["addr", "add", "10.69.0.3/32", "dev", "nosuch0"])).toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/Cannot find device "nosuch0"/),
        });
      } finally {
        await ip.close();
        await lab.run(["ip", "-n", ns, "link", "del", "t0"], { check: false });
      }
    },
    30_000,
  );

  it.skipIf(!ok)(`${SKIP}: close ends every batch process; later commands still run`, async () => {
    const ip = new _IpBatches(ns);
    await ip.run(["link", "set", "v0", "up"]);
    await ip.run(["-4", "route", "replace", "10.70.0.0/24", "dev", "v0"]);
    const pids = ip.pids();
    expect(pids).toHaveLength(2); // one per family option set
    expect(pids.every(alive)).toBe(true);
    await ip.close();
    expect(pids.some(alive)).toBe(false);
    expect(ip.pids()).toEqual([]);
    const after = await ip.run(["-4", "route", "del", "10.70.0.0/24", "dev", "v0"]);
    expect(after).toMatchObject({ code: 0, batched: false });
  }, 30_000);

  it.skipIf(!ok)(
    `${SKIP}: _ip in its own namespace goes through the shared processes, which end with the caller`,
    async () => {
      const child = new URL("../../fixtures/link/_ip_batch_child.ts", import.meta.url).pathname;
      for (const mode of ["close", "exit"]) {
        const out = await lab.run([
          "ip",
          "netns",
          "exec",
          ns,
          Deno.execPath(),
          "run",
          "-A",
          "--quiet",
          "--node-modules-dir=manual",
          child,
          mode,
        ]);
        const seen = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as {
          pids: number[];
          duplicate: string;
          routes: { dst: string }[];
        };
        expect(seen.pids.length, mode).toBe(2); // the plain and the -4 process
        expect(seen.duplicate).toMatch(
          /^IpCommandError: Command failed: ip -4 route add 10\.66\.0\.0\/24 dev lo table 66: .*File exists/,
        );
        expect(seen.routes.map((r) => r.dst)).toEqual(["10.66.0.0/24"]);
        await gone(seen.pids); // the batch processes exited with the child
        await lab.ip(ns, ["-4", "route", "flush", "table", "66"]);
      }
    },
    60_000,
  );
});
