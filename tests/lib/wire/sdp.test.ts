import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import {
  decodeSdp,
  encodeSdp,
  formatSdp,
  SDP_MAX_LENGTH,
  sdpConnection,
  sdpMedia,
  sdpOrigin,
  withConnectionAddress,
} from "../../../lib/wire/sdp.ts";
import {
  contacts,
  decodeSip,
  encodeSip,
  formatNameAddr,
  header,
  isSipRequest,
  newBranch,
  sipRequest,
  toHeader,
  topVia,
  validateSipMessage,
} from "../../../lib/wire/sip.ts";
import invite from "../../fixtures/sip/invite.json" with { type: "json" };
import okInvite from "../../fixtures/sip/ok_invite.json" with { type: "json" };

const unhex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
const utf8 = (text: string) => new TextEncoder().encode(text);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected an error");
}

const OFFER_BYTES = decodeSip(unhex(invite.hex)).body;
const ANSWER_BYTES = decodeSip(unhex(okInvite.hex)).body;

const MULTI = [
  "v=0",
  "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5",
  "s=SDP Seminar",
  "i=A Seminar on the session description protocol",
  "c=IN IP4 224.2.17.12/127",
  "b=AS:64",
  "t=2873397496 2873404696",
  "a=recvonly",
  "m=audio 49170 RTP/AVP 0",
  "m=video 51372/2 RTP/AVP 99",
  "c=IN IP6 FF15::101/3",
  "a=rtpmap:99 h263-1998/90000",
  "",
].join("\r\n");

