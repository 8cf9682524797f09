/**
 * The AR's TUN glue through the kernel (adapters/tunnel/tun_glue.ts, RFC 6252 section
 * 7.6.1, Appendix B): a packet flushed while the nCoA's host route into the TUN is
 * still being removed (the MN heard on the CTN link races its own flush request) is
 * held until the route is gone, then reaches the MN on the CTN link - instead of
 * being routed straight back into the TUN. Needs root and /dev/net/tun (runs in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";
import type { JsonLineChild } from "../../fixtures/netns/json_line_child.ts";

const ok = canUseNetns({ tun: true });
const SKIP = "needs root and /dev/net/tun (runs in CI)";
const NCOA = "10.74.0.50";
const AR = "10.74.0.1";

describe("AR TUN glue in network namespaces (RFC 6252 section 7.6.1)", () => {
  let lab: NetnsLab;
  let ar: string;
  let mn: string;
  let child: JsonLineChild;

  /** UDP datagrams the MN's stack received for a port nobody listens on. */
  const noPorts = async () => {
    const snmp = (await lab.run(["ip", "netns", "exec", mn, "cat", "/proc/net/snmp"])).stdout;
    const [names, values] = snmp.split("\n").filter((l) => l.startsWith("Udp:"));
    const index = names!.trim().split(/\s+/).indexOf("NoPorts");
    return Number(values!.trim().split(/\s+/)[index]);
  };

  beforeAll(async () => {
    if (!ok) return;
    lab = new NetnsLab("mpahbt");
    ar = await lab.namespace("gar", { ipv6: false });
    mn = await lab.namespace("gmn", { ipv6: false });
    await lab.veth({ ns: ar, name: "ctn0", cidr: `${AR}/24` }, {
      ns: mn,
      name: "eth0",
      cidr: `${NCOA}/24`,
    });
    child = await lab.spawnDeno(
      ar,
      new URL("../../fixtures/tunnel/_ar_glue_child.ts", import.meta.url),
    );
    await child.request("setup", { ctnInterface: "ctn0", nCoA: NCOA });
  }, 60_000);

  afterAll(async () => {
    await lab?.dispose();
  }, 30_000);

  it.skipIf(!ok)(
    `${SKIP}: a packet flushed during the host route's removal waits for it, then goes out on the CTN link`,
    async () => {
      expect(await lab.ip(ar, ["route", "show", `${NCOA}/32`])).toContain("dev glu");
      const before = await noPorts();
      await child.request("race", { src: AR, nCoA: NCOA, port: 9 });
      // The MN's stack got it (no listener: counted as NoPorts).
      while ((await noPorts()) === before) await new Promise((r) => setTimeout(r, 10));
      const { glue, delivered } = await child.request<{
        glue: { fromKernel: number; toKernel: number };
        delivered: number;
      }>("stats");
      expect(glue.toKernel).toBe(1);
      expect(glue.fromKernel).toBe(0); // never routed back into the TUN
      expect(delivered).toBe(0);
      expect(await lab.ip(ar, ["route", "show", `${NCOA}/32`])).toBe("");
    },
    30_000,
  );
});
