/**
 * What the proactive handover tunnel costs on a real kernel path (RFC 6252 sections
 * 6.3 step 3, 7.4): added latency per packet and throughput, through the PHT with TUN
 * devices at both ends versus the same path without it, in the same run. Builds the
 * namespace testbed of tests/fixtures/tunnel/_pht_topology.ts (prefix `mpatn-b`),
 * then:
 *
 * - latency: `ping` from the CN to the MN's oCoA (direct: CN - AR - core - pAR - MN,
 *   kernel only) and to its nCoA (the same path, through the AR's TUN, the PHT over
 *   UDP with AES-GCM, the MN's TUN, and back the same way); median and p99 RTT; the
 *   added one-way latency is half the RTT difference (a round trip crosses the
 *   tunnel twice);
 * - throughput: `iperf3` TCP from the CN to the MN, direct and through the PHT, with
 *   the CPU time the AR and MN endpoint processes used;
 * - the TUN read path alone: `ping` to a user-space echo responder behind a TUN
 *   versus a kernel-local address (one FFI `poll` wake, a read and a write per echo).
 *
 * Goals (reported, not asserted): added latency median <= 100 us, throughput >= 200
 * Mbit/s on one core. Needs root, /dev/net/tun, ping and iperf3.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/pht_netns_bench.ts [--pings 1000] [--seconds 5]
 * [--cpu-prof-dir DIR] [--prefix mpatn-b] [--out bench/results/pht.json]`
 * Writes bench/results/pht.json (or `--out`).
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { canUseNetns } from "../tests/fixtures/netns/netns_lab.ts";
import { ADDR, buildPhtTestbed, startPht } from "../tests/fixtures/tunnel/_pht_topology.ts";

const args = parseArgs(Deno.args, {
  string: ["pings", "seconds", "interval", "cpu-prof-dir", "prefix", "out"],
});
const PINGS = Number(args.pings ?? 1000);
const SECONDS = Number(args.seconds ?? 5);
const INTERVAL = String(args.interval ?? "0.002");

if (!canUseNetns({ tun: true })) {
  console.error("pht_netns_bench needs root and /dev/net/tun");
  Deno.exit(2);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

interface RttSummary {
  readonly sent: number;
  readonly received: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

function summarise(stdout: string, sent: number): RttSummary {
  const rtts = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  // The first echo of a run resolves ARP (and wakes every poll loop): not steady state.
  const steady = rtts.slice(1).sort((a, b) => a - b);
  return {
    sent,
    received: rtts.length,
    medianUs: quantile(steady, 0.5),
    p99Us: quantile(steady, 0.99),
    meanUs: steady.reduce((a, b) => a + b, 0) / steady.length,
  };
}

/** utime + stime of a process, ms (from /proc/PID/stat, clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const bed = await buildPhtTestbed(String(args.prefix ?? "mpatn-b"));
const results: Record<string, unknown> = {};
try {
  // --cpu-prof-dir DIR: V8 CPU profiles of the AR and MN endpoints, written when they exit.
  const profileDir = args["cpu-prof-dir"];
  const c = await startPht(
    bed,
    profileDir === undefined ? {} : { denoArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] },
  );
  const ping = async (to: string): Promise<RttSummary> => {
    const out = await bed.lab.exec(bed.ns.cn, [
      "ping",
      "-c",
      `${PINGS}`,
      "-i",
      INTERVAL,
      "-W",
      "1",
      to,
    ], { check: false });
    return summarise(out.stdout, PINGS);
  };
  // Alternate direct and tunnelled runs so that both see the same machine state.
  const direct1 = await ping(ADDR.oCoA);
  const tunnel1 = await ping(ADDR.nCoA);
  const direct2 = await ping(ADDR.oCoA);
  const tunnel2 = await ping(ADDR.nCoA);
  const direct = direct1.medianUs <= direct2.medianUs ? direct1 : direct2;
  const tunnel = tunnel1.medianUs <= tunnel2.medianUs ? tunnel1 : tunnel2;
  const latency = {
    direct,
    tunnel,
    runs: { direct: [direct1, direct2], tunnel: [tunnel1, tunnel2] },
    addedOneWayMedianUs: (tunnel.medianUs - direct.medianUs) / 2,
    addedOneWayP99Us: (tunnel.p99Us - direct.p99Us) / 2,
  };
  results.latency = latency;

  const iperf = async (to: string) => {
    const server = new Deno.Command("ip", {
      args: ["netns", "exec", bed.ns.mn, "iperf3", "-s", "-1", "-B", to],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await new Promise((r) => setTimeout(r, 300));
    const before = { ar: await cpuMs(c.ar.pid), mn: await cpuMs(c.mn.pid) };
    const out = await bed.lab.exec(bed.ns.cn, [
      "iperf3",
      "-c",
      to,
      "-t",
      `${SECONDS}`,
      "-J",
    ], { check: false });
    const after = { ar: await cpuMs(c.ar.pid), mn: await cpuMs(c.mn.pid) };
    try {
      server.kill("SIGTERM");
    } catch {
      // exited after its one test
    }
    await server.status;
    const json = JSON.parse(out.stdout) as {
      end?: {
        sum_received?: { bits_per_second: number };
        sum_sent?: { retransmits?: number };
      };
      error?: string;
    };
    return {
      mbitPerSecond: (json.end?.sum_received?.bits_per_second ?? 0) / 1e6,
      retransmits: json.end?.sum_sent?.retransmits ?? null,
      error: json.error ?? null,
      cpuSecondsPerSecond: {
        ar: (after.ar - before.ar) / 1000 / SECONDS,
        mn: (after.mn - before.mn) / 1000 / SECONDS,
      },
    };
  };
  // Where a tunnelled TCP stream loses packets: UDP receive-buffer overflows of the
  // PHT sockets, and TUN queue drops (the kernel's side of an endpoint not reading).
  const drops = async () => {
    const out: Record<string, unknown> = {};
    for (const [name, ns] of [["ar", bed.ns.ar], ["mn", bed.ns.mn]] as const) {
      const snmp = (await bed.lab.exec(ns, ["cat", "/proc/net/snmp"])).stdout.split("\n")
        .filter((l) => l.startsWith("Udp:"));
      const keys = snmp[0]?.split(/\s+/) ?? [];
      const vals = snmp[1]?.split(/\s+/) ?? [];
      const udp = Object.fromEntries(keys.map((k, i) => [k, Number(vals[i])]));
      const links = JSON.parse(
        (await bed.lab.exec(ns, ["ip", "-s", "-j", "link", "show"])).stdout,
      ) as { ifname: string; stats64?: { tx?: { dropped?: number } } }[];
      out[name] = {
        udpRcvbufErrors: udp.RcvbufErrors ?? null,
        tunTxDropped: links.filter((l) => l.ifname.startsWith("pht"))
          .map((l) => l.stats64?.tx?.dropped ?? 0).reduce((a, b) => a + b, 0),
      };
    }
    return out;
  };
  const tpDirect = await iperf(ADDR.oCoA);
  const dropsBefore = await drops();
  const tpTunnel = await iperf(ADDR.nCoA);
  results.throughput = { direct: tpDirect, tunnel: tpTunnel };
  results.drops = { beforeTunnelIperf: dropsBefore, afterTunnelIperf: await drops() };

  // The TUN read path alone: a user-space echo responder behind a TUN (FFI poll wake,
  // read, write) versus the kernel answering for a local address, same namespace.
  const echoNs = await bed.lab.namespace("echo", { ipv6: false });
  const echo = await bed.lab.spawnDeno(
    echoNs,
    new URL("../tests/fixtures/tunnel/_tun_child.ts", import.meta.url),
  );
  const { name: echoTun } = await echo.request<{ name: string }>("open", { name: "pht%d" });
  await echo.request("up", { name: echoTun, cidr: "10.77.0.1/24" });
  await echo.request("echoResponder", { name: echoTun });
  const echoPing = async (to: string) =>
    summarise(
      (await bed.lab.exec(echoNs, ["ping", "-c", `${PINGS}`, "-i", INTERVAL, "-W", "1", to], {
        check: false,
      })).stdout,
      PINGS,
    );
  const kernelLocal = await echoPing("10.77.0.1");
  const tunResponder = await echoPing("10.77.0.2");
  results.tunEcho = {
    kernelLocal,
    tunResponder,
    addedPerTunRoundTripMedianUs: tunResponder.medianUs - kernelLocal.medianUs,
  };

  const arStats = await c.ar.request<{ tun: { rxPackets: number; polls: number } }>("stats");
  const mnStats = await c.mn.request<{ tun: { rxPackets: number; polls: number } }>("stats");
  results.tunReads = {
    ar: { ...arStats.tun, packetsPerPoll: arStats.tun.rxPackets / arStats.tun.polls },
    mn: { ...mnStats.tun, packetsPerPoll: mnStats.tun.rxPackets / mnStats.tun.polls },
  };
  results.goals = {
    addedLatencyMedianUs: { goal: 100, measured: latency.addedOneWayMedianUs },
    throughputMbit: { goal: 200, measured: tpTunnel.mbitPerSecond },
  };
  results.config = {
    pings: PINGS,
    interval: INTERVAL,
    iperfSeconds: SECONDS,
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    kernel: Deno.osRelease(),
  };

  const f = (n: number) => n.toFixed(1).padStart(10);
  console.log("\nPHT through TUN devices vs the same path without it (same run)");
  console.log("                         median us    p99 us   received");
  console.log(
    `ping RTT direct        ${f(direct.medianUs)}${f(direct.p99Us)}   ${direct.received}/${PINGS}`,
  );
  console.log(
    `ping RTT through PHT   ${f(tunnel.medianUs)}${f(tunnel.p99Us)}   ${tunnel.received}/${PINGS}`,
  );
  console.log(
    `added one-way          ${f(latency.addedOneWayMedianUs)}${
      f(latency.addedOneWayP99Us)
    }   (goal median <= 100 us)`,
  );
  console.log(
    `TUN echo responder     ${f(tunResponder.medianUs)}${f(tunResponder.p99Us)}   ` +
      `(kernel-local ${kernelLocal.medianUs} us: one FFI poll wake + read + write per echo)`,
  );
  console.log("\n                         Mbit/s   AR cpu s/s  MN cpu s/s  retransmits");
  for (
    const [name, t] of [["iperf3 TCP direct", tpDirect], ["iperf3 TCP PHT", tpTunnel]] as const
  ) {
    console.log(
      `${name.padEnd(22)}${f(t.mbitPerSecond)}${f(t.cpuSecondsPerSecond.ar)}${
        f(t.cpuSecondsPerSecond.mn)
      }   ${t.retransmits}${t.error === null ? "" : `  error: ${t.error}`}`,
    );
  }
  console.log("(goal through the PHT >= 200 Mbit/s on one core)");
  console.log(`drops (before / after the tunnelled iperf): ${JSON.stringify(results.drops)}`);
  const out = args.out ?? new URL("./results/pht.json", import.meta.url).pathname;
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/") + 1) || ".", { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwritten ${out}`);
} finally {
  await bed.lab.dispose();
}
