/**
 * An information server for the discovery step (RFC 6252 section 7.1, section 6.3
 * step 1), as IEEE 802.21's information service: it answers "which candidate target
 * networks, with which AA, CA and AR addresses, are near this position" over UDP
 * with the codec of lib/wire/info_query.ts. Answers are ordered as
 * {@link StaticDiscovery} orders them; the query's radius narrows the table's
 * maximum distance. Malformed datagrams and datagrams that are not queries are
 * dropped, counted in {@link InfoServer.stats} and logged (LogTape category
 * `mpa.discovery`); nothing a client sends can stop the server.
 *
 * The server is stateless: a retransmitted query is answered again (the answer is
 * the same for the same table), so it keeps no table of recent request ids.
 *
 * @module
 */
import type { RemoteInfo, Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError, MalformedMessageError } from "../../lib/errors.ts";
import type { CtnInfo } from "../../lib/ports.ts";
import {
  decodeInfoMessage,
  encodeInfoAnswer,
  type InfoMessage,
} from "../../lib/wire/info_query.ts";
import { _bindUdp, _closeUdp, _family, _hostPort } from "./_info_udp.ts";
import { StaticDiscovery } from "./static_table.ts";

const _logger = getLogger(["mpa", "discovery"]);

/** Options of {@link InfoServer.listen}. */
export interface InfoServerOptions {
  /** Local address to listen on, an IP literal (`0.0.0.0`, `::`, `127.0.0.1`). */
  readonly address: string;
  /** UDP port; 0 picks a free one (see {@link InfoServer.port}). */
  readonly port: number;
  /** The CTNs the server knows (validated as `StaticDiscovery` validates them). */
  readonly table: readonly CtnInfo[];
  /** Leave out CTNs farther than this, metres, whatever the query's radius. */
  readonly maxDistance?: number;
}

/** Why the server dropped a datagram. */
export type InfoServerDropReason =
  /** Does not decode (not JSON, wrong shape, oversized, invalid UTF-8). */
  | "malformed"
  /** Decodes, but is an answer, not a query. */
  | "unexpected"
  /** The answer could not be sent (socket error). */
  | "send-failed";

/** Counters of an {@link InfoServer}, since it started. */
export interface InfoServerStats {
  /** Queries answered. */
  readonly queries: number;
  /** Answers that left CTNs out to fit one datagram. */
  readonly truncated: number;
  /** Datagrams dropped, by reason. */
  readonly dropped: Readonly<Record<InfoServerDropReason, number>>;
}

/**
 * A UDP information server answering location queries with the CTNs near the
 * position, nearest first.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { InfoServerDiscovery } from "./info_client.ts";
 * const ctn = {
 *   network: "B", aa: { address: "10.0.2.2" }, ca: { address: "10.0.2.3" }, ar: { address: "10.0.2.1" },
 *   poas: ["apB1"], cells: [{ poa: "apB1", network: "B", pos: { x: 100, y: 0 }, coverage: 60 }],
 * };
 * await using server = await InfoServer.listen({ address: "127.0.0.1", port: 0, table: [ctn] });
 * const discovery = new InfoServerDiscovery({
 *   server: { address: "127.0.0.1", port: server.port },
 *   bindAddress: "127.0.0.1",
 * });
 * assertEquals(await discovery.candidates({ x: 0, y: 0 }), [ctn]);
 * assertEquals(server.stats.queries, 1);
 * ```
 */
export class InfoServer {
  readonly #socket: Socket;
  readonly #table: StaticDiscovery;
  #queries = 0;
  #truncated = 0;
  readonly #dropped: Record<InfoServerDropReason, number> = {
    malformed: 0,
    unexpected: 0,
    "send-failed": 0,
  };
  #closed: Promise<void> | undefined;

  private constructor(socket: Socket, table: StaticDiscovery) {
    this.#socket = socket;
    this.#table = table;
    socket.on("message", (bytes: Uint8Array, rinfo: RemoteInfo) => this.#onMessage(bytes, rinfo));
    socket.on("error", (error: Error) => {
      _logger.warn("Information server socket error: {error}", { error: error.message });
    });
  }

  /**
   * Validates the table, binds the socket and starts answering.
   *
   * @param options where to listen, the table, the maximum distance
   * @returns the running server
   * @throws {ConfigError} for an invalid table, address or port; the bind error
   *   (EADDRINUSE, ...) when the socket cannot be bound
   */
  static async listen(options: InfoServerOptions): Promise<InfoServer> {
    const family = _family(options.address);
    if (family === 0) {
      throw new ConfigError(
        "address",
        `Invalid address: expected an IP literal, got ${JSON.stringify(options.address)}`,
      );
    }
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new ConfigError("port", `Invalid port: expected 0 to 65535, got ${options.port}`);
    }
    const table = new StaticDiscovery(
      options.table,
      options.maxDistance === undefined ? {} : { maxDistance: options.maxDistance },
    );
    const socket = await _bindUdp(family, options.address, options.port);
    _logger.info("Information server listening on {where} with {count} CTNs", {
      where: _hostPort(options.address, socket.address().port),
      count: table.table.length,
    });
    return new InfoServer(socket, table);
  }

  /** The bound UDP port. */
  get port(): number {
    return this.#socket.address().port;
  }

  /** The bound address. */
  get address(): string {
    return this.#socket.address().address;
  }

  /** Counters since the server started. */
  get stats(): InfoServerStats {
    return {
      queries: this.#queries,
      truncated: this.#truncated,
      dropped: { ...this.#dropped },
    };
  }

  /**
   * Stops answering and closes the socket; idempotent.
   *
   * @returns when closed
   */
  close(): Promise<void> {
    this.#closed ??= _closeUdp(this.#socket);
    return this.#closed;
  }

  /** Same as {@link InfoServer.close} (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onMessage(bytes: Uint8Array, rinfo: RemoteInfo): void {
    const from = _hostPort(rinfo.address, rinfo.port);
    let message: InfoMessage;
    try {
      message = decodeInfoMessage(bytes);
    } catch (e) {
      if (!(e instanceof MalformedMessageError)) throw e;
      this.#dropped.malformed++;
      _logger.warn("Dropped datagram from {from}: {reason}", { from, reason: e.message });
      return;
    }
    if (message.type !== "query") {
      this.#dropped.unexpected++;
      _logger.warn("Dropped datagram from {from}: an {type}, not a query", {
        from,
        type: message.type,
      });
      return;
    }
    let ctns: readonly CtnInfo[];
    try {
      ctns = this.#table.rank(message.pos, message.radius ?? Infinity).map((r) => r.ctn);
    } catch (e) {
      // The codec only lets finite positions through; keep the server alive anyway.
      this.#dropped.malformed++;
      _logger.warn("Dropped query from {from}: {reason}", { from, reason: String(e) });
      return;
    }
    const { bytes: answer, included } = encodeInfoAnswer(message.id, ctns);
    this.#queries++;
    if (included < ctns.length) this.#truncated++;
    _logger.debug("Query {id} from {from}: {count} CTNs", {
      id: message.id,
      from,
      count: included,
    });
    this.#socket.send(answer, rinfo.port, rinfo.address, (error) => {
      if (error === null || error === undefined) return;
      this.#dropped["send-failed"]++;
      _logger.warn("Answer to {from} not sent: {error}", { from, error: error.message });
    });
  }
}
