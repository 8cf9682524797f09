/**
 * The PANA Client (PaC) state machine, sans I/O: RFC 5191 reduced to what MPA needs
 * (RFC 6252 sections 6.3 step 1 and C.2), after the PaC machine of RFC 5609 section 5:
 *
 * 1. PaC-initiated start (RFC 5191 section 4.1): PANA-Client-Initiation (PCI, session
 *    0, sequence 0), retransmitted on the PCI_* timers until the initial PAR arrives;
 * 2. the initial PAR/PAN, both with the S flag: the PAA offers PRF-Algorithm and
 *    Integrity-Algorithm AVPs, the PaC picks PRF_HMAC_SHA2_256 and
 *    AUTH_HMAC_SHA2_256_128 (the only ones implemented); when the initial PAR carries
 *    an EAP-Payload the PaC piggybacks its EAP response in the initial PAN;
 * 3. PAR/PAN carrying EAP; the first PAR without the S flag carries the PAA's Nonce
 *    AVP, and the PAN answering it the PaC's;
 * 4. the final PAR with the C flag: Result-Code, EAP Success or Failure, Key-Id,
 *    Session-Lifetime and AUTH. The PaC derives PANA_AUTH_KEY from the MSK, I_PAR,
 *    I_PAN, both nonces and the Key-Id (section 5.3), verifies AUTH, and answers a PAN
 *    with the C flag carrying Key-Id and AUTH. It then derives the MN-CA and MN-AR keys
 *    of the MPA-SA from the MSK, the session id and the CTN id (lib/keys/mpa_keys.ts);
 * 5. afterwards every message carries AUTH: re-authorization with the existing key as
 *    a PANA-Notification ping (P flag, section 4.3), answering the PAA's pings, and
 *    termination with PANA-Termination-Request/Answer (section 4.4); the session ends
 *    when its Session-Lifetime elapses.
 *
 * Pre-authentication (RFC 5873): with `preauth` (the default) the E flag is set in the
 * PCI and in every PAN of the authentication phase, and every PAR of that phase must
 * carry it; an initial PAR without it means the PAA does not support pre-authentication
 * and the attempt fails with `protocol`. Notifications and terminations never carry it.
 *
 * Sequence numbers (section 5.1): the PAA's requests must carry the next sequence
 * number; a retransmission of the last request is answered again from the cache
 * (only if byte-identical); anything else is dropped as `out-of-window`. The PaC's own
 * requests (PNR, PTR) start from a random initial sequence number.
 *
 * Abandoning a session ({@linkcode PanaPacMachine.abort}, RFC 6252 section C.6: the MN
 * dropped the phase or switched elsewhere): an open session is terminated with a PTR
 * (Termination-Cause LOGOUT, RFC 5191 section 4.4). During the authentication phase no
 * PANA SA protects a PTR yet (RFC 5191 section 4.4 asks for AUTH on the termination
 * messages of an established session, the PaC state machine of RFC 5609 section 7
 * sends PTR only from OPEN, and the PAA drops a PTR before its session is open), so
 * the PaC stops retransmitting its PCI but keeps answering the PAA for a short
 * deadline: if the PAA completes the session in time, the final PAN is followed at
 * once by a PTR and the keys are wiped, never handed out; otherwise the PaC falls
 * silent and the PAA drops its half-open session when its retransmissions run out or
 * at its authentication deadline (RFC 5191 section 9, RFC 5609 FAILED_SESS_TIMEOUT).
 *
 * What is not implemented: PaC-initiated PAR (the PaC always piggybacks its EAP
 * response on the PAN, since the EAP peer runs in-process), full EAP re-authentication
 * (PNR with the A flag), and algorithms other than the two above.
 *
 * The machine returns commands ({@linkcode PanaPacCommand}) and never touches a socket
 * or a clock: time comes from the injected `now`, randomness from `random`. Events
 * are serialized internally, so the shell may call the methods concurrently.
 *
 * @module
 */
import type { EapPeer, EapPeerStep, RandomBytes } from "../eap/eap_method.ts";
import { ConfigError, ProtocolViolationError } from "../errors.ts";
import { type MpaSaKeyMaterial, mpaSaKeyMaterial } from "../keys/mpa_keys.ts";
import { MSK_MIN_LENGTH, panaAuthKey } from "../keys/pana_keys.ts";
import { importPrfKey } from "../keys/prf_plus.ts";
import {
  decodePana,
  encodePana,
  findAvp,
  findAvps,
  type PanaAvp,
  panaFlags,
  type PanaMessage,
  panaMessageName,
} from "../wire/pana.ts";
import {
  PANA_MAX_MESSAGE_LENGTH,
  PanaMessageType,
  PanaResultCode,
  PanaTerminationCause,
} from "../wire/pana_constants.ts";
import {
  _authDetail,
  _errorText,
  _INTEGRITY,
  _nextSeq,
  _NONCE_LENGTH,
  _NONCE_MAX,
  _NONCE_MIN,
  type _Outstanding,
  _outstanding,
  _positiveOption,
  _PRF,
  _randomU32,
  _retransmit,
  _sameBytes,
  _signPana,
  _verifyPana,
} from "./_pana_util.ts";
import {
  emptyPanaDropCounters,
  type PanaArmCommand,
  type PanaCancelCommand,
  type PanaCloseCause,
  type PanaDropCommand,
  type PanaDropReason,
  type PanaFailureCode,
  type PanaSendCommand,
} from "./pana_command.ts";
import {
  PANA_PCI_RETRANSMISSION,
  PANA_REQUEST_RETRANSMISSION,
  type PanaRetransmission,
  resolveRetransmission,
} from "./retransmission.ts";

/**
 * The PaC's timer ids, for {@linkcode PanaArmCommand} and
 * {@linkcode PanaPacMachine.timeout}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PanaPacTimer.Pci, "pci");
 * ```
 */
