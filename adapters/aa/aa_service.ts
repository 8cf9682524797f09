/**
 * The authentication agent (AA) of a candidate target network as one service (RFC 6252
 * sections 6.2, 6.3 step 1, 7.2 and C.2): the PANA PAA over UDP with an EAP backend
 * (local EAP-PSK from a credentials map, or RADIUS pass-through to an AAA server), key
 * delivery to the CA and the AR through the {@link KeyDelivery} port, and, optionally,
 * the MPA-SAs recorded in an {@link SaStore} (Deno KV) so that they survive a restart.
 *
 * Key delivery (RFC 6252 section 6.3 step 1): the keys reach the CA and the AR "as a
 * result of pre-authentication", when EAP succeeds and before the final
 * PANA-Auth-Request leaves (the PAA's `onKeysReady`, which the final PAR waits for,
 * at most its `keysReadyTimeoutMs`): the MN starts its DHCP exchange through the CA's
 * gate as soon as it answers that request, so the gate must already admit it. If the
 * final PAN then never verifies (the session fails or is ended before it opens), the
 * delivered keys are revoked. The SA is stored only when the session opens (final
 * PAN verified).
 *
 * The life of an SA in the store (RFC 6252 section C.2):
 *
 * - pre-authenticated (PANA with the E flag of RFC 5873): stored `unauthorized`, since
 *   the MN is still in its current network; a plain PANA authentication (no E flag:
 *   the MN is attached here) is stored `authorized`;
 * - re-authorized: an authenticated PANA ping (RFC 5191 section 4.3) verified with the
 *   session's PANA_AUTH_KEY proves possession of the SA's key without a new EAP run;
 *   the SA becomes `authorized` (the PAA also learns the MN's new address from it);
 * - the session ended by a timeout (the MN went away without a word): `unauthorized`,
 *   held until it expires;
 * - the session terminated (PTR/PTA, either side) or its lifetime elapsed: deleted,
 *   and its keys revoked from the delivery;
 * - expired records (e.g. while the AA was down) are deleted at start and by a
 *   periodic sweep.
 *
 * The events of one session are applied in order (an early ping never overtakes the
 * write of its SA). Key bytes are never logged: log lines carry fingerprints (LogTape
 * category `mpa.aa`).
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError } from "../../lib/errors.ts";
import { keyFingerprint } from "../../lib/keys/key_fingerprint.ts";
import type { PanaPeer } from "../../lib/pana/pana_command.ts";
import type { PanaAuthorizedSa } from "../../lib/pana/paa.ts";
import type { MpaSaKeyIds, SaAuthorization, SaRecord, SaStore } from "../../lib/ports.ts";
import type { RadiusSecret } from "../../lib/wire/radius.ts";
import { localEapPskFactory } from "../aaa/local_authenticator.ts";
import { radiusEapFactory } from "../aaa/radius_authenticator.ts";
import {
  PanaPaa,
  type PanaPaaServerOptions,
  type PanaPaaServerStats,
  type PanaReauthorizedEvent,
  type PanaSessionEndEvent,
} from "../pana/paa.ts";
import {
  RadiusClient,
  type RadiusClientStats,
  type RadiusServerAddress,
} from "../radius/client.ts";
import { KvSaStore } from "../store/kv_sa_store.ts";
import { InProcessKeyDelivery, type KeyDelivery } from "./key_delivery.ts";

const _logger = getLogger(["mpa", "aa"]);

/** The local EAP-PSK backend (RFC 4764): the AA authenticates MNs itself. */
export interface AaLocalBackend {
  /** Discriminant. */
  readonly kind: "local";
  /** Identity to 16-byte PSK (e.g. from `loadCredentials`). */
  readonly credentials: ReadonlyMap<string, Uint8Array>;
  /** The AA's EAP-PSK identity ID_S (RFC 4764 section 5.1). Default `aa.<ctn>`. */
  readonly serverId?: string;
}

