import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  DEFAULT_PROFILE,
  describeBudget,
  isUrgent,
  planBudget,
} from "../../../lib/decision/planner.ts";

describe("planBudget (RFC 6252 section C.6)", () => {
  const rfc = { network: "B", rttMs: 100, tpskMs: 10, tconfMs: 190, tbuMs: 50 };

  it("computes 2·RTT + Tpsk, + Tconf, + T_BU cumulatively", () => {
    const b = planBudget(rfc, Infinity);
    expect([b.authMs, b.confMs, b.bindMs]).toEqual([210, 400, 450]);
    expect(b.leadMs).toBeNull();
  });

  it.each([
    [0.2, []],
    [0.21, []], // equal is not "<": 2RTT + Tpsk < D/v must hold strictly
    [0.211, ["preauth"]],
    [0.4, ["preauth"]],
    [0.401, ["preauth", "preconfigure"]],
    [0.45, ["preauth", "preconfigure"]],
    [0.451, ["preauth", "preconfigure", "bind"]],
    [Infinity, ["preauth", "preconfigure", "bind"]],
  ])("with a lead time of %s s the phases that fit are %j", (lead, phases) => {
    expect(planBudget(rfc, lead).phases).toEqual(phases);
  });

  it("reproduces the section C.6 speeds: D = 100 ft fits pre-auth below ~476 ft/s and pre-config below 250 ft/s", () => {
    const d = 100; // ft
    expect(planBudget(rfc, d / 470).phases).toContain("preauth");
    expect(planBudget(rfc, d / 520).phases).toEqual([]);
    expect(planBudget(rfc, d / 240).phases).toContain("preconfigure");
    expect(planBudget(rfc, d / 260).phases).not.toContain("preconfigure");
  });

  it("falls back to the section C.6 example values for an unknown CTN", () => {
    const b = planBudget(undefined, Infinity);
    expect(b.authMs).toBe(2 * DEFAULT_PROFILE.rttMs + DEFAULT_PROFILE.tpskMs);
    expect(b.bindMs).toBe(450);
  });

  it("is urgent only when the lead time is bounded and below safety × bindMs", () => {
    expect(isUrgent(planBudget(rfc, 0.899), 2)).toBe(true);
    expect(isUrgent(planBudget(rfc, 0.9), 2)).toBe(false);
    expect(isUrgent(planBudget(rfc, Infinity), 2)).toBe(false);
  });

  it("describes the budget with its numbers", () => {
    expect(describeBudget(planBudget(rfc, 0.3))).toBe(
      "lead 0.3 s; auth 210 ms, conf 400 ms, bind 450 ms: preauth",
    );
    expect(describeBudget(planBudget(rfc, 0.1))).toContain("none fits (reactive)");
  });
});
