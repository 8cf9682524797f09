/**
 * `deno task fuzz [CASES] [SEED]`: runs the seeded mutation fuzzer over every codec
 * (default 1,000,000 cases each) and prints one line per codec; exit 1 on a failure.
 */
import { fuzz, fuzzTargets } from "./_fuzz.ts";

const cases = Number(Deno.args[0] ?? 1_000_000);
const seed = Number(Deno.args[1] ?? 1);
const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
let failed = false;
for (const target of await fuzzTargets(root)) {
  const start = performance.now();
  const r = fuzz(target, cases, seed);
  const s = ((performance.now() - start) / 1000).toFixed(1);
  console.log(
    `${
      r.name.padEnd(8)
    } ${r.cases} cases in ${s} s: ${r.decoded} decoded, ${r.refused} refused, ${r.failures.length} failures`,
  );
  for (const f of r.failures.slice(0, 5)) console.log(`  ${f.error}: ${f.input}`);
  if (r.failures.length > 0) failed = true;
}
Deno.exit(failed ? 1 : 0);
