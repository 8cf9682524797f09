import { describe, expect, it } from "npm:vitest@4.1.12";
import { mnArKey, mnCaKey } from "../../../lib/keys/mpa_keys.ts";
import { panaAuthKey, verifyPanaAuth } from "../../../lib/keys/pana_keys.ts";
import { hex as toHex } from "../../../lib/wire/_bytes.ts";
import {
  decodePana,
  findAvp,
  findAvps,
  type PanaMessage,
  panaMessageName,
  zeroAuthAvp,
} from "../../../lib/wire/pana.ts";
import { PanaResultCode } from "../../../lib/wire/pana_constants.ts";
import { FAKE_EAP_MSK, FakeEapPeer } from "../../fakes/fake_eap.ts";
import { PAC_ADDRESS, PanaLink } from "./_pana_link.ts";

const CTN = "ctn-b";

function names(messages: readonly Uint8Array[]): string[] {
  return messages.map((b) => {
    const m = decodePana(b);
    const f = m.flags;
    return panaMessageName(m) + (f.start ? "-S" : "") + (f.complete ? "-C" : "") +
      (f.ping ? "-P" : "");
  });
}

/** The wire in order: PaC and PAA datagrams interleaved as exchanged (lock-step). */
function wire(link: PanaLink): PanaMessage[] {
  const out: PanaMessage[] = [];
  const n = Math.max(link.fromPac.length, link.fromPaa.length);
  for (let i = 0; i < n; i++) {
    if (link.fromPac[i]) out.push(decodePana(link.fromPac[i]!));
    if (link.fromPaa[i]) out.push(decodePana(link.fromPaa[i]!.bytes));
  }
  return out;
}

async function authenticate(link: PanaLink): Promise<void> {
  await link.pacDo(link.pac.start());
  await link.settle();
}

