import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { accessTeamDomain, TEST_ACCESS_AUD } from "../../packages/testing/src/access.ts";
import { TEST_SECRETS } from "../../packages/testing/src/secrets.ts";
import { metaWebhooksAuxWorker, pipelineAuxWorker } from "../../packages/testing/src/workers.ts";
import { DEMO_TEST_RATE_LIMIT } from "./test/demo-rate-limit.ts";
import { TEST_RATE_LIMITS } from "./test/rate-limits.ts";

/** A stand-in for a Worker these tests do not run: its HealthEntrypoint answers with an error. */
function notRunningHere(name: string) {
  return {
    name,
    modules: true,
    compatibilityDate: "2026-11-01",
    script: `import { WorkerEntrypoint } from "cloudflare:workers";
export class HealthEntrypoint extends WorkerEntrypoint {
  configReport() { throw new Error("${name} does not run in the dashboard's tests"); }
}
export default { fetch: () => new Response(null, { status: 503 }) };`,
  };
}

// The dashboard in workerd from its real config, with the pipeline beside it as an auxiliary
// Worker (real RPC, D1 shared by id, Durable Objects, queues), meta-webhooks for the WhatsApp
// self-test, and the sandbox playing Google,
// Facebook, Meta, Razorpay and Cloudflare Access. Browser tests run separately against the whole local stack.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "../../migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => {
        const sandbox = String(inject("sandboxUrl"));
        const pipeline = pipelineAuxWorker(sandbox);
        return {
          wrangler: { configPath: "./wrangler.jsonc" },
          remoteBindings: false,
          miniflare: {
            bindings: {
              ENVIRONMENT: "local",
              GOOGLE_OAUTH_BASE_URL: `${sandbox}/google`,
              GOOGLE_CLIENT_ID: TEST_SECRETS.googleClientId,
              GOOGLE_CLIENT_SECRET: TEST_SECRETS.googleClientSecret,
              META_DIALOG_BASE_URL: `${sandbox}/facebook/v24.0`,
              META_GRAPH_BASE_URL: `${sandbox}/graph/v24.0`,
              FACEBOOK_APP_ID: TEST_SECRETS.facebookAppId,
              WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID: "sandbox-embedded-signup-config",
              // Embedded Signup through the sandbox's fake of Meta's SDK, as under `npm start`.
              FACEBOOK_SDK_URL: `${sandbox}/facebook/sdk.js`,
              META_APP_SECRET: TEST_SECRETS.metaAppSecret,
              DISCORD_AUTHORIZE_URL: `${sandbox}/discord/oauth2/authorize`,
              DISCORD_CLIENT_ID: TEST_SECRETS.discordApplicationId,
              // Razorpay, played by the sandbox: its Checkout script and hosted page, the test key
              // id the pipeline creates orders with, and the secret its webhooks are signed with.
              RAZORPAY_KEY_ID: TEST_SECRETS.razorpayKeyId,
              RAZORPAY_CHECKOUT_URL: `${sandbox}/razorpay/checkout.js`,
              RAZORPAY_HOSTED_CHECKOUT_URL: `${sandbox}/razorpay/v1/checkout/embedded`,
              RAZORPAY_WEBHOOK_SECRET: TEST_SECRETS.razorpayWebhookSecret,
              // Cloudflare Access in front of /manage, played by the sandbox: its certs publish the
              // fixed test key, so tests sign operators' tokens themselves (packages/testing's
              // signAccessToken). No refetch cooldown, so each unknown kid shows its one refetch.
              ACCESS_TEAM_DOMAIN: accessTeamDomain(sandbox),
              ACCESS_AUD: TEST_ACCESS_AUD,
              ACCESS_JWKS_COOLDOWN_MS: "0",
              SANDBOX_URL: sandbox,
              TEST_MIGRATIONS: migrations,
            },
            // The demo's burst limit over 10 s instead of a minute, so its test waits out a window
            // in seconds (wrangler.jsonc's namespace).
            ratelimits: {
              DEMO_RATE_LIMIT: { namespace_id: "1501", simple: DEMO_TEST_RATE_LIMIT },
              // The dashboard's own limits, small and over 10 s (test/rate-limits.ts).
              ...TEST_RATE_LIMITS,
            },
            serviceBindings: {
              // Test-only: the ingest API, to bring customer messages in as the ingress Workers do.
              PIPELINE_INGEST: { name: "pipeline", entrypoint: "MetaIngestEntrypoint" },
            },
            workers: [
              {
                ...pipeline,
                bindings: { ...pipeline.bindings, CONFIG_CACHE_MS: "0" },
                // Safety verdicts arrive at once instead of after a batch fills.
                queueConsumers: {
                  "concierge-safety": {
                    maxBatchTimeout: 0.05,
                    maxRetries: 3,
                    deadLetterQueue: "concierge-safety-dlq",
                  },
                  "concierge-safety-dlq": { maxBatchTimeout: 0.05, maxRetries: 3 },
                },
              },
              // The WhatsApp self-test's signed webhook goes through the real ingress.
              metaWebhooksAuxWorker(),
              // email-inbound and discord-interactions do not run beside the dashboard here: in
              // their place, Workers whose health entrypoint fails every call, so the health page
              // shows them as unreachable. meta-webhooks (above) runs and reports; all five report
              // on the local stack (e2e/operator-access.e2e.test.ts).
              ...["email-inbound", "discord-interactions"].map(notRunningHere),
            ],
          },
        };
      }),
    ],
    test: {
      include: ["test/*.test.ts"],
      globalSetup: ["../../packages/sandbox/src/vitest-setup.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
