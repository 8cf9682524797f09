import { describe, expect, it } from "npm:vitest@4.1.12";
import { fuzz } from "../../fuzz/_fuzz.ts";
import { fromHex } from "../../../lib/wire/_bytes.ts";
import {
  decodeMobilityHeader,
  encodeMobilityHeader,
  type MobilityMessage,
} from "../../../lib/wire/mobility_header.ts";

/** Seeds: the hand-built fixtures of mobility_header.test.ts (RFC 6275 section 6, RFC 5648). */
const SEEDS = [
  "3b00 0000 0000 0000",
  "3b01 0100 0000 0000 0102030405060708",
  "3b02 0300 0000 0007 0102030405060708 2122232425262728",
  "3b06 0500 0000 1234 c000 0019 0100 0310 20010db8 00000000 00000000 000000c1" +
  "0404 0001 0002 0102 0000 050c a0a1a2a3a4a5a6a7a8a9aaab",
  "3b01 0600 0000 0080 1234 0019 0202 000a",
  "3b02 0700 0000 0200 20010db8000000000000000000000100",
  "3b03 0500 0000 0002 8000 000f 0104 00000000 2308 0005 00 c0 c0000201 0102 0000",
  "3b02 0600 0000 8700 0001 0000 0104 00000000 2304 0002 8700",
  "3b01 1000 0000 0102030405060708090a",
].map(fromHex);

describe("Mobility Header fuzzing (RFC 6275 section 6; 10,000 seeded mutants)", () => {
  it("decodes or refuses with a typed error, and what decodes round-trips", () => {
    const report = fuzz({
      name: "Mobility Header",
      seeds: SEEDS,
      decode: decodeMobilityHeader,
      encode: (m: never) => encodeMobilityHeader(m as MobilityMessage),
    }, 10_000);
    expect(report.failures.slice(0, 3)).toEqual([]);
    expect(report.refused).toBeGreaterThan(0);
    expect(report.decoded).toBeGreaterThan(0);
    expect(report.decoded + report.refused).toBe(10_000);
  });
});
