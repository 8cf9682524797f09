import { describe, expect, it } from "npm:vitest@4.1.12";
import { from, lastValueFrom, Subject, toArray } from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import {
  type LeadEstimate,
  leadTime,
  type LeadTimeOptions,
  secondsToCellEdge,
} from "../../../lib/operators/lead_time.ts";
import { ConfigError } from "../../../lib/errors.ts";
import type { Cell } from "../../../lib/metrics/cell.ts";
import type { LinkSample, Position, Velocity } from "../../../lib/metrics/link_sample.ts";

function s(
  t: number,
  poa: string,
  snr: number,
  pos?: Position,
  vel?: Velocity,
): LinkSample {
  const out: { -readonly [K in keyof LinkSample]: LinkSample[K] } = {
    t,
    poa,
    network: `net-${poa}`,
    snr,
  };
  if (pos) out.pos = pos;
  if (vel) out.vel = vel;
  return out;
}

const cells: ReadonlyMap<string, Cell> = new Map([
  ["ap1", {
    poa: "ap1",
    network: "net-ap1",
    pos: { x: 0, y: 0 },
    coverage: 100,
  }],
  ["ap2", {
    poa: "ap2",
    network: "net-ap2",
    pos: { x: 200, y: 0 },
    coverage: 100,
  }],
]);

function estimates(
  samples: readonly LinkSample[],
  options: Omit<LeadTimeOptions, "serving"> = {},
  serving = "ap1",
): Promise<LeadEstimate[]> {
  return lastValueFrom(
    from(samples).pipe(
      leadTime({
        ...options,
        serving: () => serving,
      }),
      toArray(),
    ),
  );
}

