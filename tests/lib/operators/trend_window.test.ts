import { describe, expect, it } from "npm:vitest@4.1.12";
import { TrendWindow } from "../../../lib/operators/trend_window.ts";

describe("TrendWindow (least-squares slope over a sliding window)", () => {
  it("gives the slope in units per second and NaN until two samples span time", () => {
    const w = new TrendWindow(2000);
    expect(w.push(0, 20)).toBeNaN();
    expect(w.push(0, 21)).toBeNaN();
    expect(w.push(500, 19)).toBeCloseTo(-3, 9);
  });

  it("drops samples at or before t − window and forgets all on reset", () => {
    const w = new TrendWindow(1000);
    w.push(0, 100); // an outlier that must leave the window
    w.push(500, 10);
    expect(w.push(1000, 11)).toBeCloseTo(2, 9); // only 500 and 1000 remain
    w.reset();
    expect(w.push(2000, 5)).toBeNaN();
  });

  it("stays exact over long runs at epoch timestamps (rebasing and growth)", () => {
    const w = new TrendWindow(2000);
    let slope = NaN;
    const t0 = 1.8e12;
    for (let i = 0; i < 20_000; i++) slope = w.push(t0 + i * 10, 50 - i * 0.03);
    expect(slope).toBeCloseTo(-3, 9);
  });
});
