import { afterAll, afterEach, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { configure, type LogRecord, reset } from "npm:@logtape/logtape@^2.4.2";
import {
  RadiusClient,
  RadiusClientClosedError,
  type RadiusClientOptions,
  RadiusUnreachableError,
} from "../../../adapters/radius/client.ts";
import { ConfigError } from "../../../lib/errors.ts";
import {
  attributeValue,
  decodeRadius,
  eapMessageAttributes,
  encodeRadius,
  joinEapMessage,
  mppeKeyAttributes,
  radiusAttribute,
  type RadiusPacket,
  responseAuthenticator,
  signResponse,
  verifyMessageAuthenticator,
  withMessageAuthenticator,
} from "../../../lib/wire/radius.ts";
import { RadiusAttributeType as A, RadiusCode } from "../../../lib/wire/radius_constants.ts";

const SECRET = "fake-server-secret";
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** What the fake server does with one request: datagrams to send back, from which socket. */
type Answer = { readonly bytes: Uint8Array; readonly from?: "main" | "other" };
type Handler = (request: RadiusPacket, index: number) => readonly Answer[];

/**
 * A RADIUS server on 127.0.0.1 with an ephemeral port, answering as `handler` says.
 * `other` is a second socket, to answer from a wrong source port.
 */
class FakeRadiusServer {
  readonly received: Uint8Array[] = [];
  readonly #main: Socket;
  readonly #other: Socket;
  #handler: Handler;

  private constructor(main: Socket, other: Socket, handler: Handler) {
    this.#main = main;
    this.#other = other;
    this.#handler = handler;
    main.on("message", (message: Uint8Array, remote: RemoteInfo) => {
      const bytes = new Uint8Array(message);
      const index = this.received.push(bytes) - 1;
      for (const answer of this.#handler(decodeRadius(bytes), index)) {
        const socket = answer.from === "other" ? this.#other : this.#main;
        socket.send(answer.bytes, remote.port, remote.address);
      }
    });
  }

  static async start(handler: Handler): Promise<FakeRadiusServer> {
    const bind = (socket: Socket) =>
      new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    const main = createSocket("udp4");
    const other = createSocket("udp4");
    await bind(main);
    await bind(other);
    return new FakeRadiusServer(main, other, handler);
  }

  get port(): number {
    return this.#main.address().port;
  }

  set handler(handler: Handler) {
    this.#handler = handler;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#other.close();
      this.#main.close(() => resolve());
    });
  }
}

const EAP_PSK_1 = new Uint8Array([1, 7, 0, 22, 47, 0, ...new Uint8Array(16).fill(0x55)]);
const MSK = new Uint8Array(64).map((_, i) => i * 3);

/** An Access-Challenge with EAP-PSK message 1 and a State, signed as a server does. */
function challenge(request: RadiusPacket, secret = SECRET): Uint8Array {
  return encodeRadius(signResponse(
    {
      code: RadiusCode.AccessChallenge,
      identifier: request.identifier,
      authenticator: new Uint8Array(16),
      attributes: [radiusAttribute(A.State, "state-1"), ...eapMessageAttributes(EAP_PSK_1)],
    },
    request.authenticator,
    secret,
  ));
}

/** An Access-Accept with EAP-Success and the MSK in MS-MPPE keys. */
function acceptWithKeys(request: RadiusPacket): Uint8Array {
  return encodeRadius(signResponse(
    {
      code: RadiusCode.AccessAccept,
      identifier: request.identifier,
      authenticator: new Uint8Array(16),
      attributes: [
        ...eapMessageAttributes(new Uint8Array([3, 8, 0, 4])),
        ...mppeKeyAttributes(MSK, SECRET, request.authenticator, { send: 0x8123, recv: 0x8456 }),
      ],
    },
    request.authenticator,
    SECRET,
  ));
}

const records: LogRecord[] = [];
const servers: FakeRadiusServer[] = [];
const clients: RadiusClient[] = [];

