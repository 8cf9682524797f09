import { describe, expect, it } from "npm:vitest@4.1.12";
import type { RunMetrics } from "../../../bench/handover/measure.ts";
import {
  cell,
  compactResults,
  goals,
  reactiveRatios,
  renderReport,
  type RunRecord,
  type TestbedResults,
  timelineSvg,
} from "../../../bench/handover/report.ts";
import { handoverTrace } from "./_trace.ts";

const trace = handoverTrace(-190);

function run(m: Partial<RunMetrics>): RunRecord {
  return {
    metrics: {
      linkSwitchMs: 2,
      l3HandoverMs: 14,
      lost: 0,
      duplicated: 0,
      buffered: 1,
      sent: 100,
      interruptionMs: 20,
      jitterMs: 3,
      interArrivalMs: 20,
      tauthMs: 8,
      tconfMs: 6,
      ...m,
    },
    trace,
    timeline: [[980, 970, 0], [1000, 990, 0], [1021, 1010, 0], [1022, 1010, 1]],
  };
}

const results: TestbedResults = {
  parameters: { ratePps: 50, intervalMs: 20, cnRttMs: 100 },
  date: "2026-01-01T00:00:00.000Z",
  scenarios: [
    {
      id: "reactive",
      protocol: "sip",
      aaa: "local",
      runs: [run({ lost: 60, interruptionMs: 1200, tauthMs: 30 }), run({ lost: 58 })],
    },
    { id: "mpa-buffering", protocol: "sip", aaa: "local", runs: [run({}), run({})] },
    { id: "mpa-no-buffering", protocol: "sip", aaa: "local", runs: [run({ lost: 2 })] },
  ],
};

/** Checks that every tag is closed in order and attributes are quoted (a small XML check). */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const body = xml.replace(/<\?xml[^>]*\?>/, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self === "/") continue;
    if (close === "/") {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  const tags = (body.match(/</g) ?? []).length;
  const matched = [...body.matchAll(/<\/?[a-zA-Z][^>]*>/g)].length;
  return stack.length === 0 && tags === matched && !/&(?!amp;|lt;|gt;|quot;)/.test(body);
}

