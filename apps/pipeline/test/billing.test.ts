// Money through the real entry points (TenantEntrypoint for the dashboard's calls,
// BillingEntrypoint for Razorpay's webhooks), with the sandbox playing Razorpay: orders, Checkout,
// payments, refunds and subscriptions over HTTP, webhooks taken from what it sent.
import { createScheduledController } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { signCheckout, signSubscriptionCheckout } from "@concierge/billing";
import type { CheckoutResult } from "@concierge/core";
import { creditBalance, debitCredit, saveCreditPack } from "@concierge/storage";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it } from "vitest";
import {
  billingApi,
  deliver,
  deliverAll,
  eventOf,
  eventsAbout,
  foreignOrder,
  moveSubscription,
  pay,
  razorpayFault,
  refund,
} from "./billing-helpers.ts";
import { INSTAGRAM_TOKEN_CRON } from "../src/channels/instagram/connect.ts";
import worker from "../src/index.ts";
import { tenantApi } from "./helpers.ts";

const TRIAL = 50;

async function newTenant(currency: "INR" | "USD" = "INR"): Promise<string> {
  const r = await tenantApi.createTenant({
    name: "Billing test",
    currency,
    locale: currency === "INR" ? "en-IN" : "en-US",
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

function expectOk<T extends { ok: boolean }>(r: T): asserts r is Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
}

async function order(tenantId: string, packId = "inr-100") {
  const r = await tenantApi.createOrder(tenantId, packId);
  expectOk(r);
  return r.order;
}

/** The ledger rows of one reference (a payment id, a refund id). */
async function ledger(tenantId: string, reference: string) {
  const { results } = await env.DB.prepare(
    "SELECT reason, delta FROM credit_ledger WHERE tenant_id = ? AND reference = ?",
  )
    .bind(tenantId, reference)
    .all<{ reason: string; delta: number }>();
  return results;
}

const orderRow = (id: string) =>
  env.DB.prepare(
    "SELECT tenant_id AS tenantId, pack_id AS packId, credits, amount, currency, razorpay_order_id AS razorpayOrderId, status FROM orders WHERE id = ?",
  )
    .bind(id)
    .first();

const paymentRow = (id: string) =>
  env.DB.prepare(
    "SELECT kind, credits, amount, currency, status, amount_refunded AS amountRefunded, credits_taken_back AS creditsTakenBack FROM payments WHERE id = ?",
  )
    .bind(id)
    .first();

describe("createOrder", () => {
  it("records the order with the pack's credits and amount in the tenant's currency", async () => {
    const tid = await newTenant("INR");
    const o = await order(tid, "inr-500");
    expect(o).toMatchObject({
      orderId: expect.stringMatching(/^ord_/),
      razorpayOrderId: expect.stringMatching(/^order_/),
      amount: 199900,
      currency: "INR",
      credits: 500,
      keyId: TEST_SECRETS.razorpayKeyId,
    });
    expect(await orderRow(o.orderId)).toEqual({
      tenantId: tid,
      packId: "inr-500",
      credits: 500,
      amount: 199900,
      currency: "INR",
      razorpayOrderId: o.razorpayOrderId,
      status: "created",
    });
    // Razorpay has the same order, with our id as its receipt.
    const snap = (await (await fetch(`${env.SANDBOX_URL}/__sandbox/razorpay`)).json()) as {
      orders: { id: string; amount: number; currency: string; receipt: string }[];
    };
    expect(snap.orders.find((x) => x.id === o.razorpayOrderId)).toMatchObject({
      amount: 199900,
      currency: "INR",
      receipt: o.orderId,
    });
  });

  it("offers a USD tenant the USD packs", async () => {
    const tid = await newTenant("USD");
    expect(await order(tid, "usd-100")).toMatchObject({ amount: 900, currency: "USD", credits: 100 });
  });

  it("refuses a pack of another currency, an inactive one or an unknown one with not_found", async () => {
    await saveCreditPack(env.DB, {
      id: "inr-retired",
      currency: "INR",
      credits: 10,
      amount: 9900,
      active: false,
      sort: 9,
    });
    const inr = await newTenant("INR");
    const usd = await newTenant("USD");
    for (const [tid, pack] of [
      [inr, "usd-100"],
      [usd, "inr-100"],
      [inr, "inr-retired"],
      [inr, "nope"],
      [inr, 42 as unknown as string],
    ] as const) {
      expect(await tenantApi.createOrder(tid, pack)).toMatchObject({
        ok: false,
        error: { code: "not_found" },
      });
    }
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE tenant_id IN (?, ?)")
      .bind(inr, usd)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it("says Razorpay is unavailable (and records nothing) when it cannot be reached", async () => {
    const tid = await newTenant();
    await razorpayFault({ method: "POST", path: "/orders", status: 503 });
    expect(await tenantApi.createOrder(tid, "inr-100")).toMatchObject({
      ok: false,
      error: { code: "razorpay_unavailable" },
    });
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE tenant_id = ?")
      .bind(tid)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
  });
});

describe("confirmCheckout", () => {
  it("grants the order's credits once, with the payment id as the ledger reference", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const { paymentId, response } = await pay(o.razorpayOrderId);
    expect(await tenantApi.confirmCheckout(tid, response)).toEqual({
      ok: true,
      status: "granted",
      paymentId,
      credits: 100,
    });
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({
      ok: true,
      status: "already_granted",
    });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 100);
    expect(await ledger(tid, paymentId)).toEqual([{ reason: "purchase", delta: 100 }]);
    expect(await orderRow(o.orderId)).toMatchObject({ status: "paid" });
    expect(await paymentRow(paymentId)).toMatchObject({
      kind: "credits",
      credits: 100,
      amount: 49900,
      currency: "INR",
      status: "captured",
    });
  });

  it("refuses forged fields with a clear code and grants nothing", async () => {
    const tid = await newTenant();
    const other = await newTenant();
    const first = await order(tid);
    const second = await order(tid);
    const { paymentId, response } = await pay(first.razorpayOrderId);
    const flipped = response.razorpay_signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    const forged: [string, unknown, string, string][] = [
      ["a tampered signature", { ...response, razorpay_signature: flipped }, tid, "invalid_signature"],
      [
        "a signature made with another key",
        {
          ...response,
          razorpay_signature: await signCheckout("not-our-secret", first.razorpayOrderId, paymentId),
        },
        tid,
        "invalid_signature",
      ],
      [
        "the payment claimed for another of the tenant's orders",
        { ...response, razorpay_order_id: second.razorpayOrderId },
        tid,
        "invalid_signature",
      ],
      ["another tenant's order", response, other, "not_found"],
      ["a missing signature", { ...response, razorpay_signature: undefined }, tid, "invalid_input"],
      ["a malformed payment id", { ...response, razorpay_payment_id: "pay_<script>" }, tid, "invalid_input"],
    ];
    for (const [what, fields, who, code] of forged) {
      const r = await tenantApi.confirmCheckout(who, fields as CheckoutResult);
      expect(r, what).toMatchObject({ ok: false, error: { code } });
    }
    // Even a correctly signed claim (as if the key secret leaked) of this payment for the second
    // order is refused: Razorpay says the payment belongs to the first.
    const resigned = {
      ...response,
      razorpay_order_id: second.razorpayOrderId,
      razorpay_signature: await signCheckout(
        TEST_SECRETS.razorpayKeySecret,
        second.razorpayOrderId,
        paymentId,
      ),
    };
    expect(await tenantApi.confirmCheckout(tid, resigned)).toMatchObject({
      ok: false,
      error: { code: "payment_mismatch" },
    });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL);
    expect(await creditBalance(env.DB, other)).toBe(TRIAL);
    expect(await ledger(tid, paymentId)).toEqual([]);
    expect(await paymentRow(paymentId)).toBeNull();
    // The genuine fields still work afterwards.
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({ ok: true, status: "granted" });
  });

  it("grants nothing when Razorpay's payment differs from our order's amount (checkout and webhook)", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const { paymentId, response } = await pay(o.razorpayOrderId);
    // Our record says otherwise (as if the order at Razorpay had been made for another amount).
    await env.DB.prepare("UPDATE orders SET amount = amount + 100 WHERE id = ?").bind(o.orderId).run();
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({
      ok: false,
      error: { code: "amount_mismatch" },
    });
    const captured = await eventOf({ payment: paymentId }, "payment.captured");
    expect(await deliver(captured)).toEqual({ ok: true, outcome: "amount_mismatch" });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL);
    expect(await ledger(tid, paymentId)).toEqual([]);
  });

  it("answers razorpay_unavailable when the payment cannot be fetched; the retry grants", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const { paymentId, response } = await pay(o.razorpayOrderId);
    await razorpayFault({ method: "GET", path: `/payments/${paymentId}`, status: 500 });
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({
      ok: false,
      error: { code: "razorpay_unavailable" },
    });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL);
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({ ok: true, status: "granted" });
  });
});