beforeAll(async () => {
  await configure({
    sinks: { memory: (record: LogRecord) => records.push(record) },
    loggers: [
      { category: ["mpa", "radius"], lowestLevel: "debug", sinks: ["memory"] },
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

async function server(handler: Handler): Promise<FakeRadiusServer> {
  const s = await FakeRadiusServer.start(handler);
  servers.push(s);
  return s;
}

function client(port: number, options: Partial<RadiusClientOptions> = {}): RadiusClient {
  const c = new RadiusClient({
    server: { host: "127.0.0.1", port },
    secret: SECRET,
    timeoutMs: 50,
    ...options,
  });
  clients.push(c);
  return c;
}

const identityRequest = () => [
  radiusAttribute(A.UserName, "alice@example"),
  ...eapMessageAttributes(new Uint8Array([2, 7, 0, 18, 1, ...utf8("alice@example")])),
];

function logLines(): string[] {
  return records.map((r) => r.message.map((part) => String(part)).join(""));
}

describe("RadiusClient", () => {
  it("RFC 3579: relays EAP through Access-Challenge (State) to Access-Accept and recovers the MSK", async () => {
    const fake = await server((request) => [{
      bytes: attributeValue(request, A.State) === undefined
        ? challenge(request)
        : acceptWithKeys(request),
    }]);
    const c = client(fake.port);

    const first = await c.accessRequest(identityRequest());
    expect(first.packet.code).toBe(RadiusCode.AccessChallenge);
    expect(joinEapMessage(first.packet)).toEqual(EAP_PSK_1);
    expect(first.transmissions).toBe(1);
    expect(first.request.identifier).toBe(first.packet.identifier);

    const state = attributeValue(first.packet, A.State)!;
    const second = await c.accessRequest([
      radiusAttribute(A.UserName, "alice@example"),
      ...eapMessageAttributes(new Uint8Array([2, 8, 0, 6, 47, 0x40])),
      radiusAttribute(A.State, state),
    ]);
    expect(second.packet.code).toBe(RadiusCode.AccessAccept);
    expect(second.request.identifier).not.toBe(first.request.identifier);
    expect(c.msk(second)).toEqual(MSK);
    expect(c.msk(first)).toBeUndefined();

    // What the server saw: Message-Authenticator first and valid, NAS-Identifier added.
    const seen = decodeRadius(fake.received[0]!);
    expect(seen.code).toBe(RadiusCode.AccessRequest);
    expect(seen.attributes[0]?.type).toBe(A.MessageAuthenticator);
    expect(verifyMessageAuthenticator(fake.received[0]!, SECRET)).toBe(true);
    expect(text(attributeValue(seen, A.NasIdentifier))).toBe("mpa");
    expect(text(attributeValue(decodeRadius(fake.received[1]!), A.State))).toBe("state-1");
    expect(c.stats).toMatchObject({ requests: 2, transmissions: 2, replies: 2, unanswered: 0 });
  });

  it("keeps a caller's NAS-Identifier and adds none when a NAS address is given", async () => {
    const fake = await server((request) => [{ bytes: challenge(request) }]);
    const c = client(fake.port, { nasIdentifier: "aa-1" });
    await c.accessRequest(identityRequest());
    await c.accessRequest([
      ...identityRequest(),
      radiusAttribute(A.NasIpAddress, new Uint8Array([10, 0, 0, 1])),
    ]);
    expect(text(attributeValue(decodeRadius(fake.received[0]!), A.NasIdentifier))).toBe("aa-1");
    expect(attributeValue(decodeRadius(fake.received[1]!), A.NasIdentifier)).toBeUndefined();
  });

  it("RFC 2865 section 2.5: retransmits with the same identifier and Request Authenticator when the first is lost", async () => {
    const fake = await server((request, index) =>
      index === 0 ? [] : [{ bytes: challenge(request) }]
    );
    const c = client(fake.port, { timeoutMs: 40 });
    const reply = await c.accessRequest(identityRequest());
    expect(reply.transmissions).toBe(2);
    expect(fake.received.length).toBe(2);
    expect(fake.received[1]).toEqual(fake.received[0]); // same identifier, authenticator, bytes
    expect(reply.requestBytes).toEqual(fake.received[0]);
    expect(c.stats).toMatchObject({ transmissions: 2, retransmissions: 1, replies: 1 });
  });

  it("rejects with RadiusUnreachableError naming the server after all retries, within the back-off bound", async () => {
    const silent = await server(() => []);
    const c = client(silent.port, { timeoutMs: 20, retries: 2 });
    const started = performance.now();
    const error = await c.accessRequest(identityRequest()).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(RadiusUnreachableError);
    const e = error as RadiusUnreachableError;
    expect(e.code).toBe("unreachable");
    expect(e.server).toBe(`127.0.0.1:${silent.port}`);
    expect(e.transmissions).toBe(3);
    expect(e.message).toMatch(
      new RegExp(
        `^RADIUS server unreachable: no answer from 127\\.0\\.0\\.1:${silent.port} to 3 transmissions in \\d+ ms$`,
      ),
    );
    // 20 + 40 + 80 ms of back-off; generous upper bound for a loaded machine.
    expect(elapsed).toBeGreaterThanOrEqual(135);
    expect(elapsed).toBeLessThan(2000);
    expect(silent.received.length).toBe(3);
    expect(c.stats.unanswered).toBe(1);
    expect(logLines().some((l) => l.startsWith("RADIUS server unreachable: "))).toBe(true);
  });

  it("rejects with RadiusUnreachableError when nothing listens on the port", async () => {
    const probe = await server(() => []);
    const port = probe.port;
    await servers.pop()!.close();
    const c = client(port, { timeoutMs: 10, retries: 1 });
    await expect(c.accessRequest(identityRequest())).rejects.toThrow(
      `RADIUS server unreachable: no answer from 127.0.0.1:${port} to 2 transmissions`,
    );
  });

  it("RFC 2865 section 3: drops and counts a forged response (bad Response Authenticator), then takes the real one", async () => {
    const fake = await server((request) => [
      { bytes: challenge(request, "not-the-secret") },
      { bytes: challenge(request) },
    ]);
    const c = client(fake.port);
    const reply = await c.accessRequest(identityRequest());
    expect(reply.packet.code).toBe(RadiusCode.AccessChallenge);
    expect(c.stats.dropped["bad-response-authenticator"]).toBe(1);
    expect(logLines()).toContainEqual(
      `Dropped RADIUS datagram from 127.0.0.1:${fake.port}: bad-response-authenticator: Access-Challenge identifier ${reply.packet.identifier}`,
    );
  });

  it("ignores and counts a correctly signed response from a different source port", async () => {
    const fake = await server((request) => [
      { bytes: challenge(request), from: "other" },
      { bytes: challenge(request), from: "main" },
    ]);
    const c = client(fake.port);
    const reply = await c.accessRequest(identityRequest());
    expect(reply.packet.code).toBe(RadiusCode.AccessChallenge);
    expect(c.stats.dropped["wrong-source"]).toBe(1);
    expect(c.stats.replies).toBe(1);
  });

  it("drops malformed, unknown-identifier, wrong-code and bad or missing Message-Authenticator datagrams, one log line each", async () => {
    const fake = await server((request) => {
      const ra = request.authenticator;
      const base = {
        code: RadiusCode.AccessChallenge,
        identifier: request.identifier,
        authenticator: new Uint8Array(16),
        attributes: [radiusAttribute(A.State, "x")],
      };
      // Correct Response Authenticator over a Message-Authenticator keyed with the wrong secret.
      const badMa = withMessageAuthenticator(base, "wrong", ra);
      const noMa = { ...base, authenticator: responseAuthenticator(base, ra, SECRET) };
      return [
        { bytes: new Uint8Array([11, request.identifier, 0]) },
        {
          bytes: encodeRadius(
            signResponse({ ...base, identifier: (request.identifier + 1) & 0xff }, ra, SECRET),
          ),
        },
        {
          bytes: encodeRadius(
            signResponse({ ...base, code: RadiusCode.AccountingResponse }, ra, SECRET),
          ),
        },
        {
          bytes: encodeRadius({
            ...badMa,
            authenticator: responseAuthenticator(badMa, ra, SECRET),
          }),
        },
        { bytes: encodeRadius(noMa) },
        { bytes: challenge(request) },
      ];
    });
    const c = client(fake.port);
    const reply = await c.accessRequest(identityRequest());
    expect(joinEapMessage(reply.packet)).toEqual(EAP_PSK_1);
    expect(c.stats.dropped).toEqual({
      "wrong-source": 0,
      "malformed": 1,
      "protocol-violation": 0,
      "unknown-identifier": 1,
      "unexpected-code": 1,
      "bad-response-authenticator": 0,
      "bad-message-authenticator": 1,
      "missing-message-authenticator": 1,
    });
    expect(logLines().filter((l) => l.startsWith("Dropped RADIUS datagram")).length).toBe(5);
  });

  it("accepts a response without Message-Authenticator when not required", async () => {
    const fake = await server((request) => {
      const base = {
        code: RadiusCode.AccessReject,
        identifier: request.identifier,
        authenticator: new Uint8Array(16),
        attributes: [],
      };
      return [{
        bytes: encodeRadius({
          ...base,
          authenticator: responseAuthenticator(base, request.authenticator, SECRET),
        }),
      }];
    });
    const c = client(fake.port, { requireMessageAuthenticator: false });
    expect((await c.accessRequest(identityRequest())).packet.code).toBe(RadiusCode.AccessReject);
  });

  it("never logs the shared secret or key material", async () => {
    const fake = await server((request) => [
      { bytes: challenge(request, "not-the-secret") },
      { bytes: acceptWithKeys(request) },
    ]);
    const c = client(fake.port);
    c.msk(await c.accessRequest(identityRequest()));
    const all = JSON.stringify(records.map((r) => [r.message, r.properties]));
    expect(records.length).toBeGreaterThan(0);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain("not-the-secret");
  });

  it("runs more than 256 concurrent requests: identifiers are unique among outstanding ones", async () => {
    const held: RadiusPacket[] = [];
    let outstandingIds: Set<number> | undefined;
    const fake = await server((request) => {
      if (outstandingIds === undefined) {
        held.push(request);
        if (held.length < 256) return [];
        outstandingIds = new Set(held.map((r) => r.identifier));
        return held.map((r) => ({ bytes: challenge(r) }));
      }
      return [{ bytes: challenge(request) }];
    });
    const c = client(fake.port, { timeoutMs: 2000 });
    const replies = await Promise.all(
      Array.from({ length: 300 }, () => c.accessRequest(identityRequest())),
    );
    expect(outstandingIds?.size).toBe(256);
    expect(replies.every((r) => r.packet.code === RadiusCode.AccessChallenge)).toBe(true);
    expect(c.stats).toMatchObject({ requests: 300, replies: 300, retransmissions: 0 });
  });

  it("stops retransmitting and rejects with the signal's reason when aborted", async () => {
    const silent = await server(() => []);
    const c = client(silent.port, { timeoutMs: 30, retries: 5 });
    const controller = new AbortController();
    const pending = c.accessRequest(identityRequest(), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("Phase dropped")), 10);
    await expect(pending).rejects.toThrow("Phase dropped");
    await new Promise((r) => setTimeout(r, 100));
    expect(silent.received.length).toBe(1);
  });

  it("rejects outstanding and later requests with RadiusClientClosedError after close()", async () => {
    const silent = await server(() => []);
    const c = client(silent.port, { timeoutMs: 1000 });
    const pending = expect(c.accessRequest(identityRequest())).rejects.toBeInstanceOf(
      RadiusClientClosedError,
    );
    await new Promise((r) => setTimeout(r, 10));
    await c.close();
    await pending;
    await expect(c.accessRequest(identityRequest())).rejects.toThrow(
      `RADIUS client closed: requests to 127.0.0.1:${silent.port} abandoned`,
    );
    await c.close(); // idempotent
  });

  it("reports its local address and a server label", async () => {
    const c = client(1812);
    expect(c.server).toBe("127.0.0.1:1812");
    const local = await c.localAddress();
    expect(local.port).toBeGreaterThan(0);
  });

  it("refuses a host name, a bad port, timer or retry count, and an empty secret with ConfigError", () => {
    const make = (options: Partial<RadiusClientOptions>) => () =>
      new RadiusClient({ server: { host: "127.0.0.1" }, secret: SECRET, ...options });
    expect(make({ server: { host: "localhost" } })).toThrow(
      'Invalid RADIUS server host: expected an IP address, got "localhost"',
    );
    expect(make({ server: { host: "127.0.0.1", port: 0 } })).toThrow(ConfigError);
    expect(make({ timeoutMs: 0 })).toThrow(ConfigError);
    expect(make({ retries: -1 })).toThrow(ConfigError);
    expect(make({ secret: "" })).toThrow("Invalid RADIUS shared secret: empty");
  });
});
