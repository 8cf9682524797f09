/**
 * In-memory {@link MobilityProtocol}: a correspondent node's binding cache, with or
 * without multiple care-of addresses (RFC 6252 section 7.2, RFC 5648).
 *
 * @module
 */
import type { BindingResult, BindOptions, MobilityProtocol } from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/** Options of {@link FakeMobilityProtocol}. */
export interface FakeMobilityProtocolOptions extends FakeBehaviourOptions {
  /** Whether several CoAs can be bound at once (Mobile IPv6 with RFC 5648). Default true. */
  readonly multipleCoAs?: boolean;
  /** Lifetime granted when none is asked for, ms. Default 420 000 (MIPv6-like). */
  readonly defaultLifetimeMs?: number;
}

/** One binding as the correspondent saw it. */
export interface FakeBinding {
  /** The CoAs bound, preferred first. */
  readonly coas: readonly string[];
  /** Lifetime granted, ms. */
  readonly lifetimeMs: number;
  /** When bound, ms. */
  readonly at: number;
  /** The PHT the update came through, if any. */
  readonly tunnel?: string;
}

/** A fake mobility management protocol. */
export class FakeMobilityProtocol implements MobilityProtocol {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  /** Whether several CoAs can be bound at once. */
  readonly multipleCoAs: boolean;
  readonly #defaultLifetimeMs: number;
  readonly #history: FakeBinding[] = [];

  /** @param options multiple-CoA support, lifetime, latency, failures */
  constructor(options: FakeMobilityProtocolOptions = {}) {
    this.behaviour = new FakeBehaviour("MobilityProtocol", options);
    this.multipleCoAs = options.multipleCoAs ?? true;
    this.#defaultLifetimeMs = options.defaultLifetimeMs ?? 420_000;
  }

  /** The current binding at the correspondent, if any. */
  get current(): FakeBinding | undefined {
    return this.#history.at(-1);
  }

  /** Every binding accepted, oldest first. */
  get history(): readonly FakeBinding[] {
    return this.#history;
  }

  /**
   * Replaces the binding.
   *
   * @param coas at least one CoA, preferred first
   * @param options lifetime, tunnel, abort signal
   * @returns what was bound
   */
  bind(coas: readonly string[], options?: BindOptions): Promise<BindingResult> {
    return this.behaviour.run("bind", [coas], options?.signal, (at) => {
      if (coas.length === 0 || coas.some((c) => c === "")) {
        throw this.behaviour.error(
          "protocol",
          "Invalid binding update: no care-of address",
        );
      }
      const bound = this.multipleCoAs ? [...new Set(coas)] : coas.slice(0, 1);
      const lifetimeMs = options?.lifetimeMs ?? this.#defaultLifetimeMs;
      const binding: FakeBinding = {
        coas: bound,
        lifetimeMs,
        at,
        ...(options?.tunnel === undefined ? {} : { tunnel: options.tunnel.id }),
      };
      this.#history.push(binding);
      return { bound, lifetimeMs };
    });
  }
}
