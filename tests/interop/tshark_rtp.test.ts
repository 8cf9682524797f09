/**
 * Interop: Wireshark's SIP, SDP and RTP dissectors (tshark) decode the datagrams our
 * SIP mobility adapters put on the wire during a move (RFC 3261, RFC 4566, RFC 3550;
 * RFC 6252 section 7.5), without a malformed-packet or warning expert message.
 *
 * A real `SipMobility` calls a real `SipCorrespondent` on loopback, whose RTP stream
 * (50 packets/s, PCMU) goes to the old address, then, after the re-INVITE, to the new
 * one. Both sides' transports are wrapped to record every datagram they send, with its
 * addresses; the test writes them as a libpcap file by hand (Ethernet, IPv4 and UDP
 * headers from lib/wire/ip_packet.ts, correct UDP checksums) and runs tshark on it,
 * RTP decoded both by `-d udp.port==MEDIA,rtp` and by the heuristic dissector
 * (`-o rtp.heuristic_rtp:TRUE`). Recording at the sockets needs no capture privilege
 * and misses no packet. Needs tshark (Debian: `apt-get install -y tshark`); skipped
 * when it is missing.
 */
import { afterAll, describe, expect, it } from "npm:vitest@4.1.12";
import {
  type DatagramEndpoint,
  type DatagramTransportFactory,
  udpTransport,
} from "../../adapters/mobility/datagram_transport.ts";
import { RtpReceiver } from "../../adapters/mobility/rtp_stream.ts";
import { SipCorrespondent } from "../../adapters/mobility/sip_cn.ts";
import { SipMobility } from "../../adapters/mobility/sip_ua.ts";
import { buildUdpPacket } from "../../lib/wire/ip_packet.ts";
import { findExecutable } from "../fixtures/radius/_hostapd.ts";

const TSHARK = findExecutable("tshark");
const OLD = "127.0.0.1";
const NEW = "127.0.0.2";

interface Sent {
  readonly from: DatagramEndpoint;
  readonly to: DatagramEndpoint;
  readonly bytes: Uint8Array;
  readonly at: number;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
});

/** Wraps a factory so that every datagram sent is recorded. */
function recording(log: Sent[]): DatagramTransportFactory {
  return async (local) => {
    const t = await udpTransport(local);
    return {
      get local() {
        return t.local;
      },
      send(bytes, to) {
        log.push({ from: t.local, to, bytes: bytes.slice(), at: performance.now() });
        return t.send(bytes, to);
      },
      onMessage: (handler) => t.onMessage(handler),
      close: () => t.close(),
    };
  };
}

