/**
 * Interop: the MN's proactive DHCP client (RFC 6252 section 7.3.3) against dnsmasq
 * serving the CTN subnet 10.0.2.0/24 in the `mpaca-d-ca` namespace, two routed hops
 * from the MN (`mpaca-d-mn`, oCoA 10.0.1.2), behind the CA's nftables gate. dnsmasq
 * answers the MN-as-relay mode (giaddr = oCoA, replies to giaddr:67; the range is
 * chosen by option 118 since giaddr is in none) with rapid commit (RFC 4039). Needs
 * root, dnsmasq and nft; skipped otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { NftGate } from "../../adapters/dhcp/nft_gate.ts";
import { type DhcpServerProcess, findExecutable, startDnsmasq } from "../fixtures/dhcp/_servers.ts";
import {
  canUseNetns,
  createDhcpTopology,
  type DhcpTopology,
} from "../fixtures/netns_dhcp/_topology.ts";
import { runMnDhcp } from "../fixtures/netns_dhcp/mn_dhcp.ts";

const runnable = canUseNetns() && findExecutable("dnsmasq") !== undefined &&
  findExecutable("nft") !== undefined;

const BASE = {
  server: { address: "10.0.2.2" },
  subnet: "10.0.2.0/24",
  source: "10.0.1.2",
  timeoutMs: 3000,
  retransmitMs: 500,
};

describe.skipIf(!runnable)("proactive DHCP against dnsmasq (RFC 6252 section 7.3.3)", () => {
  let topology: DhcpTopology | undefined;
  let dnsmasq: DhcpServerProcess | undefined;
  let gate: NftGate | undefined;

  beforeAll(async () => {
    topology = await createDhcpTopology("d");
    dnsmasq = await startDnsmasq({
      netns: topology.ca,
      interface: topology.caInterface,
      rapidCommit: true,
    });
    gate = await NftGate.install({ netns: topology.ca });
  }, 30_000);

  afterAll(async () => {
    await gate?.uninstall().catch(() => {});
    await dnsmasq?.stop();
    await topology?.destroy();
  }, 30_000);

  it(
    "needs root, dnsmasq and nft (runs in CI): relay mode with rapid commit, no address before the gate admits the MN, one after",
    async () => {
      const call = {
        call: "acquire",
        mode: "relay",
        ...BASE,
        rapidCommit: true,
        clientIdHex: "01020000000b01",
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
        rapidCommit: true,
        transmissions: 1,
      });
      expect(lease.address).toMatch(/^10\.0\.2\.(1[0-9][0-9])$/);
      console.log(`dhcp-acquire dnsmasq relay: ${Number(lease.elapsedMs).toFixed(1)} ms`);
      expect(await dnsmasq!.leases()).toContain(String(lease.address));
    },
    30_000,
  );

  it(
    "needs root, dnsmasq and nft (runs in CI): relay mode without rapid commit (OFFER, REQUEST, ACK), same address for the same client id",
    async () => {
      await gate!.allow(topology!.mnAddress, 60_000);
      const call = {
        call: "acquire",
        mode: "relay",
        ...BASE,
        clientIdHex: "01020000000b02",
      } as const;
      const first = await runMnDhcp(topology!.mn, call);
      const again = await runMnDhcp(topology!.mn, call);
      expect(first.ok && again.ok).toBe(true);
      if (!first.ok || !again.ok) return;
      expect(first.result).toMatchObject({ rapidCommit: false, transmissions: 2 });
      expect(again.result.address).toBe(first.result.address);
      console.log(
        `dhcp-acquire dnsmasq relay 4-way: ${Number(first.result.elapsedMs).toFixed(1)} ms`,
      );
    },
    30_000,
  );

  it(
    "needs root, dnsmasq and nft (runs in CI): ciaddr mode gets no answer: dnsmasq sends the OFFER to yiaddr:68 on its own link, not to ciaddr",
    async () => {
      await gate!.allow(topology!.mnAddress, 60_000);
      const outcome = await runMnDhcp(topology!.mn, {
        call: "acquire",
        mode: "ciaddr",
        ...BASE,
        timeoutMs: 1500,
        clientIdHex: "01020000000a01",
      });
      expect(outcome).toMatchObject({ ok: false, code: "timeout" });
      expect(dnsmasq!.output()).toMatch(/DHCPOFFER\(\S+\) 10\.0\.2\.\d+ 02:00:00:00:0a:01/);
    },
    30_000,
  );
});
