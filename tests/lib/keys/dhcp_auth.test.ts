import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { signDhcp, verifyDhcp } from "../../../lib/keys/dhcp_auth.ts";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";
import { decodeDhcp, dhcpMessage, encodeDhcp, findDhcpOption } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType } from "../../../lib/wire/dhcp_constants.ts";

const hmacKey = (fill: number) =>
  crypto.subtle.importKey(
    "raw",
    new Uint8Array(32).fill(fill),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );

const REQUEST = dhcpMessage({
  xid: 0x01020304,
  ciaddr: "192.0.2.20",
  chaddr: new Uint8Array([2, 0, 0, 0, 0, 1]),
  options: {
    messageType: DhcpMessageType.Request,
    clientId: new Uint8Array([0, 0x6d, 0x6e]),
    requestedAddress: "10.0.2.50",
    serverId: "10.0.2.1",
    subnetSelection: "10.0.2.0",
  },
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("Expected a rejection");
}

describe("DHCP authentication option 90 (RFC 3118 section 5, HMAC-SHA-256-128)", () => {
  it("signs and verifies: secret id, counter and the option layout (RFC 3118 section 2)", async () => {
    const key = await hmacKey(1);
    const bytes = await signDhcp(REQUEST, key, 0xdeadbeef, 0x0102030405060708n);
    expect(await verifyDhcp(bytes, key)).toEqual({
      sessionId: 0xdeadbeef,
      counter: 0x0102030405060708n,
    });
    const auth = decodeDhcp(bytes).options.auth!;
    expect([auth.protocol, auth.algorithm, auth.rdm]).toEqual([1, 2, 0]);
    expect([...auth.replay]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(auth.info.length).toBe(20);
    expect([...auth.info.subarray(0, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(auth.info.subarray(4).some((b) => b !== 0)).toBe(true); // the MAC is filled in
    // The rest of the message is unchanged.
    expect(decodeDhcp(bytes).options.requestedAddress).toBe("10.0.2.50");
  });

  it("fails on any changed byte outside hops and giaddr (RFC 3118 section 5.4)", async () => {
    const key = await hmacKey(2);
    const bytes = await signDhcp(REQUEST, key, 7, 1n);
    let checked = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (i === 3 || (i >= 24 && i < 28)) continue;
      const copy = bytes.slice();
      copy[i] = copy[i]! ^ 0x01;
      const error = await rejection(verifyDhcp(copy, key));
      expect(
        error instanceof IntegrityError || error instanceof ProtocolViolationError ||
          error instanceof MalformedMessageError,
        `byte ${i}`,
      ).toBe(true);
      checked++;
    }
    expect(checked).toBe(bytes.length - 5);
  });

  it("stays valid when a relay changes hops and giaddr (RFC 3118 section 5.4)", async () => {
    const key = await hmacKey(3);
    const bytes = await signDhcp(REQUEST, key, 7, 9n);
    bytes[3] = 1;
    bytes.set([192, 0, 2, 1], 24);
    expect(await verifyDhcp(bytes, key)).toEqual({ sessionId: 7, counter: 9n });
  });

  it("fails under another key", async () => {
    const bytes = await signDhcp(REQUEST, await hmacKey(4), 7, 1n);
    expect(await rejection(verifyDhcp(bytes, await hmacKey(5)))).toBeInstanceOf(IntegrityError);
  });

  it("refuses a replayed counter (RFC 3118 section 2, RDM 0)", async () => {
    const key = await hmacKey(6);
    const bytes = await signDhcp(REQUEST, key, 7, 10n);
    expect((await verifyDhcp(bytes, key, { after: 9n })).counter).toBe(10n);
    const error = await rejection(verifyDhcp(bytes, key, { after: 10n }));
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toBe("Replayed DHCP message: counter 10 not above 10");
  });

  it("refuses a message without option 90, or with HMAC-MD5 (algorithm 1)", async () => {
    const key = await hmacKey(7);
    expect(await rejection(verifyDhcp(encodeDhcp(REQUEST), key))).toBeInstanceOf(
      MalformedMessageError,
    );
    const bytes = await signDhcp(REQUEST, key, 7, 1n);
    const [where] = findDhcpOption(bytes, 90);
    bytes[where!.start + 1] = 1;
    const error = await rejection(verifyDhcp(bytes, key));
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toBe("Unsupported DHCP authentication algorithm: 1");
  });

  it("replaces an auth option already in the message", async () => {
    const key = await hmacKey(8);
    const withAuth = dhcpMessage({
      ...REQUEST,
      options: {
        ...REQUEST.options,
        auth: {
          protocol: 0,
          algorithm: 0,
          rdm: 0,
          replay: new Uint8Array(8),
          info: new Uint8Array(),
        },
      },
    });
    const bytes = await signDhcp(withAuth, key, 1, 2n);
    expect(findDhcpOption(bytes, 90).length).toBe(1);
    expect(await verifyDhcp(bytes, key)).toEqual({ sessionId: 1, counter: 2n });
  });

  it("rejects an out-of-range session id or counter", async () => {
    const key = await hmacKey(9);
    expect(await rejection(signDhcp(REQUEST, key, -1, 1n))).toBeInstanceOf(ProtocolViolationError);
    expect(await rejection(signDhcp(REQUEST, key, 1, 1n << 64n))).toBeInstanceOf(
      ProtocolViolationError,
    );
  });
});
