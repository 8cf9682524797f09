/**
 * JSONL link-metrics traces: read a whole trace with line-accurate errors, or replay
 * one as an `Observable<LinkSample>` (the shape of the `MetricsSource` port), either
 * as fast as possible or paced in real time by the samples' `t`.
 *
 * @module
 */
import {
  asyncScheduler,
  Observable,
  type SchedulerLike,
  type Subscription,
  timer,
} from "npm:rxjs@^7.8.2";
import { MetricsValidationError } from "../../lib/errors.ts";
import { type LinkSample, parseLinkSampleLine } from "../../lib/metrics/link_sample.ts";

/** Default name of a trace in error messages when the caller gives none. */
const _DEFAULT_SOURCE = "<trace>";

/**
 * How a replay is paced: `fast` emits every sample as soon as it is read, `realtime`
 * emits the first at once and each later one when the scheduler's clock has advanced
 * by its `t` minus the first sample's `t`.
 */
export type Pace = "realtime" | "fast";

/**
 * A line of a trace that is not a valid {@link LinkSample}. The message reads
 * `FILE:LINE: why`, e.g. `walk.jsonl:3: Invalid snr: expected a finite number, got "x"`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new TraceError("walk.jsonl", 3, "snr", "Invalid snr: NaN");
 * assertEquals(e.message, "walk.jsonl:3: Invalid snr: NaN");
 * assertEquals([e.source, e.line, e.field], ["walk.jsonl", 3, "snr"]);
 * ```
 */
export class TraceError extends Error {
  /** Always `TraceError`. */
  override readonly name = "TraceError";
  /** The trace's name (a file path, say). */
  readonly source: string;
  /** The offending line, 1-based, counting blank lines. */
  readonly line: number;
  /** The offending field as a dotted path (`t`, `snr`, `pos.x`, `json`, ...). */
  readonly field: string;

  /**
   * Creates the error; the message is `SOURCE:LINE: reason`.
   *
   * @param source the trace's name
   * @param line the offending line, 1-based
   * @param field the offending field
   * @param reason why the line is refused (becomes the message after `FILE:LINE: `)
   * @param options the underlying error as `cause`
   */
  constructor(
    source: string,
    line: number,
    field: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`${source}:${line}: ${reason}`, options);
    this.source = source;
    this.line = line;
    this.field = field;
  }
}

/** Options of {@link replayTrace}. */
export interface ReplayTraceOptions {
  /** Pacing; see {@link Pace}. */
  readonly pace: Pace;
  /** The trace's name in error messages. Default `<trace>`. */
  readonly source?: string;
  /** Clock and timers for `realtime` pacing. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Options of {@link replaySamples}. */
export interface ReplaySamplesOptions {
  /** Pacing; see {@link Pace}. */
  readonly pace: Pace;
  /** Clock and timers for `realtime` pacing. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Parses the lines of one trace in order, counting lines and checking time order. */
class _TraceParser {
  readonly #source: string;
  #line = 0;
  #previousT: number | undefined;

  constructor(source: string) {
    this.#source = source;
  }