export const PanaPacTimer = {
  /** PCI retransmission (RFC 5191 section 9, PCI_* timers). */
  Pci: "pci",
  /** Retransmission of the PaC's PNR or PTR (REQ_* timers). */
  Request: "request",
  /** Deadline of the whole authentication phase (RFC 5609 FAILED_SESS_TIMEOUT). */
  Auth: "auth",
  /** Session-Lifetime (RFC 5191 section 8.8). */
  Lifetime: "lifetime",
} as const;

/** One of the {@linkcode PanaPacTimer} ids. */
export type PanaPacTimer = typeof PanaPacTimer[keyof typeof PanaPacTimer];

/**
 * Default deadline of the authentication phase, ms. RFC 5609 leaves
 * FAILED_SESS_TIMEOUT to the implementation; a pre-authentication that takes longer
 * than this is of no use to a handover (RFC 6252 section C.6).
 */
export const PANA_AUTH_TIMEOUT_MS = 30_000;

/**
 * Default deadline of an abandoned authentication phase, ms: how long a PaC whose
 * pre-authentication was aborted still answers the PAA so that the session can be
 * completed and terminated at once (see {@linkcode PanaPacMachine.abort}). A few round
 * trips of EAP-PSK take milliseconds; a PAA slower than this is left to its own
 * half-open timers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PANA_ABORT_DEADLINE_MS, 2000);
 * ```
 */
export const PANA_ABORT_DEADLINE_MS = 2000;

/** Options of {@linkcode PanaPacMachine.abort}. */
export interface PanaPacAbortOptions {
  /**
   * How long an abandoned authentication phase may still complete, ms, at most the
   * authentication deadline left. Default {@linkcode PANA_ABORT_DEADLINE_MS}.
   */
  readonly deadlineMs?: number;
}

/**
 * Session lifetime assumed when the final PAR carries no Session-Lifetime AVP, and the
 * PAA's default grant, ms (one hour).
 */
export const PANA_DEFAULT_SESSION_LIFETIME_MS = 3_600_000;

/** Options of {@linkcode PanaPacMachine}. */
export interface PanaPacOptions {
  /** The EAP peer of this session (EAP-PSK, or a fake in tests). */
  readonly eap: EapPeer;
  /**
   * The network id of the CTN whose PAA is contacted; it enters the MN-CA and MN-AR
   * key derivation (lib/keys/mpa_keys.ts), so it must equal the PAA's configured CTN
   * id. The PaC is configured with it (from `CtnInfo.network`); PANA does not carry it.
   */
  readonly ctn: string;
  /** The clock, ms (`scheduler.now()`). */
  readonly now: () => number;
  /** The random source: initial sequence numbers, nonces, timer jitter. */
  readonly random: RandomBytes;
  /** Ask for pre-authentication, setting the E flag of RFC 5873. Default true. */
  readonly preauth?: boolean;
  /** Overrides of the PCI schedule (default RFC 5191 section 9 PCI_*). */
  readonly pciRetransmission?: Partial<PanaRetransmission>;
  /** Overrides of the request schedule (default RFC 5191 section 9 REQ_*). */
  readonly requestRetransmission?: Partial<PanaRetransmission>;
  /** Deadline of the authentication phase, ms. Default {@linkcode PANA_AUTH_TIMEOUT_MS}. */
  readonly authTimeoutMs?: number;
  /**
   * Lifetime when the final PAR has no Session-Lifetime AVP, ms. Default
   * {@linkcode PANA_DEFAULT_SESSION_LIFETIME_MS}.
   */
  readonly defaultLifetimeMs?: number;
  /** Largest datagram accepted or built. Default {@linkcode PANA_MAX_MESSAGE_LENGTH}. */
  readonly maxLength?: number;
}

/** How long each phase of one pre-authentication took, ms (for `mpa preauth`). */
export interface PanaPhaseTimings {
  /** From the first PCI sent to the initial PAR received. */
  readonly pciToPar: number;
  /** From the initial PAR received to the final PAR (C flag) received: the EAP run. */
  readonly eap: number;
  /** From the final PAR received to the final PAN sent: key derivation and AUTH. */
  readonly completion: number;
  /** From the first PCI sent to the final PAN sent. */
  readonly total: number;
}

/**
 * The outcome of a successful authentication phase: the PANA SA and the MPA-SA key
 * material. Raw key bytes: keep them inside the process, never log them (log
 * `keyFingerprint` of them).
 */
export interface PanaPacSession {
  /** PANA Session Identifier (RFC 5191 section 6.2). */
  readonly sessionId: number;
  /** Key-Id of the MSK (RFC 5191 section 8.4). */
  readonly keyId: number;
  /** The EAP MSK. */
  readonly msk: Uint8Array;
  /** PANA_AUTH_KEY (RFC 5191 section 5.3), 32 bytes. */
  readonly authKey: Uint8Array;
  /** The MN-CA and MN-AR keys (RFC 6252 section 6.3 step 1). */
  readonly keys: MpaSaKeyMaterial;
  /** The CTN id the keys are bound to. */
  readonly ctn: string;
  /** Whether this is a pre-authentication session (RFC 5873 E flag). */
  readonly preauth: boolean;
  /** When the final PAN was sent, ms. */
  readonly establishedAt: number;
  /** Session-Lifetime granted by the PAA, ms. */
  readonly lifetimeMs: number;
  /** `establishedAt + lifetimeMs`. */
  readonly expiresAt: number;
  /** Phase timings. */
  readonly timings: PanaPhaseTimings;
}

