/**
 * `mpa preconfigure --aa HOST:PORT --identity ID --psk-file FILE --ctn ID --ca
 * HOST[:PORT] --subnet CIDR [--mode ciaddr|relay] [--ar HOST[:PORT]] [--tun] [--bind
 * ADDR] [--hold]`: the mobile node's proactive preparation for one candidate target
 * network (RFC 6252 section 6.3 steps 1-2): pre-authentication (PANA with EAP-PSK,
 * section 6.3 step 1), the nCoA by unicast DHCP signed with the MN-CA key (section
 * 7.3.3), and the proactive handover tunnel to the CTN's AR under the MN-AR key
 * (section 7.4), optionally with a TUN device carrying the nCoA's traffic.
 *
 * @module
 */
import { isIP } from "node:net";
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import { ConfigError } from "../../lib/errors.ts";
import { type CtnInfo, type Lease, PortError, type TunnelHandle } from "../../lib/ports.ts";
import { DHCP_SERVER_PORT } from "../../lib/wire/dhcp_constants.ts";
import { PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import { PHT_UDP_PORT } from "../../lib/wire/pht_constants.ts";
import { DhcpConfigurator } from "../dhcp/configurator.ts";
import { _localAddressFor, _parseCidr } from "../dhcp/_dhcp_udp.ts";
import { type PanaMpaSa, PanaPac } from "../pana/pac.ts";
import { PhtTunnelManager } from "../tunnel/pht_mn.ts";
import { TunDevice } from "../tunnel/tun.ts";
import { attachMnTun, type MnTunAttachment } from "../tunnel/tun_glue.ts";
import { _untilStopped } from "./ctn.ts";
import { CliError } from "./replay.ts";
import { attachNegativeValues, LineWriter } from "./_io.ts";
import {
  _formatHostPort,
  _oneLine,
  _onlyKnown,
  _parseHostPort,
  _positive,
  _readHexKeyFile,
  _string,
} from "./_net_args.ts";

const _logger = getLogger(["mpa", "preconfigure"]);

/** The default deadline of each phase of `mpa preconfigure`, ms. */
const _DEFAULT_TIMEOUT_MS = 5000;

/** How long the PANA termination may take at the end, ms (then the AA lets it expire). */
const _TERMINATE_MS = 2000;

/**
 * Help text of `mpa preconfigure`: options, output line and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PRECONFIGURE_HELP } from "./preconfigure.ts";
 * assertStringIncludes(PRECONFIGURE_HELP, "--hold");
 * assertStringIncludes(PRECONFIGURE_HELP, "totalMs");
 * ```
 */
export const PRECONFIGURE_HELP =
  `Usage: mpa preconfigure --aa HOST:PORT --identity ID --psk-file FILE --ctn ID
                         --ca HOST[:PORT] --subnet CIDR [--mode ciaddr|relay]
                         [--ar HOST[:PORT]] [--tun] [--bind ADDR] [--hold]
                         [--source-port N] [--dhcp-retransmit MS] [--timeout MS]

Prepares the handover to a candidate target network (CTN) from the current network
(RFC 6252 section 6.3 steps 1-2), as 'mpa ctn --aa --ar --ca-...' serves it:
  preauth  pre-authenticates with the CTN's authentication agent (PANA with the
           pre-authentication flag, EAP-PSK), which delivers the MPA-SA's keys to the
           CTN's configuration agent (CA) and access router (AR);
  dhcp     acquires the new address (nCoA) from the CA by unicast DHCP from the
           current address (oCoA), signed with the MN-CA key (option 90; section
           7.3.3). The nCoA is NOT assigned to the physical interface;
  tunnel   opens the proactive handover tunnel to the AR, authenticated with the
           MN-AR key (section 7.4): the AR now routes the nCoA's packets to the MN.
           With --tun, a TUN device holds the nCoA (policy routing: traffic from
           the nCoA goes into the tunnel; packets from it are delivered here).
Prints one JSON line to stdout:
  {"ctn": id, "sessionId": n, "oCoA": ip, "nCoA": ip,
   "lease": {"prefixLength": n, "router": ip|null, "dns": [ip], "serverId": ip,
             "clientId": hex, "lifetimeMs": ms, "expiresAt": epoch-ms},
   "tunnel": {"id": id, "ar": "HOST:PORT", "expiresAt": epoch-ms, "tun": name|null},
   "timings": {"preauthMs": ms, "dhcpMs": ms, "tunnelMs": ms, "totalMs": ms}}
Without --hold it then closes the tunnel, releases the lease (DHCPRELEASE) and ends
the PANA session at once (a measured dry run). With --hold it keeps them (the tunnel
refreshed, the lease renewed at half its lifetime) until SIGINT or SIGTERM, then
does the same and exits 0. Logs and errors go to stderr.

Options:
  --aa HOST:PORT     the CTN's AA (PANA; port ${PANA_UDP_PORT} when omitted)
  --identity ID      the MN's EAP-PSK identity, as in the AA's credentials file
  --psk-file FILE    the 16-byte PSK as 32 hex digits (whitespace ignored)
  --ctn ID           the CTN's network id, as the AA's 'mpa ctn --ctn ID'
  --ca HOST[:PORT]   the CTN's DHCP server or relay (port ${DHCP_SERVER_PORT} when omitted)
  --subnet CIDR      the CTN subnet to get the nCoA in (option 118), e.g. 10.0.2.0/24
  --mode MODE        ciaddr (default): ciaddr = oCoA, replies to oCoA:68 (Kea, ISC
                     dhcpd); relay: the MN is its own relay, replies to oCoA:67
                     (dnsmasq)
  --ar HOST[:PORT]   the CTN's AR (default: the AA's address, port ${PHT_UDP_PORT})
  --tun              attach a TUN device holding the nCoA (needs root)
  --bind ADDR        the current address (oCoA) to send everything from (default:
                     the address the kernel uses to reach the CA)
  --hold             stay prepared until SIGINT or SIGTERM
  --source-port N    DHCP client port (default 68 in ciaddr mode, 67 in relay mode,
                     both need root; 0 = any, for a CA that answers the source port)
  --dhcp-retransmit MS
                     first DHCP retransmission, ms, doubling (default 500: RFC
                     2131 section 4.1 scaled down)
  --timeout MS       deadline of the pre-authentication and of the DHCP exchange
                     (default ${_DEFAULT_TIMEOUT_MS})
  -h, --help         this text

Exit status: 0 prepared (and, with --hold, released after the signal), 1 a phase
failed (the line names the phase and the error code: rejected, timeout,
unreachable, protocol, ...), 2 bad arguments or an unreadable PSK file.`;

const _VALUED = [
  "aa",
  "identity",
  "psk-file",
  "ctn",
  "ca",
  "subnet",
  "mode",
  "ar",
  "bind",
  "source-port",
  "dhcp-retransmit",
  "timeout",
];

const _BOOLEAN = ["help", "tun", "hold"];

/** A phase of the preparation, as the failure line names it. */
type _Phase = "preauth" | "dhcp" | "tunnel" | "tun";

/** What `mpa preconfigure` prints, before rounding. */
export interface PreconfigureResult {
  /** The CTN id. */
  readonly ctn: string;
  /** The MPA-SA's PANA session id. */
  readonly sessionId: number;
  /** The current address everything was sent from. */
  readonly oCoA: string;
  /** The lease of the nCoA. */
  readonly lease: Lease;
  /** The tunnel. */
  readonly tunnel: {
    /** The tunnel handle's id. */
    readonly id: string;
    /** The AR, `HOST:PORT`. */
    readonly ar: string;
    /** When the tunnel expires unless refreshed, epoch ms. */
    readonly expiresAt: number;
    /** The TUN device's name, with `--tun`. */
    readonly tun?: string;
  };
  /** Phase durations, ms. */
  readonly timings: {
    readonly preauthMs: number;
    readonly dhcpMs: number;
    readonly tunnelMs: number;
    readonly totalMs: number;
  };
}

/**
 * The JSON line of `mpa preconfigure` (timings to the microsecond).
 *
 * @param r the result of the preparation
 * @returns one line of JSON
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatPreconfigureJson } from "./preconfigure.ts";
 * const line = formatPreconfigureJson({
 *   ctn: "ctn-b", sessionId: 7, oCoA: "10.0.1.2",
 *   lease: {
 *     ctn: "ctn-b", nCoA: "10.0.2.100", prefixLength: 24, dns: [], obtainedAt: 0,
 *     lifetimeMs: 600_000, expiresAt: 600_000, method: "dhcp-unicast",
 *   },
 *   tunnel: { id: "pht-1", ar: "10.0.1.1:7716", expiresAt: 60_000 },
 *   timings: { preauthMs: 2.0004, dhcpMs: 3, tunnelMs: 1, totalMs: 6.0004 },
 * });
 * assertEquals(JSON.parse(line).nCoA, "10.0.2.100");
 * assertEquals(JSON.parse(line).timings.preauthMs, 2);
 * assertEquals(JSON.parse(line).tunnel.tun, null);
 * ```
 */
export function formatPreconfigureJson(r: PreconfigureResult): string {
  const ms = (v: number) => Math.round(v * 1000) / 1000;
  return JSON.stringify({
    ctn: r.ctn,
    sessionId: r.sessionId,
    oCoA: r.oCoA,
    nCoA: r.lease.nCoA,
    lease: {
      prefixLength: r.lease.prefixLength,
      router: r.lease.router ?? null,
      dns: r.lease.dns,
      serverId: r.lease.serverId ?? null,
      clientId: r.lease.clientId ?? null,
      lifetimeMs: r.lease.lifetimeMs,
      expiresAt: Math.round(r.lease.expiresAt),
    },
    tunnel: {
      id: r.tunnel.id,
      ar: r.tunnel.ar,
      expiresAt: Math.round(r.tunnel.expiresAt),
      tun: r.tunnel.tun ?? null,
    },
    timings: {
      preauthMs: ms(r.timings.preauthMs),
      dhcpMs: ms(r.timings.dhcpMs),
      tunnelMs: ms(r.timings.tunnelMs),
      totalMs: ms(r.timings.totalMs),
    },
  });
}

/** The validated command line. */
interface _Args {
  readonly aa: { readonly host: string; readonly port: number };
  readonly identity: string;
  readonly pskFile: string;
  readonly ctn: string;
  readonly ca: { readonly host: string; readonly port: number };
  readonly subnet: string;
  readonly mode: "ciaddr" | "relay";
  readonly ar: { readonly host: string; readonly port: number };
  readonly tun: boolean;
  readonly bind: string | undefined;
  readonly hold: boolean;
  readonly sourcePort: number | undefined;
  readonly retransmitMs: number | undefined;
  readonly timeoutMs: number;
}

function _parse(flags: Record<string, unknown>): _Args {
  const required = (name: string): string => {
    const value = _string(flags, name);
    if (value === undefined) {
      throw new CliError(2, `Missing --${name}: run 'mpa preconfigure --help' for usage`);
    }
    return value;
  };
  const aa = _parseHostPort(required("aa"), "--aa", PANA_UDP_PORT);
  const identity = required("identity");
  const pskFile = required("psk-file");
  const ctn = required("ctn");
  const ca = _parseHostPort(required("ca"), "--ca", DHCP_SERVER_PORT);
  if (isIP(ca.host) !== 4) {
    throw new CliError(2, `Invalid --ca: DHCPv4 needs an IPv4 address, got "${ca.host}"`);
  }
  const subnet = required("subnet");
  if (_parseCidr(subnet) === undefined) {
    throw new CliError(
      2,
      `Invalid --subnet: expected an IPv4 CIDR such as 10.0.2.0/24, got "${subnet}"`,
    );
  }
  const mode = _string(flags, "mode") ?? "ciaddr";
  if (mode !== "ciaddr" && mode !== "relay") {
    throw new CliError(2, `Invalid --mode: expected ciaddr or relay, got "${mode}"`);
  }
  const arText = _string(flags, "ar");
  const ar = arText === undefined
    ? { host: aa.host, port: PHT_UDP_PORT }
    : _parseHostPort(arText, "--ar", PHT_UDP_PORT);
  const bind = _string(flags, "bind");
  if (bind !== undefined && isIP(bind) !== 4) {
    throw new CliError(2, `Invalid --bind: expected an IPv4 address, got "${bind}"`);
  }
  for (const [flag, host] of [["--aa", aa.host], ["--ar", ar.host]] as const) {
    if (isIP(host) !== 4) {
      throw new CliError(
        2,
        `Invalid ${flag}: expected an IPv4 address (the oCoA is IPv4 for DHCPv4), got "${host}"`,
      );
    }
  }
  const portText = _string(flags, "source-port");
  let sourcePort: number | undefined;
  if (portText !== undefined) {
    sourcePort = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(sourcePort >= 0 && sourcePort <= 65535)) {
      throw new CliError(2, `Invalid --source-port: expected 0 to 65535, got "${portText}"`);
    }
  }
  const timeoutText = _string(flags, "timeout");
  const timeoutMs = timeoutText === undefined
    ? _DEFAULT_TIMEOUT_MS
    : _positive(timeoutText, "--timeout", { integer: true, max: 86_400_000 });
  const retransmitText = _string(flags, "dhcp-retransmit");
  const retransmitMs = retransmitText === undefined
    ? undefined
    : _positive(retransmitText, "--dhcp-retransmit", { integer: true, max: 60_000 });
  return {
    aa,
    identity,
    pskFile,
    ctn,
    ca,
    subnet,
    mode,
    ar,
    tun: flags.tun === true,
    bind,
    hold: flags.hold === true,
    sourcePort,
    retransmitMs,
    timeoutMs,
  };
}