/** The RADIUS pass-through backend (RFC 3579): an AAA server authenticates MNs. */
export interface AaRadiusBackend {
  /** Discriminant. */
  readonly kind: "radius";
  /** The RADIUS server (port 1812 unless given). */
  readonly server: RadiusServerAddress;
  /** The shared secret; never logged. */
  readonly secret: RadiusSecret;
  /** Wait before the first retransmission, ms (doubles). Default the client's (1000). */
  readonly timeoutMs?: number;
  /** Retransmissions after the first transmission. Default the client's (2). */
  readonly retries?: number;
  /** NAS-Identifier. Default the client's (`mpa`). */
  readonly nasIdentifier?: string;
}

/** Where the AA's EAP conversations end. */
export type AaBackend = AaLocalBackend | AaRadiusBackend;

/** PAA options the service passes through unchanged (timers and flood limits). */
export type AaPaaTuning = Omit<
  PanaPaaServerOptions,
  | "ctn"
  | "eap"
  | "host"
  | "port"
  | "sessionLifetimeMs"
  | "onKeysReady"
  | "onAuthorized"
  | "onReauthorized"
  | "onSessionEnd"
>;

/** Options of {@link startAa}. */
export interface AaServiceOptions {
  /** This CTN's network id; MNs must pre-authenticate with the same id (`--ctn`). */
  readonly ctn: string;
  /** Address to bind. Default `0.0.0.0`. */
  readonly host?: string;
  /** UDP port. Default 716 (needs privileges); 0 for an ephemeral port. */
  readonly port?: number;
  /** The EAP backend. */
  readonly backend: AaBackend;
  /** Session-Lifetime granted, ms. Default the PAA's (one hour). */
  readonly sessionLifetimeMs?: number;
  /** Key delivery to the CA and the AR. Default a new {@link InProcessKeyDelivery}. */
  readonly keyDelivery?: KeyDelivery;
  /** An SA store the caller owns (not closed by the service). Exclusive with `kv`. */
  readonly store?: SaStore;
  /** A {@link KvSaStore} the service opens and closes. Exclusive with `store`. */
  readonly kv?: {
    /** The KV database file. */
    readonly path: string;
    /** 32 bytes that seal the keys at rest. */
    readonly storeKey: Uint8Array;
  };
  /** How often expired SAs are deleted from the store, ms. Default 60000. */
  readonly sweepIntervalMs?: number;
  /** PAA timers and limits. */
  readonly paa?: AaPaaTuning;
  /** The clock, epoch ms, for expiry. Default `Date.now`. */
  readonly now?: () => number;
}

/** Counters of a running AA. */
export interface AaServiceStats {
  /** The PAA's counters (sessions, authorized, rejected, drops by reason, ...). */
  readonly paa: PanaPaaServerStats;
  /** SAs whose keys were delivered to the CA and the AR (before the final PAR). */
  readonly delivered: number;
  /** Deliveries (and revocations) that failed. */
  readonly deliveryErrors: number;
  /**
   * Delivered keys revoked because their session failed or ended before its final PAN
   * verified (no SA was established).
   */
  readonly revoked: number;
  /** SAs written to the store after authentication. */
  readonly stored: number;
  /** Stored SAs set `authorized` by a re-authorization (section C.2). */
  readonly storeAuthorized: number;
  /** Stored SAs set `unauthorized` and held after their session timed out. */
  readonly held: number;
  /** SAs deleted and revoked after termination or expiry (the sweep included). */
  readonly released: number;
  /** Store operations that failed. */
  readonly storeErrors: number;
  /** The RADIUS client's counters, with the RADIUS backend. */
  readonly radius?: RadiusClientStats;
}

