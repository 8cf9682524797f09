import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { buildNdPacket, parseNdPacket } from "../../../lib/wire/icmpv6.ts";
import { modifiedEui64, parseMacAddress } from "../../../lib/autoconf/slaac.ts";
import { buildRaForTunnel, handleRaFromTunnel } from "../../../adapters/autoconf/ra_over_pht.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const IID = fromHex("000000fffe00000b");
const base = {
  arLinkLocal: "fe80::1",
  prefix: "2001:db8:7::",
  prefixLength: 64,
  validS: 600,
  preferredS: 300,
} as const;

describe("RA over the PHT (RFC 6252 section 7.3.4)", () => {
  it("RFC 4861 section 4.2: the AR's RA: link-local source, ff02::1, Hop Limit 255, L and A flags", () => {
    const p = buildRaForTunnel({ ...base, mtu: 1400, arMac: fromHex("020000000001") });
    expect(p[7]).toBe(255);
    const nd = parseNdPacket(p);
    expect(nd.source).toBe("fe80::1");
    expect(nd.destination).toBe("ff02::1");
    expect(nd.message).toEqual({
      kind: "router-advertisement",
      curHopLimit: 64,
      managed: false,
      other: false,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
      options: [
        { kind: "source-link-layer-address", address: fromHex("020000000001") },
        { kind: "mtu", mtu: 1400 },
        {
          kind: "prefix-information",
          prefixLength: 64,
          onLink: true,
          autonomous: true,
          validLifetime: 600,
          preferredLifetime: 300,
          prefix: "2001:db8:7::",
        },
      ],
    });
  });

  it("may be sent to the MN's link-local address, with RDNSS", () => {
    const p = buildRaForTunnel({
      ...base,
      destination: "fe80::ff:fe00:b",
      dns: ["2001:db8:7::53"],
    });
    expect(parseNdPacket(p).destination).toBe("fe80::ff:fe00:b");
    const lease = handleRaFromTunnel(p, IID, { ctn: "ctn-b", now: 0 });
    expect(lease.dns).toEqual(["2001:db8:7::53"]);
  });

  it("RFC 4862 section 5.5.3: the MN forms the nCoA lease from the RA", () => {
    const p = buildRaForTunnel(base);
    expect(handleRaFromTunnel(p, IID, { ctn: "ctn-b", now: 10_000 })).toEqual({
      ctn: "ctn-b",
      nCoA: "2001:db8:7::ff:fe00:b",
      prefixLength: 64,
      router: "fe80::1",
      dns: [],
      obtainedAt: 10_000,
      lifetimeMs: 600_000,
      expiresAt: 610_000,
      method: "ra",
    });
  });

  it("RFC 4861 section 4.2: no router in the lease when the Router Lifetime is 0", () => {
    const p = buildRaForTunnel({ ...base, routerLifetimeS: 0 });
    expect("router" in handleRaFromTunnel(p, IID, { ctn: "b", now: 0 })).toBe(false);
  });

  it("refuses to build an RA the MN would drop or ignore", () => {
    expect(() => buildRaForTunnel({ ...base, arLinkLocal: "2001:db8:7::1" })).toThrow(
      ProtocolViolationError,
    );
    expect(() => buildRaForTunnel({ ...base, preferredS: 601 })).toThrow(
      "Invalid prefix lifetimes: preferred 601 s above valid 600 s",
    );
  });

  it("refuses tunnel packets that are not a usable RA", () => {
    const ns = buildNdPacket({
      source: "fe80::1",
      destination: "ff02::1:ff00:b",
      message: { kind: "neighbor-solicitation", target: "2001:db8:7::b", options: [] },
    });
    expect(() => handleRaFromTunnel(ns, IID, { ctn: "b", now: 0 })).toThrow(
      "Invalid packet from the tunnel: neighbor-solicitation, not a Router Advertisement",
    );
    const zero = buildRaForTunnel({ ...base, validS: 0, preferredS: 0 });
    expect(() => handleRaFromTunnel(zero, IID, { ctn: "b", now: 0 })).toThrow(
      "Invalid Router Advertisement: no usable prefix: 2001:db8:7::/64: valid lifetime 0",
    );
    const forwarded = buildRaForTunnel(base);
    forwarded[7] = 254;
    expect(() => handleRaFromTunnel(forwarded, IID, { ctn: "b", now: 0 })).toThrow("Hop Limit 254");
    expect(() => handleRaFromTunnel(buildRaForTunnel(base).slice(0, 50), IID, { ctn: "b", now: 0 }))
      .toThrow("Truncated");
  });
});

const hasPython = (() => {
  try {
    return new Deno.Command("python3", {
      args: ["-c", "import socket; socket.AF_PACKET"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/**
 * The Linux kernel as the MN: the RA built here is written as an Ethernet frame on the
 * AR's end of a veth (python3 AF_PACKET), and the kernel's own SLAAC (EUI-64) must form
 * the same address as handleRaFromTunnel with modifiedEui64 of the MN's MAC.
 */
describe.skipIf(!canUseNetns() || !hasPython)("RA accepted by the Linux kernel", () => {
  let lab: NetnsLab;
  let mn = "";
  let ar = "";
  const mnMac = "02:00:00:00:00:0b";

  beforeAll(async () => {
    lab = new NetnsLab(`mpa6ra${Deno.pid}`);
    try {
      mn = await lab.namespace("mn");
      ar = await lab.namespace("ar");
      await lab.veth({ ns: ar, name: "ctn0" }, { ns: mn, name: "wlan0" });
      await lab.ip(mn, ["link", "set", "wlan0", "address", mnMac]);
      await lab.sysctl(mn, {
        "net.ipv6.conf.wlan0.accept_ra": 2,
        "net.ipv6.conf.wlan0.autoconf": 1,
        "net.ipv6.conf.wlan0.addr_gen_mode": 0,
      });
    } catch (e) {
      await lab.dispose();
      throw e;
    }
  });

  afterAll(async () => {
    await lab?.dispose();
  });

  it("needs root and python3 (runs in CI): the kernel forms the nCoA handleRaFromTunnel predicts", async () => {
    const packet = buildRaForTunnel({ ...base, validS: 3600, preferredS: 1800 });
    const expected = handleRaFromTunnel(packet, modifiedEui64(mnMac), { ctn: "b", now: 0 }).nCoA;
    expect(expected).toBe("2001:db8:7::ff:fe00:b");
    const arMac = (JSON.parse(await lab.ip(ar, ["-j", "link", "show", "dev", "ctn0"])) as {
      address: string;
    }[])[0]!
      .address;
    const frame = "333300000001" + hex(parseMacAddress(arMac)) + "86dd" + hex(packet);
    const send = [
      "python3",
      "-c",
      "import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('ctn0', 0)); s.send(bytes.fromhex(sys.argv[1]))",
      frame,
    ];
    let found = false;
    // The MN's link-local DAD must finish before it accepts RAs: resend until it shows.
    for (let i = 0; i < 60 && !found; i++) {
      await lab.exec(ar, send);
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = (await lab.ip(mn, ["-6", "addr", "show", "dev", "wlan0"])).includes(`${expected}/64`);
    }
    expect(found).toBe(true);
    expect(await lab.ip(mn, ["-6", "route", "show", "default"])).toContain("via fe80::1 dev wlan0");
  });
});
