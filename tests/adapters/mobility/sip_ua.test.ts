import { describe, expect, it } from "npm:vitest@4.1.12";
import { udpTransport } from "../../../adapters/mobility/datagram_transport.ts";
import { SipCorrespondent } from "../../../adapters/mobility/sip_cn.ts";
import { SipMobility, type SipMobilityOptions } from "../../../adapters/mobility/sip_ua.ts";
import { PortError } from "../../../lib/ports.ts";
import {
  decodeSip,
  encodeSip,
  header,
  isSipRequest,
  sipResponseTo,
} from "../../../lib/wire/sip.ts";
import { cseqMethod, lossyTransport, rawPeer, receiverPair, startLine } from "./_sip_helpers.ts";

const OLD = "127.0.0.1";
const NEW = "127.0.0.2";
const FAST = { t1Ms: 20, t2Ms: 160, t4Ms: 200 };

function ua(
  cn: { local: { address: string; port: number } },
  extra: Partial<SipMobilityOptions> = {},
) {
  return new SipMobility({
    aor: "sip:mn@example.org",
    localAddress: OLD,
    mediaPort: 40000,
    correspondent: { ...cn.local, uri: `sip:cn@${cn.local.address}:${cn.local.port}` },
    timers: FAST,
    ...extra,
  });
}

async function portError(p: Promise<unknown>): Promise<PortError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof PortError) return error;
    throw error;
  }
  throw new Error("expected a PortError");
}

