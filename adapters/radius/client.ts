/**
 * RADIUS client for the authentication agent's AAA backend: sends Access-Requests
 * over UDP to one RADIUS server, retransmits them (RFC 2865 section 2.5), and
 * resolves with the first Access-Accept, Access-Reject or Access-Challenge that
 * comes from the server's address and port, answers an outstanding identifier, and
 * carries a valid Response Authenticator (RFC 2865 section 3) and Message-
 * Authenticator (RFC 3579 section 3.2). Anything else is dropped with one log line
 * (LogTape category `mpa.radius`) and a counter in {@link RadiusClient.stats}.
 *
 * UDP goes through `node:dgram` (Deno's Node compatibility layer): in Deno 2.9
 * `Deno.listenDatagram` still needs the `--unstable-net` flag, which neither
 * `deno run -A` nor vitest's worker processes pass.
 *
 * The client adds a Message-Authenticator, as the first attribute, to every
 * Access-Request, and by default refuses responses without one: both are the
 * mitigations of the BlastRADIUS forgery (CVE-2024-3596).
 *
 * @module
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError, MalformedMessageError, ProtocolViolationError } from "../../lib/errors.ts";
import {
  decodeRadius,
  encodeRadius,
  mppeMsk,
  type RadiusAttribute,
  radiusAttribute,
  radiusCodeName,
  type RadiusPacket,
  type RadiusSecret,
  verifyMessageAuthenticator,
  verifyResponseAuthenticator,
  withMessageAuthenticator,
} from "../../lib/wire/radius.ts";
import {
  RADIUS_AUTH_PORT,
  RADIUS_AUTHENTICATOR_LENGTH,
  RADIUS_CLIENT_DEFAULTS,
  RadiusAttributeType,
  RadiusCode,
} from "../../lib/wire/radius_constants.ts";

const _logger = getLogger(["mpa", "radius"]);

/** Where the RADIUS server listens. */
export interface RadiusServerAddress {
  /** IPv4 or IPv6 address literal (shared secrets are configured per address). */
  readonly host: string;
  /** UDP port; default 1812 (RFC 2865 section 3). */
  readonly port?: number;
}

/** Options of {@link RadiusClient}. */
export interface RadiusClientOptions {
  /** The RADIUS server. */
  readonly server: RadiusServerAddress;
  /** The shared secret; never logged. */
  readonly secret: RadiusSecret;
  /**
   * Wait for a response before the first retransmission, ms; doubles with each
   * retransmission (RFC 5080 section 2.2.1). Default 1000.
   */
  readonly timeoutMs?: number;
  /** Retransmissions after the first transmission. Default 2 (3 transmissions). */
  readonly retries?: number;
  /**
   * NAS-Identifier added to requests that carry neither NAS-Identifier nor a NAS
   * address (RFC 2865 section 4.1 requires one of them). Default `mpa`.
   */
  readonly nasIdentifier?: string;
  /** Local address to bind; default all addresses of the server's family. */
  readonly bindAddress?: string;
  /**
   * Drop responses without a Message-Authenticator. Default true: RFC 3579 requires
   * one with EAP-Message, and requiring it always defeats BlastRADIUS forgeries.
   */
  readonly requireMessageAuthenticator?: boolean;
}

