/**
 * Pre-authentication load (issue 3 section 7): one AA (a `PanaPaa` with the local
 * EAP-PSK backend) and N concurrent MNs on the loopback, each a `PanaPac` that
 * pre-authenticates (RFC 5873 E flag, EAP-PSK) in a loop for S seconds, a fresh PaC
 * per run as a moving MN would have. Reports the PCI-to-final-PAN latency (median,
 * p99), pre-authentications per second, retransmissions and drops, the AA's CPU time
 * per pre-authentication, and checks that no state was lost: every success on the MN
 * side has an authorized SA on the AA with the same MN-CA and MN-AR key
 * fingerprints, and the AA holds exactly as many sessions as there were successes.
 *
 * ```sh
 * deno run -A bench/preauth_load.ts [--mns 200] [--seconds 10] [--rate R] [--paa child|inline] [--no-pin]
 * deno run -A bench/preauth_load.ts --hostapd [--runs 20]
 * ```
 *
 * - Closed loop (default): every MN starts its next pre-authentication as soon as
 *   the last one ended, so the AA is saturated and the rate is its capacity; the
 *   latency is then mostly queueing (about MNs / rate). `--rate R`: open loop, the MNs
 *   together start R pre-authentications per second, evenly spread; the latency is
 *   that of an AA under R per second.
 * - `--paa child` (default): the AA runs in its own process (this script with
 *   `--serve-paa`), pinned to CPU 1 with `taskset` while the MNs are pinned to CPU 0
 *   (`--no-pin`, or no taskset or one CPU: unpinned), so the rate is what one AA on
 *   one core sustains, as far as one core of MNs can drive it ("AA busy" tells how
 *   close to saturation the AA ran). `--paa inline`: the AA shares this process (and
 *   its event loop) with the MNs.
 * - An MN's PaC stays open for 10 s after its success (it answers a retransmitted
 *   final PAR if its final PAN was lost, as an MN holding its SA would); before the
 *   state check the AA is given up to 30 s to settle (no half-open session).
 * - `--hostapd`: the reference timing of issue 3 section 5. hostapd's RADIUS server
 *   (internal EAP server, one EAP-PSK user) behind a recording UDP relay; `--runs`
 *   EAP-PSK authentications of eapol_test (one process, `-r`: no process start in the
 *   relay's timing), the wall time of whole eapol_test processes, and as many of our
 *   pre-authentications through our PAA relaying to the same hostapd over RADIUS
 *   (`radiusEapFactory`), after 5 warm-up runs. Needs hostapd and eapol_test.
 *
 * The kernel's UDP receive errors (/proc/net/snmp InErrors, the whole network
 * namespace) are reported next to the counters of PANA.
 *
 * @module
 */
import process from "node:process";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { loadCredentials } from "../adapters/aaa/local_authenticator.ts";
import { radiusEapFactory } from "../adapters/aaa/radius_authenticator.ts";
import { PanaPaa, type PanaPaaServerStats } from "../adapters/pana/paa.ts";
import type { PanaPac } from "../adapters/pana/pac.ts";
import { RadiusClient } from "../adapters/radius/client.ts";
import { createEapPskPeer } from "../lib/eap/eap_psk_peer.ts";
import { keyFingerprint } from "../lib/keys/key_fingerprint.ts";
import { PortError } from "../lib/ports.ts";
import { findExecutable, startHostapdRadius } from "../tests/fixtures/radius/_hostapd.ts";
import {
  credentialsText,
  cryptoRandom,
  CTN,
  ctnAt,
  LOOPBACK,
  type MnCredentials,
  mnCredentials,
  newPac,
  quantile,
  startLocalPaa,
} from "./_preauth.ts";

const USAGE = `Usage:
  deno run -A bench/preauth_load.ts [--mns 200] [--seconds 10] [--rate R] [--paa child|inline] [--no-pin]
  deno run -A bench/preauth_load.ts --hostapd [--runs 20]`;

/** What the AA reports at the end of a run. */
interface PaaReport {
  readonly stats: PanaPaaServerStats;
  /** CPU time of the AA's process from `mark` to `report`, ms (every thread). */
  readonly cpuMs: number;
  /** Per authorized session: id, MN-CA and MN-AR fingerprints. */
  readonly sessions: readonly (readonly [number, string, string])[];
}

