/**
 * Interop: Wireshark's PANA dissector (tshark) decodes the PANA datagrams our PaC and
 * PAA exchange (RFC 5191; issue 3 section 5: "tshark decodes our PANA packets (UDP
 * port 716) without any malformed-packet warning").
 *
 * A UDP relay in this test sits between a real `PanaPac` and a real `PanaPaa` on the
 * loopback and records every datagram with its direction; `text2pcap` wraps the
 * recorded payloads in dummy Ethernet/IPv4/UDP headers (MN 40000 <-> AA 716, the PANA
 * port) and `tshark` decodes the file. Recording the payloads rather than capturing
 * on `lo` needs no privileges and cannot miss a packet; the payloads are exactly the
 * bytes our sockets sent. Needs tshark and text2pcap (Debian: `apt-get install -y
 * tshark`, which brings wireshark-common); skipped when they are missing.
 *
 * What Wireshark 4.0.17 does with the pre-authentication flag: RFC 5873 section 4
 * assigns the E (pre-authentication) bit, 0x0200 of the 16-bit Flags field, which RFC
 * 5191 section 6.2 left reserved. Wireshark's dissector (epan/dissectors/packet-pana.c)
 * knows only R, S, C, A, P and I and, as a heuristic dissector, declines a datagram
 * with a reserved flag bit set, so the frames of a pre-authentication show up as
 * plain "data". The tests therefore check (1) that a plain PANA authentication (no E
 * flag) decodes cleanly frame by frame, and (2) that the pre-authentication's frames
 * differ from clean PANA only by that bit: with 0x0200 cleared they decode cleanly
 * too. Clearing the bit invalidates the AUTH AVP of the final PAR and PAN (it covers
 * the whole message), which does not matter here: tshark does not verify AUTH.
 */
import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { localEapPskFactory } from "../../adapters/aaa/local_authenticator.ts";
import { PanaPac } from "../../adapters/pana/pac.ts";
import { PanaPaa } from "../../adapters/pana/paa.ts";
import { createEapPskPeer } from "../../lib/eap/eap_psk_peer.ts";
import type { CtnInfo } from "../../lib/ports.ts";
import { findExecutable } from "../fixtures/radius/_hostapd.ts";

const TSHARK = findExecutable("tshark");
const TEXT2PCAP = findExecutable("text2pcap");
const hasTshark = TSHARK !== undefined && TEXT2PCAP !== undefined;
const LOOPBACK = "127.0.0.1";
const IDENTITY = "mn@tshark";
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const PSK = random(16);
/** The PANA flag RFC 5873 assigns to pre-authentication (E), reserved in RFC 5191. */
const E_FLAG = 0x0200;