describe("webhooks and the checkout callback together", () => {
  for (const first of ["the callback", "the webhooks", "both at once"] as const) {
    it(`grants exactly once when 10 copies of payment.captured and the callback race (${first} first)`, async () => {
      const tid = await newTenant();
      const o = await order(tid);
      const { paymentId, response } = await pay(o.razorpayOrderId);
      const captured = await eventOf({ payment: paymentId }, "payment.captured");
      const webhooks = () => Promise.all(Array.from({ length: 10 }, () => deliver(captured)));
      const outcomes: string[] = [];
      const record = (r: { ok: boolean; outcome?: string; status?: string }) =>
        outcomes.push(String(r.outcome ?? r.status));
      if (first === "the callback") {
        record(await tenantApi.confirmCheckout(tid, response));
        for (const r of await webhooks()) record(r);
      } else if (first === "the webhooks") {
        for (const r of await webhooks()) record(r);
        record(await tenantApi.confirmCheckout(tid, response));
      } else {
        const [callback, ...hooks] = await Promise.all([
          tenantApi.confirmCheckout(tid, response),
          ...Array.from({ length: 10 }, () => deliver(captured)),
        ]);
        for (const r of [callback!, ...hooks]) record(r as { ok: boolean });
      }
      expect(outcomes.filter((x) => x === "granted")).toHaveLength(1);
      expect(outcomes.every((x) => ["granted", "already_granted", "duplicate_event"].includes(x))).toBe(true);
      // order.paid is another event (its own id) about the same payment: nothing more.
      expect(await deliver(await eventOf({ payment: paymentId }, "order.paid"))).toEqual({
        ok: true,
        outcome: "already_granted",
      });
      expect(await ledger(tid, paymentId)).toEqual([{ reason: "purchase", delta: 100 }]);
      expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 100);
    });
  }

  it("grants from the webhooks alone when the browser never calls back, in Razorpay's order", async () => {
    const tid = await newTenant();
    const o = await order(tid, "inr-2000");
    const { paymentId } = await pay(o.razorpayOrderId);
    const outcomes = await deliverAll(await eventsAbout({ payment: paymentId }));
    // payment.authorized comes first (capture follows), then payment.captured, then order.paid.
    expect(outcomes).toEqual(["ignored", "granted", "already_granted"]);
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 2000);
  });
});

