/**
 * Test harness: one {@link PanaPacMachine} and one {@link PanaPaaMachine} wired in
 * memory, their timers on a virtual-time scheduler ({@link SampleClock}), every
 * datagram in either direction recorded and passed through a filter that may drop or
 * rewrite it. Time moves only when the test says so; between steps the harness waits
 * for the machines' asynchronous work (WebCrypto, EAP) to settle.
 *
 * @module
 */
import { type Subscription, timer } from "npm:rxjs@^7.8.2";
import { SampleClock } from "../../../lib/decision/sample_clock.ts";
import type { EapAuthenticatorFactory, EapPeer } from "../../../lib/eap/eap_method.ts";
import { Prng } from "../../../lib/metrics/prng.ts";
import type { PanaPeer } from "../../../lib/pana/pana_command.ts";
import { type PanaPaaCommand, PanaPaaMachine, type PanaPaaOptions } from "../../../lib/pana/paa.ts";
import { type PanaPacCommand, PanaPacMachine, type PanaPacOptions } from "../../../lib/pana/pac.ts";
import { FakeEapAuthenticatorFactory, FakeEapPeer } from "../../fakes/fake_eap.ts";

/** A deterministic random source from a seed. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  const prng = new Prng(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(prng.next() * 256));
}

/** What a filter does with one datagram: deliver it, drop it, or deliver other bytes. */
export type Verdict = "deliver" | "drop" | Uint8Array;

/** A filter over the datagrams of one direction; `index` counts from 0 per direction. */
export type Filter = (bytes: Uint8Array, index: number) => Verdict;

/** Options of {@link PanaLink}. */
export interface PanaLinkOptions {
  readonly peer?: EapPeer;
  readonly factory?: EapAuthenticatorFactory;
  readonly pac?: Partial<PanaPacOptions>;
  readonly paa?: Partial<PanaPaaOptions>;
  readonly ctn?: string;
  readonly seed?: number;
}

export const PAC_ADDRESS: PanaPeer = { address: "192.0.2.10", port: 50000 };

export class PanaLink {
  readonly clock = new SampleClock(0);
  readonly pac: PanaPacMachine;
  readonly paa: PanaPaaMachine;
  readonly factory: EapAuthenticatorFactory;
  /** Datagrams the PaC sent, before filtering. */
  readonly fromPac: Uint8Array[] = [];
  /** Datagrams the PAA sent, before filtering. */
  readonly fromPaa: { readonly bytes: Uint8Array; readonly to: PanaPeer }[] = [];
  /** Every non-I/O command of the PaC (done, failed, drop, reauthorized, closed). */
  readonly pacEvents: PanaPacCommand[] = [];
  /** Every non-I/O command of the PAA (authorized, failed, drop, reauthorized, closed). */
  readonly paaEvents: PanaPaaCommand[] = [];
  pacFilter: Filter = () => "deliver";
  paaFilter: Filter = () => "deliver";
  /** Where the PaC's datagrams appear to come from (change it to simulate a move). */
  pacAddress: PanaPeer = PAC_ADDRESS;
  readonly #timers = new Map<string, { due: number; sub: Subscription }>();
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(options: PanaLinkOptions = {}) {
    const seed = options.seed ?? 1;
    const ctn = options.ctn ?? "ctn-b";
    this.factory = options.factory ?? new FakeEapAuthenticatorFactory();
    this.pac = new PanaPacMachine({
      eap: options.peer ?? new FakeEapPeer(),
      ctn,
      now: () => this.clock.now(),
      random: seededRandom(seed),
      ...options.pac,
    });
    this.paa = new PanaPaaMachine({
      eap: this.factory,
      ctn,
      now: () => this.clock.now(),
      random: seededRandom(seed + 1000),
      ...options.paa,
    });
  }

  /** Runs a PaC call and executes its commands. */
  pacDo(call: Promise<readonly PanaPacCommand[]>): Promise<void> {
    return this.#track(call.then((cmds) => this.#pacExec(cmds)));
  }

