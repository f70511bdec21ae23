// POST /webhooks/razorpay: Razorpay's signed events, answered as Razorpay reads the status
// (2xx: done, never retried; anything else: retried). Signatures are made here with the test
// webhook secret over exact bytes, or taken from the sandbox's own deliveries.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { hmacSha256Hex, utf8 } from "@concierge/crypto";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it } from "vitest";
import { router } from "../src/routes.ts";
import { balanceOf, buy, deliver, eventsAbout, pay, purchaseRows } from "./billing-helpers.ts";
import { app, ORIGIN, signIn } from "./helpers.ts";

const sign = (body: string, secret: string = TEST_SECRETS.razorpayWebhookSecret) =>
  hmacSha256Hex(secret, utf8(body));

const eventId = () => `Evt${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return app("/webhooks/razorpay", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

async function signed(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return post(body, {
    "x-razorpay-signature": await sign(body),
    "x-razorpay-event-id": eventId(),
    ...headers,
  });
}

/** A payment.captured event for a Razorpay order, shaped as Razorpay sends it. */
function capturedEvent(orderId: string, amount = 49900, currency = "INR"): string {
  const payment = {
    id: `pay_${Math.random().toString(36).slice(2, 16).padEnd(14, "0")}`,
    entity: "payment",
    amount,
    currency,
    status: "captured",
    order_id: orderId,
    invoice_id: null,
    method: "upi",
    amount_refunded: 0,
    captured: true,
    notes: [],
    created_at: Math.floor(Date.now() / 1000),
  };
  return JSON.stringify({
    entity: "event",
    account_id: "acc_BFQ7uQEaa7j2z7",
    event: "payment.captured",
    contains: ["payment"],
    payload: { payment: { entity: payment } },
    created_at: Math.floor(Date.now() / 1000),
  });
}

describe("the Razorpay webhook", () => {
  it("answers 401 to a missing or forged signature, before anything else runs", async () => {
    const body = capturedEvent("order_Unknown0000001");
    const id = eventId();
    expect((await post(body, { "x-razorpay-event-id": id })).status).toBe(401);
    expect(
      (
        await post(body, {
          "x-razorpay-event-id": id,
          "x-razorpay-signature": await sign(body, "not-the-secret"),
        })
      ).status,
    ).toBe(401);
    expect(
      (await post(body, { "x-razorpay-event-id": id, "x-razorpay-signature": "sha256=abc" })).status,
    ).toBe(401);
    // Not even malformed JSON or a missing event id is looked at without a good signature.
    expect((await post("{not json", { "x-razorpay-signature": await sign("other") })).status).toBe(401);
    const res = await post(body, { "x-razorpay-event-id": id, "x-razorpay-signature": "0".repeat(64) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "bad_signature" } });
    // Nothing was recorded: the same event id is still fresh when it comes signed.
    const seen = await env.DB.prepare("SELECT id FROM webhook_events WHERE id = ?").bind(id).first();
    expect(seen).toBeNull();
  });

  it("refuses a signature over re-serialized JSON: only the exact bytes count", async () => {
    const body = capturedEvent("order_Unknown0000002");
    const spaced = JSON.stringify(JSON.parse(body), null, 2);
    const res = await post(spaced, {
      "x-razorpay-signature": await sign(body),
      "x-razorpay-event-id": eventId(),
    });
    expect(res.status).toBe(401);
    // The same bytes it was signed over are accepted.
    expect(
      (await post(spaced, { "x-razorpay-signature": await sign(spaced), "x-razorpay-event-id": eventId() }))
        .status,
    ).toBe(200);
  });

  it("answers 400 to signed bodies that are not JSON, not an event, or lack the event id", async () => {
    expect((await signed("{not json")).status).toBe(400);
    expect((await signed("")).status).toBe(400);
    expect((await signed(JSON.stringify({ entity: "event", event: "payment.captured" }))).status).toBe(400);
    expect((await signed(JSON.stringify([1, 2, 3]))).status).toBe(400);
    const body = capturedEvent("order_Unknown0000003");
    const noId = await post(body, { "x-razorpay-signature": await sign(body) });
    expect(noId.status).toBe(400);
    expect(await noId.json()).toMatchObject({ ok: false, error: { code: "malformed" } });
  });

  it("answers 413 to a body bigger than any event", async () => {
    const body = `{"entity":"event","pad":"${"x".repeat(300 * 1024)}"}`;
    expect((await signed(body)).status).toBe(413);
  });

  it("acknowledges an unknown event type and an unknown order with 200, granting nothing", async () => {
    const unknownType = JSON.stringify({
      entity: "event",
      account_id: "acc_BFQ7uQEaa7j2z7",
      event: "settlement.processed",
      contains: [],
      payload: {},
      created_at: Math.floor(Date.now() / 1000),
    });
    const a = await signed(unknownType);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ ok: true, outcome: "ignored" });
    const b = await signed(capturedEvent("order_NotOurs00000001"));
    expect(b.status).toBe(200);
    expect(await b.json()).toEqual({ ok: true, outcome: "unknown_order" });
  });

  it("acknowledges an amount that is not the order's without granting it", async () => {
    const s = await signIn();
    const { razorpayOrderId } = await buy(s, "inr-100");
    const before = await balanceOf(s.tenantId);
    const res = await signed(capturedEvent(razorpayOrderId, 1, "INR"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, outcome: "amount_mismatch" });
    expect(await balanceOf(s.tenantId)).toBe(before);
    expect(await purchaseRows(s.tenantId)).toBe(0);
  });

  it("grants a real payment once and calls its repeats duplicates", async () => {
    const s = await signIn();
    const { razorpayOrderId } = await buy(s, "inr-100");
    const before = await balanceOf(s.tenantId);
    await pay(razorpayOrderId);
    const [captured] = await eventsAbout({ order: razorpayOrderId, event: "payment.captured" });
    const first = await deliver(captured!);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, outcome: "granted" });
    const again = await deliver(captured!);
    expect(await again.json()).toEqual({ ok: true, outcome: "duplicate_event" });
    expect(await balanceOf(s.tenantId)).toBe(before + 100);
  });

  it("answers 500 only when the pipeline could not process the event, so Razorpay retries", async () => {
    const body = capturedEvent("order_Unknown0000004");
    const request = async () =>
      new Request(`${ORIGIN}/webhooks/razorpay`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-razorpay-signature": await sign(body),
          "x-razorpay-event-id": eventId(),
        },
        body,
      });
    const failing: Record<string, Env["BILLING"]> = {
      threw: {
        razorpayEvent: async () => Promise.reject(new Error("pipeline down")),
      } as unknown as Env["BILLING"],
      refused: {
        razorpayEvent: async () => ({ ok: false, error: { code: "event_failed", message: "D1 is down" } }),
      } as unknown as Env["BILLING"],
    };
    for (const billing of Object.values(failing)) {
      const ctx = createExecutionContext();
      const res = await router.fetch(await request(), { ...env, BILLING: billing }, ctx);
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: "internal" } });
    }
  });
});
