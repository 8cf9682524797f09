/**
 * The MN's PANA client with EAP-PSK (RFC 6252 section 6.3 step 1; RFC 4764): a
 * {@link PanaPac} whose EAP peer for every session is an EAP-PSK peer with the MN's
 * identity and a fresh copy of its PSK, random numbers from WebCrypto. Shared by the
 * agent (adapters/agent/build_ports.ts), the embedded demo and the handover testbed.
 *
 * @module
 */
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import { PanaPac, type PanaPacAdapterOptions } from "./pac.ts";

/** Options of {@link createEapPskPac}: the PaC's, with the PSK in place of `eap`. */
export type EapPskPacOptions = Omit<PanaPacAdapterOptions, "eap"> & {
  /** The MN's 16-byte PSK (copied for every session). */
  readonly psk: Uint8Array;
};

/**
 * A PANA PaC authenticating with EAP-PSK.
 *
 * @param options identity, PSK and the PaC's other options (bind, timeouts)
 * @returns the PaC (sockets open with its first session)
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { createEapPskPac } from "./eap_psk_pac.ts";
 * import { PanaPac } from "./pac.ts";
 * const pac = createEapPskPac({ identity: "mn@example", psk: new Uint8Array(16).fill(7) });
 * assert(pac instanceof PanaPac);
 * await pac.close();
 * ```
 */
export function createEapPskPac(options: EapPskPacOptions): PanaPac {
  const { psk, ...rest } = options;
  return new PanaPac({
    ...rest,
    eap: () =>
      createEapPskPeer({
        identity: options.identity,
        psk: psk.slice(),
        random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      }),
  });
}
