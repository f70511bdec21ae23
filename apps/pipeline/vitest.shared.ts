import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "../../packages/testing/src/secrets.ts";

/**
 * The pipeline under test in workerd, from its real wrangler.jsonc, with the sandbox (started in
 * the global setup) as Meta, Discord, Cloudflare, Razorpay and, for `ai: "openai"`, an
 * OpenAI-compatible model server.
 */
export function pipelineTestConfig(opts: {
  ai: "offline" | "openai";
  include?: string[];
  exclude?: string[];
}) {
  return defineConfig(async () => {
    const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
    return {
      plugins: [
        cloudflareTest(({ inject }) => {
          const sandbox = String(inject("sandboxUrl"));
          return {
            wrangler: { configPath: "./wrangler.jsonc" },
            remoteBindings: false,
            miniflare: {
              // Deliver queue messages at once instead of waiting to fill a batch.
              queueConsumers: {
                "concierge-safety": {
                  maxBatchTimeout: 0.05,
                  maxRetries: 3,
                  deadLetterQueue: "concierge-safety-dlq",
                },
                "concierge-safety-dlq": { maxBatchTimeout: 0.05, maxRetries: 3 },
              },
              bindings: {
                META_GRAPH_BASE_URL: `${sandbox}/graph/v24.0`,
                DISCORD_API_BASE_URL: `${sandbox}/discord/api/v10`,
                SANDBOX_URL: sandbox,
                EMAIL_OUTBOX_URL: `${sandbox}/email/outbox`,
                CLOUDFLARE_API_BASE_URL: `${sandbox}/cloudflare/client/v4`,
                CLOUDFLARE_ZONE_ID: "0000000000000000000000000000c0de",
                CLOUDFLARE_API_TOKEN: TEST_SECRETS.cloudflareApiToken,
                DASHBOARD_URL: "https://dash.test",
                ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
                WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
                FACEBOOK_APP_ID: TEST_SECRETS.facebookAppId,
                META_APP_SECRET: TEST_SECRETS.metaAppSecret,
                DISCORD_BOT_TOKEN: TEST_SECRETS.discordBotToken,
                DISCORD_CLIENT_ID: TEST_SECRETS.discordApplicationId,
                DISCORD_CLIENT_SECRET: TEST_SECRETS.discordClientSecret,
                TEST_MIGRATIONS: migrations,
                // Tests change config in D1 directly and expect the next message to see it.
                CONFIG_CACHE_MS: "0",
                // Small chunks, so the deletion and retention tests see several of them.
                DELETION_CHUNK_ROWS: "500",
                DELETION_PURGES_PER_RUN: "400",
                RETENTION_CHUNK_ROWS: "200",
                AI_PROVIDER: opts.ai,
                OPENAI_BASE_URL: `${sandbox}/openai/v1`,
                RAZORPAY_API_BASE_URL: `${sandbox}/razorpay/v1`,
                RAZORPAY_KEY_ID: TEST_SECRETS.razorpayKeyId,
                RAZORPAY_KEY_SECRET: TEST_SECRETS.razorpayKeySecret,
              },
            },
          };
        }),
      ],
      test: {
        ...(opts.include ? { include: opts.include } : {}),
        ...(opts.exclude ? { exclude: opts.exclude } : {}),
        globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"],
        setupFiles: ["./test/setup.ts"],
        testTimeout: 20_000,
      },
    };
  });
}
