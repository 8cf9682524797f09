import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  type BindingCacheCommand,
  type BindingCacheConfig,
  type BindingCacheEvent,
  bindingCacheReducer,
  type BindingCacheState,
  type BindingUpdateReceived,
  DEFAULT_HOME_AGENT_MAX_LIFETIME,
  destinations,
  INITIAL_BINDING_CACHE_STATE,
  isNewerSequence,
} from "../../../lib/mip6/mod.ts";
import { BindingAckStatus, MAX_RR_BINDING_LIFETIME } from "../../../lib/wire/mobility_constants.ts";

const HOME = "2001:db8::100";
const C1 = "2001:db8:1::c1";
const C2 = "2001:db8:2::c2";
const C3 = "2001:db8:3::c3";
const HA: BindingCacheConfig = { role: "home-agent", maxLifetime: 600 };
const CN: BindingCacheConfig = { role: "correspondent" };

function bu(over: Partial<BindingUpdateReceived> = {}): BindingUpdateReceived {
  return {
    kind: "bu-received",
    home: HOME,
    coas: [{ coa: C1 }],
    sequence: 1,
    lifetime: 60,
    authentic: true,
    now: 0,
    ...over,
  };
}

/** Runs events in order from the empty cache; returns the final state and every command. */
function run(
  events: readonly BindingCacheEvent[],
  config: BindingCacheConfig = HA,
  from: BindingCacheState = INITIAL_BINDING_CACHE_STATE,
): [BindingCacheState, BindingCacheCommand[][]] {
  let state = from;
  const all: BindingCacheCommand[][] = [];
  for (const e of events) {
    const [next, out] = bindingCacheReducer(state, e, config);
    state = next;
    all.push([...out]);
  }
  return [state, all];
}

const ack = (
  status: number,
  sequence: number,
  lifetime: number,
  bids: [number, number][] = [],
) => ({
  kind: "send-ack",
  home: HOME,
  status,
  sequence,
  lifetime,
  bids: bids.map(([bid, s]) => ({ bid, status: s })),
});
const forward = (...coas: string[]) => ({ kind: "forward-to", home: HOME, coas });

describe("isNewerSequence (RFC 6275 section 9.5.1, modulo 2^16)", () => {
  it("treats the last number and the 32768 before it as not newer", () => {
    expect(isNewerSequence(101, 100)).toBe(true);
    expect(isNewerSequence(100, 100)).toBe(false);
    expect(isNewerSequence(99, 100)).toBe(false);
    expect(isNewerSequence(100 + 32767, 100)).toBe(true);
    expect(isNewerSequence(100 + 32768, 100)).toBe(false); // = 100 - 32768 modulo 2^16
    expect(isNewerSequence(0, 65535)).toBe(true);
    expect(isNewerSequence(65535, 0)).toBe(false);
    expect(isNewerSequence(32766, 65535)).toBe(true); // 65535 + 32767, wrapped
    expect(isNewerSequence(32767, 65535)).toBe(false); // 65535 + 32768, wrapped
  });
});

