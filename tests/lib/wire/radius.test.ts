import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError, MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import {
  attributeValue,
  attributeValues,
  decodeRadius,
  eapMessageAttributes,
  encodeRadius,
  joinEapMessage,
  radiusAttribute,
  radiusCodeName,
  type RadiusPacket,
  responseAuthenticator,
  signResponse,
  verifyMessageAuthenticator,
  verifyResponseAuthenticator,
  withMessageAuthenticator,
} from "../../../lib/wire/radius.ts";
import { RadiusAttributeType as A, RadiusCode } from "../../../lib/wire/radius_constants.ts";
import hostapdIdentity from "../../fixtures/radius/hostapd_eap_psk_identity.json" with {
  type: "json",
};
import eapolTest from "../../fixtures/radius/eapol_test_eap_psk.json" with { type: "json" };

const unhex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected an error");
}

// RFC 2865 section 7.1, "User Telnet to Specified Host" (shared secret "xyzzy5461").
const RFC2865_SECRET = "xyzzy5461";
const RFC2865_REQUEST = unhex(`
  01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
  98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
  93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
  01 10 05 06 00 00 00 03`);
const RFC2865_ACCEPT = unhex(`
  02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
  9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
  0e 06 c0 a8 01 03`);
// RFC 2865 section 7.3, "User with Challenge-Response card": the Access-Challenge.
const RFC2865_CHALLENGE = unhex(`
  0b 02 00 4e 36 f3 c8 76 4a e8 c7 11 57 40 3c 0c
  71 ff 9c 45 12 30 43 68 61 6c 6c 65 6e 67 65 20
  33 32 37 36 39 34 33 30 2e 20 20 45 6e 74 65 72
  20 72 65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f
  6d 70 74 2e 18 0a 33 32 37 36 39 34 33 30`);

const HOSTAPD_REQUEST = unhex(hostapdIdentity.request);
const HOSTAPD_CHALLENGE = unhex(hostapdIdentity.response);
const EAPOL_PACKETS = eapolTest.packets.map((p) => unhex(p.hex));

const ALL_FIXTURES: readonly (readonly [string, Uint8Array])[] = [
  ["RFC 2865 section 7.1 Access-Request", RFC2865_REQUEST],
  ["RFC 2865 section 7.1 Access-Accept", RFC2865_ACCEPT],
  ["RFC 2865 section 7.3 Access-Challenge", RFC2865_CHALLENGE],
  ["hostapd Access-Request (EAP-Response/Identity)", HOSTAPD_REQUEST],
  ["hostapd Access-Challenge (EAP-PSK message 1)", HOSTAPD_CHALLENGE],
  ...EAPOL_PACKETS.map((p, i) => [`eapol_test packet ${i + 1}`, p] as const),
];

function packet(attributes: RadiusPacket["attributes"], code: number = RadiusCode.AccessRequest) {
  return { code, identifier: 42, authenticator: new Uint8Array(16).fill(0xab), attributes };
}

