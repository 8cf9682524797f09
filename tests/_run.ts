/**
 * The `deno task test` runner: caches every npm package the tests import
 * (`deno install --entrypoint`), runs vitest 4.1 on Deno with the default and JSON
 * reporters, and ends with one line `N passed, N failed` from the JSON report.
 *
 * Extra arguments are passed to vitest (e.g. a file filter).
 */
const deno = Deno.execPath();
const root = new URL("..", import.meta.url).pathname;

async function testFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await testFiles(path));
    else if (entry.name.endsWith(".test.ts")) out.push(path);
  }
  return out.sort();
}

async function run(args: string[]): Promise<number> {
  const child = new Deno.Command(deno, { args, cwd: root, stdout: "inherit", stderr: "inherit" })
    .spawn();
  return (await child.status).code;
}

const files = await testFiles(`${root}tests`);
const installCode = await run([
  "install",
  "--quiet",
  "--entrypoint",
  "mod.ts",
  "vitest.config.ts",
  ...files.map((f) => f.slice(root.length)),
]);
if (installCode !== 0) {
  console.error(
    "deno install failed: the lockfile may need updating (deno install --frozen=false)",
  );
  Deno.exit(installCode);
}

const report = await Deno.makeTempFile({ prefix: "mpa-vitest-", suffix: ".json" });
const code = await run([
  "run",
  "-A",
  "--unstable-kv",
  "npm:vitest@4.1.12",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...Deno.args,
]);
let passed = 0;
let failed = 0;
try {
  const json = JSON.parse(await Deno.readTextFile(report)) as {
    numPassedTests: number;
    numFailedTests: number;
    numFailedTestSuites: number;
  };
  passed = json.numPassedTests;
  // A suite that fails to load has no tests; count it as a failure so it is seen.
  failed = json.numFailedTests + (json.numFailedTests === 0 ? json.numFailedTestSuites : 0);
} catch (error) {
  console.error(`Cannot read the vitest JSON report: ${(error as Error).message}`);
  failed = Math.max(1, failed);
} finally {
  await Deno.remove(report).catch(() => {});
}
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code !== 0 || failed > 0 ? 1 : 0);
