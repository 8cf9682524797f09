import { describe, expect, it } from "npm:vitest@4.1.12";
import { Prng } from "../../../lib/metrics/prng.ts";
import { hex } from "../../../lib/wire/_bytes.ts";
import {
  decodePana,
  encodePana,
  findAvp,
  type PanaAvp,
  panaFlags,
  type PanaMessage,
} from "../../../lib/wire/pana.ts";
import { PanaMessageType } from "../../../lib/wire/pana_constants.ts";
import { FakeEapAuthenticatorFactory } from "../../fakes/fake_eap.ts";
import { PanaLink } from "./_pana_link.ts";

const pci = (preauth = true) =>
  encodePana({ flags: panaFlags({ preauth }), type: 1, sessionId: 0, seq: 0, avps: [] });

/** Re-encodes a message with changes (the AUTH AVP, if any, is kept as is). */
function rewrite(bytes: Uint8Array, change: Partial<PanaMessage>): Uint8Array {
  return encodePana({ ...decodePana(bytes), ...change });
}

function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

async function established(link = new PanaLink()): Promise<PanaLink> {
  await link.pacDo(link.pac.start());
  await link.settle();
  expect(link.pac.state).toBe("open");
  return link;
}

async function ping(link: PanaLink): Promise<Uint8Array> {
  await link.pacDo(link.pac.reauthorize());
  await link.settle();
  return link.fromPac.at(-1)!;
}

describe("PANA duplicates and replays (RFC 5191 section 5.1)", () => {
  it("answers a byte-identical retransmitted request from the cache, with no new state", async () => {
    const link = await established();
    const parC = link.fromPaa.at(-1)!.bytes;
    const panC = link.fromPac.at(-1)!;
    await link.injectToPac(parC);
    expect(link.pac.stats.duplicates).toBe(1);
    expect(hex(link.fromPac.at(-1)!)).toBe(hex(panC));
    expect(link.pacEventsOf("done")).toHaveLength(1);

    const pnr = await ping(link);
    const pna = link.fromPaa.at(-1)!.bytes;
    await link.injectToPaa(pnr);
    expect(link.paa.stats.duplicates).toBe(1);
    expect(hex(link.fromPaa.at(-1)!.bytes)).toBe(hex(pna));
    expect(link.paa.stats.reauthorized).toBe(1); // the duplicate re-authorizes nothing
  });

  it("drops a request that reuses the last sequence number with other content", async () => {
    const link = await established();
    const parC = link.fromPaa.at(-1)!.bytes;
    await link.injectToPac(flipLastByte(parC));
    expect(link.pac.stats.dropped["out-of-window"]).toBe(1);
    expect(link.pac.stats.duplicates).toBe(0);
  });

  it("drops a replayed older ping, and a replay of the last one from another address", async () => {
    const link = await established();
    const sid = link.pac.sessionId!;
    const first = await ping(link);
    const second = await ping(link);
    expect(link.paa.stats.reauthorized).toBe(2);
    await link.injectToPaa(first);
    await link.injectToPaa(second, { address: "203.0.113.66", port: 4444 });
    await link.settle();
    expect(link.paa.stats.dropped["out-of-window"]).toBe(2);
    expect(link.paa.stats.reauthorized).toBe(2);
    expect(link.paa.session(sid)?.peer.address).toBe("192.0.2.10");
  });

  it("drops a request far outside the window even with a valid-looking layout", async () => {
    const link = await established();
    const pnr = await ping(link);
    const m = decodePana(pnr);
    await link.injectToPaa(rewrite(pnr, { seq: (m.seq + 5) >>> 0 }));
    expect(link.paa.stats.dropped["out-of-window"]).toBe(1);
  });

  it("drops answers that match no outstanding request", async () => {
    const link = await established();
    const panC = link.fromPac.at(-1)!;
    await link.injectToPaa(panC); // the session is open: nothing outstanding
    expect(link.paa.stats.dropped["out-of-window"]).toBe(1);
    expect(link.paa.stats.authorized).toBe(1);
  });
});

