/**
 * The PANA Authentication Agent (PAA) state machine, sans I/O, serving many PaCs at
 * once: RFC 5191 reduced to what MPA needs (RFC 6252 sections 6.3 step 1, 8 and
 * C.2), after the PAA machine of RFC 5609 section 6. Per session:
 *
 * 1. a PANA-Client-Initiation creates a session (a random, unused, non-zero Session
 *    Identifier and a random initial sequence number) and one EAP authenticator from
 *    the factory; the initial PAR (S flag) offers PRF_HMAC_SHA2_256 and
 *    AUTH_HMAC_SHA2_256_128 and, with `optimizedInit` (the default), carries the first
 *    EAP Request (RFC 5191 section 4.1; RFC 5609 OPTIMIZED_INIT);
 * 2. the initial PAN (S flag) must choose exactly those algorithms and piggyback the
 *    EAP response; then PARs carry EAP Requests, the first of them the PAA's Nonce,
 *    and the PAN answering it the PaC's;
 * 3. on EAP success the PAA holds the MSK, so the MPA-SA keys (MN-CA and MN-AR keys
 *    from the MSK, the session id and the PAA's CTN id) are derived at once and a
 *    `keys-ready` command is emitted BEFORE the final PAR's `send`: the AA delivers
 *    the keys to the CA and the AR as a result of pre-authentication (RFC 6252
 *    section 6.3 step 1), so they hold them before the MN, which starts its DHCP
 *    exchange as soon as it answers the final PAR, can use them. The final PAR (C
 *    flag) carries Result-Code PANA_SUCCESS, the EAP Success, a fresh Key-Id,
 *    Session-Lifetime and AUTH under PANA_AUTH_KEY (section 5.3); the final PAN must
 *    carry the same Key-Id and a valid AUTH. Only then is the session open and an
 *    `authorized` command emitted, with the same keys. A session that fails after
 *    `keys-ready` (no valid final PAN before the retransmissions or the
 *    authentication deadline run out) ends with `failed`, and the shell must revoke
 *    the delivered keys. On EAP failure the final PAR carries
 *    PANA_AUTHENTICATION_REJECTED and the EAP Failure, and no keys are derived;
 * 4. an open session answers pings (PNR with the P flag and AUTH) with an
 *    authenticated PNA: this is the re-authorization with the existing key of RFC
 *    6252 section C.2 (proof of possession of PANA_AUTH_KEY without a new EAP run),
 *    reported as `reauthorized`; the PaC's address is updated from such a ping, which
 *    is how an MN that moved into the network announces its new address (RFC 5873);
 * 5. PTR/PTA in either direction end the session (section 4.4); so does the
 *    Session-Lifetime, silently (RFC 5609 section 6: session timer expiry).
 *
 * Pre-authentication (RFC 5873): a PCI with the E flag starts a pre-authentication
 * session, and every PAR and PAN of its authentication phase carries the E flag; a
 * PAN whose E flag differs from its session's is dropped. With `acceptPlain` false a
 * PCI without the E flag is dropped (an AA that serves pre-authentication only).
 *
 * Attack handling (RFC 6252 section 8; issue 3 section 6): every datagram that is
 * oversized, malformed, for an unknown session, out of the sequence window, from the
 * wrong source, with a missing or wrong AUTH, or otherwise unexpected is dropped with a
 * `drop` command and a counter, never creating or changing an SA and never throwing.
 * Retransmitted requests are answered again from a cache, only when byte-identical and
 * from the same transport address. Flood control: at most `maxHalfOpenPerSource`
 * half-open (not yet authenticated) sessions per source IP address, `maxHalfOpen` in
 * all, and `maxSessions` sessions of any kind; a half-open session is removed after
 * `authTimeoutMs` or when its retransmissions run out.
 *
 * Events on one session are serialized; different sessions proceed concurrently.
 *
 * @module
 */
import type {
  EapAuthenticator,
  EapAuthenticatorFactory,
  EapAuthStep,
  RandomBytes,
} from "../eap/eap_method.ts";
import { ConfigError } from "../errors.ts";
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
  type PanaPeer,
  type PanaSendToCommand,
} from "./pana_command.ts";
import { PANA_AUTH_TIMEOUT_MS, PANA_DEFAULT_SESSION_LIFETIME_MS } from "./pac.ts";
import {
  PANA_REQUEST_RETRANSMISSION,
  type PanaRetransmission,
  resolveRetransmission,
} from "./retransmission.ts";

/**
 * Default flood-control limits of {@linkcode PanaPaaMachine}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(PANA_PAA_LIMITS.maxHalfOpenPerSource, 8);
 * ```
 */
export const PANA_PAA_LIMITS = {
  /** Half-open sessions per source IP address. */
  maxHalfOpenPerSource: 8,
  /** Half-open sessions in all. */
  maxHalfOpen: 1024,
  /** Sessions of any state. */
  maxSessions: 65_536,
} as const;

/** Options of {@linkcode PanaPaaMachine}. */
export interface PanaPaaOptions {
  /** Creates one EAP authenticator per session (local EAP-PSK, RADIUS pass-through). */
  readonly eap: EapAuthenticatorFactory;
  /** This CTN's network id; it enters the MN-CA and MN-AR key derivation. */
  readonly ctn: string;
  /** The clock, ms (`scheduler.now()`). */
  readonly now: () => number;
  /** The random source: session ids, initial sequence numbers, nonces, timer jitter. */
  readonly random: RandomBytes;
  /** Session-Lifetime granted, ms (sent in whole seconds, rounded up). Default one hour. */
  readonly sessionLifetimeMs?: number;
  /** Overrides of the request schedule (default RFC 5191 section 9 REQ_*). */
  readonly requestRetransmission?: Partial<PanaRetransmission>;
  /** How long a session may stay half-open, ms. Default {@linkcode PANA_AUTH_TIMEOUT_MS}. */
  readonly authTimeoutMs?: number;
  /** Half-open sessions per source IP address. Default 8. */
  readonly maxHalfOpenPerSource?: number;
  /** Half-open sessions in all. Default 1024. */
  readonly maxHalfOpen?: number;
  /** Sessions of any state. Default 65536. */
  readonly maxSessions?: number;
  /** Accept PCIs without the E flag (plain authentication). Default true. */
  readonly acceptPlain?: boolean;
  /** Carry the first EAP Request in the initial PAR (saves a round trip). Default true. */
  readonly optimizedInit?: boolean;
  /** Largest datagram accepted or built. Default {@linkcode PANA_MAX_MESSAGE_LENGTH}. */
  readonly maxLength?: number;
}

