import { createLogger, errorFields, errorResponse } from "@concierge/core";
import type { IRequest } from "itty-router";
import { ingest } from "./ingest.ts";
import { InstagramWebhookSchema, normalizeInstagram } from "./instagram-payload.ts";
import { readSignedWebhook } from "./signed-body.ts";

const log = createLogger("meta-webhooks");

/**
 * POST /webhook/instagram: the same contract as WhatsApp's. 200 only once every DM in it is
 * durably accepted by the pipeline; a pipeline failure answers 500 so that Meta delivers it again
 * (the pipeline de-duplicates on `mid`).
 */
export async function receiveInstagram(request: IRequest, env: Env): Promise<Response> {
  const payload = await readSignedWebhook(
    request,
    env.META_APP_SECRET,
    InstagramWebhookSchema,
    "Not an Instagram webhook.",
  );
  const { messages, notes } = normalizeInstagram(payload);
  for (const { event, reason, id } of notes) log.info(event, { reason, provider_message_id: id });
  try {
    const accepted = messages.length > 0 ? await ingest(env, "instagram", messages) : 0;
    if (accepted === null) {
      return errorResponse(500, "ingest_refused", "The messages could not be accepted.");
    }
    return Response.json({ ok: true, accepted });
  } catch (err) {
    log.error("instagram.ingest_failed", errorFields(err));
    return errorResponse(
      500,
      "ingest_failed",
      "Could not accept the messages; Meta will deliver them again.",
    );
  }
}
