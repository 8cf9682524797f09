import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { DhcpConfigurator } from "../../../adapters/dhcp/configurator.ts";
import { verifyDhcp } from "../../../lib/keys/dhcp_auth.ts";
import { type CtnInfo, type MpaSa, PortError } from "../../../lib/ports.ts";
import { decodeDhcp, type DhcpMessage, dhcpMessage, encodeDhcp } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType as T, DhcpOp } from "../../../lib/wire/dhcp_constants.ts";

type Mode = "normal" | "nak" | "silent" | "no-lease-time";

interface Server {
  readonly port: number;
  readonly received: { readonly msg: DhcpMessage; readonly bytes: Uint8Array }[];
  mode: Mode;
  close(): Promise<void>;
}

const open: Server[] = [];

async function startServer(): Promise<Server> {
  const socket: Socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
  const server: Server = {
    port: socket.address().port,
    received: [],
    mode: "normal",
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (data, rinfo) => {
    const bytes = new Uint8Array(data);
    const msg = decodeDhcp(bytes);
    server.received.push({ msg, bytes });
    const type = msg.options.messageType;
    if (server.mode === "silent" || type === T.Release) return;
    const replyType = server.mode === "nak" ? T.Nak : type === T.Discover ? T.Offer : T.Ack;
    const reply = dhcpMessage({
      op: DhcpOp.BootReply,
      xid: msg.xid,
      chaddr: msg.chaddr,
      yiaddr: replyType === T.Nak ? "0.0.0.0" : "10.0.2.50",
      options: {
        messageType: replyType,
        serverId: "10.0.2.1",
        ...(replyType === T.Nak ? { message: "no address" } : {
          subnetMask: "255.255.255.0",
          routers: ["10.0.2.1"],
          dns: ["10.0.2.53"],
          ...(server.mode === "no-lease-time" ? {} : { leaseTime: 600 }),
        }),
      },
    });
    socket.send(encodeDhcp(reply), rinfo.port, rinfo.address);
  });
  open.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function mnCa(): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    new Uint8Array(32).fill(3),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

async function fixture(server: Server, now = 1_000) {
  const key = await mnCa();
  const ctn: CtnInfo = {
    network: "net-b",
    aa: { address: "127.0.0.1", port: 1 },
    ca: { address: "127.0.0.1", port: server.port },
    ar: { address: "127.0.0.1", port: 2 },
    poas: [],
    subnet: "10.0.2.0/24",
  };
  const sa: MpaSa = {
    ctn: "net-b",
    mnId: "mn1",
    sessionId: 0x1234,
    establishedAt: 0,
    lifetimeMs: 60_000,
    expiresAt: 60_000,
    keyIds: { msk: 1, mnCa: "mn-ca-4660", mnAr: "mn-ar-4660" },
    keys: { mnCa: key, mnAr: key },
  };
  const configurator = new DhcpConfigurator({
    source: "127.0.0.1",
    ports: { client: 0 },
    timeoutMs: 400,
    retransmitMs: 50,
    now: () => now,
  });
  return { key, ctn, sa, configurator };
}

async function portError(p: Promise<unknown>): Promise<PortError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof PortError) return error;
    throw error;
  }
  throw new Error("Expected a PortError");
}