/** The AA under load, in this process or in a child. */
interface LoadPaa {
  readonly port: number;
  /** Starts the CPU-time window. */
  mark(): Promise<void>;
  /** The counters now. */
  stats(): Promise<PanaPaaServerStats>;
  /** Ends the run: counters, CPU time since `mark`, and the authorized SAs. */
  report(): Promise<PaaReport>;
}

/** The CPU time of this process so far, ms (user + system, every thread). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * UDP receive errors of the network namespace (/proc/net/snmp InErrors, which counts
 * the receive-buffer drops too), or undefined.
 */
function udpReceiveErrors(): number | undefined {
  try {
    const lines = Deno.readTextFileSync("/proc/net/snmp").split("\n").filter((l) =>
      l.startsWith("Udp:")
    );
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/).map(Number);
    return values[names.indexOf("InErrors")];
  } catch {
    return undefined;
  }
}

/** An AA that records the key fingerprints of the SAs it authorizes. */
async function recordingPaa(credentials: ReadonlyMap<string, Uint8Array>) {
  const keys: { id: number; mnCa: Uint8Array; mnAr: Uint8Array }[] = [];
  const paa = await startLocalPaa(credentials, {
    onAuthorized: (sa) => {
      keys.push({ id: sa.sessionId, mnCa: sa.keys.mnCa, mnAr: sa.keys.mnAr });
    },
  });
  let marked = cpuMs();
  return {
    port: paa.address.port,
    mark: () => {
      marked = cpuMs();
      return Promise.resolve();
    },
    stats: () => Promise.resolve(paa.stats),
    report: async (): Promise<PaaReport> => {
      const cpu = cpuMs() - marked;
      const stats = paa.stats;
      const sessions = await Promise.all(
        keys.map(async (k) =>
          [k.id, await keyFingerprint(k.mnCa), await keyFingerprint(k.mnAr)] as const
        ),
      );
      await paa.close();
      return { stats, cpuMs: cpu, sessions };
    },
  };
}

/** `--serve-paa FILE`: the AA process of `--paa child`, driven by lines on stdin. */
async function servePaa(credentialsFile: string): Promise<void> {
  const paa = await recordingPaa(await loadCredentials(credentialsFile));
  const encoder = new TextEncoder();
  const say = async (value: unknown) => {
    // A pipe may take a long line in several writes.
    let bytes = encoder.encode(`${JSON.stringify(value)}\n`);
    while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
  };
  await say({ port: paa.port });
  for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    for (const command of line.split("\n")) {
      if (command === "mark") {
        await paa.mark();
        await say({ marked: true });
      } else if (command === "stats") {
        await say(await paa.stats());
      } else if (command === "report") {
        await say(await paa.report());
        return;
      }
    }
  }
}

/** Starts the AA as a child process, pinned to `cpu` when given. */
async function childPaa(credentialsFile: string, cpu: number | undefined): Promise<LoadPaa> {
  const script = new URL(import.meta.url).pathname;
  const deno = Deno.execPath();
  const args = ["run", "-A", script, "--serve-paa", credentialsFile];
  const command = cpu === undefined
    ? new Deno.Command(deno, { args, stdin: "piped", stdout: "piped", stderr: "inherit" })
    : new Deno.Command("taskset", {
      args: ["-c", String(cpu), deno, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    });
  const child = command.spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const next = async (): Promise<unknown> => {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return JSON.parse(line);
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("The AA process ended early");
      buffer += value;
    }
  };
  const send = (line: string) => writer.write(new TextEncoder().encode(`${line}\n`));
  const { port } = await next() as { port: number };
  return {
    port,
    mark: async () => {
      await send("mark");
      await next();
    },
    stats: async () => {
      await send("stats");
      return await next() as PanaPaaServerStats;
    },
    report: async () => {
      await send("report");
      const report = await next() as PaaReport;
      await writer.close();
      await child.status;
      return report;
    },
  };
}

/** One MN's results. */
interface MnResult {
  readonly latencies: number[];
  readonly sas: [number, string, string][];
  readonly failures: Record<string, number>;
  dropped: number;
  /** When its last pre-authentication ended, `performance.now()`. */
  doneAt: number;
}

function emptyResult(): MnResult {
  return { latencies: [], sas: [], failures: {}, dropped: 0, doneAt: 0 };
}

/**
 * How long a PaC stays open after its pre-authentication succeeded, ms: long enough
 * for the PAA's first three retransmissions of a final PAR whose final PAN was lost
 * (1 + 2 + 4 s, RFC 5191 section 9). At the full rate this keeps about 10 x rate
 * sockets open (raise `ulimit -n` if needed).
 */
