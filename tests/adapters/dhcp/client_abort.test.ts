import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { type DhcpAbortCleanup, dhcpAcquire, DhcpError } from "../../../adapters/dhcp/client.ts";
import { DhcpConfigurator } from "../../../adapters/dhcp/configurator.ts";
import { EmbeddedCa, type EmbeddedCaOptions } from "../../../adapters/dhcp/embedded_ca.ts";
import { type CtnInfo, type MpaSa, PortError } from "../../../lib/ports.ts";
import { decodeDhcp } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType as T } from "../../../lib/wire/dhcp_constants.ts";

const LOOPBACK = "127.0.0.1";
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const NAMES: Readonly<Record<number, string>> = {
  [T.Discover]: "DISCOVER",
  [T.Offer]: "OFFER",
  [T.Request]: "REQUEST",
  [T.Ack]: "ACK",
  [T.Nak]: "NAK",
  [T.Release]: "RELEASE",
};

function nameOf(bytes: Uint8Array): string {
  const type = decodeDhcp(bytes).options.messageType;
  return type === undefined ? "?" : NAMES[type] ?? String(type);
}

async function startCa(extra: Partial<EmbeddedCaOptions> = {}): Promise<EmbeddedCa> {
  const ca = await EmbeddedCa.listen({
    address: LOOPBACK,
    port: 0,
    subnet: "10.0.2.0/24",
    range: ["10.0.2.100", "10.0.2.199"],
    router: "10.0.2.1",
    leaseTimeS: 600,
    ...extra,
  });
  closers.push(() => ca.close());
  return ca;
}

/**
 * A UDP relay between the MN and the CA (the CA answers the relay, which is at the
 * MN's ciaddr). The CA's answers of a kind can be held until the test releases them
 * (it aborts meanwhile) or dropped.
 */
class Relay {
  readonly socket: Socket;
  readonly caPort: number;
  readonly fromMn: string[] = [];
  readonly fromCa: string[] = [];
  rule: (name: string) => "deliver" | "drop" | "hold" = () => "deliver";
  readonly held: (() => void)[] = [];
  #mn: RemoteInfo | undefined;
  #onHeld: (() => void) | undefined;

  private constructor(socket: Socket, caPort: number) {
    this.socket = socket;
    this.caPort = caPort;
    socket.on("message", (msg: Uint8Array, remote: RemoteInfo) => this.#on(msg, remote));
  }

  static async start(caPort: number): Promise<Relay> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, () => resolve()));
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return new Relay(socket, caPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  nextHeld(): Promise<void> {
    return new Promise((resolve) => this.#onHeld = resolve);
  }

  releaseHeld(): void {
    this.held.splice(0).forEach((send) => send());
  }

  #on(msg: Uint8Array, remote: RemoteInfo): void {
    const name = nameOf(new Uint8Array(msg));
    if (remote.port !== this.caPort) {
      this.#mn = remote;
      this.fromMn.push(name);
      this.socket.send(msg, this.caPort, LOOPBACK);
      return;
    }
    this.fromCa.push(name);
    const mn = this.#mn!;
    const send = () => this.socket.send(msg, mn.port, mn.address);
    switch (this.rule(name)) {
      case "deliver":
        return send();
      case "drop":
        return;
      case "hold":
        this.held.push(send);
        this.#onHeld?.();
        this.#onHeld = undefined;
    }
  }
}

async function mnCaKey(): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "raw",
    new Uint8Array(32).fill(3),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

async function fixture(relay: Relay, options: { rapidCommit?: boolean } = {}) {
  const key = await mnCaKey();
  const ctn: CtnInfo = {
    network: "net-b",
    aa: { address: LOOPBACK, port: 1 },
    ca: { address: LOOPBACK, port: relay.port },
    ar: { address: LOOPBACK, port: 2 },
    poas: [],
    subnet: "10.0.2.0/24",
  };
  const sa: MpaSa = {
    ctn: "net-b",
    mnId: "mn1",
    sessionId: 0x1234,
    establishedAt: 0,
    lifetimeMs: 60_000,
    expiresAt: Date.now() + 60_000,
    keyIds: { msk: 1, mnCa: "mn-ca-4660", mnAr: "mn-ar-4660" },
    keys: { mnCa: key, mnAr: key },
  };
  const configurator = new DhcpConfigurator({
    source: LOOPBACK,
    ports: { client: 0 },
    timeoutMs: 2_000,
    retransmitMs: 150,
    ...(options.rapidCommit === true ? { rapidCommit: true } : {}),
  });
  closers.push(() => configurator.idle());
  return { ctn, sa, configurator };
}

async function portError(promise: Promise<unknown>): Promise<PortError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof PortError)) throw new Error(`Expected a PortError, got ${error}`);
  return error;
}

