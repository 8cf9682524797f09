/**
 * Interop: Wireshark's SIP and SDP dissectors (tshark) decode the messages our codec
 * encodes (RFC 3261, RFC 4566) without a malformed-packet or warning expert message.
 *
 * The pcap is written by hand (libpcap global header, then one record per message
 * with Ethernet, IPv4 and UDP headers around the SIP bytes, UDP port 5060), so no
 * capture privileges and no text2pcap are needed. Needs tshark (Debian: `apt-get
 * install -y tshark`); skipped when it is missing.
 */
import { afterAll, describe, expect, it } from "npm:vitest@4.1.12";
import { decodeSdp, encodeSdp, withConnectionAddress } from "../../../lib/wire/sdp.ts";
import {
  decodeSip,
  encodeSip,
  newBranch,
  newCallId,
  newTag,
  type SipMessage,
  sipRequest,
  sipResponseTo,
} from "../../../lib/wire/sip.ts";
import { findExecutable } from "../../fixtures/radius/_hostapd.ts";
import invite from "../../fixtures/sip/invite.json" with { type: "json" };
import okInvite from "../../fixtures/sip/ok_invite.json" with { type: "json" };
import bye from "../../fixtures/sip/bye.json" with { type: "json" };

const TSHARK = findExecutable("tshark");
const MN = [192, 0, 2, 10];
const CN = [192, 0, 2, 20];

const unhex = (text: string) =>
  new Uint8Array(text.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
});

/** The IPv4 header checksum (RFC 791). */
function ipChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet/IPv4/UDP frame around a payload (UDP checksum 0: none, RFC 768). */
function frame(payload: Uint8Array, src: number[], dst: number[], sport: number, dport: number) {
  const out = new Uint8Array(14 + 20 + 8 + payload.length);
  const view = new DataView(out.buffer);
  out.set([2, 0, 0, 0, 0, dst[3]!, 2, 0, 0, 0, 0, src[3]!], 0);
  view.setUint16(12, 0x0800);
  const ip = out.subarray(14, 34);
  ip.set([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, ...src, ...dst]);
  view.setUint16(16, 20 + 8 + payload.length);
  view.setUint16(24, ipChecksum(ip));
  view.setUint16(34, sport);
  view.setUint16(36, dport);
  view.setUint16(38, 8 + payload.length);
  out.set(payload, 42);
  return out;
}

/** A libpcap file (LINKTYPE_ETHERNET), one record per frame, 1 ms apart. */
function pcap(frames: Uint8Array[]): Uint8Array {
  const size = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true);
  let at = 24;
  for (const [i, f] of frames.entries()) {
    view.setUint32(at, 1_700_000_000, true);
    view.setUint32(at + 4, i * 1000, true);
    view.setUint32(at + 8, f.length, true);
    view.setUint32(at + 12, f.length, true);
    out.set(f, at + 16);
    at += 16 + f.length;
  }
  return out;
}

