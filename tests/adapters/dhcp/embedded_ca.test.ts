/**
 * The embedded configuration agent on the loopback (RFC 6252 section 7.3.3), driven by
 * the MN's proactive DHCP client and by raw datagrams. No root: ephemeral ports.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import {
  dhcpAcquire,
  DhcpError,
  dhcpInform,
  dhcpRelease,
  dhcpRenew,
} from "../../../adapters/dhcp/client.ts";
import { EmbeddedCa, type EmbeddedCaOptions } from "../../../adapters/dhcp/embedded_ca.ts";
import { signDhcp } from "../../../lib/keys/dhcp_auth.ts";
import { decodeDhcp, type DhcpMessage, dhcpMessage, encodeDhcp } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType } from "../../../lib/wire/dhcp_constants.ts";

const CLIENT_A = new Uint8Array([1, 0x02, 0, 0, 0, 0, 0x0a]);
const CLIENT_B = new Uint8Array([1, 0x02, 0, 0, 0, 0, 0x0b]);

const open: EmbeddedCa[] = [];
afterEach(async () => {
  for (const ca of open.splice(0)) await ca.close();
});

async function listen(extra: Partial<EmbeddedCaOptions> = {}): Promise<EmbeddedCa> {
  const ca = await EmbeddedCa.listen({
    address: "127.0.0.1",
    port: 0,
    subnet: "10.0.2.0/24",
    range: ["10.0.2.100", "10.0.2.199"],
    router: "10.0.2.1",
    dns: ["10.0.2.2"],
    leaseTimeS: 600,
    ...extra,
  });
  open.push(ca);
  return ca;
}

function acquire(
  ca: EmbeddedCa,
  extra: Partial<Parameters<typeof dhcpAcquire>[0]> = {},
) {
  return dhcpAcquire({
    server: { address: "127.0.0.1", port: ca.local.port },
    subnet: "10.0.2.0/24",
    mode: "ciaddr",
    source: "127.0.0.1",
    sourcePort: 0,
    clientId: CLIENT_A,
    timeoutMs: 2000,
    retransmitMs: 200,
    ...extra,
  });
}

async function hmacKey(fill: number): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    new Uint8Array(32).fill(fill),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** A raw UDP peer on 127.0.0.1 that collects the replies it gets. */
async function rawPeer(): Promise<{
  socket: Socket;
  replies: DhcpMessage[];
  send(bytes: Uint8Array, port: number): Promise<void>;
  next(): Promise<DhcpMessage>;
}> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const replies: DhcpMessage[] = [];
  const waiters: ((m: DhcpMessage) => void)[] = [];
  socket.on("message", (data: Uint8Array) => {
    const msg = decodeDhcp(new Uint8Array(data));
    const w = waiters.shift();
    if (w !== undefined) w(msg);
    else replies.push(msg);
  });
  return {
    socket,
    replies,
    send: (bytes, port) =>
      new Promise((resolve, reject) =>
        socket.send(bytes, port, "127.0.0.1", (e) => (e ? reject(e) : resolve()))
      ),
    next: () =>
      new Promise((resolve) => {
        const queued = replies.shift();
        if (queued !== undefined) resolve(queued);
        else waiters.push(resolve);
      }),
  };
}

