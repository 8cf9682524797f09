/**
 * The handover testbed's report (RFC 6252 Appendix C.5), pure: `report.md` with
 * tables shaped like Figures 6 (Mobile IPv6), 7 (SIP) and 10 (authentication),
 * median and 90th percentile over runs beside the RFC's numbers, the reactive / MPA
 * ratios of interruption and loss, the goals met or missed, and one SVG timeline per
 * scenario (packet arrivals against time around the switch, phases shaded).
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { renderReport } from "./report.ts";
 * const r = renderReport({ parameters: { ratePps: 50 }, scenarios: [], date: "2026-01-01" });
 * assertStringIncludes(r.markdown, "Figure 6");
 * ```
 *
 * @module
 */
import { type RunMetrics, summarize, type Summary } from "./measure.ts";
import type { BindingProtocol, HandoverTrace } from "./mn_driver.ts";

/** One run (one switch of a ping-pong run) as recorded. */
export interface RunRecord {
  /** Ping-pong: which switch (`A->B`, ...). */
  readonly leg?: string;
  /** Its metrics. */
  readonly metrics: RunMetrics;
  /** The driver's phase times. */
  readonly trace: HandoverTrace;
  /** [arrivedAt, sentAt, duplicate] per datagram (kept only where an SVG shows it). */
  readonly timeline: readonly (readonly [number, number, number])[];
}

/** The runs of one scenario. */
export interface ScenarioResult {
  /** Scenario id (`reactive`, `mpa-buffering`, ...). */
  readonly id: string;
  /** Binding protocol. */
  readonly protocol: BindingProtocol;
  /** Authentication case. */
  readonly aaa: "local" | "roaming";
  /** Successful runs. */
  runs: RunRecord[];
  /** Error messages of failed runs. */
  failures?: string[];
}

/** Everything a testbed run produced. */
export interface TestbedResults {
  /** Parameters in effect. */
  readonly parameters: Readonly<Record<string, string | number>>;
  /** Per scenario. */
  readonly scenarios: readonly ScenarioResult[];
  /** ISO date. */
  readonly date: string;
}

/** The RFC's numbers (Figures 6, 7 and 10 of RFC 6252 Appendix C.5). */
export const RFC_NUMBERS = {
  /** Figure 6, Mobile IPv6, route optimization disabled: [buffering disabled, enabled]. */
  figure6: {
    linkSwitchMs: ["4.00", "4.33"],
    l3HandoverMs: ["1.00", "1.00"],
    lost: ["1.33", "0"],
    interval: ["16.00", "16.00"],
    interArrivalMs: ["n/a", "45.33"],
    jitterMs: ["n/a", "29.33"],
    bufferingMs: ["n/a", "50.00"],
    buffered: ["n/a", "2.00"],
  },
  /** Figure 7, SIP: [buffering disabled, enabled]. */
  figure7: {
    linkSwitchMs: ["4.00", "5.00"],
    l3HandoverMs: ["1.00", "1.00"],
    lost: ["1.50", "0"],
    interval: ["16.00", "16.00"],
    interArrivalMs: ["n/a", "29.00"],
    jitterMs: ["n/a", "13.00"],
    bufferingMs: ["n/a", "20.00"],
    buffered: ["n/a", "3.00"],
  },
  /** Figure 10: [non-roaming, roaming] per column. */
  figure10: {
    post: { tauth: ["61", "599"], tconf: ["--", "--"], affecting: ["79", "616"] },
    preauth80211i: { tauth: ["99", "638"], tconf: ["--", "--"], affecting: ["16", "17"] },
    mpa: { tauth: ["177", "831"], tconf: ["16", "17"], affecting: ["15", "17"] },
  },
} as const;

/** The output of {@link renderReport}. */
export interface RenderedReport {
  /** report.md. */
  readonly markdown: string;
  /** SVG files by name (placed in results/). */
  readonly svgs: Readonly<Record<string, string>>;
}

const _f = (v: number | undefined, digits = 1) =>
  v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits);

