// Bindings of the test-only Worker (test/wrangler.jsonc) plus what vitest.config.ts injects.
declare namespace Cloudflare {
  interface Env {
    DB: D1Database;
    /** Empty until a test migrates it (migration tests). */
    MIGRATION_DB: D1Database;
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
