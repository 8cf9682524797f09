import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type Socket } from "node:dgram";
import { PanaPac, type PanaPacAdapterOptions } from "../../../adapters/pana/pac.ts";
import { PanaPaa, type PanaPaaServerOptions } from "../../../adapters/pana/paa.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { createEapPskServerFactory } from "../../../lib/eap/eap_psk_server.ts";
import { keyFingerprint } from "../../../lib/keys/key_fingerprint.ts";
import type { PanaAuthorizedSa } from "../../../lib/pana/paa.ts";
import { type CtnInfo, PortError } from "../../../lib/ports.ts";
import { FakeEapAuthenticatorFactory, FakeEapPeer } from "../../fakes/fake_eap.ts";

const LOOPBACK = "127.0.0.1";
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function ctnAt(port: number, network = "ctn-b"): CtnInfo {
  const aa = { address: LOOPBACK, port };
  return { network, aa, ca: aa, ar: aa, poas: [] };
}

async function startPaa(
  options: Partial<PanaPaaServerOptions> = {},
): Promise<{ paa: PanaPaa; authorized: PanaAuthorizedSa[] }> {
  const authorized: PanaAuthorizedSa[] = [];
  const paa = await PanaPaa.listen({
    ctn: "ctn-b",
    host: LOOPBACK,
    port: 0,
    eap: new FakeEapAuthenticatorFactory({ users: { "mn@fake": "secret", "mn2@fake": "s2" } }),
    onAuthorized: (sa) => {
      authorized.push(sa);
    },
    ...options,
  });
  closers.push(() => paa.close());
  return { paa, authorized };
}

function newPac(options: Partial<PanaPacAdapterOptions> = {}): PanaPac {
  const pac = new PanaPac({
    identity: "mn@fake",
    eap: () => new FakeEapPeer(),
    bind: LOOPBACK,
    ...options,
  });
  closers.push(() => pac.close());
  return pac;
}

/** A UDP socket that receives and never answers: an AA that is down or filtered. */
async function blackHole(): Promise<number> {
  const socket: Socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, () => resolve()));
  socket.on("message", () => {});
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

async function until(condition: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<PortError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PortError) return error;
    throw error;
  }
  throw new Error("Expected a rejection");
}

