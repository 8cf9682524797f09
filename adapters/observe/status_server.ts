/**
 * The agent's status endpoint on loopback: `GET /status` (JSON) and `GET /metrics`
 * (Prometheus text format 0.0.4), served with `Deno.serve`.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError } from "../../lib/errors.ts";
import type { AgentStatus } from "../../lib/observe/agent_status.ts";
import type { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
import { createStatusHandler } from "./status_handler.ts";
import { _httpUrl, _isLoopback, _parseListen } from "./_listen_address.ts";

/**
 * Where the status server listens by default (`mpa status` asks there too).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DEFAULT_STATUS_LISTEN } from "./status_server.ts";
 * assertEquals(DEFAULT_STATUS_LISTEN, "127.0.0.1:9716");
 * ```
 */
export const DEFAULT_STATUS_LISTEN = "127.0.0.1:9716";

/** Options of {@link startStatusServer}. */
export interface StatusServerOptions {
  /** `HOST:PORT` or `[V6]:PORT` with an IP literal or `localhost`; port 0 picks one (default {@link DEFAULT_STATUS_LISTEN}). */
  readonly listen?: string;
  /** Takes a status snapshot; called once per `GET /status`. */
  readonly status: () => AgentStatus | Promise<AgentStatus>;
  /** Rendered once per `GET /metrics`. */
  readonly metrics: MetricsRegistry;
  /**
   * Allows a non-loopback address. Off by default because the endpoint has neither
   * authentication nor TLS, and what it serves is sensitive: which networks the
   * node is in and is preparing (its location and movement), its addresses, and
   * failure details. Turn it on only behind a firewall or an authenticating proxy.
   */
  readonly allowRemote?: boolean;
}

/** A running status server. */
export interface StatusServer extends AsyncDisposable {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the chosen one when listening on port 0). */
  readonly port: number;
  /** `http://host:port`, the base URL for `mpa status --url`. */
  readonly url: string;
  /** Stops accepting connections, waits for requests in flight; idempotent. */
  close(): Promise<void>;
}

const _log = getLogger(["mpa", "observe"]);

/**
 * Starts the status server. Needs `--allow-net` for the address.
 *
 * @param options address, status callback, metrics registry
 * @returns the running server
 * @throws {ConfigError} (option `listen`) for a malformed address, a non-loopback
 *   one without `allowRemote`, or an address that cannot be bound
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
 * import { startStatusServer } from "./status_server.ts";
 * const metrics = new MetricsRegistry();
 * metrics.counter({ name: "mpa_handovers_total", help: "Handovers" }).inc();
 * const status = {
 *   generatedAt: 0, serving: null, sessions: [], retained: [],
 *   counters: { handovers: 1, pingPongs: 0, failures: 0, packetsBuffered: 0 },
 * };
 * await using server = await startStatusServer({ listen: "127.0.0.1:0", status: () => status, metrics });
 * const res = await fetch(`${server.url}/metrics`);
 * assertEquals(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
 * assertStringIncludes(await res.text(), "mpa_handovers_total 1\n");
 * ```
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const listen = options.listen ?? DEFAULT_STATUS_LISTEN;
  const { hostname, port } = _parseListen(listen);
  if (!_isLoopback(hostname) && options.allowRemote !== true) {
    throw new ConfigError(
      "listen",
      `Refusing to serve status on non-loopback address ${hostname}: the endpoint has no authentication and shows the node's networks and addresses (allow it explicitly with allowRemote)`,
    );
  }
  const handler = createStatusHandler({ status: options.status, metrics: options.metrics });
  const listening = Promise.withResolvers<void>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      // Replaces Deno's default "Listening on" line on stdout, which carries data.
      onListen: () => listening.resolve(),
      onError: (error) => {
        _log.error("Status request failed: {error}", { error: String(error) });
        return new Response("Internal error\n", { status: 500 });
      },
    }, handler);
  } catch (error) {
    throw new ConfigError(
      "listen",
      `Cannot serve status on ${listen}: ${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }`,
    );
  }
  await listening.promise;
  const url = _httpUrl(server.addr.hostname, server.addr.port);
  _log.info("Status server listening on {url}", { url });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= server.shutdown().then(() => server.finished);
    return closing;
  };
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    url,
    close,
    [Symbol.asyncDispose]: close,
  };
}
