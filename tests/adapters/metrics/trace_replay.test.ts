import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  catchError,
  lastValueFrom,
  map,
  of,
  take,
  toArray,
  VirtualTimeScheduler,
} from "npm:rxjs@^7.8.2";
import { TestScheduler } from "npm:rxjs@^7.8.2/testing";
import { MetricsValidationError } from "../../../lib/errors.ts";
import { formatLinkSample, type LinkSample } from "../../../lib/metrics/link_sample.ts";
import {
  readTrace,
  replaySamples,
  replayTrace,
  TraceError,
} from "../../../adapters/metrics/trace_replay.ts";
import { scenario } from "../../../adapters/metrics/scenarios.ts";
import { simulateTrace } from "../../../adapters/metrics/simulator.ts";

function line(t: number, poa = "a1", snr = 10): string {
  return formatLinkSample({ t, poa, network: "domainA", snr });
}

function sample(t: number, poa = "a1", snr = 10): LinkSample {
  return { t, poa, network: "domainA", snr };
}

function caught(fn: () => unknown): TraceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TraceError) return error;
    throw error;
  }
  throw new Error("Expected a TraceError");
}

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

async function* slowly(lines: readonly string[], log: string[]): AsyncGenerator<string> {
  try {
    for (const l of lines) {
      await Promise.resolve();
      log.push("read");
      yield l;
    }
  } finally {
    log.push("closed");
  }
}

describe("readTrace", () => {
  it("parses JSONL, skipping blank and whitespace-only lines and CRLF endings", () => {
    const text = [
      line(0, "a1", 12.5),
      "",
      line(0, "b1", 3),
      "   \t",
      line(100, "a1", 12),
      "",
    ].join("\r\n");
    expect(readTrace(text)).toEqual([
      sample(0, "a1", 12.5),
      sample(0, "b1", 3),
      sample(100, "a1", 12),
    ]);
  });

  it("keeps position and velocity and drops unknown keys", () => {
    const text =
      '{"t":5,"poa":"a1","network":"domainA","snr":1.5,"pos":{"x":1,"y":-2},"vel":{"speed":1.2,"heading":3.1},"rssi":-70}';
    expect(readTrace(text)).toEqual([
      {
        t: 5,
        poa: "a1",
        network: "domainA",
        snr: 1.5,
        pos: { x: 1, y: -2 },
        vel: { speed: 1.2, heading: 3.1 },
      },
    ]);
  });

  it("returns nothing for an empty trace", () => {
    expect(readTrace("")).toEqual([]);
    expect(readTrace("\n\n")).toEqual([]);
  });

  it("round-trips a simulated trace", () => {
    const trace = simulateTrace(scenario("walk"), { seed: 3, durationS: 20 });
    expect(readTrace(trace.map(formatLinkSample).join("\n") + "\n", "walk.jsonl")).toEqual(trace);
  });

  it("reports a bad field as FILE:LINE: why, counting blank lines", () => {
    const text = [line(0), "", '{"t":0,"poa":"a1","network":"A","snr":"x"}', line(1)].join("\n");
    const error = caught(() => readTrace(text, "walk.jsonl"));
    expect(error.message).toBe('walk.jsonl:3: Invalid snr: expected a finite number, got "x"');
    expect(error.name).toBe("TraceError");
    expect([error.source, error.line, error.field]).toEqual(["walk.jsonl", 3, "snr"]);
    expect(error.cause).toBeInstanceOf(MetricsValidationError);
    expect(error).toBeInstanceOf(Error);
  });

  it("reports time going backwards with both times", () => {
    const error = caught(() => readTrace([line(5), line(5, "b1"), line(4)].join("\n"), "x.jsonl"));
    expect(error.message).toBe("x.jsonl:3: Invalid t: time goes backwards: 4 after 5");
    expect(error.field).toBe("t");
  });

  it("reports malformed JSON with field json", () => {
    const error = caught(() => readTrace(`${line(0)}\n{"t":1,`, "x.jsonl"));
    expect(error.message.startsWith("x.jsonl:2: Invalid JSON: ")).toBe(true);
    expect([error.line, error.field]).toEqual([2, "json"]);
  });

  it("reports missing and nested fields by their dotted path", () => {
    expect(caught(() => readTrace('{"t":0,"network":"A","snr":1}', "f")).message)
      .toBe("f:1: Invalid poa: expected a non-empty string, got nothing");
    const speed = caught(() =>
      readTrace('{"t":0,"poa":"a","network":"A","snr":1,"vel":{"speed":-1,"heading":0}}', "f")
    );
    expect([speed.message, speed.field]).toEqual([
      "f:1: Invalid vel.speed: negative: -1",
      "vel.speed",
    ]);
    expect(caught(() => readTrace("[1]", "f")).message).toBe(
      "f:1: Invalid sample: expected an object, got [1]",
    );
  });

  it("names the trace <trace> when no source is given", () => {
    expect(caught(() => readTrace("nope")).message.startsWith("<trace>:1: Invalid JSON: ")).toBe(
      true,
    );
  });
});

