/**
 * A hand-written imperative twin of {@link decide}: the same decisions (deep-equal,
 * same order, same `t` and reasons) from one plain loop, without rxjs. It is the
 * benchmark's baseline (what the rxjs plumbing costs) and a cross-check of the
 * pipeline's wiring (`tests/bench/reference_equivalence.test.ts`).
 *
 * It reuses the pure parts of the core (option resolution, the handover and
 * recovery reducers, the section C.6 planner through the reducer, the cell-edge
 * geometry) and re-implements only the plumbing: per-PoA layer-3 filter, the two
 * hysteresis instances ("near" for preparation, A3 for the switch), the dwell
 * timers on a small time-ordered queue in sample time, the release dwell, the lead
 * time, ping-pong detection, the penalty map, and the event order of decide's
 * `connect`/`merge` branches.
 *
 * Mirrored semantics, in the order decide applies them to one sample:
 *
 * 1. Validation; then the sample clock advances: every dwell timer due at or before
 *    the sample's `t` fires first, at its own due time, ties in scheduling order
 *    (as {@link SampleClock} / `VirtualTimeScheduler` do).
 * 2. The layer-3 filter (per PoA, never forgotten).
 * 3. The "sample" event, for serving samples, every sample of the first instant, and
 *    any sample once the serving PoA has been silent for more than `maxAgeMs`.
 * 4. The near hysteresis (margin −prepareMargin, leave −prepareLeave, no
 *    offset); each change is a raw `near` event, then feeds the prepare dwell and the
 *    release dwell.
 * 5. The A3 hysteresis (margin / leave, minus the ping-pong penalties); each change
 *    is a raw `a3` event, then feeds the time-to-trigger.
 * 6. The lead time of a serving sample.
 *
 * Every handover output goes to the recovery reducer (`decision`), and a switch or
 * the first attachment then to ping-pong detection (`pingpong`); penalties update
 * the map the A3 hysteresis reads, the rest are the decisions. Dwell timers still
 * pending when the samples end are dropped, as decide's are on completion.
 *
 * @module
 */
import { type DecideOptions, resolveDecideOptions } from "../lib/decision/decide.ts";
import type { Decision } from "../lib/decision/decision.ts";
import {
  type HandoverEvent,
  type HandoverOutput,
  handoverReducer,
  type HandoverState,
  INITIAL_HANDOVER_STATE,
} from "../lib/decision/handover.ts";
import {
  INITIAL_RECOVERY_STATE,
  type RecoveryEvent,
  type RecoveryOutput,
  recoveryReducer,
  type RecoveryState,
} from "../lib/decision/recovery.ts";
import { assertLinkSample, type LinkSample } from "../lib/metrics/link_sample.ts";
import type { Qualification } from "../lib/operators/hysteresis.ts";
import { type LeadEstimate, secondsToCellEdge } from "../lib/operators/lead_time.ts";
import { TrendWindow } from "../lib/operators/trend_window.ts";
import type { PingPong } from "../lib/operators/ping_pong.ts";

/** Timer phases, as in timeToTrigger. */
const _IDLE = 0;
const _PENDING = 1;
const _FIRED = 2;

/** Which dwell a timer belongs to. */
const _NEAR_ON = 0;
const _NEAR_OFF = 1;
const _A3_ON = 2;

/** The two hysteresis instances. */
const _NEAR = 0;
const _A3 = 1;

/** leadTime rebases its running sums once the newest time is this many windows past the base. */
const _REBASE_WINDOWS = 8;

/** One dwell timer of one PoA (timeToTrigger's per-key state plus its queue slot). */
interface _Timer {
  readonly kind: typeof _NEAR_ON | typeof _NEAR_OFF | typeof _A3_ON;
  phase: typeof _IDLE | typeof _PENDING | typeof _FIRED;
  /** The value to report when it fires (while pending). */
  value: Qualification | undefined;
  /** Due time, ms. */
  due: number;
}

/** What one hysteresis instance knows about one PoA. */
interface _Heard {
  /** The PoA id. */
  readonly id: string;
  /** Whether the instance currently tracks this PoA (its `byPoa` has it). */
  tracked: boolean;
  t: number;
  network: string;
  snr: number;
  qualified: boolean;
}

/** Everything kept per PoA id, allocated once when the PoA is first heard. */
interface _Poa {
  readonly id: string;
  /** Layer-3 filter state. */
  filtered: number;
  hasFiltered: boolean;
  /** When the filter last took a sample, ms. */
  filteredT: number;
  /** Per hysteresis instance ([near, A3]). */
  readonly heard: readonly [_Heard, _Heard];
  /** Dwell timers ([near on, near off, A3 on]). */
  readonly timers: readonly [_Timer, _Timer, _Timer];
}

