/**
 * The per-CTN MPA session: a pure reducer `(session, event, context) => [session,
 * outputs]` over the six steps of RFC 6252 section 6.3 for one candidate target
 * network: discovery of its agents (section 7.1), pre-authentication (step 1),
 * pre-configuration of the nCoA and of the proactive handover tunnel (step 2), the
 * proactive binding update (step 3), and the switch sequence of steps 4-6: ask the
 * AR to buffer (section 7.6.1), switch the link, assign the cached nCoA (with
 * gratuitous ARP / unsolicited NA, Appendix B), delete the PHT, flush the buffer,
 * refresh the binding to the single new CoA and extend the lease with the same
 * client identifier (section 7.3.3). What was not prepared is done after the switch
 * (reactive handover, section C.6). Released contexts are retained for a TTL and
 * restored on a switch-back (sections C.1, C.2). A switch to a CTN whose proactive
 * binding update is still in flight does not cancel it: the update is folded into
 * the switch, whose bind step waits for it and uses its result; only an `abort`
 * (another target chosen) cancels a binding update in flight.
 *
 * Events are decisions for this CTN and the results of port calls; outputs are
 * commands for the ports (executed by the imperative shell, which feeds the results
 * back with the command's `seq`), notices for the log, and signals for the
 * orchestrator. Results whose `seq` is not the pending one are stale (a cancelled or
 * timed-out call that completed late): the resources they carry are given back.
 *
 * @module
 */
import type { Phase } from "../decision/decision.ts";
import type {
  BindingResult,
  CtnInfo,
  Lease,
  MpaSa,
  PortErrorCode,
  TunnelEndpoints,
  TunnelHandle,
} from "../ports.ts";

/**
 * Where a session is. The first eight follow RFC 6252 section 6.3 (steps 1-6);
 * `failed` means a phase did not complete (the session keeps what it holds and a
 * switch to it does the rest reactively), `retained` a released context kept for a
 * switch-back (section C.1, C.2), `released` nothing held.
 */
export type SessionPhase =
  | "discovered"
  | "pre-authenticating"
  | "pre-authenticated"
  | "pre-configuring"
  | "tunnelled"
  | "bound"
  | "switching"
  | "attached"
  | "failed"
  | "retained"
  | "released";

/**
 * Every session phase, in the order of RFC 6252 section 6.3 then the recovery
 * phases.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { SESSION_PHASES } from "./session.ts";
 * assertEquals(SESSION_PHASES.length, 11);
 * assertEquals(SESSION_PHASES[0], "discovered");
 * assertEquals(SESSION_PHASES.at(-1), "released");
 * ```
 */
export const SESSION_PHASES: readonly SessionPhase[] = [
  "discovered",
  "pre-authenticating",
  "pre-authenticated",
  "pre-configuring",
  "tunnelled",
  "bound",
  "switching",
  "attached",
  "failed",
  "retained",
  "released",
];

/** One port operation of a session (one command kind each, `forget-sa` and `cancel` aside). */
export type MpaOperation =
  | "discover"
  | "preauth"
  | "acquire"
  | "tunnel"
  | "bind"
  | "buffer"
  | "switch-link"
  | "assign"
  | "close-tunnel"
  | "flush"
  | "renew"
  | "release-lease";

/** How far a CTN is to be prepared before the switch (RFC 6252 section C.4). */
export type MpaGoal = "preauth" | "preconfigure" | "bind";

/**
 * Timing and attempts of the latest run of one operation (for the Tauth, Tconf,
 * tunnel and BU timings of RFC 6252 section C.6, and the status endpoint).
 */
export interface OperationRecord {
  /** When the latest attempt started, ms. */
  readonly start: number;
  /** When it ended, ms; undefined while in flight. */
  readonly end: number | undefined;
  /** Whether it succeeded; undefined while in flight. */
  readonly ok: boolean | undefined;
  /** Attempts in this run (1 + retries so far). */
  readonly attempts: number;
}

/** The last failure of a session. */
export interface SessionError {
  /** The operation that failed. */
  readonly op: MpaOperation;
  /** The session phase it failed in. */
  readonly phase: SessionPhase;
  /** The port's error code, or `expired` for a lifetime that ran out (section 7.2). */
  readonly code: PortErrorCode | "expired";
  /** The port's message. */
  readonly message: string;
  /** When, ms. */
  readonly at: number;
}

/** An address for the physical interface (the nCoA, or the initial CoA of the serving network). */
export interface SessionAddress {
  /** The address. */
  readonly address: string;
  /** Its prefix length. */
  readonly prefixLength: number;
  /** The default router on that network (the lease's option 3), when known. */
  readonly router?: string;
}

/** The binding at the correspondent / home agent that includes this session's address. */
export interface SessionBinding {
  /** Every CoA bound by the update (this session's among them). */
  readonly coas: readonly string[];
  /** Lifetime granted, ms. */
  readonly lifetimeMs: number;
  /** When bound, ms. */
  readonly at: number;
}

/** The port call a session waits for. */
export interface PendingOperation {
  /** The operation. */
  readonly op: MpaOperation;
  /** The command's sequence number; its result carries it back. */
  readonly seq: number;
  /** When issued, ms. */
  readonly since: number;
}

/**
 * A proactive binding update (RFC 6252 section 6.3 step 3) that was in flight when
 * the switch to its CTN began: not cancelled but folded into the switch sequence,
 * whose bind step waits for it and uses its result (a binding update through the
 * tunnel that completes after the tunnel is deleted still binds the nCoA).
 */
export interface FoldedBind {
  /** The bind command's sequence number; its result carries it back. */
  readonly seq: number;
  /** When it was issued, ms. */
  readonly since: number;
  /** `in-flight` until its result; `bound` once it bound the single new CoA. */
  readonly state: "in-flight" | "bound";
}

/** A session queued by a resource limit (RFC 6252 section C.4). */
export interface SessionWait {
  /** The slot it waits for. */
  readonly slot: "preauth" | "configure";
  /** Since when, ms (the queue is served oldest first). */
  readonly since: number;
}

