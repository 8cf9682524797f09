import { describe, expect, it } from "npm:vitest@4.1.12";
import { ReplayWindow } from "../../../lib/pht/replay_window.ts";

describe("ReplayWindow (RFC 4303 section 3.4.3, Appendix A)", () => {
  it("accepts new numbers in order and refuses each a second time", () => {
    const w = new ReplayWindow();
    for (let s = 1n; s <= 100n; s++) {
      expect(w.check(s)).toBe("ok");
      w.accept(s);
      expect(w.check(s)).toBe("duplicate");
    }
    expect(w.highest).toBe(100n);
  });

  it("refuses sequence number 0", () => {
    expect(new ReplayWindow().check(0n)).toBe("invalid");
  });

  it("accepts late numbers inside the window once, refuses numbers left of it", () => {
    const w = new ReplayWindow({ size: 64 });
    w.accept(100n);
    expect(w.check(37n)).toBe("ok"); // 100 - 37 = 63 < 64: the window's left edge
    expect(w.check(36n)).toBe("stale"); // 64 behind
    w.accept(37n);
    expect(w.check(37n)).toBe("duplicate");
    expect(w.check(99n)).toBe("ok");
  });

  it("forgets bits when the window slides so reused positions are fresh", () => {
    const w = new ReplayWindow({ size: 32 });
    w.accept(5n);
    w.accept(37n); // 37 mod 32 = 5: same bit position, 5 is now left of the window
    expect(w.check(5n)).toBe("stale");
    expect(w.check(36n)).toBe("ok");
    expect(w.check(6n)).toBe("ok"); // 37 - 6 = 31: inside, never seen
    w.accept(6n);
    expect(w.check(6n)).toBe("duplicate");
  });

  it("clears the whole window on a jump wider than the window", () => {
    const w = new ReplayWindow({ size: 32 });
    for (let s = 1n; s <= 32n; s++) w.accept(s);
    w.accept(1000n);
    expect(w.check(999n)).toBe("ok");
    expect(w.check(969n)).toBe("ok");
    expect(w.check(968n)).toBe("stale");
  });

  it("only an accepted (authenticated) number moves the window", () => {
    const w = new ReplayWindow({ size: 32 });
    w.accept(10n);
    expect(w.check(1000n)).toBe("ok"); // a forged frame checks ok but is never accepted
    expect(w.check(9n)).toBe("ok");
    expect(w.highest).toBe(10n);
  });

  it("handles 64-bit sequence numbers", () => {
    const w = new ReplayWindow();
    const top = (1n << 64n) - 1n;
    w.accept(top);
    expect(w.check(top)).toBe("duplicate");
    expect(w.check(top - 1023n)).toBe("ok");
    expect(w.check(top - 1024n)).toBe("stale");
  });

  it("refuses sizes that are not positive multiples of 32", () => {
    expect(() => new ReplayWindow({ size: 0 })).toThrow(RangeError);
    expect(() => new ReplayWindow({ size: 100 })).toThrow("Invalid replay window size: 100");
  });
});
