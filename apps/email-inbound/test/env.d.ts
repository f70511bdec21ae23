declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
    LOG_PROBE_URL: string;
    /** Test-only: the pipeline's tenant API, as the dashboard binds it. */
    PIPELINE_TENANT: Service<import("@concierge/core").TenantApi & Rpc.WorkerEntrypointBranded>;
    /** Test-only: the pipeline's billing API, as the dashboard's Razorpay webhook route binds it. */
    PIPELINE_BILLING: Service<import("@concierge/core").BillingApi & Rpc.WorkerEntrypointBranded>;
    /** The pipeline's D1, bound in tests only. */
    DB: D1Database;
  }
}

// Vite's raw imports: a file's text, bundled into the test (wrangler.jsonc, .dev.vars.example).
declare module "*?raw" {
  const text: string;
  export default text;
}
