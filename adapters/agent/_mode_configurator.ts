/**
 * A {@link Configurator} that sends each CTN's DHCP the way its CA needs it (RFC 6252
 * section 7.3.3): `ciaddr` (Kea, ISC dhcpd) or `relay` (giaddr, dnsmasq), as the
 * agent's static CTN table says per CTN. One configurator per mode; a lease is
 * renewed and released by the one that granted it.
 *
 * @module
 */
import type { Configurator, CtnInfo, Lease, MpaSa, PortCallOptions } from "../../lib/ports.ts";

/** The DHCP modes of the agent configuration. */
export type _DhcpMode = "ciaddr" | "relay";

/** Routes acquisitions by the CTN's mode (private to the agent). */
export class _ModeConfigurator implements Configurator {
  readonly #byMode: (mode: _DhcpMode) => Configurator;
  readonly #modeOf: (ctn: string) => _DhcpMode;

  /**
   * @param byMode the configurator of a mode (created on first use by the caller)
   * @param modeOf the mode of a CTN's CA (default `ciaddr` for CTNs not in the table)
   */
  constructor(byMode: (mode: _DhcpMode) => Configurator, modeOf: (ctn: string) => _DhcpMode) {
    this.#byMode = byMode;
    this.#modeOf = modeOf;
  }

  /**
   * Acquires an nCoA with the CTN's mode.
   *
   * @param ctn the CTN
   * @param sa its MPA-SA
   * @param options abort signal
   * @returns the lease
   */
  acquire(ctn: CtnInfo, sa: MpaSa, options?: PortCallOptions): Promise<Lease> {
    return this.#byMode(this.#modeOf(ctn.network)).acquire(ctn, sa, options);
  }

  /**
   * Extends a lease through the configurator that granted it.
   *
   * @param lease the lease
   * @param options abort signal
   * @returns the extended lease
   */
  renew(lease: Lease, options?: PortCallOptions): Promise<Lease> {
    return this.#byMode(this.#modeOf(lease.ctn)).renew(lease, options);
  }

  /**
   * Releases a lease through the configurator that granted it.
   *
   * @param lease the lease
   * @param options abort signal
   * @returns when released
   */
  release(lease: Lease, options?: PortCallOptions): Promise<void> {
    return this.#byMode(this.#modeOf(lease.ctn)).release(lease, options);
  }
}
