/**
 * Time-to-trigger: a condition must hold for a dwell time before it is reported (RFC
 * 6252 section C.1: dwell timers against ping-pong; the timeToTrigger of 3GPP TS 36.331
 * section 5.5.4.1).
 *
 * @module
 */
import {
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";

/** Options of {@link timeToTrigger}. */
export interface TimeToTriggerOptions<T> {
  /** Condition key (one timer per key), e.g. the PoA id. */
  readonly key: (value: T) => string;
  /** Whether the value says the condition holds. */
  readonly holds: (value: T) => boolean;
  /** Dwell time, ms. Default 256. */
  readonly dwell?: number;
  /**
   * Scheduler for the dwell timers: required, so that the pure core has no hidden
   * clock (`decide` passes its sample clock; live code may pass `asyncScheduler`).
   */
  readonly scheduler: SchedulerLike;
}

const _IDLE = 0;
const _PENDING = 1;
const _FIRED = 2;

/** Per-key state, allocated once per key and mutated in place. */
interface _Key<T> {
  phase: typeof _IDLE | typeof _PENDING | typeof _FIRED;
  /** The holding value to emit when the dwell timer fires (while pending). */
  value: T | undefined;
  /** The pending dwell timer. */
  timer: Subscription | undefined;
}

/**
 * Reports a condition only after it has held for `dwell` ms without interruption (RFC
 * 6252 section C.1 dwell timer; 3GPP TS 36.331 section 5.5.4.1 timeToTrigger), one
 * timer per `key`.
 *
 * Per key: a holding value (`holds(v)` true) on an idle key starts a dwell timer on
 * `scheduler` (due at `scheduler.now() + dwell`); more holding values while it runs
 * only replace the value to be emitted. When the timer fires the latest holding value
 * is emitted and the key is "fired"; further holding values are dropped. A value that
 * does not hold cancels a running timer silently, or, on a fired key, is emitted at
 * once so that downstream learns the condition ended; either way the key goes idle.
 *
 * A dwell of 0 still goes through the scheduler (emits at the same virtual frame).
 * Completion cancels running timers and completes; unsubscribing cancels them too.
 * Errors thrown by `key()` or `holds()` are sent downstream as errors.
 *
 * @param options `key` and `holds` (required), `dwell` (ms, finite, at least 0;
 *   default 256), `scheduler` (required)
 * @returns an operator that delays and de-duplicates condition reports per key
 * @throws {ConfigError} when `dwell` is not a finite number >= 0 (at call time)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { Subject, VirtualTimeScheduler } from "npm:rxjs@^7.8.2";
 * const scheduler = new VirtualTimeScheduler();
 * const input = new Subject<{ poa: string; ok: boolean }>();
 * const out: string[] = [];
 * input.pipe(timeToTrigger({ key: (v) => v.poa, holds: (v) => v.ok, dwell: 100, scheduler }))
 *   .subscribe((v) => out.push(`${scheduler.now()}:${v.poa}:${v.ok}`));
 * input.next({ poa: "ap2", ok: true }); // starts the dwell timer at 0
 * scheduler.maxFrames = 99;
 * scheduler.flush();
 * assertEquals(out, []); // not yet
 * scheduler.maxFrames = 100;
 * scheduler.flush();
 * input.next({ poa: "ap2", ok: false }); // fired: the end is reported at once
 * assertEquals(out, ["100:ap2:true", "100:ap2:false"]);
 * ```
 */
export function timeToTrigger<T>(
  options: TimeToTriggerOptions<T>,
): MonoTypeOperatorFunction<T> {
  const dwell = options.dwell ?? 256;
  if (typeof dwell !== "number" || !Number.isFinite(dwell) || dwell < 0) {
    throw new ConfigError(
      "dwell",
      `Invalid dwell: expected a finite number >= 0, got ${String(dwell)}`,
    );
  }
  const keyOf = options.key;
  const holds = options.holds;
  const scheduler = options.scheduler;

  return (source) =>
    new Observable<T>((subscriber) => {
      // Per-subscription state: one record per key whose condition holds (pending
      // or fired); a key going back to idle is forgotten.
      const keys = new Map<string, _Key<T>>();

      // One work function per subscription; the key record is the action's state.
      function fire(this: SchedulerAction<_Key<T>>, entry?: _Key<T>): void {
        if (entry === undefined || entry.phase !== _PENDING) return;
        const value = entry.value as T;
        entry.phase = _FIRED;
        entry.value = undefined;
        entry.timer = undefined;
        subscriber.next(value);
      }

      const cancelAll = (): void => {
        for (const entry of keys.values()) {
          if (entry.timer !== undefined) {
            entry.timer.unsubscribe();
            entry.timer = undefined;
          }
        }
      };

      const subscription = source.subscribe({
        next(value) {
          if (subscriber.closed) return;
          try {
            const k = keyOf(value);
            const holding = holds(value);
            let entry = keys.get(k);
            if (holding) {
              if (entry === undefined) {
                entry = { phase: _IDLE, value: undefined, timer: undefined };
                keys.set(k, entry);
              }
              if (entry.phase === _IDLE) {
                entry.phase = _PENDING;
                entry.value = value;
                entry.timer = scheduler.schedule(fire, dwell, entry);
              } else if (entry.phase === _PENDING) {
                entry.value = value;
              } // fired: the condition is already reported; drop.
            } else if (entry !== undefined) {
              // Back to idle: forget the key, so state stays bounded by the keys
              // whose condition holds.
              if (entry.phase === _PENDING) {
                entry.timer?.unsubscribe();
                keys.delete(k);
              } else if (entry.phase === _FIRED) {
                keys.delete(k);
                subscriber.next(value);
              }
            }
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          cancelAll();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        cancelAll();
      };
    });
}