/** The state of one CTN's MPA session. */
export interface Session {
  /** Network id of the CTN. */
  readonly ctn: string;
  /** Where the session is. */
  readonly phase: SessionPhase;
  /** When it entered the phase, ms. */
  readonly since: number;
  /** How far to prepare; undefined when nothing is asked for. */
  readonly goal: MpaGoal | undefined;
  /** The PoA expected (or attached to). */
  readonly poa: string | undefined;
  /** The CTN's agents, from discovery. */
  readonly info: CtnInfo | undefined;
  /** The MPA-SA (step 1). */
  readonly sa: MpaSa | undefined;
  /** The proactively acquired configuration (step 2). */
  readonly lease: Lease | undefined;
  /** The address for the interface: the lease's nCoA or the serving network's CoA. */
  readonly address: SessionAddress | undefined;
  /** The proactive handover tunnel (step 2). */
  readonly tunnel: TunnelHandle | undefined;
  /** The tunnel whose AR buffers for the MN (section 7.6.1), until flushed. */
  readonly buffered: TunnelHandle | undefined;
  /** The binding that includes `address` (step 3, or after the switch). */
  readonly binding: SessionBinding | undefined;
  /** The port call in flight. */
  readonly pending: PendingOperation | undefined;
  /** The proactive binding update folded into the current switch, if any. */
  readonly foldedBind: FoldedBind | undefined;
  /** Sequence number of the latest command. */
  readonly seq: number;
  /** Remaining steps of the switch sequence (steps 4-6, reactive steps included). */
  readonly plan: readonly MpaOperation[];
  /** The PoA and network the switch started from. */
  readonly switchFrom: { readonly poa: string; readonly network: string } | undefined;
  /** The phase to go back to when the switch fails before the link moved (section C.1). */
  readonly resumePhase: SessionPhase | undefined;
  /** Whether the link switch of the current switch was done. */
  readonly linkMoved: boolean;
  /** Whether the current switch is reactive (nothing pre-authenticated). */
  readonly reactive: boolean;
  /** Whether the current switch is a switch-back to a retained context (section C.1). */
  readonly returning: boolean;
  /**
   * Whether this is the network the agent started in: authenticated by the platform,
   * not by an MPA-SA, so a return to it needs no pre-authentication.
   */
  readonly native: boolean;
  /** Set while queued by a resource limit. */
  readonly waiting: SessionWait | undefined;
  /** When a retained context is dropped, ms. */
  readonly retainUntil: number | undefined;
  /** When the lease of the attached network is extended next, ms. */
  readonly renewAt: number | undefined;
  /** The latest run of each operation. */
  readonly operations: Readonly<Partial<Record<MpaOperation, OperationRecord>>>;
  /** The last failure, if any. */
  readonly lastError: SessionError | undefined;
}

/** Fields of a command. */
interface CommandBase {
  /** The CTN (session) that issued it. */
  readonly ctn: string;
  /** Sequence number to return with the result; 0 for fire-and-forget. */
  readonly seq: number;
}

/** Commands for the ports, one per port call (plus `forget-sa` and `cancel`). */
export type MpaCommand =
  /** Look up the CTN's AA, CA and AR (section 7.1). */
  | CommandBase & { readonly kind: "discover" }
  /** Pre-authenticate (step 1); `reactive`: plain authentication after the switch. */
  | CommandBase & {
    readonly kind: "preauthenticate";
    readonly info: CtnInfo;
    readonly reactive: boolean;
  }
  /** Acquire the nCoA (step 2, section 7.3). */
  | CommandBase & { readonly kind: "acquire"; readonly info: CtnInfo; readonly sa: MpaSa }
  /** Establish the PHT under the MN-AR key (step 2, section 7.4). */
  | CommandBase & {
    readonly kind: "open-tunnel";
    readonly endpoints: TunnelEndpoints;
    readonly sa: MpaSa;
  }
  /** Binding update (step 3 through `tunnel`; after the switch without). */
  | CommandBase & {
    readonly kind: "bind";
    readonly coas: readonly string[];
    readonly tunnel: TunnelHandle | undefined;
    readonly lifetimeMs: number | undefined;
  }
  /** Ask the AR to buffer (step 4, section 7.6.1). */
  | CommandBase & { readonly kind: "buffer"; readonly tunnel: TunnelHandle }
  /** Link-layer handover (step 5). */
  | CommandBase & { readonly kind: "switch-link"; readonly poa: string }
  /** Assign the address to the interface and announce it (step 6, Appendix B). */
  | CommandBase & {
    readonly kind: "assign";
    readonly address: string;
    readonly prefixLength: number;
    /** The default router on the new link, when known (the route after the move). */
    readonly router?: string;
  }
  /** Delete the PHT (step 4 or 6). */
  | CommandBase & { readonly kind: "close-tunnel"; readonly tunnel: TunnelHandle }
  /** Ask the AR to release what it buffered (section 7.6.1). */
  | CommandBase & { readonly kind: "flush"; readonly tunnel: TunnelHandle }
  /** Extend the lease with the same client identifier (section 7.3.3). */
  | CommandBase & { readonly kind: "renew"; readonly lease: Lease }
  /** Give the address back (section C.4). */
  | CommandBase & { readonly kind: "release-lease"; readonly lease: Lease }
  /** Drop the MN's copy of an MPA-SA (the AA keeps its own, section C.2); no port call. */
  | CommandBase & { readonly kind: "forget-sa"; readonly sa: MpaSa }
  /** Abort the call in flight with this `seq`; its result then comes back `aborted`. */
  | CommandBase & { readonly kind: "cancel" };

/** A line for the log: what happened and why, or why an event was ignored. */
export interface MpaNotice {
  /** Discriminant. */
  readonly kind: "notice";
  /** The CTN concerned ("" for the whole agent). */
  readonly ctn: string;
  /** When, ms. */
  readonly at: number;
  /** `info` for progress, `warn` for failures and ignored events, `error` for lost connectivity. */
  readonly level: "info" | "warn" | "error";
  /** The message: a capital first letter, detail after a colon. */
  readonly message: string;
}

/** What a session tells the orchestrator about a switch. */
export type SessionSignal =
  /** The switch sequence completed: the MN is attached to `ctn`. */
  | { readonly kind: "attached"; readonly ctn: string; readonly at: number }
  /** A critical step of the switch failed (section C.1). */
  | {
    readonly kind: "switch-failed";
    readonly ctn: string;
    readonly at: number;
    /** Whether the link had already moved (then the MN must switch back). */
    readonly linkMoved: boolean;
    /** Where the switch started from. */
    readonly from: { readonly poa: string; readonly network: string } | undefined;
    /** Whether the failed switch was itself a switch-back. */
    readonly returning: boolean;
  };

/** Everything a session emits. */
export type SessionOutput = MpaCommand | MpaNotice | SessionSignal;

/** Results of port calls, by command. */
export type SessionResult =
  | {
    readonly kind: "discovered";
    readonly at: number;
    readonly seq: number;
    readonly info: CtnInfo;
  }
  | { readonly kind: "preauth-ok"; readonly at: number; readonly seq: number; readonly sa: MpaSa }
  | { readonly kind: "lease-ok"; readonly at: number; readonly seq: number; readonly lease: Lease }
  | {
    readonly kind: "tunnel-ok";
    readonly at: number;
    readonly seq: number;
    readonly tunnel: TunnelHandle;
  }
  | {
    readonly kind: "bind-ok";
    readonly at: number;
    readonly seq: number;
    readonly result: BindingResult;
  }
  | { readonly kind: "buffer-ok"; readonly at: number; readonly seq: number }
  | { readonly kind: "link-switched"; readonly at: number; readonly seq: number }
  | { readonly kind: "assigned"; readonly at: number; readonly seq: number }
  | { readonly kind: "tunnel-closed"; readonly at: number; readonly seq: number }
  | { readonly kind: "flushed"; readonly at: number; readonly seq: number; readonly count: number }
  | { readonly kind: "renewed"; readonly at: number; readonly seq: number; readonly lease: Lease }
  | { readonly kind: "lease-released"; readonly at: number; readonly seq: number }
  | {
    readonly kind: "op-failed";
    readonly at: number;
    readonly seq: number;
    readonly op: MpaOperation;
    readonly code: PortErrorCode;
    readonly message: string;
  };

