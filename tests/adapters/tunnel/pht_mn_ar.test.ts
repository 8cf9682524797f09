import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { PhtAr, type PhtArOptions, type PhtArTunnel } from "../../../adapters/tunnel/pht_ar.ts";
import { PhtTunnelManager, type PhtTunnelManagerOptions } from "../../../adapters/tunnel/pht_mn.ts";
import { importMnArKey } from "../../../lib/keys/pht_keys.ts";
import { sealPhtData } from "../../../lib/pht/pht_data_seal.ts";
import { PortError, type TunnelHandle } from "../../../lib/ports.ts";
import { decodePhtFrame } from "../../../lib/wire/pht.ts";

const RAW = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
const SESSION = 7;
const NCOA = "10.0.2.50";
const CN = "192.0.2.1";

/** An IPv4/UDP packet of 28 bytes, the id in the IP header and in the payload. */
function ipv4(source: string, destination: string, id: number): Uint8Array {
  const b = new Uint8Array(28);
  b.set([0x45, 0, 0, 28, (id >> 8) & 0xff, id & 0xff, 0, 0, 64, 17, 0, 0]);
  b.set(source.split(".").map(Number), 12);
  b.set(destination.split(".").map(Number), 16);
  b[26] = (id >> 8) & 0xff;
  b[27] = id & 0xff;
  return b;
}
const idOf = (p: Uint8Array) => (p[4]! << 8) | p[5]!;

/** Waits for a condition, polling every 2 ms, failing after 5 s. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A UDP relay between MN and AR that records datagrams and can drop or inject them. */
class Relay {
  readonly front: Socket;
  readonly back: Socket;
  readonly toAr: Uint8Array[] = [];
  dropToAr = false;
  #mn: { address: string; port: number } | undefined;