/** A running AA (see {@link startAa}). */
export interface AaService extends AsyncDisposable {
  /** The bound address and port. */
  readonly address: PanaPeer;
  /** A snapshot of the counters. */
  readonly stats: AaServiceStats;
  /** Where keys are delivered (the in-process delivery by default). */
  readonly keyDelivery: KeyDelivery;
  /**
   * Stops serving: closes the PAA socket, waits for running hooks, closes the RADIUS
   * client and a store the service opened, wipes the default delivery's keys.
   * Idempotent.
   */
  close(): Promise<void>;
}

/** The key ids of an SA: the same on the MN (`PanaPac`) and on the AA. */
function _keyIds(sessionId: number, mskKeyId: number): MpaSaKeyIds {
  return { msk: mskKeyId, mnCa: `mn-ca-${sessionId}`, mnAr: `mn-ar-${sessionId}` };
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The SA as stored: extractable keys of the algorithms the MN side uses. */
async function _record(sa: PanaAuthorizedSa, state: SaAuthorization): Promise<SaRecord> {
  const [mnCa, mnAr] = await Promise.all([
    crypto.subtle.importKey(
      "raw",
      sa.keys.mnCa.slice(),
      { name: "HMAC", hash: "SHA-256" },
      true,
      ["sign", "verify"],
    ),
    crypto.subtle.importKey("raw", sa.keys.mnAr.slice(), { name: "AES-GCM" }, true, [
      "encrypt",
      "decrypt",
    ]),
  ]);
  return {
    ctn: sa.ctn,
    mnId: sa.identity,
    sessionId: sa.sessionId,
    establishedAt: sa.establishedAt,
    lifetimeMs: sa.lifetimeMs,
    expiresAt: sa.expiresAt,
    keyIds: _keyIds(sa.sessionId, sa.keyId),
    state,
    keys: { mnCa, mnAr },
  };
}

/** The service's mutable state and the hooks it gives the PAA. */
class _Aa {
  readonly ctn: string;
  readonly delivery: KeyDelivery;
  readonly store: SaStore | undefined;
  readonly now: () => number;
  readonly counters = {
    delivered: 0,
    deliveryErrors: 0,
    revoked: 0,
    stored: 0,
    storeAuthorized: 0,
    held: 0,
    released: 0,
    storeErrors: 0,
  };
  /** The tail of each session's event chain. */
  readonly #chains = new Map<number, Promise<void>>();
  /** Sessions whose keys were handed to the delivery and that are not open yet. */
  readonly #unconfirmed = new Set<number>();

  constructor(ctn: string, delivery: KeyDelivery, store: SaStore | undefined, now: () => number) {
    this.ctn = ctn;
    this.delivery = delivery;
    this.store = store;
    this.now = now;
  }

  /** Runs `task` after the session's earlier events; never rejects. */
  serial(sessionId: number, what: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      _logger.error("AA {what} of session {sessionId} failed: {error}", {
        what,
        sessionId,
        error: _message(error),
      });
    });
    this.#chains.set(sessionId, next);
    void next.then(() => {
      if (this.#chains.get(sessionId) === next) this.#chains.delete(sessionId);
    });
    return next;
  }

  /** EAP succeeded: deliver the keys before the final PAR (RFC 6252 section 6.3 step 1). */
  keysReady = (sa: PanaAuthorizedSa): Promise<void> =>
    this.serial(sa.sessionId, "key delivery", async () => {
      // Revoked if the session never opens, even after a failed (maybe partial) delivery.
      this.#unconfirmed.add(sa.sessionId);
      try {
        // The fingerprints are for the log only: computed alongside the delivery (they
        // copy the keys now) and logged when ready, never holding the final PAR.
        void Promise.all([keyFingerprint(sa.keys.mnCa), keyFingerprint(sa.keys.mnAr)]).then(
          ([mnCa, mnAr]) =>
            _logger.info(
              "MPA-SA {sessionId} for {identity} at {mnAddress}: MN-CA key {mnCa}, MN-AR key {mnAr}",
              {
                sessionId: sa.sessionId,
                identity: sa.identity,
                mnAddress: sa.mnAddress,
                mnCa,
                mnAr,
              },
            ),
          (error: unknown) =>
            _logger.warn("Cannot fingerprint the keys of MPA-SA {sessionId}: {error}", {
              sessionId: sa.sessionId,
              error: _message(error),
            }),
        );
        try {
          await this.delivery.deliver({
            sessionId: sa.sessionId,
            mnAddress: sa.mnAddress,
            identity: sa.identity,
            ctn: sa.ctn,
            keyIds: _keyIds(sa.sessionId, sa.keyId),
            mnCa: sa.keys.mnCa,
            mnAr: sa.keys.mnAr,
            expiresAt: sa.expiresAt,
          });
          this.counters.delivered++;
        } catch (error) {
          this.counters.deliveryErrors++;
          _logger.error("Key delivery of MPA-SA {sessionId} failed: {error}", {
            sessionId: sa.sessionId,
            error: _message(error),
          });
        }
      } finally {
        // The delivery keeps its own copies.
        sa.keys.mnCa.fill(0);
        sa.keys.mnAr.fill(0);
      }
    });

  /** The final PAN verified: the session is open; record its SA. */
  authorized = (sa: PanaAuthorizedSa): Promise<void> =>
    this.serial(sa.sessionId, "SA record", async () => {
      this.#unconfirmed.delete(sa.sessionId);
      try {
        if (this.store === undefined) return;
        // A pre-authenticated MN is still elsewhere: unauthorized until it proves
        // possession from here (RFC 6252 section C.2).
        const state: SaAuthorization = sa.preauth ? "unauthorized" : "authorized";
        try {
          await this.store.put(await _record(sa, state));
          this.counters.stored++;
        } catch (error) {
          this.counters.storeErrors++;
          _logger.error("Cannot store MPA-SA {sessionId}: {error}", {
            sessionId: sa.sessionId,
            error: _message(error),
          });
        }
      } finally {
        // The store keeps its own copies.
        sa.keys.mnCa.fill(0);
        sa.keys.mnAr.fill(0);
      }
    });

  reauthorized = (event: PanaReauthorizedEvent): Promise<void> =>
    this.serial(event.sessionId, "re-authorization", async () => {
      _logger.info("MPA-SA {sessionId} proved possession of its key from {mnAddress}{moved}", {
        sessionId: event.sessionId,
        mnAddress: event.mnAddress,
        moved: event.moved ? " (new address)" : "",
      });
      if (this.store === undefined) return;
      try {
        const record = await this.store.get({ sessionId: event.sessionId });
        if (record === undefined) {
          _logger.warn("MPA-SA {sessionId} re-authorized but not in the store", {
            sessionId: event.sessionId,
          });
          return;
        }
        if (record.state === "authorized") return;
        await this.store.put({ ...record, state: "authorized" });
        this.counters.storeAuthorized++;
      } catch (error) {
        this.counters.storeErrors++;
        throw error;
      }
    });

  sessionEnd = (event: PanaSessionEndEvent): Promise<void> =>
    this.serial(event.sessionId, "session end", async () => {
      if (this.#unconfirmed.delete(event.sessionId)) {
        // Keys delivered before the final PAR, and the session never opened.
        await this.revokeUnconfirmed(event.sessionId, event.cause);
        return;
      }
      switch (event.cause) {
        case "logout":
        case "administrative":
        case "expired":
          await this.release(event.sessionId, event.cause);
          return;
        case "timeout":
          await this.hold(event.sessionId);
          return;
        case "rejected":
        case "protocol":
          return; // an authentication phase failed before EAP success: no keys
      }
    });

  /** A session failed after its keys were delivered: withdraw them (nothing stored). */
  async revokeUnconfirmed(sessionId: number, cause: string): Promise<void> {
    if (this.delivery.revoke === undefined) {
      _logger.warn(
        "MPA-SA {sessionId} never opened ({cause}); the delivery cannot revoke: its keys stay until they expire",
        { sessionId, cause },
      );
      return;
    }
    try {
      await this.delivery.revoke(sessionId);
      this.counters.revoked++;
      _logger.info("Keys of MPA-SA {sessionId} revoked: the session never opened ({cause})", {
        sessionId,
        cause,
      });
    } catch (error) {
      this.counters.deliveryErrors++;
      _logger.error("Cannot revoke the keys of MPA-SA {sessionId}: {error}", {
        sessionId,
        error: _message(error),
      });
    }
  }

  /** The session ended for good: delete its SA and revoke its keys. */
  async release(sessionId: number, cause: string): Promise<void> {
    let released = false;
    try {
      await this.delivery.revoke?.(sessionId);
    } catch (error) {
      this.counters.deliveryErrors++;
      _logger.error("Cannot revoke the keys of MPA-SA {sessionId}: {error}", {
        sessionId,
        error: _message(error),
      });
    }
    if (this.store !== undefined) {
      try {
        released = (await this.store.delete({ sessionId })) > 0;
      } catch (error) {
        this.counters.storeErrors++;
        throw error;
      }
    }
    if (released) {
      this.counters.released++;
      _logger.info("MPA-SA {sessionId} released: {cause}", { sessionId, cause });
    }
  }

  /** The MN went away without a word: hold its SA unauthorized until it expires. */
  async hold(sessionId: number): Promise<void> {
    if (this.store === undefined) return;
    try {
      const record = await this.store.get({ sessionId });
      if (record === undefined) return; // an authentication phase timed out
      if (record.state !== "unauthorized") {
        await this.store.put({ ...record, state: "unauthorized" });
      }
      this.counters.held++;
      _logger.info("MPA-SA {sessionId} held unauthorized until {expiresAt}", {
        sessionId,
        expiresAt: new Date(record.expiresAt).toISOString(),
      });
    } catch (error) {
      this.counters.storeErrors++;
      throw error;
    }
  }

  /** Deletes the expired SAs of the store; returns how many were held and deleted. */
  async sweep(): Promise<{ held: number; deleted: number }> {
    if (this.store === undefined) return { held: 0, deleted: 0 };
    const now = this.now();
    let held = 0;
    let deleted = 0;
    for (const record of await this.store.list()) {
      if (record.expiresAt > now) {
        held++;
        continue;
      }
      await this.delivery.revoke?.(record.sessionId);
      deleted += await this.store.delete({ sessionId: record.sessionId });
    }
    this.counters.released += deleted;
    return { held, deleted };
  }
}

