import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { HomeAgent, type HomeAgentOptions } from "../../../adapters/mobility/home_agent.ts";
import {
  Mip6Mobility,
  type Mip6MobilityOptions,
  type Mip6Transport,
  udpMip6Transport,
} from "../../../adapters/mobility/mip6_mn.ts";
import { signMobilityHeader } from "../../../lib/keys/binding_auth.ts";
import { PortError } from "../../../lib/ports.ts";
import { buildIpPacket, parseIpPacket } from "../../../lib/wire/ip_packet.ts";
import { decodeMobilityHeader } from "../../../lib/wire/mobility_header.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const WRONG_KEY = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const HOME = "10.9.0.100";
const HA = "127.0.0.1";
const C1 = "127.0.0.2";
const C2 = "127.0.0.3";
const C3 = "127.0.0.4";

/** Waits for a condition, polling every 2 ms, failing after 5 s. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function bindSocket(address: string, port: number): Promise<Socket> {
  const s = createSocket("udp4");
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.bind({ address, port, exclusive: true }, () => resolve(s));
  });
}

/** Media receivers at c1, c2, c3 on one port, each recording the datagrams it gets. */
class Receivers {
  readonly got = new Map<string, string[]>();
  private constructor(readonly sockets: Socket[], readonly port: number) {
    for (const s of sockets) {
      const address = s.address().address;
      this.got.set(address, []);
      s.on("message", (msg) => this.got.get(address)!.push(new TextDecoder().decode(msg)));
    }
  }
  static async start(addresses: readonly string[]): Promise<Receivers> {
    const first = await bindSocket(addresses[0]!, 0);
    const port = first.address().port;
    const rest = await Promise.all(addresses.slice(1).map((a) => bindSocket(a, port)));
    return new Receivers([first, ...rest], port);
  }
  of(address: string): string[] {
    return this.got.get(address)!;
  }
  close(): void {
    for (const s of this.sockets) s.close();
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startHa(
  mediaPort: number,
  options: Partial<HomeAgentOptions> = {},
): Promise<HomeAgent> {
  const ha = await HomeAgent.listen({
    address: HA,
    port: 0,
    keys: (home) => home === HOME ? KEY : undefined,
    stream: { listenPort: 0, mediaPort, home: HOME },
    ...options,
  });
  cleanups.push(() => ha.close());
  return ha;
}

function client(ha: { port: number }, options: Partial<Mip6MobilityOptions> = {}): Mip6Mobility {
  const mn = new Mip6Mobility({
    home: HOME,
    homeAgent: { address: HA, port: ha.port },
    key: KEY,
    initialTimeoutMs: 200,
    maxTimeoutMs: 800,
    ...options,
  });
  cleanups.push(() => mn.close());
  return mn;
}

/** A correspondent sending numbered datagrams to the home agent's stream port. */
async function correspondent(ha: HomeAgent): Promise<(label: string) => Promise<void>> {
  const s = await bindSocket(HA, 0);
  cleanups.push(() => s.close());
  // Awaited one by one: Deno 2.9's node:dgram sends the first burst of a fresh socket
  // in reverse order.
  return (label) =>
    new Promise<void>((resolve) =>
      s.send(new TextEncoder().encode(label), ha.streamPort!, HA, () => resolve())
    );
}

describe("Mip6Mobility with HomeAgent over UDP 4191 framing (RFC 5555, RFC 6275)", () => {
  it("RFC 6275 section 11.7.1: registers one CoA and the stream arrives there", async () => {
    const rx = await Receivers.start([C1]);
    cleanups.push(() => rx.close());
    const ha = await startHa(rx.port);
    const mn = client(ha);
    const result = await mn.bind([C1], { lifetimeMs: 120_000 });
    expect(result).toEqual({ bound: [C1], lifetimeMs: 120_000 });
    expect(ha.bindings(HOME)).toEqual([C1]);
    expect(mn.binding?.bound).toEqual([C1]);
    const send = await correspondent(ha);
    for (let i = 0; i < 5; i++) await send(`p${i}`);
    await until("5 packets at c1", () => rx.of(C1).length === 5);
    expect(rx.of(C1)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(ha.stats.accepted).toBe(1);
    expect(ha.stats.forwarded).toEqual({ [C1]: 5 });
    expect(mn.stats).toMatchObject({ updatesSent: 1, acksReceived: 1, retransmissions: 0 });
  });

  it("keeps its own copy of the key: the caller may wipe its buffer once the client is built", async () => {
    const ha = await startHa(9);
    const key = KEY.slice();
    const mn = client(ha, { key });
    key.fill(0); // what the agent does with the key file's bytes
    const result = await mn.bind([C1], { lifetimeMs: 60_000 });
    expect(result.bound).toEqual([C1]);
    expect(ha.bindings(HOME)).toEqual([C1]);
  });

  it("RFC 6252 section C.4 / RFC 5648 bulk registration: c1, c2, c3 at once get every packet; after the move bind([c2]) leaves only c2", async () => {
    const rx = await Receivers.start([C1, C2, C3]);
    cleanups.push(() => rx.close());
    const events: string[] = [];
    const ha = await startHa(rx.port, {
      onEvent: (e) => e.kind === "forward-to" && events.push(e.coas.join(",")),
    });
    const mn = client(ha);
    const all = await mn.bind([C1, C2, C3], { lifetimeMs: 60_000 });
    expect(all).toEqual({ bound: [C1, C2, C3], lifetimeMs: 60_000 });
    expect(ha.bindings(HOME)).toEqual([C1, C2, C3]);
    const send = await correspondent(ha);
    for (let i = 0; i < 10; i++) await send(`before${i}`);
    await until(
      "10 packets at each of c1, c2, c3",
      () => [C1, C2, C3].every((c) => rx.of(c).length === 10),
    );
    for (const c of [C1, C2, C3]) expect(rx.of(c)).toContain("before9");

    // The MN moved into c2's network: one BU without Binding ID replaces the three.
    const moved = await mn.bind([C2], { lifetimeMs: 60_000 });
    expect(moved.bound).toEqual([C2]);
    expect(ha.bindings(HOME)).toEqual([C2]);
    for (let i = 0; i < 10; i++) await send(`after${i}`);
    await until("10 more packets at c2", () => rx.of(C2).length === 20);
    expect(rx.of(C1).filter((p) => p.startsWith("after"))).toEqual([]);
    expect(rx.of(C3).filter((p) => p.startsWith("after"))).toEqual([]);
    expect(ha.stats.forwarded).toEqual({ [C1]: 10, [C2]: 20, [C3]: 10 });
    expect(events).toEqual([`${C1},${C2},${C3}`, C2]);

    // Back to several candidates: the O flag replaces the single binding (no status 165).
    const again = await mn.bind([C1, C3], { lifetimeMs: 60_000 });
    expect(again.bound).toEqual([C1, C3]);
    expect(ha.bindings(HOME)).toEqual([C1, C3]);
  });

  it("sends from the tunnel's nCoA and names a different CoA in an Alternate Care-of Address option", async () => {
    const ha = await startHa(9);
    const mn = client(ha);
    const tunnel = {
      id: "t1",
      ctn: "net-b",
      endpoints: { oCoA: C1, nCoA: C2, ar: { address: "127.0.0.9" } },
      openedAt: 0,
      expiresAt: 60_000,
    };
    await mn.bind([C3], { tunnel, lifetimeMs: 60_000 });
    expect(ha.bindings(HOME)).toEqual([C3]);
    await mn.bind([C2], { tunnel, lifetimeMs: 60_000 });
    expect(ha.bindings(HOME)).toEqual([C2]);
  });

  it("RFC 6275 section 9.5.1: a BU under the wrong key is dropped without an answer and counted; bind times out", async () => {
    const ha = await startHa(9);
    const mn = client(ha, { key: WRONG_KEY, initialTimeoutMs: 20, maxTimeoutMs: 80 });
    const error = await mn.bind([C1]).catch((e) => e);
    expect(error).toBeInstanceOf(PortError);
    expect(error.code).toBe("timeout");
    // 20, 40, 80 ms waits: three BUs, each dropped.
    expect(mn.stats.updatesSent).toBe(3);
    expect(mn.stats.retransmissions).toBe(2);
    await until("3 forged BUs counted", () => ha.stats.forged === 3);
    expect(ha.stats.acksSent).toBe(0);
    expect(ha.bindings(HOME)).toEqual([]);
  });

  it("RFC 6275 section 11.7.3: status 135 after a restart with an old Sequence Number; the MN resynchronises once and is counted", async () => {
    const ha = await startHa(9);
    const first = client(ha, { initialSequence: 1000 });
    await first.bind([C1]);
    expect(first.sequence).toBe(1001);
    const restarted = client(ha, { initialSequence: 10 });
    const result = await restarted.bind([C2]);
    expect(result.bound).toEqual([C2]);
    expect(restarted.stats.resyncs).toBe(1);
    expect(restarted.sequence).toBe(1002);
    expect(ha.stats.rejected).toEqual({ 135: 1 });
    expect(ha.bindings(HOME)).toEqual([C2]);
  });

  it("RFC 6275 section 11.8: retransmits when the first BU is lost, with the next Sequence Number", async () => {
    const ha = await startHa(9);
    let sends = 0;
    const lossy: Mip6Transport = async (localAddress, onMessage) => {
      const inner = await udpMip6Transport(localAddress, onMessage);
      return {
        localAddress,
        send: (bytes, address, port) =>
          ++sends === 1 ? Promise.resolve() : inner.send(bytes, address, port),
        close: () => inner.close(),
      };
    };
    const mn = client(ha, { transport: lossy, initialTimeoutMs: 100, initialSequence: 7 });
    const result = await mn.bind([C1]);
    expect(result.bound).toEqual([C1]);
    // Normally two BUs (7 + 1 lost, 7 + 2 answered); a slow machine may need more.
    const sent = mn.stats.updatesSent;
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(mn.stats.retransmissions).toBe(sent - 1);
    expect(mn.stats.acksReceived).toBeGreaterThanOrEqual(1);
    expect(mn.sequence).toBe(7 + sent);
    await until("every BU but the lost one received", () => ha.stats.received === sent - 1);
    expect(ha.cache.homes.get(HOME)?.lastSequence).toBe(7 + sent);
  });

  it("RFC 6275 section 6.1.8: a status of 128 or more fails with rejected and the status name", async () => {
    const ha = await startHa(9, { multipleCoa: false });
    const mn = client(ha);
    const error = await mn.bind([C1, C2]).catch((e) => e);
    expect(error).toBeInstanceOf(PortError);
    expect(error.code).toBe("rejected");
    expect(error.message).toContain("166 McoaProhibited");
    expect(ha.stats.rejected).toEqual({ 166: 1 });
  });

  it("RFC 6275 section 9.5.1: a correspondent refuses a home registration with 131", async () => {
    const ha = await startHa(9, { role: "correspondent" });
    const error = await client(ha).bind([C1]).catch((e) => e);
    expect(error.code).toBe("rejected");
    expect(error.message).toContain("131 HomeRegistrationNotSupported");
    const cn = client(ha, { homeRegistration: false });
    expect((await cn.bind([C1], { lifetimeMs: 60_000 })).lifetimeMs).toBe(60_000);
  });

  it("ignores and counts a forged Binding Acknowledgement, then takes the authentic one", async () => {
    // A stand-in home agent answering each BU with a BA under the wrong key, then the right one.
    const fake = await bindSocket(HA, 0);
    cleanups.push(() => fake.close());
    fake.on("message", async (msg, rinfo) => {
      const bu = decodeMobilityHeader(parseIpPacket(new Uint8Array(msg)).payload);
      if (bu.kind !== "bindingUpdate") return;
      for (const key of [WRONG_KEY, KEY]) {
        const mh = await signMobilityHeader(
          key,
          {
            kind: "bindingAck",
            status: 0,
            keyManagement: false,
            sequence: bu.sequence,
            lifetime: 40,
            options: [],
          },
          { careOf: rinfo.address, peer: HA },
          {
            checksum: { source: HA, destination: HOME },
          },
        );
        const packet = buildIpPacket({
          source: `::ffff:${HA}`,
          destination: `::ffff:${HOME}`,
          protocol: 135,
          payload: mh,
        });
        fake.send(packet, rinfo.port, rinfo.address);
      }
    });
    const mn = client({ port: fake.address().port });
    expect(await mn.bind([C1])).toEqual({ bound: [C1], lifetimeMs: 40_000 });
    await until("forged BA counted", () => mn.stats.forgedAcks === 1);
    expect(mn.stats.acksReceived).toBe(1);
  });

  it("deregister (lifetime 0) removes every binding and the stream stops", async () => {
    const rx = await Receivers.start([C1, C2]);
    cleanups.push(() => rx.close());
    const ha = await startHa(rx.port);
    const mn = client(ha);
    await mn.bind([C1, C2]);
    await mn.deregister();
    expect(ha.bindings(HOME)).toEqual([]);
    expect(mn.binding).toBeUndefined();
    const send = await correspondent(ha);
    await send("lost");
    await until("stream datagram dropped", () => ha.stats.streamDropped === 1);
    expect(ha.stats.forwarded).toEqual({});
  });

  it("fails with protocol for no CoA, not-found for deregister before bind, aborted on abort", async () => {
    const ha = await startHa(9, { keys: () => undefined }); // never answers
    const mn = client(ha);
    expect((await mn.bind([]).catch((e) => e)).code).toBe("protocol");
    expect((await mn.deregister().catch((e) => e)).code).toBe("not-found");
    const controller = new AbortController();
    const pending = mn.bind([C1], { signal: controller.signal }).catch((e) => e);
    await until("BU received", () => ha.stats.unknownHome === 1);
    controller.abort();
    expect((await pending).code).toBe("aborted");
    expect((await mn.bind(["not an address"]).catch((e) => e)).code).toBe("protocol");
  });

  it("counts datagrams on its socket that are not a BA and keeps working", async () => {
    const ha = await startHa(9);
    let deliver: ((b: Uint8Array) => void) | undefined;
    const mn = client(ha, {
      transport: (a, onMessage) => {
        deliver = (b) => onMessage(b, { address: HA, port: ha.port });
        return udpMip6Transport(a, onMessage);
      },
    });
    await mn.bind([C2]);
    const bu = await signMobilityHeader(KEY, {
      kind: "bindingUpdate",
      sequence: 1,
      flags: { ack: true, home: true, linkLocal: false, keyManagement: false },
      lifetime: 8,
      options: [],
    }, { careOf: C2, peer: HA });
    const garbage = [
      new Uint8Array(0),
      new Uint8Array([0x60, 1, 2]),
      new Uint8Array(48),
      // A well-formed packet carrying a BU, not a BA.
      buildIpPacket({
        source: `::ffff:${HA}`,
        destination: `::ffff:${HOME}`,
        protocol: 135,
        payload: bu,
      }),
    ];
    for (const g of garbage) deliver!(g);
    await until("4 malformed", () => mn.stats.malformed === 4);
    expect((await mn.bind([C2])).bound).toEqual([C2]);
  });
});

describe("BU -> BA round trip on loopback", () => {
  it("measures the median over 200 binds (reported, not asserted)", async () => {
    const ha = await startHa(9);
    const mn = client(ha, { initialTimeoutMs: 1500, maxTimeoutMs: 32_000 });
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const r = await mn.bind([i % 2 === 0 ? C1 : C2], { lifetimeMs: 60_000 });
      times.push(performance.now() - t0);
      expect(r.bound.length).toBe(1);
    }
    times.sort((a, b) => a - b);
    const median = (times[99]! + times[100]!) / 2;
    console.log(
      `mip6 BU->BA loopback: median ${median.toFixed(3)} ms, p90 ${
        times[179]!.toFixed(3)
      } ms, max ${times[199]!.toFixed(3)} ms (n=200)`,
    );
    expect(ha.stats.accepted).toBe(200);
    expect(mn.stats.retransmissions).toBe(0);
  });
});