  private constructor(front: Socket, back: Socket, arPort: number) {
    this.front = front;
    this.back = back;
    front.on("message", (msg, rinfo) => {
      this.#mn = { address: rinfo.address, port: rinfo.port };
      this.toAr.push(Uint8Array.from(msg));
      if (!this.dropToAr) back.send(msg, arPort, "127.0.0.1");
    });
    back.on("message", (msg) => {
      if (this.#mn !== undefined) front.send(msg, this.#mn.port, this.#mn.address);
    });
  }

  static async start(arPort: number): Promise<Relay> {
    const bind = (s: Socket) => new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    const front = createSocket("udp4");
    const back = createSocket("udp4");
    await Promise.all([bind(front), bind(back)]);
    const relay = new Relay(front, back, arPort);
    relay.#arPort = arPort;
    return relay;
  }

  #arPort = 0;

  get port(): number {
    return this.front.address().port;
  }

  /** Sends bytes to the AR as if from the MN's path. */
  inject(bytes: Uint8Array): void {
    this.back.send(bytes, this.#arPort, "127.0.0.1");
  }

  /** Sends bytes to the MN as if from the AR. */
  injectToMn(bytes: Uint8Array): void {
    if (this.#mn !== undefined) this.front.send(bytes, this.#mn.port, this.#mn.address);
  }

  /** The data frames seen so far from MN to AR. */
  dataFrames(): Uint8Array[] {
    return this.toAr.filter((b) => b[1] === 0);
  }

  close(): Promise<void> {
    return Promise.all([
      new Promise<void>((r) => this.front.close(() => r())),
      new Promise<void>((r) => this.back.close(() => r())),
    ]).then(() => {});
  }
}

interface Rig {
  readonly ar: PhtAr;
  readonly mn: PhtTunnelManager;
  readonly relay: Relay;
  readonly arPackets: Uint8Array[];
  readonly mnPackets: Uint8Array[];
  readonly direct: { nCoA: string; packet: Uint8Array }[];
  readonly up: PhtArTunnel[];
  readonly down: { tunnel: PhtArTunnel; reason: string }[];
  readonly deleted: PhtArTunnel[];
  open(): Promise<TunnelHandle>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(
  ar: Partial<PhtArOptions> = {},
  mn: Partial<PhtTunnelManagerOptions> = {},
): Promise<Rig> {
  const arPackets: Uint8Array[] = [];
  const mnPackets: Uint8Array[] = [];
  const direct: { nCoA: string; packet: Uint8Array }[] = [];
  const up: PhtArTunnel[] = [];
  const down: { tunnel: PhtArTunnel; reason: string }[] = [];
  const deleted: PhtArTunnel[] = [];
  const endpoint = await PhtAr.listen({
    listen: { address: "127.0.0.1", port: 0 },
    keys: (id) => (id === SESSION ? RAW : undefined),
    onPacket: (_t, p) => arPackets.push(p),
    onTunnelUp: (t) => void up.push(t),
    onTunnelDown: (tunnel, reason) => void down.push({ tunnel, reason }),
    onTunnelDeleted: (tunnel) => void deleted.push(tunnel),
    deliverDirect: (nCoA, packet) => direct.push({ nCoA, packet }),
    ...ar,
  });
  const relay = await Relay.start(endpoint.address.port);
  const manager = new PhtTunnelManager({
    sessionId: (ctn) => (ctn === "net-b" ? SESSION : undefined),
    onPacket: (_h, p) => mnPackets.push(p),
    timeoutMs: 200,
    ...mn,
  });
  cleanups.push(async () => {
    await manager[Symbol.asyncDispose]();
    await endpoint.close();
    await relay.close();
  });
  const key = await importMnArKey(RAW);
  return {
    ar: endpoint,
    mn: manager,
    relay,
    arPackets,
    mnPackets,
    direct,
    up,
    down,
    deleted,
    open: () =>
      manager.open("net-b", {
        oCoA: "127.0.0.1",
        nCoA: NCOA,
        ar: { address: "127.0.0.1", port: relay.port },
      }, key),
  };
}

describe("PHT between MN and AR over UDP (RFC 6252 sections 6.3 step 2, 7.4)", () => {
  it("opens a tunnel and carries packets both ways, in order", async () => {
    const r = await rig();
    const handle = await r.open();
    expect(handle.ctn).toBe("net-b");
    expect(handle.expiresAt).toBeGreaterThan(handle.openedAt);
    expect(r.up.map((t) => t.nCoA)).toEqual([NCOA]);
    const [tunnel] = r.ar.tunnels();
    expect(tunnel?.sessionId).toBe(SESSION);
    expect(tunnel?.oCoA).toBe("127.0.0.1");

    await Promise.all([...Array(20).keys()].map((i) => r.mn.send(handle, ipv4(NCOA, CN, i))));
    await until("20 packets at the AR", () => r.arPackets.length === 20);
    expect(r.arPackets.map(idOf)).toEqual([...Array(20).keys()]);

    for (let i = 0; i < 20; i++) expect(r.ar.deliver(ipv4(CN, NCOA, 100 + i))).toBe("tunnelled");
    await until("20 packets at the MN", () => r.mnPackets.length === 20);
    expect(r.mnPackets.map(idOf)).toEqual([...Array(20).keys()].map((i) => 100 + i));

    expect(r.ar.deliver(ipv4(CN, "10.0.2.99", 1))).toBe("no-tunnel");
    expect(r.ar.stats()).toMatchObject({ packetsIn: 20, packetsOut: 20, replayed: 0, badAuth: 0 });
    expect(r.mn.stats()).toMatchObject({ packetsSent: 20, packetsReceived: 20, replayed: 0 });
  });

  it("deletes the tunnel on close and calls onTunnelDown with deleted", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.close(handle);
    expect(r.ar.tunnels()).toEqual([]);
    await until("onTunnelDown", () => r.down.length === 1);
    expect(r.down[0]?.reason).toBe("deleted");
    await expect(r.mn.send(handle, ipv4(NCOA, CN, 1))).rejects.toMatchObject({ code: "not-found" });
    await expect(r.mn.close(handle)).rejects.toBeInstanceOf(PortError);
  });

  it("keeps the tunnel alive with automatic refreshes (section 7.2)", async () => {
    const r = await rig({}, { lifetimeMs: 150 });
    const handle = await r.open();
    await until("4 refreshes", () => r.mn.stats().refreshes >= 4);
    expect(r.ar.tunnels().length).toBe(1);
    expect(r.down).toEqual([]);
    expect(r.ar.stats().refreshes).toBeGreaterThanOrEqual(4);
    await r.mn.send(handle, ipv4(NCOA, CN, 1));
    await until("packet after refreshes", () => r.arPackets.length === 1);
  });

  it("expires a tunnel without refresh, releases it and drops later frames as expired (section 7.2)", async () => {
    const r = await rig({}, { lifetimeMs: 40 });
    const handle = await r.open();
    await r.mn.send(handle, ipv4(NCOA, CN, 1));
    await until("packet", () => r.arPackets.length === 1);
    r.ar.deliver(ipv4(CN, NCOA, 2));
    r.relay.dropToAr = true; // refreshes are lost from now on
    await until("expiry", () => r.down.length === 1);
    expect(r.down[0]?.reason).toBe("expired");
    expect(r.ar.tunnels()).toEqual([]);
    expect(r.ar.stats().tunnelsExpired).toBe(1);
    expect(r.ar.deliver(ipv4(CN, NCOA, 3))).toBe("no-tunnel");
    // A valid frame arriving after expiry is dropped and counted.
    r.relay.inject(r.relay.dataFrames()[0]!);
    await until("expired count", () => r.ar.stats().expired === 1);
    expect(r.arPackets.length).toBe(1);
  });

  it("drops a replayed data frame and counts it (RFC 4303 style window)", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.send(handle, ipv4(NCOA, CN, 1));
    await until("packet", () => r.arPackets.length === 1);
    r.relay.inject(r.relay.dataFrames()[0]!);
    await until("replay count", () => r.ar.stats().replayed === 1);
    expect(r.arPackets.length).toBe(1);
  });

  it("drops a replayed management message and counts it", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.probe(handle);
    const probe = r.relay.toAr.find((b) => b[1] === 11)!;
    r.relay.inject(probe);
    await until("replay count", () => r.ar.stats().replayed === 1);
    expect(r.ar.stats().probes).toBe(1);
  });

  it("drops a frame sealed under a wrong key and counts it", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.send(handle, ipv4(NCOA, CN, 1));
    await until("packet", () => r.arPackets.length === 1);
    const tunnelId = r.ar.tunnels()[0]!.id;
    const wrong = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    r.relay.inject(await sealPhtData(wrong, "mn-to-ar", tunnelId, 99n, ipv4(NCOA, CN, 2)));
    await until("bad auth count", () => r.ar.stats().badAuth === 1);
    expect(r.arPackets.length).toBe(1);
    // The forged sequence number did not move the window: 2 is still accepted.
    await r.mn.send(handle, ipv4(NCOA, CN, 3));
    await until("next packet", () => r.arPackets.length === 2);
  });

  it("counts malformed datagrams, unknown tunnels and spoofed inner sources without throwing", async () => {
    const r = await rig();
    const handle = await r.open();
    r.relay.inject(Uint8Array.of(1, 2, 3));
    r.relay.inject(new Uint8Array(40)); // version 0
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    r.relay.inject(await sealPhtData(key, "mn-to-ar", 12345, 1n, ipv4(NCOA, CN, 1)));
    await until("malformed", () => r.ar.stats().malformed === 2);
    await until("unknown tunnel", () => r.ar.stats().unknownTunnel === 1);
    await r.mn.send(handle, ipv4("10.0.2.51", CN, 1)); // not the tunnel's nCoA
    await until("spoofed", () => r.ar.stats().spoofed === 1);
    expect(r.arPackets).toEqual([]);
  });

  it("rejects create for a session the AR has no key for", async () => {
    const r = await rig({ keys: () => undefined });
    await expect(r.open()).rejects.toMatchObject({ name: "PortError", code: "rejected" });
    expect(r.ar.stats().unknownSession).toBe(1);
    expect(r.ar.tunnels()).toEqual([]);
  });

  it("rejects create when the AR holds another MN-AR key (MAC fails, the MN times out)", async () => {
    const r = await rig({ keys: () => new Uint8Array(32) }, { retries: 1, timeoutMs: 30 });
    await expect(r.open()).rejects.toMatchObject({ code: "timeout" });
    await until("2 forged creates counted", () => r.ar.stats().badAuth === 2);
    expect(r.ar.tunnels()).toEqual([]);
  });

  it("fails open with not-found without an SA, protocol for a non-HKDF key, aborted on abort", async () => {
    const r = await rig();
    const endpoints = {
      oCoA: "127.0.0.1",
      nCoA: NCOA,
      ar: { address: "127.0.0.1", port: r.relay.port },
    };
    const key = await importMnArKey(RAW);
    await expect(r.mn.open("net-x", endpoints, key)).rejects.toMatchObject({ code: "not-found" });
    const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    await expect(r.mn.open("net-b", endpoints, aes)).rejects.toMatchObject({ code: "protocol" });
    r.relay.dropToAr = true;
    const controller = new AbortController();
    const opening = r.mn.open("net-b", endpoints, key, { signal: controller.signal });
    controller.abort();
    await expect(opening).rejects.toMatchObject({ code: "aborted" });
  });

  it("answers a reachability probe through the tunnel (section 7.6.3)", async () => {
    const r = await rig();
    const handle = await r.open();
    const rtt = await r.mn.probe(handle);
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(r.ar.stats().probes).toBe(1);
  });
});

