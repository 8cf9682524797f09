import { describe, expect, it } from "npm:vitest@4.1.12";
import { createEapPskPeer, type EapPskPeerOptions } from "../../../lib/eap/eap_psk_peer.ts";
import { createEapPskServer, createEapPskServerFactory } from "../../../lib/eap/eap_psk_server.ts";
import type { EapAuthStep, EapPeerStep } from "../../../lib/eap/eap_method.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { eapPskChannelSeal } from "../../../lib/keys/eap_psk_channel.ts";
import {
  eapPskDeriveKeys,
  eapPskKeySetup,
  eapPskMacS,
  eapPskPrepareKeys,
} from "../../../lib/keys/eap_psk_keys.ts";
import { decodeEap, encodeEap } from "../../../lib/wire/eap.ts";
import { EapPskResult } from "../../../lib/wire/eap_constants.ts";
import {
  decodeEapPsk,
  eapPskHeaderFor,
  type EapPskMessage3,
  encodeEapPsk,
  encodeEapPskChannelPlaintext,
} from "../../../lib/wire/eap_psk.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const PSK = new Uint8Array(16).map((_, i) => 0xa0 + i);
const ID_P = "mn1@mpa";
const ID_S = "aa.ctn-b";
const RAND_S = new Uint8Array(16).fill(0x5a);
const RAND_P = new Uint8Array(16).fill(0xc3);

/** A counting random source returning the same fill each time. */
function fixedRandom(fill: Uint8Array) {
  const calls: number[] = [];
  const random = (n: number) => {
    calls.push(n);
    return n === fill.length ? fill.slice() : new Uint8Array(n).fill(fill[0]!);
  };
  return { random, calls };
}

function peer(options: Partial<EapPskPeerOptions> = {}) {
  const { random, calls } = fixedRandom(RAND_P);
  return {
    peer: createEapPskPeer({ identity: ID_P, psk: PSK, random, ...options }),
    calls,
  };
}

function eapPsk(code: 1 | 2, identifier: number, typeData: Uint8Array): Uint8Array {
  return encodeEap({ code, identifier, type: 47, typeData });
}

const identityRequest = (id: number) => new Uint8Array([1, id, 0, 5, 1]);
const msg1 = (id: number, idS = ID_S, randS = RAND_S) =>
  eapPsk(1, id, encodeEapPsk({ t: 0, randS, idS: utf8(idS) }));
const success = (id: number) => new Uint8Array([3, id, 0, 4]);
const failure = (id: number) => new Uint8Array([4, id, 0, 4]);

/** Message 3 as a server holding PSK would build it, with knobs to break it. */
async function msg3(
  id: number,
  options: {
    readonly result?: EapPskResult;
    readonly nonce?: number;
    readonly psk?: Uint8Array;
    readonly tamper?: (m: EapPskMessage3) => EapPskMessage3;
  } = {},
): Promise<Uint8Array> {
  const { ak, kdk } = await eapPskKeySetup(options.psk ?? PSK);
  const macS = await eapPskMacS(ak, utf8(ID_S), RAND_P);
  const { tek } = await eapPskDeriveKeys(kdk, RAND_P);
  const nonce = options.nonce ?? 0;
  const plaintext = encodeEapPskChannelPlaintext({
    result: options.result ?? EapPskResult.DoneSuccess,
  });
  const draft: EapPskMessage3 = {
    t: 2,
    randS: RAND_S,
    macS,
    pchannel: { nonce, tag: new Uint8Array(16), encrypted: plaintext },
  };
  const sealed = await eapPskChannelSeal(tek, nonce, eapPskHeaderFor(1, id, draft), plaintext);
  const m: EapPskMessage3 = {
    ...draft,
    pchannel: { nonce, tag: sealed.tag, encrypted: sealed.ciphertext },
  };
  return eapPsk(1, id, encodeEapPsk(options.tamper ? options.tamper(m) : m));
}

function responseOf(step: EapPeerStep): Uint8Array {
  if (step.kind !== "response") throw new Error(`Expected a response, got ${JSON.stringify(step)}`);
  return step.eap;
}

/** Runs the peer against a real EAP-PSK server until either side stops. */
async function converse(
  p: ReturnType<typeof createEapPskPeer>,
  s: ReturnType<typeof createEapPskServer>,
): Promise<{ readonly server: EapAuthStep; readonly peer: EapPeerStep }> {
  let step = await s.start();
  for (;;) {
    if (step.kind !== "request") break;
    const answer = await p.handle(step.eap);
    if (answer.kind !== "response") return { server: step, peer: answer };
    step = await s.handle(answer.eap);
  }
  if (step.kind === "discard") throw new Error(step.reason);
  return { server: step, peer: await p.handle(step.eap) };
}

