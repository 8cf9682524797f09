import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { loadAgentConfig, loadCtnConfig } from "../../../adapters/config/load_config.ts";
import { ConfigFileError } from "../../../lib/config/config_error.ts";
import { parseAgentConfigText } from "../../../lib/config/agent_config.ts";
import { parseJsonc } from "../../../lib/config/jsonc.ts";

const examples = new URL("../../../examples/", import.meta.url).pathname;
let dir = "";

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpa-config-" });
});

afterAll(async () => {
  await Deno.remove(dir, { recursive: true });
});

async function rejection(p: Promise<unknown>): Promise<ConfigFileError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigFileError);
    return error as ConfigFileError;
  }
  throw new Error("loaded");
}

describe("examples", () => {
  it("examples/mn.jsonc loads, with paths resolved against examples/", async () => {
    const c = await loadAgentConfig(`${examples}mn.jsonc`);
    expect(c.mn.pskFile).toBe(`${examples}mn1.psk`);
    expect(c.metrics).toMatchObject({ source: "simulate", scenario: "demo" });
    expect(c.discovery.kind).toBe("static");
    if (c.discovery.kind === "static") {
      expect(c.discovery.ctns.map((ctn) => ctn.network)).toEqual(["domainA", "domainB"]);
    }
    expect(c.mobility.kind).toBe("sip");
  });

  it("examples/ctn.jsonc and ctn-b.jsonc load and name the CTNs mn.jsonc lists", async () => {
    const a = await loadCtnConfig(`${examples}ctn.jsonc`);
    const b = await loadCtnConfig(`${examples}ctn-b.jsonc`);
    expect([a.ctn, b.ctn]).toEqual(["domainA", "domainB"]);
    expect(a.aa.backend).toEqual({
      kind: "local",
      credentialsFile: `${examples}aa.psk`,
      serverId: "aa.domainA",
    });
    expect(b.aa.backend.kind).toBe("radius");
    expect(b.aa.kv?.keyFile).toBe(`${examples}aa-store.key`);
    expect(b.ca.kind).toBe("external");
    const mn = await loadAgentConfig(`${examples}mn.jsonc`);
    if (mn.discovery.kind !== "static") throw new Error("static expected");
    const [ctnA, ctnB] = mn.discovery.ctns;
    // The MN's table agrees with the CTNs' own files.
    expect(ctnA!.aa).toEqual({ address: a.aa.listen.address, port: a.aa.listen.port });
    expect(ctnA!.ar).toEqual({ address: a.ar.listen.address, port: a.ar.listen.port });
    expect(a.ca.kind === "embedded" && a.ca.subnet).toBe(ctnA!.ca.subnet);
    expect(ctnB!.ca.mode).toBe("relay");
  });

  it("the commented-out alternatives in mn.jsonc are valid too", async () => {
    const text = await Deno.readTextFile(`${examples}mn.jsonc`);
    const lines = text.split("\n");
    const start = lines.findIndex((l) => l.startsWith('  // "mobility": {'));
    const end = lines.findIndex((l, i) => i > start && l.startsWith("  // },"));
    expect(start).toBeGreaterThan(0);
    const mip6 = lines.slice(start, end + 1).map((l) => l.replace(/^ {2}\/\/ ?/, "")).join("\n");
    const replay = lines.find((l) => l.startsWith('  // "metrics": {'))!.replace(/^ {2}\/\/ /, "");
    const uncommented = text
      .replace(/\n {2}"mobility": \{[\s\S]*?\n {2}\},\n/, `\n${mip6}\n`)
      .replace(/\n {2}"metrics": \{[\s\S]*?\n {2}\},\n/, `\n${replay}\n`);
    const c = parseAgentConfigText(uncommented, "mn.jsonc", { scenarios: ["demo"] });
    expect(c.mobility).toMatchObject({
      kind: "mip6",
      home: "2001:db8:100::10",
      keyFile: "mip6.key",
    });
    expect(c.metrics).toMatchObject({ source: "replay", pace: "fast" });
  });

  it("every field of the examples carries a comment", async () => {
    const undocumented: string[] = [];
    for (const name of ["mn.jsonc", "ctn.jsonc", "ctn-b.jsonc"]) {
      const text = await Deno.readTextFile(`${examples}${name}`);
      const doc = parseJsonc(text);
      const lines = text.split("\n");
      for (const [path, at] of doc.keyPositions) {
        // A key is documented by a comment above it, on its line, or on a parent's line.
        const above = lines[at.line - 2] ?? "";
        const own = lines[at.line - 1] ?? "";
        const documented = above.trim().startsWith("//") || own.includes("//") ||
          /\[\d+\]/.test(path) || own.trim().startsWith("{") || /\{ "/.test(own);
        if (!documented) undocumented.push(`${name}: ${path}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});

describe("loadAgentConfig / loadCtnConfig errors", () => {
  it("names a missing file, a directory, an unknown scenario", async () => {
    const missing = await rejection(loadAgentConfig(`${dir}/none.jsonc`));
    expect(missing.message).toBe(`${dir}/none.jsonc: expected a readable file, got no such file`);
    const directory = await rejection(loadCtnConfig(dir));
    expect(directory.message).toMatch(new RegExp(`^${dir}: expected a readable file, got `));
    const text = (await Deno.readTextFile(`${examples}mn.jsonc`)).replace(
      '"scenario": "demo"',
      '"scenario": "dmeo"',
    );
    await Deno.writeTextFile(`${dir}/mn.jsonc`, text);
    const scenario = await rejection(loadAgentConfig(`${dir}/mn.jsonc`));
    expect(scenario.message).toMatch(
      /mn\.jsonc:\d+:17: metrics\.scenario: expected one of "walk", .*"demo", got "dmeo"; did you mean "demo"\?$/,
    );
  });

  it("reports a JSONC syntax error with the file's name and line:column", async () => {
    await Deno.writeTextFile(
      `${dir}/bad.jsonc`,
      '{\n  "ctn": "B",\n  "aa": { "credentials": "x" ]\n}',
    );
    const e = await rejection(loadCtnConfig(`${dir}/bad.jsonc`));
    expect(e.message).toBe(
      `${dir}/bad.jsonc:3:30: expected "," or "}" after the value of "credentials" (JSONC syntax), got "]"`,
    );
  });

  it("resolves relative paths against the config file's directory, keeps absolute ones", async () => {
    await Deno.mkdir(`${dir}/sub`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/sub/ctn.jsonc`,
      JSON.stringify({
        ctn: "B",
        aa: { credentials: "keys/aa.psk", kv: { path: "/var/lib/mpa/sa.kv", keyFile: "../k" } },
        ca: { kind: "external" },
      }),
    );
    const c = await loadCtnConfig(`${dir}/sub/ctn.jsonc`);
    expect(c.aa.backend).toEqual({ kind: "local", credentialsFile: `${dir}/sub/keys/aa.psk` });
    expect(c.aa.kv).toEqual({ path: "/var/lib/mpa/sa.kv", keyFile: `${dir}/k` });
  });

  it("accepts a BOM and CRLF line ends (files saved by Windows editors)", async () => {
    const text = "\uFEFF" +
      (await Deno.readTextFile(`${examples}ctn.jsonc`)).replaceAll("\n", "\r\n");
    await Deno.writeTextFile(`${dir}/crlf.jsonc`, text);
    expect((await loadCtnConfig(`${dir}/crlf.jsonc`)).ctn).toBe("domainA");
  });
});
