import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import {
  HomeAgent,
  type HomeAgentEvent,
  type HomeAgentOptions,
} from "../../../adapters/mobility/home_agent.ts";
import { Mip6Mobility } from "../../../adapters/mobility/mip6_mn.ts";
import { signMobilityHeader, verifyMobilityHeader } from "../../../lib/keys/binding_auth.ts";
import { parseIpv6Address } from "../../../lib/wire/ip_header.ts";
import { buildIpPacket, parseIpPacket } from "../../../lib/wire/ip_packet.ts";
import {
  type BindingAck,
  bindingUpdateFlags,
  decodeMobilityHeader,
  encodeMobilityHeader,
  type MobilityOption,
} from "../../../lib/wire/mobility_header.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const HOME = "10.9.0.100";
const HA = "127.0.0.1";
const C1 = "127.0.0.2";
const C2 = "127.0.0.3";

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function bindSocket(address: string, port = 0): Promise<Socket> {
  const s = createSocket("udp4");
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.bind({ address, port, exclusive: true }, () => resolve(s));
  });
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Harness {
  readonly ha: HomeAgent;
  readonly events: HomeAgentEvent[];
  clock: number;
}

async function startHa(options: Partial<HomeAgentOptions> = {}): Promise<Harness> {
  const h = { events: [] as HomeAgentEvent[], clock: 1_000_000 } as Harness & { ha: HomeAgent };
  h.ha = await HomeAgent.listen({
    address: HA,
    port: 0,
    keys: (home) => home === HOME ? KEY : undefined,
    tickIntervalMs: 3_600_000, // expiry driven by tick() in these tests
    now: () => h.clock,
    onEvent: (e) => h.events.push(e),
    ...options,
  });
  cleanups.push(() => h.ha.close());
  return h;
}

/** A raw MN socket on `address`, recording the BAs it receives. */
async function rawMn(address: string): Promise<{ socket: Socket; acks: BindingAck[] }> {
  const socket = await bindSocket(address);
  cleanups.push(() => socket.close());
  const acks: BindingAck[] = [];
  socket.on("message", (msg) => {
    const msgH = decodeMobilityHeader(parseIpPacket(new Uint8Array(msg)).payload);
    if (msgH.kind === "bindingAck") acks.push(msgH);
  });
  return { socket, acks };
}

async function bu(
  careOf: string,
  sequence: number,
  lifetime: number,
  options: MobilityOption[] = [],
  key = KEY,
): Promise<Uint8Array> {
  const mh = await signMobilityHeader(
    key,
    {
      kind: "bindingUpdate",
      sequence,
      flags: bindingUpdateFlags({ ack: true, home: true }),
      lifetime,
      options,
    },
    { careOf, peer: HA },
    { checksum: { source: HOME, destination: HA } },
  );
  return buildIpPacket({
    source: `::ffff:${HOME}`,
    destination: `::ffff:${HA}`,
    protocol: 135,
    payload: mh,
  });
}

function send(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve) => socket.send(bytes, port, HA, () => resolve()));
}

