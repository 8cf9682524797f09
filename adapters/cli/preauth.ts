/**
 * `mpa preauth --aa HOST:PORT --identity ID --psk-file FILE [--ctn ID] [--bind ADDR]
 * [--timeout MS]`: one pre-authentication (RFC 6252 section 6.3 step 1: PANA with the
 * pre-authentication flag of RFC 5873, EAP-PSK of RFC 4764) against an authentication
 * agent, printing one JSON line with the session, the phase timings and the key
 * fingerprints.
 *
 * @module
 */
import { isIP } from "node:net";
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import { ConfigError } from "../../lib/errors.ts";
import { PortError } from "../../lib/ports.ts";
import { PANA_UDP_PORT } from "../../lib/wire/pana_constants.ts";
import { type PanaMpaSa, PanaPac } from "../pana/pac.ts";
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

/** The CTN id `mpa preauth` binds into the keys when `--ctn` is not given. */
export const PREAUTH_DEFAULT_CTN = "ctn";

/** The default deadline of `mpa preauth`, ms. */
const _DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Help text of `mpa preauth`: options, output line and exit statuses.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PREAUTH_HELP } from "./preauth.ts";
 * assertStringIncludes(PREAUTH_HELP, "--psk-file FILE");
 * assertStringIncludes(PREAUTH_HELP, "fingerprints");
 * ```
 */
export const PREAUTH_HELP =
  `Usage: mpa preauth --aa HOST:PORT --identity ID --psk-file FILE [--ctn ID]
                    [--bind ADDR] [--timeout MS]

Pre-authenticates once with the authentication agent (AA) of a candidate target
network (RFC 6252 section 6.3 step 1): PANA (RFC 5191) with the pre-authentication
flag (RFC 5873), carrying EAP-PSK (RFC 4764). Prints one JSON line to stdout:
  {"ctn": id, "sessionId": n, "lifetimeMs": n, "keyId": n,
   "timings": {"pciToPar": ms, "eap": ms, "completion": ms, "total": ms},
   "fingerprints": {"msk": hex, "mnCa": hex, "mnAr": hex}}
Fingerprints are the first 16 bytes of SHA-256 of each key, in hex; the keys
themselves are never printed. Logs and errors go to stderr.

Options:
  --aa HOST:PORT   the AA's PANA address (port 716 when omitted)
  --identity ID    the MN's EAP-PSK identity, as in the AA's credentials file
  --psk-file FILE  the 16-byte PSK as 32 hex digits (whitespace ignored)
  --ctn ID         the CTN's network id, bound into the MN-CA and MN-AR keys; PANA
                   does not carry it, so it must equal the AA's 'mpa ctn --ctn'
                   (default "${PREAUTH_DEFAULT_CTN}")
  --bind ADDR      the MN's current address to send from (default: any)
  --timeout MS     give up after MS milliseconds (default ${_DEFAULT_TIMEOUT_MS})
  -h, --help       this text

Exit status: 0 pre-authenticated, 1 refused by the AA (wrong identity or PSK) or
another failure, 2 bad arguments, unreadable PSK file, or AA unreachable (no answer
within --timeout).`;

const _VALUED = ["aa", "identity", "psk-file", "ctn", "bind", "timeout"];

/**
 * The JSON line of `mpa preauth` for an MPA-SA: session, lifetime, Key-Id, phase
 * timings (ms, to the microsecond) and key fingerprints; never keys.
 *
 * @param sa the MPA-SA from {@link PanaPac.preAuthenticate}
 * @returns one line of JSON
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { formatPreauthJson } from "./preauth.ts";
 * const line = formatPreauthJson({
 *   ctn: "ctn-b",
 *   sessionId: 7,
 *   lifetimeMs: 3_600_000,
 *   keyIds: { msk: 1, mnCa: "mn-ca-7", mnAr: "mn-ar-7" },
 *   timings: { pciToPar: 0.2, eap: 1.23456, completion: 0.1, total: 1.53456 },
 *   fingerprints: { msk: "00".repeat(16), mnCa: "11".repeat(16), mnAr: "22".repeat(16) },
 * });
 * assertEquals(JSON.parse(line).timings.eap, 1.235);
 * assertEquals(JSON.parse(line).keyId, 1);
 * ```
 */
export function formatPreauthJson(
  sa: Pick<PanaMpaSa, "ctn" | "sessionId" | "lifetimeMs" | "keyIds" | "timings" | "fingerprints">,
): string {
  const ms = (v: number) => Math.round(v * 1000) / 1000;
  return JSON.stringify({
    ctn: sa.ctn,
    sessionId: sa.sessionId,
    lifetimeMs: sa.lifetimeMs,
    keyId: sa.keyIds.msk,
    timings: {
      pciToPar: ms(sa.timings.pciToPar),
      eap: ms(sa.timings.eap),
      completion: ms(sa.timings.completion),
      total: ms(sa.timings.total),
    },
    fingerprints: {
      msk: sa.fingerprints.msk,
      mnCa: sa.fingerprints.mnCa,
      mnAr: sa.fingerprints.mnAr,
    },
  });
}