/** One recorded datagram: `I` from the PaC to the PAA, `O` back. */
interface Datagram {
  readonly dir: "I" | "O";
  readonly bytes: Uint8Array;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function bind(): Promise<Socket> {
  const socket = createSocket("udp4");
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return new Promise((resolve) => socket.bind(0, LOOPBACK, () => resolve(socket)));
}

/**
 * A recording UDP relay: the PaC talks to its front socket, the PAA to one back
 * socket per PaC address.
 */
async function relay(paaPort: number): Promise<{ port: number; log: Datagram[] }> {
  const log: Datagram[] = [];
  const front = await bind();
  const backs = new Map<string, Socket>();
  front.on("message", async (message: Uint8Array, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let back = backs.get(key);
    if (back === undefined) {
      back = await bind();
      backs.set(key, back);
      back.on("message", (answer: Uint8Array) => {
        log.push({ dir: "O", bytes: new Uint8Array(answer) });
        front.send(answer, from.port, from.address);
      });
    }
    log.push({ dir: "I", bytes: new Uint8Array(message) });
    back.send(message, paaPort, LOOPBACK);
  });
  return { port: front.address().port, log };
}

/** One pre-authentication (or plain authentication) recorded through the relay. */
async function recordExchange(preauth: boolean): Promise<Datagram[]> {
  const paa = await PanaPaa.listen({
    ctn: "ctn-tshark",
    host: LOOPBACK,
    port: 0,
    eap: localEapPskFactory({
      serverId: "aa.ctn-tshark",
      credentials: new Map([[IDENTITY, PSK]]),
    }),
  });
  cleanups.push(() => paa.close());
  const { port, log } = await relay(paa.address.port);
  const pac = new PanaPac({
    identity: IDENTITY,
    bind: LOOPBACK,
    preauth,
    eap: () => createEapPskPeer({ identity: IDENTITY, psk: PSK, random }),
  });
  cleanups.push(() => pac.close());
  const aa = { address: LOOPBACK, port };
  const ctn: CtnInfo = { network: "ctn-tshark", aa, ca: aa, ar: aa, poas: [] };
  const sa = await pac.preAuthenticate(ctn);
  // A re-authorization ping (PNR/PNA) and a termination (PTR/PTA) as well.
  await pac.reauthorize(sa.sessionId);
  await pac.terminate(sa.sessionId);
  const end = Date.now() + 2_000;
  while (paa.stats.terminated < 1 && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return log;
}

/** One decoded frame: its protocol stack, PANA message type, expert messages. */
interface Frame {
  readonly protocols: string;
  readonly panaType: string;
  readonly avpCodes: string;
  readonly expert: string;
  readonly malformed: string;
}

/** Writes the datagrams to a pcapng with text2pcap and decodes it with tshark. */
async function dissect(datagrams: readonly Datagram[]): Promise<Frame[]> {
  const dir = await Deno.makeTempDir({ prefix: "mpa-tshark-" });
  cleanups.push(() => Deno.remove(dir, { recursive: true }));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(
    `${dir}/pana.txt`,
    datagrams.map((d) => `${d.dir} ${hex(d.bytes)}\n`).join(""),
  );
  // -D: direction I/O; with -u the ports are swapped for outbound (O) packets.
  const text2pcap = await new Deno.Command(TEXT2PCAP!, {
    args: [
      "-q",
      "-D",
      "-r",
      "^(?<dir>[IO]) (?<data>[0-9a-f]+)$",
      "-4",
      "192.0.2.10,192.0.2.1",
      "-u",
      "40000,716",
      `${dir}/pana.txt`,
      `${dir}/pana.pcapng`,
    ],
  }).output();
  expect(text2pcap.success, new TextDecoder().decode(text2pcap.stderr)).toBe(true);
  const tshark = await new Deno.Command(TSHARK!, {
    args: [
      "-r",
      `${dir}/pana.pcapng`,
      "-d",
      "udp.port==716,pana",
      "-T",
      "fields",
      "-E",
      "occurrence=a",
      "-E",
      "aggregator=,",
      "-e",
      "frame.protocols",
      "-e",
      "pana.type",
      "-e",
      "pana.avp.code",
      "-e",
      "_ws.expert.message",
      "-e",
      "_ws.malformed",
    ],
    env: { HOME: dir }, // no user preferences
  }).output();
  expect(tshark.success, new TextDecoder().decode(tshark.stderr)).toBe(true);
  const lines = new TextDecoder().decode(tshark.stdout).split("\n").filter((l) => l !== "");
  return lines.map((line) => {
    const [protocols = "", panaType = "", avpCodes = "", expert = "", malformed = ""] = line
      .split("\t");
    return { protocols, panaType, avpCodes, expert, malformed };
  });
}

function withoutEFlag(d: Datagram): Datagram {
  const bytes = d.bytes.slice();
  const flags = (bytes[4]! << 8) | bytes[5]!;
  const cleared = flags & ~E_FLAG;
  bytes[4] = cleared >> 8;
  bytes[5] = cleared & 0xff;
  return { dir: d.dir, bytes };
}

/** The AVP codes of a PANA message, in order, read from its bytes (RFC 5191 section 6.3). */
function avpCodes(bytes: Uint8Array): number[] {
  const codes: number[] = [];
  let at = 16;
  while (at + 8 <= bytes.length) {
    const code = (bytes[at]! << 8) | bytes[at + 1]!;
    const vendor = (bytes[at + 2]! & 0x80) !== 0;
    const length = (bytes[at + 4]! << 8) | bytes[at + 5]!;
    codes.push(code);
    at += 8 + (vendor ? 4 : 0) + Math.ceil(length / 4) * 4;
  }
  return codes;
}

/** PANA's EAP-Payload AVP (RFC 5191 section 8.4) and Result-Code AVP (section 8.7). */
const EAP_PAYLOAD = 2;
const RESULT_CODE = 7;

/**
 * Every frame is PANA (and EAP inside an EAP-Payload AVP), with the message type
 * and the AVPs, in order, that the datagram carries, and no expert or malformed mark.
 */
function expectCleanPana(frames: readonly Frame[], datagrams: readonly Datagram[]): void {
  expect(frames).toHaveLength(datagrams.length);
  frames.forEach((frame, i) => {
    const context = `frame ${i + 1}: ${JSON.stringify(frame)}`;
    const bytes = datagrams[i]!.bytes;
    const codes = avpCodes(bytes);
    expect(frame.protocols, context).toBe(
      `eth:ethertype:ip:udp:pana${codes.includes(EAP_PAYLOAD) ? ":eap" : ""}`,
    );
    expect(frame.expert, context).toBe("");
    expect(frame.malformed, context).toBe("");
    expect(frame.panaType, context).toBe(String((bytes[6]! << 8) | bytes[7]!));
    // Wireshark 4.0.17 shows the Result-Code value with the AVP-code field, so that
    // field lists it right after code 7: drop it before comparing.
    const seen = frame.avpCodes.split(",").filter((c) => c !== "").map(Number)
      .filter((_, j, all) => j === 0 || all[j - 1] !== RESULT_CODE);
    expect(seen, context).toEqual(codes);
  });
}

describe("tshark decodes our PANA datagrams (RFC 5191 sections 6 and 8; RFC 5873)", () => {
  it.skipIf(!hasTshark)(
    "RFC 5191: a plain authentication (no E flag), ping and termination decode as PANA without a malformed or expert warning (needs tshark: runs in CI)",
    async () => {
      const datagrams = await recordExchange(false);
      // PCI, PAR/PAN x4 (initial, EAP-PSK 1-2, 3-4, final), PNR/PNA, PTR/PTA.
      expect(datagrams.length).toBe(13);
      expect(datagrams.every((d) => (((d.bytes[4]! << 8) | d.bytes[5]!) & E_FLAG) === 0)).toBe(
        true,
      );
      expectCleanPana(await dissect(datagrams), datagrams);
      // Every AVP of the exchanges was seen: AUTH (1), EAP-Payload (2), Integrity-
      // Algorithm (3), Key-Id (4), Nonce (5), PRF-Algorithm (6), Result-Code (7),
      // Session-Lifetime (8), Termination-Cause (9).
      const codes = new Set(datagrams.flatMap((d) => avpCodes(d.bytes)));
      expect([...codes].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  );

  it.skipIf(!hasTshark)(
    "RFC 5873: Wireshark 4.0.17 does not know the E flag and shows pre-authentication frames as data; with only that bit cleared every frame decodes cleanly (needs tshark: runs in CI)",
    async () => {
      const datagrams = await recordExchange(true);
      expect(datagrams.length).toBe(13);
      // The E flag is on the PCI and every PAR/PAN of the authentication phase
      // (RFC 5873 section 4); not on the ping and termination that follow.
      const eFlagged = datagrams.map((d) => (((d.bytes[4]! << 8) | d.bytes[5]!) & E_FLAG) !== 0);
      expect(eFlagged).toEqual([...Array(9).fill(true), ...Array(4).fill(false)]);
      const frames = await dissect(datagrams);
      frames.forEach((frame, i) => {
        // The dissector declines a reserved flag bit; other frames are PANA.
        expect(frame.protocols, `frame ${i + 1}`).toMatch(eFlagged[i] ? /:udp:data$/ : /:pana$/);
        expect(frame.malformed, `frame ${i + 1}`).toBe("");
      });
      const cleared = datagrams.map(withoutEFlag);
      expectCleanPana(await dissect(cleared), cleared);
    },
  );
});