describe("createEapPskPeer", () => {
  it("RFC 4764 section 3.2: a full run against our server succeeds and both sides hold the same MSK", async () => {
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const p = createEapPskPeer({ identity: ID_P, psk: PSK, random, serverId: ID_S });
    const s = createEapPskServer({
      serverId: ID_S,
      lookup: (id) => (id === ID_P ? PSK : undefined),
      random,
    });
    const { server, peer: result } = await converse(p, s);
    expect(server.kind).toBe("success");
    expect(result.kind).toBe("success");
    if (server.kind !== "success" || result.kind !== "success") return;
    expect(result.msk).toEqual(server.msk);
    expect(result.msk.length).toBe(64);
    expect(result.emsk?.length).toBe(64);
    expect(result.emsk).not.toEqual(result.msk);
    expect(server.identity).toBe(ID_P);
  });

  it("RFC 3748 section 5.1: answers Request/Identity with its identity and the same identifier", async () => {
    const { peer: p } = peer();
    const eap = responseOf(await p.handle(identityRequest(42)));
    expect(decodeEap(eap)).toEqual({ code: 2, identifier: 42, type: 1, typeData: utf8(ID_P) });
  });

  it("RFC 4764 section 5.2: message 2 echoes RAND_S, carries RAND_P from the random source and ID_P", async () => {
    const { peer: p, calls } = peer();
    const eap = responseOf(await p.handle(msg1(7)));
    const packet = decodeEap(eap);
    expect(packet.code).toBe(2);
    expect(packet.identifier).toBe(7);
    const m = decodeEapPsk("typeData" in packet ? packet.typeData : new Uint8Array());
    expect(m.t).toBe(1);
    if (m.t !== 1) return;
    expect(m.randS).toEqual(RAND_S);
    expect(m.randP).toEqual(RAND_P);
    expect(m.idP).toEqual(utf8(ID_P));
    expect(calls).toEqual([16]);
  });

  it("RFC 4764 section 5.4: message 4 answers message 3 with nonce 1 and the identifier of message 3, then EAP Success gives the MSK", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(7));
    const eap = responseOf(await p.handle(await msg3(8)));
    const packet = decodeEap(eap);
    expect(packet.identifier).toBe(8);
    const m = decodeEapPsk("typeData" in packet ? packet.typeData : new Uint8Array());
    expect(m.t === 3 && m.pchannel.nonce).toBe(1);
    const done = await p.handle(success(8));
    const { kdk } = await eapPskKeySetup(PSK);
    const { msk, emsk } = await eapPskDeriveKeys(kdk, RAND_P);
    expect(done).toEqual({ kind: "success", msk, emsk });
  });

  it("RFC 4764 section 5.1: refuses a server whose ID_S differs from the one configured", async () => {
    const { peer: p, calls } = peer({ serverId: "aa.ctn-a" });
    const step = await p.handle(msg1(1, "rogue"));
    expect(step).toEqual({
      kind: "failure",
      reason: 'EAP-PSK server identity refused: got "rogue", expected "aa.ctn-a"',
    });
    expect(calls).toEqual([]);
    expect((await p.handle(msg1(2, "aa.ctn-a"))).kind).toBe("discard");
  });

  it("RFC 4764 section 5.3: a tampered MAC_S fails the server's authentication", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    const bad = await msg3(2, {
      tamper: (m) => ({ ...m, macS: m.macS.map((b, i) => (i === 0 ? b ^ 1 : b)) }),
    });
    expect(await p.handle(bad)).toEqual({
      kind: "failure",
      reason: "EAP-PSK MAC_S does not verify: server not authenticated",
    });
  });

  it("RFC 4764 section 5.3: a server with another PSK fails at MAC_S", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    const step = await p.handle(await msg3(2, { psk: new Uint8Array(16) }));
    expect(step.kind === "failure" && step.reason).toMatch(/MAC_S does not verify/);
  });

  it("RFC 4764 section 3.3: a tampered PCHANNEL tag or ciphertext fails", async () => {
    for (
      const tamper of [
        (m: EapPskMessage3) => ({
          ...m,
          pchannel: { ...m.pchannel, tag: m.pchannel.tag.map((b) => b ^ 0x80) },
        }),
        (m: EapPskMessage3) => ({
          ...m,
          pchannel: { ...m.pchannel, encrypted: m.pchannel.encrypted.map((b) => b ^ 0x40) },
        }),
      ]
    ) {
      const { peer: p } = peer();
      await p.handle(msg1(1));
      expect(await p.handle(await msg3(2, { tamper }))).toEqual({
        kind: "failure",
        reason: "EAP-PSK message 3 protected channel does not verify",
      });
    }
  });

  it("RFC 4764 section 5.3: message 3 must open the channel with nonce 0 (replay protection)", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    expect(await p.handle(await msg3(2, { nonce: 5 }))).toEqual({
      kind: "failure",
      reason: "EAP-PSK message 3 nonce 5, expected 0",
    });
  });

  it("RFC 4764 section 5.3: DONE_FAILURE from the server ends with a failure and no keys", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    expect(await p.handle(await msg3(2, { result: EapPskResult.DoneFailure }))).toEqual({
      kind: "failure",
      reason: "EAP-PSK server reported DONE_FAILURE",
    });
    expect((await p.handle(success(2))).kind).toBe("discard");
  });

  it("RFC 3748 section 4.1: a retransmitted Request gets the previous Response without reprocessing", async () => {
    const { peer: p, calls } = peer();
    const first = responseOf(await p.handle(msg1(1)));
    expect(await p.handle(msg1(1))).toEqual({ kind: "response", eap: first });
    const m3 = await msg3(2);
    const fourth = responseOf(await p.handle(m3));
    expect(await p.handle(m3)).toEqual({ kind: "response", eap: fourth });
    expect(calls).toEqual([16]);
    expect((await p.handle(success(2))).kind).toBe("success");
  });

  it("RFC 3748 section 4.1: concurrent copies of one Request are answered alike, in order", async () => {
    const { peer: p, calls } = peer();
    const [a, b] = await Promise.all([p.handle(msg1(1)), p.handle(msg1(1))]);
    expect(b).toEqual(a);
    expect(calls).toEqual([16]);
  });

  it("RFC 3748 section 4.1: a Request reusing the last identifier with other content is discarded", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    expect(await p.handle(msg1(1, ID_S, new Uint8Array(16).fill(9)))).toEqual({
      kind: "discard",
      reason: "EAP Request reuses identifier 1 with other content",
    });
  });

  it("RFC 3748 section 4.2: a Success before the server is authenticated is refused", async () => {
    const before = peer().peer;
    expect(await before.handle(success(0))).toEqual({
      kind: "failure",
      reason: "Premature EAP Success refused: EAP-PSK not started",
    });
    const { peer: p } = peer();
    await p.handle(msg1(1));
    expect(await p.handle(success(1))).toEqual({
      kind: "failure",
      reason: "Premature EAP Success refused: EAP-PSK message 3 not yet verified",
    });
    // The conversation is over: a genuine message 3 no longer gives keys.
    expect((await p.handle(await msg3(2))).kind).toBe("discard");
  });

  it("RFC 3748 section 4.2: EAP Failure ends the conversation", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    expect(await p.handle(failure(1))).toEqual({ kind: "failure", reason: "EAP Failure received" });
    expect(await p.handle(await msg3(2))).toEqual({
      kind: "discard",
      reason: "EAP conversation already finished",
    });
  });

  it("RFC 3748 section 4.2: after DONE_SUCCESS both ways, a Failure is discarded and Success still completes", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    await p.handle(await msg3(2));
    expect((await p.handle(failure(2))).kind).toBe("discard");
    expect((await p.handle(success(2))).kind).toBe("success");
    expect((await p.handle(success(2))).kind).toBe("discard");
  });

  it("RFC 3748 section 5.3.1: a Request for another method before EAP-PSK gets a Nak proposing EAP-PSK", async () => {
    const { peer: p } = peer();
    const md5 = new Uint8Array([1, 3, 0, 6, 4, 0]);
    expect(await p.handle(md5)).toEqual({
      kind: "response",
      eap: new Uint8Array([2, 3, 0, 6, 3, 47]),
    });
    await p.handle(msg1(4));
    expect((await p.handle(new Uint8Array([1, 5, 0, 6, 4, 0]))).kind).toBe("discard");
  });

  it("RFC 3748 section 5.2: a Notification gets an empty Notification Response", async () => {
    const { peer: p } = peer();
    const notification = new Uint8Array([1, 9, 0, 7, 2, 0x68, 0x69]);
    expect(await p.handle(notification)).toEqual({
      kind: "response",
      eap: new Uint8Array([2, 9, 0, 5, 2]),
    });
  });

  it("discards malformed packets, Responses, and EAP-PSK messages out of order, with a reason", async () => {
    const { peer: p } = peer();
    const cases = [
      new Uint8Array([1, 1, 0]),
      new Uint8Array([1, 1, 0, 40, 47, 0]),
      new Uint8Array([2, 1, 0, 5, 1]),
      await msg3(3),
      eapPsk(1, 4, new Uint8Array([0x00, 1, 2])),
    ];
    for (const bytes of cases) {
      const step = await p.handle(bytes);
      expect(step.kind).toBe("discard");
      expect(step.kind === "discard" && step.reason.length).toBeGreaterThan(0);
    }
    // Still usable afterwards.
    expect(responseOf(await p.handle(msg1(6))).length).toBe(5 + 49 + ID_P.length);
  });

  it("reasons never carry key bytes", async () => {
    const { peer: p } = peer();
    await p.handle(msg1(1));
    const step = await p.handle(await msg3(2, { psk: new Uint8Array(16).fill(0xee) }));
    const hexPsk = Array.from(PSK, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(JSON.stringify(step)).not.toContain(hexPsk);
  });

  it("refuses bad options with ConfigError", () => {
    const random = (n: number) => new Uint8Array(n);
    expect(() => createEapPskPeer({ identity: "", psk: PSK, random })).toThrow(ConfigError);
    expect(() => createEapPskPeer({ identity: "a", psk: new Uint8Array(15), random })).toThrow(
      "Invalid EAP-PSK PSK: expected 16 bytes, got 15",
    );
    expect(() => createEapPskPeer({ identity: "a", psk: PSK, random, serverId: "" })).toThrow(
      ConfigError,
    );
  });

  it("copies the PSK: changing the caller's array later does not change the keys", async () => {
    const psk = PSK.slice();
    const { random } = fixedRandom(RAND_P);
    const p = createEapPskPeer({ identity: ID_P, psk, random });
    psk.fill(0);
    await p.handle(msg1(1));
    expect((await p.handle(await msg3(2))).kind).toBe("response");
  });
});