/**
 * Runs `mpa preauth`: one pre-authentication with an AA, one JSON line on stdout.
 * Needs network and read permissions. The PANA PaC is always closed before
 * returning, so the process can exit.
 *
 * @param args the arguments after `preauth`
 * @returns 0 when pre-authenticated
 * @throws {CliError} status 1 when the AA refused the authentication or another
 *   failure; status 2 for bad arguments, an unreadable or malformed PSK file, or an
 *   AA that did not answer in time or cannot be reached
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { CliError } from "./replay.ts";
 * import { preauthCommand } from "./preauth.ts";
 * assertEquals(await preauthCommand(["--help"]), 0); // prints PREAUTH_HELP
 * await assertRejects(() => preauthCommand(["--identity", "mn"]), CliError, "Missing --aa");
 * ```
 */
export async function preauthCommand(args: readonly string[]): Promise<number> {
  const flags = parseArgs(attachNegativeValues(args, _VALUED), {
    string: _VALUED,
    boolean: ["help"],
    alias: { h: "help" },
  });
  if (flags.help) {
    console.log(PREAUTH_HELP);
    return 0;
  }
  _onlyKnown(flags, [..._VALUED, "help", "h"], "preauth");
  const required = (name: string): string => {
    const value = _string(flags, name);
    if (value === undefined) {
      throw new CliError(2, `Missing --${name}: run 'mpa preauth --help' for usage`);
    }
    return value;
  };
  const aa = _parseHostPort(required("aa"), "--aa", PANA_UDP_PORT);
  const identity = required("identity");
  const pskFile = required("psk-file");
  const ctn = _string(flags, "ctn") ?? PREAUTH_DEFAULT_CTN;
  const bind = _string(flags, "bind");
  if (bind !== undefined && isIP(bind) === 0) {
    throw new CliError(2, `Invalid --bind: expected an IP address, got "${bind}"`);
  }
  if (bind !== undefined && isIP(bind) !== isIP(aa.host)) {
    throw new CliError(2, `Invalid --bind: ${bind} and the AA ${aa.host} differ in IP version`);
  }
  const timeoutText = _string(flags, "timeout");
  const timeoutMs = timeoutText === undefined
    ? _DEFAULT_TIMEOUT_MS
    : _positive(timeoutText, "--timeout", { max: 86_400_000 });
  const psk = await _readHexKeyFile(pskFile, 16, "--psk-file");

  let pac: PanaPac;
  try {
    pac = new PanaPac({
      identity,
      eap: () =>
        createEapPskPeer({
          identity,
          psk,
          random: (n) => crypto.getRandomValues(new Uint8Array(n)),
        }),
      authTimeoutMs: timeoutMs,
      ...(bind === undefined ? {} : { bind }),
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(2, error.message);
    throw error;
  }
  const label = _formatHostPort(aa.host, aa.port);
  try {
    const target = { address: aa.host, port: aa.port };
    const sa = await pac.preAuthenticate({
      network: ctn,
      aa: target,
      ca: target,
      ar: target,
      poas: [],
    });
    const out = new LineWriter();
    out.line(formatPreauthJson(sa));
    out.flush();
    return 0;
  } catch (error) {
    if (!(error instanceof PortError)) throw error;
    // The PaC's messages end with ": AA HOST:PORT", which the reasons below say first.
    const reason = _oneLine(error).replace(/: AA \S+$/, "");
    switch (error.code) {
      case "rejected":
        throw new CliError(
          1,
          `Pre-authentication refused by the AA at ${label}: ${reason}`,
        );
      case "timeout":
        throw new CliError(
          2,
          `AA unreachable: no answer from ${label} within ${timeoutMs} ms (is 'mpa ctn --aa' running there?)`,
        );
      case "unreachable":
        throw new CliError(2, `AA unreachable: ${reason}`);
      default:
        throw new CliError(
          1,
          `Pre-authentication with the AA at ${label} failed: ${_oneLine(error)}`,
        );
    }
  } finally {
    psk.fill(0);
    // close() waits for each session's last send (the final PAN) to be reported
    // done, but under Deno's node:dgram the report can come before the datagram has
    // left; `main` exits the process at once, so give the send a moment (measured:
    // without it the AA missed the final PAN of a refused run every time).
    await pac.close();
    await new Promise((resolve) => setTimeout(resolve, _LAST_SEND_GRACE_MS));
  }
}

/** How long to let the PaC's final datagram leave before the process exits, ms. */
const _LAST_SEND_GRACE_MS = 25;