/** One hysteresis instance: tracked PoAs in the order first heard, and the serving PoA last seen. */
interface _Hysteresis {
  readonly index: typeof _NEAR | typeof _A3;
  readonly margin: number;
  readonly leave: number;
  readonly order: _Heard[];
  lastServing: string | undefined;
}

/** The filtered sample handed to the handover reducer; reused (the reducer copies what it keeps). */
interface _MutableSample {
  t: number;
  poa: string;
  network: string;
  snr: number;
}

/**
 * Computes the decisions {@link decide} gives for the same samples and options, in
 * one imperative loop (the benchmark's reference; see the module documentation for
 * the semantics mirrored).
 *
 * @param samples link samples, one per PoA heard per instant, time never decreasing
 * @param options the options of {@link decide}
 * @returns the decisions, deep-equal to `decide(from(samples), options)`'s
 * @throws {ConfigError} on bad options
 * @throws {MetricsValidationError} on a bad sample (decide errors its stream there)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const samples = [];
 * for (let t = 0; t <= 3000; t += 100) {
 *   samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
 *   samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
 * }
 * const kinds = referenceDecide(samples).map((d) => d.kind);
 * assertEquals(kinds.slice(0, 4), ["prepare", "preconfigure", "commit", "switch"]);
 * ```
 */
