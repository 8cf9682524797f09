/**
 * LogTape setup: readable text on a terminal, JSON lines otherwise, the level from
 * --log-level over the configuration, and compatibility with the CLI's
 * setupLogging (a later configureLogging replaces it).
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { getLogger, resetSync } from "npm:@logtape/logtape@^2.4.2";
import { ConfigError } from "../../../lib/errors.ts";
import {
  configureLogging,
  LOG_LEVELS,
  resolveLogLevel,
} from "../../../adapters/observe/log_setup.ts";
import { setupLogging } from "../../../adapters/cli/_io.ts";

afterEach(() => resetSync());

describe("configureLogging", () => {
  it("writes JSON lines when stderr is not a terminal, with category, level and properties", () => {
    const out: string[] = [];
    configureLogging({ isTerminal: false, write: (t) => out.push(t) });
    getLogger(["mpa", "observe"]).info("Session {ctn} is {phase}", {
      ctn: "ctn-b",
      phase: "bound",
    });
    expect(out).toHaveLength(1);
    expect(out[0]!.endsWith("\n")).toBe(true);
    expect(out[0]!.trimEnd()).not.toContain("\n");
    const record = JSON.parse(out[0]!);
    expect(record).toMatchObject({
      level: "INFO",
      message: 'Session "ctn-b" is "bound"',
      logger: "mpa.observe",
      properties: { ctn: "ctn-b", phase: "bound" },
    });
    expect(Number.isNaN(Date.parse(record["@timestamp"]))).toBe(false);
  });

  it("writes readable text on a terminal", () => {
    const out: string[] = [];
    configureLogging({ isTerminal: true, write: (t) => out.push(t) });
    getLogger(["mpa"]).warn("Tunnel to {ctn} closed", { ctn: "ctn-b" });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/\[WRN\] mpa: Tunnel to "ctn-b" closed\n$/);
    expect(() => JSON.parse(out[0]!)).toThrow();
  });

  it("lets an explicit format win over the terminal check", () => {
    const out: string[] = [];
    configureLogging({ format: "json", isTerminal: true, write: (t) => out.push(t) });
    getLogger(["mpa"]).info("Up");
    expect(JSON.parse(out[0]!).message).toBe("Up");
    configureLogging({ format: "text", isTerminal: false, write: (t) => out.push(t) });
    getLogger(["mpa"]).info("Up again");
    expect(out[1]).toContain("[INF] mpa: Up again");
  });

  it("drops records below the level, and only logs the mpa category", () => {
    const out: string[] = [];
    configureLogging({ level: "warning", isTerminal: false, write: (t) => out.push(t) });
    const log = getLogger(["mpa", "pana"]);
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    getLogger(["other"]).error("not ours");
    expect(out.map((l) => JSON.parse(l).message)).toEqual(["w", "e"]);
  });

  it("replaces an earlier configuration, including the CLI's setupLogging", () => {
    setupLogging("error");
    const first: string[] = [];
    const second: string[] = [];
    configureLogging({ isTerminal: false, write: (t) => first.push(t) });
    const log = configureLogging({
      level: "debug",
      isTerminal: false,
      write: (t) => second.push(t),
    });
    log.debug("Fine detail");
    expect(first).toEqual([]);
    expect(JSON.parse(second[0]!)).toMatchObject({
      level: "DEBUG",
      message: "Fine detail",
      logger: "mpa",
    });
  });
});

describe("resolveLogLevel", () => {
  it("takes --log-level over the configuration over the fallback", () => {
    expect(resolveLogLevel("debug", "error")).toBe("debug");
    expect(resolveLogLevel(undefined, "error")).toBe("error");
    expect(resolveLogLevel(undefined, undefined)).toBe("info");
    expect(resolveLogLevel(undefined, undefined, "warning")).toBe("warning");
  });

  it("accepts every LogTape level in any case, and warn for warning", () => {
    for (const level of LOG_LEVELS) {
      expect(resolveLogLevel(level.toUpperCase(), undefined)).toBe(level);
    }
    expect(resolveLogLevel("Warn", undefined)).toBe("warning");
  });

  it("refuses other words with a ConfigError that lists the levels", () => {
    const error = (() => {
      try {
        resolveLogLevel(undefined, "verbose");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe("logLevel");
    expect((error as Error).message).toBe(
      'Invalid log level: expected one of trace, debug, info, warning, error, fatal, got "verbose"',
    );
  });
});
