import { describe, expect, it } from "npm:vitest@4.1.12";
import { parseCredentials } from "../../../lib/eap/credentials.ts";
import { ConfigError } from "../../../lib/errors.ts";

const HEX_A = "0123456789abcdef0123456789abcdef";
const HEX_B = "FFEEDDCCBBAA99887766554433221100";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("Expected a ConfigError");
}

describe("parseCredentials", () => {
  it("reads identity and 16-byte PSK per line, skipping comments and blank lines", () => {
    const creds = parseCredentials(
      [
        "# mpa AA credentials",
        "",
        `alice@example ${HEX_A}`,
        "   # indented comment",
        `\tbob@example\t\t${HEX_B}   `,
        "",
      ].join("\n"),
    );
    expect([...creds.keys()]).toEqual(["alice@example", "bob@example"]);
    expect(creds.get("alice@example")).toEqual(
      new Uint8Array([
        0x01,
        0x23,
        0x45,
        0x67,
        0x89,
        0xab,
        0xcd,
        0xef,
        0x01,
        0x23,
        0x45,
        0x67,
        0x89,
        0xab,
        0xcd,
        0xef,
      ]),
    );
    expect(creds.get("bob@example")?.[0]).toBe(0xff);
    expect(creds.get("bob@example")?.[15]).toBe(0x00);
  });

  it("accepts CRLF line ends and a byte order mark; an empty file has no peers", () => {
    const creds = parseCredentials(`\uFEFFalice ${HEX_A}\r\nbob ${HEX_B}\r\n`);
    expect(creds.size).toBe(2);
    expect(parseCredentials("").size).toBe(0);
    expect(parseCredentials("# nothing\n\n").size).toBe(0);
  });

  it("names the source and line of a PSK that is not 32 hex digits, without quoting it", () => {
    const short = configError(() => parseCredentials(`# c\nalice ${HEX_A.slice(2)}`, "aa.psk"));
    expect(short.message).toBe(
      "aa.psk:2: Invalid PSK for alice: expected 32 hex digits (16 bytes), got 30",
    );
    expect(short.option).toBe("aa.psk:2");
    const notHex = configError(() => parseCredentials(`alice ${"zz".repeat(16)}`));
    expect(notHex.message).toBe(
      "credentials:1: Invalid PSK for alice: expected 32 hex digits (16 bytes), got non-hex characters",
    );
    expect(notHex.message).not.toContain("zz");
  });

  it("names the line of a duplicate identity and where it was first defined", () => {
    const e = configError(() =>
      parseCredentials(`alice ${HEX_A}\nbob ${HEX_B}\n\nalice ${HEX_B}\n`)
    );
    expect(e.message).toBe("credentials:4: Duplicate identity alice: first defined on line 1");
  });

  it("refuses lines without exactly two fields", () => {
    expect(configError(() => parseCredentials("alice\n")).message).toBe(
      'credentials:1: Invalid credentials line: expected "identity psk-hex", got 1 field',
    );
    expect(configError(() => parseCredentials(`\n\nalice ${HEX_A} extra`)).message).toBe(
      'credentials:3: Invalid credentials line: expected "identity psk-hex", got 3 fields',
    );
  });

  it("returns fresh arrays: mutating one does not affect a new parse", () => {
    const text = `alice ${HEX_A}`;
    parseCredentials(text).get("alice")!.fill(0);
    expect(parseCredentials(text).get("alice")?.[1]).toBe(0x23);
  });
});