/**
 * `median / p90` of a summary.
 *
 * @param s the summary
 * @param digits decimals
 * @returns the cell text, `-` without data
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { cell } from "./report.ts";
 * assertEquals(cell({ median: 1.234, p90: 2, n: 3 }, 2), "1.23 / 2.00");
 * assertEquals(cell(undefined), "-");
 * ```
 */
export function cell(s: Summary | undefined, digits = 1): string {
  return s === undefined || s.n === 0 ? "-" : `${_f(s.median, digits)} / ${_f(s.p90, digits)}`;
}

function _find(
  r: TestbedResults,
  id: string,
  protocol: BindingProtocol,
  aaa: "local" | "roaming" = "local",
): ScenarioResult | undefined {
  return r.scenarios.find((s) => s.id === id && s.protocol === protocol && s.aaa === aaa);
}

function _sum(s: ScenarioResult | undefined) {
  return summarize(s?.runs.map((x) => x.metrics) ?? []);
}

function _figureTable(
  r: TestbedResults,
  protocol: BindingProtocol,
  rfc: typeof RFC_NUMBERS.figure6 | typeof RFC_NUMBERS.figure7,
): string {
  const nb = _sum(_find(r, "mpa-no-buffering", protocol));
  const b = _sum(_find(r, "mpa-buffering", protocol));
  const re = _sum(_find(r, "reactive", protocol));
  const interval = Number(r.parameters.intervalMs ?? NaN);
  const rows: [string, string, keyof RunMetrics | "interval", number][] = [
    ["L2 handoff (ms)", "linkSwitchMs", "linkSwitchMs", 2],
    ["L3 handoff (ms)", "l3HandoverMs", "l3HandoverMs", 1],
    ["Avg. packet loss", "lost", "lost", 1],
    ["Avg. inter-packet arrival interval (ms)", "interval", "interval", 2],
    ["Avg. inter-packet arrival time during handover (ms)", "interArrivalMs", "interArrivalMs", 1],
    ["Avg. packet jitter (ms)", "jitterMs", "jitterMs", 1],
    ["Buffering period (ms)", "bufferingMs", "bufferingMs", 1],
    ["Buffered packets", "buffered", "buffered", 1],
  ];
  const lines = [
    "| | RFC, buffering disabled | ours, MPA without buffering | RFC, buffering enabled | ours, MPA with buffering | ours, reactive |",
    "|---|---|---|---|---|---|",
  ];
  for (const [label, key, metric, digits] of rows) {
    const r6 = rfc[key as keyof typeof rfc] as readonly [string, string];
    const ours = (s: ReturnType<typeof summarize>) =>
      metric === "interval" ? _f(interval, 2) : cell(s[metric], digits);
    lines.push(`| ${label} | ${r6[0]} | ${ours(nb)} | ${r6[1]} | ${ours(b)} | ${ours(re)} |`);
  }
  for (
    const [label, metric, digits] of [
      ["Interruption: largest gap (ms)", "interruptionMs", 1],
      ["Duplicated packets", "duplicated", 1],
      ["Binding update (ms)", "buMs", 1],
    ] as const
  ) {
    lines.push(
      `| ${label} | - | ${cell(nb[metric], digits)} | - | ${cell(b[metric], digits)} | ${
        cell(re[metric], digits)
      } |`,
    );
  }
  return lines.join("\n");
}

