/**
 * `mpa ctn --config FILE [--dry-run]` or `mpa ctn --aa --ctn ID [--listen HOST:PORT] (--credentials FILE | --radius HOST:PORT
 * --radius-secret-file FILE) [--server-id ID] [--kv PATH --kv-key-file FILE]
 * [--lifetime S] [--ar ...] [--ca-gate ...] [--ca-embedded ...]`: runs the services of
 * a candidate target network (RFC 6252 sections 6.3 steps 1-2, 7.3.3, 7.4): the
 * authentication agent, and with it the access router's end of the proactive
 * handover tunnels and the configuration agent's admission, fed by the AA's key
 * delivery (`adapters/ctn/ctn_services.ts`). With `--config` the services come from a
 * validated JSONC file (`lib/config/ctn_config.ts`), SIGHUP reloads what can change
 * live (the log section, the local credentials) and `--dry-run` only validates.
 *
 * @module
 */
import { isIP } from "node:net";
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { CtnConfig } from "../../lib/config/ctn_config.ts";
import { formatListenAddress } from "../../lib/config/listen_address.ts";
import type { LogConfig } from "../../lib/config/log_config.ts";
import { ConfigError } from "../../lib/errors.ts";
import { RADIUS_AUTH_PORT } from "../../lib/wire/radius_constants.ts";
import { PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import { PHT_UDP_PORT } from "../../lib/wire/pht_constants.ts";
import { DHCP_SERVER_PORT } from "../../lib/wire/dhcp_constants.ts";
import type { AaBackend, AaServiceStats } from "../aa/aa_service.ts";
import { loadCredentials } from "../aaa/local_authenticator.ts";
import {
  type CtnArOptions,
  type CtnEmbeddedCaOptions,
  type CtnServices,
  type CtnServicesOptions,
  type CtnServicesStats,
  startCtnServices,
} from "../ctn/ctn_services.ts";
import { loadCtnConfig } from "../config/load_config.ts";
import { configureLogging, resolveLogLevel } from "../observe/log_setup.ts";
import { _parseCidr } from "../dhcp/_dhcp_udp.ts";
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

const _logger = getLogger(["mpa", "ctn"]);

/**
 * Help text of `mpa ctn`: the configuration file, the services' options, the output
 * line, the signals and the exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CTN_HELP } from "./ctn.ts";
 * assertStringIncludes(CTN_HELP, "--credentials FILE");
 * assertStringIncludes(CTN_HELP, "--radius HOST:PORT");
 * assertStringIncludes(CTN_HELP, "--ar-tun --ctn-interface IF");
 * assertStringIncludes(CTN_HELP, "--ca-embedded");
 * assertStringIncludes(CTN_HELP, "--config FILE");
 * assertStringIncludes(CTN_HELP, "SIGHUP");
 * ```
 */
export const CTN_HELP = `Usage: mpa ctn --config FILE [--dry-run] [--log-level LEVEL]
       mpa ctn --aa --ctn ID [--listen HOST:PORT]
               (--credentials FILE | --radius HOST:PORT --radius-secret-file FILE)
               [--server-id ID] [--kv PATH --kv-key-file FILE] [--lifetime S]
               [--ar [--ar-listen HOST:PORT] [--ar-tun --ctn-interface IF]
                     [--buffer-packets N] [--buffer-ms MS]]
               [--ca-gate [--ca-netns NS]]
               [--ca-embedded --ca-listen HOST:PORT --subnet CIDR --range A-B
                              [--router IP] [--dns IP[,IP]]]

Runs the services of a candidate target network (CTN), RFC 6252 section 6.3 steps
1-2, in one process:
  AA  the authentication agent (--aa, always): a PANA PAA (RFC 5191, RFC 5873) that
      pre-authenticates mobile nodes with EAP-PSK (RFC 4764) from a credentials
      file, or relays EAP to an AAA server over RADIUS (RFC 3579). Each MPA-SA's
      MN-CA and MN-AR keys are delivered in process to the CA and the AR below, and
      kept in memory until the SA ends or expires.
  AR  the access router's end of the proactive handover tunnels (--ar, section
      7.4): tunnels authenticated with the delivered MN-AR key; with --ar-tun, a TUN
      device routes each tunnel's nCoA into the tunnel (host route, proxy ARP on the
      CTN interface) and the MN's packets out of it (needs root).
  CA  the configuration agent's admission (section 7.3.3): --ca-gate admits the
      MN's current address to an external DHCP server (Kea, dnsmasq) through an
      nftables set for the SA's lifetime (needs root); --ca-embedded runs a small
      DHCP server here instead, answering only pre-authenticated MNs whose messages
      carry option 90 (RFC 3118) under the delivered MN-CA key.
Not served yet: address assignment through PANA (section 7.3.1) and IPv6 router
advertisements over the tunnel (section 7.3.4) join with a later issue.

With --config the services come from a configuration file (JSONC: JSON with
comments; see examples/ctn.jsonc, examples/ctn-b.jsonc and examples/README.md): the
AA, the AR and the CA, either the embedded one or an external Kea or dnsmasq behind
the nftables gate. Every mistake is reported at once as
  FILE:LINE:COLUMN: FIELD.PATH: expected FORM, got VALUE
with exit status 2; relative paths in the file are relative to its directory. The
service flags below cannot go with --config.

Prints one JSON line to stdout when listening, with a field per service running:
  {"listening": "HOST:PORT", "ctn": id, "ar": "HOST:PORT", "arTun": "mpa0",
   "caGate": {"table": "inet mpa_ca", "netns": ns|null}, "ca": "HOST:PORT"}
then logs to stderr one line per MPA-SA (session id, identity, MN address and the
fingerprints of the MN-CA and MN-AR keys, never the keys) and per tunnel, and runs
until SIGINT or SIGTERM, when it closes everything and logs its final counters.
With --config, SIGHUP reloads the file: the log level and format and the local
credentials file change live (new sessions use the new identities and keys); other
changes are logged as needing a restart; an invalid file is logged and the running
configuration kept. Without --config, SIGHUP is logged and ignored.

Options:
  --config FILE              run the services of this configuration file
  --dry-run                  with --config: validate the file, print a summary
                             line ({"valid": true, ...}; files it names that
                             cannot be read are listed in "unreadableFiles"), exit
  --log-level LEVEL          trace, debug, info, warning, error (default the
                             file's "log.level", or info)
  --aa                       run the authentication agent (required: the AR and
                             the CA take their keys from it)
  --ctn ID                   this CTN's network id, bound into the MN-CA and MN-AR
                             keys: MNs must use the same ('mpa preauth --ctn ID')
  --listen HOST:PORT         PANA address (default 0.0.0.0:${PANA_UDP_PORT}; port 716 needs
                             privileges; port 0 picks a free one)
  --credentials FILE         local EAP-PSK: lines "identity psk-hex" (32 hex digits)
  --server-id ID             the AA's EAP-PSK identity ID_S (default aa.<ctn>)
  --radius HOST:PORT         relay EAP to this RADIUS server (port ${RADIUS_AUTH_PORT} when omitted)
  --radius-secret-file FILE  the RADIUS shared secret (one line)
  --kv PATH                  record the MPA-SAs in Deno KV at PATH (they survive a
                             restart): unauthorized after pre-authentication,
                             authorized once the MN proves possession of its key
                             (RFC 6252 section C.2)
  --kv-key-file FILE         32-byte key sealing the SA keys at rest (64 hex digits)
  --lifetime S               PANA Session-Lifetime granted, seconds (default 3600)
  --ar                       run the AR's tunnel endpoint
  --ar-listen HOST:PORT      its UDP address (default 0.0.0.0:${PHT_UDP_PORT}; port 0 picks one)
  --ar-tun                   route real packets through a TUN device (root)
  --ctn-interface IF         with --ar-tun: the CTN link's interface (proxy ARP)
  --buffer-packets N         packets held per tunnel while its MN switches links
                             (section 7.6.1; default 1024)
  --buffer-ms MS             how long they are held at most (default 2000)
  --ca-gate                  admit pre-authenticated MNs to an external DHCP
                             server through nftables (table inet mpa_ca; root)
  --ca-netns NS              the gate's network namespace (the DHCP server's;
                             default this one)
  --ca-embedded              run the embedded DHCP server as the CA
  --ca-listen HOST:PORT      its address (port ${DHCP_SERVER_PORT} when omitted; needs root)
  --subnet CIDR              the CTN subnet it serves, e.g. 10.0.2.0/24
  --range A-B                its pool, e.g. 10.0.2.100-10.0.2.199
  --router IP                option 3, the CTN's router
  --dns IP[,IP]              option 6, DNS servers
  -h, --help                 this text

Exit status: 0 stopped by a signal (or --dry-run: the file is valid), 1 failure,
2 bad arguments or configuration (a file that does not validate, unreadable files,
address in use, no TUN device, nft failing).`;

const _VALUED = [
  "listen",
  "ctn",
  "credentials",
  "radius",
  "radius-secret-file",
  "server-id",
  "kv",
  "kv-key-file",
  "lifetime",
  "ar-listen",
  "ctn-interface",
  "buffer-packets",
  "buffer-ms",
  "ca-netns",
  "ca-listen",
  "subnet",
  "range",
  "router",
  "dns",
];

const _BOOLEAN = ["help", "aa", "ar", "ar-tun", "ca-gate", "ca-embedded"];

/** Options of both forms: the configuration file and the log level. */
const _CONFIG_VALUED = ["config", "log-level"];

/** Options of {@link ctnCommand}. */
export interface CtnCommandOptions {
  /** Stops the services like SIGINT does (tests, embedding). */
  readonly signal?: AbortSignal;
}

/** Throws when an option is given without the one it belongs to. */
function _needs(
  flags: Record<string, unknown>,
  options: readonly string[],
  owner: string,
): void {
  for (const name of options) {
    if (flags[name] !== undefined && flags[name] !== false) {
      throw new CliError(2, `Invalid --${name}: it goes with --${owner}`);
    }
  }
}

function _ipv4(text: string, flag: string): string {
  if (isIP(text) !== 4) {
    throw new CliError(2, `Invalid ${flag}: expected an IPv4 address, got "${text}"`);
  }
  return text;
}

/** The AR's options from the command line, or undefined without --ar. */
function _arOptions(flags: Record<string, unknown>): CtnArOptions | undefined {
  const sub = ["ar-listen", "ar-tun", "ctn-interface", "buffer-packets", "buffer-ms"];
  if (flags.ar !== true) {
    _needs(flags, sub, "ar");
    return undefined;
  }
  const listen = _parseHostPort(
    _string(flags, "ar-listen") ?? `0.0.0.0:${PHT_UDP_PORT}`,
    "--ar-listen",
    PHT_UDP_PORT,
    { allowZero: true },
  );
  const ctnInterface = _string(flags, "ctn-interface");
  if (flags["ar-tun"] === true && ctnInterface === undefined) {
    throw new CliError(2, `Missing --ctn-interface: --ar-tun needs the CTN link's interface`);
  }
  if (flags["ar-tun"] !== true && ctnInterface !== undefined) {
    throw new CliError(2, `Invalid --ctn-interface: it goes with --ar-tun`);
  }
  if (ctnInterface !== undefined && !/^[A-Za-z0-9_.@-]{1,15}$/.test(ctnInterface)) {
    throw new CliError(2, `Invalid --ctn-interface: not an interface name: "${ctnInterface}"`);
  }
  const packets = _string(flags, "buffer-packets");
  const ms = _string(flags, "buffer-ms");
  const buffer = {
    ...(packets === undefined
      ? {}
      : { maxPackets: _positive(packets, "--buffer-packets", { integer: true, max: 1 << 20 }) }),
    ...(ms === undefined ? {} : { maxAgeMs: _positive(ms, "--buffer-ms", { max: 600_000 }) }),
  };
  return {
    listen: listen.host,
    port: listen.port,
    tun: ctnInterface === undefined ? false : { ctnInterface },
    ...(packets === undefined && ms === undefined ? {} : { buffer }),
  };
}

/** The embedded CA's options from the command line, or undefined without --ca-embedded. */
function _caOptions(flags: Record<string, unknown>): CtnEmbeddedCaOptions | undefined {
  const sub = ["ca-listen", "subnet", "range", "router", "dns"];
  if (flags["ca-embedded"] !== true) {
    _needs(flags, sub, "ca-embedded");
    return undefined;
  }
  const required = (name: string): string => {
    const value = _string(flags, name);
    if (value === undefined) {
      throw new CliError(2, `Missing --${name}: --ca-embedded needs it`);
    }
    return value;
  };
  const listen = _parseHostPort(required("ca-listen"), "--ca-listen", DHCP_SERVER_PORT, {
    allowZero: true,
  });
  _ipv4(listen.host, "--ca-listen");
  const subnet = required("subnet");
  const cidr = _parseCidr(subnet);
  if (cidr === undefined) {
    throw new CliError(
      2,
      `Invalid --subnet: expected an IPv4 CIDR such as 10.0.2.0/24, got "${subnet}"`,
    );
  }
  const rangeText = required("range");
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(rangeText);
  if (range === null || isIP(range[1]!) !== 4 || isIP(range[2]!) !== 4) {
    throw new CliError(
      2,
      `Invalid --range: expected FIRST-LAST such as 10.0.2.100-10.0.2.199, got "${rangeText}"`,
    );
  }
  const router = _string(flags, "router");
  const dns = _string(flags, "dns")?.split(",").map((a) => _ipv4(a.trim(), "--dns"));
  return {
    address: listen.host,
    port: listen.port,
    subnet,
    range: [range[1]!, range[2]!],
    ...(router === undefined ? {} : { router: _ipv4(router, "--router") }),
    ...(dns === undefined ? {} : { dns }),
  };
}

/**
 * Runs `mpa ctn`: starts the authentication agent and the services given with it,
 * from the flags or from a configuration file (`--config FILE`, JSONC, see
 * `examples/ctn.jsonc`), prints the listening line, and serves until SIGINT or
 * SIGTERM (or `options.signal`), then closes everything and logs the final counters.
 * With `--config`, SIGHUP reloads the file: the log level and format and the local
 * credentials change live, other changes are logged as needing a restart, and an
 * invalid file is logged and the running configuration kept; `--dry-run` validates
 * the file and prints a summary line. Needs network and read permissions,
 * `--unstable-kv` with a KV store (the project's deno.json enables it), and root for
 * a TUN device and the CA gate.
 *
 * @param args the arguments after `ctn`
 * @param options an abort signal that stops the services
 * @returns 0 once stopped (or validated, with `--dry-run`)
 * @throws {CliError} status 2 for bad arguments, unreadable files, a bad secret or
 *   key file (with `--config`: naming the file and the field); status 1 when the
 *   services cannot be closed cleanly
 * @throws {ConfigError} (status 2 from `main`) for a configuration file that does not
 *   validate (file:line:column, field path, expected form), a bad credentials file,
 *   a store that cannot be opened, an address that cannot be bound, no TUN device,
 *   nft failing
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { ctnCommand } from "./ctn.ts";
 * assertEquals(await ctnCommand(["--help"]), 0); // prints CTN_HELP
 * await assertRejects(() => ctnCommand(["--ctn", "b"]), CliError, "Missing --aa");
 * await assertRejects(
 *   () => ctnCommand(["--aa", "--ctn", "b", "--credentials", "c", "--ar-tun"]),
 *   CliError,
 *   "Invalid --ar-tun: it goes with --ar",
 * );
 * await assertRejects(
 *   () => ctnCommand(["--config", "ctn.jsonc", "--aa"]),
 *   CliError,
 *   "Invalid --aa: it cannot go with --config",
 * );
 * // Validates the example and prints a summary line (its key files need not exist).
 * const example = new URL("../../examples/ctn.jsonc", import.meta.url).pathname;
 * assertEquals(await ctnCommand(["--config", example, "--dry-run"]), 0);
 * ```
 */
export async function ctnCommand(
  args: readonly string[],
  options: CtnCommandOptions = {},
): Promise<number> {
  const valued = [..._VALUED, ..._CONFIG_VALUED];
  const booleans = [..._BOOLEAN, "dry-run"];
  const flags = parseArgs(attachNegativeValues(args, valued), {
    string: valued,
    boolean: booleans,
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(CTN_HELP);
    return 0;
  }
  _onlyKnown(flags, [...valued, ...booleans, "h"], "ctn");
  const levelFlag = _string(flags, "log-level");
  const level = levelFlag === undefined ? undefined : resolveLogLevel(levelFlag, undefined);
  const configPath = _string(flags, "config");
  if (configPath !== undefined) {
    const conflict = [..._VALUED, ..._BOOLEAN].find((name) =>
      name !== "help" && flags[name] !== undefined && flags[name] !== false
    );
    if (conflict !== undefined) {
      throw new CliError(
        2,
        `Invalid --${conflict}: it cannot go with --config (the file configures the services)`,
      );
    }
    return await _runConfig(configPath, {
      dryRun: flags["dry-run"] === true,
      levelFlag,
      signal: options.signal,
    });
  }
  if (flags["dry-run"] === true) {
    throw new CliError(2, "Invalid --dry-run: it goes with --config");
  }
  if (level !== undefined) configureLogging({ level });
  const plan = await _planFromFlags(flags);
  const services = await _start(plan, (error) => error);
  return await _serve(services, plan, () =>
    _untilStopped(options.signal, () => {
      _logger.info(
        "SIGHUP received: nothing to reload, the services were started from flags (restart them to change anything)",
      );
    }));
}

/** What `_serve` needs besides the running services: the options they started with. */
interface _Plan {
  /** The options of `startCtnServices`. */
  readonly options: CtnServicesOptions;
  /** The KV store key, wiped once the services started (the store keeps a copy). */
  readonly storeKey: Uint8Array | undefined;
  /** The CA gate's namespace, for the listening line. */
  readonly caNetns: string | undefined;
}

/** The services' options from the command line flags. */
async function _planFromFlags(flags: Record<string, unknown>): Promise<_Plan> {
  const usage = "run 'mpa ctn --help' for usage";
  if (!flags.aa) {
    throw new CliError(
      2,
      `Missing --aa: the AR and the CA take their keys from the authentication agent; ${usage}`,
    );
  }
  const ctn = _string(flags, "ctn");
  if (ctn === undefined) throw new CliError(2, `Missing --ctn: ${usage}`);
  const listen = _parseHostPort(
    _string(flags, "listen") ?? `0.0.0.0:${PANA_UDP_PORT}`,
    "--listen",
    PANA_UDP_PORT,
    { allowZero: true },
  );
  const credentialsFile = _string(flags, "credentials");
  const radiusText = _string(flags, "radius");
  const secretFile = _string(flags, "radius-secret-file");
  const serverId = _string(flags, "server-id");
  const kvPath = _string(flags, "kv");
  const kvKeyFile = _string(flags, "kv-key-file");
  const lifetimeText = _string(flags, "lifetime");
  if ((credentialsFile === undefined) === (radiusText === undefined)) {
    throw new CliError(2, `Expected exactly one of --credentials and --radius: ${usage}`);
  }
  if (radiusText !== undefined && secretFile === undefined) {
    throw new CliError(2, `Missing --radius-secret-file: --radius needs the shared secret`);
  }
  if (radiusText === undefined && secretFile !== undefined) {
    throw new CliError(2, `Invalid --radius-secret-file: it goes with --radius`);
  }
  if (radiusText !== undefined && serverId !== undefined) {
    throw new CliError(2, `Invalid --server-id: it goes with --credentials (local EAP-PSK)`);
  }
  if ((kvPath === undefined) !== (kvKeyFile === undefined)) {
    throw new CliError(2, `Expected --kv and --kv-key-file together: ${usage}`);
  }
  const lifetimeS = lifetimeText === undefined
    ? undefined
    : _positive(lifetimeText, "--lifetime", { integer: true, max: 0xffffffff });
  const ar = _arOptions(flags);
  const caNetns = _string(flags, "ca-netns");
  if (flags["ca-gate"] !== true) _needs(flags, ["ca-netns"], "ca-gate");
  const caGate = flags["ca-gate"] === true
    ? (caNetns === undefined ? {} : { netns: caNetns })
    : undefined;
  const embeddedCa = _caOptions(flags);

  let backend: AaBackend;
  if (credentialsFile !== undefined) {
    const credentials = await loadCredentials(credentialsFile);
    if (credentials.size === 0) {
      throw new CliError(2, `Invalid --credentials ${credentialsFile}: no identities`);
    }
    backend = {
      kind: "local",
      credentials,
      ...(serverId === undefined ? {} : { serverId }),
    };
  } else {
    const server = _parseHostPort(radiusText!, "--radius", RADIUS_AUTH_PORT);
    backend = {
      kind: "radius",
      server: { host: server.host, port: server.port },
      secret: await _readSecret(secretFile!, "--radius-secret-file"),
    };
  }
  const storeKey = kvKeyFile === undefined
    ? undefined
    : await _readHexKeyFile(kvKeyFile, 32, "--kv-key-file");
  return {
    options: {
      ctn,
      aa: {
        host: listen.host,
        port: listen.port,
        backend,
        ...(lifetimeS === undefined ? {} : { sessionLifetimeMs: lifetimeS * 1000 }),
        ...(kvPath === undefined || storeKey === undefined
          ? {}
          : { kv: { path: kvPath, storeKey } }),
      },
      ...(ar === undefined ? {} : { ar }),
      ...(caGate === undefined ? {} : { caGate }),
      ...(embeddedCa === undefined ? {} : { embeddedCa }),
    },
    storeKey,
    caNetns,
  };
}

/** Starts the services of a plan; `mapError` rewrites a start failure. */
async function _start(plan: _Plan, mapError: (error: unknown) => unknown): Promise<CtnServices> {
  try {
    return await startCtnServices(plan.options);
  } catch (error) {
    throw mapError(error);
  } finally {
    plan.storeKey?.fill(0); // the store imported its own copy
  }
}

/**
 * Starts `wait` (its signal listeners), prints the listening line, logs what runs,
 * waits for `wait` to end, then closes the services and logs their final counters.
 */
async function _serve(
  services: CtnServices,
  plan: _Plan,
  wait: () => Promise<string>,
): Promise<number> {
  const { ctn, aa: aaOptions, ar: arOptions, embeddedCa } = plan.options;
  // Listen for the signals before the line announces the services: a SIGTERM sent
  // as soon as the line is read must stop them gracefully, not kill the process.
  const stopped = wait();
  const aa = services.aa!;
  const listening = _formatHostPort(aa.address.address, aa.address.port);
  const line: Record<string, unknown> = { listening, ctn };
  if (services.ar !== undefined) {
    line.ar = _formatHostPort(services.ar.address.address, services.ar.address.port);
  }
  if (services.arTun !== undefined) line.arTun = services.arTun.tun.name;
  if (services.caGate !== undefined) {
    line.caGate = { table: services.caGate.table, netns: plan.caNetns ?? null };
  }
  if (services.ca !== undefined) {
    line.ca = _formatHostPort(services.ca.local.address, services.ca.local.port);
  }
  const out = new LineWriter();
  out.line(JSON.stringify(line));
  out.flush();
  const backend = aaOptions!.backend;
  _logger.info("CTN {ctn}: AA ready on {listening} ({backend})", {
    ctn,
    listening,
    backend: backend.kind === "local"
      ? `local EAP-PSK, ${backend.credentials.size} identities`
      : `RADIUS ${_formatHostPort(backend.server.host, backend.server.port ?? RADIUS_AUTH_PORT)}`,
  });
  if (services.ar !== undefined) {
    const tunText = services.arTun === undefined
      ? "no TUN"
      : `TUN ${services.arTun.tun.name}, CTN link ${
        arOptions?.tun === false ? "" : arOptions?.tun?.ctnInterface
      }`;
    _logger.info(`CTN {ctn}: AR ready on {ar} (${tunText})`, { ctn, ar: line.ar });
  }
  if (services.caGate !== undefined) {
    const where = plan.caNetns === undefined ? "" : ` in ${plan.caNetns}`;
    _logger.info(`CTN {ctn}: CA gate {table} installed${where}`, {
      ctn,
      table: services.caGate.table,
    });
  }
  if (services.ca !== undefined) {
    _logger.info("CTN {ctn}: embedded CA serving {subnet} on {ca}", {
      ctn,
      subnet: embeddedCa?.subnet,
      ca: line.ca,
    });
  }
  const why = await stopped;
  _logger.info("CTN {ctn}: stopping on {why}", { ctn, why });
  let failure: unknown;
  try {
    await services.close();
  } catch (error) {
    failure = error;
  }
  const stats = services.stats();
  _logger.info(`CTN {ctn}: AA stopped: ${_summary(stats.aa ?? aa.stats)}`, { ctn });
  for (const text of _otherSummaries(stats)) _logger.info(`CTN {ctn}: ${text}`, { ctn });
  if (failure !== undefined) {
    throw new CliError(1, _oneLine(failure));
  }
  return 0;
}

/** Options of `_runConfig`. */
interface _ConfigRunOptions {
  readonly dryRun: boolean;
  readonly levelFlag: string | undefined;
  readonly signal: AbortSignal | undefined;
}

/** `mpa ctn --config FILE [--dry-run]`. */
async function _runConfig(path: string, o: _ConfigRunOptions): Promise<number> {
  const config = await loadCtnConfig(path);
  if (o.dryRun) {
    const unreadable = await _unreadableFiles(config);
    for (const u of unreadable) {
      _logger.warn("{field} {file} cannot be read: the services would refuse to start", u);
    }
    const out = new LineWriter();
    out.line(JSON.stringify(_configSummary(path, config, o.levelFlag, unreadable)));
    out.flush();
    return 0;
  }
  const applyLog = (log: LogConfig): void => {
    configureLogging({ level: resolveLogLevel(o.levelFlag, log.level), format: log.format });
  };
  applyLog(config.log);
  const backend = config.aa.backend;
  // The EAP-PSK servers look identities up in this map for each new session, so
  // that SIGHUP can replace its contents in place.
  const credentials = backend.kind === "local"
    ? new Map(await _configCredentials(path, backend.credentialsFile))
    : undefined;
  const plan = await _planFromConfig(path, config, credentials);
  const services = await _start(plan, (error) => _startError(path, error));
  const live: _LiveConfig = { log: config.log, credentials };
  let reloading = Promise.resolve();
  const onHangup = (): void => {
    _logger.info("SIGHUP received: reloading {path}", { path });
    reloading = reloading.then(() => _reload(path, config, live, applyLog)).catch(
      (error: unknown) => _logger.error("Reload failed: {error}", { error: _oneLine(error) }),
    );
  };
  return await _serve(services, plan, () => _untilStopped(o.signal, onHangup));
}

/** The services' options from a validated configuration; reads the secret files. */
async function _planFromConfig(
  path: string,
  config: CtnConfig,
  credentials: Map<string, Uint8Array> | undefined,
): Promise<_Plan> {
  const { aa, ar, ca } = config;
  let backend: AaBackend;
  if (aa.backend.kind === "local") {
    backend = {
      kind: "local",
      credentials: credentials!,
      ...(aa.backend.serverId === undefined ? {} : { serverId: aa.backend.serverId }),
    };
  } else {
    const r = aa.backend;
    let secret: string;
    try {
      secret = await _readSecret(r.secretFile, "secret file");
    } catch (error) {
      throw new CliError(2, `${path}: aa.radius.secretFile: ${_oneLine(error)}`);
    }
    backend = {
      kind: "radius",
      server: { host: r.server.address, port: r.server.port ?? RADIUS_AUTH_PORT },
      secret,
      ...(r.timeoutMs === undefined ? {} : { timeoutMs: r.timeoutMs }),
      ...(r.retries === undefined ? {} : { retries: r.retries }),
      ...(r.nasIdentifier === undefined ? {} : { nasIdentifier: r.nasIdentifier }),
    };
  }
  let storeKey: Uint8Array | undefined;
  if (aa.kv !== undefined) {
    try {
      storeKey = await _readHexKeyFile(aa.kv.keyFile, 32, "key file");
    } catch (error) {
      throw new CliError(2, `${path}: aa.kv.keyFile: ${_oneLine(error)}`);
    }
  }
  const arOptions: CtnArOptions = {
    listen: ar.listen.address,
    port: ar.listen.port,
    tun: ar.tun === undefined ? false : {
      ctnInterface: ar.tun.ctnInterface,
      ...(ar.tun.name === undefined ? {} : { name: ar.tun.name }),
      ...(ar.tun.mtu === undefined ? {} : { mtu: ar.tun.mtu }),
    },
    buffer: { maxPackets: ar.buffer.packets, maxAgeMs: ar.buffer.ms },
    ...(ar.maxLifetimeMs === undefined ? {} : { maxLifetimeMs: ar.maxLifetimeMs }),
  };
  const options: CtnServicesOptions = {
    ctn: config.ctn,
    aa: {
      host: aa.listen.address,
      port: aa.listen.port,
      backend,
      ...(aa.lifetimeS === undefined ? {} : { sessionLifetimeMs: aa.lifetimeS * 1000 }),
      ...(aa.kv === undefined || storeKey === undefined
        ? {}
        : { kv: { path: aa.kv.path, storeKey } }),
    },
    ar: arOptions,
    ...(ca.kind === "embedded"
      ? {
        embeddedCa: {
          address: ca.listen.address,
          port: ca.listen.port,
          subnet: ca.subnet,
          range: ca.range,
          dns: ca.dns,
          rapidCommit: ca.rapidCommit,
          ...(ca.router === undefined ? {} : { router: ca.router }),
          ...(ca.leaseTimeS === undefined ? {} : { leaseTimeS: ca.leaseTimeS }),
          ...(ca.serverId === undefined ? {} : { serverId: ca.serverId }),
        },
      }
      : {
        caGate: {
          family: ca.gate.family,
          table: ca.gate.table,
          set: ca.gate.set,
          port: ca.gate.port,
          ...(ca.gate.netns === undefined ? {} : { netns: ca.gate.netns }),
        },
      }),
  };
  return {
    options,
    storeKey,
    caNetns: ca.kind === "external" ? ca.gate.netns : undefined,
  };
}

/** The options of the services' start errors, as fields of the configuration file. */
const _FIELDS: Readonly<Record<string, string>> = {
  port: "aa.listen",
  kv: "aa.kv",
  "ar.listen": "ar.listen",
  "ar.tun": "ar.tun",
  embeddedCa: "ca",
  caGate: "ca.gate",
};

/** A start failure with the configuration file and, when known, its field. */
function _startError(path: string, error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  const field = _FIELDS[error.option];
  return new CliError(2, `${path}: ${field === undefined ? "" : `${field}: `}${_oneLine(error)}`);
}

/** Reads the local backend's credentials file (at least one identity). */
async function _configCredentials(
  path: string,
  file: string,
): Promise<ReadonlyMap<string, Uint8Array>> {
  let credentials: ReadonlyMap<string, Uint8Array>;
  try {
    credentials = await loadCredentials(file);
  } catch (error) {
    throw new CliError(2, `${path}: aa.credentials: ${_oneLine(error)}`);
  }
  if (credentials.size === 0) {
    throw new CliError(
      2,
      `${path}: aa.credentials: Invalid credentials file ${file}: no identities`,
    );
  }
  return credentials;
}

/** What SIGHUP changes in place. */
interface _LiveConfig {
  /** The log section in effect. */
  log: LogConfig;
  /** The local backend's credentials, looked up per session; undefined with RADIUS. */
  readonly credentials: Map<string, Uint8Array> | undefined;
}

/** The parts of a configuration that only a restart changes, by field path. */
function _restartParts(config: CtnConfig): Record<string, unknown> {
  const b = config.aa.backend;
  return {
    ctn: config.ctn,
    "aa.listen": config.aa.listen,
    // The credentials file itself is reloaded; its path may change too.
    "aa.backend": b.kind === "local" ? { kind: b.kind, serverId: b.serverId } : b,
    "aa.lifetimeS": config.aa.lifetimeS,
    "aa.kv": config.aa.kv,
    ar: config.ar,
    ca: config.ca,
  };
}

/** Whether two credentials maps hold the same identities and keys. */
function _sameCredentials(
  a: ReadonlyMap<string, Uint8Array>,
  b: ReadonlyMap<string, Uint8Array>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [identity, key] of a) {
    const other = b.get(identity);
    if (other === undefined || other.length !== key.length) return false;
    if (key.some((byte, i) => byte !== other[i])) return false;
  }
  return true;
}

/**
 * SIGHUP: reloads the file; applies the log section and the local credentials,
 * logs the other changes as needing a restart, keeps everything on a bad file.
 */
async function _reload(
  path: string,
  started: CtnConfig,
  live: _LiveConfig,
  applyLog: (log: LogConfig) => void,
): Promise<void> {
  let next: CtnConfig;
  try {
    next = await loadCtnConfig(path);
  } catch (error) {
    _logger.error("Reload failed, the running configuration is kept: {error}", {
      error: error instanceof Error ? error.message.replaceAll("\n", "; ") : String(error),
    });
    return;
  }
  const applied: string[] = [];
  const b = next.aa.backend;
  if (live.credentials !== undefined && b.kind === "local") {
    try {
      const fresh = await _configCredentials(path, b.credentialsFile);
      if (!_sameCredentials(live.credentials, fresh)) {
        // Sessions already past their identity lookup keep the PSK they read.
        live.credentials.clear();
        for (const [identity, key] of fresh) live.credentials.set(identity, key);
        applied.push("aa.credentials");
      }
    } catch (error) {
      _logger.error("Reload: the running credentials are kept: {error}", {
        error: _oneLine(error),
      });
    }
  }
  if (JSON.stringify(next.log) !== JSON.stringify(live.log)) {
    applyLog(next.log);
    live.log = next.log;
    applied.push("log");
  }
  const before = _restartParts(started);
  const after = _restartParts(next);
  const needsRestart = Object.keys(before).filter((k) =>
    JSON.stringify(before[k]) !== JSON.stringify(after[k])
  );
  _logger.info("Configuration reloaded: {applied}", {
    applied: applied.length === 0 ? "nothing changed" : applied.join(", "),
    identities: live.credentials?.size ?? null,
  });
  if (needsRestart.length > 0) {
    _logger.warn(
      "Configuration reload: {fields} changed and need a restart of mpa ctn; the running values are kept",
      { fields: needsRestart.join(", ") },
    );
  }
}

/** The files a configuration names that cannot be read (the services read them at start). */
async function _unreadableFiles(
  config: CtnConfig,
): Promise<readonly { readonly field: string; readonly file: string }[]> {
  const b = config.aa.backend;
  const files = [
    b.kind === "local"
      ? { field: "aa.credentials", file: b.credentialsFile }
      : { field: "aa.radius.secretFile", file: b.secretFile },
    ...(config.aa.kv === undefined ? [] : [{ field: "aa.kv.keyFile", file: config.aa.kv.keyFile }]),
  ];
  const unreadable = [];
  for (const f of files) {
    try {
      (await Deno.open(f.file, { read: true })).close();
      if (!(await Deno.stat(f.file)).isFile) unreadable.push(f);
    } catch {
      unreadable.push(f);
    }
  }
  return unreadable;
}

/** The `--dry-run` line: the resolved configuration in brief, no secrets. */
function _configSummary(
  path: string,
  config: CtnConfig,
  levelFlag: string | undefined,
  unreadable: readonly { readonly field: string }[],
): Record<string, unknown> {
  const { aa, ar, ca } = config;
  const b = aa.backend;
  return {
    valid: true,
    config: path,
    ctn: config.ctn,
    aa: {
      listen: formatListenAddress(aa.listen),
      ...(b.kind === "local"
        ? {
          backend: "local",
          credentials: b.credentialsFile,
          serverId: b.serverId ?? `aa.${config.ctn}`,
        }
        : {
          backend: "radius",
          radius: _formatHostPort(b.server.address, b.server.port ?? RADIUS_AUTH_PORT),
          secretFile: b.secretFile,
        }),
      lifetimeS: aa.lifetimeS ?? 3600,
      kv: aa.kv?.path ?? null,
    },
    ar: {
      listen: formatListenAddress(ar.listen),
      tun: ar.tun ?? null,
      buffer: ar.buffer,
      maxLifetimeMs: ar.maxLifetimeMs ?? 600_000,
    },
    ca: ca.kind === "embedded"
      ? {
        kind: "embedded",
        listen: formatListenAddress(ca.listen),
        subnet: ca.subnet,
        range: `${ca.range[0]}-${ca.range[1]}`,
        router: ca.router ?? null,
        dns: ca.dns,
        leaseTimeS: ca.leaseTimeS ?? 600,
        rapidCommit: ca.rapidCommit,
      }
      : {
        kind: "external",
        gate: {
          table: `${ca.gate.family} ${ca.gate.table}`,
          set: ca.gate.set,
          port: ca.gate.port,
          netns: ca.gate.netns ?? null,
        },
      },
    log: { level: resolveLogLevel(levelFlag, config.log.level), format: config.log.format },
    unreadableFiles: unreadable.map((u) => u.field),
  };
}

/** Reads a RADIUS shared secret: the file's first line, not empty. */
async function _readSecret(path: string, label: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(2, `Cannot read ${label} ${path}: ${_oneLine(error)}`);
  }
  const secret = text.replace(/^\uFEFF/, "").split(/\r?\n/)[0]!;
  if (secret.length === 0) {
    throw new CliError(2, `Invalid ${label} ${path}: empty first line`);
  }
  return secret;
}

