import { describe, expect, it } from "npm:vitest@4.1.12";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import {
  createEapPskServer,
  createEapPskServerFactory,
  type EapPskServerOptions,
} from "../../../lib/eap/eap_psk_server.ts";
import type { EapAuthStep, EapPeer } from "../../../lib/eap/eap_method.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { eapPskChannelSeal } from "../../../lib/keys/eap_psk_channel.ts";
import { eapPskDeriveKeys, eapPskKeySetup, eapPskMacs } from "../../../lib/keys/eap_psk_keys.ts";
import { decodeEap, encodeEap } from "../../../lib/wire/eap.ts";
import { EapPskResult } from "../../../lib/wire/eap_constants.ts";
import {
  decodeEapPsk,
  eapPskHeaderFor,
  type EapPskMessage4,
  encodeEapPsk,
  encodeEapPskChannelPlaintext,
} from "../../../lib/wire/eap_psk.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const PSK = new Uint8Array(16).map((_, i) => 0x10 + i);
const ID_P = "mn1@mpa";
const ID_S = "aa.ctn-b";
const RAND_S = new Uint8Array(16).fill(0x3c);
const RAND_P = new Uint8Array(16).fill(0x96);
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function server(options: Partial<EapPskServerOptions> = {}) {
  return createEapPskServer({
    serverId: ID_S,
    lookup: (id) => (id === ID_P ? PSK : undefined),
    random: (n) => (n === 16 ? RAND_S.slice() : new Uint8Array(n)),
    identifierStart: 10,
    ...options,
  });
}

function requestOf(step: EapAuthStep): Uint8Array {
  if (step.kind !== "request") throw new Error(`Expected a request, got ${JSON.stringify(step)}`);
  return step.eap;
}

const identityResponse = (id: number, identity = ID_P) =>
  encodeEap({ code: 2, identifier: id, type: 1, typeData: utf8(identity) });
const eapPsk = (identifier: number, typeData: Uint8Array) =>
  encodeEap({ code: 2, identifier, type: 47, typeData });

/** Message 2 as a peer holding `psk` would build it. */
async function msg2(
  id: number,
  options: { psk?: Uint8Array; idP?: string; randS?: Uint8Array } = {},
) {
  const { ak } = await eapPskKeySetup(options.psk ?? PSK);
  const idP = utf8(options.idP ?? ID_P);
  const randS = options.randS ?? RAND_S;
  const { macP } = await eapPskMacs(ak, idP, utf8(ID_S), randS, RAND_P);
  return eapPsk(id, encodeEapPsk({ t: 1, randS, randP: RAND_P, macP, idP }));
}

/** Message 4 under the TEK of PSK/RAND_P, with knobs to break it. */
async function msg4(
  id: number,
  options: {
    readonly result?: EapPskResult;
    readonly nonce?: number;
    readonly tamper?: (m: EapPskMessage4) => EapPskMessage4;
  } = {},
) {
  const { kdk } = await eapPskKeySetup(PSK);
  const { tek } = await eapPskDeriveKeys(kdk, RAND_P);
  const nonce = options.nonce ?? 1;
  const plaintext = encodeEapPskChannelPlaintext({
    result: options.result ?? EapPskResult.DoneSuccess,
  });
  const draft: EapPskMessage4 = {
    t: 3,
    randS: RAND_S,
    pchannel: { nonce, tag: new Uint8Array(16), encrypted: plaintext },
  };
  const sealed = await eapPskChannelSeal(tek, nonce, eapPskHeaderFor(2, id, draft), plaintext);
  const m: EapPskMessage4 = {
    ...draft,
    pchannel: { nonce, tag: sealed.tag, encrypted: sealed.ciphertext },
  };
  return eapPsk(id, encodeEapPsk(options.tamper ? options.tamper(m) : m));
}

/** Drives a server through Identity and message 1; returns message 1's identifier. */
async function toMessage1(s: ReturnType<typeof server>): Promise<number> {
  const identity = requestOf(await s.start());
  const m1 = requestOf(await s.handle(identityResponse(identity[1]!)));
  return m1[1]!;
}

async function converse(p: EapPeer, s: ReturnType<typeof server>) {
  let step = await s.start();
  const identifiers: number[] = [];
  for (;;) {
    if (step.kind !== "request") break;
    identifiers.push(step.eap[1]!);
    const answer = await p.handle(step.eap);
    if (answer.kind !== "response") throw new Error(JSON.stringify(answer));
    step = await s.handle(answer.eap);
  }
  return {
    step,
    identifiers,
    peer: step.kind === "discard" ? undefined : await p.handle(step.eap),
  };
}

