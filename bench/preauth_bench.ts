/**
 * Pre-authentication benchmark (issue 3 section 7): one PANA pre-authentication with
 * the RFC 5873 E flag, PCI to the final PAN, carrying EAP-PSK (RFC 4764) against the
 * AA's local backend, on the loopback, with the PaC and the PAA in this process.
 *
 * - `deno bench -A bench/preauth_bench.ts`: the bench table. Cases: the real UDP
 *   adapters (`PanaPac.preAuthenticate` against `PanaPaa`, a fresh PaC per run as an
 *   MN would have; only `preAuthenticate` is timed, so the table includes binding the
 *   PaC's socket and importing and fingerprinting the MPA-SA keys), and the two
 *   sans-I/O machines wired together in memory (the protocol and crypto work alone,
 *   no sockets, no event-loop turns for datagrams).
 * - `deno run -A bench/preauth_bench.ts --latency [--runs N]`: median and p99 over N
 *   runs (default 1000, after 50 warm-up runs) of the PCI-to-final-PAN time the PaC
 *   measures (`PanaMpaSa.timings.total`) and of the wall time of `preAuthenticate`,
 *   with the goal (median at or below 5 ms).
 *
 * @module
 */
import { PanaPacMachine, type PanaPacSession } from "../lib/pana/pac.ts";
import { PanaPaaMachine } from "../lib/pana/paa.ts";
import type { PanaPeer } from "../lib/pana/pana_command.ts";
import { createEapPskPeer } from "../lib/eap/eap_psk_peer.ts";
import { createEapPskServerFactory } from "../lib/eap/eap_psk_server.ts";
import {
  cryptoRandom,
  CTN,
  ctnAt,
  LOOPBACK,
  mnCredentials,
  newPac,
  quantile,
  SERVER_ID,
  startLocalPaa,
} from "./_preauth.ts";

const [MN] = mnCredentials(1) as [ReturnType<typeof mnCredentials>[number]];
const CREDENTIALS = new Map([[MN.identity, MN.psk]]);

/** The PaC's transport address as the in-memory PAA sees it. */
const PEER: PanaPeer = { address: LOOPBACK, port: 40_000 };

const MEMORY_PAA = new PanaPaaMachine({
  eap: createEapPskServerFactory({
    serverId: SERVER_ID,
    lookup: (id) => CREDENTIALS.get(id),
    random: cryptoRandom,
  }),
  ctn: CTN,
  now: () => performance.now(),
  random: cryptoRandom,
  maxHalfOpenPerSource: 64,
});

/**
 * One pre-authentication between the two sans-I/O machines, datagrams handed over
 * directly (timers are ignored: nothing is lost).
 *
 * @returns the PaC's session
 */
async function inMemoryPreauth(): Promise<PanaPacSession> {
  const pac = new PanaPacMachine({
    eap: createEapPskPeer({
      identity: MN.identity,
      psk: MN.psk,
      random: cryptoRandom,
      serverId: SERVER_ID,
    }),
    ctn: CTN,
    now: () => performance.now(),
    random: cryptoRandom,
  });
  let session: PanaPacSession | undefined;
  let authorized = false;
  let toPaa: Uint8Array[] = [];
  for (const c of await pac.start()) if (c.kind === "send") toPaa.push(c.bytes);
  while (toPaa.length > 0) {
    const toPac: Uint8Array[] = [];
    for (const bytes of toPaa) {
      for (const c of await MEMORY_PAA.receive(bytes, PEER)) {
        if (c.kind === "send") toPac.push(c.bytes);
        if (c.kind === "authorized") authorized = true;
        if (c.kind === "drop") throw new Error(`PAA dropped: ${c.detail}`);
      }
    }
    toPaa = [];
    for (const bytes of toPac) {
      for (const c of await pac.receive(bytes)) {
        if (c.kind === "send") toPaa.push(c.bytes);
        if (c.kind === "done") session = c.session;
        if (c.kind === "failed" || c.kind === "drop") {
          throw new Error(`PaC ${c.kind}: ${c.kind === "drop" ? c.detail : c.reason}`);
        }
      }
    }
  }
  if (session === undefined || !authorized) {
    throw new Error("The exchange stopped before the final PAN");
  }
  return session;
}

async function latency(runs: number): Promise<void> {
  const paa = await startLocalPaa(CREDENTIALS);
  const ctn = ctnAt(paa.address.port);
  const total: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < 50 + runs; i++) {
    const pac = newPac(MN);
    const t0 = performance.now();
    const sa = await pac.preAuthenticate(ctn);
    const t1 = performance.now();
    await pac.close();
    if (i < 50) continue;
    total.push(sa.timings.total);
    wall.push(t1 - t0);
  }
  const stats = paa.stats;
  await paa.close();
  total.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const ms = (v: number) => v.toFixed(2);
  console.log(
    `Pre-authentication on the loopback, PaC and PAA in one process, local EAP-PSK, ${runs} runs (after 50 warm-up runs)\n`,
  );
  console.log("| measure | median ms | p99 ms | max ms |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(
    `| PCI to final PAN (timings.total) | ${ms(quantile(total, 0.5))} | ${
      ms(quantile(total, 0.99))
    } | ${ms(total.at(-1)!)} |`,
  );
  console.log(
    `| preAuthenticate wall time (bind, keys, fingerprints) | ${ms(quantile(wall, 0.5))} | ${
      ms(quantile(wall, 0.99))
    } | ${ms(wall.at(-1)!)} |`,
  );
  console.log(
    `\nPAA: ${stats.authorized} authorized, ${stats.retransmissions} retransmissions, ${
      Object.values(stats.dropped).reduce((a, b) => a + b, 0)
    } dropped`,
  );
  const median = quantile(total, 0.5);
  console.log(
    `goal median PCI to final PAN <= 5 ms: ${ms(median)} ms: ${median <= 5 ? "met" : "not met"}`,
  );
}

if (Deno.args.includes("--latency")) {
  const i = Deno.args.indexOf("--runs");
  const runs = i >= 0 ? Number(Deno.args[i + 1]) : 1000;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`Invalid --runs: expected a positive integer, got ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  await latency(runs);
} else {
  const paa = await startLocalPaa(CREDENTIALS);
  const ctn = ctnAt(paa.address.port);
  Deno.bench({
    name: "PanaPac -> PanaPaa over UDP (PCI to final PAN, keys imported)",
    group: "pre-authentication",
    baseline: true,
    async fn(b) {
      const pac = newPac(MN);
      b.start();
      await pac.preAuthenticate(ctn);
      b.end();
      await pac.close();
    },
  });
  Deno.bench({
    name: "PanaPacMachine <-> PanaPaaMachine in memory (no sockets)",
    group: "pre-authentication",
    async fn() {
      await inMemoryPreauth();
    },
  });
  // The PAA keeps serving until the bench process exits; its sessions stay open
  // (one per run), as an AA's would.
  globalThis.addEventListener("unload", () => void paa.close());
}
