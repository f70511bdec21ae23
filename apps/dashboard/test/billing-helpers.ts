// What the billing tests share: buying a pack through the dashboard's routes, paying for it in
// the sandbox's Razorpay, and Razorpay's own deliveries (the Checkout callback, signed webhooks)
// sent to the dashboard as Razorpay sends them: without our session cookie or CSRF token.
import { env } from "cloudflare:workers";
import { creditBalance } from "@concierge/storage";
import {
  type RazorpayEventRecord,
  razorpayEvents,
  razorpayPay,
  razorpaySubscription,
} from "@concierge/testing/sandbox-client";
import { expect } from "vitest";
import { app, get, post, type TestSession } from "./helpers.ts";

export type CheckoutFields = {
  razorpay_payment_id: string;
  razorpay_order_id: string;
  razorpay_signature: string;
};

/** Buy → the order the checkout page opens: our id and Razorpay's, from the page's own form. */
export async function buy(
  s: TestSession,
  packId: string,
): Promise<{ orderId: string; razorpayOrderId: string; page: string }> {
  const res = await post(s, "/admin/billing/buy", { packId });
  expect(res.status).toBe(303);
  const location = res.headers.get("location")!;
  const orderId = /^\/admin\/billing\/checkout\/(ord_[A-Za-z0-9_-]+)$/.exec(location)?.[1];
  expect(orderId).toBeTruthy();
  const page = await (await get(s, location)).text();
  const razorpayOrderId = /name="order_id" value="(order_[A-Za-z0-9]+)"/.exec(page)?.[1];
  expect(razorpayOrderId).toBeTruthy();
  return { orderId: orderId!, razorpayOrderId: razorpayOrderId!, page };
}

/**
 * Pays (or fails) an order or subscription in the sandbox's Checkout, as a person clicking Pay
 * would; the webhooks it sends are recorded there (tests deliver them to the dashboard themselves).
 */
export async function pay(
  id: string,
  outcome: "pay" | "fail" = "pay",
): Promise<{ paymentId: string; response: Record<string, string> | null }> {
  const r = await razorpayPay(env.SANDBOX_URL, id, { outcome });
  return { paymentId: r.paymentId, response: r.response as Record<string, string> | null };
}

export type RecordedEvent = RazorpayEventRecord;

/** The signed webhook events the sandbox's Razorpay sent about an order, payment or subscription. */
export async function eventsAbout(
  filter: { order?: string; payment?: string; subscription?: string; event?: string },
  expected = 1,
): Promise<RecordedEvent[]> {
  let events: RecordedEvent[] = [];
  await expect
    .poll(async () => {
      events = await razorpayEvents(env.SANDBOX_URL, filter);
      return events.length;
    })
    .toBeGreaterThanOrEqual(expected);
  return events;
}

/** Moves a subscription the way Razorpay's own schedule would (charged, halted, cancelled…). */
export async function moveSubscription(id: string, to: "charged" | "pending" | "halted" | "cancelled") {
  await razorpaySubscription(env.SANDBOX_URL, id, to);
}

/** Delivers one recorded event to the dashboard exactly as Razorpay does: same bytes and headers. */
export function deliver(event: RecordedEvent, headers: Record<string, string> = {}): Promise<Response> {
  return app("/webhooks/razorpay", {
    method: "POST",
    headers: { ...event.headers, ...headers },
    body: event.body,
  });
}

/**
 * Checkout's callback as Razorpay's redirect posts it: a cross-site form POST, so without our
 * session cookie (SameSite=Lax) or CSRF token, unless `session` says otherwise.
 */
export function callback(
  orderId: string,
  fields: Record<string, string>,
  opts: { session?: TestSession; path?: string } = {},
): Promise<Response> {
  return app(
    `${opts.path ?? "/admin/billing/checkout/complete"}?${new URLSearchParams({ order: orderId })}`,
    {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: new URL(env.SANDBOX_URL).origin,
        ...(opts.session ? { cookie: opts.session.cookie } : {}),
      },
      body: new URLSearchParams(fields),
    },
  );
}

export const balanceOf = (tenantId: string) => creditBalance(env.DB, tenantId);

/** The tenant's ledger rows for one reference (a payment id): one row means granted once. */
export async function ledgerRows(
  tenantId: string,
  reference: string,
): Promise<{ delta: number; reason: string }[]> {
  const { results } = await env.DB.prepare(
    "SELECT delta, reason FROM credit_ledger WHERE tenant_id = ? AND reference = ?",
  )
    .bind(tenantId, reference)
    .all<{ delta: number; reason: string }>();
  return results;
}

/** Ledger rows of every purchase of the tenant's. */
export async function purchaseRows(tenantId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM credit_ledger WHERE tenant_id = ? AND reason = 'purchase'",
  )
    .bind(tenantId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
