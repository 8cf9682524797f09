import { describe, expect, it } from "npm:vitest@4.1.12";
import { asyncScheduler, Subject, VirtualTimeScheduler } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import {
  timeToTrigger,
  type TimeToTriggerOptions,
} from "../../../lib/operators/time_to_trigger.ts";
import { ConfigError } from "../../../lib/errors.ts";

interface Cond {
  readonly poa: string;
  readonly ok: boolean;
  readonly n: number;
}

const key = (v: Cond): string => v.poa;
const holds = (v: Cond): boolean => v.ok;

const values: Record<string, Cond> = {
  a: { poa: "ap2", ok: true, n: 1 },
  b: { poa: "ap2", ok: true, n: 2 },
  x: { poa: "ap2", ok: false, n: 3 },
  c: { poa: "ap3", ok: true, n: 4 },
  y: { poa: "ap3", ok: false, n: 5 },
};

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("timeToTrigger (dwell timer, RFC 6252 C.1; 3GPP TS 36.331 5.5.4.1)", () => {
  describe("marbles", () => {
    it("emits a holding value once it has held for the dwell time ('a 299ms |')", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 299ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "256ms a 43ms |",
          values,
        );
        expectSubscriptions(source.subscriptions).toBe("^ 299ms !");
      });
    });

    it("uses a dwell of 256 ms by default", () => {
      // Inside run(), asyncScheduler runs in virtual time.
      scheduler().run(({ hot, expectObservable }) => {
        const source = hot("a 299ms |", values);
        expectObservable(source.pipe(timeToTrigger({ key, holds, scheduler: asyncScheduler })))
          .toBe(
            "256ms a 43ms |",
            values,
          );
      });
    });

    it("does not restart the timer on further holding values, but emits the latest ('a 99ms b')", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        const source = hot("a 99ms b 199ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "256ms b 43ms |",
          values,
        );
      });
    });

    it("cancels silently when the condition ends within the dwell ('a 254ms x'), and restarts later", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        // a@0, x@255 (1 ms short of the dwell), a@300: fires at 556.
        const source = hot("a 254ms x 44ms a 299ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "556ms a 43ms |",
          values,
        );
      });
    });

    it("once fired, drops holding values and emits the end of the condition at once", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        // a@0 fires at 256; b@300 is dropped; x@310 is emitted at once; a@320 fires at 576.
        const source = hot("a 299ms b 9ms x 9ms a 299ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "256ms a 53ms x 265ms a 43ms |",
          values,
        );
      });
    });

    it("ignores a value that does not hold on an idle key", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        const source = hot("x 9ms y 9ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 5, scheduler: ts })),
        ).toBe(
          "20ms |",
        );
      });
    });

    it("keeps one timer per key", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        // a (ap2) @0 → 256; c (ap3) @100 → 356; y@200 cancels ap3 only.
        const one = hot("a 99ms c 299ms |", values);
        expectObservable(
          one.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "256ms a 99ms c 43ms |",
          values,
        );
        const two = hot("a 99ms c 99ms y 199ms |", values);
        expectObservable(
          two.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "256ms a 143ms |",
          values,
        );
      });
    });

    it("with dwell 0 still goes through the scheduler and emits at the same frame", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        const source = hot("a 9ms x 9ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 0, scheduler: ts })),
        ).toBe(
          "a 9ms x 9ms |",
          values,
        );
      });
    });

    it("cancels pending timers and completes when the source completes ('a 9ms |')", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 9ms |", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "10ms |",
        );
        expectSubscriptions(source.subscriptions).toBe("^ 9ms !");
      });
    });

    it("propagates a source error and cancels pending timers", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable }) => {
        const source = hot("a 9ms #", values, new Error("metrics lost"));
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
        ).toBe(
          "10ms #",
          undefined,
          new Error("metrics lost"),
        );
      });
    });

    it("routes an error thrown by key() to the error channel and unsubscribes", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 9ms c 9ms b", values);
        const badKey = (v: Cond): string => {
          if (v.poa === "ap3") throw new Error("no key");
          return v.poa;
        };
        expectObservable(
          source.pipe(
            timeToTrigger({ key: badKey, holds, dwell: 256, scheduler: ts }),
          ),
        ).toBe(
          "10ms #",
          undefined,
          new Error("no key"),
        );
        expectSubscriptions(source.subscriptions).toBe("^ 9ms !");
      });
    });

    it("routes an error thrown by holds() to the error channel; the pending timer never fires", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 9ms b 299ms a", values);
        const badHolds = (v: Cond): boolean => {
          if (v.n === 2) throw new Error("cannot tell");
          return v.ok;
        };
        expectObservable(
          source.pipe(
            timeToTrigger({ key, holds: badHolds, dwell: 256, scheduler: ts }),
          ),
        ).toBe(
          "10ms #",
          undefined,
          new Error("cannot tell"),
        );
        expectSubscriptions(source.subscriptions).toBe("^ 9ms !");
      });
    });

    it("stops on early unsubscribe, before the dwell ends ('^ 99ms !')", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 299ms b", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
          "^ 99ms !",
        ).toBe("");
        expectSubscriptions(source.subscriptions).toBe("^ 99ms !");
      });
    });

    it("stops on early unsubscribe, after it fired ('^ 299ms !')", () => {
      const ts = scheduler();
      ts.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a 299ms x", values);
        expectObservable(
          source.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: ts })),
          "^ 299ms !",
        ).toBe("256ms a", values);
        expectSubscriptions(source.subscriptions).toBe("^ 299ms !");
      });
    });
  });

  describe("driven by a VirtualTimeScheduler advanced to each sample's t", () => {
    /** The lead engineer's driver: run timers due up to t, then deliver the sample at t. */
    function driver(options: Omit<TimeToTriggerOptions<Cond>, "scheduler">) {
      const vts = new VirtualTimeScheduler();
      const input = new Subject<Cond>();
      const out: string[] = [];
      const subscription = input.pipe(
        timeToTrigger({ ...options, scheduler: vts }),
      ).subscribe((v) => out.push(`${vts.now()} ${v.poa} ${v.ok} #${v.n}`));
      const advance = (t: number): void => {
        vts.maxFrames = t;
        vts.flush();
        vts.frame = t;
      };
      const feed = (t: number, v: Cond): void => {
        advance(t);
        input.next(v);
      };
      return { vts, out, subscription, advance, feed };
    }

    it("fires at scheduler.now() + dwell, in absolute virtual time", () => {
      const { out, feed, advance } = driver({ key, holds, dwell: 256 });
      feed(1000, { poa: "ap2", ok: true, n: 1 });
      feed(1100, { poa: "ap2", ok: true, n: 2 });
      feed(1200, { poa: "ap3", ok: true, n: 3 });
      advance(1255);
      expect(out).toEqual([]);
      advance(1256);
      expect(out).toEqual(["1256 ap2 true #2"]);
      feed(1500, { poa: "ap2", ok: false, n: 4 });
      expect(out).toEqual([
        "1256 ap2 true #2",
        "1456 ap3 true #3",
        "1500 ap2 false #4",
      ]);
    });

    it("at exactly the due time the timer runs before the sample at that time", () => {
      const { out, feed } = driver({ key, holds, dwell: 256 });
      feed(0, { poa: "ap2", ok: true, n: 1 });
      feed(256, { poa: "ap2", ok: false, n: 2 });
      expect(out).toEqual(["256 ap2 true #1", "256 ap2 false #2"]);
    });

    it("cancels when the condition ends one frame early", () => {
      const { out, feed, advance } = driver({ key, holds, dwell: 256 });
      feed(0, { poa: "ap2", ok: true, n: 1 });
      feed(255, { poa: "ap2", ok: false, n: 2 });
      advance(10_000);
      expect(out).toEqual([]);
    });

    it("with dwell 0 emits on the next flush, stamped with the frame it was scheduled at", () => {
      const { out, feed, advance } = driver({ key, holds, dwell: 0 });
      feed(5000, { poa: "ap2", ok: true, n: 1 });
      expect(out).toEqual([]); // not synchronous: it goes through the scheduler
      advance(5100);
      expect(out).toEqual(["5000 ap2 true #1"]);
    });

    it("leaves no scheduled action behind after unsubscribe", () => {
      const { vts, out, subscription, feed, advance } = driver({
        key,
        holds,
        dwell: 256,
      });
      feed(0, { poa: "ap2", ok: true, n: 1 });
      feed(10, { poa: "ap3", ok: true, n: 2 });
      expect(vts.actions.length).toBe(2);
      subscription.unsubscribe();
      expect(vts.actions.length).toBe(0);
      advance(1000);
      expect(out).toEqual([]);
    });

    it("leaves no scheduled action behind after completion", () => {
      const vts = new VirtualTimeScheduler();
      const input = new Subject<Cond>();
      let completed = false;
      input.pipe(timeToTrigger({ key, holds, dwell: 256, scheduler: vts }))
        .subscribe({
          complete: () => (completed = true),
        });
      input.next({ poa: "ap2", ok: true, n: 1 });
      input.complete();
      expect(completed).toBe(true);
      expect(vts.actions.length).toBe(0);
    });
  });

  it.each([-1, NaN, Infinity, -Infinity])(
    "rejects dwell = %s with ConfigError at call time",
    (dwell) => {
      const call = () => timeToTrigger({ key, holds, dwell, scheduler: asyncScheduler });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(
        `Invalid dwell: expected a finite number >= 0, got ${dwell}`,
      );
    },
  );
});
