/**
 * The MN's PANA client with EAP-PSK (RFC 6252 section 6.3 step 1; RFC 4764): a
 * {@link PanaPac} whose EAP peer for every session is an EAP-PSK peer with the MN's
 * identity and a fresh copy of its PSK, random numbers from WebCrypto. Shared by the
 * agent (adapters/agent/build_ports.ts), the embedded demo and the handover testbed.
 *
 * The key setup of the PSK (AK and KDK, RFC 4764 section 3.1, which depend on the PSK
 * only) runs once, when the PaC is created, and serves every session: a
 * pre-authentication does not repeat it on receiving EAP-PSK message 1.
 *
 * @module
 */
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import { EAP_PSK_KEY_LENGTH, eapPskPrepareKeys } from "../../lib/keys/eap_psk_keys.ts";
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
  // Started now, in the background, before any session; a PSK of the wrong length is
  // refused by the peer at the session's start instead.
  const prepared = psk.length === EAP_PSK_KEY_LENGTH ? eapPskPrepareKeys(psk.slice()) : undefined;
  prepared?.catch(() => {}); // a failure surfaces in the session that uses it
  return new PanaPac({
    ...rest,
    eap: () =>
      createEapPskPeer({
        identity: options.identity,
        psk: psk.slice(),
        random: (n) => crypto.getRandomValues(new Uint8Array(n)),
        ...(prepared === undefined ? {} : { prepared }),
      }),
  });
}