/** What the PaC machine asks its shell to do. */
export type PanaPacCommand =
  | PanaSendCommand
  | PanaArmCommand
  | PanaCancelCommand
  | PanaDropCommand
  /** The authentication phase succeeded. */
  | { readonly kind: "done"; readonly session: PanaPacSession }
  /** The authentication phase failed; the machine is finished. */
  | { readonly kind: "failed"; readonly code: PanaFailureCode; readonly reason: string }
  /** A re-authorization ping was answered with a valid AUTH (RFC 6252 section C.2). */
  | { readonly kind: "reauthorized"; readonly rttMs: number }
  /** The established session ended. */
  | { readonly kind: "closed"; readonly cause: PanaCloseCause };

/** The PaC's states. */
export type PanaPacState =
  /** Not started. */
  | "idle"
  /** PCI sent, waiting for the initial PAR. */
  | "initiating"
  /** In the authentication phase (RFC 5191 section 4.1). */
  | "authenticating"
  /** Authenticated: the PANA SA and the MPA-SA exist (section 4.2 "access phase"). */
  | "open"
  /** PTR sent, waiting for the PTA. */
  | "closing"
  /** The authentication phase failed. */
  | "failed"
  /** The session ended. */
  | "closed";

/** Counters of a {@linkcode PanaPacMachine}. */
export interface PanaPacStats {
  /** Datagrams received. */
  readonly received: number;
  /** Retransmissions sent (PCI, PNR, PTR). */
  readonly retransmissions: number;
  /** Retransmitted requests answered again from the cache. */
  readonly duplicates: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Record<PanaDropReason, number>>;
}

type _EapResult = EapPeerStep | { readonly kind: "error"; readonly reason: string };

interface _LastRequest {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly answer: Uint8Array;
}

/**
 * The PaC state machine (see the module documentation). One instance runs one
 * session.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePana } from "../wire/pana.ts";
 * const pac = new PanaPacMachine({
 *   eap: { handle: () => Promise.resolve({ kind: "discard", reason: "unused" }) },
 *   ctn: "ctn-b",
 *   now: () => 0,
 *   random: (n) => new Uint8Array(n),
 * });
 * const commands = await pac.start();
 * const send = commands.find((c) => c.kind === "send");
 * const pci = decodePana(send!.kind === "send" ? send!.bytes : new Uint8Array());
 * assertEquals([pci.type, pci.sessionId, pci.flags.preauth], [1, 0, true]);
 * assertEquals(commands.filter((c) => c.kind === "arm").map((c) => c.kind === "arm" && c.timer), ["pci", "auth"]);
 * assertEquals(pac.state, "initiating");
 * ```
 */
export class PanaPacMachine {
  readonly #eap: EapPeer;
  readonly #ctn: string;
  readonly #now: () => number;
  readonly #random: RandomBytes;
  readonly #preauth: boolean;
  readonly #pciParams: PanaRetransmission;
  readonly #requestParams: PanaRetransmission;
  readonly #authTimeoutMs: number;
  readonly #defaultLifetimeMs: number;
  readonly #maxLength: number;