describe("PANA AUTH checks (RFC 5191 section 5.3)", () => {
  it("drops a final PAN whose AUTH does not verify; no SA until a genuine one arrives", async () => {
    const link = new PanaLink();
    link.pacFilter = (b, i) => i === 3 ? flipLastByte(b) : "deliver";
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.paa.stats.dropped["bad-auth"]).toBe(1);
    expect(link.paaEventsOf("authorized")).toHaveLength(0);
    expect(link.paa.stats.halfOpen).toBe(1);
    // The PAA retransmits the final PAR; the PaC answers with its cached, genuine PAN.
    await link.runFor(2_000);
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
  });

  it("drops a final PAN with the AUTH AVP removed", async () => {
    const link = new PanaLink();
    link.pacFilter = (b, i) => {
      if (i !== 3) return "deliver";
      const m = decodePana(b);
      return encodePana({ ...m, avps: m.avps.filter((a) => a.kind !== "auth") });
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.paaEventsOf("drop")).toEqual([
      expect.objectContaining({ reason: "bad-auth", detail: "No AUTH AVP in the final PAN" }),
    ]);
    expect(link.paaEventsOf("authorized")).toHaveLength(0);
  });

  it("makes the PaC drop a final PAR whose AUTH does not verify", async () => {
    const link = new PanaLink();
    link.paaFilter = (b, i) => i === 2 ? flipLastByte(b) : "deliver";
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pac.stats.dropped["bad-auth"]).toBe(1);
    expect(link.pac.state).toBe("authenticating");
    await link.runFor(2_000);
    expect(link.pac.state).toBe("open");
    expect(link.pacEventsOf("done")).toHaveLength(1);
  });

  it("drops a forged ping (wrong AUTH): no re-authorization, no address change", async () => {
    const link = await established();
    const sid = link.pac.sessionId!;
    const forged = encodePana({
      flags: panaFlags({ request: true, ping: true }),
      type: PanaMessageType.Notification,
      sessionId: sid,
      seq: 7,
      avps: [{ kind: "auth", value: new Uint8Array(16).fill(0xee) }],
    });
    await link.injectToPaa(forged, { address: "203.0.113.9", port: 716 });
    expect(link.paa.stats.dropped["bad-auth"]).toBe(1);
    expect(link.paa.stats.reauthorized).toBe(0);
    expect(link.paa.session(sid)?.peer.address).toBe("192.0.2.10");
    expect(link.fromPaa).toHaveLength(3); // nothing answered
    // A forged termination is dropped too.
    await link.injectToPaa(rewrite(forged, {
      flags: panaFlags({ request: true }),
      type: PanaMessageType.Termination,
    }));
    expect(link.paa.stats.dropped["bad-auth"]).toBe(2);
    expect(link.paa.session(sid)?.state).toBe("open");
  });
});

