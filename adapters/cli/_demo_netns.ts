/**
 * `mpa demo --netns`: the same handover as the embedded demo, but with real processes
 * in network namespaces and TUN devices (root): one run of the testbed of
 * `bench/handover/` with MPA and buffering, and one reactive run under the same
 * parameters, printed as a table.
 *
 * The testbed lives in `bench/` (it starts Kea, `mpa ctn` and child processes from a
 * source checkout), which is not part of the published module: it is imported at run
 * time from a computed URL, and `--netns` says so when it is missing (e.g. when mpa is
 * imported by URL from a registry).
 *
 * @module
 */
import { CliError } from "./replay.ts";

/** The part of a testbed run's metrics printed here (bench/handover/measure.ts). */
interface _Metrics {
  readonly linkSwitchMs: number;
  readonly l3HandoverMs: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly buffered: number;
  readonly sent: number;
  readonly interruptionMs: number;
  readonly tauthMs?: number;
  readonly tconfMs?: number;
  readonly tunnelMs?: number;
  readonly buMs?: number;
}

/** The part of the testbed's results used here (bench/handover/report.ts). */
interface _Results {
  readonly scenarios: readonly {
    readonly id: string;
    readonly runs: readonly { readonly metrics: _Metrics }[];
    readonly failures?: readonly string[];
  }[];
}

/** The testbed's entry point (bench/handover/run.ts). */
interface _Testbed {
  runTestbed(options: {
    readonly runs: number;
    readonly scenarios: readonly string[];
    readonly protocols: readonly string[];
    readonly prefix: string;
    readonly log: (line: string) => void;
  }): Promise<_Results>;
}

const _ms = (v: number | undefined) => v === undefined ? "-" : `${v.toFixed(1)} ms`;

/**
 * Runs the namespace demo and prints its timeline and table.
 *
 * @param line prints one line of output
 * @returns the exit status: 0 when MPA with buffering lost nothing, 1 otherwise
 * @throws {CliError} status 2 when not root or when the testbed is not available
 */
export async function demoNetns(line: (text: string) => void): Promise<number> {
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch {
    // no --allow-sys: treated as not root
  }
  if (uid !== 0) {
    throw new CliError(
      2,
      "--netns needs root (network namespaces, TUN devices) and all permissions: sudo deno run -A mod.ts demo --netns",
    );
  }
  const url = new URL("../../bench/handover/run.ts", import.meta.url);
  let testbed: _Testbed;
  try {
    testbed = await import(url.href) as _Testbed;
  } catch (error) {
    throw new CliError(
      2,
      `--netns needs the testbed of a source checkout (${url.href}): ${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }`,
    );
  }
  line("mpa demo --netns: one MPA handover (buffering on) and one reactive handover, SIP,");
  line("in network namespaces with TUN devices, Kea, mpa ctn and a correspondent 100 ms away");
  const results = await testbed.runTestbed({
    runs: 1,
    scenarios: ["mpa-buffering", "reactive"],
    protocols: ["sip"],
    prefix: "mpademo",
    log: line,
  });
  line("");
  line(
    "handover        Tauth      Tconf     tunnel         BU     switch   L3 hand.   lost  buffered  interruption",
  );
  let mpaLost: number | undefined;
  for (const s of results.scenarios) {
    const m = s.runs[0]?.metrics;
    if (m === undefined) {
      line(`${s.id.padEnd(14)}  failed: ${s.failures?.[0] ?? "no run"}`);
      continue;
    }
    if (s.id === "mpa-buffering") mpaLost = m.lost;
    line(
      [
        s.id.padEnd(14),
        _ms(m.tauthMs).padStart(9),
        _ms(m.tconfMs).padStart(10),
        _ms(m.tunnelMs).padStart(10),
        _ms(m.buMs).padStart(10),
        _ms(m.linkSwitchMs).padStart(10),
        _ms(m.l3HandoverMs).padStart(10),
        String(m.lost).padStart(6),
        String(m.buffered).padStart(9),
        _ms(m.interruptionMs).padStart(13),
      ].join(" "),
    );
  }
  line("");
  line("The full comparison (10 runs, SIP and Mobile IPv6, roaming): deno task testbed");
  return mpaLost === 0 ? 0 : 1;
}
