import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  clientTransactionDeadline,
  type ClientTransactionState,
  retransmitSchedule,
  SIP_TIMERS,
  startClientTransaction,
  stepClientTransaction,
} from "../../../lib/sip/client_transaction.ts";

const T = SIP_TIMERS;

describe("SIP client transaction (RFC 3261 section 17.1)", () => {
  it("INVITE: Timer A doubles from T1 without a cap until Timer B = 64*T1 (17.1.1.2)", () => {
    const s = retransmitSchedule("invite");
    expect(s.sends).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(s.timeoutMs).toBe(32000);
  });

  it("non-INVITE: Timer E doubles up to T2 until Timer F = 64*T1 (17.1.2.2)", () => {
    const s = retransmitSchedule("non-invite");
    expect(s.sends).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(s.timeoutMs).toBe(32000);
  });

  it("scales with a small T1", () => {
    const s = retransmitSchedule("invite", { t1Ms: 10, t2Ms: 40, t4Ms: 50 });
    expect(s.sends).toEqual([0, 10, 30, 70, 150, 310, 630]);
    expect(s.timeoutMs).toBe(640);
  });

  it("INVITE: a provisional response stops retransmissions and Timer B (17.1.1.2)", () => {
    let [s] = startClientTransaction("invite", 0);
    let c;
    [s, c] = stepClientTransaction(s, { type: "response", status: 100, now: 100 });
    expect(c).toEqual([{ type: "deliver", status: 100 }]);
    expect(s.phase).toBe("proceeding");
    expect(clientTransactionDeadline(s)).toBeUndefined();
    [s, c] = stepClientTransaction(s, { type: "response", status: 180, now: 200 });
    expect(c).toEqual([{ type: "deliver", status: 180 }]);
    [s, c] = stepClientTransaction(s, { type: "response", status: 200, now: 300 });
    expect(c).toEqual([{ type: "deliver", status: 200 }, { type: "terminated" }]);
    expect(s.phase).toBe("terminated");
  });

  it("INVITE: a non-2xx final is ACKed, and ACKed again when retransmitted; Timer D ends it (17.1.1.3)", () => {
    let [s] = startClientTransaction("invite", 0);
    let c;
    [s, c] = stepClientTransaction(s, { type: "response", status: 503, now: 100 });
    expect(c).toEqual([{ type: "ack" }, { type: "deliver", status: 503 }]);
    [s, c] = stepClientTransaction(s, { type: "response", status: 503, now: 600 });
    expect(c).toEqual([{ type: "ack" }]);
    expect(clientTransactionDeadline(s)).toBe(32100);
    [s, c] = stepClientTransaction(s, { type: "timer", now: 32100 });
    expect(c).toEqual([{ type: "terminated" }]);
  });

  it("INVITE: Timer B reports a timeout", () => {
    let s: ClientTransactionState = startClientTransaction("invite", 0, T)[0];
    const out = [];
    for (let i = 0; i < 20 && s.phase !== "terminated"; i++) {
      const at = clientTransactionDeadline(s)!;
      const [next, c] = stepClientTransaction(s, { type: "timer", now: at });
      s = next;
      out.push(...c);
    }
    expect(out.filter((c) => c.type === "send")).toHaveLength(6);
    expect(out.slice(-2)).toEqual([{ type: "timeout", timer: "B" }, { type: "terminated" }]);
  });

  it("non-INVITE: Proceeding retransmits every T2, Timer F still runs; a final is delivered once, Timer K absorbs copies (17.1.2.2)", () => {
    let [s] = startClientTransaction("non-invite", 0);
    let c;
    [s, c] = stepClientTransaction(s, { type: "response", status: 100, now: 100 });
    expect(c).toEqual([{ type: "deliver", status: 100 }]);
    [s, c] = stepClientTransaction(s, { type: "timer", now: 500 });
    expect(c).toEqual([{ type: "send" }]);
    expect(s.retransmitAt).toBe(4500);
    [s, c] = stepClientTransaction(s, { type: "response", status: 200, now: 600 });
    expect(c).toEqual([{ type: "deliver", status: 200 }]);
    [s, c] = stepClientTransaction(s, { type: "response", status: 200, now: 700 });
    expect(c).toEqual([]);
    [s, c] = stepClientTransaction(s, { type: "timer", now: 5600 });
    expect(c).toEqual([{ type: "terminated" }]);
  });

  it("non-INVITE: Timer F reports a timeout", () => {
    const [s] = startClientTransaction("non-invite", 0);
    const [next, c] = stepClientTransaction(s, { type: "timer", now: 32000 });
    expect(c).toEqual([{ type: "timeout", timer: "F" }, { type: "terminated" }]);
    expect(next.phase).toBe("terminated");
  });

  it("an early timer event changes nothing", () => {
    const [s] = startClientTransaction("invite", 0);
    expect(stepClientTransaction(s, { type: "timer", now: 499 })).toEqual([s, []]);
  });
});