const LINGER_MS = 10_000;

/**
 * PaCs whose pre-authentication succeeded, kept open for {@link LINGER_MS} so that
 * they answer a retransmitted final PAR when their final PAN was lost (as an MN that
 * holds its SA would), then closed so that the sockets in use stay bounded.
 */
class Lingering {
  readonly #pacs: { readonly pac: PanaPac; readonly until: number; readonly out: MnResult }[] = [];
  readonly #timer = setInterval(() => this.#sweep(performance.now()), 250);

  add(pac: PanaPac, out: MnResult): void {
    this.#pacs.push({ pac, until: performance.now() + LINGER_MS, out });
  }

  #sweep(now: number): void {
    while (this.#pacs.length > 0 && this.#pacs[0]!.until <= now) {
      const { pac, out } = this.#pacs.shift()!;
      void release(pac, out);
    }
  }

  /** Closes every PaC still open. */
  async closeAll(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#pacs.splice(0).map(({ pac, out }) => release(pac, out)));
  }
}

function release(pac: PanaPac, out: MnResult): Promise<void> {
  out.dropped += pac.stats.dropped;
  return pac.close();
}

/**
 * One MN pre-authenticating in a loop until `endAt`, a fresh PaC per run: back to
 * back (closed loop), or, with `pace`, one start every `pace.periodMs` from
 * `pace.firstAt` (open loop; a run that overruns its period delays the next).
 */
async function mnLoop(
  mn: MnCredentials,
  port: number,
  endAt: number,
  lingering: Lingering,
  out: MnResult,
  pace?: { readonly firstAt: number; readonly periodMs: number },
): Promise<void> {
  const ctn = ctnAt(port);
  let nextAt = pace?.firstAt ?? 0;
  for (;;) {
    if (pace !== undefined) {
      const wait = nextAt - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      nextAt += pace.periodMs;
    }
    const pac = newPac(mn);
    try {
      const sa = await pac.preAuthenticate(ctn);
      out.latencies.push(sa.timings.total);
      out.sas.push([sa.sessionId, sa.fingerprints.mnCa, sa.fingerprints.mnAr]);
      lingering.add(pac, out);
    } catch (error) {
      const code = error instanceof PortError ? error.code : "error";
      out.failures[code] = (out.failures[code] ?? 0) + 1;
      await release(pac, out);
    }
    out.doneAt = performance.now();
    if ((pace === undefined ? out.doneAt : nextAt) >= endAt) return;
  }
}

/** Options of {@link load}. */
interface LoadOptions {
  readonly mns: number;
  readonly seconds: number;
  readonly mode: "child" | "inline";
  readonly pin: boolean;
  /** Offered pre-authentications per second (open loop); undefined: closed loop. */
  readonly rate: number | undefined;
}