describe("webhooks Razorpay must not retry", () => {
  it("an unknown order, an unknown event type: an outcome, nothing granted", async () => {
    const tid = await newTenant();
    const stranger = await foreignOrder(49900);
    const { paymentId } = await pay(stranger);
    const captured = await eventOf({ payment: paymentId }, "payment.captured");
    expect(await deliver(captured)).toEqual({ ok: true, outcome: "unknown_order" });
    const failedOrder = await foreignOrder(49900);
    const failed = await pay(failedOrder, "fail");
    expect(await deliver(await eventOf({ payment: failed.paymentId }, "payment.failed"))).toEqual({
      ok: true,
      outcome: "unknown_order",
    });
    const invoice = {
      entity: "event",
      account_id: "acc_Sandbox0000001",
      event: "invoice.paid",
      contains: ["invoice"],
      payload: { invoice: { entity: { id: "inv_Sandbox0000001" } } },
      created_at: Math.floor(Date.now() / 1000),
    };
    expect(
      await billingApi.razorpayEvent(`evt_${crypto.randomUUID().slice(0, 8)}`, invoice as never),
    ).toEqual({
      ok: true,
      outcome: "ignored",
    });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL);
    expect(await paymentRow(paymentId)).toBeNull();
  });

  it("refuses what is not a Razorpay event, or has no usable event id, without recording it", async () => {
    const captured = await eventOf(
      { payment: (await pay(await foreignOrder(900, "USD"))).paymentId },
      "payment.captured",
    );
    const good = JSON.parse(captured.body);
    for (const [id, event] of [
      ["evt_ok", { foo: 1 }],
      ["evt_ok", null],
      [
        "evt_ok",
        { ...good, payload: { payment: { entity: { ...good.payload.payment.entity, amount: "49900" } } } },
      ],
      ["", good],
      ["evt with spaces", good],
      [42, good],
    ] as const) {
      expect(await billingApi.razorpayEvent(id as string, event as never)).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
    }
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_events WHERE id = 'evt_ok'").first<{
      n: number;
    }>();
    expect(n!.n).toBe(0);
  });

  it("answers a repeated event id as a duplicate without applying it again", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const { paymentId } = await pay(o.razorpayOrderId);
    const captured = await eventOf({ payment: paymentId }, "payment.captured");
    expect(await deliver(captured)).toEqual({ ok: true, outcome: "granted" });
    expect(await deliver(captured)).toEqual({ ok: true, outcome: "duplicate_event" });
    // The same event under a new id (as after the purge of old ids): applied, but grants nothing.
    expect(await deliver(captured, `${captured.id}x`)).toEqual({ ok: true, outcome: "already_granted" });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 100);
  });
});

