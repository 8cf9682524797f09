/**
 * Per-run metrics of the handover testbed (RFC 6252 Appendix C.5, Figures 6, 7 and
 * 10), pure: from what the CN sent (sequence, send time), what the MN received
 * (sequence, arrival time, duplicate) and the MN driver's phase timestamps.
 *
 * Definitions (all times epoch ms on one machine's clock):
 * - link switch: the layer-2 move (detach, association delay, attach), as timed by
 *   the driver around `LinkControl.switchTo`;
 * - layer-3 handover: from link up until the MN can receive at the new address on
 *   the new link: the nCoA assigned (and the buffer flushed) for MPA, plus
 *   authentication, configuration and the binding update for the reactive case;
 * - lost: packets sent from the first one received onwards that never arrived;
 *   duplicated: extra copies; buffered: packets that arrived more than one packet
 *   interval later than the median transit time (held by the AR's buffer);
 * - interruption: the largest gap between consecutive first arrivals around the
 *   handover;
 * - jitter during the handover: the mean |(a_i - a_(i-1)) - (s_i - s_(i-1))| over
 *   the packets arriving in the handover window (RFC 3550's D, unsmoothed), and the
 *   mean inter-arrival time there (Figure 6's "avg. inter-packet arrival time during
 *   handover");
 * - Tauth, Tconf, tunnel set-up, binding update: the driver's phase spans;
 * - multi-interface copy-and-forward (section 7.6.2): the link switch is the sudden
 *   loss of the first interface until the nCoA is active on the second, layer 3
 *   until the first packet received directly at the nCoA there; the MN's PHT dedup
 *   window's drops are counted apart (`dedupDropped`) from the duplicates that
 *   reached the application (`duplicated`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { measureRun } from "./measure.ts";
 * const sent = [0, 1, 2, 3, 4].map((s) => [s, s * 20] as const);
 * const arrivals = [[0, 5, 0], [1, 25, 0], [3, 65, 0], [4, 85, 0]] as const;
 * const m = measureRun({
 *   sent, arrivals, intervalMs: 20,
 *   trace: { buProactive: true, executeStart: 30, link: [30, 31], assigned: 32, l3Done: 33 },
 * });
 * assertEquals(m.lost, 1);
 * assertEquals(m.interruptionMs, 40);
 * ```
 *
 * @module
 */
import type { HandoverTrace } from "./mn_driver.ts";

/** Metrics of one run. */
export interface RunMetrics {
  /** Layer-2 switch, ms. */
  readonly linkSwitchMs: number;
  /** Layer-3 handover, ms. */
  readonly l3HandoverMs: number;
  /** Packets lost. */
  readonly lost: number;
  /** Duplicate copies. */
  readonly duplicated: number;
  /** Packets held by the buffer (late by more than one interval). */
  readonly buffered: number;
  /** Packets sent in the measured span. */
  readonly sent: number;
  /** Largest gap between consecutive arrivals around the handover, ms. */
  readonly interruptionMs: number;
  /** Mean |D| in the handover window, ms. */
  readonly jitterMs: number;
  /** Mean inter-arrival time in the handover window, ms. */
  readonly interArrivalMs: number;
  /** Pre-authentication (or post-authentication), ms. */
  readonly tauthMs?: number;
  /** Address configuration, ms. */
  readonly tconfMs?: number;
  /** Tunnel set-up, ms. */
  readonly tunnelMs?: number;
  /** Binding update, ms. */
  readonly buMs?: number;
  /** How long the AR buffered: buffer confirmed to flush answered (or nCoA assigned), ms. */
  readonly bufferingMs?: number;
  /** Copy-and-forward (section 7.6.2): duplicates the MN's PHT dedup window dropped. */
  readonly dedupDropped?: number;
  /** Copy-and-forward: the disconnection until the AR stopped copying, ms. */
  readonly copyAfterDisconnectMs?: number;
}

/** Inputs of {@link measureRun}. */
export interface RunInput {
  /** [sequence (16-bit RTP), sentAt] per packet sent. */
  readonly sent: readonly (readonly [number, number])[];
  /** [sequence (extended or 16-bit), arrivedAt, duplicate 0|1] per datagram. */
  readonly arrivals: readonly (readonly [number, number, number])[];
  /** The driver's phase times. */
  readonly trace: HandoverTrace;
  /** The stream's packet interval, ms. */
  readonly intervalMs: number;
}

