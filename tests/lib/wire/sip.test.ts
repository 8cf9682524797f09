import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import {
  callId,
  canonicalHeaderName,
  contacts,
  cseq,
  decodeSip,
  encodeSip,
  expires,
  formatNameAddr,
  formatVia,
  fromHeader,
  header,
  headers,
  isSipRequest,
  maxForwards,
  newBranch,
  newCallId,
  newTag,
  parseCSeq,
  parseNameAddr,
  parseSipUri,
  parseVia,
  removeHeader,
  setHeader,
  type SipMessage,
  type SipRequest,
  sipRequest,
  sipResponseTo,
  toHeader,
  topVia,
  validateSipMessage,
  vias,
} from "../../../lib/wire/sip.ts";
import { SIP_LIMITS } from "../../../lib/wire/sip_constants.ts";
import invite from "../../fixtures/sip/invite.json" with { type: "json" };
import trying from "../../fixtures/sip/trying.json" with { type: "json" };
import ringing from "../../fixtures/sip/ringing.json" with { type: "json" };
import okInvite from "../../fixtures/sip/ok_invite.json" with { type: "json" };
import ack from "../../fixtures/sip/ack.json" with { type: "json" };
import bye from "../../fixtures/sip/bye.json" with { type: "json" };
import okBye from "../../fixtures/sip/ok_bye.json" with { type: "json" };

const unhex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected an error");
}

function malformed(bytes: Uint8Array | string, message: string | RegExp): void {
  const error = thrown(() => decodeSip(typeof bytes === "string" ? utf8(bytes) : bytes));
  expect(error).toBeInstanceOf(MalformedMessageError);
  expect((error as Error).message).toMatch(message);
}

function request(msg: SipMessage): SipRequest {
  if (!isSipRequest(msg)) throw new Error("Expected a request");
  return msg;
}

const CALL = [invite, trying, ringing, okInvite, ack, bye, okBye];
const decoded = CALL.map((f) => decodeSip(unhex(f.hex)));
const [INVITE, TRYING, RINGING, OK_INVITE, ACK, BYE, OK_BYE] = decoded as [
  SipMessage,
  SipMessage,
  SipMessage,
  SipMessage,
  SipMessage,
  SipMessage,
  SipMessage,
];

/** A minimal valid request head, CRLF line ends, without the empty line. */
const HEAD = [
  "OPTIONS sip:bob@192.0.2.4 SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
  "Max-Forwards: 70",
  "To: <sip:bob@192.0.2.4>",
  "From: <sip:alice@192.0.2.1>;tag=1928301774",
  "Call-ID: a84b4c76e66710",
  "CSeq: 63104 OPTIONS",
].join("\r\n");

