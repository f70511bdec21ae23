import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "../../packages/testing/src/secrets.ts";
import { pipelineAuxWorker, pipelineDatabaseId } from "../../packages/testing/src/workers.ts";

// The pipeline runs beside meta-webhooks as an auxiliary Worker from its real config, so the
// service binding, the RPC entrypoint, D1 and the Durable Object are the real thing.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            META_APP_SECRET: TEST_SECRETS.metaAppSecret,
            WHATSAPP_VERIFY_TOKEN: TEST_SECRETS.whatsappVerifyToken,
            SANDBOX_URL: inject("sandboxUrl"),
            TEST_MIGRATIONS: migrations,
          },
          // Test-only: the pipeline's database, to seed it and to read the metadata it writes.
          d1Databases: { DB: pipelineDatabaseId() },
          // Test-only: the tenant API, to connect Instagram accounts as the dashboard does.
          serviceBindings: { PIPELINE_TENANT: { name: "pipeline", entrypoint: "TenantEntrypoint" } },
          workers: [pipelineAuxWorker(inject("sandboxUrl"))],
        },
      })),
    ],
    test: {
      globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
