/**
 * Runs a pure reducer `(state, event) => [state, outputs]` over a stream and emits
 * its outputs one by one: `scan` followed by flattening the output arrays, in one
 * operator. `decide` uses it on its hot path, where `scan` + `mergeMap` built an
 * inner observable per event and cost about a third of the pipeline's time
 * (bench/decision_bench.ts).
 *
 * @module
 */
import { Observable, type OperatorFunction } from "npm:rxjs@^7.8.2";

/**
 * Runs `step` over the events with state kept per subscription, emitting every
 * output in order. A throwing step errors the stream.
 *
 * @param step the reducer
 * @param initial the state before the first event
 * @param onState called with each new state before its outputs are emitted
 * @returns the operator
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const sums = from([1, 2, 3]).pipe(
 *   runReducer((sum: number, n: number) => [sum + n, n % 2 === 1 ? [sum + n] : []] as const, 0),
 * );
 * assertEquals(await lastValueFrom(sums.pipe(toArray())), [1, 6]);
 * ```
 */
export function runReducer<S, E, O>(
  step: (state: S, event: E) => readonly [S, readonly O[]],
  initial: S,
  onState?: (state: S) => void,
): OperatorFunction<E, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      let state = initial;
      return source.subscribe({
        next(event) {
          let outputs: readonly O[];
          try {
            const [next, out] = step(state, event);
            state = next;
            onState?.(next);
            outputs = out;
          } catch (error) {
            subscriber.error(error);
            return;
          }
          for (let i = 0; i < outputs.length && !subscriber.closed; i++) {
            subscriber.next(outputs[i]!);
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
