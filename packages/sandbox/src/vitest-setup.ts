import { TEST_SECRETS } from "@concierge/testing/secrets";
import type { TestProject } from "vitest/node";
import { startSandbox } from "./server.ts";

/** The fake outside world for this test run: a real HTTP server speaking Graph's wire format. */
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
  });
  provide("sandboxUrl", sandbox.url);
  return () => sandbox.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    sandboxUrl: string;
  }
}
