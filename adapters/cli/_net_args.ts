/**
 * Private argument helpers of the network commands (`preauth`, `ctn`): `HOST:PORT`
 * addresses and hex key files. Errors are {@link CliError}s with status 2 and a
 * one-line reason that never quotes a key.
 *
 * @module
 */
import { isIP } from "node:net";
import { CliError } from "./replay.ts";

/** An IP address and a UDP port from the command line. */
export interface _HostPort {
  /** IPv4 or IPv6 address literal (without brackets). */
  readonly host: string;
  /** UDP port. */
  readonly port: number;
}

/**
 * Parses `HOST:PORT`, `[V6]:PORT`, or a bare `HOST` (then `defaultPort`). HOST must
 * be an IP address literal.
 */
export function _parseHostPort(
  text: string,
  flag: string,
  defaultPort: number,
  options: { readonly allowZero?: boolean } = {},
): _HostPort {
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (isIP(text) === 0) {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  if (isIP(host) === 0) {
    throw new CliError(2, `Invalid ${flag}: expected HOST:PORT with an IP address, got "${text}"`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    const min = options.allowZero === true ? 0 : 1;
    if (!(port >= min && port <= 65535)) {
      throw new CliError(2, `Invalid ${flag}: expected a port ${min} to 65535, got "${portText}"`);
    }
  }
  return { host, port };
}

/** `host:port`, with brackets around an IPv6 host. */
export function _formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Reads a key file holding exactly `bytes` bytes in hex; whitespace (newlines
 * included) is ignored. The error never shows the file's content.
 */
export async function _readHexKeyFile(
  path: string,
  bytes: number,
  flag: string,
): Promise<Uint8Array> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CliError(2, `Cannot read ${flag} ${path}: ${_oneLine(error)}`);
  }
  const hex = text.replace(/\s+/g, "");
  if (hex.length !== 2 * bytes || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CliError(
      2,
      `Invalid ${flag} ${path}: expected ${2 * bytes} hex digits (${bytes} bytes), got ${
        /^[0-9a-fA-F]*$/.test(hex) ? `${hex.length} hex digits` : "other characters"
      }`,
    );
  }
  const key = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) key[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return key;
}

/** The first line of an error's message. */
export function _oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!;
}

/**
 * Parses a positive number from `--flag`; `integer` requires a whole one.
 */
export function _positive(
  value: unknown,
  flag: string,
  options: { readonly integer?: boolean; readonly max?: number } = {},
): number {
  const text = String(value);
  const n = Number(text);
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (
    text.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max ||
    (options.integer === true && !Number.isInteger(n))
  ) {
    throw new CliError(
      2,
      `Invalid ${flag}: expected a positive ${
        options.integer === true ? "integer" : "number"
      } up to ${max}, got ${text}`,
    );
  }
  return n;
}

/** Throws for options outside `known` and for positional arguments. */
export function _onlyKnown(
  flags: Record<string, unknown>,
  known: readonly string[],
  command: string,
): void {
  const unknown = Object.keys(flags).filter((k) => k !== "_" && !known.includes(k));
  if (unknown.length > 0) {
    throw new CliError(
      2,
      `Unknown option ${unknown[0]!.length === 1 ? "-" : "--"}${
        unknown[0]
      }: run 'mpa ${command} --help' for usage`,
    );
  }
  const positional = flags._ as unknown[];
  if (positional.length > 0) {
    throw new CliError(
      2,
      `Unexpected argument ${String(positional[0])}: run 'mpa ${command} --help' for usage`,
    );
  }
}

/** The string value of `--flag`, or undefined; a flag given twice is refused. */
export function _string(flags: Record<string, unknown>, name: string): string | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new CliError(2, `Option --${name} given more than once`);
  const text = String(value);
  if (text === "") throw new CliError(2, `Invalid --${name}: empty`);
  return text;
}
