/**
 * `mpa ctn --config FILE` as a user runs it (RFC 6252 sections 6.3 steps 1-2, 7.3.3,
 * 7.4): `--dry-run` on the shipped examples (their key files are not shipped: the
 * summary lists them as unreadable), a broken file (exit 2, one line naming
 * file:line:column and the field), flags that conflict with the file, a missing key
 * file at start, and a real run of a temporary copy of examples/ctn.jsonc moved to
 * loopback ephemeral ports with its key files made as examples/README.md says:
 * `mpa preauth` and `mpa preconfigure` succeed against it, SIGHUP reloads the log
 * section and the credentials (an invalid file is refused and the services keep
 * running), SIGTERM stops it with exit status 0.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket } from "node:dgram";
import { CliProcess } from "../../fixtures/preconfig/_cli_process.ts";
import { CTN_HELP } from "../../../adapters/cli/ctn.ts";

const TIMEOUT = 60_000;
const STACK = "    at ";
const ROOT = new URL("../../../", import.meta.url).pathname;
const EXAMPLES = `${ROOT}examples/`;

let dir = "";

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** The `message` of a LogTape JSON Lines record (stderr is a pipe here), or "". */
function message(line: string): string {
  try {
    return String((JSON.parse(line) as { message?: unknown }).message ?? "");
  } catch {
    return "";
  }
}

/** Lines of stderr that are not log records: what the CLI printed itself. */
function plain(stderr: string): string[] {
  return lines(stderr).filter((l) => !l.startsWith('{"@timestamp"'));
}

async function until(condition: () => boolean, what: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Not in time: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** 16 random bytes as 32 hex digits, as `openssl rand -hex 16` prints them. */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether a file can be read. */
async function readable(path: string): Promise<boolean> {
  try {
    (await Deno.open(path, { read: true })).close();
    return true;
  } catch {
    return false;
  }
}

/** examples/ctn.jsonc with its three services on loopback, ephemeral ports. */
async function loopbackCtn(): Promise<string> {
  const text = await Deno.readTextFile(`${EXAMPLES}ctn.jsonc`);
  const moved = text.replace('"10.0.1.1:716"', '"127.0.0.1:0"')
    .replace('"10.0.1.1:7716"', '"127.0.0.1:0"')
    .replace('"10.0.1.1:67"', '"127.0.0.1:0"');
  expect(moved.match(/"127\.0\.0\.1:0"/g)).toHaveLength(3);
  return moved;
}

const PSK1 = randomHex(16);
const PSK2 = randomHex(16);

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpacc-ctncfg-" });
  // examples/README.md: `openssl rand -hex 16 > mn1.psk` and `echo "mn1 $(cat
  // mn1.psk)" > aa.psk`, both mode 600.
  await Deno.writeTextFile(`${dir}/mn1.psk`, `${PSK1}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/mn2.psk`, `${PSK2}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/aa.psk`, `mn1 ${PSK1}\n`, { mode: 0o600 });
});

afterAll(async () => {
  if (dir !== "") await Deno.remove(dir, { recursive: true });
});

