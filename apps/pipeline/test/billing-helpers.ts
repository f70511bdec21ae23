// The sandbox's Razorpay as the pipeline's billing tests drive it (through @concierge/testing's
// sandbox-client): a customer paying or failing in Checkout, a refund, a subscription's later
// charges, and the webhooks those send, handed to the real BillingEntrypoint exactly as the
// dashboard's webhook route hands them over after checking their signature.
import { env, exports } from "cloudflare:workers";
import type { CheckoutResult, RazorpayEvent, SubscriptionCheckoutResult } from "@concierge/core";
import {
  injectRazorpayFault,
  type RazorpayEventRecord,
  razorpayEvents,
  razorpayPay,
  razorpayRefund,
  razorpaySubscription,
} from "@concierge/testing/sandbox-client";
import { expect } from "vitest";

export const billingApi = exports.BillingEntrypoint;

type About = { order?: string; payment?: string; subscription?: string };

/** Checkout for an order or a subscription: "pay" captures, "fail" fails the attempt. */
export async function pay(
  id: string,
  outcome: "pay" | "fail" = "pay",
): Promise<{ paymentId: string; response: CheckoutResult & SubscriptionCheckoutResult }> {
  const r = await razorpayPay(env.SANDBOX_URL, id, { outcome });
  return { paymentId: r.paymentId, response: r.response as CheckoutResult & SubscriptionCheckoutResult };
}

/** An order made at Razorpay by someone else (not through our createOrder). */
export async function foreignOrder(amount: number, currency: "INR" | "USD" = "INR"): Promise<string> {
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/razorpay/orders`, {
    method: "POST",
    body: JSON.stringify({ amount, currency }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

/** A refund processed at Razorpay (the whole payment without `amount`). */
export const refund = (paymentId: string, amount?: number) =>
  razorpayRefund(env.SANDBOX_URL, paymentId, amount);

/** Razorpay's billing moves the subscription: charged, pending, halted or cancelled. */
export const moveSubscription = (id: string, to: "charged" | "pending" | "halted" | "cancelled") =>
  razorpaySubscription(env.SANDBOX_URL, id, to);

/** The next Razorpay API call matching `method` and `path` answers `status`. */
export const razorpayFault = (fault: { method: "GET" | "POST"; path: string; status: number }) =>
  injectRazorpayFault(env.SANDBOX_URL, fault);

/** The webhooks about one Razorpay id (order, payment or subscription), oldest first. */
export const eventsAbout = (about: About, event?: string): Promise<RazorpayEventRecord[]> =>
  razorpayEvents(env.SANDBOX_URL, { ...about, ...(event ? { event } : {}) });

/** The latest webhook of this name about `about`. */
export async function eventOf(about: About, event: string): Promise<RazorpayEventRecord> {
  const found = await eventsAbout(about, event);
  expect(found.map((e) => e.event)).toContain(event);
  return found.at(-1)!;
}

/** Hands a webhook to the pipeline as the dashboard does after checking its signature. */
export function deliver(e: RazorpayEventRecord, eventId = e.id) {
  return billingApi.razorpayEvent(eventId, JSON.parse(e.body) as RazorpayEvent);
}

/** Every event of a state change, in the order Razorpay sent them; their outcomes. */
export async function deliverAll(events: RazorpayEventRecord[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const e of events) {
    const r = await deliver(e);
    outcomes.push(r.ok ? r.outcome : `error:${r.error.code}`);
  }
  return outcomes;
}