/** Waits until a counter of the CA reaches a value (the event, not a fixed sleep). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("EmbeddedCa: proactive DHCP of RFC 6252 section 7.3.3", () => {
  it("ciaddr mode: DISCOVER/OFFER/REQUEST/ACK with option 118, mask, router, DNS, lease time", async () => {
    const ca = await listen();
    const lease = await acquire(ca);
    expect(lease).toMatchObject({
      address: "10.0.2.100",
      mask: "255.255.255.0",
      prefixLength: 24,
      router: "10.0.2.1",
      dns: ["10.0.2.2"],
      leaseTimeS: 600,
      renewalTimeS: 300,
      rebindingTimeS: 525,
      serverId: "127.0.0.1",
      rapidCommit: false,
    });
    expect(ca.stats).toMatchObject({ received: 2, offers: 1, acks: 1, naks: 0 });
    expect(ca.leases()).toEqual([
      expect.objectContaining({
        address: "10.0.2.100",
        state: "bound",
        clientId: "0102000000000a",
      }),
    ]);
  });

  it("relay mode with rapid commit (RFC 4039): one DISCOVER, one ACK to giaddr at the source port", async () => {
    const ca = await listen();
    const lease = await acquire(ca, { mode: "relay", rapidCommit: true });
    expect(lease.address).toBe("10.0.2.100");
    expect(lease.rapidCommit).toBe(true);
    expect(ca.stats).toMatchObject({ received: 1, offers: 0, acks: 1 });
  });

  it("rapid commit off at the CA: the DISCOVER with option 80 gets an OFFER", async () => {
    const ca = await listen({ rapidCommit: false });
    const lease = await acquire(ca, { rapidCommit: true });
    expect(lease.rapidCommit).toBe(false);
    expect(ca.stats).toMatchObject({ offers: 1, acks: 1 });
  });

  it("the same client identifier gets the same address back, another one a different address", async () => {
    const ca = await listen();
    const first = await acquire(ca);
    const other = await acquire(ca, { clientId: CLIENT_B, mode: "relay" });
    const again = await acquire(ca, { mode: "relay" });
    expect(again.address).toBe(first.address);
    expect(other.address).not.toBe(first.address);
    expect(ca.leases().map((l) => l.address)).toEqual(["10.0.2.100", "10.0.2.101"]);
  });

  it("answers only admitted MNs: not admitted -> no answer (timeout), admitted -> lease", async () => {
    const admitted = new Set<string>();
    const ca = await listen({ isAllowed: (source) => admitted.has(source) });
    const error = await acquire(ca, { timeoutMs: 300, retransmitMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DhcpError);
    expect((error as DhcpError).code).toBe("timeout");
    expect(ca.stats.droppedGated).toBeGreaterThanOrEqual(1);
    expect(ca.stats.offers).toBe(0);
    admitted.add("127.0.0.1");
    expect((await acquire(ca)).address).toBe("10.0.2.100");
  });

  it("RFC 3118 option 90 under the MN-CA key: required, verified, replies signed", async () => {
    const key = await hmacKey(7);
    const ca = await listen({ keys: (id) => (id === 42 ? key : undefined) });
    const lease = await acquire(ca, {
      auth: { key, sessionId: 42, requireSignedReplies: true },
      rapidCommit: true,
    });
    expect(lease.address).toBe("10.0.2.100");
    const unsigned = await acquire(ca, { timeoutMs: 300, retransmitMs: 100 }).catch((e) => e);
    expect((unsigned as DhcpError).code).toBe("timeout");
    const wrongKey = await acquire(ca, {
      auth: { key: await hmacKey(8), sessionId: 42 },
      timeoutMs: 300,
      retransmitMs: 100,
    }).catch((e) => e);
    expect((wrongKey as DhcpError).code).toBe("timeout");
    const unknownSession = await acquire(ca, {
      auth: { key, sessionId: 43 },
      timeoutMs: 300,
      retransmitMs: 100,
    }).catch((e) => e);
    expect((unknownSession as DhcpError).code).toBe("timeout");
    expect(ca.stats.droppedBadAuth).toBeGreaterThanOrEqual(3);
  });

  it("RFC 3118 section 2: a replayed signed DISCOVER is dropped", async () => {
    const key = await hmacKey(7);
    const ca = await listen({ keys: () => key });
    const peer = await rawPeer();
    try {
      const bytes = await signDhcp(
        dhcpMessage({
          xid: 1,
          ciaddr: "127.0.0.1",
          options: { messageType: DhcpMessageType.Discover, clientId: CLIENT_A },
        }),
        key,
        42,
        5n,
      );
      await peer.send(bytes, ca.local.port);
      const offer = await peer.next();
      expect(offer.options.messageType).toBe(DhcpMessageType.Offer);
      expect(offer.options.auth).toBeDefined();
      await peer.send(bytes, ca.local.port);
      await until(() => ca.stats.droppedBadAuth === 1);
      expect(ca.stats.offers).toBe(1);
    } finally {
      peer.socket.close();
    }
  });

  it("RENEW after the move (RFC 2131 section 4.3.2): same client id from the new address extends the lease; a wrong address is NAKed", async () => {
    const ca = await listen({ subnet: "127.0.2.0/24", range: ["127.0.2.100", "127.0.2.110"] });
    const lease = await acquire(ca, { subnet: "127.0.2.0/24" });
    expect(lease.address).toBe("127.0.2.100");
    const renewed = await dhcpRenew({
      server: { address: "127.0.0.1", port: ca.local.port },
      address: lease.address,
      sourcePort: 0,
      clientId: CLIENT_A,
      timeoutMs: 2000,
    });
    expect(renewed.address).toBe("127.0.2.100");
    expect(renewed.leaseTimeS).toBe(600);
    const nak = await dhcpRenew({
      server: { address: "127.0.0.1", port: ca.local.port },
      address: "127.0.2.105",
      sourcePort: 0,
      clientId: CLIENT_A,
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(nak).toBeInstanceOf(DhcpError);
    expect((nak as DhcpError).code).toBe("nak");
    expect(ca.stats.naks).toBe(1);
  });

  it("RENEW before the move, relay mode from the old address, by client id", async () => {
    const ca = await listen();
    const lease = await acquire(ca, { mode: "relay" });
    const renewed = await dhcpRenew({
      server: { address: "127.0.0.1", port: ca.local.port },
      mode: "relay",
      source: "127.0.0.1",
      address: lease.address,
      sourcePort: 0,
      subnet: "10.0.2.0/24",
      clientId: CLIENT_A,
      timeoutMs: 2000,
    });
    expect(renewed.address).toBe(lease.address);
  });

  it("DHCPREQUEST for an address never offered is NAKed (RFC 2131 section 4.3.2)", async () => {
    const ca = await listen();
    const peer = await rawPeer();
    try {
      await peer.send(
        encodeDhcp(dhcpMessage({
          xid: 9,
          ciaddr: "127.0.0.1",
          options: {
            messageType: DhcpMessageType.Request,
            clientId: CLIENT_A,
            serverId: ca.serverId,
            requestedAddress: "10.0.2.150",
            subnetSelection: "10.0.2.0",
          },
        })),
        ca.local.port,
      );
      const nak = await peer.next();
      expect(nak.options.messageType).toBe(DhcpMessageType.Nak);
      expect(nak.yiaddr).toBe("0.0.0.0");
      expect(nak.options.subnetSelection).toBe("10.0.2.0");
      expect(nak.xid).toBe(9);
    } finally {
      peer.socket.close();
    }
  });

  it("INFORM (RFC 2131 section 3.4) returns router and DNS without a lease; RELEASE frees the address", async () => {
    const ca = await listen({ subnet: "127.0.2.0/24", range: ["127.0.2.100", "127.0.2.110"] });
    const lease = await acquire(ca, { subnet: "127.0.2.0/24" });
    const info = await dhcpInform({
      server: { address: "127.0.0.1", port: ca.local.port },
      address: lease.address,
      sourcePort: 0,
      clientId: CLIENT_A,
      timeoutMs: 2000,
    });
    expect(info).toMatchObject({ router: "10.0.2.1", dns: ["10.0.2.2"], prefixLength: 24 });
    await dhcpRelease({
      server: { address: "127.0.0.1", port: ca.local.port },
      address: lease.address,
      serverId: lease.serverId,
      sourcePort: 0,
      clientId: CLIENT_A,
    });
    await until(() => ca.stats.releases === 1);
    expect(ca.leases()).toEqual([]);
  });

  it("lease expiry follows the injected clock: an expired address goes to another client", async () => {
    let now = 1_000_000;
    const ca = await listen({ range: ["10.0.2.100", "10.0.2.100"], now: () => now });
    expect((await acquire(ca)).address).toBe("10.0.2.100");
    const exhausted = await acquire(ca, { clientId: CLIENT_B, timeoutMs: 300, retransmitMs: 100 })
      .catch((e) => e);
    expect((exhausted as DhcpError).code).toBe("timeout");
    expect(ca.stats.ignored).toBeGreaterThanOrEqual(1);
    now += 601_000;
    expect(ca.leases()).toEqual([]);
    expect((await acquire(ca, { clientId: CLIENT_B })).address).toBe("10.0.2.100");
  });

  it("option 118 naming another subnet is left unanswered", async () => {
    const ca = await listen();
    const error = await acquire(ca, { subnet: "10.0.9.0/24", timeoutMs: 300, retransmitMs: 100 })
      .catch((e) => e);
    expect((error as DhcpError).code).toBe("timeout");
    expect(ca.stats.ignored).toBeGreaterThanOrEqual(1);
  });

  it("never crashes on malformed input: short, bad cookie, BOOTREPLY, no type are counted", async () => {
    const ca = await listen();
    const peer = await rawPeer();
    try {
      const badCookie = encodeDhcp(dhcpMessage({ options: { messageType: 1 } }));
      badCookie[236] = 0;
      const datagrams = [
        new Uint8Array([1, 2, 3]),
        badCookie,
        encodeDhcp(dhcpMessage({ op: 2, options: { messageType: 2 } })),
        encodeDhcp(dhcpMessage({ options: {} })),
        crypto.getRandomValues(new Uint8Array(600)),
      ];
      for (const d of datagrams) await peer.send(d, ca.local.port);
      await until(() => ca.stats.malformed === datagrams.length);
      expect((await acquire(ca)).address).toBe("10.0.2.100");
    } finally {
      peer.socket.close();
    }
  });

  it("refuses a bad configuration", async () => {
    await expect(listen({ range: ["10.0.3.1", "10.0.3.9"] })).rejects.toThrow(TypeError);
    await expect(listen({ subnet: "10.0.2.0/33" })).rejects.toThrow(TypeError);
    await expect(listen({ address: "localhost" })).rejects.toThrow(TypeError);
  });
});