describe("PANA authentication phase (RFC 5191 section 4.1, RFC 5873)", () => {
  it("runs PCI, initial PAR/PAN, EAP with nonces, final PAR/PAN; both sides derive the same keys", async () => {
    const link = new PanaLink();
    await authenticate(link);

    expect(link.pac.state).toBe("open");
    expect(names(link.fromPac)).toEqual(["PCI", "PAN-S", "PAN", "PAN-C"]);
    expect(names(link.fromPaa.map((m) => m.bytes))).toEqual(["PAR-S", "PAR", "PAR-C"]);
    expect(link.fromPaa.every((m) => m.to.address === PAC_ADDRESS.address)).toBe(true);

    const [done] = link.pacEventsOf("done");
    const [authorized] = link.paaEventsOf("authorized");
    expect(done).toBeDefined();
    expect(authorized).toBeDefined();
    const session = done!.session;
    const sa = authorized!.sa;
    expect(session.sessionId).toBe(sa.sessionId);
    expect(session.sessionId).not.toBe(0);
    expect(session.keyId).toBe(sa.keyId);
    expect(session.lifetimeMs).toBe(sa.lifetimeMs);
    expect(session.lifetimeMs).toBe(3_600_000);
    expect(sa.identity).toBe("mn@fake");
    expect([sa.mnAddress, sa.mnPort]).toEqual([PAC_ADDRESS.address, PAC_ADDRESS.port]);
    expect(sa.preauth).toBe(true);
    expect(sa.ctn).toBe(CTN);

    // Same MN-CA and MN-AR keys, and they are the documented derivation from the MSK.
    expect(toHex(session.keys.mnCa)).toBe(toHex(sa.keys.mnCa));
    expect(toHex(session.keys.mnAr)).toBe(toHex(sa.keys.mnAr));
    expect(session.keys.mnCa).toEqual(await mnCaKey(FAKE_EAP_MSK, session.sessionId, CTN));
    expect(session.keys.mnAr).toEqual(await mnArKey(FAKE_EAP_MSK, session.sessionId, CTN));
    expect(session.msk).toEqual(FAKE_EAP_MSK);

    // PANA_AUTH_KEY from the wire: I_PAR, I_PAN, the two Nonce AVPs and the Key-Id.
    const [pci, parS, panS, par, pan, parC, panC] = wire(link);
    expect(pci!.flags.preauth).toBe(true);
    const pacNonce = findAvp(pan!, "nonce")!.value;
    const paaNonce = findAvp(par!, "nonce")!.value;
    const authKey = await panaAuthKey(
      FAKE_EAP_MSK,
      link.fromPaa[0]!.bytes,
      link.fromPac[1]!,
      pacNonce,
      paaNonce,
      session.keyId,
    );
    expect(toHex(session.authKey)).toBe(toHex(authKey));
    for (const bytes of [link.fromPaa[2]!.bytes, link.fromPac[3]!]) {
      const auth = findAvp(decodePana(bytes), "auth")!.value;
      expect(await verifyPanaAuth(authKey, zeroAuthAvp(bytes), auth)).toBe(true);
    }

    // The AVPs each message must carry.
    expect(findAvps(parS!, "prfAlgorithm").map((a) => a.value)).toEqual([5]);
    expect(findAvps(parS!, "integrityAlgorithm").map((a) => a.value)).toEqual([12]);
    expect(findAvp(parS!, "eapPayload")).toBeDefined(); // optimized initiation
    expect(findAvps(panS!, "prfAlgorithm").map((a) => a.value)).toEqual([5]);
    expect(findAvp(panS!, "eapPayload")).toBeDefined(); // piggybacked response
    expect(findAvp(parS!, "nonce")).toBeUndefined();
    expect(paaNonce.length).toBe(32);
    expect(pacNonce.length).toBe(32);
    expect(findAvp(parC!, "resultCode")!.value).toBe(PanaResultCode.Success);
    expect(findAvp(parC!, "keyId")!.value).toBe(session.keyId);
    expect(findAvp(parC!, "sessionLifetime")!.value).toBe(3600);
    expect(findAvp(panC!, "keyId")!.value).toBe(session.keyId);

    // E flag on every message of the phase; sequence numbers: the PAA's count up, PANs echo.
    for (const m of [pci, parS, panS, par, pan, parC, panC]) expect(m!.flags.preauth).toBe(true);
    expect(par!.seq).toBe((parS!.seq + 1) >>> 0);
    expect(parC!.seq).toBe((parS!.seq + 2) >>> 0);
    expect([panS!.seq, pan!.seq, panC!.seq]).toEqual([parS!.seq, par!.seq, parC!.seq]);
    expect(new Set([pci, parS, panS, par, pan, parC, panC].slice(1).map((m) => m!.sessionId)))
      .toEqual(new Set([session.sessionId]));

    expect(link.paa.stats).toMatchObject({ authorized: 1, sessions: 1, halfOpen: 0 });
    expect(link.paa.session(session.sessionId)?.state).toBe("open");
    // Only the lifetime timers remain.
    expect([...link.timers.keys()].sort()).toEqual([
      "paa/life:" + session.sessionId,
      "pac/lifetime",
    ]);
  });

  it("reports phase timings in the scheduler's time", async () => {
    const link = new PanaLink();
    link.paaFilter = (_b, i) => i === 0 ? "drop" : "deliver"; // lose the first initial PAR
    await authenticate(link);
    await link.runFor(5_000);
    const timings = link.pacEventsOf("done")[0]!.session.timings;
    expect(timings.pciToPar).toBeGreaterThanOrEqual(900);
    expect(timings.pciToPar).toBeLessThanOrEqual(1100);
    expect(timings.total).toBe(timings.pciToPar + timings.eap + timings.completion);
  });

  it("works without the optimized initiation: EAP starts in the first PAR after the initial one", async () => {
    const link = new PanaLink({ paa: { optimizedInit: false } });
    await authenticate(link);
    expect(names(link.fromPaa.map((m) => m.bytes))).toEqual(["PAR-S", "PAR", "PAR", "PAR-C"]);
    const [, parS, panS, par] = wire(link);
    expect(findAvp(parS!, "eapPayload")).toBeUndefined();
    expect(findAvp(panS!, "eapPayload")).toBeUndefined();
    expect(findAvp(par!, "nonce")).toBeDefined();
    expect(findAvp(par!, "eapPayload")).toBeDefined();
    expect(link.pacEventsOf("done")).toHaveLength(1);
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
  });

  it("sends a Nonce-only PAR when EAP succeeds within the initial exchange", async () => {
    // A one-round-trip method: Identity, then Success.
    const success = new Uint8Array([3, 1, 0, 4]);
    const link = new PanaLink({
      factory: {
        create: () => ({
          start: () => Promise.resolve({ kind: "request", eap: new Uint8Array([1, 1, 0, 5, 1]) }),
          handle: () =>
            Promise.resolve({ kind: "success", eap: success, msk: FAKE_EAP_MSK, identity: "one" }),
        }),
      },
      peer: {
        handle: (eap) =>
          Promise.resolve(
            eap[0] === 3
              ? { kind: "success", msk: FAKE_EAP_MSK }
              : { kind: "response", eap: new Uint8Array([2, 1, 0, 5, 1]) },
          ),
      },
    });
    await authenticate(link);
    expect(names(link.fromPaa.map((m) => m.bytes))).toEqual(["PAR-S", "PAR", "PAR-C"]);
    const [, , , par, pan] = wire(link);
    expect(par!.avps.map((a) => a.kind)).toEqual(["nonce"]);
    expect(pan!.avps.map((a) => a.kind)).toEqual(["nonce"]);
    expect(link.pacEventsOf("done")).toHaveLength(1);
    expect(link.paaEventsOf("authorized")[0]!.sa.identity).toBe("one");
    // EAP succeeded before the nonces: the keys are ready with the final PAR, not earlier.
    expect(link.paaEventsOf("keys-ready").map((c) => c.sa.identity)).toEqual(["one"]);
  });

  it("runs without the E flag when the PaC does not ask for pre-authentication", async () => {
    const link = new PanaLink({ pac: { preauth: false } });
    await authenticate(link);
    expect(wire(link).every((m) => !m.flags.preauth)).toBe(true);
    expect(link.paaEventsOf("authorized")[0]!.sa.preauth).toBe(false);
  });

  it("refuses an EAP failure: PANA_AUTHENTICATION_REJECTED, no SA on either side", async () => {
    const link = new PanaLink({ peer: new FakeEapPeer({ secret: "wrong" }) });
    await authenticate(link);
    expect(names(link.fromPaa.map((m) => m.bytes)).at(-1)).toBe("PAR-C");
    const parC = decodePana(link.fromPaa.at(-1)!.bytes);
    expect(findAvp(parC, "resultCode")!.value).toBe(PanaResultCode.AuthenticationRejected);
    expect(findAvp(parC, "auth")).toBeUndefined();
    expect(link.pacEventsOf("failed")).toEqual([
      expect.objectContaining({ kind: "failed", code: "rejected" }),
    ]);
    expect(link.paaEventsOf("failed")).toEqual([
      expect.objectContaining({
        kind: "failed",
        code: "rejected",
        reason: expect.stringContaining("Wrong secret"),
      }),
    ]);
    expect(link.pacEventsOf("done")).toHaveLength(0);
    expect(link.paaEventsOf("authorized")).toHaveLength(0);
    expect(link.paaEventsOf("keys-ready")).toHaveLength(0); // no MSK, no keys
    expect(link.paa.stats).toMatchObject({
      rejected: 1,
      keysReady: 0,
      authorized: 0,
      sessions: 0,
      halfOpen: 0,
    });
    expect(link.timers.size).toBe(0);
  });
});