describe("bindingCacheReducer: registration (RFC 6275 sections 9.5.1, 10.3.1)", () => {
  it("accepts a first BU, acknowledges it and forwards to its care-of address", () => {
    const [s, [out]] = run([bu({ sequence: 42 })]);
    expect(out).toEqual([ack(0, 42, 60), forward(C1)]);
    expect(destinations(s, HOME)).toEqual([C1]);
    expect(s.homes.get(HOME)).toEqual({
      lastSequence: 42,
      bindings: [{ coa: C1, bid: undefined, expiresAt: 60_000 }],
    });
    expect(s.counters).toEqual({ accepted: 1, rejected: {}, expired: 0, unauthentic: 0 });
  });

  it("caps the lifetime: config, else 420 s for a correspondent, 3600 s for a home agent", () => {
    expect(run([bu({ lifetime: 4000 })])[1][0]![0]).toEqual(ack(0, 1, 600));
    expect(run([bu({ lifetime: 4000 })], CN)[1][0]![0]).toEqual(
      ack(0, 1, MAX_RR_BINDING_LIFETIME),
    );
    expect(run([bu({ lifetime: 8000 })], { role: "home-agent" })[1][0]![0]).toEqual(
      ack(0, 1, DEFAULT_HOME_AGENT_MAX_LIFETIME),
    );
    const [s] = run([bu({ lifetime: 4000, now: 1000 })], CN);
    expect(s.homes.get(HOME)?.bindings[0]?.expiresAt).toBe(1000 + 420_000);
  });

  it("refreshes without a forward-to when the care-of address is unchanged", () => {
    const [, outs] = run([bu({ sequence: 1 }), bu({ sequence: 2, now: 30_000 })]);
    expect(outs[1]).toEqual([ack(0, 2, 60)]);
  });

  it("moves to a new care-of address with a new forward-to", () => {
    const [s, outs] = run([bu({ sequence: 1 }), bu({ sequence: 2, coas: [{ coa: C2 }] })]);
    expect(outs[1]).toEqual([ack(0, 2, 60), forward(C2)]);
    expect(destinations(s, HOME)).toEqual([C2]);
  });

  it("sends no acknowledgement on acceptance without the A flag", () => {
    const [, [out]] = run([bu({ ackRequested: false })]);
    expect(out).toEqual([forward(C1)]);
  });

  it("does not mutate the state it is given", () => {
    const [s1] = run([bu({ sequence: 1 })]);
    const snapshot = structuredClone(s1);
    run([bu({ sequence: 2, coas: [{ coa: C2 }] }), { kind: "tick", now: 1e9 }], HA, s1);
    expect(s1).toEqual(snapshot);
  });
});

describe("bindingCacheReducer: sequence numbers (RFC 6275 section 9.5.1)", () => {
  it("refuses a replayed or older BU with 135 and the last accepted number", () => {
    const [s, outs] = run([bu({ sequence: 10 }), bu({ sequence: 10 }), bu({ sequence: 9 })]);
    expect(outs[1]).toEqual([ack(BindingAckStatus.SequenceNumberOutOfWindow, 10, 0)]);
    expect(outs[2]).toEqual([ack(135, 10, 0)]);
    expect(s.homes.get(HOME)?.lastSequence).toBe(10);
    expect(s.counters.rejected).toEqual({ 135: 2 });
    expect(s.counters.accepted).toBe(1);
  });

  it("acknowledges a rejection even without the A flag", () => {
    const [, outs] = run([bu({ sequence: 10 }), bu({ sequence: 3, ackRequested: false })]);
    expect(outs[1]).toEqual([ack(135, 10, 0)]);
  });

  it("accepts across the wrap from 65535 to 0", () => {
    const [s, outs] = run([bu({ sequence: 65535 }), bu({ sequence: 0, coas: [{ coa: C2 }] })]);
    expect(outs[1]).toEqual([ack(0, 0, 60), forward(C2)]);
    expect(s.homes.get(HOME)?.lastSequence).toBe(0);
  });

  it("remembers the last number after deregistration and expiry (no replay)", () => {
    const [, outs] = run([
      bu({ sequence: 5 }),
      bu({ sequence: 6, lifetime: 0 }),
      bu({ sequence: 5 }), // replay of the first BU
      bu({ sequence: 7, now: 1000 }),
      { kind: "tick", now: 61_000 },
      bu({ sequence: 7, now: 62_000 }), // replay after expiry
    ]);
    expect(outs[2]).toEqual([ack(135, 6, 0)]);
    expect(outs[5]).toEqual([ack(135, 7, 0)]);
  });

  it("keeps sequence numbers per home address", () => {
    const [, outs] = run([bu({ sequence: 100 }), bu({ home: "2001:db8::200", sequence: 1 })]);
    expect(outs[1]?.[0]).toMatchObject({ home: "2001:db8::200", status: 0, sequence: 1 });
  });
});

describe("bindingCacheReducer: authenticity", () => {
  it("drops an unauthentic BU silently: no ack, no state change, counted", () => {
    const [s1] = run([bu({ sequence: 1 })]);
    const [s2, [out]] = run([bu({ sequence: 2, coas: [{ coa: C2 }], authentic: false })], HA, s1);
    expect(out).toEqual([{ kind: "dropped", home: HOME, reason: "unauthentic" }]);
    expect(s2.homes).toBe(s1.homes);
    expect(s2.counters.unauthentic).toBe(1);
    expect(destinations(s2, HOME)).toEqual([C1]);
  });

  it("does not let an unauthentic BU advance the sequence number", () => {
    const [, outs] = run([
      bu({ sequence: 1 }),
      bu({ sequence: 50, authentic: false }),
      bu({ sequence: 2, coas: [{ coa: C2 }] }),
    ]);
    expect(outs[2]).toEqual([ack(0, 2, 60), forward(C2)]);
  });
});

