import { describe, expect, it } from "npm:vitest@4.1.12";
import { parseCtnConfig, parseCtnConfigText } from "../../../lib/config/ctn_config.ts";
import {
  ConfigFileError,
  type ConfigIssue,
  formatConfigIssue,
} from "../../../lib/config/config_error.ts";

const EMBEDDED = {
  kind: "embedded",
  subnet: "10.0.2.0/24",
  range: ["10.0.2.100", "10.0.2.199"],
};

function base(): Record<string, unknown> {
  return { ctn: "B", aa: { credentials: "aa.psk" }, ca: { ...EMBEDDED } };
}

function issues(value: unknown): ConfigIssue[] {
  try {
    parseCtnConfig(value, "ctn.jsonc");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return [...(error as ConfigFileError).issues];
  }
  throw new Error("validated");
}

describe("parseCtnConfig", () => {
  it("fills the defaults of aa, ar, ca and log", () => {
    const c = parseCtnConfig(base(), "ctn.jsonc", { resolvePath: (p: string) => `/etc/${p}` });
    expect(c).toEqual({
      ctn: "B",
      aa: {
        listen: { address: "0.0.0.0", port: 716 },
        backend: { kind: "local", credentialsFile: "/etc/aa.psk" },
      },
      ar: { listen: { address: "0.0.0.0", port: 7716 }, buffer: { packets: 1024, ms: 2000 } },
      ca: {
        kind: "embedded",
        listen: { address: "0.0.0.0", port: 67 },
        subnet: "10.0.2.0/24",
        range: ["10.0.2.100", "10.0.2.199"],
        dns: [],
        rapidCommit: false,
      },
      log: { level: "info", format: "auto" },
    });
  });

  it("aa: RADIUS backend with resolved secret file, KV store, lifetime", () => {
    const c = parseCtnConfig(
      {
        ...base(),
        aa: {
          listen: "127.0.0.1:0",
          radius: { server: { address: "10.0.2.53" }, secretFile: "s", retries: 0 },
          lifetimeS: 600,
          kv: { path: "sa.kv", keyFile: "k" },
        },
      },
      "ctn.jsonc",
      { resolvePath: (p: string) => `/d/${p}` },
    );
    expect(c.aa).toEqual({
      listen: { address: "127.0.0.1", port: 0 },
      backend: { kind: "radius", server: { address: "10.0.2.53" }, secretFile: "/d/s", retries: 0 },
      lifetimeS: 600,
      kv: { path: "/d/sa.kv", keyFile: "/d/k" },
    });
  });

  it("aa: exactly one of credentials and radius; serverId only with credentials", () => {
    expect(issues({ ...base(), aa: {} })).toEqual([{
      path: "aa",
      expected: 'exactly one of "credentials" (local EAP-PSK) and "radius" (RADIUS relay)',
      got: "neither",
    }]);
    const radius = { server: { address: "10.0.2.53" }, secretFile: "s" };
    expect(issues({ ...base(), aa: { credentials: "c", radius } })[0]!.got).toBe("both");
    expect(issues({ ...base(), aa: { radius, serverId: "x" } })[0]!.path).toBe("aa.serverId");
    expect(issues({ ...base(), aa: { radius: { server: { address: "h" } } } }).map((i) => i.path))
      .toEqual(["aa.radius.server.address", "aa.radius.secretFile"]);
    expect(issues({ ...base(), aa: { credentials: "c", lifetimeS: 0 } })[0]!.path).toBe(
      "aa.lifetimeS",
    );
    expect(issues({ ...base(), aa: { credential: "c" } })[0]).toMatchObject({
      path: "aa.credential",
      hint: 'did you mean "credentials"?',
    });
  });

  it("ar: listen, tun, buffer bounds", () => {
    const c = parseCtnConfig({
      ...base(),
      ar: { listen: "[::]:7716", tun: { ctnInterface: "eth1" }, buffer: { packets: 10 } },
    }, "f");
    expect(c.ar).toEqual({
      listen: { address: "::", port: 7716 },
      tun: { ctnInterface: "eth1" },
      buffer: { packets: 10, ms: 2000 },
    });
    const tun = { ctnInterface: "eth1", mtu: 100, name: "a/b" };
    expect(issues({ ...base(), ar: { tun } }).map((i) => i.path)).toEqual([
      "ar.tun.name",
      "ar.tun.mtu",
    ]);
    expect(issues({ ...base(), ar: { buffer: { packets: 0, ms: -1 } } }).map((i) => i.path))
      .toEqual([
        "ar.buffer.packets",
        "ar.buffer.ms",
      ]);
    expect(issues({ ...base(), ar: { listen: "0.0.0.0:7716x" } })[0]).toMatchObject({
      path: "ar.listen",
      got: '"0.0.0.0:7716x"',
    });
  });

  it("ca embedded: subnet in CIDR with zero host bits, range and router inside, range ordered", () => {
    expect(issues({ ...base(), ca: { ...EMBEDDED, subnet: "10.0.2.1/24" } })[0]).toMatchObject({
      path: "ca.subnet",
      expected: "an IPv4 subnet in CIDR form with zero host bits (e.g. 10.0.2.0/24)",
    });
    expect(
      issues({
        ...base(),
        ca: { ...EMBEDDED, range: ["10.0.3.1", "10.0.2.5"], router: "10.0.9.1" },
      })
        .map((i) => [i.path, i.expected]),
    ).toEqual([
      ["ca.range[0]", "an address inside the subnet 10.0.2.0/24"],
      ["ca.router", "an address inside the subnet 10.0.2.0/24"],
    ]);
    expect(issues({ ...base(), ca: { ...EMBEDDED, range: ["10.0.2.9", "10.0.2.5"] } })[0]).toEqual({
      path: "ca.range",
      expected: "first <= last",
      got: "10.0.2.9 > 10.0.2.5",
    });
    expect(issues({ ...base(), ca: { ...EMBEDDED, range: ["10.0.2.9"] } })[0]!.expected).toBe(
      "a pair [first, last] of IPv4 addresses",
    );
    expect(issues({ ...base(), ca: { ...EMBEDDED, dns: ["::1"] } })[0]!.path).toBe("ca.dns[0]");
  });

  it("ca external: the nftables gate with defaults", () => {
    expect(parseCtnConfig({ ...base(), ca: { kind: "external" } }, "f").ca).toEqual({
      kind: "external",
      gate: { family: "inet", table: "mpa_ca", set: "allowed", port: 67 },
    });
    expect(issues({ ...base(), ca: { kind: "external", gate: { family: "ip6" } } })[0])
      .toMatchObject({
        path: "ca.gate.family",
        expected: 'one of "inet", "ip"',
      });
    expect(issues({ ...base(), ca: { kind: "external", subnet: "10.0.2.0/24" } })[0]).toMatchObject(
      {
        path: "ca.subnet",
        got: "an unknown field",
      },
    );
  });

  it("collects every problem of every section at once", () => {
    expect(
      issues({ ctn: "", aa: [], ar: 1, ca: { kind: "x" }, log: { level: 1 }, extra: 1 }).map((i) =>
        i.path
      ),
    ).toEqual(["extra", "ctn", "aa", "ar", "ca.kind", "log.level"]);
  });
});