async function load({ mns, seconds, mode, pin, rate }: LoadOptions) {
  const creds = mnCredentials(mns);
  const cpus = navigator.hardwareConcurrency;
  const pinned = mode === "child" && pin && cpus >= 2 && findExecutable("taskset") !== undefined;
  let paa: LoadPaa;
  let credentialsFile: string | undefined;
  if (mode === "child") {
    credentialsFile = await Deno.makeTempFile({ prefix: "mpa-load-", suffix: ".psk" });
    await Deno.writeTextFile(credentialsFile, credentialsText(creds), { mode: 0o600 });
    if (pinned) {
      // The MNs on CPU 0 (every thread of this process), the AA on CPU 1.
      await new Deno.Command("taskset", { args: ["-a", "-p", "-c", "0", String(Deno.pid)] })
        .output();
    }
    paa = await childPaa(credentialsFile, pinned ? 1 : undefined);
  } else {
    paa = await recordingPaa(new Map(creds.map((m) => [m.identity, m.psk])));
  }
  const results = creds.map(emptyResult);
  // Warm-up: one pre-authentication per MN (JIT, sockets); counted in the state
  // check, not in the rates.
  const warm = creds.map(emptyResult);
  const lingering = new Lingering();
  await Promise.all(creds.map((mn, i) => mnLoop(mn, paa.port, 0, lingering, warm[i]!)));
  const udpErrors0 = udpReceiveErrors();
  await paa.mark();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  const periodMs = rate === undefined ? 0 : (mns / rate) * 1000;
  await Promise.all(creds.map((mn, i) =>
    mnLoop(
      mn,
      paa.port,
      endAt,
      lingering,
      results[i]!,
      rate === undefined ? undefined : { firstAt: t0 + (i * periodMs) / mns, periodMs },
    )
  ));
  // Closed loop: until the last run ended. Open loop: the window, if the last run
  // ended within a second of it (the AA kept up with the offered rate); else until
  // the last run ended, so that a backlog shows as a rate below the offered one.
  const lastDone = Math.max(...results.map((r) => r.doneAt));
  const tailMs = lastDone - endAt;
  const elapsed = rate !== undefined && tailMs <= 1000 ? seconds : (lastDone - t0) / 1000;
  const mnCpu = cpuMs() - cpu0;
  const udpErrors1 = udpReceiveErrors();
  // Before the state check, let the AA settle: a session whose final PAN was lost is
  // half-open until its retransmitted final PAR is answered (the PaCs are still
  // open) or its retransmissions run out (RFC 5191 section 9).
  const settleEnd = performance.now() + 30_000;
  while ((await paa.stats()).halfOpen > 0 && performance.now() < settleEnd) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await lingering.closeAll();
  const report = await paa.report();
  if (credentialsFile !== undefined) await Deno.remove(credentialsFile);

  const all = [...warm, ...results];
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const successes = latencies.length;
  const allSas = all.flatMap((r) => r.sas);
  const failures: Record<string, number> = {};
  for (const r of all) {
    for (const [code, n] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + n;
  }
  const mnDropped = all.reduce((a, r) => a + r.dropped, 0);
  const bySession = new Map(report.sessions.map(([id, ca, ar]) => [id, `${ca}/${ar}`]));
  const lost = allSas.filter(([id, ca, ar]) => bySession.get(id) !== `${ca}/${ar}`).length;
  const paaDropped = Object.entries(report.stats.dropped).filter(([, n]) => n > 0);
  const achieved = successes / elapsed;
  const cpuPer = report.cpuMs / successes;
  const ms = (v: number) => v.toFixed(2);
  const median = quantile(latencies, 0.5);
  const noLoss = lost === 0 && report.stats.sessions === allSas.length &&
    report.stats.authorized === allSas.length && report.stats.halfOpen === 0;
  const where = mode === "child"
    ? `in its own process${pinned ? " on CPU 1 (MNs on CPU 0)" : " (unpinned)"}`
    : "in the MNs' process";
  const loop = rate === undefined
    ? "closed loop (each MN back to back)"
    : `open loop, ${rate}/s offered`;
  const rows: [string, string][] = [
    [
      "pre-authentications (timed window)",
      `${successes} in ${elapsed.toFixed(2)} s${
        rate === undefined ? "" : `, the last ended ${tailMs.toFixed(0)} ms after the window`
      }`,
    ],
    ["pre-authentications per second", achieved.toFixed(0)],
    ["PCI to final PAN, median", `${ms(median)} ms`],
    ["PCI to final PAN, p99", `${ms(quantile(latencies, 0.99))} ms`],
    ["PCI to final PAN, max", `${ms(latencies.at(-1) ?? 0)} ms`],
  ];
  if (mode === "child") {
    rows.push(
      ["AA CPU time per pre-authentication", `${ms(cpuPer)} ms`],
      ["AA busy (CPU time / window)", `${((report.cpuMs / elapsed) / 10).toFixed(0)} %`],
      ["AA capacity at that CPU time, one core", `${(1000 / cpuPer).toFixed(0)} /s`],
      ["MN-side CPU time per pre-authentication", `${ms(mnCpu / successes)} ms`],
    );
  } else {
    rows.push(["process CPU time (MNs and AA) per pre-authentication", `${ms(cpuPer)} ms`]);
  }
  rows.push(
    ["AA retransmissions (PAR resent)", String(report.stats.retransmissions)],
    ["AA duplicates answered from cache", String(report.stats.duplicates)],
    [
      "AA drops",
      paaDropped.length === 0 ? "0" : paaDropped.map(([r, n]) => `${r} ${n}`).join(", "),
    ],
    ["MN drops", String(mnDropped)],
    [
      "kernel UDP receive errors",
      udpErrors0 === undefined || udpErrors1 === undefined
        ? "n/a"
        : String(udpErrors1 - udpErrors0),
    ],
    [
      "MN failures",
      Object.keys(failures).length === 0
        ? "0"
        : Object.entries(failures).map(([c, n]) => `${c} ${n}`).join(", "),
    ],
    [
      `state check (incl. ${warm.length} warm-up runs)`,
      `${allSas.length} MN successes, ${report.stats.authorized} AA authorized, ${report.stats.sessions} AA sessions, ${report.stats.halfOpen} half-open, ${lost} without a matching SA`,
    ],
  );
  console.log(
    `Pre-authentication load: ${mns} MNs, ${seconds} s, ${loop}, AA ${where}, local EAP-PSK, loopback, ${cpus} CPUs\n`,
  );
  console.log("| measure | value |");
  console.log("| --- | ---: |");
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  console.log(
    `\ngoal median <= 5 ms: ${ms(median)} ms: ${median <= 5 ? "met" : "not met"}${
      rate === undefined
        ? ` (closed loop: every MN always waits, so the median is about MNs / rate, ${
          ms((mns / achieved) * 1000)
        } ms; measure it at a given load with --rate)`
        : ""
    }`,
  );
  // Rounded as shown: an open loop that keeps up ends a few ms after its window.
  console.log(
    `goal >= 500 pre-authentications/s: ${achieved.toFixed(0)}/s${
      mode === "child" && pinned ? " with the AA on one core" : ""
    }: ${Math.round(achieved) >= 500 ? "met" : "not met"}`,
  );
  console.log(`goal no state lost: ${noLoss ? "met" : "not met"}`);
}

/**
 * A UDP relay between RADIUS clients and the server that times each authentication:
 * from an Access-Request that starts one (none outstanding) to the Access-Accept or
 * Access-Reject that ends it. For one client at a time.
 */
async function timingRelay(serverPort: number) {
  const spans: number[] = [];
  let startedAt: number | undefined;
  const front: Socket = createSocket("udp4");
  const backs = new Map<string, Socket>();
  front.on("message", (message: Uint8Array, from: RemoteInfo) => {
    startedAt ??= performance.now();
    const key = `${from.address}:${from.port}`;
    let back = backs.get(key);
    if (back === undefined) {
      back = createSocket("udp4");
      back.bind(0, LOOPBACK);
      backs.set(key, back);
      back.on("message", (answer: Uint8Array) => {
        // RADIUS codes 2 (Access-Accept) and 3 (Access-Reject) end the authentication.
        if ((answer[0] === 2 || answer[0] === 3) && startedAt !== undefined) {
          spans.push(performance.now() - startedAt);
          startedAt = undefined;
        }
        front.send(answer, from.port, from.address);
      });
    }
    back.send(message, serverPort, LOOPBACK);
  });
  await new Promise<void>((resolve) => front.bind(0, LOOPBACK, () => resolve()));
  return {
    port: front.address().port,
    /** Takes the spans timed so far. */
    take: () => spans.splice(0),
    close: () => {
      front.close();
      for (const back of backs.values()) back.close();
    },
  };
}

async function hostapdReference(runs: number) {
  const eapolTest = findExecutable("eapol_test");
  if (findExecutable("hostapd") === undefined || eapolTest === undefined) {
    console.error("--hostapd needs hostapd and eapol_test (apt-get install -y hostapd eapoltest)");
    Deno.exit(2);
  }
  const identity = "alice@example";
  const pskHex = "0123456789abcdef0123456789abcdef";
  const secret = Array.from(cryptoRandom(12), (b) => b.toString(16).padStart(2, "0")).join("");
  const server = await startHostapdRadius({ identity, pskHex, secret });
  const relay = await timingRelay(server.port);
  const dir = await Deno.makeTempDir({ prefix: "mpa-eapol-" });
  try {
    await Deno.writeTextFile(
      `${dir}/eapol.conf`,
      `network={\n\tkey_mgmt=IEEE8021X\n\teap=PSK\n\tidentity="${identity}"\n\tpassword=${pskHex}\n}\n`,
    );
    const eapol = async (reauths: number) => {
      const out = await new Deno.Command(eapolTest, {
        args: [
          "-c",
          `${dir}/eapol.conf`,
          "-a",
          LOOPBACK,
          "-p",
          String(relay.port),
          "-s",
          secret,
          `-r${reauths}`,
        ],
        stdout: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      if (!out.success || !text.includes(`MPPE keys OK: ${reauths + 1}`)) {
        throw new Error(`eapol_test failed (code ${out.code}):\n${text.slice(-1500)}`);
      }
    };
    // eapol_test: `runs` authentications in one process (-r), timed at the relay.
    await eapol(0);
    relay.take();
    await eapol(runs - 1);
    const eapolSpans = relay.take().sort((a, b) => a - b);
    // eapol_test: whole processes (start, EAPOL state machine, RADIUS, exit).
    const eapolWall: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await eapol(0);
      eapolWall.push(performance.now() - t);
    }
    eapolWall.sort((a, b) => a - b);
    relay.take();

    // Ours: PanaPac -> PanaPaa (radiusEapFactory) -> relay -> hostapd.
    const client = new RadiusClient({ server: { host: LOOPBACK, port: relay.port }, secret });
    const paa = await PanaPaa.listen({
      ctn: CTN,
      host: LOOPBACK,
      port: 0,
      eap: radiusEapFactory({ client }),
    });
    const psk = Uint8Array.from(pskHex.match(/../g)!, (h) => parseInt(h, 16));
    const ours: number[] = [];
    const oursWall: number[] = [];
    for (let i = 0; i < 5 + runs; i++) {
      const pac = newPac({ identity, psk }, {
        eap: () => createEapPskPeer({ identity, psk, random: cryptoRandom }),
      });
      const t = performance.now();
      const sa = await pac.preAuthenticate(ctnAt(paa.address.port));
      const wall = performance.now() - t;
      await pac.close();
      if (i < 5) continue; // warm-up (JIT)
      ours.push(sa.timings.total);
      oursWall.push(wall);
    }
    const ourSpans = relay.take().slice(5).sort((a, b) => a - b);
    ours.sort((a, b) => a - b);
    oursWall.sort((a, b) => a - b);
    await paa.close();
    await client.close();

    const ms = (v: readonly number[]) =>
      `${quantile(v, 0.5).toFixed(2)} | ${quantile(v, 0.9).toFixed(2)}`;
    console.log(
      `EAP-PSK against hostapd's RADIUS server (internal EAP server) on the loopback, ${runs} authentications each\n`,
    );
    console.log("| client | measure | median ms | p90 ms |");
    console.log("| --- | --- | ---: | ---: |");
    console.log(
      `| eapol_test | RADIUS exchange at the relay (first Access-Request to Access-Accept; one process, -r${
        runs - 1
      }) | ${ms(eapolSpans)} |`,
    );
    console.log(
      `| eapol_test | whole process (start, EAPOL, RADIUS, exit) | ${ms(eapolWall)} |`,
    );
    console.log(
      `| mpa PaC -> PAA -> RADIUS | RADIUS exchange at the relay (first Access-Request to Access-Accept) | ${
        ms(ourSpans)
      } |`,
    );
    console.log(
      `| mpa PaC -> PAA -> RADIUS | PCI to final PAN (timings.total) | ${ms(ours)} |`,
    );
    console.log(
      `| mpa PaC -> PAA -> RADIUS | preAuthenticate wall time (bind, keys, fingerprints) | ${
        ms(oursWall)
      } |`,
    );
  } finally {
    relay.close();
    await Deno.remove(dir, { recursive: true });
    await server.stop();
  }
}

const flags = parseArgs(Deno.args, {
  string: ["mns", "seconds", "paa", "runs", "serve-paa", "rate"],
  boolean: ["hostapd", "no-pin", "help"],
  default: { mns: "200", seconds: "10", paa: "child", runs: "20" },
});

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`Invalid --${name}: expected a positive integer, got "${value}"\n${USAGE}`);
    Deno.exit(2);
  }
  return n;
}

if (flags.help) {
  console.log(USAGE);
} else if (flags["serve-paa"] !== undefined) {
  await servePaa(flags["serve-paa"]);
} else if (flags.hostapd) {
  await hostapdReference(positiveInt("runs", flags.runs));
} else {
  if (flags.paa !== "child" && flags.paa !== "inline") {
    console.error(`Invalid --paa: expected child or inline, got "${flags.paa}"\n${USAGE}`);
    Deno.exit(2);
  }
  await load({
    mns: positiveInt("mns", flags.mns),
    seconds: positiveInt("seconds", flags.seconds),
    mode: flags.paa,
    pin: !flags["no-pin"],
    rate: flags.rate === undefined ? undefined : positiveInt("rate", flags.rate),
  });
}
