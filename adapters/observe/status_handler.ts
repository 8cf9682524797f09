/**
 * The HTTP handler of the status endpoint (web-standard `Request` to `Response`):
 * `GET /status` (the agent status as JSON) and `GET /metrics` (Prometheus text
 * exposition format 0.0.4); 405 for other methods on those paths, 404 elsewhere.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { AgentStatus } from "../../lib/observe/agent_status.ts";
import type { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../lib/observe/prometheus_text.ts";

/** What the handler serves. */
export interface StatusHandlerOptions {
  /** Takes a status snapshot; called once per `GET /status`. */
  readonly status: () => AgentStatus | Promise<AgentStatus>;
  /** Rendered (collectors first) once per `GET /metrics`. */
  readonly metrics: MetricsRegistry;
}

const _log = getLogger(["mpa", "observe"]);
const _PATHS = ["/status", "/metrics"];

/**
 * Creates the request handler. `GET` and `HEAD` are allowed on `/status` and
 * `/metrics` (query strings are ignored); other methods there get 405 with an
 * `Allow` header, other paths 404. A failing status or metrics callback gives 500
 * with a one-line body, and is logged; the server keeps serving.
 *
 * @param options the status callback and the metrics registry
 * @returns the handler
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MetricsRegistry } from "../../lib/observe/metrics_registry.ts";
 * import { createStatusHandler } from "./status_handler.ts";
 * const status = {
 *   generatedAt: 0, serving: null, sessions: [], retained: [],
 *   counters: { handovers: 0, pingPongs: 0, failures: 0, packetsBuffered: 0 },
 * };
 * const handle = createStatusHandler({ status: () => status, metrics: new MetricsRegistry() });
 * const res = await handle(new Request("http://127.0.0.1/status"));
 * assertEquals(res.status, 200);
 * assertEquals(await res.json(), status);
 * assertEquals((await handle(new Request("http://127.0.0.1/nope"))).status, 404);
 * ```
 */
export function createStatusHandler(
  options: StatusHandlerOptions,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (!_PATHS.includes(path)) {
      return _text(404, "Not found: the status server serves /status and /metrics\n");
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return _text(405, `Method not allowed: ${path} answers GET and HEAD\n`, {
        allow: "GET, HEAD",
      });
    }
    let body: string;
    let type: string;
    try {
      if (path === "/status") {
        body = `${JSON.stringify(await options.status())}\n`;
        type = "application/json";
      } else {
        body = options.metrics.render();
        type = PROMETHEUS_CONTENT_TYPE;
      }
    } catch (error) {
      _log.error("Serving {path} failed: {error}", { path, error: String(error) });
      return _text(500, `Internal error: ${path} is unavailable\n`);
    }
    return new Response(request.method === "HEAD" ? null : body, {
      status: 200,
      headers: { "content-type": type, "cache-control": "no-store" },
    });
  };
}

function _text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