describe("decodeRadius / encodeRadius on fixtures", () => {
  it("RFC 2865 section 7.1: decodes the Access-Request attribute by attribute", () => {
    const request = decodeRadius(RFC2865_REQUEST);
    expect([request.code, request.identifier]).toEqual([RadiusCode.AccessRequest, 0]);
    expect(request.authenticator).toEqual(unhex("0f403f94739780 57bd83d5cb98f4227a"));
    expect(request.attributes.map((a) => a.type)).toEqual([1, 2, 4, 5]);
    expect(text(attributeValue(request, A.UserName))).toBe("nemo");
    expect(attributeValue(request, A.NasIpAddress)).toEqual(new Uint8Array([192, 168, 1, 16]));
    expect(attributeValue(request, A.NasPort)).toEqual(new Uint8Array([0, 0, 0, 3]));
  });

  it("RFC 2865 section 7.3: decodes the Access-Challenge's Reply-Message and State", () => {
    const challenge = decodeRadius(RFC2865_CHALLENGE);
    expect(challenge.code).toBe(RadiusCode.AccessChallenge);
    expect(text(attributeValue(challenge, A.ReplyMessage))).toBe(
      "Challenge 32769430.  Enter response at prompt.",
    );
    expect(text(attributeValue(challenge, A.State))).toBe("32769430");
  });

  for (const [name, bytes] of ALL_FIXTURES) {
    it(`RFC 2865 section 3: ${name} re-encodes to the same bytes`, () => {
      expect(encodeRadius(decodeRadius(bytes))).toEqual(bytes);
    });
  }

  it("RFC 3579 section 3.1: hostapd's Access-Challenge carries EAP-Request/EAP-PSK message 1 and a State", () => {
    const challenge = decodeRadius(HOSTAPD_CHALLENGE);
    const request = decodeRadius(HOSTAPD_REQUEST);
    expect(challenge.code).toBe(RadiusCode.AccessChallenge);
    expect(challenge.identifier).toBe(request.identifier);
    const eap = joinEapMessage(challenge)!;
    // EAP Code 1 (Request), Length, Type 47 (EAP-PSK), Flags T=0, RAND_S (16), ID_S.
    expect([eap[0], (eap[2]! << 8) | eap[3]!, eap[4], eap[5]! >> 6]).toEqual([
      1,
      eap.length,
      47,
      0,
    ]);
    expect(text(eap.subarray(22))).toBe("hostapd");
    expect(attributeValue(challenge, A.State)?.length).toBe(4);
    expect(text(joinEapMessage(request)!.subarray(5))).toBe(hostapdIdentity.identity);
  });
});

