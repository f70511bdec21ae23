import { TEST_ACCESS_AUD, TEST_ACCESS_KEY } from "@concierge/testing/access";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import type { TestProject } from "vitest/node";
import { startSandbox } from "./server.ts";

/** The fake outside world for this test run: a real HTTP server speaking Graph's (Razorpay's…) wire format. */
export default async function ({ provide }: TestProject) {
  const sandbox = await startSandbox({
    appSecret: TEST_SECRETS.metaAppSecret,
    graphToken: TEST_SECRETS.whatsappToken,
    discordToken: TEST_SECRETS.discordBotToken,
    discordClientId: TEST_SECRETS.discordApplicationId,
    discordClientSecret: TEST_SECRETS.discordClientSecret,
    cloudflareToken: TEST_SECRETS.cloudflareApiToken,
    googleClientId: TEST_SECRETS.googleClientId,
    googleClientSecret: TEST_SECRETS.googleClientSecret,
    facebookAppId: TEST_SECRETS.facebookAppId,
    // No razorpayWebhookUrl: Workers under test cannot be reached over HTTP; tests read the signed
    // events (GET /__sandbox/razorpay/events) and hand them to the dashboard themselves.
    razorpayKeyId: TEST_SECRETS.razorpayKeyId,
    razorpayKeySecret: TEST_SECRETS.razorpayKeySecret,
    razorpayWebhookSecret: TEST_SECRETS.razorpayWebhookSecret,
    // Access publishes the fixed test key, so tests can sign operators' tokens inside workerd.
    accessAud: TEST_ACCESS_AUD,
    accessKey: TEST_ACCESS_KEY,
    // The dashboard's tests run it as https://dash.test: Embedded Signup's dialog posts only there.
    dashboardUrl: "https://dash.test",
  });
  provide("sandboxUrl", sandbox.url);
  return () => sandbox.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    sandboxUrl: string;
  }
}
