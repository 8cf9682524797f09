/**
 * Interop: SIP mobility (RFC 6252 section 7.5) against SIPp (Debian `sip-tester`):
 * our mobile node's user agent against a SIPp UAS that expects a re-INVITE with the
 * new care-of address and against a SIPp registrar; SIPp as the moving caller against
 * our correspondent, whose RTP stream must follow the re-INVITE. Needs the sipp
 * binary, not root; skipped when it is missing.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { RtpReceiver } from "../../adapters/mobility/rtp_stream.ts";
import { SipCorrespondent } from "../../adapters/mobility/sip_cn.ts";
import { SipMobility } from "../../adapters/mobility/sip_ua.ts";
import { findExecutable, freeUdpPort } from "../fixtures/radius/_hostapd.ts";

const sipp = findExecutable("sipp");
const hasSipp = sipp !== undefined;
const SCENARIOS = new URL("../fixtures/sipp/", import.meta.url).pathname;
const OLD = "127.0.0.1";

interface Sipp {
  readonly port: number;
  readonly dir: string;
  readonly done: Promise<{ code: number; stderr: string }>;
  kill(): void;
}

async function startSipp(args: string[], port?: number): Promise<Sipp> {
  const p = port ?? await freeUdpPort();
  const dir = await Deno.makeTempDir({ prefix: "mpa-sipp-" });
  const child = new Deno.Command(sipp!, {
    args: [
      ...args,
      "-i",
      OLD,
      "-p",
      String(p),
      "-m",
      "1",
      "-nostdin",
      "-timeout",
      "20s",
      "-timeout_error",
    ],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done = child.output().then((o) => ({
    code: o.code,
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return {
    port: p,
    dir,
    done,
    kill: () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited
      }
    },
  };
}

async function sameFreePortPair(a: string, b: string): Promise<[RtpReceiver, RtpReceiver]> {
  for (let i = 0; i < 20; i++) {
    const x = await RtpReceiver.listen({ address: a, port: 0 });
    try {
      return [x, await RtpReceiver.listen({ address: b, port: x.local.port })];
    } catch {
      await x.close();
    }
  }
  throw new Error("No common free port");
}

describe("SIP mobility against SIPp", () => {
  it.skipIf(!hasSipp)(
    "needs sipp (runs in CI): our UA's INVITE and re-INVITE with the new c= complete with 200/ACK against a SIPp UAS (RFC 3261 section 14)",
    async () => {
      const uas = await startSipp(["-sf", `${SCENARIOS}uas_reinvite.xml`]);
      const mn = new SipMobility({
        aor: "sip:mn@example.org",
        localAddress: OLD,
        mediaPort: 40000,
        correspondent: { address: OLD, port: uas.port, uri: `sip:service@${OLD}:${uas.port}` },
      });
      try {
        const dialog = await mn.start();
        expect(dialog.remoteTag).toMatch(/SIPpTag01/);
        expect(dialog.remoteMedia?.address).toBe(OLD);
        const rtts: number[] = [];
        const result = await mn.bind(["127.0.0.2"]);
        expect(result.bound).toEqual(["127.0.0.2"]);
        const t = mn.timings()[0]!;
        rtts.push(t.reinviteOkAt! - t.reinviteSentAt!);
        console.log(`re-INVITE round trip to SIPp on loopback: ${rtts[0]!.toFixed(3)} ms`);
        await mn.stop();
        const out = await uas.done;
        expect(out.code, out.stderr).toBe(0);
      } finally {
        await mn.stop();
        uas.kill();
        await Deno.remove(uas.dir, { recursive: true });
      }
    },
  );

  it.skipIf(!hasSipp)(
    "needs sipp (runs in CI): REGISTER of the new contact at a SIPp registrar grants its lifetime (RFC 3261 section 10)",
    async () => {
      const registrar = await startSipp(["-sf", `${SCENARIOS}registrar.xml`]);
      const mn = new SipMobility({
        aor: "sip:mn@example.org",
        localAddress: OLD,
        mediaPort: 40000,
        correspondent: { address: OLD, port: 9, uri: "sip:cn@127.0.0.1" },
        registrar: { address: OLD, port: registrar.port },
      });
      try {
        expect(await mn.bind(["127.0.0.2"])).toEqual({ bound: ["127.0.0.2"], lifetimeMs: 120_000 });
        const out = await registrar.done;
        expect(out.code, out.stderr).toBe(0);
      } finally {
        await mn.stop();
        registrar.kill();
        await Deno.remove(registrar.dir, { recursive: true });
      }
    },
  );

  it.skipIf(!hasSipp)(
    "needs sipp (runs in CI): SIPp as the moving caller; our CN completes INVITE, re-INVITE, BYE and its RTP stream moves to the new c= (RFC 6252 section 7.5)",
    async () => {
      const NEW = "127.0.0.3";
      const [rxOld, rxNew] = await sameFreePortPair(OLD, NEW);
      const cn = await SipCorrespondent.listen({ listen: { address: OLD, port: 0 } });
      const uac = await startSipp([
        "-sf",
        `${SCENARIOS}uac_reinvite.xml`,
        "-key",
        "new_coa",
        NEW,
        "-key",
        "rtp_port",
        String(rxOld.local.port),
        "-trace_rtt",
        "-rtt_freq",
        "1",
        `${OLD}:${cn.local.port}`,
      ]);
      try {
        await cn.waitForEvent((e) => e.type === "established");
        await rxOld.waitFor((s) => s.received >= 3);
        const redirected = await cn.waitForEvent((e) => e.type === "redirected");
        expect(redirected).toMatchObject({ to: { address: NEW, port: rxOld.local.port } });
        await rxNew.waitFor((s) => s.received >= 3);
        expect(await cn.waitForEvent((e) => e.type === "ended")).toMatchObject({ by: "bye" });
        const out = await uac.done;
        expect(out.code, out.stderr).toBe(0);
        const stream = cn.stream() ?? undefined;
        expect(stream).toBeUndefined(); // the call is gone
        // Nothing reached the old address after the redirect; the new one got the rest.
        expect(rxOld.arrivals().every((a) => a.arrivedAt <= rxNew.stats().firstArrival!)).toBe(
          true,
        );
        expect(rxNew.stats().firstSequence! - rxOld.stats().highestSequence!).toBe(1);
        expect(cn.stats()).toMatchObject({ invites: 1, reinvites: 1, acks: 2, byes: 1 });
        for await (const f of Deno.readDir(uac.dir)) {
          if (f.name.endsWith("_rtt.csv")) {
            console.log(
              `SIPp response times (ms):\n${await Deno.readTextFile(`${uac.dir}/${f.name}`)}`,
            );
          }
        }
      } finally {
        uac.kill();
        await cn.close();
        await rxOld.close();
        await rxNew.close();
        await Deno.remove(uac.dir, { recursive: true });
      }
    },
  );
});