describe("truncated, oversized and malformed input", () => {
  for (const [name, bytes] of ALL_FIXTURES) {
    it(`RFC 2865 section 3: ${name} cut at every byte boundary throws MalformedMessageError`, () => {
      for (let n = 0; n < bytes.length; n++) {
        const error = thrown(() => decodeRadius(bytes.subarray(0, n)));
        expect(error, `cut at ${n}`).toBeInstanceOf(MalformedMessageError);
        expect((error as Error).message).toMatch(/^Truncated RADIUS packet: /);
      }
    });
  }

  it("RFC 2865 section 3: octets past the Length field are padding and ignored, even past 4096", () => {
    for (const extra of [1, 100, 5000]) {
      const padded = new Uint8Array(HOSTAPD_CHALLENGE.length + extra).fill(0xee);
      padded.set(HOSTAPD_CHALLENGE);
      expect(decodeRadius(padded)).toEqual(decodeRadius(HOSTAPD_CHALLENGE));
      expect(verifyResponseAuthenticator(
        padded,
        decodeRadius(HOSTAPD_REQUEST).authenticator,
        hostapdIdentity.secret,
      )).toBe(true);
    }
  });

  it("RFC 2865 section 3: a Length field below 20 or above 4096 throws MalformedMessageError", () => {
    for (const length of [0, 19, 4097, 0xffff]) {
      const bytes = new Uint8Array(Math.max(20, Math.min(length, 5000)));
      bytes[0] = 1;
      bytes[2] = length >> 8;
      bytes[3] = length & 0xff;
      const error = thrown(() => decodeRadius(bytes));
      expect(error).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).message).toBe(
        `Invalid RADIUS Length: ${length}, expected 20 to 4096`,
      );
    }
  });

  it("RFC 2865 section 5: attribute lengths 0 and 1 throw MalformedMessageError; 2 is an empty value", () => {
    for (const length of [0, 1]) {
      const bytes = new Uint8Array([1, 0, 0, 23, ...new Uint8Array(16), 1, length, 0]);
      const error = thrown(() => decodeRadius(bytes));
      expect(error).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).message).toBe(
        `Invalid RADIUS attribute length at offset 20: ${length}, at least 2`,
      );
    }
    const empty = decodeRadius(new Uint8Array([1, 0, 0, 22, ...new Uint8Array(16), 18, 2]));
    expect(empty.attributes).toEqual([{ type: 18, value: new Uint8Array(0) }]);
  });

  it("RFC 2865 section 5: an attribute running past the Length field throws MalformedMessageError", () => {
    const bytes = encodeRadius(packet([radiusAttribute(A.UserName, "alice")]));
    bytes[3] = bytes[3]! - 1; // Length one short of the attribute's end
    expect(() => decodeRadius(bytes)).toThrow(
      "Truncated RADIUS attribute 1 at offset 20: length 7, 6 bytes left",
    );
    const lone = new Uint8Array([1, 0, 0, 21, ...new Uint8Array(16), 1]);
    expect(() => decodeRadius(lone)).toThrow(
      "Truncated RADIUS attribute at offset 20: 1 byte left, the header needs 2",
    );
  });

  it("RFC 3579 section 3.2: EAP-Message without Message-Authenticator throws ProtocolViolationError", () => {
    const bytes = encodeRadius(packet(eapMessageAttributes(new Uint8Array([2, 1, 0, 4]))));
    const error = thrown(() => decodeRadius(bytes));
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toBe(
      "EAP-Message without Message-Authenticator: RFC 3579 section 3.2 requires it",
    );
  });

  it("RFC 3579 section 3.2: two Message-Authenticators, or one not 16 bytes long, throw ProtocolViolationError", () => {
    const ma = { type: A.MessageAuthenticator, value: new Uint8Array(16) };
    expect(() => decodeRadius(encodeRadius(packet([ma, ma])))).toThrow(ProtocolViolationError);
    const short = { type: A.MessageAuthenticator, value: new Uint8Array(15) };
    expect(() => decodeRadius(encodeRadius(packet([short])))).toThrow(
      "Invalid Message-Authenticator length: 15 bytes, expected 16",
    );
  });

  it("returns copies: changing the input afterwards does not change the packet", () => {
    const bytes = HOSTAPD_CHALLENGE.slice();
    const decoded = decodeRadius(bytes);
    const before = encodeRadius(decoded);
    bytes.fill(0);
    expect(encodeRadius(decoded)).toEqual(before);
  });
});

describe("encodeRadius limits", () => {
  it("RFC 2865 section 5: a value of 253 bytes encodes, 254 throws ProtocolViolationError", () => {
    const ok = encodeRadius(packet([{ type: A.Class, value: new Uint8Array(253) }]));
    expect(ok[21]).toBe(255);
    expect(() => encodeRadius(packet([{ type: A.Class, value: new Uint8Array(254) }]))).toThrow(
      "Oversized RADIUS attribute 25: 254 bytes, at most 253",
    );
  });

  it("RFC 2865 section 3: a packet of exactly 4096 bytes round-trips, 4097 throws ProtocolViolationError", () => {
    // 16 attributes of 255 bytes = 4080, plus the 20-byte header = 4100: trim the last.
    const attributes = Array.from({ length: 16 }, (_, i) => ({
      type: A.Class,
      value: new Uint8Array(i === 15 ? 249 : 253).fill(i),
    }));
    const bytes = encodeRadius(packet(attributes));
    expect(bytes.length).toBe(4096);
    expect(decodeRadius(bytes)).toEqual(packet(attributes));
    const over = [...attributes.slice(0, 15), { type: A.Class, value: new Uint8Array(250) }];
    expect(() => encodeRadius(packet(over))).toThrow(
      "Oversized RADIUS packet: 4097 bytes, at most 4096",
    );
  });

  it("refuses codes, identifiers and types outside 0-255 and authenticators not 16 bytes long", () => {
    expect(() => encodeRadius({ ...packet([]), code: 256 })).toThrow(ProtocolViolationError);
    expect(() => encodeRadius({ ...packet([]), identifier: -1 })).toThrow(ProtocolViolationError);
    expect(() => encodeRadius(packet([{ type: 1.5, value: new Uint8Array(1) }]))).toThrow(
      ProtocolViolationError,
    );
    expect(() => encodeRadius({ ...packet([]), authenticator: new Uint8Array(15) })).toThrow(
      "Invalid RADIUS authenticator: expected 16 bytes, got 15",
    );
  });
});

