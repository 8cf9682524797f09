/**
 * Interop: our EAP-PSK peer (RFC 4764) through our RADIUS pass-through authenticator
 * (RFC 3579) to hostapd's built-in RADIUS/EAP server. The MSK hostapd hands over in
 * the MS-MPPE keys (RFC 2548) must equal the MSK our peer derived. Needs the hostapd
 * binary (Debian: `apt-get install -y hostapd`), not root; skipped when it is missing.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { radiusEapFactory } from "../../adapters/aaa/radius_authenticator.ts";
import { RadiusClient } from "../../adapters/radius/client.ts";
import type { EapAuthStep, EapPeerStep } from "../../lib/eap/eap_method.ts";
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import {
  findExecutable,
  type HostapdRadius,
  startHostapdRadius,
} from "../fixtures/radius/_hostapd.ts";

const hasHostapd = findExecutable("hostapd") !== undefined;
const IDENTITY = "alice@example";
const PSK_HEX = "0123456789abcdef0123456789abcdef";
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function unhex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

function randomSecret(): string {
  return Array.from(random(12), (b) => b.toString(16).padStart(2, "0")).join("");
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ server: HostapdRadius; client: RadiusClient }> {
  const secret = randomSecret();
  const server = await startHostapdRadius({ identity: IDENTITY, pskHex: PSK_HEX, secret });
  cleanups.push(() => server.stop());
  const client = new RadiusClient({
    server: { host: "127.0.0.1", port: server.port },
    secret,
    timeoutMs: 500,
  });
  cleanups.push(() => client.close());
  return { server, client };
}

/** Runs our peer through the pass-through until one side stops. */
async function run(
  client: RadiusClient,
  psk: Uint8Array,
): Promise<{ readonly aa: EapAuthStep; readonly peer: EapPeerStep | undefined }> {
  const aa = radiusEapFactory({ client }).create({ sessionId: 1, peer: "127.0.0.1:716" });
  const peer = createEapPskPeer({ identity: IDENTITY, psk, random, serverId: "hostapd" });
  let step = await aa.start();
  for (;;) {
    if (step.kind !== "request") break;
    const answer = await peer.handle(step.eap);
    if (answer.kind !== "response") return { aa: step, peer: answer };
    step = await aa.handle(answer.eap);
  }
  return { aa: step, peer: step.kind === "discard" ? undefined : await peer.handle(step.eap) };
}

describe("EAP-PSK through RADIUS to hostapd", () => {
  it.skipIf(!hasHostapd)(
    "RFC 4764 + RFC 3579: our peer authenticates to hostapd and its MS-MPPE MSK equals ours (needs hostapd: runs in CI)",
    async () => {
      const { client } = await setup();
      const { aa, peer } = await run(client, unhex(PSK_HEX));
      expect(aa.kind).toBe("success");
      expect(peer?.kind).toBe("success");
      if (aa.kind !== "success" || peer?.kind !== "success") return;
      expect(aa.msk.length).toBe(64);
      expect(aa.msk).toEqual(peer.msk);
      expect(aa.identity).toBe(IDENTITY);
      expect(Object.values(client.stats.dropped).every((n) => n === 0)).toBe(true);
    },
  );

  it.skipIf(!hasHostapd)(
    "RFC 4764 section 5.2: a wrong PSK gets Access-Reject and both sides fail (needs hostapd: runs in CI)",
    async () => {
      const { client, server } = await setup();
      const { aa, peer } = await run(client, new Uint8Array(16).fill(0x42));
      expect(aa.kind).toBe("failure");
      expect(aa.kind === "failure" && aa.reason).toMatch(/^Access-Reject from the AAA server/);
      expect(peer).toEqual({ kind: "failure", reason: "EAP Failure received" });
      expect(server.output()).toMatch(/EAP-PSK: Invalid MAC_P/);
    },
  );
});