/**
 * An MPA-SA the PAA just established (RFC 6252 section 6.3 step 1): what the AA hands
 * to the CA and the AR. The keys are raw bytes: keep them inside the process, never
 * log them.
 */
export interface PanaAuthorizedSa {
  /** PANA Session Identifier. */
  readonly sessionId: number;
  /** This CTN's network id. */
  readonly ctn: string;
  /** The MN's IP address, as the PANA datagrams came from. */
  readonly mnAddress: string;
  /** The MN's UDP port. */
  readonly mnPort: number;
  /** The MN's identity as authenticated by EAP. */
  readonly identity: string;
  /** The MN-CA and MN-AR keys. */
  readonly keys: MpaSaKeyMaterial;
  /** Key-Id of the MSK (RFC 5191 section 8.4). */
  readonly keyId: number;
  /** Whether this is a pre-authentication (RFC 5873 E flag). */
  readonly preauth: boolean;
  /**
   * When the final PAN was verified (`authorized`), or when the keys were derived
   * (`keys-ready`, a round trip earlier), ms.
   */
  readonly establishedAt: number;
  /** Session-Lifetime granted, ms. */
  readonly lifetimeMs: number;
  /**
   * `establishedAt + lifetimeMs`: for `keys-ready` a round trip before the open
   * session's, so delivered keys never outlive the session.
   */
  readonly expiresAt: number;
}

/** What the PAA machine asks its shell to do. */
export type PanaPaaCommand =
  | PanaSendToCommand
  | PanaArmCommand
  | PanaCancelCommand
  | PanaDropCommand
  /**
   * EAP succeeded and the MPA-SA keys are derived; the final PAR is the next command.
   * Deliver the keys to the CA and the AR before executing the commands after this
   * one (RFC 6252 section 6.3 step 1). The session is not open yet: `authorized`
   * follows on a valid final PAN, `failed` otherwise (then revoke the keys). `sa.keys`
   * is the shell's own copy: wipe it once delivered.
   */
  | { readonly kind: "keys-ready"; readonly sa: PanaAuthorizedSa }
  /**
   * A session authenticated (final PAN verified): the session is open. `sa.keys` are
   * the same keys as the earlier `keys-ready`'s, in the shell's own copy.
   */
  | { readonly kind: "authorized"; readonly sa: PanaAuthorizedSa }
  /**
   * A session's authentication phase failed; the session is gone, no SA exists (keys
   * handed out by a `keys-ready` of this session must be revoked).
   */
  | {
    readonly kind: "failed";
    readonly sessionId: number;
    readonly peer: PanaPeer;
    readonly code: PanaFailureCode;
    readonly reason: string;
  }
  /**
   * An open session proved possession of its key with an authenticated ping (RFC 6252
   * section C.2); `moved` when it came from a new address, now the session's.
   */
  | {
    readonly kind: "reauthorized";
    readonly sessionId: number;
    readonly mnAddress: string;
    readonly mnPort: number;
    readonly moved: boolean;
  }
  /** An open session ended; its SA is void. */
  | { readonly kind: "closed"; readonly sessionId: number; readonly cause: PanaCloseCause };

/** The state of one PAA session. */
export type PanaPaaSessionState =
  /** PCI received, EAP authenticator starting. */
  | "starting"
  /** Initial PAR sent. */
  | "wait-initial-pan"
  /** A PAR of the EAP conversation sent. */
  | "wait-pan"
  /** The final PAR sent (success or rejection). */
  | "wait-final-pan"
  /** Authenticated. */
  | "open"
  /** PTR sent. */
  | "closing";

/** What the PAA tells about one session (no keys). */
export interface PanaPaaSessionInfo {
  /** PANA Session Identifier. */
  readonly sessionId: number;
  /** Its state. */
  readonly state: PanaPaaSessionState;
  /** The PaC's current transport address. */
  readonly peer: PanaPeer;
  /** Whether it is a pre-authentication session. */
  readonly preauth: boolean;
  /** The EAP identity, once authenticated. */
  readonly identity?: string;
  /** When it expires, once open, ms. */
  readonly expiresAt?: number;
}

/** Counters of a {@linkcode PanaPaaMachine}. */
export interface PanaPaaStats {
  /** Datagrams received. */
  readonly received: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Record<PanaDropReason, number>>;
  /** Retransmitted requests (and PCIs) answered again from the cache. */
  readonly duplicates: number;
  /** Retransmissions sent. */
  readonly retransmissions: number;
  /** Sessions now held, any state. */
  readonly sessions: number;
  /** Sessions now half-open (not yet authenticated). */
  readonly halfOpen: number;
  /** Sessions created since start. */
  readonly started: number;
  /** Sessions whose MPA-SA keys were derived and handed out before the final PAR. */
  readonly keysReady: number;
  /** Sessions authenticated since start (SAs created). */
  readonly authorized: number;
  /** Authentication phases ended by an EAP failure. */
  readonly rejected: number;
  /** Authentication phases ended by a timeout or a protocol error. */
  readonly failed: number;
  /** Authenticated pings answered (re-authorizations). */
  readonly reauthorized: number;
  /** Open sessions ended by PTR/PTA, either side. */
  readonly terminated: number;
  /** Open sessions ended by their lifetime. */
  readonly expired: number;
}

interface _LastRequest {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly answer: Uint8Array;
  readonly from: PanaPeer;
}

interface _Session {
  readonly id: number;
  readonly initKey: string;
  readonly source: string;
  readonly preauth: boolean;
  readonly eap: EapAuthenticator;
  peer: PanaPeer;
  state: PanaPaaSessionState | "gone";
  halfOpen: boolean;
  queue: Promise<unknown>;
  txSeq: number;
  outstanding: _Outstanding | undefined;
  lastRx: _LastRequest | undefined;
  sentEapInInitial: boolean;
  firstEap: Uint8Array | undefined;
  iPar: Uint8Array | undefined;
  iPan: Uint8Array | undefined;
  paaNonce: Uint8Array | undefined;
  nonceSeq: number | undefined;
  pacNonce: Uint8Array | undefined;
  msk: Uint8Array | undefined;
  /** The MPA-SA keys, from the final PAR until `authorized` (or wiped on removal). */
  mpaKeys: MpaSaKeyMaterial | undefined;
  identity: string | undefined;
  successEap: Uint8Array | undefined;
  rejected: string | undefined;
  keyId: number | undefined;
  authKey: Uint8Array | undefined;
  lifetimeMs: number;
  expiresAt: number | undefined;
}