/** Runs tshark on the messages; requests go MN -> CN, responses back. */
async function dissect(messages: (SipMessage | Uint8Array)[], args: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mpa-sip-tshark-" });
  dirs.push(dir);
  const frames = messages.map((m) => {
    if (m instanceof Uint8Array) return frame(m, MN, CN, 5060, 5060);
    const bytes = encodeSip(m);
    return m.kind === "request"
      ? frame(bytes, MN, CN, 5060, 5060)
      : frame(bytes, CN, MN, 5060, 5060);
  });
  await Deno.writeFile(`${dir}/sip.pcap`, pcap(frames));
  const out = await new Deno.Command(TSHARK!, {
    args: ["-n", "-r", `${dir}/sip.pcap`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  expect(out.code, new TextDecoder().decode(out.stderr)).toBe(0);
  return new TextDecoder().decode(out.stdout);
}

/** A call built with our builders: INVITE, 100, 180, 200 with SDP, ACK, re-INVITE, BYE. */
function ourCall(): SipMessage[] {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const offer = decodeSdp(decodeSip(unhex(invite.hex)).body);
  const base = {
    uri: "sip:bob@192.0.2.20",
    from: { uri: "sip:alice@192.0.2.10", displayName: "Alice", tag: newTag(random) },
    to: { uri: "sip:bob@192.0.2.20" },
    callId: newCallId(random, "192.0.2.10"),
    contact: { uri: "sip:alice@192.0.2.10:5060" },
  };
  const inv = sipRequest({
    ...base,
    method: "INVITE",
    via: { host: "192.0.2.10", port: 5060, branch: newBranch(random), rport: true },
    cseq: 1,
    body: encodeSdp(offer),
    contentType: "application/sdp",
  });
  const toTag = newTag(random);
  const contact = [{ name: "Contact", value: "<sip:bob@192.0.2.20:5060>" }];
  const answer = decodeSdp(decodeSip(unhex(okInvite.hex)).body);
  const dialog = { ...base, to: { ...base.to, tag: toTag }, uri: "sip:bob@192.0.2.20:5060" };
  const moved = "198.51.100.10";
  return [
    inv,
    sipResponseTo(inv, 100, "Trying"),
    sipResponseTo(inv, 180, "Ringing", { toTag, headers: contact }),
    sipResponseTo(inv, 200, "OK", {
      toTag,
      headers: contact,
      body: encodeSdp(answer),
      contentType: "application/sdp",
    }),
    sipRequest({
      ...dialog,
      method: "ACK",
      via: { host: "192.0.2.10", port: 5060, branch: newBranch(random) },
      cseq: 1,
    }),
    sipRequest({
      ...dialog,
      method: "INVITE",
      via: { host: moved, port: 5060, branch: newBranch(random) },
      contact: { uri: `sip:alice@${moved}:5060` },
      cseq: 2,
      body: encodeSdp(withConnectionAddress(offer, moved)),
      contentType: "application/sdp",
    }),
    sipRequest({
      ...dialog,
      method: "BYE",
      via: { host: moved, port: 5060, branch: newBranch(random) },
      cseq: 3,
    }),
  ];
}

describe("tshark decodes our SIP and SDP (RFC 3261, RFC 4566)", () => {
  it.skipIf(TSHARK === undefined)(
    "needs tshark: a built call decodes with no malformed or warning expert info",
    async () => {
      const call = ourCall();
      const verbose = await dissect(call, ["-V"]);
      expect(verbose).not.toMatch(/Malformed/i);
      expect(verbose).not.toMatch(/Expert Info \((Warning|Error)/);
      expect(verbose.match(/^Session Initiation Protocol/gm)).toHaveLength(call.length);
      expect(verbose.match(/^\s*Session Description Protocol$/gm)).toHaveLength(3);
      const fields = await dissect(call, [
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "sip.Method",
        "-e",
        "sip.Status-Code",
        "-e",
        "sip.CSeq.seq",
        "-e",
        "sip.Call-ID",
        "-e",
        "sdp.connection_info.address",
      ]);
      const rows = fields.trim().split("\n").map((l) => l.split("|"));
      expect(rows.map((r) => r[0] || r[1])).toEqual([
        "INVITE",
        "100",
        "180",
        "200",
        "ACK",
        "INVITE",
        "BYE",
      ]);
      expect(rows.map((r) => r[2])).toEqual(["1", "1", "1", "1", "1", "2", "3"]);
      expect(new Set(rows.map((r) => r[3])).size).toBe(1);
      expect(rows.map((r) => r[4])).toEqual([
        "127.0.0.1",
        "",
        "",
        "127.0.0.1",
        "",
        "198.51.100.10",
        "",
      ]);
    },
  );

  it.skipIf(TSHARK === undefined)(
    "needs tshark: the re-encoded SIPp captures decode cleanly",
    async () => {
      const messages = [invite, okInvite, bye].map((f) => decodeSip(unhex(f.hex)));
      const verbose = await dissect(messages, ["-V"]);
      expect(verbose).not.toMatch(/Malformed/i);
      expect(verbose).not.toMatch(/Expert Info \((Warning|Error)/);
      expect(verbose).toContain("Content-Length: 129");
      expect(verbose.match(/^Session Initiation Protocol/gm)).toHaveLength(3);
    },
  );

  it.skipIf(TSHARK === undefined)(
    "needs tshark: the check sees the warnings tshark gives broken SIP",
    async () => {
      // Negative control: the same pipeline flags bytes our encoder never writes.
      const broken = new TextEncoder().encode(
        "INVITE sip:b@h SIP/2.0\r\nVia SIP/2.0/UDP a\r\nContent-Length: 0\r\n",
      );
      const verbose = await dissect([broken], ["-V"]);
      expect(verbose).toMatch(
        /Expert Info \(Warning\/Malformed\): Header has no colon after the name/,
      );
      expect(verbose).toMatch(
        /Expert Info \(Warning\/Malformed\): Header not terminated by empty line/,
      );
    },
  );
});
