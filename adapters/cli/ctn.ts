/**
 * `mpa ctn --aa --ctn ID [--listen HOST:PORT] (--credentials FILE | --radius HOST:PORT
 * --radius-secret-file FILE) [--server-id ID] [--kv PATH --kv-key-file FILE]
 * [--lifetime S]`: runs the services of a candidate target network. For now only the
 * authentication agent (`--aa`, RFC 6252 sections 6.3 step 1 and C.2); the CA and the
 * AR join it with the agent issue.
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { RADIUS_AUTH_PORT } from "../../lib/wire/radius_constants.ts";
import { PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import { type AaBackend, type AaService, type AaServiceStats, startAa } from "../aa/aa_service.ts";
import { loadCredentials } from "../aaa/local_authenticator.ts";
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
 * Help text of `mpa ctn`: the AA's options, the output line and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CTN_HELP } from "./ctn.ts";
 * assertStringIncludes(CTN_HELP, "--credentials FILE");
 * assertStringIncludes(CTN_HELP, "--radius HOST:PORT");
 * ```
 */
export const CTN_HELP = `Usage: mpa ctn --aa --ctn ID [--listen HOST:PORT]
               (--credentials FILE | --radius HOST:PORT --radius-secret-file FILE)
               [--server-id ID] [--kv PATH --kv-key-file FILE] [--lifetime S]

Runs the services of a candidate target network (CTN). For now only the
authentication agent (--aa): a PANA PAA (RFC 5191, RFC 5873) that pre-authenticates
mobile nodes with EAP-PSK (RFC 4764) from a credentials file, or relays EAP to an
AAA server over RADIUS (RFC 3579). The configuration agent (CA) and the access
router (AR) join it with a later issue; until then the MN-CA and MN-AR keys of each
MPA-SA are handed over in process and kept in memory until the SA expires.

Prints one JSON line to stdout when listening:
  {"listening": "HOST:PORT", "ctn": id}
then logs to stderr one line per MPA-SA (session id, identity, MN address and the
fingerprints of the MN-CA and MN-AR keys, never the keys), and runs until SIGINT or
SIGTERM, when it closes and logs its final counters.

Options:
  --aa                       run the authentication agent (required for now)
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
  -h, --help                 this text

Exit status: 0 stopped by a signal, 1 failure, 2 bad arguments or configuration
(unreadable files, address in use).`;

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
];

/** Options of {@link ctnCommand}. */
export interface CtnCommandOptions {
  /** Stops the services like SIGINT does (tests, embedding). */
  readonly signal?: AbortSignal;
}

/**
 * Runs `mpa ctn --aa`: starts the authentication agent, prints the listening line,
 * and serves until SIGINT or SIGTERM (or `options.signal`), then closes and logs the
 * final counters. Needs network and read permissions, and `--unstable-kv` with `--kv`
 * (the project's deno.json enables it).
 *
 * @param args the arguments after `ctn`
 * @param options an abort signal that stops the services
 * @returns 0 once stopped
 * @throws {CliError} status 2 for bad arguments, unreadable files, a bad secret or
 *   key file
 * @throws {ConfigError} (status 2 from `main`) for a bad credentials file, a store that
 *   cannot be opened, or an address that cannot be bound
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { ctnCommand } from "./ctn.ts";
 * assertEquals(await ctnCommand(["--help"]), 0); // prints CTN_HELP
 * await assertRejects(() => ctnCommand(["--ctn", "b"]), CliError, "Missing --aa");
 * ```
 */
export async function ctnCommand(
  args: readonly string[],
  options: CtnCommandOptions = {},
): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, _VALUED), {
    string: _VALUED,
    boolean: ["help", "aa"],
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(CTN_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, "aa", "help", "h"], "ctn");
  const usage = "run 'mpa ctn --help' for usage";
  if (!flags.aa) {
    throw new CliError(
      2,
      `Missing --aa: only the authentication agent runs for now (the CA and AR come later); ${usage}`,
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
      secret: await _readSecret(secretFile!),
    };
  }
  const storeKey = kvKeyFile === undefined
    ? undefined
    : await _readHexKeyFile(kvKeyFile, 32, "--kv-key-file");

  let aa: AaService;
  try {
    aa = await startAa({
      ctn,
      host: listen.host,
      port: listen.port,
      backend,
      ...(lifetimeS === undefined ? {} : { sessionLifetimeMs: lifetimeS * 1000 }),
      ...(kvPath === undefined || storeKey === undefined ? {} : { kv: { path: kvPath, storeKey } }),
    });
  } finally {
    storeKey?.fill(0); // the store imported its own copy
  }
  const listening = _formatHostPort(aa.address.address, aa.address.port);
  const out = new LineWriter();
  out.line(JSON.stringify({ listening, ctn }));
  out.flush();
  _logger.info("CTN {ctn}: AA ready on {listening} ({backend})", {
    ctn,
    listening,
    backend: backend.kind === "local"
      ? `local EAP-PSK, ${backend.credentials.size} identities`
      : `RADIUS ${_formatHostPort(backend.server.host, backend.server.port ?? RADIUS_AUTH_PORT)}`,
  });
  const why = await _stopped(options.signal);
  _logger.info("CTN {ctn}: stopping on {why}", { ctn, why });
  await _close(aa);
  _logger.info(`CTN {ctn}: AA stopped: ${_summary(aa.stats)}`, { ctn });
  return 0;
}

/** Reads the RADIUS shared secret: the file's first line, not empty. */
async function _readSecret(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(2, `Cannot read --radius-secret-file ${path}: ${_oneLine(error)}`);
  }
  const secret = text.replace(/^\uFEFF/, "").split(/\r?\n/)[0]!;
  if (secret.length === 0) {
    throw new CliError(2, `Invalid --radius-secret-file ${path}: empty first line`);
  }
  return secret;
}

/** Waits for SIGINT, SIGTERM or the abort signal; returns which. */
function _stopped(signal: AbortSignal | undefined): Promise<string> {
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
    if (signal?.aborted) done("abort");
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Closes the AA (a second SIGINT meanwhile ends the process the default way). */
async function _close(aa: AaService): Promise<void> {
  try {
    await aa.close();
  } catch (error) {
    throw new CliError(1, `Cannot close the AA cleanly: ${_oneLine(error)}`);
  }
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
