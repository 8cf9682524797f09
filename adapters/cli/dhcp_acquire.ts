/**
 * `mpa dhcp-acquire --server IP[:PORT] --subnet CIDR --mode ciaddr|relay [--source IP]
 * [--source-port N] [--client-id HEX] [--rapid-commit] [--timeout MS]`: one proactive
 * DHCPv4 acquisition by unicast from the current address (RFC 6252 section 7.3.3),
 * printing one JSON line with the lease. The address is not assigned to any
 * interface.
 *
 * @module
 */
import { isIP } from "node:net";
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { DHCP_SERVER_PORT } from "../../lib/wire/dhcp_constants.ts";
import { hex } from "../../lib/wire/_bytes.ts";
import { dhcpAcquire, DhcpError, type DhcpLeaseInfo, type DhcpMode } from "../dhcp/client.ts";
import { _localAddressFor, _parseCidr } from "../dhcp/_dhcp_udp.ts";
import { CliError } from "./replay.ts";
import { attachNegativeValues, LineWriter } from "./_io.ts";
import { _oneLine, _onlyKnown, _parseHostPort, _positive, _string } from "./_net_args.ts";

/** The default deadline of `mpa dhcp-acquire`, ms. */
const _DEFAULT_TIMEOUT_MS = 4000;

/**
 * Help text of `mpa dhcp-acquire`: options, output line and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DHCP_ACQUIRE_HELP } from "./dhcp_acquire.ts";
 * assertStringIncludes(DHCP_ACQUIRE_HELP, "--mode ciaddr|relay");
 * assertStringIncludes(DHCP_ACQUIRE_HELP, "rapidCommit");
 * ```
 */
export const DHCP_ACQUIRE_HELP =
  `Usage: mpa dhcp-acquire --server IP[:PORT] --subnet CIDR --mode ciaddr|relay
                         [--source IP] [--source-port N] [--client-id HEX]
                         [--rapid-commit] [--timeout MS]

Acquires an address proactively from the DHCP server (configuration agent) of a
candidate target network by unicast DHCPv4 from the current address (RFC 6252
section 7.3.3): DISCOVER/OFFER/REQUEST/ACK, or DISCOVER/ACK with rapid commit
(RFC 4039), broadcast flag 0, option 118 naming the subnet (RFC 3011). The address
is NOT assigned to any interface. Prints one JSON line to stdout:
  {"address": ip, "mask": ip, "router": ip|null, "dns": [ip], "leaseTime": s,
   "serverId": ip, "clientId": hex, "rapidCommit": bool, "elapsedMs": ms}
Logs and errors go to stderr.

Options:
  --server IP[:PORT]  the DHCP server (port ${DHCP_SERVER_PORT} when omitted)
  --subnet CIDR       the subnet to get an address in (option 118), e.g. 10.0.2.0/24
  --mode MODE         ciaddr: ciaddr = source, replies to source:68 (Kea, ISC dhcpd);
                      relay: the MN is its own relay, giaddr = source, replies to
                      source:67 (dnsmasq)
  --source IP         the current address to send from (default: the address the
                      kernel uses to reach the server)
  --source-port N     local UDP port (default 68 in ciaddr mode, 67 in relay mode;
                      0 = any; ports below 1024 need root)
  --client-id HEX     option 61, type byte first, at least 2 bytes (default: 01 and
                      a random locally administered MAC); reuse it to renew after
                      the move
  --rapid-commit      ask for rapid commit (option 80)
  --timeout MS        give up after MS milliseconds (default ${_DEFAULT_TIMEOUT_MS})
  -h, --help          this text

Exit status: 0 acquired, 1 no server answered in time, DHCPNAK, or another failure,
2 bad arguments.`;

const _VALUED = ["server", "subnet", "mode", "source", "source-port", "client-id", "timeout"];

/**
 * The JSON line of `mpa dhcp-acquire` for a lease.
 *
 * @param lease the lease from `dhcpAcquire`
 * @returns one line of JSON
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const line = formatDhcpLeaseJson({
 *   address: "10.0.2.50", mask: "255.255.255.0", prefixLength: 24, dns: [],
 *   leaseTimeS: 3600, serverId: "10.0.2.1", clientId: "01020000000001",
 *   elapsedMs: 1.23456, rapidCommit: false, transmissions: 2, discarded: 0,
 * });
 * assertEquals(JSON.parse(line).router, null);
 * assertEquals(JSON.parse(line).elapsedMs, 1.235);
 * ```
 */
export function formatDhcpLeaseJson(lease: DhcpLeaseInfo): string {
  return JSON.stringify({
    address: lease.address,
    mask: lease.mask,
    router: lease.router ?? null,
    dns: lease.dns,
    leaseTime: lease.leaseTimeS,
    serverId: lease.serverId,
    clientId: lease.clientId,
    rapidCommit: lease.rapidCommit,
    elapsedMs: Math.round(lease.elapsedMs * 1000) / 1000,
  });
}

