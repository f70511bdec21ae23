import { AppError, createLogger, errorFields, errorResponse } from "@concierge/core";
import { fromUtf8 } from "@concierge/crypto";
import type { IRequest } from "itty-router";
import * as v from "valibot";
import { ingest } from "./ingest.ts";
import { InstagramWebhookSchema, normalizeInstagram } from "./instagram-payload.ts";
import { readSignedMetaBody } from "./signed-body.ts";

const log = createLogger("meta-webhooks");

/**
 * POST /webhook/instagram: the same contract as WhatsApp's. 200 only once every DM in it is
 * durably accepted by the pipeline; a pipeline failure answers 500 so that Meta delivers it again
 * (the pipeline de-duplicates on `mid`).
 */
export async function receiveInstagram(request: IRequest, env: Env): Promise<Response> {
  const raw = await readSignedMetaBody(request, env.META_APP_SECRET);
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(raw));
  } catch {
    throw new AppError(400, "malformed_json", "The body is not valid JSON.");
  }
  const payload = v.safeParse(InstagramWebhookSchema, json);
  if (!payload.success) throw new AppError(400, "invalid_payload", "Not an Instagram webhook.");
  const { messages, notes } = normalizeInstagram(payload.output);
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
