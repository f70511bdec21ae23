// The email-subdomain plan on /admin/email (PRODUCT.md §7): subdomains beyond the free quota are a
// monthly Razorpay subscription, `quantity` extra subdomains at the plan's price each. Subscribe
// opens Checkout for the subscription the pipeline created; Cancel ends it. While it is not paid
// (pending, halted, cancelled…), the extra subdomains' automatic replies and forwards are stopped
// (mail is still accepted and relayed to the inbox), and the page says so in a banner with a way
// to pay again.
//
// Razorpay's callback for a subscription is authenticated like the credit packs' (see the top of
// src/pages/checkout.ts): the callback URL names the subscription, the subscription's tenant is
// the tenant served, and the pipeline checks Razorpay's signature (payment id | subscription id,
// keyed with the key secret) against it.
import {
  AppError,
  SubscriptionCheckoutResultSchema,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from "@concierge/core";
import { formatMoney, msg } from "@concierge/i18n";
import * as v from "valibot";
import {
  type Currency,
  getCurrentSubscription,
  getSubdomainPlan,
  getSubscription,
  type SubdomainPlan,
} from "@concierge/storage";
import { errorSummary, type FieldErrors, field, num } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, type Ctx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { allowRazorpay, checkoutForm, formFields } from "./checkout.ts";
import { formatDate } from "./insights.ts";

/** The most extra subdomains one subscription covers (the form's bound; the pipeline's too). */
export const MAX_EXTRA_SUBDOMAINS = 20;

const SUBSCRIPTION_ID = /^sub_[A-Za-z0-9]{1,40}$/;

/**
 * Keeps the extra subdomains automatic (the pipeline's rule): paid for, or `pending` while
 * Razorpay retries a failed charge. Any other state stops their automatic replies and forwards.
 */
const COVERING: ReadonlySet<SubscriptionStatus> = new Set(["authenticated", "active", "pending"]);
/** Paid for: nothing to do but cancel. */
const PAID: ReadonlySet<SubscriptionStatus> = new Set(["authenticated", "active"]);
/**
 * Halted: Razorpay gave up retrying, and the pipeline starts no new subscription while this one
 * lives. Paying again cancels it and starts a new one for the same subdomains.
 */
const REPLACEABLE: ReadonlySet<SubscriptionStatus> = new Set(["halted"]);
/** A subscription that can be cancelled (the pipeline's: live, or created and not paid yet). */
const CANCELLABLE: ReadonlySet<SubscriptionStatus> = new Set([
  "created",
  "authenticated",
  "active",
  "pending",
  "halted",
]);

const BADGE: Record<SubscriptionStatus, string> = {
  created: "warn",
  authenticated: "ok",
  active: "ok",
  pending: "warn",
  halted: "danger",
  cancelled: "danger",
  completed: "warn",
  expired: "danger",
  paused: "warn",
};

export const QuantitySchema = v.object({
  quantity: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(1, msg("sub-err-quantity")),
    v.maxValue(MAX_EXTRA_SUBDOMAINS, msg("sub-err-quantity")),
  ),
});

/** What brought the browser back to /admin/email from the subscription's Checkout. */
export const SUBSCRIPTION_NOTICES: Record<string, { text: string; error: boolean }> = {
  active: { text: msg("sub-notice-active"), error: false },
  cancelled: { text: msg("sub-notice-cancelled"), error: false },
  "checkout-cancelled": { text: msg("sub-notice-checkout-cancelled"), error: false },
  failed: { text: msg("sub-notice-failed"), error: true },
};

export type SubscriptionState = {
  plan: SubdomainPlan | null;
  subscription: SubscriptionRecord | null;
  /** Subdomains beyond the free quota, which only a paid subscription keeps automatic. */
  extra: number;
  quota: number;
};

export async function subscriptionState(
  c: AuthedCtx,
  used: number,
  quota: number,
): Promise<SubscriptionState> {
  const [plan, subscription] = await Promise.all([
    getSubdomainPlan(c.env.DB, c.session.currency as Currency),
    getCurrentSubscription(c.env.DB, c.session.tenantId),
  ]);
  return { plan, subscription, extra: Math.max(0, used - quota), quota };
}

/**
 * The banner at the top of /admin/email while the extra subdomains are not paid for: stopped
 * (halted, cancelled…), or about to be (pending: Razorpay is retrying the charge).
 */
export function subscriptionBanner(c: AuthedCtx, s: SubscriptionState): Html | null {
  const sub = s.subscription;
  if (!sub || s.extra === 0 || PAID.has(sub.status)) return null;
  const { t } = c;
  const retrying = COVERING.has(sub.status);
  return html`<div class="notice ${retrying ? "warn" : "error"} banner" role="alert" id="subscription-banner">
<p><strong>${t("sub-banner-title", { status: t(`sub-status-${sub.status}`) })}</strong></p>
<p>${t(retrying ? "sub-banner-retrying" : "sub-banner-stopped", { count: s.extra })}</p>
<p class="banner-action"><a class="button" href="#subscription">${t(retrying ? "sub-banner-manage" : "sub-banner-pay")}</a></p>
</div>`;
}

