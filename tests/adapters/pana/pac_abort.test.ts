import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { PanaPac, type PanaPacAdapterOptions } from "../../../adapters/pana/pac.ts";
import { PanaPaa, type PanaPaaServerOptions } from "../../../adapters/pana/paa.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { createEapPskServerFactory } from "../../../lib/eap/eap_psk_server.ts";
import { type CtnInfo, PortError } from "../../../lib/ports.ts";
import { decodePana, panaMessageName } from "../../../lib/wire/pana.ts";

const LOOPBACK = "127.0.0.1";
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const PSK = Uint8Array.from({ length: 16 }, (_, i) => i + 7);
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

async function startPaa(options: Partial<PanaPaaServerOptions> = {}): Promise<PanaPaa> {
  const paa = await PanaPaa.listen({
    ctn: "ctn-b",
    host: LOOPBACK,
    port: 0,
    eap: createEapPskServerFactory({
      serverId: "aa.ctn-b",
      lookup: (id) => id === "mn@psk" ? PSK : undefined,
      random,
    }),
    ...options,
  });
  closers.push(() => paa.close());
  return paa;
}

function newPac(options: Partial<PanaPacAdapterOptions> = {}): PanaPac {
  const pac = new PanaPac({
    identity: "mn@psk",
    eap: () => createEapPskPeer({ identity: "mn@psk", psk: PSK, random, serverId: "aa.ctn-b" }),
    bind: LOOPBACK,
    ...options,
  });
  closers.push(() => pac.close());
  return pac;
}

function ctnAt(port: number): CtnInfo {
  const aa = { address: LOOPBACK, port };
  return { network: "ctn-b", aa, ca: aa, ar: aa, poas: [] };
}

/** A datagram the relay holds, with what releases it. */
interface Held {
  readonly name: string;
  release(): void;
}

/**
 * A UDP relay between the PaC and the PAA: the PaC talks to the relay, which forwards
 * both ways. `hold` stops a datagram of the PAA (by name and occurrence) until the
 * test releases it: the abort then happens at that exact stage. `cut` drops
 * everything from then on (the AA unreachable).
 */
class Relay {
  readonly socket: Socket;
  readonly paaPort: number;
  readonly fromPaa: string[] = [];
  readonly fromPac: string[] = [];
  hold:
    | { readonly name: string; readonly nth: number; readonly onHeld: (h: Held) => void }
    | undefined;
  cut = false;
  #pac: RemoteInfo | undefined;

  private constructor(socket: Socket, paaPort: number) {
    this.socket = socket;
    this.paaPort = paaPort;
    socket.on("message", (msg: Uint8Array, remote: RemoteInfo) => this.#on(msg, remote));
  }

  static async start(paaPort: number): Promise<Relay> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, () => resolve()));
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return new Relay(socket, paaPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  #on(msg: Uint8Array, remote: RemoteInfo): void {
    const name = _name(msg);
    if (this.cut) return;
    if (remote.port !== this.paaPort) {
      this.#pac = remote;
      this.fromPac.push(name);
      this.socket.send(msg, this.paaPort, LOOPBACK);
      return;
    }
    this.fromPaa.push(name);
    const pac = this.#pac!;
    const send = () => {
      if (!this.cut) this.socket.send(msg, pac.port, pac.address);
    };
    const hold = this.hold;
    if (hold !== undefined && name === hold.name) {
      const seen = this.fromPaa.filter((n) => n === name).length;
      if (seen === hold.nth) {
        this.hold = undefined;
        hold.onHeld({ name, release: send });
        return;
      }
    }
    send();
  }
}

function _name(bytes: Uint8Array): string {
  const m = decodePana(bytes);
  return panaMessageName(m) + (m.flags.start ? "-S" : "") + (m.flags.complete ? "-C" : "");
}

