/**
 * The AA's local EAP-PSK backend (RFC 4764): the credentials file read from disk and
 * the factory of per-session EAP-PSK servers over it, with the system's random source.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { parseCredentials } from "../../lib/eap/credentials.ts";
import type { EapAuthenticatorFactory, RandomBytes } from "../../lib/eap/eap_method.ts";
import { createEapPskServerFactory } from "../../lib/eap/eap_psk_server.ts";
import { ConfigError } from "../../lib/errors.ts";

const _logger = getLogger(["mpa", "aaa"]);

/**
 * Reads and parses a credentials file: `identity psk-hex` per line, `#` comments
 * (see `parseCredentials` in lib/eap/credentials.ts). Logs a warning, never the keys,
 * when the file is readable by group or others.
 *
 * @param path the file
 * @returns identity to 16-byte PSK
 * @throws {ConfigError} when the file cannot be read (`option` "credentials") or a
 *   line is bad (`PATH:LINE: why`)
 *
 * @example
 * ```ts ignore
 * // /etc/mpa/aa.psk: "mn@example 000102030405060708090a0b0c0d0e0f"
 * const creds = await loadCredentials("/etc/mpa/aa.psk");
 * const factory = localEapPskFactory({ serverId: "aa.ctn-b", credentials: creds });
 * ```
 */
export async function loadCredentials(path: string): Promise<ReadonlyMap<string, Uint8Array>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      "credentials",
      `Cannot read credentials file ${path}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const credentials = parseCredentials(text, path);
  try {
    const mode = (await Deno.stat(path)).mode;
    if (mode !== null && (mode & 0o077) !== 0) {
      _logger.warn("Credentials file {path} is readable by others (mode {mode}): chmod 600 it", {
        path,
        mode: (mode & 0o777).toString(8),
      });
    }
  } catch {
    // The file was just read; a failing stat only skips the permission warning.
  }
  return credentials;
}

/** Options of {@link localEapPskFactory}. */
export interface LocalEapPskFactoryOptions {
  /** The AA's EAP-PSK identity ID_S (RFC 4764 section 5.1). */
  readonly serverId: string;
  /** Identity to PSK, e.g. from {@link loadCredentials}. */
  readonly credentials: ReadonlyMap<string, Uint8Array>;
  /** RAND_S and identifier source; default `crypto.getRandomValues`. */
  readonly random?: RandomBytes;
}

/**
 * The factory of local EAP-PSK servers (one per PANA session) over a credentials map.
 *
 * @param options ID_S, the credentials, and optionally the random source
 * @returns the factory, for the PAA
 * @throws {ConfigError} for an empty `serverId`
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const factory = localEapPskFactory({ serverId: "aa.ctn", credentials: new Map() });
 * const step = await factory.create({ sessionId: 1, peer: "192.0.2.7:716" }).start();
 * assertEquals(step.kind === "request" && step.eap[4], 1); // Request/Identity
 * ```
 */
export function localEapPskFactory(options: LocalEapPskFactoryOptions): EapAuthenticatorFactory {
  const { credentials } = options;
  return createEapPskServerFactory({
    serverId: options.serverId,
    lookup: (idP) => credentials.get(idP),
    random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
  });
}