function _figure10(r: TestbedResults): string {
  const rf = RFC_NUMBERS.figure10;
  const get = (id: string, aaa: "local" | "roaming") => {
    const all = r.scenarios.filter((s) => s.id === id && s.aaa === aaa);
    return summarize(all.flatMap((s) => s.runs.map((x) => x.metrics)));
  };
  const affecting = (id: string, aaa: "local" | "roaming") => {
    const all = r.scenarios.filter((s) => s.id === id && s.aaa === aaa);
    const v = all.flatMap((s) =>
      s.runs.map((x) => x.metrics.linkSwitchMs + x.metrics.l3HandoverMs)
    );
    return summarize(v.map((x) => ({ interruptionMs: x } as unknown as RunMetrics))).interruptionMs;
  };
  const reL = get("reactive", "local"), reR = get("reactive", "roaming");
  const mL = get("mpa-buffering", "local"), mR = get("mpa-buffering", "roaming");
  return [
    "| | RFC post-auth non-roaming | RFC post-auth roaming | ours reactive non-roaming | ours reactive roaming | RFC 802.11i pre-auth non-roaming / roaming | RFC MPA non-roaming | RFC MPA roaming | ours MPA non-roaming | ours MPA roaming |",
    "|---|---|---|---|---|---|---|---|---|---|",
    `| Tauth (ms) | ${rf.post.tauth[0]} | ${rf.post.tauth[1]} | ${cell(reL.tauthMs)} | ${
      cell(reR.tauthMs)
    } | ${rf.preauth80211i.tauth.join(" / ")} | ${rf.mpa.tauth[0]} | ${rf.mpa.tauth[1]} | ${
      cell(mL.tauthMs)
    } | ${cell(mR.tauthMs)} |`,
    `| Tconf (ms) | -- | -- | ${cell(reL.tconfMs)} | ${cell(reR.tconfMs)} | -- / -- | ${
      rf.mpa.tconf[0]
    } | ${rf.mpa.tconf[1]} | ${cell(mL.tconfMs)} | ${cell(mR.tconfMs)} |`,
    `| Time affecting handover (ms) | ${rf.post.affecting[0]} | ${rf.post.affecting[1]} | ${
      cell(affecting("reactive", "local"))
    } | ${cell(affecting("reactive", "roaming"))} | ${rf.preauth80211i.affecting.join(" / ")} | ${
      rf.mpa.affecting[0]
    } | ${rf.mpa.affecting[1]} | ${cell(affecting("mpa-buffering", "local"), 2)} | ${
      cell(affecting("mpa-buffering", "roaming"), 2)
    } |`,
  ].join("\n");
}

/** A goal and whether it was met. */
export interface Goal {
  /** What. */
  readonly goal: string;
  /** Met, missed, or not measured. */
  readonly status: "met" | "missed" | "not measured";
  /** The evidence. */
  readonly detail: string;
}

/**
 * The goals of the issue, checked against the results.
 *
 * @param r the results
 * @returns one entry per goal
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { goals } from "./report.ts";
 * assertEquals(goals({ parameters: {}, scenarios: [], date: "" })[0]?.status, "not measured");
 * ```
 */