describe("PHT buffering at the AR (RFC 6252 section 7.6.1)", () => {
  it("holds 50 packets across close and releases all of them in order when the MN is heard", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.buffer(handle);
    for (let i = 0; i < 50; i++) expect(r.ar.deliver(ipv4(CN, NCOA, i))).toBe("buffered");
    await r.mn.close(handle);
    expect(r.ar.tunnels()).toMatchObject([{ deleted: true, buffered: 50 }]);
    expect(r.down).toEqual([]); // the route stays while the AR holds packets
    // ... but the AR was told at the delete (proxy ARP goes there).
    expect(r.deleted.map((t) => [t.nCoA, t.buffering])).toEqual([[NCOA, true]]);
    expect(r.ar.deliver(ipv4(CN, NCOA, 50))).toBe("buffered");
    expect(r.ar.heardOnLink(NCOA)).toBe(51);
    expect(r.direct.map((d) => d.nCoA)).toEqual(Array(51).fill(NCOA));
    expect(r.direct.map((d) => idOf(d.packet))).toEqual([...Array(51).keys()]);
    expect(r.mnPackets).toEqual([]);
    await until("onTunnelDown", () => r.down.length === 1);
    expect(r.down[0]?.reason).toBe("deleted");
    expect(r.ar.stats()).toMatchObject({
      buffered: 51,
      flushed: 51,
      bufferDropped: { overflow: 0, age: 0 },
    });
  });

  it("flushes through the open tunnel on flush, with the count", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.buffer(handle);
    for (let i = 0; i < 5; i++) r.ar.deliver(ipv4(CN, NCOA, i));
    expect(r.mnPackets).toEqual([]);
    expect(await r.mn.flush(handle)).toBe(5);
    await until("5 packets at the MN", () => r.mnPackets.length === 5);
    expect(r.mnPackets.map(idOf)).toEqual([0, 1, 2, 3, 4]);
    expect(r.ar.deliver(ipv4(CN, NCOA, 5))).toBe("tunnelled"); // buffering ended
  });

  it("flushes straight to the nCoA when flushed after close", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.buffer(handle);
    for (let i = 0; i < 3; i++) r.ar.deliver(ipv4(CN, NCOA, i));
    await r.mn.close(handle);
    expect(await r.mn.flush(handle)).toBe(3);
    expect(r.direct.map((d) => idOf(d.packet))).toEqual([0, 1, 2]);
    expect(r.ar.tunnels()).toEqual([]);
  });

  it("a flush of a deleted tunnel the AR already released on hearing the MN is answered with 0, not refused", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.buffer(handle);
    for (let i = 0; i < 2; i++) r.ar.deliver(ipv4(CN, NCOA, i));
    await r.mn.close(handle);
    expect(r.ar.heardOnLink(NCOA)).toBe(2); // the AR heard the MN first
    expect(r.ar.tunnels()).toEqual([]);
    expect(await r.mn.flush(handle)).toBe(0);
    expect(r.direct.map((d) => idOf(d.packet))).toEqual([0, 1]);
  });

  it("bounds the buffer by count and by age, and counts the drops", async () => {
    let now = 1_000_000;
    const r = await rig({ buffer: { maxPackets: 10, maxAgeMs: 100 }, now: () => now });
    const handle = await r.open();
    await r.mn.buffer(handle);
    for (let i = 0; i < 15; i++) r.ar.deliver(ipv4(CN, NCOA, i));
    expect(r.ar.stats().bufferDropped).toEqual({ overflow: 5, age: 0 });
    now += 50;
    for (let i = 15; i < 18; i++) r.ar.deliver(ipv4(CN, NCOA, i)); // overflow 3 more
    now += 60; // the first batch is 110 ms old, the second 60 ms
    expect(r.ar.heardOnLink(NCOA)).toBe(3);
    expect(r.direct.map((d) => idOf(d.packet))).toEqual([15, 16, 17]);
    expect(r.ar.stats()).toMatchObject({
      buffered: 18,
      flushed: 3,
      bufferDropped: { overflow: 8, age: 7 },
    });
  });
});

