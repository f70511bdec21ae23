declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    TEST_DISCORD_PRIVATE_KEY: string;
    SANDBOX_URL: string;
    DB: D1Database;
  }
}
