/**
 * A {@link Discovery} whose source can be replaced while the agent runs (SIGHUP with
 * a new CTN table, RFC 6252 section 7.1): calls go to the current delegate.
 *
 * @module
 */
import type { Position } from "../../lib/metrics/link_sample.ts";
import type { CtnInfo, Discovery, PortCallOptions } from "../../lib/ports.ts";

/** Discovery through a replaceable delegate (private to the agent). */
export class _SwappableDiscovery implements Discovery {
  #delegate: Discovery;

  /** @param delegate the first source */
  constructor(delegate: Discovery) {
    this.#delegate = delegate;
  }

  /** The current source. */
  get delegate(): Discovery {
    return this.#delegate;
  }

  /** Replaces the source; calls in flight finish with the old one. */
  set delegate(next: Discovery) {
    this.#delegate = next;
  }

  /**
   * Lists CTNs through the current source.
   *
   * @param position where the MN is
   * @param options abort signal
   * @returns the candidates
   */
  candidates(position?: Position, options?: PortCallOptions): Promise<readonly CtnInfo[]> {
    return this.#delegate.candidates(position, options);
  }
}
