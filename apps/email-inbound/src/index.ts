import { createLogger, errorResponse } from "@concierge/core";

const log = createLogger("email-inbound");

export default {
  async fetch(request): Promise<Response> {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ ok: true });
    return errorResponse(404, "not_found", "No such route.");
  },
  // Until the email channel is built, no subdomain accepts mail: refusing at SMTP time tells the
  // sender at once instead of losing the message silently.
  async email(message): Promise<void> {
    log.info("email.refused", { reason: "email_channel_not_enabled", size: message.rawSize });
    message.setReject("This address does not accept mail yet.");
  },
} satisfies ExportedHandler<Env>;
