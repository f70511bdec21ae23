// Buying credits through the dashboard's real routes: the packs of the tenant's currency priced
// in its locale, Buy → the order and its checkout page, Razorpay's callback and webhooks granting
// the pack's credits exactly once, and tampered callbacks refused with nothing granted.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  balanceOf,
  buy,
  callback,
  deliver,
  eventsAbout,
  ledgerRows,
  pay,
  purchaseRows,
} from "./billing-helpers.ts";
import { get, post, signIn } from "./helpers.ts";

const SANDBOX_ORIGIN = () => new URL(env.SANDBOX_URL).origin;

async function usTenant() {
  const s = await signIn();
  const res = await post(s, "/admin/settings/preferences", {
    locale: "en-US",
    currency: "USD",
    timeZone: "America/New_York",
  });
  expect(res.status).toBe(303);
  return s;
}

describe("credit packs on the billing page", () => {
  it("offers the packs of the tenant's currency priced in its locale, and shows the trial lot", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/billing")).text();
    expect(page).not.toContain("coming soon");
    const packs = /<ul class="packs">([\s\S]*?)<\/ul>/.exec(page)![1]!;
    expect(packs).toContain("100 credits");
    expect(packs).toContain("₹499");
    expect(packs).toContain("₹1,999");
    expect(packs).toContain("₹6,999");
    expect(packs).toContain("2,000 credits");
    expect(packs).not.toContain("$");
    expect(packs).toContain('<input type="hidden" name="packId" value="inr-500">');
    expect(packs).toContain(`name="_csrf" value="${s.csrf}"`);
    expect(packs).toContain("Buy 500 credits for ₹1,999");
    // The trial lot: 50 credits, expiring.
    const lots = /<table id="lots">([\s\S]*?)<\/table>/.exec(page)![1]!;
    expect(lots).toMatch(/Trial credits<\/td>[\s\S]*?<td class="num">50<\/td>\s*<td class="num">50<\/td>/);
    expect(lots).not.toContain("Never");
    expect(page).toContain('href="/admin/billing/payments"');

    const us = await usTenant();
    const usPage = await (await get(us, "/admin/billing")).text();
    const usPacks = /<ul class="packs">([\s\S]*?)<\/ul>/.exec(usPage)![1]!;
    expect(usPacks).toContain("$9");
    expect(usPacks).toContain("$29");
    expect(usPacks).toContain("$99");
    expect(usPacks).not.toContain("₹");
    expect(usPacks).toContain('value="usd-2000"');
  });

  it("refuses Buy without the session's CSRF token, and a pack not on sale in the tenant's currency", async () => {
    const s = await signIn();
    for (const csrf of [false, "forged"] as const) {
      expect((await post(s, "/admin/billing/buy", { packId: "inr-100" }, { csrf })).status).toBe(403);
    }
    for (const packId of ["usd-100", "nope", ""]) {
      const res = await post(s, "/admin/billing/buy", { packId });
      expect(res.status).toBe(422);
      expect(await res.text()).toContain("That pack is not on sale any more.");
    }
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it("opens the order in Checkout: Razorpay allowed in this page's CSP only, a form that works without JavaScript", async () => {
    const s = await signIn();
    const { orderId, razorpayOrderId } = await buy(s, "inr-500");
    const res = await get(s, `/admin/billing/checkout/${orderId}`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    const origin = SANDBOX_ORIGIN();
    expect(csp).toMatch(new RegExp(`script-src 'nonce-[^']+' 'strict-dynamic' ${origin}`));
    expect(csp).toContain(`frame-src ${origin}`);
    expect(csp).toContain(`form-action 'self' ${origin}`);
    const page = await res.text();
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
    expect(page).toContain(`<script defer src="${env.SANDBOX_URL}/razorpay/checkout.js" nonce="${nonce}">`);
    expect(page).toMatch(/<script type="module" src="\/assets\/checkout\.js\?v=[^"]+" nonce="/);
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page).toContain(`action="${env.SANDBOX_URL}/razorpay/v1/checkout/embedded"`);
    for (const [name, value] of [
      ["key_id", env.RAZORPAY_KEY_ID],
      ["order_id", razorpayOrderId],
      ["amount", "199900"],
      ["currency", "INR"],
      ["callback_url", `https://dash.test/admin/billing/checkout/complete?order=${orderId}`],
      ["cancel_url", "https://dash.test/admin/billing?checkout=cancelled"],
    ]) {
      expect(page).toContain(`<input type="hidden" name="${name}" value="${value}">`);
    }
    expect(page).toContain("500 AI reply credits");
    expect(page).toContain("Pay ₹1,999");
    // No other page allows Razorpay.
    const billing = await get(s, "/admin/billing");
    expect(billing.headers.get("content-security-policy")).not.toContain(origin);
    expect(billing.headers.get("content-security-policy")).toContain("form-action 'self';");
  });
});

