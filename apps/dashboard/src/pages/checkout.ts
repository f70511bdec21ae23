// Razorpay Checkout for a credit pack (PRODUCT.md §7): the checkout page for an order the pipeline
// created and recorded, and the callback Razorpay sends the browser back to.
//
// The page works with and without JavaScript. Its form posts the order to Razorpay's hosted
// checkout (RAZORPAY_HOSTED_CHECKOUT_URL: a page on Razorpay's site that posts the result to our
// callback_url). With JavaScript, /assets/checkout.js opens the same order in Checkout's modal
// (RAZORPAY_CHECKOUT_URL) instead, with `redirect: true`, so both ways end in the same POST to
// the callback. Only this page's CSP allows Razorpay's origins.
//
// How the callback is authenticated. Razorpay answers with a top-level form POST from its own
// origin (api.razorpay.com) to /admin/billing/checkout/complete. That request carries no CSRF token
// of ours, and no session either: the session cookie is SameSite=Lax (src/cookies.ts), which
// browsers leave off cross-site POSTs. So the callback is one of the few signed-in-area routes the
// stages let through without a session or CSRF token (SELF_AUTHENTICATED in src/stages.ts), and it
// authenticates itself:
// - the callback URL names OUR order (`?order=ord_…`, set by this page when it opened Checkout);
//   the order's Razorpay id must be the one posted back, and the order's tenant is the tenant
//   served: never a tenant named by the browser;
// - the pipeline's confirmCheckout checks `razorpay_signature` (HMAC-SHA256 of our stored
//   Razorpay order id and the payment id, keyed with the key secret only Razorpay and we hold)
//   against that order, confirms the capture with Razorpay, and grants the credits recorded on the
//   order, once (ledger reference = the payment id; the webhook grants the same credits once);
// - the posted fields must be exactly Razorpay's three: anything else (an `amount`, `credits`…) is
//   refused, since credits and amount only ever come from our order record.
// A forged or replayed callback therefore grants nothing to anyone but the order's owner, and to
// the owner only what Razorpay actually captured for that order, once. If the browser does carry a
// session (a same-site callback), it must be the order's tenant's. Then the browser is sent (303,
// a top-level GET, which Lax cookies accompany) to the receipt, where the session is required as
// usual.
import { AppError, CheckoutResultSchema, type PaymentOutcome } from "@concierge/core";
import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import * as v from "valibot";
import { getOrder, getOrderByRazorpayId } from "@concierge/storage";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, allowInCsp, type Ctx, notFound, redirect, html as respond } from "../http.ts";
import { page } from "../layout.ts";

/** Our order ids, as the pipeline makes them (`ord_` and a random part). */
const OUR_ORDER_ID = /^ord_[A-Za-z0-9_-]{1,64}$/;

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * What the checkout page adds to the CSP, and nothing else does: Checkout's script host, the
 * frames, calls and images of Checkout and of the hosted page's host, and (for the form that
 * posts to the hosted page, and Checkout's own redirect to it) form-action.
 */
export function allowRazorpay(c: Ctx): void {
  const script = originOf(c.env.RAZORPAY_CHECKOUT_URL);
  const hosted = originOf(c.env.RAZORPAY_HOSTED_CHECKOUT_URL);
  const both = [...new Set([script, hosted].filter((o): o is string => o !== null))];
  allowInCsp(c, {
    "script-src": script ? [script] : [],
    "frame-src": both,
    "connect-src": both,
    "img-src": both,
    "form-action": hosted ? [hosted] : [],
  });
}

/** The fields Razorpay's hosted checkout reads; checkout.js reads the same ones for the modal. */
export function checkoutForm(
  c: AuthedCtx,
  f: {
    keyId: string;
    /** `order_id` for a pack, `subscription_id` for the subdomain plan. */
    target: { order_id: string } | { subscription_id: string };
    amount: number | null;
    currency: string | null;
    description: string;
    callbackUrl: string;
    cancelUrl: string;
    button: string;
  },
): Html {
  const { t } = c;
  const hidden = (name: string, value: string | number | null | undefined) =>
    value === null || value === undefined || value === ""
      ? null
      : html`<input type="hidden" name="${name}" value="${value}">`;
  const [targetName, targetValue] = Object.entries(f.target)[0]!;
  return html`<form id="checkout-form" class="stack" method="post" action="${c.env.RAZORPAY_HOSTED_CHECKOUT_URL}"
  data-msg-dismissed="${t("checkout-dismissed")}" data-msg-failed="${t("checkout-failed-inline")}">
${hidden("key_id", f.keyId)}
${hidden(targetName, targetValue)}
${hidden("amount", f.amount)}
${hidden("currency", f.currency)}
${hidden("name", t("checkout-merchant-name"))}
${hidden("description", f.description)}
${hidden("prefill[name]", c.session.userName ?? c.session.tenantName)}
${hidden("prefill[email]", c.session.userEmail)}
${hidden("callback_url", f.callbackUrl)}
${hidden("cancel_url", f.cancelUrl)}
<div class="row"><button type="submit" id="checkout-pay">${f.button}</button>
<a class="button secondary" href="${new URL(f.cancelUrl).pathname}${new URL(f.cancelUrl).search}">${t("checkout-cancel")}</a></div>
<p class="muted checkout-status" id="checkout-status" role="status" aria-live="polite"></p>
</form>
<script defer src="${c.env.RAZORPAY_CHECKOUT_URL}" nonce="${c.nonce}"></script>
<script type="module" src="/assets/checkout.js?v=${c.assetVersion}" nonce="${c.nonce}"></script>`;
}

