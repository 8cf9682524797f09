/**
 * The gratuitous-ARP announcer (adapters/link/_announcer.ts; RFC 6252 section 6.3
 * step 6, Appendix B): one long-lived helper per namespace starts the arpings, the
 * neighbour learns the MN's MAC from the unsolicited ARP, and `settle` ends the
 * helper. Needs root and arping (runs in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { _Announcer } from "../../../adapters/link/_announcer.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const ok = canUseNetns();
const hasArping = ok &&
  new Deno.Command("sh", { args: ["-c", "command -v arping"], stdout: "null", stderr: "null" })
    .outputSync().success;
const SKIP = "needs root and arping (runs in CI)";

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

describe("_Announcer in network namespaces (RFC 6252 Appendix B)", () => {
  let lab: NetnsLab;
  let mn: string;
  let router: string;

  beforeAll(async () => {
    if (!hasArping) return;
    lab = new NetnsLab("mpahbt");
    mn = await lab.namespace("amn", { ipv6: false });
    router = await lab.namespace("art", { ipv6: false });
    await lab.veth({ ns: mn, name: "eth0", cidr: "10.71.0.50/24" }, {
      ns: router,
      name: "eth0",
      cidr: "10.71.0.1/24",
    });
    await lab.sysctl(router, {
      "net.ipv4.conf.all.arp_accept": 1,
      "net.ipv4.conf.eth0.arp_accept": 1,
    });
  }, 30_000);

  afterAll(async () => {
    await lab?.dispose();
  }, 30_000);

  it.skipIf(!hasArping)(
    `${SKIP}: warm starts one helper, garp announces through it, settle ends it`,
    async () => {
      const announcer = new _Announcer();
      const target = { interface: "eth0", netns: mn };
      announcer.warm(target);
      announcer.warm(target); // one helper per namespace
      const pids = announcer.pids();
      expect(pids).toHaveLength(1);
      expect(alive(pids[0]!)).toBe(true);
      const mac = /link\/ether (\S+)/.exec(await lab.ip(mn, ["link", "show", "dev", "eth0"]))![1]!;
      expect(await announcer.garp(target, "10.71.0.50")).toBe(true);
      expect(announcer.pids()).toEqual(pids);
      let neigh = "";
      for (let i = 0; i < 200 && !neigh.includes(mac); i++) {
        neigh = await lab.ip(router, ["neigh", "show", "10.71.0.50"]);
        if (!neigh.includes(mac)) await new Promise((r) => setTimeout(r, 10));
      }
      expect(neigh).toContain(`lladdr ${mac}`);
      // A failing arping (no such interface) does not stop the helper.
      expect(await announcer.garp({ interface: "nosuch0", netns: mn }, "10.71.0.50")).toBe(true);
      await announcer.settle();
      expect(pids.some(alive)).toBe(false);
      expect(announcer.pids()).toEqual([]);
    },
    30_000,
  );
});
