import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["*.e2e.test.ts"],
    // Each file starts its own stack (five Workers and the sandbox); one at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // A teardown (the stack's dispose) that does not end is cut short rather than waited on.
    teardownTimeout: 30_000,
    // Fetch time limits and a per-file watchdog that survives a blocked main thread (setup.ts).
    setupFiles: ["./setup.ts"],
  },
});