describe("EAP-Message (RFC 3579 section 3.1)", () => {
  it("splits at 253 bytes: 0, 253, 254 and 600 bytes", () => {
    const sizes = (n: number) => eapMessageAttributes(new Uint8Array(n)).map((a) => a.value.length);
    expect(sizes(0)).toEqual([0]);
    expect(sizes(253)).toEqual([253]);
    expect(sizes(254)).toEqual([253, 1]);
    expect(sizes(600)).toEqual([253, 253, 94]);
    expect(eapMessageAttributes(new Uint8Array(1)).every((a) => a.type === 79)).toBe(true);
  });

  it("reassembles an EAP packet from 3 attributes through encode and decode", () => {
    const eap = new Uint8Array(700).map((_, i) => (i * 7) & 0xff);
    const signed = withMessageAuthenticator(
      packet([
        radiusAttribute(A.UserName, "alice"),
        ...eapMessageAttributes(eap),
        radiusAttribute(A.State, "s"),
      ]),
      "secret",
    );
    const decoded = decodeRadius(encodeRadius(signed));
    expect(attributeValues(decoded, A.EapMessage).length).toBe(3);
    expect(joinEapMessage(decoded)).toEqual(eap);
  });

  it("has no EAP packet when there is no EAP-Message", () => {
    expect(joinEapMessage(decodeRadius(RFC2865_REQUEST))).toBeUndefined();
  });
});

describe("Message-Authenticator (RFC 3579 section 3.2)", () => {
  const secret = hostapdIdentity.secret;
  const requestAuthenticator = decodeRadius(HOSTAPD_REQUEST).authenticator;

  it("verifies hostapd's request and response with the shared secret", () => {
    expect(verifyMessageAuthenticator(HOSTAPD_REQUEST, secret)).toBe(true);
    expect(verifyMessageAuthenticator(HOSTAPD_CHALLENGE, secret, requestAuthenticator)).toBe(true);
    expect(verifyMessageAuthenticator(HOSTAPD_CHALLENGE, "wrong", requestAuthenticator)).toBe(
      false,
    );
  });

  it("in a response is keyed on the Request Authenticator, not the Response Authenticator", () => {
    expect(verifyMessageAuthenticator(HOSTAPD_CHALLENGE, secret)).toBe(false);
    expect(verifyMessageAuthenticator(HOSTAPD_CHALLENGE, secret, new Uint8Array(16))).toBe(false);
  });

  it("fails (or throws) when any byte of hostapd's response after the header is flipped", () => {
    for (let i = 20; i < HOSTAPD_CHALLENGE.length; i++) {
      const bytes = HOSTAPD_CHALLENGE.slice();
      bytes[i] = bytes[i]! ^ 0x01;
      let ok: boolean;
      try {
        ok = verifyMessageAuthenticator(bytes, secret, requestAuthenticator);
      } catch {
        ok = false;
      }
      expect(ok, `byte ${i}`).toBe(false);
    }
  });

  it("is false when the packet has none", () => {
    expect(verifyMessageAuthenticator(RFC2865_REQUEST, RFC2865_SECRET)).toBe(false);
  });

  it("withMessageAuthenticator recomputes hostapd's request bit for bit (same attributes, MA first)", () => {
    const request = decodeRadius(HOSTAPD_REQUEST);
    expect(request.attributes[0]?.type).toBe(A.MessageAuthenticator);
    const resigned = withMessageAuthenticator(
      { ...request, attributes: request.attributes.slice(1) },
      secret,
    );
    expect(encodeRadius(resigned)).toEqual(HOSTAPD_REQUEST);
  });

  it("replaces an existing Message-Authenticator and moves it first", () => {
    const stale = { type: A.MessageAuthenticator, value: new Uint8Array(16).fill(9) };
    const signed = withMessageAuthenticator(
      packet([radiusAttribute(A.UserName, "bob"), stale]),
      "s",
    );
    expect(signed.attributes.map((a) => a.type)).toEqual([A.MessageAuthenticator, A.UserName]);
    expect(verifyMessageAuthenticator(encodeRadius(signed), "s")).toBe(true);
  });

  it("takes the secret as text or as the same bytes", () => {
    expect(verifyMessageAuthenticator(HOSTAPD_REQUEST, utf8(secret))).toBe(true);
  });

  it("refuses an empty secret with ConfigError", () => {
    expect(() => verifyMessageAuthenticator(HOSTAPD_REQUEST, "")).toThrow(ConfigError);
    expect(() => withMessageAuthenticator(packet([]), new Uint8Array(0))).toThrow(
      "Invalid RADIUS shared secret: empty",
    );
  });
});

