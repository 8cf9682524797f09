/**
 * The agent's /metrics text checked by two independent readers: the strict parser
 * of these tests (always) and Prometheus' own `promtool check metrics` (when
 * installed: the `prometheus` Debian package; runs in CI).
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { MetricsRegistry } from "../../../lib/observe/metrics_registry.ts";
import { createAgentMetrics, recordStatusGauges } from "../../../lib/observe/agent_metrics.ts";
import type { AgentStatus } from "../../../lib/observe/agent_status.ts";
import { parseExposition } from "./_exposition_parser.ts";

const STATUS: AgentStatus = {
  generatedAt: 5000,
  serving: { network: "net-a", poa: "ap-1" },
  sessions: [
    { ctn: "ctn-b", phase: "bound", since: 4000, phases: {} },
    { ctn: "ctn-c", phase: "failed", since: 4500, phases: {} },
  ],
  retained: [{ ctn: "net-0", expiresAt: 9000 }],
  counters: { handovers: 1, pingPongs: 0, failures: 1, packetsBuffered: 7 },
};

/** A registry with every agent metric in use, and label values that need escaping. */
function agentExposition(): string {
  const registry = new MetricsRegistry();
  const metrics = createAgentMetrics(registry);
  registry.onCollect(() => recordStatusGauges(metrics, STATUS));
  metrics.handovers.inc();
  metrics.pingPongs.inc();
  metrics.packetsBuffered.inc(7);
  for (
    const [phase, s] of [["pre-authenticating", 0.004], ["pre-configuring", 0.12], [
      "bound",
      2,
    ]] as const
  ) {
    metrics.phaseDuration.observe(s, { phase });
    metrics.phaseDuration.observe(s * 3, { phase });
  }
  metrics.failures.inc(1, { phase: "pre-configuring", code: 'odd "code"\\with\nnewline' });
  return registry.render();
}

function promtoolPath(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/promtool`).isFile) return `${dir}/promtool`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const PROMTOOL = promtoolPath();

async function promtool(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(PROMTOOL!, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

describe("agent /metrics text: validity", () => {
  it("passes the strict parser with every family, type and histogram invariant", () => {
    const families = parseExposition(agentExposition());
    expect([...families.keys()]).toEqual([
      "mpa_handovers_total",
      "mpa_ping_pongs_total",
      "mpa_phase_duration_seconds",
      "mpa_failures_total",
      "mpa_packets_buffered_total",
      "mpa_sessions",
      "mpa_retained_contexts",
    ]);
    expect(families.get("mpa_phase_duration_seconds")!.type).toBe("histogram");
    expect(families.get("mpa_failures_total")!.samples[0]!.labels.code).toBe(
      'odd "code"\\with\nnewline',
    );
    const sessions = families.get("mpa_sessions")!.samples;
    expect(sessions).toHaveLength(11);
    expect(sessions.find((s) => s.labels.phase === "failed")!.value).toBe(1);
    expect(families.get("mpa_retained_contexts")!.samples[0]!.value).toBe(1);
  });

  it("the strict parser refuses what the format forbids", () => {
    const bad = [
      "a 1", // no final line feed
      "# TYPE a counter\n# TYPE a counter\na 1\n", // second TYPE
      "a 1\n# TYPE a counter\n", // TYPE after samples
      'a{x="\\q"} 1\n', // bad escape
      "a{x=1} 1\n", // unquoted label value
      "a one\n", // bad value
      "a 1\nb 1\na 2\n", // family not grouped
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', // +Inf != count
      "a 1\na 2\n", // duplicate series
    ];
    for (const text of bad) expect(() => parseExposition(text), JSON.stringify(text)).toThrow();
  });

  it.skipIf(PROMTOOL === undefined)(
    "needs promtool (runs in CI): promtool check metrics accepts it without a lint warning",
    async () => {
      const { code, output } = await promtool(agentExposition());
      expect(output).toBe("");
      expect(code).toBe(0);
    },
  );

  it.skipIf(PROMTOOL === undefined)(
    "needs promtool (runs in CI): promtool reports a parse error for a bad escape (the check is real)",
    async () => {
      const { code, output } = await promtool('# HELP a A\n# TYPE a counter\na{x="\\q"} 1\n');
      expect(code).toBe(1);
      expect(output).toContain("escape");
    },
  );
});
