/**
 * Binding updates through a proactive handover tunnel in user space (RFC 6252
 * sections 6.3 step 3, 7.4, 7.5): a real `PhtTunnelManager` and `PhtAr` on loopback,
 * the MN's UDP on the nCoA carried by `PhtDatagramStack`, and a user-space router
 * behind the AR (tests/fixtures/binding/_user_space_router.ts) that sends the inner
 * datagrams on from the nCoA and hands datagrams for the nCoA back to `PhtAr.deliver`.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { HomeAgent } from "../../../adapters/mobility/home_agent.ts";
import { Mip6Mobility } from "../../../adapters/mobility/mip6_mn.ts";
import { PhtDatagramStack } from "../../../adapters/mobility/pht_datagram_transport.ts";
import { RtpReceiver } from "../../../adapters/mobility/rtp_stream.ts";
import { SipCorrespondent } from "../../../adapters/mobility/sip_cn.ts";
import { SipMobility } from "../../../adapters/mobility/sip_ua.ts";
import { udpTransport } from "../../../adapters/mobility/datagram_transport.ts";
import { PhtAr } from "../../../adapters/tunnel/pht_ar.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { importMnArKey } from "../../../lib/keys/pht_keys.ts";
import type { TunnelHandle } from "../../../lib/ports.ts";
import { buildUdpPacket, parseUdpPacket } from "../../../lib/wire/ip_packet.ts";
import { UserSpaceRouter } from "../../fixtures/binding/_user_space_router.ts";

const OCOA = "127.0.0.1";
const NCOA = "127.0.0.2";
const RAW = Uint8Array.from({ length: 32 }, (_, i) => 40 + i);
const SESSION = 0x0b1d;
const HOME = "10.99.0.1";
const MIP_KEY = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const FAST = { t1Ms: 50, t2Ms: 400, t4Ms: 500 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Pht {
  readonly ar: PhtAr;
  readonly router: UserSpaceRouter;
  readonly manager: PhtTunnelManager;
  readonly handle: TunnelHandle;
  readonly stack: PhtDatagramStack;
}

/** A PHT on loopback with the user-space router behind the AR and the stack on the nCoA. */
async function pht(): Promise<Pht> {
  const router = new UserSpaceRouter();
  cleanups.push(() => router.close());
  const ar = await PhtAr.listen({
    listen: { address: OCOA, port: 0 },
    keys: (id) => id === SESSION ? RAW : undefined,
    onPacket: router.onPacket,
  });
  cleanups.push(() => ar.close());
  router.attach(ar);
  const ref: { stack?: PhtDatagramStack } = {};
  const manager = new PhtTunnelManager({
    sessionId: () => SESSION,
    onPacket: (_t, p) => ref.stack?.onPacket(p),
  });
  cleanups.push(() => manager[Symbol.asyncDispose]());
  const handle = await manager.open("net-b", {
    oCoA: OCOA,
    nCoA: NCOA,
    ar: { address: OCOA, port: ar.address.port },
  }, await importMnArKey(RAW));
  const stack = new PhtDatagramStack(manager, handle);
  ref.stack = stack;
  return { ar, router, manager, handle, stack };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("PhtDatagramStack: UDP on the nCoA through a PHT without TUN (RFC 6252 section 7.4)", () => {
  it("builds the inner UDP packet from the nCoA and dispatches inner packets by port", async () => {
    const sent: Uint8Array[] = [];
    const handle: TunnelHandle = {
      id: "pht-1",
      ctn: "b",
      openedAt: 0,
      expiresAt: 1,
      endpoints: { oCoA: "192.0.2.10", nCoA: "198.51.100.50", ar: { address: "198.51.100.1" } },
    };
    const stack = new PhtDatagramStack(
      { send: (_h, p) => Promise.resolve(void sent.push(p)) },
      handle,
    );
    const a = await stack.bind({ address: "198.51.100.50", port: 5060 });
    const got: [string, string, number][] = [];
    a.onMessage((bytes, from) =>
      got.push([new TextDecoder().decode(bytes), from.address, from.port])
    );
    await a.send(new TextEncoder().encode("hello"), { address: "203.0.113.9", port: 7 });
    const out = parseUdpPacket(sent[0]!);
    expect([out.source, out.sourcePort, out.destination, out.destinationPort]).toEqual([
      "198.51.100.50",
      5060,
      "203.0.113.9",
      7,
    ]);
    const reply = (port: number, destination = "198.51.100.50") =>
      buildUdpPacket({
        source: "203.0.113.9",
        destination,
        sourcePort: 7,
        destinationPort: port,
        payload: new TextEncoder().encode("back"),
      });
    expect(stack.onPacket(reply(5060))).toBe(true);
    expect(stack.onPacket(reply(5061))).toBe(false);
    expect(stack.onPacket(reply(5060, "198.51.100.51"))).toBe(false);
    expect(stack.onPacket(new Uint8Array([0x45, 0, 0]))).toBe(false);
    expect(got).toEqual([["back", "203.0.113.9", 7]]);
    expect(stack.stats()).toEqual({
      sent: 1,
      delivered: 1,
      notUdp: 1,
      wrongAddress: 1,
      noListener: 1,
      sendErrors: 0,
    });
    await expect(stack.bind({ address: "198.51.100.50", port: 5060 })).rejects.toThrow(
      /EADDRINUSE/,
    );
    await expect(stack.bind({ address: "192.0.2.10", port: 0 })).rejects.toThrow(/EADDRNOTAVAIL/);
    await a.close();
    await expect(a.send(new Uint8Array(1), { address: "203.0.113.9", port: 7 })).rejects.toThrow(
      /closed/,
    );
    const again = await stack.bind({ address: "198.51.100.50", port: 5060 });
    expect(again.local).toEqual({ address: "198.51.100.50", port: 5060 });
    // Ephemeral ports come from 49152-65535 and are not reused while bound.
    const e1 = await stack.bind({ address: "198.51.100.50", port: 0 });
    const e2 = await stack.bind({ address: "198.51.100.50", port: 0 });
    expect(e1.local.port).toBeGreaterThanOrEqual(49152);
    expect(e2.local.port).not.toBe(e1.local.port);
  });

  it("reports a send the tunnel refuses", async () => {
    const handle: TunnelHandle = {
      id: "pht-9",
      ctn: "b",
      openedAt: 0,
      expiresAt: 1,
      endpoints: { oCoA: "192.0.2.10", nCoA: "198.51.100.50", ar: { address: "198.51.100.1" } },
    };
    const stack = new PhtDatagramStack(
      { send: () => Promise.reject(new Error("No open PHT: pht-9")) },
      handle,
    );
    const t = await stack.bind({ address: "198.51.100.50", port: 0 });
    await expect(t.send(new Uint8Array(4), { address: "203.0.113.9", port: 9 })).rejects.toThrow(
      /No open PHT/,
    );
    expect(stack.stats().sendErrors).toBe(1);
  });
});

describe("Binding updates through a PHT in user space on loopback (RFC 6252 sections 6.3 step 3, 7.5)", () => {
  it("SIP: the re-INVITE from the nCoA travels through the PHT and the RTP stream follows it into the tunnel", async () => {
    const p = await pht();
    const cn = await SipCorrespondent.listen({
      listen: { address: OCOA, port: 0 },
      stream: { packetsPerSecond: 100 },
    });
    cleanups.push(() => cn.close());
    const rxOld = await RtpReceiver.listen({ address: OCOA, port: 0 });
    cleanups.push(() => rxOld.close());
    const mediaPort = rxOld.local.port;
    // The stream to the nCoA reaches the AR (route nCoA/32 into the tunnel) ...
    await p.router.capture(NCOA, mediaPort);
    // ... and the MN's stack delivers it to the receiver on nCoA:mediaPort.
    const rxNew = new RtpReceiver();
    rxNew.attach(await p.stack.bind({ address: NCOA, port: mediaPort }));
    const mn = new SipMobility({
      aor: "sip:mn@example.org",
      localAddress: OCOA,
      mediaPort,
      correspondent: { ...cn.local, uri: `sip:cn@${OCOA}:${cn.local.port}` },
      transport: p.stack.transportFactory(),
      timers: FAST,
    });
    cleanups.push(() => mn.stop());
    await mn.start();
    await rxOld.waitFor((s) => s.received >= 5);
    const framesBefore = p.manager.stats().packetsSent;

    const result = await mn.bind([NCOA], { tunnel: p.handle });
    expect(result.bound).toEqual([NCOA]);
    expect(mn.local).toEqual({ address: NCOA, port: expect.any(Number) });
    expect(cn.calls()[0]?.media).toEqual({ address: NCOA, port: mediaPort });
    // The re-INVITE and its ACK were sealed into the tunnel; the 200 came back through it.
    expect(p.manager.stats().packetsSent - framesBefore).toBeGreaterThanOrEqual(2);
    await until("the ACK at the AR", () => p.ar.stats().packetsIn >= 2);
    expect(p.stack.stats().delivered).toBeGreaterThanOrEqual(1);
    const timing = mn.timings().at(-1)!;
    expect(timing.reinviteOkAt! - timing.reinviteSentAt!).toBeGreaterThan(0);

    await rxNew.waitFor((s) => s.received >= 10);
    expect(p.ar.stats().packetsOut).toBeGreaterThanOrEqual(10);
    // The RTP stream moved without a hole: the sequence numbers continue across the two
    // receivers (both are in the same process, nothing is lost on loopback).
    const oldHighest = rxOld.stats().highestSequence!;
    const newFirst = rxNew.stats().firstSequence!;
    expect(newFirst).toBeLessThanOrEqual(oldHighest + 1);
    expect(rxNew.stats().lost).toBe(0);
    expect(rxNew.stats().malformed).toBe(0);
  });

  it("Mobile IPv6: c1 direct, then [c1, nCoA] simultaneously through the PHT (both receive), then only the nCoA", async () => {
    const p = await pht();
    const mediaProbe = await udpTransport({ address: OCOA, port: 0 });
    const mediaPort = mediaProbe.local.port;
    await mediaProbe.close();
    const ha = await HomeAgent.listen({
      address: OCOA,
      port: 0,
      keys: (home) => home === HOME ? MIP_KEY : undefined,
      stream: { listenPort: 0, mediaPort, home: HOME },
    });
    cleanups.push(() => ha.close());
    const rxOld = await RtpReceiver.listen({ address: OCOA, port: mediaPort });
    cleanups.push(() => rxOld.close());
    await p.router.capture(NCOA, mediaPort);
    const rxNew = new RtpReceiver();
    rxNew.attach(await p.stack.bind({ address: NCOA, port: mediaPort }));
    const mn = new Mip6Mobility({
      home: HOME,
      homeAgent: { address: OCOA, port: ha.port },
      key: MIP_KEY,
      transport: p.stack.mip6Transport(),
      initialTimeoutMs: 500,
    });
    cleanups.push(() => mn.close());
    const source = await udpTransport({ address: OCOA, port: 0 });
    cleanups.push(() => source.close());
    let seq = 0;
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const rtp = new Uint8Array(172);
        rtp.set([0x80, 0, (seq >> 8) & 0xff, seq & 0xff, 0, 0, 0, 0, 0, 0, 0, 7]);
        seq++;
        await source.send(rtp, { address: OCOA, port: ha.streamPort! });
      }
    };

    expect((await mn.bind([OCOA])).bound).toEqual([OCOA]);
    await burst(5);
    await rxOld.waitFor((s) => s.received >= 5);
    expect(rxNew.stats().received).toBe(0);

    const before = p.manager.stats().packetsSent;
    const both = await mn.bind([OCOA, NCOA], { tunnel: p.handle });
    expect(both.bound).toEqual([OCOA, NCOA]);
    expect(p.manager.stats().packetsSent - before).toBe(1); // the BU, through the PHT
    expect(p.stack.stats().delivered).toBe(1); // its BA, back through the PHT
    await burst(5);
    await rxOld.waitFor((s) => s.received >= 10);
    await rxNew.waitFor((s) => s.received >= 5);

    expect((await mn.bind([NCOA], { tunnel: p.handle })).bound).toEqual([NCOA]);
    await burst(5);
    await rxNew.waitFor((s) => s.received >= 10);
    await until("the last datagrams", () => p.router.stats.delivered >= 10);
    expect(rxOld.stats().received).toBe(10);
    expect(rxNew.stats().received).toBe(10);
    expect(ha.stats.forged).toBe(0);
  });
});