/** Reference least-squares slope in dB/s, computed the obvious way. */
function naiveSlope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return (1000 * sxy) / sxx;
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe("secondsToCellEdge (RFC 6252 C.6 geometry)", () => {
  const O = { x: 0, y: 0 };
  it.each<[string, Position, Velocity, Position, number, number]>([
    ["from the centre, east", O, { speed: 10, heading: 0 }, O, 100, 10],
    [
      "from the centre, north (heading pi/2 = +y)",
      O,
      { speed: 10, heading: Math.PI / 2 },
      O,
      100,
      10,
    ],
    [
      "halfway out, moving out",
      { x: 50, y: 0 },
      { speed: 10, heading: 0 },
      O,
      100,
      5,
    ],
    [
      "halfway out, moving in: crosses the cell",
      { x: 50, y: 0 },
      { speed: 10, heading: Math.PI },
      O,
      100,
      15,
    ],
    [
      "off-centre antenna",
      { x: 230, y: 40 },
      { speed: 5, heading: 0 },
      { x: 200, y: 40 },
      100,
      14,
    ],
    [
      "along a chord: 3-4-5",
      { x: 0, y: -60 },
      { speed: 4, heading: Math.PI / 2 },
      { x: 80, y: 0 },
      100,
      30,
    ],
    [
      "tangent-ish chord from (0,60) east",
      { x: 0, y: 60 },
      { speed: 8, heading: 0 },
      O,
      100,
      10,
    ],
    [
      "on the edge moving out",
      { x: 100, y: 0 },
      { speed: 1, heading: 0 },
      O,
      100,
      0,
    ],
    [
      "on the edge moving in: full diameter",
      { x: 100, y: 0 },
      { speed: 2, heading: Math.PI },
      O,
      100,
      100,
    ],
    [
      "already outside",
      { x: 101, y: 0 },
      { speed: 10, heading: Math.PI },
      O,
      100,
      0,
    ],
    [
      "outside and standing still",
      { x: 300, y: 0 },
      { speed: 0, heading: 0 },
      O,
      100,
      0,
    ],
    [
      "standing still inside",
      { x: 10, y: 0 },
      { speed: 0, heading: 1 },
      O,
      100,
      Infinity,
    ],
  ])("%s", (_name, pos, vel, center, radius, expected) => {
    const got = secondsToCellEdge(pos, vel, center, radius);
    if (Number.isFinite(expected)) expect(got).toBeCloseTo(expected, 9);
    else expect(got).toBe(expected);
  });

  it.each([1e-3, 1e-6, 1e-9, 1e-12])(
    "keeps full relative precision just inside the edge (%s m to go)",
    (gap) => {
      const r = 132.5518166551142;
      const x = r - gap;
      const exact = (r - x) / 8.4; // r - x is exact (Sterbenz)
      const got = secondsToCellEdge({ x, y: 0 }, { speed: 8.4, heading: 0 }, { x: 0, y: 0 }, r);
      expect(Math.abs(got - exact) / exact).toBeLessThan(1e-12);
    },
  );

  it("lands exactly on the circle for random inputs", () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 200; i++) {
      const r = 10 + 500 * rnd();
      const angle = 2 * Math.PI * rnd();
      const dist = r * rnd();
      const pos = {
        x: 1e6 + dist * Math.cos(angle),
        y: -3e5 + dist * Math.sin(angle),
      };
      const vel = {
        speed: 0.1 + 40 * rnd(),
        heading: 4 * Math.PI * rnd() - 2 * Math.PI,
      };
      const tau = secondsToCellEdge(pos, vel, { x: 1e6, y: -3e5 }, r);
      const ex = pos.x + vel.speed * Math.cos(vel.heading) * tau - 1e6;
      const ey = pos.y + vel.speed * Math.sin(vel.heading) * tau + 3e5;
      expect(Math.hypot(ex, ey)).toBeCloseTo(r, 5);
      expect(tau).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("leadTime (RFC 6252 C.6)", () => {
  it("uses geometry when the sample has pos and vel and the serving cell is known", async () => {
    const out = await estimates(
      [s(500, "ap1", 30, { x: 50, y: 0 }, { speed: 10, heading: 0 })],
      { cells },
    );
    expect(out).toEqual([{
      t: 500,
      poa: "ap1",
      seconds: 5,
      method: "geometry",
    }]);
  });

  it("falls back to the trend without pos/vel or without a known cell", async () => {
    const noVel = await estimates([
      s(0, "ap1", 20, { x: 0, y: 0 }),
      s(1000, "ap1", 18, { x: 0, y: 0 }),
    ], {
      cells,
    });
    expect(noVel.map((e) => [e.method, e.seconds])).toEqual([[
      "trend",
      Infinity,
    ], ["trend", 6.5]]);
    const unknownCell = await estimates(
      [s(0, "ap3", 20, O(), still()), s(1000, "ap3", 18, O(), still())],
      { cells },
      "ap3",
    );
    expect(unknownCell.map((e) => [e.method, e.seconds])).toEqual([[
      "trend",
      Infinity,
    ], ["trend", 6.5]]);
    const noCells = await estimates([
      s(0, "ap1", 20, O(), still()),
      s(1000, "ap1", 18, O(), still()),
    ]);
    expect(noCells.map((e) => e.method)).toEqual(["trend", "trend"]);
  });

  it("emits exactly one estimate per serving sample and nothing for other PoAs", async () => {
    const out = await estimates([
      s(0, "ap2", 30),
      s(0, "ap1", 20),
      s(100, "ap2", 31),
      s(100, "ap3", 10),
      s(200, "ap1", 20),
    ]);
    expect(out.map((e) => [e.t, e.poa])).toEqual([[0, "ap1"], [200, "ap1"]]);
  });

  it("emits nothing while serving() is undefined", async () => {
    const out = await lastValueFrom(
      from([s(0, "ap1", 20), s(100, "ap1", 19)]).pipe(
        leadTime({ serving: () => undefined }),
        toArray(),
      ),
    );
    expect(out).toEqual([]);
  });

  describe("trend", () => {
    it.each<[string, readonly (readonly [number, number])[], number]>([
      [
        "linear fall of 2 dB/s from 20 dB: (18 - 5) / 2",
        [[0, 20], [1000, 18]],
        6.5,
      ],
      ["linear fall of 5 dB/s over 5 samples", [
        [0, 30],
        [250, 28.75],
        [500, 27.5],
        [750, 26.25],
        [1000, 25],
      ], 4],
      ["rising: Infinity", [[0, 10], [1000, 12]], Infinity],
      ["flat: Infinity", [[0, 10], [500, 10], [1000, 10]], Infinity],
      ["one sample: Infinity", [[0, 10]], Infinity],
      ["two samples at the same time: Infinity", [[0, 20], [0, 10]], Infinity],
      ["already below the outage level: 0", [[0, 6], [1000, 4]], 0],
    ])("%s", async (_name, points, expected) => {
      const out = await estimates(points.map(([t, snr]) => s(t, "ap1", snr)));
      const last = out[out.length - 1]!;
      expect(last.method).toBe("trend");
      if (Number.isFinite(expected)) {
        expect(last.seconds).toBeCloseTo(expected, 9);
      } else expect(last.seconds).toBe(expected);
    });

    it("fits a least-squares slope to noisy samples", async () => {
      const points: [number, number][] = [
        [0, 25],
        [200, 24.1],
        [400, 24.6],
        [600, 22.9],
        [800, 23.3],
        [
          1000,
          21.8,
        ],
      ];
      const slope = naiveSlope(points);
      expect(slope).toBeLessThan(0);
      const out = await estimates(points.map(([t, y]) => s(t, "ap1", y)));
      expect(out[5]!.seconds).toBeCloseTo((21.8 - 5) / -slope, 9);
    });

    it("uses the window (t - trendWindowMs, t]: a sample exactly trendWindowMs old is out", async () => {
      // With the sample at t = 0 (100 dB) the slope would be steep; without it, -2 dB/s.
      const out = await estimates([
        s(0, "ap1", 100),
        s(500, "ap1", 20),
        s(1000, "ap1", 19),
      ], {
        trendWindowMs: 1000,
      });
      expect(out[2]!.seconds).toBeCloseTo((19 - 5) / 2, 9);
      const inside = await estimates([
        s(1, "ap1", 100),
        s(500, "ap1", 20),
        s(1000, "ap1", 19),
      ], {
        trendWindowMs: 1000,
      });
      expect(inside[2]!.seconds).toBeCloseTo(
        (19 - 5) / -naiveSlope([[1, 100], [500, 20], [1000, 19]]),
        9,
      );
    });

    it("needs two samples inside the window after a gap", async () => {
      const out = await estimates([
        s(0, "ap1", 20),
        s(1000, "ap1", 18),
        s(5000, "ap1", 10),
      ]);
      expect(out.map((e) => e.seconds)).toEqual([Infinity, 6.5, Infinity]);
    });

    it("uses outageSnr", async () => {
      const out = await estimates([s(0, "ap1", 20), s(1000, "ap1", 18)], {
        outageSnr: 10,
      });
      expect(out[1]!.seconds).toBeCloseTo(4, 9);
    });

    it("restarts the window when the serving PoA changes", () => {
      let serving = "ap1";
      const out: number[] = [];
      const input = new Subject<LinkSample>();
      input.pipe(leadTime({ serving: () => serving })).subscribe((e) => out.push(e.seconds));
      input.next(s(0, "ap1", 20));
      input.next(s(1000, "ap1", 18)); // 6.5 s
      serving = "ap2";
      input.next(s(1100, "ap2", 30)); // fresh window for ap2
      serving = "ap1";
      input.next(s(1200, "ap1", 17)); // back to ap1: fresh window, one sample
      input.next(s(1700, "ap1", 16)); // -2 dB/s over the new window only
      expect(out).toEqual([Infinity, 6.5, Infinity, Infinity, 5.5]);
    });

    it("restarts the window even if the serving PoA changed and came back between its samples", () => {
      let serving = "ap1";
      const out: number[] = [];
      const input = new Subject<LinkSample>();
      input.pipe(leadTime({ serving: () => serving })).subscribe((e) => out.push(e.seconds));
      input.next(s(0, "ap1", 20));
      serving = "ap2";
      input.next(s(500, "ap3", 30)); // ap2 serves for a while (no ap2 sample heard)
      serving = "ap1";
      input.next(s(1000, "ap1", 18));
      expect(out).toEqual([Infinity, Infinity]);
    });

    it.each([
      { name: "dense (~54 samples per window)", spacing: 37 },
      { name: "sparse (2-3 samples per window, 5 hours)", spacing: 900 },
    ])("stays exact over a long run with epoch times: $name", async ({ spacing }) => {
      const t0 = 1.7e12;
      const samples: LinkSample[] = [];
      let seed = 7;
      const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      for (let i = 0; i < 20_000; i++) {
        // Irregular spacing, a slow sine and noise.
        const t = t0 + i * spacing + (i % 500 < 100 ? 0 : i % 7);
        samples.push(s(t, "ap1", 20 + 10 * Math.sin(i / 300) + rnd()));
      }
      const out = await estimates(samples, { trendWindowMs: 2000 });
      expect(out.length).toBe(samples.length);
      let finite = 0;
      for (
        const i of [
          1,
          2,
          53,
          54,
          ...Array.from({ length: 20 }, (_, k) => 999 * (k + 1)),
          19_999,
        ]
      ) {
        const t = samples[i]!.t;
        // The reference works on t - t0 (exact for these integer times).
        const win: (readonly [number, number])[] = [];
        for (let j = i; j >= 0 && samples[j]!.t > t - 2000; j--) {
          win.push([samples[j]!.t - t0, samples[j]!.snr]);
        }
        const slope = win.length >= 2 ? naiveSlope(win) : NaN;
        const expected = slope < 0 ? Math.max(0, (samples[i]!.snr - 5) / -slope) : Infinity;
        const got = out[i]!.seconds;
        if (Number.isFinite(expected)) {
          finite++;
          expect(Math.abs(got - expected)).toBeLessThan(1e-9 * Math.max(1, expected));
        } else expect(got).toBe(expected);
      }
      expect(finite).toBeGreaterThan(5);
    });
  });

  it.each<[string, Omit<LeadTimeOptions, "serving">, string]>([
    [
      "outageSnr",
      { outageSnr: NaN },
      "Invalid outageSnr: expected a finite number, got NaN",
    ],
    [
      "trendWindowMs",
      { trendWindowMs: 0 },
      "Invalid trendWindowMs: expected a finite number > 0, got 0",
    ],
    [
      "trendWindowMs",
      { trendWindowMs: Infinity },
      "Invalid trendWindowMs: expected a finite number > 0, got Infinity",
    ],
  ])(
    "rejects a bad %s with ConfigError at call time",
    (option, options, message) => {
      const call = () => leadTime({ ...options, serving: () => "ap1" });
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(message);
      try {
        call();
      } catch (error) {
        expect((error as ConfigError).option).toBe(option);
      }
    },
  );

  describe("marbles", () => {
    const values = {
      a: s(0, "ap1", 20),
      n: s(1, "ap2", 40),
      b: s(1000, "ap1", 18),
    };
    const expected = {
      a: { t: 0, poa: "ap1", seconds: Infinity, method: "trend" },
      b: { t: 1000, poa: "ap1", seconds: 6.5, method: "trend" },
    };

    it("emits one estimate at the frame of each serving sample, and completes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold("a-n 997ms b|", values);
        expectObservable(source.pipe(leadTime({ serving: () => "ap1" }))).toBe(
          "a 999ms b|",
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe("^ 1000ms !");
      });
    });

    it("propagates a source error", () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold("a-#", values, new Error("metrics lost"));
        expectObservable(source.pipe(leadTime({ serving: () => "ap1" }))).toBe(
          "a-#",
          expected,
          new Error("metrics lost"),
        );
      });
    });

    it("routes an error thrown by serving() to the error channel and unsubscribes", () => {
      scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        let calls = 0;
        const serving = (): string => {
          if (++calls === 2) throw new Error("no decision state");
          return "ap1";
        };
        const source = cold("a-n-b", values);
        expectObservable(source.pipe(leadTime({ serving }))).toBe(
          "a-#",
          expected,
          new Error("no decision state"),
        );
        expectSubscriptions(source.subscriptions).toBe("^-!");
      });
    });

    it("stops on early unsubscribe", () => {
      scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot("a-n 997ms b", values);
        expectObservable(
          source.pipe(leadTime({ serving: () => "ap1" })),
          "^ 99ms !",
        ).toBe("a", expected);
        expectSubscriptions(source.subscriptions).toBe("^ 99ms !");
      });
    });
  });
});

function O(): Position {
  return { x: 0, y: 0 };
}

function still(): Velocity {
  return { speed: 0, heading: 0 };
}
