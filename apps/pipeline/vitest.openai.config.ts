import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "../../packages/testing/src/secrets.ts";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
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
            // The fake Graph API of packages/sandbox, started in global-setup.ts.
            META_GRAPH_BASE_URL: `${inject("sandboxUrl")}/graph/v24.0`,
            SANDBOX_URL: inject("sandboxUrl"),
            ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
            WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
            DISCORD_API_BASE_URL: `${inject("sandboxUrl")}/discord/api/v10`,
            DISCORD_BOT_TOKEN: TEST_SECRETS.discordBotToken,
            TEST_MIGRATIONS: migrations,
            // Tests change config in D1 directly and expect the next message to see it.
            CONFIG_CACHE_MS: "0",
            AI_PROVIDER: "openai",
            OPENAI_BASE_URL: `${inject("sandboxUrl")}/openai/v1`,
          },
        },
      })),
    ],
    test: {
      // The AI path against the sandbox's fake OpenAI-compatible server, whose calls are timed.
      include: ["test/openai/**/*.test.ts"],
      globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
