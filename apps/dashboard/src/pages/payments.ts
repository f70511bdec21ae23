// The tenant's payments (credit packs and the email-subdomain plan), newest first, and a printable
// receipt for each: the platform's name, the tenant's billing details as entered in settings,
// what was bought, the amount in the tenant's locale, Razorpay's payment id, the date and the
// status, refunds included.
import type { PaymentRecord, PaymentStatus } from "@concierge/core";
import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import { getPaymentReceipt, listPayments } from "@concierge/storage";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, html as respond } from "../http.ts";
import { page } from "../layout.ts";
import { formatDateTime } from "./insights.ts";

/** Payments per page; older ones are behind the `?before=` cursor. */
export const PAYMENTS_PAGE = 25;

const STATUS: Record<PaymentStatus, { label: string; badge: string }> = {
  captured: { label: msg("payments-status-captured"), badge: "ok" },
  failed: { label: msg("payments-status-failed"), badge: "danger" },
  refunded: { label: msg("payments-status-refunded"), badge: "warn" },
  partially_refunded: { label: msg("payments-status-partially-refunded"), badge: "warn" },
};

/** Razorpay's payment ids: `pay_` and its random part. */
const PAYMENT_ID = /^pay_[A-Za-z0-9]{1,40}$/;

function what(c: AuthedCtx, p: PaymentRecord, quantity: number | null = null): string {
  if (p.kind === "subscription") {
    return quantity
      ? c.t("payments-what-subscription-quantity", { quantity })
      : c.t("payments-what-subscription");
  }
  return c.t("payments-what-credits", { credits: formatNumber(c.locale, p.credits), count: p.credits });
}

function statusBadge(c: AuthedCtx, status: PaymentStatus): Html {
  return html`<span class="badge ${STATUS[status].badge}">${c.t(STATUS[status].label)}</span>`;
}

/** `?before=` as the list's own cursor (storage reads it; anything it does not know is the first page). */
function cursor(query: URLSearchParams): string | null {
  const raw = query.get("before");
  return raw && raw.length <= 100 ? raw : null;
}

/** GET /admin/billing/payments: newest first, PAYMENTS_PAGE at a time. */
export async function paymentsPage(c: AuthedCtx): Promise<Response> {
  const { t } = c;
  const before = cursor(c.searchParams);
  const { payments, next } = await listPayments(c.env.DB, c.session.tenantId, {
    before,
    limit: PAYMENTS_PAGE,
  });
  const body =
    payments.length === 0
      ? html`<p class="card muted">${t("payments-none")}</p>`
      : html`<div class="table-wrap"><table id="payments">
<caption class="sr-only">${t("payments-caption")}</caption>
<thead><tr><th scope="col">${t("payments-col-date")}</th><th scope="col">${t("payments-col-what")}</th><th scope="col" class="num">${t("payments-col-amount")}</th><th scope="col">${t("payments-col-status")}</th><th scope="col">${t("payments-col-receipt")}</th></tr></thead>
<tbody>
${payments.map(
  (p) => html`<tr data-payment="${p.id}">
<td>${formatDateTime(c.locale, p.createdAt)}</td>
<td>${what(c, p)}</td>
<td class="num">${formatMoney(c.locale, p.currency, p.amount)}</td>
<td>${statusBadge(c, p.status)}</td>
<td><a href="/admin/billing/payments/${encodeURIComponent(p.id)}">${t("payments-receipt-link")}<span class="sr-only"> ${p.id}</span></a></td>
</tr>`,
)}
</tbody></table></div>`;
  const nav =
    before !== null || next !== null
      ? html`<nav class="row" aria-label="${t("payments-pages")}">
${before !== null ? html`<a href="/admin/billing/payments">${t("payments-newest")}</a>` : null}
${next !== null ? html`<a href="/admin/billing/payments?before=${encodeURIComponent(next)}">${t("payments-older")}</a>` : null}
</nav>`
      : null;
  return respond(
    c,
    page(c, {
      title: t("payments-title"),
      section: "billing",
      body: html`<p><a href="/admin/billing">${t("payments-back")}</a></p>
<p class="muted">${t("payments-lead")}</p>
${body}
${nav}`,
    }),
  );
}