/** The session a factory creates a server for (only an argument here). */
const SESSION = { sessionId: 1, peer: "192.0.2.10:716" };

describe("EAP-PSK with AK and KDK set up once per PSK (RFC 4764 section 3.1)", () => {
  it("peers sharing one prepared PSK and a server factory reusing its set-up agree on each session's MSK", async () => {
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const prepared = eapPskPrepareKeys(PSK);
    const factory = createEapPskServerFactory({
      serverId: ID_S,
      lookup: (id) => (id === ID_P ? PSK : undefined),
      random,
    });
    const msks: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const p = createEapPskPeer({ identity: ID_P, psk: PSK, random, prepared });
      const { server, peer: result } = await converse(p, factory.create(SESSION));
      expect([server.kind, result.kind]).toEqual(["success", "success"]);
      if (server.kind !== "success" || result.kind !== "success") return;
      expect(result.msk).toEqual(server.msk);
      msks.push(result.msk);
    }
    // Fresh RAND_S and RAND_P: every session has its own MSK.
    expect(new Set(msks.map((m) => m.join(","))).size).toBe(3);
  });

  it("prepared keys of another PSK fail at the server's MAC_P check, never authenticate", async () => {
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const other = PSK.map((b) => b ^ 1);
    const p = createEapPskPeer({
      identity: ID_P,
      psk: PSK,
      random,
      prepared: eapPskPrepareKeys(other),
    });
    const s = createEapPskServer({
      serverId: ID_S,
      lookup: (id) => (id === ID_P ? PSK : undefined),
      random,
    });
    const { server } = await converse(p, s);
    expect(server.kind).toBe("failure");
  });

  it("a server whose credential array is rewritten in place sets the new PSK up again", async () => {
    const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
    const stored = PSK.slice();
    const factory = createEapPskServerFactory({
      serverId: ID_S,
      lookup: (id) => (id === ID_P ? stored : undefined),
      random,
    });
    const first = await converse(
      createEapPskPeer({ identity: ID_P, psk: PSK, random }),
      factory.create(SESSION),
    );
    expect(first.server.kind).toBe("success");
    const rotated = PSK.map((b) => b ^ 0xff);
    stored.set(rotated); // the key rotated in place
    const stale = await converse(
      createEapPskPeer({ identity: ID_P, psk: PSK, random }),
      factory.create(SESSION),
    );
    expect(stale.server.kind).toBe("failure");
    const fresh = await converse(
      createEapPskPeer({ identity: ID_P, psk: rotated, random }),
      factory.create(SESSION),
    );
    expect(fresh.server.kind).toBe("success");
  });
});
