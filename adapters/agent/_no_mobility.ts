/**
 * The mobility protocol of `"mobility": { "kind": "none" }`: no binding update is
 * sent (RFC 6252 section 7.5 is skipped; the correspondent reaches the MN through the
 * proactive handover tunnel and, after the switch, at whatever address it already
 * uses). `bind` answers at once with the first CoA asked for, so that the MPA
 * sessions go through their phases unchanged, and says in the log that nothing was
 * sent.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import {
  type BindingResult,
  type BindOptions,
  type MobilityProtocol,
  PortError,
} from "../../lib/ports.ts";

const _logger = getLogger(["mpa", "agent", "mobility"]);

/** The lifetime reported for a binding that was never sent, ms (one hour). */
const _LIFETIME_MS = 3_600_000;

/** A {@link MobilityProtocol} that binds nothing (private to the agent). */
export class _NoMobility implements MobilityProtocol {
  /** One CoA at a time, like SIP. */
  readonly multipleCoAs = false;
  #calls = 0;

  /** How many binding updates were asked for (and not sent). */
  get calls(): number {
    return this.#calls;
  }

  /**
   * Sends nothing; reports the first CoA as bound.
   *
   * @param coas the care-of addresses asked for
   * @param options lifetime, tunnel, abort signal
   * @returns the first CoA and the lifetime asked for (default one hour)
   * @throws {PortError} `protocol` for an empty list, `aborted`
   */
  bind(coas: readonly string[], options: BindOptions = {}): Promise<BindingResult> {
    if (options.signal?.aborted) {
      return Promise.reject(new PortError("MobilityProtocol", "aborted", "Binding update aborted"));
    }
    const coa = coas[0];
    if (coa === undefined) {
      return Promise.reject(
        new PortError("MobilityProtocol", "protocol", "No care-of address to bind"),
      );
    }
    this.#calls++;
    _logger.info(
      "No mobility protocol configured: no binding update sent for {coa} (the correspondent is reached through the tunnel only)",
      { coa, tunnel: options.tunnel?.id ?? null },
    );
    return Promise.resolve({ bound: [coa], lifetimeMs: options.lifetimeMs ?? _LIFETIME_MS });
  }
}