/** Lifetimes that ran out (section 7.2) and the lease extension timer. */
export type SessionTimer =
  | "sa-expired"
  | "lease-expired"
  | "tunnel-expired"
  | "retain-expired"
  | "renew-due";

/** What a session consumes. */
export type SessionEvent =
  /** Pre-authenticate (step 1). */
  | { readonly kind: "prepare"; readonly at: number; readonly poa: string | undefined }
  /** Pre-configure address and tunnel (step 2). */
  | { readonly kind: "preconfigure"; readonly at: number; readonly poa: string }
  /** Proactive binding update (step 3). */
  | { readonly kind: "commit"; readonly at: number; readonly poa: string }
  /**
   * The commit was rolled back or another CTN was chosen: prepare no further than
   * step 2, and cancel the proactive binding update in flight (its target changed).
   */
  | { readonly kind: "abort"; readonly at: number }
  /** Switch to this CTN (steps 4-6, reactive where unprepared). */
  | {
    readonly kind: "switch";
    readonly at: number;
    readonly poa: string;
    readonly from: { readonly poa: string; readonly network: string };
  }
  /** Switch back to this retained network after a failed switch (section C.1). */
  | {
    readonly kind: "switch-back";
    readonly at: number;
    readonly linkMoved: boolean;
    /** Whether the binding must be moved back to this network's CoA. */
    readonly rebind: boolean;
  }
  /** Drop resources; the context is retained for `retainMs` when `phases` has `preauth`. */
  | {
    readonly kind: "release";
    readonly at: number;
    readonly phases: readonly Phase[];
    readonly retainMs: number;
  }
  /** Reuse a retained context (sections C.1, C.2). */
  | { readonly kind: "restore"; readonly at: number; readonly poa: string }
  /** Attached session: send a binding update (rollback, bicast, deregistration); fire-and-forget. */
  | {
    readonly kind: "rebind";
    readonly at: number;
    readonly coas: readonly string[] | undefined;
    readonly lifetimeMs: number | undefined;
  }
  /** Another session's binding update changed what the correspondent sends to. */
  | {
    readonly kind: "binding-changed";
    readonly at: number;
    readonly bound: readonly string[];
    readonly lifetimeMs: number;
  }
  /** A limit slot this session waits for may be free. */
  | { readonly kind: "resume"; readonly at: number }
  /** The agent stops: give everything back. */
  | { readonly kind: "shutdown"; readonly at: number }
  /** A lifetime or timer ran out. */
  | { readonly kind: SessionTimer; readonly at: number }
  | SessionResult;

/** What a session needs to know about the rest of the agent. */
export interface SessionContext {
  /** The MN's current CoA (the tunnel's outer address); undefined when unknown. */
  readonly oCoA: string | undefined;
  /** Attempts per operation before a retryable failure (timeout, unreachable) is final. */
  readonly maxAttempts: number;
  /** Whether the tunnel manager can ask the AR to buffer and flush (section 7.6.1). */
  readonly buffering: boolean;
  /** Whether this session may take a pre-authentication / configuration slot (section C.4). */
  readonly slots: { readonly preauth: boolean; readonly configure: boolean };
}

/**
 * A new session for a CTN, before anything was asked of it.
 *
 * @param ctn the CTN's network id
 * @param at now, ms
 * @param info the CTN's agents, when already known
 * @returns the session, phase `discovered`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = createSession("B", 0);
 * assertEquals([s.phase, s.goal, s.sa, s.seq], ["discovered", undefined, undefined, 0]);
 * ```
 */
export function createSession(ctn: string, at: number, info?: CtnInfo): Session {
  return {
    ctn,
    phase: "discovered",
    since: at,
    goal: undefined,
    poa: undefined,
    info,
    sa: undefined,
    lease: undefined,
    address: undefined,
    tunnel: undefined,
    buffered: undefined,
    binding: undefined,
    pending: undefined,
    foldedBind: undefined,
    seq: 0,
    plan: [],
    switchFrom: undefined,
    resumePhase: undefined,
    linkMoved: false,
    reactive: false,
    returning: false,
    native: false,
    waiting: undefined,
    retainUntil: undefined,
    renewAt: undefined,
    operations: {},
    lastError: undefined,
  };
}

/**
 * The session of the network the MN is attached to when the agent starts: its CoA
 * is known, its SA and lease (if any) belong to the platform.
 *
 * @param ctn the serving network's id
 * @param poa the serving PoA
 * @param address the MN's current CoA
 * @param at now, ms
 * @returns the session, phase `attached`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = attachedSession("A", "a1", { address: "10.0.1.5", prefixLength: 24 }, 0);
 * assertEquals([s.phase, s.address?.address], ["attached", "10.0.1.5"]);
 * ```
 */
export function attachedSession(
  ctn: string,
  poa: string,
  address: SessionAddress,
  at: number,
): Session {
  return { ...createSession(ctn, at), phase: "attached", poa, address, native: true };
}

/**
 * Whether a session uses a pre-authentication slot (RFC 6252 section C.4): a
 * candidate (not the serving network, not retained) holding or obtaining an SA.
 *
 * @param s the session
 * @returns true when it counts against `maxPreauthenticated`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(holdsPreauth(createSession("B", 0)), false);
 * ```
 */
export function holdsPreauth(s: Session): boolean {
  return _candidate(s) && (s.sa !== undefined || s.native || s.pending?.op === "preauth");
}

/**
 * Whether a session uses a configuration slot (RFC 6252 section C.4): a candidate
 * holding or obtaining an nCoA or a tunnel.
 *
 * @param s the session
 * @returns true when it counts against `maxConfigured`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(holdsConfiguration(createSession("B", 0)), false);
 * ```
 */
export function holdsConfiguration(s: Session): boolean {
  return _candidate(s) &&
    (s.lease !== undefined || s.tunnel !== undefined || s.pending?.op === "acquire" ||
      s.pending?.op === "tunnel");
}

function _candidate(s: Session): boolean {
  return s.phase !== "attached" && s.phase !== "retained" && s.phase !== "released" &&
    s.phase !== "switching";
}

type Step = readonly [Session, readonly SessionOutput[]];
const _NONE: readonly SessionOutput[] = [];
const _GOALS: readonly MpaGoal[] = ["preauth", "preconfigure", "bind"];
const _CRITICAL: ReadonlySet<MpaOperation> = new Set([
  "discover",
  "switch-link",
  "preauth",
  "acquire",
  "assign",
]);

