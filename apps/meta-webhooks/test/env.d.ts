declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
    /** Test-only: the pipeline's tenant API, to connect accounts as the dashboard does. */
    PIPELINE_TENANT: Service<import("@concierge/core").TenantApi & Rpc.WorkerEntrypointBranded>;
    /** The pipeline's D1, bound in tests only. */
    DB: D1Database;
  }
}

// Vite's raw imports: a file's text, bundled into the test (wrangler.jsonc, .dev.vars.example).
declare module "*?raw" {
  const text: string;
  export default text;
}
