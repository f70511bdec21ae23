import { createLogger, errorFields, errorResponse, type StatusUpdate } from "@concierge/core";
import { timingSafeEqualString } from "@concierge/crypto";
import type { IRequest } from "itty-router";
import { chunks, ingest } from "./ingest.ts";
import { readSignedWebhook } from "./signed-body.ts";
import { normalizeWhatsApp, WhatsAppWebhookSchema } from "./whatsapp-payload.ts";

const log = createLogger("meta-webhooks");

/** GET /webhook/whatsapp: Meta's subscription handshake. */
export function verifySubscription(request: IRequest, env: Env): Response {
  const url = new URL(request.url);
  const mode = url.searchParams.get("hub.mode");
  const token = url.searchParams.get("hub.verify_token") ?? "";
  const challenge = url.searchParams.get("hub.challenge") ?? "";
  if (
    mode === "subscribe" &&
    env.WHATSAPP_VERIFY_TOKEN &&
    timingSafeEqualString(token, env.WHATSAPP_VERIFY_TOKEN)
  ) {
    return new Response(challenge, { headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  return errorResponse(403, "verification_failed", "The verify token does not match.");
}

/** Hands delivery statuses to the pipeline; false when it refused them. */
async function recordStatuses(env: Env, statuses: StatusUpdate[]): Promise<boolean> {
  for (const batch of chunks(statuses)) {
    const outcome = await env.PIPELINE.recordStatuses(batch);
    if (!outcome.ok) {
      log.error("whatsapp.statuses_refused", { code: outcome.error.code, reason: outcome.error.message });
      return false;
    }
  }
  return true;
}

/**
 * POST /webhook/whatsapp. Answers 200 only once every message in it is durably accepted by the
 * pipeline and every status recorded; a pipeline failure answers 500 so that Meta delivers it
 * again (messages are de-duplicated then, and a status never moves a message backwards).
 */
export async function receiveWhatsApp(request: IRequest, env: Env): Promise<Response> {
  const payload = await readSignedWebhook(
    request,
    env.META_APP_SECRET,
    WhatsAppWebhookSchema,
    "Not a WhatsApp Business Account webhook.",
  );
  const { messages, statuses, notes } = normalizeWhatsApp(payload);
  for (const { event, reason, id, code } of notes) {
    log.info(event, { reason, provider_message_id: id, error_code: code });
  }
  try {
    const accepted = messages.length > 0 ? await ingest(env, "whatsapp", messages) : 0;
    const recorded = statuses.length > 0 ? await recordStatuses(env, statuses) : true;
    if (accepted === null || !recorded) {
      return errorResponse(500, "ingest_refused", "The messages could not be accepted.");
    }
    return Response.json({ ok: true, accepted });
  } catch (err) {
    log.error("whatsapp.ingest_failed", errorFields(err));
    return errorResponse(
      500,
      "ingest_failed",
      "Could not accept the messages; Meta will deliver them again.",
    );
  }
}
