import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  measureLegs,
  measureRun,
  median,
  percentile,
  summarize,
} from "../../../bench/handover/measure.ts";
import { DelayLine, inCidr, oneWayDelayMs } from "../../../bench/handover/delay_relay.ts";
import { handoverTrace } from "./_trace.ts";

/** A 20 ms stream of 20 packets, 5 ms transit, with `drop` lost and `late` held. */
function stream(options: { drop?: number[]; late?: Record<number, number>; dup?: number[] }) {
  const sent = Array.from({ length: 20 }, (_, i) => [i, 1000 + i * 20] as const);
  const arrivals: [number, number, number][] = [];
  for (const [seq, at] of sent) {
    if (options.drop?.includes(seq)) continue;
    arrivals.push([seq, at + 5 + (options.late?.[seq] ?? 0), 0]);
    if (options.dup?.includes(seq)) arrivals.push([seq, at + 6, 1]);
  }
  arrivals.sort((a, b) => a[1] - b[1]);
  return { sent, arrivals };
}

const trace = handoverTrace();

/** The metrics of {@link stream} with `options` over {@link trace}, 20 ms interval. */
const measure = (options: Parameters<typeof stream>[0]) =>
  measureRun({ ...stream(options), trace, intervalMs: 20 });

describe("handover metrics (RFC 6252 Appendix C.5, Figures 6 and 7)", () => {
  it("a clean stream: nothing lost, the gap is one interval, no jitter", () => {
    expect(measure({})).toMatchObject({
      lost: 0,
      duplicated: 0,
      buffered: 0,
      sent: 20,
      interruptionMs: 20,
      jitterMs: 0,
      interArrivalMs: 20,
    });
  });

  it("phase spans become Tauth, Tconf, tunnel, BU, link switch, L3 and the buffering period", () => {
    expect(measure({})).toMatchObject({
      tauthMs: 10,
      tconfMs: 10,
      tunnelMs: 10,
      buMs: 60,
      linkSwitchMs: 3,
      l3HandoverMs: 60,
      bufferingMs: 64,
    });
  });

  it("lost packets widen the interruption to the gap they leave", () => {
    expect(measure({ drop: [10, 11, 12] })).toMatchObject({ lost: 3, interruptionMs: 80 });
  });

  it("packets held by the AR count as buffered, arrive in a burst, and add jitter", () => {
    // Packets 10-12 held until 1260 (a flush); 12 was held less than an interval.
    const m = measure({ late: { 10: 55, 11: 35, 12: 15 } });
    expect(m.lost).toBe(0);
    expect(m.buffered).toBe(2);
    expect(m.interruptionMs).toBe(75); // 1185 (packet 9) -> 1260 (packet 10)
    expect(m.jitterMs).toBeGreaterThan(0);
  });

  it("duplicates are counted, not lost", () => {
    expect(measure({ dup: [3, 4] })).toMatchObject({ duplicated: 2, lost: 0 });
  });

  it("packets sent before the first one received are not counted as lost", () => {
    expect(measure({ drop: [0, 1] })).toMatchObject({ lost: 0, sent: 18 });
  });

  it("median, nearest-rank p90 and summaries over runs", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    const a = measure({});
    const b = measure({ drop: [10] });
    const s = summarize([a, b, b]);
    expect(s.lost).toEqual({ median: 1, p90: 1, n: 3 });
    expect(s.tauthMs?.n).toBe(3);
  });
});

describe("ping-pong switches (RFC 6252 C.1)", () => {
  it("cuts the stream halfway through each dwell and measures each switch on its own", () => {
    const sent = Array.from({ length: 150 }, (_, i) => [i, i * 20] as const);
    const drop = [40, 41, 100];
    const arrivals = sent.filter(([s]) => !drop.includes(s)).map(([s, t]) =>
      [s, t + 5, 0] as const
    );
    const sw = (t: number) => ({
      buProactive: false,
      executeStart: t,
      link: [t, t + 2] as const,
      assigned: t + 3,
      l3Done: t + 4,
    });
    const m = measureLegs({
      sent,
      arrivals,
      before: sw(100),
      legs: [sw(790), sw(1990), sw(2500)],
      intervalMs: 20,
    });
    expect(m.map((x) => x.lost)).toEqual([2, 1, 0]);
    expect(m[0]!.interruptionMs).toBe(60);
    expect(m.every((x) => x.linkSwitchMs === 2 && x.l3HandoverMs === 2)).toBe(true);
  });
});

