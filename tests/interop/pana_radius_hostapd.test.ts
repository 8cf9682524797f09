/**
 * Interop, the whole chain of issue 3 section 5: the MN (our PANA PaC with the RFC
 * 5873 E flag, carrying our EAP-PSK peer) pre-authenticates through our PAA, which
 * relays EAP over RADIUS (RFC 3579) to hostapd's built-in RADIUS server (internal EAP
 * server, one EAP-PSK user, RFC 4764). The MSK our MN derives must equal the one
 * hostapd hands to the AA in MS-MPPE-Recv-Key | MS-MPPE-Send-Key (RFC 2548), and the
 * MN-CA and MN-AR keys both ends derive from it must match. Needs the hostapd binary
 * (Debian: `apt-get install -y hostapd`), not root; skipped when it is missing.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { radiusEapFactory } from "../../adapters/aaa/radius_authenticator.ts";
import { PanaPac } from "../../adapters/pana/pac.ts";
import { PanaPaa } from "../../adapters/pana/paa.ts";
import { RadiusClient } from "../../adapters/radius/client.ts";
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import { keyFingerprint } from "../../lib/keys/key_fingerprint.ts";
import { mnArKey, mnCaKey } from "../../lib/keys/mpa_keys.ts";
import type { PanaAuthorizedSa } from "../../lib/pana/paa.ts";
import { type CtnInfo, PortError } from "../../lib/ports.ts";
import { findExecutable, startHostapdRadius } from "../fixtures/radius/_hostapd.ts";

const hasHostapd = findExecutable("hostapd") !== undefined;
const IDENTITY = "alice@example";
const PSK_HEX = "0123456789abcdef0123456789abcdef";
const CTN = "ctn-hostapd";
const LOOPBACK = "127.0.0.1";
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function unhex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the chain set up: the PAA, what it authorized, and the MSKs hostapd delivered. */
interface Chain {
  readonly paa: PanaPaa;
  readonly ctn: CtnInfo;
  readonly authorized: PanaAuthorizedSa[];
  /** Copies of the MSKs taken from the Access-Accepts' MS-MPPE keys. */
  readonly hostapdMsks: Uint8Array[];
  readonly hostapdOutput: () => string;
}

async function chain(): Promise<Chain> {
  const secret = Array.from(random(12), (b) => b.toString(16).padStart(2, "0")).join("");
  const server = await startHostapdRadius({ identity: IDENTITY, pskHex: PSK_HEX, secret });
  cleanups.push(() => server.stop());
  const client = new RadiusClient({
    server: { host: LOOPBACK, port: server.port },
    secret,
    timeoutMs: 500,
  });
  cleanups.push(() => client.close());
  const hostapdMsks: Uint8Array[] = [];
  const authorized: PanaAuthorizedSa[] = [];
  const paa = await PanaPaa.listen({
    ctn: CTN,
    host: LOOPBACK,
    port: 0,
    // The pass-through sees only `accessRequest` and `msk`: the wrapper keeps a copy
    // of the MSK hostapd delivered, the AA's view of the key.
    eap: radiusEapFactory({
      client: {
        accessRequest: (attributes) => client.accessRequest(attributes),
        msk: (reply) => {
          const msk = client.msk(reply);
          if (msk !== undefined) hostapdMsks.push(msk.slice());
          return msk;
        },
      },
    }),
    onAuthorized: (sa) => {
      authorized.push(sa);
    },
  });
  cleanups.push(() => paa.close());
  const aa = { address: LOOPBACK, port: paa.address.port };
  return {
    paa,
    ctn: { network: CTN, aa, ca: aa, ar: aa, poas: [] },
    authorized,
    hostapdMsks,
    hostapdOutput: server.output,
  };
}

function mn(psk: Uint8Array): PanaPac {
  const pac = new PanaPac({
    identity: IDENTITY,
    bind: LOOPBACK,
    eap: () => createEapPskPeer({ identity: IDENTITY, psk, random }),
    authTimeoutMs: 10_000,
  });
  cleanups.push(() => pac.close());
  return pac;
}

async function until(condition: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("MN -> PANA PAA -> RADIUS -> hostapd (RFC 6252 section 6.3 step 1, RFC 5191, RFC 3579, RFC 4764)", () => {
  it.skipIf(!hasHostapd)(
    "pre-authenticates through hostapd: the MN's MSK equals hostapd's MS-MPPE MSK, and both ends hold the same MN-CA and MN-AR keys (needs hostapd: runs in CI)",
    async () => {
      const c = await chain();
      const sa = await mn(unhex(PSK_HEX)).preAuthenticate(c.ctn);
      await until(() => c.authorized.length === 1);
      const aa = c.authorized[0]!;

      expect(sa.preauth).toBe(true);
      expect(sa.sessionId).toBe(aa.sessionId);
      expect(aa.identity).toBe(IDENTITY);
      expect(aa.preauth).toBe(true);

      // The MSK: hostapd's (MS-MPPE keys, RFC 2548) and the one our MN derived.
      expect(c.hostapdMsks).toHaveLength(1);
      const hostapdMsk = c.hostapdMsks[0]!;
      expect(hostapdMsk.length).toBe(64);
      expect(sa.fingerprints.msk).toBe(await keyFingerprint(hostapdMsk));

      // The MPA-SA keys: the MN's, the AA's, and a derivation from hostapd's MSK.
      expect(sa.fingerprints.mnCa).toBe(await keyFingerprint(aa.keys.mnCa));
      expect(sa.fingerprints.mnAr).toBe(await keyFingerprint(aa.keys.mnAr));
      expect(sa.fingerprints.mnCa).toBe(
        await keyFingerprint(await mnCaKey(hostapdMsk, sa.sessionId, CTN)),
      );
      expect(sa.fingerprints.mnAr).toBe(
        await keyFingerprint(await mnArKey(hostapdMsk, sa.sessionId, CTN)),
      );

      expect(c.paa.stats).toMatchObject({ authorized: 1, sessions: 1, halfOpen: 0 });
      expect(c.hostapdOutput()).toMatch(/EAP-PSK: R flag - DONE_SUCCESS/);
      expect(c.hostapdOutput()).toMatch(/Sending Access-Accept/);
    },
  );

  it.skipIf(!hasHostapd)(
    "a wrong PSK: hostapd sends Access-Reject, the MN is rejected and the AA holds no SA (needs hostapd: runs in CI)",
    async () => {
      const c = await chain();
      const pac = mn(new Uint8Array(16).fill(0x42));
      let error: unknown;
      try {
        await pac.preAuthenticate(c.ctn);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PortError);
      expect([(error as PortError).port, (error as PortError).code]).toEqual([
        "PreAuthenticator",
        "rejected",
      ]);
      await until(() => c.paa.stats.rejected === 1);
      expect(c.authorized).toHaveLength(0);
      expect(c.hostapdMsks).toHaveLength(0);
      expect(c.paa.stats).toMatchObject({ authorized: 0, sessions: 0 });
      expect(c.hostapdOutput()).toMatch(/EAP-PSK: Invalid MAC_P/);
      expect(pac.stats.failed.rejected).toBe(1);
    },
  );
});