async function until(what: string, condition: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Condition not met in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const bound = (ca: EmbeddedCa) => ca.leases().filter((l) => l.state === "bound");

describe("DHCP acquisition aborted: the CA keeps no lease (RFC 2131 section 4.4.6, RFC 6252 section C.6)", () => {
  it("answers a DHCPACK that comes after the abort with a DHCPRELEASE from the same client id", async () => {
    const ca = await startCa();
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "ACK" ? "hold" : "deliver";
    const { ctn, sa, configurator } = await fixture(relay);
    const controller = new AbortController();
    const held = relay.nextHeld();
    const acquiring = configurator.acquire(ctn, sa, { signal: controller.signal });
    await held; // the CA bound the address; its ACK is on the way
    expect(bound(ca)).toHaveLength(1);
    controller.abort(new Error("planner dropped the phase"));
    const error = await portError(acquiring); // settles while the ACK is still held
    expect(error.code).toBe("aborted");
    relay.releaseHeld();
    await configurator.idle();
    await until("the CA released the lease", () => ca.leases().length === 0);
    expect(relay.fromMn).toEqual(["DISCOVER", "REQUEST", "RELEASE"]);
    expect(ca.stats.releases).toBe(1);
    expect(configurator.leases).toEqual([]);
    expect(configurator.stats.abortCleanups).toEqual({
      started: 1,
      released: 1,
      nothing: 0,
      expiring: 0,
    });
  });

  it("releases the requested address when no answer comes after the abort (the ACK may be lost)", async () => {
    const ca = await startCa();
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "ACK" ? "drop" : "deliver";
    const { ctn, sa, configurator } = await fixture(relay);
    const controller = new AbortController();
    const acquiring = configurator.acquire(ctn, sa, { signal: controller.signal });
    await until("the CA bound the address", () => bound(ca).length === 1);
    controller.abort();
    expect((await portError(acquiring)).code).toBe("aborted");
    await configurator.idle();
    await until("the CA released the lease", () => ca.leases().length === 0);
    expect(relay.fromMn.at(-1)).toBe("RELEASE");
    expect(relay.fromMn.filter((n) => n === "REQUEST")).toHaveLength(1); // no retransmission
    expect(configurator.stats.abortCleanups.released).toBe(1);
  });

  it("releases a rapid-commit DHCPACK (RFC 4039) that comes after the abort", async () => {
    const ca = await startCa();
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "ACK" ? "hold" : "deliver";
    const { ctn, sa, configurator } = await fixture(relay, { rapidCommit: true });
    const controller = new AbortController();
    const held = relay.nextHeld();
    const acquiring = configurator.acquire(ctn, sa, { signal: controller.signal });
    await held;
    controller.abort();
    expect((await portError(acquiring)).code).toBe("aborted");
    relay.releaseHeld();
    await configurator.idle();
    await until("the CA released the lease", () => ca.leases().length === 0);
    expect(relay.fromMn).toEqual(["DISCOVER", "RELEASE"]);
  });

  it("cannot release an unanswered rapid-commit DISCOVER: the CA's lease expires with its lease time", async () => {
    const ca = await startCa({ leaseTimeS: 1 });
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "ACK" ? "drop" : "deliver";
    const { ctn, sa, configurator } = await fixture(relay, { rapidCommit: true });
    const controller = new AbortController();
    const acquiring = configurator.acquire(ctn, sa, { signal: controller.signal });
    await until("the CA bound the address", () => bound(ca).length === 1);
    controller.abort();
    expect((await portError(acquiring)).code).toBe("aborted");
    await configurator.idle();
    expect(relay.fromMn).toEqual(["DISCOVER"]);
    expect(configurator.stats.abortCleanups).toMatchObject({ started: 1, expiring: 1 });
    await until("the lease expired at the CA", () => ca.leases().length === 0, 3_000);
  });

  it("releases nothing when aborted during the selection: the offer lapses at the CA", async () => {
    const ca = await startCa({ offerHoldMs: 200 });
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "OFFER" ? "hold" : "deliver";
    const { ctn, sa, configurator } = await fixture(relay);
    const controller = new AbortController();
    const held = relay.nextHeld();
    const acquiring = configurator.acquire(ctn, sa, { signal: controller.signal });
    await held;
    controller.abort();
    expect((await portError(acquiring)).code).toBe("aborted");
    relay.releaseHeld();
    await configurator.idle();
    expect(relay.fromMn).toEqual(["DISCOVER"]);
    expect(bound(ca)).toEqual([]);
    expect(configurator.stats.abortCleanups.started).toBe(0);
    await until("the offer lapsed", () => ca.leases().length === 0);
  });

  it("reports the cleanup of dhcpAcquire to onAbortCleanup and sends nothing when aborted before", async () => {
    const ca = await startCa();
    const relay = await Relay.start(ca.local.port);
    relay.rule = (name) => name === "ACK" ? "hold" : "deliver";
    const cleanups: Promise<DhcpAbortCleanup>[] = [];
    const controller = new AbortController();
    const held = relay.nextHeld();
    const acquiring = dhcpAcquire({
      server: { address: LOOPBACK, port: relay.port },
      subnet: "10.0.2.0/24",
      mode: "ciaddr",
      source: LOOPBACK,
      sourcePort: 0,
      clientId: new Uint8Array([0, 0x6d, 0x6e, 0x32]),
      retransmitMs: 150,
      signal: controller.signal,
      onAbortCleanup: (c) => void cleanups.push(c),
    });
    await held;
    controller.abort();
    const error = await acquiring.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DhcpError);
    expect((error as DhcpError).code).toBe("aborted");
    relay.releaseHeld();
    expect(cleanups).toHaveLength(1);
    const result = await cleanups[0]!;
    expect(result).toMatchObject({ outcome: "released", reason: "DHCPACK after the abort" });
    expect(result.address).toMatch(/^10\.0\.2\.1\d\d$/);
    await until("the CA released the lease", () => ca.leases().length === 0);

    const before = relay.fromMn.length;
    const early = await dhcpAcquire({
      server: { address: LOOPBACK, port: relay.port },
      subnet: "10.0.2.0/24",
      mode: "ciaddr",
      source: LOOPBACK,
      sourcePort: 0,
      clientId: new Uint8Array([0, 0x6d, 0x6e, 0x33]),
      signal: AbortSignal.abort(),
      onAbortCleanup: (c) => void cleanups.push(c),
    }).then(() => undefined, (e: unknown) => e);
    expect((early as DhcpError).code).toBe("aborted");
    expect(relay.fromMn.length).toBe(before);
    expect(cleanups).toHaveLength(1);
  });
});
