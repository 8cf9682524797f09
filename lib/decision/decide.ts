/**
 * `decide`: the mobile node's decision pipeline. Link samples are validated,
 * smoothed per PoA ({@link l3Filter}), compared with the serving PoA twice with
 * {@link hysteresis} (a wide "near" margin for preparation, the A3 margin for the
 * switch), held for dwell times ({@link timeToTrigger}), turned into lead times
 * ({@link leadTime}), reduced into MPA decisions ({@link handoverReducer}, with the
 * section C.6 planner) and passed through ping-pong recovery ({@link pingPong},
 * {@link recoveryReducer}). RFC 6252 sections 6.3, 7.2, C.1, C.2, C.4 and C.6.
 *
 * @module
 */
import {
  connect,
  defer,
  filter,
  map,
  merge,
  type Observable,
  type OperatorFunction,
  Subject,
  tap,
} from "npm:rxjs@^7.8.2";
import { ConfigError } from "../errors.ts";
import type { Cell, CtnProfile } from "../metrics/cell.ts";
import { assertLinkSample, type LinkSample } from "../metrics/link_sample.ts";
import { hysteresis, type Qualification } from "../operators/hysteresis.ts";
import { l3Filter } from "../operators/l3_filter.ts";
import { leadTime } from "../operators/lead_time.ts";
import { pingPong } from "../operators/ping_pong.ts";
import { timeToTrigger } from "../operators/time_to_trigger.ts";
import type { Decision } from "./decision.ts";
import {
  type HandoverConfig,
  type HandoverEvent,
  handoverReducer,
  type HandoverState,
  INITIAL_HANDOVER_STATE,
} from "./handover.ts";
import {
  INITIAL_RECOVERY_STATE,
  type RecoveryConfig,
  type RecoveryEvent,
  type RecoveryOutput,
  recoveryReducer,
  type RecoveryState,
} from "./recovery.ts";
import { SampleClock } from "./sample_clock.ts";
import { runReducer } from "./_run_reducer.ts";

/** Ping-pong recovery options (RFC 6252 section C.1, C.2). */
export interface RecoveryOptions {
  /** How long contexts of networks left or CTNs not used are retained, ms. Default 30000. */
  readonly retainMs?: number;
  /** Extra dB the PoA just left needs to win back. Default 5 (`deno task quality`: 3 dB left 26% of the A3 baseline's ping-pongs, 5 dB 16%). */
  readonly returnPenaltyDb?: number;
  /** The ping-pong window: how long the return penalty lasts and what counts as a ping-pong, ms. Default 5000. */
  readonly pingPongWindowMs?: number;
  /** After a ping-pong, how long the PoA bounced through is barred, ms (0 = never). Default 10000. */
  readonly holdDownMs?: number;
  /** After a ping-pong between networks, how long to bicast, ms (0 = never). Default 2000. */
  readonly bicastMs?: number;
}

/** Options of {@link decide}; every one has a default. */
export interface DecideOptions {
  /** L3 filter coefficient k (3GPP TS 36.331 5.5.3.2). Default 4. */
  readonly k?: number;
  /** A3 margin: a candidate must beat serving by this much to trigger a switch, dB. Default 3. */
  readonly margin?: number;
  /** A3 leave margin, dB. Default margin − 1. */
  readonly leave?: number;
  /** Time-to-trigger (dwell) for the switch, ms. Default 256. */
  readonly timeToTrigger?: number;
  /** A candidate within this many dB of serving is "near" and may be prepared, dB. Default 8. */
  readonly prepareMargin?: number;
  /** A near candidate stops being near below serving − this, dB. Default prepareMargin + 3. */
  readonly prepareLeave?: number;
  /** Dwell for preparation, ms. Default 256. */
  readonly prepareDwell?: number;
  /** A prepared CTN is released only after it stayed out of the prepare margin this long, ms. Default 1000. */
  readonly releaseDwell?: number;
  /** How many CTNs to pre-authenticate at once (section 7.2). Default 2. */
  readonly topK?: number;
  /** How many CTNs to pre-configure at once (section C.4). Default 1. */
  readonly maxPreconfigured?: number;
  /** Serving SNR under which the link counts as lost, dB. Default 5. */
  readonly outageSnr?: number;
  /** Preparation is urgent when the lead time is under safety × the full budget. Default 2. */
  readonly safety?: number;
  /** A neighbour not heard for this long is forgotten, and a serving PoA counts as lost, ms. Default 1000. */
  readonly maxAgeMs?: number;
  /** Trailing window of the SNR-trend lead time, ms. Default 2000. */
  readonly trendWindowMs?: number;
  /** Known cells (for geometric lead time). Default none: SNR trend only. */
  readonly cells?: readonly Cell[];
  /** Per-CTN timings for the planner. Default none: RFC 6252 section C.6's example values. */
  readonly ctns?: readonly CtnProfile[];
  /** Recovery settings, or "off" for none (no retention, penalties, restore or bicast). Default on. */
  readonly recovery?: RecoveryOptions | "off";
}