describe("mpa ctn --config --dry-run", () => {
  it(
    "validates examples/ctn.jsonc and ctn-b.jsonc without their key files (exit 0, one summary line)",
    async () => {
      const [a, b] = await Promise.all([
        CliProcess.run(undefined, ["ctn", "--config", `${EXAMPLES}ctn.jsonc`, "--dry-run"]),
        CliProcess.run(undefined, ["ctn", "--config", `${EXAMPLES}ctn-b.jsonc`, "--dry-run"]),
      ]);
      for (const r of [a, b]) {
        expect(r.code, r.stderr).toBe(0);
        expect(lines(r.stdout)).toHaveLength(1);
        expect(r.stderr).not.toContain(STACK);
      }
      const sa = JSON.parse(a.stdout);
      expect(sa).toMatchObject({
        valid: true,
        ctn: "domainA",
        aa: {
          listen: "10.0.1.1:716",
          backend: "local",
          credentials: `${EXAMPLES}aa.psk`,
          serverId: "aa.domainA",
          lifetimeS: 600,
          kv: null,
        },
        ar: { listen: "10.0.1.1:7716", tun: null, buffer: { packets: 1024, ms: 2000 } },
        ca: {
          kind: "embedded",
          listen: "10.0.1.1:67",
          subnet: "10.0.1.0/24",
          range: "10.0.1.100-10.0.1.199",
          router: "10.0.1.1",
        },
        log: { level: "info", format: "auto" },
      });
      const sb = JSON.parse(b.stdout);
      expect(sb).toMatchObject({
        valid: true,
        ctn: "domainB",
        aa: {
          backend: "radius",
          radius: "10.0.2.53:1812",
          secretFile: `${EXAMPLES}radius.secret`,
          kv: `${EXAMPLES}state/aa-domainB.kv`,
        },
        ar: { tun: { ctnInterface: "eth1", name: "mpa%d", mtu: 1400 } },
        ca: {
          kind: "external",
          gate: { table: "inet mpa_ca", set: "allowed", port: 67, netns: "ctn-b" },
        },
        log: { level: "debug", format: "json" },
      });
      // The key files are not shipped (examples/README.md says how to make them): the
      // summary names the ones missing here, and a warning per file says so.
      const expectUnreadable = async (
        summary: { unreadableFiles: string[] },
        stderr: string,
        files: Record<string, string>,
      ) => {
        const missing = [];
        for (const [field, file] of Object.entries(files)) {
          if (!await readable(`${EXAMPLES}${file}`)) missing.push(field);
        }
        expect(summary.unreadableFiles).toEqual(missing);
        const warned = lines(stderr).filter((l) => message(l).includes("cannot be read"));
        expect(warned).toHaveLength(missing.length);
      };
      await expectUnreadable(sa, a.stderr, { "aa.credentials": "aa.psk" });
      await expectUnreadable(sb, b.stderr, {
        "aa.radius.secretFile": "radius.secret",
        "aa.kv.keyFile": "aa-store.key",
      });
      // Never a key or a secret in the summary.
      expect(a.stdout).not.toMatch(/[0-9a-f]{32}/);
    },
    TIMEOUT,
  );

  it(
    "a copy with its key files made: nothing unreadable, --log-level overrides the file's",
    async () => {
      await Deno.writeTextFile(`${dir}/ctn.jsonc`, await Deno.readTextFile(`${EXAMPLES}ctn.jsonc`));
      const r = await CliProcess.run(undefined, [
        "--log-level",
        "debug",
        "ctn",
        "--config",
        `${dir}/ctn.jsonc`,
        "--dry-run",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.unreadableFiles).toEqual([]);
      expect(summary.aa.credentials).toBe(`${dir}/aa.psk`);
      expect(summary.log).toEqual({ level: "debug", format: "auto" });
      expect(r.stdout + r.stderr).not.toContain(PSK1);
    },
    TIMEOUT,
  );
});

describe("mpa ctn --config: mistakes", () => {
  it(
    "a file that does not validate: exit 2, one line with file:line:column, the field and the expected form",
    async () => {
      const text = await Deno.readTextFile(`${EXAMPLES}ctn.jsonc`);
      const broken = text.replace('"lifetimeS": 600', '"lifetimeS": -5');
      expect(broken).not.toBe(text);
      const path = `${dir}/broken.jsonc`;
      await Deno.writeTextFile(path, broken);
      const row = broken.split("\n").findIndex((l) => l.includes('"lifetimeS": -5')) + 1;
      const column = broken.split("\n")[row - 1]!.indexOf("-5") + 1;
      const r = await CliProcess.run(undefined, ["ctn", "--config", path]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(STACK);
      expect(lines(r.stderr)).toEqual([
        `${path}:${row}:${column}: aa.lifetimeS: expected an integer 1-4294967295, got -5`,
      ]);
    },
    TIMEOUT,
  );

  it(
    "JSONC syntax errors, unknown fields, an IPv6 DHCP address and a missing file: exit 2, one line, no stack trace",
    async () => {
      await Deno.writeTextFile(`${dir}/syntax.jsonc`, '{\n  "ctn": "x"\n  "aa": {}\n}\n');
      await Deno.writeTextFile(
        `${dir}/unknown.jsonc`,
        (await loopbackCtn()).replace('"serverId"', '"serverID"'),
      );
      await Deno.writeTextFile(
        `${dir}/ipv6.jsonc`,
        (await Deno.readTextFile(`${EXAMPLES}ctn.jsonc`)).replace('"10.0.1.1:67"', '"[::1]:67"'),
      );
      const [syntax, unknown, missing, ipv6] = await Promise.all([
        CliProcess.run(undefined, ["ctn", "--config", `${dir}/syntax.jsonc`]),
        CliProcess.run(undefined, ["ctn", "--config", `${dir}/unknown.jsonc`, "--dry-run"]),
        CliProcess.run(undefined, ["ctn", "--config", `${dir}/none.jsonc`]),
        CliProcess.run(undefined, ["ctn", "--config", `${dir}/ipv6.jsonc`, "--dry-run"]),
      ]);
      for (const r of [syntax, unknown, missing, ipv6]) {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).not.toContain(STACK);
        expect(lines(r.stderr)).toHaveLength(1);
      }
      expect(syntax.stderr).toMatch(new RegExp(`^${dir}/syntax\\.jsonc:3:3: `));
      expect(unknown.stderr).toMatch(
        /unknown\.jsonc:\d+:\d+: aa\.serverID: .*did you mean "serverId"\?/,
      );
      // The embedded CA serves DHCPv4 only.
      expect(ipv6.stderr).toMatch(
        /ipv6\.jsonc:\d+:\d+: ca\.listen: expected "HOST:PORT" with an IPv4 address .*, got "\[::1\]:67"/,
      );
      expect(missing.stderr.trim()).toBe(
        `${dir}/none.jsonc: expected a readable file, got no such file`,
      );
    },
    TIMEOUT,
  );

  it(
    "service flags with --config, --dry-run without it: exit 2, one line naming the conflict",
    async () => {
      const config = `${EXAMPLES}ctn.jsonc`;
      const runs = await Promise.all([
        CliProcess.run(undefined, ["ctn", "--config", config, "--aa"]),
        CliProcess.run(undefined, ["ctn", "--config", config, "--ar-listen", "127.0.0.1:0"]),
        CliProcess.run(undefined, ["ctn", "--config", config, "--ca-embedded"]),
        CliProcess.run(undefined, ["ctn", "--dry-run", "--aa", "--ctn", "x"]),
        CliProcess.run(undefined, ["ctn", "--config", config, "--log-level", "loud"]),
      ]);
      const reasons = [
        "Invalid --aa: it cannot go with --config (the file configures the services)",
        "Invalid --ar-listen: it cannot go with --config",
        "Invalid --ca-embedded: it cannot go with --config",
        "Invalid --dry-run: it goes with --config",
        "Invalid log level",
      ];
      runs.forEach((r, i) => {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe("");
        expect(plain(r.stderr), r.stderr).toHaveLength(1);
        expect(plain(r.stderr)[0]).toContain(reasons[i]!);
      });
    },
    TIMEOUT,
  );

  it(
    "a key file the file names cannot be read at start: exit 2, one line naming the file and the field",
    async () => {
      const sub = `${dir}/nokeys`;
      await Deno.mkdir(sub);
      await Deno.writeTextFile(`${sub}/ctn.jsonc`, await loopbackCtn());
      const r = await CliProcess.run(undefined, ["ctn", "--config", `${sub}/ctn.jsonc`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain(STACK);
      expect(plain(r.stderr)).toHaveLength(1);
      expect(plain(r.stderr)[0]).toMatch(
        new RegExp(
          `^${sub}/ctn\\.jsonc: aa\\.credentials: Cannot read credentials file ${sub}/aa\\.psk`,
        ),
      );
    },
    TIMEOUT,
  );

  it("--help describes the configuration file, --dry-run and SIGHUP", async () => {
    const r = await CliProcess.run(undefined, ["ctn", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(CTN_HELP);
    for (const text of ["--config FILE", "--dry-run", "SIGHUP", "examples/README.md"]) {
      expect(CTN_HELP).toContain(text);
    }
  }, TIMEOUT);
});

describe("mpa ctn --config: a loopback copy of examples/ctn.jsonc", () => {
  let ctn: CliProcess | undefined;
  let config = "";
  let original = "";
  let listening: { listening: string; ctn: string; ar: string; ca: string } | undefined;

  beforeAll(async () => {
    config = `${dir}/ctn.jsonc`;
    original = await loopbackCtn();
    await Deno.writeTextFile(config, original);
    ctn = CliProcess.spawn(undefined, ["ctn", "--config", config], "mpa ctn --config");
    listening = JSON.parse(await ctn.firstLine());
  }, TIMEOUT);

  afterAll(async () => {
    await ctn?.stop();
  }, TIMEOUT);

  /** `mpa preauth` as `identity` with its PSK file against the running AA. */
  function preauth(identity: string, psk: string) {
    return CliProcess.run(undefined, [
      "preauth",
      "--aa",
      listening!.listening,
      "--identity",
      identity,
      "--psk-file",
      psk,
      "--ctn",
      "domainA",
      "--bind",
      "127.0.0.1",
      "--timeout",
      "5000",
    ]);
  }

  it("prints the listening line of the flag form, one field per service", () => {
    expect(Object.keys(listening!)).toEqual(["listening", "ctn", "ar", "ca"]);
    expect(listening!.ctn).toBe("domainA");
    for (const field of ["listening", "ar", "ca"] as const) {
      expect(listening![field]).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    }
  });

  it("RFC 6252 6.3 step 1: mpa preauth as mn1 succeeds", async () => {
    const r = await preauth("mn1", `${dir}/mn1.psk`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ctn: "domainA", lifetimeMs: 600_000 });
  }, TIMEOUT);

  it(
    "RFC 6252 6.3 steps 1-2: mpa preconfigure gets an nCoA of the example's range and a tunnel",
    async () => {
      const r = await CliProcess.run(undefined, [
        "preconfigure",
        "--aa",
        listening!.listening,
        "--identity",
        "mn1",
        "--psk-file",
        `${dir}/mn1.psk`,
        "--ctn",
        "domainA",
        "--ca",
        listening!.ca,
        "--subnet",
        "10.0.1.0/24",
        "--ar",
        listening!.ar,
        "--bind",
        "127.0.0.1",
        "--source-port",
        "0",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const line = JSON.parse(r.stdout);
      expect(line.nCoA).toMatch(/^10\.0\.1\.1\d\d$/);
      expect(line.lease).toMatchObject({ router: "10.0.1.1", dns: ["10.0.1.1"] });
      expect(line.tunnel.ar).toBe(listening!.ar);
    },
    TIMEOUT,
  );

  it(
    "SIGHUP reloads the credentials and the log level live; other changes need a restart",
    async () => {
      expect((await preauth("mn2", `${dir}/mn2.psk`)).code).toBe(1); // not known yet
      await Deno.writeTextFile(`${dir}/aa.psk`, `mn1 ${PSK1}\nmn2 ${PSK2}\n`, { mode: 0o600 });
      await Deno.writeTextFile(
        config,
        original.replace('"level": "info"', '"level": "debug"')
          .replace('"packets": 1024', '"packets": 64'),
      );
      const seen = lines(ctn!.stderr).length;
      const after = () => lines(ctn!.stderr).slice(seen);
      ctn!.kill("SIGHUP");
      await until(
        () => after().some((l) => message(l).startsWith("Configuration reloaded")),
        () => ctn!.stderr,
      );
      const reloaded = JSON.parse(
        after().find((l) => message(l).startsWith("Configuration reloaded"))!,
      );
      expect(reloaded.properties).toEqual({ applied: "aa.credentials, log", identities: 2 });
      const restart = after().find((l) => message(l).includes("need a restart"));
      expect(JSON.parse(restart!).properties).toEqual({ fields: "ar" });

      const r = await preauth("mn2", `${dir}/mn2.psk`);
      expect(r.code, r.stderr).toBe(0);
      // The new level is in effect: a datagram the AR cannot parse is logged at debug.
      const [host, port] = [listening!.ar.split(":")[0]!, Number(listening!.ar.split(":")[1])];
      const socket = createSocket("udp4");
      try {
        await new Promise<void>((resolve) =>
          socket.send(new Uint8Array([1, 2, 3]), port, host, () => resolve())
        );
      } finally {
        socket.close();
      }
      await until(() => after().some((l) => l.includes('"level":"DEBUG"')), () => ctn!.stderr);
      expect(ctn!.stderr).not.toContain(PSK1);
      expect(ctn!.stderr).not.toContain(PSK2);
    },
    TIMEOUT,
  );

  it("SIGHUP with an invalid file: logged with the field, the services keep running", async () => {
    await Deno.writeTextFile(config, original.replace('"ctn": "domainA"', '"ctn": 7'));
    const seen = lines(ctn!.stderr).length;
    const after = () => lines(ctn!.stderr).slice(seen);
    ctn!.kill("SIGHUP");
    await until(
      () => after().some((l) => message(l).startsWith("Reload failed")),
      () => ctn!.stderr,
    );
    const refused = message(after().find((l) => message(l).startsWith("Reload failed"))!);
    expect(refused).toMatch(/ctn\.jsonc:\d+:\d+: ctn: expected a non-empty string, got 7/);
    const r = await preauth("mn1", `${dir}/mn1.psk`);
    expect(r.code, r.stderr).toBe(0);
  }, TIMEOUT);

  it("SIGTERM: exit 0 and the final counters", async () => {
    ctn!.kill("SIGTERM");
    const status = await ctn!.status();
    expect(status.code, ctn!.stderr).toBe(0);
    expect(ctn!.stderr).not.toContain(STACK);
    const final = lines(ctn!.stderr).map(message).find((m) => m.includes("AA stopped:"));
    expect(final, ctn!.stderr).toBeDefined();
    // mn1 (preauth, preconfigure, again after the bad reload) and mn2; mn2's first try refused.
    expect(final).toMatch(/\b4 authorized\b/);
    expect(final).toMatch(/\b1 rejected\b/);
    const ca = lines(ctn!.stderr).map(message).find((m) => m.includes("CA stopped:"));
    expect(ca).toMatch(/\b1 acks\b/);
    ctn = undefined;
  }, TIMEOUT);
});

describe("mpa --log-level LEVEL ctn --config", () => {
  it("the global flag overrides the file's level", async () => {
    const config = `${dir}/quiet.jsonc`;
    await Deno.writeTextFile(config, await loopbackCtn());
    const ctn = CliProcess.spawn(
      undefined,
      ["--log-level", "warning", "ctn", "--config", config],
      "mpa ctn quiet",
    );
    try {
      JSON.parse(await ctn.firstLine());
      ctn.kill("SIGTERM");
      expect((await ctn.status()).code, ctn.stderr).toBe(0);
      expect(ctn.stderr).not.toContain('"level":"INFO"');
    } finally {
      await ctn.stop();
    }
  }, TIMEOUT);
});
