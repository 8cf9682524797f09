import { describe, expect, it } from "npm:vitest@4.1.12";
import { timer } from "npm:rxjs@^7.8.2";
import { SampleClock } from "../../../lib/decision/sample_clock.ts";

describe("SampleClock", () => {
  it("fires each timer at its own due time while advancing to the next sample", () => {
    const clock = new SampleClock(1000);
    const fired: Array<[string, number]> = [];
    timer(256, clock).subscribe(() => fired.push(["a", clock.now()]));
    timer(50, clock).subscribe(() => fired.push(["b", clock.now()]));
    clock.advanceTo(1100);
    expect(fired).toEqual([["b", 1050]]);
    expect(clock.now()).toBe(1100);
    clock.advanceTo(1256);
    expect(fired).toEqual([["b", 1050], ["a", 1256]]);
  });

  it("schedules timers started by a timer relative to the firing time", () => {
    const clock = new SampleClock(0);
    const fired: number[] = [];
    timer(100, clock).subscribe(() => {
      fired.push(clock.now());
      timer(100, clock).subscribe(() => fired.push(clock.now()));
    });
    clock.advanceTo(1000);
    expect(fired).toEqual([100, 200]);
  });

  it("ignores a time in the past and cancelled timers", () => {
    const clock = new SampleClock(500);
    const fired: number[] = [];
    const sub = timer(10, clock).subscribe(() => fired.push(clock.now()));
    sub.unsubscribe();
    clock.advanceTo(400);
    expect(clock.now()).toBe(500);
    clock.advanceTo(600);
    expect(fired).toEqual([]);
  });
});