describe("bindingCacheReducer: deregistration (RFC 6275 sections 9.5.3, 10.3.2)", () => {
  it("removes the binding on lifetime 0 and stops forwarding", () => {
    const [s, outs] = run([bu({ sequence: 1 }), bu({ sequence: 2, lifetime: 0 })]);
    expect(outs[1]).toEqual([ack(0, 2, 0), forward()]);
    expect(destinations(s, HOME)).toEqual([]);
    expect(s.counters.accepted).toBe(2);
  });

  it("removes the binding when the care-of address is the home address (returning home)", () => {
    const [s, outs] = run([bu({ sequence: 1 }), bu({ sequence: 2, coas: [{ coa: HOME }] })]);
    expect(outs[1]).toEqual([ack(0, 2, 0), forward()]);
    expect(destinations(s, HOME)).toEqual([]);
  });

  it("has a home agent refuse deregistering an unknown home address with 133", () => {
    const [s, [out]] = run([bu({ lifetime: 0 })]);
    expect(out).toEqual([ack(BindingAckStatus.NotHomeAgentForThisMobileNode, 1, 0)]);
    expect(s.homes.size).toBe(0);
    expect(s.counters.rejected).toEqual({ 133: 1 });
  });

  it("has a correspondent accept it with nothing to forward", () => {
    const [s, [out]] = run([bu({ lifetime: 0 })], CN);
    expect(out).toEqual([ack(0, 1, 0)]);
    expect(destinations(s, HOME)).toEqual([]);
  });
});