describe("ping-pong with tunnels re-opened from the current network (RFC 6252 C.1, C.2)", () => {
  it("cuts each dwell halfway between the previous switch and the re-open, not the execution", () => {
    const sent = Array.from({ length: 150 }, (_, i) => [i, i * 20] as const);
    // Packet 90 (sent at 1800) is lost as the tunnel is re-opened for the 2nd switch.
    const arrivals = sent.filter(([s]) => s !== 90).map(([s, t]) => [s, t + 5, 0] as const);
    const sw = (t: number, prepareStart?: number) => ({
      buProactive: true,
      executeStart: t,
      ...(prepareStart === undefined ? {} : { prepareStart }),
      link: [t, t + 2] as const,
      assigned: t + 3,
      l3Done: t + 4,
    });
    // The 2nd switch's slice starts at (1504 + 1800) / 2 = 1652, at its re-open's
    // half-dwell; cut at its execution it would start at (1504 + 2500) / 2 = 2002 and
    // packet 90 would count against the 1st switch.
    const m = measureLegs({
      sent,
      arrivals,
      before: sw(100),
      legs: [sw(1500, 800), sw(2500, 1800)],
      intervalMs: 20,
    });
    expect(m.map((x) => x.lost)).toEqual([0, 1]);
  });
});

describe("multi-interface copy-and-forward (RFC 6252 section 7.6.2)", () => {
  it("reports the dedup window's drops apart from the duplicates that reached the MN", () => {
    const sent = Array.from({ length: 100 }, (_, i) => [i, i * 20] as const);
    const arrivals = sent.map(([s, t]) => [s, t + 5, 0] as const);
    const m = measureRun({
      sent,
      arrivals: [...arrivals, [60, 1206, 1] as const],
      intervalMs: 20,
      trace: {
        buProactive: true,
        copy: [400, 405],
        executeStart: 1000,
        link: [1000, 1003],
        assigned: 1003,
        tunnelDeleted: 1010,
        copyStopped: 1010,
        dedupDropped: 25,
        direct: 1025,
        l3Done: 1025,
      },
    });
    expect(m).toMatchObject({
      lost: 0,
      duplicated: 1,
      dedupDropped: 25,
      copyAfterDisconnectMs: 10,
      linkSwitchMs: 3,
      l3HandoverMs: 22,
    });
  });
});

describe("the wan router's delay line (no netem: delay in user space on the path)", () => {
  it("one-way delay is half the RTT of the path a packet's source or destination is on", () => {
    const rules = [{ cidr: "10.9.0.0/24", rttMs: 100 }, { cidr: "10.9.1.0/24", rttMs: 40 }];
    expect(oneWayDelayMs("10.0.1.2", "10.9.0.2", rules)).toBe(50);
    expect(oneWayDelayMs("10.9.1.2", "10.0.2.1", rules)).toBe(20);
    expect(oneWayDelayMs("10.0.1.2", "10.0.2.1", rules)).toBe(0);
    expect(inCidr("10.9.0.255", "10.9.0.0/24")).toBe(true);
    expect(inCidr("10.9.1.0", "10.9.0.0/24")).toBe(false);
  });

  it("releases packets in order at arrival + delay, FIFO behind a longer delay", () => {
    let now = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const out: [string, number][] = [];
    const line = new DelayLine<string>({
      now: () => now,
      setTimer: (fn, ms) => timers.push({ at: now + ms, fn }),
      emit: (p) => out.push([p, now]),
    });
    line.push("a", 50);
    now = 10;
    line.push("b", 50);
    line.push("c", 0); // behind a and b: waits for them
    while (timers.length > 0) {
      timers.sort((x, y) => x.at - y.at);
      const t = timers.shift()!;
      now = t.at;
      t.fn();
    }
    expect(out).toEqual([["a", 50], ["b", 60], ["c", 60]]);
    expect(line.stats()).toEqual({ passed: 3, dropped: 0, waiting: 0 });
  });

  it("a zero delay with nothing waiting passes at once; a full queue drops", () => {
    const out: number[] = [];
    const line = new DelayLine<number>({
      now: () => 0,
      setTimer: () => {},
      emit: (p) => out.push(p),
      maxQueue: 1,
    });
    line.push(1, 0);
    line.push(2, 10);
    line.push(3, 10);
    expect(out).toEqual([1]);
    expect(line.stats()).toEqual({ passed: 1, dropped: 1, waiting: 1 });
  });
});
