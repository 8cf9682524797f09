import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError } from "../../../lib/errors.ts";
import {
  PANA_PCI_RETRANSMISSION,
  PANA_REQUEST_RETRANSMISSION,
  panaRand,
  resolveRetransmission,
  retransmissionExhausted,
  retransmissionTimeout,
} from "../../../lib/pana/retransmission.ts";
import { seededRandom } from "./_pana_link.ts";

describe("PANA retransmission timers (RFC 5191 section 9, RFC 3315 section 14)", () => {
  it("uses the RFC 5191 values", () => {
    expect(PANA_PCI_RETRANSMISSION).toEqual({ irt: 1_000, mrt: 120_000, mrc: 0, mrd: 0 });
    expect(PANA_REQUEST_RETRANSMISSION).toEqual({ irt: 1_000, mrt: 30_000, mrc: 10, mrd: 0 });
  });

  it("doubles from IRT and caps at MRT (RAND = 0)", () => {
    const rts: number[] = [];
    let rt: number | undefined;
    for (let i = 0; i < 8; i++) {
      rt = retransmissionTimeout(rt, PANA_REQUEST_RETRANSMISSION, 0);
      rts.push(rt);
    }
    expect(rts).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("applies RAND within plus or minus 0.1, including to the MRT cap", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 1_000; i++) {
      const rand = panaRand(random);
      expect(Math.abs(rand)).toBeLessThanOrEqual(0.1);
      const first = retransmissionTimeout(undefined, PANA_REQUEST_RETRANSMISSION, rand);
      expect(first).toBeGreaterThanOrEqual(900);
      expect(first).toBeLessThanOrEqual(1_100);
      const capped = retransmissionTimeout(25_000, PANA_REQUEST_RETRANSMISSION, rand);
      expect(capped).toBeGreaterThanOrEqual(27_000);
      expect(capped).toBeLessThanOrEqual(33_000);
    }
  });

  it("gives up after MRC retransmissions or MRD; 0 means no limit", () => {
    const p = { irt: 1_000, mrt: 30_000, mrc: 10, mrd: 0 };
    expect(retransmissionExhausted(10, 1e6, p)).toBe(false);
    expect(retransmissionExhausted(11, 0, p)).toBe(true);
    expect(retransmissionExhausted(1_000, 1e9, PANA_PCI_RETRANSMISSION)).toBe(false);
    expect(retransmissionExhausted(2, 5_000, { ...p, mrc: 0, mrd: 5_000 })).toBe(true);
  });

  it("validates overrides with a ConfigError naming the option", () => {
    expect(() => resolveRetransmission(PANA_PCI_RETRANSMISSION, { irt: 0 }, "pci")).toThrow(
      ConfigError,
    );
    expect(() => resolveRetransmission(PANA_PCI_RETRANSMISSION, { mrc: -1 }, "pci")).toThrow(
      "Invalid PANA retransmission mrc: -1",
    );
  });
});