  /** Parses the next line; `undefined` for a blank one. */
  feed(text: string): LinkSample | undefined {
    this.#line++;
    if (text.trim() === "") return undefined;
    try {
      const sample = parseLinkSampleLine(text, this.#previousT);
      this.#previousT = sample.t;
      return sample;
    } catch (error) {
      if (error instanceof MetricsValidationError) {
        throw new TraceError(
          this.#source,
          this.#line,
          error.field,
          error.message,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

function _lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/**
 * Parses a whole JSONL trace. Blank lines are skipped (but counted for line numbers);
 * `t` must never decrease.
 *
 * @param text the trace, one JSON sample per line
 * @param source the trace's name in error messages, default `<trace>`
 * @returns the samples in order
 * @throws {TraceError} for the first invalid line, message `FILE:LINE: why`
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const text = '{"t":0,"poa":"a1","network":"domainA","snr":20}\n\n{"t":100,"poa":"a1","network":"domainA","snr":19.5}\n';
 * assertEquals(readTrace(text).map((s) => s.snr), [20, 19.5]);
 * assertThrows(
 *   () => readTrace('{"t":5,"poa":"a1","network":"A","snr":1}\n{"t":4,"poa":"a1","network":"A","snr":1}', "x.jsonl"),
 *   TraceError,
 *   "x.jsonl:2: Invalid t: time goes backwards: 4 after 5",
 * );
 * ```
 */
export function readTrace(
  text: string,
  source: string = _DEFAULT_SOURCE,
): LinkSample[] {
  const parser = new _TraceParser(source);
  const out: LinkSample[] = [];
  for (const line of _lines(text)) {
    const sample = parser.feed(line);
    if (sample !== undefined) out.push(sample);
  }
  return out;
}

function _isAsync<T>(
  items: Iterable<T> | AsyncIterable<T>,
): items is AsyncIterable<T> {
  return typeof (items as Partial<Iterable<T>>)[Symbol.iterator] !== "function";
}

/**
 * Emits what `read` makes of each item, pulling the next item only when the previous
 * sample is out (so a slow real-time replay never reads ahead, and a bad line is
 * reported when the replay reaches it).
 */
function _paced<T>(
  items: Iterable<T> | AsyncIterable<T>,
  makeReader: () => (item: T) => LinkSample | undefined,
  pace: Pace,
  scheduler: SchedulerLike,
): Observable<LinkSample> {
  return new Observable<LinkSample>((subscriber) => {
    const read = makeReader();
    const asyncIterator = _isAsync(items) ? items[Symbol.asyncIterator]() : undefined;
    const syncIterator = _isAsync(items) ? undefined : items[Symbol.iterator]();
    let origin: { readonly t: number; readonly at: number } | undefined;
    let wait: Subscription | undefined;
    let finished = false;

    /** Emits (or schedules) one item; false when pulling must wait for a timer or the end. */
    const settle = (result: IteratorResult<T>): boolean => {
      if (result.done) {
        finished = true;
        subscriber.complete();
        return false;
      }
      const sample = read(result.value);
      if (sample === undefined) return true;
      if (pace === "realtime") {
        const now = scheduler.now();
        origin ??= { t: sample.t, at: now };
        const delay = origin.at + (sample.t - origin.t) - now;
        if (delay > 0) {
          wait = timer(delay, scheduler).subscribe(() => {
            wait = undefined;
            subscriber.next(sample);
            pump();
          });
          return false;
        }
      }
      subscriber.next(sample);
      return true;
    };

    const onAsync = (result: IteratorResult<T>): void => {
      if (subscriber.closed) return;
      try {
        if (settle(result)) pump();
      } catch (error) {
        subscriber.error(error);
      }
    };

    const pump = (): void => {
      try {
        if (asyncIterator !== undefined) {
          if (!subscriber.closed) {
            asyncIterator.next().then(
              onAsync,
              (error: unknown) => subscriber.error(error),
            );
          }
          return;
        }
        while (!subscriber.closed && settle(syncIterator!.next())) {
          // keep pulling: each item was emitted at once
        }
      } catch (error) {
        subscriber.error(error);
      }
    };

    pump();
    return () => {
      wait?.unsubscribe();
      if (finished) return;
      finished = true;
      try {
        syncIterator?.return?.();
        asyncIterator?.return?.()?.catch(() => {});
      } catch {
        // The source is being abandoned; a failure to close it has nobody to report to.
      }
    };
  });
}

/**
 * Replays JSONL lines (a file read line by line, an array, a `ReadableStream` of
 * lines) as samples. Blank lines are skipped; a malformed line or a decreasing `t`
 * ends the stream with a {@link TraceError} naming `source:line`, after the samples
 * before it. A string is taken as a whole trace and split into lines. Each
 * subscription replays from the start (for iterables that can be iterated again).
 *
 * @param lines the trace's lines
 * @param options pacing, the trace's name for errors, and the scheduler
 * @returns the samples; implements the `MetricsSource.samples()` shape
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const got: number[] = [];
 * replayTrace(['{"t":0,"poa":"a1","network":"A","snr":3}', ""], { pace: "fast" })
 *   .subscribe((s) => got.push(s.snr));
 * assertEquals(got, [3]);
 * ```
 */
export function replayTrace(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ReplayTraceOptions,
): Observable<LinkSample> {
  const source = options.source ?? _DEFAULT_SOURCE;
  const items = typeof lines === "string" ? _lines(lines) : lines;
  return _paced(
    items,
    () => {
      const parser = new _TraceParser(source);
      return (line: string) => parser.feed(line);
    },
    options.pace,
    options.scheduler ?? asyncScheduler,
  );
}

/**
 * Emits already-validated samples (a simulated trace, say) with the same pacing as
 * {@link replayTrace}.
 *
 * @param samples the samples, in time order
 * @param options pacing and the scheduler
 * @returns the samples
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const got: string[] = [];
 * replaySamples([{ t: 0, poa: "a1", network: "A", snr: 3 }], { pace: "fast" })
 *   .subscribe((s) => got.push(s.poa));
 * assertEquals(got, ["a1"]);
 * ```
 */
export function replaySamples(
  samples: Iterable<LinkSample> | AsyncIterable<LinkSample>,
  options: ReplaySamplesOptions,
): Observable<LinkSample> {
  return _paced(
    samples,
    () => (sample: LinkSample) => sample,
    options.pace,
    options.scheduler ?? asyncScheduler,
  );
}
