/**
 * Interop: our RADIUS client against hostapd's built-in RADIUS server (RFC 2865,
 * RFC 3579) with an EAP-PSK user (RFC 4764). Needs the hostapd binary (Debian:
 * `apt-get install -y hostapd`), not root; skipped when it is missing.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { RadiusClient, RadiusUnreachableError } from "../../adapters/radius/client.ts";
import {
  attributeValue,
  eapMessageAttributes,
  joinEapMessage,
  radiusAttribute,
  verifyMessageAuthenticator,
  verifyResponseAuthenticator,
} from "../../lib/wire/radius.ts";
import { RadiusAttributeType as A, RadiusCode } from "../../lib/wire/radius_constants.ts";
import { findExecutable, startHostapdRadius } from "../fixtures/radius/_hostapd.ts";

const hasHostapd = findExecutable("hostapd") !== undefined;
const IDENTITY = "alice@example";
const PSK_HEX = "0123456789abcdef0123456789abcdef";

function randomSecret(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(12)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function identityRequest() {
  const identity = new TextEncoder().encode(IDENTITY);
  return [
    radiusAttribute(A.UserName, IDENTITY),
    ...eapMessageAttributes(new Uint8Array([2, 0, 0, 5 + identity.length, 1, ...identity])),
  ];
}

describe("RADIUS client against hostapd's RADIUS server", () => {
  it.skipIf(!hasHostapd)(
    "needs hostapd (runs in CI): RFC 3579 EAP-Response/Identity gets an Access-Challenge with EAP-PSK message 1 and a valid Message-Authenticator",
    async () => {
      const secret = randomSecret();
      const server = await startHostapdRadius({ identity: IDENTITY, pskHex: PSK_HEX, secret });
      const client = new RadiusClient({
        server: { host: "127.0.0.1", port: server.port },
        secret,
        timeoutMs: 500,
      });
      try {
        const reply = await client.accessRequest(identityRequest());
        const requestAuthenticator = reply.request.authenticator;
        expect(reply.packet.code).toBe(RadiusCode.AccessChallenge);
        expect(reply.packet.identifier).toBe(reply.request.identifier);
        expect(verifyMessageAuthenticator(reply.responseBytes, secret, requestAuthenticator)).toBe(
          true,
        );
        expect(verifyResponseAuthenticator(reply.responseBytes, requestAuthenticator, secret)).toBe(
          true,
        );
        // EAP-Request (1), Length, Type 47 = EAP-PSK, Flags T=0 (message 1), RAND_S, ID_S.
        const eap = joinEapMessage(reply.packet)!;
        expect(eap[0]).toBe(1);
        expect((eap[2]! << 8) | eap[3]!).toBe(eap.length);
        expect(eap[4]).toBe(47);
        expect(eap[5]! >> 6).toBe(0);
        expect(eap.length).toBeGreaterThan(6 + 16);
        expect(attributeValue(reply.packet, A.State)).toBeDefined();
        expect(Object.values(client.stats.dropped).every((n) => n === 0)).toBe(true);
      } finally {
        await client.close();
        await server.stop();
      }
    },
  );

  it.skipIf(!hasHostapd)(
    "needs hostapd (runs in CI): RFC 3579 section 3.2 a request signed with the wrong secret gets no answer",
    async () => {
      const server = await startHostapdRadius({
        identity: IDENTITY,
        pskHex: PSK_HEX,
        secret: randomSecret(),
      });
      const client = new RadiusClient({
        server: { host: "127.0.0.1", port: server.port },
        secret: "not-the-secret",
        timeoutMs: 100,
        retries: 1,
      });
      try {
        const error = await client.accessRequest(identityRequest()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RadiusUnreachableError);
        expect(server.output()).toMatch(/Message-Authenticator/i);
      } finally {
        await client.close();
        await server.stop();
      }
    },
  );
});