describe("PHT copy-and-forward (RFC 6252 section 7.6.2)", () => {
  it("copies packets to the prepared interface and the MN drops the duplicates", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.startCopy(handle);
    for (let i = 0; i < 10; i++) expect(r.ar.deliver(ipv4(CN, NCOA, i))).toBe("copied");
    expect(r.direct.length).toBe(10);
    // The MN receives the direct copies on its prepared interface first (deliver
    // hands them over synchronously), then the tunnelled copies arrive.
    expect(r.direct.map((d) => r.mn.acceptDirect(d.packet))).toEqual(Array(10).fill(true));
    await until("10 duplicates", () => r.mn.stats().duplicates === 10);
    expect(r.mnPackets).toEqual([]);
    expect(r.mn.acceptDirect(ipv4(CN, NCOA, 3))).toBe(false);
    expect(r.mn.stats().duplicates).toBe(11);
    await r.mn.stopCopy(handle);
    expect(r.ar.deliver(ipv4(CN, NCOA, 10))).toBe("tunnelled");
    expect(r.ar.stopCopy(r.ar.tunnels()[0]!.id)).toBe(true);
  });

  it("copies to a given address when the AR is told to", async () => {
    const r = await rig();
    await r.open();
    const id = r.ar.tunnels()[0]!.id;
    expect(r.ar.startCopy("10.0.9.9", id)).toBe(true);
    expect(r.ar.startCopy("10.0.9.9", 1)).toBe(false);
    expect(r.ar.deliver(ipv4(CN, NCOA, 1))).toBe("copied");
    expect(r.direct[0]?.nCoA).toBe("10.0.9.9");
  });
});

