/**
 * The credentials file of the local EAP-PSK server: one peer per line, its identity
 * (ID_P, RFC 4764 section 5.2) and its 16-byte PSK (section 3.1) in hex, separated by
 * spaces or tabs:
 *
 * ```text
 * # identity         psk (32 hex digits)
 * alice@example      0123456789abcdef0123456789abcdef
 * ```
 *
 * Blank lines and lines whose first non-blank character is `#` are ignored; CRLF line
 * ends and a leading byte order mark are accepted. Errors name the source and the
 * line (`credentials:3: ...`) and never quote a key.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

/** Length of an EAP-PSK PSK, bytes (RFC 4764 section 3.1). */
const _PSK_LENGTH = 16;
const _HEX = /^[0-9a-fA-F]+$/;

/**
 * Parses a credentials file.
 *
 * @param text the file's content
 * @param source how errors name the file; default `credentials`
 * @returns identity to PSK (fresh 16-byte arrays), in file order
 * @throws {ConfigError} `SOURCE:LINE: why` for a line that is not `identity psk-hex`,
 *   a PSK that is not 32 hex digits, or an identity seen before; `option` is
 *   `SOURCE:LINE`
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const creds = parseCredentials("# peers\nalice 000102030405060708090a0b0c0d0e0f\n\n");
 * assertEquals(creds.get("alice")?.[15], 15);
 * assertThrows(
 *   () => parseCredentials("alice 00\n", "psk.txt"),
 *   Error,
 *   "psk.txt:1: Invalid PSK for alice: expected 32 hex digits (16 bytes), got 2",
 * );
 * ```
 */
export function parseCredentials(
  text: string,
  source = "credentials",
): ReadonlyMap<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const firstLine = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const number = index + 1;
    const fail = (why: string): never => {
      throw new ConfigError(`${source}:${number}`, `${source}:${number}: ${why}`);
    };
    const fields = line.split(/[ \t]+/);
    if (fields.length !== 2) {
      fail(
        `Invalid credentials line: expected "identity psk-hex", got ${fields.length} field${
          fields.length === 1 ? "" : "s"
        }`,
      );
    }
    const [identity, hex] = fields as [string, string];
    if (hex.length !== 2 * _PSK_LENGTH || !_HEX.test(hex)) {
      fail(
        `Invalid PSK for ${identity}: expected ${
          2 * _PSK_LENGTH
        } hex digits (${_PSK_LENGTH} bytes), got ${
          _HEX.test(hex) ? hex.length : "non-hex characters"
        }`,
      );
    }
    const seen = firstLine.get(identity);
    if (seen !== undefined) fail(`Duplicate identity ${identity}: first defined on line ${seen}`);
    const psk = new Uint8Array(_PSK_LENGTH);
    for (let i = 0; i < _PSK_LENGTH; i++) psk[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    out.set(identity, psk);
    firstLine.set(identity, number);
  });
  return out;
}
