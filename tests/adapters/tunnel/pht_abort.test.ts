import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { PhtAr } from "../../../adapters/tunnel/pht_ar.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { importMnArKey } from "../../../lib/keys/pht_keys.ts";
import { PortError, type TunnelEndpoints } from "../../../lib/ports.ts";
import { decodePhtFrame } from "../../../lib/wire/pht.ts";

const LOOPBACK = "127.0.0.1";
const SESSION = 7;
const RAW = new Uint8Array(32).fill(9);
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function startAr(maxLifetimeMs?: number): Promise<PhtAr> {
  const ar = await PhtAr.listen({
    listen: { address: LOOPBACK, port: 0 },
    keys: (id) => id === SESSION ? RAW : undefined,
    ...(maxLifetimeMs === undefined ? {} : { maxLifetimeMs }),
  });
  closers.push(() => ar.close());
  return ar;
}

function newMn(options: { lifetimeMs?: number; timeoutMs?: number } = {}): PhtTunnelManager {
  const mn = new PhtTunnelManager({ sessionId: () => SESSION, timeoutMs: 200, ...options });
  closers.push(() => mn[Symbol.asyncDispose]());
  return mn;
}

/** The kind of a PHT datagram (`data` or the management message kind). */
function kindOf(bytes: Uint8Array): string {
  const frame = decodePhtFrame(bytes);
  return frame.kind === "data" ? "data" : frame.message.kind;
}

/**
 * A UDP relay between the MN and the AR: the MN's `endpoints.ar` is the relay. The
 * AR's answers of a kind can be held (the test aborts meanwhile, then releases them)
 * or dropped.
 */
class Relay {
  readonly socket: Socket;
  readonly arPort: number;
  readonly fromMn: string[] = [];
  readonly fromAr: string[] = [];
  /** What to do with the AR's answer number `n` (1-based) of `kind`. */
  rule: (kind: string, n: number) => "deliver" | "drop" | "hold" = () => "deliver";
  readonly held: (() => void)[] = [];
  mnPort = 0;
  #heldSignal: (() => void) | undefined;

  private constructor(socket: Socket, arPort: number) {
    this.socket = socket;
    this.arPort = arPort;
    socket.on("message", (msg: Uint8Array, remote: RemoteInfo) => this.#on(msg, remote));
  }

  static async start(arPort: number): Promise<Relay> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, () => resolve()));
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return new Relay(socket, arPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Resolves when an answer is held. */
  nextHeld(): Promise<void> {
    return new Promise((resolve) => this.#heldSignal = resolve);
  }

  #on(msg: Uint8Array, remote: RemoteInfo): void {
    const kind = kindOf(msg);
    if (remote.port !== this.arPort) {
      this.mnPort = remote.port;
      this.fromMn.push(kind);
      this.socket.send(msg, this.arPort, LOOPBACK);
      return;
    }
    this.fromAr.push(kind);
    const n = this.fromAr.filter((k) => k === kind).length;
    const send = () => this.socket.send(msg, this.mnPort, LOOPBACK);
    switch (this.rule(kind, n)) {
      case "deliver":
        return send();
      case "drop":
        return;
      case "hold":
        this.held.push(send);
        this.#heldSignal?.();
        this.#heldSignal = undefined;
    }
  }
}

function endpointsVia(relay: Relay, nCoA = "10.0.2.50"): TunnelEndpoints {
  return { oCoA: LOOPBACK, nCoA, ar: { address: LOOPBACK, port: relay.port } };
}

async function until(what: string, condition: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Condition not met in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether a local UDP port is free again (its socket closed). */
async function portFree(port: number): Promise<boolean> {
  const probe = createSocket("udp4");
  const ok = await new Promise<boolean>((resolve) => {
    probe.once("error", () => resolve(false));
    probe.bind({ address: LOOPBACK, port, exclusive: true }, () => resolve(true));
  });
  await new Promise<void>((resolve) => {
    try {
      probe.close(() => resolve());
    } catch {
      resolve();
    }
  });
  return ok;
}

async function rejection(promise: Promise<unknown>): Promise<PortError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof PortError)) throw new Error(`Expected a PortError, got ${error}`);
  return error;
}

