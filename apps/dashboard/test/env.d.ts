declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
    /** Test-only: the pipeline's ingest API, as meta-webhooks and email-inbound bind it. */
    PIPELINE_INGEST: Service<import("@concierge/core").MetaIngestApi & Rpc.WorkerEntrypointBranded>;
  }
}

// Vite's raw imports: a file's text, bundled into the test (wrangler.jsonc, .dev.vars.example).
declare module "*?raw" {
  const text: string;
  export default text;
}
