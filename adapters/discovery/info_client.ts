/**
 * {@link Discovery} through an information server (RFC 6252 section 7.1: "the mobile
 * node starts the discovery process by querying a specific server and obtains the
 * required parameters"), the client of adapters/discovery/info_server.ts. Each
 * call sends one query datagram (lib/wire/info_query.ts) from a fresh ephemeral
 * socket, so that it follows the MN's current address after a link switch, and
 * retransmits it with the same request id, the wait doubling each time, until an
 * answer with that id comes from the server's address and port. Other datagrams are
 * dropped, counted in {@link InfoServerDiscovery.stats} and logged (LogTape category
 * `mpa.discovery`).
 *
 * @module
 */
import type { RemoteInfo, Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError, MalformedMessageError } from "../../lib/errors.ts";
import type { Position } from "../../lib/metrics/link_sample.ts";
import { type CtnInfo, type Discovery, type PortCallOptions, PortError } from "../../lib/ports.ts";
import {
  decodeInfoMessage,
  encodeInfoMessage,
  INFO_QUERY_MAX_ID,
  type InfoAnswer,
  type InfoMessage,
  type InfoQuery,
} from "../../lib/wire/info_query.ts";
import { _bindUdp, _canonicalIp, _closeUdp, _family, _hostPort } from "./_info_udp.ts";

const _logger = getLogger(["mpa", "discovery"]);

/** Options of {@link InfoServerDiscovery}. */
export interface InfoServerDiscoveryOptions {
  /** The information server: an IP literal and its UDP port. */
  readonly server: { readonly address: string; readonly port: number };
  /** Wait for an answer before the first retransmission, ms; doubles each time. Default 250. */
  readonly timeoutMs?: number;
  /** Retransmissions after the first transmission. Default 2 (3 transmissions). */
  readonly retries?: number;
  /** Radius sent with a position, metres: only CTNs this near. Default: none (server's limit). */
  readonly radius?: number;
  /** Local address to send from; default all addresses of the server's family. */
  readonly bindAddress?: string;
}

/** Why the client dropped a datagram. */
export type InfoClientDropReason =
  /** Not from the server's address and port. */
  | "wrong-source"
  /** Does not decode. */
  | "malformed"
  /** A query, or an answer to another request id (late answer to an abandoned call). */
  | "unexpected";

/** Counters of an {@link InfoServerDiscovery}, since it was created. */
export interface InfoClientStats {
  /** Calls of {@link InfoServerDiscovery.candidates}. */
  readonly queries: number;
  /** Datagrams sent, retransmissions included. */
  readonly transmissions: number;
  /** Retransmissions alone. */
  readonly retransmissions: number;
  /** Answers delivered. */
  readonly answers: number;
  /** Answers flagged truncated by the server. */
  readonly truncated: number;
  /** Calls that ended without an answer (`timeout`). */
  readonly unanswered: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Record<InfoClientDropReason, number>>;
}

/**
 * Discovery by querying an information server over UDP.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PortError } from "../../lib/ports.ts";
 * import { InfoServer } from "./info_server.ts";
 * await using server = await InfoServer.listen({ address: "127.0.0.1", port: 0, table: [] });
 * const port = server.port;
 * await server.close();
 * // Nobody answers on that port any more: the call times out after 3 transmissions.
 * const d = new InfoServerDiscovery({
 *   server: { address: "127.0.0.1", port },
 *   bindAddress: "127.0.0.1",
 *   timeoutMs: 10,
 * });
 * const e = await assertRejects(() => d.candidates(), PortError);
 * assertEquals([e.port, e.code], ["Discovery", "timeout"]);
 * assertEquals(d.stats.transmissions, 3);
 * ```
 */