/**
 * Advances one session by one event.
 *
 * @param s the session
 * @param event a decision for this CTN, a port result, a timer
 * @param ctx the rest of the agent: current CoA, retries, buffering, limit slots
 * @returns the next session and its outputs (commands, notices, signals), in order
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const info = { network: "B", aa: { address: "10.0.2.1" }, ca: { address: "10.0.2.1" }, ar: { address: "10.0.2.1" }, poas: ["b1"] };
 * const ctx = { oCoA: "10.0.1.5", maxAttempts: 2, buffering: true, slots: { preauth: true, configure: true } };
 * const [s, out] = sessionReducer(createSession("B", 0, info), { kind: "prepare", at: 0, poa: "b1" }, ctx);
 * assertEquals(s.phase, "pre-authenticating");
 * assertEquals(out.map((o) => o.kind), ["preauthenticate"]);
 * ```
 */
export function sessionReducer(
  s: Session,
  event: SessionEvent,
  ctx: SessionContext,
): Step {
  switch (event.kind) {
    case "prepare":
    case "preconfigure":
    case "commit":
      return _onGoal(
        s,
        event.kind === "prepare"
          ? "preauth"
          : event.kind === "preconfigure"
          ? "preconfigure"
          : "bind",
        event.at,
        event.poa,
        ctx,
      );
    case "abort":
      return _onAbort(s, event.at);
    case "restore":
      return _onRestore(s, event.at, event.poa, ctx);
    case "switch":
      return _onSwitch(s, event.at, event.poa, event.from, ctx);
    case "switch-back":
      return _onSwitchBack(s, event.at, event.linkMoved, event.rebind, ctx);
    case "release":
      return _onRelease(s, event.at, event.phases, event.retainMs);
    case "rebind":
      return _onRebind(s, event.at, event.coas, event.lifetimeMs);
    case "binding-changed":
      return [_membership(s, event.bound, event.lifetimeMs, event.at), _NONE];
    case "resume":
      if (s.waiting === undefined) return [s, _NONE];
      return _advance({ ...s, waiting: undefined }, event.at, ctx);
    case "shutdown":
      return _onShutdown(s, event.at);
    case "sa-expired":
    case "lease-expired":
    case "tunnel-expired":
    case "retain-expired":
    case "renew-due":
      return _onTimer(s, event.kind, event.at, ctx);
    default:
      return _onResult(s, event, ctx);
  }
}

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

function _onGoal(
  s: Session,
  goal: MpaGoal,
  at: number,
  poa: string | undefined,
  ctx: SessionContext,
): Step {
  if (s.phase === "attached" || s.phase === "switching") {
    return _ignore(s, at, `${goal} while ${s.phase}`);
  }
  let n = s;
  const outs: SessionOutput[] = [];
  if (n.phase === "retained") {
    outs.push(_notice(s, at, "info", `Retained context reused instead of starting over: ${goal}`));
    n = { ...n, retainUntil: undefined };
  } else if (n.phase === "released") n = _fresh(n, at);
  const current = n.goal === undefined ? -1 : _GOALS.indexOf(n.goal);
  const wanted = _GOALS.indexOf(goal);
  n = { ...n, goal: wanted > current ? goal : n.goal, poa: poa ?? n.poa };
  if (n.phase === "failed" || n.phase === "retained") n = _enter(n, _resting(n), at);
  const [after, more] = _advance(n, at, ctx);
  return [after, [...outs, ...more]];
}

function _onAbort(s: Session, at: number): Step {
  if (s.goal !== "bind") return _ignore(s, at, "abort without a commit");
  const n: Session = { ...s, goal: "preconfigure" };
  if (n.pending?.op !== "bind" || n.phase === "switching" || n.phase === "attached") {
    return [n, _NONE];
  }
  // The target changed: the proactive binding update in flight is cancelled (the
  // adapter keeps the peer in step, e.g. SIP ACKs a late 2xx or sends CANCEL); a late
  // result is stale.
  return [_enter({ ...n, pending: undefined }, _resting(n), at), [
    _cancel(n),
    _notice(
      s,
      at,
      "info",
      "Proactive binding update in flight cancelled: the commit was withdrawn",
    ),
  ]];
}

function _onRestore(s: Session, at: number, poa: string, ctx: SessionContext): Step {
  if (s.phase === "attached" || s.phase === "switching") {
    return _ignore(s, at, `restore while ${s.phase}`);
  }
  if (s.phase !== "retained" && s.sa === undefined && !s.native) {
    const [n, out] = _onGoal(s, "preauth", at, poa, ctx);
    return [n, [
      _notice(s, at, "warn", "Nothing retained to restore: pre-authenticating again"),
      ...out,
    ]];
  }
  const n: Session = {
    ...s,
    retainUntil: undefined,
    poa,
    goal: s.goal ?? "preauth",
  };
  const [after, out] = _advance(_enter(n, _resting(n), at), at, ctx);
  return [after, [
    _notice(s, at, "info", `Context restored (RFC 6252 section C.1): ${_held(s)}`),
    ...out,
  ]];
}

function _onSwitch(
  s: Session,
  at: number,
  poa: string,
  from: { readonly poa: string; readonly network: string },
  ctx: SessionContext,
): Step {
  if (s.phase === "switching") return _ignore(s, at, "switch while switching");
  if (s.phase === "attached") {
    // Same network: a link-layer handover only.
    return _nextStep(
      {
        ..._enter(s, "switching", at),
        plan: ["switch-link"],
        poa,
        switchFrom: from,
        resumePhase: "attached",
        linkMoved: false,
        reactive: false,
        returning: false,
      },
      at,
      ctx,
    );
  }
  const outs: SessionOutput[] = [];
  let n = s.phase === "released" ? _fresh(s, at) : s;
  let folded: FoldedBind | undefined;
  if (n.pending !== undefined) {
    if (n.pending.op === "bind" && n.tunnel !== undefined && n.address !== undefined) {
      // The proactive binding update to this very CTN (step 3) is not aborted: the
      // correspondent may have accepted it already, and cancelling it would leave the
      // two ends out of step. The switch's bind step waits for it instead.
      folded = { seq: n.pending.seq, since: n.pending.since, state: "in-flight" };
      outs.push(
        _notice(
          s,
          at,
          "info",
          "Proactive binding update in flight: folded into the switch, not cancelled (RFC 6252 section 6.3 step 3)",
        ),
      );
    } else outs.push(_cancel(n));
    n = { ...n, pending: undefined };
  }
  const resumePhase = n.phase === "retained" ? "retained" : _resting(n);
  const plan: MpaOperation[] = [];
  const authenticate = n.sa === undefined && !n.native;
  const configure = n.address === undefined;
  if (n.info === undefined && (authenticate || configure)) plan.push("discover");
  if (n.tunnel !== undefined && ctx.buffering) plan.push("buffer");
  plan.push("switch-link");
  if (authenticate) plan.push("preauth");
  if (configure) plan.push("acquire");
  plan.push("assign");
  if (n.tunnel !== undefined) plan.push("close-tunnel");
  if (n.tunnel !== undefined && ctx.buffering) plan.push("flush");
  plan.push("bind");
  if (n.lease !== undefined) plan.push("renew");
  const reactive = authenticate;
  n = {
    ..._enter(n, "switching", at),
    plan,
    poa,
    switchFrom: from,
    resumePhase,
    linkMoved: false,
    reactive,
    returning: false,
    waiting: undefined,
    foldedBind: folded,
  };
  outs.push(
    _notice(
      s,
      at,
      "info",
      `Switch from ${from.poa} to ${poa}${
        reactive ? " (reactive: authenticate, configure and bind after the switch)" : ""
      }: ${plan.join(", ")}`,
    ),
  );
  const [after, more] = _nextStep(n, at, ctx);
  return [after, [...outs, ...more]];
}

