import { describe, expect, it } from "npm:vitest@4.1.12";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import { runReducer } from "../../../lib/decision/_run_reducer.ts";

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Emits the running sum on odd inputs, twice the input on multiples of 4, nothing otherwise. */
const step = (sum: number, n: number): readonly [number, readonly number[]] => {
  const next = sum + n;
  const out: number[] = [];
  if (n % 2 === 1) out.push(next);
  if (n % 4 === 0) out.push(n, n);
  return [next, out];
};

describe("runReducer", () => {
  it("emits every output of each step in order, keeping state between events", () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold("a-b-c----d|", { a: 1, b: 2, c: 4, d: 3 });
      expectObservable(src.pipe(runReducer(step, 0))).toBe("a---(cc)-d|", { a: 1, c: 4, d: 10 });
    });
  });

  it("keeps state per subscription and reports each new state", () => {
    const seen: number[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const op = cold("a-a|", { a: 1 }).pipe(runReducer(step, 0, (s) => seen.push(s)));
      expectObservable(op).toBe("a-b|", { a: 1, b: 2 });
      expectObservable(op).toBe("a-b|", { a: 1, b: 2 });
    });
    // both subscriptions run interleaved in virtual time, each with its own sum
    expect(seen).toEqual([1, 1, 2, 2]);
  });

  it("propagates a source error and turns a throwing step into an error", () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold("a-#", { a: 1 }).pipe(runReducer(step, 0))).toBe("a-#", { a: 1 });
      const boom = new Error("bad event");
      const throwing = runReducer((_: number, n: number): readonly [number, readonly number[]] => {
        if (n > 1) throw boom;
        return [n, [n]];
      }, 0);
      expectObservable(cold("a-b-c|", { a: 1, b: 2, c: 3 }).pipe(throwing)).toBe(
        "a-#",
        { a: 1 },
        boom,
      );
    });
  });

  it("stops at an early unsubscribe", () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold("a-b-c-d|", { a: 1, b: 3, c: 5, d: 7 });
      expectObservable(src.pipe(runReducer(step, 0)), "^--!").toBe("a-b", { a: 1, b: 4 });
      expectSubscriptions(src.subscriptions).toBe("^--!");
    });
  });
});
