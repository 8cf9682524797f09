/**
 * `mpa ctn` with the AR and CA options (RFC 6252 sections 7.3.3, 7.4): bad
 * combinations and configurations end with exit 2 and one line, before or while the
 * services start, and leave nothing running. (The AA-only behaviour is tested in
 * preauth_ctn.test.ts; the services at work in preconfigure.test.ts and in
 * tests/interop/preconfig_e2e.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type Socket } from "node:dgram";
import { CliProcess } from "../../fixtures/preconfig/_cli_process.ts";

const TIMEOUT = 60_000;
const CTN = "ctn-b.example";

let dir = "";
let holder: Socket | undefined;
let busy = 0;

beforeAll(async () => {
  dir = await Deno.makeTempDir({ prefix: "mpapc-ctncli-" });
  await Deno.writeTextFile(
    `${dir}/credentials`,
    "mn@example 000102030405060708090a0b0c0d0e0f\n",
    { mode: 0o600 },
  );
  holder = createSocket("udp4");
  await new Promise<void>((resolve) => holder!.bind(0, "127.0.0.1", () => resolve()));
  busy = holder.address().port;
});

afterAll(async () => {
  if (holder !== undefined) await new Promise<void>((resolve) => holder!.close(() => resolve()));
  if (dir !== "") await Deno.remove(dir, { recursive: true });
});

function ctn(extra: readonly string[]): string[] {
  return [
    "ctn",
    "--aa",
    "--ctn",
    CTN,
    "--listen",
    "127.0.0.1:0",
    "--credentials",
    `${dir}/credentials`,
    ...extra,
  ];
}

const EMBEDDED = ["--ca-embedded", "--ca-listen", "127.0.0.1:0", "--subnet", "10.0.2.0/24"];

describe("mpa ctn --ar / --ca-gate / --ca-embedded: bad arguments and configuration", () => {
  it("exit 2 with one line naming the option", async () => {
    const cases: [readonly string[], string][] = [
      [["ctn", "--ar", "--ctn", CTN, "--credentials", `${dir}/credentials`], "Missing --aa"],
      [ctn(["--ar-tun"]), "Invalid --ar-tun: it goes with --ar"],
      [ctn(["--ar-listen", "127.0.0.1:0"]), "Invalid --ar-listen: it goes with --ar"],
      [ctn(["--ar", "--ar-tun"]), "Missing --ctn-interface: --ar-tun needs"],
      [ctn(["--ar", "--ctn-interface", "eth0"]), "Invalid --ctn-interface: it goes with --ar-tun"],
      [ctn(["--ar", "--buffer-packets", "0"]), "Invalid --buffer-packets"],
      [ctn(["--ar", "--ar-listen", "nowhere:1"]), "Invalid --ar-listen"],
      [ctn(["--ca-netns", "x"]), "Invalid --ca-netns: it goes with --ca-gate"],
      [ctn(["--subnet", "10.0.2.0/24"]), "Invalid --subnet: it goes with --ca-embedded"],
      [ctn([...EMBEDDED]), "Missing --range: --ca-embedded needs it"],
      [ctn([...EMBEDDED, "--range", "10.0.2.100"]), "Invalid --range"],
      [ctn([...EMBEDDED, "--range", "10.0.2.100-10.0.2.199", "--dns", "x"]), "Invalid --dns"],
      [
        ctn([...EMBEDDED, "--range", "10.0.3.1-10.0.3.9"]),
        "Cannot start the embedded CA on 127.0.0.1:0: Invalid range: 10.0.3.1 is not in 10.0.2.0/24",
      ],
      [
        ctn(["--ar", "--ar-listen", `127.0.0.1:${busy}`]),
        `Cannot bind the AR to 127.0.0.1:${busy}`,
      ],
      [
        ctn(["--ca-gate", "--ca-netns", "no such ns"]),
        "Cannot install the CA gate in no such ns: Invalid network namespace name",
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => CliProcess.run(undefined, args)));
    runs.forEach((r, i) => {
      const lines = r.stderr.split("\n").filter((l) =>
        l !== "" && !/^\{"@timestamp":"[^"]+","level":"(INFO|WARNING)"/.test(l)
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain("    at ");
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(cases[i]![1]);
    });
  }, TIMEOUT);
});