/** Options of {@link RadiusClient.accessRequest}. */
export interface AccessRequestOptions {
  /** Abandons the request: retransmission stops and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A verified response with the request it answers. */
export interface RadiusReply {
  /** The response: Access-Accept, Access-Reject or Access-Challenge. */
  readonly packet: RadiusPacket;
  /**
   * The Access-Request as sent, with its identifier and Request Authenticator (needed
   * to decrypt MS-MPPE keys, see {@link RadiusClient.msk}).
   */
  readonly request: RadiusPacket;
  /** The request's bytes as sent. */
  readonly requestBytes: Uint8Array;
  /** The response's bytes as received (padding after its Length removed). */
  readonly responseBytes: Uint8Array;
  /** How many times the request was sent, 1 without retransmission. */
  readonly transmissions: number;
  /** Time from the first transmission to the verified response, ms. */
  readonly rttMs: number;
}

/** Why the client dropped a datagram. */
export type RadiusDropReason =
  /** Not from the server's address and port. */
  | "wrong-source"
  /** Does not parse as RADIUS (truncated, bad lengths, oversized). */
  | "malformed"
  /** Parses, but RADIUS forbids it (EAP-Message without Message-Authenticator, ...). */
  | "protocol-violation"
  /** Its identifier matches no outstanding request (late, duplicate or forged). */
  | "unknown-identifier"
  /** Not an Access-Accept, Access-Reject or Access-Challenge. */
  | "unexpected-code"
  /** The Response Authenticator does not verify (RFC 2865 section 3). */
  | "bad-response-authenticator"
  /** The Message-Authenticator does not verify (RFC 3579 section 3.2). */
  | "bad-message-authenticator"
  /** No Message-Authenticator while one is required. */
  | "missing-message-authenticator";

/** Counters of a {@link RadiusClient}, since it was created. */
export interface RadiusClientStats {
  /** Access-Requests started. */
  readonly requests: number;
  /** Datagrams sent, retransmissions included. */
  readonly transmissions: number;
  /** Retransmissions alone. */
  readonly retransmissions: number;
  /** Verified responses delivered. */
  readonly replies: number;
  /** Requests that ended unanswered ({@link RadiusUnreachableError}). */
  readonly unanswered: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Record<RadiusDropReason, number>>;
}

/**
 * The RADIUS server did not answer: every transmission of a request timed out. The
 * message names the server; `cause` holds the last socket error, if any.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new RadiusUnreachableError("192.0.2.1:1812", 3, 7000);
 * assertEquals(e.message, "RADIUS server unreachable: no answer from 192.0.2.1:1812 to 3 transmissions in 7000 ms");
 * assertEquals(e.code, "unreachable");
 * ```
 */
export class RadiusUnreachableError extends Error {
  /** Always `RadiusUnreachableError`. */
  override readonly name = "RadiusUnreachableError";
  /** Matches the `unreachable` code of `PortError` in lib/ports.ts. */
  readonly code = "unreachable" as const;
  /** The server, `host:port`. */
  readonly server: string;
  /** How many times the request was sent. */
  readonly transmissions: number;

  /**
   * Creates the error; the message names the server and the attempts.
   *
   * @param server the server, `host:port`
   * @param transmissions how many times the request was sent
   * @param elapsedMs how long the client waited in all, ms
   * @param options `cause`: the last socket error, if any
   */
  constructor(server: string, transmissions: number, elapsedMs: number, options?: ErrorOptions) {
    super(
      `RADIUS server unreachable: no answer from ${server} to ${transmissions} transmissions in ${
        Math.round(elapsedMs)
      } ms`,
      options,
    );
    this.server = server;
    this.transmissions = transmissions;
  }
}

/**
 * A request was made on, or cut short by, a closed {@link RadiusClient}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(new RadiusClientClosedError("192.0.2.1:1812").code, "closed");
 * ```
 */
export class RadiusClientClosedError extends Error {
  /** Always `RadiusClientClosedError`. */
  override readonly name = "RadiusClientClosedError";
  /** Always `closed`. */
  readonly code = "closed" as const;

  /**
   * Creates the error; the message names the server.
   *
   * @param server the server, `host:port`
   */
  constructor(server: string) {
    super(`RADIUS client closed: requests to ${server} abandoned`);
  }
}

interface _Pending {
  readonly request: RadiusPacket;
  readonly bytes: Uint8Array;
  readonly startedAt: number;
  transmissions: number;
  waitMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  lastError: Error | undefined;
  readonly resolve: (reply: RadiusReply) => void;
  readonly reject: (error: unknown) => void;
  readonly cleanup: () => void;
}

/** Canonical text of an IP address, so that `::1` and `0::1` compare equal. */
function _canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return address.toLowerCase();
  }
}

function _emptyDrops(): Record<RadiusDropReason, number> {
  return {
    "wrong-source": 0,
    "malformed": 0,
    "protocol-violation": 0,
    "unknown-identifier": 0,
    "unexpected-code": 0,
    "bad-response-authenticator": 0,
    "bad-message-authenticator": 0,
    "missing-message-authenticator": 0,
  };
}

