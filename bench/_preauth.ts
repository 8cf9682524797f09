/**
 * Private helpers of the pre-authentication benchmarks (`bench/preauth_bench.ts`,
 * `bench/preauth_load.ts`): MN credentials, a PAA with the local EAP-PSK backend on
 * the loopback, the `CtnInfo` pointing at it, and percentiles.
 *
 * @module
 */
import { localEapPskFactory } from "../adapters/aaa/local_authenticator.ts";
import { PanaPaa, type PanaPaaServerOptions } from "../adapters/pana/paa.ts";
import { PanaPac, type PanaPacAdapterOptions } from "../adapters/pana/pac.ts";
import { createEapPskPeer } from "../lib/eap/eap_psk_peer.ts";
import type { CtnInfo } from "../lib/ports.ts";

/** The loopback address everything binds to. */
export const LOOPBACK = "127.0.0.1";

/** The CTN id the PAA and the PaCs agree on. */
export const CTN = "ctn-bench";

/** The AA's EAP-PSK identity ID_S. */
export const SERVER_ID = "aa.ctn-bench";

/** Random bytes from WebCrypto. */
export function cryptoRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** One MN's credentials. */
export interface MnCredentials {
  /** EAP identity (ID_P). */
  readonly identity: string;
  /** 16-byte PSK. */
  readonly psk: Uint8Array;
}

/**
 * Fresh random credentials for `n` MNs.
 *
 * @param n how many
 * @returns identity `mn-<i>@bench` with a random PSK each
 */
export function mnCredentials(n: number): MnCredentials[] {
  return Array.from(
    { length: n },
    (_, i) => ({ identity: `mn-${i}@bench`, psk: cryptoRandom(16) }),
  );
}

/**
 * The credentials file text (`identity psk-hex` per line) of {@link mnCredentials}.
 *
 * @param mns the credentials
 * @returns the file text, for `loadCredentials`
 */
export function credentialsText(mns: readonly MnCredentials[]): string {
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return mns.map((m) => `${m.identity} ${hex(m.psk)}\n`).join("");
}

/**
 * Starts a PAA on an ephemeral loopback port with the local EAP-PSK backend. The
 * per-source half-open cap is lifted to `maxHalfOpen`: every MN shares 127.0.0.1.
 *
 * @param credentials identity to PSK
 * @param options more PAA options (hooks, limits)
 * @returns the running PAA
 */
export function startLocalPaa(
  credentials: ReadonlyMap<string, Uint8Array>,
  options: Partial<PanaPaaServerOptions> = {},
): Promise<PanaPaa> {
  const maxHalfOpen = options.maxHalfOpen ?? 4096;
  return PanaPaa.listen({
    ctn: CTN,
    host: LOOPBACK,
    port: 0,
    eap: localEapPskFactory({ serverId: SERVER_ID, credentials }),
    maxHalfOpen,
    maxHalfOpenPerSource: maxHalfOpen,
    ...options,
  });
}

/**
 * A PaC for one MN, bound to the loopback, with an EAP-PSK peer per run.
 *
 * @param mn the MN's credentials
 * @param options more PaC options
 * @returns the PaC
 */
export function newPac(mn: MnCredentials, options: Partial<PanaPacAdapterOptions> = {}): PanaPac {
  return new PanaPac({
    identity: mn.identity,
    bind: LOOPBACK,
    eap: () =>
      createEapPskPeer({
        identity: mn.identity,
        psk: mn.psk,
        random: cryptoRandom,
        serverId: SERVER_ID,
      }),
    ...options,
  });
}

/**
 * The CTN whose AA listens on `port` of the loopback.
 *
 * @param port the PAA's UDP port
 * @returns the `CtnInfo`
 */
export function ctnAt(port: number): CtnInfo {
  const aa = { address: LOOPBACK, port };
  return { network: CTN, aa, ca: aa, ar: aa, poas: [] };
}

/**
 * The q-quantile of `values` (nearest rank), 0 for none.
 *
 * @param sorted values sorted ascending
 * @param q 0 to 1
 * @returns the quantile
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