describe("MPA-SA keys before the final PAR (RFC 6252 section 6.3 step 1)", () => {
  it("emits keys-ready before the final PAR's send, with the keys authorized carries later", async () => {
    const link = new PanaLink();
    const atFinalPar: { keysReady: number; authorized: number }[] = [];
    link.paaFilter = (bytes) => {
      if (decodePana(bytes).flags.complete) {
        atFinalPar.push({
          keysReady: link.paaEventsOf("keys-ready").length,
          authorized: link.paaEventsOf("authorized").length,
        });
      }
      return "deliver";
    };
    await authenticate(link);

    // The keys were out when the final PAR left; the session opened on the final PAN.
    expect(atFinalPar).toEqual([{ keysReady: 1, authorized: 0 }]);
    const [ready] = link.paaEventsOf("keys-ready");
    const [authorized] = link.paaEventsOf("authorized");
    const session = link.pacEventsOf("done")[0]!.session;
    expect(ready!.sa).toMatchObject({
      sessionId: session.sessionId,
      keyId: session.keyId,
      identity: "mn@fake",
      ctn: CTN,
      mnAddress: PAC_ADDRESS.address,
      mnPort: PAC_ADDRESS.port,
      preauth: true,
      lifetimeMs: session.lifetimeMs,
    });
    expect(ready!.sa.expiresAt).toBe(ready!.sa.establishedAt + ready!.sa.lifetimeMs);
    expect(ready!.sa.expiresAt).toBeLessThanOrEqual(authorized!.sa.expiresAt);
    expect(toHex(ready!.sa.keys.mnCa)).toBe(toHex(session.keys.mnCa));
    expect(toHex(ready!.sa.keys.mnAr)).toBe(toHex(session.keys.mnAr));
    expect(toHex(authorized!.sa.keys.mnCa)).toBe(toHex(session.keys.mnCa));
    expect(toHex(authorized!.sa.keys.mnAr)).toBe(toHex(session.keys.mnAr));

    // Each command carries its own copy: wiping one (as a shell does) spares the other.
    ready!.sa.keys.mnCa.fill(0);
    ready!.sa.keys.mnAr.fill(0);
    expect(toHex(authorized!.sa.keys.mnCa)).toBe(toHex(session.keys.mnCa));
    expect(toHex(authorized!.sa.keys.mnAr)).toBe(toHex(session.keys.mnAr));
    expect(link.paa.stats).toMatchObject({ keysReady: 1, authorized: 1 });
  });

  it("emits keys-ready once when the final PAR is retransmitted; authorized keeps its time", async () => {
    const link = new PanaLink();
    link.pacFilter = (_b, i) => i === 3 ? "drop" : "deliver"; // lose the first final PAN
    await authenticate(link);
    expect(link.paaEventsOf("keys-ready")).toHaveLength(1);
    expect(link.paaEventsOf("authorized")).toHaveLength(0);
    await link.runFor(2_000);
    const [ready] = link.paaEventsOf("keys-ready");
    const [authorized] = link.paaEventsOf("authorized");
    expect(link.paaEventsOf("keys-ready")).toHaveLength(1);
    expect(authorized!.sa.establishedAt).toBeGreaterThan(ready!.sa.establishedAt);
    expect(ready!.sa.expiresAt).toBeLessThan(authorized!.sa.expiresAt);
    expect(toHex(ready!.sa.keys.mnAr)).toBe(toHex(authorized!.sa.keys.mnAr));
  });

  it("ends with failed, never authorized, when no valid final PAN follows keys-ready", async () => {
    const link = new PanaLink({ paa: { requestRetransmission: { mrc: 2 } } });
    // Every final PAN (the first and the PaC's cached answers to retransmissions) is
    // corrupted: its AUTH never verifies.
    link.pacFilter = (bytes) => {
      if (!decodePana(bytes).flags.complete) return "deliver";
      const out = bytes.slice();
      out[out.length - 1]! ^= 0x01;
      return out;
    };
    await authenticate(link);
    expect(link.pac.state).toBe("open"); // the MN thinks it is done, and uses the keys
    await link.runFor(60_000);

    const kinds = link.paaEvents.filter((c) => c.kind !== "drop").map((c) => c.kind);
    expect(kinds).toEqual(["keys-ready", "failed"]);
    const [ready] = link.paaEventsOf("keys-ready");
    expect(link.paaEventsOf("failed")).toEqual([
      expect.objectContaining({
        sessionId: ready!.sa.sessionId,
        code: "timeout",
        reason: "No answer to the final PAR after 3 transmissions",
      }),
    ]);
    expect(link.paa.stats).toMatchObject({
      keysReady: 1,
      authorized: 0,
      failed: 1,
      sessions: 0,
      halfOpen: 0,
    });
    expect(link.paa.stats.dropped["bad-auth"]).toBe(3);
    expect(link.paa.session(ready!.sa.sessionId)).toBeUndefined();
  });

  it("ends with failed when the authentication deadline passes after keys-ready", async () => {
    const link = new PanaLink({ paa: { authTimeoutMs: 1_500 } });
    link.pacFilter = (bytes) => decodePana(bytes).flags.complete ? "drop" : "deliver";
    await authenticate(link);
    await link.runFor(2_000);
    expect(link.paaEvents.filter((c) => c.kind !== "drop").map((c) => c.kind)).toEqual([
      "keys-ready",
      "failed",
    ]);
    expect(link.paaEventsOf("failed")[0]).toMatchObject({
      code: "timeout",
      reason: "Authentication phase not completed in 1500 ms",
    });
  });
});