describe("the handover report (RFC 6252 Appendix C.5, Figures 6, 7 and 10)", () => {
  it("cells are median / p90", () => {
    expect(cell({ median: 1.25, p90: 3, n: 4 })).toBe("1.3 / 3.0");
    expect(cell({ median: 0, p90: 0, n: 0 })).toBe("-");
  });

  it("the Figure 7 table puts the RFC's numbers beside ours in the right columns", () => {
    const md = renderReport(results).markdown;
    const fig7 = md.slice(md.indexOf("## Figure 7"), md.indexOf("## Figure 10"));
    const loss = fig7.split("\n").find((l) => l.startsWith("| Avg. packet loss"))!;
    // RFC disabled | ours no-buffering | RFC enabled | ours buffering | ours reactive
    expect(loss.split("|").map((s) => s.trim()).slice(2, 7)).toEqual([
      "1.50",
      "2.0 / 2.0",
      "0",
      "0.0 / 0.0",
      "59.0 / 60.0",
    ]);
    const l2 = fig7.split("\n").find((l) => l.startsWith("| L2 handoff"))!;
    expect(l2.split("|").map((s) => s.trim()).slice(2, 5)).toEqual(["4.00", "2.00 / 2.00", "5.00"]);
    const interval = fig7.split("\n").find((l) =>
      l.startsWith("| Avg. inter-packet arrival interval")
    )!;
    expect(interval).toContain("| 20.00 |");
  });

  it("the Figure 10 table shows the RFC's Tauth and ours for reactive and MPA", () => {
    const md = renderReport(results).markdown;
    const row = md.split("\n").find((l) => l.startsWith("| Tauth (ms)"))!;
    const cells = row.split("|").map((s) => s.trim());
    expect(cells.slice(2, 5)).toEqual(["61", "599", "19.0 / 30.0"]);
    expect(cells[7]).toBe("177");
    expect(cells[9]).toBe("8.0 / 8.0");
  });

  it("ratios and goals: reactive over MPA, no loss with buffering, Tauth <= 10 ms", () => {
    const [ratio] = reactiveRatios(results);
    expect(ratio?.protocol).toBe("sip");
    expect(ratio?.interruption).toBe(30.5); // median 610 / 20
    expect(ratio?.loss).toBe(Infinity);
    const g = goals(results);
    expect(g.map((x) => x.status)).toEqual(["met", "met", "met", "met"]);
    const md = renderReport(results).markdown;
    expect(md).toContain("reactive lost packets, MPA none");
  });

  it("a goal is missed when a buffered run lost a packet or the gap exceeds switch + interval", () => {
    const bad: TestbedResults = {
      ...results,
      scenarios: [{
        id: "mpa-buffering",
        protocol: "mip6",
        aaa: "local",
        runs: [run({ lost: 1, interruptionMs: 40, tauthMs: 12 })],
      }],
    };
    expect(goals(bad).map((x) => x.status)).toEqual(["missed", "missed", "not measured", "missed"]);
  });

  it("one SVG timeline per scenario, well-formed, with the phases and the arrivals", () => {
    const { svgs, markdown } = renderReport(results);
    expect(Object.keys(svgs).sort()).toEqual([
      "timeline-mpa-buffering-sip-local.svg",
      "timeline-mpa-no-buffering-sip-local.svg",
      "timeline-reactive-sip-local.svg",
    ]);
    expect(markdown).toContain("](results/timeline-reactive-sip-local.svg)");
    const svg = svgs["timeline-mpa-buffering-sip-local.svg"]!;
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain("buffering at the AR");
    expect(svg).toContain("link-layer switch");
    expect((svg.match(/<circle /g) ?? []).length).toBe(4 + 2); // arrivals + legend
    expect(svg).toContain('fill="#dc2626"'); // the duplicate
    expect(wellFormed(timelineSvg("a <b> & c", run({})))).toBe(true);
    expect(wellFormed("<svg><g></svg>")).toBe(false);
  });

  it("ping-pong (RFC 6252 C.1, C.2): one row per switch, no Tauth or Tconf after the first", () => {
    const legs = ["A->B", "B->A", "A->B (again)"].map((leg) => ({
      ...run({ lost: 6, interruptionMs: 140 }),
      leg,
      metrics: { ...run({ lost: 6, interruptionMs: 140 }).metrics, tauthMs: undefined },
    })) as unknown as RunRecord[];
    const { markdown } = renderReport({
      ...results,
      parameters: { ...results.parameters, pingPongDwellMs: 1500 },
      scenarios: [{ id: "ping-pong", protocol: "sip", aaa: "local", runs: legs }],
    });
    const section = markdown.split("## Ping-pong")[1]!.split("## Timelines")[0]!;
    expect(section).toContain("1500 ms apart");
    expect(section).toContain("| sip | local | B->A | 1 | 6 / 6 | 0 / 0 | 1 / 1 | 140.0 / 140.0 |");
    expect(section.match(/\| sip \| local \|/g)).toHaveLength(3);
    expect(section).toContain("does NOT re-open"); // these legs have no prepareStart
    const reopened = legs.map((l) => ({ ...l, trace: { ...l.trace, prepareStart: 1 } }));
    const again = renderReport({
      ...results,
      scenarios: [{ id: "ping-pong", protocol: "sip", aaa: "local", runs: reopened }],
    }).markdown;
    expect(again).toContain("re-opens the proactive tunnel to the retained target");
  });

  it("multi-interface (RFC 6252 section 7.6.2): a table with dedup drops, a goal, a timeline", () => {
    const mi = (m: Partial<RunMetrics>): RunRecord => ({
      ...run({ ...m, dedupDropped: 25, copyAfterDisconnectMs: 4 }),
      trace: {
        ...trace,
        copy: [400, 405],
        copyStopped: trace.link[1] + 2,
        dedupDropped: 25,
        direct: trace.l3Done,
      },
    });
    const r: TestbedResults = {
      ...results,
      scenarios: [{
        id: "multi-interface",
        protocol: "mip6",
        aaa: "local",
        runs: [mi({ interruptionMs: 22 }), mi({ interruptionMs: 24 })],
      }],
    };
    const { markdown, svgs } = renderReport(r);
    const section = markdown.split("## Multi-interface copy-and-forward")[1]!.split("## ")[0]!;
    expect(section).toContain("| mip6 | local | 2 | 0 | 0 / 0 | 0 / 0 | 25 / 25 | 23.0 / 24.0 |");
    const goal = goals(r).find((g) => g.goal.startsWith("Multi-interface"));
    expect(goal).toMatchObject({ status: "met" });
    expect(goal?.detail).toContain("dropped 50 copies");
    const lossy = { ...r, scenarios: [{ ...r.scenarios[0]!, runs: [mi({ lost: 1 })] }] };
    expect(goals(lossy).find((g) => g.goal.startsWith("Multi-interface"))?.status).toBe("missed");
    const svg = svgs["timeline-multi-interface-mip6-local.svg"]!;
    expect(wellFormed(svg)).toBe(true);
    expect(svg).toContain("copy-and-forward");
    expect(svg).toContain("eth0 lost, nCoA to eth1");
  });

  it("the kept JSON has a timeline only for the run each SVG shows, cut to its window", () => {
    const kept = compactResults(results);
    const reactive = kept.scenarios[0]!;
    expect(reactive.runs.map((x) => x.timeline.length)).toEqual([0, 4]); // the 20 ms one
    expect(kept.scenarios.flatMap((x) => x.runs.map((y) => y.metrics))).toEqual(
      results.scenarios.flatMap((x) => x.runs.map((y) => y.metrics)),
    );
  });
});
