import { env } from "cloudflare:workers";
import { createLogger, errorResponse } from "@concierge/core";
import { meterEnabled, meteredHandler } from "@concierge/core/meter";
import { handleEmail } from "./inbound.ts";

const log = createLogger("email-inbound");

const handler = {
  async fetch(request): Promise<Response> {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ ok: true });
    return errorResponse(404, "not_found", "No such route.");
  },
  async email(message, env): Promise<void> {
    try {
      await handleEmail(message, env);
    } catch (err) {
      // Rethrown: Cloudflare then refuses the mail temporarily and the sender retries later.
      log.error("email.temporary_failure", { error: err instanceof Error ? err.message : "unknown" });
      throw err;
    }
  },
} satisfies ExportedHandler<Env>;

// The cost benchmark's meter (@concierge/core/meter), only when the bench's stack turns it on.
export default meterEnabled(env) ? meteredHandler(handler) : handler;

// The operator's platform health page reads this Worker's configuration here (by name only).
export { HealthEntrypoint } from "./health.ts";