describe("replayTrace, fast", () => {
  it("emits every sample synchronously and completes", () => {
    const got: LinkSample[] = [];
    let completed = false;
    replayTrace([line(0), "", line(0, "b1"), line(2000)], { pace: "fast" })
      .subscribe({ next: (s) => got.push(s), complete: () => (completed = true) });
    expect(got).toEqual([sample(0), sample(0, "b1"), sample(2000)]);
    expect(completed).toBe(true);
  });

  it("replays from the start on each subscription", async () => {
    const replay = replayTrace([line(0), line(1)], { pace: "fast" });
    const first = await lastValueFrom(replay.pipe(toArray()));
    expect(await lastValueFrom(replay.pipe(toArray()))).toEqual(first);
    expect(first).toHaveLength(2);
  });

  it("takes a string as a whole trace", async () => {
    const text = `${line(0)}\n\n${line(7)}\n`;
    expect(await lastValueFrom(replayTrace(text, { pace: "fast" }).pipe(toArray())))
      .toEqual([sample(0), sample(7)]);
  });

  it("emits the samples before a malformed line, then a TraceError with file:line", () => {
    const got: LinkSample[] = [];
    let error: unknown;
    replayTrace([line(0), "", '{"t":1,"poa":"","network":"A","snr":1}', line(2)], {
      pace: "fast",
      source: "drive.jsonl",
    }).subscribe({ next: (s) => got.push(s), error: (e) => (error = e) });
    expect(got).toEqual([sample(0)]);
    expect(error).toBeInstanceOf(TraceError);
    expect((error as TraceError).message).toBe(
      'drive.jsonl:3: Invalid poa: expected a non-empty string, got ""',
    );
    expect((error as TraceError).line).toBe(3);
  });

  it("reads an async iterable of lines and closes it at the end", async () => {
    const log: string[] = [];
    const out = await lastValueFrom(
      replayTrace(slowly([line(0), "", line(100)], log), { pace: "fast" }).pipe(toArray()),
    );
    expect(out).toEqual([sample(0), sample(100)]);
    expect(log).toEqual(["read", "read", "read", "closed"]);
  });

  it("reads a ReadableStream of lines", async () => {
    const stream = ReadableStream.from([line(0), line(50, "b1")]);
    expect(await lastValueFrom(replayTrace(stream, { pace: "fast" }).pipe(toArray())))
      .toEqual([sample(0), sample(50, "b1")]);
  });

  it("turns time going backwards in an async source into an error notification", async () => {
    const log: string[] = [];
    const replay = replayTrace(slowly([line(10), line(9)], log), {
      pace: "fast",
      source: "t.jsonl",
    });
    await expect(lastValueFrom(replay)).rejects.toThrow(
      "t.jsonl:2: Invalid t: time goes backwards: 9 after 10",
    );
    expect(log).toEqual(["read", "read", "closed"]);
  });

  it("stops reading an async source when unsubscribed early", async () => {
    const log: string[] = [];
    const first = await lastValueFrom(
      replayTrace(slowly([line(0), line(1), line(2), line(3)], log), { pace: "fast" }).pipe(
        take(1),
        toArray(),
      ),
    );
    expect(first).toEqual([sample(0)]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log).toEqual(["read", "closed"]);
  });

  it("stops pulling a synchronous source when unsubscribed early", () => {
    let pulled = 0;
    let closed = false;
    function* lines(): Generator<string> {
      try {
        for (let t = 0; t < 1000; t++) {
          pulled++;
          yield line(t);
        }
      } finally {
        closed = true;
      }
    }
    const got: number[] = [];
    replayTrace(lines(), { pace: "fast" }).pipe(take(3)).subscribe((s) => got.push(s.t));
    expect(got).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
    expect(closed).toBe(true);
  });
});