describe("DhcpConfigurator (Configurator port, RFC 6252 section 7.3.3)", () => {
  it("acquires a dhcp-unicast lease signed with the MN-CA key and option 118", async () => {
    const server = await startServer();
    const { key, ctn, sa, configurator } = await fixture(server);
    const lease = await configurator.acquire(ctn, sa);
    expect(lease).toEqual({
      ctn: "net-b",
      nCoA: "10.0.2.50",
      prefixLength: 24,
      router: "10.0.2.1",
      dns: ["10.0.2.53"],
      obtainedAt: 1_000,
      lifetimeMs: 600_000,
      expiresAt: 601_000,
      serverId: "10.0.2.1",
      clientId: "006d6e31", // type 0 + "mn1"
      method: "dhcp-unicast",
    });
    expect(configurator.leases).toEqual([lease]);
    for (const { msg, bytes } of server.received) {
      expect(msg.options.subnetSelection).toBe("10.0.2.0");
      expect((await verifyDhcp(bytes, key)).sessionId).toBe(0x1234);
    }
  });

  it("renews with the same client id and ciaddr = nCoA (as its own relay before the move), then releases", async () => {
    const server = await startServer();
    const { ctn, sa, configurator } = await fixture(server);
    const lease = await configurator.acquire(ctn, sa);
    const renewed = await configurator.renew(lease);
    expect(renewed.nCoA).toBe(lease.nCoA);
    const renewal = server.received[2]!.msg;
    // 10.0.2.50 is not local here (before the move): sent from the oCoA as a relay.
    expect([renewal.options.messageType, renewal.ciaddr, renewal.giaddr]).toEqual([
      T.Request,
      "10.0.2.50",
      "127.0.0.1",
    ]);
    expect(renewal.options.subnetSelection).toBe("10.0.2.0");
    expect(renewal.options.clientId).toEqual(server.received[0]!.msg.options.clientId);
    await configurator.release(renewed);
    await expect.poll(() => server.received.length).toBe(4);
    expect(server.received[3]!.msg.options.messageType).toBe(T.Release);
    expect(configurator.leases).toEqual([]);
    expect((await portError(configurator.release(renewed))).code).toBe("not-found");
    expect((await portError(configurator.renew(renewed))).code).toBe("not-found");
  });

  it("maps DHCPNAK to rejected, silence to timeout, a bad ACK to protocol", async () => {
    const server = await startServer();
    const { ctn, sa, configurator } = await fixture(server);
    server.mode = "nak";
    const nak = await portError(configurator.acquire(ctn, sa));
    expect([nak.port, nak.code, nak.message]).toEqual([
      "Configurator",
      "rejected",
      "DHCPNAK from 10.0.2.1: no address",
    ]);
    server.mode = "silent";
    expect((await portError(configurator.acquire(ctn, sa))).code).toBe("timeout");
    server.mode = "no-lease-time";
    expect((await portError(configurator.acquire(ctn, sa))).code).toBe("protocol");
  });

  it("maps the signal to aborted and a bind failure to unreachable", async () => {
    const server = await startServer();
    const { ctn, sa, configurator } = await fixture(server);
    const ac = new AbortController();
    ac.abort();
    expect((await portError(configurator.acquire(ctn, sa, { signal: ac.signal }))).code).toBe(
      "aborted",
    );
    const away = new DhcpConfigurator({
      source: "203.0.113.9",
      ports: { client: 0 },
      now: () => 0,
    });
    expect((await portError(away.acquire(ctn, sa))).code).toBe("unreachable");
  });

  it("refuses an expired SA, another CTN's SA and a CTN without subnet before sending", async () => {
    const server = await startServer();
    const late = await fixture(server, 60_000);
    expect((await portError(late.configurator.acquire(late.ctn, late.sa))).code).toBe("rejected");
    const { ctn, sa, configurator } = await fixture(server);
    expect((await portError(configurator.acquire({ ...ctn, network: "net-c" }, sa))).code).toBe(
      "rejected",
    );
    const { subnet: _, ...noSubnet } = ctn;
    expect((await portError(configurator.acquire(noSubnet, sa))).code).toBe("protocol");
    expect(server.received.length).toBe(0);
  });

  it("renews a renewed lease but not a lease it never granted", async () => {
    const server = await startServer();
    const { ctn, sa, configurator } = await fixture(server);
    const lease = await configurator.acquire(ctn, sa);
    expect((await portError(configurator.renew({ ...lease, nCoA: "10.0.2.99" }))).code).toBe(
      "not-found",
    );
    server.mode = "silent";
    expect((await portError(configurator.renew(lease))).code).toBe("timeout");
    expect(configurator.leases.length).toBe(1); // a failed renewal keeps the lease
  });
});
