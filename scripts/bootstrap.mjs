#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run bench` on a fresh clone.
// It runs on whatever Node the machine has (20 or newer), installs the workspace with pnpm when
// anything is missing or the lockfile changed, then hands over to pnpm, whose scripts run on the
// Node 22 binary the root devDependency `node` puts first on PATH.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split(
  "@",
)[1];
const bin = join(root, "node_modules", ".bin");
const stamp = join(root, "node_modules", ".concierge-install");

const tasks = {
  start: ["run", "dev"],
  test: ["run", "test:ci"],
  bench: ["run", "bench:run"],
  screenshots: ["run", "screenshots:run"],
};

function run(cmd, args, extraEnv = {}) {
  const env = { ...process.env, ...extraEnv, PATH: `${bin}:${process.env.PATH}` };
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function installFingerprint() {
  const h = createHash("sha256");
  for (const f of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "package.json"]) {
    const p = join(root, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest("hex");
}

function ensureInstalled() {
  const want = installFingerprint();
  const have = existsSync(stamp) ? readFileSync(stamp, "utf8") : "";
  if (have === want && existsSync(join(bin, "pnpm")) && existsSync(join(bin, "node"))) return;
  const frozen = existsSync(join(root, "pnpm-lock.yaml")) && process.env.CI ? ["--frozen-lockfile"] : [];
  // corepack cannot fetch pnpm here, so pnpm itself comes from the npm registry through npx.
  const status = run("npx", ["--yes", `pnpm@${PNPM_VERSION}`, "install", ...frozen]);
  if (status !== 0) {
    process.stderr.write("bootstrap: pnpm install failed\n");
    process.exit(status);
  }
  writeFileSync(stamp, installFingerprint());
}

const task = process.argv[2];
if (!tasks[task]) {
  process.stderr.write(`usage: bootstrap.mjs ${Object.keys(tasks).join("|")}\n`);
  process.exit(2);
}
ensureInstalled();
process.exit(run(join(bin, "pnpm"), [...tasks[task], ...process.argv.slice(3)]));
