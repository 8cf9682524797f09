import { describe, expect, it } from "npm:vitest@4.1.12";
import { constantTimeEqual } from "../../../lib/keys/constant_time.ts";

describe("constantTimeEqual", () => {
  it("is true for equal arrays, including two empty ones", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it("is false when any byte differs, first, middle or last", () => {
    const a = new Uint8Array(16).fill(7);
    for (const i of [0, 8, 15]) {
      const b = a.slice();
      b[i] = 6;
      expect(constantTimeEqual(a, b)).toBe(false);
    }
  });

  it("is false for different lengths, even when one is a prefix of the other", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array([0]))).toBe(false);
  });

  it("compares views by their own bytes, not their buffers", () => {
    const buffer = new Uint8Array([9, 1, 2, 3, 9]);
    expect(constantTimeEqual(buffer.subarray(1, 4), new Uint8Array([1, 2, 3]))).toBe(true);
  });
});