describe("Response Authenticator (RFC 2865 section 3)", () => {
  const requestAuthenticator = decodeRadius(RFC2865_REQUEST).authenticator;

  it("RFC 2865 section 7.1: verifies the example Access-Accept", () => {
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, requestAuthenticator, RFC2865_SECRET)).toBe(
      true,
    );
    expect(verifyResponseAuthenticator(RFC2865_ACCEPT, requestAuthenticator, "xyzzy5462")).toBe(
      false,
    );
  });

  it("RFC 2865 section 7.1: computes the example Access-Accept's authenticator", () => {
    const accept = decodeRadius(RFC2865_ACCEPT);
    expect(responseAuthenticator(accept, requestAuthenticator, RFC2865_SECRET)).toEqual(
      RFC2865_ACCEPT.subarray(4, 20),
    );
  });

  it("verifies every response of the eapol_test exchange against the request before it", () => {
    for (let i = 1; i < EAPOL_PACKETS.length; i += 2) {
      const request = decodeRadius(EAPOL_PACKETS[i - 1]!);
      expect(eapolTest.packets[i]!.from).toBe("server");
      expect(
        verifyResponseAuthenticator(EAPOL_PACKETS[i]!, request.authenticator, eapolTest.secret),
      )
        .toBe(true);
      expect(
        verifyMessageAuthenticator(EAPOL_PACKETS[i]!, eapolTest.secret, request.authenticator),
      ).toBe(true);
    }
  });

  it("signResponse adds a Message-Authenticator, then the Response Authenticator", () => {
    const ra = new Uint8Array(16).fill(5);
    const reply = signResponse(
      packet([...eapMessageAttributes(new Uint8Array([3, 1, 0, 4]))], RadiusCode.AccessAccept),
      ra,
      "s",
    );
    const bytes = encodeRadius(reply);
    expect(reply.attributes[0]?.type).toBe(A.MessageAuthenticator);
    expect(verifyMessageAuthenticator(bytes, "s", ra)).toBe(true);
    expect(verifyResponseAuthenticator(bytes, ra, "s")).toBe(true);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    expect(verifyResponseAuthenticator(bytes, ra, "s")).toBe(false);
  });

  it("throws MalformedMessageError on bytes that do not parse", () => {
    expect(() => verifyResponseAuthenticator(new Uint8Array(10), requestAuthenticator, "s"))
      .toThrow(MalformedMessageError);
  });
});

describe("radiusCodeName", () => {
  it("names the RFC 2865 codes and numbers the others", () => {
    expect([1, 2, 3, 11].map(radiusCodeName)).toEqual([
      "Access-Request",
      "Access-Accept",
      "Access-Reject",
      "Access-Challenge",
    ]);
    expect(radiusCodeName(200)).toBe("code 200");
  });
});