function _clientId(text: string | undefined): Uint8Array {
  if (text === undefined) {
    const mac = crypto.getRandomValues(new Uint8Array(6));
    mac[0] = (mac[0]! | 0x02) & 0xfe;
    return new Uint8Array([1, ...mac]);
  }
  const digits = text.replace(/[:\s]/g, "");
  if (!/^([0-9a-fA-F]{2}){2,255}$/.test(digits)) {
    throw new CliError(
      2,
      `Invalid --client-id: expected at least 2 bytes of hex (type byte first), got "${text}"`,
    );
  }
  return new Uint8Array(digits.match(/../g)!.map((h) => parseInt(h, 16)));
}

/**
 * Runs `mpa dhcp-acquire`: one proactive DHCP acquisition, one JSON line on stdout.
 * Needs network permission.
 *
 * @param args the arguments after `dhcp-acquire`
 * @returns 0 when acquired
 * @throws {CliError} status 1 when no server answered in time, on DHCPNAK, or
 *   another failure; status 2 for bad arguments
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { dhcpAcquireCommand } from "./dhcp_acquire.ts";
 * assertEquals(await dhcpAcquireCommand(["--help"]), 0); // prints DHCP_ACQUIRE_HELP
 * await assertRejects(() => dhcpAcquireCommand(["--subnet", "10.0.2.0/24"]), CliError, "Missing --server");
 * ```
 */
export async function dhcpAcquireCommand(args: readonly string[]): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, _VALUED), {
    string: _VALUED,
    boolean: ["help", "rapid-commit"],
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(DHCP_ACQUIRE_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, "help", "h", "rapid-commit"], "dhcp-acquire");
  const required = (name: string): string => {
    const value = _string(flags, name);
    if (value === undefined) {
      throw new CliError(2, `Missing --${name}: run 'mpa dhcp-acquire --help' for usage`);
    }
    return value;
  };
  const server = _parseHostPort(required("server"), "--server", DHCP_SERVER_PORT);
  if (isIP(server.host) !== 4) {
    throw new CliError(2, `Invalid --server: DHCPv4 needs an IPv4 address, got "${server.host}"`);
  }
  const subnet = required("subnet");
  if (_parseCidr(subnet) === undefined) {
    throw new CliError(
      2,
      `Invalid --subnet: expected an IPv4 CIDR such as 10.0.2.0/24, got "${subnet}"`,
    );
  }
  const modeText = required("mode");
  if (modeText !== "ciaddr" && modeText !== "relay") {
    throw new CliError(2, `Invalid --mode: expected ciaddr or relay, got "${modeText}"`);
  }
  const mode: DhcpMode = modeText;
  let source = _string(flags, "source");
  if (source !== undefined && isIP(source) !== 4) {
    throw new CliError(2, `Invalid --source: expected an IPv4 address, got "${source}"`);
  }
  const portText = _string(flags, "source-port");
  let sourcePort: number | undefined;
  if (portText !== undefined) {
    sourcePort = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(sourcePort >= 0 && sourcePort <= 65535)) {
      throw new CliError(2, `Invalid --source-port: expected 0 to 65535, got "${portText}"`);
    }
  }
  const clientId = _clientId(_string(flags, "client-id"));
  const timeoutText = _string(flags, "timeout");
  const timeoutMs = timeoutText === undefined
    ? _DEFAULT_TIMEOUT_MS
    : _positive(timeoutText, "--timeout", { integer: true, max: 86_400_000 });

  if (source === undefined) {
    try {
      source = await _localAddressFor(server.host, server.port);
    } catch (error) {
      throw new CliError(1, `No route to DHCP server ${server.host}: ${_oneLine(error)}`);
    }
  }
  const label = `${server.host}:${server.port}`;
  try {
    const lease = await dhcpAcquire({
      server: { address: server.host, port: server.port },
      subnet,
      mode,
      source,
      clientId,
      timeoutMs,
      retransmitMs: Math.min(500, Math.max(1, Math.floor(timeoutMs / 8))),
      ...(sourcePort === undefined ? {} : { sourcePort }),
      ...(flags["rapid-commit"] ? { rapidCommit: true } : {}),
    });
    const out = new LineWriter();
    out.line(formatDhcpLeaseJson(lease));
    out.flush();
    return 0;
  } catch (error) {
    if (!(error instanceof DhcpError)) throw error;
    if (error.code === "timeout") {
      throw new CliError(
        1,
        `No DHCP server answered: nothing from ${label} within ${timeoutMs} ms (${error.transmissions} transmissions from ${source}, client id ${
          hex(clientId)
        })`,
      );
    }
    throw new CliError(1, `DHCP acquisition from ${label} failed: ${_oneLine(error)}`);
  }
}