describe("SipMobility against SipCorrespondent on loopback (RFC 6252 section 7.5)", () => {
  it("sets up a call, and a re-INVITE from the new CoA moves the RTP stream at once", async () => {
    const [rxOld, rxNew] = await receiverPair(OLD, NEW);
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 } });
    const mn = ua(cn, { mediaPort: rxOld.local.port });
    try {
      const dialog = await mn.start();
      expect(dialog.coa).toBe(OLD);
      expect(dialog.remoteMedia).toEqual(cn.mediaLocal);
      await rxOld.waitFor((s) => s.received >= 3);
      const oldLocal = mn.local!;

      const result = await mn.bind([NEW, "127.0.0.3"]);
      expect(result).toEqual({ bound: [NEW], lifetimeMs: 3_600_000 });
      expect(mn.coa).toBe(NEW);
      expect(mn.local!.address).toBe(NEW);
      expect(mn.local).not.toEqual(oldLocal);
      expect(mn.dialog()!.sdpVersion).toBe(2n);
      expect(cn.calls()[0]).toMatchObject({
        media: { address: NEW, port: rxOld.local.port },
        reinvites: 1,
      });
      const redirected = await cn.waitForEvent((e) => e.type === "redirected");
      expect(redirected).toMatchObject({
        from: { address: OLD, port: rxOld.local.port },
        to: { address: NEW, port: rxOld.local.port },
      });

      await rxNew.waitFor((s) => s.received >= 3);
      const stream = cn.stream()!;
      const cut = stream.retargets()[0]!.nextIndex;
      const oldKey = `${OLD}:${rxOld.local.port}`;
      // Every packet before the re-INVITE went to the old CoA, none after it.
      expect(stream.records().filter((r) => r.to === oldKey).every((r) => r.index < cut)).toBe(
        true,
      );
      expect(stream.records().filter((r) => r.index >= cut).every((r) => r.to !== oldKey)).toBe(
        true,
      );
      expect(rxOld.stats().received).toBe(cut);
      expect(rxNew.stats().lost).toBe(0);
      expect(rxNew.stats().firstSequence! - rxOld.stats().highestSequence!).toBe(1);

      const t = mn.timings()[0]!;
      expect(t.reinviteOkAt!).toBeGreaterThanOrEqual(t.reinviteSentAt!);
      console.log(
        `re-INVITE round trip on loopback: ${(t.reinviteOkAt! - t.reinviteSentAt!).toFixed(3)} ms`,
      );
    } finally {
      await mn.stop();
      await cn.close();
      await rxOld.close();
      await rxNew.close();
    }
  });

  it("retransmits the INVITE when the first one is lost (RFC 3261 section 17.1.1.2, Timer A)", async () => {
    let dropped = 0;
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
      transport: lossyTransport((bytes, dir) => {
        if (dir === "in" && dropped === 0 && startLine(bytes).startsWith("INVITE")) {
          dropped++;
          return true;
        }
        return false;
      }),
    });
    const mn = ua(cn);
    try {
      await mn.start();
      expect(dropped).toBe(1);
      expect(mn.stats().retransmissions).toBeGreaterThanOrEqual(1);
      expect(cn.stats().invites).toBe(1);
      await cn.waitForEvent((e) => e.type === "established");
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("answers a retransmitted 2xx with the ACK again when the first ACK is lost (RFC 3261 sections 13.2.2.4, 13.3.1.4)", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
    });
    let acksDropped = 0;
    const mn = ua(cn, {
      transport: lossyTransport((bytes, dir) => {
        if (dir === "out" && acksDropped === 0 && startLine(bytes).startsWith("ACK")) {
          acksDropped++;
          return true;
        }
        return false;
      }),
    });
    try {
      await mn.start();
      await cn.waitForEvent((e) => e.type === "established");
      expect(acksDropped).toBe(1);
      expect(cn.stats().okRetransmissions).toBeGreaterThanOrEqual(1);
      expect(mn.stats().ackRetransmissions).toBeGreaterThanOrEqual(1);
      expect(cn.stats().acks).toBe(1);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("486 to the INVITE rejects start() with status and reason, after an ACK (RFC 3261 section 17.1.1.3)", async () => {
    const log: { direction: "in" | "out"; line: string; dropped: boolean }[] = [];
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      policy: () => ({ status: 486 }),
    });
    const mn = ua(cn, { transport: lossyTransport(() => false, log) });
    try {
      const e = await portError(mn.start());
      expect(e.code).toBe("rejected");
      expect(e.message).toBe("SIP INVITE rejected: 486 Busy Here");
      await new Promise((r) => setTimeout(r, 20));
      expect(log.filter((l) => l.direction === "out").map((l) => l.line.split(" ")[0])).toEqual([
        "INVITE",
        "ACK",
      ]);
      expect(cn.calls()).toEqual([]);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("503 to the re-INVITE rejects bind() and keeps the dialog at the old CoA (RFC 3261 section 14.1)", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      // Refuse re-INVITEs (their To has the CN's tag), accept the initial INVITE.
      policy: (invite) => header(invite, "To")!.includes("tag=") ? { status: 503 } : undefined,
    });
    const mn = ua(cn);
    try {
      await mn.start();
      const e = await portError(mn.bind([NEW]));
      expect(e.code).toBe("rejected");
      expect(e.message).toBe("SIP re-INVITE rejected: 503 Service Unavailable");
      expect(mn.coa).toBe(OLD);
      expect(mn.local!.address).toBe(OLD);
      expect(mn.dialog()!.sdpVersion).toBe(1n);
      expect(cn.calls()[0]!.media).toEqual({ address: OLD, port: 40000 });
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("no answer: start() fails with timeout after Timer B = 64*T1", async () => {
    const silent = await udpTransport({ address: OLD, port: 0 });
    let invites = 0;
    silent.onMessage((bytes) => {
      if (startLine(bytes).startsWith("INVITE")) invites++;
    });
    const mn = ua(silent);
    try {
      const e = await portError(mn.start());
      expect(e.code).toBe("timeout");
      expect(e.message).toMatch(/Timer B \(1280 ms\)/);
      expect(invites).toBe(7); // 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1
    } finally {
      await mn.stop();
      await silent.close();
    }
  });

  it("REGISTER: registers the new contact and returns the granted lifetime (RFC 3261 section 10.2.4)", async () => {
    const registrar = await rawPeer(OLD);
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn, { registrar: { ...registrar.transport.local } });
    try {
      await mn.start();
      const bound = mn.bind([NEW], { lifetimeMs: 600_000 });
      const { bytes, from } = await registrar.next();
      const register = decodeSip(bytes);
      if (!isSipRequest(register)) throw new Error("not a request");
      expect(register.method).toBe("REGISTER");
      expect(register.uri).toBe("sip:example.org");
      expect(header(register, "To")).toBe("<sip:mn@example.org>");
      expect(header(register, "Expires")).toBe("600");
      const contact = header(register, "Contact")!;
      expect(contact).toMatch(/^<sip:mn@127\.0\.0\.2:[0-9]+>$/);
      expect(from.address).toBe(NEW);
      const ok = sipResponseTo(register, 200, "OK", {
        toTag: "r1",
        headers: [{ name: "Contact", value: `${contact};expires=120` }],
      });
      await registrar.transport.send(encodeSip(ok), from);
      expect(await bound).toEqual({ bound: [NEW], lifetimeMs: 120_000 });
      expect(mn.stats().registers).toBe(1);
      expect(mn.stats().reinvites).toBe(1);
    } finally {
      await mn.stop();
      await cn.close();
      await registrar.transport.close();
    }
  });

  it("REGISTER without an answer fails with timeout after Timer F", async () => {
    const registrar = await rawPeer(OLD);
    const mn = new SipMobility({
      aor: "sip:mn@example.org",
      localAddress: OLD,
      mediaPort: 40000,
      correspondent: { address: OLD, port: 9, uri: "sip:cn@127.0.0.1" },
      registrar: registrar.transport.local,
      timers: { t1Ms: 10, t2Ms: 80, t4Ms: 100 },
    });
    try {
      const e = await portError(mn.bind([OLD]));
      expect(e.code).toBe("timeout");
      expect(e.message).toMatch(/^SIP REGISTER timed out: no final response before Timer F/);
      // Timer E doubles to T2 then stays there: 0, 10, 30, 70, 150, 230, ... 630 (F at 640)
      expect(registrar.received.length).toBe(11);
    } finally {
      await mn.stop();
      await registrar.transport.close();
    }
  });

  it("bind() errors: empty list is protocol, no call and no registrar is protocol, an unassigned CoA is unreachable, abort is aborted", async () => {
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn);
    try {
      expect((await portError(mn.bind([]))).code).toBe("protocol");
      expect((await portError(mn.bind([NEW]))).code).toBe("protocol");
      await mn.start();
      const e = await portError(mn.bind(["192.0.2.77"]));
      expect(e.code).toBe("unreachable");
      expect(e.message).toMatch(/^Cannot bind a SIP socket to 192\.0\.2\.77/);
      const aborted = await portError(mn.bind([NEW], { signal: AbortSignal.abort() }));
      expect(aborted.code).toBe("aborted");
      expect(mn.coa).toBe(OLD);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("an abort during the re-INVITE rejects with aborted", async () => {
    const silent = await udpTransport({ address: OLD, port: 0 });
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn);
    try {
      await mn.start();
      // Point the dialog at a peer that never answers by closing the CN.
      await cn.close();
      const controller = new AbortController();
      const p = mn.bind([NEW], { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      const e = await portError(p);
      expect(e.code).toBe("aborted");
      expect(mn.coa).toBe(OLD);
    } finally {
      await mn.stop({ signal: AbortSignal.timeout(50) });
      await silent.close();
    }
  });

  it("drops and counts malformed datagrams, and keeps working", async () => {
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn);
    const junk = await udpTransport({ address: OLD, port: 0 });
    try {
      await mn.start();
      const bad = [
        new Uint8Array([0, 1, 2, 3]),
        new TextEncoder().encode("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n"),
        new TextEncoder().encode("SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\n"),
      ];
      for (const b of bad) {
        await junk.send(b, mn.local!);
        await junk.send(b, cn.local);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(mn.stats().malformed).toBe(3);
      expect(cn.stats().malformed).toBe(3);
      await mn.bind([NEW]);
      expect(cn.calls()[0]!.reinvites).toBe(1);
    } finally {
      await mn.stop();
      await cn.close();
      await junk.close();
    }
  });

  it("answers OPTIONS with 200 and an in-dialog BYE with 200, ending the call (RFC 3261 sections 11.2, 15.1.2)", async () => {
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn);
    const peer = await rawPeer(OLD);
    try {
      const d = await mn.start();
      const req = (method: string, seq: number, tags: boolean) =>
        new TextEncoder().encode(
          `${method} sip:mn@${OLD}:${mn.local!.port} SIP/2.0\r\n` +
            `Via: SIP/2.0/UDP ${OLD}:${peer.transport.local.port};branch=z9hG4bK${method}${seq}${tags}\r\n` +
            `Max-Forwards: 70\r\nTo: <sip:mn@example.org>${tags ? `;tag=${d.localTag}` : ""}\r\n` +
            `From: <sip:cn@${OLD}>;tag=${tags ? d.remoteTag : "x"}\r\nCall-ID: ${
              tags ? d.callId : "other"
            }\r\nCSeq: ${seq} ${method}\r\nContent-Length: 0\r\n\r\n`,
        );
      await peer.transport.send(req("OPTIONS", 1, false), mn.local!);
      const options = (await peer.next()).bytes;
      expect(startLine(options)).toBe("SIP/2.0 200 OK");
      expect(header(decodeSip(options), "Allow")).toBe("INVITE, ACK, BYE, OPTIONS");
      await peer.transport.send(req("BYE", 5, false), mn.local!);
      expect(startLine((await peer.next()).bytes)).toBe(
        "SIP/2.0 481 Call/Transaction Does Not Exist",
      );
      await peer.transport.send(req("BYE", 5, true), mn.local!);
      const ok = (await peer.next()).bytes;
      expect([startLine(ok), cseqMethod(ok)]).toEqual(["SIP/2.0 200 OK", "BYE"]);
      expect(await mn.ended).toBe("remote");
      expect(mn.dialog()).toBeUndefined();
    } finally {
      await mn.stop();
      await cn.close();
      await peer.transport.close();
    }
  });

  it("stop() sends BYE: the correspondent ends the call and its stream", async () => {
    const [rx, rx2] = await receiverPair(OLD, NEW);
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 } });
    const mn = ua(cn, { mediaPort: rx.local.port });
    try {
      await mn.start();
      await rx.waitFor((s) => s.received >= 2);
      const stream = cn.stream()!;
      await mn.stop();
      expect(await mn.ended).toBe("local");
      expect(await cn.waitForEvent((e) => e.type === "ended")).toMatchObject({ by: "bye" });
      expect(stream.running).toBe(false);
      expect(cn.stats().byes).toBe(1);
    } finally {
      await mn.stop();
      await cn.close();
      await rx.close();
      await rx2.close();
    }
  });

  it("measures the re-INVITE round trip over 100 moves between two CoAs (reported, not asserted)", async () => {
    const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 }, noMedia: true });
    const mn = ua(cn, { timers: { t1Ms: 500 } });
    try {
      await mn.start();
      for (let i = 0; i < 100; i++) await mn.bind([i % 2 === 0 ? NEW : "127.0.0.3"]);
      expect(cn.calls()[0]!.reinvites).toBe(100);
      expect(mn.stats().retransmissions).toBe(0);
      const rtt = mn.timings().map((t) => t.reinviteOkAt! - t.reinviteSentAt!).sort((a, b) =>
        a - b
      );
      const q = (p: number) =>
        rtt[Math.min(rtt.length - 1, Math.floor(p * rtt.length))]!.toFixed(3);
      console.log(
        `re-INVITE -> 200 on loopback over ${rtt.length} moves: median ${q(0.5)} ms, p95 ${
          q(0.95)
        } ms, min ${rtt[0]!.toFixed(3)} ms, max ${rtt[rtt.length - 1]!.toFixed(3)} ms`,
      );
    } finally {
      await mn.stop();
      await cn.close();
    }
  });
});

