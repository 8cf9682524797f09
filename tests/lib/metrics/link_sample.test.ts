import { describe, expect, it } from "npm:vitest@4.1.12";
import { MetricsValidationError } from "../../../lib/errors.ts";
import {
  formatLinkSample,
  parseLinkSample,
  parseLinkSampleLine,
} from "../../../lib/metrics/link_sample.ts";

const full = {
  t: 1200,
  poa: "ap1",
  network: "domainA",
  snr: 23.5,
  pos: { x: 10, y: 5 },
  vel: { speed: 1.4, heading: 0 },
};

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(MetricsValidationError);
    return (error as MetricsValidationError).field;
  }
  return undefined;
}

describe("LinkSample", () => {
  it("parses the documented JSONL form and formats it back byte for byte", () => {
    const line =
      '{"t":1200,"poa":"ap1","network":"domainA","snr":23.5,"pos":{"x":10,"y":5},"vel":{"speed":1.4,"heading":0}}';
    const s = parseLinkSampleLine(line);
    expect(s).toEqual(full);
    expect(formatLinkSample(s)).toBe(line);
  });

  it("accepts samples without pos and vel and ignores unknown keys", () => {
    const s = parseLinkSample({ t: 0, poa: "a", network: "n", snr: -3, rssi: -70, pos: undefined });
    expect(s).toEqual({ t: 0, poa: "a", network: "n", snr: -3 });
    expect("rssi" in s).toBe(false);
  });

  it.each([
    [{ ...full, t: NaN }, "t"],
    [{ ...full, t: "5" }, "t"],
    [{ ...full, snr: Infinity }, "snr"],
    [{ ...full, snr: null }, "snr"],
    [{ ...full, poa: "" }, "poa"],
    [{ ...full, poa: undefined }, "poa"],
    [{ ...full, network: 3 }, "network"],
    [{ ...full, pos: { x: 1 } }, "pos.y"],
    [{ ...full, pos: "here" }, "pos"],
    [{ ...full, vel: { speed: -1, heading: 0 } }, "vel.speed"],
    [{ ...full, vel: { speed: 1, heading: NaN } }, "vel.heading"],
    [[1, 2], "sample"],
    [null, "sample"],
  ])("refuses %j naming the field %s", (value, field) => {
    expect(fieldOf(() => parseLinkSample(value))).toBe(field);
  });

  it("refuses time going backwards but accepts equal times (one instant, several PoAs)", () => {
    expect(fieldOf(() => parseLinkSample({ ...full, t: 1199 }, 1200))).toBe("t");
    expect(parseLinkSample({ ...full, t: 1200 }, 1200).t).toBe(1200);
  });

  it("reports bad JSON as the field json with the parser's reason", () => {
    expect(fieldOf(() => parseLinkSampleLine('{"t": 1,'))).toBe("json");
  });

  it("puts the detail after a colon in its messages", () => {
    try {
      parseLinkSample({ ...full, snr: "loud" });
    } catch (error) {
      expect((error as Error).message).toBe('Invalid snr: expected a finite number, got "loud"');
    }
  });
});
