import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { pipelineAuxWorker } from "../../packages/testing/src/workers.ts";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.jsonc" },
      remoteBindings: false,
      miniflare: { workers: [pipelineAuxWorker(inject("sandboxUrl"))] },
    })),
  ],
  test: { globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"] },
});