describe("SIP codec on a SIPp call (RFC 3261 section 7, captured fixtures)", () => {
  it("decodes the seven messages of the call in order", () => {
    expect(decoded.map((m) => (m.kind === "request" ? m.method : m.status))).toEqual([
      "INVITE",
      100,
      180,
      200,
      "ACK",
      "BYE",
      200,
    ]);
    for (const msg of decoded) {
      expect(validateSipMessage(msg)).toBe(msg);
      expect(msg.version).toBe("SIP/2.0");
    }
  });

  it("reads the dialog identifiers consistently (RFC 3261 section 12)", () => {
    const id = callId(INVITE);
    expect(id).toMatch(/@127\.0\.0\.1$/);
    for (const msg of decoded) expect(callId(msg)).toBe(id);
    const fromTag = fromHeader(INVITE).tag;
    expect(fromTag).toMatch(/SIPpTag00/);
    for (const msg of decoded) expect(fromHeader(msg).tag).toBe(fromTag);
    // The UAS's tag appears from the 180 on, never in the INVITE or the 100.
    expect(toHeader(INVITE).tag).toBeUndefined();
    expect(toHeader(TRYING).tag).toBeUndefined();
    const toTag = toHeader(RINGING).tag;
    expect(toTag).toMatch(/SIPpTag01/);
    for (const msg of [OK_INVITE, ACK, BYE, OK_BYE]) expect(toHeader(msg).tag).toBe(toTag);
    expect(toHeader(INVITE).displayName).toBe("service");
    expect(fromHeader(INVITE).displayName).toBe("sipp");
  });

  it("reads Via, CSeq, Contact and Max-Forwards (RFC 3261 sections 20.10, 20.16, 20.22, 20.42)", () => {
    const via = topVia(INVITE);
    expect([via.protocol, via.transport, via.host]).toEqual(["SIP/2.0", "UDP", "127.0.0.1"]);
    expect(via.branch).toMatch(/^z9hG4bK-/);
    // Responses carry the request's Via; ACK and BYE are new transactions.
    for (const msg of [TRYING, RINGING, OK_INVITE]) expect(topVia(msg)).toEqual(via);
    expect(topVia(ACK).branch).not.toBe(via.branch);
    expect(topVia(OK_BYE)).toEqual(topVia(BYE));
    expect(decoded.map((m) => `${cseq(m).seq} ${cseq(m).method}`)).toEqual([
      "1 INVITE",
      "1 INVITE",
      "1 INVITE",
      "1 INVITE",
      "1 ACK",
      "2 BYE",
      "2 BYE",
    ]);
    // The UAC's Contact is an addr-spec without brackets, the UAS's a name-addr.
    const uac = contacts(INVITE);
    expect(uac).toHaveLength(1);
    expect(parseSipUri(uac[0]!.uri)).toMatchObject({ scheme: "sip", user: "sipp", port: via.port });
    const uas = parseSipUri(contacts(OK_INVITE)[0]!.uri);
    expect(uas.user).toBeUndefined();
    expect(uas.host).toBe("127.0.0.1");
    expect(uas.params.get("transport")).toBe("UDP");
    expect(maxForwards(INVITE)).toBe(70);
    expect(maxForwards(OK_INVITE)).toBeUndefined();
    expect(header(INVITE, "subject")).toBe("Performance Test");
  });

  it("takes the body from Content-Length, whitespace around the value ignored (RFC 3261 section 20.14)", () => {
    expect(invite.text).toContain("Content-Length:   129");
    expect(INVITE.body).toHaveLength(129);
    expect(header(INVITE, "Content-Length")).toBe("129");
    expect(text(INVITE.body)).toMatch(/^v=0\r\no=user1 /);
    expect(text(OK_INVITE.body)).toMatch(/m=audio 6000 RTP\/AVP 0\r\n/);
    for (const msg of [TRYING, RINGING, ACK, BYE, OK_BYE]) expect(msg.body).toHaveLength(0);
  });

  it("round-trips every message: encode then decode gives the same message", () => {
    for (const [i, msg] of decoded.entries()) {
      const bytes = encodeSip(msg);
      expect(decodeSip(bytes)).toEqual(msg);
      // Only the padded Content-Length of the INVITE and 200 differs from SIPp's bytes.
      expect(text(bytes)).toBe(CALL[i]!.text.replace("Content-Length:   ", "Content-Length: "));
    }
  });

  it("builds the responses SIPp sent from the INVITE (RFC 3261 section 8.2.6)", () => {
    const inv = request(INVITE);
    const toTag = toHeader(RINGING).tag!;
    const ours180 = sipResponseTo(inv, 180, "Ringing", {
      toTag,
      headers: [{ name: "Contact", value: header(RINGING, "Contact")! }],
    });
    expect(ours180.headers).toEqual(RINGING.headers);
    const ours100 = sipResponseTo(inv, 100, "Trying");
    expect(ours100.headers).toEqual(TRYING.headers);
    const ours200 = sipResponseTo(inv, 200, "OK", {
      toTag,
      headers: [{ name: "Contact", value: header(OK_INVITE, "Contact")! }],
      body: OK_INVITE.body,
      contentType: "application/sdp",
    });
    expect(decodeSip(encodeSip(ours200))).toEqual(OK_INVITE);
  });
});