function _onSwitchBack(
  s: Session,
  at: number,
  linkMoved: boolean,
  rebind: boolean,
  ctx: SessionContext,
): Step {
  if (s.address === undefined || s.poa === undefined) {
    return _ignore(s, at, "switch-back without an address or PoA to return to");
  }
  if (s.phase !== "retained" && s.phase !== "attached" && s.phase !== "failed") {
    return _ignore(s, at, `switch-back while ${s.phase}`);
  }
  const plan: MpaOperation[] = linkMoved ? ["switch-link", "assign"] : [];
  if (linkMoved || rebind) plan.push("bind");
  return _nextStep(
    {
      ..._enter(s, "switching", at),
      plan,
      switchFrom: undefined,
      resumePhase: "retained",
      linkMoved: false,
      reactive: false,
      returning: true,
    },
    at,
    ctx,
  );
}

function _onRelease(
  s: Session,
  at: number,
  phases: readonly Phase[],
  retainMs: number,
): Step {
  if (s.phase === "released") return _ignore(s, at, "release of a released session");
  if (s.phase === "switching") return _ignore(s, at, "release while switching");
  const outs: SessionOutput[] = [];
  let n = s;
  if (n.pending !== undefined) {
    outs.push(_cancel(n));
    n = { ...n, pending: undefined };
  }
  n = { ...n, waiting: undefined };
  const whole = phases.includes("preauth") || n.sa === undefined || n.phase === "attached" ||
    n.phase === "retained";
  if (!whole) {
    // Only the pre-configuration slot moves: address and tunnel go, the SA stays.
    outs.push(..._dropTunnel(n), ..._dropLease(n));
    n = {
      ...n,
      tunnel: undefined,
      buffered: undefined,
      lease: undefined,
      address: undefined,
      binding: undefined,
      goal: "preauth",
    };
    return [_enter(n, _resting(n), at), outs];
  }
  outs.push(..._dropTunnel(n));
  n = { ...n, tunnel: undefined, buffered: undefined, binding: undefined, goal: undefined };
  if (retainMs > 0 && (n.sa !== undefined || n.address !== undefined)) {
    outs.push(_notice(s, at, "info", `Context retained for ${retainMs} ms: ${_held(n)}`));
    return [{ ..._enter(n, "retained", at), retainUntil: at + retainMs }, outs];
  }
  return _released(n, at, outs);
}

function _onRebind(
  s: Session,
  at: number,
  coas: readonly string[] | undefined,
  lifetimeMs: number | undefined,
): Step {
  if (s.address === undefined) return _ignore(s, at, "binding update without an address");
  const seq = s.seq + 1;
  return [{ ...s, seq }, [{
    kind: "bind",
    ctn: s.ctn,
    seq,
    coas: coas ?? [s.address.address],
    tunnel: undefined,
    lifetimeMs,
  }]];
}

function _onShutdown(s: Session, at: number): Step {
  if (s.phase === "released") return [s, _NONE];
  const outs: SessionOutput[] = [];
  if (s.pending !== undefined) outs.push(_cancel(s));
  const f = s.foldedBind;
  if (f?.state === "in-flight" && f.seq !== s.pending?.seq) {
    outs.push({ kind: "cancel", ctn: s.ctn, seq: f.seq });
  }
  outs.push(..._dropTunnel(s));
  return _released(
    {
      ...s,
      pending: undefined,
      tunnel: undefined,
      buffered: undefined,
      plan: [],
      waiting: undefined,
    },
    at,
    outs,
  );
}

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

function _onTimer(s: Session, timer: SessionTimer, at: number, ctx: SessionContext): Step {
  switch (timer) {
    case "sa-expired": {
      if (s.sa === undefined || s.sa.expiresAt > at || s.phase === "switching") return [s, _NONE];
      if (s.phase === "attached") {
        return [{ ...s, sa: undefined }, [
          _notice(s, at, "warn", "MPA-SA of the serving network expired"),
        ]];
      }
      const error = _expired(s, "preauth", at, `MPA-SA ${s.sa.sessionId} expired`);
      const outs: SessionOutput[] = [..._dropTunnel(s), ..._dropLease(s), _forget(s, s.sa)];
      const n: Session = {
        ...s,
        sa: undefined,
        tunnel: undefined,
        buffered: undefined,
        lease: undefined,
        address: undefined,
        binding: undefined,
        lastError: error,
      };
      if (s.phase === "retained") return _released(n, at, outs);
      const [after, more] = _advance(_enter(n, _resting(n), at), at, ctx);
      return [after, [...outs, ...more]];
    }
    case "lease-expired": {
      if (s.lease === undefined || s.lease.expiresAt > at || s.phase === "switching") {
        return [s, _NONE];
      }
      if (s.phase === "attached") {
        return [{ ...s, lease: undefined, renewAt: undefined }, [
          _notice(s, at, "warn", `Lease of ${s.lease.nCoA} expired`),
        ]];
      }
      const error = _expired(s, "acquire", at, `Lease of ${s.lease.nCoA} expired`);
      const outs: SessionOutput[] = [..._dropTunnel(s)];
      const n: Session = {
        ...s,
        lease: undefined,
        address: undefined,
        tunnel: undefined,
        buffered: undefined,
        binding: undefined,
        lastError: error,
      };
      if (s.phase === "retained") {
        return n.sa === undefined ? _released(n, at, outs) : [n, outs];
      }
      const [after, more] = _advance(_enter(n, _resting(n), at), at, ctx);
      return [after, [...outs, ...more]];
    }
    case "tunnel-expired": {
      if (s.tunnel === undefined || s.tunnel.expiresAt > at || s.phase === "switching") {
        return [s, _NONE];
      }
      const outs = _dropTunnel(s);
      const n: Session = {
        ...s,
        tunnel: undefined,
        buffered: undefined,
        binding: undefined,
        lastError: _expired(s, "tunnel", at, `Tunnel ${s.tunnel.id} expired`),
      };
      const [after, more] = _advance(_enter(n, _resting(n), at), at, ctx);
      return [after, [...outs, ...more]];
    }
    case "retain-expired": {
      if (s.phase !== "retained" || (s.retainUntil ?? Infinity) > at) return [s, _NONE];
      return _released(s, at, [_notice(s, at, "info", "Retained context dropped: TTL over")]);
    }
    case "renew-due": {
      if (
        s.phase !== "attached" || s.lease === undefined || s.pending !== undefined ||
        (s.renewAt ?? Infinity) > at
      ) return [s, _NONE];
      return _emit(s, "renew", at, ctx, false);
    }
  }
}