describe("bindingCacheReducer: multiple care-of addresses (RFC 5648)", () => {
  const bulk = (over: Partial<BindingUpdateReceived> = {}) =>
    bu({ coas: [{ coa: C1, bid: 1 }, { coa: C2, bid: 2 }, { coa: C3, bid: 3 }], ...over });

  it("registers several Binding IDs at once (bulk registration)", () => {
    const [s, [out]] = run([bulk()]);
    expect(out).toEqual([ack(0, 1, 60, [[1, 0], [2, 0], [3, 0]]), forward(C1, C2, C3)]);
    expect(destinations(s, HOME)).toEqual([C1, C2, C3]);
  });

  it("adds and replaces Binding IDs one by one, keeping the others", () => {
    const [s, outs] = run([
      bulk(),
      bu({ sequence: 2, coas: [{ coa: "2001:db8:4::c4", bid: 4 }] }),
      bu({ sequence: 3, coas: [{ coa: "2001:db8:22::c2", bid: 2 }] }),
    ]);
    expect(outs[1]).toEqual([ack(0, 2, 60, [[4, 0]]), forward(C1, C2, C3, "2001:db8:4::c4")]);
    expect(outs[2]?.[1]).toEqual(forward(C1, "2001:db8:22::c2", C3, "2001:db8:4::c4"));
    expect(s.homes.get(HOME)?.bindings.map((b) => b.bid)).toEqual([1, 2, 3, 4]);
  });

  it("keeps the bindings ordered by Binding ID whatever the BU order", () => {
    const [s] = run([bu({ coas: [{ coa: C3, bid: 3 }, { coa: C1, bid: 1 }] })]);
    expect(destinations(s, HOME)).toEqual([C1, C3]);
  });

  it("deregisters only the Binding IDs of a lifetime-0 BU", () => {
    const [s, outs] = run([bulk(), bu({ sequence: 2, lifetime: 0, coas: [{ coa: C2, bid: 2 }] })]);
    expect(outs[1]).toEqual([ack(0, 2, 0, [[2, 0]]), forward(C1, C3)]);
    expect(destinations(s, HOME)).toEqual([C1, C3]);
  });

  it("refuses to deregister an unknown Binding ID with 133 and changes nothing", () => {
    const [s, outs] = run([
      bulk(),
      bu({ sequence: 2, lifetime: 0, coas: [{ coa: C2, bid: 2 }, { coa: C1, bid: 9 }] }),
    ]);
    expect(outs[1]).toEqual([ack(133, 2, 0, [[2, 133], [9, 133]])]);
    expect(destinations(s, HOME)).toEqual([C1, C2, C3]);
    expect(s.homes.get(HOME)?.lastSequence).toBe(1);
  });

  it("returns one Binding ID home when its care-of address is the home address", () => {
    const [s, outs] = run([bulk(), bu({ sequence: 2, coas: [{ coa: HOME, bid: 1 }] })]);
    expect(outs[1]).toEqual([ack(0, 2, 60, [[1, 0]]), forward(C2, C3)]);
    expect(destinations(s, HOME)).toEqual([C2, C3]);
  });

  it("replaces every binding with the Binding IDs of a BU with the overwrite (O) flag", () => {
    const [s, outs] = run([
      bulk(),
      bu({ sequence: 2, overwrite: true, coas: [{ coa: "2001:db8:5::c5", bid: 5 }] }),
    ]);
    expect(outs[1]).toEqual([ack(0, 2, 60, [[5, 0]]), forward("2001:db8:5::c5")]);
    expect(destinations(s, HOME)).toEqual(["2001:db8:5::c5"]);
  });

  it("replaces every binding with a BU without Binding ID", () => {
    const [s, outs] = run([bulk(), bu({ sequence: 2, coas: [{ coa: C2 }] })]);
    expect(outs[1]).toEqual([ack(0, 2, 60), forward(C2)]);
    expect(s.homes.get(HOME)?.bindings).toEqual([{ coa: C2, bid: undefined, expiresAt: 60_000 }]);
  });

  it("refuses malformed Binding IDs with 164 MCOA MALFORMED", () => {
    const cases: BindingUpdateReceived["coas"][] = [
      [{ coa: C1, bid: 1 }, { coa: C2, bid: 1 }], // duplicate
      [{ coa: C1, bid: 0 }], // reserved
      [{ coa: C1, bid: 65536 }], // out of range
      [{ coa: C1, bid: 1 }, { coa: C2 }], // mixed
      [{ coa: C1 }, { coa: C2 }], // several without Binding ID
    ];
    for (const coas of cases) {
      const [s, [out]] = run([bu({ coas })]);
      expect(out?.[0], JSON.stringify(coas)).toMatchObject({
        kind: "send-ack",
        status: BindingAckStatus.McoaMalformed,
        lifetime: 0,
      });
      expect(out).toHaveLength(1);
      expect(s.homes.size).toBe(0);
    }
  });

  it("refuses a BU without any care-of address with 128", () => {
    const [, [out]] = run([bu({ coas: [] })]);
    expect(out).toEqual([ack(BindingAckStatus.ReasonUnspecified, 1, 0)]);
  });

  it("refuses Binding IDs with 166 when multiple care-of addresses are off", () => {
    const [, [out]] = run([bu({ coas: [{ coa: C1, bid: 1 }] })], { ...HA, multipleCoa: false });
    expect(out).toEqual([ack(BindingAckStatus.McoaProhibited, 1, 0, [[1, 166]])]);
  });

  it("refuses several Binding IDs with 168 when bulk registration is off, one is fine", () => {
    const config = { ...HA, bulkRegistration: false };
    const [, [out]] = run([bulk()], config);
    expect(out?.[0]).toMatchObject({ status: BindingAckStatus.McoaBulkRegistrationProhibited });
    const [s] = run([bu({ coas: [{ coa: C1, bid: 1 }] })], config);
    expect(destinations(s, HOME)).toEqual([C1]);
  });

  it("refuses Binding IDs over a binding without one with 165, unless overwrite is set", () => {
    const [s, outs] = run([bu({ sequence: 1 }), bulk({ sequence: 2 })]);
    expect(outs[1]).toEqual([
      ack(BindingAckStatus.McoaNonMcoaBindingExists, 2, 0, [[1, 165], [2, 165], [3, 165]]),
    ]);
    expect(destinations(s, HOME)).toEqual([C1]);
    const [s2] = run([bulk({ sequence: 3, overwrite: true })], HA, s);
    expect(destinations(s2, HOME)).toEqual([C1, C2, C3]);
  });

  it("counts rejections by status", () => {
    const [s] = run([
      bu({ coas: [] }),
      bu({ coas: [{ coa: C1, bid: 0 }] }),
      bu({ coas: [{ coa: C1, bid: 0 }] }),
      bu({ lifetime: 0 }),
    ]);
    expect(s.counters.rejected).toEqual({ 128: 1, 164: 2, 133: 1 });
    expect(s.counters.accepted).toBe(0);
  });
});

