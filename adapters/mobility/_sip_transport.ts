/**
 * Private SIP machinery shared by the mobile node's user agent (`sip_ua.ts`) and the
 * correspondent (`sip_cn.ts`): decoding with counted drops of malformed datagrams,
 * client transactions over UDP driven by the pure reducer of
 * `lib/sip/client_transaction.ts` (RFC 3261 section 17.1), and a server-transaction
 * cache that answers a retransmitted request with the last response sent (sections
 * 17.2.1, 17.2.2), on any number of bound transports (one per care-of address).
 *
 * Responses go to the source address and port of the request (symmetric response
 * routing, RFC 3581 section 4), which is where the peer's socket listens.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import {
  clientTransactionDeadline,
  type ClientTransactionState,
  SIP_TIMERS,
  type SipTimers,
  startClientTransaction,
  stepClientTransaction,
} from "../../lib/sip/client_transaction.ts";
import { PortError } from "../../lib/ports.ts";
import {
  callId,
  cseq,
  decodeSip,
  encodeSip,
  header,
  headers,
  type SipRequest,
  type SipResponse,
  topVia,
  validateSipMessage,
} from "../../lib/wire/sip.ts";
import { SIP_REASON_PHRASES } from "../../lib/wire/sip_constants.ts";
import type { DatagramEndpoint, DatagramTransport } from "./datagram_transport.ts";

/** The SIP adapters' logger. */
export const _logger = getLogger(["mpa", "sip"]);

/** Epoch milliseconds with sub-millisecond resolution. */
export function _preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Random bytes from WebCrypto. */
export function _cryptoRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** The usual reason phrase of a status code, or "". */
export function _reasonPhrase(status: number): string {
  return SIP_REASON_PHRASES.get(status) ?? "";
}

/** Counters of a {@link _SipNode}. */
export interface _SipNodeStats {
  /** Datagrams that did not decode or validate as SIP (dropped). */
  malformed: number;
  /** Requests retransmitted by client transactions (Timer A / E). */
  retransmissions: number;
  /** Retransmitted requests answered again from the server-transaction cache. */
  requestRetransmissionsAnswered: number;
  /** Responses matching no client transaction (handed to the stray handler). */
  strayResponses: number;
}

/** Hands a request to the UA core; `respond` sends (and caches) a response. */
export type _RequestHandler = (
  request: SipRequest,
  from: DatagramEndpoint,
  transport: DatagramTransport,
  respond: (response: SipResponse) => void,
) => void;

/** Options of {@link _SipNode}. */
export interface _SipNodeOptions {
  readonly timers: SipTimers;
  readonly now: () => number;
  readonly port: PortError["port"];
  readonly onRequest: _RequestHandler;
  readonly onStrayResponse?: (
    response: SipResponse,
    from: DatagramEndpoint,
    transport: DatagramTransport,
  ) => void;
}

/** Options of {@link _SipNode.request}. */
export interface _RequestOptions {
  readonly signal?: AbortSignal;
  readonly onProvisional?: (response: SipResponse) => void;
}

interface _Client {
  state: ClientTransactionState;
  readonly request: SipRequest;
  readonly bytes: Uint8Array;
  readonly to: DatagramEndpoint;
  readonly transport: DatagramTransport;
  timer: ReturnType<typeof setTimeout> | undefined;
  lastResponse: SipResponse | undefined;
  readonly settle: (result: SipResponse | PortError) => void;
  settled: boolean;
  readonly options: _RequestOptions;
}

interface _Server {
  response: { bytes: Uint8Array; to: DatagramEndpoint; transport: DatagramTransport } | undefined;
  readonly expires: number;
}

function _key(branch: string | undefined, method: string): string {
  return `${branch ?? ""}|${method}`;
}

/**
 * The ACK of a non-2xx final response, built by the INVITE client transaction (RFC
 * 3261 section 17.1.1.3): the INVITE's Request-URI, Call-ID, From, top Via (same
 * branch) and Route, the response's To, CSeq number with method ACK.
 */
export function _nonSuccessAck(invite: SipRequest, response: SipResponse): SipRequest {
  const copy = (name: string) => headers(invite, name).map((value) => ({ name, value }));
  const top = header(invite, "Via")!;
  return {
    kind: "request",
    method: "ACK",
    uri: invite.uri,
    version: invite.version,
    headers: [
      { name: "Via", value: top.split(",")[0]!.trim() },
      { name: "Max-Forwards", value: "70" },
      { name: "To", value: header(response, "To")! },
      { name: "From", value: header(invite, "From")! },
      { name: "Call-ID", value: callId(invite) },
      { name: "CSeq", value: `${cseq(invite).seq} ACK` },
      ...copy("Route"),
      { name: "Content-Length", value: "0" },
    ],
    body: new Uint8Array(0),
  };
}