export function goals(r: TestbedResults): Goal[] {
  const out: Goal[] = [];
  const interval = Number(r.parameters.intervalMs ?? 20);
  const buf = r.scenarios.filter((s) => s.id === "mpa-buffering").flatMap((s) => s.runs);
  if (buf.length === 0) {
    out.push({ goal: "MPA with buffering loses no packet", status: "not measured", detail: "" });
    out.push({
      goal: "MPA with buffering: interruption <= link switch + one packet interval",
      status: "not measured",
      detail: "",
    });
  } else {
    const lossy = buf.filter((x) => x.metrics.lost > 0).length;
    out.push({
      goal: "MPA with buffering loses no packet",
      status: lossy === 0 ? "met" : "missed",
      detail: `${buf.length - lossy} of ${buf.length} runs lost nothing`,
    });
    const long = buf.filter((x) =>
      x.metrics.interruptionMs > x.metrics.linkSwitchMs + interval + 1e-9
    );
    out.push({
      goal: "MPA with buffering: interruption <= link switch + one packet interval",
      status: long.length === 0 ? "met" : "missed",
      detail: `${buf.length - long.length} of ${buf.length} runs within (interval ${
        _f(interval, 1)
      } ms); worst interruption ${
        _f(Math.max(...buf.map((x) => x.metrics.interruptionMs)))
      } ms against link switch + interval ${
        _f(Math.max(...buf.map((x) => x.metrics.linkSwitchMs)) + interval)
      } ms`,
    });
  }
  const copy = r.scenarios.filter((s) => s.id === "multi-interface").flatMap((s) => s.runs);
  if (copy.length > 0) {
    const lossy = copy.filter((x) => x.metrics.lost > 0).length;
    const dups = copy.filter((x) => x.metrics.duplicated > 0).length;
    out.push({
      goal:
        "Multi-interface copy-and-forward: no loss at a sudden disconnection, no duplicate reaches the application",
      status: lossy === 0 && dups === 0 ? "met" : "missed",
      detail: `${copy.length - lossy} of ${copy.length} runs lost nothing, ${
        copy.length - dups
      } of ${copy.length} delivered no duplicate; the MN's dedup window dropped ${
        copy.reduce((n, x) => n + (x.metrics.dedupDropped ?? 0), 0)
      } copies in all`,
    });
  }
  const ratios = reactiveRatios(r);
  out.push({
    goal: "Reactive baseline measured in the same run, ratio printed",
    status: ratios.length > 0 ? "met" : "not measured",
    detail: ratios.map((x) =>
      `${x.protocol}/${x.aaa}: interruption x${_f(x.interruption, 1)}, loss ${
        Number.isFinite(x.loss) ? `x${_f(x.loss, 1)}` : "reactive lost, MPA none"
      }`
    ).join("; "),
  });
  const tauth = r.scenarios.filter((s) => s.aaa === "local" && s.id !== "reactive")
    .flatMap((s) => s.runs.map((x) => x.metrics.tauthMs)).filter((x): x is number =>
      x !== undefined
    );
  const sum = summarize(tauth.map((t) => ({ tauthMs: t } as unknown as RunMetrics))).tauthMs;
  out.push({
    goal: "Non-roaming Tauth <= 10 ms",
    status: sum === undefined ? "not measured" : sum.median <= 10 ? "met" : "missed",
    detail: sum === undefined ? "" : `median ${_f(sum.median, 2)} ms, p90 ${_f(sum.p90, 2)} ms`,
  });
  return out;
}

/** Reactive / MPA-with-buffering ratios of the medians. */
export interface Ratio {
  /** Protocol. */
  readonly protocol: BindingProtocol;
  /** AAA case. */
  readonly aaa: "local" | "roaming";
  /** Interruption ratio. */
  readonly interruption: number;
  /** Loss ratio (Infinity when MPA lost none and reactive did). */
  readonly loss: number;
}

/**
 * Reactive over MPA-with-buffering, medians, per protocol and AAA case.
 *
 * @param r the results
 * @returns the ratios where both were measured
 */
export function reactiveRatios(r: TestbedResults): Ratio[] {
  const out: Ratio[] = [];
  for (const s of r.scenarios.filter((x) => x.id === "reactive")) {
    const m = _find(r, "mpa-buffering", s.protocol, s.aaa);
    if (m === undefined || m.runs.length === 0 || s.runs.length === 0) continue;
    const a = _sum(s), b = _sum(m);
    const ra = a.interruptionMs!.median / b.interruptionMs!.median;
    const la = a.lost!.median, lb = b.lost!.median;
    out.push({
      protocol: s.protocol,
      aaa: s.aaa,
      interruption: ra,
      loss: lb === 0 ? (la === 0 ? 1 : Infinity) : la / lb,
    });
  }
  return out;
}