describe("payment.failed", () => {
  it("marks the order failed and records the failed attempt; a later capture still grants", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const failed = await pay(o.razorpayOrderId, "fail");
    expect(await deliver(await eventOf({ payment: failed.paymentId }, "payment.failed"))).toEqual({
      ok: true,
      outcome: "order_failed",
    });
    expect(await orderRow(o.orderId)).toMatchObject({ status: "failed" });
    expect(await paymentRow(failed.paymentId)).toMatchObject({ status: "failed", amount: 49900 });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL);
    // The customer tries again in the same Checkout, and it goes through.
    const { paymentId, response } = await pay(o.razorpayOrderId);
    expect(await deliver(await eventOf({ payment: paymentId }, "payment.captured"))).toEqual({
      ok: true,
      outcome: "granted",
    });
    expect(await tenantApi.confirmCheckout(tid, response)).toMatchObject({
      ok: true,
      status: "already_granted",
    });
    expect(await orderRow(o.orderId)).toMatchObject({ status: "paid" });
    expect(await paymentRow(failed.paymentId)).toMatchObject({ status: "failed" });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 100);
  });
});

describe("refund.processed", () => {
  it("after half the credits were spent, takes back only the unspent half; never below zero", async () => {
    const tid = await newTenant();
    const o = await order(tid);
    const { paymentId, response } = await pay(o.razorpayOrderId);
    expectOk(await tenantApi.confirmCheckout(tid, response));
    // The trial's 50 expire first, so they go first; then 50 of the 100 bought.
    for (let i = 0; i < TRIAL + 50; i++)
      expect(await debitCredit(env.DB, tid, `spend-${i}`)).toEqual({ ok: true });
    expect(await creditBalance(env.DB, tid)).toBe(50);
    await refund(paymentId);
    const processed = await eventOf({ payment: paymentId }, "refund.processed");
    expect(await deliver(processed)).toEqual({ ok: true, outcome: "refunded" });
    expect(await creditBalance(env.DB, tid)).toBe(0);
    const refundId = (JSON.parse(processed.body) as { payload: { refund: { entity: { id: string } } } })
      .payload.refund.entity.id;
    expect(await ledger(tid, refundId)).toEqual([{ reason: "refund", delta: -50 }]);
    expect(await paymentRow(paymentId)).toMatchObject({
      status: "refunded",
      amountRefunded: 49900,
      creditsTakenBack: 50,
    });
    // Again (another delivery of the same refund under a new id): nothing more is taken.
    expect(await deliver(processed, `${processed.id}x`)).toEqual({ ok: true, outcome: "refunded" });
    expect(await creditBalance(env.DB, tid)).toBe(0);
    expect(await ledger(tid, refundId)).toHaveLength(1);
  });

  it("takes back a partial refund's share of unspent credits", async () => {
    const tid = await newTenant();
    const o = await order(tid, "inr-500");
    const { paymentId } = await pay(o.razorpayOrderId);
    expect(await deliver(await eventOf({ payment: paymentId }, "payment.captured"))).toMatchObject({
      outcome: "granted",
    });
    await refund(paymentId, 199900 / 5);
    expect(await deliver(await eventOf({ payment: paymentId }, "refund.processed"))).toEqual({
      ok: true,
      outcome: "refunded",
    });
    expect(await creditBalance(env.DB, tid)).toBe(TRIAL + 400);
    expect(await paymentRow(paymentId)).toMatchObject({
      status: "partially_refunded",
      creditsTakenBack: 100,
    });
  });

  it("a refund of a payment we never recorded is an outcome, nothing taken", async () => {
    const { paymentId } = await pay(await foreignOrder(49900));
    await refund(paymentId);
    expect(await deliver(await eventOf({ payment: paymentId }, "refund.processed"))).toEqual({
      ok: true,
      outcome: "unknown_order",
    });
  });
});

