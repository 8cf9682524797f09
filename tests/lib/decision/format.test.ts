import { describe, expect, it } from "npm:vitest@4.1.12";
import type { Decision } from "../../../lib/decision/decision.ts";
import { formatDecisionJson, formatDecisionRow } from "../../../lib/decision/format.ts";

const prepare: Decision = {
  kind: "prepare",
  t: 1256,
  ctns: ["B", "C"],
  poa: "a1",
  reason: "near",
  budgets: { B: { leadMs: null, authMs: 210, confMs: 400, bindMs: 450, phases: ["preauth"] } },
};

describe("decision formats", () => {
  it("writes JSON with t, kind, ctn|ctns, poa, reason first and null for an unbounded lead", () => {
    expect(formatDecisionJson(prepare)).toBe(
      '{"t":1256,"kind":"prepare","ctns":["B","C"],"poa":"a1","reason":"near","budgets":{"B":{"leadMs":null,"authMs":210,"confMs":400,"bindMs":450,"phases":["preauth"]}}}',
    );
    const sw: Decision = {
      kind: "switch",
      reason: "r",
      t: 9,
      poa: "b1",
      ctn: "B",
      from: "a1",
      fromNetwork: "A",
      prepared: [],
      reactive: true,
    };
    expect(Object.keys(JSON.parse(formatDecisionJson(sw)))).toEqual([
      "t",
      "kind",
      "ctn",
      "poa",
      "reason",
      "from",
      "fromNetwork",
      "prepared",
      "reactive",
    ]);
  });

  it("writes a timeline row relative to t0 with all networks of a multi-CTN decision", () => {
    expect(formatDecisionRow(prepare, 256)).toBe("   1.000 s  prepare       B,C        a1    near");
  });
});