describe("PANA with a failing EAP method", () => {
  it("fails the PaC with protocol when its EAP peer throws", async () => {
    const link = new PanaLink({
      peer: { handle: () => Promise.reject(new Error("smart card removed")) },
    });
    await authenticate(link);
    expect(link.pacEventsOf("failed")).toEqual([
      { kind: "failed", code: "protocol", reason: "EAP peer error: smart card removed" },
    ]);
    expect(link.pac.state).toBe("failed");
  });

  it("fails the PAA session with protocol when its EAP authenticator throws", async () => {
    const link = new PanaLink({
      factory: {
        create: () => ({
          start: () => Promise.resolve({ kind: "request", eap: new Uint8Array([1, 1, 0, 5, 1]) }),
          handle: () => Promise.reject(new Error("RADIUS server unreachable")),
        }),
      },
    });
    await authenticate(link);
    expect(link.paaEventsOf("drop")[0]).toMatchObject({ reason: "eap-error" });
    expect(link.paaEventsOf("failed")[0]).toMatchObject({
      code: "protocol",
      reason: "RADIUS server unreachable",
    });
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0 });
  });
});

describe("PANA retransmission (RFC 5191 section 9)", () => {
  it("retransmits a lost PAR after about REQ_IRT and completes", async () => {
    const link = new PanaLink();
    link.paaFilter = (_b, i) => i === 1 ? "drop" : "deliver"; // the PAR carrying the Nonce
    await authenticate(link);
    expect(link.pac.state).toBe("authenticating");
    const due = link.timers.get(`paa/rtx:${link.pac.sessionId}`)!;
    expect(due).toBeGreaterThanOrEqual(900);
    expect(due).toBeLessThanOrEqual(1100);
    await link.runUntil(due);
    expect(link.pac.state).toBe("open");
    expect(link.paa.stats.retransmissions).toBe(1);
    expect(toHex(link.fromPaa[1]!.bytes)).toBe(toHex(link.fromPaa[2]!.bytes));
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
  });

  it("answers a retransmitted PAR from its cache when the PAN was lost", async () => {
    const link = new PanaLink();
    link.pacFilter = (_b, i) => i === 2 ? "drop" : "deliver"; // the PAN carrying the Nonce
    await authenticate(link);
    await link.runFor(2_000);
    expect(link.pac.stats.duplicates).toBe(1);
    expect(toHex(link.fromPac[2]!)).toBe(toHex(link.fromPac[3]!));
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
    expect(link.pacEventsOf("done")).toHaveLength(1);
  });

  it("answers the retransmitted final PAR after the PaC finished when the final PAN was lost", async () => {
    const link = new PanaLink();
    link.pacFilter = (_b, i) => i === 3 ? "drop" : "deliver";
    await authenticate(link);
    expect(link.pacEventsOf("done")).toHaveLength(1);
    expect(link.paaEventsOf("authorized")).toHaveLength(0);
    await link.runFor(2_000);
    expect(link.paaEventsOf("authorized")).toHaveLength(1);
    expect(link.pac.stats.duplicates).toBe(1);
    expect(link.pacEventsOf("done")).toHaveLength(1); // not twice
  });

  it("retransmits the PCI when the initial PAR is lost; the PAA resends the same PAR, one session", async () => {
    const link = new PanaLink();
    link.paaFilter = (_b, i) => i === 0 ? "drop" : "deliver";
    await authenticate(link);
    expect(link.pac.state).toBe("initiating");
    await link.runFor(1_100);
    expect(link.pac.state).toBe("open");
    expect(link.pac.stats.retransmissions).toBe(1);
    expect(names(link.fromPac.slice(0, 2))).toEqual(["PCI", "PCI"]);
    expect(toHex(link.fromPaa[0]!.bytes)).toBe(toHex(link.fromPaa[1]!.bytes));
    expect(link.paa.stats).toMatchObject({ started: 1, duplicates: 1, authorized: 1 });
  });

  it("gives up on PCIs at the authentication deadline: failed timeout", async () => {
    const link = new PanaLink({ pac: { authTimeoutMs: 10_000 } });
    link.pacFilter = () => "drop";
    await authenticate(link);
    await link.runFor(20_000);
    // PCI at 0, then about 1 s, 3 s, 7 s (doubling from PCI_IRT), deadline at 10 s.
    expect(link.fromPac).toHaveLength(4);
    expect(link.pacEventsOf("failed")).toEqual([
      expect.objectContaining({ code: "timeout", reason: expect.stringContaining("4 PCIs") }),
    ]);
    expect(link.pac.state).toBe("failed");
    expect(link.timers.size).toBe(0);
  });

  it("lets the PAA give up after REQ_MRC retransmissions and forget the half-open session", async () => {
    const link = new PanaLink({
      paa: { requestRetransmission: { mrc: 2 } },
      pac: { pciRetransmission: { irt: 60_000 } }, // no PCI retransmission in the window
    });
    link.paaFilter = () => "drop";
    await authenticate(link);
    await link.runFor(10_000);
    expect(link.fromPaa).toHaveLength(3);
    expect(link.paaEventsOf("failed")).toEqual([
      expect.objectContaining({
        code: "timeout",
        reason: "No answer to the initial PAR after 3 transmissions",
      }),
    ]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0, failed: 1 });
  });

  it("drops a half-open session at the PAA's authentication deadline", async () => {
    const link = new PanaLink({ paa: { authTimeoutMs: 2_500 } });
    link.paaFilter = () => "drop";
    await authenticate(link);
    await link.runFor(3_000);
    expect(link.paaEventsOf("failed")[0]).toMatchObject({
      code: "timeout",
      reason: "Authentication phase not completed in 2500 ms",
    });
    expect(link.paa.stats.halfOpen).toBe(0);
  });
});

