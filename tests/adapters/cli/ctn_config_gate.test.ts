/**
 * `mpa ctn --config FILE` with an external CA behind the nftables gate (RFC 6252
 * section 7.3.3: "block unicast DHCP messages ... from mobile nodes that are not
 * pre-authenticated"), as root in network namespaces of this test:
 *
 * - examples/ctn.jsonc on loopback with its CA switched to `"kind": "external"`, the
 *   gate in a namespace: the table is installed at start, `mpa preauth` admits the
 *   MN's address to the set, SIGTERM removes the table and exits 0;
 * - examples/ctn-b.jsonc as shipped but for the namespace names, run inside a
 *   namespace whose `eth1` (a veth pair) carries 10.0.2.1, with its key files made as
 *   examples/README.md says: the RADIUS relay, the KV store, the AR's TUN device
 *   and the gate all start, SIGTERM stops them with exit 0 and removes the TUN and
 *   the table. (No RADIUS server answers here: pre-authentication through it is
 *   tested in tests/interop/pana_radius_hostapd.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { CliProcess } from "../../fixtures/preconfig/_cli_process.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";
import { findExecutable } from "../../fixtures/dhcp/_servers.ts";

const TIMEOUT = 60_000;
const STACK = "    at ";
const ROOT = new URL("../../../", import.meta.url).pathname;
const EXAMPLES = `${ROOT}examples/`;
const runnable = canUseNetns({ tun: true }) && findExecutable("nft") !== undefined;

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

function message(line: string): string {
  try {
    return String((JSON.parse(line) as { message?: unknown }).message ?? "");
  } catch {
    return "";
  }
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function until(condition: () => Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!await condition()) {
    if (Date.now() > end) throw new Error(`Not in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let lab: NetnsLab | undefined;
let dir = "";
const PSK = randomHex(16);

beforeAll(async () => {
  if (!runnable) return;
  lab = new NetnsLab("mpacc");
  dir = await Deno.makeTempDir({ prefix: "mpacc-ctngate-" });
  await Deno.writeTextFile(`${dir}/mn1.psk`, `${PSK}\n`, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/aa.psk`, `mn1 ${PSK}\n`, { mode: 0o600 });
}, TIMEOUT);

afterAll(async () => {
  await lab?.dispose();
  if (dir !== "") await Deno.remove(dir, { recursive: true });
}, TIMEOUT);

/** `nft ARGS` in a namespace: stdout, or "" when nft fails (no such table). */
async function nft(ns: string, args: readonly string[]): Promise<string> {
  const r = await lab!.exec(ns, ["nft", ...args]);
  return r.code === 0 ? r.stdout : "";
}

