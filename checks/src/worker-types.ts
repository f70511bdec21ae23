// Check 4: generated Worker types are up to date. The generator is scripts/worker-types.mjs; its `--check --root DIR` mode runs `wrangler types --check` over the runtime types and
// every app of another checkout, so the test runs the very same check on the repository and on a
// copy with a stale app.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./tree.ts";

export type WorkerTypesCheck = { ok: boolean; output: string };

export function checkWorkerTypes(root: string = REPO_ROOT): WorkerTypesCheck {
  const script = path.join(REPO_ROOT, "scripts", "worker-types.mjs");
  const r = spawnSync(process.execPath, [script, "--check", "--root", root], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CI: "true" },
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}