const _span = (s: readonly [number, number] | undefined) =>
  s === undefined ? undefined : s[1] - s[0];

/**
 * The median of numbers (NaN for none).
 *
 * @param values numbers
 * @returns the median
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { median } from "./measure.ts";
 * assertEquals(median([3, 1, 2]), 2);
 * assertEquals(median([1, 2, 3, 4]), 2.5);
 * ```
 */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The p-th percentile, nearest rank (NaN for none).
 *
 * @param values numbers
 * @param p 0..1
 * @returns the percentile
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { percentile } from "./measure.ts";
 * assertEquals(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/**
 * The metrics of one run.
 *
 * @param input sent, arrivals, trace, interval
 * @returns the metrics
 */
export function measureRun(input: RunInput): RunMetrics {
  const { trace, intervalMs } = input;
  const sentAt = new Map<number, number>();
  for (const [seq, at] of input.sent) sentAt.set(seq % 65536, at);
  const firsts: { seq: number; at: number; sent: number | undefined }[] = [];
  const seen = new Set<number>();
  let duplicated = 0;
  for (const [seq, at, dup] of input.arrivals) {
    const s = seq % 65536;
    if (dup === 1 || seen.has(s)) {
      duplicated++;
      continue;
    }
    seen.add(s);
    firsts.push({ seq: s, at, sent: sentAt.get(s) });
  }
  firsts.sort((a, b) => a.at - b.at);
  const firstSent = Math.min(...firsts.map((f) => f.sent ?? Infinity));
  const measured = input.sent.filter(([, at]) => at >= firstSent);
  const lost = measured.filter(([seq]) => !seen.has(seq % 65536)).length;
  const transits = firsts.filter((f) => f.sent !== undefined).map((f) => f.at - f.sent!);
  const baseTransit = median(transits);
  const buffered =
    firsts.filter((f) => f.sent !== undefined && f.at - f.sent > baseTransit + intervalMs).length;
  const around = firsts.filter((f) =>
    f.at >= trace.executeStart - 1000 && f.at <= trace.l3Done + 1000
  );
  let interruptionMs = 0;
  for (let i = 1; i < around.length; i++) {
    interruptionMs = Math.max(interruptionMs, around[i]!.at - around[i - 1]!.at);
  }
  // The handover window: from the execution's start until ten intervals after layer 3
  // is done (the flushed packets and the first ones of the new path).
  const lo = trace.executeStart - 2 * intervalMs;
  const hi = trace.l3Done + 10 * intervalMs;
  const win = firsts.filter((f) => f.at >= lo && f.at <= hi);
  let dSum = 0, dN = 0, gapSum = 0;
  for (let i = 1; i < win.length; i++) {
    const a = win[i]!, b = win[i - 1]!;
    gapSum += a.at - b.at;
    if (a.sent !== undefined && b.sent !== undefined) {
      dSum += Math.abs((a.at - b.at) - (a.sent - b.sent));
      dN++;
    }
  }
  const out: { -readonly [K in keyof RunMetrics]: RunMetrics[K] } = {
    linkSwitchMs: trace.link[1] - trace.link[0],
    l3HandoverMs: trace.l3Done - trace.link[1],
    lost,
    duplicated,
    buffered,
    sent: measured.length,
    interruptionMs,
    jitterMs: dN === 0 ? 0 : dSum / dN,
    interArrivalMs: win.length < 2 ? 0 : gapSum / (win.length - 1),
  };
  const tauth = _span(trace.auth), tconf = _span(trace.conf);
  const tunnel = _span(trace.tunnel), bu = _span(trace.bu);
  if (tauth !== undefined) out.tauthMs = tauth;
  if (tconf !== undefined) out.tconfMs = tconf;
  if (tunnel !== undefined) out.tunnelMs = tunnel;
  if (bu !== undefined) out.buMs = bu;
  if (trace.buffered !== undefined) {
    out.bufferingMs = (trace.flushed ?? trace.assigned) - trace.buffered;
  }
  if (trace.dedupDropped !== undefined) out.dedupDropped = trace.dedupDropped;
  if (trace.copyStopped !== undefined) {
    out.copyAfterDisconnectMs = trace.copyStopped - trace.link[0];
  }
  return out;
}

/** Median and 90th percentile of one metric over runs. */
export interface Summary {
  /** Median. */
  readonly median: number;
  /** 90th percentile. */
  readonly p90: number;
  /** Runs. */
  readonly n: number;
}

/**
 * Median and p90 of every metric over runs.
 *
 * @param runs metrics of each run
 * @returns one summary per metric present
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { summarize } from "./measure.ts";
 * const base = { linkSwitchMs: 1, l3HandoverMs: 1, lost: 0, duplicated: 0, buffered: 0,
 *   sent: 10, interruptionMs: 20, jitterMs: 0, interArrivalMs: 20 };
 * assertEquals(summarize([base, { ...base, lost: 2 }]).lost, { median: 1, p90: 2, n: 2 });
 * ```
 */
export function summarize(
  runs: readonly RunMetrics[],
): Partial<Record<keyof RunMetrics, Summary>> {
  const out: Partial<Record<keyof RunMetrics, Summary>> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r))) as Set<keyof RunMetrics>;
  for (const k of keys) {
    const v = runs.map((r) => r[k]).filter((x): x is number => typeof x === "number");
    out[k] = { median: median(v), p90: percentile(v, 0.9), n: v.length };
  }
  return out;
}

