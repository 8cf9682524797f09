/**
 * Interop: the MN's proactive DHCP client (RFC 6252 section 7.3.3) against ISC Kea
 * (`kea-dhcp4`) serving the CTN subnet 10.0.2.0/24 in the `mpaca-k-ca` namespace, two
 * routed hops from the MN (`mpaca-k-mn`, oCoA 10.0.1.2), behind the CA's nftables gate.
 * Needs root, kea-dhcp4 and nft; skipped otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { NftGate } from "../../adapters/dhcp/nft_gate.ts";
import { type DhcpServerProcess, findExecutable, startKea } from "../fixtures/dhcp/_servers.ts";
import {
  canUseNetns,
  createDhcpTopology,
  type DhcpTopology,
} from "../fixtures/netns_dhcp/_topology.ts";
import { runMnDhcp } from "../fixtures/netns_dhcp/mn_dhcp.ts";

const runnable = canUseNetns() && findExecutable("kea-dhcp4") !== undefined &&
  findExecutable("nft") !== undefined;

const BASE = {
  server: { address: "10.0.2.2" },
  subnet: "10.0.2.0/24",
  source: "10.0.1.2",
  timeoutMs: 3000,
  retransmitMs: 500,
};

describe.skipIf(!runnable)("proactive DHCP against Kea (RFC 6252 section 7.3.3)", () => {
  let topology: DhcpTopology | undefined;
  let kea: DhcpServerProcess | undefined;
  let gate: NftGate | undefined;

  beforeAll(async () => {
    topology = await createDhcpTopology("k");
    kea = await startKea({ netns: topology.ca, interface: topology.caInterface });
    gate = await NftGate.install({ netns: topology.ca });
  }, 30_000);

  afterAll(async () => {
    await gate?.uninstall().catch(() => {});
    await kea?.stop();
    await topology?.destroy();
  }, 30_000);

  it(
    "needs root, kea-dhcp4 and nft (runs in CI): ciaddr mode, no address before the gate admits the MN, one after",
    async () => {
      const call = {
        call: "acquire",
        mode: "ciaddr",
        ...BASE,
        clientIdHex: "01020000000a01",
      } as const;
      const refused = await runMnDhcp(topology!.mn, { ...call, timeoutMs: 1500 });
      expect(refused).toMatchObject({ ok: false, code: "timeout" });
      expect(await gate!.dropped()).toBeGreaterThanOrEqual(1);

      await gate!.allow(topology!.mnAddress, 60_000);
      const outcome = await runMnDhcp(topology!.mn, call);
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      const lease = outcome.result;
      expect(lease).toMatchObject({
        mask: "255.255.255.0",
        prefixLength: 24,
        router: "10.0.2.1",
        dns: ["10.0.2.2"],
        leaseTimeS: 600,
        serverId: "10.0.2.2",
        clientId: "01020000000a01",
        rapidCommit: false,
      });
      expect(lease.address).toMatch(/^10\.0\.2\.(1[0-9][0-9])$/);
      console.log(`dhcp-acquire kea ciaddr: ${Number(lease.elapsedMs).toFixed(1)} ms`);
      expect(await kea!.leases()).toContain(String(lease.address));
    },
    30_000,
  );

  it(
    "needs root, kea-dhcp4 and nft (runs in CI): the same client identifier gets the same address again",
    async () => {
      await gate!.allow(topology!.mnAddress, 60_000);
      const call = {
        call: "acquire",
        mode: "ciaddr",
        ...BASE,
        clientIdHex: "01020000000a02",
      } as const;
      const first = await runMnDhcp(topology!.mn, call);
      const again = await runMnDhcp(topology!.mn, call);
      expect(first.ok && again.ok).toBe(true);
      if (!first.ok || !again.ok) return;
      expect(again.result.address).toBe(first.result.address);
    },
    30_000,
  );

  it(
    "needs root, kea-dhcp4 and nft (runs in CI): Kea 2.2 ignores option 80 (no DHCPv4 rapid commit): OFFER then ACK",
    async () => {
      await gate!.allow(topology!.mnAddress, 60_000);
      const outcome = await runMnDhcp(topology!.mn, {
        call: "acquire",
        mode: "ciaddr",
        ...BASE,
        rapidCommit: true,
        clientIdHex: "01020000000a03",
      });
      expect(outcome).toMatchObject({ ok: true, result: { rapidCommit: false } });
    },
    30_000,
  );

  it(
    "needs root, kea-dhcp4 and nft (runs in CI): relay mode works too (giaddr = oCoA, subnet from option 118)",
    async () => {
      await gate!.allow(topology!.mnAddress, 60_000);
      const outcome = await runMnDhcp(topology!.mn, {
        call: "acquire",
        mode: "relay",
        ...BASE,
        clientIdHex: "01020000000b01",
      });
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      expect(outcome.result.address).toMatch(/^10\.0\.2\./);
      console.log(`dhcp-acquire kea relay: ${Number(outcome.result.elapsedMs).toFixed(1)} ms`);
    },
    30_000,
  );
});