/** A libpcap file (LINKTYPE_ETHERNET) of the datagrams, with their relative times. */
function pcap(sent: readonly Sent[]): Uint8Array {
  const frames = sent.map((s) => {
    const ip = buildUdpPacket({
      source: s.from.address,
      destination: s.to.address,
      sourcePort: s.from.port,
      destinationPort: s.to.port,
      payload: s.bytes,
    });
    const f = new Uint8Array(14 + ip.length);
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.set(ip, 14);
    return f;
  });
  const out = new Uint8Array(24 + frames.reduce((n, f) => n + 16 + f.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true);
  let at = 24;
  const t0 = sent[0]?.at ?? 0;
  for (const [i, f] of frames.entries()) {
    const us = Math.round((sent[i]!.at - t0) * 1000);
    view.setUint32(at, 1_700_000_000 + Math.floor(us / 1e6), true);
    view.setUint32(at + 4, us % 1e6, true);
    view.setUint32(at + 8, f.length, true);
    view.setUint32(at + 12, f.length, true);
    out.set(f, at + 16);
    at += 16 + f.length;
  }
  return out;
}

async function tshark(file: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(TSHARK!, {
    args: ["-n", "-r", file, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  expect(out.code, new TextDecoder().decode(out.stderr)).toBe(0);
  return new TextDecoder().decode(out.stdout);
}

/** A call with a move: INVITE from OLD, RTP to OLD, re-INVITE from NEW, RTP to NEW, BYE. */
async function recordCall(): Promise<{ sent: Sent[]; mediaPort: number; rtpCount: number }> {
  const sent: Sent[] = [];
  const rxOld = await RtpReceiver.listen({ address: OLD, port: 0 });
  const mediaPort = rxOld.local.port;
  const rxNew = await RtpReceiver.listen({ address: NEW, port: mediaPort });
  const cn = await SipCorrespondent.listen({
    listen: { address: OLD, port: 0 },
    transport: recording(sent),
  });
  const mn = new SipMobility({
    aor: "sip:mn@example.org",
    localAddress: OLD,
    mediaPort,
    correspondent: { ...cn.local, uri: `sip:cn@${OLD}:${cn.local.port}` },
    transport: recording(sent),
  });
  try {
    await mn.start();
    await rxOld.waitFor((s) => s.received >= 10);
    await mn.bind([NEW]);
    await rxNew.waitFor((s) => s.received >= 10);
    cn.stream()?.stop();
    await mn.stop();
  } finally {
    await cn.close();
    await rxOld.close();
    await rxNew.close();
  }
  const rtpCount = sent.filter((s) => s.to.port === mediaPort).length;
  return { sent, mediaPort, rtpCount };
}

describe("tshark decodes the SIP and RTP our mobility adapters send (RFC 3261, RFC 3550, RFC 6252 section 7.5)", () => {
  it.skipIf(TSHARK === undefined)(
    "needs tshark: the call, the move and the RTP stream decode with no malformed or warning expert info",
    async () => {
      const { sent, mediaPort, rtpCount } = await recordCall();
      expect(rtpCount).toBeGreaterThanOrEqual(20);
      const dir = await Deno.makeTempDir({ prefix: "mpa-rtp-tshark-" });
      dirs.push(dir);
      const file = `${dir}/call.pcap`;
      await Deno.writeFile(file, pcap(sent));

      for (
        const decodeAs of [["-d", `udp.port==${mediaPort},rtp`], ["-o", "rtp.heuristic_rtp:TRUE"]]
      ) {
        const verbose = await tshark(file, [...decodeAs, "-V"]);
        expect(verbose).not.toMatch(/Malformed/i);
        expect(verbose).not.toMatch(/Expert Info \((Warning|Error)/);
        const rows = (await tshark(file, [
          ...decodeAs,
          "-T",
          "fields",
          "-E",
          "separator=|",
          "-e",
          "frame.protocols",
          "-e",
          "rtp.seq",
          "-e",
          "rtp.p_type",
          "-e",
          "sip.Method",
          "-e",
          "sip.Status-Code",
          "-e",
          "ip.dst",
        ])).trim().split("\n").map((l) => l.split("|"));
        expect(rows).toHaveLength(sent.length);
        const rtp = rows.filter((r) => r[0]!.endsWith(":rtp"));
        expect(rtp).toHaveLength(rtpCount);
        // PCMU, consecutive sequence numbers across the move, first to OLD then to NEW.
        expect(new Set(rtp.map((r) => r[2]))).toEqual(new Set(["0"]));
        const seqs = rtp.map((r) => Number(r[1]));
        expect(seqs.slice(1).every((s, i) => s === ((seqs[i]! + 1) & 0xffff))).toBe(true);
        const dsts = rtp.map((r) => r[5]);
        const firstNew = dsts.indexOf(NEW);
        expect(firstNew).toBeGreaterThan(0);
        expect(dsts.slice(0, firstNew).every((d) => d === OLD)).toBe(true);
        expect(dsts.slice(firstNew).every((d) => d === NEW)).toBe(true);
        // Every SIP datagram decodes as SIP: the call, the re-INVITE and the BYE.
        const sip = rows.filter((r) => r[0]!.includes(":sip"));
        expect(sip).toHaveLength(sent.length - rtpCount);
        const methods = sip.map((r) => r[3] || r[4]);
        expect(methods.filter((m) => m === "INVITE")).toHaveLength(2);
        expect(methods).toContain("ACK");
        expect(methods).toContain("BYE");
        expect(methods.filter((m) => m === "200").length).toBeGreaterThanOrEqual(3);
      }
    },
    20_000,
  );

  it.skipIf(TSHARK === undefined)(
    "needs tshark: the check sees what tshark reports for broken RTP (truncated header, X bit without extension)",
    async () => {
      const from = { address: OLD, port: 4000 };
      const to = { address: NEW, port: 40000 };
      const broken: Sent[] = [
        { from, to, bytes: new Uint8Array([0x80, 0, 0, 1, 0]), at: 0 },
        { from, to, bytes: new Uint8Array([0x90, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7]), at: 1 },
      ];
      const dir = await Deno.makeTempDir({ prefix: "mpa-rtp-tshark-" });
      dirs.push(dir);
      await Deno.writeFile(`${dir}/broken.pcap`, pcap(broken));
      const verbose = await tshark(`${dir}/broken.pcap`, ["-d", "udp.port==40000,rtp", "-V"]);
      expect(verbose.match(/\[Malformed Packet: RTP\]/g)).toHaveLength(2);
      expect(verbose).toMatch(/Expert Info \(Error\/Malformed\)/);
    },
  );
});
