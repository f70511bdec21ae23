// The dashboard's own configuration, by name only, for the platform health page. Values are never
// read out, only whether each one is there: a binding present, a var or secret non-empty. The lists
// hold every name of wrangler.jsonc and .dev.vars.example (test/manage-health.test.ts compares
// them), so a new binding or secret cannot go unreported.
import { type ConfigNames, configReport, isConfigSet, type WorkerConfigReport } from "@concierge/core";

/** What the dashboard cannot do its job without, in production. */
export const DASHBOARD_REQUIRED = [
  // Bindings.
  "DB",
  "KV",
  "ASSETS",
  "PIPELINE",
  "BILLING",
  "OPERATOR",
  "META_WEBHOOKS",
  // The public live demo: the pipeline's demo API and the per-visitor burst limit before it.
  "DEMO",
  "DEMO_RATE_LIMIT",
  // The dashboard's own limits (src/rate-limits.ts): sign-in, verification mails, self-tests,
  // the rules test panel, persona saves, the live inbox's actions.
  "SIGN_IN_RATE_LIMIT",
  "VERIFY_MAIL_RATE_LIMIT",
  "SELF_TEST_RATE_LIMIT",
  "TEST_PANEL_RATE_LIMIT",
  "PERSONA_SAVE_RATE_LIMIT",
  "INBOX_ACTION_RATE_LIMIT",
  // The health page's view of the other Workers' configuration.
  "HEALTH_META_WEBHOOKS",
  "HEALTH_EMAIL_INBOUND",
  "HEALTH_DISCORD",
  // The operator panel's Cloudflare Access application (without them /manage refuses everyone).
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
  "ENVIRONMENT",
  // Google sign-in, the way in for every tenant.
  "GOOGLE_OAUTH_BASE_URL",
  "GOOGLE_CLIENT_ID",
  "GOOGLE_CLIENT_SECRET",
  // Meta's signed data-deletion requests are checked with the app secret.
  "META_APP_SECRET",
  // Credit packs and the subdomain plan are paid through Razorpay; its webhooks are signed.
  "RAZORPAY_KEY_ID",
  "RAZORPAY_WEBHOOK_SECRET",
  "RAZORPAY_CHECKOUT_URL",
  "RAZORPAY_HOSTED_CHECKOUT_URL",
] as const;

/** What only turns a feature on: without it the dashboard hides that feature and works on. */
export const DASHBOARD_OPTIONAL = [
  // Facebook Login and Instagram connection.
  "FACEBOOK_APP_ID",
  "META_DIALOG_BASE_URL",
  "META_GRAPH_BASE_URL",
  // WhatsApp Embedded Signup (the manual connection works without it).
  "WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID",
  "FACEBOOK_SDK_URL",
  // "Add to Discord".
  "DISCORD_AUTHORIZE_URL",
  "DISCORD_CLIENT_ID",
] as const;

export const DASHBOARD_CONFIG: ConfigNames = { required: DASHBOARD_REQUIRED, optional: DASHBOARD_OPTIONAL };

export type ConfigItem = { name: string; required: boolean; set: boolean };

/** Every required and optional name with whether it is set; required ones first. */
export function dashboardConfig(env: Env): ConfigItem[] {
  return [
    ...DASHBOARD_REQUIRED.map((name) => ({ name, required: true, set: isConfigSet(env, name) })),
    ...DASHBOARD_OPTIONAL.map((name) => ({ name, required: false, set: isConfigSet(env, name) })),
  ];
}

/** The same, as every Worker reports it on the health page. */
export function dashboardConfigReport(env: Env): WorkerConfigReport {
  return configReport("dashboard", env, DASHBOARD_CONFIG);
}
