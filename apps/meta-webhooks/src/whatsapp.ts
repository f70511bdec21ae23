import { AppError, createLogger, errorFields, errorResponse } from "@concierge/core";
import { fromUtf8, timingSafeEqualString } from "@concierge/crypto";
import type { IRequest } from "itty-router";
import * as v from "valibot";
import { readSignedMetaBody } from "./signed-body.ts";
import { WhatsAppWebhookSchema, normalizeWhatsApp } from "./whatsapp-payload.ts";

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

/**
 * POST /webhook/whatsapp. Answers 200 only once every message in it is durably accepted by the
 * pipeline; a pipeline failure answers 500 so that Meta delivers it again (de-duplicated then).
 */
export async function receiveWhatsApp(request: IRequest, env: Env): Promise<Response> {
  const raw = await readSignedMetaBody(request, env.META_APP_SECRET);
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(raw));
  } catch {
    throw new AppError(400, "malformed_json", "The body is not valid JSON.");
  }
  const payload = v.safeParse(WhatsAppWebhookSchema, json);
  if (!payload.success) {
    throw new AppError(400, "invalid_payload", "Not a WhatsApp Business Account webhook.");
  }
  const { messages, skipped } = normalizeWhatsApp(payload.output);
  for (const s of skipped) log.info("whatsapp.skipped", { reason: s.reason, provider_message_id: s.id });
  if (messages.length === 0) return Response.json({ ok: true, accepted: 0 });
  try {
    const outcome = await env.PIPELINE.ingest(messages);
    if (!outcome.ok) {
      // Our own normalization produced something the pipeline refuses: a bug, not Meta's fault.
      log.error("whatsapp.ingest_refused", { code: outcome.error.code, reason: outcome.error.message });
      return errorResponse(500, "ingest_refused", "The messages could not be accepted.");
    }
    const { results } = outcome;
    for (const r of results) {
      if (r.status === "unknown_account") {
        // Still 200: Meta would retry for days a number no tenant owns.
        log.warn("whatsapp.unknown_account", { provider_message_id: r.providerMessageId });
      }
    }
    return Response.json({ ok: true, accepted: results.filter((r) => r.status === "accepted").length });
  } catch (err) {
    log.error("whatsapp.ingest_failed", errorFields(err));
    return errorResponse(
      500,
      "ingest_failed",
      "Could not accept the messages; Meta will deliver them again.",
    );
  }
}
