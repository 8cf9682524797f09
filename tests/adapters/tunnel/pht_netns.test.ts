/**
 * End to end, through the kernel: the proactive handover tunnel between an MN and
 * the CTN's access router in network namespaces, with TUN devices at both ends
 * (RFC 6252 sections 6.3 steps 2 and 4-6, 7.4, 7.6.1, Appendix B). Topology in
 * tests/fixtures/tunnel/_pht_topology.ts; the MN, AR and CN run as Deno children in
 * their namespaces. Needs root and /dev/net/tun; skipped otherwise (runs in CI).
 *
 * Replayed and forged frames are covered by the PHT endpoints' loopback tests
 * (tests/adapters/tunnel/pht_*.test.ts); here the AR's counters are only checked to
 * stay at zero on the kernel path.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { canUseNetns } from "../../fixtures/netns/netns_lab.ts";
import {
  ADDR,
  buildPhtTestbed,
  type PhtChildren,
  type PhtTestbed,
  startPht,
} from "../../fixtures/tunnel/_pht_topology.ts";

const ok = canUseNetns({ tun: true });
const SKIP = "needs root and /dev/net/tun (runs in CI)";

interface Stats {
  pht: Record<string, number>;
  glue: { fromKernel: number; toKernel: number; dropped: number; deliver: Record<string, number> };
}

interface Received {
  seqs: number[];
  times: number[];
}

describe("PHT through TUN devices in network namespaces (RFC 6252 section 6.3)", () => {
  let bed: PhtTestbed;
  let c: PhtChildren;

  beforeAll(async () => {
    if (!ok) return;
    bed = await buildPhtTestbed("mpatn");
    c = await startPht(bed);
  }, 40_000);

  afterAll(async () => {
    await bed?.lab.dispose();
  }, 20_000);

  it.skipIf(!ok)(
    `${SKIP}: section 7.4 - the AR routes the nCoA into its TUN and proxies ARP for it on the CTN link`,
    async () => {
      const state = await c.ar.request<{
        routes: { dst: string; dev: string }[];
        proxies: { dst: string }[];
      }>("kernelState", { ctnInterface: "cellb" });
      expect(state.routes).toContainEqual(
        expect.objectContaining({ dst: ADDR.nCoA, dev: expect.stringMatching(/^pht\d+$/) }),
      );
      expect(state.proxies).toContainEqual(
        expect.objectContaining({ dst: ADDR.nCoA }),
      );
    },
  );

  it.skipIf(!ok)(
    `${SKIP}: section 6.3 step 3 - a ping from the CN to the nCoA reaches the MN through the PHT and the reply returns through it`,
    async () => {
      const before = await c.ar.request<Stats>("stats");
      const ping = await bed.lab.exec(bed.ns.cn, [
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "3",
        ADDR.nCoA,
      ]);
      expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
      const ar = await c.ar.request<Stats>("stats");
      const mn = await c.mn.request<Stats>("stats");
      // Echo requests: CN -> AR kernel -> AR TUN -> PHT -> MN TUN -> MN kernel.
      expect((ar.glue.deliver.tunnelled ?? 0) - (before.glue.deliver.tunnelled ?? 0)).toBe(3);
      expect(mn.glue.toKernel).toBeGreaterThanOrEqual(3);
      // Echo replies: MN kernel (from nCoA, policy rule) -> MN TUN -> PHT -> AR TUN -> CN.
      expect(mn.glue.fromKernel).toBeGreaterThanOrEqual(3);
      expect(ar.glue.toKernel - before.glue.toKernel).toBeGreaterThanOrEqual(3);
      expect(ar.pht.replayed).toBe(0);
      expect(ar.pht.badAuth).toBe(0);
    },
    20_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: a UDP stream at 50 packets/s from the CN to the nCoA arrives at the MN through the tunnel, in order`,
    async () => {
      await c.mn.request("udpListen", { port: 5001 });
      const before = await c.ar.request<Stats>("stats");
      const { sent } = await c.cn.request<{ sent: number }>("stream", {
        to: ADDR.nCoA,
        port: 5001,
        rate: 50,
        count: 50,
      });
      expect(sent).toBe(50);
      // The last datagram left the CN; wait until the MN has it (or give up after 3 s).
      let got: Received = { seqs: [], times: [] };
      for (let i = 0; i < 30 && got.seqs.length < 50; i++) {
        got = await c.mn.request<Received>("udpReceived", { port: 5001 });
        if (got.seqs.length < 50) await new Promise((r) => setTimeout(r, 100));
      }
      expect(got.seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
      const ar = await c.ar.request<Stats>("stats");
      expect((ar.glue.deliver.tunnelled ?? 0) - (before.glue.deliver.tunnelled ?? 0)).toBe(50);
    },
    20_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: section 7.6.1 - buffering across a 300 ms link switch loses nothing; the AR hears the MN's ARP (Appendix B) and flushes`,
    async () => {
      await bufferedSwitch(bed, c, { port: 5002, trigger: "arp" });
    },
    30_000,
  );
});

describe("PHT link switch flushed by the MN (RFC 6252 section 7.6.1)", () => {
  let bed: PhtTestbed;
  let c: PhtChildren;

  beforeAll(async () => {
    if (!ok) return;
    bed = await buildPhtTestbed("mpatn");
    c = await startPht(bed, { detectAttachment: false });
  }, 40_000);

  afterAll(async () => {
    await bed?.lab.dispose();
  }, 20_000);

  it.skipIf(!ok)(
    `${SKIP}: buffering across a 300 ms link switch loses nothing when the MN asks the AR to flush from its new link`,
    async () => {
      await bufferedSwitch(bed, c, { port: 5003, trigger: "flush" });
    },
    30_000,
  );
});

/**
 * Section 6.3 steps 4-6 with buffering (section 7.6.1) under a 50 packets/s UDP
 * stream from the CN: every packet must arrive exactly once.
 */