describe("PANA access phase: re-authorization, termination, lifetime (RFC 5191 sections 4.3, 4.4)", () => {
  it("re-authorizes with the existing key: an authenticated ping both sides verify (RFC 6252 section C.2)", async () => {
    const link = new PanaLink();
    await authenticate(link);
    await link.runFor(100);
    await link.pacDo(link.pac.reauthorize());
    await link.settle();
    const pnr = decodePana(link.fromPac.at(-1)!);
    const pna = decodePana(link.fromPaa.at(-1)!.bytes);
    expect(panaMessageName(pnr)).toBe("PNR");
    expect([pnr.flags.ping, pnr.flags.preauth, pna.flags.ping]).toEqual([true, false, true]);
    expect(findAvp(pnr, "auth")).toBeDefined();
    expect(pna.seq).toBe(pnr.seq);
    expect(link.pacEventsOf("reauthorized")).toHaveLength(1);
    expect(link.paaEventsOf("reauthorized")).toEqual([
      expect.objectContaining({ moved: false, mnAddress: PAC_ADDRESS.address }),
    ]);
    // The PaC's requests count up from a random initial sequence number.
    await link.pacDo(link.pac.reauthorize());
    await link.settle();
    expect(decodePana(link.fromPac.at(-1)!).seq).toBe((pnr.seq + 1) >>> 0);
    expect(link.paa.stats.reauthorized).toBe(2);
  });

  it("updates the MN's address from an authenticated ping sent after a move", async () => {
    const link = new PanaLink();
    await authenticate(link);
    const sid = link.pac.sessionId!;
    link.pacAddress = { address: "198.51.100.7", port: 50001 };
    await link.pacDo(link.pac.reauthorize());
    await link.settle();
    expect(link.paaEventsOf("reauthorized")[0]).toMatchObject({
      moved: true,
      mnAddress: "198.51.100.7",
      mnPort: 50001,
    });
    expect(link.fromPaa.at(-1)!.to).toEqual({ address: "198.51.100.7", port: 50001 });
    expect(link.paa.session(sid)?.peer).toEqual({ address: "198.51.100.7", port: 50001 });
  });

  it("closes the session when a ping goes unanswered", async () => {
    const link = new PanaLink({ pac: { requestRetransmission: { mrc: 1 } } });
    await authenticate(link);
    link.pacFilter = () => "drop";
    await link.pacDo(link.pac.reauthorize());
    await link.runFor(10_000);
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "timeout" }]);
    expect(link.pac.state).toBe("closed");
  });

  it("terminates from the PaC: PTR with LOGOUT and AUTH, PTA with AUTH", async () => {
    const link = new PanaLink();
    await authenticate(link);
    const sid = link.pac.sessionId!;
    await link.pacDo(link.pac.terminate());
    await link.settle();
    const ptr = decodePana(link.fromPac.at(-1)!);
    expect(panaMessageName(ptr)).toBe("PTR");
    expect(findAvp(ptr, "terminationCause")!.value).toBe(1);
    expect(findAvp(ptr, "auth")).toBeDefined();
    expect(panaMessageName(decodePana(link.fromPaa.at(-1)!.bytes))).toBe("PTA");
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "logout" }]);
    expect(link.paaEventsOf("closed")).toEqual([{
      kind: "closed",
      sessionId: sid,
      cause: "logout",
    }]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, terminated: 1 });
    expect(link.timers.size).toBe(0);
  });

  it("terminates from the PAA: PTR with ADMINISTRATIVE", async () => {
    const link = new PanaLink();
    await authenticate(link);
    const sid = link.pac.sessionId!;
    await link.paaDo(link.paa.terminate(sid));
    await link.settle();
    const ptr = decodePana(link.fromPaa.at(-1)!.bytes);
    expect(findAvp(ptr, "terminationCause")!.value).toBe(4);
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "administrative" }]);
    expect(link.paaEventsOf("closed")).toEqual([
      { kind: "closed", sessionId: sid, cause: "administrative" },
    ]);
    expect(link.timers.size).toBe(0);
  });

  it("expires both ends when the Session-Lifetime elapses", async () => {
    const link = new PanaLink({ paa: { sessionLifetimeMs: 10_000 } });
    await authenticate(link);
    expect(findAvp(decodePana(link.fromPaa.at(-1)!.bytes), "sessionLifetime")!.value).toBe(10);
    const sid = link.pac.sessionId!;
    await link.runFor(9_999);
    expect(link.pac.state).toBe("open");
    await link.runFor(2);
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "expired" }]);
    expect(link.paaEventsOf("closed")).toEqual([{
      kind: "closed",
      sessionId: sid,
      cause: "expired",
    }]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, expired: 1 });
    // A ping after expiry names an unknown session.
    expect(link.paa.session(sid)).toBeUndefined();
  });
});