  #state: PanaPacState = "idle";
  #queue: Promise<unknown> = Promise.resolve();
  #sessionId: number | undefined;
  #lastRx: _LastRequest | undefined;
  #pci: _Outstanding | undefined;
  #outstanding: _Outstanding | undefined;
  #txSeq: number | undefined;
  #iPar: Uint8Array | undefined;
  #iPan: Uint8Array | undefined;
  #paaNonce: Uint8Array | undefined;
  #pacNonce: Uint8Array | undefined;
  #final: { readonly eap: Uint8Array; readonly step: EapPeerStep } | undefined;
  #authKey: Uint8Array | undefined;
  #startedAt = 0;
  #parAt = 0;
  #abandoned = false;
  readonly #stats = {
    received: 0,
    retransmissions: 0,
    duplicates: 0,
    dropped: emptyPanaDropCounters(),
  };

  /**
   * Creates an idle PaC.
   *
   * @param options EAP peer, CTN id, clock, random source, timers
   * @throws {ConfigError} for an empty CTN id or a bad timer
   */
  constructor(options: PanaPacOptions) {
    if (typeof options.ctn !== "string" || options.ctn.length === 0) {
      throw new ConfigError("ctn", "Invalid CTN id: empty");
    }
    this.#eap = options.eap;
    this.#ctn = options.ctn;
    this.#now = options.now;
    this.#random = options.random;
    this.#preauth = options.preauth ?? true;
    this.#pciParams = resolveRetransmission(
      PANA_PCI_RETRANSMISSION,
      options.pciRetransmission,
      "pciRetransmission",
    );
    this.#requestParams = resolveRetransmission(
      PANA_REQUEST_RETRANSMISSION,
      options.requestRetransmission,
      "requestRetransmission",
    );
    this.#authTimeoutMs = _positiveOption(
      options.authTimeoutMs ?? PANA_AUTH_TIMEOUT_MS,
      "authTimeoutMs",
    );
    this.#defaultLifetimeMs = _positiveOption(
      options.defaultLifetimeMs ?? PANA_DEFAULT_SESSION_LIFETIME_MS,
      "defaultLifetimeMs",
    );
    this.#maxLength = _positiveOption(
      options.maxLength ?? PANA_MAX_MESSAGE_LENGTH,
      "maxLength",
      true,
    );
  }

  /** The current state. */
  get state(): PanaPacState {
    return this.#state;
  }

  /** The PANA Session Identifier, once the initial PAR has assigned it. */
  get sessionId(): number | undefined {
    return this.#sessionId;
  }

  /** Whether {@linkcode PanaPacMachine.abort} abandoned the session. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** A snapshot of the counters. */
  get stats(): PanaPacStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /**
   * Starts the session: sends the PCI (RFC 5191 section 4.1), arms its retransmission
   * and the authentication deadline.
   *
   * @returns the commands
   * @throws {ProtocolViolationError} when already started
   */
  start(): Promise<readonly PanaPacCommand[]> {
    return this.#serial(() => {
      if (this.#state !== "idle") {
        throw new ProtocolViolationError(`Cannot start the PaC: it is ${this.#state}`);
      }
      const bytes = encodePana({
        flags: panaFlags({ preauth: this.#preauth }),
        type: PanaMessageType.ClientInitiation,
        sessionId: 0,
        seq: 0,
        avps: [],
      });
      const now = this.#now();
      this.#startedAt = now;
      this.#pci = _outstanding(
        bytes,
        0,
        PanaMessageType.ClientInitiation,
        "PCI",
        now,
        this.#pciParams,
        this.#random,
      );
      this.#state = "initiating";
      return Promise.resolve([
        { kind: "send", bytes },
        { kind: "arm", timer: PanaPacTimer.Pci, delayMs: this.#pci.rt },
        { kind: "arm", timer: PanaPacTimer.Auth, delayMs: this.#authTimeoutMs },
      ]);
    });
  }

  /**
   * Handles one datagram from the PAA. Never throws: bad input becomes a `drop`
   * command.
   *
   * @param bytes the UDP payload
   * @returns the commands
   */
  receive(bytes: Uint8Array): Promise<readonly PanaPacCommand[]> {
    return this.#serial(() => this.#guard(() => this.#receive(bytes)));
  }

  /**
   * Handles a timer that fired.
   *
   * @param timer the timer id of an earlier `arm` command
   * @returns the commands
   */
  timeout(timer: string): Promise<readonly PanaPacCommand[]> {
    return this.#serial(() => this.#guard(() => Promise.resolve(this.#timeout(timer))));
  }

  /**
   * Re-authorizes with the existing key (RFC 6252 section C.2): sends a
   * PANA-Notification-Request with the P flag and AUTH (RFC 5191 section 4.3); a PNA
   * with a valid AUTH proves that both ends still hold PANA_AUTH_KEY and yields a
   * `reauthorized` command. An unanswered ping closes the session (`timeout`).
   *
   * @returns the commands
   * @throws {ProtocolViolationError} when the session is not open, or a request is
   *   already outstanding
   */
  reauthorize(): Promise<readonly PanaPacCommand[]> {
    return this.#serial(async () => {
      if (this.#state !== "open") {
        throw new ProtocolViolationError(`Cannot re-authorize: the PaC is ${this.#state}`);
      }
      if (this.#outstanding !== undefined) {
        throw new ProtocolViolationError(
          `Cannot re-authorize: ${this.#outstanding.name} is outstanding`,
        );
      }
      return await this.#sendRequest(
        PanaMessageType.Notification,
        "PNR",
        panaFlags({ request: true, ping: true }),
        [],
      );
    });
  }

  /**
   * Ends the session. When open: sends a PANA-Termination-Request with
   * Termination-Cause LOGOUT and AUTH (RFC 5191 section 4.4); the session is `closed`
   * on the PTA or when the PTR goes unanswered. During the authentication phase: stops
   * at once (no key protects a PTR yet). Otherwise nothing.
   *
   * @returns the commands
   */
  terminate(): Promise<readonly PanaPacCommand[]> {
    return this.#serial(async (): Promise<readonly PanaPacCommand[]> => {
      switch (this.#state) {
        case "open":
          this.#state = "closing";
          return await this.#sendPtr();
        case "initiating":
        case "authenticating":
          this.#state = "closed";
          return [
            { kind: "cancel", timer: PanaPacTimer.Pci },
            { kind: "cancel", timer: PanaPacTimer.Auth },
            { kind: "closed", cause: "logout" },
          ];
        default:
          return [];
      }
    });
  }

  /**
   * Abandons the session without leaving state at the PAA (RFC 6252 section C.6: the
   * pre-authentication is no longer wanted). When open: a PTR with Termination-Cause
   * LOGOUT and AUTH, as {@linkcode PanaPacMachine.terminate} (RFC 5191 section 4.4).
   * During the authentication phase, where no PANA SA can protect a PTR yet: the PCI
   * is no longer retransmitted (a PAA that never got it holds nothing), the PAA's
   * requests are still answered until `deadlineMs`, and a session the PAA completes
   * meanwhile is terminated right after the final PAN, its keys wiped and no `done`
   * emitted; past the deadline the machine `failed` with `timeout` and the PAA
   * removes its half-open session by its own timers (RFC 5191 section 9). Not
   * started: `closed` at once. Otherwise nothing.
   *
   * @param options `deadlineMs` of an abandoned authentication phase
   * @returns the commands
   * @throws {ConfigError} for a deadline that is not a positive number
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * const pac = new PanaPacMachine({
   *   eap: { handle: () => Promise.resolve({ kind: "discard", reason: "unused" }) },
   *   ctn: "ctn-b",
   *   now: () => 0,
   *   random: (n) => new Uint8Array(n),
   * });
   * await pac.start();
   * const commands = await pac.abort({ deadlineMs: 500 });
   * assertEquals(commands, [
   *   { kind: "cancel", timer: "pci" },
   *   { kind: "arm", timer: "auth", delayMs: 500 },
   * ]);
   * assertEquals([pac.state, pac.abandoned], ["initiating", true]);
   * ```
   */
  abort(options: PanaPacAbortOptions = {}): Promise<readonly PanaPacCommand[]> {
    const deadlineMs = _positiveOption(
      options.deadlineMs ?? PANA_ABORT_DEADLINE_MS,
      "deadlineMs",
    );
    return this.#serial(async (): Promise<readonly PanaPacCommand[]> => {
      switch (this.#state) {
        case "idle":
          this.#abandoned = true;
          this.#state = "closed";
          return [{ kind: "closed", cause: "logout" }];
        case "initiating":
        case "authenticating": {
          this.#abandoned = true;
          const left = this.#startedAt + this.#authTimeoutMs - this.#now();
          return [
            { kind: "cancel", timer: PanaPacTimer.Pci },
            {
              kind: "arm",
              timer: PanaPacTimer.Auth,
              delayMs: Math.max(0, Math.min(left, deadlineMs)),
            },
          ];
        }
        case "open":
          this.#abandoned = true;
          this.#state = "closing";
          return await this.#sendPtr();
        default:
          return [];
      }
    });
  }

  // -------------------------------------------------------------------------

  /** A PTR with Termination-Cause LOGOUT (RFC 5191 section 4.4). */
  #sendPtr(): Promise<PanaPacCommand[]> {
    return this.#sendRequest(
      PanaMessageType.Termination,
      "PTR",
      panaFlags({ request: true }),
      [{ kind: "terminationCause", value: PanaTerminationCause.Logout }],
    );
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #guard(fn: () => Promise<PanaPacCommand[]>): Promise<readonly PanaPacCommand[]> {
    try {
      return await fn();
    } catch (error) {
      const drop = this.#drop("internal", `Internal error: ${_errorText(error)}`);
      if (this.#state === "initiating" || this.#state === "authenticating") {
        return [drop, ...this.#fail("protocol", `Internal error: ${_errorText(error)}`)];
      }
      return [drop];
    }
  }

  #drop(reason: PanaDropReason, detail: string): PanaDropCommand {
    this.#stats.dropped[reason]++;
    return this.#sessionId === undefined
      ? { kind: "drop", reason, detail }
      : { kind: "drop", reason, detail, sessionId: this.#sessionId };
  }

  #fail(code: PanaFailureCode, reason: string): PanaPacCommand[] {
    this.#state = "failed";
    this.#pci = undefined;
    return [
      { kind: "cancel", timer: PanaPacTimer.Pci },
      { kind: "cancel", timer: PanaPacTimer.Auth },
      { kind: "failed", code, reason },
    ];
  }

  async #eapStep(eap: Uint8Array): Promise<_EapResult> {
    try {
      return await this.#eap.handle(eap);
    } catch (error) {
      return { kind: "error", reason: _errorText(error) };
    }
  }

  async #receive(bytes: Uint8Array): Promise<PanaPacCommand[]> {
    this.#stats.received++;
    if (bytes.length > this.#maxLength) {
      return [
        this.#drop(
          "oversized",
          `Oversized PANA datagram: ${bytes.length} bytes, limit ${this.#maxLength}`,
        ),
      ];
    }
    let msg: PanaMessage;
    try {
      msg = decodePana(bytes, { maxLength: this.#maxLength });
    } catch (error) {
      return [this.#drop("malformed", _errorText(error))];
    }
    const name = panaMessageName(msg);
    if (this.#state === "idle") {
      return [this.#drop("unexpected-message", `${name} received before the PaC started`)];
    }
    if (this.#state === "initiating") {
      if (msg.flags.request && msg.type === PanaMessageType.Auth && msg.flags.start) {
        return await this.#onInitialPar(msg, bytes);
      }
      return [
        this.#drop("unexpected-message", `${name} received while waiting for the initial PAR`),
      ];
    }
    if (msg.sessionId !== this.#sessionId) {
      return [
        this.#drop(
          "unknown-session",
          `${name} for session ${msg.sessionId}, this PaC's is ${this.#sessionId}`,
        ),
      ];
    }
    if (msg.flags.request) {
      const window = this.#window(msg, bytes, name);
      if (window !== undefined) return window;
      if (this.#state === "failed" || this.#state === "closed") {
        return [this.#drop("unexpected-message", `${name} received after the session ended`)];
      }
      switch (msg.type) {
        case PanaMessageType.Auth:
          if (this.#state === "authenticating") return await this.#onPar(msg, bytes);
          return [
            this.#drop(
              "unsupported",
              "PAR after the authentication phase: EAP re-authentication is not supported",
            ),
          ];
        case PanaMessageType.Notification:
          return await this.#onPnr(msg, bytes);
        case PanaMessageType.Termination:
          return await this.#onPtr(msg, bytes);
        default:
          return [this.#drop("unexpected-message", `${name} is not a request the PAA sends`)];
      }
    }
    if (msg.type === PanaMessageType.Notification || msg.type === PanaMessageType.Termination) {
      return await this.#onAnswer(msg, bytes, name);
    }
    return [this.#drop("unexpected-message", `${name} is not an answer the PaC expects`)];
  }

  /** Sequence-number window for the PAA's requests (RFC 5191 section 5.1). */
  #window(msg: PanaMessage, bytes: Uint8Array, name: string): PanaPacCommand[] | undefined {
    const last = this.#lastRx;
    if (last === undefined) return undefined;
    if (msg.seq === last.seq) {
      if (_sameBytes(bytes, last.bytes)) {
        this.#stats.duplicates++;
        return [{ kind: "send", bytes: last.answer }];
      }
      return [
        this.#drop(
          "out-of-window",
          `${name} repeats sequence number ${msg.seq} with different content`,
        ),
      ];
    }
    const expected = _nextSeq(last.seq);
    if (msg.seq !== expected) {
      return [
        this.#drop(
          "out-of-window",
          `${name} with sequence number ${msg.seq}, expected ${expected}`,
        ),
      ];
    }
    return undefined;
  }

  /** The initial PAR, S flag (RFC 5191 section 4.1; RFC 5873). */
  async #onInitialPar(msg: PanaMessage, bytes: Uint8Array): Promise<PanaPacCommand[]> {
    if (msg.sessionId === 0) {
      return [this.#drop("unexpected-message", "Initial PAR with Session Identifier 0")];
    }
    if (msg.flags.complete) {
      return [this.#drop("unexpected-message", "Initial PAR with both the S and C flags")];
    }
    if (msg.flags.preauth !== this.#preauth) {
      if (this.#preauth) {
        return this.#fail(
          "protocol",
          "The PAA does not support pre-authentication: initial PAR without the E flag (RFC 5873)",
        );
      }
      return [this.#drop("preauth-flag", "Initial PAR with the E flag answering a plain PCI")];
    }
    const prfs = findAvps(msg, "prfAlgorithm").map((a) => a.value);
    const integrity = findAvps(msg, "integrityAlgorithm").map((a) => a.value);
    if (!prfs.includes(_PRF) || !integrity.includes(_INTEGRITY)) {
      const reason = `No common algorithm: the PAA offers PRF [${prfs.join(", ")}] and integrity [${
        integrity.join(", ")
      }], the PaC needs PRF ${_PRF} and integrity ${_INTEGRITY} (RFC 5191 section 4.1)`;
      return [this.#drop("algorithm", reason), ...this.#fail("protocol", reason)];
    }
    const avps: PanaAvp[] = [
      { kind: "prfAlgorithm", value: _PRF },
      { kind: "integrityAlgorithm", value: _INTEGRITY },
    ];
    const eap = findAvp(msg, "eapPayload");
    if (eap !== undefined) {
      const step = await this.#eapStep(eap.value);
      if (step.kind === "error") return this.#fail("protocol", `EAP peer error: ${step.reason}`);
      if (step.kind === "discard") {
        return [this.#drop("eap-discard", `EAP payload of the initial PAR: ${step.reason}`)];
      }
      if (step.kind === "failure") {
        return this.#fail("rejected", `EAP peer failed: ${step.reason}`);
      }
      if (step.kind !== "response") {
        return [this.#drop("unexpected-message", "EAP Success in the initial PAR")];
      }
      avps.push({ kind: "eapPayload", value: step.eap });
    }
    const pan = encodePana({
      flags: panaFlags({ start: true, preauth: this.#preauth }),
      type: PanaMessageType.Auth,
      sessionId: msg.sessionId,
      seq: msg.seq,
      avps,
    }, { maxLength: this.#maxLength });
    this.#sessionId = msg.sessionId;
    this.#lastRx = { seq: msg.seq, bytes, answer: pan };
    this.#iPar = bytes;
    this.#iPan = pan;
    this.#pci = undefined;
    this.#parAt = this.#now();
    this.#state = "authenticating";
    return [{ kind: "cancel", timer: PanaPacTimer.Pci }, { kind: "send", bytes: pan }];
  }

  /** A PAR of the authentication phase after the initial one (RFC 5191 section 4.1). */
  async #onPar(msg: PanaMessage, bytes: Uint8Array): Promise<PanaPacCommand[]> {
    if (msg.flags.start) {
      return [this.#drop("unexpected-message", "PAR with the S flag after the initial exchange")];
    }
    if (msg.flags.preauth !== this.#preauth) {
      return [
        this.#drop(
          "preauth-flag",
          `PAR ${msg.flags.preauth ? "with" : "without"} the E flag in a ${
            this.#preauth ? "pre-authentication" : "plain"
          } session (RFC 5873)`,
        ),
      ];
    }
    let paaNonce = this.#paaNonce;
    const firstNonce = paaNonce === undefined;
    if (paaNonce === undefined) {
      const nonce = findAvp(msg, "nonce");
      if (nonce === undefined) {
        return [
          this.#drop(
            "unexpected-message",
            "First PAR after the initial one without a Nonce AVP (RFC 5191 section 4.1)",
          ),
        ];
      }
      if (nonce.value.length < _NONCE_MIN || nonce.value.length > _NONCE_MAX) {
        return [
          this.#drop(
            "malformed",
            `Invalid Nonce AVP: ${nonce.value.length} bytes, expected ${_NONCE_MIN} to ${_NONCE_MAX}`,
          ),
        ];
      }
      paaNonce = nonce.value;
    }
    if (msg.flags.complete) return await this.#onFinalPar(msg, bytes, paaNonce, firstNonce);
    const avps: PanaAvp[] = [];
    const pacNonce = firstNonce ? this.#random(_NONCE_LENGTH).slice() : this.#pacNonce;
    if (firstNonce && pacNonce !== undefined) avps.push({ kind: "nonce", value: pacNonce });
    const eap = findAvp(msg, "eapPayload");
    if (eap !== undefined) {
      const step = await this.#eapStep(eap.value);
      switch (step.kind) {
        case "error":
          return this.#fail("protocol", `EAP peer error: ${step.reason}`);
        case "discard":
          return [this.#drop("eap-discard", `EAP payload of PAR ${msg.seq}: ${step.reason}`)];
        case "failure":
          return this.#fail("rejected", `EAP peer failed: ${step.reason}`);
        case "success":
          return [
            this.#drop(
              "unexpected-message",
              "EAP Success in a PAR without the C flag (RFC 5191 section 4.1)",
            ),
          ];
        case "response":
          avps.push({ kind: "eapPayload", value: step.eap });
      }
    }
    const pan = encodePana({
      flags: panaFlags({ preauth: this.#preauth }),
      type: PanaMessageType.Auth,
      sessionId: msg.sessionId,
      seq: msg.seq,
      avps,
    }, { maxLength: this.#maxLength });
    this.#paaNonce = paaNonce;
    this.#pacNonce = pacNonce;
    this.#lastRx = { seq: msg.seq, bytes, answer: pan };
    return [{ kind: "send", bytes: pan }];
  }

  /** The final PAR, C flag (RFC 5191 sections 4.1, 5.3). */
  async #onFinalPar(
    msg: PanaMessage,
    bytes: Uint8Array,
    paaNonce: Uint8Array,
    firstNonce: boolean,
  ): Promise<PanaPacCommand[]> {
    const completeAt = this.#now();
    const result = findAvp(msg, "resultCode");
    if (result === undefined) {
      return [
        this.#drop(
          "unexpected-message",
          "Final PAR without a Result-Code AVP (RFC 5191 section 7.2)",
        ),
      ];
    }
    const eap = findAvp(msg, "eapPayload");
    let step: EapPeerStep | undefined;
    if (eap !== undefined) {
      if (this.#final !== undefined && _sameBytes(this.#final.eap, eap.value)) {
        step = this.#final.step; // the EAP peer already consumed this Success or Failure
      } else {
        const r = await this.#eapStep(eap.value);
        if (r.kind === "error") return this.#fail("protocol", `EAP peer error: ${r.reason}`);
        step = r;
        this.#final = { eap: eap.value, step };
      }
    }
    if (result.value !== PanaResultCode.Success) {
      const pan = encodePana({
        flags: panaFlags({ complete: true, preauth: this.#preauth }),
        type: PanaMessageType.Auth,
        sessionId: msg.sessionId,
        seq: msg.seq,
        avps: [],
      }, { maxLength: this.#maxLength });
      this.#lastRx = { seq: msg.seq, bytes, answer: pan };
      const why = step?.kind === "failure" ? `: ${step.reason}` : "";
      return [
        { kind: "send", bytes: pan },
        ...this.#fail("rejected", `The PAA refused: Result-Code ${result.value}${why}`),
      ];
    }
    if (step === undefined || step.kind !== "success") {
      return [
        this.#drop(
          step?.kind === "discard" ? "eap-discard" : "unexpected-message",
          `Final PAR with PANA_SUCCESS but EAP ${
            step === undefined ? "payload missing" : step.kind
          }`,
        ),
      ];
    }
    const keyId = findAvp(msg, "keyId");
    if (keyId === undefined) {
      return [
        this.#drop(
          "unexpected-message",
          "Final PAR with PANA_SUCCESS but no Key-Id AVP (RFC 5191 section 4.1)",
        ),
      ];
    }
    const pacNonce = this.#pacNonce;
    if (firstNonce || pacNonce === undefined || this.#iPar === undefined || !this.#iPan) {
      return this.#fail("protocol", "Final PAR before the nonce exchange: no PANA_AUTH_KEY");
    }
    if (step.msk.length < MSK_MIN_LENGTH) {
      return this.#fail("protocol", `EAP MSK of ${step.msk.length} bytes, expected at least 64`);
    }
    const sessionId = msg.sessionId;
    // Independent WebCrypto work runs concurrently (each call costs a round trip to
    // WebCrypto's threads), and each key is imported once: the MSK for PANA_AUTH_KEY
    // and the MPA-SA keys, then PANA_AUTH_KEY for the final PAR's AUTH check and the
    // final PAN's AUTH. Nothing is sent nor kept unless the AUTH of the final PAR
    // verifies.
    const mskKey = await importPrfKey(step.msk);
    const [authKey, keys] = await Promise.all([
      panaAuthKey(mskKey, this.#iPar, this.#iPan, pacNonce, paaNonce, keyId.value),
      mpaSaKeyMaterial(mskKey, sessionId, this.#ctn),
    ]);
    const authHmac = await importPrfKey(authKey);
    const [check, pan] = await Promise.all([
      _verifyPana(bytes, authHmac, this.#maxLength),
      _signPana(
        {
          flags: panaFlags({ complete: true, preauth: this.#preauth }),
          type: PanaMessageType.Auth,
          sessionId,
          seq: msg.seq,
          avps: [{ kind: "keyId", value: keyId.value }],
        },
        authHmac,
        this.#maxLength,
      ),
    ]);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, "the final PAR"))];
    this.#lastRx = { seq: msg.seq, bytes, answer: pan };
    this.#authKey = authKey;
    this.#final = undefined;
    if (this.#abandoned) {
      // Nobody wants this session any more: complete it and end it at once, so that
      // the PAA holds nothing (RFC 5191 section 4.4). The keys never leave.
      step.msk.fill(0);
      keys.mnCa.fill(0);
      keys.mnAr.fill(0);
      this.#state = "closing";
      return [
        { kind: "cancel", timer: PanaPacTimer.Auth },
        { kind: "send", bytes: pan },
        ...await this.#sendPtr(),
      ];
    }
    const lifetime = findAvp(msg, "sessionLifetime");
    const lifetimeMs = lifetime === undefined ? this.#defaultLifetimeMs : lifetime.value * 1000;
    const now = this.#now();
    this.#state = "open";
    const session: PanaPacSession = {
      sessionId,
      keyId: keyId.value,
      msk: step.msk,
      authKey,
      keys,
      ctn: this.#ctn,
      preauth: this.#preauth,
      establishedAt: now,
      lifetimeMs,
      expiresAt: now + lifetimeMs,
      timings: {
        pciToPar: this.#parAt - this.#startedAt,
        eap: completeAt - this.#parAt,
        completion: now - completeAt,
        total: now - this.#startedAt,
      },
    };
    return [
      { kind: "cancel", timer: PanaPacTimer.Auth },
      { kind: "send", bytes: pan },
      { kind: "arm", timer: PanaPacTimer.Lifetime, delayMs: lifetimeMs },
      { kind: "done", session },
    ];
  }

  /** A PNR from the PAA: ping (RFC 5191 section 4.3). */
  async #onPnr(msg: PanaMessage, bytes: Uint8Array): Promise<PanaPacCommand[]> {
    const authKey = this.#authKey;
    if (authKey === undefined || (this.#state !== "open" && this.#state !== "closing")) {
      return [this.#drop("unexpected-message", "PNR during the authentication phase")];
    }
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, "PNR"))];
    if (msg.flags.auth || !msg.flags.ping) {
      return [
        this.#drop(
          "unsupported",
          "PNR without the P flag: only pings are supported, not EAP re-authentication",
        ),
      ];
    }
    const pna = await _signPana(
      {
        flags: panaFlags({ ping: true }),
        type: PanaMessageType.Notification,
        sessionId: msg.sessionId,
        seq: msg.seq,
        avps: [],
      },
      authKey,
      this.#maxLength,
    );
    this.#lastRx = { seq: msg.seq, bytes, answer: pna };
    return [{ kind: "send", bytes: pna }];
  }

  /** A PTR from the PAA (RFC 5191 section 4.4). */
  async #onPtr(msg: PanaMessage, bytes: Uint8Array): Promise<PanaPacCommand[]> {
    const authKey = this.#authKey;
    if (authKey === undefined || (this.#state !== "open" && this.#state !== "closing")) {
      return [this.#drop("unexpected-message", "PTR during the authentication phase")];
    }
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, "PTR"))];
    const pta = await _signPana(
      {
        flags: panaFlags(),
        type: PanaMessageType.Termination,
        sessionId: msg.sessionId,
        seq: msg.seq,
        avps: [],
      },
      authKey,
      this.#maxLength,
    );
    this.#lastRx = { seq: msg.seq, bytes, answer: pta };
    this.#outstanding = undefined;
    this.#state = "closed";
    return [
      { kind: "cancel", timer: PanaPacTimer.Request },
      { kind: "cancel", timer: PanaPacTimer.Lifetime },
      { kind: "send", bytes: pta },
      { kind: "closed", cause: "administrative" },
    ];
  }

  /** A PNA or PTA answering the PaC's own request. */
  async #onAnswer(msg: PanaMessage, bytes: Uint8Array, name: string): Promise<PanaPacCommand[]> {
    const o = this.#outstanding;
    const authKey = this.#authKey;
    if (o === undefined || authKey === undefined || msg.seq !== o.seq || msg.type !== o.type) {
      return [
        this.#drop(
          "out-of-window",
          `${name} with sequence number ${msg.seq} answers no outstanding request`,
        ),
      ];
    }
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, name))];
    this.#outstanding = undefined;
    if (msg.type === PanaMessageType.Notification) {
      if (!msg.flags.ping) {
        this.#outstanding = o;
        return [this.#drop("unexpected-message", "PNA without the P flag answering a ping")];
      }
      return [
        { kind: "cancel", timer: PanaPacTimer.Request },
        { kind: "reauthorized", rttMs: this.#now() - o.firstAt },
      ];
    }
    this.#state = "closed";
    return [
      { kind: "cancel", timer: PanaPacTimer.Request },
      { kind: "cancel", timer: PanaPacTimer.Lifetime },
      { kind: "closed", cause: "logout" },
    ];
  }

  async #sendRequest(
    type: number,
    name: string,
    flags: PanaMessage["flags"],
    avps: readonly PanaAvp[],
  ): Promise<PanaPacCommand[]> {
    const authKey = this.#authKey;
    const sessionId = this.#sessionId;
    if (authKey === undefined || sessionId === undefined) {
      throw new ProtocolViolationError(`Cannot send ${name}: no PANA SA`);
    }
    const seq = this.#txSeq === undefined ? _randomU32(this.#random) : _nextSeq(this.#txSeq);
    this.#txSeq = seq;
    const bytes = await _signPana({ flags, type, sessionId, seq, avps }, authKey, this.#maxLength);
    this.#outstanding = _outstanding(
      bytes,
      seq,
      type,
      name,
      this.#now(),
      this.#requestParams,
      this.#random,
    );
    return [
      { kind: "send", bytes },
      { kind: "arm", timer: PanaPacTimer.Request, delayMs: this.#outstanding.rt },
    ];
  }

  #timeout(timer: string): PanaPacCommand[] {
    const now = this.#now();
    switch (timer) {
      case PanaPacTimer.Pci: {
        const pci = this.#pci;
        if (this.#state !== "initiating" || pci === undefined || this.#abandoned) return [];
        if (!_retransmit(pci, now, this.#pciParams, this.#random)) {
          return this.#fail(
            "timeout",
            `No answer from the PAA to ${pci.transmissions} PCIs in ${
              Math.round(now - pci.firstAt)
            } ms`,
          );
        }
        this.#stats.retransmissions++;
        return [
          { kind: "send", bytes: pci.bytes },
          { kind: "arm", timer: PanaPacTimer.Pci, delayMs: pci.rt },
        ];
      }
      case PanaPacTimer.Auth:
        if (this.#abandoned && (this.#state === "initiating" || this.#state === "authenticating")) {
          return this.#fail(
            "timeout",
            `Abandoned authentication phase not completed in time: ${
              this.#sessionId === undefined
                ? "no initial PAR"
                : `session ${this.#sessionId} left to the PAA's timers`
            }`,
          );
        }
        if (this.#state === "initiating") {
          return this.#fail(
            "timeout",
            `No answer from the PAA to ${this.#pci?.transmissions ?? 0} PCIs in ${
              Math.round(now - this.#startedAt)
            } ms`,
          );
        }
        if (this.#state === "authenticating") {
          return this.#fail(
            "timeout",
            `Authentication phase not completed in ${this.#authTimeoutMs} ms`,
          );
        }
        return [];
      case PanaPacTimer.Request: {
        const o = this.#outstanding;
        if (o === undefined) return [];
        if (!_retransmit(o, now, this.#requestParams, this.#random)) {
          const cause: PanaCloseCause = this.#state === "closing" ? "logout" : "timeout";
          this.#outstanding = undefined;
          this.#state = "closed";
          return [
            { kind: "cancel", timer: PanaPacTimer.Lifetime },
            { kind: "closed", cause },
          ];
        }
        this.#stats.retransmissions++;
        return [
          { kind: "send", bytes: o.bytes },
          { kind: "arm", timer: PanaPacTimer.Request, delayMs: o.rt },
        ];
      }
      case PanaPacTimer.Lifetime:
        if (this.#state !== "open" && this.#state !== "closing") return [];
        this.#outstanding = undefined;
        this.#state = "closed";
        return [
          { kind: "cancel", timer: PanaPacTimer.Request },
          { kind: "closed", cause: "expired" },
        ];
      default:
        return [];
    }
  }
}