type _EapResult = EapAuthStep | { readonly kind: "error"; readonly reason: string };

const _RTX = "rtx";
const _AUTH = "auth";
const _LIFE = "life";

function _timer(kind: string, sessionId: number): string {
  return `${kind}:${sessionId}`;
}

function _samePeer(a: PanaPeer, b: PanaPeer): boolean {
  return a.address === b.address && a.port === b.port;
}

function _label(p: PanaPeer): string {
  return p.address.includes(":") ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/**
 * The PAA state machine (see the module documentation).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { decodePana, encodePana, panaFlags } from "../wire/pana.ts";
 * const paa = new PanaPaaMachine({
 *   eap: {
 *     create: () => ({
 *       start: () => Promise.resolve({ kind: "request", eap: new Uint8Array([1, 1, 0, 5, 1]) }),
 *       handle: () => Promise.resolve({ kind: "discard", reason: "unused" }),
 *     }),
 *   },
 *   ctn: "ctn-b",
 *   now: () => 0,
 *   random: (n) => new Uint8Array(n).fill(7),
 * });
 * const pci = encodePana({ flags: panaFlags({ preauth: true }), type: 1, sessionId: 0, seq: 0, avps: [] });
 * const commands = await paa.receive(pci, { address: "192.0.2.10", port: 40000 });
 * const send = commands.find((c) => c.kind === "send");
 * const par = decodePana(send!.kind === "send" ? send!.bytes : new Uint8Array());
 * assertEquals([par.flags.request, par.flags.start, par.flags.preauth], [true, true, true]);
 * assertEquals(paa.stats.halfOpen, 1);
 * ```
 */
export class PanaPaaMachine {
  readonly #factory: EapAuthenticatorFactory;
  readonly #ctn: string;
  readonly #now: () => number;
  readonly #random: RandomBytes;
  readonly #lifetimeSeconds: number;
  readonly #params: PanaRetransmission;
  readonly #authTimeoutMs: number;
  readonly #maxPerSource: number;
  readonly #maxHalfOpen: number;
  readonly #maxSessions: number;
  readonly #acceptPlain: boolean;
  readonly #optimizedInit: boolean;
  readonly #maxLength: number;

  readonly #sessions = new Map<number, _Session>();
  /** Sessions waiting for their initial PAN, by PaC transport address (PCI retransmissions). */
  readonly #initiating = new Map<string, _Session>();
  readonly #halfOpenBySource = new Map<string, number>();
  #halfOpen = 0;
  #nextKeyId = 1;
  readonly #stats = {
    received: 0,
    dropped: emptyPanaDropCounters(),
    duplicates: 0,
    retransmissions: 0,
    started: 0,
    keysReady: 0,
    authorized: 0,
    rejected: 0,
    failed: 0,
    reauthorized: 0,
    terminated: 0,
    expired: 0,
  };

  /**
   * Creates a PAA with no sessions.
   *
   * @param options EAP factory, CTN id, clock, random source, lifetime, timers, limits
   * @throws {ConfigError} for an empty CTN id, a bad timer or limit
   */
  constructor(options: PanaPaaOptions) {
    if (typeof options.ctn !== "string" || options.ctn.length === 0) {
      throw new ConfigError("ctn", "Invalid CTN id: empty");
    }
    this.#factory = options.eap;
    this.#ctn = options.ctn;
    this.#now = options.now;
    this.#random = options.random;
    const lifetimeMs = _positiveOption(
      options.sessionLifetimeMs ?? PANA_DEFAULT_SESSION_LIFETIME_MS,
      "sessionLifetimeMs",
    );
    this.#lifetimeSeconds = Math.min(0xffffffff, Math.ceil(lifetimeMs / 1000));
    this.#params = resolveRetransmission(
      PANA_REQUEST_RETRANSMISSION,
      options.requestRetransmission,
      "requestRetransmission",
    );
    this.#authTimeoutMs = _positiveOption(
      options.authTimeoutMs ?? PANA_AUTH_TIMEOUT_MS,
      "authTimeoutMs",
    );
    this.#maxPerSource = _positiveOption(
      options.maxHalfOpenPerSource ?? PANA_PAA_LIMITS.maxHalfOpenPerSource,
      "maxHalfOpenPerSource",
      true,
    );
    this.#maxHalfOpen = _positiveOption(
      options.maxHalfOpen ?? PANA_PAA_LIMITS.maxHalfOpen,
      "maxHalfOpen",
      true,
    );
    this.#maxSessions = _positiveOption(
      options.maxSessions ?? PANA_PAA_LIMITS.maxSessions,
      "maxSessions",
      true,
    );
    this.#acceptPlain = options.acceptPlain ?? true;
    this.#optimizedInit = options.optimizedInit ?? true;
    this.#maxLength = _positiveOption(
      options.maxLength ?? PANA_MAX_MESSAGE_LENGTH,
      "maxLength",
      true,
    );
  }

  /** A snapshot of the counters. */
  get stats(): PanaPaaStats {
    return {
      ...this.#stats,
      dropped: { ...this.#stats.dropped },
      sessions: this.#sessions.size,
      halfOpen: this.#halfOpen,
    };
  }

  /**
   * Describes one session, without keys.
   *
   * @param sessionId the PANA Session Identifier
   * @returns its state, peer and identity, or undefined when unknown
   */
  session(sessionId: number): PanaPaaSessionInfo | undefined {
    const s = this.#sessions.get(sessionId);
    if (s === undefined || s.state === "gone") return undefined;
    return {
      sessionId: s.id,
      state: s.state,
      peer: s.peer,
      preauth: s.preauth,
      ...(s.identity === undefined ? {} : { identity: s.identity }),
      ...(s.expiresAt === undefined ? {} : { expiresAt: s.expiresAt }),
    };
  }

  /**
   * Handles one datagram. Never throws: bad input becomes a `drop` command.
   *
   * @param bytes the UDP payload
   * @param from the sender's transport address
   * @returns the commands
   */
  receive(bytes: Uint8Array, from: PanaPeer): Promise<readonly PanaPaaCommand[]> {
    this.#stats.received++;
    if (bytes.length > this.#maxLength) {
      return Promise.resolve([
        this.#drop(
          "oversized",
          `Oversized PANA datagram from ${
            _label(from)
          }: ${bytes.length} bytes, limit ${this.#maxLength}`,
        ),
      ]);
    }
    let msg: PanaMessage;
    try {
      msg = decodePana(bytes, { maxLength: this.#maxLength });
    } catch (error) {
      return Promise.resolve([
        this.#drop("malformed", `From ${_label(from)}: ${_errorText(error)}`),
      ]);
    }
    if (msg.type === PanaMessageType.ClientInitiation) return this.#onPci(msg, from);
    if (msg.type === PanaMessageType.Relay) {
      return Promise.resolve([this.#drop("unsupported", "PANA-Relay (RFC 6345) is not supported")]);
    }
    const s = this.#sessions.get(msg.sessionId);
    if (s === undefined) {
      return Promise.resolve([
        this.#drop(
          "unknown-session",
          `${panaMessageName(msg)} from ${_label(from)} for unknown session ${msg.sessionId}`,
        ),
      ]);
    }
    return this.#serial(s, () => this.#onMessage(s, msg, bytes, from));
  }

  /**
   * Handles a timer that fired.
   *
   * @param timer the timer id of an earlier `arm` command
   * @returns the commands
   */
  timeout(timer: string): Promise<readonly PanaPaaCommand[]> {
    const colon = timer.indexOf(":");
    const kind = timer.slice(0, colon);
    const s = this.#sessions.get(Number(timer.slice(colon + 1)));
    if (colon < 0 || s === undefined) return Promise.resolve([]);
    return this.#serial(s, () => Promise.resolve(this.#timeout(s, kind)));
  }

  /**
   * Ends a session: an open one with a PTR carrying Termination-Cause ADMINISTRATIVE
   * and AUTH (RFC 5191 section 4.4), `closed` on the PTA or when unanswered; a
   * half-open one at once.
   *
   * @param sessionId the PANA Session Identifier
   * @returns the commands; none for an unknown session
   */
  terminate(sessionId: number): Promise<readonly PanaPaaCommand[]> {
    const s = this.#sessions.get(sessionId);
    if (s === undefined) return Promise.resolve([]);
    return this.#serial(s, async (): Promise<PanaPaaCommand[]> => {
      if (s.state === "gone" || s.state === "closing") return [];
      if (s.state === "open" && s.authKey !== undefined) {
        s.state = "closing";
        const seq = _nextSeq(s.txSeq);
        s.txSeq = seq;
        const bytes = await _signPana(
          {
            flags: panaFlags({ request: true }),
            type: PanaMessageType.Termination,
            sessionId: s.id,
            seq,
            avps: [{ kind: "terminationCause", value: PanaTerminationCause.Administrative }],
          },
          s.authKey,
          this.#maxLength,
        );
        return this.#sendRequest(s, bytes, seq, PanaMessageType.Termination, "PTR");
      }
      this.#stats.terminated++;
      return [...this.#remove(s), { kind: "closed", sessionId: s.id, cause: "administrative" }];
    });
  }

  // -------------------------------------------------------------------------

  #serial(s: _Session, fn: () => Promise<PanaPaaCommand[]>): Promise<readonly PanaPaaCommand[]> {
    const guarded = async (): Promise<readonly PanaPaaCommand[]> => {
      try {
        return await fn();
      } catch (error) {
        const drop = this.#drop("internal", `Internal error: ${_errorText(error)}`, s.id);
        if (s.state === "gone") return [drop];
        if (s.halfOpen) return [drop, ...this.#fail(s, "protocol", _errorText(error))];
        return [drop];
      }
    };
    const run = s.queue.then(guarded, guarded);
    s.queue = run.catch(() => {});
    return run;
  }

  #drop(reason: PanaDropReason, detail: string, sessionId?: number): PanaDropCommand {
    this.#stats.dropped[reason]++;
    return sessionId === undefined
      ? { kind: "drop", reason, detail }
      : { kind: "drop", reason, detail, sessionId };
  }

  /** Removes a session and disarms its timers. */
  #remove(s: _Session): PanaPaaCommand[] {
    s.state = "gone";
    s.outstanding = undefined;
    s.msk = undefined;
    if (s.mpaKeys !== undefined) {
      // Never handed over: the `keys-ready` command carried a copy.
      s.mpaKeys.mnCa.fill(0);
      s.mpaKeys.mnAr.fill(0);
      s.mpaKeys = undefined;
    }
    this.#sessions.delete(s.id);
    if (this.#initiating.get(s.initKey) === s) this.#initiating.delete(s.initKey);
    this.#leaveHalfOpen(s);
    return [
      { kind: "cancel", timer: _timer(_RTX, s.id) },
      { kind: "cancel", timer: _timer(_AUTH, s.id) },
      { kind: "cancel", timer: _timer(_LIFE, s.id) },
    ];
  }

  #leaveHalfOpen(s: _Session): void {
    if (!s.halfOpen) return;
    s.halfOpen = false;
    this.#halfOpen--;
    const n = (this.#halfOpenBySource.get(s.source) ?? 1) - 1;
    if (n <= 0) this.#halfOpenBySource.delete(s.source);
    else this.#halfOpenBySource.set(s.source, n);
  }

  #fail(s: _Session, code: PanaFailureCode, reason: string): PanaPaaCommand[] {
    if (code === "rejected") this.#stats.rejected++;
    else this.#stats.failed++;
    const peer = s.peer;
    return [...this.#remove(s), { kind: "failed", sessionId: s.id, peer, code, reason }];
  }

  #sendRequest(
    s: _Session,
    bytes: Uint8Array,
    seq: number,
    type: number,
    name: string,
  ): PanaPaaCommand[] {
    s.outstanding = _outstanding(bytes, seq, type, name, this.#now(), this.#params, this.#random);
    return [
      { kind: "send", bytes, to: s.peer },
      { kind: "arm", timer: _timer(_RTX, s.id), delayMs: s.outstanding.rt },
    ];
  }

  async #eapHandle(s: _Session, eap: Uint8Array): Promise<_EapResult> {
    try {
      return await s.eap.handle(eap);
    } catch (error) {
      return { kind: "error", reason: _errorText(error) };
    }
  }

  #newSessionId(): number | undefined {
    for (let i = 0; i < 16; i++) {
      const id = _randomU32(this.#random);
      if (id !== 0 && !this.#sessions.has(id)) return id;
    }
    return undefined;
  }

  /** A PANA-Client-Initiation (RFC 5191 sections 4.1, 7.1; RFC 5873). */
  #onPci(msg: PanaMessage, from: PanaPeer): Promise<readonly PanaPaaCommand[]> {
    const drop = (reason: PanaDropReason, detail: string) =>
      Promise.resolve([this.#drop(reason, detail)]);
    if (msg.flags.request) return drop("unexpected-message", "PCI with the R flag");
    if (msg.sessionId !== 0 || msg.seq !== 0) {
      return drop(
        "unexpected-message",
        "PCI with a non-zero Session Identifier or Sequence Number (RFC 5191 section 7.1)",
      );
    }
    if (!msg.flags.preauth && !this.#acceptPlain) {
      return drop(
        "preauth-flag",
        `PCI without the E flag from ${_label(from)}: pre-authentication only (RFC 5873)`,
      );
    }
    const initKey = `${from.address}|${from.port}`;
    const existing = this.#initiating.get(initKey);
    if (existing !== undefined && existing.preauth === msg.flags.preauth) {
      // A retransmitted PCI: the initial PAR went missing; send it again.
      return this.#serial(existing, () => {
        this.#stats.duplicates++;
        const iPar = existing.iPar;
        if (existing.state !== "wait-initial-pan" || iPar === undefined) return Promise.resolve([]);
        return Promise.resolve([{ kind: "send", bytes: iPar, to: existing.peer }]);
      });
    }
    const perSource = this.#halfOpenBySource.get(from.address) ?? 0;
    if (perSource >= this.#maxPerSource) {
      return drop(
        "flood-source",
        `PCI from ${_label(from)}: ${perSource} half-open sessions from this address already`,
      );
    }
    if (this.#halfOpen >= this.#maxHalfOpen) {
      return drop("flood-global", `PCI from ${_label(from)}: ${this.#halfOpen} half-open sessions`);
    }
    const id = this.#sessions.size >= this.#maxSessions ? undefined : this.#newSessionId();
    if (id === undefined) {
      return drop("capacity", `PCI from ${_label(from)}: ${this.#sessions.size} sessions held`);
    }
    let eap: EapAuthenticator;
    try {
      eap = this.#factory.create({ sessionId: id, peer: _label(from) });
    } catch (error) {
      return drop("eap-error", `Cannot create an EAP authenticator: ${_errorText(error)}`);
    }
    const s: _Session = {
      id,
      initKey,
      source: from.address,
      preauth: msg.flags.preauth,
      eap,
      peer: { address: from.address, port: from.port },
      state: "starting",
      halfOpen: true,
      queue: Promise.resolve(),
      txSeq: 0,
      outstanding: undefined,
      lastRx: undefined,
      sentEapInInitial: false,
      firstEap: undefined,
      iPar: undefined,
      iPan: undefined,
      paaNonce: undefined,
      nonceSeq: undefined,
      pacNonce: undefined,
      msk: undefined,
      mpaKeys: undefined,
      identity: undefined,
      successEap: undefined,
      rejected: undefined,
      keyId: undefined,
      authKey: undefined,
      lifetimeMs: this.#lifetimeSeconds * 1000,
      expiresAt: undefined,
    };
    this.#sessions.set(id, s);
    this.#initiating.set(initKey, s);
    this.#halfOpen++;
    this.#halfOpenBySource.set(from.address, perSource + 1);
    this.#stats.started++;
    return this.#serial(s, () => this.#start(s));
  }

  /** Starts EAP and sends the initial PAR (RFC 5191 section 4.1). */
  async #start(s: _Session): Promise<PanaPaaCommand[]> {
    let step: EapAuthStep;
    try {
      step = await s.eap.start();
    } catch (error) {
      const reason = `EAP authenticator failed to start: ${_errorText(error)}`;
      return [this.#drop("eap-error", reason, s.id), ...this.#fail(s, "protocol", reason)];
    }
    if (s.state === "gone") return [];
    if (step.kind !== "request") {
      return this.#fail(s, "protocol", `EAP authenticator started with ${step.kind}`);
    }
    const avps: PanaAvp[] = [
      { kind: "prfAlgorithm", value: _PRF },
      { kind: "integrityAlgorithm", value: _INTEGRITY },
    ];
    if (this.#optimizedInit) avps.push({ kind: "eapPayload", value: step.eap });
    else s.firstEap = step.eap;
    s.sentEapInInitial = this.#optimizedInit;
    const seq = _randomU32(this.#random);
    s.txSeq = seq;
    const par = encodePana({
      flags: panaFlags({ request: true, start: true, preauth: s.preauth }),
      type: PanaMessageType.Auth,
      sessionId: s.id,
      seq,
      avps,
    }, { maxLength: this.#maxLength });
    s.iPar = par;
    s.state = "wait-initial-pan";
    return [
      ...this.#sendRequest(s, par, seq, PanaMessageType.Auth, "initial PAR"),
      { kind: "arm", timer: _timer(_AUTH, s.id), delayMs: this.#authTimeoutMs },
    ];
  }

  async #onMessage(
    s: _Session,
    msg: PanaMessage,
    bytes: Uint8Array,
    from: PanaPeer,
  ): Promise<PanaPaaCommand[]> {
    const name = panaMessageName(msg);
    if (s.state === "gone") {
      return [this.#drop("unknown-session", `${name} for closed session ${s.id}`)];
    }
    if (msg.flags.request) {
      const last = s.lastRx;
      if (last !== undefined && msg.seq === last.seq) {
        if (_sameBytes(bytes, last.bytes) && _samePeer(from, last.from)) {
          this.#stats.duplicates++;
          return [{ kind: "send", bytes: last.answer, to: from }];
        }
        return [
          this.#drop(
            "out-of-window",
            `${name} from ${_label(from)} replays sequence number ${msg.seq}`,
            s.id,
          ),
        ];
      }
      if (last !== undefined && msg.seq !== _nextSeq(last.seq)) {
        return [
          this.#drop(
            "out-of-window",
            `${name} from ${_label(from)} with sequence number ${msg.seq}, expected ${
              _nextSeq(last.seq)
            }`,
            s.id,
          ),
        ];
      }
      switch (msg.type) {
        case PanaMessageType.Notification:
          return await this.#onPnr(s, msg, bytes, from);
        case PanaMessageType.Termination:
          return await this.#onPtr(s, msg, bytes, from);
        case PanaMessageType.Auth:
          return [
            this.#drop(
              "unsupported",
              "PaC-initiated PAR is not supported: the EAP response must ride on the PAN",
              s.id,
            ),
          ];
        default:
          return [this.#drop("unexpected-message", `${name} is not a PaC request`, s.id)];
      }
    }
    if (!_samePeer(from, s.peer)) {
      return [
        this.#drop(
          "wrong-source",
          `${name} from ${_label(from)}, the session's PaC is at ${_label(s.peer)}`,
          s.id,
        ),
      ];
    }
    const o = s.outstanding;
    if (o === undefined || msg.seq !== o.seq || msg.type !== o.type) {
      return [
        this.#drop(
          "out-of-window",
          `${name} with sequence number ${msg.seq} answers no outstanding request`,
          s.id,
        ),
      ];
    }
    switch (s.state) {
      case "wait-initial-pan":
        return await this.#onInitialPan(s, msg, bytes);
      case "wait-pan":
        return await this.#onPan(s, msg);
      case "wait-final-pan":
        return await this.#onFinalPan(s, msg, bytes);
      case "closing":
        return await this.#onPta(s, bytes);
      default:
        return [this.#drop("unexpected-message", `${name} in state ${s.state}`, s.id)];
    }
  }

  #phaseFlagsOk(s: _Session, msg: PanaMessage, start: boolean, complete: boolean): string | true {
    if (msg.flags.start !== start || msg.flags.complete !== complete) {
      return `PAN with S=${+msg.flags.start} C=${+msg.flags
        .complete}, expected S=${+start} C=${+complete}`;
    }
    if (msg.flags.preauth !== s.preauth) return "preauth";
    return true;
  }

  #flagDrop(s: _Session, check: string): PanaPaaCommand[] {
    if (check === "preauth") {
      return [
        this.#drop(
          "preauth-flag",
          `PAN ${s.preauth ? "without" : "with"} the E flag in a ${
            s.preauth ? "pre-authentication" : "plain"
          } session (RFC 5873)`,
          s.id,
        ),
      ];
    }
    return [this.#drop("unexpected-message", check, s.id)];
  }

  /** The initial PAN: algorithm choice and piggybacked EAP (RFC 5191 section 4.1). */
  async #onInitialPan(s: _Session, msg: PanaMessage, bytes: Uint8Array): Promise<PanaPaaCommand[]> {
    const flags = this.#phaseFlagsOk(s, msg, true, false);
    if (flags !== true) return this.#flagDrop(s, flags);
    const prfs = findAvps(msg, "prfAlgorithm").map((a) => a.value);
    const integrity = findAvps(msg, "integrityAlgorithm").map((a) => a.value);
    if (
      prfs.length !== 1 || prfs[0] !== _PRF || integrity.length !== 1 ||
      integrity[0] !== _INTEGRITY
    ) {
      const reason = `The PaC chose PRF [${prfs.join(", ")}] and integrity [${
        integrity.join(", ")
      }], offered ${_PRF} and ${_INTEGRITY} (RFC 5191 section 4.1)`;
      return [this.#drop("algorithm", reason, s.id), ...this.#fail(s, "protocol", reason)];
    }
    const eap = findAvp(msg, "eapPayload");
    let step: EapAuthStep;
    if (s.sentEapInInitial) {
      if (eap === undefined) {
        return [
          this.#drop(
            "unsupported",
            "Initial PAN without the piggybacked EAP response: PaC-initiated PAR is not supported",
            s.id,
          ),
        ];
      }
      const r = await this.#eapHandle(s, eap.value);
      if (r.kind === "error") {
        return [this.#drop("eap-error", r.reason, s.id), ...this.#fail(s, "protocol", r.reason)];
      }
      if (r.kind === "discard") {
        return [this.#drop("eap-discard", `Initial PAN: ${r.reason}`, s.id)];
      }
      step = r;
    } else {
      if (eap !== undefined || s.firstEap === undefined) {
        return [
          this.#drop("unexpected-message", "Initial PAN with an EAP payload not asked for", s.id),
        ];
      }
      step = { kind: "request", eap: s.firstEap };
    }
    s.iPan = bytes;
    s.outstanding = undefined;
    if (this.#initiating.get(s.initKey) === s) this.#initiating.delete(s.initKey);
    return [{ kind: "cancel", timer: _timer(_RTX, s.id) }, ...await this.#afterEap(s, step)];
  }

  /** A PAN of the EAP conversation (RFC 5191 section 4.1). */
  async #onPan(s: _Session, msg: PanaMessage): Promise<PanaPaaCommand[]> {
    const flags = this.#phaseFlagsOk(s, msg, false, false);
    if (flags !== true) return this.#flagDrop(s, flags);
    let pacNonce = s.pacNonce;
    if (msg.seq === s.nonceSeq) {
      const nonce = findAvp(msg, "nonce");
      if (nonce === undefined) {
        return [
          this.#drop(
            "unexpected-message",
            "PAN answering the PAA's Nonce without a Nonce AVP (RFC 5191 section 4.1)",
            s.id,
          ),
        ];
      }
      if (nonce.value.length < _NONCE_MIN || nonce.value.length > _NONCE_MAX) {
        return [
          this.#drop(
            "malformed",
            `Invalid Nonce AVP: ${nonce.value.length} bytes, expected ${_NONCE_MIN} to ${_NONCE_MAX}`,
            s.id,
          ),
        ];
      }
      pacNonce = nonce.value;
    }
    if (s.msk !== undefined) {
      // The answer to a nonce-only PAR sent because EAP succeeded before the nonce exchange.
      s.pacNonce = pacNonce;
      s.outstanding = undefined;
      return [{ kind: "cancel", timer: _timer(_RTX, s.id) }, ...await this.#sendFinalPar(s)];
    }
    const eap = findAvp(msg, "eapPayload");
    if (eap === undefined) {
      return [
        this.#drop(
          "unsupported",
          "PAN without an EAP response: PaC-initiated PAR is not supported",
          s.id,
        ),
      ];
    }
    const step = await this.#eapHandle(s, eap.value);
    if (step.kind === "error") {
      return [
        this.#drop("eap-error", step.reason, s.id),
        ...this.#fail(s, "protocol", step.reason),
      ];
    }
    if (step.kind === "discard") return [this.#drop("eap-discard", step.reason, s.id)];
    s.pacNonce = pacNonce;
    s.outstanding = undefined;
    return [{ kind: "cancel", timer: _timer(_RTX, s.id) }, ...await this.#afterEap(s, step)];
  }

  async #afterEap(s: _Session, step: EapAuthStep): Promise<PanaPaaCommand[]> {
    switch (step.kind) {
      case "request":
        return this.#sendPar(s, step.eap);
      case "success":
        s.msk = step.msk;
        s.identity = step.identity;
        s.successEap = step.eap;
        if (s.pacNonce === undefined) return this.#sendPar(s, undefined);
        return await this.#sendFinalPar(s);
      case "failure":
        return this.#sendRejectPar(s, step.eap, step.reason);
      case "discard":
        return [];
    }
  }

  /** A PAR carrying EAP; the first one after the initial PAR carries the Nonce. */
  #sendPar(s: _Session, eap: Uint8Array | undefined): PanaPaaCommand[] {
    const seq = _nextSeq(s.txSeq);
    s.txSeq = seq;
    const avps: PanaAvp[] = [];
    if (s.paaNonce === undefined) {
      s.paaNonce = this.#random(_NONCE_LENGTH).slice();
      s.nonceSeq = seq;
      avps.push({ kind: "nonce", value: s.paaNonce });
    }
    if (eap !== undefined) avps.push({ kind: "eapPayload", value: eap });
    const bytes = encodePana({
      flags: panaFlags({ request: true, preauth: s.preauth }),
      type: PanaMessageType.Auth,
      sessionId: s.id,
      seq,
      avps,
    }, { maxLength: this.#maxLength });
    s.state = "wait-pan";
    return this.#sendRequest(s, bytes, seq, PanaMessageType.Auth, "PAR");
  }

  /** The final PAR of a success (RFC 5191 sections 4.1, 5.3). */
  async #sendFinalPar(s: _Session): Promise<PanaPaaCommand[]> {
    const { msk, iPar, iPan, pacNonce, paaNonce, successEap } = s;
    if (
      msk === undefined || iPar === undefined || iPan === undefined || pacNonce === undefined ||
      paaNonce === undefined || successEap === undefined
    ) {
      return this.#fail(s, "protocol", "Final PAR without the key inputs");
    }
    if (msk.length < MSK_MIN_LENGTH) {
      return this.#fail(s, "protocol", `EAP MSK of ${msk.length} bytes, expected at least 64`);
    }
    const keyId = this.#nextKeyId;
    this.#nextKeyId = this.#nextKeyId >= 0xffffffff ? 1 : this.#nextKeyId + 1;
    // One import of the MSK serves the three PRF computations.
    const mskKey = await importPrfKey(msk);
    const [authKey, keys] = await Promise.all([
      panaAuthKey(mskKey, iPar, iPan, pacNonce, paaNonce, keyId),
      // RFC 6252 section 6.3 step 1: the MSK is here, so are both keys; hand them out
      // before the final PAR, which lets the MN start using them.
      mpaSaKeyMaterial(mskKey, s.id, this.#ctn),
    ]);
    s.keyId = keyId;
    s.authKey = authKey;
    s.mpaKeys = keys;
    s.msk = undefined; // every key it yields is derived
    const seq = _nextSeq(s.txSeq);
    s.txSeq = seq;
    const bytes = await _signPana(
      {
        flags: panaFlags({ request: true, complete: true, preauth: s.preauth }),
        type: PanaMessageType.Auth,
        sessionId: s.id,
        seq,
        avps: [
          { kind: "resultCode", value: PanaResultCode.Success },
          { kind: "eapPayload", value: successEap },
          { kind: "keyId", value: keyId },
          { kind: "sessionLifetime", value: this.#lifetimeSeconds },
        ],
      },
      authKey,
      this.#maxLength,
    );
    s.state = "wait-final-pan";
    this.#stats.keysReady++;
    const now = this.#now();
    const sa = this.#sa(s, keyId, { mnCa: keys.mnCa.slice(), mnAr: keys.mnAr.slice() }, now);
    return [
      { kind: "keys-ready", sa },
      ...this.#sendRequest(s, bytes, seq, PanaMessageType.Auth, "final PAR"),
    ];
  }

  #sa(s: _Session, keyId: number, keys: MpaSaKeyMaterial, now: number): PanaAuthorizedSa {
    return {
      sessionId: s.id,
      ctn: this.#ctn,
      mnAddress: s.peer.address,
      mnPort: s.peer.port,
      identity: s.identity ?? "",
      keys,
      keyId,
      preauth: s.preauth,
      establishedAt: now,
      lifetimeMs: s.lifetimeMs,
      expiresAt: now + s.lifetimeMs,
    };
  }

  /** The final PAR of a failure: no key, no AUTH (RFC 5191 section 4.1). */
  #sendRejectPar(s: _Session, eap: Uint8Array, reason: string): PanaPaaCommand[] {
    const seq = _nextSeq(s.txSeq);
    s.txSeq = seq;
    s.rejected = reason;
    const bytes = encodePana({
      flags: panaFlags({ request: true, complete: true, preauth: s.preauth }),
      type: PanaMessageType.Auth,
      sessionId: s.id,
      seq,
      avps: [
        { kind: "resultCode", value: PanaResultCode.AuthenticationRejected },
        { kind: "eapPayload", value: eap },
      ],
    }, { maxLength: this.#maxLength });
    s.state = "wait-final-pan";
    return this.#sendRequest(s, bytes, seq, PanaMessageType.Auth, "final PAR");
  }

  /** The final PAN: Key-Id and AUTH (RFC 5191 sections 4.1, 5.3). */
  async #onFinalPan(s: _Session, msg: PanaMessage, bytes: Uint8Array): Promise<PanaPaaCommand[]> {
    const flags = this.#phaseFlagsOk(s, msg, false, true);
    if (flags !== true) return this.#flagDrop(s, flags);
    if (s.rejected !== undefined) {
      return this.#fail(s, "rejected", `EAP authentication failed: ${s.rejected}`);
    }
    const { mpaKeys, authKey, keyId } = s;
    if (mpaKeys === undefined || authKey === undefined || keyId === undefined) {
      return this.#fail(s, "protocol", "Final PAN without keys");
    }
    const keyIdAvp = findAvp(msg, "keyId");
    if (keyIdAvp?.value !== keyId) {
      return [
        this.#drop(
          "unexpected-message",
          `Final PAN with Key-Id ${keyIdAvp?.value ?? "missing"}, expected ${keyId}`,
          s.id,
        ),
      ];
    }
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, "the final PAN"), s.id)];
    const now = this.#now();
    s.state = "open";
    s.outstanding = undefined;
    s.mpaKeys = undefined; // handed over with `authorized`
    s.expiresAt = now + s.lifetimeMs;
    this.#leaveHalfOpen(s);
    this.#stats.authorized++;
    const sa = this.#sa(s, keyId, mpaKeys, now);
    return [
      { kind: "cancel", timer: _timer(_RTX, s.id) },
      { kind: "cancel", timer: _timer(_AUTH, s.id) },
      { kind: "arm", timer: _timer(_LIFE, s.id), delayMs: s.lifetimeMs },
      { kind: "authorized", sa },
    ];
  }

  /**
   * Checks a request of an open session (PNR, PTR): it must come after the
   * authentication phase and carry a valid AUTH (RFC 5191 section 5.3).
   *
   * @returns the drop to answer with, or undefined when the request may proceed
   */
  async #checkOpenRequest(
    s: _Session,
    bytes: Uint8Array,
    from: PanaPeer,
    name: "PNR" | "PTR",
  ): Promise<PanaPaaCommand[] | undefined> {
    const authKey = s.authKey;
    if (authKey === undefined || (s.state !== "open" && s.state !== "closing")) {
      return [this.#drop("unexpected-message", `${name} during the authentication phase`, s.id)];
    }
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") {
      return [this.#drop("bad-auth", `${_authDetail(check, name)} from ${_label(from)}`, s.id)];
    }
    return undefined;
  }

  /** A PNR: the re-authorization ping (RFC 5191 section 4.3; RFC 6252 section C.2). */
  async #onPnr(
    s: _Session,
    msg: PanaMessage,
    bytes: Uint8Array,
    from: PanaPeer,
  ): Promise<PanaPaaCommand[]> {
    const refused = await this.#checkOpenRequest(s, bytes, from, "PNR");
    if (refused !== undefined) return refused;
    const authKey = s.authKey!; // present: #checkOpenRequest verified the AUTH with it
    if (msg.flags.auth || !msg.flags.ping) {
      return [
        this.#drop(
          "unsupported",
          "PNR without the P flag: EAP re-authentication is not supported, re-authorize with a ping",
          s.id,
        ),
      ];
    }
    const pna = await _signPana(
      {
        flags: panaFlags({ ping: true }),
        type: PanaMessageType.Notification,
        sessionId: s.id,
        seq: msg.seq,
        avps: [],
      },
      authKey,
      this.#maxLength,
    );
    const moved = !_samePeer(from, s.peer);
    s.peer = { address: from.address, port: from.port };
    s.lastRx = { seq: msg.seq, bytes, answer: pna, from: s.peer };
    this.#stats.reauthorized++;
    return [
      { kind: "send", bytes: pna, to: s.peer },
      {
        kind: "reauthorized",
        sessionId: s.id,
        mnAddress: s.peer.address,
        mnPort: s.peer.port,
        moved,
      },
    ];
  }

  /** A PTR from the PaC (RFC 5191 section 4.4). */
  async #onPtr(
    s: _Session,
    msg: PanaMessage,
    bytes: Uint8Array,
    from: PanaPeer,
  ): Promise<PanaPaaCommand[]> {
    const refused = await this.#checkOpenRequest(s, bytes, from, "PTR");
    if (refused !== undefined) return refused;
    const authKey = s.authKey!; // present: #checkOpenRequest verified the AUTH with it
    const pta = await _signPana(
      {
        flags: panaFlags(),
        type: PanaMessageType.Termination,
        sessionId: s.id,
        seq: msg.seq,
        avps: [],
      },
      authKey,
      this.#maxLength,
    );
    this.#stats.terminated++;
    return [
      { kind: "send", bytes: pta, to: { address: from.address, port: from.port } },
      ...this.#remove(s),
      { kind: "closed", sessionId: s.id, cause: "logout" },
    ];
  }

  /** The PTA answering the PAA's PTR. */
  async #onPta(s: _Session, bytes: Uint8Array): Promise<PanaPaaCommand[]> {
    const authKey = s.authKey;
    if (authKey === undefined) return this.#fail(s, "protocol", "PTA without a key");
    const check = await _verifyPana(bytes, authKey, this.#maxLength);
    if (check !== "ok") return [this.#drop("bad-auth", _authDetail(check, "PTA"), s.id)];
    this.#stats.terminated++;
    return [...this.#remove(s), { kind: "closed", sessionId: s.id, cause: "administrative" }];
  }

  #timeout(s: _Session, kind: string): PanaPaaCommand[] {
    if (s.state === "gone") return [];
    switch (kind) {
      case _RTX: {
        const o = s.outstanding;
        if (o === undefined) return [];
        if (!_retransmit(o, this.#now(), this.#params, this.#random)) {
          if (s.state === "closing") {
            this.#stats.terminated++;
            return [...this.#remove(s), {
              kind: "closed",
              sessionId: s.id,
              cause: "administrative",
            }];
          }
          return this.#fail(
            s,
            "timeout",
            `No answer to the ${o.name} after ${o.transmissions} transmissions`,
          );
        }
        this.#stats.retransmissions++;
        return [
          { kind: "send", bytes: o.bytes, to: s.peer },
          { kind: "arm", timer: _timer(_RTX, s.id), delayMs: o.rt },
        ];
      }
      case _AUTH:
        if (!s.halfOpen) return [];
        return this.#fail(
          s,
          "timeout",
          `Authentication phase not completed in ${this.#authTimeoutMs} ms`,
        );
      case _LIFE:
        if (s.state !== "open" && s.state !== "closing") return [];
        this.#stats.expired++;
        return [...this.#remove(s), { kind: "closed", sessionId: s.id, cause: "expired" }];
      default:
        return [];
    }
  }
}
