import { describe, expect, it } from "npm:vitest@4.1.12";
import { fuzz, fuzzTargets } from "./_fuzz.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const targets = await fuzzTargets(root);

describe("codec fuzzing (10,000 seeded mutants per codec; `deno task fuzz` runs 1,000,000)", () => {
  it.each(targets.map((t) => [t.name, t] as const))(
    "%s decodes or refuses with a typed error, and what decodes round-trips",
    (_name, target) => {
      expect(target.seeds.length).toBeGreaterThan(0);
      const report = fuzz(target, 10_000);
      expect(report.failures.slice(0, 3)).toEqual([]);
      expect(report.refused).toBeGreaterThan(0);
      expect(report.decoded + report.refused).toBe(10_000);
    },
    60_000,
  );
});
