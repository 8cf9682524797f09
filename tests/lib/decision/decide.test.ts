import { describe, expect, it } from "npm:vitest@4.1.12";
import { concat, from, lastValueFrom, Subject, throwError, toArray } from "npm:rxjs@^7.8.2";
import { decide, type DecideOptions } from "../../../lib/decision/decide.ts";
import type { Decision } from "../../../lib/decision/decision.ts";
import { ConfigError, MetricsValidationError } from "../../../lib/errors.ts";
import type { LinkSample } from "../../../lib/metrics/link_sample.ts";

/** a1 (network A) fades from 30 dB while b1 (network B) rises from 5 dB, 1 dB per 100 ms. */
function crossing(until = 3000): LinkSample[] {
  const samples: LinkSample[] = [];
  for (let t = 0; t <= until; t += 100) {
    samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
    samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
  }
  return samples;
}

/** The MN sways across the A/B border: SNRs swap every `period` ms. */
function border(period: number, until: number): LinkSample[] {
  const samples: LinkSample[] = [];
  for (let t = 0; t <= until; t += 100) {
    const phase = Math.floor(t / period) % 2 === 0;
    samples.push({ t, poa: "a1", network: "A", snr: phase ? 22 : 14 });
    samples.push({ t, poa: "b1", network: "B", snr: phase ? 14 : 22 });
  }
  return samples;
}

function run(samples: LinkSample[], options: DecideOptions = {}): Promise<Decision[]> {
  return lastValueFrom(decide(from(samples), options).pipe(toArray()));
}