describe("HomeAgent (RFC 6275 section 10.3, RFC 5648, RFC 5555 framing)", () => {
  it("RFC 6275 section 6.1.8: acknowledges a raw BU with a signed BA to its source, inner IPv6 HA -> home", async () => {
    const { ha } = await startHa();
    const mn = await rawMn(C1);
    const datagrams: Uint8Array[] = [];
    mn.socket.on("message", (m) => datagrams.push(new Uint8Array(m)));
    await send(mn.socket, await bu(C1, 5, 60), ha.port);
    await until("BA", () => mn.acks.length === 1);
    expect(mn.acks[0]).toMatchObject({ status: 0, sequence: 5, lifetime: 60 });
    const packet = parseIpPacket(datagrams[0]!);
    expect([packet.version, packet.protocol]).toEqual([6, 135]);
    expect([packet.source, packet.destination]).toEqual([`::ffff:${HA}`, `::ffff:${HOME}`]);
    expect(await verifyMobilityHeader(KEY, packet.payload, { careOf: C1, peer: HA })).toBe(true);
    expect(ha.bindings(HOME)).toEqual([C1]);
  });

  it("RFC 6275 section 9.5.1: a replayed BU gets status 135 with the last accepted Sequence Number and is counted", async () => {
    const { ha } = await startHa();
    const mn = await rawMn(C1);
    const first = await bu(C1, 40, 60);
    await send(mn.socket, first, ha.port);
    await send(mn.socket, await bu(C1, 41, 60), ha.port);
    await until("2 BAs", () => mn.acks.length === 2);
    await send(mn.socket, first, ha.port); // the replay
    await until("3 BAs", () => mn.acks.length === 3);
    expect(mn.acks[2]).toMatchObject({ status: 135, sequence: 41, lifetime: 0 });
    expect(ha.stats.rejected).toEqual({ 135: 1 });
    expect(ha.stats.accepted).toBe(2);
    expect(ha.bindings(HOME)).toEqual([C1]);
  });

  it("counts malformed datagrams without answering and keeps serving", async () => {
    const h = await startHa();
    const mn = await rawMn(C1);
    const good = await bu(C1, 1, 60);
    const badChecksum = good.slice();
    badChecksum[40 + 4] = badChecksum[40 + 4]! ^ 0xff;
    const ipv4 = buildIpPacket({
      source: C1,
      destination: HA,
      protocol: 135,
      payload: good.subarray(40),
    });
    const wrongNextHeader = buildIpPacket({
      source: `::ffff:${HOME}`,
      destination: `::ffff:${HA}`,
      protocol: 17,
      payload: good.subarray(40),
    });
    const truncatedMh = buildIpPacket({
      source: `::ffff:${HOME}`,
      destination: `::ffff:${HA}`,
      protocol: 135,
      payload: good.subarray(40, 52),
    });
    const garbage = [
      new Uint8Array([0]),
      new Uint8Array([0x60, 0, 0]),
      Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff),
      good.subarray(0, good.length - 3), // IPv6 payload length disagrees
      badChecksum,
      ipv4,
      wrongNextHeader,
      truncatedMh,
    ];
    for (const g of garbage) await send(mn.socket, g, h.ha.port);
    await until("all dropped", () => h.events.length === garbage.length);
    expect(h.ha.stats.malformed).toBe(garbage.length);
    expect(h.events.every((e) => e.kind === "dropped" && e.reason === "malformed")).toBe(true);
    expect(mn.acks).toEqual([]);
    await send(mn.socket, good, h.ha.port);
    await until("BA after the garbage", () => mn.acks.length === 1);
    expect(mn.acks[0]!.status).toBe(0);
  });

  it("drops a well-formed Mobility Header other than a BU, and a BU for a home without a key", async () => {
    const h = await startHa();
    const mn = await rawMn(C1);
    const brr = encodeMobilityHeader({ kind: "bindingRefreshRequest", options: [] }, {
      checksum: { source: HOME, destination: HA },
    });
    await send(
      mn.socket,
      buildIpPacket({
        source: `::ffff:${HOME}`,
        destination: `::ffff:${HA}`,
        protocol: 135,
        payload: brr,
      }),
      h.ha.port,
    );
    const stranger = await signMobilityHeader(
      KEY,
      {
        kind: "bindingUpdate",
        sequence: 1,
        flags: bindingUpdateFlags({ ack: true, home: true }),
        lifetime: 60,
        options: [],
      },
      { careOf: C1, peer: HA },
      { checksum: { source: "10.9.0.200", destination: HA } },
    );
    await send(
      mn.socket,
      buildIpPacket({
        source: "::ffff:10.9.0.200",
        destination: `::ffff:${HA}`,
        protocol: 135,
        payload: stranger,
      }),
      h.ha.port,
    );
    await until("2 drops", () => h.events.length === 2);
    expect(h.events.map((e) => e.kind === "dropped" && e.reason)).toEqual([
      "unexpected",
      "unknown-home",
    ]);
    expect(h.ha.stats).toMatchObject({ unexpected: 1, unknownHome: 1, acksSent: 0 });
  });

  it("RFC 6275 section 9.5.1: a BU signed for another care-of address (spoofed source) is dropped as forged", async () => {
    const h = await startHa();
    const mn = await rawMn(C2);
    await send(mn.socket, await bu(C1, 1, 60), h.ha.port); // signed for C1, sent from C2
    await until("drop", () => h.events.length === 1);
    expect(h.events[0]).toMatchObject({ kind: "dropped", reason: "forged", from: C2 });
    expect(h.ha.stats.forged).toBe(1);
    expect(h.ha.bindings(HOME)).toEqual([]);
  });

  it("RFC 6275 section 10.3.1: lifetime expiry removes the bindings and stops forwarding", async () => {
    const rx = await bindSocket(C1);
    cleanups.push(() => rx.close());
    const got: string[] = [];
    rx.on("message", (m) => got.push(m.toString()));
    const h = await startHa({
      stream: { listenPort: 0, mediaPort: rx.address().port, home: HOME },
    });
    const mn = new Mip6Mobility({
      home: HOME,
      homeAgent: { address: HA, port: h.ha.port },
      key: KEY,
      now: () => h.clock,
    });
    cleanups.push(() => mn.close());
    const result = await mn.bind([C1], { lifetimeMs: 8000 });
    expect(result.lifetimeMs).toBe(8000);
    expect(mn.binding?.expiresAt).toBe(h.clock + 8000);
    const cn = await bindSocket(HA);
    cleanups.push(() => cn.close());
    await send(cn, new TextEncoder().encode("live"), h.ha.streamPort!);
    await until("forwarded", () => got.length === 1);

    h.clock += 8000;
    h.ha.tick();
    expect(h.events.filter((e) => e.kind === "expired")).toEqual([
      { kind: "expired", home: HOME, coas: [C1] },
    ]);
    expect(h.events.at(-1)).toEqual({ kind: "forward-to", home: HOME, coas: [] });
    expect(h.ha.stats.expired).toBe(1);
    await send(cn, new TextEncoder().encode("late"), h.ha.streamPort!);
    await until("dropped", () => h.ha.stats.streamDropped === 1);
    expect(got).toEqual(["live"]);
    expect(h.ha.bindings(HOME)).toEqual([]);
  });

  it("forwards by the 16-byte home address header when no stream home is configured", async () => {
    const rx = await bindSocket(C2);
    cleanups.push(() => rx.close());
    const got: string[] = [];
    rx.on("message", (m) => got.push(m.toString()));
    const h = await startHa({ stream: { listenPort: 0, mediaPort: rx.address().port } });
    const mn = await rawMn(C2);
    await send(mn.socket, await bu(C2, 1, 60), h.ha.port);
    await until("BA", () => mn.acks.length === 1);
    const cn = await bindSocket(HA);
    cleanups.push(() => cn.close());
    const header = parseIpv6Address(`::ffff:${HOME}`);
    const other = parseIpv6Address("::ffff:10.9.0.200");
    const frame = (h16: Uint8Array, text: string) => {
      const body = new TextEncoder().encode(text);
      const out = new Uint8Array(16 + body.length);
      out.set(h16);
      out.set(body, 16);
      return out;
    };
    await send(cn, frame(header, "for-home"), h.ha.streamPort!);
    await send(cn, frame(other, "for-other"), h.ha.streamPort!);
    await send(cn, new Uint8Array(5), h.ha.streamPort!); // shorter than the header
    await until("forwarded and dropped", () => got.length === 1 && h.ha.stats.streamDropped === 2);
    expect(got).toEqual(["for-home"]);
    expect(h.ha.stats.forwarded).toEqual({ [C2]: 1 });
  });

  it("RFC 5648 section 6.2: bulk registration answers with one Binding Identifier status per BID", async () => {
    const { ha } = await startHa();
    const mn = await rawMn(C1);
    const bid = (n: number, coa: string): MobilityOption => ({
      kind: "bindingIdentifier",
      bid: n,
      status: 0,
      simultaneousHome: false,
      overwrite: true,
      careOfAddress: coa,
    });
    await send(mn.socket, await bu(C1, 9, 60, [bid(1, C1), bid(2, C2)]), ha.port);
    await until("BA", () => mn.acks.length === 1);
    const bids = mn.acks[0]!.options.filter((o) => o.kind === "bindingIdentifier");
    expect(bids.map((o) => o.kind === "bindingIdentifier" && [o.bid, o.status])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(ha.bindings(HOME)).toEqual([C1, C2]);
  });
});
