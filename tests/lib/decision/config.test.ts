import { describe, expect, it } from "npm:vitest@4.1.12";
import { parseDecideConfig } from "../../../lib/decision/config.ts";
import { ConfigError } from "../../../lib/errors.ts";

function optionOf(json: unknown): string | undefined {
  try {
    parseDecideConfig(json);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).option;
  }
  return undefined;
}

describe("parseDecideConfig", () => {
  it("turns the documented config into decide options", () => {
    const o = parseDecideConfig({
      cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 150, txPower: 20 }],
      ctns: [{ network: "B", rttMs: 65, tpskMs: 12, tconfMs: 140, tbuMs: 60 }],
      decide: { margin: 4, timeToTrigger: 320, topK: 3, recovery: { retainMs: 1000 } },
    });
    expect(o).toEqual({
      cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 150, txPower: 20 }],
      ctns: [{ network: "B", rttMs: 65, tpskMs: 12, tconfMs: 140, tbuMs: 60 }],
      margin: 4,
      timeToTrigger: 320,
      topK: 3,
      recovery: { retainMs: 1000 },
    });
  });

  it("accepts an empty config and recovery off", () => {
    expect(parseDecideConfig({})).toEqual({});
    expect(parseDecideConfig({ decide: { recovery: "off" } })).toEqual({ recovery: "off" });
  });

  it.each([
    [[], "config"],
    [{ extra: 1 }, "config.extra"],
    [{ decide: { topk: 3 } }, "decide.topk"],
    [{ decide: { topK: 0 } }, "decide.topK"],
    [{ decide: { margin: "3" } }, "decide.margin"],
    [{ decide: { recovery: { holdDown: 5 } } }, "decide.recovery.holdDown"],
    [{ decide: { recovery: { holdDownMs: -5 } } }, "decide.recovery.holdDownMs"],
    [{ cells: [{ poa: "a1", network: "A", pos: { x: 0 }, coverage: 1 }] }, "cells[0].pos.y"],
    [
      { cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 0 }] },
      "cells[0].coverage",
    ],
    [{ ctns: [{ network: "B", rttMs: -1 }] }, "ctns[0].rttMs"],
    [{ ctns: [{ rttMs: 1 }] }, "ctns[0].network"],
    [{ ctns: {} }, "ctns"],
    [
      { cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0 }, coverage: 1, bogus: 1 }] },
      "cells[0].bogus",
    ],
    [
      { cells: [{ poa: "a1", network: "A", pos: { x: 0, y: 0, z: 1 }, coverage: 1 }] },
      "cells[0].pos.z",
    ],
  ])("refuses %j naming %s", (json, option) => {
    expect(optionOf(json)).toBe(option);
  });
});
