/**
 * IPv6 pre-configuration through the PHT on loopback, pure protocol (RFC 6252 section
 * 7.3.4, Appendices A and B): the AR's RA through the tunnel, the MN's SLAAC nCoA,
 * the update checked by (stubbed) proactive DAD, duplicates and the RFC 7217 retry,
 * and the MN's link-layer address carried to the AR. The kernel side (real DAD,
 * proxy, neighbour entries) is in pht_ipv6_netns.test.ts.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import {
  arIpv6Autoconf,
  openIpv6AutoconfTunnel,
} from "../../../adapters/tunnel/ipv6_autoconf_glue.ts";
import {
  PhtAr,
  type PhtArIpv6Autoconf,
  type PhtArOptions,
  type PhtArTunnel,
} from "../../../adapters/tunnel/pht_ar.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { interfaceAddress, stableInterfaceId } from "../../../lib/autoconf/slaac.ts";
import { importMnArKey } from "../../../lib/keys/pht_keys.ts";
import { PortError } from "../../../lib/ports.ts";
import { buildIcmpv6Packet } from "../../../lib/wire/ip_packet.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => 7 + i);
const SESSION = 42;
const PREFIX = "2001:db8:2::";
const EUI64 = new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b]);
const MAC = new Uint8Array([2, 0, 0, 0, 0, 0x0b]);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Bed {
  readonly ar: PhtAr;
  readonly mn: PhtTunnelManager;
  readonly key: CryptoKey;
  readonly ups: PhtArTunnel[];
  readonly deleted: PhtArTunnel[];
  readonly checked: string[];
  readonly received: Uint8Array[];
  readonly endpoints: { oCoA: string; ar: { address: string; port: number } };
}

/** An AR offering autoconf with DAD stubbed by `verdict`, and an MN. */
async function bed(
  verdict: (nCoA: string) => "unique" | "duplicate" = () => "unique",
  extra: Partial<PhtArOptions> & { readonly ra?: PhtArIpv6Autoconf["routerAdvertisement"] } = {},
): Promise<Bed> {
  const ups: PhtArTunnel[] = [];
  const deleted: PhtArTunnel[] = [];
  const checked: string[] = [];
  const received: Uint8Array[] = [];
  const hooks = await arIpv6Autoconf({
    ctnInterface: "lo",
    prefix: PREFIX,
    arLinkLocal: "fe80::1",
    arMac: new Uint8Array([2, 0, 0, 0, 0, 1]),
    mtu: 1400,
  });
  const ar = await PhtAr.listen({
    listen: { address: "127.0.0.1", port: 0 },
    keys: (id) => id === SESSION ? RAW : undefined,
    onTunnelUp: (t) => void ups.push(t),
    onTunnelDeleted: (t) => void deleted.push(t),
    onPacket: (_t, p) => void received.push(p),
    ipv6Autoconf: {
      routerAdvertisement: extra.ra ?? ((t) => hooks.routerAdvertisement(t)),
      checkAddress: (_t, nCoA) => {
        checked.push(nCoA);
        return Promise.resolve(verdict(nCoA));
      },
      acceptsAddress: (a) => hooks.acceptsAddress!(a),
    },
    ...extra,
  });
  const mn = new PhtTunnelManager({ sessionId: () => SESSION, timeoutMs: 300, retries: 2 });
  cleanup.push(() => ar.close(), () => mn[Symbol.asyncDispose]());
  return {
    ar,
    mn,
    key: await importMnArKey(RAW),
    ups,
    deleted,
    checked,
    received,
    endpoints: { oCoA: "127.0.0.1", ar: { address: "127.0.0.1", port: ar.address.port } },
  };
}

/** An ICMPv6 echo request from `source`, as the MN's kernel would send it. */
function echo(source: string): Uint8Array {
  return buildIcmpv6Packet({
    source,
    destination: "2001:db8:9::2",
    message: new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]),
  });
}

