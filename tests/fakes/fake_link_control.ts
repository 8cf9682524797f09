/**
 * In-memory {@link LinkControl}: records link switches and address assignments in
 * order (RFC 6252 section 6.3 steps 5 and 6).
 *
 * @module
 */
import type { LinkControl, PortCallOptions } from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/** Options of {@link FakeLinkControl}. */
export interface FakeLinkControlOptions extends FakeBehaviourOptions {
  /** PoAs that can be heard; switching to another fails `unreachable`. Default: any. */
  readonly reachable?: readonly string[];
  /** The PoA attached at the start, if any. */
  readonly attached?: string;
}

/** One thing the fake link did. */
export type FakeLinkEvent =
  | { readonly kind: "switch"; readonly poa: string; readonly at: number }
  | {
    readonly kind: "assign";
    readonly address: string;
    readonly prefixLength: number;
    readonly at: number;
  };

/** A fake network interface with a simulated link switch. */
export class FakeLinkControl implements LinkControl {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  readonly #reachable: ReadonlySet<string> | undefined;
  readonly #events: FakeLinkEvent[] = [];
  #attached: string | undefined;
  #address:
    | { readonly address: string; readonly prefixLength: number }
    | undefined;

  /** @param options reachable PoAs, initial PoA, latency, failures */
  constructor(options: FakeLinkControlOptions = {}) {
    this.behaviour = new FakeBehaviour("LinkControl", options);
    this.#reachable = options.reachable === undefined ? undefined : new Set(options.reachable);
    this.#attached = options.attached;
  }

  /** The PoA attached now, if any. */
  get attached(): string | undefined {
    return this.#attached;
  }

  /** The address on the interface now, if any (one address: assign replaces it). */
  get address():
    | { readonly address: string; readonly prefixLength: number }
    | undefined {
    return this.#address;
  }

  /** Switches and assignments, in order. */
  get events(): readonly FakeLinkEvent[] {
    return this.#events;
  }

  /**
   * Attaches to a PoA.
   *
   * @param poa the PoA id
   * @param options abort signal
   * @returns when attached
   */
  switchTo(poa: string, options?: PortCallOptions): Promise<void> {
    return this.behaviour.run("switchTo", [poa], options?.signal, (at) => {
      if (this.#reachable !== undefined && !this.#reachable.has(poa)) {
        throw this.behaviour.error("unreachable", `PoA not heard: ${poa}`);
      }
      this.#attached = poa;
      this.#events.push({ kind: "switch", poa, at });
    });
  }

  /**
   * Assigns an address to the interface.
   *
   * @param address IPv4 or IPv6 address
   * @param prefixLength its prefix length
   * @param options abort signal
   * @returns when assigned
   */
  assign(
    address: string,
    prefixLength: number,
    options?: PortCallOptions,
  ): Promise<void> {
    return this.behaviour.run(
      "assign",
      [address, prefixLength],
      options?.signal,
      (at) => {
        const max = address.includes(":") ? 128 : 32;
        if (
          address === "" || !Number.isInteger(prefixLength) ||
          prefixLength < 0 || prefixLength > max
        ) {
          throw this.behaviour.error(
            "protocol",
            `Invalid address: ${address}/${prefixLength}`,
          );
        }
        this.#address = { address, prefixLength };
        this.#events.push({
          kind: "assign",
          address,
          prefixLength,
          at,
        });
      },
    );
  }
}