async function bufferedSwitch(
  bed: PhtTestbed,
  c: PhtChildren,
  options: { readonly port: number; readonly trigger: "arp" | "flush" },
): Promise<void> {
  const { port } = options;
  const count = 150; // 3 s at 50 packets/s
  await c.mn.request("udpListen", { port });
  const stream = c.cn.request<{ sent: number }>("stream", {
    to: ADDR.nCoA,
    port,
    rate: 50,
    count,
  }, 20_000);
  await new Promise((r) => setTimeout(r, 1_000));
  // Step 4: buffer, then delete the PHT (the AR keeps the buffer) and take the nCoA
  // off the TUN.
  await c.mn.request("buffer");
  await c.mn.request("close");
  // Deleted while buffering: the AR keeps the route to its buffer but no longer
  // answers ARP for the nCoA, which the MN is about to answer on the CTN link.
  const deleted = await c.ar.request<{ routes: { dst: string }[]; proxies: unknown[] }>(
    "kernelState",
    { ctnInterface: "cellb" },
  );
  expect(deleted.routes.map((r) => r.dst)).toContain(ADDR.nCoA);
  expect(deleted.proxies).toEqual([]);
  // Step 5: the link-layer handover, 300 ms without a link.
  await bed.switchLink(300);
  // Step 6: the nCoA goes to the physical interface.
  await c.mn.request("assignPhysical", {
    dev: "eth0",
    cidr: `${ADDR.nCoA}/24`,
    gateway: ADDR.arCtn,
  });
  let flushedByMn: number | undefined;
  if (options.trigger === "flush") {
    flushedByMn = (await c.mn.request<{ flushed: number }>("flush")).flushed;
  } else {
    // The MN's first packet on the link: its ARP for the new router lets the AR hear it.
    const first = await bed.lab.exec(bed.ns.mn, ["ping", "-c", "1", "-W", "2", ADDR.cn]);
    expect(first.stdout).toMatch(/1 received/);
  }
  expect((await stream).sent).toBe(count);
  let got: Received = { seqs: [], times: [] };
  for (let i = 0; i < 30 && new Set(got.seqs).size < count; i++) {
    await new Promise((r) => setTimeout(r, 100));
    got = await c.mn.request<Received>("udpReceived", { port });
  }
  const ar = await c.ar.request<
    Stats & { events: { event: string }[]; pht: { bufferDropped: unknown } }
  >("stats");
  const unique = new Set(got.seqs);
  const lost = count - unique.size;
  const duplicates = got.seqs.length - unique.size;
  let gap = 0;
  for (let i = 1; i < got.times.length; i++) {
    gap = Math.max(gap, got.times[i]! - got.times[i - 1]!);
  }
  const reordered = got.seqs.filter((s, i) => i > 0 && s < got.seqs[i - 1]!).length;
  console.info(
    `PHT buffered switch (${options.trigger}): lost ${lost}, duplicates ${duplicates}, ` +
      `buffered ${ar.pht.buffered}, flushed ${ar.pht.flushed}, largest gap ${gap.toFixed(1)} ms, ` +
      `reordered ${reordered}`,
  );
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
  expect(ar.pht.buffered).toBeGreaterThan(5);
  expect(ar.pht.flushed).toBe(ar.pht.buffered);
  if (flushedByMn !== undefined) expect(flushedByMn).toBe(ar.pht.flushed);
  expect(ar.pht.bufferDropped).toEqual({ overflow: 0, age: 0 });
  expect(ar.events.map((e) => e.event)).toEqual(["up", "deleted", "down"]);
  const state = await c.ar.request<{ routes: { dst: string }[]; proxies: unknown[] }>(
    "kernelState",
    { ctnInterface: "cellb" },
  );
  expect(state.routes.map((r) => r.dst)).not.toContain(ADDR.nCoA);
  expect(state.proxies).toEqual([]);
}