describe("PHT open aborted: the AR keeps nothing (RFC 6252 sections 6.3 step 2, 7.2, C.6)", () => {
  it("rejects at once and sends nothing when aborted before the create leaves", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    const mn = newMn();
    const key = await importMnArKey(RAW);
    const error = await rejection(
      mn.open("net-b", endpointsVia(relay), key, { signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe("aborted");
    const controller = new AbortController();
    const during = mn.open("net-b", endpointsVia(relay), key, { signal: controller.signal });
    controller.abort(); // while the key is derived or the socket bound
    expect((await rejection(during)).code).toBe("aborted");
    await mn.idle();
    expect(relay.fromMn).toEqual([]);
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats()).toMatchObject({ abortCleanups: 0, abortDeletes: 0 });
  });

  it("deletes the tunnel when the create-ack comes after the abort, and closes the socket", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    relay.rule = (kind) => kind === "create-ack" ? "hold" : "deliver";
    const mn = newMn();
    const controller = new AbortController();
    const held = relay.nextHeld();
    const opening = mn.open("net-b", endpointsVia(relay), await importMnArKey(RAW), {
      signal: controller.signal,
    });
    await held; // the AR accepted the create; its ack is on the way
    expect(ar.tunnels()).toHaveLength(1);
    controller.abort(new Error("switch to another CTN"));
    const error = await rejection(opening); // before the ack is released
    expect(error.code).toBe("aborted");
    expect(error.message).toBe("PHT create aborted");
    const mnPort = relay.mnPort;
    relay.held.forEach((release) => release());
    await mn.idle();
    expect(relay.fromMn).toEqual(["create", "delete"]);
    expect(relay.fromAr).toEqual(["create-ack", "delete-ack"]);
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats()).toMatchObject({ abortCleanups: 1, abortDeletes: 1, abortExpiring: 0 });
    expect(mn.handles()).toEqual([]);
    expect(await portFree(mnPort)).toBe(true);
  });

  it("deletes the tunnel when the answer to a retransmitted create comes after the abort", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    // The first ack is lost; the MN retransmits, the AR answers with the same tunnel.
    relay.rule = (kind, n) => kind !== "create-ack" ? "deliver" : n === 1 ? "drop" : "hold";
    const mn = newMn();
    const controller = new AbortController();
    const held = relay.nextHeld();
    const opening = mn.open("net-b", endpointsVia(relay), await importMnArKey(RAW), {
      signal: controller.signal,
    });
    await held;
    expect(relay.fromMn).toEqual(["create", "create"]);
    expect(ar.tunnels()).toHaveLength(1);
    controller.abort();
    expect((await rejection(opening)).code).toBe("aborted");
    relay.held.forEach((release) => release());
    await mn.idle();
    expect(relay.fromMn).toEqual(["create", "create", "delete"]);
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats()).toMatchObject({ abortDeletes: 1, retransmissions: 1 });
  });

  it("gives up when no create-ack comes: the AR expires the tunnel with its lifetime", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    relay.rule = (kind) => kind === "create-ack" ? "drop" : "deliver";
    const mn = newMn({ lifetimeMs: 300, timeoutMs: 500 });
    const controller = new AbortController();
    const opening = mn.open("net-b", endpointsVia(relay), await importMnArKey(RAW), {
      signal: controller.signal,
    });
    await until("the AR created the tunnel", () => ar.tunnels().length === 1);
    controller.abort();
    expect((await rejection(opening)).code).toBe("aborted");
    const mnPort = relay.mnPort;
    await mn.idle();
    expect(relay.fromMn).toEqual(["create"]); // no retransmission after the abort
    expect(mn.stats()).toMatchObject({ abortCleanups: 1, abortDeletes: 0, abortExpiring: 1 });
    expect(await portFree(mnPort)).toBe(true);
    await until("the tunnel expired at the AR", () => ar.tunnels().length === 0);
  });

  it("disposal waits for the cleanup of an aborted open", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    relay.rule = (kind) => kind === "create-ack" ? "hold" : "deliver";
    const mn = new PhtTunnelManager({ sessionId: () => SESSION, timeoutMs: 200 });
    const controller = new AbortController();
    const held = relay.nextHeld();
    const opening = mn.open("net-b", endpointsVia(relay), await importMnArKey(RAW), {
      signal: controller.signal,
    });
    await held;
    controller.abort();
    await rejection(opening);
    setTimeout(() => relay.held.forEach((release) => release()), 20);
    await mn[Symbol.asyncDispose]();
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats().abortDeletes).toBe(1);
  });

  it("still opens, refreshes and closes normally (the abort machinery stays out of the way)", async () => {
    const ar = await startAr();
    const relay = await Relay.start(ar.address.port);
    const mn = newMn();
    const controller = new AbortController();
    const handle = await mn.open("net-b", endpointsVia(relay), await importMnArKey(RAW), {
      signal: controller.signal,
    });
    controller.abort(); // after the open resolved: nothing to give back
    expect(ar.tunnels()).toHaveLength(1);
    await mn.close(handle);
    await mn.idle();
    expect(ar.tunnels()).toEqual([]);
    expect(mn.stats().abortCleanups).toBe(0);
  });
});