/** Whether an error from a socket send or bind means the destination or source is unusable. */
export function _unreachable(error: unknown): PortError {
  if (error instanceof PortError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new PortError(
    "MobilityProtocol",
    "unreachable",
    `UDP send failed: ${typeof code === "string" ? code : String(error)}`,
    { cause: error },
  );
}

/** SIP over one or more bound datagram transports. */
export class _SipNode {
  readonly #options: _SipNodeOptions;
  readonly #clients = new Map<string, _Client>();
  readonly #servers = new Map<string, _Server>();
  readonly #transports = new Set<DatagramTransport>();
  readonly stats: _SipNodeStats = {
    malformed: 0,
    retransmissions: 0,
    requestRetransmissionsAnswered: 0,
    strayResponses: 0,
  };
  #closed = false;

  constructor(options: _SipNodeOptions) {
    this.#options = options;
  }

  get timers(): SipTimers {
    return this.#options.timers ?? SIP_TIMERS;
  }

  /** Receives SIP on a transport from now on. */
  attach(transport: DatagramTransport): void {
    this.#transports.add(transport);
    transport.onMessage((bytes, from) => this.#receive(bytes, from, transport));
  }

  /** Stops receiving on a transport and closes it. */
  async detach(transport: DatagramTransport): Promise<void> {
    this.#transports.delete(transport);
    await transport.close();
  }

  /** Sends a message without a transaction (ACK for a 2xx, a response). */
  async send(
    msg: SipRequest | SipResponse,
    to: DatagramEndpoint,
    transport: DatagramTransport,
  ): Promise<void> {
    await transport.send(encodeSip(msg), to);
  }

  #receive(bytes: Uint8Array, from: DatagramEndpoint, transport: DatagramTransport): void {
    if (this.#closed) return;
    let msg;
    try {
      msg = validateSipMessage(decodeSip(bytes));
    } catch (error) {
      this.stats.malformed++;
      _logger.debug("Dropped a malformed SIP datagram from {from}: {error}", {
        from: `${from.address}:${from.port}`,
        error: String(error),
      });
      return;
    }
    try {
      if (msg.kind === "response") this.#onResponse(msg, from, transport);
      else this.#onRequest(msg, from, transport);
    } catch (error) {
      // A well-formed message the core cannot handle (bad Via, SDP, ...): counted, dropped.
      this.stats.malformed++;
      _logger.debug("Dropped a SIP message from {from}: {error}", {
        from: `${from.address}:${from.port}`,
        error: String(error),
      });
    }
  }

  #onRequest(request: SipRequest, from: DatagramEndpoint, transport: DatagramTransport): void {
    const branch = topVia(request).branch;
    const method = request.method === "ACK" ? "INVITE" : request.method;
    const key = _key(branch, method);
    const now = this.#options.now();
    for (const [k, s] of this.#servers) if (s.expires <= now) this.#servers.delete(k);
    const known = this.#servers.get(key);
    if (request.method === "ACK") {
      // The ACK of a non-2xx final response belongs to the INVITE server transaction
      // (same branch, section 17.2.1); the ACK of a 2xx has a new branch and goes to
      // the core (section 13.3.1.4).
      if (known !== undefined && !this.#lastWas2xx(known)) return;
      this.#options.onRequest(request, from, transport, () => {});
      return;
    }
    if (known !== undefined) {
      if (known.response !== undefined) {
        this.stats.requestRetransmissionsAnswered++;
        const r = known.response;
        r.transport.send(r.bytes, r.to).catch(() => {});
      }
      return;
    }
    const server: _Server = { response: undefined, expires: now + 64 * this.timers.t1Ms };
    this.#servers.set(key, server);
    this.#options.onRequest(request, from, transport, (response) => {
      const bytes = encodeSip(response);
      server.response = { bytes, to: from, transport };
      transport.send(bytes, from).catch((error) => {
        _logger.debug("SIP response send failed: {error}", { error: String(error) });
      });
    });
  }

  #lastWas2xx(server: _Server): boolean {
    const bytes = server.response?.bytes;
    if (bytes === undefined) return false;
    // "SIP/2.0 2xx": the status code's first digit is byte 8.
    return bytes[8] === 0x32;
  }

  #onResponse(response: SipResponse, from: DatagramEndpoint, transport: DatagramTransport): void {
    const key = _key(topVia(response).branch, cseq(response).method);
    const client = this.#clients.get(key);
    if (client === undefined) {
      this.stats.strayResponses++;
      this.#options.onStrayResponse?.(response, from, transport);
      return;
    }
    this.#step(
      client,
      { type: "response", status: response.status, now: this.#options.now() },
      response,
    );
  }

  #step(
    client: _Client,
    event: Parameters<typeof stepClientTransaction>[1],
    response?: SipResponse,
  ): void {
    const [state, commands] = stepClientTransaction(client.state, event, this.timers);
    client.state = state;
    const key = _key(topVia(client.request).branch, client.request.method);
    for (const c of commands) {
      switch (c.type) {
        case "send":
          if (event.type === "timer") this.stats.retransmissions++;
          client.transport.send(client.bytes, client.to).catch((error) => {
            this.#abort(client, key, _unreachable(error));
          });
          break;
        case "ack":
          if (response !== undefined) client.lastResponse = response;
          if (client.lastResponse !== undefined) {
            const ack = encodeSip(_nonSuccessAck(client.request, client.lastResponse));
            client.transport.send(ack, client.to).catch(() => {});
          }
          break;
        case "deliver":
          if (response === undefined) break;
          if (c.status < 200) client.options.onProvisional?.(response);
          else this.#settle(client, response);
          break;
        case "timeout":
          this.#settle(
            client,
            new PortError(
              this.#options.port,
              "timeout",
              `SIP ${client.request.method} timed out: no final response before Timer ${c.timer} (${
                64 * this.timers.t1Ms
              } ms)`,
            ),
          );
          break;
        case "terminated":
          this.#clients.delete(key);
          break;
      }
    }
    if (client.timer !== undefined) clearTimeout(client.timer);
    client.timer = undefined;
    const deadline = clientTransactionDeadline(client.state);
    if (deadline !== undefined && client.state.phase !== "terminated" && !this.#closed) {
      client.timer = setTimeout(
        () => this.#step(client, { type: "timer", now: this.#options.now() }),
        Math.max(0, deadline - this.#options.now()),
      );
    }
  }

  #settle(client: _Client, result: SipResponse | PortError): void {
    if (client.settled) return;
    client.settled = true;
    client.settle(result);
  }

  #abort(client: _Client, key: string, error: PortError): void {
    if (client.timer !== undefined) clearTimeout(client.timer);
    client.timer = undefined;
    this.#clients.delete(key);
    this.#settle(client, error);
  }

  /**
   * Runs a client transaction: sends `request` to `to` from `transport`,
   * retransmits per RFC 3261 section 17.1, resolves with the first final response
   * (any status: the caller decides), rejects with a PortError `timeout`
   * (Timer B / F), `unreachable` (send failed) or `aborted`.
   */
  request(
    request: SipRequest,
    to: DatagramEndpoint,
    transport: DatagramTransport,
    options: _RequestOptions = {},
  ): Promise<SipResponse> {
    const port = this.#options.port;
    if (this.#closed) {
      return Promise.reject(new PortError(port, "aborted", "SIP user agent closed"));
    }
    if (options.signal?.aborted) {
      return Promise.reject(new PortError(port, "aborted", `SIP ${request.method} aborted`));
    }
    const key = _key(topVia(request).branch, request.method);
    return new Promise<SipResponse>((resolve, reject) => {
      const onAbort = () => {
        const c = this.#clients.get(key);
        if (c !== undefined) {
          this.#abort(c, key, new PortError(port, "aborted", `SIP ${request.method} aborted`));
        }
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const [state] = startClientTransaction(
        request.method === "INVITE" ? "invite" : "non-invite",
        this.#options.now(),
        this.timers,
      );
      const client: _Client = {
        state,
        request,
        bytes: encodeSip(request),
        to,
        transport,
        timer: undefined,
        lastResponse: undefined,
        settled: false,
        options,
        settle: (result) => {
          options.signal?.removeEventListener("abort", onAbort);
          if (result instanceof PortError) reject(result);
          else resolve(result);
        },
      };
      this.#clients.set(key, client);
      transport.send(client.bytes, to).then(
        () => this.#step(client, { type: "timer", now: this.#options.now() }),
        (error) => this.#abort(client, key, _unreachable(error)),
      );
    });
  }

  /** Aborts every transaction and closes every transport. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [key, client] of this.#clients) {
      this.#abort(
        client,
        key,
        new PortError(this.#options.port, "aborted", "SIP user agent closed"),
      );
    }
    this.#servers.clear();
    const all = [...this.#transports];
    this.#transports.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
