import { afterAll, afterEach, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { configure, type LogRecord, reset } from "npm:@logtape/logtape@^2.4.2";
import { loadCredentials, localEapPskFactory } from "../../../adapters/aaa/local_authenticator.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { ConfigError } from "../../../lib/errors.ts";

const HEX = "00112233445566778899aabbccddeeff";
const records: LogRecord[] = [];
const paths: string[] = [];

beforeAll(async () => {
  await configure({
    sinks: { memory: (record: LogRecord) => records.push(record) },
    loggers: [
      { category: ["mpa"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["memory"] },
    ],
    reset: true,
  });
});

afterAll(async () => {
  await reset();
});

afterEach(async () => {
  await Promise.all(paths.splice(0).map((p) => Deno.remove(p).catch(() => {})));
  records.length = 0;
});

async function file(content: string, mode = 0o600): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "mpa-creds-" });
  paths.push(path);
  await Deno.writeTextFile(path, content);
  await Deno.chmod(path, mode);
  return path;
}

function logLines(): string[] {
  return records.map((r) => r.message.map((part) => String(part)).join(""));
}

describe("loadCredentials", () => {
  it("reads a credentials file without warnings when only its owner can read it", async () => {
    const path = await file(`# AA peers\nmn1@mpa ${HEX}\n`);
    const creds = await loadCredentials(path);
    expect(creds.get("mn1@mpa")?.[15]).toBe(0xff);
    expect(records.length).toBe(0);
  });

  it("warns once, without key material, when others can read the file", async () => {
    const path = await file(`mn1@mpa ${HEX}\n`, 0o644);
    await loadCredentials(path);
    expect(logLines()).toEqual([
      `Credentials file ${path} is readable by others (mode 644): chmod 600 it`,
    ]);
    expect(JSON.stringify(records.map((r) => r.properties))).not.toContain(HEX);
  });

  it("names the file and line of a bad entry", async () => {
    const path = await file(`mn1@mpa ${HEX}\nmn2@mpa 1234\n`);
    const error = await loadCredentials(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `${path}:2: Invalid PSK for mn2@mpa: expected 32 hex digits (16 bytes), got 4`,
    );
  });

  it("turns a missing file into a ConfigError naming it", async () => {
    const error = await loadCredentials("/nonexistent/mpa-creds").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe("credentials");
    expect((error as ConfigError).message).toMatch(
      /^Cannot read credentials file \/nonexistent\/mpa-creds: /,
    );
  });
});

describe("localEapPskFactory", () => {
  it("authenticates a peer listed in the credentials file with the system random source", async () => {
    const creds = await loadCredentials(await file(`mn1@mpa ${HEX}\n`));
    const factory = localEapPskFactory({ serverId: "aa.ctn-b", credentials: creds });
    const server = factory.create({ sessionId: 1, peer: "192.0.2.7:716" });
    const peer = createEapPskPeer({
      identity: "mn1@mpa",
      psk: creds.get("mn1@mpa")!,
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      serverId: "aa.ctn-b",
    });
    let step = await server.start();
    while (step.kind === "request") {
      const answer = await peer.handle(step.eap);
      if (answer.kind !== "response") throw new Error(JSON.stringify(answer));
      step = await server.handle(answer.eap);
    }
    expect(step.kind).toBe("success");
    if (step.kind !== "success") return;
    const done = await peer.handle(step.eap);
    expect(done.kind === "success" && done.msk).toEqual(step.msk);
    expect(step.identity).toBe("mn1@mpa");
  });

  it("fails a peer that is not in the credentials", async () => {
    const factory = localEapPskFactory({ serverId: "aa", credentials: new Map() });
    const server = factory.create({ sessionId: 1, peer: "192.0.2.7:716" });
    const peer = createEapPskPeer({
      identity: "stranger",
      psk: new Uint8Array(16),
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    });
    let step = await server.start();
    while (step.kind === "request") {
      const answer = await peer.handle(step.eap);
      if (answer.kind !== "response") throw new Error(JSON.stringify(answer));
      step = await server.handle(answer.eap);
    }
    expect(step).toMatchObject({
      kind: "failure",
      reason: 'Unknown EAP-PSK peer identity: "stranger"',
    });
  });
});
