// The pipeline's service binding, typed by its contract in packages/core: this Worker sees the
// email ingest API (the entrypoint its wrangler.jsonc names) and nothing else of the pipeline, and
// never type-checks the pipeline's source. Merged into the generated `Env` (worker-configuration.d.ts).
type PipelineBinding = Service<import("@concierge/core").EmailIngestApi & Rpc.WorkerEntrypointBranded>;

declare namespace Cloudflare {
  interface Env {
    PIPELINE: PipelineBinding;
  }
}
interface Env {
  PIPELINE: PipelineBinding;
}
