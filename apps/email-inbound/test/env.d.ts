declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
    LOG_PROBE_URL: string;
    /** The pipeline's D1, bound in tests only. */
    DB: D1Database;
  }
}