describe("SIP header handling (RFC 3261 section 7.3)", () => {
  it("normalises the compact forms of section 7.3.3 to long names", () => {
    const msg = decodeSip(utf8(
      "INVITE sip:bob@h SIP/2.0\r\n" +
        "v: SIP/2.0/UDP a;branch=z9hG4bK1\r\ni: c1\r\nm: <sip:a@h>\r\ne: gzip\r\n" +
        "c: application/sdp\r\nf: <sip:a@h>;tag=1\r\ns: hi\r\nk: 100rel\r\nt: <sip:b@h>\r\n" +
        "Max-Forwards: 70\r\nCSeq: 1 INVITE\r\nl: 3\r\n\r\nv=0",
    ));
    expect(msg.headers.map((h) => h.name)).toEqual([
      "Via",
      "Call-ID",
      "Contact",
      "Content-Encoding",
      "Content-Type",
      "From",
      "Subject",
      "Supported",
      "To",
      "Max-Forwards",
      "CSeq",
      "Content-Length",
    ]);
    expect(validateSipMessage(msg)).toBe(msg);
    expect(text(msg.body)).toBe("v=0");
    expect(header(msg, "I")).toBe("c1");
    expect(header(msg, "call-id")).toBe("c1");
    expect(canonicalHeaderName("L")).toBe("Content-Length");
    // Encoding writes the long names.
    expect(text(encodeSip(msg))).toContain("\r\nCall-ID: c1\r\n");
  });

  it("unfolds continuation lines into one space (section 7.3.1)", () => {
    const msg = decodeSip(utf8(
      "SIP/2.0 200 OK\r\nSubject: I know you're there,\r\n   pick up the phone  \r\n\t and talk to me!\r\n" +
        "Via: SIP/2.0/UDP h1;branch=z9hG4bK1,\r\n SIP/2.0/UDP h2;branch=z9hG4bK2\r\n\r\n",
    ));
    expect(header(msg, "Subject")).toBe("I know you're there, pick up the phone and talk to me!");
    expect(vias(msg).map((v) => v.host)).toEqual(["h1", "h2"]);
  });

  it("splits list headers but never WWW-Authenticate, Date or unknown headers", () => {
    const msg = decodeSip(utf8(
      "SIP/2.0 401 Unauthorized\r\n" +
        'Contact: "Lee, M." <sip:lee@h1>;q=0.5, <sip:lee@h2,x>, sip:lee@h3\r\n' +
        "Contact: <sip:lee@h4>\r\n" +
        'WWW-Authenticate: Digest realm="atlanta.com", qop="auth,auth-int", nonce="84a4"\r\n' +
        "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\nX-List: a, b\r\nAllow: INVITE, ACK,,BYE\r\n\r\n",
    ));
    expect(contacts(msg).map((c) => [c.displayName, c.uri, c.params.get("q")])).toEqual([
      ["Lee, M.", "sip:lee@h1", "0.5"],
      [undefined, "sip:lee@h2,x", undefined],
      [undefined, "sip:lee@h3", undefined],
      [undefined, "sip:lee@h4", undefined],
    ]);
    expect(headers(msg, "www-authenticate")).toHaveLength(1);
    expect(headers(msg, "Date")).toEqual(["Sat, 13 Nov 2010 23:29:00 GMT"]);
    expect(headers(msg, "X-List")).toEqual(["a, b"]);
    expect(headers(msg, "Allow")).toEqual(["INVITE", "ACK", "BYE"]);
    expect(headers(msg, "Route")).toEqual([]);
    expect(header(msg, "Route")).toBeUndefined();
  });

  it("sets and removes headers without touching the others", () => {
    const msg = decodeSip(utf8(`${HEAD}\r\nContact: <sip:a@h1>\r\nm: <sip:a@h2>\r\n\r\n`));
    const moved = setHeader(msg, "m", "<sip:a@h3>");
    expect(contacts(moved).map((c) => c.uri)).toEqual(["sip:a@h3"]);
    expect(moved.headers.length).toBe(msg.headers.length - 1);
    expect(contacts(msg)).toHaveLength(2); // the original is unchanged
    expect(header(setHeader(msg, "Expires", "60"), "Expires")).toBe("60");
    expect(header(removeHeader(msg, "call-id"), "Call-ID")).toBeUndefined();
  });

  it("parses Via parameters: branch, received, rport (RFC 3261 section 18.2.1, RFC 3581)", () => {
    const via = parseVia(
      "SIP / 2.0 / udp [2001:db8::1] : 5070 ;branch=z9hG4bKnashds7 ;received=2001:db8::9;rport=5071;x",
    );
    expect(via).toMatchObject({
      protocol: "SIP/2.0",
      transport: "UDP",
      host: "[2001:db8::1]",
      port: 5070,
      branch: "z9hG4bKnashds7",
      received: "2001:db8::9",
      rport: 5071,
    });
    expect(via.params.get("x")).toBe("");
    expect(parseVia("SIP/2.0/UDP h;rport").rport).toBe(true);
    expect(parseVia("SIP/2.0/TCP h").port).toBeUndefined();
    for (
      const bad of ["SIP/2.0 h", "SIP/2.0/UDP", "SIP/2.0/UDP h:99999", "SIP/2.0/UDP h;rport=x"]
    ) {
      expect(thrown(() => parseVia(bad))).toBeInstanceOf(MalformedMessageError);
    }
    expect(formatVia({ host: "192.0.2.1", branch: "z9hG4bKa", transport: "TCP" })).toBe(
      "SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKa",
    );
  });

  it("parses name-addr, addr-spec, wildcard and Contact expires (section 20.10)", () => {
    expect(parseNameAddr("*").uri).toBe("*");
    const c = parseNameAddr('"A \\\\ B" <sip:a@h;lr>;expires=4294967296;tag=x');
    expect([c.displayName, c.uri, c.tag, c.expires]).toEqual([
      "A \\ B",
      "sip:a@h;lr",
      "x",
      4294967295,
    ]);
    expect(parseNameAddr("Bob <tel:+1-212-555-1212>").displayName).toBe("Bob");
    for (const bad of ['"open <sip:a@h>', "<sip:a@h", "<no-scheme>", "<sip:a@h>;expires=soon"]) {
      expect(thrown(() => parseNameAddr(bad))).toBeInstanceOf(MalformedMessageError);
    }
    expect(formatNameAddr({ uri: "sip:a@h", displayName: 'say "hi"', params: { expires: "60" } }))
      .toBe('"say \\"hi\\"" <sip:a@h>;expires=60');
    expect(parseNameAddr(formatNameAddr({ uri: "sip:a@h", displayName: 'say "hi"' })).displayName)
      .toBe('say "hi"');
  });

  it("parses CSeq, Expires and SIP URIs and refuses bad values", () => {
    expect(parseCSeq("4294967295 BYE").seq).toBe(4294967295);
    for (const bad of ["4294967296 BYE", "-1 BYE", "1", "1 BYE x", "x BYE"]) {
      expect(thrown(() => parseCSeq(bad))).toBeInstanceOf(MalformedMessageError);
    }
    expect(expires(decodeSip(utf8(`${HEAD}\r\nExpires: 0\r\n\r\n`)))).toBe(0);
    expect(thrown(() => expires(decodeSip(utf8(`${HEAD}\r\nExpires: -5\r\n\r\n`)))))
      .toBeInstanceOf(MalformedMessageError);
    expect(thrown(() => maxForwards(decodeSip(utf8(`${HEAD.replace("70", "256")}\r\n\r\n`)))))
      .toBeInstanceOf(MalformedMessageError);
    const uri = parseSipUri("SIPS:alice:secret@atlanta.com;maddr=239.255.255.1;ttl=15?subject=x");
    expect(uri).toMatchObject({ scheme: "sips", user: "alice", host: "atlanta.com" });
    expect(uri.params.get("maddr")).toBe("239.255.255.1");
    for (const bad of ["tel:+1", "sip:", "sip:@h", "sip:a@h:0", "sip:a@h b"]) {
      expect(thrown(() => parseSipUri(bad))).toBeInstanceOf(MalformedMessageError);
    }
  });
});