/** The plan, the subscription's state, and Subscribe or Cancel. */
export function subscriptionSection(
  c: AuthedCtx,
  s: SubscriptionState,
  form: { quantity?: string; errors?: FieldErrors } = {},
): Html {
  const { t } = c;
  const sub = s.subscription;
  if (!s.plan) {
    return html`<section class="card" id="subscription" aria-labelledby="subscription-h">
<h2 id="subscription-h" class="card-h">${t("sub-heading")}</h2>
<p class="muted">${t("sub-no-plan", { quota: s.quota })}</p>
</section>`;
  }
  const price = formatMoney(c.locale, s.plan.currency, s.plan.amount);
  const canBuy = c.env.RAZORPAY_KEY_ID !== "";
  const state = sub
    ? html`<p>${t("sub-state", { quantity: sub.quantity })}
<span class="badge ${BADGE[sub.status]}">${t(`sub-status-${sub.status}`)}</span>${
        PAID.has(sub.status) && sub.currentEnd
          ? html` <span class="muted">${t("sub-renews", { date: formatDate(c.locale, sub.currentEnd) })}</span>`
          : null
      }</p>
${
  sub.status === "created" && canBuy
    ? html`<p><a href="/admin/email/subscription/checkout/${encodeURIComponent(sub.id)}">${t("sub-continue")}</a></p>`
    : null
}`
    : null;
  const replace = sub !== null && REPLACEABLE.has(sub.status);
  const subscribe =
    canBuy && (sub === null || !COVERING.has(sub.status))
      ? html`${errorSummary(c, form.errors)}
<form class="stack" method="post" action="/admin/email/subscription#subscription" novalidate>
${csrfField(c)}
${replace ? html`<input type="hidden" name="replace" value="${sub!.id}"><p class="muted">${t("sub-replace-lead")}</p>` : null}
${field(c, {
  name: "quantity",
  label: t("sub-quantity"),
  hint: t("sub-quantity-hint", { price, max: MAX_EXTRA_SUBDOMAINS }),
  type: "number",
  value: form.quantity ?? String(Math.min(MAX_EXTRA_SUBDOMAINS, Math.max(1, s.extra, sub?.quantity ?? 1))),
  error: form.errors?.quantity ?? null,
  attrs: html`min="1" max="${MAX_EXTRA_SUBDOMAINS}" step="1" inputmode="numeric" required`,
})}
<div><button type="submit">${t(replace ? "sub-pay-again" : sub ? "sub-subscribe-again" : "sub-subscribe")}</button></div>
</form>`
      : null;
  const cancel =
    sub && CANCELLABLE.has(sub.status)
      ? html`<details class="confirm">
<summary>${t("sub-cancel")}</summary>
<form method="post" action="/admin/email/subscription/cancel">
${csrfField(c)}
<p>${t("sub-cancel-confirm", { count: s.extra })}</p>
<div><button class="danger" type="submit">${t("sub-cancel-submit")}</button></div>
</form>
</details>`
      : null;
  return html`<section class="card" id="subscription" aria-labelledby="subscription-h">
<h2 id="subscription-h" class="card-h">${t("sub-heading")}</h2>
<p>${t("sub-plan", { price, quota: s.quota })}</p>
${state}
${canBuy ? null : html`<p class="muted">${t("billing-packs-not-set-up")}</p>`}
${subscribe}
${cancel}
</section>`;
}

/**
 * POST /admin/email/subscription: the pipeline creates the Razorpay subscription for `quantity`
 * extra subdomains at the plan's price; the browser goes on to pay for it in Checkout.
 */