/** GET /admin/billing/payments/:paymentId: one payment's receipt (another tenant's: 404). */
export async function receiptPage(c: AuthedCtx): Promise<Response> {
  const paymentId = c.params.paymentId ?? "";
  if (!PAYMENT_ID.test(paymentId)) notFound();
  const receipt = await getPaymentReceipt(c.env.DB, c.session.tenantId, paymentId);
  if (!receipt) notFound();
  const { t } = c;
  const { payment: p, details } = receipt;
  const money = (minor: number) => formatMoney(c.locale, p.currency, minor);
  const paid = c.searchParams.get("paid") === "1" && p.status === "captured";
  const refunded = p.amountRefunded > 0;
  return respond(
    c,
    page(c, {
      title: t("receipt-title"),
      section: "billing",
      notice: paid
        ? p.kind === "credits"
          ? t("receipt-paid-credits", { credits: formatNumber(c.locale, p.credits), count: p.credits })
          : t("receipt-paid-subscription")
        : null,
      body: html`<p class="no-print row"><a href="/admin/billing/payments">${t("receipt-back")}</a>
<button type="button" class="secondary" data-print hidden>${t("receipt-print")}</button></p>
<article class="card receipt" aria-labelledby="receipt-h">
<header class="receipt-head">
<p class="receipt-platform">${t("receipt-platform")}</p>
<h2 id="receipt-h" class="receipt-h">${t("receipt-heading")}</h2>
</header>
<div class="receipt-parties">
<section aria-labelledby="billed-h">
<h3 id="billed-h">${t("receipt-billed-to")}</h3>
${
  details
    ? html`<p class="receipt-address"><strong>${details.legalName}</strong><br>${details.address}</p>
${details.gstin ? html`<p>${t("receipt-gstin", { gstin: details.gstin })}</p>` : null}`
    : html`<p>${c.session.tenantName}</p>
<p class="muted no-print">${t("receipt-no-details")} <a href="/admin/settings#billing-details">${t("receipt-add-details")}</a></p>`
}
</section>
</div>
<dl class="facts receipt-facts">
<dt>${t("receipt-date")}</dt><dd>${formatDateTime(c.locale, p.createdAt)}</dd>
<dt>${t("receipt-payment-id")}</dt><dd><code>${p.id}</code></dd>
${receipt.razorpayOrderId ? html`<dt>${t("receipt-order-id")}</dt><dd><code>${receipt.razorpayOrderId}</code></dd>` : null}
${p.method ? html`<dt>${t("receipt-method")}</dt><dd>${p.method}</dd>` : null}
<dt>${t("receipt-status")}</dt><dd>${statusBadge(c, p.status)}</dd>
</dl>
<div class="table-wrap"><table class="receipt-lines">
<thead><tr><th scope="col">${t("receipt-col-item")}</th><th scope="col" class="num">${t("receipt-col-amount")}</th></tr></thead>
<tbody>
<tr><td>${what(c, p, receipt.quantity)}</td><td class="num">${money(p.amount)}</td></tr>
${
  refunded
    ? html`<tr><td>${t("receipt-refunded")}${
        p.creditsTakenBack > 0
          ? html`<br><span class="muted">${t("receipt-credits-taken-back", {
              credits: formatNumber(c.locale, p.creditsTakenBack),
              count: p.creditsTakenBack,
            })}</span>`
          : null
      }</td><td class="num">−${money(p.amountRefunded)}</td></tr>`
    : null
}
</tbody>
<tfoot><tr><th scope="row">${t(p.status === "failed" ? "receipt-not-charged" : refunded ? "receipt-net" : "receipt-total")}</th><td class="num"><strong>${money(p.status === "failed" ? 0 : p.amount - p.amountRefunded)}</strong></td></tr></tfoot>
</table></div>
</article>`,
    }),
  );
}
