import { describe, expect, it } from "npm:vitest@4.1.12";
import { SipCorrespondent } from "../../../adapters/mobility/sip_cn.ts";
import { rawPeer, startLine } from "./_sip_helpers.ts";

const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 200 };

function invite(port: number, cnPort: number, branch: string, body = true): Uint8Array {
  const sdp = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
    "m=audio 40000 RTP/AVP 0\r\n";
  return new TextEncoder().encode(
    `INVITE sip:cn@127.0.0.1:${cnPort} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
      `To: <sip:cn@127.0.0.1>\r\nFrom: <sip:a@127.0.0.1>;tag=a1\r\nCall-ID: call-1\r\n` +
      `CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:${port}>\r\n` +
      (body
        ? `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`
        : "Content-Length: 0\r\n\r\n"),
  );
}

describe("SipCorrespondent (RFC 3261 sections 13.3, 17.2)", () => {
  it("answers a retransmitted INVITE from the server transaction, retransmits the 200 until 64*T1 without ACK, then ends the call with BYE (13.3.1.4)", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: "127.0.0.1", port: 0 },
      noMedia: true,
      timers: FAST,
    });
    const peer = await rawPeer();
    try {
      const bytes = invite(peer.transport.local.port, cn.local.port, "z9hG4bKcn1");
      await peer.transport.send(bytes, cn.local);
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 100 Trying");
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 180 Ringing");
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 200 OK");
      await peer.transport.send(bytes, cn.local); // the same INVITE again
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 200 OK");
      expect(cn.stats().requestRetransmissionsAnswered).toBe(1);
      expect(cn.stats().invites).toBe(1);
      const ended = await cn.waitForEvent((e) => e.type === "ended");
      expect(ended).toMatchObject({ callId: "call-1", by: "no-ack" });
      expect(cn.stats().okRetransmissions).toBeGreaterThanOrEqual(4);
      const lines = peer.received.map((r) => startLine(r.bytes));
      await peer.next(); // wait until the BYE is in
      while (!peer.received.some((r) => startLine(r.bytes).startsWith("BYE"))) await peer.next();
      expect(lines.filter((l) => l === "SIP/2.0 200 OK").length).toBeGreaterThanOrEqual(5);
      expect(cn.calls()).toEqual([]);
    } finally {
      await cn.close();
      await peer.transport.close();
    }
  });

  it("answers OPTIONS with 200, an unknown BYE with 481, and counts malformed datagrams", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: "127.0.0.1", port: 0 },
      noMedia: true,
    });
    const peer = await rawPeer();
    try {
      const req = (method: string) =>
        new TextEncoder().encode(
          `${method} sip:cn@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.transport.local.port};branch=z9hG4bK${method}\r\n` +
            `Max-Forwards: 70\r\nTo: <sip:cn@127.0.0.1>\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x\r\nCSeq: 1 ${method}\r\n\r\n`,
        );
      await peer.transport.send(req("OPTIONS"), cn.local);
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 200 OK");
      await peer.transport.send(req("BYE"), cn.local);
      expect(startLine((await peer.next()).bytes)).toBe(
        "SIP/2.0 481 Call/Transaction Does Not Exist",
      );
      await peer.transport.send(new Uint8Array([0x80, 0, 0, 1]), cn.local);
      await peer.transport.send(req("OPTIONS").subarray(0, 40), cn.local);
      await peer.transport.send(req("MESSAGE"), cn.local);
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 405 Method Not Allowed");
      expect(cn.stats().malformed).toBe(2);
    } finally {
      await cn.close();
      await peer.transport.close();
    }
  });
});

describe("SipCorrespondent: CANCEL (RFC 3261 section 9.2)", () => {
  const encoder = new TextEncoder();
  const cancel = (port: number, cnPort: number, branch: string, call = "call-1") =>
    encoder.encode(
      `CANCEL sip:cn@127.0.0.1:${cnPort} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
        `To: <sip:cn@127.0.0.1>\r\nFrom: <sip:a@127.0.0.1>;tag=a1\r\nCall-ID: ${call}\r\n` +
        `CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n`,
    );
  const cseqOf = (bytes: Uint8Array) =>
    /\r\nCSeq: *([0-9]+ [A-Z]+)/.exec(new TextDecoder().decode(bytes))?.[1];

  it("a CANCEL before the final response: 200 to the CANCEL, 487 to the INVITE, no call", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: "127.0.0.1", port: 0 },
      noMedia: true,
      timers: FAST,
      answerDelayMs: 5000,
    });
    const peer = await rawPeer();
    try {
      const port = peer.transport.local.port;
      await peer.transport.send(invite(port, cn.local.port, "z9hG4bKc1"), cn.local);
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 100 Trying");
      expect(startLine((await peer.next()).bytes)).toBe("SIP/2.0 180 Ringing");
      await peer.transport.send(cancel(port, cn.local.port, "z9hG4bKc1"), cn.local);
      const answers = [await peer.next(), await peer.next()].map((r) =>
        `${startLine(r.bytes)} (${cseqOf(r.bytes)})`
      );
      expect(answers.sort()).toEqual([
        "SIP/2.0 200 OK (1 CANCEL)",
        "SIP/2.0 487 Request Terminated (1 INVITE)",
      ]);
      expect(cn.stats()).toMatchObject({ cancels: 1, cancelled: 1 });
      expect(cn.calls()).toEqual([]);
      expect(cn.events().at(-1)).toMatchObject({
        type: "cancelled",
        callId: "call-1",
        reinvite: false,
      });
    } finally {
      await cn.close();
      await peer.transport.close();
    }
  });

  it("a CANCEL after the final response has no effect but a 200; an unknown one gets 481", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: "127.0.0.1", port: 0 },
      noMedia: true,
      timers: FAST,
    });
    const peer = await rawPeer();
    try {
      const port = peer.transport.local.port;
      await peer.transport.send(invite(port, cn.local.port, "z9hG4bKc2"), cn.local);
      for (const line of ["100 Trying", "180 Ringing", "200 OK"]) {
        expect(startLine((await peer.next()).bytes)).toBe(`SIP/2.0 ${line}`);
      }
      await peer.transport.send(cancel(port, cn.local.port, "z9hG4bKc2"), cn.local);
      let r = await peer.next();
      while (cseqOf(r.bytes) !== "1 CANCEL") r = await peer.next(); // 200 retransmissions
      expect(startLine(r.bytes)).toBe("SIP/2.0 200 OK");
      expect(cn.stats().cancelled).toBe(0);
      expect(cn.calls().map((c) => c.callId)).toEqual(["call-1"]);
      await peer.transport.send(cancel(port, cn.local.port, "z9hG4bKnone", "other"), cn.local);
      r = await peer.next();
      while (cseqOf(r.bytes) !== "1 CANCEL") r = await peer.next();
      expect(startLine(r.bytes)).toBe("SIP/2.0 481 Call/Transaction Does Not Exist");
    } finally {
      await cn.close();
      await peer.transport.close();
    }
  });
});