/** GET /admin/billing/checkout/:orderId: pay for an order this tenant created. */
export async function checkoutPage(c: AuthedCtx): Promise<Response> {
  const orderId = c.params.orderId ?? "";
  if (!OUR_ORDER_ID.test(orderId)) notFound();
  const order = await getOrder(c.env.DB, c.session.tenantId, orderId);
  if (!order) notFound();
  const { t } = c;
  const price = formatMoney(c.locale, order.currency, order.amount);
  const credits = formatNumber(c.locale, order.credits);
  if (order.status === "paid") return redirect("/admin/billing/payments");
  allowRazorpay(c);
  const description = t("checkout-description", { credits, count: order.credits });
  return respond(
    c,
    page(c, {
      title: t("checkout-title"),
      section: "billing",
      body: html`<section class="card checkout" aria-labelledby="checkout-h">
<h2 id="checkout-h" class="checkout-h">${description}</h2>
<p class="stat">${price}</p>
<p class="muted">${t("checkout-lead")}</p>
${checkoutForm(c, {
  keyId: c.env.RAZORPAY_KEY_ID,
  target: { order_id: order.razorpayOrderId },
  amount: order.amount,
  currency: order.currency,
  description,
  callbackUrl: `${c.origin}/admin/billing/checkout/complete?order=${encodeURIComponent(order.id)}`,
  cancelUrl: `${c.origin}/admin/billing?checkout=cancelled`,
  button: t("checkout-pay", { price }),
})}
<p class="muted small">${t("checkout-order-ref", { order: order.id })}</p>
</section>`,
    }),
  );
}

/** Exactly the fields Checkout posts on success; anything more is not from Razorpay. */
const CallbackSchema = v.strictObject(CheckoutResultSchema.entries);

/** The posted form as name → value; a repeated name or a file is not Razorpay's. */
export function formFields(form: FormData): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [k, value] of form) {
    if (typeof value !== "string" || k in out) return null;
    out[k] = value;
  }
  return out;
}

const refused = (status: number, id: string): never => {
  throw new AppError(status, "checkout_refused", msg(id));
};

/** Where the browser goes after a confirmed payment: its receipt, saying what happened. */
function afterPayment(outcome: PaymentOutcome): Response {
  if (outcome.status === "pending") return redirect("/admin/billing?checkout=pending");
  return redirect(`/admin/billing/payments/${encodeURIComponent(outcome.paymentId)}?paid=1`);
}

/**
 * POST /admin/billing/checkout/complete?order=ord_…: Razorpay's callback (see the top of this file
 * for how it is authenticated without a session or a CSRF token).
 */
export async function checkoutComplete(c: Ctx): Promise<Response> {
  const orderId = c.searchParams.get("order") ?? "";
  if (!OUR_ORDER_ID.test(orderId)) return refused(400, "checkout-err-invalid");
  const fields = formFields(c.form);
  if (!fields) return refused(400, "checkout-err-invalid");
  // A failed or abandoned payment (`error[code]`, `error[description]`, …): nothing to record
  // here (the payment.failed webhook marks the order), the person tries again from billing.
  if (Object.keys(fields).some((k) => k.startsWith("error["))) {
    return redirect("/admin/billing?checkout=failed");
  }
  const result = v.safeParse(CallbackSchema, fields);
  if (!result.success) return refused(400, "checkout-err-invalid");
  const posted = result.output;
  const order = await getOrderByRazorpayId(c.env.DB, posted.razorpay_order_id);
  if (!order || order.id !== orderId) return refused(400, "checkout-err-invalid");
  if (c.session && c.session.tenantId !== order.tenantId) notFound();
  const res = await c.env.PIPELINE.confirmCheckout(order.tenantId, posted);
  if (res.ok) return afterPayment(res);
  switch (res.error.code) {
    case "payment_failed":
      return redirect("/admin/billing?checkout=failed");
    case "razorpay_unavailable":
      // Razorpay could not be asked: if the payment went through, its webhook grants the credits.
      return refused(502, "checkout-err-unconfirmed");
    default:
      // invalid_signature, payment_mismatch, amount_mismatch, razorpay_refused (no such payment),
      // payment_refunded, not_found: nothing was granted.
      return refused(400, "checkout-err-refused");
  }
}