describe("PANA over UDP on loopback (RFC 5191, RFC 5873; RFC 6252 section 6.3 step 1)", () => {
  it("pre-authenticates an MN: both ends hold the same MN-CA and MN-AR keys", async () => {
    const { paa, authorized } = await startPaa();
    const pac = newPac();
    const sa = await pac.preAuthenticate(ctnAt(paa.address.port));
    await until(() => authorized.length === 1);
    const aa = authorized[0]!;

    expect(sa.sessionId).toBe(aa.sessionId);
    expect(sa.ctn).toBe("ctn-b");
    expect(sa.mnId).toBe("mn@fake");
    expect(sa.preauth).toBe(true);
    expect(sa.keyIds.msk).toBe(aa.keyId);
    expect(sa.fingerprints.mnCa).toBe(await keyFingerprint(aa.keys.mnCa));
    expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(aa.keys.mnAr));
    expect(sa.fingerprints.mnCa).not.toBe(sa.fingerprints.mnAr);
    expect(aa.mnAddress).toBe(LOOPBACK);
    expect(aa.identity).toBe("mn@fake");
    expect(sa.lifetimeMs).toBe(3_600_000);
    expect(sa.expiresAt - sa.establishedAt).toBe(sa.lifetimeMs);
    expect(Math.abs(sa.establishedAt - Date.now())).toBeLessThan(5_000);

    // The keys are WebCrypto keys that cannot be exported.
    expect(sa.keys.mnCa.algorithm.name).toBe("HMAC");
    expect(sa.keys.mnAr.algorithm.name).toBe("HKDF");
    expect(sa.keys.mnCa.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("raw", sa.keys.mnAr)).rejects.toThrow();
    expect(JSON.stringify(sa)).not.toContain(aa.keys.mnCa.join(","));

    // Phase timings add up and are short on loopback.
    const t = sa.timings;
    expect(t.total).toBeCloseTo(t.pciToPar + t.eap + t.completion, 6);
    expect(t.total).toBeGreaterThan(0);
    expect(t.total).toBeLessThan(1_000);

    expect(paa.stats).toMatchObject({ authorized: 1, sessions: 1, halfOpen: 0, received: 4 });
    expect(pac.sessions).toEqual([sa.sessionId]);
  });

  it("serves many MNs at once", async () => {
    // All the MNs share 127.0.0.1 here: lift the per-address half-open cap.
    const { paa, authorized } = await startPaa({ maxHalfOpenPerSource: 64 });
    const pac = newPac();
    const sas = await Promise.all(
      Array.from({ length: 25 }, () => pac.preAuthenticate(ctnAt(paa.address.port))),
    );
    await until(() => authorized.length === 25);
    expect(new Set(sas.map((s) => s.sessionId)).size).toBe(25);
    const byId = new Map(authorized.map((a) => [a.sessionId, a]));
    for (const sa of sas) {
      expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(byId.get(sa.sessionId)!.keys.mnAr));
    }
    expect(paa.stats.sessions).toBe(25);
    expect(paa.stats.retransmissions).toBe(0);
    expect(Math.max(...sas.map((s) => s.timings.total))).toBeLessThan(900);
  });

  it("rejects with PortError rejected on an EAP failure, and the AA holds no SA", async () => {
    const { paa, authorized } = await startPaa();
    const pac = newPac({ eap: () => new FakeEapPeer({ secret: "wrong" }) });
    const error = await rejection(pac.preAuthenticate(ctnAt(paa.address.port)));
    expect([error.port, error.code]).toEqual(["PreAuthenticator", "rejected"]);
    expect(error.message).toContain(`127.0.0.1:${paa.address.port}`);
    await until(() => paa.stats.rejected === 1);
    expect(authorized).toHaveLength(0);
    expect(paa.stats.sessions).toBe(0);
  });

  it("rejects with PortError timeout, within the configured bound, when the AA never answers", async () => {
    const port = await blackHole();
    const pac = newPac({ authTimeoutMs: 300, pciRetransmission: { irt: 50 } });
    const started = performance.now();
    const error = await rejection(pac.preAuthenticate(ctnAt(port)));
    const elapsed = performance.now() - started;
    expect(error.code).toBe("timeout");
    expect(error.message).toMatch(
      /^No answer from the PAA to \d+ PCIs in \d+ ms: AA 127\.0\.0\.1:/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    expect(pac.stats.failed.timeout).toBe(1);
  });

  it("honours an AbortSignal, before and during the call", async () => {
    const port = await blackHole();
    const pac = newPac();
    const controller = new AbortController();
    const started = performance.now();
    const pending = pac.preAuthenticate(ctnAt(port), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("planner dropped the phase")), 30);
    const error = await rejection(pending);
    expect(error.code).toBe("aborted");
    expect(performance.now() - started).toBeLessThan(1_000);
    const already = await rejection(
      pac.preAuthenticate(ctnAt(port), { signal: AbortSignal.abort() }),
    );
    expect(already.code).toBe("aborted");
  });

  it("reports a bad AA address as protocol and an unbindable local address as unreachable", async () => {
    const pac = newPac();
    const bad = { ...ctnAt(716), aa: { address: "aa.example" } };
    expect((await rejection(pac.preAuthenticate(bad))).code).toBe("protocol");
    const unbindable = newPac({ bind: "192.0.2.1" }); // TEST-NET-1, not ours
    expect((await rejection(unbindable.preAuthenticate(ctnAt(716)))).code).toBe("unreachable");
  });

  it("re-authorizes with the existing key from a new address after a move (RFC 6252 section C.2)", async () => {
    const reauthorized: { sessionId: number; mnAddress: string; moved: boolean }[] = [];
    const { paa } = await startPaa({ onReauthorized: (e) => void reauthorized.push(e) });
    const pac = newPac();
    const sa = await pac.preAuthenticate(ctnAt(paa.address.port));
    const same = await pac.reauthorize(sa.sessionId);
    expect(same.rttMs).toBeGreaterThanOrEqual(0);
    await pac.reauthorize(sa.sessionId, { bind: "127.0.0.2" });
    await until(() => reauthorized.length === 2);
    expect(reauthorized.map((e) => [e.mnAddress, e.moved])).toEqual([
      [LOOPBACK, false],
      ["127.0.0.2", true],
    ]);
    expect(paa.session(sa.sessionId)?.peer.address).toBe("127.0.0.2");
    expect(paa.stats.reauthorized).toBe(2);
    const missing = await rejection(pac.reauthorize(12345));
    expect(missing.code).toBe("not-found");
  });

  it("terminates a session: PTR/PTA, both ends forget it", async () => {
    const ends: { sessionId: number; cause: string }[] = [];
    const { paa } = await startPaa({ onSessionEnd: (e) => void ends.push(e) });
    const pac = newPac();
    const sa = await pac.preAuthenticate(ctnAt(paa.address.port));
    await pac.terminate(sa.sessionId);
    await until(() => ends.length === 1);
    expect(ends).toEqual([{ sessionId: sa.sessionId, cause: "logout" }]);
    expect(pac.sessions).toEqual([]);
    expect(paa.stats.sessions).toBe(0);
  });

  it("counts and drops garbage, unknown sessions and floods without creating sessions", async () => {
    const { paa } = await startPaa({ maxHalfOpenPerSource: 2 });
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, () => resolve()));
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    const send = (bytes: Uint8Array) =>
      new Promise<void>((resolve) =>
        socket.send(bytes, paa.address.port, LOOPBACK, () => resolve())
      );
    await send(new Uint8Array([1, 2, 3]));
    await send(new Uint8Array(9_000));
    // A PNR for session 0x01020304, which does not exist.
    await send(new Uint8Array([0, 0, 0, 16, 0x88, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 9]));
    const pci = new Uint8Array([0, 0, 0, 16, 0x02, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    await until(() => paa.stats.received === 3);
    // Retransmitted PCIs from one port are one session; other ports are capped per address.
    const others = await Promise.all([0, 1, 2].map(async () => {
      const s = createSocket("udp4");
      await new Promise<void>((resolve) => s.bind(0, LOOPBACK, () => resolve()));
      closers.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
      return s;
    }));
    for (const s of others) {
      await new Promise<void>((resolve) =>
        s.send(pci, paa.address.port, LOOPBACK, () => resolve())
      );
    }
    await until(() => paa.stats.received === 6);
    expect(paa.stats.dropped).toMatchObject({
      malformed: 1,
      oversized: 1,
      "unknown-session": 1,
      "flood-source": 1,
    });
    expect(paa.stats).toMatchObject({ started: 2, halfOpen: 2, authorized: 0 });
  });

  it("runs EAP-PSK end to end: the same MSK and MPA keys on both sides", async () => {
    const psk = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const { paa, authorized } = await startPaa({
      eap: createEapPskServerFactory({
        serverId: "aa.ctn-b",
        lookup: (id) => id === "mn@psk" ? psk : undefined,
        random,
      }),
    });
    const pac = newPac({
      identity: "mn@psk",
      eap: () => createEapPskPeer({ identity: "mn@psk", psk, random, serverId: "aa.ctn-b" }),
    });
    const sa = await pac.preAuthenticate(ctnAt(paa.address.port));
    await until(() => authorized.length === 1);
    expect(authorized[0]!.identity).toBe("mn@psk");
    expect(sa.fingerprints.mnCa).toBe(await keyFingerprint(authorized[0]!.keys.mnCa));
    expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(authorized[0]!.keys.mnAr));

    const wrong = newPac({
      identity: "mn@psk",
      eap: () =>
        createEapPskPeer({
          identity: "mn@psk",
          psk: new Uint8Array(16),
          random,
          serverId: "aa.ctn-b",
        }),
      authTimeoutMs: 3_000,
    });
    const error = await rejection(wrong.preAuthenticate(ctnAt(paa.address.port)));
    expect(error.code).toBe("rejected");
    expect(authorized).toHaveLength(1);
  });
});