export function referenceDecide(
  samples: Iterable<LinkSample>,
  options: DecideOptions = {},
): Decision[] {
  const o = resolveDecideOptions(options);
  const hConfig = o.handover;
  const rConfig = o.recovery;
  const out: Decision[] = [];

  // --- the sample clock and the dwell timers ------------------------------------
  let now = 0;
  const queue: _Timer[] = [];
  const prepareDwell = o.prepareDwell;
  const releaseDwell = o.releaseDwell;
  const timeToTrigger = o.timeToTrigger;

  const schedule = (timer: _Timer, value: Qualification, dwell: number): void => {
    timer.phase = _PENDING;
    timer.value = value;
    timer.due = now + dwell;
    // Time order, ties in scheduling order (VirtualAction's index): the newest
    // timer goes after every timer due no later than it.
    let i = queue.length;
    queue.push(timer);
    while (i > 0 && queue[i - 1]!.due > timer.due) {
      queue[i] = queue[i - 1]!;
      i--;
    }
    queue[i] = timer;
  };

  const cancel = (timer: _Timer): void => {
    const i = queue.indexOf(timer);
    if (i >= 0) {
      for (let j = i + 1; j < queue.length; j++) queue[j - 1] = queue[j]!;
      queue.length--;
    }
    timer.phase = _IDLE;
    timer.value = undefined;
  };

  /** timeToTrigger's `next`; returns the value emitted at once (a fired condition ending), if any. */
  const feed = (
    timer: _Timer,
    value: Qualification,
    holding: boolean,
    dwell: number,
  ): Qualification | undefined => {
    if (holding) {
      if (timer.phase === _IDLE) schedule(timer, value, dwell);
      else if (timer.phase === _PENDING) timer.value = value;
      return undefined;
    }
    if (timer.phase === _PENDING) cancel(timer);
    else if (timer.phase === _FIRED) {
      timer.phase = _IDLE;
      return value;
    }
    return undefined;
  };

  const fire = (timer: _Timer): void => {
    const q = timer.value!;
    timer.phase = _FIRED;
    timer.value = undefined;
    // near on: an approach (qualified); near off: the release dwell ended (not
    // qualified); A3 on: the time-to-trigger elapsed.
    handover(
      timer.kind === _A3_ON ? { kind: "trigger", t: now, q } : { kind: "approach", t: now, q },
    );
  };

  /** SampleClock.advanceTo: fire what is due at or before t, each at its due time. */
  const advanceTo = (t: number): void => {
    while (queue.length > 0 && queue[0]!.due <= t) {
      const timer = queue.shift()!;
      now = timer.due;
      fire(timer);
    }
    now = t;
  };

  // --- reducers, recovery, ping-pong, penalties -----------------------------------
  let hState: HandoverState = INITIAL_HANDOVER_STATE;
  let rState: RecoveryState = INITIAL_RECOVERY_STATE;
  let serving: string | undefined;
  let firstT: number | undefined;
  let servingT = -Infinity;
  let candidates: ReadonlyMap<string, unknown> = new Map();
  const penalties = new Map<string, { db: number; until: number }>();
  const pingPongWindow = rConfig.returnPenaltyMs;
  const leftAt = new Map<string, number>();
  let attachedTo: string | undefined;
  let pruneAt = 64;

  const recover = (event: RecoveryEvent): void => {
    const [next, outputs] = recoveryReducer(rState, event, rConfig);
    rState = next;
    for (let i = 0; i < outputs.length; i++) {
      const d: RecoveryOutput = outputs[i]!;
      if (d.kind === "penalty") {
        penalties.set(d.poa, { db: d.db, until: d.until });
        handover({ kind: "penalty", t: d.t, poa: d.poa, db: d.db, until: d.until });
      } else out.push(d);
    }
  };

  /** pingPong's `next`. */
  const detectPingPong = (t: number, poa: string): PingPong | undefined => {
    if (poa === attachedTo) return undefined;
    const via = attachedTo;
    attachedTo = poa;
    if (via === undefined) return undefined;
    leftAt.set(via, t);
    const left = leftAt.get(poa);
    const found = left !== undefined && t - left < pingPongWindow
      ? { t, poa, via, leftAt: left }
      : undefined;
    if (leftAt.size > pruneAt) {
      for (const [p, l] of leftAt) if (!(t - l < pingPongWindow)) leftAt.delete(p);
      pruneAt = Math.max(64, 2 * leftAt.size);
    }
    return found;
  };

  const afterHandover = (d: HandoverOutput): void => {
    recover({ kind: "decision", decision: d });
    if (d.kind === "switch" || d.kind === "attach") {
      const pp = detectPingPong(d.t, d.poa);
      if (pp !== undefined) recover({ kind: "pingpong", pingPong: pp });
    }
  };

  function handover(event: HandoverEvent): void {
    const [next, outputs] = handoverReducer(hState, event, hConfig);
    hState = next;
    serving = next.serving?.poa;
    firstT = next.firstT;
    servingT = next.servingT;
    candidates = next.near;
    for (let i = 0; i < outputs.length; i++) afterHandover(outputs[i]!);
  }

  const offset = (poa: string): number => {
    if (penalties.size === 0) return 0;
    const p = penalties.get(poa);
    if (p === undefined) return 0;
    if (p.until <= now) {
      penalties.delete(poa);
      return 0;
    }
    return p.db;
  };

  // --- the dwell branches ------------------------------------------------------------
  const onNear = (q: Qualification, poa: _Poa): void => {
    handover({ kind: "near", q });
    const [on, off] = poa.timers;
    if (releaseDwell > 0) {
      // merge(raw, on.filter(qualified), off.filter(not qualified)): what on / off
      // emit at once (a fired condition ending) is filtered away.
      feed(on, q, q.qualified, prepareDwell);
      feed(off, q, !q.qualified, releaseDwell);
    } else {
      const ended = feed(on, q, q.qualified, prepareDwell);
      if (ended !== undefined) handover({ kind: "approach", t: now, q: ended });
    }
  };

  const onA3 = (q: Qualification, poa: _Poa): void => {
    handover({ kind: "a3", q });
    const ended = feed(poa.timers[_A3_ON], q, q.qualified, timeToTrigger);
    if (ended !== undefined) handover({ kind: "trigger", t: now, q: ended });
  };

  // --- hysteresis ----------------------------------------------------------------------
  const poas = new Map<string, _Poa>();
  const near: _Hysteresis = {
    index: _NEAR,
    margin: -o.prepareMargin,
    leave: -o.prepareLeave,
    order: [],
    lastServing: undefined,
  };
  const a3: _Hysteresis = {
    index: _A3,
    margin: o.margin,
    leave: o.leave,
    order: [],
    lastServing: undefined,
  };
  const maxAgeMs = o.maxAgeMs;

  const emit = (h: _Hysteresis, n: _Heard, t: number, s: _Heard): void => {
    const q: Qualification = {
      t,
      poa: n.id,
      network: n.network,
      qualified: n.qualified,
      snr: n.snr,
      servingSnr: s.snr,
      serving: s.id,
    };
    const poa = poas.get(n.id)!;
    if (h.index === _NEAR) onNear(q, poa);
    else onA3(q, poa);
  };

  const evaluate = (h: _Hysteresis, n: _Heard, t: number, s: _Heard): void => {
    const level = h.index === _A3 ? n.snr - offset(n.id) : n.snr - 0;
    if (n.qualified) {
      if (level < s.snr + h.leave) {
        n.qualified = false;
        emit(h, n, t, s);
      }
    } else if (level > s.snr + h.margin) {
      n.qualified = true;
      emit(h, n, t, s);
    }
  };

  const tracked = (h: _Hysteresis, poa: string | undefined): _Heard | undefined => {
    if (poa === undefined) return undefined;
    const heard = poas.get(poa)?.heard[h.index];
    return heard !== undefined && heard.tracked ? heard : undefined;
  };

  const hysteresis = (h: _Hysteresis, sample: _MutableSample, poa: _Poa): void => {
    const t = sample.t;
    const current = serving;
    if (current !== h.lastServing) {
      const old = tracked(h, h.lastServing);
      for (let i = 0; i < h.order.length; i++) {
        const n = h.order[i]!;
        if (!n.qualified) continue;
        n.qualified = false;
        if (old !== undefined) emit(h, n, t, old);
      }
      h.lastServing = current;
    }
    const heard = poa.heard[h.index];
    heard.t = t;
    heard.network = sample.network;
    heard.snr = sample.snr;
    if (!heard.tracked) {
      heard.tracked = true;
      heard.qualified = false;
      h.order.push(heard);
    }
    const s = tracked(h, current);
    if (s === undefined) return;
    if (heard !== s) {
      evaluate(h, heard, t, s);
      return;
    }
    const order = h.order;
    let kept = 0;
    for (let i = 0; i < order.length; i++) {
      const n = order[i]!;
      if (n !== s) {
        if (t - n.t > maxAgeMs) {
          if (n.qualified) {
            n.qualified = false;
            emit(h, n, t, s);
          }
          n.tracked = false;
          continue;
        }
        evaluate(h, n, t, s);
      }
      order[kept++] = n;
    }
    order.length = kept;
  };

  // --- lead time -------------------------------------------------------------------------
  const cells = o.cells;
  const outageSnr = hConfig.outageSnr;
  const windowMs = o.trendWindowMs;
  const trend = new TrendWindow(windowMs);
  let windowPoa: string | undefined;
  const leadEstimate: { t: number; poa: string; seconds: number; method: "geometry" | "trend" } = {
    t: 0,
    poa: "",
    seconds: Infinity,
    method: "trend",
  };
  const leadEvent = { kind: "lead", estimate: leadEstimate as LeadEstimate } as const;

  const lead = (sample: LinkSample, snr: number): void => {
    const current = serving;
    if (current !== windowPoa) {
      windowPoa = current;
      trend.reset();
    }
    if (current === undefined || sample.poa !== current) return;
    const slope = trend.push(sample.t, snr);
    const cell = cells.get(current);
    leadEstimate.t = sample.t;
    leadEstimate.poa = current;
    if (cell !== undefined && sample.pos !== undefined && sample.vel !== undefined) {
      leadEstimate.seconds = secondsToCellEdge(sample.pos, sample.vel, cell.pos, cell.coverage);
      leadEstimate.method = "geometry";
    } else {
      leadEstimate.seconds = slope < 0 ? Math.max(0, (snr - outageSnr) / -slope) : Infinity;
      leadEstimate.method = "trend";
    }
    handover(leadEvent);
  };

  // --- the loop ----------------------------------------------------------------------------
  const a = 2 ** (-o.k / 4);
  const b = 1 - a;
  const filtered: _MutableSample = { t: 0, poa: "", network: "", snr: 0 };
  const sampleEvent: { kind: "sample"; sample: LinkSample; previousT: number } = {
    kind: "sample",
    sample: filtered as LinkSample,
    previousT: -Infinity,
  };
  let started = false;
  let lastT = -Infinity;

  for (const sample of samples) {
    assertLinkSample(sample, lastT);
    sampleEvent.previousT = lastT;
    lastT = sample.t;
    if (!started) {
      started = true;
      now = sample.t;
    } else advanceTo(sample.t);

    let poa = poas.get(sample.poa);
    if (poa === undefined) {
      poa = _newPoa(sample.poa);
      poas.set(sample.poa, poa);
    }
    const f = poa.hasFiltered && sample.t - poa.filteredT <= maxAgeMs
      ? b * poa.filtered + a * sample.snr
      : sample.snr;
    poa.filtered = f;
    poa.filteredT = sample.t;
    poa.hasFiltered = true;
    filtered.t = sample.t;
    filtered.poa = sample.poa;
    filtered.network = sample.network;
    filtered.snr = f;

    if (
      serving === undefined || sample.poa === serving || candidates.has(sample.poa) ||
      sample.t === firstT || sample.t - servingT > maxAgeMs
    ) {
      handover(sampleEvent);
    }
    hysteresis(near, filtered, poa);
    hysteresis(a3, filtered, poa);
    lead(sample, f);
  }
  return out;
}

function _newPoa(id: string): _Poa {
  return {
    id,
    filtered: 0,
    hasFiltered: false,
    filteredT: 0,
    heard: [_heard(id), _heard(id)],
    timers: [_timer(_NEAR_ON), _timer(_NEAR_OFF), _timer(_A3_ON)],
  };
}

function _heard(id: string): _Heard {
  return { id, tracked: false, t: 0, network: "", snr: 0, qualified: false };
}

function _timer(kind: _Timer["kind"]): _Timer {
  return { kind, phase: _IDLE, value: undefined, due: 0 };
}
