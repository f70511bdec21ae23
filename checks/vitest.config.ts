import { defineConfig } from "vitest/config";

// Plain Node: the checks read the tree; the Worker-types check runs wrangler, which takes seconds.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
