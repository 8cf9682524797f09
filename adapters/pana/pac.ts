/**
 * The PANA Client over UDP: the mobile node's {@link PreAuthenticator} (RFC 6252
 * sections 6.3 step 1 and 7.2; PANA, RFC 5191, with the pre-authentication flag of RFC
 * 5873). Each call opens a UDP socket bound to the MN's current address (`bind`),
 * talks to the CTN's authentication agent (`CtnInfo.aa`, UDP port 716 unless given),
 * drives the sans-I/O {@linkcode PanaPacMachine} with real timers, and resolves with
 * the MPA-SA: the MN-CA key imported as a non-extractable HMAC-SHA-256 key, the MN-AR
 * key as a non-extractable AES-256-GCM key (the same algorithms the AA's `SaStore`
 * uses), key fingerprints and phase timings for `mpa preauth`.
 *
 * The CTN id bound into the keys is `CtnInfo.network`: the PaC is configured with the
 * CTN it targets, and the AA's PAA must be configured with the same id (PANA does not
 * carry it).
 *
 * After success the session stays alive on its socket, answering the PAA's
 * retransmissions and pings, until its Session-Lifetime elapses, {@link
 * PanaPac.terminate}, or {@link PanaPac.close}. {@link PanaPac.reauthorize} proves
 * possession of the session key with an authenticated ping (RFC 6252 section C.2),
 * optionally from a new local address after the MN moved.
 *
 * Failures reject with `PortError("PreAuthenticator", code)`: `rejected` (EAP
 * failure), `timeout` (no answer within `authTimeoutMs`), `unreachable` (bind or send
 * failed), `protocol` (the PAA broke the protocol, or bad arguments), `aborted`.
 *
 * Abort (RFC 6252 section C.6: the MN dropped the phase or switched elsewhere): the
 * call rejects with `aborted` at once, and the session is given back in the background
 * so that the AA holds nothing ({@linkcode PanaPacMachine.abort}): an established
 * session (the abort came with or just after the final PAR) is terminated with a PTR,
 * Termination-Cause LOGOUT (RFC 5191 section 4.4); during the authentication phase,
 * where RFC 5191 has no PTR (no PANA SA protects it and the PAA drops it), the PaC
 * stops its PCI retransmissions but still answers the PAA for
 * {@link PanaPacAdapterOptions.abortDeadlineMs}, and a session completed in that time
 * is terminated right after the final PAN, its keys never handed out. Past the
 * deadline the PaC falls silent and the AA drops the half-open session when its
 * retransmissions run out or at its authentication deadline (`authTimeoutMs` of the
 * PAA, RFC 5191 section 9). Each cleanup is bounded (twice the deadline), logged and
 * counted ({@link PanaPacAdapterStats.abortCleanup}); {@link PanaPac.idle} waits for
 * them and {@link PanaPac.close} waits for those of sessions the AA knows.
 * Dropped datagrams are logged (LogTape category `mpa.pana`), never key bytes.
 *
 * @module
 */
