import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { UserSpaceArLink } from "../../../adapters/demo/ar_user_space_link.ts";
import type { PhtAr, PhtArTunnel } from "../../../adapters/tunnel/pht_ar.ts";
import { UdpDatagramTransport } from "../../../adapters/mobility/datagram_transport.ts";
import { buildUdpPacket, parseUdpPacket } from "../../../lib/wire/ip_packet.ts";

const NCOA = "127.88.2.100";
const tunnel = { nCoA: NCOA, sessionId: 7 } as PhtArTunnel;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(verdict = "tunnelled") {
  const delivered: Uint8Array[] = [];
  const events: string[] = [];
  const link = await UserSpaceArLink.open({
    ctn: "b",
    address: "127.88.2.1",
    ports: [40000],
    onEvent: (e) => events.push(`${e.kind}${"why" in e ? `:${e.why}` : ""}`),
  });
  cleanup.push(() => link.close());
  link.attach({ deliver: (p: Uint8Array) => (delivered.push(p), verdict) } as unknown as PhtAr);
  const peer = await UdpDatagramTransport.bind({ address: "127.88.9.1", port: 0 });
  cleanup.push(() => peer.close());
  return { link, delivered, events, peer, hooks: link.hooks() };
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => check() ? resolve() : setTimeout(poll, 2);
    poll();
  });
}

describe("UserSpaceArLink (RFC 6252 sections 7.4, 7.6.1, Appendix B)", () => {
  it("captures datagrams to the nCoA as IPv4/UDP packets for the AR while the tunnel is up", async () => {
    const { link, delivered, events, peer, hooks } = await setup();
    await hooks.onTunnelUp(tunnel);
    expect(events).toEqual(["proxy-up"]);
    await peer.send(new TextEncoder().encode("rtp"), { address: NCOA, port: 40000 });
    await until(() => delivered.length === 1);
    const udp = parseUdpPacket(delivered[0]!);
    expect([udp.source, udp.sourcePort, udp.destination, udp.destinationPort]).toEqual([
      "127.88.9.1",
      peer.local.port,
      NCOA,
      40000,
    ]);
    expect(new TextDecoder().decode(udp.payload)).toBe("rtp");
    expect(link.stats().captured).toEqual({ tunnelled: 1 });
  });

  it("sends the MN's inner packets from nCoA:port, binding that port on demand", async () => {
    const { link, peer, hooks } = await setup();
    await hooks.onTunnelUp(tunnel);
    const got = new Promise<{ address: string; port: number }>((resolve) =>
      peer.onMessage((_b, from) => resolve(from))
    );
    hooks.onPacket(
      tunnel,
      buildUdpPacket({
        source: NCOA,
        destination: "127.88.9.1",
        sourcePort: 5060,
        destinationPort: peer.local.port,
        payload: new TextEncoder().encode("INVITE"),
      }),
    );
    expect(await got).toEqual({ address: NCOA, port: 5060 });
    expect(link.stats().forwarded).toBe(1);
    expect(link.stats().sockets).toBe(2);
  });

  it("closes the nCoA's sockets on the MN's announcement and sends flushed packets on the link", async () => {
    const { link, events, hooks } = await setup();
    await hooks.onTunnelUp(tunnel);
    expect(await link.announce(NCOA)).toBe(true);
    expect(await link.announce(NCOA)).toBe(false);
    expect(link.stats().sockets).toBe(0);
    // The MN binds the nCoA now; the AR's flush reaches it directly.
    const mn = await UdpDatagramTransport.bind({ address: NCOA, port: 40000 });
    cleanup.push(() => mn.close());
    const got = new Promise<string>((resolve) =>
      mn.onMessage((b, from) => resolve(`${new TextDecoder().decode(b)} from ${from.address}`))
    );
    hooks.deliverDirect(
      NCOA,
      buildUdpPacket({
        source: "127.88.9.1",
        destination: NCOA,
        sourcePort: 4000,
        destinationPort: 40000,
        payload: new TextEncoder().encode("held"),
      }),
    );
    expect(await got).toBe("held from 127.88.2.1");
    await until(() => events.includes("flushed"));
    expect(events).toEqual(["proxy-up", "proxy-down:announced", "flushed"]);
  });

  it("counts inner packets it cannot forward instead of throwing", async () => {
    const { link, hooks } = await setup();
    hooks.onPacket(tunnel, new Uint8Array([0x45, 0]));
    hooks.deliverDirect(NCOA, new Uint8Array(3));
    expect(link.stats().dropped).toBe(2);
  });
});
