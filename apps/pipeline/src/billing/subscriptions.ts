/**
 * The email-subdomain plan (PRODUCT.md §7): subdomains beyond the free quota are a monthly
 * Razorpay subscription of `quantity` extra subdomains. The Razorpay plan of a currency is created
 * on first use and stored (plans are immutable: a new price is a new plan). The subscription's
 * status moves as Razorpay says, newest first: an older event never undoes a newer one.
 */
import { subscriptionAmount, subscriptionSignatureValid } from "@concierge/billing";
import {
  type CheckoutSubscription,
  createLogger,
  errorBody,
  type EventOutcome,
  type RazorpayEvent,
  type RpcResult,
  type SubscriptionCheckoutResult,
  SubscriptionCheckoutResultSchema,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from "@concierge/core";
import {
  getCurrentSubscription,
  getSubdomainPlan,
  getSubscription,
  getTenantPreferences,
  listEmailSubdomains,
  recordSubscriptionPayment,
  setSubdomainPlanId,
  upsertSubscription,
} from "@concierge/storage";
import * as v from "valibot";
import { forgetEmailRoute } from "../channels/email/ingest.ts";
import type { PipelineEnv } from "../env.ts";
import { razorpay, razorpayError } from "./razorpay.ts";

const log = createLogger("pipeline.billing");

/** Extra subdomains one subscription may cover: more is a conversation with us, not a form. */
export const MAX_EXTRA_SUBDOMAINS = 20;
/** Monthly cycles a subscription runs for: Razorpay needs a count; ten years is "until cancelled". */
const TOTAL_CYCLES = 120;

/** A subscription the tenant must cancel before starting another (else both would charge). */
const LIVE: ReadonlySet<SubscriptionStatus> = new Set(["authenticated", "active", "pending", "halted"]);

/** The Razorpay plan of the tenant's currency, created at Razorpay the first time it is needed. */
async function planFor(env: PipelineEnv, currency: "INR" | "USD") {
  const plan = await getSubdomainPlan(env.DB, currency);
  if (!plan)
    return { ok: false as const, error: errorBody("not_found", "No subdomain plan in this currency.") };
  if (plan.razorpayPlanId) return { ok: true as const, plan, planId: plan.razorpayPlanId };
  const created = await razorpay(env).createPlan({
    period: "monthly",
    interval: 1,
    item: {
      name: "Extra email subdomain",
      amount: plan.amount,
      currency,
      description: "One email subdomain beyond the free quota, per month",
    },
    notes: { kind: "email_subdomain" },
  });
  if (!created.ok) {
    log.warn("billing.plan_create_failed", { currency, status: created.status, code: created.code });
    return { ok: false as const, error: razorpayError(created) };
  }
  // Two first uses at once may both create a plan; the first stored wins and the other is unused.
  const planId = await setSubdomainPlanId(env.DB, currency, plan.amount, created.value.id);
  log.info("billing.plan_created", { currency, plan_id: planId });
  return { ok: true as const, plan, planId };
}

export async function startSubscription(
  env: PipelineEnv,
  tenantId: string,
  quantity: unknown,
): Promise<RpcResult<CheckoutSubscription>> {
  if (
    typeof quantity !== "number" ||
    !Number.isInteger(quantity) ||
    quantity < 1 ||
    quantity > MAX_EXTRA_SUBDOMAINS
  ) {
    return errorBody("invalid_quantity", `Choose 1 to ${MAX_EXTRA_SUBDOMAINS} extra subdomains.`);
  }
  const prefs = typeof tenantId === "string" ? await getTenantPreferences(env.DB, tenantId) : null;
  if (!prefs) return errorBody("not_found", "No such tenant.");
  const current = await getCurrentSubscription(env.DB, tenantId);
  if (current && LIVE.has(current.status)) {
    return errorBody("subscription_exists", "You already have a subscription; cancel it first to change it.");
  }
  const plan = await planFor(env, prefs.currency);
  if (!plan.ok) return plan.error;
  const created = await razorpay(env).createSubscription({
    plan_id: plan.planId,
    total_count: TOTAL_CYCLES,
    quantity,
    notes: { tenant_id: tenantId },
  });
  if (!created.ok) {
    log.warn("billing.subscription_create_failed", {
      tenant_id: tenantId,
      status: created.status,
      code: created.code,
    });
    return razorpayError(created);
  }
  await upsertSubscription(env.DB, {
    id: created.value.id,
    tenantId,
    status: created.value.status,
    quantity,
    amount: subscriptionAmount(plan.plan.amount, quantity),
    currency: prefs.currency,
    currentEnd: null,
    at: Date.now(),
  });
  log.info("billing.subscription_created", {
    tenant_id: tenantId,
    subscription_id: created.value.id,
    quantity,
  });
  return { ok: true, subscriptionId: created.value.id, keyId: env.RAZORPAY_KEY_ID, quantity };
}

/**
 * The subscription Checkout's handler fields: signed over `payment_id|subscription_id` with the
 * key secret, for a subscription of THIS tenant; its state is then read from Razorpay itself, so
 * paid subdomains come back at once, before the webhook.
 */
export async function confirmSubscription(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<{ subscription: SubscriptionRecord }>> {
  const parsed = v.safeParse(SubscriptionCheckoutResultSchema, input);
  if (!parsed.success) return errorBody("invalid_input", "The payment details are incomplete.");
  const result: SubscriptionCheckoutResult = parsed.output;
  const ours = await getSubscription(env.DB, result.razorpay_subscription_id, tenantId);
  if (!ours) return errorBody("not_found", "No such subscription.");
  const fields = { tenant_id: tenantId, subscription_id: ours.id, payment_id: result.razorpay_payment_id };
  if (
    !(await subscriptionSignatureValid(
      env.RAZORPAY_KEY_SECRET,
      result.razorpay_payment_id,
      ours.id,
      result.razorpay_signature,
    ))
  ) {
    log.warn("billing.subscription_signature_invalid", fields);
    return errorBody("invalid_signature", "The payment could not be verified.");
  }
  return refresh(env, ours, fields);
}

export async function cancelSubscription(
  env: PipelineEnv,
  tenantId: string,
): Promise<RpcResult<{ subscription: SubscriptionRecord }>> {
  const current = typeof tenantId === "string" ? await getCurrentSubscription(env.DB, tenantId) : null;
  if (!current || !(LIVE.has(current.status) || current.status === "created")) {
    return errorBody("not_found", "There is no subscription to cancel.");
  }
  const fields = { tenant_id: tenantId, subscription_id: current.id };
  // At once, not at the cycle's end: the paid subdomains stop being automatic now, as the
  // dashboard says when it asks for confirmation.
  const r = await razorpay(env).cancelSubscription(current.id, { cancel_at_cycle_end: false });
  if (!r.ok) {
    log.warn("billing.subscription_cancel_failed", { ...fields, status: r.status, code: r.code });
    // Razorpay refuses to cancel what is no longer cancellable (expired, completed): take its word.
    if (!r.retryable) return refresh(env, current, fields);
    return razorpayError(r);
  }
  return save(env, current, r.value, Date.now(), fields);
}

/** Our record brought up to date with Razorpay's own view of the subscription. */
async function refresh(
  env: PipelineEnv,
  ours: SubscriptionRecord,
  fields: Record<string, string>,
): Promise<RpcResult<{ subscription: SubscriptionRecord }>> {
  const fetched = await razorpay(env).getSubscription(ours.id);
  if (!fetched.ok) {
    log.warn("billing.subscription_fetch_failed", { ...fields, status: fetched.status, code: fetched.code });
    return razorpayError(fetched);
  }
  return save(env, ours, fetched.value, Date.now(), fields);
}

async function save(
  env: PipelineEnv,
  ours: SubscriptionRecord,
  entity: { status: SubscriptionStatus; quantity: number; current_end?: number | null },
  at: number,
  fields: Record<string, string>,
): Promise<RpcResult<{ subscription: SubscriptionRecord }>> {
  const subscription = await upsertSubscription(env.DB, {
    id: ours.id,
    tenantId: ours.tenantId,
    status: entity.status,
    quantity: entity.quantity,
    amount: ours.amount,
    currency: ours.currency,
    currentEnd: entity.current_end ? entity.current_end * 1000 : null,
    at,
  });
  await forgetTenantRoutes(env, ours.tenantId);
  log.info("billing.subscription_saved", { ...fields, status: subscription.status });
  return { ok: true, subscription };
}

/**
 * A `subscription.*` webhook: the status Razorpay reports, at the event's time (so a reordered or
 * replayed older event changes nothing); `subscription.charged` also records the payment.
 */
export async function applySubscriptionEvent(env: PipelineEnv, event: RazorpayEvent): Promise<EventOutcome> {
  const entity = event.payload.subscription?.entity;
  if (!entity) return "ignored";
  const ours = await getSubscription(env.DB, entity.id);
  if (!ours) {
    log.warn("billing.unknown_subscription", { subscription_id: entity.id, event_type: event.event });
    return "ignored";
  }
  const at = event.created_at * 1000;
  await upsertSubscription(env.DB, {
    id: ours.id,
    tenantId: ours.tenantId,
    status: entity.status,
    quantity: entity.quantity,
    amount: ours.amount,
    currency: ours.currency,
    currentEnd: entity.current_end ? entity.current_end * 1000 : null,
    at,
  });
  const payment = event.payload.payment?.entity;
  if (event.event === "subscription.charged" && payment && payment.status === "captured") {
    await recordSubscriptionPayment(env.DB, {
      tenantId: ours.tenantId,
      subscriptionId: ours.id,
      paymentId: payment.id,
      amount: payment.amount,
      currency: ours.currency,
      method: payment.method ?? null,
    });
  }
  await forgetTenantRoutes(env, ours.tenantId);
  return "subscription_updated";
}

/** This isolate's cached routes of the tenant's subdomains: a lapse or a payment shows at once. */
async function forgetTenantRoutes(env: PipelineEnv, tenantId: string): Promise<void> {
  for (const s of await listEmailSubdomains(env.DB, tenantId)) forgetEmailRoute(s.domain);
}