/** A promise with its resolver outside, to hold a hook until the test lets it go. */
function gate(): { readonly promise: Promise<void>; readonly open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

describe("PAA key delivery before the final PAR (RFC 6252 section 6.3 step 1)", () => {
  it("waits for onKeysReady before the final PAR: the MN finishes only after the delivery", async () => {
    const order: string[] = [];
    const held = gate();
    const ready: PanaAuthorizedSa[] = [];
    const { paa, authorized } = await startPaa({
      onKeysReady: async (sa) => {
        ready.push({ ...sa, keys: { mnCa: sa.keys.mnCa.slice(), mnAr: sa.keys.mnAr.slice() } });
        order.push("keys-ready");
        await held.promise;
        order.push("delivered");
      },
      onAuthorized: (sa) => {
        authorized.push(sa);
        order.push("authorized");
      },
    });
    const pending = newPac().preAuthenticate(ctnAt(paa.address.port)).then((sa) => {
      order.push("mn-done");
      return sa;
    });
    await until(() => ready.length === 1);
    // Give a final PAR sent too early every chance to arrive: the MN must still wait.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(order).toEqual(["keys-ready"]);
    expect(paa.session(ready[0]!.sessionId)?.state).toBe("wait-final-pan");

    held.open();
    const sa = await pending;
    await until(() => authorized.length === 1);
    expect(order).toEqual(["keys-ready", "delivered", "mn-done", "authorized"]);
    expect(sa.sessionId).toBe(ready[0]!.sessionId);
    expect(sa.fingerprints.mnCa).toBe(await keyFingerprint(ready[0]!.keys.mnCa));
    expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(ready[0]!.keys.mnAr));
    expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(authorized[0]!.keys.mnAr));
    expect(paa.stats).toMatchObject({
      keysReady: 1,
      authorized: 1,
      hookErrors: 0,
      hookTimeouts: 0,
    });
  });

  it("sends the final PAR anyway when onKeysReady throws, and counts the error", async () => {
    const { paa, authorized } = await startPaa({
      onKeysReady: () => {
        throw new Error("CA unreachable");
      },
    });
    const sa = await newPac().preAuthenticate(ctnAt(paa.address.port));
    await until(() => authorized.length === 1);
    expect(authorized[0]!.sessionId).toBe(sa.sessionId);
    expect(paa.stats).toMatchObject({ keysReady: 1, authorized: 1, hookErrors: 1 });
  });

  it("sends the final PAR after keysReadyTimeoutMs when onKeysReady hangs, and counts it", async () => {
    const held = gate();
    const { paa, authorized } = await startPaa({
      keysReadyTimeoutMs: 100,
      onKeysReady: () => held.promise,
    });
    try {
      const sa = await newPac().preAuthenticate(ctnAt(paa.address.port));
      await until(() => authorized.length === 1);
      expect(authorized[0]!.sessionId).toBe(sa.sessionId);
      expect(paa.stats).toMatchObject({ hookTimeouts: 1, hookErrors: 0, authorized: 1 });
    } finally {
      held.open(); // close() waits for running hooks
    }
  });

  it("does not send the final PAR of a session that ended while its keys were delivered", async () => {
    const held = gate();
    const ends: { sessionId: number; cause: string }[] = [];
    let ready = 0;
    const { paa, authorized } = await startPaa({
      authTimeoutMs: 300,
      keysReadyTimeoutMs: 10_000,
      onKeysReady: () => {
        ready++;
        return held.promise;
      },
      onSessionEnd: (e) => {
        ends.push(e);
        held.open(); // the delivery ends after the session did
      },
    });
    const error = await rejection(
      newPac({ authTimeoutMs: 1_500 }).preAuthenticate(ctnAt(paa.address.port)),
    );
    expect(error.code).toBe("timeout");
    expect(ready).toBe(1);
    expect(ends).toEqual([{ sessionId: expect.any(Number), cause: "timeout" }]);
    expect(authorized).toHaveLength(0);
    expect(paa.stats).toMatchObject({ keysReady: 1, authorized: 0, failed: 1, sessions: 0 });
  });

  it("refuses a keysReadyTimeoutMs that is not a positive number", async () => {
    for (const keysReadyTimeoutMs of [0, -1, Number.NaN]) {
      await expect(startPaa({ keysReadyTimeoutMs })).rejects.toThrow("Invalid keys-ready timeout");
    }
  });
});
