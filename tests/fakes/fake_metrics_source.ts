/**
 * In-memory {@link MetricsSource}: replays literal samples, each at its own `t`
 * (relative to the first) on the given scheduler, or all at once without one.
 *
 * @module
 */
import {
  concat,
  from,
  map,
  mergeMap,
  Observable,
  type SchedulerLike,
  throwError,
  timer,
} from "npm:rxjs@^7.8.2";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import { type MetricsSource, PortError, type PortErrorCode } from "../../lib/ports.ts";

/** Options of {@link FakeMetricsSource}. */
export interface FakeMetricsSourceOptions {
  /**
   * Emits each sample `sample.t - samples[0].t` ms after subscription on this
   * scheduler; without one, all samples are emitted synchronously.
   */
  readonly scheduler?: SchedulerLike;
  /** Errors with a {@link PortError} of this code after the samples instead of completing. */
  readonly failWith?: PortErrorCode;
}

/** A cold, replaying metrics source; counts its subscriptions. */
export class FakeMetricsSource implements MetricsSource {
  readonly #samples: readonly LinkSample[];
  readonly #options: FakeMetricsSourceOptions;
  #subscriptions = 0;

  /**
   * @param samples the samples, `t` never decreasing
   * @param options timing and failure
   */
  constructor(
    samples: readonly LinkSample[],
    options: FakeMetricsSourceOptions = {},
  ) {
    this.#samples = samples;
    this.#options = options;
  }

  /** How many times {@link FakeMetricsSource.samples} was subscribed. */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  /**
   * The samples, replayed per subscription.
   *
   * @returns a cold observable
   */
  samples(): Observable<LinkSample> {
    return new Observable<LinkSample>((subscriber) => {
      this.#subscriptions++;
      const { scheduler, failWith } = this.#options;
      const t0 = this.#samples[0]?.t ?? 0;
      const replay = scheduler === undefined ? from(this.#samples) : from(this.#samples).pipe(
        mergeMap((s) => timer(s.t - t0, scheduler).pipe(map(() => s))),
      );
      const tail = failWith === undefined ? [] : throwError(() =>
        new PortError(
          "MetricsSource",
          failWith,
          `Scripted failure: MetricsSource ${failWith}`,
        )
      );
      return concat(replay, tail).subscribe(subscriber);
    });
  }
}
