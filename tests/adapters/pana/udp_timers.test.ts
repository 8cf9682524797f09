import { describe, expect, it } from "npm:vitest@4.1.12";
import { _Timers } from "../../../adapters/pana/_udp.ts";
import { SampleClock } from "../../../lib/decision/sample_clock.ts";

describe("PANA adapter timers", () => {
  it("replaces an armed timer and cancels on request", () => {
    const clock = new SampleClock(0);
    const timers = new _Timers(clock);
    const fired: string[] = [];
    timers.arm("a", 100, () => fired.push(`a@${clock.now()}`));
    timers.arm("a", 300, () => fired.push(`a2@${clock.now()}`));
    timers.arm("b", 200, () => fired.push(`b@${clock.now()}`));
    timers.cancel("b");
    clock.advanceTo(1_000);
    expect(fired).toEqual(["a2@300"]);
    expect(timers.size).toBe(0);
  });

  it("waits out delays beyond what a JavaScript timer honours (a long Session-Lifetime)", () => {
    const clock = new SampleClock(0);
    const timers = new _Timers(clock);
    const fired: number[] = [];
    const delay = 4_294_967_295_000; // Session-Lifetime 2^32 - 1 seconds
    timers.arm("life", delay, () => fired.push(clock.now()));
    clock.advanceTo(delay - 1);
    expect(fired).toEqual([]);
    expect(timers.size).toBe(1);
    clock.advanceTo(delay);
    expect(fired).toEqual([delay]);
  });
});
