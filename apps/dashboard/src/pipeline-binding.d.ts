// The pipeline's service bindings, typed by their contracts in packages/core: this Worker sees the
// tenant API, the billing API, the operator API and the demo API (the entrypoints its
// wrangler.jsonc names) and nothing else of the pipeline, and never type-checks the pipeline's
// source. Merged into the generated `Env` (worker-configuration.d.ts).
type PipelineBinding = Service<import("@concierge/core").TenantApi & Rpc.WorkerEntrypointBranded>;
/** Only the Razorpay webhook route uses it (src/pages/razorpay-webhook.ts). */
type BillingBinding = Service<import("@concierge/core").BillingApi & Rpc.WorkerEntrypointBranded>;
/** Only the /manage routes use it, after Cloudflare Access let the operator in (src/access.ts). */
type OperatorBinding = Service<import("@concierge/core").OperatorApi & Rpc.WorkerEntrypointBranded>;
/** Only the public live demo uses it (src/demo/routes.ts): no session, no tenant. */
type DemoBinding = Service<import("@concierge/core").DemoApi & Rpc.WorkerEntrypointBranded>;
/**
 * Only the platform health page uses them (src/manage/health.ts): each other Worker's
 * HealthEntrypoint, whose one method reports its configuration by name.
 */
type HealthBinding = Service<import("@concierge/core").HealthApi & Rpc.WorkerEntrypointBranded>;

declare namespace Cloudflare {
  interface Env {
    PIPELINE: PipelineBinding;
    BILLING: BillingBinding;
    OPERATOR: OperatorBinding;
    DEMO: DemoBinding;
    HEALTH_META_WEBHOOKS: HealthBinding;
    HEALTH_EMAIL_INBOUND: HealthBinding;
    HEALTH_DISCORD: HealthBinding;
  }
}
interface Env {
  PIPELINE: PipelineBinding;
  BILLING: BillingBinding;
  OPERATOR: OperatorBinding;
  DEMO: DemoBinding;
  HEALTH_META_WEBHOOKS: HealthBinding;
  HEALTH_EMAIL_INBOUND: HealthBinding;
  HEALTH_DISCORD: HealthBinding;
}