/**
 * A RADIUS client bound to one ephemeral UDP port and one server. Requests run
 * concurrently, up to 256 outstanding (one per identifier); more wait for an
 * identifier to free up. Retransmissions reuse the identifier, the Request
 * Authenticator and the source port (RFC 2865 section 2.5).
 *
 * The EAP conversation of the authentication agent drives it one round trip at a
 * time: put the EAP-Response in `eapMessageAttributes`, copy the State of the last
 * Access-Challenge, and read the next EAP-Request with `joinEapMessage`; on
 * Access-Accept, {@link RadiusClient.msk} gives the MSK.
 *
 * @example
 * ```ts ignore
 * import { eapMessageAttributes, joinEapMessage, radiusAttribute } from "../../lib/wire/radius.ts";
 * await using client = new RadiusClient({ server: { host: "127.0.0.1", port: 1812 }, secret: "s3cret" });
 * const reply = await client.accessRequest([
 *   radiusAttribute(1, "alice@example"),
 *   ...eapMessageAttributes(eapResponseIdentity),
 * ]);
 * const eapRequest = joinEapMessage(reply.packet);
 * ```
 */
export class RadiusClient {
  readonly #socket: Socket;
  readonly #ready: Promise<void>;
  readonly #host: string;
  readonly #port: number;
  readonly #label: string;
  readonly #secret: RadiusSecret;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #nasIdentifier: string;
  readonly #requireMessageAuthenticator: boolean;
  readonly #pending = new Map<number, _Pending>();
  /** Identifiers allocated: outstanding requests and requests being built. */
  readonly #inUse = new Set<number>();
  readonly #idWaiters = new Set<() => void>();
  #nextId: number;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #stats = {
    requests: 0,
    transmissions: 0,
    retransmissions: 0,
    replies: 0,
    unanswered: 0,
    dropped: _emptyDrops(),
  };

  /**
   * Opens the UDP socket (bound to an ephemeral port) for one server.
   *
   * @param options server, shared secret, timers, NAS-Identifier
   * @throws {ConfigError} for a host that is not an IP address, a bad port, timer
   *   or retry count, or an empty secret
   */
  constructor(options: RadiusClientOptions) {
    const { host } = options.server;
    const family = isIP(host);
    if (family === 0) {
      throw new ConfigError(
        "server.host",
        `Invalid RADIUS server host: expected an IP address, got "${host}"`,
      );
    }
    const port = options.server.port ?? RADIUS_AUTH_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError("server.port", `Invalid RADIUS server port: ${port}`);
    }
    const timeoutMs = options.timeoutMs ?? RADIUS_CLIENT_DEFAULTS.timeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError("timeoutMs", `Invalid RADIUS timeout: ${timeoutMs} ms`);
    }
    const retries = options.retries ?? RADIUS_CLIENT_DEFAULTS.retries;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new ConfigError("retries", `Invalid RADIUS retry count: ${retries}`);
    }
    const secret = options.secret;
    if (secret.length === 0) {
      throw new ConfigError("secret", "Invalid RADIUS shared secret: empty");
    }
    this.#host = _canonicalIp(host);
    this.#port = port;
    this.#label = family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    this.#secret = typeof secret === "string" ? secret : secret.slice();
    this.#timeoutMs = timeoutMs;
    this.#retries = retries;
    this.#nasIdentifier = options.nasIdentifier ?? RADIUS_CLIENT_DEFAULTS.nasIdentifier;
    this.#requireMessageAuthenticator = options.requireMessageAuthenticator ?? true;
    this.#nextId = crypto.getRandomValues(new Uint8Array(1))[0]!;

    this.#socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
    this.#socket.on("message", (message: Uint8Array, remote: RemoteInfo) => {
      this.#onMessage(new Uint8Array(message), remote);
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#socket.once("error", reject);
      this.#socket.bind(
        { port: 0, address: options.bindAddress ?? (family === 6 ? "::" : "0.0.0.0") },
        () => {
          this.#socket.off("error", reject);
          this.#socket.on("error", (error: Error) => {
            _logger.warn("RADIUS socket error towards {server}: {error}", {
              server: this.#label,
              error: error.message,
            });
          });
          resolve();
        },
      );
    });
    // A bind failure surfaces from accessRequest(); keep it from being unhandled here.
    this.#ready.catch(() => {});
  }

  /** The server, `host:port`, as named in errors and logs. */
  get server(): string {
    return this.#label;
  }

  /** A snapshot of the counters. */
  get stats(): RadiusClientStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /**
   * The local address and port the socket is bound to.
   *
   * @returns the address and port, once bound
   */
  async localAddress(): Promise<{ readonly address: string; readonly port: number }> {
    await this.#ready;
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /**
   * Sends an Access-Request with these attributes and waits for the verified
   * response. The client sets the identifier and a random Request Authenticator, adds
   * NAS-Identifier when no NAS attribute is given, and signs with a
   * Message-Authenticator.
   *
   * @param attributes User-Name, EAP-Message(s), State, Calling-Station-Id, ...
   * @param options abort signal
   * @returns the response and the request it answers
   * @throws {RadiusUnreachableError} when every transmission timed out
   * @throws {RadiusClientClosedError} when the client is or gets closed
   * @throws {ProtocolViolationError} when the request does not fit in 4096 bytes
   * @throws the signal's reason when aborted
   */
  async accessRequest(
    attributes: readonly RadiusAttribute[],
    options: AccessRequestOptions = {},
  ): Promise<RadiusReply> {
    const { signal } = options;
    if (this.#closed) throw new RadiusClientClosedError(this.#label);
    signal?.throwIfAborted();
    await this.#ready;
    const identifier = await this.#allocateIdentifier(signal);
    if (this.#closed) {
      this.#releaseIdentifier(identifier);
      throw new RadiusClientClosedError(this.#label);
    }
    let request: RadiusPacket;
    let bytes: Uint8Array;
    try {
      const hasNas = attributes.some((a) =>
        a.type === RadiusAttributeType.NasIdentifier ||
        a.type === RadiusAttributeType.NasIpAddress ||
        a.type === RadiusAttributeType.NasIpv6Address
      );
      request = withMessageAuthenticator({
        code: RadiusCode.AccessRequest,
        identifier,
        authenticator: crypto.getRandomValues(new Uint8Array(RADIUS_AUTHENTICATOR_LENGTH)),
        attributes: hasNas ? attributes : [
          ...attributes,
          radiusAttribute(RadiusAttributeType.NasIdentifier, this.#nasIdentifier),
        ],
      }, this.#secret);
      bytes = encodeRadius(request);
    } catch (error) {
      this.#releaseIdentifier(identifier);
      throw error;
    }
    this.#stats.requests++;
    return new Promise<RadiusReply>((resolve, reject) => {
      const onAbort = () => this.#finish(identifier, () => reject(signal?.reason));
      signal?.addEventListener("abort", onAbort, { once: true });
      const pending: _Pending = {
        request,
        bytes,
        startedAt: performance.now(),
        transmissions: 0,
        waitMs: this.#timeoutMs,
        timer: undefined,
        lastError: undefined,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      this.#pending.set(identifier, pending);
      this.#transmit(identifier, pending);
    });
  }

  /**
   * The MSK an Access-Accept delivers in its MS-MPPE keys (RFC 2548), decrypted with
   * this client's secret: MSK = MS-MPPE-Recv-Key | MS-MPPE-Send-Key.
   *
   * @param reply a reply from {@link RadiusClient.accessRequest}
   * @returns the 64-byte MSK, or undefined when the reply carries no MS-MPPE keys
   * @throws {ProtocolViolationError} or {MalformedMessageError} for broken keys
   */
  msk(reply: RadiusReply): Uint8Array | undefined {
    return mppeMsk(reply.packet, this.#secret, reply.request.authenticator);
  }

  /**
   * Closes the socket; outstanding requests reject with {@link RadiusClientClosedError}.
   * Idempotent.
   *
   * @returns when the socket is closed
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const identifier of [...this.#pending.keys()]) {
      const pending = this.#pending.get(identifier)!;
      this.#finish(identifier, () => pending.reject(new RadiusClientClosedError(this.#label)));
    }
    for (const wake of this.#idWaiters) wake();
    this.#closing = this.#ready.then(
      () => new Promise<void>((resolve) => this.#socket.close(() => resolve())),
      () => {
        try {
          this.#socket.close();
        } catch {
          // never bound: nothing to close
        }
      },
    );
    return this.#closing;
  }

  /**
   * Closes the client (`await using`).
   *
   * @returns when the socket is closed
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #allocateIdentifier(signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      if (this.#closed) throw new RadiusClientClosedError(this.#label);
      signal?.throwIfAborted();
      for (let n = 0; n < 256; n++) {
        const id = (this.#nextId + n) & 0xff;
        if (!this.#inUse.has(id)) {
          this.#nextId = (id + 1) & 0xff;
          this.#inUse.add(id);
          return id;
        }
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#idWaiters.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        this.#idWaiters.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  #releaseIdentifier(identifier: number): void {
    this.#pending.delete(identifier);
    this.#inUse.delete(identifier);
    const first = this.#idWaiters.values().next();
    if (!first.done) first.value();
  }

  #finish(identifier: number, settle: () => void): void {
    const pending = this.#pending.get(identifier);
    if (pending === undefined) return;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    pending.cleanup();
    this.#releaseIdentifier(identifier);
    settle();
  }

  #transmit(identifier: number, pending: _Pending): void {
    pending.transmissions++;
    this.#stats.transmissions++;
    if (pending.transmissions > 1) this.#stats.retransmissions++;
    this.#socket.send(pending.bytes, this.#port, this.#host, (error: Error | null) => {
      if (error === null) return;
      pending.lastError = error;
      _logger.debug("RADIUS send to {server} failed: {error}", {
        server: this.#label,
        error: error.message,
      });
    });
    pending.timer = setTimeout(() => this.#onTimeout(identifier, pending), pending.waitMs);
  }

  #onTimeout(identifier: number, pending: _Pending): void {
    if (this.#pending.get(identifier) !== pending) return;
    if (pending.transmissions <= this.#retries) {
      pending.waitMs *= 2;
      _logger.debug("RADIUS retransmission {n} of identifier {identifier} to {server}", {
        n: pending.transmissions,
        identifier,
        server: this.#label,
      });
      this.#transmit(identifier, pending);
      return;
    }
    this.#stats.unanswered++;
    const error = new RadiusUnreachableError(
      this.#label,
      pending.transmissions,
      performance.now() - pending.startedAt,
      pending.lastError === undefined ? undefined : { cause: pending.lastError },
    );
    _logger.warn("{message}", { message: error.message });
    this.#finish(identifier, () => pending.reject(error));
  }

  #drop(reason: RadiusDropReason, remote: RemoteInfo, detail: string): void {
    this.#stats.dropped[reason]++;
    _logger.warn("Dropped RADIUS datagram from {source}: {reason}: {detail}", {
      source: `${remote.address}:${remote.port}`,
      reason,
      detail,
    });
  }

  #onMessage(bytes: Uint8Array, remote: RemoteInfo): void {
    if (_canonicalIp(remote.address) !== this.#host || remote.port !== this.#port) {
      this.#drop("wrong-source", remote, `expected ${this.#label}`);
      return;
    }
    let packet: RadiusPacket;
    try {
      packet = decodeRadius(bytes);
    } catch (error) {
      if (error instanceof MalformedMessageError) {
        this.#drop("malformed", remote, error.message);
      } else if (error instanceof ProtocolViolationError) {
        this.#drop("protocol-violation", remote, error.message);
      } else throw error;
      return;
    }
    const name = `${radiusCodeName(packet.code)} identifier ${packet.identifier}`;
    const pending = this.#pending.get(packet.identifier);
    if (pending === undefined) {
      this.#drop("unknown-identifier", remote, name);
      return;
    }
    if (
      packet.code !== RadiusCode.AccessAccept && packet.code !== RadiusCode.AccessReject &&
      packet.code !== RadiusCode.AccessChallenge
    ) {
      this.#drop("unexpected-code", remote, name);
      return;
    }
    const requestAuthenticator = pending.request.authenticator;
    if (!verifyResponseAuthenticator(bytes, requestAuthenticator, this.#secret)) {
      this.#drop("bad-response-authenticator", remote, name);
      return;
    }
    const hasMessageAuthenticator = packet.attributes.some((a) =>
      a.type === RadiusAttributeType.MessageAuthenticator
    );
    if (!hasMessageAuthenticator) {
      if (this.#requireMessageAuthenticator) {
        this.#drop("missing-message-authenticator", remote, name);
        return;
      }
    } else if (!verifyMessageAuthenticator(bytes, this.#secret, requestAuthenticator)) {
      this.#drop("bad-message-authenticator", remote, name);
      return;
    }
    this.#stats.replies++;
    const length = (bytes[2]! << 8) | bytes[3]!;
    const reply: RadiusReply = {
      packet,
      request: pending.request,
      requestBytes: pending.bytes,
      responseBytes: bytes.slice(0, length),
      transmissions: pending.transmissions,
      rttMs: performance.now() - pending.startedAt,
    };
    this.#finish(packet.identifier, () => pending.resolve(reply));
  }
}
