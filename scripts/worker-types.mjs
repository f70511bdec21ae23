#!/usr/bin/env node
// Generates (or with --check, verifies) the Workers' TypeScript types with `wrangler types`:
// - the runtime's types once, in types/worker-runtime.d.ts (every app shares one compatibility
//   date and flags, which this script checks, so one file serves all of them);
// - each app's own bindings in apps/<app>/worker-configuration.d.ts, without the runtime.
// A service binding to the pipeline is typed by the app itself from the contracts in
// packages/core (each app's src/pipeline-binding.d.ts), so no app's types import another's source.
// Options: --check (fail on stale or missing files), --root DIR (another checkout, for tests).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
const check = args.includes("--check");
const rootArg = args.indexOf("--root");
const root = rootArg >= 0 ? args[rootArg + 1] : join(import.meta.dirname, "..");
const wrangler = join(import.meta.dirname, "..", "node_modules", ".bin", "wrangler");

function wranglerTypes(cwd, extra, label) {
  const r = spawnSync(wrangler, ["types", ...extra, ...(check ? ["--check"] : [])], {
    cwd,
    encoding: "utf8",
  });
  if (r.status === 0) {
    if (!check) process.stdout.write(`${label}: types generated\n`);
    return true;
  }
  process.stderr.write(
    `${label}: ${check ? "out of date (run pnpm types)" : "not generated"}\n${r.stdout}${r.stderr}\n`,
  );
  return false;
}

// The compatibility settings that decide the runtime's types, read from the JSONC (comments out).
function compatibility(config) {
  const text = readFileSync(config, "utf8").replace(/^\s*\/\/.*$/gm, "");
  const date = /"compatibility_date"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? null;
  const flags = /"compatibility_flags"\s*:\s*(\[[^\]]*\])/.exec(text)?.[1]?.replace(/\s/g, "") ?? "[]";
  return `${date} ${flags}`;
}

let failed = 0;
const apps = readdirSync(join(root, "apps")).filter((a) =>
  existsSync(join(root, "apps", a, "wrangler.jsonc")),
);
const settings = new Set(apps.map((a) => compatibility(join(root, "apps", a, "wrangler.jsonc"))));
if (settings.size !== 1) {
  failed += 1;
  process.stderr.write(
    `apps disagree on compatibility_date / compatibility_flags (${[...settings].join(" | ")}): one runtime types file cannot serve them\n`,
  );
}

// The runtime's types, from the first app's config (they all agree).
const first = join(root, "apps", apps[0], "wrangler.jsonc");
const runtimeFile = join(root, "types", "worker-runtime.d.ts");
if (
  !wranglerTypes(
    root,
    ["-c", relative(root, first), "--include-env=false", relative(root, runtimeFile)],
    "runtime",
  )
)
  failed += 1;

for (const app of apps) {
  const dir = join(root, "apps", app);
  const env = existsSync(join(dir, ".dev.vars.example")) ? ["--env-file", ".dev.vars.example"] : [];
  const ok = wranglerTypes(
    dir,
    ["-c", "wrangler.jsonc", "--include-runtime=false", "--strict-vars=false", ...env],
    app,
  );
  if (!ok) failed += 1;
}
process.exit(failed ? 1 : 0);
