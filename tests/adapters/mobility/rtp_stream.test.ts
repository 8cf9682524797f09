import { describe, expect, it } from "npm:vitest@4.1.12";
import { UdpDatagramTransport } from "../../../adapters/mobility/datagram_transport.ts";
import { RtpReceiver, RtpSender } from "../../../adapters/mobility/rtp_stream.ts";
import { decodeRtp, encodeRtp } from "../../../lib/wire/rtp.ts";

const FROM = { address: "192.0.2.1", port: 4000 };

function packet(seq: number, timestamp = seq * 160, ssrc = 7): Uint8Array {
  return encodeRtp({
    payloadType: 0,
    sequence: seq,
    timestamp,
    ssrc,
    payload: new Uint8Array(160),
  });
}

describe("RtpReceiver statistics (RFC 3550 appendices A.1, A.3, A.8)", () => {
  it("counts loss over the extended sequence range (A.3)", () => {
    const rx = new RtpReceiver();
    for (const [seq, at] of [[10, 0], [11, 20], [14, 80], [15, 100]] as const) {
      rx.record(packet(seq), FROM, at);
    }
    const s = rx.stats();
    expect(s).toMatchObject({ received: 4, expected: 6, lost: 2, duplicates: 0, reordered: 0 });
    expect(s.largestGap).toEqual({
      ms: 60,
      afterSequence: 65536 + 11,
      beforeSequence: 65536 + 14,
      from: 20,
    });
    expect(s.bySource).toEqual({ "192.0.2.1:4000": 4 });
  });

  it("extends sequence numbers across the 16-bit wrap (A.1)", () => {
    const rx = new RtpReceiver();
    [65534, 65535, 0, 1].forEach((seq, i) => rx.record(packet(seq, i * 160), FROM, i * 20));
    const s = rx.stats();
    expect(s.received).toBe(4);
    expect(s.lost).toBe(0);
    expect(s.highestSequence! - s.firstSequence!).toBe(3);
  });

  it("counts duplicates and reordering separately", () => {
    const rx = new RtpReceiver();
    for (const [seq, at] of [[1, 0], [3, 40], [2, 41], [3, 42], [4, 60]] as const) {
      rx.record(packet(seq), FROM, at);
    }
    expect(rx.stats()).toMatchObject({ received: 4, duplicates: 1, reordered: 1, lost: 0 });
    expect(rx.arrivals().map((a) => a.duplicate)).toEqual([false, false, false, true, false]);
  });

  it("computes interarrival jitter as in A.8 (J += (|D| - J) / 16)", () => {
    const rx = new RtpReceiver({ clockRate: 8000 });
    // 20 ms packets; the third arrives 10 ms late: D = 80 timestamp units, J = 5 units.
    rx.record(packet(1, 160), FROM, 0);
    rx.record(packet(2, 320), FROM, 20);
    rx.record(packet(3, 480), FROM, 50);
    expect(rx.stats().jitterMs).toBeCloseTo(0.625, 9);
    // Perfectly paced packets leave it decaying: J = 5 * 15/16 units.
    rx.record(packet(4, 640), FROM, 70);
    expect(rx.stats().jitterMs).toBeCloseTo((5 * 15 / 16) / 8, 9);
  });

  it("drops and counts datagrams that are not RTP or of another SSRC", () => {
    const rx = new RtpReceiver();
    rx.record(new Uint8Array([1, 2, 3]), FROM, 0);
    rx.record(packet(1), FROM, 1);
    rx.record(packet(2, 320, 99), FROM, 2);
    expect(rx.stats()).toMatchObject({ received: 1, malformed: 2 });
  });
});

describe("RtpSender", () => {
  it("sends PT 0, 160-byte payloads, sequence +1 and timestamp +160, one SSRC, and retargets at once", async () => {
    const tx = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
    const a = await RtpReceiver.listen({ address: "127.0.0.1", port: 0 });
    const b = await RtpReceiver.listen({ address: "127.0.0.2", port: 0 });
    const raw: Uint8Array[] = [];
    const probe = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
    probe.onMessage((bytes) => raw.push(bytes.slice()));
    const sender = new RtpSender({ transport: tx, target: probe.local, packetsPerSecond: 200 });
    try {
      sender.start();
      while (raw.length < 3) await new Promise((r) => setTimeout(r, 5));
      sender.retarget(a.local.address, a.local.port);
      await a.waitFor((s) => s.received >= 5);
      sender.retarget(b.local.address, b.local.port);
      const before = sender.stats().packetsSent;
      await b.waitFor((s) => s.received >= 5);
      sender.stop();
      const p = raw.slice(0, 3).map(decodeRtp);
      expect(p.map((x) => x.payloadType)).toEqual([0, 0, 0]);
      expect(p.map((x) => x.payload.length)).toEqual([160, 160, 160]);
      expect(p[1]!.sequence).toBe((p[0]!.sequence + 1) % 65536);
      expect(p[2]!.timestamp).toBe((p[0]!.timestamp + 320) % 2 ** 32);
      expect(new Set(p.map((x) => x.ssrc))).toEqual(new Set([sender.ssrc]));
      // Every packet after the retarget goes to b, none to a.
      const aCount = a.stats().received;
      await new Promise((r) => setTimeout(r, 30));
      expect(a.stats().received).toBe(aCount);
      expect(a.stats().received + b.stats().received + raw.length).toBeLessThanOrEqual(
        sender.stats().packetsSent,
      );
      expect(sender.retargets().map((r) => r.to)).toEqual([
        `127.0.0.1:${a.local.port}`,
        `127.0.0.2:${b.local.port}`,
      ]);
      expect(sender.retargets()[1]!.nextIndex).toBe(before);
      const recs = sender.records();
      expect(recs.every((r, i) => r.index === i)).toBe(true);
      expect(b.stats().lost).toBe(0);
    } finally {
      sender.stop();
      await Promise.all([tx.close(), a.close(), b.close(), probe.close()]);
    }
  });

  it("schedules by absolute time: a late timer catches up, so the count follows the clock", async () => {
    let clock = 1000;
    const sent: number[] = [];
    const transport = {
      local: { address: "127.0.0.1", port: 1 },
      send: () => {
        sent.push(clock);
        return Promise.resolve();
      },
      onMessage: () => {},
      close: () => Promise.resolve(),
    };
    const sender = new RtpSender({
      transport,
      target: { address: "127.0.0.1", port: 2 },
      now: () => clock,
    });
    sender.start(); // packet 0 at 1000
    clock = 1105; // the timer is 85 ms late: packets 1..5 (due 1020..1100) are due
    while (sender.stats().packetsSent < 6) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30)); // the clock stands still: nothing more is due
    sender.stop();
    expect(sender.stats().packetsSent).toBe(6);
    expect(sender.records().map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