export class InfoServerDiscovery implements Discovery {
  readonly #server: { readonly address: string; readonly port: number };
  readonly #family: 4 | 6;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #radius: number | undefined;
  readonly #bindAddress: string;
  #queries = 0;
  #transmissions = 0;
  #answers = 0;
  #truncated = 0;
  #unanswered = 0;
  readonly #dropped: Record<InfoClientDropReason, number> = {
    "wrong-source": 0,
    malformed: 0,
    unexpected: 0,
  };

  /**
   * Checks the options; no socket is opened until a call.
   *
   * @param options the server, timers, radius
   * @throws {ConfigError} naming the offending option
   */
  constructor(options: InfoServerDiscoveryOptions) {
    const family = _family(options.server.address);
    if (family === 0) {
      throw new ConfigError(
        "server.address",
        `Invalid server.address: expected an IP literal, got ${
          JSON.stringify(options.server.address)
        }`,
      );
    }
    const port = options.server.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError("server.port", `Invalid server.port: expected 1 to 65535, got ${port}`);
    }
    const timeoutMs = options.timeoutMs ?? 250;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError("timeoutMs", `Invalid timeoutMs: expected > 0, got ${timeoutMs}`);
    }
    const retries = options.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
      throw new ConfigError("retries", `Invalid retries: expected 0 to 10, got ${retries}`);
    }
    const radius = options.radius;
    if (radius !== undefined && !(Number.isFinite(radius) && radius > 0)) {
      throw new ConfigError("radius", `Invalid radius: expected > 0, got ${radius}`);
    }
    const bindAddress = options.bindAddress ?? (family === 6 ? "::" : "0.0.0.0");
    if (_family(bindAddress) !== family) {
      throw new ConfigError(
        "bindAddress",
        `Invalid bindAddress: expected an IPv${family} literal, got ${JSON.stringify(bindAddress)}`,
      );
    }
    this.#server = { address: _canonicalIp(options.server.address), port };
    this.#family = family;
    this.#timeoutMs = timeoutMs;
    this.#retries = retries;
    this.#radius = radius;
    this.#bindAddress = bindAddress;
  }

  /** Counters since the client was created. */
  get stats(): InfoClientStats {
    return {
      queries: this.#queries,
      transmissions: this.#transmissions,
      retransmissions: this.#transmissions - this.#queries,
      answers: this.#answers,
      truncated: this.#truncated,
      unanswered: this.#unanswered,
      dropped: { ...this.#dropped },
    };
  }

  /**
   * Queries the server for the CTNs near a position (RFC 6252 section 7.1).
   *
   * @param position the MN's position; omitted: every CTN the server knows
   * @param options abort signal
   * @returns the candidates, nearest first (fewer than the server knows when its
   *   answer was truncated to one datagram)
   * @throws {PortError} `timeout` (no answer to any transmission), `unreachable`
   *   (the socket could not be opened or the query not sent), `protocol` (a
   *   position with a non-finite coordinate), `aborted`
   */
  async candidates(
    position?: Position,
    options: PortCallOptions = {},
  ): Promise<readonly CtnInfo[]> {
    const signal = options.signal;
    if (signal?.aborted === true) throw _aborted(signal);
    const query: InfoQuery = {
      type: "query",
      id: crypto.getRandomValues(new Uint32Array(1))[0]! % (INFO_QUERY_MAX_ID + 1),
      ...(position === undefined ? {} : { pos: { x: position.x, y: position.y } }),
      ...(position === undefined || this.#radius === undefined ? {} : { radius: this.#radius }),
    };
    let bytes: Uint8Array;
    try {
      bytes = encodeInfoMessage(query);
    } catch (e) {
      throw new PortError(
        "Discovery",
        "protocol",
        `Invalid query: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    let socket: Socket;
    try {
      socket = await _bindUdp(this.#family, this.#bindAddress, 0);
    } catch (e) {
      throw new PortError(
        "Discovery",
        "unreachable",
        `Information server unreachable: cannot open a socket: ${
          e instanceof Error ? e.message : String(e)
        }`,
        { cause: e },
      );
    }
    this.#queries++;
    try {
      const answer = await this.#exchange(socket, query.id, bytes, signal);
      this.#answers++;
      if (answer.truncated === true) this.#truncated++;
      return answer.ctns;
    } finally {
      await _closeUdp(socket);
    }
  }

  #exchange(
    socket: Socket,
    id: number,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<InfoAnswer> {
    const server = _hostPort(this.#server.address, this.#server.port);
    const started = performance.now();
    return new Promise<InfoAnswer>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let sent = 0;
      const finish = (outcome: () => void) => {
        if (timer !== undefined) clearTimeout(timer);
        socket.off("message", onMessage);
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = () => finish(() => reject(_aborted(signal!)));
      const onMessage = (data: Uint8Array, rinfo: RemoteInfo) => {
        if (
          _canonicalIp(rinfo.address) !== this.#server.address || rinfo.port !== this.#server.port
        ) {
          this.#drop("wrong-source", `from ${_hostPort(rinfo.address, rinfo.port)}`);
          return;
        }
        let message: InfoMessage;
        try {
          message = decodeInfoMessage(data);
        } catch (e) {
          if (!(e instanceof MalformedMessageError)) throw e;
          this.#drop("malformed", e.message);
          return;
        }
        if (message.type !== "answer" || message.id !== id) {
          this.#drop("unexpected", `${message.type} ${message.id}, waiting for answer ${id}`);
          return;
        }
        finish(() => resolve(message));
      };
      const transmit = () => {
        if (sent > this.#retries) {
          this.#unanswered++;
          finish(() =>
            reject(
              new PortError(
                "Discovery",
                "timeout",
                `Information server did not answer: no answer from ${server} to ${sent} queries in ${
                  Math.round(performance.now() - started)
                } ms`,
              ),
            )
          );
          return;
        }
        const wait = this.#timeoutMs * 2 ** sent;
        sent++;
        this.#transmissions++;
        socket.send(bytes, this.#server.port, this.#server.address, (error) => {
          if (error === null || error === undefined) return;
          finish(() =>
            reject(
              new PortError(
                "Discovery",
                "unreachable",
                `Information server unreachable: query to ${server} not sent: ${error.message}`,
                { cause: error },
              ),
            )
          );
        });
        timer = setTimeout(transmit, wait);
      };
      socket.on("message", onMessage);
      signal?.addEventListener("abort", onAbort, { once: true });
      transmit();
    });
  }

  #drop(reason: InfoClientDropReason, detail: string): void {
    this.#dropped[reason]++;
    _logger.warn("Dropped datagram ({reason}): {detail}", { reason, detail });
  }
}

function _aborted(signal: AbortSignal): PortError {
  return new PortError("Discovery", "aborted", "Discovery aborted: the caller's signal fired", {
    cause: signal.reason,
  });
}
