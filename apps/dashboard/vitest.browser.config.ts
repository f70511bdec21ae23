import { defineConfig } from "vitest/config";

// Chromium (Debian's, through playwright-core) against the whole local stack: five Workers in one
// runtime and the sandbox, exactly as `npm start` runs them.
export default defineConfig({
  test: {
    include: ["test/browser/*.browser.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
