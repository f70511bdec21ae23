// POST /webhooks/razorpay: Razorpay's payment, refund and subscription events. No session and no
// CSRF token: the X-Razorpay-Signature header (HMAC-SHA256 of the raw body with the webhook secret)
// is the only credential, so it is checked over the exact bytes received, before anything is
// parsed, and the event then goes to the pipeline's billing API (the BILLING binding), which
// de-duplicates it by its event id and grants credits only from our own order record.
//
// Answers, as Razorpay reads them (any non-2xx is retried, for up to 24 hours):
//   401  missing or wrong signature (nothing else runs; a forged event is never retried into success)
//   400  signed, but not JSON, not an event, or without X-Razorpay-Event-Id
//   413  bigger than any event Razorpay sends
//   200  processed, whatever the outcome (granted, duplicate, unknown order, ignored event type…):
//        retrying those would change nothing
//   500  the pipeline could not process it: Razorpay retries, and the event id makes the retry safe
import { webhookSignatureValid } from "@concierge/billing";
import {
  createLogger,
  errorFields,
  errorResponse,
  RazorpayEventSchema,
  readBodyLimited,
} from "@concierge/core";
import * as v from "valibot";
import type { Ctx } from "./http.ts";

const log = createLogger("dashboard");

/** Razorpay's events are a few KiB; anything this big is not one. */
const MAX_EVENT_BYTES = 256 * 1024;

/** X-Razorpay-Event-Id: Razorpay's own id for the event (the same on every retry of it). */
const EVENT_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

class TooLarge extends Error {}

export async function razorpayWebhook(c: Ctx): Promise<Response> {
  const secret = c.env.RAZORPAY_WEBHOOK_SECRET;
  const signature = c.headers.get("x-razorpay-signature");
  if (!secret) {
    // A deployment without the secret cannot tell a real event from a forged one.
    log.error("razorpay.webhook_secret_missing");
    return errorResponse(401, "bad_signature", "The webhook signature could not be checked.");
  }
  if (!signature) return errorResponse(401, "bad_signature", "X-Razorpay-Signature is missing.");
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = await readBodyLimited(c, MAX_EVENT_BYTES, () => new TooLarge());
  } catch (err) {
    if (err instanceof TooLarge) return errorResponse(413, "too_large", "The event is too large.");
    throw err;
  }
  if (!(await webhookSignatureValid(secret, raw, signature))) {
    log.warn("razorpay.webhook_bad_signature", { bytes: raw.byteLength });
    return errorResponse(401, "bad_signature", "X-Razorpay-Signature does not match the body.");
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw));
  } catch {
    log.warn("razorpay.webhook_malformed", { reason: "json" });
    return errorResponse(400, "malformed", "The body is not JSON.");
  }
  const event = v.safeParse(RazorpayEventSchema, json);
  if (!event.success) {
    log.warn("razorpay.webhook_malformed", { reason: "shape", path: v.getDotPath(event.issues[0]) ?? "" });
    return errorResponse(400, "malformed", "The body is not a Razorpay event.");
  }
  const eventId = c.headers.get("x-razorpay-event-id") ?? "";
  if (!EVENT_ID.test(eventId)) {
    log.warn("razorpay.webhook_malformed", { reason: "event_id", type: event.output.event });
    return errorResponse(400, "malformed", "X-Razorpay-Event-Id is missing or malformed.");
  }

  try {
    const res = await c.env.BILLING.razorpayEvent(eventId, event.output);
    if (res.ok) {
      log.info("razorpay.webhook", { event_id: eventId, type: event.output.event, outcome: res.outcome });
      return Response.json({ ok: true, outcome: res.outcome });
    }
    log.error("razorpay.webhook_failed", {
      event_id: eventId,
      type: event.output.event,
      code: res.error.code,
    });
  } catch (err) {
    log.error("razorpay.webhook_failed", {
      event_id: eventId,
      type: event.output.event,
      ...errorFields(err),
    });
  }
  return errorResponse(500, "internal", "The event could not be processed; it will be retried.");
}
