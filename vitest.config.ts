/**
 * Vitest configuration. Sources import npm packages with full `npm:` specifiers
 * (so that `mod.ts` works when imported by URL); vitest runs on Deno's Node
 * compatibility layer and resolves bare package names from `node_modules`, so a
 * small plugin maps `npm:name@range/sub` to `name/sub`.
 */
import { defineConfig, type Plugin } from "npm:vitest@4.1.12/config";

/** Maps an `npm:` specifier to the bare package name Node resolution expects. */
export function npmSpecifier(id: string): string | undefined {
  if (!id.startsWith("npm:")) return undefined;
  const rest = id.slice(4).replace(/^\//, "");
  const scoped = rest.startsWith("@");
  const parts = rest.split("/");
  const nameParts = scoped ? parts.slice(0, 2) : parts.slice(0, 1);
  const sub = parts.slice(nameParts.length);
  const last = nameParts.length - 1;
  const at = nameParts[last]!.lastIndexOf("@");
  if (at > 0) nameParts[last] = nameParts[last]!.slice(0, at);
  return [...nameParts, ...sub].join("/");
}

const npmResolve: Plugin = {
  name: "mpa-npm-specifiers",
  enforce: "pre",
  resolveId(id, importer) {
    const bare = npmSpecifier(id);
    if (bare === undefined) return null;
    return this.resolve(bare, importer, { skipSelf: true });
  },
};

export default defineConfig({
  plugins: [npmResolve],
  test: {
    include: ["tests/**/*.test.ts"],
    pool: "forks",
    // Network-namespace tests wait on the kernel (DAD takes 1-2 s) and on child
    // processes; on a loaded CI machine the 5 s default is too tight. Tests that need
    // more say so themselves.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