/** Every option of {@link decide}, resolved to a value. */
export interface ResolvedDecideOptions {
  /** L3 filter coefficient k (3GPP TS 36.331 5.5.3.2), 0 to 64. */
  readonly k: number;
  /** A3 margin for the switch, dB. */
  readonly margin: number;
  /** A3 leave margin, dB (at most `margin`). */
  readonly leave: number;
  /** Time-to-trigger (dwell) for the switch, ms. */
  readonly timeToTrigger: number;
  /** Margin within which a candidate is "near" and may be prepared, dB. */
  readonly prepareMargin: number;
  /** Leave margin of the near condition, dB (at least `prepareMargin`). */
  readonly prepareLeave: number;
  /** Dwell for preparation, ms. */
  readonly prepareDwell: number;
  /** How long a prepared CTN must stay out of the prepare margin before release, ms. */
  readonly releaseDwell: number;
  /** Age after which a neighbour is forgotten and a silent serving PoA is lost, ms. */
  readonly maxAgeMs: number;
  /** Trailing window of the SNR-trend lead time, ms. */
  readonly trendWindowMs: number;
  /** Known cells by PoA id (a later cell with the same `poa` wins). */
  readonly cells: ReadonlyMap<string, Cell>;
  /** The handover reducer's configuration (top-k, pre-configuration slots, planner). */
  readonly handover: HandoverConfig;
  /** The recovery reducer's configuration; all zeros when recovery is "off". */
  readonly recovery: RecoveryConfig;
}

