import { afterAll, afterEach, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { configure, type LogRecord, reset } from "npm:@logtape/logtape@^2.4.2";
import { radiusEapFactory } from "../../../adapters/aaa/radius_authenticator.ts";
import { RadiusClient } from "../../../adapters/radius/client.ts";
import type { EapAuthenticator, EapAuthStep, EapPeerStep } from "../../../lib/eap/eap_method.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { createEapPskServer } from "../../../lib/eap/eap_psk_server.ts";
import { ConfigError } from "../../../lib/errors.ts";
import {
  attributeValue,
  decodeRadius,
  eapMessageAttributes,
  encodeRadius,
  joinEapMessage,
  mppeKeyAttributes,
  type RadiusAttribute,
  radiusAttribute,
  type RadiusPacket,
  signResponse,
} from "../../../lib/wire/radius.ts";
import { RadiusAttributeType as A, RadiusCode } from "../../../lib/wire/radius_constants.ts";

const SECRET = "fake-aaa-secret";
const IDENTITY = "alice@example";
const PSK = new Uint8Array(16).map((_, i) => i * 7);
const SERVER_ID = "fake-aaa";
const PEER = "192.0.2.7:716";
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

/** What the fake answers to one Access-Request: a response to sign, or silence. */
type Handler = (request: RadiusPacket) => Promise<RadiusPacket | undefined>;

/** A RADIUS server on 127.0.0.1 with an ephemeral port, answering as `handler` says. */
class FakeRadiusServer {
  readonly received: RadiusPacket[] = [];
  readonly #socket: Socket;

  private constructor(socket: Socket, handler: Handler) {
    this.#socket = socket;
    socket.on("message", async (message: Uint8Array, remote: RemoteInfo) => {
      const request = decodeRadius(new Uint8Array(message));
      this.received.push(request);
      const response = await handler(request);
      if (response === undefined) return;
      const signed = signResponse(
        { ...response, identifier: request.identifier },
        request.authenticator,
        SECRET,
      );
      socket.send(encodeRadius(signed), remote.port, remote.address);
    });
  }

  static async start(handler: Handler): Promise<FakeRadiusServer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    return new FakeRadiusServer(socket, handler);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

function response(
  code: number,
  attributes: readonly RadiusAttribute[],
): RadiusPacket {
  return { code, identifier: 0, authenticator: new Uint8Array(16), attributes: [...attributes] };
}

/**
 * An AAA server in the manner of hostapd: EAP-PSK (our server) behind RADIUS, one
 * conversation per State, the MSK in MS-MPPE keys on Access-Accept.
 */
function eapPskAaa(options: { readonly psk?: Uint8Array } = {}): Handler {
  const sessions = new Map<string, EapAuthenticator>();
  let next = 0;
  return async (request) => {
    const eap = joinEapMessage(request)!;
    const stateValue = text(attributeValue(request, A.State));
    let server = stateValue === undefined ? undefined : sessions.get(stateValue);
    if (server === undefined) {
      server = createEapPskServer({
        serverId: SERVER_ID,
        lookup: (id) => (id === IDENTITY ? options.psk ?? PSK : undefined),
        random,
        identifierStart: eap[1]!,
      });
      await server.start();
    }
    const step: EapAuthStep = await server.handle(eap);
    switch (step.kind) {
      case "request": {
        const state = `state-${++next}`;
        sessions.set(state, server);
        return response(RadiusCode.AccessChallenge, [
          radiusAttribute(A.State, state),
          ...eapMessageAttributes(step.eap),
        ]);
      }
      case "success":
        return response(RadiusCode.AccessAccept, [
          radiusAttribute(A.UserName, step.identity),
          ...eapMessageAttributes(step.eap),
          ...mppeKeyAttributes(step.msk, SECRET, request.authenticator, {
            send: 0x8001,
            recv: 0x8002,
          }),
        ]);
      case "failure":
        return response(RadiusCode.AccessReject, [
          radiusAttribute(A.ReplyMessage, "bad credentials"),
          ...eapMessageAttributes(step.eap),
        ]);
      case "discard":
        return undefined;
    }
  };
}

const records: LogRecord[] = [];
const servers: FakeRadiusServer[] = [];
const clients: RadiusClient[] = [];

beforeAll(async () => {
  await configure({
    sinks: { memory: (record: LogRecord) => records.push(record) },
    loggers: [
      { category: ["mpa"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["memory"] },
    ],
    reset: true,
  });
});

afterAll(async () => {
  await reset();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  records.length = 0;
});

async function setup(
  handler: Handler,
  clientOptions: { timeoutMs?: number; retries?: number } = {},
) {
  const fake = await FakeRadiusServer.start(handler);
  servers.push(fake);
  const client = new RadiusClient({
    server: { host: "127.0.0.1", port: fake.port },
    secret: SECRET,
    timeoutMs: clientOptions.timeoutMs ?? 200,
    retries: clientOptions.retries ?? 2,
  });
  clients.push(client);
  return { fake, client };
}

/** Our EAP-PSK peer against the pass-through, until either side stops. */
async function run(authenticator: EapAuthenticator, psk = PSK) {
  const peer = createEapPskPeer({ identity: IDENTITY, psk, random });
  let step = await authenticator.start();
  for (;;) {
    if (step.kind !== "request") break;
    const answer = await peer.handle(step.eap);
    if (answer.kind !== "response") return { aa: step, peer: answer };
    step = await authenticator.handle(answer.eap);
  }
  const peerStep: EapPeerStep | undefined = step.kind === "discard"
    ? undefined
    : await peer.handle(step.eap);
  return { aa: step, peer: peerStep };
}

function logLines(): string[] {
  return records.map((r) => r.message.map((part) => String(part)).join(""));
}

describe("radiusEapFactory", () => {
  it("RFC 3579: relays EAP-PSK to the AAA server; Access-Accept gives EAP Success and the MSK our peer derived", async () => {
    const { fake, client } = await setup(eapPskAaa());
    const factory = radiusEapFactory({ client, nasIdentifier: "aa-ctn-b" });
    const { aa, peer } = await run(factory.create({ sessionId: 7, peer: PEER }));
    expect(aa.kind).toBe("success");
    expect(peer?.kind).toBe("success");
    if (aa.kind !== "success" || peer?.kind !== "success") return;
    expect(aa.msk).toEqual(peer.msk);
    expect(aa.identity).toBe(IDENTITY);
    expect(aa.eap[0]).toBe(3);

    // Identity, message 2, message 4: three Access-Requests.
    expect(fake.received.length).toBe(3);
    for (const request of fake.received) {
      expect(text(attributeValue(request, A.UserName))).toBe(IDENTITY);
      expect(text(attributeValue(request, A.CallingStationId))).toBe(PEER);
      expect(text(attributeValue(request, A.NasIdentifier))).toBe("aa-ctn-b");
      expect(attributeValue(request, A.FramedMtu)).toEqual(new Uint8Array([0, 0, 0x05, 0x78]));
    }
    // RFC 2865 section 5.24: State copied from each Access-Challenge, none at first.
    expect(fake.received.map((r) => text(attributeValue(r, A.State)))).toEqual([
      undefined,
      "state-1",
      "state-2",
    ]);
  });

  it("RFC 3579 section 2.6: a wrong PSK gets Access-Reject; the MN gets EAP Failure", async () => {
    const { client } = await setup(eapPskAaa());
    const factory = radiusEapFactory({ client });
    const { aa, peer } = await run(
      factory.create({ sessionId: 8, peer: PEER }),
      new Uint8Array(16).fill(0xee),
    );
    expect(aa).toMatchObject({
      kind: "failure",
      reason: "Access-Reject from the AAA server: bad credentials",
    });
    expect(aa.kind === "failure" && aa.eap[0]).toBe(4);
    expect(peer).toEqual({ kind: "failure", reason: "EAP Failure received" });
    expect(logLines()).toContainEqual(
      `PANA session 8 (${PEER}): Access-Reject from the AAA server: bad credentials for ${IDENTITY}`,
    );
  });

  it("fails with 'AAA server unreachable' and one log line when the server never answers", async () => {
    const { fake, client } = await setup(() => Promise.resolve(undefined), {
      timeoutMs: 20,
      retries: 1,
    });
    const aa = radiusEapFactory({ client }).create({ sessionId: 9, peer: PEER });
    const identity = await aa.start();
    const id = identity.kind === "request" ? identity.eap[1]! : -1;
    const step = await aa.handle(
      new Uint8Array([2, id, 0, 5 + IDENTITY.length, 1, ...new TextEncoder().encode(IDENTITY)]),
    );
    expect(step.kind).toBe("failure");
    if (step.kind !== "failure") return;
    expect(step.eap).toEqual(new Uint8Array([4, id, 0, 4]));
    expect(step.reason).toMatch(
      new RegExp(
        `^AAA server unreachable: no answer from 127\\.0\\.0\\.1:${fake.port} to 2 transmissions in \\d+ ms$`,
      ),
    );
    expect(logLines()).toContainEqual(`PANA session 9 (${PEER}): ${step.reason}`);
  });

  it("refuses an Access-Accept without MS-MPPE keys (no MSK for MPA) with EAP Failure", async () => {
    const { client } = await setup(() =>
      Promise.resolve(
        response(RadiusCode.AccessAccept, eapMessageAttributes(new Uint8Array([3, 1, 0, 4]))),
      )
    );
    const aa = radiusEapFactory({ client, random: () => new Uint8Array([1]) }).create({
      sessionId: 1,
      peer: PEER,
    });
    await aa.start();
    const step = await aa.handle(new Uint8Array([2, 1, 0, 6, 1, 0x61]));
    expect(step).toEqual({
      kind: "failure",
      eap: new Uint8Array([4, 1, 0, 4]),
      reason: "Access-Accept without MS-MPPE keys: no MSK for the MPA keys",
    });
  });

  it("builds the EAP Success when the Access-Accept carries none, and uses the Identity when it has no User-Name", async () => {
    const msk = new Uint8Array(64).fill(0x42);
    const { client } = await setup((request) =>
      Promise.resolve(response(
        RadiusCode.AccessAccept,
        mppeKeyAttributes(msk, SECRET, request.authenticator, { send: 0x8003, recv: 0x8004 }),
      ))
    );
    const aa = radiusEapFactory({ client, random: () => new Uint8Array([200]) }).create({
      sessionId: 1,
      peer: PEER,
    });
    await aa.start();
    expect(await aa.handle(new Uint8Array([2, 200, 0, 6, 1, 0x61]))).toEqual({
      kind: "success",
      eap: new Uint8Array([3, 200, 0, 4]),
      msk,
      identity: "a",
    });
  });

  it("fails on an Access-Challenge without an EAP Request in it", async () => {
    const { client } = await setup(() =>
      Promise.resolve(response(RadiusCode.AccessChallenge, [radiusAttribute(A.State, "s")]))
    );
    const aa = radiusEapFactory({ client, random: () => new Uint8Array([5]) }).create({
      sessionId: 1,
      peer: PEER,
    });
    await aa.start();
    expect(await aa.handle(new Uint8Array([2, 5, 0, 6, 1, 0x61]))).toMatchObject({
      kind: "failure",
      reason: "Access-Challenge without EAP-Message",
    });
  });

  it("RFC 3748 section 4.1: discards Responses with the wrong identifier, malformed ones and non-Identity answers to Identity, without asking the AAA server", async () => {
    const { fake, client } = await setup(eapPskAaa());
    const aa = radiusEapFactory({ client, random: () => new Uint8Array([50]) }).create({
      sessionId: 1,
      peer: PEER,
    });
    expect(await aa.handle(new Uint8Array([2, 50, 0, 6, 1, 0x61]))).toEqual({
      kind: "discard",
      reason: "EAP conversation not started",
    });
    expect(await aa.start()).toEqual({ kind: "request", eap: new Uint8Array([1, 50, 0, 5, 1]) });
    expect(await aa.handle(new Uint8Array([2, 51, 0, 6, 1, 0x61]))).toEqual({
      kind: "discard",
      reason: "EAP Response identifier 51, expected 50",
    });
    expect((await aa.handle(new Uint8Array([2, 50, 0]))).kind).toBe("discard");
    expect((await aa.handle(new Uint8Array([2, 50, 0, 6, 3, 47]))).kind).toBe("discard");
    expect((await aa.handle(new Uint8Array([1, 50, 0, 5, 1]))).kind).toBe("discard");
    expect(fake.received.length).toBe(0);
  });

  it("relays one of two concurrent copies of a Response and discards the other", async () => {
    const { fake, client } = await setup(eapPskAaa());
    const aa = radiusEapFactory({ client, random: () => new Uint8Array([60]) }).create({
      sessionId: 1,
      peer: PEER,
    });
    await aa.start();
    const identity = new Uint8Array([
      2,
      60,
      0,
      5 + IDENTITY.length,
      1,
      ...new TextEncoder().encode(IDENTITY),
    ]);
    const [a, b] = await Promise.all([aa.handle(identity), aa.handle(identity)]);
    expect(a.kind).toBe("request");
    expect(b.kind).toBe("discard");
    expect(fake.received.length).toBe(1);
  });

  it("refuses bad options with ConfigError", async () => {
    const { client } = await setup(eapPskAaa());
    expect(() => radiusEapFactory({ client, nasIdentifier: "" })).toThrow(ConfigError);
    expect(() => radiusEapFactory({ client, framedMtu: 10 })).toThrow("Invalid Framed-MTU: 10");
  });
});
