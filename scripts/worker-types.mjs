#!/usr/bin/env node
// Generates (or with --check, verifies) each app's worker-configuration.d.ts with `wrangler types`.
// Apps that bind the pipeline are generated together with its config, so the binding is typed as
// the PipelineEntrypoint class itself and RPC calls are checked end to end.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const check = process.argv.includes("--check");
let failed = 0;
for (const app of readdirSync(join(root, "apps"))) {
  const dir = join(root, "apps", app);
  const config = join(dir, "wrangler.jsonc");
  if (!existsSync(config)) continue;
  const configs = ["-c", "wrangler.jsonc"];
  if (app !== "pipeline" && readFileSync(config, "utf8").includes('"service": "pipeline"')) {
    configs.push("-c", "../pipeline/wrangler.jsonc");
  }
  const args = ["types", ...configs, "--strict-vars=false", "--env-file", ".dev.vars.example"];
  if (check) args.push("--check");
  const r = spawnSync("wrangler", args, { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) {
    failed += 1;
    process.stderr.write(
      `${app}: worker-configuration.d.ts is ${check ? "out of date (run pnpm types)" : "not generated"}\n${r.stdout}${r.stderr}\n`,
    );
  } else if (!check) process.stdout.write(`${app}: types generated\n`);
}
process.exit(failed ? 1 : 0);