// ---------------------------------------------------------------------------
// Port results
// ---------------------------------------------------------------------------

const _OP_OF: Readonly<Record<Exclude<SessionResult["kind"], "op-failed">, MpaOperation>> = {
  "discovered": "discover",
  "preauth-ok": "preauth",
  "lease-ok": "acquire",
  "tunnel-ok": "tunnel",
  "bind-ok": "bind",
  "buffer-ok": "buffer",
  "link-switched": "switch-link",
  "assigned": "assign",
  "tunnel-closed": "close-tunnel",
  "flushed": "flush",
  "renewed": "renew",
  "lease-released": "release-lease",
};

function _onResult(s: Session, e: SessionResult, ctx: SessionContext): Step {
  const f = s.foldedBind;
  if (f?.state === "in-flight" && e.seq === f.seq) return _onFolded(s, e, ctx);
  const p = s.pending;
  if (p === undefined || p.seq !== e.seq) return _stale(s, e);
  if (e.kind === "op-failed") return _onFailed(s, p, e, ctx);
  if (_OP_OF[e.kind] !== p.op) {
    return _ignore(s, e.at, `${e.kind} while waiting for ${p.op}`);
  }
  let n = _done(s, p.op, e.at, true);
  const outs: SessionOutput[] = [];
  switch (e.kind) {
    case "discovered":
      n = { ...n, info: e.info };
      break;
    case "preauth-ok":
      n = { ...n, sa: e.sa };
      break;
    case "lease-ok":
      n = {
        ...n,
        lease: e.lease,
        address: {
          address: e.lease.nCoA,
          prefixLength: e.lease.prefixLength,
          ...(e.lease.router === undefined ? {} : { router: e.lease.router }),
        },
      };
      break;
    case "tunnel-ok":
      n = { ...n, tunnel: e.tunnel };
      break;
    case "bind-ok":
      n = _membership(n, e.result.bound, e.result.lifetimeMs, e.at);
      if (n.binding === undefined && n.phase !== "switching") {
        outs.push(
          _notice(
            n,
            e.at,
            "warn",
            `Binding update did not bind ${n.address?.address ?? "?"}: ${
              e.result.bound.join(", ")
            }`,
          ),
        );
      }
      break;
    case "buffer-ok":
      n = { ...n, buffered: n.tunnel };
      break;
    case "link-switched":
      n = { ...n, linkMoved: true };
      break;
    case "assigned":
      break;
    case "tunnel-closed":
      n = { ...n, tunnel: undefined };
      break;
    case "flushed":
      n = { ...n, buffered: undefined };
      break;
    case "renewed":
      n = { ...n, lease: e.lease, renewAt: _renewAt(e.lease) };
      break;
    case "lease-released":
      n = { ...n, lease: undefined };
      break;
  }
  const [after, more] = _continue(n, e.at, ctx);
  return [after, [...outs, ...more]];
}

function _onFailed(
  s: Session,
  p: PendingOperation,
  e: Extract<SessionResult, { kind: "op-failed" }>,
  ctx: SessionContext,
): Step {
  const attempts = s.operations[p.op]?.attempts ?? 1;
  const error: SessionError = {
    op: p.op,
    phase: s.phase,
    code: e.code,
    message: e.message,
    at: e.at,
  };
  let n: Session = { ..._done(s, p.op, e.at, false), lastError: error };
  const retryable = e.code === "timeout" || e.code === "unreachable";
  if (retryable && attempts < ctx.maxAttempts) {
    const [after, out] = _emit(n, p.op, e.at, ctx, true);
    return [after, [
      _notice(
        s,
        e.at,
        "info",
        `Retrying ${p.op} (attempt ${attempts + 1} of ${ctx.maxAttempts}): ${e.message}`,
      ),
      ...out,
    ]];
  }
  const what = `${p.op} failed (${e.code}): ${e.message}`;
  if (n.phase === "switching") {
    if (!_CRITICAL.has(p.op)) {
      const [after, out] = _nextStep({ ...n, plan: n.plan.slice(1) }, e.at, ctx);
      return [after, [_notice(s, e.at, "warn", `Switch continues without it: ${what}`), ...out]];
    }
    const signal: SessionSignal = {
      kind: "switch-failed",
      ctn: s.ctn,
      at: e.at,
      linkMoved: n.linkMoved,
      from: n.switchFrom,
      returning: n.returning,
    };
    const outs: SessionOutput[] = [_notice(s, e.at, "warn", `Switch failed: ${what}`), signal];
    if (!n.linkMoved && !n.returning) {
      // Still on the old link (RFC 6252 section C.1): go back to what was prepared.
      const folded = n.foldedBind;
      n = {
        ..._enter(n, n.resumePhase ?? _resting(n), e.at),
        plan: [],
        switchFrom: undefined,
        foldedBind: undefined,
        goal: n.resumePhase === "retained" ? undefined : n.goal,
      };
      if (folded?.state === "in-flight") {
        // The proactive binding update still in flight is the session's call again; the
        // AR releases what it buffered without the session waiting for it.
        n = { ...n, pending: { op: "bind", seq: folded.seq, since: folded.since } };
        if (n.buffered !== undefined && n.tunnel !== undefined) {
          outs.push({ kind: "flush", ctn: s.ctn, seq: 0, tunnel: n.buffered });
          n = { ...n, buffered: undefined };
        }
        return [n, outs];
      }
      if (n.buffered !== undefined && n.tunnel !== undefined) {
        const [after, out] = _emit(n, "flush", e.at, ctx, false);
        return [after, [...outs, ...out]];
      }
      return [n, outs];
    }
    return [
      { ..._enter(n, "failed", e.at), plan: [], switchFrom: undefined, foldedBind: undefined },
      outs,
    ];
  }
  if (n.phase === "attached") {
    if (p.op === "renew" && n.lease !== undefined) {
      const left = n.lease.expiresAt - e.at;
      n = { ...n, renewAt: e.at + Math.max(1000, left / 2) };
    }
    return [n, [_notice(s, e.at, "warn", what)]];
  }
  return [_enter(n, "failed", e.at), [_notice(s, e.at, "warn", what)]];
}

/**
 * The result of a proactive binding update folded into the switch: it is the
 * switch's binding when it bound the single new CoA; otherwise (failed, or bound
 * several CoAs) the bind step binds the new CoA after the switch.
 */