describe("Razorpay's Checkout callback", () => {
  it("grants the pack's credits once, without a session or CSRF token, and lands on the receipt", async () => {
    const s = await signIn();
    const before = await balanceOf(s.tenantId);
    const { orderId, razorpayOrderId } = await buy(s, "inr-500");
    const { paymentId, response } = await pay(razorpayOrderId);
    const first = await callback(orderId, response!);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe(`/admin/billing/payments/${paymentId}?paid=1`);
    expect(await balanceOf(s.tenantId)).toBe(before + 500);
    // The browser follows the redirect with its (Lax) session cookie: the receipt says what happened.
    const receipt = await (await get(s, first.headers.get("location")!)).text();
    expect(receipt).toContain("Payment received: 500 credits were added to your balance.");
    // The same callback again (a reload, a replay): the same answer, nothing more granted.
    const again = await callback(orderId, response!);
    expect(again.status).toBe(303);
    expect(await balanceOf(s.tenantId)).toBe(before + 500);
    expect(await ledgerRows(s.tenantId, paymentId)).toEqual([{ delta: 500, reason: "purchase" }]);
  });

  it("accepts the callback with the owner's session too (a same-site Checkout), still without a CSRF token", async () => {
    const s = await signIn();
    const { orderId, razorpayOrderId } = await buy(s, "inr-100");
    const { paymentId, response } = await pay(razorpayOrderId);
    const res = await callback(orderId, response!, { session: s });
    expect(res.status).toBe(303);
    expect(await ledgerRows(s.tenantId, paymentId)).toEqual([{ delta: 100, reason: "purchase" }]);
  });

  it("grants exactly once when the same payment.captured webhook arrives 10 times at once with the callback", async () => {
    const s = await signIn();
    const before = await balanceOf(s.tenantId);
    const { orderId, razorpayOrderId } = await buy(s, "inr-2000");
    const { paymentId, response } = await pay(razorpayOrderId);
    const [captured] = await eventsAbout({ order: razorpayOrderId, event: "payment.captured" });
    const [orderPaid] = await eventsAbout({ order: razorpayOrderId, event: "order.paid" });
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => deliver(captured!)),
      deliver(orderPaid!),
      callback(orderId, response!),
    ]);
    const webhookAnswers = answers.slice(0, 11);
    expect(webhookAnswers.map((r) => r.status)).toEqual(Array(11).fill(200));
    const outcomes = (await Promise.all(webhookAnswers.map((r) => r.json()))).map(
      (b) => (b as { outcome: string }).outcome,
    );
    expect(outcomes.filter((o) => o === "granted").length).toBeLessThanOrEqual(1);
    expect(outcomes.every((o) => ["granted", "already_granted", "duplicate_event"].includes(o))).toBe(true);
    expect(answers[11]!.status).toBe(303);
    expect(await balanceOf(s.tenantId)).toBe(before + 2000);
    expect(await ledgerRows(s.tenantId, paymentId)).toEqual([{ delta: 2000, reason: "purchase" }]);
    expect(await purchaseRows(s.tenantId)).toBe(1);
  });

  it("refuses tampered callbacks and grants nothing", async () => {
    const victim = await signIn();
    const attacker = await signIn();
    const v = await buy(victim, "inr-500");
    const a = await buy(attacker, "inr-100");
    const paidVictim = await pay(v.razorpayOrderId);
    const paidAttacker = await pay(a.razorpayOrderId);
    const victimBefore = await balanceOf(victim.tenantId);
    const attackerBefore = await balanceOf(attacker.tenantId);
    const good = paidAttacker.response!;
    const cases: [string, Promise<Response>, number][] = [
      // The attacker's own payment presented as the victim's order, through the victim's callback URL.
      ["another tenant's order", callback(v.orderId, { ...good, razorpay_order_id: v.razorpayOrderId }), 400],
      // The attacker's callback URL with the victim's (real) payment: the order named is not that payment's.
      ["another tenant's payment", callback(a.orderId, paidVictim.response!), 400],
      // Signed in as the attacker, the victim's genuine callback: not theirs.
      ["another tenant's session", callback(v.orderId, paidVictim.response!, { session: attacker }), 404],
      [
        "a changed payment id",
        callback(a.orderId, { ...good, razorpay_payment_id: "pay_Tampered000001" }),
        400,
      ],
      ["a changed signature", callback(a.orderId, { ...good, razorpay_signature: "0".repeat(64) }), 400],
      ["an amount added", callback(a.orderId, { ...good, amount: "1" }), 400],
      ["credits added", callback(a.orderId, { ...good, credits: "100000" }), 400],
      [
        "a field missing",
        callback(a.orderId, {
          razorpay_order_id: good.razorpay_order_id!,
          razorpay_payment_id: good.razorpay_payment_id!,
        }),
        400,
      ],
      ["no order in the URL", callback("", good), 400],
    ];
    for (const [name, res, status] of cases) {
      const r = await res;
      expect(`${name} → ${r.status}`).toBe(`${name} → ${status}`);
      expect(r.headers.get("location")).toBeNull();
    }
    expect(await balanceOf(victim.tenantId)).toBe(victimBefore);
    expect(await balanceOf(attacker.tenantId)).toBe(attackerBefore);
    expect(await purchaseRows(victim.tenantId)).toBe(0);
    expect(await purchaseRows(attacker.tenantId)).toBe(0);
    // The genuine callbacks still work afterwards.
    expect((await callback(a.orderId, good)).status).toBe(303);
    expect(await balanceOf(attacker.tenantId)).toBe(attackerBefore + 100);
  });

  it("sends a failed payment back to billing with a clear message, granting nothing", async () => {
    const s = await signIn();
    const before = await balanceOf(s.tenantId);
    const { orderId, razorpayOrderId } = await buy(s, "inr-100");
    await pay(razorpayOrderId, "fail");
    const res = await callback(orderId, {
      "error[code]": "BAD_REQUEST_ERROR",
      "error[description]": "Payment failed",
      "error[reason]": "payment_failed",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/billing?checkout=failed");
    const page = await (await get(s, res.headers.get("location")!)).text();
    expect(page).toContain("The payment did not go through and no credits were added.");
    expect(page).not.toContain("Payment failed");
    const cancelled = await (await get(s, "/admin/billing?checkout=cancelled")).text();
    expect(cancelled).toContain("Payment cancelled. Nothing was charged.");
    expect(await balanceOf(s.tenantId)).toBe(before);
  });

  it("shows another tenant's checkout page as not found", async () => {
    const owner = await signIn();
    const other = await signIn();
    const { orderId } = await buy(owner, "inr-100");
    expect((await get(other, `/admin/billing/checkout/${orderId}`)).status).toBe(404);
    expect((await get(owner, "/admin/billing/checkout/ord_missing")).status).toBe(404);
  });
});