/**
 * Ends the PANA session (PTR, RFC 5191 section 4.4), waiting at most
 * {@link _TERMINATE_MS}; a session the AA already ended is fine.
 */
async function _terminate(pac: PanaPac, sessionId: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      pac.terminate(sessionId).catch((error: unknown) => {
        if (!(error instanceof PortError && error.code === "not-found")) throw error;
      }),
      new Promise<void>((resolve) => timer = setTimeout(resolve, _TERMINATE_MS)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failure of a phase, as one line. */
function _phaseFailure(phase: _Phase, error: unknown, interrupted: string | undefined): CliError {
  if (interrupted !== undefined) {
    return new CliError(1, `Pre-configuration interrupted by ${interrupted} in phase ${phase}`);
  }
  if (error instanceof PortError) {
    return new CliError(
      1,
      `Pre-configuration failed in phase ${phase}: ${error.code}: ${_oneLine(error)}`,
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  return new CliError(
    1,
    `Pre-configuration failed in phase ${phase}: ${typeof code === "string" ? `${code}: ` : ""}${
      _oneLine(error)
    }`,
  );
}

/**
 * Runs `mpa preconfigure`: pre-authentication, nCoA, tunnel (and TUN), one JSON line
 * on stdout; with `--hold` stays prepared until SIGINT or SIGTERM. Whatever was set
 * up is always taken down before returning (tunnel closed, lease released, PANA
 * session terminated), also after a failure. Needs network and read permissions;
 * root for `--tun` and for the default DHCP ports.
 *
 * @param args the arguments after `preconfigure`
 * @returns 0 when prepared (and released)
 * @throws {CliError} status 1 when a phase failed (the message names the phase and
 *   the `PortError` code) or the release was incomplete; status 2 for bad arguments
 *   or an unreadable PSK file
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { preconfigureCommand } from "./preconfigure.ts";
 * assertEquals(await preconfigureCommand(["--help"]), 0); // prints PRECONFIGURE_HELP
 * await assertRejects(() => preconfigureCommand(["--identity", "mn"]), CliError, "Missing --aa");
 * ```
 */
export async function preconfigureCommand(args: readonly string[]): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, _VALUED), {
    string: _VALUED,
    boolean: _BOOLEAN,
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(PRECONFIGURE_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, ..._BOOLEAN, "h"], "preconfigure");
  const a = _parse(flags);
  const psk = await _readHexKeyFile(a.pskFile, 16, "--psk-file");

  // SIGINT / SIGTERM abort a phase in progress, and end --hold.
  const done = new AbortController();
  const interrupt = new AbortController();
  let interrupted: string | undefined;
  const stopped = _untilStopped(done.signal).then((why) => {
    if (why !== "abort") {
      interrupted = why;
      interrupt.abort(new Error(`Interrupted by ${why}`));
    }
    return why;
  });
  const signal = interrupt.signal;

  let phase: _Phase = "preauth";
  let pac: PanaPac | undefined;
  let sa: PanaMpaSa | undefined;
  let configurator: DhcpConfigurator | undefined;
  let lease: Lease | undefined;
  let manager: PhtTunnelManager | undefined;
  let handle: TunnelHandle | undefined;
  let tun: TunDevice | undefined;
  let attachment: MnTunAttachment | undefined;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;

  const teardown = async (): Promise<string[]> => {
    clearTimeout(renewTimer);
    const failures: string[] = [];
    const step = async (what: string, run: () => Promise<unknown> | undefined) => {
      try {
        await run();
      } catch (error) {
        failures.push(`${what}: ${_oneLine(error)}`);
        _logger.warn("Cannot {what}: {error}", { what, error: _oneLine(error) });
      }
    };
    await step("detach the TUN", () => attachment?.detach());
    await step("close the TUN", () => tun?.close());
    await step("close the tunnel", () => handle === undefined ? undefined : manager?.close(handle));
    const held = lease;
    await step(
      "release the lease",
      () => held === undefined ? undefined : configurator?.release(held),
    );
    const session = sa?.sessionId;
    await step(
      "end the PANA session",
      () => session === undefined || pac === undefined ? undefined : _terminate(pac, session),
    );
    await step("close the PaC", () => pac?.close());
    // As in `mpa preauth`: under Deno's node:dgram a send can be reported done before
    // the datagram left, and `main` exits at once; the AA would miss the final PAN of
    // a refused pre-authentication.
    if (pac !== undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    return failures;
  };

  const started = performance.now();
  try {
    let oCoA: string;
    try {
      oCoA = a.bind ?? await _localAddressFor(a.ca.host, a.ca.port);
    } catch (error) {
      throw new PortError(
        "PreAuthenticator",
        "unreachable",
        `No route to the CA ${a.ca.host}: ${_oneLine(error)}`,
        { cause: error },
      );
    }
    const ctn: CtnInfo = {
      network: a.ctn,
      aa: { address: a.aa.host, port: a.aa.port },
      ca: { address: a.ca.host, port: a.ca.port },
      ar: { address: a.ar.host, port: a.ar.port },
      poas: [],
      subnet: a.subnet,
    };

    // Step 1: pre-authentication, from the oCoA the CA's gate will be told about.
    try {
      pac = new PanaPac({
        identity: a.identity,
        eap: () =>
          createEapPskPeer({
            identity: a.identity,
            psk: psk.slice(),
            random: (n) => crypto.getRandomValues(new Uint8Array(n)),
          }),
        authTimeoutMs: a.timeoutMs,
        bind: oCoA,
      });
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(2, error.message);
      throw error;
    }
    const t0 = performance.now();
    sa = await pac.preAuthenticate(ctn, { signal });
    const t1 = performance.now();

    // Step 2a: the nCoA (section 7.3.3), signed with the MN-CA key.
    phase = "dhcp";
    configurator = new DhcpConfigurator({
      source: oCoA,
      mode: a.mode,
      timeoutMs: a.timeoutMs,
      ...(a.retransmitMs === undefined ? {} : { retransmitMs: a.retransmitMs }),
      ...(a.sourcePort === undefined ? {} : { ports: { client: a.sourcePort } }),
    });
    lease = await configurator.acquire(ctn, sa, { signal });
    const t2 = performance.now();

    // Step 2b: the tunnel (section 7.4) under the MN-AR key.
    phase = "tunnel";
    const sessionId = sa.sessionId;
    manager = new PhtTunnelManager({
      sessionId: (network) => network === a.ctn ? sessionId : undefined,
      onPacket: (_t, packet) => attachment?.onPacket(packet),
    });
    handle = await manager.open(
      a.ctn,
      {
        oCoA,
        nCoA: lease.nCoA,
        ar: { address: a.ar.host, port: a.ar.port },
      },
      sa.keys.mnAr,
      { signal },
    );
    if (a.tun) {
      phase = "tun";
      tun = TunDevice.open({ name: "mpa%d", mtu: 1400 });
      attachment = await attachMnTun(manager, handle, tun);
    }
    const t3 = performance.now();

    const out = new LineWriter();
    out.line(formatPreconfigureJson({
      ctn: a.ctn,
      sessionId,
      oCoA,
      lease,
      tunnel: {
        id: handle.id,
        ar: _formatHostPort(a.ar.host, a.ar.port),
        expiresAt: handle.expiresAt,
        ...(tun === undefined ? {} : { tun: tun.name }),
      },
      timings: {
        preauthMs: t1 - t0,
        dhcpMs: t2 - t1,
        tunnelMs: t3 - t2,
        totalMs: t3 - started,
      },
    }));
    out.flush();
    const onTun = tun === undefined ? "" : ` on ${tun.name}`;
    _logger.info(`Prepared for {ctn}: nCoA {nCoA} from {oCoA}, tunnel {id} to {ar}${onTun}`, {
      ctn: a.ctn,
      nCoA: lease.nCoA,
      oCoA,
      id: handle.id,
      ar: _formatHostPort(a.ar.host, a.ar.port),
    });

    if (a.hold) {
      const renew = (current: Lease) => {
        renewTimer = setTimeout(() => {
          configurator!.renew(current, { signal }).then((renewed) => {
            lease = renewed;
            renew(renewed);
          }, (error: unknown) => {
            _logger.warn("Cannot renew the lease of {nCoA}: {error}", {
              nCoA: current.nCoA,
              error: _oneLine(error),
            });
          });
        }, Math.max(1000, current.lifetimeMs / 2));
      };
      renew(lease);
      const why = await stopped;
      _logger.info("Releasing {nCoA} on {why}", { nCoA: lease.nCoA, why });
    }
  } catch (error) {
    if (error instanceof CliError) {
      await teardown();
      throw error;
    }
    const failure = _phaseFailure(phase, error, interrupted);
    await teardown();
    throw failure;
  } finally {
    psk.fill(0);
    done.abort();
  }
  const failures = await teardown();
  if (failures.length > 0) {
    throw new CliError(1, `Release incomplete: ${failures.join("; ")}`);
  }
  return 0;
}
