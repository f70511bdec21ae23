// The sandbox's Razorpay as the pipeline's billing tests drive it: a customer paying (or failing)
// in Checkout, a refund, a subscription's later charges, and the webhooks those send, handed to
// the real BillingEntrypoint exactly as the dashboard's webhook route would hand them over.
import { env, exports } from "cloudflare:workers";
import type { CheckoutResult, RazorpayEvent, SubscriptionCheckoutResult } from "@concierge/core";
import { expect } from "vitest";

export const billingApi = exports.BillingEntrypoint;

/** A webhook the sandbox sent (or would have: tests configure no URL), with its exact body. */
export type SentEvent = { id: string; event: string; body: string; createdAt: number };

async function control<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/razorpay/${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** Checkout for an order or a subscription: "pay" captures, "fail" fails the attempt. */
export async function pay(
  id: string,
  outcome: "pay" | "fail" = "pay",
): Promise<{ paymentId: string; response: CheckoutResult & SubscriptionCheckoutResult }> {
  const r = await control<{ payment_id: string; response: CheckoutResult & SubscriptionCheckoutResult }>(
    "pay",
    { [id.startsWith("sub_") ? "subscriptionId" : "orderId"]: id, outcome, wait: true },
  );
  return { paymentId: r.payment_id, response: r.response };
}

/** An order made at Razorpay by someone else (not through our createOrder). */
export async function foreignOrder(amount: number, currency: "INR" | "USD" = "INR"): Promise<string> {
  const r = await control<{ id: string }>("orders", { amount, currency });
  return r.id;
}

/** A refund processed at Razorpay (the whole payment without `amount`). */
export function refund(paymentId: string, amount?: number): Promise<unknown> {
  return control("refund", { paymentId, ...(amount === undefined ? {} : { amount }), wait: true });
}

/** Razorpay's billing moves the subscription: charged, pending, halted or cancelled. */
export function moveSubscription(id: string, to: "charged" | "pending" | "halted" | "cancelled") {
  return control("subscription", { id, to, wait: true });
}

/** The webhooks about one Razorpay id (order, payment or subscription), oldest first. */
export async function eventsAbout(
  about: { order?: string; payment?: string; subscription?: string },
  event?: string,
): Promise<SentEvent[]> {
  const q = new URLSearchParams(Object.entries({ ...about, ...(event ? { event } : {}) }));
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/razorpay/events?${q}`);
  return ((await res.json()) as { events: SentEvent[] }).events;
}

/** The one webhook of this name about `about`. */
export async function eventOf(
  about: { order?: string; payment?: string; subscription?: string },
  event: string,
): Promise<SentEvent> {
  const found = await eventsAbout(about, event);
  expect(found.map((e) => e.event)).toContain(event);
  return found.at(-1)!;
}

/** Hands a webhook to the pipeline as the dashboard does after checking its signature. */
export function deliver(e: SentEvent, eventId = e.id) {
  return billingApi.razorpayEvent(eventId, JSON.parse(e.body) as RazorpayEvent);
}

/** Every event of one state change, in the order Razorpay sent them; their outcomes. */
export async function deliverAll(events: SentEvent[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const e of events) {
    const r = await deliver(e);
    outcomes.push(r.ok ? r.outcome : `error:${r.error.code}`);
  }
  return outcomes;
}
