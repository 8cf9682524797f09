import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  type AgentConfig,
  ctnInfoOf,
  DECISION_FIELDS,
  parseAgentConfig,
  parseAgentConfigText,
} from "../../../lib/config/agent_config.ts";
import { ConfigFileError, type ConfigIssue } from "../../../lib/config/config_error.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { parseDecideConfig } from "../../../lib/decision/config.ts";

const CTN = {
  network: "B",
  aa: { address: "10.0.2.1" },
  ca: { address: "10.0.2.1", subnet: "10.0.2.0/24" },
  ar: { address: "10.0.2.1", port: 7716 },
  poas: ["b1"],
};

function base(): Record<string, unknown> {
  return {
    mn: { identity: "mn1", pskFile: "mn1.psk" },
    link: { kind: "simulated" },
    metrics: { source: "simulate", scenario: "demo", seed: 1 },
    discovery: { kind: "static", ctns: [structuredClone(CTN)] },
  };
}

function issues(value: unknown, options = {}): ConfigIssue[] {
  try {
    parseAgentConfig(value, "mn.jsonc", options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return [...(error as ConfigFileError).issues];
  }
  throw new Error("validated");
}

/** The one issue of `base()` with `section` replaced. */
function oneIssue(section: string, value: unknown): ConfigIssue {
  const found = issues({ ...base(), [section]: value });
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe("parseAgentConfig: defaults", () => {
  it("fills in every optional section", () => {
    const c: AgentConfig = parseAgentConfig(base(), "mn.jsonc");
    expect(c.mn).toEqual({ identity: "mn1", pskFile: "mn1.psk", mnId: "mn1" });
    expect(c.decision).toEqual({});
    expect(c.limits).toEqual({});
    expect(c.timeouts).toEqual({});
    expect(c.retries).toEqual({});
    expect(c.mobility).toEqual({ kind: "none" });
    expect(c.tunnel).toEqual({ tun: false, port: 0 });
    expect(c.dhcp).toEqual({ rapidCommit: false, authenticate: true });
    expect(c.buffering).toBe(true);
    expect(c.status).toEqual({ listen: { address: "127.0.0.1", port: 9716 } });
    expect(c.log).toEqual({ level: "info", format: "auto" });
    expect(c.metrics).toEqual({ source: "simulate", scenario: "demo", seed: 1, pace: "realtime" });
  });

  it("accepts $schema and description at the top level and drops them", () => {
    const c = parseAgentConfig({ ...base(), $schema: "x", description: "y" }, "mn.jsonc");
    expect(Object.keys(c)).not.toContain("$schema");
  });

  it("resolves every file path with the given resolver", () => {
    const c = parseAgentConfig(
      {
        ...base(),
        metrics: { source: "replay", file: "t.jsonl" },
        mobility: {
          kind: "mip6",
          home: "2001:db8::10",
          homeAgent: { address: "2001:db8::1" },
          keyFile: "k",
        },
      },
      "mn.jsonc",
      { resolvePath: (p: string) => `/cfg/${p}` },
    );
    expect(c.mn.pskFile).toBe("/cfg/mn1.psk");
    expect(c.metrics).toEqual({ source: "replay", file: "/cfg/t.jsonl", pace: "realtime" });
    expect(c.mobility).toEqual({
      kind: "mip6",
      home: "2001:db8::10",
      homeAgent: { address: "2001:db8::1" },
      keyFile: "/cfg/k",
      homeRegistration: true,
    });
  });
});

describe("parseAgentConfig: sections", () => {
  it("mn: identity and pskFile required, mnId kept", () => {
    expect(oneIssue("mn", { identity: "mn1" })).toMatchObject({
      path: "mn.pskFile",
      got: "nothing (the field is required)",
    });
    expect(oneIssue("mn", { identity: "", pskFile: "p" })).toMatchObject({
      path: "mn.identity",
      expected: "a non-empty string",
      got: '""',
    });
    expect(
      parseAgentConfig({ ...base(), mn: { identity: "a", pskFile: "p", mnId: "m" } }, "f").mn.mnId,
    )
      .toBe("m");
  });

  it("link: simulated or ip with interface, netns, oCoA", () => {
    const c = parseAgentConfig({ ...base(), link: { kind: "ip", interface: "veth-mn" } }, "f");
    expect(c.link).toEqual({ kind: "ip", interface: "veth-mn", oCoA: "auto" });
    expect(oneIssue("link", { kind: "ip", interface: "a-name-that-is-too-long" }).path).toBe(
      "link.interface",
    );
    expect(oneIssue("link", { kind: "ip", interface: "e", oCoA: "10.0.0.300" })).toMatchObject({
      path: "link.oCoA",
      got: '"10.0.0.300"',
    });
    expect(oneIssue("link", { kind: "ip", interface: "e", netns: "a/b" }).path).toBe("link.netns");
    expect(oneIssue("link", { kind: "wifi" })).toMatchObject({
      path: "link.kind",
      expected: 'one of "simulated", "ip", "netns"',
    });
    expect(oneIssue("link", { kind: "simulated", interface: "e" })).toMatchObject({
      path: "link.interface",
      got: "an unknown field",
    });
    expect(oneIssue("link", {})).toMatchObject({
      path: "link.kind",
      got: "nothing (the field is required)",
    });
    expect(oneIssue("link", "ip")).toMatchObject({
      path: "link",
      expected: 'an object with "kind": "simulated" | "ip" | "netns"',
      got: '"ip"',
    });
  });

  it("link: netns (the testbed's lab link) with air namespace, peer and PoA bridges", () => {
    const link = {
      kind: "netns",
      interface: "eth0",
      netns: "lab-mn",
      air: "lab-air",
      peer: "mnp",
      poas: { cellP: "cellP", cell1: "cell1" },
    };
    expect(parseAgentConfig({ ...base(), link }, "f").link).toEqual({
      ...link,
      associationDelayMs: 0,
      oCoA: "auto",
    });
    expect(oneIssue("link", { ...link, poas: {} })).toMatchObject({
      path: "link.poas",
      got: "an object",
    });
    expect(oneIssue("link", { ...link, poas: { cell1: "a bridge name far too long" } }).path).toBe(
      "link.poas.cell1",
    );
    const { air: _air, ...noAir } = link;
    expect(oneIssue("link", noAir)).toMatchObject({
      path: "link.air",
      got: "nothing (the field is required)",
    });
    expect(oneIssue("link", { ...link, associationDelayMs: -1 }).path).toBe(
      "link.associationDelayMs",
    );
  });

  it("metrics: simulate (seed, pace, scenario names) or replay", () => {
    expect(oneIssue("metrics", { source: "simulate", scenario: "demo", seed: -1 })).toMatchObject({
      path: "metrics.seed",
      expected: "an integer >= 0",
      got: "-1",
    });
    expect(oneIssue("metrics", { source: "simulate", scenario: "demo", seed: 1, pace: "slow" }))
      .toMatchObject({ path: "metrics.pace", expected: 'one of "realtime", "fast"' });
    expect(oneIssue("metrics", { source: "proc" })).toMatchObject({
      path: "metrics.source",
      expected: 'one of "simulate", "replay"',
    });
    expect(oneIssue("metrics", { source: "simulte", scenario: "demo", seed: 1 })).toMatchObject({
      path: "metrics.source",
      hint: 'did you mean "simulate"?',
    });
    const known = { scenarios: ["walk", "demo"] };
    expect(issues({ ...base(), metrics: { source: "simulate", scenario: "dmeo", seed: 1 } }, known))
      .toMatchObject([{ path: "metrics.scenario", hint: 'did you mean "demo"?' }]);
    expect(oneIssue("metrics", { source: "replay" }).path).toBe("metrics.file");
  });

  it("decision: decide's options, shapes here, ranges by parseDecideConfig, all collected", () => {
    const c = parseAgentConfig({ ...base(), decision: { topK: 3, recovery: "off" } }, "f");
    expect(c.decision).toEqual({ topK: 3, recovery: "off" });
    const found = issues({
      ...base(),
      decision: { topK: 0, k: 70, margin: "3", topk: 2, recovery: { retainMs: -1, bicast: 1 } },
    });
    // Without positions the problems come in check order: unknown fields first.
    expect(found.map((i) => [i.path, i.expected, i.got, i.hint])).toEqual([
      [
        "decision.topk",
        expect.stringContaining("one of the fields of decision (k, margin,"),
        "an unknown field",
        'did you mean "topK"?',
      ],
      ["decision.margin", "a number", '"3"', undefined],
      [
        "decision.recovery.bicast",
        expect.stringContaining("retainMs"),
        "an unknown field",
        'did you mean "bicastMs"?',
      ],
    ]);
    // Shapes fine: the ranges of resolveDecideOptions, every one of them.
    const ranges = issues({ ...base(), decision: { topK: 0, k: 70, recovery: { retainMs: -1 } } });
    expect(ranges.map((i) => [i.path, i.expected, i.got])).toEqual([
      ["decision.recovery.retainMs", "a number in [0, Infinity]", "-1"],
      ["decision.k", "a number in [0, 64]", "70"],
      ["decision.topK", "a number in [1, 64]", "0"],
    ]);
  });

  it("decision: the accepted fields are exactly parseDecideConfig's", () => {
    let message = "";
    try {
      parseDecideConfig({ decide: { notAnOption: 1 } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    const theirs = message.replace(/^.*expected one of /, "").split(", ");
    expect([...DECISION_FIELDS.decision].sort()).toEqual([...theirs].sort());
    let recoveryMessage = "";
    try {
      parseDecideConfig({ decide: { recovery: { notAnOption: 1 } } });
    } catch (error) {
      recoveryMessage = (error as Error).message;
    }
    expect([...DECISION_FIELDS.recovery].sort()).toEqual(
      recoveryMessage.replace(/^.*expected one of /, "").split(", ").sort(),
    );
  });

  it("discovery: static table with CA mode, cells and profile filled with the network", () => {
    const c = parseAgentConfig({
      ...base(),
      discovery: {
        kind: "static",
        ctns: [{
          ...CTN,
          ca: { address: "10.0.2.1", subnet: "10.0.2.0/24", mode: "relay" },
          cells: [{ poa: "b1", pos: { x: 1, y: 2 }, coverage: 100 }],
          profile: { rttMs: 65 },
        }],
      },
    }, "f");
    if (c.discovery.kind !== "static") throw new Error("kind");
    const ctn = c.discovery.ctns[0]!;
    expect(ctn.cells).toEqual([{ poa: "b1", network: "B", pos: { x: 1, y: 2 }, coverage: 100 }]);
    expect(ctn.profile).toEqual({ network: "B", rttMs: 65 });
    expect(ctnInfoOf(ctn)).toEqual({
      network: "B",
      aa: { address: "10.0.2.1" },
      ca: { address: "10.0.2.1" },
      ar: { address: "10.0.2.1", port: 7716 },
      poas: ["b1"],
      cells: ctn.cells,
      subnet: "10.0.2.0/24",
      profile: { network: "B", rttMs: 65 },
    });
  });

  it("discovery: cross-field rules (unique networks and PoAs, cells on listed PoAs, relay needs a subnet)", () => {
    const found = issues({
      ...base(),
      discovery: {
        kind: "static",
        ctns: [
          { ...CTN, cells: [{ poa: "x9", pos: { x: 0, y: 0 }, coverage: 1 }] },
          { ...CTN, poas: ["b1", "b2"], ca: { address: "10.0.2.1", mode: "relay" } },
        ],
      },
    });
    expect(found.map((i) => i.path)).toEqual([
      "discovery.ctns[0].cells[0].poa",
      "discovery.ctns[1].ca.subnet",
      "discovery.ctns[1].network",
      "discovery.ctns[1].poas[0]",
    ]);
    expect(found[2]!.expected).toBe(
      "a network id not used by another CTN (discovery.ctns[0] has it)",
    );
  });

  it("discovery: ports, addresses, empty tables, information server", () => {
    const bad = (ar: unknown) => oneIssue("discovery", { kind: "static", ctns: [{ ...CTN, ar }] });
    expect(bad({ address: "10.0.2.1", port: "7716x" })).toMatchObject({
      path: "discovery.ctns[0].ar.port",
      expected: "an integer 1-65535",
      got: '"7716x"',
    });
    expect(bad({ address: "10.0.2.1", port: 0 }).path).toBe("discovery.ctns[0].ar.port");
    expect(bad({ address: "ar.example" }).path).toBe("discovery.ctns[0].ar.address");
    expect(
      issues({
        ...base(),
        discovery: { kind: "static", ctns: [{ ...CTN, ar: { addr: "10.0.2.1" } }] },
      })
        .map((i) => [i.path, i.hint]),
    ).toEqual([
      ["discovery.ctns[0].ar.addr", 'did you mean "address"?'],
      ["discovery.ctns[0].ar.address", undefined],
    ]);
    expect(oneIssue("discovery", { kind: "static", ctns: [] })).toMatchObject({
      path: "discovery.ctns",
      got: "an empty array",
    });
    expect(oneIssue("discovery", { kind: "static", ctns: [{ ...CTN, poas: [] }] }).path).toBe(
      "discovery.ctns[0].poas",
    );
    expect(
      parseAgentConfig({
        ...base(),
        discovery: { kind: "information-server", server: { address: "::1", port: 7000 } },
      }, "f").discovery,
    ).toEqual({ kind: "information-server", server: { address: "::1", port: 7000 } });
    expect(
      issues({
        ...base(),
        discovery: {
          kind: "information-server",
          server: { address: "::1", port: 7000 },
          retries: 11,
          radius: 0,
        },
      }).map((i) => i.path),
    ).toEqual(["discovery.retries", "discovery.radius"]);
  });

  it("limits, timeouts, retries: bounded integers", () => {
    expect(oneIssue("limits", { maxPreauthenticated: 0 })).toMatchObject({
      path: "limits.maxPreauthenticated",
      expected: "an integer 1-64",
    });
    expect(oneIssue("timeouts", { preauthMs: 1.5 })).toMatchObject({
      path: "timeouts.preauthMs",
      expected: "an integer 1-3600000",
      got: "1.5",
    });
    expect(oneIssue("retries", { bind: 11 }).path).toBe("retries.bind");
    expect(oneIssue("timeouts", { preauth: 1000 })).toMatchObject({
      path: "timeouts.preauth",
      hint: 'did you mean "preauthMs"?',
    });
    const c = parseAgentConfig({
      ...base(),
      limits: { maxPreauthenticated: 3, maxConfigured: 1, maxBound: 2 },
      timeouts: {
        preauthMs: 3000,
        configureMs: 4000,
        tunnelMs: 3000,
        bindMs: 3000,
        switchMs: 2000,
      },
      retries: { preauth: 1, configure: 0, tunnel: 2, bind: 3 },
    }, "f");
    expect(c.limits.maxBound).toBe(2);
    expect(c.timeouts.switchMs).toBe(2000);
    expect(c.retries.tunnel).toBe(2);
  });

  it("mobility: sip and mip6 shapes", () => {
    const sip = {
      kind: "sip",
      aor: "sip:mn@example.org",
      mediaPort: 40000,
      correspondent: { address: "192.0.2.9", port: 5060, uri: "sip:cn@192.0.2.9" },
    };
    expect(parseAgentConfig({ ...base(), mobility: sip }, "f").mobility).toEqual(sip);
    expect(oneIssue("mobility", { ...sip, aor: "mn@example.org" })).toMatchObject({
      path: "mobility.aor",
      expected: 'a SIP URI ("sip:user@host")',
    });
    expect(oneIssue("mobility", { ...sip, registrar: { address: "192.0.2.10" } }).path).toBe(
      "mobility.registrar.port",
    );
    expect(
      oneIssue("mobility", { kind: "mip6", home: "2001:db8::1", homeAgent: {}, keyFile: "k" }).path,
    )
      .toBe("mobility.homeAgent.address");
    expect(oneIssue("mobility", { kind: "mip" })).toMatchObject({
      path: "mobility.kind",
      hint: 'did you mean "mip6"?',
    });
  });

  it("tunnel, dhcp, buffering, status, log", () => {
    expect(oneIssue("tunnel", { lifetimeMs: 10 }).path).toBe("tunnel.lifetimeMs");
    expect(oneIssue("tunnel", { tun: "yes" })).toMatchObject({
      expected: "true or false",
      got: '"yes"',
    });
    expect(oneIssue("dhcp", { clientPort: 70000 }).path).toBe("dhcp.clientPort");
    expect(oneIssue("buffering", "on")).toMatchObject({ path: "buffering", got: '"on"' });
    expect(oneIssue("status", { listen: "localhost:9716" })).toMatchObject({
      path: "status.listen",
      expected: expect.stringContaining('"HOST:PORT" with an IP address'),
    });
    expect(parseAgentConfig({ ...base(), status: { listen: "[::1]:0" } }, "f").status.listen)
      .toEqual({ address: "::1", port: 0 });
    expect(parseAgentConfig({ ...base(), status: { listen: "127.0.0.2" } }, "f").status.listen)
      .toEqual({ address: "127.0.0.2", port: 9716 });
    expect(oneIssue("status", { listen: "127.0.0.1:99999" }).path).toBe("status.listen");
    expect(oneIssue("log", { level: "warn" })).toMatchObject({
      path: "log.level",
      hint: 'did you mean "warning"?',
    });
    expect(oneIssue("log", { format: "JSON" })).toMatchObject({ hint: 'did you mean "json"?' });
  });

  it("refuses a root that is not an object and reports missing sections", () => {
    expect(issues([])).toEqual([{
      path: "",
      expected: "an object (the agent configuration)",
      got: "an empty array",
    }]);
    expect(issues({}).map((i) => i.path)).toEqual(["mn", "link", "metrics", "discovery"]);
  });
});

describe("parseAgentConfigText: error format", () => {
  it("names file, line:column, path, expected form and value, one line per problem, in text order", () => {
    const text = `{
  "mn": { "identity": "mn1", "pskFile": "mn1.psk" },
  "link": { "kind": "simulated" },
  "metrics": { "source": "simulate", "scenario": "demo", "seed": 1 },
  "discovery": { "kind": "static", "ctns": [
    { "network": "A", "aa": { "address": "10.0.1.1" }, "ca": { "address": "10.0.1.1" },
      "ar": { "address": "10.0.1.1" }, "poas": ["a1"] },
    { "network": "B", "aa": { "address": "10.0.2.1" }, "ca": { "address": "10.0.2.1" },
      "ar": { "address": "10.0.2.1", "port": "7716x" }, "poas": ["b1"] },
  ] },
  "bufering": false,
  "log": { "level": "loud" },
}`;
    let error: unknown;
    try {
      parseAgentConfigText(text, "mn.jsonc");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigFileError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigFileError).option).toBe("discovery.ctns[1].ar.port");
    expect((error as Error).message.split("\n")).toEqual([
      'mn.jsonc:9:46: discovery.ctns[1].ar.port: expected an integer 1-65535, got "7716x"',
      'mn.jsonc:11:3: bufering: expected one of the top-level fields (mn, link, metrics, decision, discovery, limits, timeouts, retries, mobility, tunnel, dhcp, buffering, status, log), got an unknown field; did you mean "buffering"?',
      'mn.jsonc:12:21: log.level: expected one of "trace", "debug", "info", "warning", "error", "fatal", got "loud"',
    ]);
    expect((error as Error).stack).toBeDefined(); // the CLI prints only the message
  });

  it("reports a syntax error alone, with its position", () => {
    let error: ConfigFileError | undefined;
    try {
      parseAgentConfigText('{\n  "mn": { "identity": "mn1" "pskFile": "p" }\n}', "mn.jsonc");
    } catch (e) {
      error = e as ConfigFileError;
    }
    expect(error?.issues).toHaveLength(1);
    expect(error?.message).toBe(
      'mn.jsonc:2:29: expected "," or "}" after the value of "identity" (JSONC syntax), got "\\""',
    );
  });

  it("reports duplicate keys together with schema problems", () => {
    let error: ConfigFileError | undefined;
    try {
      parseAgentConfigText(
        '{ "mn": { "identity": "a", "identity": "b", "pskFile": "p" }, "link": 1 }',
        "mn.jsonc",
      );
    } catch (e) {
      error = e as ConfigFileError;
    }
    expect(error?.issues.map((i) => [i.path, i.line, i.column, i.got])).toEqual([
      ["metrics", 1, 1, "nothing (the field is required)"],
      ["discovery", 1, 1, "nothing (the field is required)"],
      ["mn.identity", 1, 28, "a duplicate"],
      ["link", 1, 71, "1"],
    ]);
    expect(error?.issues[2]?.expected).toBe("each field once (first given at 1:11)");
  });
});