describe("saveBillingDetails", () => {
  it("saves legal name, address and GSTIN (upper-cased) for receipts; refuses a malformed GSTIN", async () => {
    const tid = await newTenant();
    const saved = await tenantApi.saveBillingDetails(tid, {
      legalName: "  Chai & Co. Pvt Ltd ",
      address: "12 MG Road, Bengaluru 560001",
      gstin: "29abcde1234f1z5",
    });
    expect(saved).toEqual({
      ok: true,
      details: {
        legalName: "Chai & Co. Pvt Ltd",
        address: "12 MG Road, Bengaluru 560001",
        gstin: "29ABCDE1234F1Z5",
      },
    });
    expect(
      await env.DB.prepare(
        "SELECT legal_name AS legalName, gstin FROM tenant_billing_details WHERE tenant_id = ?",
      )
        .bind(tid)
        .first(),
    ).toEqual({ legalName: "Chai & Co. Pvt Ltd", gstin: "29ABCDE1234F1Z5" });
    expect(
      await tenantApi.saveBillingDetails(tid, { legalName: "X", address: "Y", gstin: "not-a-gstin" }),
    ).toMatchObject({
      ok: false,
      error: { code: "invalid_details", message: expect.stringContaining("gstin") },
    });
    expect(
      await tenantApi.saveBillingDetails(tid, { legalName: "", address: "Y", gstin: null }),
    ).toMatchObject({
      ok: false,
      error: { code: "invalid_details" },
    });
    expect(
      await tenantApi.saveBillingDetails("t_nobody", { legalName: "X", address: "Y", gstin: null }),
    ).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});

describe("the email-subdomain subscription", () => {
  let n = 0;
  const name = () => {
    n += 1;
    return `paid${n}x${crypto.randomUUID().slice(0, 6)}`;
  };
  async function automatic(domain: string): Promise<boolean | undefined> {
    const r = await exports.EmailIngestEntrypoint.emailRoute(domain);
    expectOk(r);
    return r.route?.automatic;
  }
  const paidFlag = async (accountId: string) =>
    (await env.DB.prepare("SELECT paid FROM email_subdomains WHERE account_id = ?").bind(accountId).first<{
      paid: number;
    }>())!.paid;

  it("creates the plan once, lets paid subdomains be created, pauses them when halted and restores them when charged", async () => {
    const tid = await newTenant();
    const free: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await tenantApi.createEmailSubdomain(tid, name());
      expectOk(r);
      free.push(r.subdomain.domain);
    }
    // Beyond the free quota without a subscription: refused.
    expect(await tenantApi.createEmailSubdomain(tid, name())).toMatchObject({
      ok: false,
      error: { code: "quota_reached" },
    });

    const started = await tenantApi.startSubscription(tid, 1);
    expectOk(started);
    expect(started).toMatchObject({
      subscriptionId: expect.stringMatching(/^sub_/),
      keyId: TEST_SECRETS.razorpayKeyId,
      quantity: 1,
    });
    const plan = await env.DB.prepare(
      "SELECT razorpay_plan_id AS id FROM subdomain_plans WHERE currency = 'INR'",
    ).first<{
      id: string;
    }>();
    expect(plan!.id).toMatch(/^plan_/);
    // Not paid yet: still refused; a second start is refused while this one is not cancelled.
    expect(await tenantApi.createEmailSubdomain(tid, name())).toMatchObject({
      ok: false,
      error: { code: "quota_reached" },
    });

    // Checkout for the subscription; its handler's fields are confirmed.
    const { paymentId, response } = await pay(started.subscriptionId);
    const flipped = response.razorpay_signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    expect(
      await tenantApi.confirmSubscription(tid, { ...response, razorpay_signature: flipped }),
    ).toMatchObject({ ok: false, error: { code: "invalid_signature" } });
    expect(await tenantApi.confirmSubscription(await newTenant(), response)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    const confirmed = await tenantApi.confirmSubscription(tid, response);
    expectOk(confirmed);
    expect(confirmed.subscription).toMatchObject({
      id: started.subscriptionId,
      tenantId: tid,
      status: "active",
      quantity: 1,
      amount: 49900,
      currency: "INR",
    });
    expect(await tenantApi.startSubscription(tid, 2)).toMatchObject({
      ok: false,
      error: { code: "subscription_exists" },
    });
    // The webhooks of that first charge: the subscription's, and its payment recorded for receipts.
    const outcomes = await deliverAll(await eventsAbout({ subscription: started.subscriptionId }));
    expect(outcomes).toContain("subscription_updated");
    expect(outcomes.every((o) => ["subscription_updated", "ignored"].includes(o))).toBe(true);
    expect(await paymentRow(paymentId)).toMatchObject({
      kind: "subscription",
      status: "captured",
      credits: 0,
    });

    // One paid subdomain now; a second one is beyond what the subscription pays for.
    const paid = await tenantApi.createEmailSubdomain(tid, name());
    expectOk(paid);
    expect(await paidFlag(paid.subdomain.accountId)).toBe(1);
    expect(await tenantApi.createEmailSubdomain(tid, name())).toMatchObject({
      ok: false,
      error: { code: "quota_reached" },
    });
    expect(await automatic(paid.subdomain.domain)).toBe(true);

    // Razorpay's retries are used up: the paid subdomain stops being automatic, the free ones do not.
    await moveSubscription(started.subscriptionId, "halted");
    const halted = await eventOf({ subscription: started.subscriptionId }, "subscription.halted");
    expect(await deliver(halted)).toEqual({ ok: true, outcome: "subscription_updated" });
    expect(await automatic(paid.subdomain.domain)).toBe(false);
    for (const d of free) expect(await automatic(d)).toBe(true);

    // Paying again restores it at once.
    await new Promise((r) => setTimeout(r, 1100)); // the next event is a later second than the halt
    await moveSubscription(started.subscriptionId, "charged");
    const charged = await eventsAbout({ subscription: started.subscriptionId }, "subscription.charged");
    expect(await deliver(charged.at(-1)!)).toEqual({ ok: true, outcome: "subscription_updated" });
    expect(await automatic(paid.subdomain.domain)).toBe(true);
    // The halt again (a replay of the older event): nothing changes.
    expect(await deliver(halted)).toEqual({ ok: true, outcome: "duplicate_event" });
    expect(await automatic(paid.subdomain.domain)).toBe(true);

    // Cancelled from the dashboard: at once, paid subdomain paused, a new subscription may start.
    await new Promise((r) => setTimeout(r, 1100));
    const cancelled = await tenantApi.cancelSubscription(tid);
    expectOk(cancelled);
    expect(cancelled.subscription.status).toBe("cancelled");
    expect(await automatic(paid.subdomain.domain)).toBe(false);
    expect(await tenantApi.cancelSubscription(tid)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    const again = await tenantApi.startSubscription(tid, 1);
    expectOk(again);
    // The plan is reused, not created again.
    const planAfter = await env.DB.prepare(
      "SELECT razorpay_plan_id AS id FROM subdomain_plans WHERE currency = 'INR'",
    ).first<{
      id: string;
    }>();
    expect(planAfter!.id).toBe(plan!.id);

    // A free subdomain is deleted: the paid one now fits within the free quota and works again.
    const firstFree = (await tenantApi.listEmailSubdomains(tid)).find((s) => s.domain === free[0])!;
    expectOk(await tenantApi.deleteEmailSubdomain(tid, firstFree.accountId));
    expect(await paidFlag(paid.subdomain.accountId)).toBe(0);
    expect(await automatic(paid.subdomain.domain)).toBe(true);
  });

  it("refuses a quantity out of range and confirms nothing for a forged subscription signature", async () => {
    const tid = await newTenant("USD");
    for (const q of [0, -1, 1.5, 21, "2"]) {
      expect(await tenantApi.startSubscription(tid, q as number)).toMatchObject({
        ok: false,
        error: { code: "invalid_quantity" },
      });
    }
    const started = await tenantApi.startSubscription(tid, 2);
    expectOk(started);
    const forged = {
      razorpay_subscription_id: started.subscriptionId,
      razorpay_payment_id: "pay_Forged00000001",
      razorpay_signature: await signSubscriptionCheckout(
        "not-our-secret",
        "pay_Forged00000001",
        started.subscriptionId,
      ),
    };
    expect(await tenantApi.confirmSubscription(tid, forged)).toMatchObject({
      ok: false,
      error: { code: "invalid_signature" },
    });
    const row = await env.DB.prepare("SELECT status, amount, currency FROM subscriptions WHERE id = ?")
      .bind(started.subscriptionId)
      .first();
    expect(row).toEqual({ status: "created", amount: 1800, currency: "USD" });
  });
});

describe("the daily cron", () => {
  it("forgets Razorpay event ids older than 30 days and keeps newer ones", async () => {
    const day = 86_400_000;
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO webhook_events (id, event, received_at) VALUES (?, 'payment.captured', ?), (?, 'payment.captured', ?)",
    )
      .bind("evtOldOne", now - 31 * day, "evtRecentOne", now - 29 * day)
      .run();
    await worker.scheduled(
      createScheduledController({ cron: INSTAGRAM_TOKEN_CRON, scheduledTime: now }),
      env,
    );
    const { results } = await env.DB.prepare(
      "SELECT id FROM webhook_events WHERE id IN ('evtOldOne', 'evtRecentOne')",
    ).all();
    expect(results).toEqual([{ id: "evtRecentOne" }]);
  });
});