describe("parseCtnConfigText", () => {
  it("gives line:column of each problem in the file", () => {
    const text = `{
  "ctn": "B",
  "aa": { "credentials": "aa.psk", "listen": "10.0.2.1:716x" },
  "ca": { "kind": "embeded" },
}`;
    let error: ConfigFileError | undefined;
    try {
      parseCtnConfigText(text, "ctn.jsonc");
    } catch (e) {
      error = e as ConfigFileError;
    }
    expect(error?.message.split("\n")).toEqual([
      'ctn.jsonc:3:46: aa.listen: expected "HOST:PORT" with an IP address and a port 0-65535 (or "HOST" for port 716), got "10.0.2.1:716x"',
      'ctn.jsonc:4:19: ca.kind: expected one of "embedded", "external", got "embeded"; did you mean "embedded"?',
    ]);
  });
});

describe("formatConfigIssue", () => {
  it("omits the position when unknown and the path for the whole document", () => {
    expect(formatConfigIssue("f", { path: "", expected: "a readable file", got: "no such file" }))
      .toBe("f: expected a readable file, got no such file");
    expect(formatConfigIssue("f", { path: "a.b", expected: "x", got: "y", hint: "h", line: 1 }))
      .toBe("f: a.b: expected x, got y; h");
  });

  it("ConfigFileError keeps every issue and names the first as its option", () => {
    const e = new ConfigFileError("f", [
      { path: "a", expected: "x", got: "y" },
      { path: "b", expected: "x", got: "y" },
    ]);
    expect(e.option).toBe("a");
    expect(e.source).toBe("f");
    expect(e.name).toBe("ConfigError");
    expect(e.message).toBe("f: a: expected x, got y\nf: b: expected x, got y");
  });
});
