import { describe, expect, it } from "npm:vitest@4.1.12";
import { Subject } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import {
  hysteresis,
  type HysteresisOptions,
  type Qualification,
} from "../../../lib/operators/hysteresis.ts";
import { ConfigError } from "../../../lib/errors.ts";
import type { LinkSample } from "../../../lib/metrics/link_sample.ts";

function s(t: number, poa: string, snr: number): LinkSample {
  return { t, poa, network: `net-${poa}`, snr };
}

/** One step of a script: who serving() names at this sample, and the sample. */
type Step = readonly [serving: string | undefined, sample: LinkSample];

interface Drive {
  readonly out: Qualification[];
  /** Compact form: "t poa in|out vs serving". */
  readonly lines: string[];
  readonly servingCalls: number;
}

function drive(
  options: Omit<HysteresisOptions, "serving">,
  steps: readonly Step[],
): Drive {
  let serving: string | undefined;
  let servingCalls = 0;
  const out: Qualification[] = [];
  const input = new Subject<LinkSample>();
  input.pipe(hysteresis({
    ...options,
    serving: () => {
      servingCalls++;
      return serving;
    },
  })).subscribe((q) => out.push(q));
  for (const [who, sample] of steps) {
    serving = who;
    input.next(sample);
  }
  return {
    out,
    lines: out.map((q) => `${q.t} ${q.poa} ${q.qualified ? "in" : "out"} vs ${q.serving}`),
    servingCalls,
  };
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("hysteresis (A3 entering/leaving, 3GPP TS 36.331 5.5.4.4; RFC 6252 C.1)", () => {
  it("enters only when Mn - offset > Ms + margin (strictly) and emits the full Qualification", () => {
    const { out } = drive({ margin: 3 }, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(10, "ap2", 23)], // equal to Ms + margin: not yet
      ["ap1", s(20, "ap2", 23.5)],
    ]);
    expect(out).toEqual([
      {
        t: 20,
        poa: "ap2",
        network: "net-ap2",
        qualified: true,
        snr: 23.5,
        servingSnr: 20,
        serving: "ap1",
      },
    ]);
  });

  it("leaves only when Mn - offset < Ms + leave (strictly)", () => {
    const { lines } = drive({ margin: 3, leave: 2 }, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(10, "ap2", 24)],
      ["ap1", s(20, "ap2", 22)], // equal to Ms + leave: stays
      ["ap1", s(30, "ap2", 21.9)],
    ]);
    expect(lines).toEqual(["10 ap2 in vs ap1", "30 ap2 out vs ap1"]);
  });

  it("defaults leave to margin - 1 and margin to 3", () => {
    expect(
      drive({ margin: 5 }, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 25.5)],
        ["ap1", s(20, "ap2", 24)], // >= 20 + 4: stays
        ["ap1", s(30, "ap2", 23.9)],
      ]).lines,
    ).toEqual(["10 ap2 in vs ap1", "30 ap2 out vs ap1"]);
    expect(
      drive({}, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 23)],
        ["ap1", s(20, "ap2", 23.1)],
        ["ap1", s(30, "ap2", 22)],
        ["ap1", s(40, "ap2", 21.9)],
      ]).lines,
    ).toEqual(["20 ap2 in vs ap1", "40 ap2 out vs ap1"]);
  });

  it("emits only on a change of state, not on every better sample", () => {
    const { lines } = drive({}, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(10, "ap2", 30)],
      ["ap1", s(20, "ap2", 31)],
      ["ap1", s(30, "ap1", 19)],
      ["ap1", s(40, "ap2", 29)],
    ]);
    expect(lines).toEqual(["10 ap2 in vs ap1"]);
  });

  it("reads serving() once per sample and evaluates nothing without a heard serving PoA", () => {
    const { lines, servingCalls } = drive({}, [
      [undefined, s(0, "ap2", 30)], // no serving PoA
      ["ap1", s(10, "ap2", 30)], // serving not heard yet
      ["ap1", s(20, "ap3", 40)],
      ["ap1", s(30, "ap1", 20)], // now everything is evaluated, in the order first heard
    ]);
    expect(servingCalls).toBe(4);
    expect(lines).toEqual(["30 ap2 in vs ap1", "30 ap3 in vs ap1"]);
  });

  it("re-evaluates every known neighbour, in the order first heard, on a serving sample", () => {
    const { out } = drive({}, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(10, "ap3", 22)],
      ["ap1", s(20, "ap2", 22)],
      ["ap1", s(30, "ap4", 10)],
      ["ap1", s(40, "ap1", 15)], // serving drops: ap3 and ap2 now 7 dB better
      ["ap1", s(50, "ap1", 21)], // serving recovers: both 1 dB better, below leave (2)
    ]);
    expect(out.map((q) => [q.t, q.poa, q.qualified, q.snr, q.servingSnr]))
      .toEqual([
        [40, "ap3", true, 22, 15],
        [40, "ap2", true, 22, 15],
        [50, "ap3", false, 22, 21],
        [50, "ap2", false, 22, 21],
      ]);
  });

  it("never qualifies the serving PoA against itself", () => {
    const { out } = drive({ margin: -100, leave: -200 }, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(10, "ap1", 25)],
    ]);
    expect(out).toEqual([]);
  });

  describe("maxAgeMs", () => {
    it("lets a neighbour not heard for more than maxAgeMs leave at the next serving sample, then forgets it", () => {
      const { lines } = drive({ maxAgeMs: 1000 }, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(0, "ap2", 30)],
        ["ap1", s(1000, "ap1", 20)], // age 1000: not older than maxAgeMs
        ["ap1", s(1001, "ap1", 20)], // age 1001: leaves
        ["ap1", s(1100, "ap1", 5)], // forgotten: its stale 30 dB no longer counts
        ["ap1", s(1200, "ap2", 30)], // heard again: a fresh neighbour
      ]);
      expect(lines).toEqual([
        "0 ap2 in vs ap1",
        "1001 ap2 out vs ap1",
        "1200 ap2 in vs ap1",
      ]);
    });

    it("forgets stale neighbours silently when they were not qualified, and re-adds them last", () => {
      const { lines } = drive({ maxAgeMs: 100 }, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(0, "ap2", 10)],
        ["ap1", s(50, "ap3", 10)],
        ["ap1", s(120, "ap1", 20)], // ap2 is 120 ms old: forgotten without output
        ["ap1", s(130, "ap2", 10)], // heard again: now after ap3
        ["ap1", s(140, "ap3", 10)],
        ["ap1", s(150, "ap1", 0)],
      ]);
      expect(lines).toEqual(["150 ap3 in vs ap1", "150 ap2 in vs ap1"]);
    });

    it("does not age neighbours on their own samples, only on serving samples", () => {
      const { lines } = drive({ maxAgeMs: 100 }, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(500, "ap2", 30)], // the serving level is 500 ms old, still used
      ]);
      expect(lines).toEqual(["500 ap2 in vs ap1"]);
    });
  });

  describe("serving change", () => {
    it("first lets every neighbour qualified against the old serving PoA leave, then resets", () => {
      const { out } = drive({}, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 30)],
        ["ap1", s(20, "ap3", 30)],
        ["ap1", s(30, "ap4", 21)],
        ["ap4", s(40, "ap5", 0)], // serving is ap4 now
      ]);
      expect(out.slice(2)).toEqual([
        {
          t: 40,
          poa: "ap2",
          network: "net-ap2",
          qualified: false,
          snr: 30,
          servingSnr: 20,
          serving: "ap1",
        },
        {
          t: 40,
          poa: "ap3",
          network: "net-ap3",
          qualified: false,
          snr: 30,
          servingSnr: 20,
          serving: "ap1",
        },
      ]);
    });

    it("keeps stored levels, so neighbours re-qualify against the new serving PoA", () => {
      const { lines } = drive({}, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 30)],
        ["ap1", s(20, "ap3", 24)],
        ["ap3", s(30, "ap3", 24)], // handover to ap3: ap2 (30 > 27) qualifies again
      ]);
      expect(lines).toEqual([
        "10 ap2 in vs ap1",
        "20 ap3 in vs ap1",
        "30 ap2 out vs ap1",
        "30 ap3 out vs ap1",
        "30 ap2 in vs ap3",
      ]);
    });

    it("on a handover to the qualified neighbour, the old serving PoA becomes a neighbour", () => {
      const { lines } = drive({}, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 30)],
        ["ap2", s(20, "ap1", 34)], // ap2 serves; ap1 at 34 > 30 + 3
        ["ap2", s(30, "ap2", 31)], // ap1: 34 < 31 + 2? no, stays
        ["ap2", s(40, "ap2", 33)], // ap1: 34 < 33 + 2: leaves
      ]);
      expect(lines).toEqual([
        "10 ap2 in vs ap1",
        "20 ap2 out vs ap1",
        "20 ap1 in vs ap2",
        "40 ap1 out vs ap2",
      ]);
    });

    it("treats no serving PoA as a change: all leave, nothing is evaluated, then starts afresh", () => {
      const { lines } = drive({}, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 30)],
        [undefined, s(20, "ap2", 31)],
        [undefined, s(30, "ap1", 0)],
        ["ap1", s(40, "ap3", 0)], // ap1 (0) is heard: ap3 does not qualify; ap2 waits for its sample
        ["ap1", s(50, "ap2", 31)],
      ]);
      expect(lines).toEqual([
        "10 ap2 in vs ap1",
        "20 ap2 out vs ap1",
        "50 ap2 in vs ap1",
      ]);
    });
  });

  describe("offset", () => {
    it("subtracts the per-PoA offset before comparing; snr is reported as received", () => {
      const offsets = new Map([["ap2", 5]]);
      const { out } = drive({ offset: (poa) => offsets.get(poa) ?? 0 }, [
        ["ap1", s(0, "ap1", 20)],
        ["ap1", s(10, "ap2", 27)], // 27 - 5 = 22: not > 23
        ["ap1", s(20, "ap3", 27)],
        ["ap1", s(30, "ap2", 28.5)], // 23.5 > 23
      ]);
      expect(out.map((q) => [q.t, q.poa, q.snr])).toEqual([[20, "ap3", 27], [
        30,
        "ap2",
        28.5,
      ]]);
    });

    it("bars a PoA with offset Infinity: it never enters, and leaves if it was qualified", () => {
      const barred = new Set<string>();
      const out: string[] = [];
      const input = new Subject<LinkSample>();
      input.pipe(
        hysteresis({
          serving: () => "ap1",
          offset: (poa) => barred.has(poa) ? Infinity : 0,
        }),
      )
        .subscribe((q) => out.push(`${q.t} ${q.poa} ${q.qualified}`));
      input.next(s(0, "ap1", 20));
      input.next(s(10, "ap2", 40));
      barred.add("ap2").add("ap3");
      input.next(s(20, "ap3", 90));
      input.next(s(30, "ap1", 20)); // re-evaluation: ap2 is barred now
      input.next(s(40, "ap2", 90));
      expect(out).toEqual(["10 ap2 true", "30 ap2 false"]);
    });
  });

  it.each<[string, Omit<HysteresisOptions, "serving">, string]>([
    [
      "margin",
      { margin: NaN },
      "Invalid margin: expected a finite number, got NaN",
    ],
    [
      "margin",
      { margin: Infinity },
      "Invalid margin: expected a finite number, got Infinity",
    ],
    [
      "leave",
      { leave: NaN },
      "Invalid leave: expected a finite number <= margin (3), got NaN",
    ],
    [
      "leave",
      { margin: 2, leave: 3 },
      "Invalid leave: expected a finite number <= margin (2), got 3",
    ],
    [
      "maxAgeMs",
      { maxAgeMs: -1 },
      "Invalid maxAgeMs: expected a number >= 0, got -1",
    ],
    [
      "maxAgeMs",
      { maxAgeMs: NaN },
      "Invalid maxAgeMs: expected a number >= 0, got NaN",
    ],
  ])(
    "rejects a bad %s with ConfigError at call time (%j)",
    (option, options, message) => {
      const call = () => hysteresis({ ...options, serving: () => "ap1" });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(message);
      try {
        call();
      } catch (error) {
        expect((error as ConfigError).option).toBe(option);
      }
    },
  );

  it("accepts leave = margin and maxAgeMs = Infinity", () => {
    const { lines } = drive({ margin: 3, leave: 3, maxAgeMs: Infinity }, [
      ["ap1", s(0, "ap1", 20)],
      ["ap1", s(0, "ap2", 24)],
      ["ap1", s(1e9, "ap1", 20)], // never ages out
      ["ap1", s(1e9, "ap2", 22.9)],
    ]);
    expect(lines).toEqual(["0 ap2 in vs ap1", "1000000000 ap2 out vs ap1"]);
  });

  describe("marbles", () => {
    const values = {
      s: s(0, "ap1", 20),
      n: s(2, "ap2", 30),
      m: s(4, "ap2", 31),
      w: s(6, "ap2", 10),
      d: s(8, "ap1", 40),
    };
    const q = (
      t: number,
      qualified: boolean,
      snr: number,
      servingSnr: number,
    ): Qualification => ({
      t,
      poa: "ap2",
      network: "net-ap2",
      qualified,
      snr,
      servingSnr,
      serving: "ap1",
    });

    it("emits qualification changes at the frame of the sample that caused them, and completes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("s-n-m-w-n-d|", values);
        expectObservable(source.pipe(hysteresis({ serving: () => "ap1" })))
          .toBe("--a---b-c-d|", {
            a: q(2, true, 30, 20),
            b: q(6, false, 10, 20),
            c: q(2, true, 30, 20),
            d: q(8, false, 30, 40),
          });
        expectSubscriptions(source.subscriptions).toBe("^----------!");
      });
    });

    it("propagates a source error", () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("s-n-#", values, new Error("metrics lost"));
        expectObservable(source.pipe(hysteresis({ serving: () => "ap1" })))
          .toBe(
            "--a-#",
            { a: q(2, true, 30, 20) },
            new Error("metrics lost"),
          );
      });
    });

    it("routes an error thrown by serving() to the error channel and unsubscribes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        let calls = 0;
        const serving = (): string => {
          if (++calls === 3) throw new Error("no decision state");
          return "ap1";
        };
        const source = cold("s-n-m-w", values);
        expectObservable(source.pipe(hysteresis({ serving }))).toBe(
          "--a-#",
          { a: q(2, true, 30, 20) },
          new Error("no decision state"),
        );
        expectSubscriptions(source.subscriptions).toBe("^---!");
      });
    });

    it("routes an error thrown by offset() to the error channel and unsubscribes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const offset = (poa: string): number => {
          if (poa === "ap2") throw new Error("no offset for ap2");
          return 0;
        };
        const source = cold("s-n-m", values);
        expectObservable(
          source.pipe(hysteresis({ serving: () => "ap1", offset })),
        ).toBe(
          "--#",
          undefined,
          new Error("no offset for ap2"),
        );
        expectSubscriptions(source.subscriptions).toBe("^-!");
      });
    });

    it("stops on early unsubscribe", () => {
      scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("s-n-m-w-n-d", values);
        expectObservable(
          source.pipe(hysteresis({ serving: () => "ap1" })),
          "^-----!",
        ).toBe("--a", {
          a: q(2, true, 30, 20),
        });
        expectSubscriptions(source.subscriptions).toBe("^-----!");
      });
    });

    it("ages neighbours out as time passes ('sn 999ms S' keeps, 'sn 1000ms S' drops)", () => {
      // Sample times follow the virtual clock (t = frame): S is the serving sample at
      // t = 1001 (neighbour 1000 ms old) or t = 1002 (1001 ms old).
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("sn 999ms S", {
          s: s(0, "ap1", 20),
          n: s(1, "ap2", 30),
          S: s(1001, "ap1", 20),
        });
        expectObservable(
          source.pipe(hysteresis({ serving: () => "ap1", maxAgeMs: 1000 })),
        ).toBe("-a", {
          a: q(1, true, 30, 20),
        });
      });
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("sn 1000ms S", {
          s: s(0, "ap1", 20),
          n: s(1, "ap2", 30),
          S: s(1002, "ap1", 20),
        });
        expectObservable(
          source.pipe(hysteresis({ serving: () => "ap1", maxAgeMs: 1000 })),
        ).toBe(
          "-a 1000ms b",
          { a: q(1, true, 30, 20), b: q(1002, false, 30, 20) },
        );
      });
    });
  });
});
