import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import {
  type Attachment,
  type PingPong,
  pingPong,
  type PingPongOptions,
} from "../../../lib/operators/ping_pong.ts";
import { ConfigError } from "../../../lib/errors.ts";

function at(t: number, poa: string): Attachment {
  return { t, poa };
}

function detect(
  attachments: readonly Attachment[],
  options?: PingPongOptions,
): Promise<PingPong[]> {
  return lastValueFrom(from(attachments).pipe(pingPong(options), toArray()));
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("pingPong (RFC 6252 C.1)", () => {
  it("detects a return to a PoA left less than the window ago", async () => {
    expect(await detect([at(0, "ap1"), at(1000, "ap2"), at(3000, "ap1")]))
      .toEqual([
        { t: 3000, poa: "ap1", via: "ap2", leftAt: 1000 },
      ]);
  });

  it.each<[string, number, number]>([
    ["just inside the window", 4999, 1],
    ["exactly the window (strictly less is required)", 5000, 0],
    ["beyond the window", 7000, 0],
  ])(
    "uses the default 5000 ms window: return after %s",
    async (_name, dt, count) => {
      const out = await detect([
        at(0, "ap1"),
        at(1000, "ap2"),
        at(1000 + dt, "ap1"),
      ]);
      expect(out.length).toBe(count);
    },
  );

  it("uses the configured window", async () => {
    expect(
      await detect([at(0, "ap1"), at(100, "ap2"), at(300, "ap1")], {
        window: 200,
      }),
    ).toEqual([]);
    expect(
      await detect([at(0, "ap1"), at(100, "ap2"), at(299, "ap1")], {
        window: 200,
      }),
    ).toHaveLength(1);
    expect(
      await detect([at(0, "ap1"), at(1e3, "ap2"), at(1e9, "ap1")], {
        window: Infinity,
      }),
    ).toHaveLength(1);
  });

  it("never reports the first attachment", async () => {
    expect(await detect([at(0, "ap1")])).toEqual([]);
  });

  it("treats a repeated attachment to the current PoA as a no-op", async () => {
    // No bounce "through itself", and ap1's departure stays at 1000 (not moved by the
    // re-attachments to ap2).
    const out = await detect([
      at(0, "ap1"),
      at(1000, "ap2"),
      at(1500, "ap2"),
      at(4500, "ap2"),
      at(5900, "ap1"),
    ]);
    expect(out).toEqual([{ t: 5900, poa: "ap1", via: "ap2", leftAt: 1000 }]);
    expect(await detect([at(0, "ap1"), at(100, "ap1"), at(200, "ap1")]))
      .toEqual([]);
  });

  it("names the PoA just left as via, across several hops", async () => {
    const out = await detect([
      at(0, "ap1"),
      at(1000, "ap2"),
      at(2000, "ap3"),
      at(3000, "ap1"),
    ]);
    expect(out).toEqual([{ t: 3000, poa: "ap1", via: "ap3", leftAt: 1000 }]);
  });

  it("reports each bounce of a flapping MN with the latest departure", async () => {
    const out = await detect([
      at(0, "ap1"),
      at(1000, "ap2"),
      at(2000, "ap1"),
      at(2500, "ap2"),
      at(2600, "ap1"),
    ]);
    expect(out).toEqual([
      { t: 2000, poa: "ap1", via: "ap2", leftAt: 1000 },
      { t: 2500, poa: "ap2", via: "ap1", leftAt: 2000 },
      { t: 2600, poa: "ap1", via: "ap2", leftAt: 2500 },
    ]);
  });

  it("still detects returns after passing many PoAs (old departures are pruned)", async () => {
    const drive: Attachment[] = [];
    for (let i = 0; i < 1000; i++) drive.push(at(i * 10_000, `ap${i}`));
    const t = 1000 * 10_000;
    drive.push(
      at(t, "home"),
      at(t + 100, "ap999"),
      at(t + 200, "ap5"),
      at(t + 300, "home"),
    );
    expect(await detect(drive)).toEqual([
      { t: t + 100, poa: "ap999", via: "home", leftAt: t },
      { t: t + 300, poa: "home", via: "ap5", leftAt: t + 100 },
    ]);
  });

  it("keeps departures still inside the window however many PoAs are passed", async () => {
    const drive: Attachment[] = [];
    for (let i = 0; i < 300; i++) drive.push(at(i, `ap${i}`));
    drive.push(at(300, "ap0"));
    expect(await detect(drive)).toEqual([{ t: 300, poa: "ap0", via: "ap299", leftAt: 1 }]);
  });

  it("keeps state per subscription", async () => {
    const op = pingPong();
    const source = from([at(0, "ap1"), at(10, "ap2"), at(20, "ap1")]);
    expect(await lastValueFrom(source.pipe(op, toArray()))).toHaveLength(1);
    expect(await lastValueFrom(source.pipe(op, toArray()))).toHaveLength(1);
  });

  it.each([-1, NaN, -Infinity])(
    "rejects window = %s with ConfigError at call time",
    (window) => {
      const call = () => pingPong({ window });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(
        `Invalid window: expected a number >= 0, got ${window}`,
      );
    },
  );

  describe("marbles", () => {
    const values = {
      a: at(0, "ap1"),
      b: at(2, "ap2"),
      c: at(4, "ap1"),
      d: at(6, "ap2"),
    };
    const expected = {
      x: { t: 4, poa: "ap1", via: "ap2", leftAt: 2 },
      y: { t: 6, poa: "ap2", via: "ap1", leftAt: 4 },
    };

    it("emits at the frame of the returning attachment, and completes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("a-b-c-d|", values);
        expectObservable(source.pipe(pingPong())).toBe("----x-y|", expected);
        expectSubscriptions(source.subscriptions).toBe("^------!");
      });
    });

    it("propagates a source error", () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("a-b-c-#", values, new Error("link control lost"));
        expectObservable(source.pipe(pingPong())).toBe(
          "----x-#",
          expected,
          new Error("link control lost"),
        );
      });
    });

    it("routes an error from a malformed attachment to the error channel", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("a-n-c", {
          ...values,
          n: null as unknown as Attachment,
        });
        expectObservable(source.pipe(pingPong())).toBe(
          "--#",
          undefined,
          expect.any(TypeError),
        );
        expectSubscriptions(source.subscriptions).toBe("^-!");
      });
    });

    it("stops on early unsubscribe", () => {
      scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a-b-c-d", values);
        expectObservable(source.pipe(pingPong()), "^----!").toBe(
          "----x",
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe("^----!");
      });
    });

    it("forgets departures once the window has passed ('ab 4998ms c' vs 'ab 4999ms c')", () => {
      // Attachment times follow the virtual clock (t = frame).
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("ab 4998ms c", {
          a: at(0, "ap1"),
          b: at(1, "ap2"),
          c: at(5000, "ap1"),
        });
        expectObservable(source.pipe(pingPong({ window: 5000 }))).toBe(
          "-- 4998ms x",
          {
            x: { t: 5000, poa: "ap1", via: "ap2", leftAt: 1 },
          },
        );
      });
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("ab 4999ms c", {
          a: at(0, "ap1"),
          b: at(1, "ap2"),
          c: at(5001, "ap1"),
        });
        expectObservable(source.pipe(pingPong({ window: 5000 }))).toBe("");
      });
    });
  });
});
