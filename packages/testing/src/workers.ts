// Node-side helpers for vitest configs (not for code running in workerd).
import { execFileSync } from "node:child_process";
import path from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { TEST_SECRETS } from "./secrets.ts";

const appsDir = path.join(import.meta.dirname, "../../../apps");

/** Bundles an app exactly as `wrangler deploy` would, into apps/<name>/dist. */
export function buildApp(name: string): string {
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", "dist"], {
    cwd: path.join(appsDir, name),
    stdio: "pipe",
  });
  return path.join(appsDir, name, "dist/index.js");
}

/** Miniflare options from an app's real wrangler.jsonc (bindings, DOs, D1, services). */
export function appWorkerOptions(name: string) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(appsDir, name, "wrangler.jsonc"));
  // Bundled output needs no module rules; newer Miniflare refuses the option outright.
  const { modulesRules: _unused, ...options } = workerOptions as typeof workerOptions & {
    modulesRules?: unknown;
  };
  return options;
}

/**
 * The pipeline as an auxiliary Worker for another app's tests: its real config, bundled the way
 * `wrangler deploy` bundles it, talking to the sandbox's fake Graph API.
 */
export function pipelineAuxWorker(sandboxUrl: string) {
  const options = appWorkerOptions("pipeline");
  return {
    ...options,
    name: "pipeline",
    modules: true,
    scriptPath: buildApp("pipeline"),
    bindings: {
      ...options.bindings,
      META_GRAPH_BASE_URL: `${sandboxUrl}/graph/v24.0`,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
      WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
    },
  };
}

/** The pipeline's D1 database id, so a test can bind the same database to read what it wrote. */
export function pipelineDatabaseId(): string {
  return (appWorkerOptions("pipeline").d1Databases as Record<string, string>).DB!;
}
