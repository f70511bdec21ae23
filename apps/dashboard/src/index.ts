import { router } from "./routes.ts";
import { runDueSelfTests } from "./self-test-cron.ts";

export default {
  fetch: router.fetch,
  // The hourly cron (wrangler.jsonc): WhatsApp self-tests a week old run again.
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runDueSelfTests(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
