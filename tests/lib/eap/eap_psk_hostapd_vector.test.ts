/**
 * RFC 4764 interoperability without a network: the EAP-PSK exchange that eapol_test
 * (wpa_supplicant's peer) ran against hostapd's EAP server, recorded from RADIUS
 * (tests/fixtures/radius/eapol_test_eap_psk.json), replayed through our peer and our
 * server with the recorded random numbers. Every byte we send must equal what the
 * real implementation sent, and the MSK must equal the one eapol_test derived.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import fixture from "../../fixtures/radius/eapol_test_eap_psk.json" with { type: "json" };
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { createEapPskServer } from "../../../lib/eap/eap_psk_server.ts";
import { decodeRadius, joinEapMessage } from "../../../lib/wire/radius.ts";

function unhex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** The EAP packets of the capture, in order: identity, msg1, msg2, msg3, msg4, Success. */
const [identityResponse, msg1, msg2, msg3, msg4, success] = fixture.packets.map((p) =>
  joinEapMessage(decodeRadius(unhex(p.hex)))!
) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];

const PSK = unhex(fixture.pskHex);
const MSK = unhex(fixture.msk);
/** RAND_S and RAND_P as the capture carries them (RFC 4764 sections 5.1, 5.2). */
const RAND_S = msg1.slice(6, 22);
const RAND_P = msg2.slice(22, 38);

/** A random source that replays fixed values, one per call, and fails when exhausted. */
function replay(...values: Uint8Array[]) {
  const queue = [...values];
  return (n: number): Uint8Array => {
    const next = queue.shift();
    if (next === undefined || next.length !== n) throw new Error(`Unexpected random(${n})`);
    return next;
  };
}

describe("EAP-PSK against the hostapd/eapol_test capture (RFC 4764 interop vector)", () => {
  it("the capture is what it claims: identity alice@example, ID_S hostapd, four messages and Success", () => {
    expect(new TextDecoder().decode(identityResponse.subarray(5))).toBe(fixture.identity);
    expect(new TextDecoder().decode(msg1.subarray(22))).toBe("hostapd");
    expect([msg1, msg2, msg3, msg4].map((m) => [m[0], m[4], m[5]! >> 6])).toEqual([
      [1, 47, 0],
      [2, 47, 1],
      [1, 47, 2],
      [2, 47, 3],
    ]);
    expect(success).toEqual(new Uint8Array([3, msg4[1]!, 0, 4]));
  });

  it("RFC 4764 sections 5.2 and 5.4: our peer, given hostapd's messages and eapol_test's RAND_P, sends eapol_test's message 2 and message 4 byte for byte and derives the same MSK", async () => {
    const peer = createEapPskPeer({
      identity: fixture.identity,
      psk: PSK,
      random: replay(RAND_P),
      serverId: "hostapd",
    });
    expect(await peer.handle(msg1)).toEqual({ kind: "response", eap: msg2 });
    expect(await peer.handle(msg3)).toEqual({ kind: "response", eap: msg4 });
    const done = await peer.handle(success);
    expect(done.kind).toBe("success");
    if (done.kind !== "success") return;
    expect(done.msk).toEqual(MSK);
    expect(done.emsk?.length).toBe(64);
  });

  it("RFC 4764 sections 5.1 and 5.3: our server, given eapol_test's messages and hostapd's RAND_S, sends hostapd's message 1 and message 3 byte for byte and the same MSK", async () => {
    const server = createEapPskServer({
      serverId: "hostapd",
      lookup: (id) => (id === fixture.identity ? PSK : undefined),
      random: replay(RAND_S),
      identifierStart: identityResponse[1]!,
    });
    const start = await server.start();
    expect(start).toEqual({
      kind: "request",
      eap: new Uint8Array([1, identityResponse[1]!, 0, 5, 1]),
    });
    expect(await server.handle(identityResponse)).toEqual({ kind: "request", eap: msg1 });
    expect(await server.handle(msg2)).toEqual({ kind: "request", eap: msg3 });
    expect(await server.handle(msg4)).toEqual({
      kind: "success",
      eap: success,
      msk: MSK,
      identity: fixture.identity,
    });
  });
});
