/**
 * A hand-driven rxjs scheduler for the MPA session tests: timers run only when the
 * test advances the clock, and between timers the promises of the fake ports (and
 * WebCrypto) are given a chance to settle, so that timeouts, lifetimes and latencies
 * elapse in virtual time without sleeping.
 *
 * @module
 */
import { type SchedulerAction, type SchedulerLike, Subscription } from "npm:rxjs@^7.8.2";

interface _Entry {
  readonly at: number;
  readonly order: number;
  readonly action: _Action<unknown>;
  readonly run: () => void;
}

/** A virtual clock that is also an rxjs `SchedulerLike`. */
export class VirtualClock implements SchedulerLike {
  #now: number;
  #order = 0;
  #queue: _Entry[] = [];

  /** @param start the initial time, ms */
  constructor(start = 0) {
    this.#now = start;
  }

  /**
   * The current virtual time.
   *
   * @returns ms
   */
  now(): number {
    return this.#now;
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Schedules work (rxjs `SchedulerLike`).
   *
   * @param work the work
   * @param delay ms
   * @param state its state
   * @returns the action, as a subscription
   */
  schedule<T>(
    work: (this: SchedulerAction<T>, state?: T) => void,
    delay = 0,
    state?: T,
  ): Subscription {
    const action = new _Action<T>(this, work);
    return action.schedule(state, delay);
  }

  /** @internal */
  _enqueue(action: _Action<unknown>, at: number, run: () => void): void {
    this._remove(action);
    this.#queue.push({ at, order: this.#order++, action, run });
    this.#queue.sort((a, b) => a.at - b.at || a.order - b.order);
  }

  /** @internal */
  _remove(action: _Action<unknown>): void {
    this.#queue = this.#queue.filter((e) => e.action !== action);
  }

  /**
   * Lets pending promises settle (a few macrotask turns, no virtual time passes).
   *
   * @returns when settled
   */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setTimeout(r, 0));
  }

  /**
   * Advances virtual time, running every timer due on the way in order and letting
   * promises settle after each.
   *
   * @param ms how far
   * @returns when done
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      const next = this.#queue[0];
      if (next === undefined || next.at > target) break;
      this.#queue.shift();
      this.#now = Math.max(this.#now, next.at);
      next.run();
      await this.settle();
    }
    this.#now = target;
    await this.settle();
  }
}

class _Action<T> extends Subscription implements SchedulerAction<T> {
  readonly #clock: VirtualClock;
  readonly #work: (this: SchedulerAction<T>, state?: T) => void;

  constructor(clock: VirtualClock, work: (this: SchedulerAction<T>, state?: T) => void) {
    super(() => clock._remove(this as _Action<unknown>));
    this.#clock = clock;
    this.#work = work;
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.#clock._enqueue(this as _Action<unknown>, this.#clock.now() + delay, () => {
      if (!this.closed) this.#work.call(this, state);
    });
    return this;
  }
}
