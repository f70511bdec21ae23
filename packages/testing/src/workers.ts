// Node-side helpers for vitest configs (not for code running in workerd).
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { TEST_SECRETS } from "./secrets.ts";

const appsDir = path.join(import.meta.dirname, "../../../apps");

export const APPS = [
  "pipeline",
  "meta-webhooks",
  "email-inbound",
  "discord-interactions",
  "dashboard",
] as const;
export type AppName = (typeof APPS)[number];

// Each build gets its own directory, so test runs and a running `npm start` never overwrite
// each other's bundles.
function outdir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `concierge-${name}-`));
}

/** Bundles an app exactly as `wrangler deploy` would; returns the entry module's path. */
export function buildApp(name: string): string {
  const out = outdir(name);
  execFileSync("wrangler", ["deploy", "--dry-run", "--outdir", out], {
    cwd: path.join(appsDir, name),
    stdio: "pipe",
  });
  return path.join(out, "index.js");
}

export async function buildAppAsync(name: string): Promise<string> {
  const out = outdir(name);
  await promisify(execFile)("wrangler", ["deploy", "--dry-run", "--outdir", out], {
    cwd: path.join(appsDir, name),
  });
  return path.join(out, "index.js");
}

export function appDir(name: string): string {
  return path.join(appsDir, name);
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
  const script = buildApp("pipeline");
  return {
    ...options,
    name: "pipeline",
    modules: true,
    scriptPath: script,
    // Module names resolve under this root; the bundle lives in its own build directory.
    modulesRoot: path.dirname(script),
    bindings: {
      ...(options.bindings as Record<string, unknown> | undefined),
      META_GRAPH_BASE_URL: `${sandboxUrl}/graph/v24.0`,
      ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
      WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
      FACEBOOK_APP_ID: TEST_SECRETS.facebookAppId,
      META_APP_SECRET: TEST_SECRETS.metaAppSecret,
      AI_PROVIDER: "offline",
      DISCORD_API_BASE_URL: `${sandboxUrl}/discord/api/v10`,
      DISCORD_BOT_TOKEN: TEST_SECRETS.discordBotToken,
      DISCORD_CLIENT_ID: TEST_SECRETS.discordApplicationId,
      DISCORD_CLIENT_SECRET: TEST_SECRETS.discordClientSecret,
      EMAIL_OUTBOX_URL: `${sandboxUrl}/email/outbox`,
      CLOUDFLARE_API_BASE_URL: `${sandboxUrl}/cloudflare/client/v4`,
      CLOUDFLARE_ZONE_ID: TEST_CLOUDFLARE_ZONE_ID,
      CLOUDFLARE_API_TOKEN: TEST_SECRETS.cloudflareApiToken,
      DASHBOARD_URL: "https://dash.test",
      RAZORPAY_API_BASE_URL: `${sandboxUrl}/razorpay/v1`,
      RAZORPAY_KEY_ID: TEST_SECRETS.razorpayKeyId,
      RAZORPAY_KEY_SECRET: TEST_SECRETS.razorpayKeySecret,
    },
  };
}

/** The Cloudflare zone the tests provision email subdomains in (the sandbox accepts any). */
export const TEST_CLOUDFLARE_ZONE_ID = "0000000000000000000000000000c0de";

/** The pipeline's D1 database id, so a test can bind the same database to read what it wrote. */
export function pipelineDatabaseId(): string {
  return (appWorkerOptions("pipeline").d1Databases as Record<string, string>).DB!;
}

/**
 * meta-webhooks as an auxiliary Worker (the dashboard's self-test posts through it): its real
 * config, bundled as deployed, verifying with the test app secret and ingesting into "pipeline".
 */
export function metaWebhooksAuxWorker() {
  const options = appWorkerOptions("meta-webhooks");
  const script = buildApp("meta-webhooks");
  return {
    ...options,
    name: "meta-webhooks",
    modules: true,
    scriptPath: script,
    modulesRoot: path.dirname(script),
    bindings: {
      ...(options.bindings as Record<string, unknown> | undefined),
      META_APP_SECRET: TEST_SECRETS.metaAppSecret,
      WHATSAPP_VERIFY_TOKEN: TEST_SECRETS.whatsappVerifyToken,
    },
  };
}
