import type { MonoTypeOperatorFunction, SchedulerLike } from "npm:rxjs@^7.8.2";

/** Options of {@link timeToTrigger}. */
export interface TimeToTriggerOptions<T> {
  /** Condition key (one timer per key), e.g. the PoA id. */
  readonly key: (value: T) => string;
  /** Whether the value says the condition holds. */
  readonly holds: (value: T) => boolean;
  /** Dwell time, ms. Default 256. */
  readonly dwell?: number;
  /** Scheduler for the dwell timers. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
}

/** TODO(H1) */
export function timeToTrigger<T>(
  _options: TimeToTriggerOptions<T>,
): MonoTypeOperatorFunction<T> {
  throw new Error("Not implemented");
}
