import { startSandbox } from "./server.ts";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import type { TestProject } from "vitest/node";

/** The fake outside world for this test run: a real HTTP server speaking Graph's wire format. */
export default async function ({ provide }: TestProject) {
  const sandbox = await startSandbox({
    appSecret: TEST_SECRETS.metaAppSecret,
    graphToken: TEST_SECRETS.whatsappToken,
    discordToken: TEST_SECRETS.discordBotToken,
  });
  provide("sandboxUrl", sandbox.url);
  return () => sandbox.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    sandboxUrl: string;
  }
}
