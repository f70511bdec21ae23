// `npm test`: every check, then every test suite, then one line `N passed, N failed` computed
// from the runners' own JSON reports. Any failure, or any test skipped or left as todo, fails it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
const reports = path.join(root, ".local", "test-results");
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

function run(title: string, cmd: string, args: string[], cwd = root): boolean {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit" });
  return r.status === 0;
}

const failures: string[] = [];

// 1. Checks: formatting, lint, generated Worker types up to date, type-check every workspace.
for (const [title, cmd, args] of [
  ["format", "biome", ["format", "."]],
  ["lint", "biome", ["lint", "--error-on-warnings", "."]],
  ["generated worker types", "node", ["scripts/worker-types.mjs", "--check"]],
  ["type-check", "turbo", ["run", "typecheck", "--output-logs=errors-only"]],
] as const) {
  if (!run(title, cmd, [...args])) failures.push(title);
}

// 2. Test suites: pure packages in Node, Workers in workerd, then the multi-Worker end to end.
const suites: string[] = [];
for (const group of ["packages", "apps"]) {
  for (const name of readdirSync(path.join(root, group)).sort()) {
    const pkg = path.join(root, group, name, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).scripts?.test)
      suites.push(`${group}/${name}`);
  }
}
suites.push("e2e");

let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of suites) {
  const out = path.join(reports, `${suite.replace("/", "__")}.json`);
  const ok = run(
    `tests: ${suite}`,
    "vitest",
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`],
    path.join(root, suite),
  );
  if (!existsSync(out)) {
    failures.push(`${suite} (no report: the runner did not finish)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(out, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    numTotalTests: number;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  if (!ok) failures.push(`tests: ${suite}`);
  if (report.numTotalTests === 0) failures.push(`tests: ${suite} ran no test`);
}

if (skipped > 0) failures.push(`${skipped} test(s) skipped or todo: nothing may be skipped`);
if (failures.length > 0) console.log(`\nFAILED: ${failures.join("; ")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failures.length > 0 ? 1 : 0);