describe("IPv6 autoconf through the PHT (RFC 6252 section 7.3.4, Appendix A)", () => {
  it("section 7.3.4: the AR's RA comes through the tunnel with the create-ack, the MN forms its nCoA by SLAAC, the update is accepted and routed", async () => {
    const b = await bed();
    const r = await openIpv6AutoconfTunnel(b.mn, "ctn-b", b.endpoints, b.key, {
      interfaceId: () => EUI64,
      linkLayerAddress: MAC,
    });
    // The RA sent right after the create-ack was held until the keys existed: no RS.
    expect(r.solicitations).toBe(0);
    expect(r.lease).toMatchObject({
      nCoA: "2001:db8:2::ff:fe00:b",
      prefixLength: 64,
      router: "fe80::1",
      method: "ra",
    });
    expect(r.handle.endpoints.nCoA).toBe("2001:db8:2::ff:fe00:b");
    expect(r.attempts).toEqual([{ nCoA: "2001:db8:2::ff:fe00:b", status: "assigned" }]);
    expect(r.timings.tunnelUpMs).toBeLessThanOrEqual(r.timings.raMs);
    expect(r.timings.raMs).toBeLessThanOrEqual(r.timings.assignedMs);
    // Appendix A: DAD ran for exactly the address, and the route came only after it.
    expect(b.checked).toEqual(["2001:db8:2::ff:fe00:b"]);
    expect(b.ups.map((t) => t.nCoA)).toEqual(["2001:db8:2::ff:fe00:b"]);
    expect(b.ups[0]).toMatchObject({ autoconf: true, linkLayerAddress: "02:00:00:00:00:0b" });
    expect(b.ar.stats()).toMatchObject({
      routerAdvertisements: 1,
      routerSolicitations: 0,
      addressesAssigned: 1,
      duplicates: 0,
    });
    // Data from the nCoA now passes the AR's source check, and the AR routes to it.
    await b.mn.send(r.handle, echo(r.lease.nCoA));
    await until(() => b.received.length === 1);
    expect(b.ar.deliver(echo("2001:db8:9::2").map((x, i) => i >= 24 && i < 40 ? 0 : x)))
      .toBe("no-tunnel");
    const toMn = buildIcmpv6Packet({
      source: "2001:db8:9::2",
      destination: r.lease.nCoA,
      message: new Uint8Array([128, 0, 0, 0, 0, 1, 0, 2]),
    });
    expect(b.ar.deliver(toMn)).toBe("tunnelled");
  });

  it("section 7.3.4: before the update the tunnel routes nothing and refuses inner packets", async () => {
    const b = await bed();
    const handle = await b.mn.open("ctn-b", { ...b.endpoints, nCoA: "::" }, b.key, {
      interfaceId: EUI64,
    });
    expect(b.ar.tunnels()).toMatchObject([{ nCoA: "::", autoconf: true }]);
    expect(b.ups).toEqual([]);
    await b.mn.send(handle, echo("2001:db8:2::ff:fe00:b"));
    await until(() => b.ar.stats().spoofed === 1);
    expect(b.received).toEqual([]);
    // The RA is there for the taking, addressed to the MN's link-local address.
    const ra = await b.mn.receive(handle, (p) => p[40] === 134);
    expect(ra[7]).toBe(255);
    expect(Array.from(ra.subarray(24, 40))).toEqual([0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...EUI64]);
  });

  it("section 7.3.4: an RA that does not arrive is solicited through the tunnel (RFC 4861 section 6.2.6)", async () => {
    const raHooks = await arIpv6Autoconf({
      ctnInterface: "lo",
      prefix: PREFIX,
      arLinkLocal: "fe80::1",
      arMac: new Uint8Array(6),
    });
    let calls = 0;
    const b = await bed(() => "unique", {
      ra: (t) => {
        calls++;
        if (calls === 1) throw new Error("first RA lost");
        return raHooks.routerAdvertisement(t);
      },
    });
    const r = await openIpv6AutoconfTunnel(b.mn, "ctn-b", b.endpoints, b.key, {
      interfaceId: () => EUI64,
      raTimeoutMs: 100,
    });
    expect(r.solicitations).toBe(1);
    expect(b.ar.stats()).toMatchObject({ routerSolicitations: 1, routerAdvertisements: 1 });
    expect(r.lease.nCoA).toBe("2001:db8:2::ff:fe00:b");
  });

  it("Appendix A: a duplicate is refused and the MN forms another identifier (RFC 7217 section 6)", async () => {
    const secret = new Uint8Array(16).fill(0x42);
    const iid = (prefix: string, dadCounter: number) =>
      stableInterfaceId({ secret, prefix, netIface: "eth0", dadCounter });
    const taken = new Set<string>();
    const b = await bed((nCoA) => taken.has(nCoA) ? "duplicate" : "unique");
    // The address of DAD_Counter 0 is already on the CTN link.
    const firstAddress = interfaceAddress(PREFIX, await iid(PREFIX, 0));
    taken.add(firstAddress);
    const r = await openIpv6AutoconfTunnel(b.mn, "ctn-b", b.endpoints, b.key, {
      interfaceId: iid,
    });
    expect(r.attempts.map((a) => a.status)).toEqual(["duplicate", "assigned"]);
    expect(r.attempts[0]!.nCoA).toBe(firstAddress);
    expect(r.dadCounter).toBe(1);
    expect(r.lease.nCoA).not.toBe(firstAddress);
    expect(b.ar.stats().duplicates).toBe(1);
    expect(b.ups.map((t) => t.nCoA)).toEqual([r.lease.nCoA]);
  });

  it("Appendix A: when every identifier is a duplicate the MN gives up and deletes the tunnel", async () => {
    const b = await bed(() => "duplicate");
    const e = await openIpv6AutoconfTunnel(b.mn, "ctn-b", b.endpoints, b.key, {
      interfaceId: () => EUI64,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PortError);
    expect(e).toMatchObject({ code: "rejected" });
    expect(b.checked.length).toBe(4); // DAD_Counter 0 and IDGEN_RETRIES = 3 more
    await until(() => b.ar.tunnels().length === 0);
    expect(b.ups).toEqual([]);
    expect(b.deleted).toEqual([]); // a tunnel that never had an nCoA needs no cleanup
  });

  it("refuses autoconf at an AR that does not offer it, an address outside the prefix, and a mismatched create", async () => {
    const plain = await PhtAr.listen({
      listen: { address: "127.0.0.1", port: 0 },
      keys: () => RAW,
    });
    cleanup.push(() => plain.close());
    const mn = new PhtTunnelManager({ sessionId: () => SESSION, timeoutMs: 300, retries: 1 });
    cleanup.push(() => mn[Symbol.asyncDispose]());
    const key = await importMnArKey(RAW);
    const ar = { address: "127.0.0.1", port: plain.address.port };
    await expect(
      mn.open("ctn-b", { oCoA: "127.0.0.1", nCoA: "::", ar }, key, { interfaceId: EUI64 }),
    ).rejects.toMatchObject({ code: "rejected", message: expect.stringContaining("bad request") });
    await expect(mn.open("ctn-b", { oCoA: "127.0.0.1", nCoA: "::", ar }, key))
      .rejects.toMatchObject({ code: "protocol" });

    const b = await bed();
    const handle = await b.mn.open("ctn-b", { ...b.endpoints, nCoA: "::" }, b.key, {
      interfaceId: EUI64,
    });
    await expect(b.mn.assignAddress(handle, "2001:db8:3::b")).rejects.toMatchObject({
      code: "rejected",
    });
    await expect(b.mn.assignAddress(handle, "fe80::b")).rejects.toMatchObject({
      code: "rejected",
    });
    expect(b.checked).toEqual([]);
    const ok = await b.mn.assignAddress(handle, "2001:db8:2::b");
    expect(ok.status).toBe("assigned");
    // Once assigned, the same address is acknowledged again, another one refused.
    expect((await b.mn.assignAddress(handle, "2001:db8:2::b")).status).toBe("assigned");
    await expect(b.mn.assignAddress(handle, "2001:db8:2::c")).rejects.toMatchObject({
      code: "rejected",
    });
    expect(b.checked).toEqual(["2001:db8:2::b"]);
  });
});

describe("the MN's link-layer address through the PHT (RFC 6252 Appendix B)", () => {
  it("Appendix B: the MAC sent in an IPv4 create reaches the AR's hooks, also at the delete", async () => {
    const b = await bed();
    const handle = await b.mn.open("ctn-b", { ...b.endpoints, nCoA: "10.0.2.50" }, b.key, {
      linkLayerAddress: MAC,
    });
    expect(b.ups).toMatchObject([
      { nCoA: "10.0.2.50", autoconf: false, linkLayerAddress: "02:00:00:00:00:0b" },
    ]);
    expect(b.ar.tunnels()[0]?.linkLayerAddress).toBe("02:00:00:00:00:0b");
    await b.mn.close(handle);
    expect(b.deleted).toMatchObject([
      { nCoA: "10.0.2.50", linkLayerAddress: "02:00:00:00:00:0b" },
    ]);
  });

  it("Appendix B: an update changes the MAC of a tunnel without touching its nCoA", async () => {
    const b = await bed();
    const handle = await b.mn.open("ctn-b", { ...b.endpoints, nCoA: "10.0.2.51" }, b.key);
    expect(b.ar.tunnels()[0]?.linkLayerAddress).toBeUndefined();
    const r = await b.mn.assignAddress(handle, "10.0.2.51", { linkLayerAddress: MAC });
    expect(r.status).toBe("assigned");
    expect(b.ar.tunnels()[0]).toMatchObject({
      nCoA: "10.0.2.51",
      linkLayerAddress: "02:00:00:00:00:0b",
    });
    expect(b.checked).toEqual([]); // no DAD for an address that does not change
    expect(b.ups.length).toBe(1);
  });
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
