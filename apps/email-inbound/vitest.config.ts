import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { pipelineAuxWorker, pipelineDatabaseId } from "../../packages/testing/src/workers.ts";

// The pipeline runs beside email-inbound as an auxiliary Worker from its real config, so the
// service binding, the RPC entrypoint, D1 and the Durable Object are the real thing; its mail goes
// to the sandbox's outbox, where the tests read it.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => {
        const pipeline = pipelineAuxWorker(inject("sandboxUrl"));
        return {
          wrangler: { configPath: "./wrangler.jsonc" },
          remoteBindings: false,
          miniflare: {
            bindings: {
              SANDBOX_URL: inject("sandboxUrl"),
              LOG_PROBE_URL: inject("logProbeUrl"),
              TEST_MIGRATIONS: migrations,
            },
            // Test-only: the pipeline's database, to seed configuration and read the metadata.
            d1Databases: { DB: pipelineDatabaseId() },
            // Test-only: the tenant API, for a person's reply as the dashboard sends it, and the
            // billing API, for Razorpay's subscription webhooks as the dashboard hands them over.
            serviceBindings: {
              PIPELINE_TENANT: { name: "pipeline", entrypoint: "TenantEntrypoint" },
              PIPELINE_BILLING: { name: "pipeline", entrypoint: "BillingEntrypoint" },
            },
            workers: [
              {
                ...pipeline,
                bindings: {
                  ...pipeline.bindings,
                  EMAIL_OUTBOX_URL: `${inject("sandboxUrl")}/email/outbox`,
                  // Tests change a subdomain's routing between mails: no stale config.
                  CONFIG_CACHE_MS: "0",
                },
              },
            ],
          },
        };
      }),
    ],
    test: {
      globalSetup: ["../../packages/sandbox/src/vitest-setup.ts", "./test/log-probe.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