function _onFolded(s: Session, e: SessionResult, ctx: SessionContext): Step {
  if (e.kind !== "bind-ok" && e.kind !== "op-failed") {
    return _ignore(s, e.at, `${e.kind} for the folded binding update`);
  }
  const waiting = s.pending?.seq === e.seq;
  let n: Session = {
    ..._record(s, "bind", e.at, e.kind === "bind-ok"),
    pending: waiting ? undefined : s.pending,
    foldedBind: undefined,
  };
  const outs: SessionOutput[] = [];
  let usable = false;
  if (e.kind === "bind-ok") {
    n = _membership(n, e.result.bound, e.result.lifetimeMs, e.at);
    const mine = n.address?.address;
    usable = mine !== undefined && e.result.bound.length === 1 && e.result.bound[0] === mine;
    outs.push(
      _notice(
        s,
        e.at,
        "info",
        usable
          ? `Proactive binding update completed during the switch: ${mine} bound, used as the switch's binding`
          : `Proactive binding update completed during the switch: bound ${
            e.result.bound.join(", ")
          }, binding ${mine ?? "?"} alone after the switch`,
      ),
    );
    if (usable) {
      n = { ...n, foldedBind: { seq: e.seq, since: s.foldedBind!.since, state: "bound" } };
    }
  } else {
    n = {
      ...n,
      lastError: { op: "bind", phase: s.phase, code: e.code, message: e.message, at: e.at },
    };
    outs.push(
      _notice(
        s,
        e.at,
        "warn",
        `Proactive binding update failed during the switch (${e.code}): ${e.message}: binding after the switch`,
      ),
    );
  }
  if (!waiting) return [n, outs];
  const [after, more] = usable
    ? _nextStep({ ...n, plan: n.plan.slice(1) }, e.at, ctx)
    : _emit(n, "bind", e.at, ctx, false);
  return [after, [...outs, ...more]];
}

/** A result for a call no longer awaited: give back what it brought. */
function _stale(s: Session, e: SessionResult): Step {
  switch (e.kind) {
    case "preauth-ok":
      if (s.sa?.sessionId === e.sa.sessionId) return [s, _NONE];
      return [s, [_forget(s, e.sa)]];
    case "lease-ok":
      if (s.lease?.nCoA === e.lease.nCoA && s.lease.ctn === e.lease.ctn) return [s, _NONE];
      return [s, [{ kind: "release-lease", ctn: s.ctn, seq: 0, lease: e.lease }]];
    case "tunnel-ok":
      if (s.tunnel?.id === e.tunnel.id) return [s, _NONE];
      return [s, [{ kind: "close-tunnel", ctn: s.ctn, seq: 0, tunnel: e.tunnel }]];
    case "renewed":
      if (s.lease?.nCoA === e.lease.nCoA && s.phase !== "released") {
        return [{ ...s, lease: e.lease }, _NONE];
      }
      return [s, _NONE];
    case "bind-ok":
      return [_membership(s, e.result.bound, e.result.lifetimeMs, e.at), _NONE];
    case "op-failed":
      if (e.code === "aborted") return [s, _NONE];
      return [s, [
        _notice(s, e.at, "warn", `Late or background ${e.op} failed (${e.code}): ${e.message}`),
      ]];
    default:
      return [s, _NONE];
  }
}

// ---------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------

function _continue(s: Session, at: number, ctx: SessionContext): Step {
  if (s.phase === "switching") return _nextStep({ ...s, plan: s.plan.slice(1) }, at, ctx);
  if (s.phase === "attached") return [s, _NONE];
  return _advance(s, at, ctx);
}

/** Starts the next operation towards the goal, or settles in the phase reached. */
function _advance(s: Session, at: number, ctx: SessionContext): Step {
  if (s.pending !== undefined || s.waiting !== undefined) return [s, _NONE];
  if (
    s.phase === "attached" || s.phase === "switching" || s.phase === "retained" ||
    s.phase === "released" || s.phase === "failed"
  ) return [s, _NONE];
  const goal = s.goal === undefined ? -1 : _GOALS.indexOf(s.goal);
  if (goal < 0) return [_enter(s, _resting(s), at), _NONE];
  if (s.sa === undefined && !s.native) {
    if (!ctx.slots.preauth && !holdsPreauth(s)) return _wait(s, "preauth", at);
    if (s.info === undefined) return _emit(s, "discover", at, ctx, false);
    return _emit(_enter(s, "pre-authenticating", at), "preauth", at, ctx, false);
  }
  if (goal < 1) return [_enter(s, _resting(s), at), _NONE];
  if (s.address === undefined) {
    if (!ctx.slots.configure && !holdsConfiguration(s)) return _wait(s, "configure", at);
    if (s.info === undefined) return _emit(s, "discover", at, ctx, false);
    return _emit(_enter(s, "pre-configuring", at), "acquire", at, ctx, false);
  }
  if (s.tunnel === undefined) {
    if (!ctx.slots.configure && !holdsConfiguration(s)) return _wait(s, "configure", at);
    if (s.info === undefined) return _emit(s, "discover", at, ctx, false);
    if (ctx.oCoA === undefined) {
      return [_enter(s, "failed", at), [
        _notice(s, at, "warn", "No current CoA: cannot open a tunnel"),
      ]];
    }
    return _emit(_enter(s, "pre-configuring", at), "tunnel", at, ctx, false);
  }
  if (goal < 2 || s.binding !== undefined) return [_enter(s, _resting(s), at), _NONE];
  return _emit(_enter(s, "tunnelled", at), "bind", at, ctx, false);
}

/** Runs the next applicable step of the switch sequence, or completes it. */
function _nextStep(s: Session, at: number, ctx: SessionContext): Step {
  let plan = s.plan;
  while (plan.length > 0) {
    const op = plan[0]!;
    const f = s.foldedBind;
    if (op === "bind" && f !== undefined) {
      if (f.state === "bound") {
        plan = plan.slice(1);
        continue;
      }
      // The proactive binding update is still in flight: its result is this step's.
      return [{ ...s, plan, pending: { op: "bind", seq: f.seq, since: f.since } }, [
        _notice(s, at, "info", "Waiting for the proactive binding update in flight"),
      ]];
    }
    const applicable = op === "buffer"
      ? s.tunnel !== undefined
      : op === "close-tunnel"
      ? s.tunnel !== undefined
      : op === "flush"
      ? s.buffered !== undefined
      : op === "discover"
      ? s.info === undefined
      : op === "preauth"
      ? s.sa === undefined && !s.native
      : op === "acquire"
      ? s.address === undefined
      : op === "renew"
      ? s.lease !== undefined
      : true;
    if (applicable) return _emit({ ...s, plan }, op, at, ctx, false);
    plan = plan.slice(1);
  }
  const n: Session = {
    ..._enter(s, "attached", at),
    plan: [],
    goal: undefined,
    switchFrom: undefined,
    resumePhase: undefined,
    foldedBind: undefined,
    renewAt: s.lease === undefined ? undefined : _renewAt(s.lease),
  };
  return [n, [
    _notice(s, at, "info", `Attached to ${s.poa ?? "?"} with ${s.address?.address ?? "?"}`),
    { kind: "attached", ctn: s.ctn, at },
  ]];
}