async function until(condition: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts a pre-authentication through the relay and aborts it when `name` #nth is held. */
async function abortAt(
  pac: PanaPac,
  relay: Relay,
  name: string,
  nth = 1,
): Promise<{ error: PortError; held: Held }> {
  const controller = new AbortController();
  let held!: Held;
  const reached = new Promise<void>((resolve) => {
    relay.hold = {
      name,
      nth,
      onHeld: (h) => {
        held = h;
        resolve();
      },
    };
  });
  const call = pac.preAuthenticate(ctnAt(relay.port), { signal: controller.signal });
  const outcome = call.then(() => undefined, (e: unknown) => e);
  await reached;
  controller.abort(new Error("planner dropped the phase"));
  // Settled while the relay still holds the PAA's datagram: the rejection does not wait
  // for the peer.
  const error = await outcome;
  if (!(error instanceof PortError)) throw new Error(`Expected a PortError, got ${error}`);
  return { error, held };
}

describe("PanaPac abort gives the AA's session back (RFC 6252 section C.6, RFC 5191 section 4.4)", () => {
  for (
    const [stage, name, nth] of [
      ["PCI answered (initial PAR in flight, no session id yet)", "PAR-S", 1],
      ["EAP under way", "PAR", 1],
      ["final PAR in flight", "PAR-C", 1],
    ] as const
  ) {
    it(`completes and terminates the session when aborted with the ${stage}`, async () => {
      const paa = await startPaa();
      const relay = await Relay.start(paa.address.port);
      const pac = newPac();
      const { error, held } = await abortAt(pac, relay, name, nth);
      expect(error.code).toBe("aborted");
      expect(error.message).toBe("Pre-authentication aborted");
      expect(paa.stats.sessions).toBe(1); // half-open at the AA until the PaC gives it back
      held.release();
      await pac.idle();
      await until(() => paa.stats.sessions === 0);
      expect(relay.fromPac.at(-1)).toBe("PTR");
      expect(relay.fromPaa.at(-1)).toBe("PTA");
      expect(paa.stats).toMatchObject({ sessions: 0, halfOpen: 0, terminated: 1 });
      expect(pac.stats.failed.aborted).toBe(1);
      expect(pac.stats.succeeded).toBe(0);
      expect(pac.stats.abortCleanup).toEqual({ started: 1, terminated: 1, silent: 0 });
      expect(pac.sessions).toEqual([]);
    });
  }

  it("terminates a session that completed while the abort came (final PAN sent)", async () => {
    const paa = await startPaa();
    const relay = await Relay.start(paa.address.port);
    const pac = newPac();
    const controller = new AbortController();
    // Abort as soon as the final PAN leaves the PaC (the PaC holds the session).
    const socket = relay.socket;
    socket.prependListener("message", (msg: Uint8Array) => {
      if (_name(msg) === "PAN-C") controller.abort();
    });
    const result = await pac.preAuthenticate(ctnAt(relay.port), { signal: controller.signal })
      .then((sa) => sa, (e: unknown) => e);
    // Either the abort won (aborted, the session terminated in the background) or the
    // SA had been handed over already (the caller owns it); in both cases nothing leaks.
    if (result instanceof PortError) {
      expect(result.code).toBe("aborted");
      await pac.idle();
      expect(relay.fromPac.at(-1)).toBe("PTR");
      expect(pac.stats.abortCleanup.terminated).toBe(1);
    } else {
      expect(pac.stats.abortCleanup.started).toBe(0);
      await pac.terminate((result as { sessionId: number }).sessionId);
    }
    await until(() => paa.stats.sessions === 0);
    expect(paa.stats).toMatchObject({ sessions: 0, authorized: 1 });
  });

  it("falls silent when the AA stops answering; the AA drops the half-open session at its deadline", async () => {
    const paa = await startPaa({ authTimeoutMs: 400 });
    const relay = await Relay.start(paa.address.port);
    const pac = newPac({ abortDeadlineMs: 200 });
    const { error, held } = await abortAt(pac, relay, "PAR");
    expect(error.code).toBe("aborted");
    relay.cut = true; // the datagram held and everything after it is lost
    held.release();
    await pac.idle();
    expect(pac.stats.abortCleanup).toEqual({ started: 1, terminated: 0, silent: 1 });
    await until(() => paa.stats.sessions === 0);
    expect(paa.stats.halfOpen).toBe(0);
  });

  it("close waits for a cleanup the AA knows of, so that the session still ends", async () => {
    const paa = await startPaa();
    const relay = await Relay.start(paa.address.port);
    const pac = newPac();
    const { held } = await abortAt(pac, relay, "PAR-C");
    setTimeout(() => held.release(), 20);
    await pac.close();
    expect(pac.stats.abortCleanup.terminated).toBe(1);
    await until(() => paa.stats.sessions === 0);
  });

  it("rejects an abort during bind at once and sends nothing", async () => {
    const paa = await startPaa();
    const relay = await Relay.start(paa.address.port);
    const pac = newPac();
    const controller = new AbortController();
    const call = pac.preAuthenticate(ctnAt(relay.port), { signal: controller.signal });
    controller.abort();
    const error = await call.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).code).toBe("aborted");
    await pac.idle();
    expect(relay.fromPac).toEqual([]);
    expect(pac.stats.abortCleanup.started).toBe(0);
    expect(paa.stats.sessions).toBe(0);
  });
});