describe("replayTrace, realtime", () => {
  const lines = [line(1000), line(1000, "b1"), "", line(1250), line(2000), line(2000, "b1")];
  const values = {
    a: sample(1000),
    b: sample(1000, "b1"),
    c: sample(1250),
    d: sample(2000),
    e: sample(2000, "b1"),
  };

  it("paces samples by their t deltas from the first sample", () => {
    testScheduler().run(({ expectObservable }) => {
      const replay = replayTrace(lines, { pace: "realtime" });
      expectObservable(replay).toBe("(ab) 246ms c 749ms (de|)", values);
    });
  });

  it("uses the given scheduler", () => {
    const ts = testScheduler();
    ts.run(({ expectObservable }) => {
      expectObservable(replayTrace(lines, { pace: "realtime", scheduler: ts }))
        .toBe("(ab) 246ms c 749ms (de|)", values);
    });
  });

  it("reports a malformed line when the replay reaches it, after the samples before it", () => {
    testScheduler().run(({ expectObservable }) => {
      const replay = replayTrace([line(0), line(500), "{oops", line(900)], {
        pace: "realtime",
        source: "r.jsonl",
      }).pipe(
        map((s) => String(s.t)),
        catchError((e: TraceError) => of(`${e.source}:${e.line}:${e.field}`)),
      );
      expectObservable(replay).toBe("a 499ms (be|)", { a: "0", b: "500", e: "r.jsonl:3:json" });
    });
  });

  it("cancels the pending timer and stops reading when unsubscribed", () => {
    let pulled = 0;
    let closed = false;
    function* source(): Generator<string> {
      try {
        for (const t of [0, 100, 200, 300, 400]) {
          pulled++;
          yield line(t);
        }
      } finally {
        closed = true;
      }
    }
    testScheduler().run(({ expectObservable }) => {
      const replay = replayTrace(source(), { pace: "realtime" }).pipe(map((s) => String(s.t)));
      expectObservable(replay, "^ 150ms !").toBe("a 99ms b", { a: "0", b: "100" });
    });
    // The third sample was read and waiting for its timer; nothing after it.
    expect(pulled).toBe(3);
    expect(closed).toBe(true);
  });

  it("paces an async source on a virtual-time scheduler", async () => {
    const scheduler = new VirtualTimeScheduler();
    const log: string[] = [];
    const seen: (readonly [number, number])[] = [];
    let done = false;
    replayTrace(slowly([line(5000), line(5300), line(6000)], log), { pace: "realtime", scheduler })
      .subscribe({ next: (s) => seen.push([scheduler.now(), s.t]), complete: () => (done = true) });
    for (let i = 0; i < 20 && !done; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the reads settle, no delay
      scheduler.flush();
    }
    expect(seen).toEqual([[0, 5000], [300, 5300], [1000, 6000]]);
    expect(done).toBe(true);
  });
});

describe("replaySamples", () => {
  it("paces already-parsed samples in real time", () => {
    testScheduler().run(({ expectObservable }) => {
      const samples = [sample(0), sample(40), sample(40, "b1"), sample(100)];
      expectObservable(replaySamples(samples, { pace: "realtime" }).pipe(map((s) => s.poa)))
        .toBe("a 39ms (ab) 56ms (a|)", { a: "a1", b: "b1" });
    });
  });

  it("emits everything at once when fast", () => {
    testScheduler().run(({ expectObservable }) => {
      const samples = [sample(0), sample(40), sample(100)];
      expectObservable(replaySamples(samples, { pace: "fast" }).pipe(map((s) => s.t)))
        .toBe("(abc|)", { a: 0, b: 40, c: 100 });
    });
  });
});
