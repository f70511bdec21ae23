import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateDiscordKeyPair } from "../../packages/crypto/src/ed25519.ts";
import { TEST_SECRETS } from "../../packages/testing/src/secrets.ts";
import { pipelineAuxWorker, pipelineDatabaseId } from "../../packages/testing/src/workers.ts";

// The pipeline runs beside discord-interactions as an auxiliary Worker from its real config, so
// the service binding, the RPC entrypoint, D1 and the Durable Objects are the real thing. The
// application's Ed25519 key pair is made fresh for each run: the tests sign with its private half.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
  const keys = await generateDiscordKeyPair();
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            DISCORD_PUBLIC_KEY: keys.publicKeyHex,
            DISCORD_APPLICATION_ID: TEST_SECRETS.discordApplicationId,
            DISCORD_API_BASE_URL: `${inject("sandboxUrl")}/discord/api/v10`,
            TEST_DISCORD_PRIVATE_KEY: keys.privateKeyHex,
            SANDBOX_URL: inject("sandboxUrl"),
            TEST_MIGRATIONS: migrations,
          },
          // Test-only: the pipeline's database, to seed installs and relays and read their state.
          d1Databases: { DB: pipelineDatabaseId() },
          // Test-only: the ingest API, to bring customer messages in as the ingress Workers do.
          serviceBindings: { PIPELINE_INGEST: { name: "pipeline", entrypoint: "MetaIngestEntrypoint" } },
          workers: [pipelineAuxWorker(inject("sandboxUrl"))],
        },
      })),
    ],
    test: {
      globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
      // discord-api-types is CommonJS behind an ESM wrapper; pre-bundled, its enums load in workerd.
      deps: { optimizer: { ssr: { enabled: true, include: ["discord-api-types/v10"] } } },
    },
  };
});