describe("createEapPskServer", () => {
  it("RFC 4764 section 3.2: a full run with our peer succeeds; both hold the same MSK and the server learns ID_P", async () => {
    const s = server({ random });
    const p = createEapPskPeer({ identity: ID_P, psk: PSK, random, serverId: ID_S });
    const { step, identifiers, peer } = await converse(p, s);
    expect(step.kind).toBe("success");
    expect(peer?.kind).toBe("success");
    if (step.kind !== "success" || peer?.kind !== "success") return;
    expect(peer.msk).toEqual(step.msk);
    expect(step.identity).toBe(ID_P);
    expect(identifiers).toEqual([10, 11, 12]);
    // RFC 3748 section 4.2: Success carries the identifier of the last Response.
    expect(step.eap).toEqual(new Uint8Array([3, 12, 0, 4]));
  });

  it("RFC 3748 section 4.1: identifiers increase by one per Request and wrap from 255 to 0", async () => {
    const s = server({ random, identifierStart: 254 });
    const p = createEapPskPeer({ identity: ID_P, psk: PSK, random });
    const { step, identifiers } = await converse(p, s);
    expect(identifiers).toEqual([254, 255, 0]);
    expect(step.kind === "success" && step.eap[1]).toBe(0);
  });

  it("RFC 4764 section 5.1: message 1 carries RAND_S from the random source and ID_S", async () => {
    const s = server();
    expect(await s.start()).toEqual({ kind: "request", eap: new Uint8Array([1, 10, 0, 5, 1]) });
    const packet = decodeEap(requestOf(await s.handle(identityResponse(10))));
    expect(packet).toMatchObject({ code: 1, identifier: 11, type: 47 });
    const m = decodeEapPsk("typeData" in packet ? packet.typeData : new Uint8Array());
    expect(m).toEqual({ t: 0, randS: RAND_S, idS: utf8(ID_S) });
  });

  it("RFC 4764 section 5.3: message 3 has MAC_S, nonce 0 and the next identifier; message 4 gives Success", async () => {
    const s = server();
    const id1 = await toMessage1(s);
    const packet = decodeEap(requestOf(await s.handle(await msg2(id1))));
    expect(packet.identifier).toBe(id1 + 1);
    const m = decodeEapPsk("typeData" in packet ? packet.typeData : new Uint8Array());
    const { ak, kdk } = await eapPskKeySetup(PSK);
    const { macS } = await eapPskMacs(ak, utf8(ID_P), utf8(ID_S), RAND_S, RAND_P);
    expect(m.t === 2 && m.macS).toEqual(macS);
    expect(m.t === 2 && m.pchannel.nonce).toBe(0);
    const { msk } = await eapPskDeriveKeys(kdk, RAND_P);
    expect(await s.handle(await msg4(id1 + 1))).toEqual({
      kind: "success",
      eap: new Uint8Array([3, id1 + 1, 0, 4]),
      msk,
      identity: ID_P,
    });
  });

  it("RFC 4764 section 5.2: a wrong PSK fails at MAC_P with EAP Failure, and the peer stops on it", async () => {
    const s = server({ random });
    const p = createEapPskPeer({ identity: ID_P, psk: new Uint8Array(16).fill(1), random });
    let step = await s.start();
    let answer = await p.handle(requestOf(step));
    step = await s.handle(answer.kind === "response" ? answer.eap : new Uint8Array());
    answer = await p.handle(requestOf(step));
    step = await s.handle(answer.kind === "response" ? answer.eap : new Uint8Array());
    expect(step).toEqual({
      kind: "failure",
      eap: new Uint8Array([4, 11, 0, 4]),
      reason: `EAP-PSK MAC_P does not verify for "${ID_P}": wrong PSK`,
    });
    expect(await p.handle(step.kind === "failure" ? step.eap : new Uint8Array())).toEqual({
      kind: "failure",
      reason: "EAP Failure received",
    });
  });

  it("RFC 4764 section 5.2: an unknown ID_P fails without a MAC check", async () => {
    const s = server();
    const id1 = await toMessage1(s);
    expect(await s.handle(await msg2(id1, { idP: "mallory" }))).toEqual({
      kind: "failure",
      eap: new Uint8Array([4, id1, 0, 4]),
      reason: 'Unknown EAP-PSK peer identity: "mallory"',
    });
    expect((await s.handle(await msg4(id1 + 1))).kind).toBe("discard");
  });

  it("RFC 4764 section 5.2: the PSK is looked up by ID_P, not by the Identity Response", async () => {
    const looked: string[] = [];
    const s = server({
      lookup: (id) => {
        looked.push(id);
        return id === ID_P ? PSK : undefined;
      },
    });
    requestOf(await s.start());
    const m1 = requestOf(await s.handle(identityResponse(10, "anonymous")));
    expect((await s.handle(await msg2(m1[1]!))).kind).toBe("request");
    expect(looked).toEqual([ID_P]);
  });

  it("RFC 3748 section 4.1: Responses with the wrong identifier are discarded and the run goes on", async () => {
    const s = server();
    requestOf(await s.start());
    expect(await s.handle(identityResponse(9))).toEqual({
      kind: "discard",
      reason: "EAP Response identifier 9, expected 10",
    });
    requestOf(await s.handle(identityResponse(10)));
    // A duplicate of the answered Identity Response is now stale.
    expect((await s.handle(identityResponse(10))).kind).toBe("discard");
    expect((await s.handle(await msg2(12))).kind).toBe("discard");
    expect((await s.handle(await msg2(11))).kind).toBe("request");
    expect((await s.handle(await msg4(11))).kind).toBe("discard");
    expect((await s.handle(await msg4(12))).kind).toBe("success");
  });

  it("RFC 3748 section 5.3: a Nak to EAP-PSK ends with Failure (no other method is offered)", async () => {
    const s = server();
    const id1 = await toMessage1(s);
    const nak = encodeEap({ code: 2, identifier: id1, type: 3, typeData: new Uint8Array([4]) });
    expect(await s.handle(nak)).toEqual({
      kind: "failure",
      eap: new Uint8Array([4, id1, 0, 4]),
      reason: "Peer refused EAP-PSK with a Nak: no other method is offered",
    });
  });

  it("RFC 4764 section 5.4: a tampered message 4, or one with a nonce other than 1, fails", async () => {
    const tamperTag = (m: EapPskMessage4) => ({
      ...m,
      pchannel: { ...m.pchannel, tag: m.pchannel.tag.map((b) => b ^ 1) },
    });
    for (
      const [bad, reason] of [
        [(id: number) => msg4(id, { tamper: tamperTag }), "protected channel does not verify"],
        [(id: number) => msg4(id, { nonce: 0 }), "nonce 0, expected 1"],
        [(id: number) => msg4(id, { result: EapPskResult.DoneFailure }), "DONE_FAILURE"],
      ] as const
    ) {
      const s = server();
      const id1 = await toMessage1(s);
      requestOf(await s.handle(await msg2(id1)));
      const step = await s.handle(await bad(id1 + 1));
      expect(step.kind).toBe("failure");
      expect(step.kind === "failure" && step.reason).toContain(reason);
    }
  });

  it("RFC 4764 section 5.2: message 2 with another RAND_S is discarded", async () => {
    const s = server();
    const id1 = await toMessage1(s);
    expect(await s.handle(await msg2(id1, { randS: new Uint8Array(16) }))).toEqual({
      kind: "discard",
      reason: "EAP-PSK message 2 with another RAND_S",
    });
    expect((await s.handle(await msg2(id1))).kind).toBe("request");
  });

  it("discards malformed bytes, Requests, messages out of order, and anything before start or after the end", async () => {
    const s = server();
    expect(await s.handle(identityResponse(10))).toEqual({
      kind: "discard",
      reason: "EAP conversation not started",
    });
    await s.start();
    for (
      const bytes of [
        new Uint8Array([2, 10]),
        new Uint8Array([1, 10, 0, 5, 1]),
        await msg2(10),
        new Uint8Array([2, 10, 0, 6, 4, 0]),
      ]
    ) {
      expect((await s.handle(bytes)).kind).toBe("discard");
    }
    const id1 = requestOf(await s.handle(identityResponse(10)))[1]!;
    expect((await s.handle(await msg4(id1))).kind).toBe("discard");
    expect((await s.handle(eapPsk(id1, new Uint8Array([0x40, 1])))).kind).toBe("discard");
    await s.handle(await msg2(id1));
    await s.handle(await msg4(id1 + 1));
    expect(await s.handle(await msg4(id1 + 1))).toEqual({
      kind: "discard",
      reason: "EAP conversation already finished",
    });
  });

  it("start() repeats the Identity Request while it is unanswered", async () => {
    const s = server();
    const first = await s.start();
    expect(await s.start()).toEqual(first);
    await s.handle(identityResponse(10));
    expect((await s.start()).kind).toBe("discard");
  });

  it("refuses bad options with ConfigError", () => {
    expect(() => server({ serverId: "" })).toThrow(ConfigError);
    expect(() => server({ identifierStart: 256 })).toThrow("Invalid EAP identifier: 256");
    expect(() => createEapPskServerFactory({ serverId: "", lookup: () => undefined, random }))
      .toThrow(ConfigError);
  });

  it("a lookup returning a PSK of the wrong size fails the run instead of throwing", async () => {
    const s = server({ lookup: () => new Uint8Array(8) });
    const id1 = await toMessage1(s);
    const step = await s.handle(await msg2(id1));
    expect(step.kind === "failure" && step.reason).toBe(
      `Unusable PSK for "${ID_P}": expected 16 bytes`,
    );
  });
});

describe("createEapPskServerFactory", () => {
  it("creates independent sessions with their own identifiers and RAND_S", async () => {
    const factory = createEapPskServerFactory({
      serverId: ID_S,
      lookup: (id) => (id === ID_P ? PSK : undefined),
      random,
    });
    const results = await Promise.all([1, 2, 3].map(async (sessionId) => {
      const s = factory.create({ sessionId, peer: `192.0.2.${sessionId}:716` });
      const p = createEapPskPeer({ identity: ID_P, psk: PSK, random });
      return (await converse(p, s as ReturnType<typeof server>)).step;
    }));
    const msks = results.map((r) => (r.kind === "success" ? r.msk : undefined));
    expect(msks.every((m) => m?.length === 64)).toBe(true);
    expect(new Set(msks.map((m) => m?.join(","))).size).toBe(3);
  });
});