describe("SIP body and Content-Length over UDP (RFC 3261 section 18.3)", () => {
  it("takes the rest of the datagram as the body when Content-Length is absent", () => {
    const msg = decodeSip(utf8(`${HEAD}\r\nContent-Type: text/plain\r\n\r\nhello\r\n`));
    expect(text(msg.body)).toBe("hello\r\n");
    // The encoder always writes the length, so the round trip adds the header.
    const again = decodeSip(encodeSip(msg));
    expect(header(again, "Content-Length")).toBe("7");
    expect(again.body).toEqual(msg.body);
  });

  it("drops bytes after a smaller Content-Length", () => {
    const msg = decodeSip(utf8(`${HEAD}\r\nContent-Type: text/plain\r\nl: 2\r\n\r\nhello`));
    expect(text(msg.body)).toBe("he");
  });

  it("refuses a Content-Length larger than the datagram, negative or not a number", () => {
    malformed(`${HEAD}\r\nContent-Length: 6\r\n\r\nhello`, /^Truncated SIP body: Content-Length 6/);
    malformed(`${HEAD}\r\nContent-Length: -1\r\n\r\n`, /^Invalid SIP Content-Length: "-1"/);
    malformed(`${HEAD}\r\nContent-Length: abc\r\n\r\n`, /^Invalid SIP Content-Length/);
    malformed(`${HEAD}\r\nContent-Length: 1.5\r\n\r\nab`, /^Invalid SIP Content-Length/);
    malformed(`${HEAD}\r\nContent-Length:\r\n\r\n`, /^Invalid SIP Content-Length/);
    malformed(`${HEAD}\r\nContent-Length: 99999999999\r\n\r\n`, /^Invalid SIP Content-Length/);
    malformed(`${HEAD}\r\nl: 1\r\nContent-Length: 2\r\n\r\nab`, /two values, 1 and 2/);
    // The same length twice is harmless; encoding writes it once.
    const twice = decodeSip(utf8(`${HEAD}\r\nl: 2\r\nContent-Length: 002\r\n\r\nab`));
    expect(headers(twice, "l")).toEqual(["2", "2"]);
    expect(headers(decodeSip(encodeSip(twice)), "Content-Length")).toEqual(["2"]);
  });

  it("keeps a binary body that is not UTF-8 as bytes", () => {
    const head = utf8(
      `${HEAD}\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n`,
    );
    const bytes = new Uint8Array([...head, 0xff, 0x00, 0xfe]);
    const msg = decodeSip(bytes);
    expect(msg.body).toEqual(new Uint8Array([0xff, 0x00, 0xfe]));
    expect(encodeSip(msg)).toEqual(bytes);
  });
});