/** Issues the command for `op` and waits for it. */
function _emit(
  s: Session,
  op: MpaOperation,
  at: number,
  ctx: SessionContext,
  retry: boolean,
): Step {
  const seq = s.seq + 1;
  const prev = s.operations[op];
  const record: OperationRecord = {
    start: at,
    end: undefined,
    ok: undefined,
    attempts: retry && prev !== undefined ? prev.attempts + 1 : 1,
  };
  const n: Session = {
    ...s,
    seq,
    pending: { op, seq, since: at },
    operations: { ...s.operations, [op]: record },
  };
  return [n, [_command(n, op, seq, ctx)]];
}

function _command(s: Session, op: MpaOperation, seq: number, ctx: SessionContext): MpaCommand {
  const ctn = s.ctn;
  switch (op) {
    case "discover":
      return { kind: "discover", ctn, seq };
    case "preauth":
      return {
        kind: "preauthenticate",
        ctn,
        seq,
        info: s.info!,
        reactive: s.phase === "switching",
      };
    case "acquire":
      return { kind: "acquire", ctn, seq, info: s.info!, sa: s.sa! };
    case "tunnel":
      return {
        kind: "open-tunnel",
        ctn,
        seq,
        sa: s.sa!,
        endpoints: { oCoA: ctx.oCoA!, nCoA: s.address!.address, ar: s.info!.ar },
      };
    case "bind":
      return {
        kind: "bind",
        ctn,
        seq,
        coas: [s.address!.address],
        tunnel: s.phase === "switching" ? undefined : s.tunnel,
        lifetimeMs: undefined,
      };
    case "buffer":
      return { kind: "buffer", ctn, seq, tunnel: s.tunnel! };
    case "switch-link":
      return { kind: "switch-link", ctn, seq, poa: s.poa! };
    case "assign":
      return {
        kind: "assign",
        ctn,
        seq,
        address: s.address!.address,
        prefixLength: s.address!.prefixLength,
        ...(s.address!.router === undefined ? {} : { router: s.address!.router }),
      };
    case "close-tunnel":
      return { kind: "close-tunnel", ctn, seq, tunnel: s.tunnel! };
    case "flush":
      return { kind: "flush", ctn, seq, tunnel: s.buffered! };
    case "renew":
      return { kind: "renew", ctn, seq, lease: s.lease! };
    case "release-lease":
      return { kind: "release-lease", ctn, seq, lease: s.lease! };
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function _done(s: Session, op: MpaOperation, at: number, ok: boolean): Session {
  return { ..._record(s, op, at, ok), pending: undefined };
}

/** Records the end of the latest run of `op`. */
function _record(s: Session, op: MpaOperation, at: number, ok: boolean): Session {
  const prev = s.operations[op];
  const record: OperationRecord = {
    start: prev?.start ?? at,
    end: at,
    ok,
    attempts: prev?.attempts ?? 1,
  };
  return { ...s, operations: { ...s.operations, [op]: record } };
}

function _enter(s: Session, phase: SessionPhase, at: number): Session {
  return s.phase === phase ? s : { ...s, phase, since: at };
}

/** The phase a session rests in, from what it holds. */
function _resting(s: Session): SessionPhase {
  if (s.binding !== undefined && s.tunnel !== undefined) return "bound";
  if (s.tunnel !== undefined) return "tunnelled";
  if (s.sa !== undefined || s.native) return "pre-authenticated";
  return "discovered";
}

function _fresh(s: Session, at: number): Session {
  return {
    ...createSession(s.ctn, at, s.info),
    seq: s.seq,
    operations: s.operations,
    lastError: s.lastError,
  };
}

function _wait(s: Session, slot: "preauth" | "configure", at: number): Step {
  return [{ ...s, waiting: { slot, since: at } }, [
    _notice(
      s,
      at,
      "info",
      `Queued: no free ${
        slot === "preauth" ? "pre-authentication" : "configuration"
      } slot (RFC 6252 section C.4)`,
    ),
  ]];
}

function _membership(
  s: Session,
  bound: readonly string[],
  lifetimeMs: number,
  at: number,
): Session {
  const mine = s.address !== undefined && bound.includes(s.address.address);
  let n: Session = { ...s, binding: mine ? { coas: bound, lifetimeMs, at } : undefined };
  if (n.pending === undefined && (n.phase === "tunnelled" || n.phase === "bound")) {
    n = _enter(n, _resting(n), at);
  }
  return n;
}

function _released(s: Session, at: number, outs: readonly SessionOutput[]): Step {
  const more: SessionOutput[] = [..._dropLease(s)];
  if (s.sa !== undefined) more.push(_forget(s, s.sa));
  return [{
    ..._enter(s, "released", at),
    sa: undefined,
    lease: undefined,
    address: undefined,
    tunnel: undefined,
    buffered: undefined,
    binding: undefined,
    goal: undefined,
    pending: undefined,
    foldedBind: undefined,
    plan: [],
    waiting: undefined,
    retainUntil: undefined,
    renewAt: undefined,
  }, [...outs, ...more]];
}

function _dropTunnel(s: Session): readonly MpaCommand[] {
  return s.tunnel === undefined
    ? []
    : [{ kind: "close-tunnel", ctn: s.ctn, seq: 0, tunnel: s.tunnel }];
}

function _dropLease(s: Session): readonly MpaCommand[] {
  return s.lease === undefined
    ? []
    : [{ kind: "release-lease", ctn: s.ctn, seq: 0, lease: s.lease }];
}

function _forget(s: Session, sa: MpaSa): MpaCommand {
  return { kind: "forget-sa", ctn: s.ctn, seq: 0, sa };
}

function _cancel(s: Session): MpaCommand {
  return { kind: "cancel", ctn: s.ctn, seq: s.pending?.seq ?? 0 };
}

function _expired(s: Session, op: MpaOperation, at: number, message: string): SessionError {
  return { op, phase: s.phase, code: "expired", message, at };
}

function _renewAt(lease: Lease): number {
  return lease.obtainedAt + lease.lifetimeMs / 2;
}

function _held(s: Session): string {
  const parts: string[] = [];
  if (s.sa !== undefined) parts.push(`MPA-SA ${s.sa.sessionId}`);
  if (s.address !== undefined) parts.push(s.address.address);
  return parts.length === 0 ? "nothing" : parts.join(", ");
}

function _notice(s: Session, at: number, level: MpaNotice["level"], message: string): MpaNotice {
  return { kind: "notice", ctn: s.ctn, at, level, message };
}

function _ignore(s: Session, at: number, why: string): Step {
  return [s, [_notice(s, at, "warn", `Ignored: ${why}`)]];
}
