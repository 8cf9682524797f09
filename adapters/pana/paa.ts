/**
 * The PANA Authentication Agent over UDP: the AA side of pre-authentication (RFC 6252
 * sections 6.3 step 1, 7.2, 8, C.2; PANA, RFC 5191, with RFC 5873), serving many MNs at
 * once on one socket. It drives the sans-I/O {@linkcode PanaPaaMachine} with real
 * timers, creates one EAP authenticator per session from the given factory (local
 * EAP-PSK, or RADIUS pass-through), and hands the MPA-SA keys of every successful EAP
 * run to `onKeysReady` for key delivery to the CA and the AR BEFORE the final
 * PANA-Auth-Request leaves (RFC 6252 section 6.3 step 1: the MN starts using the keys,
 * e.g. for DHCP through the CA's gate, as soon as it answers that request). The final
 * PAR waits for the hook, at most `keysReadyTimeoutMs`; a hook that throws or takes
 * longer is logged and counted, and the PAR goes out anyway (a session never wedges).
 * `onAuthorized` follows when the final PAN is verified (the session is open);
 * `onSessionEnd` with a failure code when it never is (revoke the keys then).
 *
 * The well-known port 716 needs privileges; any port may be given (0: ephemeral). Bad
 * datagrams are dropped with one log line (LogTape category `mpa.pana`) and a counter
 * in {@link PanaPaa.stats}; key bytes are never logged.
 *
 * @module
 */