describe("decide (RFC 6252 section 6.3)", () => {
  it("prepares, pre-configures, commits and switches in the order of section 6.3", async () => {
    const decisions = await run(crossing());
    expect(decisions.map((d) => d.kind)).toEqual([
      "prepare",
      "preconfigure",
      "commit",
      "switch",
      "release",
    ]);
    const sw = decisions[3]!;
    expect(sw).toMatchObject({ kind: "switch", poa: "b1", ctn: "B", from: "a1", reactive: false });
    expect(sw.kind === "switch" && sw.prepared).toEqual(["preauth", "preconfigure", "bind"]);
    // the switch comes a time-to-trigger after the commit's A3 entry, on the sample clock
    expect(sw.t - decisions[2]!.t).toBe(256);
    expect(decisions[4]).toMatchObject({ kind: "release", ctn: "A", retainMs: 30000 });
  });

  it("gives the same decisions for the same input and options", async () => {
    const a = await run(border(1500, 20000));
    const b = await run(border(1500, 20000));
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(0);
  });

  it("honours the time-to-trigger: a longer dwell switches later", async () => {
    const fast = (await run(crossing(), { timeToTrigger: 0 })).find((d) => d.kind === "switch")!;
    const slow = (await run(crossing(), { timeToTrigger: 640 })).find((d) => d.kind === "switch")!;
    expect(slow.t - fast.t).toBe(640);
  });

  it("with only pre-authentication time left (section C.6) does not pre-configure", async () => {
    // The MN drives away from a1 at 100 m/s and leaves its 250 m coverage at t = 2 s.
    const samples = crossing().map((s) => ({
      ...s,
      pos: { x: 50 + s.t / 10, y: 0 },
      vel: { speed: 100, heading: 0 },
    }));
    const decisions = await run(samples, {
      cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 250 }],
      ctns: [{ network: "B", rttMs: 400, tpskMs: 10, tconfMs: 500, tbuMs: 50 }],
    });
    const prepare = decisions.find((d) => d.kind === "prepare");
    expect(prepare?.kind === "prepare" && prepare.budgets.B?.phases).toEqual(["preauth"]);
    expect(decisions.some((d) => d.kind === "preconfigure")).toBe(false);
    const sw = decisions.find((d) => d.kind === "switch");
    expect(sw?.kind === "switch" && sw.prepared).toEqual(["preauth"]);
  });

  it("recovers from ping-pong: restore, bicast and a hold-down (section C.1)", async () => {
    const decisions = await run(border(1000, 12000), { recovery: { returnPenaltyDb: 0 } });
    const kinds = decisions.map((d) => d.kind);
    expect(kinds).toContain("restore");
    expect(kinds).toContain("bicast");
    // after the ping-pong the PoA bounced through is barred: fewer switches than swings
    const switches = decisions.filter((d) => d.kind === "switch").length;
    expect(switches).toBeLessThan(11);
  });

  it("with recovery off never restores or bicasts and switches on every swing", async () => {
    const decisions = await run(border(1000, 12000), { recovery: "off" });
    const kinds = new Set(decisions.map((d) => d.kind));
    expect(kinds.has("restore") || kinds.has("bicast")).toBe(false);
    expect(decisions.filter((d) => d.kind === "switch").length).toBeGreaterThanOrEqual(10);
  });

  it("the return penalty keeps the MN from swinging back on a 6 dB swap", async () => {
    const withPenalty = await run(border(1000, 12000), {
      margin: 3,
      recovery: { returnPenaltyDb: 6 },
    });
    const without = await run(border(1000, 12000), { margin: 3, recovery: "off" });
    const count = (ds: Decision[]) => ds.filter((d) => d.kind === "switch").length;
    expect(count(withPenalty)).toBeLessThan(count(without));
  });

  it("leaves a serving PoA that vanishes from the trace after maxAgeMs", async () => {
    const samples: LinkSample[] = [];
    for (let t = 0; t <= 4000; t += 100) {
      if (t < 2000) samples.push({ t, poa: "a1", network: "A", snr: 25 });
      samples.push({ t, poa: "b1", network: "B", snr: 20 });
    }
    const sw = (await run(samples)).find((d) => d.kind === "switch");
    expect(sw).toMatchObject({ poa: "b1", from: "a1", t: 3100 });
    expect(sw?.reason).toContain("not heard for 1100 ms");
  });

  it("rejects bad options at call time with a ConfigError naming the option", () => {
    expect(() => decide(from([]), { topK: 0 })).toThrow(ConfigError);
    expect(() => decide(from([]), { recovery: { holdDownMs: -1 } })).toThrow(
      expect.objectContaining({ name: "ConfigError", option: "recovery.holdDownMs" }),
    );
    expect(() => decide(from([]), { prepareMargin: 8, prepareLeave: 5 })).toThrow(
      expect.objectContaining({ option: "prepareLeave" }),
    );
  });

  it("turns ping-pong detection off with pingPongWindowMs 0", async () => {
    const on = await run(border(1000, 12000), { recovery: { returnPenaltyDb: 0 } });
    const off = await run(border(1000, 12000), {
      recovery: { returnPenaltyDb: 0, pingPongWindowMs: 0 },
    });
    expect(on.some((d) => d.kind === "bicast")).toBe(true);
    expect(off.some((d) => d.kind === "bicast")).toBe(false);
    expect(off.filter((d) => d.kind === "switch").length).toBeGreaterThan(
      on.filter((d) => d.kind === "switch").length,
    );
  });

  it("bars the PoA bounced through for holdDownMs after a ping-pong, then lets it win again", async () => {
    const ds = await run(border(1000, 30000), {
      recovery: { returnPenaltyDb: 0, holdDownMs: 8000, bicastMs: 1000 },
    });
    const bicast = ds.find((d) => d.kind === "bicast")!;
    const switches = ds.filter((d) => d.kind === "switch");
    const after = switches.filter((d) => d.t > bicast.t);
    // no switch at all while the bar holds: the PoA bounced through cannot win
    expect(after.filter((d) => d.t < bicast.t + 8000)).toEqual([]);
    // after it, the swings win again
    expect(after.some((d) => d.t >= bicast.t + 8000)).toBe(true);
  });

  it("errors with MetricsValidationError naming the field on a bad sample", async () => {
    const bad = [{ t: 0, poa: "a1", network: "A", snr: 10 }, {
      t: 100,
      poa: "a1",
      network: "A",
      snr: NaN,
    }];
    await expect(run(bad)).rejects.toMatchObject({ name: "MetricsValidationError", field: "snr" });
    const nanPos = [{ t: 0, poa: "a1", network: "A", snr: 10, pos: { x: NaN, y: 0 } }];
    await expect(run(nanPos)).rejects.toMatchObject({ field: "pos.x" });
    const backwards = [{ t: 100, poa: "a1", network: "A", snr: 10 }, {
      t: 0,
      poa: "a1",
      network: "A",
      snr: 10,
    }];
    await expect(run(backwards)).rejects.toBeInstanceOf(MetricsValidationError);
  });

  it("propagates a source error and completes when the samples complete", async () => {
    const boom = new Error("link gone");
    await expect(lastValueFrom(decide(concat(from(crossing(500)), throwError(() => boom)))))
      .rejects.toBe(boom);
    let completed = false;
    decide(from([])).subscribe({ complete: () => completed = true });
    expect(completed).toBe(true);
  });

  it("unsubscribes from the samples and emits nothing more when unsubscribed", () => {
    const input = new Subject<LinkSample>();
    const seen: Decision[] = [];
    const sub = decide(input).subscribe((d) => seen.push(d));
    const samples = crossing();
    for (const s of samples.slice(0, 30)) input.next(s);
    sub.unsubscribe();
    expect(input.observed).toBe(false);
    const before = seen.length;
    expect(before).toBeGreaterThan(0); // the first 30 samples already prepared B
    for (const s of samples.slice(30)) input.next(s);
    expect(seen.length).toBe(before);
  });

  it("can be subscribed to twice independently", async () => {
    const d$ = decide(from(crossing()));
    const [a, b] = await Promise.all([
      lastValueFrom(d$.pipe(toArray())),
      lastValueFrom(d$.pipe(toArray())),
    ]);
    expect(a).toEqual(b);
  });
});
