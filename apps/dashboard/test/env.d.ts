declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SANDBOX_URL: string;
    /** Test-only: the pipeline's ingest API, as meta-webhooks and email-inbound bind it. */
    PIPELINE_INGEST: Service<import("@concierge/core").MetaIngestApi & Rpc.WorkerEntrypointBranded>;
  }
}