import type { RemoteInfo, Socket } from "node:dgram";
import { isIP } from "node:net";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { asyncScheduler, type SchedulerLike, type Subscription } from "npm:rxjs@^7.8.2";
import type { EapAuthenticatorFactory, RandomBytes } from "../../lib/eap/eap_method.ts";
import { ConfigError } from "../../lib/errors.ts";
import type { PanaCloseCause, PanaFailureCode, PanaPeer } from "../../lib/pana/pana_command.ts";
import {
  type PanaAuthorizedSa,
  type PanaPaaCommand,
  PanaPaaMachine,
  type PanaPaaOptions,
  type PanaPaaSessionInfo,
  type PanaPaaStats,
} from "../../lib/pana/paa.ts";
import { PANA_MAX_MESSAGE_LENGTH, PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import { _bindUdp, _closeUdp, _cryptoRandom, _hostPort, _Timers } from "./_udp.ts";

const _logger = getLogger(["mpa", "pana"]);

/** Default bound of the final PAR's wait for `onKeysReady`, ms. */
const _KEYS_READY_TIMEOUT_MS = 2_000;

/** A re-authorization seen by the AA (RFC 6252 section C.2). */
export interface PanaReauthorizedEvent {
  /** PANA Session Identifier. */
  readonly sessionId: number;
  /** The MN's address now. */
  readonly mnAddress: string;
  /** The MN's UDP port now. */
  readonly mnPort: number;
  /** Whether the address changed (the MN moved into the network). */
  readonly moved: boolean;
}

/** A session that ended, or an authentication phase that failed. */
export interface PanaSessionEndEvent {
  /** PANA Session Identifier. */
  readonly sessionId: number;
  /**
   * Why: a close cause (`logout`, `administrative`, `expired`, `timeout`) when the
   * session was open or half-open and ended, a failure code (`rejected`, `timeout`,
   * `protocol`) when its authentication phase failed. Either way no SA remains.
   */
  readonly cause: PanaCloseCause | PanaFailureCode;
}

/** Options of {@link PanaPaa.listen}. */
export interface PanaPaaServerOptions
  extends Omit<PanaPaaOptions, "now" | "random" | "eap" | "ctn"> {
  /** This CTN's network id (bound into the MN-CA and MN-AR keys). */
  readonly ctn: string;
  /** Creates one EAP authenticator per session. */
  readonly eap: EapAuthenticatorFactory;
  /** Address to bind. Default `0.0.0.0`. */
  readonly host?: string;
  /** UDP port. Default 716 (needs privileges); 0 for an ephemeral port. */
  readonly port?: number;
  /**
   * Called with the MPA-SA keys when EAP succeeded, before the final PAR is sent (RFC
   * 6252 section 6.3 step 1, key delivery to the CA and AR): the PAR waits until the
   * returned promise settles, at most `keysReadyTimeoutMs`. Raw key bytes, the hook's
   * own copy: keep them in the process, wipe them when done. Errors are logged and
   * counted and do not hold the PAR. The session is not open yet: `onAuthorized` or
   * `onSessionEnd` (with a failure code) follows.
   */
  readonly onKeysReady?: (sa: PanaAuthorizedSa) => void | Promise<void>;
  /** How long the final PAR waits for `onKeysReady`, ms. Default 2000. */
  readonly keysReadyTimeoutMs?: number;
  /**
   * Called with each new MPA-SA when its final PAN is verified: the session is open.
   * The keys are the same as `onKeysReady`'s, in the hook's own copy. Raw key bytes:
   * keep them in the process. Errors are logged and counted.
   */
  readonly onAuthorized?: (sa: PanaAuthorizedSa) => void | Promise<void>;
  /** Called when an SA proves possession of its key (section C.2). */
  readonly onReauthorized?: (event: PanaReauthorizedEvent) => void | Promise<void>;
  /** Called when a session ends or an authentication phase fails. */
  readonly onSessionEnd?: (event: PanaSessionEndEvent) => void | Promise<void>;
  /** Scheduler of the timers. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Clock, ms. Default the scheduler's. */
  readonly now?: () => number;
  /** Random source. Default WebCrypto. */
  readonly random?: RandomBytes;
}

/** Counters of a {@link PanaPaa}: the machine's, and the socket's. */
export interface PanaPaaServerStats extends PanaPaaStats {
  /** Datagrams that could not be sent. */
  readonly sendErrors: number;
  /** Hook calls that threw or rejected. */
  readonly hookErrors: number;
  /** `onKeysReady` calls that outlasted `keysReadyTimeoutMs` (the final PAR went out). */
  readonly hookTimeouts: number;
}

/**
 * The PANA PAA server (see the module documentation).
 *
 * @example
 * ```ts ignore
 * import { createEapPskServerFactory } from "../../lib/eap/eap_psk_server.ts";
 * const paa = await PanaPaa.listen({
 *   ctn: "ctn-b",
 *   host: "127.0.0.1",
 *   port: 7160,
 *   eap: createEapPskServerFactory({ serverId: "aa.ctn-b", lookup, random }),
 *   onKeysReady: (sa) => deliverKeys(sa), // before the final PAR leaves
 *   onSessionEnd: (end) => revokeKeys(end.sessionId), // a failure code: never opened
 * });
 * console.log(paa.stats.authorized);
 * await paa.close();
 * ```
 */
export class PanaPaa {
  readonly #socket: Socket;
  readonly #machine: PanaPaaMachine;
  readonly #timers: _Timers;
  readonly #options: PanaPaaServerOptions;
  readonly #scheduler: SchedulerLike;
  readonly #keysReadyTimeoutMs: number;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #address: PanaPeer;
  #sendErrors = 0;
  #hookErrors = 0;
  #hookTimeouts = 0;
  #closing: Promise<void> | undefined;

  private constructor(socket: Socket, machine: PanaPaaMachine, options: PanaPaaServerOptions) {
    this.#socket = socket;
    this.#machine = machine;
    this.#options = options;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#keysReadyTimeoutMs = options.keysReadyTimeoutMs ?? _KEYS_READY_TIMEOUT_MS;
    this.#timers = new _Timers(this.#scheduler);
    const { address, port } = socket.address();
    this.#address = { address, port };
    socket.on("message", (message: Uint8Array, remote: RemoteInfo) => {
      if (this.#closing !== undefined) return;
      this.#feed(
        this.#machine.receive(new Uint8Array(message), {
          address: remote.address,
          port: remote.port,
        }),
      );
    });
    socket.on("error", (error: Error) => {
      _logger.warn("PANA PAA socket error on {local}: {error}", {
        local: _hostPort(address, port),
        error: error.message,
      });
    });
  }

  /**
   * Binds the socket and starts serving.
   *
   * @param options CTN id, EAP factory, address, hooks, timers and limits
   * @returns the running server
   * @throws {ConfigError} for a bad option (host not an IP address, port, timers,
   *   limits, `keysReadyTimeoutMs`) or when the socket cannot be bound
   */
  static async listen(options: PanaPaaServerOptions): Promise<PanaPaa> {
    const keysReadyTimeoutMs = options.keysReadyTimeoutMs ?? _KEYS_READY_TIMEOUT_MS;
    if (!(Number.isFinite(keysReadyTimeoutMs) && keysReadyTimeoutMs > 0)) {
      throw new ConfigError(
        "keysReadyTimeoutMs",
        `Invalid keys-ready timeout: ${keysReadyTimeoutMs} ms, expected a positive number`,
      );
    }
    const host = options.host ?? "0.0.0.0";
    const family = isIP(host);
    if (family === 0) {
      throw new ConfigError("host", `Invalid PAA host: expected an IP address, got "${host}"`);
    }
    const port = options.port ?? PANA_UDP_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError("port", `Invalid PAA port: ${port}`);
    }
    const scheduler = options.scheduler ?? asyncScheduler;
    const machine = new PanaPaaMachine({
      ...options,
      now: options.now ?? (() => scheduler.now()),
      random: options.random ?? _cryptoRandom,
    });
    let socket: Socket;
    try {
      socket = await _bindUdp(
        family as 4 | 6,
        host,
        port,
        options.maxLength ?? PANA_MAX_MESSAGE_LENGTH,
      );
    } catch (error) {
      throw new ConfigError(
        "port",
        `Cannot bind the PAA to ${_hostPort(host, port)}: ${(error as Error).message}`,
      );
    }
    _logger.info("PANA PAA for {ctn} listening on {local}", {
      ctn: options.ctn,
      local: _hostPort(host, socket.address().port),
    });
    return new PanaPaa(socket, machine, options);
  }

  /** The bound address and port. */
  get address(): PanaPeer {
    return this.#address;
  }

  /** A snapshot of the counters. */
  get stats(): PanaPaaServerStats {
    return {
      ...this.#machine.stats,
      sendErrors: this.#sendErrors,
      hookErrors: this.#hookErrors,
      hookTimeouts: this.#hookTimeouts,
    };
  }

  /**
   * Describes one session (no keys).
   *
   * @param sessionId the PANA Session Identifier
   * @returns its state, peer and identity, or undefined
   */
  session(sessionId: number): PanaPaaSessionInfo | undefined {
    return this.#machine.session(sessionId);
  }

  /**
   * Ends a session with a PTR (Termination-Cause ADMINISTRATIVE, RFC 5191 section
   * 4.4); `onSessionEnd` follows on the PTA or when unanswered.
   *
   * @param sessionId the PANA Session Identifier
   * @returns when the PTR is sent (or the half-open session dropped)
   */
  async terminate(sessionId: number): Promise<void> {
    await this.#exec(await this.#machine.terminate(sessionId));
  }

  /**
   * Stops serving: closes the socket, disarms every timer and waits for running
   * hooks. Sessions are not terminated. Idempotent.
   *
   * @returns when closed
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#timers.clear();
    this.#closing = (async () => {
      await _closeUdp(this.#socket);
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
      this.#timers.clear();
    })();
    return this.#closing;
  }

  /**
   * Closes the server (`await using`).
   *
   * @returns when closed
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #track(p: Promise<unknown>): void {
    const tracked = p.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #feed(commands: Promise<readonly PanaPaaCommand[]>): void {
    this.#track(commands.then((c) => this.#exec(c)));
  }

  /** Runs a hook, tracked for `close`; the promise never rejects. */
  #hook<T>(
    name: string,
    hook: ((arg: T) => void | Promise<void>) | undefined,
    arg: T,
  ): Promise<void> {
    if (hook === undefined) return Promise.resolve();
    const run = (async () => {
      try {
        await hook(arg);
      } catch (error) {
        this.#hookErrors++;
        _logger.error("PANA PAA hook {name} failed: {error}", {
          name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    })();
    this.#track(run);
    return run;
  }

  /**
   * Runs `onKeysReady` and waits for it, at most `keysReadyTimeoutMs` (the hook goes on
   * running, tracked for `close`).
   */
  async #keysReady(sa: PanaAuthorizedSa): Promise<void> {
    const run = this.#hook("onKeysReady", this.#options.onKeysReady, sa);
    let bound: Subscription | undefined;
    const outcome = await Promise.race([
      run.then(() => "done" as const),
      new Promise<"late">((resolve) => {
        bound = this.#scheduler.schedule(() => resolve("late"), this.#keysReadyTimeoutMs);
      }),
    ]);
    bound?.unsubscribe();
    if (outcome === "late") {
      this.#hookTimeouts++;
      _logger.warn(
        "PANA PAA hook onKeysReady of session {sessionId} still running after {ms} ms: final PAR sent anyway",
        { sessionId: sa.sessionId, ms: this.#keysReadyTimeoutMs },
      );
    }
  }

  /**
   * Executes the commands in order. A `keys-ready` with an `onKeysReady` hook holds the
   * commands after it (the final PAR's send and its timer) until the hook is done
   * (bounded): the returned promise settles then. When the session ended meanwhile
   * (e.g. its authentication deadline), the final PAR is not sent.
   */
  #exec(commands: readonly PanaPaaCommand[]): void | Promise<void> {
    for (let i = 0; i < commands.length; i++) {
      if (this.#closing !== undefined) return;
      const c = commands[i]!;
      if (c.kind === "keys-ready") {
        _logger.info("PANA session {sessionId} keys ready for {identity} at {mn}, key id {keyId}", {
          sessionId: c.sa.sessionId,
          identity: c.sa.identity,
          mn: _hostPort(c.sa.mnAddress, c.sa.mnPort),
          keyId: c.sa.keyId,
        });
        if (this.#options.onKeysReady === undefined) {
          c.sa.keys.mnCa.fill(0); // nobody to hand the copy to
          c.sa.keys.mnAr.fill(0);
          continue;
        }
        const rest = commands.slice(i + 1);
        const sessionId = c.sa.sessionId;
        return this.#keysReady(c.sa).then(() => {
          if (this.#machine.session(sessionId) !== undefined) return this.#exec(rest);
          _logger.info("PANA session {sessionId} ended during key delivery: final PAR not sent", {
            sessionId,
          });
          return this.#exec(rest.filter((r) => r.kind !== "send" && r.kind !== "arm"));
        });
      }
      this.#execOne(c);
    }
  }

  #execOne(c: Exclude<PanaPaaCommand, { kind: "keys-ready" }>): void {
    switch (c.kind) {
      case "send":
        this.#socket.send(c.bytes, c.to.port, c.to.address, (error: Error | null) => {
          if (error === null) return;
          this.#sendErrors++;
          _logger.warn("PANA send to {peer} failed: {error}", {
            peer: _hostPort(c.to.address, c.to.port),
            error: error.message,
          });
        });
        break;
      case "arm":
        this.#timers.arm(c.timer, c.delayMs, () => {
          if (this.#closing === undefined) this.#feed(this.#machine.timeout(c.timer));
        });
        break;
      case "cancel":
        this.#timers.cancel(c.timer);
        break;
      case "drop":
        _logger.warn("Dropped PANA datagram: {reason}: {detail}", {
          reason: c.reason,
          detail: c.detail,
          ...(c.sessionId === undefined ? {} : { sessionId: c.sessionId }),
        });
        break;
      case "authorized":
        _logger.info("PANA session {sessionId} authorized {identity} at {mn}, key id {keyId}", {
          sessionId: c.sa.sessionId,
          identity: c.sa.identity,
          mn: _hostPort(c.sa.mnAddress, c.sa.mnPort),
          keyId: c.sa.keyId,
        });
        void this.#hook("onAuthorized", this.#options.onAuthorized, c.sa);
        break;
      case "reauthorized":
        _logger.info("PANA session {sessionId} re-authorized at {mn}", {
          sessionId: c.sessionId,
          mn: _hostPort(c.mnAddress, c.mnPort),
        });
        void this.#hook("onReauthorized", this.#options.onReauthorized, {
          sessionId: c.sessionId,
          mnAddress: c.mnAddress,
          mnPort: c.mnPort,
          moved: c.moved,
        });
        break;
      case "failed":
        _logger.info("PANA session {sessionId} with {mn} failed: {code}: {reason}", {
          sessionId: c.sessionId,
          mn: _hostPort(c.peer.address, c.peer.port),
          code: c.code,
          reason: c.reason,
        });
        void this.#hook("onSessionEnd", this.#options.onSessionEnd, {
          sessionId: c.sessionId,
          cause: c.code,
        });
        break;
      case "closed":
        _logger.info("PANA session {sessionId} closed: {cause}", {
          sessionId: c.sessionId,
          cause: c.cause,
        });
        void this.#hook("onSessionEnd", this.#options.onSessionEnd, {
          sessionId: c.sessionId,
          cause: c.cause,
        });
        break;
    }
  }
}
