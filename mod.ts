/**
 * mpa: Media-independent Pre-Authentication (RFC 6252) for Deno — the pure core.
 *
 * Link samples flow through rxjs operators into pure reducers that decide when to
 * pre-authenticate with which candidate target networks, when to pre-configure,
 * when to send the proactive binding update and when to switch. Importing this
 * module needs no permissions; adapters with I/O live on their own subpaths.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { from, lastValueFrom, toArray } from "npm:rxjs@^7.8.2";
 * import { decide } from "./mod.ts";
 * const samples = [];
 * for (let t = 0; t <= 3000; t += 100) {
 *   samples.push({ t, poa: "a1", network: "A", snr: 30 - t / 100 });
 *   samples.push({ t, poa: "b1", network: "B", snr: 5 + t / 100 });
 * }
 * const decisions = await lastValueFrom(decide(from(samples)).pipe(toArray()));
 * assertEquals(decisions.some((d) => d.kind === "switch" && d.poa === "b1"), true);
 * ```
 *
 * @module
 */
export * from "./lib/errors.ts";
export * from "./lib/metrics/mod.ts";
export * from "./lib/operators/mod.ts";
export * from "./lib/decision/mod.ts";
export * from "./lib/ports.ts";
export * from "./lib/wire/mod.ts";
export * from "./lib/keys/mod.ts";
export * from "./lib/eap/mod.ts";
export * from "./lib/pana/mod.ts";
export * from "./lib/pht/mod.ts";
export * from "./lib/autoconf/mod.ts";
export * from "./lib/mip6/mod.ts";
export * from "./lib/mpa/mod.ts";
export * from "./lib/sip/mod.ts";
export * from "./lib/config/mod.ts";
export * from "./lib/observe/mod.ts";

if (import.meta.main) {
  const { main } = await import("./adapters/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
