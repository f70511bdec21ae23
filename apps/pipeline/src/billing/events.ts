/**
 * Razorpay's webhooks, verified by their signature over the raw body in the dashboard and handed
 * over as parsed events. Delivery is at least once and in any order, so: the event id is recorded
 * first (a repeat is `duplicate_event`), every effect below is idempotent by its own key anyway
 * (the ledger's reference, the refund id, the subscription's timestamps), and anything we do not
 * know (an order, an event type) is an outcome that Razorpay must not retry, never a throw.
 */
import {
  createLogger,
  errorBody,
  errorFields,
  type EventOutcome,
  type RazorpayEvent,
  RazorpayEventSchema,
  type RazorpayPayment,
  type RpcResult,
} from "@concierge/core";
import {
  forgetWebhookEvent,
  getOrderByRazorpayId,
  getPayment,
  markOrderFailed,
  purgeWebhookEvents,
  recordCapturedPayment,
  recordWebhookEvent,
  takeBackRefund,
  WEBHOOK_EVENT_RETENTION_MS,
} from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";
import { applySubscriptionEvent } from "./subscriptions.ts";

const log = createLogger("pipeline.billing");

/** X-Razorpay-Event-Id as Razorpay sends it: a short opaque token. */
const EventIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:-]{1,100}$/));

export async function razorpayEvent(
  env: PipelineEnv,
  eventId: unknown,
  input: unknown,
): Promise<RpcResult<{ outcome: EventOutcome }>> {
  const id = v.safeParse(EventIdSchema, eventId);
  const parsed = v.safeParse(RazorpayEventSchema, input);
  if (!id.success || !parsed.success) return errorBody("invalid_input", "Not a Razorpay event.");
  const event = parsed.output;
  const { fresh } = await recordWebhookEvent(env.DB, id.output, event.event);
  if (!fresh) {
    log.info("billing.event_duplicate", { event_id: id.output, event_type: event.event });
    return { ok: true, outcome: "duplicate_event" };
  }
  try {
    const outcome = await apply(env, event);
    log.info("billing.event", { event_id: id.output, event_type: event.event, outcome });
    return { ok: true, outcome };
  } catch (err) {
    // Not applied: forget the id so that Razorpay's retry (it retries any non-2xx) is processed.
    log.error("billing.event_failed", { event_id: id.output, event_type: event.event, ...errorFields(err) });
    await forgetWebhookEvent(env.DB, id.output).catch(() => undefined);
    return errorBody("event_failed", "The event could not be applied; Razorpay will retry it.");
  }
}

async function apply(env: PipelineEnv, event: RazorpayEvent): Promise<EventOutcome> {
  const payment = event.payload.payment?.entity;
  switch (event.event) {
    case "payment.captured":
    case "order.paid":
      return payment && payment.status === "captured" ? captured(env, payment) : "ignored";
    case "payment.failed":
      return payment ? failed(env, payment) : "ignored";
    case "refund.processed":
      return refunded(env, event);
    default:
      if (event.event.startsWith("subscription.")) return applySubscriptionEvent(env, event);
      // payment.authorized (captured follows), refund.created, and everything we never asked for.
      return "ignored";
  }
}

/**
 * A captured payment of one of our orders: the order's own credits, granted once with the payment
 * id as the ledger reference, whether the Checkout callback or another copy of this got there first.
 */
async function captured(env: PipelineEnv, payment: RazorpayPayment): Promise<EventOutcome> {
  const order = payment.order_id ? await getOrderByRazorpayId(env.DB, payment.order_id) : null;
  if (!order) {
    // A subscription's invoice is paid through an order Razorpay made itself: subscription.charged
    // records that payment, so it is no stranger.
    if (payment.invoice_id) return "ignored";
    log.warn("billing.unknown_order", { payment_id: payment.id });
    return "unknown_order";
  }
  const fields = { tenant_id: order.tenantId, order_id: order.id, payment_id: payment.id };
  if (payment.amount !== order.amount || payment.currency !== order.currency) {
    log.error("billing.amount_mismatch", { ...fields, amount: payment.amount, currency: payment.currency });
    return "amount_mismatch";
  }
  const { applied } = await recordCapturedPayment(env.DB, {
    tenantId: order.tenantId,
    orderId: order.id,
    paymentId: payment.id,
    amount: order.amount,
    currency: order.currency,
    method: payment.method ?? null,
    credits: order.credits,
  });
  log.info(applied ? "billing.granted" : "billing.already_granted", { ...fields, via: "webhook" });
  return applied ? "granted" : "already_granted";
}

/** The order is marked failed; a later capture of another attempt (a UPI retry) still grants. */
async function failed(env: PipelineEnv, payment: RazorpayPayment): Promise<EventOutcome> {
  const order = payment.order_id ? await getOrderByRazorpayId(env.DB, payment.order_id) : null;
  if (!order) {
    if (payment.invoice_id) return "ignored";
    log.warn("billing.unknown_order", { payment_id: payment.id });
    return "unknown_order";
  }
  // The failed attempt is recorded for the payments page; a captured one is never downgraded.
  await markOrderFailed(env.DB, order.id, { paymentId: payment.id, method: payment.method ?? null });
  log.info("billing.order_failed", { tenant_id: order.tenantId, order_id: order.id, payment_id: payment.id });
  return "order_failed";
}

/**
 * A processed refund takes back the payment's unspent credits in proportion to the refunded
 * amount, once per refund id, never below zero (a full refund after half was spent takes back
 * the unspent half).
 */
async function refunded(env: PipelineEnv, event: RazorpayEvent): Promise<EventOutcome> {
  const refund = event.payload.refund?.entity;
  if (refund?.status !== "processed") return "ignored";
  const ours = await getPayment(env.DB, refund.payment_id);
  if (!ours) {
    log.warn("billing.unknown_refund_payment", { payment_id: refund.payment_id, refund_id: refund.id });
    return "unknown_order";
  }
  const r = await takeBackRefund(env.DB, {
    tenantId: ours.tenantId,
    paymentId: ours.id,
    refundId: refund.id,
    refundAmount: refund.amount,
  });
  log.info("billing.refunded", {
    tenant_id: ours.tenantId,
    payment_id: ours.id,
    refund_id: refund.id,
    credits_taken_back: r.creditsTakenBack ?? null,
  });
  return "refunded";
}

/** Event ids deleted per statement, and statements per run: bounded work for one cron run. */
const PURGE_BATCH = 1000;
const PURGE_BATCHES = 20;

/**
 * The daily cron: event ids older than the retention (Razorpay retries for 24 h and replays up to
 * 7 days) need not be remembered. Returns how many went; the rest wait for tomorrow's run.
 */
export async function purgeOldWebhookEvents(env: PipelineEnv, now: number): Promise<number> {
  let purged = 0;
  for (let i = 0; i < PURGE_BATCHES; i++) {
    const n = await purgeWebhookEvents(env.DB, now - WEBHOOK_EVENT_RETENTION_MS, PURGE_BATCH);
    purged += n;
    if (n < PURGE_BATCH) break;
  }
  if (purged) log.info("billing.webhook_events_purged", { count: purged });
  return purged;
}
