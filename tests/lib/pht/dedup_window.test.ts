import { describe, expect, it } from "npm:vitest@4.1.12";
import { DedupWindow, packetFingerprint } from "../../../lib/pht/dedup_window.ts";

function ipv4(id: number, ttl = 64): Uint8Array {
  const b = new Uint8Array(28);
  b.set([0x45, 0, 0, 28, id >> 8, id & 0xff, 0, 0, ttl, 17, 0xab, 0xcd, 10, 0, 0, 1, 10, 0, 2, 50]);
  return b;
}

describe("DedupWindow (RFC 6252 section 7.6.2, copy-and-forward)", () => {
  it("admits the first copy and counts the second", () => {
    const w = new DedupWindow();
    expect(w.admit(ipv4(1))).toBe(true);
    expect(w.admit(ipv4(2))).toBe(true);
    expect(w.admit(ipv4(1))).toBe(false);
    expect(w.duplicates).toBe(1);
  });

  it("matches a copy whose TTL and checksum a router changed", () => {
    const a = ipv4(7, 64);
    const b = ipv4(7, 63);
    b[10] = 0x12;
    expect(packetFingerprint(a)).toBe(packetFingerprint(b));
    const v6a = new Uint8Array(48);
    v6a[0] = 0x60;
    v6a[7] = 64;
    const v6b = v6a.slice();
    v6b[7] = 63;
    expect(packetFingerprint(v6a)).toBe(packetFingerprint(v6b));
  });

  it("forgets packets beyond its size", () => {
    const w = new DedupWindow({ size: 2 });
    w.admit(ipv4(1));
    w.admit(ipv4(2));
    w.admit(ipv4(3));
    expect(w.admit(ipv4(1))).toBe(true); // evicted
    expect(w.admit(ipv4(3))).toBe(false);
  });

  it("stays bounded over many packets", () => {
    const w = new DedupWindow({ size: 16 });
    for (let i = 0; i < 10_000; i++) expect(w.admit(ipv4(i))).toBe(true);
    expect(w.admit(ipv4(9_999))).toBe(false);
    expect(w.admit(ipv4(0))).toBe(true);
  });

  it("refuses a size below 1", () => {
    expect(() => new DedupWindow({ size: 0 })).toThrow(RangeError);
  });
});