function _number(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
  max = Infinity,
): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max) {
    throw new ConfigError(
      name,
      `Invalid ${name}: expected a number in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return v;
}

/**
 * Validates {@link DecideOptions} and fills in the defaults.
 *
 * @param options the options
 * @returns every option with a value
 * @throws {ConfigError} naming the bad option
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(resolveDecideOptions().margin, 3);
 * assertThrows(() => resolveDecideOptions({ topK: 0 }));
 * ```
 */
export function resolveDecideOptions(
  options: DecideOptions = {},
): ResolvedDecideOptions {
  const margin = _number(options.margin, 3, "margin", -100, 100);
  const outageSnr = _number(options.outageSnr, 5, "outageSnr", -100, 100);
  const maxAgeMs = _number(options.maxAgeMs, 1000, "maxAgeMs", 1);
  const prepareMargin = _number(options.prepareMargin, 8, "prepareMargin", 0, 100);
  const off = options.recovery === "off";
  const r = off || options.recovery === undefined ? {} : options.recovery as RecoveryOptions;
  const retainMs = off ? 0 : _number(r.retainMs, 30000, "recovery.retainMs", 0);
  const window = _number(
    r.pingPongWindowMs,
    5000,
    "recovery.pingPongWindowMs",
    0,
  );
  const cells = new Map<string, Cell>();
  for (const c of options.cells ?? []) cells.set(c.poa, c);
  const profiles = new Map<string, CtnProfile>();
  for (const p of options.ctns ?? []) profiles.set(p.network, p);
  return {
    k: _number(options.k, 4, "k", 0, 64),
    margin,
    leave: _number(options.leave, margin - 1, "leave", -100, margin),
    timeToTrigger: _number(options.timeToTrigger, 256, "timeToTrigger", 0),
    prepareMargin,
    prepareLeave: _number(
      options.prepareLeave,
      prepareMargin + 3,
      "prepareLeave",
      prepareMargin,
      100,
    ),
    prepareDwell: _number(options.prepareDwell, 256, "prepareDwell", 0),
    releaseDwell: _number(options.releaseDwell, 1000, "releaseDwell", 0),
    maxAgeMs,
    trendWindowMs: _number(options.trendWindowMs, 2000, "trendWindowMs", 1),
    cells,
    handover: {
      topK: _number(options.topK, 2, "topK", 1, 64),
      maxPreconfigured: _number(
        options.maxPreconfigured,
        1,
        "maxPreconfigured",
        0,
        64,
      ),
      outageSnr,
      safety: _number(options.safety, 2, "safety", 1, 100),
      retainMs,
      profiles,
      maxAgeMs,
    },
    recovery: {
      retainMs,
      returnPenaltyDb: off ? 0 : _number(r.returnPenaltyDb, 5, "recovery.returnPenaltyDb", 0, 100),
      returnPenaltyMs: off ? 0 : window,
      holdDownMs: off ? 0 : _number(r.holdDownMs, 10000, "recovery.holdDownMs", 0),
      bicastMs: off ? 0 : _number(r.bicastMs, 2000, "recovery.bicastMs", 0),
    },
  };
}

/**
 * Turns a stream of link samples into MPA handover decisions. Deterministic: time
 * is the samples' own `t` (a {@link SampleClock}), so the same input and options
 * always give the same decisions, replayed at any speed.
 *
 * @param samples$ link samples, one per PoA heard per instant, time never decreasing
 * @param options tuning; every option has a default (see {@link DecideOptions})
 * @returns the decisions; errors with {@link MetricsValidationError} on a bad sample
 *   and throws {@link ConfigError} at call time on bad options
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * const samples = [];
 * for (let t = 0; t <= 3000; t += 100) {
 *   samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
 *   samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
 * }
 * const kinds = (await lastValueFrom(decide(from(samples)).pipe(toArray()))).map((d) => d.kind);
 * assertEquals(kinds.slice(0, 4), ["prepare", "preconfigure", "commit", "switch"]);
 * ```
 */
export function decide(
  samples$: Observable<LinkSample>,
  options: DecideOptions = {},
): Observable<Decision> {
  const o = resolveDecideOptions(options);
  return defer(() => {
    const clock = new SampleClock();
    let started = false;
    let lastT = -Infinity;
    let previousT = -Infinity;
    let candidates: ReadonlyMap<string, unknown> = new Map();
    let serving: string | undefined;
    let firstT: number | undefined;
    let servingT = -Infinity;
    const penalties = new Map<string, { db: number; until: number }>();
    const servingOf = () => serving;
    const offset = (poa: string): number => {
      const p = penalties.get(poa);
      if (p === undefined) return 0;
      if (p.until <= clock.now()) {
        penalties.delete(poa);
        return 0;
      }
      return p.db;
    };
    const now = () => clock.now();
    const filtered$ = samples$.pipe(
      tap((s) => {
        assertLinkSample(s, lastT);
        previousT = lastT;
        lastT = s.t;
        if (!started) {
          started = true;
          clock.frame = s.t;
        } else clock.advanceTo(s.t);
      }),
      l3Filter({ k: o.k, resetAfterMs: o.maxAgeMs }),
    );
    /**
     * Raw qualification events plus the ones that held for `onMs`; with `offMs`
     * > 0 an end is reported only after the condition stayed off that long.
     */
    const dwell = (
      kindRaw: "near" | "a3",
      kindHeld: "approach" | "trigger",
      onMs: number,
      offMs: number,
    ): OperatorFunction<Qualification, HandoverEvent> =>
      connect((q$) => {
        const held = (q: Qualification): HandoverEvent => ({ kind: kindHeld, t: now(), q });
        const raw$ = q$.pipe(map((q): HandoverEvent => ({ kind: kindRaw, q })));
        const on$ = q$.pipe(
          timeToTrigger({ key: _poaOf, holds: _qualified, dwell: onMs, scheduler: clock }),
        );
        if (offMs <= 0) return merge(raw$, on$.pipe(map(held)));
        const off$ = q$.pipe(
          timeToTrigger({ key: _poaOf, holds: _notQualified, dwell: offMs, scheduler: clock }),
          filter(_notQualified),
        );
        return merge(raw$, on$.pipe(filter(_qualified), map(held)), off$.pipe(map(held)));
      });
    // connect: every branch subscribes before the samples start to flow.
    // Penalties from the recovery stage reach the handover reducer through here.
    const penalty$ = new Subject<HandoverEvent>();
    const events$: Observable<HandoverEvent> = merge(
      filtered$.pipe(
        connect((shared$) =>
          merge(
            shared$.pipe(
              // Serving samples, candidates' samples (to keep their levels current),
              // the whole first instant, and anything while the serving PoA has been
              // silent too long (the reducer then leaves it).
              filter((s) =>
                serving === undefined || s.poa === serving || candidates.has(s.poa) ||
                s.t === firstT || s.t - servingT > o.maxAgeMs
              ),
              map((sample): HandoverEvent => ({ kind: "sample", sample, previousT })),
            ),
            shared$.pipe(
              hysteresis({
                serving: servingOf,
                margin: -o.prepareMargin,
                leave: -o.prepareLeave,
                maxAgeMs: o.maxAgeMs,
              }),
              dwell("near", "approach", o.prepareDwell, o.releaseDwell),
            ),
            shared$.pipe(
              hysteresis({
                serving: servingOf,
                margin: o.margin,
                leave: o.leave,
                offset,
                maxAgeMs: o.maxAgeMs,
              }),
              dwell("a3", "trigger", o.timeToTrigger, 0),
            ),
            shared$.pipe(
              leadTime({
                serving: servingOf,
                cells: o.cells,
                outageSnr: o.handover.outageSnr,
                trendWindowMs: o.trendWindowMs,
              }),
              map((estimate): HandoverEvent => ({ kind: "lead", estimate })),
            ),
          )
        ),
        // the feedback ends with the samples
        tap({ complete: () => penalty$.complete() }),
      ),
      penalty$,
    );
    const handover$ = events$.pipe(
      runReducer(
        (state: HandoverState, event: HandoverEvent) => handoverReducer(state, event, o.handover),
        INITIAL_HANDOVER_STATE,
        (state) => {
          serving = state.serving?.poa;
          firstT = state.firstT;
          servingT = state.servingT;
          candidates = state.near;
        },
      ),
    );
    return handover$.pipe(
      connect((h$) =>
        merge(
          h$.pipe(
            map((decision): RecoveryEvent => ({ kind: "decision", decision })),
          ),
          h$.pipe(
            filter((d) => d.kind === "switch" || d.kind === "attach"),
            map((d) => ({ t: d.t, poa: d.poa })),
            pingPong({ window: o.recovery.returnPenaltyMs }),
            map((pingPong): RecoveryEvent => ({ kind: "pingpong", pingPong })),
          ),
        )
      ),
      runReducer(
        (state: RecoveryState, event: RecoveryEvent) => recoveryReducer(state, event, o.recovery),
        INITIAL_RECOVERY_STATE,
      ),
      filter((d: RecoveryOutput): d is Decision => {
        if (d.kind !== "penalty") return true;
        penalties.set(d.poa, { db: d.db, until: d.until });
        penalty$.next({ kind: "penalty", t: d.t, poa: d.poa, db: d.db, until: d.until });
        return false;
      }),
    );
  });
}

function _poaOf(q: Qualification): string {
  return q.poa;
}

function _qualified(q: Qualification): boolean {
  return q.qualified;
}

function _notQualified(q: Qualification): boolean {
  return !q.qualified;
}
