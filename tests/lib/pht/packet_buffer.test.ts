import { describe, expect, it } from "npm:vitest@4.1.12";
import { PacketBuffer } from "../../../lib/pht/packet_buffer.ts";

const p = (n: number) => Uint8Array.of(n);

describe("PacketBuffer (RFC 6252 section 7.6.1)", () => {
  it("drains in arrival order and counts buffered and flushed", () => {
    const b = new PacketBuffer({ maxPackets: 100, maxAgeMs: 1000 });
    for (let i = 0; i < 50; i++) expect(b.push(p(i), i)).toBe(0);
    expect(b.size).toBe(50);
    expect(b.drain(60).map((x) => x[0])).toEqual([...Array(50).keys()]);
    expect(b.size).toBe(0);
    expect(b.stats).toEqual({ buffered: 50, flushed: 50, dropped: { overflow: 0, age: 0 } });
  });

  it("drops the oldest packet when full", () => {
    const b = new PacketBuffer({ maxPackets: 3, maxAgeMs: 1000 });
    for (let i = 0; i < 5; i++) b.push(p(i), 0);
    expect(b.drain(0).map((x) => x[0])).toEqual([2, 3, 4]);
    expect(b.stats.dropped).toEqual({ overflow: 2, age: 0 });
  });

  it("drops packets older than the age bound on push and drain", () => {
    const b = new PacketBuffer({ maxPackets: 10, maxAgeMs: 100 });
    b.push(p(1), 0);
    b.push(p(2), 50);
    expect(b.push(p(3), 101)).toBe(1); // packet 1 is 101 ms old
    expect(b.drain(151).map((x) => x[0])).toEqual([3]); // packet 2 is 101 ms old
    expect(b.stats.dropped).toEqual({ overflow: 0, age: 2 });
  });

  it("keeps a packet exactly as old as the bound", () => {
    const b = new PacketBuffer({ maxPackets: 10, maxAgeMs: 100 });
    b.push(p(1), 0);
    expect(b.drain(100).length).toBe(1);
  });

  it("counts what clear() throws away as age drops", () => {
    const b = new PacketBuffer();
    b.push(p(1), 0);
    b.push(p(2), 0);
    expect(b.clear()).toBe(2);
    expect(b.stats.dropped.age).toBe(2);
    expect(b.drain(0)).toEqual([]);
  });

  it("stays in order across many overflows (internal compaction)", () => {
    const b = new PacketBuffer({ maxPackets: 10, maxAgeMs: 1e9 });
    for (let i = 0; i < 5000; i++) b.push(Uint8Array.of(i & 0xff, i >> 8), i);
    const out = b.drain(5000).map((x) => x[0]! + (x[1]! << 8));
    expect(out).toEqual([...Array(10).keys()].map((i) => 4990 + i));
    expect(b.stats.dropped.overflow).toBe(4990);
  });

  it("refuses bad bounds", () => {
    expect(() => new PacketBuffer({ maxPackets: 0 })).toThrow(RangeError);
    expect(() => new PacketBuffer({ maxAgeMs: -1 })).toThrow(RangeError);
  });
});
