/**
 * Section 7.2's forwarding alternative for SIP (no simultaneous binding), in user
 * space on loopback: the previous AR runs a `PhtAr`, the MN opens the role-swapped PHT
 * from its new address (outer) for its old address (inner); the correspondent's RTP
 * stream, still sent to the old address, reaches the MN through that tunnel until the
 * re-INVITE from the new network moves it. The previous network's routing is the
 * user-space router of tests/fixtures/binding/_user_space_router.ts: the old
 * address's datagrams go into the tunnel while there is one, else onto the old link.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { udpTransport } from "../../../adapters/mobility/datagram_transport.ts";
import { PhtDatagramStack } from "../../../adapters/mobility/pht_datagram_transport.ts";
import { RtpReceiver } from "../../../adapters/mobility/rtp_stream.ts";
import { SipCorrespondent } from "../../../adapters/mobility/sip_cn.ts";
import { SipMobility } from "../../../adapters/mobility/sip_ua.ts";
import { startTransientForwarding } from "../../../adapters/mobility/transient_forwarding.ts";
import { PhtAr } from "../../../adapters/tunnel/pht_ar.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { importMnArKey } from "../../../lib/keys/pht_keys.ts";
import { UserSpaceRouter } from "../../fixtures/binding/_user_space_router.ts";

const CN = "127.0.0.1";
const NEW = "127.0.0.2";
const OLD = "127.0.0.3";
const RAW = Uint8Array.from({ length: 32 }, (_, i) => 7 * i);
const SESSION = 0x70a2;
const FAST = { t1Ms: 50, t2Ms: 400, t4Ms: 500 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function previousAr(router: UserSpaceRouter, lifetime?: number): Promise<PhtAr> {
  const par = await PhtAr.listen({
    listen: { address: CN, port: 0 },
    keys: (id) => id === SESSION ? RAW : undefined,
    onPacket: router.onPacket,
    ...(lifetime === undefined ? {} : { maxLifetimeMs: lifetime }),
  });
  cleanups.push(() => par.close());
  router.attach(par);
  return par;
}

async function freePort(address: string): Promise<number> {
  const t = await udpTransport({ address, port: 0 });
  const port = t.local.port;
  await t.close();
  return port;
}

describe("Transient forwarding by the previous network (RFC 6252 section 7.2, second solution)", () => {
  it("the stream to the old address reaches the MN through the reverse PHT until the re-INVITE from the new network, with no loss", async () => {
    const router = new UserSpaceRouter();
    cleanups.push(() => router.close());
    const par = await previousAr(router);
    const mediaPort = await freePort(OLD);
    const rx = new RtpReceiver();
    const via = { oldLink: 0, tunnel: 0, newLink: 0, lostOnOldLink: 0 };
    let attached = true;
    // The old link: the connected route of the previous AR, used while no tunnel exists.
    await router.capture(OLD, mediaPort, (payload, from) => {
      if (!attached) via.lostOnOldLink++;
      else {
        via.oldLink++;
        rx.record(payload, from);
      }
    });
    const direct = await udpTransport({ address: NEW, port: mediaPort });
    cleanups.push(() => direct.close());
    direct.onMessage((payload, from) => {
      via.newLink++;
      rx.record(payload, from);
    });

    const cn = await SipCorrespondent.listen({ listen: { address: CN, port: 0 } });
    cleanups.push(() => cn.close());
    const mn = new SipMobility({
      aor: "sip:mn@example.org",
      localAddress: OLD,
      mediaPort,
      correspondent: { ...cn.local, uri: `sip:cn@${CN}:${cn.local.port}` },
      timers: FAST,
    });
    cleanups.push(() => mn.stop());
    expect(mn.multipleCoAs).toBe(false); // hence section 7.2's second solution
    await mn.start();
    await rx.waitFor((s) => s.received >= 10);

    // The MN is in the new network: it asks the previous AR to forward the old address.
    const ref: { stack?: PhtDatagramStack } = {};
    const early: Uint8Array[] = [];
    const manager = new PhtTunnelManager({
      sessionId: (network) => network === "previous" ? SESSION : undefined,
      onPacket: (_t, p) => ref.stack === undefined ? early.push(p) : ref.stack.onPacket(p),
    });
    cleanups.push(() => manager[Symbol.asyncDispose]());
    const forwarding = await startTransientForwarding(manager, {
      previousAr: { address: CN, port: par.address.port },
      oldAddress: OLD,
      newAddress: NEW,
      key: await importMnArKey(RAW),
      lifetimeMs: 10_000,
    });
    expect(forwarding.tunnel.endpoints).toEqual({
      oCoA: NEW,
      nCoA: OLD,
      ar: { address: CN, port: par.address.port },
    });
    expect(par.tunnels()).toEqual([
      expect.objectContaining({
        oCoA: NEW,
        nCoA: OLD,
        peer: expect.objectContaining({ address: NEW }),
      }),
    ]);
    const stack = new PhtDatagramStack(manager, forwarding.tunnel);
    ref.stack = stack;
    expect(stack.address).toBe(OLD);
    const forwarded = await stack.bind({ address: OLD, port: mediaPort });
    forwarded.onMessage((payload, from) => {
      via.tunnel++;
      rx.record(payload, from);
    });
    for (const p of early.splice(0)) stack.onPacket(p);
    attached = false; // the MN left the old link

    const atMove = rx.stats().received;
    await rx.waitFor((s) => s.received >= atMove + 10);
    expect(via.tunnel).toBeGreaterThanOrEqual(10);

    // The binding update from the new network (section 6.3 step 6).
    await mn.bind([NEW]);
    expect(cn.calls()[0]?.media).toEqual({ address: NEW, port: mediaPort });
    const atBind = rx.stats().received;
    await rx.waitFor((s) => s.received >= atBind + 10);
    expect(await forwarding.stop()).toBe("stopped");
    expect(await forwarding.ended).toBe("stopped");
    expect(par.tunnels()).toEqual([]);
    expect(await forwarding.stop()).toBe("stopped"); // idempotent

    const s = rx.stats();
    expect(via.oldLink).toBeGreaterThanOrEqual(10);
    expect(via.newLink).toBeGreaterThanOrEqual(10);
    expect(via.lostOnOldLink).toBe(0);
    expect(s.lost).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(s.malformed).toBe(0);
    expect(par.stats().packetsOut).toBe(via.tunnel);
  });

  it("ends by itself after its lifetime (section 7.2: time-bound), and the previous AR stops forwarding", async () => {
    const router = new UserSpaceRouter();
    cleanups.push(() => router.close());
    const par = await previousAr(router);
    const manager = new PhtTunnelManager({ sessionId: () => SESSION });
    cleanups.push(() => manager[Symbol.asyncDispose]());
    const forwarding = await startTransientForwarding(manager, {
      previousAr: { address: CN, port: par.address.port },
      oldAddress: OLD,
      newAddress: NEW,
      key: await importMnArKey(RAW),
      lifetimeMs: 150,
      network: "net-a",
    });
    expect(forwarding.tunnel.ctn).toBe("net-a");
    expect(par.tunnels().map((t) => t.nCoA)).toEqual([OLD]);
    expect(await forwarding.ended).toBe("expired");
    expect(par.tunnels()).toEqual([]);
    expect(await forwarding.stop()).toBe("expired");
  });

  it("refuses a lifetime that is not positive, and reports a previous AR without the key", async () => {
    const manager = new PhtTunnelManager({ sessionId: () => SESSION, timeoutMs: 200, retries: 0 });
    cleanups.push(() => manager[Symbol.asyncDispose]());
    const key = await importMnArKey(RAW);
    const base = { previousAr: { address: CN, port: 9 }, oldAddress: OLD, newAddress: NEW, key };
    await expect(startTransientForwarding(manager, { ...base, lifetimeMs: 0 })).rejects.toThrow(
      RangeError,
    );
    const router = new UserSpaceRouter();
    cleanups.push(() => router.close());
    const stranger = await PhtAr.listen({
      listen: { address: CN, port: 0 },
      keys: () => undefined,
    });
    cleanups.push(() => stranger.close());
    await expect(
      startTransientForwarding(manager, {
        ...base,
        previousAr: { address: CN, port: stranger.address.port },
        lifetimeMs: 1000,
      }),
    ).rejects.toMatchObject({ code: "rejected" });
  });
});