/**
 * Starts an authentication agent (see the module documentation): opens the store and
 * the RADIUS client if configured, deletes expired SAs, and binds the PAA.
 *
 * @param options CTN id, address, backend, delivery, store, timers
 * @returns the running service
 * @throws {ConfigError} for a bad option (empty CTN id, both `store` and `kv`, a bad
 *   backend, a store that cannot be opened, a socket that cannot be bound); nothing is
 *   left open then
 *
 * @example
 * ```ts ignore
 * import { loadCredentials } from "../aaa/local_authenticator.ts";
 * const aa = await startAa({
 *   ctn: "ctn-b",
 *   host: "127.0.0.1",
 *   port: 0,
 *   backend: { kind: "local", credentials: await loadCredentials("aa.psk") },
 *   kv: { path: "aa.sqlite", storeKey },
 * });
 * console.log(aa.address.port, aa.stats.paa.authorized);
 * await aa.close();
 * ```
 */
export async function startAa(options: AaServiceOptions): Promise<AaService> {
  if (options.ctn.length === 0) throw new ConfigError("ctn", "Invalid CTN id: empty");
  if (options.store !== undefined && options.kv !== undefined) {
    throw new ConfigError("kv", "Invalid AA options: both store and kv given");
  }
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  if (!(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0)) {
    throw new ConfigError("sweepIntervalMs", `Invalid sweep interval: ${sweepIntervalMs} ms`);
  }
  let radius: RadiusClient | undefined;
  let kv: KvSaStore | undefined;
  let delivery: KeyDelivery | undefined;
  let paa: PanaPaa | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let sweeping: Promise<void> | undefined;
  // Closes whatever is open, in the order that loses nothing: no more sweeps; the
  // RADIUS client (so that EAP conversations waiting on it end now); the PAA (waits
  // for running hooks); then what the hooks write to.
  const cleanup = async () => {
    clearInterval(timer);
    await sweeping;
    const steps: (() => Promise<void> | void)[] = [
      () => radius?.close(),
      () => paa?.close(),
      () => {
        if (options.keyDelivery === undefined) {
          (delivery as InProcessKeyDelivery | undefined)?.clear();
        }
      },
      () => kv?.close(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        _logger.warn("AA clean-up failed: {error}", { error: _message(error) });
      }
    }
  };
  try {
    const backend = options.backend;
    let eap: PanaPaaServerOptions["eap"];
    if (backend.kind === "local") {
      eap = localEapPskFactory({
        serverId: backend.serverId ?? `aa.${options.ctn}`,
        credentials: backend.credentials,
      });
    } else {
      radius = new RadiusClient({
        server: backend.server,
        secret: backend.secret,
        ...(backend.timeoutMs === undefined ? {} : { timeoutMs: backend.timeoutMs }),
        ...(backend.retries === undefined ? {} : { retries: backend.retries }),
        ...(backend.nasIdentifier === undefined ? {} : { nasIdentifier: backend.nasIdentifier }),
      });
      eap = radiusEapFactory({
        client: radius,
        ...(backend.nasIdentifier === undefined ? {} : { nasIdentifier: backend.nasIdentifier }),
      });
    }

    let store = options.store;
    if (options.kv !== undefined) {
      const { path, storeKey } = options.kv;
      if (typeof Deno.openKv !== "function") {
        throw new ConfigError("kv", "Cannot open the SA store: Deno KV needs --unstable-kv");
      }
      try {
        kv = await KvSaStore.open(path, storeKey);
      } catch (error) {
        throw new ConfigError("kv", `Cannot open the SA store ${path}: ${_message(error)}`);
      }
      store = kv;
    }

    delivery = options.keyDelivery ?? new InProcessKeyDelivery();
    const aa = new _Aa(options.ctn, delivery, store, options.now ?? Date.now);

    if (store !== undefined) {
      let swept: { held: number; deleted: number };
      try {
        swept = await aa.sweep();
      } catch (error) {
        throw new ConfigError("kv", `Cannot read the SA store: ${_message(error)}`);
      }
      _logger.info("SA store: {held} MPA-SAs held, {deleted} expired deleted", swept);
    }

    const server = await PanaPaa.listen({
      ...options.paa,
      ctn: options.ctn,
      eap,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.sessionLifetimeMs === undefined
        ? {}
        : { sessionLifetimeMs: options.sessionLifetimeMs }),
      onKeysReady: aa.keysReady,
      onAuthorized: aa.authorized,
      onReauthorized: aa.reauthorized,
      onSessionEnd: aa.sessionEnd,
    });
    paa = server;

    if (store !== undefined) {
      timer = setInterval(() => {
        if (sweeping !== undefined) return;
        sweeping = aa.sweep().then(
          ({ deleted }) => {
            if (deleted > 0) {
              _logger.info("SA store: {deleted} expired MPA-SAs deleted", { deleted });
            }
          },
          (error: unknown) => {
            aa.counters.storeErrors++;
            _logger.error("SA store sweep failed: {error}", { error: _message(error) });
          },
        ).finally(() => sweeping = undefined);
      }, sweepIntervalMs);
    }

    const client = radius;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => closing ??= cleanup();
    return {
      address: server.address,
      get stats(): AaServiceStats {
        return {
          paa: server.stats,
          ...aa.counters,
          ...(client === undefined ? {} : { radius: client.stats }),
        };
      },
      keyDelivery: delivery,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