describe("PHT copy-and-forward through the tunnel to a prepared interface (RFC 6252 section 7.6.2)", () => {
  it("seals each copy into the PHT to the MN's socket on the copy address; each packet is delivered once", async () => {
    const direct: Uint8Array[] = [];
    const mnPackets: Uint8Array[] = [];
    const ar = await PhtAr.listen({
      listen: { address: "127.0.0.1", port: 0 },
      keys: (id) => (id === SESSION ? RAW : undefined),
      deliverDirect: (_a, p) => direct.push(p),
    });
    const mn = new PhtTunnelManager({
      sessionId: () => SESSION,
      onPacket: (_h, p) => mnPackets.push(p),
      timeoutMs: 200,
    });
    cleanups.push(async () => {
      await mn[Symbol.asyncDispose]();
      await ar.close();
    });
    const handle = await mn.open("net-b", {
      oCoA: "127.0.0.1",
      nCoA: NCOA,
      ar: { address: "127.0.0.1", port: ar.address.port },
    }, await importMnArKey(RAW));
    // 127.0.0.2 stands for the prepared interface's address (all of 127/8 is local).
    await mn.startCopy(handle, { address: "127.0.0.2" });
    const [tunnel] = ar.tunnels();
    expect(tunnel?.copyTo).toBe("127.0.0.2");
    expect(tunnel?.copyPort).toBeGreaterThan(0);
    expect(tunnel?.peer.address).toBe("127.0.0.1"); // the tunnel itself did not move
    for (let i = 0; i < 20; i++) expect(ar.deliver(ipv4(CN, NCOA, i))).toBe("copied");
    await until(
      "20 packets and 20 duplicates",
      () => mnPackets.length === 20 && mn.stats().duplicates === 20,
    );
    expect(mnPackets.map(idOf).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(direct).toEqual([]); // nothing re-injected at the AR
    expect(ar.stats()).toMatchObject({ copied: 20, packetsOut: 40, sendErrors: 0 });
    await mn.stopCopy(handle);
    expect(ar.tunnels()[0]?.copyTo).toBeUndefined();
    expect(ar.deliver(ipv4(CN, NCOA, 20))).toBe("tunnelled");
    await until("packet 20", () => mnPackets.length === 21);
  });

  it("deletes the tunnel from the copy socket after a sudden disconnection (close via copy)", async () => {
    const deleted: PhtArTunnel[] = [];
    const down: string[] = [];
    const whileDown: string[] = [];
    const mnPackets: Uint8Array[] = [];
    const ar: PhtAr = await PhtAr.listen({
      listen: { address: "127.0.0.1", port: 0 },
      keys: (id) => (id === SESSION ? RAW : undefined),
      onTunnelDeleted: (t) => void deleted.push(t),
      onTunnelDown: (_t, reason) => {
        down.push(reason);
        // The route into the tunnel is being removed: a packet routed there meanwhile
        // is still tunnelled and copied (no gap between the tunnel and the link).
        whileDown.push(ar.deliver(ipv4(CN, NCOA, 99)));
      },
    });
    const mn = new PhtTunnelManager({
      sessionId: () => SESSION,
      onPacket: (_h, p) => mnPackets.push(p),
      timeoutMs: 200,
    });
    cleanups.push(async () => {
      await mn[Symbol.asyncDispose]();
      await ar.close();
    });
    const handle = await mn.open("net-b", {
      oCoA: "127.0.0.1",
      nCoA: NCOA,
      ar: { address: "127.0.0.1", port: ar.address.port },
    }, await importMnArKey(RAW));
    await mn.startCopy(handle, { address: "127.0.0.2" });
    for (let i = 0; i < 5; i++) expect(ar.deliver(ipv4(CN, NCOA, i))).toBe("copied");
    await until("5 packets, 5 duplicates", () => mn.stats().duplicates === 5);
    await mn.close(handle, { via: "copy" });
    // The delete came from the prepared interface's socket, and its ack reached it.
    expect(deleted.map((t) => t.peer.address)).toEqual(["127.0.0.2"]);
    expect(down).toEqual(["deleted"]);
    expect(whileDown).toEqual(["copied"]);
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats().retransmissions).toBe(0);
    // Copying ended with the tunnel: the nCoA is no longer the AR's to tunnel.
    expect(ar.deliver(ipv4(CN, NCOA, 5))).toBe("no-tunnel");
    // Packet 99's copy left before the delete-ack, on the same way: it was delivered.
    expect(mnPackets.map(idOf).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 99]);
  });

  it("close via copy without a copy socket uses the tunnel's own socket", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.close(handle, { via: "copy" });
    expect(r.deleted.length).toBe(1);
    expect(r.down.map((d) => d.reason)).toEqual(["deleted"]);
    expect(r.mn.handles()).toEqual([]);
  });

  it("falls back to telling the AR the address when the MN cannot listen there", async () => {
    const r = await rig();
    const handle = await r.open();
    await r.mn.startCopy(handle, { address: "192.0.2.77" }); // not local
    expect(r.ar.tunnels()[0]).toMatchObject({ copyTo: "192.0.2.77" });
    expect(r.ar.tunnels()[0]?.copyPort).toBeUndefined();
    expect(r.ar.deliver(ipv4(CN, NCOA, 1))).toBe("copied");
    expect(r.direct.map((d) => d.nCoA)).toEqual(["192.0.2.77"]);
  });
});

describe("PHT MN data path", () => {
  it("drops a replayed frame from the AR and counts it", async () => {
    const r = await rig();
    const handle = await r.open();
    // Capture the AR's frames on their way to the MN with a second listener.
    const frames: Uint8Array[] = [];
    r.relay.back.on("message", (msg) => frames.push(Uint8Array.from(msg)));
    r.ar.deliver(ipv4(CN, NCOA, 1));
    await until("packet", () => r.mnPackets.length === 1);
    const data = frames.find((f) => decodePhtFrame(f).kind === "data")!;
    r.relay.injectToMn(data);
    await until("MN replay count", () => r.mn.stats().replayed === 1);
    expect(r.mnPackets.length).toBe(1);
    expect(r.mn.handles().map((h) => h.id)).toEqual([handle.id]);
  });
});