describe("mpa ctn --config with an external CA", () => {
  it.skipIf(!runnable)(
    "needs root and nft (runs in CI): the gate admits pre-authenticated MNs only, SIGTERM removes it",
    async () => {
      const ns = await lab!.namespace("gate");
      const text = await Deno.readTextFile(`${EXAMPLES}ctn.jsonc`);
      const external = text.replace('"10.0.1.1:716"', '"127.0.0.1:0"')
        .replace('"10.0.1.1:7716"', '"127.0.0.1:0"')
        .replace(
          /\n {2}"ca": \{[\s\S]*?\n {2}\},/,
          `\n  "ca": { "kind": "external", "gate": { "netns": "${ns}" } },`,
        );
      expect(external).toContain('"kind": "external"');
      await Deno.writeTextFile(`${dir}/ctn.jsonc`, external);
      const ctn = CliProcess.spawn(undefined, ["ctn", "--config", `${dir}/ctn.jsonc`], "ctn");
      try {
        const listening = JSON.parse(await ctn.firstLine());
        expect(Object.keys(listening)).toEqual(["listening", "ctn", "ar", "caGate"]);
        expect(listening.caGate).toEqual({ table: "inet mpa_ca", netns: ns });
        expect(await nft(ns, ["list", "set", "inet", "mpa_ca", "allowed"])).not.toContain(
          "127.0.0.1",
        );

        const r = await CliProcess.run(undefined, [
          "preauth",
          "--aa",
          listening.listening,
          "--identity",
          "mn1",
          "--psk-file",
          `${dir}/mn1.psk`,
          "--ctn",
          "domainA",
          "--bind",
          "127.0.0.1",
        ]);
        expect(r.code, r.stderr).toBe(0);
        await until(
          async () =>
            (await nft(ns, ["list", "set", "inet", "mpa_ca", "allowed"])).includes("127.0.0.1"),
          "127.0.0.1 admitted",
        );

        ctn.kill("SIGTERM");
        expect((await ctn.status()).code, ctn.stderr).toBe(0);
        expect(ctn.stderr).not.toContain(STACK);
        expect(lines(ctn.stderr).map(message).join("\n")).toMatch(
          /CA gate removed: 1 admissions, 0 withdrawals, 0 nft errors/,
        );
        expect(await nft(ns, ["list", "tables"])).not.toContain("mpa_ca");
      } finally {
        await ctn.stop();
      }
    },
    TIMEOUT,
  );

  it.skipIf(!runnable)(
    "needs root, /dev/net/tun and nft (runs in CI): examples/ctn-b.jsonc starts with its key files made as examples/README.md says",
    async () => {
      const ctnNs = await lab!.namespace("b", { ipv6: false });
      const caNs = await lab!.namespace("b-ca");
      // The CTN link (no dummy module in every kernel: a veth pair to the CA's namespace).
      await lab!.veth(
        { ns: ctnNs, name: "eth1", cidr: "10.0.2.1/24" },
        { ns: caNs, name: "eth0", cidr: "10.0.2.2/24" },
      );
      const sub = `${dir}/b`;
      await Deno.mkdir(`${sub}/state`, { recursive: true });
      // examples/README.md: radius.secret (the AAA server's shared secret) and
      // aa-store.key (`openssl rand -hex 32`), mode 600; the state/ directory.
      await Deno.writeTextFile(`${sub}/radius.secret`, `${randomHex(16)}\n`, { mode: 0o600 });
      await Deno.writeTextFile(`${sub}/aa-store.key`, `${randomHex(32)}\n`, { mode: 0o600 });
      const text = await Deno.readTextFile(`${EXAMPLES}ctn-b.jsonc`);
      const config = text.replace('"netns": "ctn-b"', `"netns": "${caNs}"`);
      expect(config).not.toBe(text);
      await Deno.writeTextFile(`${sub}/ctn-b.jsonc`, config);

      const ctn = CliProcess.spawn(ctnNs, ["ctn", "--config", `${sub}/ctn-b.jsonc`], "ctn-b");
      try {
        const listening = JSON.parse(await ctn.firstLine());
        expect(listening).toEqual({
          listening: "10.0.2.1:716",
          ctn: "domainB",
          ar: "10.0.2.1:7716",
          arTun: "mpa0",
          caGate: { table: "inet mpa_ca", netns: caNs },
        });
        expect(await nft(caNs, ["list", "tables"])).toContain("mpa_ca");
        expect(await lab!.ip(ctnNs, ["link", "show", "mpa0"])).toContain("mpa0");
        const stat = await Deno.stat(`${sub}/state/aa-domainB.kv`);
        expect(stat.isFile).toBe(true);

        ctn.kill("SIGTERM");
        expect((await ctn.status()).code, ctn.stderr).toBe(0);
        expect(ctn.stderr).not.toContain(STACK);
        const log = lines(ctn.stderr).map(message).join("\n");
        expect(log).toMatch(/AA ready on "10\.0\.2\.1:716" \("RADIUS 10\.0\.2\.53:1812"\)/);
        expect(log).toContain("AA stopped:");
        expect(await nft(caNs, ["list", "tables"])).not.toContain("mpa_ca");
        const links = await lab!.ip(ctnNs, ["link", "show"]);
        expect(links).not.toContain("mpa0");
      } finally {
        await ctn.stop();
      }
    },
    TIMEOUT,
  );
});