import type { RemoteInfo, Socket } from "node:dgram";
import { isIP } from "node:net";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { asyncScheduler, type SchedulerLike } from "npm:rxjs@^7.8.2";
import type { EapPeer, RandomBytes } from "../../lib/eap/eap_method.ts";
import { ConfigError } from "../../lib/errors.ts";
import { keyFingerprint } from "../../lib/keys/key_fingerprint.ts";
import type { PanaDropCommand, PanaFailureCode } from "../../lib/pana/pana_command.ts";
import {
  PANA_ABORT_DEADLINE_MS,
  type PanaPacCommand,
  PanaPacMachine,
  type PanaPacSession,
  type PanaPhaseTimings,
} from "../../lib/pana/pac.ts";
import type { PanaRetransmission } from "../../lib/pana/retransmission.ts";
import {
  type CtnInfo,
  type MpaSa,
  type PortCallOptions,
  PortError,
  type PreAuthenticator,
} from "../../lib/ports.ts";
import { PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import {
  _bindUdp,
  _canonicalIp,
  _closeUdp,
  _cryptoRandom,
  _hostPort,
  _preciseNow,
  _Timers,
} from "./_udp.ts";

const _logger = getLogger(["mpa", "pana"]);

/** Timer id of the hard stop of an abort cleanup (beside the machine's own timers). */
const _HARD_STOP = "mpa-abort-stop";

/** Options of {@link PanaPac}. */
export interface PanaPacAdapterOptions {
  /** The MN's identity as the AA knows it (its EAP identity): `MpaSa.mnId`. */
  readonly identity: string;
  /** Creates the EAP peer of one pre-authentication (EAP-PSK in production). */
  readonly eap: (ctn: CtnInfo) => EapPeer;
  /**
   * The MN's current address to bind (RFC 6252 section 6.3: pre-authentication runs
   * from the current network). Default: all addresses of the AA's family.
   */
  readonly bind?: string;
  /** Local UDP port. Default 0 (ephemeral). */
  readonly bindPort?: number;
  /** Ask for pre-authentication (E flag, RFC 5873). Default true. */
  readonly preauth?: boolean;
  /** Overrides of the PCI schedule (RFC 5191 section 9). */
  readonly pciRetransmission?: Partial<PanaRetransmission>;
  /** Overrides of the request schedule (RFC 5191 section 9). */
  readonly requestRetransmission?: Partial<PanaRetransmission>;
  /** Deadline of one pre-authentication, ms. Default 30000. */
  readonly authTimeoutMs?: number;
  /**
   * After an abort during the authentication phase, how long the PaC still answers the
   * AA so that the session can be completed and terminated, ms (see the module
   * documentation). Default {@linkcode PANA_ABORT_DEADLINE_MS}.
   */
  readonly abortDeadlineMs?: number;
  /** Scheduler of the timers. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Clock, epoch ms. Default: the scheduler's `now` when a scheduler is given, else
   * `performance.timeOrigin + performance.now()` (sub-millisecond phase timings).
   */
  readonly now?: () => number;
  /** Random source. Default WebCrypto. */
  readonly random?: RandomBytes;
}

/** SHA-256 fingerprints of the keys (first 16 bytes, hex): safe to print and log. */
export interface PanaKeyFingerprints {
  /** Of the MSK. */
  readonly msk: string;
  /** Of the MN-CA key. */
  readonly mnCa: string;
  /** Of the MN-AR key. */
  readonly mnAr: string;
}

/** An MPA-SA from PANA, with what `mpa preauth` prints. */
export interface PanaMpaSa extends MpaSa {
  /** Phase timings, ms: PCI to initial PAR, EAP, final PAR/PAN, total. */
  readonly timings: PanaPhaseTimings;
  /** Key fingerprints (the keys themselves are non-extractable). */
  readonly fingerprints: PanaKeyFingerprints;
  /** Whether the PAA ran it as a pre-authentication (E flag). */
  readonly preauth: boolean;
}

/** Options of {@link PanaPac.reauthorize}. */
export interface PanaReauthorizeOptions extends PortCallOptions {
  /** Send the ping from this local address (the MN moved): the socket is rebound. */
  readonly bind?: string;
}

/** The outcome of {@link PanaPac.reauthorize}. */
export interface PanaReauthorization {
  /** Round-trip time of the authenticated ping, ms. */
  readonly rttMs: number;
}

/** Counters of a {@link PanaPac}, over all its sessions. */
export interface PanaPacAdapterStats {
  /** Pre-authentications started. */
  readonly started: number;
  /** Pre-authentications that succeeded. */
  readonly succeeded: number;
  /** Pre-authentications that failed, by code. */
  readonly failed: Readonly<Record<PanaFailureCode | "unreachable" | "aborted", number>>;
  /** Datagrams dropped (any session, any reason, wrong source included). */
  readonly dropped: number;
  /** Background cleanups of aborted pre-authentications (RFC 6252 section C.6). */
  readonly abortCleanup: PanaAbortCleanupStats;
}

/** Counters of the cleanups after aborted pre-authentications. */
export interface PanaAbortCleanupStats {
  /** Cleanups started (the PCI had been handed to the socket). */
  readonly started: number;
  /** Sessions ended with a PTR (answered or not) or never opened at the AA. */
  readonly terminated: number;
  /**
   * Half-open sessions left to the AA's timers: not completed within the deadline,
   * refused, or cut by {@link PanaPac.close}.
   */
  readonly silent: number;
}

/** How a cleanup ended. */
type _CleanupOutcome = "terminated" | "silent";

type _Settle<T> = { readonly resolve: (v: T) => void; readonly reject: (e: unknown) => void };

/** What a run tells its adapter. */
interface _RunHooks {
  /** A datagram was dropped. */
  dropped(): void;
  /** The run ended. */
  forget(run: _Run): void;
}

/** One PANA session: its socket, machine and timers. */
class _Run {
  readonly machine: PanaPacMachine;
  readonly ctn: CtnInfo;
  readonly aaAddress: string;
  readonly aaPort: number;
  readonly label: string;
  readonly #hooks: _RunHooks;
  readonly #timers: _Timers;
  /** Datagrams handed to the socket and not yet sent: closing waits for them. */
  readonly #sending = new Set<Promise<void>>();
  socket: Socket;
  auth: _Settle<PanaPacSession> | undefined;
  ping: _Settle<PanaReauthorization> | undefined;
  closing: _Settle<void> | undefined;
  sessionId: number | undefined;
  finished = false;
  /** Aborted: the run only gives the session back (see the module documentation). */
  abandoned = false;
  /** How the run ended, once it did. */
  outcome: _CleanupOutcome | undefined;
  /** Resolves when the socket is closed. */
  readonly ended: Promise<void>;
  #ended!: () => void;

  constructor(
    hooks: _RunHooks,
    machine: PanaPacMachine,
    ctn: CtnInfo,
    socket: Socket,
    timers: _Timers,
  ) {
    this.#hooks = hooks;
    this.machine = machine;
    this.ctn = ctn;
    this.socket = socket;
    this.#timers = timers;
    this.aaAddress = _canonicalIp(ctn.aa.address);
    this.aaPort = ctn.aa.port ?? PANA_UDP_PORT;
    this.label = _hostPort(ctn.aa.address, this.aaPort);
    this.ended = new Promise<void>((resolve) => this.#ended = resolve);
    this.listen(socket);
  }

  /**
   * Gives the session back after an abort: runs the machine's `abort` commands, with a
   * hard stop after `hardStopMs` (a PTR that keeps being retransmitted).
   */
  abandon(commands: Promise<readonly PanaPacCommand[]>, hardStopMs: number): void {
    this.abandoned = true;
    this.auth = undefined;
    this.#timers.arm(_HARD_STOP, hardStopMs, () =>
      this.fail(
        new PortError("PreAuthenticator", "timeout", `Cleanup not finished in ${hardStopMs} ms`),
      ));
    this.feed(commands);
  }

  listen(socket: Socket): void {
    socket.on("message", (message: Uint8Array, remote: RemoteInfo) => {
      if (this.finished || socket !== this.socket) return;
      if (_canonicalIp(remote.address) !== this.aaAddress || remote.port !== this.aaPort) {
        this.#hooks.dropped();
        _logger.warn("Dropped PANA datagram from {source}: wrong-source: expected {aa}", {
          source: _hostPort(remote.address, remote.port),
          aa: this.label,
        });
        return;
      }
      this.feed(this.machine.receive(new Uint8Array(message)));
    });
    socket.on("error", (error: Error) => this.#socketError(error));
  }

  feed(commands: Promise<readonly PanaPacCommand[]>): void {
    commands.then((c) => this.exec(c), (error: unknown) => {
      // The machine turns bad input into drops; a rejection here is a bug.
      _logger.error("PANA PaC internal error towards {aa}: {error}", {
        aa: this.label,
        error: error instanceof Error ? error.message : String(error),
      });
      this.fail(new PortError("PreAuthenticator", "protocol", "Internal error", { cause: error }));
    });
  }

  exec(commands: readonly PanaPacCommand[]): void {
    for (const c of commands) {
      if (this.finished) return;
      switch (c.kind) {
        case "send": {
          let done!: () => void;
          const sent = new Promise<void>((resolve) => done = resolve);
          this.#sending.add(sent);
          this.socket.send(c.bytes, this.aaPort, this.ctn.aa.address, (error: Error | null) => {
            this.#sending.delete(sent);
            done();
            if (error !== null) this.#socketError(error);
          });
          break;
        }
        case "arm":
          this.#timers.arm(c.timer, c.delayMs, () => this.feed(this.machine.timeout(c.timer)));
          break;
        case "cancel":
          this.#timers.cancel(c.timer);
          break;
        case "drop":
          this.#drop(c);
          break;
        case "done":
          this.sessionId = c.session.sessionId;
          if (this.auth === undefined) {
            // Aborted while the final PAR was being processed: the abort's PTR follows.
            c.session.msk.fill(0);
            c.session.keys.mnCa.fill(0);
            c.session.keys.mnAr.fill(0);
          }
          this.auth?.resolve(c.session);
          this.auth = undefined;
          break;
        case "failed":
          this.fail(new PortError("PreAuthenticator", c.code, `${c.reason}: AA ${this.label}`));
          break;
        case "reauthorized":
          this.ping?.resolve({ rttMs: c.rttMs });
          this.ping = undefined;
          break;
        case "closed":
          this.outcome ??= "terminated";
          _logger.info("PANA session {sessionId} with {aa} closed: {cause}", {
            sessionId: this.sessionId ?? this.machine.sessionId,
            aa: this.label,
            cause: c.cause,
          });
          this.auth?.reject(
            new PortError("PreAuthenticator", "aborted", "Pre-authentication aborted"),
          );
          this.ping?.reject(
            new PortError("PreAuthenticator", "timeout", `PANA session closed: ${c.cause}`),
          );
          this.auth = this.ping = undefined;
          this.closing?.resolve();
          this.closing = undefined;
          void this.finish();
          break;
      }
    }
  }

  /** Ends the run with an error for whoever waits. */
  fail(error: PortError): void {
    if (this.finished) return;
    this.outcome ??= "silent";
    if (this.abandoned) {
      _logger.info(
        "Aborted PANA session {sessionId} with {aa} left to the AA's timers: {reason}",
        { sessionId: this.machine.sessionId, aa: this.label, reason: error.message },
      );
    }
    this.auth?.reject(error);
    this.ping?.reject(error);
    this.closing?.resolve();
    this.auth = this.ping = this.closing = undefined;
    void this.finish();
  }

  /** Ends the run; every caller waits for the same teardown (sends flushed, socket closed). */
  finish(): Promise<void> {
    this.#finishing ??= this.#teardown();
    return this.#finishing;
  }

  #finishing: Promise<void> | undefined;

  async #teardown(): Promise<void> {
    this.finished = true;
    this.#timers.clear();
    this.#hooks.forget(this);
    await Promise.all([...this.#sending]); // e.g. the final PAN of a rejection
    await _closeUdp(this.socket);
    this.#ended();
  }

  #drop(c: PanaDropCommand): void {
    this.#hooks.dropped();
    _logger.warn("Dropped PANA datagram from {aa}: {reason}: {detail}", {
      aa: this.label,
      reason: c.reason,
      detail: c.detail,
    });
  }

  #socketError(error: Error): void {
    _logger.warn("PANA socket error towards {aa}: {error}", {
      aa: this.label,
      error: error.message,
    });
    if (this.auth !== undefined || this.abandoned) {
      this.fail(
        new PortError(
          "PreAuthenticator",
          "unreachable",
          `Cannot reach the AA at ${this.label}: ${error.message}`,
          { cause: error },
        ),
      );
    }
  }
}

/**
 * The PANA PaC adapter (see the module documentation).
 *
 * @example
 * ```ts ignore
 * import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
 * const pac = new PanaPac({
 *   identity: "mn@example",
 *   eap: () => createEapPskPeer({ identity: "mn@example", psk, random }),
 *   bind: "192.0.2.10",
 * });
 * const sa = await pac.preAuthenticate(ctn);
 * console.log(sa.sessionId, sa.timings.total, sa.fingerprints.mnCa);
 * await pac.close();
 * ```
 */
export class PanaPac implements PreAuthenticator {
  readonly #options: PanaPacAdapterOptions;
  readonly #scheduler: SchedulerLike;
  readonly #now: () => number;
  readonly #random: RandomBytes;
  readonly #runs = new Set<_Run>();
  readonly #sessions = new Map<number, _Run>();
  readonly #cleanups = new Set<Promise<void>>();
  readonly #abortDeadlineMs: number;
  readonly #stats = {
    started: 0,
    succeeded: 0,
    failed: { rejected: 0, timeout: 0, protocol: 0, unreachable: 0, aborted: 0 },
    dropped: 0,
    abortCleanup: { started: 0, terminated: 0, silent: 0 },
  };
  #closed = false;
  readonly #hooks: _RunHooks = {
    dropped: () => {
      this.#stats.dropped++;
    },
    forget: (run) => {
      this.#runs.delete(run);
      if (run.sessionId !== undefined && this.#sessions.get(run.sessionId) === run) {
        this.#sessions.delete(run.sessionId);
      }
    },
  };

  /**
   * Creates the adapter; no socket is opened until {@link PanaPac.preAuthenticate}.
   *
   * @param options identity, EAP peer factory, local address, timers
   * @throws {ConfigError} for an empty identity or a bad timer option
   */
  constructor(options: PanaPacAdapterOptions) {
    if (options.identity.length === 0) {
      throw new ConfigError("identity", "Invalid MN identity: empty");
    }
    if (options.bind !== undefined && isIP(options.bind) === 0) {
      throw new ConfigError(
        "bind",
        `Invalid bind address: expected an IP address, got "${options.bind}"`,
      );
    }
    this.#options = options;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#now = options.now ??
      (options.scheduler === undefined ? _preciseNow : () => this.#scheduler.now());
    this.#random = options.random ?? _cryptoRandom;
    this.#abortDeadlineMs = options.abortDeadlineMs ?? PANA_ABORT_DEADLINE_MS;
    if (!Number.isFinite(this.#abortDeadlineMs) || this.#abortDeadlineMs <= 0) {
      throw new ConfigError(
        "abortDeadlineMs",
        `Invalid abortDeadlineMs: ${options.abortDeadlineMs}`,
      );
    }
    // Validate the timer options once, now, rather than at each call.
    this.#machine("mpa-config-check", { handle: () => Promise.reject(new Error("unused")) });
  }

  /** A snapshot of the counters. */
  get stats(): PanaPacAdapterStats {
    return {
      ...this.#stats,
      failed: { ...this.#stats.failed },
      abortCleanup: { ...this.#stats.abortCleanup },
    };
  }

  /** Session ids of the established sessions still alive. */
  get sessions(): readonly number[] {
    return [...this.#sessions.keys()];
  }

  /**
   * Pre-authenticates with the CTN's AA (RFC 6252 section 6.3 step 1).
   *
   * @param ctn the candidate target network: `aa` is contacted, `network` is the CTN id
   * @param options abort signal
   * @returns the MPA-SA, with timings and fingerprints
   * @throws {PortError} `rejected`, `timeout`, `unreachable`, `protocol`, `aborted`
   */
  async preAuthenticate(ctn: CtnInfo, options: PortCallOptions = {}): Promise<PanaMpaSa> {
    const { signal } = options;
    const family = isIP(ctn.aa.address);
    if (this.#closed) throw new PortError("PreAuthenticator", "aborted", "PANA PaC closed");
    if (signal?.aborted) {
      throw new PortError("PreAuthenticator", "aborted", "Pre-authentication aborted", {
        cause: signal.reason,
      });
    }
    if (family === 0) {
      throw new PortError(
        "PreAuthenticator",
        "protocol",
        `Invalid AA address of ${ctn.network}: "${ctn.aa.address}" is not an IP address`,
      );
    }
    if (ctn.network.length === 0) {
      throw new PortError("PreAuthenticator", "protocol", "Invalid CTN: empty network id");
    }
    const bind = this.#options.bind ?? (family === 6 ? "::" : "0.0.0.0");
    this.#stats.started++;
    let machine: PanaPacMachine;
    try {
      machine = this.#machine(ctn.network, this.#options.eap(ctn));
    } catch (error) {
      this.#stats.failed.protocol++;
      throw new PortError(
        "PreAuthenticator",
        "protocol",
        `Cannot start EAP for ${ctn.network}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let socket: Socket;
    try {
      socket = await _bindUdp(family as 4 | 6, bind, this.#options.bindPort ?? 0);
    } catch (error) {
      this.#stats.failed.unreachable++;
      throw new PortError(
        "PreAuthenticator",
        "unreachable",
        `Cannot bind a UDP socket to ${bind}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (signal?.aborted || this.#closed) {
      // Aborted while binding: nothing has left yet.
      await _closeUdp(socket);
      this.#stats.failed.aborted++;
      throw new PortError("PreAuthenticator", "aborted", "Pre-authentication aborted", {
        cause: signal?.reason,
      });
    }
    const run = new _Run(this.#hooks, machine, ctn, socket, new _Timers(this.#scheduler));
    this.#runs.add(run);
    return await new Promise<PanaMpaSa>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: unknown) => {
        const code = error instanceof PortError ? error.code : "protocol";
        const failed: Record<string, number> = this.#stats.failed;
        if (failed[code] !== undefined) failed[code]++;
        reject(error);
      };
      const onAbort = () => {
        if (settled) return;
        settle();
        // The caller learns at once; the session is given back in the background.
        fail(
          new PortError("PreAuthenticator", "aborted", "Pre-authentication aborted", {
            cause: signal?.reason,
          }),
        );
        this.#abandon(run);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      run.auth = {
        resolve: (session) => {
          this.#sessions.set(session.sessionId, run);
          this.#toMpaSa(ctn, session).then((sa) => {
            if (settled) return; // aborted meanwhile: #abandon terminates it
            settle();
            this.#stats.succeeded++;
            resolve(sa);
          }, (error: unknown) => {
            if (settled) return;
            settle();
            fail(
              new PortError("PreAuthenticator", "protocol", `Cannot import the MPA-SA keys`, {
                cause: error,
              }),
            );
            this.#abandon(run);
          });
        },
        reject: (error) => {
          if (settled) return;
          settle();
          fail(error);
        },
      };
      run.feed(machine.start());
    });
  }

  /**
   * Waits for the background cleanups of aborted pre-authentications (each bounded by
   * twice {@link PanaPacAdapterOptions.abortDeadlineMs}).
   *
   * @returns when no cleanup is running
   */
  async idle(): Promise<void> {
    while (this.#cleanups.size > 0) await Promise.all([...this.#cleanups]);
  }

  /** Gives an aborted run's session back (see the module documentation). */
  #abandon(run: _Run): void {
    run.auth = undefined;
    if (run.finished || run.abandoned) return;
    const sessionId = run.machine.sessionId;
    if (sessionId !== undefined && this.#sessions.get(sessionId) === run) {
      this.#sessions.delete(sessionId);
    }
    this.#stats.abortCleanup.started++;
    _logger.info(
      "Pre-authentication with {aa} aborted ({state}, session {sessionId}): giving it back",
      { aa: run.label, state: run.machine.state, sessionId },
    );
    let commands: Promise<readonly PanaPacCommand[]>;
    try {
      commands = run.machine.abort({ deadlineMs: this.#abortDeadlineMs });
    } catch (error) {
      commands = Promise.reject(error);
    }
    run.abandon(commands, 2 * this.#abortDeadlineMs);
    const cleanup = run.ended.then(() => {
      const outcome = run.outcome ?? "silent";
      this.#stats.abortCleanup[outcome]++;
      _logger.info("Cleanup of the aborted pre-authentication with {aa}: {outcome}", {
        aa: run.label,
        outcome,
      });
    });
    this.#cleanups.add(cleanup);
    void cleanup.finally(() => this.#cleanups.delete(cleanup));
  }

  /**
   * Re-authorizes an established session with its existing key (RFC 6252 section
   * C.2): an authenticated PANA ping (RFC 5191 section 4.3) that the AA answers only
   * if it holds the same PANA_AUTH_KEY.
   *
   * @param sessionId the PANA session id of an SA this adapter established
   * @param options `bind`: a new local address to send from (the MN moved); abort signal
   * @returns the round-trip time
   * @throws {PortError} `not-found` for an unknown or ended session, `timeout` when
   *   the ping goes unanswered (the session is then closed), `unreachable` when the
   *   new address cannot be bound, `aborted`
   */
  async reauthorize(
    sessionId: number,
    options: PanaReauthorizeOptions = {},
  ): Promise<PanaReauthorization> {
    const run = this.#sessions.get(sessionId);
    if (run === undefined || run.finished) {
      throw new PortError("PreAuthenticator", "not-found", `No PANA session ${sessionId}`);
    }
    options.signal?.throwIfAborted();
    if (options.bind !== undefined) await this.#rebind(run, options.bind);
    const commands = await run.machine.reauthorize().catch((error: Error) => {
      throw new PortError("PreAuthenticator", "protocol", error.message, { cause: error });
    });
    return await new Promise<PanaReauthorization>((resolve, reject) => {
      const onAbort = () => {
        run.ping = undefined;
        reject(new PortError("PreAuthenticator", "aborted", "Re-authorization aborted"));
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      run.ping = {
        resolve: (v) => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve(v);
        },
        reject: (e) => {
          options.signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      run.exec(commands);
    });
  }

  /**
   * Terminates an established session: PTR with Termination-Cause LOGOUT (RFC 5191
   * section 4.4); resolves on the PTA or when the PTR goes unanswered.
   *
   * @param sessionId the PANA session id
   * @returns when the session is closed
   * @throws {PortError} `not-found` for an unknown or ended session
   */
  async terminate(sessionId: number): Promise<void> {
    const run = this.#sessions.get(sessionId);
    if (run === undefined || run.finished) {
      throw new PortError("PreAuthenticator", "not-found", `No PANA session ${sessionId}`);
    }
    const commands = await run.machine.terminate();
    await new Promise<void>((resolve, reject) => {
      run.closing = { resolve, reject };
      run.exec(commands);
    });
  }

  /**
   * Closes every socket without terminating the established sessions (the AA lets
   * them expire); pre-authentications in progress reject with `aborted`. The cleanups
   * of aborted pre-authentications whose session the AA knows (an initial PAR came)
   * are waited for, bounded; the others stop at once. Idempotent.
   *
   * @returns when every socket is closed
   */
  async close(): Promise<void> {
    this.#closed = true;
    const runs = [...this.#runs];
    for (const run of runs) {
      if (run.abandoned && run.machine.sessionId !== undefined) continue; // bounded
      run.fail(new PortError("PreAuthenticator", "aborted", "PANA PaC closed"));
    }
    await Promise.all(runs.map((run) => run.ended));
    await this.idle();
  }

  /**
   * Closes the adapter (`await using`).
   *
   * @returns when every socket is closed
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #machine(ctn: string, eap: EapPeer): PanaPacMachine {
    const o = this.#options;
    return new PanaPacMachine({
      eap,
      ctn,
      now: this.#now,
      random: this.#random,
      ...(o.preauth === undefined ? {} : { preauth: o.preauth }),
      ...(o.pciRetransmission === undefined ? {} : { pciRetransmission: o.pciRetransmission }),
      ...(o.requestRetransmission === undefined
        ? {}
        : { requestRetransmission: o.requestRetransmission }),
      ...(o.authTimeoutMs === undefined ? {} : { authTimeoutMs: o.authTimeoutMs }),
    });
  }

  async #rebind(run: _Run, address: string): Promise<void> {
    const family = isIP(address);
    if (family === 0 || family !== isIP(run.ctn.aa.address)) {
      throw new PortError(
        "PreAuthenticator",
        "protocol",
        `Invalid bind address "${address}" for the AA at ${run.label}`,
      );
    }
    let socket: Socket;
    try {
      socket = await _bindUdp(family as 4 | 6, address, 0);
    } catch (error) {
      throw new PortError(
        "PreAuthenticator",
        "unreachable",
        `Cannot bind a UDP socket to ${address}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const old = run.socket;
    run.socket = socket;
    run.listen(socket);
    await _closeUdp(old);
  }

  async #toMpaSa(ctn: CtnInfo, s: PanaPacSession): Promise<PanaMpaSa> {
    const [fMsk, fCa, fAr, mnCa, mnAr] = await Promise.all([
      keyFingerprint(s.msk),
      keyFingerprint(s.keys.mnCa),
      keyFingerprint(s.keys.mnAr),
      crypto.subtle.importKey(
        "raw",
        s.keys.mnCa.slice(),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ),
      crypto.subtle.importKey("raw", s.keys.mnAr.slice(), "HKDF", false, [
        "deriveKey",
        "deriveBits",
      ]),
    ]);
    // The raw copies are no longer needed here: PANA keeps only PANA_AUTH_KEY.
    s.keys.mnCa.fill(0);
    s.keys.mnAr.fill(0);
    s.msk.fill(0);
    return {
      ctn: ctn.network,
      mnId: this.#options.identity,
      sessionId: s.sessionId,
      establishedAt: s.establishedAt,
      lifetimeMs: s.lifetimeMs,
      expiresAt: s.expiresAt,
      keyIds: { msk: s.keyId, mnCa: `mn-ca-${s.sessionId}`, mnAr: `mn-ar-${s.sessionId}` },
      keys: { mnCa, mnAr },
      timings: s.timings,
      fingerprints: { msk: fMsk, mnCa: fCa, mnAr: fAr },
      preauth: s.preauth,
    };
  }
}
