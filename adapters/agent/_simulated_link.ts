/**
 * The link control of `"link": { "kind": "simulated" }`: no interface is touched; the
 * link switch (RFC 6252 section 6.3 step 5) and the address assignment (step 6) are
 * recorded and logged. The embedded demo replaces it with its own user-space link.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { type LinkControl, type PortCallOptions, PortError } from "../../lib/ports.ts";

const _logger = getLogger(["mpa", "agent", "link"]);

/** A {@link LinkControl} that only records (private to the agent). */
export class _SimulatedLink implements LinkControl {
  #poa: string | undefined;
  #address: { readonly address: string; readonly prefixLength: number } | undefined;

  /** The PoA attached to last, if any. */
  get poa(): string | undefined {
    return this.#poa;
  }

  /** The address assigned last, if any. */
  get address(): { readonly address: string; readonly prefixLength: number } | undefined {
    return this.#address;
  }

  /**
   * Records the switch.
   *
   * @param poa the PoA
   * @param options abort signal
   * @returns at once
   */
  switchTo(poa: string, options: PortCallOptions = {}): Promise<void> {
    if (options.signal?.aborted) {
      return Promise.reject(new PortError("LinkControl", "aborted", "Link switch aborted"));
    }
    this.#poa = poa;
    _logger.info("Simulated link: attached to {poa}", { poa });
    return Promise.resolve();
  }

  /**
   * Records the assignment.
   *
   * @param address the address
   * @param prefixLength its prefix length
   * @param options abort signal
   * @returns at once
   */
  assign(address: string, prefixLength: number, options: PortCallOptions = {}): Promise<void> {
    if (options.signal?.aborted) {
      return Promise.reject(new PortError("LinkControl", "aborted", "Address assignment aborted"));
    }
    this.#address = { address, prefixLength };
    _logger.info("Simulated link: {address}/{prefixLength} assigned", { address, prefixLength });
    return Promise.resolve();
  }
}
