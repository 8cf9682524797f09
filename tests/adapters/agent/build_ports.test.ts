import { describe, expect, it } from "npm:vitest@4.1.12";
import { lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { ConfigError } from "../../../lib/errors.ts";
import { parseAgentConfig } from "../../../lib/config/agent_config.ts";
import { PortError } from "../../../lib/ports.ts";
import { buildAgentPorts } from "../../../adapters/agent/build_ports.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { FakePreAuthenticator } from "../../fakes/fake_pre_authenticator.ts";

const PSK = new URL("../../fixtures/agent/mn1.psk", import.meta.url).pathname;

function config(extra: Record<string, unknown> = {}) {
  return parseAgentConfig({
    mn: { identity: "mn1", pskFile: PSK },
    link: { kind: "simulated" },
    metrics: { source: "simulate", scenario: "demo", seed: 3, pace: "fast", durationS: 1 },
    discovery: {
      kind: "static",
      ctns: [
        {
          network: "A",
          aa: { address: "127.0.0.1", port: 9 },
          ca: { address: "127.0.0.1" },
          ar: { address: "127.0.0.1" },
          poas: ["a1"],
        },
        {
          network: "B",
          aa: { address: "127.0.0.1", port: 9 },
          ca: { address: "127.0.0.1", subnet: "10.0.2.0/24", mode: "relay" },
          ar: { address: "127.0.0.1" },
          poas: ["b1"],
          cells: [{ poa: "b1", pos: { x: 0, y: 0 }, coverage: 100 }],
        },
      ],
    },
    ...extra,
  }, "mn.jsonc");
}

describe("buildAgentPorts", () => {
  it("builds the configured adapters: simulator, static table, PaC, PHT, no mobility, simulated link", async () => {
    await using ports = await buildAgentPorts(config());
    const samples = await lastValueFrom(ports.metrics.samples().pipe(toArray()));
    expect(samples.length).toBeGreaterThan(0);
    expect(new Set(samples.map((s) => s.poa))).toContain("a1");
    const ctns = await ports.discovery.candidates();
    expect(ctns.map((c) => c.network)).toEqual(["A", "B"]);
    expect(ctns[1]?.subnet).toBe("10.0.2.0/24");
    expect(ports.tunnels).toBeInstanceOf(PhtTunnelManager);
    // Buffering comes from the PHT manager itself (RFC 6252 section 7.6.1).
    expect(typeof (ports.tunnels as unknown as { flush?: unknown }).flush).toBe("function");
    expect(ports.mobility.multipleCoAs).toBe(false);
    expect(await ports.mobility.bind(["10.0.2.7"])).toMatchObject({ bound: ["10.0.2.7"] });
    await ports.link.switchTo("b1");
    await ports.link.assign("10.0.2.7", 24);
    expect(await ports.currentAddress()).toMatchObject({ address: "127.0.0.1" });
  });

  it("drops AR buffering when the configuration turns it off", async () => {
    await using ports = await buildAgentPorts(config({ buffering: false }));
    expect((ports.tunnels as unknown as { flush?: unknown }).flush).toBeUndefined();
  });

  it("uses the pieces given instead of building them, and records each CTN's PANA session", async () => {
    const preauth = new FakePreAuthenticator({ firstSessionId: 77 });
    await using ports = await buildAgentPorts(
      config({ mn: { identity: "mn1", pskFile: "/nonexistent" } }),
      {
        preauth,
        currentAddress: () => Promise.resolve({ address: "10.0.1.5", prefixLength: 24 }),
      },
    );
    const [b] = await ports.discovery.candidates();
    const sa = await ports.preauth.preAuthenticate(b!);
    expect(sa.sessionId).toBe(77);
    expect(preauth.granted).toHaveLength(1);
    expect(await ports.currentAddress()).toEqual({ address: "10.0.1.5", prefixLength: 24 });
  });

  it("refuses an unreadable PSK file with a ConfigError naming mn.pskFile", async () => {
    const error = await buildAgentPorts(
      config({ mn: { identity: "mn1", pskFile: "/nonexistent/mn1.psk" } }),
    )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe("mn.pskFile");
    expect((error as Error).message).toContain("no such file");
  });

  it("builds a PANA PaC whose pre-authentication to a closed port fails with a PortError", async () => {
    await using ports = await buildAgentPorts(config({ timeouts: { preauthMs: 300 } }));
    const [a] = await ports.discovery.candidates();
    const error = await ports.preauth.preAuthenticate(a!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortError);
    expect(["timeout", "unreachable"]).toContain((error as PortError).code);
  });

  it("reads a replayed trace lazily and fails the stream when the file is missing", async () => {
    await using ports = await buildAgentPorts(
      config({ metrics: { source: "replay", file: "/nonexistent/trace.jsonl", pace: "fast" } }),
    );
    const error = await lastValueFrom(ports.metrics.samples()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).port).toBe("MetricsSource");
  });
});
