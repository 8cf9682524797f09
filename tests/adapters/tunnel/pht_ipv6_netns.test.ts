/**
 * End to end, through the kernel (RFC 6252 section 7.3.4, Appendices A and B): the
 * testbed of tests/fixtures/tunnel/_pht_topology.ts with IPv6, the MN, AR and CN as
 * Deno children in their namespaces, TUN devices at both ends.
 *
 * (A) IPv6: the MN gets its nCoA by SLAAC from the AR's RA sent through the PHT; the
 * AR's real DAD on the CTN link refuses the address a squatter already holds there,
 * the MN forms the next RFC 7217 identifier, the AR finds that one unique and
 * installs route and neighbour proxy; a ping6 from the CN reaches the MN through the
 * tunnel; after the switch the MN adds the nCoA as optimistic and the CN's ping6 gets
 * through at once. (B) IPv4: the MN's MAC, sent in the create, is the AR's neighbour
 * entry for the nCoA right after the delete, before any ARP.
 *
 * Needs root and /dev/net/tun; skipped otherwise (runs in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { interfaceAddress, stableInterfaceId } from "../../../lib/autoconf/slaac.ts";
import { fromHex } from "../../../lib/wire/_bytes.ts";
import { canUseNetns } from "../../fixtures/netns/netns_lab.ts";
import type { JsonLineChild } from "../../fixtures/netns/json_line_child.ts";
import {
  ADDR,
  ADDR6,
  buildPhtTestbed,
  PHT_PORT,
  type PhtTestbed,
  TEST_KEY_HEX,
  TEST_SESSION_ID,
} from "../../fixtures/tunnel/_pht_topology.ts";

const ok = canUseNetns({ tun: true });
const SKIP = "needs root and /dev/net/tun (runs in CI)";
const SECRET_HEX = "6d70612d7266633732313720736563726574"; // 18 bytes
const FIXTURES = new URL("../../fixtures/tunnel/", import.meta.url);

interface AutoconfReply {
  lease: { nCoA: string; router?: string; prefixLength: number };
  attempts: { nCoA: string; status: string }[];
  dadCounter: number;
  solicitations: number;
  timings: { tunnelUpMs: number; raMs: number; assignedMs: number };
  mac: number[];
}

interface Neigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

async function spawn(bed: PhtTestbed) {
  const [ar, mn, cn] = await Promise.all([
    bed.lab.spawnDeno(bed.ns.ar, new URL("_ar.ts", FIXTURES)),
    bed.lab.spawnDeno(bed.ns.mn, new URL("_mn.ts", FIXTURES)),
    bed.lab.spawnDeno(bed.ns.cn, new URL("_cn.ts", FIXTURES)),
  ]);
  return { ar, mn, cn };
}

function mac(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

describe("IPv6 pre-configuration through the PHT in network namespaces (RFC 6252 section 7.3.4, Appendix A)", () => {
  let bed: PhtTestbed;
  let ar: JsonLineChild;
  let mn: JsonLineChild;
  let squatted = "";
  let got: AutoconfReply;

  beforeAll(async () => {
    if (!ok) return;
    bed = await buildPhtTestbed("mpav6a", { ipv6: true, squatter: true });
    ({ ar, mn } = await spawn(bed));
    // The address the MN's first RFC 7217 identifier gives is already on the CTN link.
    const iid = await stableInterfaceId({
      secret: fromHex(SECRET_HEX),
      prefix: ADDR6.ctnPrefix,
      netIface: "eth0",
      dadCounter: 0,
    });
    squatted = interfaceAddress(ADDR6.ctnPrefix, iid);
    await bed.lab.ip(bed.ns.host!, ["-6", "addr", "add", `${squatted}/64`, "dev", "eth0", "nodad"]);
    await ar.request("setup", {
      listen: ADDR.arCtn,
      port: PHT_PORT,
      sessionId: TEST_SESSION_ID,
      keyHex: TEST_KEY_HEX,
      ctnInterface: "cellb",
      detectAttachment: false,
      ipv6Prefix: ADDR6.ctnPrefix,
    });
    got = await mn.request<AutoconfReply>("setupAutoconf", {
      ctn: "ctn-b",
      sessionId: TEST_SESSION_ID,
      keyHex: TEST_KEY_HEX,
      oCoA: ADDR.oCoA,
      ar: ADDR.arCtn,
      arPort: PHT_PORT,
      dev: "eth0",
      secretHex: SECRET_HEX,
    }, 30_000);
  }, 60_000);

  afterAll(async () => {
    await bed?.lab.dispose();
  }, 20_000);

  it.skipIf(!ok)(
    `${SKIP}: section 7.3.4 - the MN forms its nCoA by SLAAC from the RA sent through the PHT; Appendix A - the AR's DAD refuses the squatted address, accepts the next`,
    async () => {
      expect(got.attempts).toEqual([
        { nCoA: squatted, status: "duplicate" },
        { nCoA: got.lease.nCoA, status: "assigned" },
      ]);
      expect(got.dadCounter).toBe(1);
      expect(got.lease.nCoA.startsWith("2001:db8:2:")).toBe(true);
      expect(got.lease.router).toMatch(/^fe80:/);
      const stats = await ar.request<{
        pht: Record<string, number>;
        dadRuns: { nCoA: string; status: string; durationMs: number }[];
      }>("stats");
      expect(stats.dadRuns.map((r) => [r.nCoA, r.status])).toEqual([
        [squatted, "duplicate"],
        [got.lease.nCoA, "unique"],
      ]);
      expect(stats.pht.duplicates).toBe(1);
      expect(stats.pht.addressesAssigned).toBe(1);
      console.info(
        `IPv6 nCoA through the PHT: tunnel up ${got.timings.tunnelUpMs.toFixed(1)} ms, ` +
          `RA ${got.timings.raMs.toFixed(1)} ms, usable nCoA ${
            got.timings.assignedMs.toFixed(1)
          } ms after the create (2 DAD runs: ${
            stats.dadRuns.map((r) => `${r.status} ${r.durationMs.toFixed(0)} ms`).join(", ")
          }), ${got.solicitations} solicitations`,
      );
      // Route and neighbour proxy for the unique address only.
      const state = await ar.request<
        { routes6: { dst: string; dev: string }[]; proxies6: Neigh[] }
      >(
        "kernelState",
        { ctnInterface: "cellb" },
      );
      expect(state.routes6).toContainEqual(
        expect.objectContaining({ dst: got.lease.nCoA, dev: expect.stringMatching(/^pht\d+$/) }),
      );
      expect(state.proxies6.map((p) => p.dst)).toEqual([got.lease.nCoA]);
    },
  );

  it.skipIf(!ok)(
    `${SKIP}: section 6.3 step 3 - a ping6 from the CN to the SLAAC nCoA reaches the MN through the tunnel`,
    async () => {
      const ping = await bed.lab.exec(bed.ns.cn, [
        "ping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "3",
        got.lease.nCoA,
      ], { check: false });
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
      const s = await ar.request<{ glue: { deliver: Record<string, number> } }>("stats");
      expect(s.glue.deliver.tunnelled ?? 0).toBeGreaterThanOrEqual(3);
    },
    20_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: Appendix A, B - after the switch the nCoA is optimistic on the MN's interface and the CN's first ping6 gets through at once`,
    async () => {
      await mn.request("close");
      // Appendix B: the proxy gave way to the MN's own MAC, before any NS.
      const deleted = await ar.request<{ proxies6: Neigh[]; neigh6: Neigh[] }>("kernelState", {
        ctnInterface: "cellb",
      });
      expect(deleted.proxies6).toEqual([]);
      expect(deleted.neigh6).toContainEqual(
        expect.objectContaining({ dst: got.lease.nCoA, lladdr: mac(got.mac) }),
      );
      await bed.switchLink(0);
      const attached = await mn.request<{
        result: { mode: string };
        flags: { optimistic?: boolean; tentative?: boolean };
      }>("attachIpv6", { dev: "eth0" });
      expect(attached.result.mode).toBe("optimistic");
      expect(attached.flags).toMatchObject({ optimistic: true });
      // One echo, no retry: usable while its DAD still runs (RFC 4429).
      const ping = await bed.lab.exec(bed.ns.cn, [
        "ping",
        "-6",
        "-c",
        "1",
        "-W",
        "2",
        got.lease.nCoA,
      ], { check: false });
      expect(ping.stdout).toMatch(/1 packets transmitted, 1 received/);
    },
    20_000,
  );
});

describe("address resolution learned in advance through the PHT (RFC 6252 Appendix B)", () => {
  let bed: PhtTestbed;
  let ar: JsonLineChild;
  let mn: JsonLineChild;

  beforeAll(async () => {
    if (!ok) return;
    bed = await buildPhtTestbed("mpav6b");
    ({ ar, mn } = await spawn(bed));
    await ar.request("setup", {
      listen: ADDR.arCtn,
      port: PHT_PORT,
      sessionId: TEST_SESSION_ID,
      keyHex: TEST_KEY_HEX,
      ctnInterface: "cellb",
    });
    await mn.request("setup", {
      ctn: "ctn-b",
      sessionId: TEST_SESSION_ID,
      keyHex: TEST_KEY_HEX,
      oCoA: ADDR.oCoA,
      nCoA: ADDR.nCoA,
      ar: ADDR.arCtn,
      arPort: PHT_PORT,
      macDev: "eth0",
    });
  }, 40_000);

  afterAll(async () => {
    await bed?.lab.dispose();
  }, 20_000);

  it.skipIf(!ok)(
    `${SKIP}: Appendix B - right after the delete the AR's neighbour table maps the nCoA to the MN's MAC, before any ARP; traffic flows after the switch`,
    async () => {
      const link = JSON.parse(
        await bed.lab.ip(bed.ns.mn, ["-j", "link", "show", "dev", "eth0"]),
      ) as {
        address: string;
      }[];
      const mnMac = link[0]!.address;
      const before = await ar.request<{ neigh: Neigh[] }>("kernelState", { ctnInterface: "cellb" });
      expect(before.neigh.map((n) => n.dst)).not.toContain(ADDR.nCoA);
      await mn.request("close");
      const after = await ar.request<{ neigh: Neigh[]; proxies: Neigh[] }>("kernelState", {
        ctnInterface: "cellb",
      });
      expect(after.proxies).toEqual([]);
      expect(after.neigh).toContainEqual(
        expect.objectContaining({ dst: ADDR.nCoA, lladdr: mnMac, state: ["STALE"] }),
      );
      await bed.switchLink(0);
      await mn.request("assignPhysical", {
        dev: "eth0",
        cidr: `${ADDR.nCoA}/24`,
        gateway: ADDR.arCtn,
      });
      // No pause before the ping. In some local runs (2 of 6) no echo came back for about
      // 2 s after a switch done right after setup, although the AR sent the requests
      // with the pre-installed MAC (cause not found, see the report): poll for up to 5 s.
      let tries = 0;
      let ping = { stdout: "" };
      while (tries < 5 && !/1 received/.test(ping.stdout)) {
        tries++;
        ping = await bed.lab.exec(bed.ns.cn, ["ping", "-c", "1", "-W", "1", ADDR.nCoA], {
          check: false,
        });
      }
      console.info(`Appendix B (IPv4): first echo answered at try ${tries}`);
      expect(ping.stdout).toMatch(/1 packets transmitted, 1 received/);
    },
    20_000,
  );
});
