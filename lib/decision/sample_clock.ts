/**
 * A virtual-time scheduler driven by the data: `decide` advances it to each
 * sample's `t` before handling the sample, so dwell timers fire at their exact due
 * time in sample time, and the same trace always gives the same decisions whether
 * it is replayed at full speed or arrives live (no hidden clocks).
 *
 * @module
 */
import { VirtualAction, VirtualTimeScheduler } from "npm:rxjs@^7.8.2";

/**
 * A {@link VirtualTimeScheduler} whose time is moved forward by {@link SampleClock.advanceTo}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { timer } from "npm:rxjs@^7.8.2";
 * const clock = new SampleClock(1000);
 * const fired: number[] = [];
 * timer(256, clock).subscribe(() => fired.push(clock.now()));
 * clock.advanceTo(1200);
 * assertEquals(fired, []);
 * clock.advanceTo(1300);
 * assertEquals(fired, [1256]);
 * assertEquals(clock.now(), 1300);
 * ```
 */
export class SampleClock extends VirtualTimeScheduler {
  /**
   * Creates a clock that starts at `start` with no timers scheduled.
   *
   * @param start the initial time, ms (default 0)
   */
  constructor(start = 0) {
    super(VirtualAction, 0);
    this.frame = start;
  }

  /**
   * Runs every timer due at or before `t`, each at its own due time, then sets the
   * time to `t`. Earlier times are ignored (time never goes backwards).
   *
   * @param t the new time, ms
   */
  advanceTo(t: number): void {
    if (t < this.frame) return;
    this.maxFrames = t;
    this.flush();
    this.frame = t;
  }
}