  /** Runs a PAA call and executes its commands. */
  paaDo(call: Promise<readonly PanaPaaCommand[]>): Promise<void> {
    return this.#track(call.then((cmds) => this.#paaExec(cmds)));
  }

  /** Delivers raw bytes to the PAA as if from `from` (default the PaC's address). */
  injectToPaa(bytes: Uint8Array, from: PanaPeer = this.pacAddress): Promise<void> {
    return this.paaDo(this.paa.receive(bytes, from));
  }

  /** Delivers raw bytes to the PaC. */
  injectToPac(bytes: Uint8Array): Promise<void> {
    return this.pacDo(this.pac.receive(bytes));
  }

  /** Waits until no asynchronous work is pending. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  /** Advances virtual time to `t`, firing every timer due on the way, settling after each. */
  async runUntil(t: number): Promise<void> {
    for (;;) {
      await this.settle();
      let next: number | undefined;
      for (const { due } of this.#timers.values()) if (next === undefined || due < next) next = due;
      if (next === undefined || next > t) break;
      this.clock.advanceTo(next);
    }
    this.clock.advanceTo(t);
    await this.settle();
  }

  /** Advances virtual time by `ms`. */
  runFor(ms: number): Promise<void> {
    return this.runUntil(this.clock.now() + ms);
  }

  /** The timers armed now, by id (`pac/auth`, `paa/rtx:123`), with their due times. */
  get timers(): ReadonlyMap<string, number> {
    return new Map([...this.#timers].map(([id, t]) => [id, t.due]));
  }

  pacEventsOf<K extends PanaPacCommand["kind"]>(
    kind: K,
  ): Extract<PanaPacCommand, { kind: K }>[] {
    return this.pacEvents.filter((c): c is Extract<PanaPacCommand, { kind: K }> => c.kind === kind);
  }

  paaEventsOf<K extends PanaPaaCommand["kind"]>(
    kind: K,
  ): Extract<PanaPaaCommand, { kind: K }>[] {
    return this.paaEvents.filter((c): c is Extract<PanaPaaCommand, { kind: K }> => c.kind === kind);
  }

  #track(p: Promise<void>): Promise<void> {
    const tracked = p.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
    return tracked;
  }

  #arm(key: string, delayMs: number, fire: () => Promise<void>): void {
    this.#timers.get(key)?.sub.unsubscribe();
    const sub = timer(delayMs, this.clock).subscribe(() => {
      this.#timers.delete(key);
      void fire();
    });
    this.#timers.set(key, { due: this.clock.now() + delayMs, sub });
  }

  #cancel(key: string): void {
    this.#timers.get(key)?.sub.unsubscribe();
    this.#timers.delete(key);
  }

  #pacExec(cmds: readonly PanaPacCommand[]): void {
    for (const c of cmds) {
      switch (c.kind) {
        case "send": {
          const index = this.fromPac.push(c.bytes) - 1;
          const v = this.pacFilter(c.bytes, index);
          if (v !== "drop") this.injectToPaa(v === "deliver" ? c.bytes : v);
          break;
        }
        case "arm":
          this.#arm(`pac/${c.timer}`, c.delayMs, () => this.pacDo(this.pac.timeout(c.timer)));
          break;
        case "cancel":
          this.#cancel(`pac/${c.timer}`);
          break;
        default:
          this.pacEvents.push(c);
      }
    }
  }

  #paaExec(cmds: readonly PanaPaaCommand[]): void {
    for (const c of cmds) {
      switch (c.kind) {
        case "send": {
          const index = this.fromPaa.push({ bytes: c.bytes, to: c.to }) - 1;
          const v = this.paaFilter(c.bytes, index);
          if (v !== "drop") this.injectToPac(v === "deliver" ? c.bytes : v);
          break;
        }
        case "arm":
          this.#arm(`paa/${c.timer}`, c.delayMs, () => this.paaDo(this.paa.timeout(c.timer)));
          break;
        case "cancel":
          this.#cancel(`paa/${c.timer}`);
          break;
        default:
          this.paaEvents.push(c);
      }
    }
  }
}
