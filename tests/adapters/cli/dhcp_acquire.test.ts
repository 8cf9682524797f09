/**
 * End-to-end tests of `mpa dhcp-acquire` (RFC 6252 section 7.3.3) against a small
 * DHCP server on loopback built from the codec: the JSON line, exit statuses and
 * one-line reasons, never a stack trace.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { DHCP_ACQUIRE_HELP } from "../../../adapters/cli/dhcp_acquire.ts";
import { decodeDhcp, type DhcpMessage, dhcpMessage, encodeDhcp } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType as T, DhcpOp } from "../../../lib/wire/dhcp_constants.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const TIMEOUT = 60_000;
const STACK = "    at ";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function mpa(args: readonly string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--node-modules-dir=manual", `${ROOT}mod.ts`, "dhcp-acquire", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code, stdout: d.decode(stdout), stderr: d.decode(stderr) };
}

let socket: Socket;
let silent: Socket;
let port = 0;
let silentPort = 0;
const received: DhcpMessage[] = [];

beforeAll(async () => {
  socket = createSocket({ type: "udp4" });
  silent = createSocket({ type: "udp4" });
  await new Promise<void>((r) => socket.bind({ address: "127.0.0.1", port: 0 }, r));
  await new Promise<void>((r) => silent.bind({ address: "127.0.0.1", port: 0 }, r));
  port = socket.address().port;
  silentPort = silent.address().port;
  socket.on("message", (data, rinfo) => {
    const msg = decodeDhcp(new Uint8Array(data));
    received.push(msg);
    const rapid = msg.options.rapidCommit === true;
    const type = msg.options.messageType === T.Discover && !rapid ? T.Offer : T.Ack;
    const reply = dhcpMessage({
      op: DhcpOp.BootReply,
      xid: msg.xid,
      chaddr: msg.chaddr,
      yiaddr: "10.0.2.50",
      options: {
        messageType: type,
        serverId: "10.0.2.1",
        leaseTime: 120,
        subnetMask: "255.255.255.0",
        dns: ["10.0.2.53"],
        ...(rapid ? { rapidCommit: true } : {}),
      },
    });
    socket.send(encodeDhcp(reply), rinfo.port, rinfo.address);
  });
});

afterAll(async () => {
  await new Promise<void>((r) => socket.close(() => r()));
  await new Promise<void>((r) => silent.close(() => r()));
});

describe("mpa dhcp-acquire (RFC 6252 section 7.3.3)", () => {
  it(
    "prints one JSON line with the lease (ciaddr mode, explicit source and client id)",
    async () => {
      received.length = 0;
      const r = await mpa([
        "--server",
        `127.0.0.1:${port}`,
        "--subnet",
        "10.0.2.0/24",
        "--mode",
        "ciaddr",
        "--source",
        "127.0.0.1",
        "--source-port",
        "0",
        "--client-id",
        "01:02:00:00:00:00:01",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines.length).toBe(1);
      const out = JSON.parse(lines[0]!);
      expect(out).toMatchObject({
        address: "10.0.2.50",
        mask: "255.255.255.0",
        router: null,
        dns: ["10.0.2.53"],
        leaseTime: 120,
        serverId: "10.0.2.1",
        clientId: "01020000000001",
        rapidCommit: false,
      });
      expect(Object.keys(out)).toEqual([
        "address",
        "mask",
        "router",
        "dns",
        "leaseTime",
        "serverId",
        "clientId",
        "rapidCommit",
        "elapsedMs",
      ]);
      expect(typeof out.elapsedMs).toBe("number");
      expect(received.map((m) => [m.options.messageType, m.ciaddr])).toEqual([
        [T.Discover, "127.0.0.1"],
        [T.Request, "127.0.0.1"],
      ]);
    },
    TIMEOUT,
  );

  it("finds the source itself, relay mode, rapid commit, random client id", async () => {
    received.length = 0;
    const r = await mpa([
      "--server",
      `127.0.0.1:${port}`,
      "--subnet",
      "10.0.2.0/24",
      "--mode",
      "relay",
      "--source-port",
      "0",
      "--rapid-commit",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rapidCommit).toBe(true);
    expect(out.clientId).toMatch(/^01[0-9a-f]{12}$/);
    expect(received.length).toBe(1);
    expect([received[0]!.giaddr, received[0]!.ciaddr]).toEqual(["127.0.0.1", "0.0.0.0"]);
  }, TIMEOUT);

  it("exits 1 with one line on stderr when no server answers in time", async () => {
    const r = await mpa([
      "--server",
      `127.0.0.1:${silentPort}`,
      "--subnet",
      "10.0.2.0/24",
      "--mode",
      "ciaddr",
      "--source-port",
      "0",
      "--timeout",
      "300",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n").length).toBe(1);
    expect(r.stderr).toMatch(
      /^No DHCP server answered: nothing from 127\.0\.0\.1:\d+ within 300 ms/,
    );
    expect(r.stderr).not.toContain(STACK);
  }, TIMEOUT);

  it("exits 2 with a one-line reason on bad arguments", async () => {
    const base = ["--server", "127.0.0.1", "--subnet", "10.0.2.0/24", "--mode", "ciaddr"];
    const cases: [string[], RegExp][] = [
      [["--subnet", "10.0.2.0/24", "--mode", "ciaddr"], /^Missing --server/],
      [["--server", "127.0.0.1", "--mode", "ciaddr"], /^Missing --subnet/],
      [["--server", "127.0.0.1", "--subnet", "10.0.2.0/24"], /^Missing --mode/],
      [[...base.slice(0, 4), "--mode", "broadcast"], /^Invalid --mode/],
      [["--server", "::1", ...base.slice(2)], /^Invalid --server: DHCPv4/],
      [["--server", "127.0.0.1", "--subnet", "10.0.2.0", "--mode", "ciaddr"], /^Invalid --subnet/],
      [[...base, "--client-id", "01"], /^Invalid --client-id/],
      [[...base, "--client-id", "zz00"], /^Invalid --client-id/],
      [[...base, "--source", "nowhere"], /^Invalid --source/],
      [[...base, "--source-port", "70000"], /^Invalid --source-port/],
      [[...base, "--timeout", "0"], /^Invalid --timeout/],
      [[...base, "--bogus"], /^Unknown option --bogus/],
    ];
    for (const [args, reason] of cases) {
      const r = await mpa(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n").length, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(reason);
      expect(r.stderr).not.toContain(STACK);
    }
  }, TIMEOUT);

  it("prints the help with --help and is listed by mpa --help", async () => {
    const r = await mpa(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(DHCP_ACQUIRE_HELP);
    const top = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--node-modules-dir=manual", `${ROOT}mod.ts`, "--help"],
      stdout: "piped",
      stderr: "null",
    }).output();
    expect(new TextDecoder().decode(top.stdout)).toContain("dhcp-acquire");
  }, TIMEOUT);
});