describe("SDP codec (RFC 4566 section 5) on SIPp's offer and answer", () => {
  it("reads origin, connection and media of the captured offer and answer", () => {
    const offer = decodeSdp(OFFER_BYTES);
    expect(sdpOrigin(offer)).toEqual({
      username: "user1",
      sessionId: "53655765",
      sessionVersion: 2353687637n,
      netType: "IN",
      addrType: "IP4",
      address: "127.0.0.1",
    });
    expect(sdpConnection(offer)).toEqual({ netType: "IN", addrType: "IP4", address: "127.0.0.1" });
    expect(sdpConnection(offer, 0)).toEqual(sdpConnection(offer));
    expect(sdpMedia(offer)).toEqual([
      { media: "audio", port: 6004, proto: "RTP/AVP", formats: ["0"] },
    ]);
    expect(sdpMedia(decodeSdp(ANSWER_BYTES))[0]!.port).toBe(6000);
    expect(offer.media[0]!.map((f) => f.type)).toEqual(["m", "a"]);
  });

  it("round-trips byte for byte", () => {
    for (const bytes of [OFFER_BYTES, ANSWER_BYTES, utf8(MULTI)]) {
      const sdp = decodeSdp(bytes);
      expect(encodeSdp(sdp)).toEqual(bytes);
      expect(decodeSdp(formatSdp(sdp))).toEqual(sdp);
    }
  });

  it("keeps fields it does not interpret and reads multicast suffixes (section 5.7)", () => {
    const sdp = decodeSdp(MULTI);
    expect(sdp.session.map((f) => f.type).join("")).toBe("vosicbta");
    expect(sdpConnection(sdp)).toEqual({
      netType: "IN",
      addrType: "IP4",
      address: "224.2.17.12",
      ttl: 127,
    });
    // The video section's own c= overrides the session's (section 5.7).
    expect(sdpConnection(sdp, 1)).toEqual({
      netType: "IN",
      addrType: "IP6",
      address: "FF15::101",
      count: 3,
    });
    expect(sdpConnection(sdp, 0)?.address).toBe("224.2.17.12");
    expect(sdpConnection(sdp, 5)?.address).toBe("224.2.17.12");
    expect(sdpMedia(sdp)[1]).toEqual({
      media: "video",
      port: 51372,
      portCount: 2,
      proto: "RTP/AVP",
      formats: ["99"],
    });
  });

  it("accepts bare LF line ends (section 5) and writes CRLF", () => {
    const sdp = decodeSdp(MULTI.replaceAll("\r\n", "\n"));
    expect(formatSdp(sdp)).toBe(MULTI);
  });

  it("refuses malformed descriptions", () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ["", /must start with v=0/],
      ["v=1\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", /must start with v=0/],
      ["v=0\r\ns=-\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", /o= must follow v=/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\ns=-\r\n", /s= must follow o=/],
      ["v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", /Invalid SDP o=/],
      ["v=0\r\no=- 1 x IN IP4 h\r\ns=-\r\nt=0 0\r\n", /Invalid SDP o=/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", /no t= field/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4\r\nt=0 0\r\n", /Invalid SDP c=/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP6 ff15::1/3/4\r\nt=0 0\r\n", /Invalid SDP c=/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h/x\r\nt=0 0\r\n", /Invalid SDP c=/],
      [
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
        /Invalid SDP m=/,
      ],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio\r\n", /Invalid SDP m=/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\nS=-\r\n", /Invalid SDP line 3/],
      ["v=0\r\no=- 1 1 IN IP4 h\r\ns=a\x00b\r\n", /Invalid SDP line 3/],
      ["v=0\r\nno equals\r\n", /Invalid SDP line 2/],
      [new Uint8Array([0x76, 0x3d, 0xff]), /not UTF-8/],
      [`v=0\r\na=${"x".repeat(SDP_MAX_LENGTH)}`, /SDP too large/],
    ];
    for (const [input, message] of cases) {
      const error = thrown(() => decodeSdp(input));
      expect(error, String(input).slice(0, 60)).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it("refuses a media description without connection address (section 5.7)", () => {
    const error = thrown(() =>
      decodeSdp("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n")
    );
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toBe("Invalid SDP: media 0 has no c= and the session none");
  });

  it("refuses to write a field that would break the line structure", () => {
    const sdp = decodeSdp(OFFER_BYTES);
    const bad = {
      ...sdp,
      session: [...sdp.session, { type: "a", value: "x\r\nc=IN IP4 6.6.6.6" }],
    };
    expect(thrown(() => encodeSdp(bad))).toBeInstanceOf(ProtocolViolationError);
    const badType = { ...sdp, session: [...sdp.session, { type: "ab", value: "x" }] };
    expect(thrown(() => formatSdp(badType))).toBeInstanceOf(ProtocolViolationError);
  });
});

describe("withConnectionAddress (RFC 4566 section 5.2, RFC 3264 section 8, RFC 6252 section 7.5)", () => {
  it("moves every c= to the new address and increments the o= version only", () => {
    const sdp = decodeSdp(MULTI);
    const moved = withConnectionAddress(sdp, "198.51.100.7");
    expect(sdpConnection(moved)).toEqual({
      netType: "IN",
      addrType: "IP4",
      address: "198.51.100.7",
    });
    expect(sdpConnection(moved, 1)?.address).toBe("198.51.100.7");
    const before = sdpOrigin(sdp);
    const after = sdpOrigin(moved);
    expect(after).toEqual({ ...before, sessionVersion: before.sessionVersion + 1n });
    // Everything but o= and c= is unchanged, in the same order.
    const strip = (s: typeof sdp) =>
      [...s.session, ...s.media.flat()].filter((f) => f.type !== "o" && f.type !== "c");
    expect(strip(moved)).toEqual(strip(sdp));
    // The input is not modified.
    expect(sdpConnection(sdp)?.address).toBe("224.2.17.12");
  });

  it("writes IN IP6 for an IPv6 address and keeps versions beyond 2^53 exact", () => {
    const big =
      "v=0\r\no=- 1 18446744073709551615 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
    const moved = withConnectionAddress(decodeSdp(big), "2001:db8::5");
    expect(formatSdp(moved)).toBe(
      "v=0\r\no=- 1 18446744073709551616 IN IP4 h\r\ns=-\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\n",
    );
  });

  it("adds a session-level c= before t= when there was none", () => {
    const moved = withConnectionAddress(
      decodeSdp("v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\n"),
      "192.0.2.9",
    );
    expect(formatSdp(moved)).toBe(
      "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n",
    );
  });

  it("refuses an address that would inject text", () => {
    const sdp = decodeSdp(OFFER_BYTES);
    for (const bad of ["", "1.2.3.4\r\na=x", "1.2.3.4 5"]) {
      expect(thrown(() => withConnectionAddress(sdp, bad))).toBeInstanceOf(ProtocolViolationError);
    }
  });

  it("builds the re-INVITE of a moved UA from SIPp's INVITE (RFC 6252 section 7.5)", () => {
    const original = decodeSip(unhex(invite.hex));
    if (!isSipRequest(original)) throw new Error("Expected a request");
    const answer = decodeSip(unhex(okInvite.hex));
    const newAddress = "198.51.100.20";
    const offer = withConnectionAddress(decodeSdp(original.body), newAddress);
    const reinvite = sipRequest({
      method: "INVITE",
      uri: contacts(answer)[0]!.uri, // the remote target (RFC 3261 section 12.1.2)
      via: { host: newAddress, port: 5060, branch: newBranch((n) => new Uint8Array(n).fill(7)) },
      from: { uri: "sip:sipp@127.0.0.1", tag: "21869SIPpTag001" },
      to: { uri: toHeader(answer).uri, tag: toHeader(answer).tag! },
      callId: header(original, "Call-ID")!,
      cseq: 2,
      contact: { uri: `sip:sipp@${newAddress}:5060` },
      body: encodeSdp(offer),
      contentType: "application/sdp",
    });
    const decoded = validateSipMessage(decodeSip(encodeSip(reinvite)));
    expect(decoded).toEqual(reinvite);
    expect(topVia(decoded).host).toBe(newAddress);
    expect(header(decoded, "Contact")).toBe(formatNameAddr({ uri: `sip:sipp@${newAddress}:5060` }));
    const sdp = decodeSdp(decoded.body);
    expect(sdpConnection(sdp, 0)?.address).toBe(newAddress);
    expect(sdpOrigin(sdp).sessionVersion).toBe(2353687638n);
    expect(sdpMedia(sdp)).toEqual(sdpMedia(decodeSdp(original.body)));
  });
});
