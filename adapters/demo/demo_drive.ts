/**
 * The embedded demo's drive and address plan: a car leaves cell a1 of domainA (the
 * MN's current network) towards b1 of domainB, on the road, and c1 of domainC, off
 * the road; both CTNs come within the prepare margin, so the MN pre-authenticates
 * with both in parallel (RFC 6252 section 7.2), pre-configures the likelier one,
 * binds, switches, and releases the other (section C.4).
 *
 * Addresses are on 127/8, all local on Linux, so every element binds its own address
 * without root: network A 127.N.1.0/24 (the MN's oCoA .10), CTN B 127.N.2.0/24 and
 * CTN C 127.N.3.0/24 (AR .1, CA .2, AA .3, leases .100-.199), the correspondent
 * 127.N.9.1, with N = `net` (default 0).
 *
 * @module
 */
import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
import { decide } from "../../lib/decision/decide.ts";
import type { Decision, SwitchDecision } from "../../lib/decision/decision.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import type { Scenario } from "../metrics/scenarios.ts";
import { coverageRadius, simulateTrace } from "../metrics/simulator.ts";

/** The addresses of one CTN on loopback. */
export interface DemoCtnAddresses {
  /** Network id (the cells' `network`). */
  readonly network: string;
  /** Its PoA. */
  readonly poa: string;
  /** Subnet, CIDR. */
  readonly subnet: string;
  /** Access router. */
  readonly ar: string;
  /** Configuration agent (embedded DHCP server). */
  readonly ca: string;
  /** Authentication agent (PANA PAA). */
  readonly aa: string;
  /** First and last address handed out. */
  readonly range: readonly [string, string];
}

/** The demo's address plan (see the module documentation). */
export interface DemoAddressPlan {
  /** The MN's network at the start. */
  readonly home: { readonly network: string; readonly poa: string; readonly oCoA: string };
  /** The two CTNs. */
  readonly ctns: readonly DemoCtnAddresses[];
  /** The correspondent node. */
  readonly cn: string;
}

/**
 * The address plan on 127.`net`.0.0/16.
 *
 * @param net the second octet, 0 to 255 (runs in parallel use different ones)
 * @returns the plan
 * @throws {RangeError} for `net` outside 0-255
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const plan = demoAddressPlan(0);
 * assertEquals(plan.home.oCoA, "127.0.1.10");
 * assertEquals(plan.ctns.map((c) => c.aa), ["127.0.2.3", "127.0.3.3"]);
 * assertEquals(demoAddressPlan(7).cn, "127.7.9.1");
 * ```
 */
export function demoAddressPlan(net: number): DemoAddressPlan {
  if (!Number.isInteger(net) || net < 0 || net > 255) {
    throw new RangeError(`Invalid demo network octet: ${net}`);
  }
  const ctn = (network: string, poa: string, third: number): DemoCtnAddresses => ({
    network,
    poa,
    subnet: `127.${net}.${third}.0/24`,
    ar: `127.${net}.${third}.1`,
    ca: `127.${net}.${third}.2`,
    aa: `127.${net}.${third}.3`,
    range: [`127.${net}.${third}.100`, `127.${net}.${third}.199`],
  });
  return {
    home: { network: "domainA", poa: "a1", oCoA: `127.${net}.1.10` },
    ctns: [ctn("domainB", "b1", 2), ctn("domainC", "c1", 3)],
    cn: `127.${net}.9.1`,
  };
}

/**
 * The demo's drive: three 20 dBm cells (path-loss exponent 3, coverage 215 m), a1 of
 * domainA at the start of the road, b1 of domainB on the road 420 m on, c1 of domainC
 * 260 m off the road; a car at 14-16 m/s for 32 s. Phase timings are loopback's.
 *
 * @returns the scenario (a fresh object)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const s = embeddedDemoScenario();
 * assertEquals(s.cells.map((c) => `${c.poa}:${c.network}`), ["a1:domainA", "b1:domainB", "c1:domainC"]);
 * ```
 */
export function embeddedDemoScenario(): Scenario {
  const n = 3;
  const coverage = Math.round(coverageRadius({ txPowerDbm: 20, pathLossExponent: n }));
  const cell = (poa: string, network: string, x: number, y: number) => ({
    poa,
    network,
    pos: { x, y },
    coverage,
    txPower: 20,
  });
  const profile = (network: string) => ({
    network,
    rttMs: 2,
    tpskMs: 2,
    tconfMs: 10,
    tbuMs: 10,
  });
  return {
    name: "embedded",
    description:
      "A car (~15 m/s) leaves a1 of domainA for b1 of domainB on the road, passing c1 of domainC off the road",
    cells: [
      cell("a1", "domainA", 0, 0),
      cell("b1", "domainB", 420, 0),
      cell("c1", "domainC", 380, 260),
    ],
    ctns: [profile("domainA"), profile("domainB"), profile("domainC")],
    durationS: 32,
    pathLossExponent: n,
    shadowingSigmaDb: 3,
    shadowingDecorrelationM: 50,
    mover: {
      kind: "drive",
      road: [{ x: 0, y: 15 }, { x: 1200, y: 15 }],
      speedRange: [14, 16],
      accel: 1,
    },
  };
}

/** The drive of one demo run: the samples to replay and the decisions they lead to. */
export interface DemoDrive {
  /** The scenario. */
  readonly scenario: Scenario;
  /** The samples up to the first switch between networks (all of them without one). */
  readonly samples: readonly LinkSample[];
  /** The decisions over those samples. */
  readonly decisions: readonly Decision[];
  /** The first switch between networks, if any. */
  readonly handover: SwitchDecision | undefined;
}

/**
 * Simulates the drive and cuts it at the first switch between networks: the demo
 * shows one MPA handover, not what the car does after it.
 *
 * @param seed the simulation seed
 * @returns the samples, the decisions and the handover
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const drive = await demoDrive(3);
 * assertEquals(drive.handover?.ctn, "domainB");
 * assertEquals(drive.decisions.at(-1)?.t, drive.handover?.t);
 * ```
 */
export async function demoDrive(seed: number): Promise<DemoDrive> {
  const scenario = embeddedDemoScenario();
  const options = { cells: scenario.cells, ctns: scenario.ctns };
  const trace = simulateTrace(scenario, { seed });
  const all = await lastValueFrom(decide(from(trace), options).pipe(toArray()));
  const handover = all.find((d): d is SwitchDecision =>
    d.kind === "switch" && d.ctn !== d.fromNetwork
  );
  const samples = handover === undefined ? trace : trace.filter((s) => s.t <= handover.t);
  const decisions = handover === undefined
    ? all
    : await lastValueFrom(decide(from(samples), options).pipe(toArray()));
  return { scenario, samples, decisions, handover };
}
