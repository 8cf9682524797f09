import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { signDhcp, verifyDhcp } from "../../../lib/keys/dhcp_auth.ts";
import {
  decodeDhcp,
  type DhcpMessage,
  dhcpMessage,
  type DhcpOptions,
  encodeDhcp,
} from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType as T, DhcpOp } from "../../../lib/wire/dhcp_constants.ts";
import {
  dhcpAcquire,
  type DhcpAcquireOptions,
  DhcpError,
  dhcpInform,
  dhcpRelease,
  dhcpRenew,
} from "../../../adapters/dhcp/client.ts";

/** What the test server answers to one request: messages, raw datagrams, or nothing. */
type Answer = (req: DhcpMessage, bytes: Uint8Array) => Promise<(DhcpMessage | Uint8Array)[]>;

interface TestServer {
  readonly port: number;
  readonly received: DhcpMessage[];
  readonly raw: Uint8Array[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(answer: Answer): Promise<TestServer> {
  const socket: Socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
  const received: DhcpMessage[] = [];
  const raw: Uint8Array[] = [];
  socket.on("message", (data, rinfo) => {
    const bytes = new Uint8Array(data);
    const req = decodeDhcp(bytes);
    received.push(req);
    raw.push(bytes);
    void answer(req, bytes).then((replies) => {
      for (const r of replies) {
        socket.send(r instanceof Uint8Array ? r : encodeDhcp(r), rinfo.port, rinfo.address);
      }
    });
  });
  const server: TestServer = {
    port: socket.address().port,
    received,
    raw,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const SERVER_ID = "10.0.2.1";
const CLIENT_ID = new Uint8Array([0, 0x6d, 0x6e, 0x31]); // type 0, "mn1"

function reply(req: DhcpMessage, type: number, options: DhcpOptions = {}): DhcpMessage {
  return dhcpMessage({
    op: DhcpOp.BootReply,
    xid: req.xid,
    chaddr: req.chaddr,
    yiaddr: type === T.Nak || type === T.Inform ? "0.0.0.0" : "10.0.2.50",
    ciaddr: req.ciaddr,
    giaddr: req.giaddr,
    options: { messageType: type, serverId: SERVER_ID, ...options },
  });
}

const LEASE_OPTIONS: DhcpOptions = {
  leaseTime: 3600,
  subnetMask: "255.255.255.0",
  routers: ["10.0.2.1"],
  dns: ["10.0.2.1", "10.0.2.2"],
  renewalTime: 1800,
  rebindingTime: 3150,
};

/** A well-behaved server: OFFER to DISCOVER, ACK to REQUEST, ACK to INFORM. */
const normal: Answer = (req) => {
  const type = req.options.messageType;
  if (type === T.Discover) return Promise.resolve([reply(req, T.Offer, LEASE_OPTIONS)]);
  if (type === T.Request) return Promise.resolve([reply(req, T.Ack, LEASE_OPTIONS)]);
  if (type === T.Inform) {
    return Promise.resolve([reply(req, T.Ack, { subnetMask: "255.255.255.0", dns: ["10.0.2.2"] })]);
  }
  return Promise.resolve([]);
};

function options(server: TestServer, extra: Partial<DhcpAcquireOptions> = {}): DhcpAcquireOptions {
  return {
    server: { address: "127.0.0.1", port: server.port },
    subnet: "10.0.2.7/24",
    mode: "ciaddr",
    source: "127.0.0.1",
    sourcePort: 0,
    clientId: CLIENT_ID,
    timeoutMs: 2000,
    retransmitMs: 100,
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<DhcpError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DhcpError) return error;
    throw error;
  }
  throw new Error("Expected a DhcpError");
}

describe("dhcpAcquire (RFC 6252 section 7.3.3, RFC 2131 section 3.1)", () => {
  it("ciaddr mode: unicast DISCOVER/OFFER/REQUEST/ACK with ciaddr = oCoA, flag 0, option 118", async () => {
    const server = await startServer(normal);
    const lease = await dhcpAcquire(options(server));
    expect(lease).toMatchObject({
      address: "10.0.2.50",
      mask: "255.255.255.0",
      prefixLength: 24,
      router: "10.0.2.1",
      dns: ["10.0.2.1", "10.0.2.2"],
      leaseTimeS: 3600,
      renewalTimeS: 1800,
      rebindingTimeS: 3150,
      serverId: SERVER_ID,
      clientId: "006d6e31",
      rapidCommit: false,
      transmissions: 2,
      discarded: 0,
    });
    expect(lease.elapsedMs).toBeGreaterThan(0);
    const [discover, request] = server.received;
    expect(server.received.map((m) => m.options.messageType)).toEqual([T.Discover, T.Request]);
    for (const m of [discover!, request!]) {
      expect([m.op, m.flags, m.ciaddr, m.giaddr, m.hops]).toEqual([
        1,
        0,
        "127.0.0.1",
        "0.0.0.0",
        0,
      ]);
      expect(m.options.subnetSelection).toBe("10.0.2.0");
      expect(m.options.clientId).toEqual(CLIENT_ID);
      expect(m.chaddr.length).toBe(6);
      expect(m.chaddr[0]! & 0x03).toBe(0x02); // locally administered unicast
    }
    expect(request!.xid).toBe(discover!.xid); // RFC 2131 section 4.4.1
    expect(discover!.options.rapidCommit).toBeUndefined();
    expect([request!.options.requestedAddress, request!.options.serverId]).toEqual([
      "10.0.2.50",
      SERVER_ID,
    ]);
  });

  it("relay mode: giaddr = oCoA, ciaddr 0, hops 0 (RFC 2131 section 4.1)", async () => {
    const server = await startServer(normal);
    const lease = await dhcpAcquire(options(server, { mode: "relay" }));
    expect(lease.address).toBe("10.0.2.50");
    for (const m of server.received) {
      expect([m.ciaddr, m.giaddr, m.hops, m.flags]).toEqual(["0.0.0.0", "127.0.0.1", 0, 0]);
    }
  });

  it("uses a type-1 client id's MAC as chaddr and an explicit chaddr when given", async () => {
    const server = await startServer(normal);
    const mac = new Uint8Array([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    await dhcpAcquire(options(server, { clientId: new Uint8Array([1, ...mac]) }));
    expect(server.received[0]!.chaddr).toEqual(mac);
    const chaddr = new Uint8Array([0x02, 1, 2, 3, 4, 5]);
    await dhcpAcquire(options(server, { chaddr }));
    expect(server.received[2]!.chaddr).toEqual(chaddr);
  });

  it("rapid commit: DISCOVER with option 80 answered by ACK with option 80 (RFC 4039 section 4)", async () => {
    const server = await startServer((req) =>
      Promise.resolve(
        req.options.rapidCommit === true
          ? [reply(req, T.Ack, { ...LEASE_OPTIONS, rapidCommit: true })]
          : [],
      )
    );
    const lease = await dhcpAcquire(options(server, { rapidCommit: true }));
    expect(lease.rapidCommit).toBe(true);
    expect(lease.transmissions).toBe(1);
    expect(server.received.map((m) => m.options.messageType)).toEqual([T.Discover]);
  });

  it("rapid commit asked, server without it: falls back to the four messages", async () => {
    const server = await startServer(normal);
    const lease = await dhcpAcquire(options(server, { rapidCommit: true }));
    expect(lease.rapidCommit).toBe(false);
    expect(server.received[0]!.options.rapidCommit).toBe(true);
    expect(server.received.length).toBe(2);
  });

  it("ignores an ACK without option 80 to the DISCOVER (RFC 4039 section 4)", async () => {
    const server = await startServer((req) =>
      Promise.resolve(
        req.options.messageType === T.Discover
          ? [reply(req, T.Ack, LEASE_OPTIONS), reply(req, T.Offer, LEASE_OPTIONS)]
          : [reply(req, T.Ack, LEASE_OPTIONS)],
      )
    );
    const lease = await dhcpAcquire(options(server, { rapidCommit: true }));
    expect(lease.rapidCommit).toBe(false);
    expect(lease.discarded).toBeGreaterThanOrEqual(1);
  });

  it("DHCPNAK to the REQUEST rejects with code nak and the server's message", async () => {
    const server = await startServer((req) =>
      Promise.resolve(
        req.options.messageType === T.Discover
          ? [reply(req, T.Offer, LEASE_OPTIONS)]
          : [reply(req, T.Nak, { message: "address not available" })],
      )
    );
    const error = await rejection(dhcpAcquire(options(server)));
    expect(error.code).toBe("nak");
    expect(error.message).toBe("DHCPNAK from 10.0.2.1: address not available");
  });

  it("times out after retransmitting with backoff when no server answers (RFC 2131 section 4.1)", async () => {
    const server = await startServer(() => Promise.resolve([]));
    const error = await rejection(
      dhcpAcquire(options(server, { timeoutMs: 500, retransmitMs: 50 })),
    );
    expect(error.code).toBe("timeout");
    expect(error.message).toMatch(
      /^No DHCP answer from 127\.0\.0\.1: \d+ transmissions in \d+ ms$/,
    );
    // First at 0, then about 50, 150, 350 ms: 4, allowing for slow timers.
    expect(error.transmissions).toBeGreaterThanOrEqual(3);
    expect(error.transmissions).toBeLessThanOrEqual(5);
    await expect.poll(() => server.received.length).toBe(error.transmissions);
    const xids = new Set(server.received.map((m) => m.xid));
    expect(xids.size).toBe(1); // retransmissions keep the xid
  });

  it("discards and counts stray replies: garbage, wrong op, xid, chaddr, type", async () => {
    const server = await startServer((req) => {
      if (req.options.messageType !== T.Discover) return normal(req, new Uint8Array());
      const good = reply(req, T.Offer, LEASE_OPTIONS);
      return Promise.resolve([
        new Uint8Array([1, 2, 3]),
        dhcpMessage({ ...good, op: DhcpOp.BootRequest }),
        dhcpMessage({ ...good, xid: (req.xid + 1) >>> 0 }),
        dhcpMessage({ ...good, chaddr: new Uint8Array([2, 9, 9, 9, 9, 9]) }),
        reply(req, T.Ack, LEASE_OPTIONS), // an ACK without rapid commit to a DISCOVER
        good,
      ]);
    });
    const lease = await dhcpAcquire(options(server));
    expect(lease.address).toBe("10.0.2.50");
    expect(lease.discarded).toBe(5);
  });

  it("aborts on the signal, before and during the exchange", async () => {
    const server = await startServer(() => Promise.resolve([]));
    const pre = new AbortController();
    pre.abort();
    expect((await rejection(dhcpAcquire(options(server, { signal: pre.signal })))).code).toBe(
      "aborted",
    );
    expect(server.received.length).toBe(0);
    const during = new AbortController();
    const pending = dhcpAcquire(options(server, { signal: during.signal }));
    await expect.poll(() => server.received.length).toBeGreaterThan(0);
    during.abort();
    const error = await rejection(pending);
    expect(error.code).toBe("aborted");
    expect(error.transmissions).toBeGreaterThan(0);
  });

  it("reports unreachable when the source address cannot be bound", async () => {
    const server = await startServer(normal);
    const error = await rejection(dhcpAcquire(options(server, { source: "203.0.113.77" })));
    expect(error.code).toBe("unreachable");
    expect(error.message).toMatch(/^Cannot bind DHCP client to 203\.0\.113\.77:0: /);
  });

  it("reports protocol for a bad subnet, a short client id, and an ACK without lease time", async () => {
    const server = await startServer((req) =>
      Promise.resolve(
        req.options.messageType === T.Discover ? [reply(req, T.Offer)] : [reply(req, T.Ack)],
      )
    );
    expect((await rejection(dhcpAcquire(options(server, { subnet: "10.0.2.0" })))).code).toBe(
      "protocol",
    );
    expect(
      (await rejection(dhcpAcquire(options(server, { clientId: new Uint8Array([1]) })))).code,
    ).toBe("protocol");
    const error = await rejection(dhcpAcquire(options(server)));
    expect([error.code, error.message]).toEqual([
      "protocol",
      "Invalid DHCPACK: no lease time (option 51)",
    ]);
  });

  it("falls back to the subnet's prefix when the ACK has no mask", async () => {
    const server = await startServer((req) =>
      Promise.resolve([reply(req, req.options.messageType === T.Discover ? T.Offer : T.Ack, {
        leaseTime: 60,
      })])
    );
    const lease = await dhcpAcquire(options(server, { subnet: "10.0.0.0/16" }));
    expect([lease.mask, lease.prefixLength, lease.router, lease.dns]).toEqual([
      "255.255.0.0",
      16,
      undefined,
      [],
    ]);
  });
});

describe("option 90 with the MN-CA key (RFC 3118, RFC 6252 section 7.3.3)", () => {
  const key = () =>
    crypto.subtle.importKey(
      "raw",
      new Uint8Array(32).fill(9),
      { name: "HMAC", hash: "SHA-256" },
      false,
      [
        "sign",
        "verify",
      ],
    );

  it("signs every request with an increasing counter; verifies signed replies", async () => {
    const k = await key();
    const counters: bigint[] = [];
    const server = await startServer(async (req, bytes) => {
      const { sessionId, counter } = await verifyDhcp(bytes, k);
      expect(sessionId).toBe(77);
      counters.push(counter);
      const type = req.options.messageType === T.Discover ? T.Offer : T.Ack;
      return [await signDhcp(reply(req, type, LEASE_OPTIONS), k, 77, counter)];
    });
    const lease = await dhcpAcquire(options(server, { auth: { key: k, sessionId: 77 } }));
    expect(lease.address).toBe("10.0.2.50");
    expect(counters.length).toBe(2);
    expect(counters[1]! > counters[0]!).toBe(true);
  });

  it("discards a reply whose option 90 does not verify, and one without it when required", async () => {
    const k = await key();
    const other = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(32).fill(1),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const server = await startServer(async (req) => {
      const type = req.options.messageType === T.Discover ? T.Offer : T.Ack;
      return [
        await signDhcp(reply(req, type, LEASE_OPTIONS), other, 77, 1n), // forged
        encodeDhcp(reply(req, type, LEASE_OPTIONS)), // unsigned
        await signDhcp(reply(req, type, LEASE_OPTIONS), k, 77, 2n),
      ];
    });
    const lease = await dhcpAcquire(
      options(server, { auth: { key: k, sessionId: 77, requireSignedReplies: true } }),
    );
    expect(lease.address).toBe("10.0.2.50");
    expect(lease.discarded).toBeGreaterThanOrEqual(4);
  });
});

describe("dhcpRenew, dhcpInform, dhcpRelease (RFC 2131 sections 4.3.2, 3.4, 4.4.6)", () => {
  const base = (server: TestServer) => ({
    server: { address: "127.0.0.1", port: server.port },
    source: "127.0.0.1",
    sourcePort: 0,
    clientId: CLIENT_ID,
    timeoutMs: 2000,
    retransmitMs: 100,
  });

  it("renews with a REQUEST carrying ciaddr = the lease, no option 50/54, same client id", async () => {
    const server = await startServer(normal);
    const lease = await dhcpRenew({ ...base(server), address: "10.0.2.50" });
    expect([lease.address, lease.leaseTimeS, lease.clientId]).toEqual([
      "10.0.2.50",
      3600,
      "006d6e31",
    ]);
    const [req] = server.received;
    expect(req!.options.messageType).toBe(T.Request);
    expect([req!.ciaddr, req!.giaddr]).toEqual(["10.0.2.50", "0.0.0.0"]);
    expect([req!.options.requestedAddress, req!.options.serverId]).toEqual([undefined, undefined]);
    expect(req!.options.clientId).toEqual(CLIENT_ID);
  });

  it("renews in relay mode before the move: giaddr = oCoA, ciaddr = lease", async () => {
    const server = await startServer(normal);
    await dhcpRenew({
      ...base(server),
      address: "10.0.2.50",
      mode: "relay",
      subnet: "10.0.2.0/24",
    });
    const [req] = server.received;
    expect([req!.ciaddr, req!.giaddr, req!.options.subnetSelection]).toEqual([
      "10.0.2.50",
      "127.0.0.1",
      "10.0.2.0",
    ]);
  });

  it("a NAK to the renewal rejects with nak", async () => {
    const server = await startServer((req) => Promise.resolve([reply(req, T.Nak)]));
    const error = await rejection(dhcpRenew({ ...base(server), address: "10.0.2.50" }));
    expect([error.code, error.message]).toEqual(["nak", "DHCPNAK from 10.0.2.1"]);
  });

  it("informs: DHCPINFORM with ciaddr, parameters from the ACK", async () => {
    const server = await startServer(normal);
    const info = await dhcpInform({ ...base(server), address: "10.0.2.50" });
    expect(info).toMatchObject({
      mask: "255.255.255.0",
      prefixLength: 24,
      dns: ["10.0.2.2"],
      serverId: SERVER_ID,
    });
    expect(server.received[0]!.options.messageType).toBe(T.Inform);
    expect(server.received[0]!.ciaddr).toBe("10.0.2.50");
  });

  it("releases with one DHCPRELEASE naming the server id", async () => {
    const server = await startServer(normal);
    await dhcpRelease({ ...base(server), address: "10.0.2.50", serverId: SERVER_ID });
    await expect.poll(() => server.received.length).toBe(1);
    const [m] = server.received;
    expect([m!.options.messageType, m!.ciaddr, m!.options.serverId]).toEqual([
      T.Release,
      "10.0.2.50",
      SERVER_ID,
    ]);
  });
});