describe("PANA unknown sessions and bad datagrams", () => {
  it("drops messages for an unknown session", async () => {
    const link = await established();
    const sid = link.pac.sessionId!;
    const pnr = await ping(link);
    await link.injectToPaa(rewrite(pnr, { sessionId: (sid + 1) >>> 0 }));
    await link.injectToPac(rewrite(link.fromPaa.at(-1)!.bytes, { sessionId: (sid + 1) >>> 0 }));
    expect(link.paa.stats.dropped["unknown-session"]).toBe(1);
    expect(link.pac.stats.dropped["unknown-session"]).toBe(1);
  });

  it("drops truncated, oversized, mis-sized and garbage datagrams on both sides", async () => {
    const link = await established();
    const pnr = await ping(link);
    const before = link.paa.stats;
    const truncated = pnr.slice(0, 10);
    const shortAvp = pnr.slice(0, pnr.length - 4); // Message Length no longer matches
    const oversized = new Uint8Array(5_000);
    oversized.set(pnr);
    const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    for (const bytes of [truncated, shortAvp, oversized, garbage, new Uint8Array(0)]) {
      await link.injectToPaa(bytes);
      await link.injectToPac(bytes);
    }
    const after = link.paa.stats;
    expect(after.dropped.malformed - before.dropped.malformed).toBe(4);
    expect(after.dropped.oversized - before.dropped.oversized).toBe(1);
    expect(link.pac.stats.dropped.malformed).toBe(4);
    expect(link.pac.stats.dropped.oversized).toBe(1);
    expect(after.sessions).toBe(before.sessions);
    expect(link.pac.state).toBe("open");
  });

  it("survives 2,000 mutated copies of every message of an exchange without an extra SA", async () => {
    const link = await established();
    await ping(link);
    const prng = new Prng(6252);
    const corpus = [...link.fromPac, ...link.fromPaa.map((m) => m.bytes)];
    for (let i = 0; i < 2_000; i++) {
      const bytes = corpus[i % corpus.length]!.slice();
      const flips = 1 + Math.floor(prng.next() * 4);
      for (let f = 0; f < flips; f++) {
        bytes[Math.floor(prng.next() * bytes.length)] = Math.floor(prng.next() * 256);
      }
      await link.injectToPaa(bytes);
      await link.injectToPac(bytes);
    }
    await link.settle();
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
    expect(link.pacEventsOf("done")).toHaveLength(1);
    expect(link.paa.stats.reauthorized).toBe(1);
    expect(link.pac.state).toBe("open");
    expect(link.paa.stats.dropped.internal).toBe(0);
    expect(link.pac.stats.dropped.internal).toBe(0);
  });
});

describe("PANA flood control", () => {
  it("caps half-open sessions per source address, then globally, and frees them at the deadline", async () => {
    const link = new PanaLink({ paa: { maxHalfOpen: 10, authTimeoutMs: 5_000 } });
    for (let port = 1; port <= 20; port++) {
      await link.injectToPaa(pci(), { address: "203.0.113.5", port });
    }
    expect(link.paa.stats).toMatchObject({ started: 8, halfOpen: 8 });
    expect(link.paa.stats.dropped["flood-source"]).toBe(12);
    for (let host = 1; host <= 5; host++) {
      await link.injectToPaa(pci(), { address: `198.51.100.${host}`, port: 716 });
    }
    expect(link.paa.stats).toMatchObject({ started: 10, halfOpen: 10 });
    expect(link.paa.stats.dropped["flood-global"]).toBe(3);
    expect((link.factory as FakeEapAuthenticatorFactory).created).toHaveLength(10);
    await link.runFor(5_001);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0, failed: 10 });
    // The source may start again once its half-open sessions are gone.
    await link.injectToPaa(pci(), { address: "203.0.113.5", port: 99 });
    expect(link.paa.stats.started).toBe(11);
  });

  it("answers a retransmitted PCI with the same initial PAR instead of a new session", async () => {
    const link = new PanaLink();
    const from = { address: "203.0.113.5", port: 1234 };
    await link.injectToPaa(pci(), from);
    await link.injectToPaa(pci(), from);
    expect(link.paa.stats).toMatchObject({ started: 1, duplicates: 1 });
    expect(hex(link.fromPaa[0]!.bytes)).toBe(hex(link.fromPaa[1]!.bytes));
  });

  it("refuses new sessions when the table is full", async () => {
    const link = await established(new PanaLink({ paa: { maxSessions: 1 } }));
    await link.injectToPaa(pci(), { address: "203.0.113.5", port: 1 });
    expect(link.paa.stats.dropped.capacity).toBe(1);
    expect(link.paa.stats.sessions).toBe(1);
  });

  it("drops a PCI when the EAP backend cannot create an authenticator", async () => {
    const link = new PanaLink({
      factory: new FakeEapAuthenticatorFactory({ createError: "AAA down" }),
    });
    await link.injectToPaa(pci());
    expect(link.paaEventsOf("drop")).toEqual([
      expect.objectContaining({
        reason: "eap-error",
        detail: "Cannot create an EAP authenticator: AAA down",
      }),
    ]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0 });
  });
});

