/**
 * End to end in network namespaces (RFC 6252 section 6.3 steps 1-2, 7.3.3, 7.4): the
 * MN's proactive preparation for a CTN with real keys, as a user runs it.
 *
 * ```
 *  mpapc-mn                 mpapc-ar (mpa ctn: AA, AR + TUN)        mpapc-ca
 *  10.0.1.2/24 (oCoA) ---- 10.0.1.1/24 | 10.0.2.1/24 (ctn0) ---- 10.0.2.2/24 Kea
 *  mpa preconfigure        10.9.0.1/24 (cn0)                       + nftables gate
 *  --tun --hold                  |
 *                          mpapc-cn 10.9.0.2/24 (UDP stream source)
 * ```
 *
 * `mpa ctn --aa --ar --ar-tun --ca-gate --ca-netns mpapc-ca` runs in mpapc-ar; Kea
 * serves 10.0.2.0/24 (option 118, ciaddr mode) in mpapc-ca behind the gate that the
 * AA's key delivery opens; `mpa preconfigure` pre-authenticates, acquires the nCoA,
 * opens the tunnel and holds the nCoA on a TUN in mpapc-mn. A stream from the CN to
 * the nCoA reaches the MN only through the tunnel (the nCoA is on no physical
 * interface). SIGTERM releases everything. Needs root, /dev/net/tun, kea-dhcp4 and nft.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { type DhcpServerProcess, findExecutable, startKea } from "../fixtures/dhcp/_servers.ts";
import { canUseNetns, NetnsLab } from "../fixtures/netns/netns_lab.ts";
import type { JsonLineChild } from "../fixtures/netns/json_line_child.ts";
import { CliProcess } from "../fixtures/preconfig/_cli_process.ts";

const runnable = canUseNetns({ tun: true }) && findExecutable("kea-dhcp4") !== undefined &&
  findExecutable("nft") !== undefined;

const CTN = "ctn-b.example";
const IDENTITY = "mn@example";
const PSK_HEX = "000102030405060708090a0b0c0d0e0f";
const STREAM_PORT = 5004;
const RATE = 50;
const COUNT = 100; // 2 s at 50 packets/s
const TIMEOUT = 60_000;
const FIXTURES = new URL("../fixtures/tunnel/", import.meta.url);

interface Prepared {
  readonly ctn: string;
  readonly sessionId: number;
  readonly oCoA: string;
  readonly nCoA: string;
  readonly lease: { readonly prefixLength: number; readonly router: string | null };
  readonly tunnel: { readonly id: string; readonly ar: string; readonly tun: string | null };
  readonly timings: {
    readonly preauthMs: number;
    readonly dhcpMs: number;
    readonly tunnelMs: number;
    readonly totalMs: number;
  };
}

/** Polls `check` until it holds (kernel state changed by another process). */
async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("mpa preconfigure against mpa ctn and Kea in namespaces (RFC 6252 6.3 steps 1-2)", () => {
  let lab: NetnsLab | undefined;
  let kea: DhcpServerProcess | undefined;
  let ctn: CliProcess | undefined;
  let preconfigure: CliProcess | undefined;
  let receiver: JsonLineChild | undefined;
  let source: JsonLineChild | undefined;
  let dir = "";
  let ns = { mn: "", ar: "", ca: "", cn: "" };
  let prepared: Prepared | undefined;

  beforeAll(async () => {
    if (!runnable) return;
    dir = await Deno.makeTempDir({ prefix: "mpapc-e2e-" });
    await Deno.writeTextFile(`${dir}/credentials`, `${IDENTITY} ${PSK_HEX}\n`, { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/psk`, `${PSK_HEX}\n`, { mode: 0o600 });
    lab = new NetnsLab("mpapc");
    ns = {
      mn: await lab.namespace("mn", { ipv6: false }),
      ar: await lab.namespace("ar", { ipv6: false }),
      ca: await lab.namespace("ca", { ipv6: false }),
      cn: await lab.namespace("cn", { ipv6: false }),
    };
    await lab.veth({ ns: ns.mn, name: "eth0", cidr: "10.0.1.2/24" }, {
      ns: ns.ar,
      name: "mn0",
      cidr: "10.0.1.1/24",
    });
    await lab.veth({ ns: ns.ar, name: "ctn0", cidr: "10.0.2.1/24" }, {
      ns: ns.ca,
      name: "eth0",
      cidr: "10.0.2.2/24",
    });
    await lab.veth({ ns: ns.ar, name: "cn0", cidr: "10.9.0.1/24" }, {
      ns: ns.cn,
      name: "eth0",
      cidr: "10.9.0.2/24",
    });
    await lab.route(ns.mn, ["default", "via", "10.0.1.1"]);
    await lab.route(ns.ca, ["default", "via", "10.0.2.1"]);
    await lab.route(ns.cn, ["default", "via", "10.9.0.1"]);
    await lab.sysctl(ns.ar, { "net.ipv4.ip_forward": 1 });
    kea = await startKea({ netns: ns.ca, interface: "eth0" });
    ctn = CliProcess.spawn(ns.ar, [
      "ctn",
      "--aa",
      "--ctn",
      CTN,
      "--listen",
      "10.0.1.1:716",
      "--credentials",
      `${dir}/credentials`,
      "--ar",
      "--ar-listen",
      "10.0.1.1:7716",
      "--ar-tun",
      "--ctn-interface",
      "ctn0",
      "--ca-gate",
      "--ca-netns",
      ns.ca,
    ], "mpa ctn");
    const listening = JSON.parse(await ctn.firstLine());
    expect(listening).toEqual({
      listening: "10.0.1.1:716",
      ctn: CTN,
      ar: "10.0.1.1:7716",
      arTun: "mpa0",
      caGate: { table: "inet mpa_ca", netns: ns.ca },
    });
  }, TIMEOUT);

  afterAll(async () => {
    await preconfigure?.stop();
    await ctn?.stop();
    await kea?.stop();
    await lab?.dispose(); // stops the JSON-line children too
    if (dir !== "") await Deno.remove(dir, { recursive: true });
  }, TIMEOUT);

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): before pre-authentication the CA's gate drops the MN's DHCP",
    async () => {
      const r = await CliProcess.run(ns.mn, [
        "dhcp-acquire",
        "--server",
        "10.0.2.2",
        "--subnet",
        "10.0.2.0/24",
        "--mode",
        "ciaddr",
        "--timeout",
        "1500",
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("No DHCP server answered");
      const chain = await lab!.exec(ns.ca, ["nft", "list", "chain", "inet", "mpa_ca", "input"]);
      expect(Number(/counter packets (\d+)/.exec(chain.stdout)?.[1])).toBeGreaterThanOrEqual(1);
    },
    TIMEOUT,
  );

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): preconfigure pre-authenticates, gets an nCoA from Kea and opens the tunnel; the nCoA stays off the physical interface",
    async () => {
      preconfigure = CliProcess.spawn(ns.mn, [
        "preconfigure",
        "--aa",
        "10.0.1.1",
        "--identity",
        IDENTITY,
        "--psk-file",
        `${dir}/psk`,
        "--ctn",
        CTN,
        "--ca",
        "10.0.2.2",
        "--subnet",
        "10.0.2.0/24",
        "--mode",
        "ciaddr",
        "--ar",
        "10.0.1.1",
        "--tun",
        "--hold",
      ], "mpa preconfigure");
      prepared = JSON.parse(await preconfigure.firstLine(30_000)) as Prepared;
      const t = prepared.timings;
      console.log(
        `preconfigure e2e (Kea, ciaddr, TUN): preauth ${t.preauthMs.toFixed(1)} ms, dhcp ${
          t.dhcpMs.toFixed(1)
        } ms, tunnel ${t.tunnelMs.toFixed(1)} ms, total ${t.totalMs.toFixed(1)} ms`,
      );
      expect(prepared).toMatchObject({
        ctn: CTN,
        oCoA: "10.0.1.2",
        lease: { prefixLength: 24, router: "10.0.2.1" },
        tunnel: { ar: "10.0.1.1:7716", tun: "mpa0" },
      });
      expect(prepared.nCoA).toMatch(/^10\.0\.2\.1\d\d$/);
      for (const v of Object.values(t)) expect(v).toBeGreaterThan(0);

      const physical = await lab!.ip(ns.mn, ["-4", "-o", "addr", "show", "dev", "eth0"]);
      expect(physical).toContain("10.0.1.2/24");
      expect(physical).not.toContain(prepared.nCoA);
      const onTun = await lab!.ip(ns.mn, ["-4", "-o", "addr", "show", "dev", "mpa0"]);
      expect(onTun).toContain(`${prepared.nCoA}/32`);
      const route = await lab!.ip(ns.ar, ["route", "show", `${prepared.nCoA}/32`]);
      expect(route).toContain("dev mpa0");
      expect(await kea!.leases()).toContain(prepared.nCoA);
      const admitted = await lab!.exec(ns.ca, ["nft", "list", "set", "inet", "mpa_ca", "allowed"]);
      expect(admitted.stdout).toContain("10.0.1.2");
    },
    TIMEOUT,
  );

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): a UDP stream from the CN to the nCoA reaches the MN through the tunnel",
    async () => {
      expect(prepared).toBeDefined();
      receiver = await lab!.spawnDeno(ns.mn, new URL("_mn.ts", FIXTURES));
      source = await lab!.spawnDeno(ns.cn, new URL("_cn.ts", FIXTURES));
      await receiver.request("udpListen", { port: STREAM_PORT });
      const rxBefore = await tunRxPackets(lab!, ns.mn);
      const { sent } = await source.request<{ sent: number }>("stream", {
        to: prepared!.nCoA,
        port: STREAM_PORT,
        rate: RATE,
        count: COUNT,
      }, 20_000);
      expect(sent).toBe(COUNT);
      let seqs: number[] = [];
      await until(
        async () => {
          seqs = (await receiver!.request<{ seqs: number[] }>("udpReceived", { port: STREAM_PORT }))
            .seqs;
          return seqs.length >= COUNT;
        },
        "the stream at the MN",
        3_000,
      ).catch(() => {});
      console.log(`preconfigure e2e stream: ${seqs.length}/${COUNT} packets at the nCoA`);
      expect(seqs.length).toBeGreaterThanOrEqual(COUNT * 0.98);
      expect(new Set(seqs).size).toBe(seqs.length);
      // Every one came out of the MN's TUN: written there by the tunnel endpoint.
      expect(await tunRxPackets(lab!, ns.mn) - rxBefore).toBeGreaterThanOrEqual(seqs.length);
    },
    TIMEOUT,
  );

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): SIGTERM releases: exit 0, the AR's route is gone, Kea records the release, the gate closes",
    async () => {
      expect(prepared).toBeDefined();
      const nCoA = prepared!.nCoA;
      preconfigure!.kill("SIGTERM");
      const status = await preconfigure!.status();
      expect(status.code, preconfigure!.stderr).toBe(0);
      expect(preconfigure!.stderr).not.toContain("    at ");
      expect(preconfigure!.stderr).not.toContain(PSK_HEX);

      await until(
        async () => (await lab!.ip(ns.ar, ["route", "show", `${nCoA}/32`])).trim() === "",
        "the AR's host route to go",
      );
      // Kea's memfile appends the released lease with valid_lifetime 0.
      await until(async () => {
        const rows = (await kea!.leases()).split("\n").filter((l) => l.startsWith(`${nCoA},`));
        return rows.at(-1)?.split(",")[3] === "0";
      }, "Kea's lease file to record the release");
      expect(kea!.output()).toContain("DHCP4_RELEASE");
      // The PANA session was terminated: the AA revoked the SA and the gate closed.
      await until(async () => {
        const set = await lab!.exec(ns.ca, ["nft", "list", "set", "inet", "mpa_ca", "allowed"]);
        return !set.stdout.includes("10.0.1.2");
      }, "the gate to withdraw the MN's address");
      expect(await lab!.ip(ns.mn, ["-o", "link", "show"])).not.toContain("mpa0");
    },
    TIMEOUT,
  );

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): mpa ctn stops on SIGTERM, logs its counters and removes the gate and the TUN",
    async () => {
      ctn!.kill("SIGTERM");
      const status = await ctn!.status();
      expect(status.code, ctn!.stderr).toBe(0);
      expect(ctn!.stderr).not.toContain(PSK_HEX);
      expect(ctn!.stderr).toMatch(/AA stopped: .*\b1 authorized\b/);
      expect(ctn!.stderr).toMatch(/AR stopped: 1 tunnels created/);
      // Two admissions: the MN's oCoA (pre-authentication) and the tunnel's nCoA (so that
      // it can renew from it after the move); both withdrawn when the SA ends.
      expect(ctn!.stderr).toMatch(/CA gate removed: 2 admissions, 2 withdrawals, 0 nft errors/);
      const tables = await lab!.exec(ns.ca, ["nft", "list", "tables"]);
      expect(tables.stdout).not.toContain("mpa_ca");
      expect(await lab!.ip(ns.ar, ["-o", "link", "show"])).not.toContain("mpa0");
      ctn = undefined;
    },
    TIMEOUT,
  );
});

/** Packets the kernel received on the MN's TUN (written into it by preconfigure). */
async function tunRxPackets(lab: NetnsLab, netns: string): Promise<number> {
  const json = JSON.parse(await lab.ip(netns, ["-j", "-s", "link", "show", "dev", "mpa0"]));
  return Number(json[0]?.stats64?.rx?.packets ?? 0);
}
