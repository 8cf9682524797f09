/**
 * The information server and its client on the loopback (RFC 6252 section 7.1):
 * answers ordered by distance, radius, timeouts with retransmission, abort, and
 * datagrams that are malformed or from the wrong peer dropped and counted.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { InfoServerDiscovery } from "../../../adapters/discovery/info_client.ts";
import { InfoServer } from "../../../adapters/discovery/info_server.ts";
import type { CtnInfo } from "../../../lib/ports.ts";
import { decodeInfoMessage, encodeInfoMessage } from "../../../lib/wire/info_query.ts";

function ctn(network: string, x: number): CtnInfo {
  return {
    network,
    aa: { address: "10.0.2.2", port: 7160 },
    ca: { address: "10.0.2.3" },
    ar: { address: "10.0.2.1" },
    poas: [`${network}1`],
    cells: [{ poa: `${network}1`, network, pos: { x, y: 0 }, coverage: 50 }],
  };
}

const table = [ctn("far", 900), ctn("near", 100), ctn("mid", 400)];
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(): Promise<InfoServer> {
  const s = await InfoServer.listen({ address: "127.0.0.1", port: 0, table });
  cleanup.push(() => s.close());
  return s;
}

/** A UDP socket on the loopback that records what it receives. */
async function udpPeer(): Promise<
  { socket: Socket; port: number; received: Uint8Array[]; from: number[] }
> {
  const socket = createSocket("udp4");
  const received: Uint8Array[] = [];
  const from: number[] = [];
  socket.on("message", (m: Uint8Array, rinfo: { port: number }) => {
    received.push(new Uint8Array(m));
    from.push(rinfo.port);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, port: socket.address().port, received, from };
}

function send(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, "127.0.0.1", (e) => (e ? reject(e) : resolve()))
  );
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe("InfoServer and InfoServerDiscovery on the loopback (RFC 6252 section 7.1)", () => {
  it("section 7.1 - answers a location query with the CTNs nearest first", async () => {
    const s = await server();
    const d = new InfoServerDiscovery({ server: { address: "127.0.0.1", port: s.port } });
    const list = await d.candidates({ x: 0, y: 0 });
    expect(list.map((c) => c.network)).toEqual(["near", "mid", "far"]);
    expect(list[0]).toEqual(ctn("near", 100));
    expect((await d.candidates()).map((c) => c.network)).toEqual(["far", "near", "mid"]);
    expect(s.stats.queries).toBe(2);
    expect(d.stats).toMatchObject({ queries: 2, transmissions: 2, answers: 2, unanswered: 0 });
  });

  it("the client's radius narrows the answer", async () => {
    const s = await server();
    const d = new InfoServerDiscovery({
      server: { address: "127.0.0.1", port: s.port },
      radius: 400,
    });
    expect((await d.candidates({ x: 0, y: 0 })).map((c) => c.network)).toEqual(["near", "mid"]);
  });

  it("times out with PortError timeout after the retransmissions, the same id each time", async () => {
    const peer = await udpPeer(); // receives, never answers
    const d = new InfoServerDiscovery({
      server: { address: "127.0.0.1", port: peer.port },
      timeoutMs: 20,
      retries: 2,
    });
    const error = await d.candidates({ x: 1, y: 2 }).catch((e) => e);
    expect(error).toMatchObject({ name: "PortError", port: "Discovery", code: "timeout" });
    expect(error.message).toMatch(
      /^Information server did not answer: no answer from 127\.0\.0\.1:\d+ to 3 queries/,
    );
    await until(() => peer.received.length === 3);
    const ids = peer.received.map((b) => decodeInfoMessage(b).id);
    expect(new Set(ids).size).toBe(1);
    expect(d.stats).toMatchObject({ transmissions: 3, retransmissions: 2, unanswered: 1 });
  });

  it("aborts a pending query with PortError aborted and stops retransmitting", async () => {
    const peer = await udpPeer();
    const d = new InfoServerDiscovery({
      server: { address: "127.0.0.1", port: peer.port },
      timeoutMs: 10_000,
    });
    const controller = new AbortController();
    const pending = d.candidates(undefined, { signal: controller.signal });
    await until(() => peer.received.length === 1);
    controller.abort(new Error("planner dropped the phase"));
    await expect(pending).rejects.toMatchObject({ port: "Discovery", code: "aborted" });
    await expect(d.candidates(undefined, { signal: controller.signal })).rejects.toMatchObject({
      code: "aborted",
    });
    expect(d.stats.transmissions).toBe(1);
  });

  it("the server drops malformed datagrams and answers, counts them, and keeps answering", async () => {
    const s = await server();
    const peer = await udpPeer();
    await send(peer.socket, new TextEncoder().encode("not json"), s.port);
    await send(
      peer.socket,
      new TextEncoder().encode('{"v":1,"type":"query","id":1,"x":1}'),
      s.port,
    );
    await send(peer.socket, encodeInfoMessage({ type: "answer", id: 1, ctns: [] }), s.port);
    await send(peer.socket, new Uint8Array(61_000).fill(0x20), s.port);
    await send(peer.socket, encodeInfoMessage({ type: "query", id: 77 }), s.port);
    await until(() => peer.received.length === 1);
    expect(decodeInfoMessage(peer.received[0]!)).toMatchObject({ type: "answer", id: 77 });
    expect(s.stats).toMatchObject({
      queries: 1,
      dropped: { malformed: 3, unexpected: 1, "send-failed": 0 },
    });
  });

  it("the client ignores answers with another id or from another peer and waits for its own", async () => {
    const fake = await udpPeer(); // plays the server, answering by hand
    const intruder = await udpPeer();
    const d = new InfoServerDiscovery({
      server: { address: "127.0.0.1", port: fake.port },
      timeoutMs: 5_000,
    });
    const pending = d.candidates();
    await until(() => fake.received.length === 1);
    const query = decodeInfoMessage(fake.received[0]!);
    const client = fake.from[0]!;
    const answer = (id: number, network: string) =>
      encodeInfoMessage({ type: "answer", id, ctns: [ctn(network, 0)] });
    await send(intruder.socket, answer(query.id, "forged"), client);
    await send(fake.socket, answer((query.id + 1) % 2 ** 32, "stale"), client);
    await send(fake.socket, new TextEncoder().encode("garbage"), client);
    await send(fake.socket, answer(query.id, "genuine"), client);
    expect((await pending).map((c) => c.network)).toEqual(["genuine"]);
    expect(d.stats.dropped).toEqual({ "wrong-source": 1, malformed: 1, unexpected: 1 });
  });
});
