import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import { l3Filter } from "../../../lib/operators/l3_filter.ts";
import { ConfigError } from "../../../lib/errors.ts";
import type { LinkSample } from "../../../lib/metrics/link_sample.ts";

function sample(t: number, poa: string, snr: number): LinkSample {
  return { t, poa, network: poa === "ap1" ? "A" : "B", snr };
}

function filtered(
  samples: readonly LinkSample[],
  k?: number,
): Promise<number[]> {
  const op = k === undefined ? l3Filter() : l3Filter({ k });
  return lastValueFrom(from(samples).pipe(op, toArray())).then((out) => out.map((s) => s.snr));
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("l3Filter (3GPP TS 36.331 5.5.3.2)", () => {
  it.each([
    { k: 0, a: 1 },
    { k: 1, a: 2 ** -0.25 },
    { k: 4, a: 0.5 },
    { k: 8, a: 0.25 },
    { k: 19, a: 2 ** -4.75 },
  ])("uses a = 1/2^(k/4) for k = $k (a = $a)", async ({ k, a }) => {
    // F1 = M1 = 0, F2 = (1 - a)·0 + a·16 = 16a, F3 = (1 - a)·16a + a·16.
    const out = await filtered([
      sample(0, "ap1", 0),
      sample(200, "ap1", 16),
      sample(400, "ap1", 16),
    ], k);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(16 * a, 12);
    expect(out[2]).toBeCloseTo((1 - a) * 16 * a + a * 16, 12);
  });

  it("defaults to k = 4 (a = 1/2)", async () => {
    expect(
      await filtered([
        sample(0, "ap1", 10),
        sample(200, "ap1", 20),
        sample(400, "ap1", 20),
      ]),
    )
      .toEqual([10, 15, 17.5]);
  });

  it("starts each PoA at its first measurement (F0 = M1) and filters PoAs independently", async () => {
    const out = await filtered(
      [
        sample(0, "ap1", 20),
        sample(0, "ap2", -4),
        sample(200, "ap1", 10),
        sample(200, "ap2", 4),
        sample(400, "ap3", 7),
      ],
      4,
    );
    expect(out).toEqual([20, -4, 15, 0, 7]);
  });

  it("converges to a constant input and follows a step geometrically", async () => {
    const steps = [
      sample(0, "ap1", 0),
      ...Array.from({ length: 10 }, (_, i) => sample(i + 1, "ap1", 32)),
    ];
    const out = await filtered(steps, 4);
    // After n steps of a = 1/2 the remaining error is 32 / 2^n.
    out.slice(1).forEach((f, i) => expect(f).toBeCloseTo(32 - 32 / 2 ** (i + 1), 12));
  });

  it("replaces only snr, keeps every other field and never mutates the input", async () => {
    const first: LinkSample = {
      t: 0,
      poa: "ap1",
      network: "A",
      snr: 10,
      pos: { x: 1, y: 2 },
      vel: { speed: 3, heading: 0.5 },
    };
    const second: LinkSample = { ...first, t: 200, snr: 30 };
    const before = structuredClone(second);
    const out = await lastValueFrom(
      from([first, second]).pipe(l3Filter(), toArray()),
    );
    expect(out[1]).toEqual({ ...second, snr: 20 });
    expect(out[1]).not.toBe(second);
    expect(second).toEqual(before);
  });

  it("starts afresh for a PoA not heard for longer than resetAfterMs", async () => {
    const samples = [sample(0, "ap1", 10), sample(100, "ap1", 20), sample(2000, "ap1", 40)];
    expect(await filtered(samples)).toEqual([10, 15, 40]);
    const keep = await lastValueFrom(
      from(samples).pipe(l3Filter({ resetAfterMs: 5000 }), toArray()),
    );
    expect(keep.map((s) => s.snr)).toEqual([10, 15, 27.5]);
    expect(() => l3Filter({ resetAfterMs: -1 })).toThrow(ConfigError);
  });

  it("keeps state per subscription", async () => {
    const op = l3Filter({ k: 4 });
    const source = from([sample(0, "ap1", 10), sample(200, "ap1", 20)]);
    const one = await lastValueFrom(source.pipe(op, toArray()));
    const two = await lastValueFrom(source.pipe(op, toArray()));
    expect(one.map((s) => s.snr)).toEqual([10, 15]);
    expect(two.map((s) => s.snr)).toEqual([10, 15]);
  });

  it.each([-1, -0.5, NaN, Infinity, -Infinity])(
    "rejects k = %s with ConfigError at call time",
    (k) => {
      expect(() => l3Filter({ k })).toThrow(ConfigError);
      expect(() => l3Filter({ k })).toThrow(
        `Invalid k: expected a finite number >= 0, got ${k}`,
      );
      try {
        l3Filter({ k });
      } catch (error) {
        expect((error as ConfigError).option).toBe("k");
      }
    },
  );

  describe("marbles", () => {
    const values = {
      a: sample(0, "ap1", 10),
      b: sample(1, "ap2", 30),
      c: sample(2, "ap1", 20),
    };
    const expected = {
      a: sample(0, "ap1", 10),
      b: sample(1, "ap2", 30),
      c: sample(2, "ap1", 15),
    };

    it("emits one filtered sample per input, at the same frame, and completes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("a-b-c|", values);
        expectObservable(source.pipe(l3Filter())).toBe("a-b-c|", expected);
        expectSubscriptions(source.subscriptions).toBe("^----!");
      });
    });

    it("propagates a source error", () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("a-b-#", values, new Error("link down"));
        expectObservable(source.pipe(l3Filter())).toBe(
          "a-b-#",
          expected,
          new Error("link down"),
        );
      });
    });

    it("routes an error thrown while reading a sample to the error channel", () => {
      const broken = {
        t: 1,
        poa: "ap1",
        network: "A",
        get snr(): number {
          throw new Error("bad sample");
        },
      } as LinkSample;
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("a-x-c", { ...values, x: broken });
        expectObservable(source.pipe(l3Filter())).toBe(
          "a-#",
          expected,
          new Error("bad sample"),
        );
        expectSubscriptions(source.subscriptions).toBe("^-!");
      });
    });

    it("stops on early unsubscribe", () => {
      scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a-b-c-a", values);
        expectObservable(source.pipe(l3Filter()), "^--!").toBe("a-b", expected);
        expectSubscriptions(source.subscriptions).toBe("^--!");
      });
    });
  });
});