describe("bindingCacheReducer: expiry", () => {
  it("expires each binding at its own time, with expired and forward-to commands", () => {
    const [s, outs] = run([
      bu({ coas: [{ coa: C1, bid: 1 }, { coa: C2, bid: 2 }], lifetime: 60, now: 0 }),
      bu({ sequence: 2, coas: [{ coa: C2, bid: 2 }], lifetime: 60, now: 30_000 }),
      { kind: "tick", now: 59_999 },
      { kind: "tick", now: 60_000 },
      { kind: "tick", now: 90_000 },
    ]);
    expect(outs[2]).toEqual([]);
    expect(outs[3]).toEqual([{ kind: "expired", home: HOME, coas: [C1] }, forward(C2)]);
    expect(outs[4]).toEqual([{ kind: "expired", home: HOME, coas: [C2] }, forward()]);
    expect(s.counters.expired).toBe(2);
    expect(destinations(s, HOME)).toEqual([]);
  });

  it("returns the same state when nothing expires", () => {
    const [s1] = run([bu()]);
    const [s2, out] = bindingCacheReducer(s1, { kind: "tick", now: 1000 }, HA);
    expect(s2).toBe(s1);
    expect(out).toEqual([]);
  });

  it("leaves out bindings past their lifetime in destinations(now) before the tick", () => {
    const [s] = run([
      bu({ coas: [{ coa: C1, bid: 1 }], lifetime: 8, now: 0 }),
      bu({ sequence: 2, coas: [{ coa: C2, bid: 2 }], lifetime: 60, now: 0 }),
    ]);
    expect(destinations(s, HOME, 7_999)).toEqual([C1, C2]);
    expect(destinations(s, HOME, 8_000)).toEqual([C2]);
    expect(destinations(s, "2001:db8::999")).toEqual([]);
  });
});

describe("RFC 6252 section C.4: simultaneous binding to c1, c2, c3, then the single new CoA", () => {
  it("streams to all three candidate CoAs, then only to the one moved to", () => {
    const delivered = new Map<string, number[]>();
    const stream = (state: BindingCacheState, from: number, count: number) => {
      for (let p = from; p < from + count; p++) {
        for (const coa of destinations(state, HOME)) {
          delivered.set(coa, [...(delivered.get(coa) ?? []), p]);
        }
      }
    };
    // In the previous network: one BU registers the three nCoAs of the pre-configured
    // candidate networks (section 7.2: simultaneous mobility binding).
    const [s1, [out1]] = run([
      bu({
        sequence: 100,
        lifetime: 120,
        coas: [{ coa: C1, bid: 1 }, { coa: C2, bid: 2 }, { coa: C3, bid: 3 }],
      }),
    ]);
    expect(out1).toEqual([ack(0, 100, 120, [[1, 0], [2, 0], [3, 0]]), forward(C1, C2, C3)]);
    stream(s1, 0, 5);
    // After the move to the network of c2: a BU with the single new care-of address.
    const [s2, [out2]] = run(
      [bu({ sequence: 101, lifetime: 120, coas: [{ coa: C2 }], now: 5000 })],
      HA,
      s1,
    );
    expect(out2).toEqual([ack(0, 101, 120), forward(C2)]);
    stream(s2, 5, 5);
    expect(delivered.get(C1)).toEqual([0, 1, 2, 3, 4]);
    expect(delivered.get(C3)).toEqual([0, 1, 2, 3, 4]);
    expect(delivered.get(C2)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s2.counters).toEqual({ accepted: 2, rejected: {}, expired: 0, unauthentic: 0 });
    // The old bulk registration, replayed, cannot bring c1 and c3 back.
    const [s3, [out3]] = run([bu({ sequence: 100, coas: [{ coa: C1, bid: 1 }] })], HA, s2);
    expect(out3).toEqual([ack(135, 101, 0, [[1, 135]])]);
    expect(destinations(s3, HOME)).toEqual([C2]);
  });
});