describe("PANA pre-authentication flag and negotiation (RFC 5873, RFC 5191 section 4.1)", () => {
  it("drops an initial PAN whose E flag differs from the session's, then completes", async () => {
    const link = new PanaLink();
    link.pacFilter = (b, i) => {
      if (i !== 1) return "deliver";
      const out = b.slice();
      out[4]! &= ~0x02; // clear E
      return out;
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.paa.stats.dropped["preauth-flag"]).toBe(1);
    await link.runFor(2_000);
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
  });

  it("lets a pre-authentication-only PAA drop a PCI without the E flag", async () => {
    const link = new PanaLink({ paa: { acceptPlain: false } });
    await link.injectToPaa(pci(false));
    expect(link.paa.stats.dropped["preauth-flag"]).toBe(1);
    expect(link.paa.stats.started).toBe(0);
  });

  it("fails with protocol when the PAA answers a pre-authentication PCI without the E flag", async () => {
    const link = new PanaLink();
    link.paaFilter = (b, i) => {
      if (i !== 0) return "deliver";
      const out = b.slice();
      out[4]! &= ~0x02;
      return out;
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pacEventsOf("failed")).toEqual([
      expect.objectContaining({
        code: "protocol",
        reason: expect.stringContaining("does not support pre-authentication"),
      }),
    ]);
    expect(link.timers.has("pac/pci")).toBe(false);
  });

  it("fails with protocol when the PAA offers no algorithm the PaC implements", async () => {
    const link = new PanaLink();
    link.paaFilter = (b, i) => {
      if (i !== 0) return "deliver";
      const m = decodePana(b);
      const avps: PanaAvp[] = m.avps.map((a) => a.kind === "prfAlgorithm" ? { ...a, value: 2 } : a);
      return encodePana({ ...m, avps });
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pacEventsOf("failed")[0]).toMatchObject({ code: "protocol" });
    expect(link.pac.stats.dropped.algorithm).toBe(1);
  });

  it("fails the session when the PaC chooses an algorithm not offered", async () => {
    const link = new PanaLink();
    link.pacFilter = (b, i) => {
      if (i !== 1) return "deliver";
      const m = decodePana(b);
      const avps: PanaAvp[] = m.avps.map((a) =>
        a.kind === "integrityAlgorithm" ? { ...a, value: 7 } : a
      );
      return encodePana({ ...m, avps });
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.paa.stats.dropped.algorithm).toBe(1);
    expect(link.paaEventsOf("failed")[0]).toMatchObject({ code: "protocol" });
    expect(link.paa.stats.sessions).toBe(0);
  });

  it("drops answers from another transport address during the authentication phase", async () => {
    const link = new PanaLink();
    link.pacFilter = (_b, i) => i === 1 ? "drop" : "deliver";
    await link.pacDo(link.pac.start());
    await link.settle();
    await link.injectToPaa(link.fromPac[1]!, { address: "203.0.113.7", port: 50000 });
    expect(link.paa.stats.dropped["wrong-source"]).toBe(1);
    expect(link.paa.session(link.pac.sessionId!)?.state).toBe("wait-initial-pan");
  });

  it("refuses a PaC-initiated PAR and a PAN without the Nonce answering the PAA's", async () => {
    const link = new PanaLink();
    link.pacFilter = (b, i) => {
      if (i !== 2) return "deliver";
      const m = decodePana(b);
      return encodePana({ ...m, avps: m.avps.filter((a) => a.kind !== "nonce") });
    };
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.paaEventsOf("drop")[0]).toMatchObject({
      reason: "unexpected-message",
      detail: expect.stringContaining("without a Nonce AVP"),
    });
    const sid = link.pac.sessionId!;
    const par = encodePana({
      flags: panaFlags({ request: true, preauth: true }),
      type: PanaMessageType.Auth,
      sessionId: sid,
      seq: 1,
      avps: [{ kind: "eapPayload", value: new Uint8Array([2, 1, 0, 5, 1]) }],
    });
    await link.injectToPaa(par);
    expect(link.paa.stats.dropped.unsupported).toBe(1);
    // The genuine PAN (answered again from the PaC's cache) still completes the exchange.
    await link.runFor(2_000);
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
    expect(findAvp(decodePana(link.fromPac.at(-1)!), "auth")).toBeDefined();
  });
});