describe("SipMobility: an aborted binding update keeps the dialog in step (RFC 3261 sections 9.1, 14.1)", () => {
  type Line = { direction: "in" | "out"; line: string; dropped: boolean };
  const outLines = (log: readonly Line[]) =>
    log.filter((l) => l.direction === "out").map((l) => l.line.split(" ")[0]);
  const refusals = (log: readonly Line[]) =>
    log.filter((l) => /^SIP\/2\.0 (491|500)/.test(l.line)).map((l) => l.line);

  /** Waits for a condition on the event loop (no virtual time here: real sockets). */
  async function until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise((r) => setTimeout(r, 2));
  }

  it("abort after the re-INVITE left, before its 200: the 200 is ACKed and adopted, the next bind succeeds", async () => {
    const controller = new AbortController();
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
      // The correspondent has the re-INVITE and is about to answer it: the agent aborts now.
      onEvent: (e) => {
        if (e.type === "reinvite") controller.abort();
      },
    });
    const log: Line[] = [];
    const mn = ua(cn, { transport: lossyTransport(() => false, log) });
    try {
      await mn.start();
      const e = await portError(mn.bind([NEW], { signal: controller.signal }));
      expect(e.code).toBe("aborted");
      await mn.idle();
      // The correspondent sends to NEW: so does the UA's dialog.
      expect(cn.calls()[0]?.media).toEqual({ address: NEW, port: 40000 });
      expect([mn.coa, mn.dialog()?.coa, mn.dialog()?.sdpVersion]).toEqual([NEW, NEW, 2n]);
      expect(mn.stats()).toMatchObject({ adoptedAfterAbort: 1, cancels: 0 });
      expect(outLines(log)).toEqual(["INVITE", "ACK", "INVITE", "ACK"]);
      await until(() => cn.stats().acks === 2);

      const result = await mn.bind(["127.0.0.3"]);
      expect(result.bound).toEqual(["127.0.0.3"]);
      expect(cn.calls()[0]).toMatchObject({
        media: { address: "127.0.0.3", port: 40000 },
        reinvites: 2,
      });
      expect(mn.dialog()?.coa).toBe("127.0.0.3");
      expect(refusals(log)).toEqual([]);
      expect(cn.stats().reinvites).toBe(2);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("a re-INVITE right after an aborted one waits for its ACK: no 491 or 500 from the correspondent", async () => {
    const controller = new AbortController();
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
      onEvent: (e) => {
        if (e.type === "reinvite") controller.abort();
      },
    });
    const log: Line[] = [];
    const mn = ua(cn, { transport: lossyTransport(() => false, log) });
    try {
      await mn.start();
      const first = mn.bind([NEW], { signal: controller.signal });
      const second = mn.bind(["127.0.0.3"]); // queued at once, no pause in between
      expect((await portError(first)).code).toBe("aborted");
      expect(await second).toEqual({ bound: ["127.0.0.3"], lifetimeMs: 3_600_000 });
      // The ACK of the aborted re-INVITE (CSeq 2) went out before the next re-INVITE.
      expect(outLines(log)).toEqual(["INVITE", "ACK", "INVITE", "ACK", "INVITE", "ACK"]);
      expect(refusals(log)).toEqual([]);
      expect(cn.calls()[0]?.media).toEqual({ address: "127.0.0.3", port: 40000 });
      expect(mn.dialog()?.coa).toBe("127.0.0.3");
      expect(cn.stats().okRetransmissions).toBe(0);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("abort while only 100 Trying came: CANCEL, the correspondent answers 487, the dialog stays; the next bind succeeds", async () => {
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
      answerDelayMs: 300,
    });
    const log: Line[] = [];
    const mn = ua(cn, { transport: lossyTransport(() => false, log) });
    try {
      await mn.start(); // 100, 180, then the 200 300 ms later
      const controller = new AbortController();
      const p = mn.bind([NEW], { signal: controller.signal });
      const trying = () =>
        log.filter((l) => l.direction === "in" && l.line === "SIP/2.0 100 Trying").length;
      await until(() => trying() === 2); // the re-INVITE's 100
      controller.abort();
      expect((await portError(p)).code).toBe("aborted");
      await mn.idle();
      const cancelled = await cn.waitForEvent((e) => e.type === "cancelled");
      expect(cancelled).toMatchObject({ reinvite: true });
      expect(cn.stats()).toMatchObject({ cancels: 1, cancelled: 1, reinvites: 1 });
      expect(mn.stats()).toMatchObject({ cancels: 1, adoptedAfterAbort: 0 });
      // CANCEL (9.1), its 200, the INVITE's 487 and the ACK of the 487 (17.1.1.3).
      expect(outLines(log)).toEqual(["INVITE", "ACK", "INVITE", "CANCEL", "ACK"]);
      const inLines = log.filter((l) => l.direction === "in").map((l) => l.line);
      expect(inLines).toContain("SIP/2.0 487 Request Terminated");
      expect(inLines.filter((l) => l === "SIP/2.0 200 OK").length).toBe(2); // INVITE, CANCEL
      // Nothing moved: both ends still at the old address.
      expect(cn.calls()[0]?.media).toEqual({ address: OLD, port: 40000 });
      expect([mn.coa, mn.dialog()?.coa]).toEqual([OLD, OLD]);

      const result = await mn.bind([NEW]);
      expect(result.bound).toEqual([NEW]);
      expect(cn.calls()[0]).toMatchObject({ media: { address: NEW, port: 40000 }, reinvites: 1 });
      expect(mn.dialog()?.coa).toBe(NEW);
      expect(refusals(log)).toEqual([]);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });

  it("abort before any response: the CANCEL waits for the provisional one (RFC 3261 section 9.1)", async () => {
    let reinvite!: () => void;
    const arrived = new Promise<void>((r) => (reinvite = r));
    const cn = await SipCorrespondent.listen({
      listen: { address: OLD, port: 0 },
      noMedia: true,
      timers: FAST,
      answerDelayMs: 300,
      onEvent: (e) => {
        if (e.type === "reinvite") reinvite();
      },
    });
    const log: Line[] = [];
    // The correspondent's first 100 Trying to the re-INVITE is lost: the UA aborts with no
    // response at all, and may CANCEL only once the retransmitted INVITE gets its 100.
    let lost = 0;
    const mn = ua(cn, {
      transport: lossyTransport((bytes, dir) => {
        const drop = dir === "in" && lost === 0 && startLine(bytes) === "SIP/2.0 100 Trying" &&
          cseqMethod(bytes) === "INVITE" && new TextDecoder().decode(bytes).includes("CSeq: 2 ");
        if (drop) lost++;
        return drop;
      }, log),
    });
    try {
      await mn.start();
      const controller = new AbortController();
      const p = mn.bind([NEW], { signal: controller.signal });
      await arrived;
      await until(() => lost === 1);
      controller.abort();
      expect((await portError(p)).code).toBe("aborted");
      expect(outLines(log).filter((l) => l === "CANCEL")).toEqual([]);
      await mn.idle();
      const out = outLines(log);
      // INVITE, ACK (call); INVITE, its retransmission, then CANCEL; ACK of the 487.
      expect(out.slice(0, 3)).toEqual(["INVITE", "ACK", "INVITE"]);
      expect(out.indexOf("CANCEL")).toBeGreaterThan(3);
      expect(cn.stats().cancelled).toBe(1);
      expect([mn.coa, cn.calls()[0]?.media?.address]).toEqual([OLD, OLD]);
    } finally {
      await mn.stop();
      await cn.close();
    }
  });
});
