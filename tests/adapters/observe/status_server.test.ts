/**
 * The status endpoint on loopback: GET /status (JSON), GET /metrics (Prometheus
 * text format 0.0.4), 404/405 otherwise, refusal of non-loopback addresses, and a
 * graceful close that lets requests in flight finish.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError } from "../../../lib/errors.ts";
import type { AgentStatus } from "../../../lib/observe/agent_status.ts";
import { MetricsRegistry } from "../../../lib/observe/metrics_registry.ts";
import { createAgentMetrics, recordStatusGauges } from "../../../lib/observe/agent_metrics.ts";
import {
  startStatusServer,
  type StatusServer,
  type StatusServerOptions,
} from "../../../adapters/observe/status_server.ts";
import { _isLoopback, _parseListen } from "../../../adapters/observe/_listen_address.ts";
import { parseExposition } from "../../lib/observe/_exposition_parser.ts";

const STATUS: AgentStatus = {
  generatedAt: 2_000,
  serving: { network: "net-a", poa: "ap-1" },
  sessions: [{
    ctn: "ctn-b",
    phase: "pre-authenticated",
    since: 1_900,
    phases: { "pre-authenticating": { startedAt: 1_880, endedAt: 1_900, durationMs: 20 } },
  }],
  retained: [{ ctn: "net-0", expiresAt: 30_000 }],
  counters: { handovers: 1, pingPongs: 0, failures: 0, packetsBuffered: 0 },
};

const servers: StatusServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<StatusServerOptions> = {}): Promise<StatusServer> {
  const server = await startStatusServer({
    listen: "127.0.0.1:0",
    status: () => STATUS,
    metrics: new MetricsRegistry(),
    ...options,
  });
  servers.push(server);
  return server;
}

describe("status server: endpoints", () => {
  it("serves GET /status as application/json that parses back to the status", async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual(STATUS);
  });

  it("serves GET /metrics as text/plain; version=0.0.4, collectors run at scrape time", async () => {
    const metrics = new MetricsRegistry();
    const agent = createAgentMetrics(metrics);
    let status = STATUS;
    metrics.onCollect(() => recordStatusGauges(agent, status));
    agent.handovers.inc();
    const server = await start({ metrics, status: () => status });
    const first = await fetch(`${server.url}/metrics?x=1`);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parseExposition(await first.text());
    expect(families.get("mpa_handovers_total")!.samples[0]!.value).toBe(1);
    expect(families.get("mpa_retained_contexts")!.samples[0]!.value).toBe(1);
    status = { ...STATUS, retained: [] };
    const second = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
    expect(second.get("mpa_retained_contexts")!.samples[0]!.value).toBe(0);
  });

  it("answers HEAD without a body, 405 with Allow for other methods, 404 for other paths", async () => {
    const server = await start();
    const head = await fetch(`${server.url}/status`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${server.url}/metrics`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    await post.body?.cancel();
    for (const path of ["/", "/status/", "/statusx", "/favicon.ico"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).toContain("/status and /metrics");
    }
  });

  it("answers 500 when the status callback throws, and keeps serving", async () => {
    let fail = true;
    const server = await start({
      status: () => {
        if (fail) throw new Error("Session table locked");
        return STATUS;
      },
    });
    const bad = await fetch(`${server.url}/status`);
    expect(bad.status).toBe(500);
    expect(await bad.text()).not.toContain("locked"); // internal detail stays in the log
    fail = false;
    expect((await fetch(`${server.url}/status`)).status).toBe(200);
  });

  it("accepts an async status callback", async () => {
    const server = await start({ status: () => Promise.resolve(STATUS) });
    expect(await (await fetch(`${server.url}/status`)).json()).toEqual(STATUS);
  });
});

describe("status server: addresses", () => {
  it("listens on IPv6 loopback and on other 127/8 addresses", async () => {
    const v6 = await start({ listen: "[::1]:0" });
    expect(v6.url).toBe(`http://[::1]:${v6.port}`);
    expect((await fetch(`${v6.url}/status`)).status).toBe(200);
    const other = await start({ listen: "127.0.0.2:0" });
    expect((await fetch(`${other.url}/status`)).status).toBe(200);
    const local = await start({ listen: "localhost:0" });
    expect(local.hostname).toBe("127.0.0.1");
  });

  it("refuses non-loopback addresses without allowRemote, before binding anything", async () => {
    for (const listen of ["0.0.0.0:9716", "[::]:9716", "192.0.2.1:0", "[2001:db8::1]:0"]) {
      const error = await startStatusServer({
        listen,
        status: () => STATUS,
        metrics: new MetricsRegistry(),
      })
        .then(() => undefined, (e: unknown) => e);
      expect(error, listen).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe("listen");
      expect((error as Error).message).toContain(
        "Refusing to serve status on non-loopback address",
      );
    }
  });

  it("with allowRemote passes the loopback check (here the address is not ours, so binding fails)", async () => {
    // 192.0.2.1 is TEST-NET-1: never assigned here, so nothing is exposed.
    const error = await startStatusServer({
      listen: "192.0.2.1:0",
      allowRemote: true,
      status: () => STATUS,
      metrics: new MetricsRegistry(),
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^Cannot serve status on 192\.0\.2\.1:0: /);
  });

  it("reports malformed addresses and a port in use as ConfigError", async () => {
    for (const listen of ["9716", "127.0.0.1", "host.example:80", "127.0.0.1:70000", "[::1]"]) {
      await expect(
        startStatusServer({ listen, status: () => STATUS, metrics: new MetricsRegistry() }),
        listen,
      ).rejects.toThrow("Invalid status listen address");
    }
    const taken = await start();
    await expect(start({ listen: `127.0.0.1:${taken.port}` })).rejects.toThrow(
      `Cannot serve status on 127.0.0.1:${taken.port}`,
    );
  });

  it("tells loopback from other addresses", () => {
    for (
      const a of ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::0:1", "::ffff:127.0.0.1"]
    ) {
      expect(_isLoopback(a), a).toBe(true);
    }
    for (
      const a of [
        "0.0.0.0",
        "10.0.0.1",
        "::",
        "::2",
        "1::1",
        "::ffff:10.0.0.1",
        "128.0.0.1",
        "localhost",
      ]
    ) {
      expect(_isLoopback(a), a).toBe(false);
    }
    expect(_parseListen("[::1]:9716")).toEqual({ hostname: "::1", port: 9716 });
  });
});

describe("status server: close", () => {
  it("lets a request in flight finish, then stops accepting; close is idempotent", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const server = await start({
      status: async () => {
        entered();
        await gate;
        return STATUS;
      },
    });
    const pending = fetch(`${server.url}/status`);
    await inHandler;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    expect(closed).toBe(false);
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(STATUS);
    await closing;
    expect(closed).toBe(true);
    await server.close();
    await expect(fetch(`${server.url}/status`)).rejects.toThrow();
  });

  it("closes with await using", async () => {
    let url: string;
    {
      await using server = await startStatusServer({
        listen: "127.0.0.1:0",
        status: () => STATUS,
        metrics: new MetricsRegistry(),
      });
      url = server.url;
      expect((await fetch(`${url}/status`)).status).toBe(200);
    }
    await expect(fetch(`${url}/status`)).rejects.toThrow();
  });
});
