/**
 * Real interop, early and small: `mpa dhcp-acquire` in relay mode (the MN as its own
 * relay agent, RFC 6252 section 7.3.3) against dnsmasq in another network namespace,
 * across a routed link: the MN's oCoA is on 198.51.100.0/24, the CTN subnet
 * 10.77.2.0/24 is only on the CA's side and is chosen by option 118 (RFC 3011). The
 * full Kea/dnsmasq suite lives with the CA's tests.
 *
 * Needs root, `ip` and dnsmasq (runs in CI as root).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";

const ROOT = new URL("../../../", import.meta.url).pathname;
const NS_MN = "mpadh-mn";
const NS_CA = "mpadh-ca";
const TIMEOUT = 60_000;

function findExecutable(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

const isRoot = Deno.uid?.() === 0;
const dnsmasq = findExecutable("dnsmasq");
const ip = findExecutable("ip");
const canRun = isRoot && dnsmasq !== undefined && ip !== undefined;

async function sh(args: readonly string[], check = true): Promise<string> {
  const out = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  if (check && !out.success) {
    throw new Error(`${args.join(" ")} failed: ${d.decode(out.stderr).trim()}`);
  }
  return d.decode(out.stdout);
}

let server: Deno.ChildProcess | undefined;
let dir = "";

async function teardown(): Promise<void> {
  if (server !== undefined) {
    try {
      server.kill("SIGTERM");
    } catch {
      // already gone
    }
    await server.status;
    server = undefined;
  }
  await sh(["ip", "netns", "del", NS_MN], false);
  await sh(["ip", "netns", "del", NS_CA], false);
  if (dir !== "") await Deno.remove(dir, { recursive: true }).catch(() => {});
}

beforeAll(async () => {
  if (!canRun) return;
  await teardown(); // leftovers of an interrupted run
  try {
    dir = await Deno.makeTempDir({ prefix: "mpadh-" });
    await sh(["ip", "netns", "add", NS_MN]);
    await sh(["ip", "netns", "add", NS_CA]);
    // MN <-> CA link (the MN's current network, oCoA 198.51.100.2).
    await sh([
      "ip",
      "link",
      "add",
      "mpadh-m0",
      "netns",
      NS_MN,
      "type",
      "veth",
      "peer",
      "name",
      "mpadh-c0",
      "netns",
      NS_CA,
    ]);
    // The CTN subnet, on the CA's side only (a veth pair kept inside the CA namespace).
    await sh([
      "ip",
      "-n",
      NS_CA,
      "link",
      "add",
      "mpadh-c1",
      "type",
      "veth",
      "peer",
      "name",
      "mpadh-c2",
    ]);
    await sh(["ip", "-n", NS_MN, "addr", "add", "198.51.100.2/24", "dev", "mpadh-m0"]);
    await sh(["ip", "-n", NS_CA, "addr", "add", "198.51.100.1/24", "dev", "mpadh-c0"]);
    await sh(["ip", "-n", NS_CA, "addr", "add", "10.77.2.1/24", "dev", "mpadh-c1"]);
    for (
      const [ns, dev] of [
        [NS_MN, "mpadh-m0"],
        [NS_MN, "lo"],
        [NS_CA, "mpadh-c0"],
        [NS_CA, "mpadh-c1"],
        [NS_CA, "mpadh-c2"],
        [NS_CA, "lo"],
      ]
    ) {
      await sh(["ip", "-n", ns!, "link", "set", dev!, "up"]);
    }
    await sh(["ip", "-n", NS_MN, "route", "add", "10.77.2.0/24", "via", "198.51.100.1"]);
    server = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        NS_CA,
        dnsmasq!,
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",
        "--log-dhcp",
        "--bind-interfaces",
        "--interface=mpadh-c0",
        "--interface=mpadh-c1",
        "--dhcp-range=10.77.2.50,10.77.2.99,255.255.255.0,1h",
        "--dhcp-option=option:router,10.77.2.1",
        "--dhcp-rapid-commit",
        `--dhcp-leasefile=${dir}/leases`,
        `--pid-file=${dir}/pid`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // dnsmasq logs "DHCP, IP range ..." once listening.
    const reader = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let log = "";
    while (!log.includes("DHCP, IP range")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`dnsmasq exited: ${log}`);
      log += value;
    }
    void (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })();
  } catch (error) {
    await teardown();
    throw error;
  }
}, TIMEOUT);

afterAll(async () => {
  if (canRun) await teardown();
}, TIMEOUT);

async function acquire(
  extra: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      NS_MN,
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}mod.ts`,
      "dhcp-acquire",
      "--server",
      "198.51.100.1",
      "--subnet",
      "10.77.2.0/24",
      "--mode",
      "relay",
      "--timeout",
      "5000",
      ...extra,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

describe("dhcp-acquire against dnsmasq in netns (RFC 6252 section 7.3.3)", () => {
  it.skipIf(!canRun)(
    "needs root and dnsmasq (runs in CI): relay mode, option 118, then rapid commit",
    async () => {
      const first = await acquire(["--client-id", "01020000000077"]);
      expect(first.code, first.stderr).toBe(0);
      const lease = JSON.parse(first.stdout);
      expect(lease.address).toMatch(/^10\.77\.2\.(5\d|[6-9]\d)$/);
      expect(lease).toMatchObject({
        mask: "255.255.255.0",
        router: "10.77.2.1",
        leaseTime: 3600,
        clientId: "01020000000077",
        rapidCommit: false,
      });
      // The address is not assigned to any interface of the MN (section 7.3.3).
      expect(await sh(["ip", "-n", NS_MN, "-4", "addr"])).not.toContain(lease.address);

      // Same client id again, with rapid commit: dnsmasq answers DISCOVER with an ACK
      // (RFC 4039) and keeps the same address for the same client.
      const second = await acquire(["--client-id", "01020000000077", "--rapid-commit"]);
      expect(second.code, second.stderr).toBe(0);
      const again = JSON.parse(second.stdout);
      expect(again.rapidCommit).toBe(true);
      expect(again.address).toBe(lease.address);
    },
    TIMEOUT,
  );
});