export async function subscribe(
  c: AuthedCtx,
  again: (form: { quantity: string; errors: FieldErrors }, status: number) => Promise<Response>,
): Promise<Response> {
  const typed = c.form.get("quantity");
  const quantity = typeof typed === "string" ? typed : "";
  const checked = v.safeParse(QuantitySchema, { quantity: num(c.form, "quantity") });
  if (!checked.success) {
    return again({ quantity, errors: { quantity: checked.issues[0].message } }, 422);
  }
  // Paying again after Razorpay halted the subscription: that one is cancelled first (the
  // pipeline starts no second subscription while one lives), then a new one is started.
  const replace = c.form.get("replace");
  if (typeof replace === "string" && replace !== "") {
    const current = await getCurrentSubscription(c.env.DB, c.session.tenantId);
    if (current?.id === replace && REPLACEABLE.has(current.status)) {
      const cancelled = await c.env.PIPELINE.cancelSubscription(c.session.tenantId);
      if (!cancelled.ok && cancelled.error.code !== "not_found") {
        return again({ quantity, errors: { _form: msg("sub-err-start") } }, 502);
      }
    }
  }
  const res = await c.env.PIPELINE.startSubscription(c.session.tenantId, checked.output.quantity);
  if (res.ok) {
    return redirect(`/admin/email/subscription/checkout/${encodeURIComponent(res.subscriptionId)}`);
  }
  switch (res.error.code) {
    case "invalid_quantity":
      return again({ quantity, errors: { quantity: msg("sub-err-quantity") } }, 422);
    case "subscription_exists":
      return again({ quantity, errors: { _form: msg("sub-err-already") } }, 409);
    case "not_found":
      return again({ quantity, errors: { _form: msg("sub-err-no-plan") } }, 422);
    default:
      return again({ quantity, errors: { _form: msg("sub-err-start") } }, 502);
  }
}

/** GET /admin/email/subscription/checkout/:subscriptionId: pay for the subscription just started. */
export async function subscriptionCheckoutPage(c: AuthedCtx): Promise<Response> {
  const id = c.params.subscriptionId ?? "";
  if (!SUBSCRIPTION_ID.test(id)) notFound();
  const sub = await getSubscription(c.env.DB, id, c.session.tenantId);
  if (!sub) notFound();
  if (sub.status !== "created") return redirect("/admin/email#subscription");
  const { t } = c;
  // The subscription's own amount: the plan's price times the quantity when it was started.
  const perMonth = formatMoney(c.locale, sub.currency, sub.amount);
  allowRazorpay(c);
  const description = t("sub-checkout-description", { quantity: sub.quantity });
  return respond(
    c,
    page(c, {
      title: t("sub-checkout-title"),
      section: "email",
      body: html`<section class="card checkout" aria-labelledby="checkout-h">
<h2 id="checkout-h" class="checkout-h">${description}</h2>
<p class="stat">${t("sub-per-month", { price: perMonth })}</p>
<p class="muted">${t("sub-checkout-lead")}</p>
${checkoutForm(c, {
  keyId: c.env.RAZORPAY_KEY_ID,
  target: { subscription_id: sub.id },
  amount: null,
  currency: null,
  description,
  callbackUrl: `${c.origin}/admin/email/subscription/complete?subscription=${encodeURIComponent(sub.id)}`,
  cancelUrl: `${c.origin}/admin/email?subscription=checkout-cancelled#subscription`,
  button: t("sub-checkout-pay", { price: perMonth }),
})}
</section>`,
    }),
  );
}

const CallbackSchema = v.strictObject(SubscriptionCheckoutResultSchema.entries);

const refused = (status: number, id: string): never => {
  throw new AppError(status, "checkout_refused", msg(id));
};

/**
 * POST /admin/email/subscription/complete?subscription=sub_…: Razorpay's callback after the
 * subscription's Checkout (self-authenticated; see the top of this file).
 */
export async function subscriptionComplete(c: Ctx): Promise<Response> {
  const id = c.searchParams.get("subscription") ?? "";
  if (!SUBSCRIPTION_ID.test(id)) return refused(400, "checkout-err-invalid");
  const fields = formFields(c.form);
  if (!fields) return refused(400, "checkout-err-invalid");
  if (Object.keys(fields).some((k) => k.startsWith("error["))) {
    return redirect("/admin/email?subscription=failed#subscription");
  }
  const result = v.safeParse(CallbackSchema, fields);
  if (!result.success || result.output.razorpay_subscription_id !== id) {
    return refused(400, "checkout-err-invalid");
  }
  const sub = await getSubscription(c.env.DB, id);
  if (!sub) return refused(400, "checkout-err-invalid");
  if (c.session && c.session.tenantId !== sub.tenantId) notFound();
  const res = await c.env.PIPELINE.confirmSubscription(sub.tenantId, result.output);
  if (res.ok) return redirect("/admin/email?subscription=active#subscription");
  if (res.error.code === "razorpay_unavailable") return refused(502, "sub-err-unconfirmed");
  return refused(400, "checkout-err-refused");
}

/** POST /admin/email/subscription/cancel: ends the subscription at once (Razorpay, then our row). */
export async function cancelSubscriptionForm(c: AuthedCtx): Promise<Response> {
  const res = await c.env.PIPELINE.cancelSubscription(c.session.tenantId);
  if (res.ok) return redirect("/admin/email?subscription=cancelled#subscription");
  if (res.error.code === "not_found") notFound();
  throw new AppError(502, "cancel_failed", msg("sub-err-cancel"));
}