const _esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * One run's timeline as SVG: each packet's arrival (x, ms from the link switch's
 * start) against its send time (y), phases as shaded bands, duplicates in red.
 *
 * @param title the heading
 * @param run the run
 * @returns the SVG document
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { timelineSvg } from "./report.ts";
 * const svg = timelineSvg("t", {
 *   metrics: { linkSwitchMs: 1, l3HandoverMs: 1, lost: 0, duplicated: 0, buffered: 0, sent: 2,
 *     interruptionMs: 20, jitterMs: 0, interArrivalMs: 20 },
 *   trace: { buProactive: true, executeStart: 100, link: [100, 101], assigned: 102, l3Done: 102 },
 *   timeline: [[90, 80, 0], [110, 100, 0]],
 * });
 * assertStringIncludes(svg, "<svg");
 * ```
 */
export function timelineSvg(title: string, run: RunRecord): string {
  const W = 760, H = 300, L = 60, R = 150, T = 36, B = 40;
  const t0 = run.trace.link[0];
  const x0 = -400, x1 = Math.max(400, run.trace.l3Done - t0 + 400);
  const pts = run.timeline.filter(([a]) => a - t0 >= x0 && a - t0 <= x1);
  const ys = pts.map(([, s]) => s - t0).filter((v) => Number.isFinite(v));
  const y0 = Math.min(x0, ...ys), y1 = Math.max(x1, ...ys);
  const sx = (v: number) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const sy = (v: number) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  const bands: [string, number | undefined, number | undefined, string][] = [
    ["buffering at the AR", run.trace.buffered, run.trace.flushed ?? run.trace.assigned, "#fde68a"],
    ["copy-and-forward", run.trace.copy?.[1], run.trace.copyStopped, "#ddd6fe"],
    ["authentication", run.trace.auth?.[0], run.trace.auth?.[1], "#c7d2fe"],
    ["configuration (DHCP)", run.trace.conf?.[0], run.trace.conf?.[1], "#a7f3d0"],
    ["binding update", run.trace.bu?.[0], run.trace.bu?.[1], "#fbcfe8"],
    [
      run.trace.copyStopped === undefined ? "link-layer switch" : "eth0 lost, nCoA to eth1",
      run.trace.link[0],
      run.trace.link[1],
      "#fca5a5",
    ],
    ["nCoA assigned (L3)", run.trace.link[1], run.trace.assigned, "#93c5fd"],
    ["until received on eth1", run.trace.copyStopped, run.trace.direct, "#bbf7d0"],
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<title>${_esc(title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="16" font-size="13" font-weight="bold">${_esc(title)}</text>`,
  ];
  let legendY = T + 4;
  for (const [label, a, b, color] of bands) {
    if (a === undefined || b === undefined) continue;
    const xa = sx(Math.max(x0, a - t0)), xb = sx(Math.min(x1, b - t0));
    const w = Math.max(1.5, xb - xa);
    parts.push(
      `<rect x="${xa.toFixed(1)}" y="${T}" width="${w.toFixed(1)}" height="${
        H - T - B
      }" fill="${color}" fill-opacity="0.6"/>`,
      `<rect x="${W - R + 10}" y="${legendY}" width="10" height="10" fill="${color}"/>`,
      `<text x="${W - R + 24}" y="${legendY + 9}">${_esc(label)}</text>`,
    );
    legendY += 16;
  }
  parts.push(
    `<circle cx="${W - R + 15}" cy="${legendY + 5}" r="2.5" fill="#111"/>`,
    `<text x="${W - R + 24}" y="${legendY + 9}">packet arrival</text>`,
    `<circle cx="${W - R + 15}" cy="${legendY + 21}" r="3" fill="#dc2626"/>`,
    `<text x="${W - R + 24}" y="${legendY + 25}">duplicate</text>`,
    `<text x="${W - R + 10}" y="${legendY + 48}">lost ${run.metrics.lost}, gap ${
      _f(run.metrics.interruptionMs)
    } ms</text>`,
  );
  parts.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  );
  const step = (x1 - x0) > 2000 ? 500 : (x1 - x0) > 800 ? 200 : 100;
  for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) {
    parts.push(
      `<line x1="${sx(v).toFixed(1)}" y1="${H - B}" x2="${sx(v).toFixed(1)}" y2="${
        H - B + 4
      }" stroke="#333"/>`,
      `<text x="${sx(v).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${v}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${
      H - 6
    }" text-anchor="middle">arrival at the MN, ms from the link switch</text>`,
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${
      (T + H - B) / 2
    })" text-anchor="middle">sent by the CN, ms</text>`,
  );
  for (const [a, s, dup] of pts) {
    if (!Number.isFinite(s)) continue;
    parts.push(
      `<circle cx="${sx(a - t0).toFixed(1)}" cy="${sy(s - t0).toFixed(1)}" r="${
        dup === 1 ? 3 : 2
      }" fill="${dup === 1 ? "#dc2626" : "#111"}"/>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/**
 * The run a scenario's SVG shows: the median-interruption one.
 *
 * @param s the scenario
 * @returns its index in `s.runs`, -1 without runs
 */
export function shownRun(s: ScenarioResult): number {
  if (s.runs.length === 0) return -1;
  const order = s.runs.map((_, i) => i).sort((a, b) =>
    s.runs[a]!.metrics.interruptionMs - s.runs[b]!.metrics.interruptionMs
  );
  return order[Math.floor((order.length - 1) / 2)]!;
}

/**
 * The results as kept on disk: every run's metrics and phase times, the packet
 * timeline only for the run each SVG shows ({@link shownRun}), cut to the SVG's
 * window (400 ms either side of the switch).
 *
 * @param r the results
 * @returns the same results with the other timelines empty
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { compactResults } from "./report.ts";
 * const metrics = { linkSwitchMs: 1, l3HandoverMs: 1, lost: 0, duplicated: 0, buffered: 0,
 *   sent: 2, interruptionMs: 20, jitterMs: 0, interArrivalMs: 20 };
 * const trace = { buProactive: true, executeStart: 100, link: [100, 101] as const,
 *   assigned: 102, l3Done: 102 };
 * const timeline = [[-500, -510, 0], [110, 100, 0]] as const;
 * const r = compactResults({ parameters: {}, date: "", scenarios: [{ id: "x",
 *   protocol: "sip", aaa: "local", runs: [{ metrics, trace, timeline }] }] });
 * assertEquals(r.scenarios[0]?.runs[0]?.timeline, [[110, 100, 0]]);
 * ```
 */
export function compactResults(r: TestbedResults): TestbedResults {
  return {
    ...r,
    scenarios: r.scenarios.map((s) => {
      const shown = shownRun(s);
      return {
        ...s,
        runs: s.runs.map((run, i) => {
          if (i !== shown) return { ...run, timeline: [] };
          const t0 = run.trace.link[0], t1 = run.trace.l3Done;
          return {
            ...run,
            timeline: run.timeline.filter(([a]) => a >= t0 - 400 && a <= t1 + 400),
          };
        }),
      };
    }),
  };
}

function _pingPong(r: TestbedResults): string[] {
  const pp = r.scenarios.filter((s) => s.id === "ping-pong");
  if (pp.length === 0) return [];
  const reopened = pp.some((s) => s.runs.some((x) => x.trace.prepareStart !== undefined));
  const lines = [
    "## Ping-pong (RFC 6252 C.1, C.2)",
    "",
    `Both CTNs are prepared from the previous network (pre-authentication, DHCP, tunnels), MPA with buffering moves the MN into A (the first CTN), then it switches A -> B -> A -> B, ${
      String(r.parameters.pingPongDwellMs ?? "-")
    } ms apart. The scripted MN RETAINS every context (the MPA-SAs at both AAs, the leases, the authorization at the ARs; RFC 6252 C.1, C.2), so no switch after the first needs pre-authentication or DHCP again (no Tauth, no Tconf on these rows). ${
      reopened
        ? "Halfway through each dwell it re-opens the proactive tunnel to the retained target from its CURRENT address (the nCoA of the network it is in), binds through it, and when the dwell is over asks the target AR to buffer, deletes the tunnel, switches and flushes - the first handover's steps from the current network (tunnel = the re-open, BU = the binding through it)."
        : "It does NOT re-open a proactive tunnel from the current network on these switches, so the binding update goes after the switch and nothing is buffered - each switch costs link switch + address + one binding-update round trip of loss."
    }`,
    "",
    "| protocol | AAA | switch | switches | lost | duplicated | buffered | interruption (ms) | link switch (ms) | L3 (ms) | tunnel (ms) | BU (ms) | Tauth (ms) | Tconf (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of pp) {
    const legs = [...new Set(s.runs.map((x) => x.leg ?? ""))];
    for (const leg of legs) {
      const m = summarize(s.runs.filter((x) => (x.leg ?? "") === leg).map((x) => x.metrics));
      lines.push(
        `| ${s.protocol} | ${s.aaa} | ${leg} | ${m.lost?.n ?? 0} | ${cell(m.lost, 0)} | ${
          cell(m.duplicated, 0)
        } | ${cell(m.buffered, 0)} | ${cell(m.interruptionMs)} | ${cell(m.linkSwitchMs, 2)} | ${
          cell(m.l3HandoverMs)
        } | ${cell(m.tunnelMs)} | ${cell(m.buMs)} | ${cell(m.tauthMs)} | ${cell(m.tconfMs)} |`,
      );
    }
  }
  lines.push("");
  return lines;
}

function _multiInterface(r: TestbedResults): string[] {
  const mi = r.scenarios.filter((s) => s.id === "multi-interface");
  if (mi.length === 0) return [];
  const lines = [
    "## Multi-interface copy-and-forward (RFC 6252 section 7.6.2)",
    "",
    "The MN's second interface (eth1) sits in CTN 1's cell with only an IPv4 link-local address (RFC 3927). The CTN is prepared through eth0 (pre-authentication, DHCP, the PHT; the nCoA on a TUN) and the binding goes through the tunnel; then the MN asks the AR to copy every packet for the nCoA to eth1 (the copy-start leaves from a socket on the link-local address, so each copy is sealed into the PHT and sent there over the cell), and the MN's dedup window drops the second copy of each packet. Then eth0 loses its link suddenly (its peer moves to an empty bridge: no buffer request, no tunnel delete first). Link switch = the disconnection until the nCoA is active on eth1 (address, default route, gratuitous ARP); then the tunnel is deleted from eth1 (copy-and-forward stops, the AR routes the nCoA onto its cell); L3 = until the first packet received directly at the nCoA on eth1. Duplicated = copies that reached the application; dedup dropped = copies the PHT dedup window dropped.",
    "",
    "| protocol | AAA | runs | failed | lost | duplicated | dedup dropped | interruption (ms) | link switch (ms) | L3 (ms) | disconnection to copy stopped (ms) | jitter (ms) | Tauth (ms) | Tconf (ms) | tunnel (ms) | BU (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of mi) {
    const m = _sum(s);
    lines.push(
      `| ${s.protocol} | ${s.aaa} | ${s.runs.length} | ${s.failures?.length ?? 0} | ${
        cell(m.lost, 0)
      } | ${cell(m.duplicated, 0)} | ${cell(m.dedupDropped, 0)} | ${cell(m.interruptionMs)} | ${
        cell(m.linkSwitchMs, 2)
      } | ${cell(m.l3HandoverMs)} | ${cell(m.copyAfterDisconnectMs)} | ${cell(m.jitterMs)} | ${
        cell(m.tauthMs)
      } | ${cell(m.tconfMs)} | ${cell(m.tunnelMs)} | ${cell(m.buMs)} |`,
    );
  }
  lines.push("");
  return lines;
}

/**
 * Renders report.md and the SVG timelines.
 *
 * @param r the results
 * @returns markdown and SVGs
 */
export function renderReport(r: TestbedResults): RenderedReport {
  const svgs: Record<string, string> = {};
  const lines: string[] = [
    "# Handover testbed report (RFC 6252 Appendix C.5)",
    "",
    `Generated by \`deno task testbed\` (bench/handover/run.ts) on ${r.date}. Medians and 90th percentiles over runs are written \`median / p90\`.`,
    "",
    "## Parameters",
    "",
    "| parameter | value |",
    "|---|---|",
    ...Object.entries(r.parameters).map(([k, v]) => `| ${k} | ${String(v)} |`),
    "",
    "## Goals",
    "",
    "| goal | status | evidence |",
    "|---|---|---|",
    ...goals(r).map((g) => `| ${g.goal} | **${g.status}** | ${g.detail} |`),
    "",
    "## Reactive / MPA ratios (medians)",
    "",
    "| protocol | AAA | interruption reactive / MPA with buffering | loss reactive / MPA with buffering |",
    "|---|---|---|---|",
    ...reactiveRatios(r).map((x) =>
      `| ${x.protocol} | ${x.aaa} | ${_f(x.interruption, 1)} | ${
        Number.isFinite(x.loss) ? _f(x.loss, 1) : "reactive lost packets, MPA none"
      } |`
    ),
    "",
    "## Figure 6: Mobile IPv6 with MPA (route optimization disabled)",
    "",
    _figureTable(r, "mip6", RFC_NUMBERS.figure6),
    "",
    "## Figure 7: SIP mobility with MPA",
    "",
    _figureTable(r, "sip", RFC_NUMBERS.figure7),
    "",
    "The RFC's stream had a 16 ms interval (62.5 packets/s); run with `--rate 62.5` for the same. Its non-MPA handover took about 4 s and lost about 200 packets (C.5.1).",
    "",
    "## Figure 10: authentication (non-roaming and roaming)",
    "",
    "Ours: Tauth is PANA with EAP-PSK (the RFC used EAP-TLS), from the first PCI sent to the final PAN sent (the MN process and its socket are up before; the trace's `authCall` has the whole call); Tconf is the DHCP exchange for the nCoA (the RFC's Tconf is PSK generation and installation); the time affecting the handover is link switch + layer-3 handover.",
    "",
    _figure10(r),
    "",
    "## All scenarios",
    "",
    "| scenario | protocol | AAA | runs | failed | lost | duplicated | buffered | interruption (ms) | link switch (ms) | L3 (ms) | jitter (ms) | Tauth (ms) | Tconf (ms) | tunnel (ms) | BU (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of r.scenarios) {
    const m = _sum(s);
    lines.push(
      `| ${s.id}${
        s.id === "ping-pong" ? " (every switch)" : ""
      } | ${s.protocol} | ${s.aaa} | ${s.runs.length} | ${s.failures?.length ?? 0} | ${
        cell(m.lost, 0)
      } | ${cell(m.duplicated, 0)} | ${cell(m.buffered, 0)} | ${cell(m.interruptionMs)} | ${
        cell(m.linkSwitchMs, 2)
      } | ${cell(m.l3HandoverMs)} | ${cell(m.jitterMs)} | ${cell(m.tauthMs)} | ${
        cell(m.tconfMs)
      } | ${cell(m.tunnelMs)} | ${cell(m.buMs)} |`,
    );
  }
  lines.push("", ..._pingPong(r), ..._multiInterface(r), "## Timelines", "");
  for (const s of r.scenarios) {
    if (s.runs.length === 0) continue;
    const run = s.runs[shownRun(s)]!;
    const name = `timeline-${s.id}-${s.protocol}-${s.aaa}.svg`;
    svgs[name] = timelineSvg(
      `${s.id}${
        run.leg === undefined ? "" : ` ${run.leg}`
      }, ${s.protocol}, ${s.aaa} (median-interruption run)`,
      run,
    );
    lines.push(`![${s.id} ${s.protocol} ${s.aaa}](results/${name})`, "");
  }
  const failed = r.scenarios.filter((s) => (s.failures?.length ?? 0) > 0);
  if (failed.length > 0) {
    lines.push("## Failed runs", "");
    for (const s of failed) {
      for (const f of s.failures!) {
        lines.push(`- ${s.id} ${s.protocol} ${s.aaa}: ${f.split("\n")[0]}`);
      }
    }
    lines.push("");
  }
  return { markdown: lines.join("\n") + "\n", svgs };
}