/** Input of {@link measureLegs}: one run's stream and its ping-pong switches. */
export interface LegsInput {
  /** [sequence (16-bit RTP), sentAt] per packet sent. */
  readonly sent: readonly (readonly [number, number])[];
  /** [sequence, arrivedAt, duplicate 0|1] per datagram. */
  readonly arrivals: readonly (readonly [number, number, number])[];
  /** The handover before the first leg. */
  readonly before: HandoverTrace;
  /** The switches, in order. */
  readonly legs: readonly HandoverTrace[];
  /** The stream's packet interval, ms. */
  readonly intervalMs: number;
}

/**
 * Metrics per ping-pong switch (RFC 6252 C.1): the stream is cut halfway through
 * each dwell (between one switch's layer-3 end and the next one's start: its
 * `prepareStart` when it re-opened a tunnel first, else its execution start) and
 * each slice is measured as one handover with {@link measureRun}.
 *
 * @param input stream, the handover before and the switches
 * @returns one entry per switch
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { measureLegs } from "./measure.ts";
 * const sent = Array.from({ length: 100 }, (_, i) => [i, i * 20] as const);
 * const arrivals = sent.filter(([s]) => s !== 60).map(([s, t]) => [s, t + 5, 0] as const);
 * const sw = (t: number) => ({ buProactive: false, executeStart: t, link: [t, t + 2] as const,
 *   assigned: t + 3, l3Done: t + 4 });
 * const m = measureLegs({ sent, arrivals, before: sw(200), legs: [sw(800), sw(1190)],
 *   intervalMs: 20 });
 * assertEquals(m.map((x) => x.lost), [0, 1]);
 * ```
 */
export function measureLegs(input: LegsInput): RunMetrics[] {
  const sentAt = new Map<number, number>();
  for (const [seq, at] of input.sent) sentAt.set(seq % 65536, at);
  const out: RunMetrics[] = [];
  const all = [input.before, ...input.legs];
  const start = (t: HandoverTrace) => t.prepareStart ?? t.executeStart;
  for (let i = 1; i < all.length; i++) {
    const lo = (all[i - 1]!.l3Done + start(all[i]!)) / 2;
    const next = all[i + 1];
    const hi = next === undefined ? Infinity : (all[i]!.l3Done + start(next)) / 2;
    const inside = (t: number | undefined) => t !== undefined && t >= lo && t < hi;
    out.push(measureRun({
      sent: input.sent.filter(([, at]) => inside(at)),
      arrivals: input.arrivals.filter(([s]) => inside(sentAt.get(s % 65536))),
      trace: all[i]!,
      intervalMs: input.intervalMs,
    }));
  }
  return out;
}
