/**
 * NetnsLinkControl through the kernel (RFC 6252 section 6.3 steps 5 and 6, Appendix
 * B): an MN namespace whose eth0's veth peer lives in an "air" namespace with two
 * PoA bridges, each leading to a router namespace. The peer is switched back and
 * forth 100 times through one `ip -batch` process; after each switch the PoA's
 * router answers a ping. `assign` adds the nCoA and the router learns the MN's MAC
 * from the gratuitous ARP. Needs root (runs in CI); the GARP test also needs arping.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { NetnsLinkControl } from "../../../adapters/link/netns_link.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const ok = canUseNetns();
const hasArping = ok &&
  new Deno.Command("sh", { args: ["-c", "command -v arping"], stdout: "null", stderr: "null" })
    .outputSync().success;
const SKIP = "needs root (runs in CI)";

/** Ids of the running `ip -n NS ... -batch -` processes. */
function batchProcesses(ns: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (/\) [ZX] /.test(stat)) continue;
      if (argv[0] === "ip" && argv.includes("-batch") && argv[argv.indexOf("-n") + 1] === ns) {
        found.push(Number(entry.name));
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe("NetnsLinkControl in network namespaces (RFC 6252 section 6.3 steps 5-6)", () => {
  let lab: NetnsLab;
  let mn: string;
  let air: string;
  let ra: string;
  let rb: string;
  let link: NetnsLinkControl;

  beforeAll(async () => {
    if (!ok) return;
    lab = new NetnsLab("mpalk");
    mn = await lab.namespace("mn", { ipv6: false });
    air = await lab.namespace("air", { ipv6: false });
    ra = await lab.namespace("ra", { ipv6: false });
    rb = await lab.namespace("rb", { ipv6: false });
    await lab.bridge(air, "brA");
    await lab.bridge(air, "brB");
    // Each PoA bridge leads to its network's router; both networks share 10.77.0.0/24
    // addresses on different routers so that one ping target tells which PoA is live.
    await lab.veth({ ns: ra, name: "eth0", cidr: "10.77.1.1/24" }, {
      ns: air,
      name: "raP",
      master: "brA",
    });
    await lab.veth({ ns: rb, name: "eth0", cidr: "10.77.2.1/24" }, {
      ns: air,
      name: "rbP",
      master: "brB",
    });
    await lab.veth({ ns: mn, name: "eth0", cidr: "10.77.1.10/24" }, {
      ns: air,
      name: "mnP",
      master: "brA",
    });
    await lab.ip(mn, ["addr", "add", "10.77.2.10/24", "dev", "eth0"]);
    // Routers create neighbour entries from gratuitous ARP (Appendix B).
    for (const r of [ra, rb]) {
      await lab.sysctl(r, {
        "net.ipv4.conf.all.arp_accept": 1,
        "net.ipv4.conf.eth0.arp_accept": 1,
      });
    }
    link = new NetnsLinkControl({
      air,
      peer: "mnP",
      poas: { apA: "brA", apB: "brB" },
      interface: "eth0",
      netns: mn,
    });
  }, 30_000);

  afterAll(async () => {
    await link?.close();
    await lab?.dispose();
  }, 20_000);

  const master = async () => {
    const out = await lab.ip(air, ["-o", "link", "show", "dev", "mnP"]);
    return /master (\S+)/.exec(out)?.[1];
  };
  const ping = (target: string) =>
    lab.exec(mn, ["ping", "-c", "1", "-W", "2", "-q", target], { check: false });

  it.skipIf(!ok)(
    `${SKIP}: section 6.3 step 5 - 100 switches back and forth, the new PoA's router reachable after each`,
    async () => {
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const [poa, bridge, router, other] = i % 2 === 0
          ? ["apB", "brB", "10.77.2.1", "10.77.1.1"]
          : ["apA", "brA", "10.77.1.1", "10.77.2.1"];
        const t0 = performance.now();
        await link.switchTo(poa);
        times.push(performance.now() - t0);
        expect(link.current).toBe(poa);
        expect(await master()).toBe(bridge);
        expect((await ping(router)).code, `ping ${router} after switch ${i}`).toBe(0);
        if (i % 25 === 0) {
          // The old PoA is gone. The failed ARP leaves an INCOMPLETE entry whose next
          // probe could come after the next ping's deadline: forget it.
          expect((await ping(other)).code).not.toBe(0);
          await lab.ip(mn, ["neigh", "flush", "to", other, "dev", "eth0"]);
        }
      }
      const sorted = [...times].sort((a, b) => a - b);
      const q = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
      console.log(
        `NetnsLinkControl.switchTo over 100 switches: median ${q(0.5).toFixed(3)} ms, ` +
          `p99 ${q(0.99).toFixed(3)} ms, max ${sorted.at(-1)!.toFixed(3)} ms`,
      );
      expect(times).toHaveLength(100);
    },
    120_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: an unknown PoA is unreachable, a missing bridge fails and the next switch still works`,
    async () => {
      await expect(link.switchTo("apZ")).rejects.toMatchObject({
        port: "LinkControl",
        code: "unreachable",
      });
      const broken = new NetnsLinkControl({
        air,
        peer: "mnP",
        poas: { apA: "brA", gone: "brGone" },
        interface: "eth0",
        netns: mn,
      });
      try {
        await expect(broken.switchTo("gone")).rejects.toMatchObject({
          port: "LinkControl",
          code: "unreachable",
        });
        await broken.switchTo("apA"); // a new ip process after the old one exited
        expect(await master()).toBe("brA");
      } finally {
        await broken.close();
      }
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: warm() starts the air namespace's ip process before the first switch; a missing peer is refused`,
    async () => {
      const warmed = new NetnsLinkControl({
        air,
        peer: "mnP",
        poas: { apA: "brA", apB: "brB" },
        interface: "eth0",
        netns: mn,
      });
      const before = batchProcesses(air).length;
      try {
        await warmed.warm();
        expect(batchProcesses(air).length).toBe(before + 1);
        await warmed.switchTo("apA"); // on the warmed process: no new one
        expect(batchProcesses(air).length).toBe(before + 1);
        expect(await master()).toBe("brA");
      } finally {
        await warmed.close();
      }
      const noPeer = new NetnsLinkControl({
        air,
        peer: "noSuchPeer",
        poas: { apA: "brA" },
        interface: "eth0",
        netns: mn,
      });
      try {
        await expect(noPeer.warm()).rejects.toMatchObject({ port: "LinkControl" });
      } finally {
        await noPeer.close();
      }
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: the association delay detaches the MN, then attaches it; abort is honoured`,
    async () => {
      const slow = new NetnsLinkControl({
        air,
        peer: "mnP",
        poas: { apA: "brA", apB: "brB" },
        interface: "eth0",
        netns: mn,
        associationDelayMs: 300,
      });
      try {
        const pending = slow.switchTo("apB");
        for (let i = 0; i < 100 && (await master()) !== undefined; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(await master()).toBeUndefined(); // detached during association
        await pending;
        expect(await master()).toBe("brB");
        const controller = new AbortController();
        const aborted = slow.switchTo("apA", { signal: controller.signal });
        controller.abort();
        await expect(aborted).rejects.toMatchObject({ code: "aborted" });
        await slow.switchTo("apA");
        expect(await master()).toBe("brA");
      } finally {
        await slow.close();
      }
    },
    30_000,
  );

  it.skipIf(!ok || !hasArping)(
    `${SKIP} and arping: Appendix B - assign adds the nCoA, routes via the router, and the router learns the MN's MAC from the gratuitous ARP`,
    async () => {
      await link.switchTo("apB");
      const mac = /link\/ether (\S+)/.exec(await lab.ip(mn, ["link", "show", "dev", "eth0"]))![1]!;
      expect(await lab.ip(rb, ["neigh", "show", "10.77.2.50"])).toBe("");
      await link.assign("10.77.2.50", 24, { router: "10.77.2.1" });
      expect(await lab.ip(mn, ["-4", "addr", "show", "dev", "eth0"])).toContain(
        "inet 10.77.2.50/24",
      );
      expect(await lab.ip(mn, ["route", "show", "default"])).toContain(
        "default via 10.77.2.1 dev eth0",
      );
      let neigh = "";
      for (let i = 0; i < 100 && !neigh.includes(mac); i++) {
        neigh = await lab.ip(rb, ["neigh", "show", "10.77.2.50"]);
        if (!neigh.includes(mac)) await new Promise((r) => setTimeout(r, 10));
      }
      expect(neigh).toContain(`lladdr ${mac}`);
      // Idempotent, and bad input is a protocol error.
      await link.assign("10.77.2.50", 24);
      await expect(link.assign("10.77.2.300", 24)).rejects.toMatchObject({ code: "protocol" });
      await expect(link.assign("10.77.2.51", 33)).rejects.toMatchObject({ code: "protocol" });
      await expect(link.assign("10.77.2.51", 24, { router: "2001:db8::1" })).rejects.toMatchObject({
        code: "protocol",
      });
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: close ends the control's ip -batch processes (air and MN namespaces)`,
    async () => {
      const before = [...batchProcesses(air), ...batchProcesses(mn)];
      const own = new NetnsLinkControl({
        air,
        peer: "mnP",
        poas: { apA: "brA", apB: "brB" },
        interface: "eth0",
        netns: mn,
      });
      await own.switchTo("apA");
      await own.assign("10.77.1.61", 24);
      const started = [...batchProcesses(air), ...batchProcesses(mn)].filter((p) =>
        !before.includes(p)
      );
      expect(started).toHaveLength(2); // ip -n AIR -batch, ip -n MN -4 -batch
      await own.close();
      await own.close(); // idempotent
      expect([...batchProcesses(air), ...batchProcesses(mn)].filter((p) => started.includes(p)))
        .toEqual([]);
      await expect(own.switchTo("apB")).rejects.toMatchObject({ code: "unreachable" });
      await lab.ip(mn, ["addr", "del", "10.77.1.61/24", "dev", "eth0"]);
    },
    30_000,
  );

  it.skipIf(!ok)(`${SKIP}: assign on a missing interface is unreachable`, async () => {
    const lost = new NetnsLinkControl({
      air,
      peer: "mnP",
      poas: {},
      interface: "nosuch0",
      netns: mn,
    });
    await expect(lost.assign("10.77.2.60", 24)).rejects.toMatchObject({
      port: "LinkControl",
      code: "unreachable",
    });
    await lost.close();
  });
});