/**
 * Waits for SIGINT, SIGTERM or the abort signal (private to the CLI: `mpa ctn` and
 * `mpa preconfigure` share it).
 *
 * @param signal an abort signal that ends the wait too
 * @param onHangup called on each SIGHUP while waiting (not on Windows); without it
 *   SIGHUP keeps its default action
 * @returns which ended the wait: `SIGINT`, `SIGTERM` or `abort`
 */
export function _untilStopped(
  signal: AbortSignal | undefined,
  onHangup?: () => void,
): Promise<string> {
  return new Promise<string>((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const handlers = new Map<Deno.Signal, () => void>();
    const done = (why: string) => {
      for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
      signal?.removeEventListener("abort", onAbort);
      resolve(why);
    };
    const onAbort = () => done("abort");
    for (const sig of signals) {
      const handler = () => done(sig);
      handlers.set(sig, handler);
      Deno.addSignalListener(sig, handler);
    }
    if (onHangup !== undefined && Deno.build.os !== "windows") {
      handlers.set("SIGHUP", onHangup);
      Deno.addSignalListener("SIGHUP", onHangup);
    }
    if (signal?.aborted) done("abort");
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The final counters, one line. */
function _summary(s: AaServiceStats): string {
  const dropped = Object.values(s.paa.dropped).reduce((a, b) => a + b, 0);
  const parts = [
    `${s.paa.started} sessions started`,
    `${s.paa.authorized} authorized`,
    `${s.paa.rejected} rejected`,
    `${s.paa.failed} failed`,
    `${s.paa.reauthorized} re-authorized`,
    `${s.paa.terminated} terminated`,
    `${s.paa.expired} expired`,
    `${dropped} datagrams dropped`,
    `${s.delivered} key deliveries`,
    `${s.deliveryErrors} delivery errors`,
    `${s.stored} SAs stored`,
    `${s.storeAuthorized} SAs authorized`,
    `${s.held} held`,
    `${s.released} released`,
    `${s.storeErrors} store errors`,
  ];
  if (s.radius !== undefined) {
    parts.push(
      `${s.radius.requests} RADIUS requests`,
      `${s.radius.retransmissions} retransmissions`,
      `${s.radius.unanswered} unanswered`,
    );
  }
  return parts.join(", ");
}

/** One line per service besides the AA. */
function _otherSummaries(s: CtnServicesStats): string[] {
  const lines: string[] = [];
  if (s.ar !== undefined) {
    const parts = [
      `${s.ar.tunnelsCreated} tunnels created`,
      `${s.ar.refreshes} refreshes`,
      `${s.ar.tunnelsExpired} expired`,
      `${s.ar.packetsOut} packets to MNs`,
      `${s.ar.packetsIn} from MNs`,
      `${s.ar.buffered} buffered`,
      `${s.ar.flushed} flushed`,
      `${s.ar.unknownSession} unknown sessions`,
      `${s.ar.badAuth} failed authentication`,
      `${s.ar.replayed} replayed`,
      `${s.ar.spoofed} spoofed`,
    ];
    if (s.arTun !== undefined) {
      parts.push(`${s.arTun.fromKernel} packets from the TUN`, `${s.arTun.toKernel} into it`);
    }
    lines.push(`AR stopped: ${parts.join(", ")}`);
  }
  if (s.caGate !== undefined) {
    lines.push(
      `CA gate removed: ${s.caGate.admitted} admissions, ${s.caGate.withdrawn} withdrawals, ${s.caGate.errors} nft errors`,
    );
  }
  if (s.ca !== undefined) {
    lines.push(
      `CA stopped: ${s.ca.offers} offers, ${s.ca.acks} acks, ${s.ca.naks} naks, ${s.ca.releases} releases, ${s.ca.droppedGated} not pre-authenticated, ${s.ca.droppedBadAuth} bad option 90, ${s.ca.malformed} malformed`,
    );
  }
  return lines;
}