describe("SIP decoder limits and malformed input (RFC 3261 sections 7.1, 7.2, 25)", () => {
  it("refuses a message over maxMessageBytes", () => {
    const big = utf8(`${HEAD}\r\n\r\n${"x".repeat(SIP_LIMITS.maxMessageBytes)}`);
    malformed(big, /^SIP message too large: \d+ bytes, limit maxMessageBytes 65536$/);
    const small = utf8(`${HEAD}\r\n\r\n`);
    expect(decodeSip(small).kind).toBe("request");
    const error = thrown(() => decodeSip(small, { limits: { maxMessageBytes: 100 } }));
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as Error).message).toMatch(/limit maxMessageBytes 100$/);
  });

  it("refuses a header line over maxLineBytes, also when reached by folding", () => {
    malformed(
      `${HEAD}\r\nX-Big: ${"a".repeat(9000)}\r\n\r\n`,
      /^SIP line too long: line 8 has 9007 bytes, limit maxLineBytes 8192$/,
    );
    const folded = Array.from({ length: 20 }, () => ` ${"b".repeat(500)}`).join("\r\n");
    malformed(`${HEAD}\r\nX-Big: a\r\n${folded}\r\n\r\n`, /after unfolding/);
    malformed(`INVITE sip:${"a".repeat(9000)}@h SIP/2.0\r\n\r\n`, /line 1 .*maxLineBytes/);
    // A line without any LF is measured too, before the missing empty line is noticed.
    malformed(`${HEAD}\r\nX: ${"c".repeat(9000)}`, /SIP line too long/);
  });

  it("refuses more than maxHeaders header fields", () => {
    const many = Array.from({ length: 257 }, (_, i) => `X-H${i}: ${i}`).join("\r\n");
    malformed(
      `SIP/2.0 200 OK\r\n${many}\r\n\r\n`,
      /^Too many SIP headers: more than maxHeaders 256$/,
    );
    const ok = Array.from({ length: 256 }, (_, i) => `X-H${i}: ${i}`).join("\r\n");
    expect(decodeSip(utf8(`SIP/2.0 200 OK\r\n${ok}\r\n\r\n`)).headers).toHaveLength(256);
  });

  it("refuses malformed start lines", () => {
    for (
      const line of [
        "INVITE sip:bob@h SIP/2.0 extra",
        "INVITE  sip:bob@h SIP/2.0",
        "INVITE sip:bob@h",
        "INV(ITE sip:bob@h SIP/2.0",
        "INVITE bob@h SIP/2.0",
        "INVITE sip:bob@h HTTP/1.1",
        "INVITE sip:bob@h SIP/2",
        "SIP/2.0 99 Low",
        "SIP/2.0 700 High",
        "SIP/2.0 2000 OK",
        "SIP/2.0 OK",
        "SIP/x.y 200 OK",
        "\x00",
      ]
    ) {
      const error = thrown(() => decodeSip(utf8(`${line}\r\n\r\n`)));
      expect(error, line).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).message, line).toMatch(/^Invalid SIP /);
    }
    // A status line without reason phrase is tolerated; version case is normalised.
    const msg = decodeSip(utf8("sip/2.0 200\r\n\r\n"));
    expect(msg).toMatchObject({ kind: "response", status: 200, reason: "", version: "SIP/2.0" });
  });

  it("refuses bad header lines, bytes that are not UTF-8 and control characters", () => {
    malformed(`${HEAD}\r\nNo colon here\r\n\r\n`, /^Invalid SIP header: "No colon here"/);
    malformed(`${HEAD}\r\n: empty name\r\n\r\n`, /^Invalid SIP header/);
    malformed(`${HEAD}\r\nBad Name: x\r\n\r\n`, /^Invalid SIP header/);
    malformed(
      `SIP/2.0 200 OK\r\n folded first\r\n\r\n`,
      /continuation line before the first header/,
    );
    const head = utf8(`${HEAD}\r\nSubject: `);
    malformed(new Uint8Array([...head, 0xc3, 0x28, 0x0d, 0x0a, 0x0d, 0x0a]), /line 8 is not UTF-8/);
    malformed(
      new Uint8Array([...head, 0x61, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
      /control character 0x00 in line 8/,
    );
    malformed(`${HEAD}\r\nSubject: a\rb\r\n\r\n`, /control character 0x0d/);
    // UTF-8 in a display name or reason phrase is fine.
    const msg = decodeSip(utf8('SIP/2.0 486 Besetzt – später\r\nFrom: "Jürgen" <sip:j@h>\r\n\r\n'));
    expect(msg.kind === "response" && msg.reason).toBe("Besetzt – später");
    expect(fromHeader(msg).displayName).toBe("Jürgen");
  });

  it("refuses an empty datagram and one without the empty line after the headers", () => {
    malformed("", /^Invalid SIP message: empty$/);
    malformed("\r\n\r\n", /^Invalid SIP message: empty$/);
    malformed(`${HEAD}\r\n`, /no empty line after the header fields/);
    malformed(HEAD, /no empty line after the header fields/);
  });

  it("skips leading CRLFs (section 7.5) and accepts bare LF line ends", () => {
    const crlf = decodeSip(utf8(`\r\n\r\n${HEAD}\r\n\r\n`));
    const lf = decodeSip(utf8(`${HEAD.replaceAll("\r\n", "\n")}\n\n`));
    expect(lf).toEqual(crlf);
    expect(validateSipMessage(lf)).toBe(lf);
  });

  it("throws only typed errors on mutated captures", () => {
    // Deterministic xorshift, so a failure reproduces.
    let state = 0x9e3779b9;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x100000000;
    };
    const originals = CALL.map((f) => unhex(f.hex));
    let typed = 0;
    for (let round = 0; round < 2000; round++) {
      const bytes = originals[round % originals.length]!.slice();
      const cut = next() < 0.3 ? Math.floor(next() * bytes.length) : bytes.length;
      for (let k = 0; k < 1 + Math.floor(next() * 4); k++) {
        bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      }
      try {
        const msg = validateSipMessage(decodeSip(bytes.subarray(0, cut)));
        vias(msg);
        contacts(msg);
        // Re-encoding is stable; it may only add a Content-Length the mutation broke.
        const again = decodeSip(encodeSip(msg));
        expect(again.body).toEqual(msg.body);
        expect(again.headers.slice(0, msg.headers.length)).toEqual(msg.headers);
        expect(decodeSip(encodeSip(again))).toEqual(again);
      } catch (error) {
        if (!(error instanceof MalformedMessageError || error instanceof ProtocolViolationError)) {
          throw error;
        }
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(100);
  });
});

describe("validateSipMessage (RFC 3261 sections 8.1.1 and 8.2)", () => {
  const full = decodeSip(utf8(`${HEAD}\r\n\r\n`));

  it("accepts a minimal request and names each missing mandatory header", () => {
    expect(validateSipMessage(full)).toBe(full);
    for (const name of ["To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via"]) {
      const error = thrown(() => validateSipMessage(removeHeader(full, name)));
      expect(error).toBeInstanceOf(ProtocolViolationError);
      expect((error as Error).message).toBe(`Missing SIP header: ${name}`);
    }
  });

  it("does not require Max-Forwards in a response", () => {
    const response = sipResponseTo(request(full), 200, "OK", { toTag: "t" });
    expect(header(response, "Max-Forwards")).toBeUndefined();
    expect(validateSipMessage(response)).toBe(response);
  });

  it("refuses other versions, repeated single headers, a CSeq of another method, a body without type", () => {
    const cases: [SipMessage, string][] = [
      [{ ...full, version: "SIP/3.0" }, "Unsupported SIP version: SIP/3.0"],
      [
        { ...full, headers: [...full.headers, { name: "To", value: "<sip:x@h>" }] },
        "Duplicate SIP header: To",
      ],
      [
        setHeader(full, "CSeq", "1 INVITE"),
        "Invalid SIP CSeq: method INVITE does not match request method OPTIONS",
      ],
      [{ ...full, body: utf8("x") }, "Missing SIP header: Content-Type (the body is not empty)"],
    ];
    for (const [msg, message] of cases) {
      const error = thrown(() => validateSipMessage(msg));
      expect(error).toBeInstanceOf(ProtocolViolationError);
      expect((error as Error).message).toBe(message);
    }
    expect(thrown(() => validateSipMessage(setHeader(full, "CSeq", "x OPTIONS"))))
      .toBeInstanceOf(MalformedMessageError);
    expect(thrown(() => validateSipMessage(setHeader(full, "Via", "garbage"))))
      .toBeInstanceOf(MalformedMessageError);
  });
});

describe("SIP encoder (RFC 3261 section 7)", () => {
  const full = decodeSip(utf8(`${HEAD}\r\n\r\n`));

  it("corrects a stale Content-Length and appends a missing one (section 20.14)", () => {
    const stale = { ...setHeader(full, "Content-Type", "text/plain"), body: utf8("four") };
    const withStale = setHeader(stale, "Content-Length", "99");
    expect(header(decodeSip(encodeSip(withStale)), "Content-Length")).toBe("4");
    expect(text(encodeSip(stale))).toMatch(/\r\nContent-Length: 4\r\n\r\nfour$/);
  });

  it("refuses header injection and start lines that break the grammar", () => {
    const bad: SipMessage[] = [
      setHeader(full, "Subject", "x\r\nVia: SIP/2.0/UDP evil"),
      setHeader(full, "Subject", "x\nEvil: 1"),
      setHeader(full, "Subject", "nul\x00"),
      { ...full, headers: [{ name: "Bad Name", value: "x" }] },
      { ...full, headers: [{ name: "Content-Length\r\nX", value: "1" }] },
      { ...request(full), method: "IN VITE" },
      { ...request(full), uri: "sip:a@h\r\nX: y" },
      { ...request(full), uri: "" },
      { ...full, version: "SIP/2.0\r\n" },
      {
        kind: "response",
        status: 99,
        reason: "x",
        version: "SIP/2.0",
        headers: [],
        body: new Uint8Array(),
      },
      {
        kind: "response",
        status: 200,
        reason: "OK\r\nX: y",
        version: "SIP/2.0",
        headers: [],
        body: new Uint8Array(),
      },
    ];
    for (const msg of bad) {
      expect(thrown(() => encodeSip(msg))).toBeInstanceOf(ProtocolViolationError);
    }
  });
});

describe("SIP builders (RFC 3261 sections 8.1.1 and 8.2.6)", () => {
  const fixed = (byte: number) => (n: number) => new Uint8Array(n).fill(byte);
  const inviteInit = {
    method: "INVITE",
    uri: "sip:bob@192.0.2.4",
    via: { host: "192.0.2.1", port: 5060, branch: newBranch(fixed(1)), rport: true },
    from: { uri: "sip:alice@192.0.2.1", displayName: "Alice", tag: newTag(fixed(2)) },
    to: { uri: "sip:bob@192.0.2.4" },
    callId: newCallId(fixed(3), "192.0.2.1"),
    cseq: 1,
    contact: { uri: "sip:alice@192.0.2.1:5060" },
    headers: [{ name: "Allow", value: "INVITE, ACK, BYE" }],
    body: "v=0\r\n",
    contentType: "application/sdp",
  } as const;

  it("writes random identifiers with the magic cookie (section 8.1.1.7)", () => {
    expect(newBranch(fixed(1))).toBe(`z9hG4bK${"01".repeat(12)}`);
    expect(newTag(fixed(0xab))).toBe("ab".repeat(8));
    expect(newCallId(fixed(0xcd))).toBe("cd".repeat(16));
    expect(thrown(() => newBranch(() => new Uint8Array(3)))).toBeInstanceOf(RangeError);
  });

  it("builds a valid INVITE in the order of section 8.1.1", () => {
    const msg = sipRequest(inviteInit);
    expect(msg.headers.map((h) => h.name)).toEqual([
      "Via",
      "Max-Forwards",
      "To",
      "From",
      "Call-ID",
      "CSeq",
      "Contact",
      "Allow",
      "Content-Type",
      "Content-Length",
    ]);
    expect(header(msg, "Via")).toBe(
      `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${"01".repeat(12)};rport`,
    );
    expect(header(msg, "From")).toBe('"Alice" <sip:alice@192.0.2.1>;tag=0202020202020202');
    expect(maxForwards(msg)).toBe(70);
    expect(topVia(msg).rport).toBe(true);
    expect(validateSipMessage(decodeSip(encodeSip(msg)))).toEqual(msg);
  });

  it("answers with Via list, From, Call-ID, CSeq copied and a To tag (section 8.2.6.2)", () => {
    const inv = request(decodeSip(utf8(
      "INVITE sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP p2;branch=z9hG4bKp2, SIP/2.0/UDP p1;branch=z9hG4bKp1\r\n" +
        "Via: SIP/2.0/UDP a;branch=z9hG4bKa\r\nRecord-Route: <sip:p2;lr>\r\nMax-Forwards: 68\r\n" +
        "To: sip:bob@h\r\nFrom: <sip:alice@a>;tag=1\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n" +
        "Timestamp: 54\r\n\r\n",
    )));
    const ok = sipResponseTo(inv, 200, "OK", {
      toTag: "b",
      body: "v=0\r\n",
      contentType: "application/sdp",
    });
    expect(vias(ok).map((v) => v.branch)).toEqual(["z9hG4bKp2", "z9hG4bKp1", "z9hG4bKa"]);
    expect(header(ok, "Record-Route")).toBe("<sip:p2;lr>");
    expect(header(ok, "To")).toBe("sip:bob@h;tag=b");
    expect(toHeader(ok)).toMatchObject({ uri: "sip:bob@h", tag: "b" });
    expect(cseq(ok)).toEqual({ seq: 7, method: "INVITE" });
    expect(header(ok, "Timestamp")).toBeUndefined();
    expect(validateSipMessage(decodeSip(encodeSip(ok)))).toEqual(ok);
    const trying100 = sipResponseTo(inv, 100, "Trying");
    expect(toHeader(trying100).tag).toBeUndefined();
    expect(header(trying100, "Timestamp")).toBe("54");
    expect(header(trying100, "Record-Route")).toBeUndefined();
    const error = thrown(() => sipResponseTo(inv, 180, "Ringing"));
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toMatch(/^Missing To tag: a 180 response/);
    // Inside a dialog the To tag is kept and no other is added.
    const inDialog = request(setHeader(inv, "To", "<sip:bob@h>;tag=b"));
    expect(header(sipResponseTo(inDialog, 200, "OK", { toTag: "other" }), "To")).toBe(
      "<sip:bob@h>;tag=b",
    );
  });
});
