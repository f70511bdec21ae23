// `npm test`: every check, then every test suite, then the screenshots of every page, then one line
// `N passed, N failed` computed from the runners' own JSON reports. Any failure, or any test
// skipped or left as todo, fails it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
const reports = path.join(root, ".local", "test-results");
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

function run(
  title: string,
  cmd: string,
  args: string[],
  cwd = root,
  opts: { timeout?: number } = {},
): boolean {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, {
    cwd,
    stdio: "inherit",
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
  });
  if (r.error) process.stdout.write(`${title}: ${r.error.message}\n`);
  return r.status === 0;
}

const failures: string[] = [];
// Each check (format, lint, types, type-check) counts as one result in the summary line.
let checksPassed = 0;
let checksFailed = 0;

// The browser tests drive Debian's Chromium; install it when it is missing and we may (root).
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium) && process.getuid?.() === 0) {
  run("install chromium (browser tests)", "sh", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
  ]);
}

// 1. Checks: formatting, lint, generated messages, type-check every workspace. (Generated Worker
// types, app boundaries, import circles and SQL placement are tests of their own in checks/.)
for (const [title, cmd, args] of [
  ["format", "biome", ["format", "."]],
  ["lint", "biome", ["lint", "--error-on-warnings", "."]],
  ["generated messages (Fluent)", "node", ["packages/i18n/scripts/generate.mjs", "--check"]],
  ["type-check", "turbo", ["run", "typecheck", "--output-logs=errors-only"]],
] as const) {
  if (run(title, cmd, [...args])) checksPassed += 1;
  else {
    checksFailed += 1;
    failures.push(title);
  }
}

// 2. Test suites: pure packages in Node, Workers in workerd, then the multi-Worker end to end.
// The architecture checks (checks/: boundaries, circles, SQL, Worker types) first, then the rest.
const suites: string[] = ["checks"];
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
// A suite may have extra configurations (vitest.<name>.config.ts), e.g. another AI provider.
const runs: { suite: string; config: string | null }[] = [];
for (const suite of suites) {
  runs.push({ suite, config: null });
  for (const f of readdirSync(path.join(root, suite)).sort()) {
    if (/^vitest\.[\w-]+\.config\.ts$/.test(f)) runs.push({ suite, config: f });
  }
}

for (const { suite, config } of runs) {
  const name = `${suite.replace("/", "__")}${config ? `__${config.split(".")[1]}` : ""}`;
  const out = path.join(reports, `${name}.json`);
  const args = ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${out}`];
  if (config) args.push("--config", config);
  const title = `tests: ${suite}${config ? ` (${config})` : ""}`;
  const ok = run(title, "vitest", args, path.join(root, suite));
  if (!existsSync(out)) {
    failures.push(`${title} (no report: the runner did not finish)`);
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
  if (!ok) {
    failures.push(title);
    // The runner failed although no test did (an unhandled error, a crashed pool): count it.
    if (report.numFailedTests === 0) failed += 1;
  }
  if (report.numTotalTests === 0) {
    failures.push(`${title} ran no test`);
    failed += 1;
  }
}

// 3. Screenshots (`npm run screenshots`): every public, dashboard and operator page in Chromium at
// 1280×800 and 375×812, failing on horizontal scrolling or hidden, cut-off or covered navigation.
// It runs after every suite, so its local stack (on free ports of its own, on a throwaway state
// directory it removes, stopped before it exits) never runs beside the e2e or browser suites'
// stacks. It counts as one result, like a check.
const screenshotsStart = Date.now();
const screenshotsOk = run(
  "screenshots (every page at 1280 and 375 px)",
  "node",
  ["scripts/screenshots.ts"],
  root,
  {
    // A hung browser or stack fails the run instead of holding it forever.
    timeout: 15 * 60_000,
  },
);
process.stdout.write(`screenshots: ${((Date.now() - screenshotsStart) / 1000).toFixed(1)} s\n`);
if (screenshotsOk) checksPassed += 1;
else {
  checksFailed += 1;
  failures.push("screenshots");
}

if (skipped > 0) failures.push(`${skipped} test(s) skipped or todo: nothing may be skipped`);
if (failures.length > 0) console.log(`\nFAILED: ${failures.join("; ")}`);
const summary = `${passed + checksPassed} passed, ${failed + checksFailed} failed${skipped ? `, ${skipped} skipped` : ""}`;
writeFileSync(path.join(reports, "summary.txt"), `${summary}\n`);
console.log(`\n${summary}`);
process.exit(failures.length > 0 ? 1 : 0);
