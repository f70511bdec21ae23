import { subdomainFailure } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { type AutomaticMailToday, automaticMailToday, getEmailSubdomainQuota } from "@concierge/storage";
import { errorSummary, field, type FieldErrors, str } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, type Ctx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page, publicPage } from "../layout.ts";
import { formatDateTime } from "./insights.ts";
import {
  SUBSCRIPTION_NOTICES,
  subscribe,
  subscriptionBanner,
  subscriptionSection,
  subscriptionState,
} from "./email-subscription.ts";

// The email pages: subdomains (each provisioned at Cloudflare by the pipeline), forward addresses
// with their confirmation state, and the public page a confirmation link opens.

type Subdomain = Awaited<ReturnType<Env["PIPELINE"]["listEmailSubdomains"]>>[number];
type ForwardAddress = Awaited<ReturnType<Env["PIPELINE"]["listForwardAddresses"]>>[number];

/** The platform's mail domain, as the pipeline names it (shown before any subdomain exists). */
const EMAIL_DOMAIN = "cncg.email";

const SUBDOMAIN_NOTICES: Record<string, string> = {
  created: "em-created",
  "created-failed": "em-created-failed",
  retried: "em-retried",
  deleted: "em-deleted",
};

export const STATE_BADGE: Record<Subdomain["status"], string> = {
  active: "ok",
  provisioning: "warn",
  failed: "danger",
};

/**
 * Why a subdomain's setup failed, in the tenant's language: the stored reason's step and
 * Cloudflare's number, never Cloudflare's English words (also the wizard's channels step's).
 */
export function subdomainFailureLine(c: AuthedCtx, s: Subdomain): Html | null {
  if (s.status !== "failed" || !s.statusError) return null;
  return html`<br><span class="selftest-reason">${c.t("email-setup-failed", subdomainFailure(s.statusError))}</span>`;
}

function subdomainRow(c: AuthedCtx, s: Subdomain): Html {
  const { t } = c;
  const base = `/admin/email/${encodeURIComponent(s.accountId)}`;
  return html`<tr id="subdomain-${s.accountId}">
  <td class="account"><strong>*@${s.domain}</strong></td>
  <td><span class="badge ${STATE_BADGE[s.status]}">${t(`em-state-${s.status}`)}</span>${subdomainFailureLine(c, s)}</td>
  <td><div class="actions">
    <a class="button secondary" href="${base}/routing">${t("em-routing-link")}</a>
    ${
      s.status !== "active"
        ? html`<form class="inline" method="post" action="${base}/retry">${csrfField(c)}<button type="submit">${t("em-retry")}</button></form>`
        : null
    }
    <details class="confirm">
      <summary>${t("em-delete")}</summary>
      <form method="post" action="${base}/delete">
        ${csrfField(c)}
        <p>${t("em-delete-confirm", { domain: s.domain })}</p>
        <div><button class="danger" type="submit">${t("em-delete-submit")}</button></div>
      </form>
    </details>
  </div></td>
</tr>`;
}

/**
 * The tenant's automatic mail today (issue 17): how many auto-replies and forwards went out of the
 * daily limit, and when the limit was reached, until when automatic mail is paused.
 */
function automaticSection(c: AuthedCtx, today: AutomaticMailToday): Html {
  const { t } = c;
  const paused = today.limitedAt !== null || today.limit === 0;
  return html`<section class="card" id="automatic-mail">
<h2 class="card-h">${t("ea-heading")}</h2>
<p>${t("ea-count", { sent: today.sent, limit: today.limit })}</p>
${
  paused
    ? html`<p class="notice error" role="status" id="automatic-mail-paused">${
        today.limit === 0
          ? t("ea-off")
          : t("ea-paused", {
              at: formatDateTime(c.locale, today.limitedAt ?? Date.now()),
              until: formatDateTime(c.locale, today.resetsAt),
            })
      }</p>`
    : null
}
<p class="muted">${t("ea-lead", { limit: today.limit })}</p>
</section>`;
}

function quotaOf(c: AuthedCtx): Promise<number> {
  return getEmailSubdomainQuota(c.env.DB, c.session.tenantId);
}

async function renderSubdomains(
  c: AuthedCtx,
  opts: {
    name?: string;
    errors?: FieldErrors;
    error?: string | null;
    status?: number;
    subscription?: { quantity: string; errors: FieldErrors };
  } = {},
): Promise<Response> {
  const { t } = c;
  const [subdomains, quota, today] = await Promise.all([
    c.env.PIPELINE.listEmailSubdomains(c.session.tenantId),
    quotaOf(c),
    automaticMailToday(c.env.DB, c.session.tenantId, Date.now()),
  ]);
  const subscription = await subscriptionState(c, subdomains.length, quota);
  const domain = subdomains[0]?.domain.split(".").slice(1).join(".") || EMAIL_DOMAIN;
  const subNotice = opts.status ? undefined : SUBSCRIPTION_NOTICES[c.searchParams.get("subscription") ?? ""];
  const noticeId =
    SUBDOMAIN_NOTICES[c.searchParams.get("done") ?? ""] ??
    (subNotice && !subNotice.error ? subNotice.text : null);
  const errorId = opts.error ?? (subNotice?.error ? subNotice.text : null);
  const table =
    subdomains.length === 0
      ? html`<p class="card muted">${t("em-empty")}</p>`
      : html`<div class="table-wrap card" id="email-subdomains">
<table>
<caption class="sr-only">${t("em-caption")}</caption>
<thead><tr><th scope="col">${t("em-col-domain")}</th><th scope="col">${t("em-col-state")}</th><th scope="col">${t("em-col-actions")}</th></tr></thead>
<tbody>
${subdomains.map((s) => subdomainRow(c, s))}
</tbody>
</table>
</div>`;
  const typed = opts.name ?? "";
  return respond(
    c,
    page(c, {
      title: t("em-title"),
      section: "email",
      notice: noticeId ? t(noticeId) : null,
      error: errorId ? t(errorId) : null,
      body: html`${subscriptionBanner(c, subscription)}
<p class="muted">${t("em-lead", { domain })}</p>
<p class="row"><a class="button secondary" href="/admin/email/addresses">${t("em-addresses-link")}</a></p>
${table}
<p class="muted">${
        subscription.extra > 0
          ? t("sub-quota-extra", { used: subdomains.length, quota, extra: subscription.extra })
          : t("em-quota", { used: subdomains.length, quota })
      }</p>
${subdomains.length > 0 ? automaticSection(c, today) : null}
<section class="card">
<h2 class="card-h">${t("em-create-heading")}</h2>
${errorSummary(c, opts.errors)}
<form method="post" action="/admin/email">
${csrfField(c)}
${field(c, {
  name: "name",
  label: t("em-create-name"),
  value: typed,
  hint: t("em-create-hint"),
  error: opts.errors?.name ?? null,
  attrs: html`autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="40"`,
})}
<p class="muted" id="subdomain-preview">${t("em-create-preview", { name: typed.trim().toLowerCase() || "name", domain })}</p>
<div><button type="submit">${t("em-create-submit")}</button></div>
</form>
</section>
${subscriptionSection(c, subscription, opts.subscription)}`,
    }),
    opts.status ?? 200,
  );
}

/** POST /admin/email/subscription: Subscribe (src/pages/email-subscription.ts), errors shown here. */
export function subscribeForm(c: AuthedCtx): Promise<Response> {
  return subscribe(c, (form, status) => renderSubdomains(c, { subscription: form, status }));
}

/** GET /admin/email: the tenant's subdomains with their state, and the form to add one. */
export function emailPage(c: AuthedCtx): Promise<Response> {
  return renderSubdomains(c);
}

/** Why a subdomain was refused, as a Fluent id (also the wizard's inline form's). */
export function subdomainErrorId(code: string): string {
  const known = ["invalid_name", "reserved_name", "name_taken", "name_held", "quota_reached"];
  return msg(known.includes(code) ? `em-err-${code}` : "error-internal");
}

/** POST /admin/email: creates and provisions a subdomain; a bad or taken name is 422 with the form. */
export async function createSubdomain(c: AuthedCtx): Promise<Response> {
  const name = str(c.form, "name");
  const r = await c.env.PIPELINE.createEmailSubdomain(c.session.tenantId, name);
  if (!r.ok)
    return renderSubdomains(c, { name, errors: { name: subdomainErrorId(r.error.code) }, status: 422 });
  const done = r.subdomain.status === "active" ? "created" : "created-failed";
  return redirect(`/admin/email?done=${done}#subdomain-${r.subdomain.accountId}`);
}

/** POST /admin/email/:accountId/retry: provisioning again after a failure. */
export async function retrySubdomain(c: AuthedCtx): Promise<Response> {
  const r = await c.env.PIPELINE.retryEmailSubdomain(c.session.tenantId, c.params.accountId ?? "");
  if (!r.ok) notFound();
  return redirect(`/admin/email?done=retried#subdomain-${r.subdomain.accountId}`);
}

/** POST /admin/email/:accountId/delete: Cloudflare's rule first, then the rows (pipeline). */
export async function deleteSubdomain(c: AuthedCtx): Promise<Response> {
  const r = await c.env.PIPELINE.deleteEmailSubdomain(c.session.tenantId, c.params.accountId ?? "");
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    return renderSubdomains(c, { error: msg("em-err-cloudflare_failed"), status: 502 });
  }
  return redirect("/admin/email?done=deleted");
}

// Forward addresses.

const ADDRESS_NOTICES: Record<string, string> = {
  added: "fa-added",
  unsent: "fa-added-unsent",
  resent: "fa-resent",
  deleted: "fa-deleted",
};

function addressState(a: ForwardAddress): "verified" | "pending" | "expired" {
  if (a.verifiedAt !== null) return "verified";
  return a.tokenExpiresAt !== null && a.tokenExpiresAt > Date.now() ? "pending" : "expired";
}

function addressRow(c: AuthedCtx, a: ForwardAddress): Html {
  const { t } = c;
  const state = addressState(a);
  const base = `/admin/email/addresses/${encodeURIComponent(a.id)}`;
  const badge = state === "verified" ? "ok" : state === "pending" ? "warn" : "danger";
  return html`<tr id="address-${a.id}">
  <td class="account"><strong>${a.address}</strong></td>
  <td><span class="badge ${badge}">${t(`fa-state-${state}`)}</span></td>
  <td><div class="actions">
    ${
      state !== "verified"
        ? html`<form class="inline" method="post" action="${base}/resend">${csrfField(c)}<button class="secondary" type="submit">${t("fa-resend")}</button></form>`
        : null
    }
    <details class="confirm">
      <summary>${t("fa-delete")}</summary>
      <form method="post" action="${base}/delete">
        ${csrfField(c)}
        <p>${t("fa-delete-confirm", { address: a.address })}</p>
        <div><button class="danger" type="submit">${t("fa-delete-submit")}</button></div>
      </form>
    </details>
  </div></td>
</tr>`;
}

async function renderAddresses(
  c: AuthedCtx,
  opts: { address?: string; errors?: FieldErrors; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const addresses = await c.env.PIPELINE.listForwardAddresses(c.session.tenantId);
  const noticeId = ADDRESS_NOTICES[c.searchParams.get("done") ?? ""];
  const table =
    addresses.length === 0
      ? html`<p class="card muted">${t("fa-empty")}</p>`
      : html`<div class="table-wrap card" id="forward-addresses">
<table>
<caption class="sr-only">${t("fa-caption")}</caption>
<thead><tr><th scope="col">${t("fa-col-address")}</th><th scope="col">${t("fa-col-state")}</th><th scope="col">${t("fa-col-actions")}</th></tr></thead>
<tbody>
${addresses.map((a) => addressRow(c, a))}
</tbody>
</table>
</div>`;
  return respond(
    c,
    page(c, {
      title: t("fa-title"),
      section: "email",
      notice: noticeId ? t(noticeId) : null,
      error: opts.error ? t(opts.error) : null,
      body: html`<p class="muted">${t("fa-lead")}</p>
<p class="row"><a class="button secondary" href="/admin/email">${t("er-back")}</a></p>
${table}
<section class="card">
<h2>${t("fa-add-heading")}</h2>
${errorSummary(c, opts.errors)}
<form method="post" action="/admin/email/addresses">
${csrfField(c)}
${field(c, {
  name: "address",
  label: t("fa-add-label"),
  type: "email",
  value: opts.address ?? "",
  error: opts.errors?.address ?? null,
  attrs: html`autocomplete="email" maxlength="254"`,
})}
<div><button type="submit">${t("fa-add-submit")}</button></div>
</form>
</section>`,
    }),
    opts.status ?? 200,
  );
}

/** GET /admin/email/addresses: forward addresses and whether each confirmed its link. */
export function addressesPage(c: AuthedCtx): Promise<Response> {
  return renderAddresses(c);
}

/** Why a forward address was refused, as a Fluent id (also the wizard's notifications step's). */
export function addressErrorId(code: string): string {
  const known = ["invalid_email", "address_exists", "limit_reached", "daily_limit"];
  return msg(known.includes(code) ? `fa-err-${code}` : "error-internal");
}

/** POST /admin/email/addresses: adds one and mails its confirmation link (pipeline). */
export async function addAddress(c: AuthedCtx): Promise<Response> {
  const address = str(c.form, "address");
  const r = await c.env.PIPELINE.addForwardAddress(c.session.tenantId, address);
  if (!r.ok)
    return renderAddresses(c, { address, errors: { address: addressErrorId(r.error.code) }, status: 422 });
  return redirect(`/admin/email/addresses?done=${r.sent ? "added" : "unsent"}#address-${r.address.id}`);
}

/** POST /admin/email/addresses/:addressId/resend: a new link; the old one stops working. */
export async function resendAddress(c: AuthedCtx): Promise<Response> {
  const r = await c.env.PIPELINE.resendForwardVerification(c.session.tenantId, c.params.addressId ?? "");
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    return renderAddresses(c, { error: msg(`fa-err-${r.error.code}`), status: 409 });
  }
  return redirect("/admin/email/addresses?done=resent");
}

/** POST /admin/email/addresses/:addressId/delete: refused while a routing rule forwards to it. */
export async function deleteAddress(c: AuthedCtx): Promise<Response> {
  const r = await c.env.PIPELINE.deleteForwardAddress(c.session.tenantId, c.params.addressId ?? "");
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    return renderAddresses(c, { error: msg("fa-err-address_in_use"), status: 409 });
  }
  return redirect("/admin/email/addresses?done=deleted");
}

/**
 * GET /email/verify?token=…: public (the person confirming has no account). It only asks: mail
 * security scanners open every link in a message, and must not confirm an address on their own.
 */
export async function verifyPage(c: Ctx): Promise<Response> {
  const token = c.searchParams.get("token") ?? "";
  const body = html`<h1>${c.t("ev-title-confirm")}</h1>
<p>${c.t("ev-confirm")}</p>
<form method="post" action="/email/verify">
  <input type="hidden" name="token" value="${token}">
  <button type="submit" class="button">${c.t("ev-confirm-button")}</button>
</form>`;
  return respond(c, publicPage(c, { title: c.t("ev-title-confirm"), body }), 200);
}

/**
 * POST /email/verify: confirms with the single-use token from the form. The token is the proof
 * (only the address's owner received it), so no session or CSRF token is involved; the page says
 * plainly whether it worked, expired or is not valid.
 */
export async function confirmVerify(c: Ctx): Promise<Response> {
  const token = String(c.form.get("token") ?? "");
  const r = await c.env.PIPELINE.verifyForwardAddress(token);
  const status = r.status;
  const body = html`<h1>${c.t(`ev-title-${status}`)}</h1>
<p>${status === "verified" ? c.t("ev-verified", { address: r.address ?? "" }) : c.t(`ev-${status}`)}</p>`;
  return respond(
    c,
    publicPage(c, { title: c.t(`ev-title-${status}`), body }),
    status === "verified" ? 200 : status === "expired" ? 410 : 404,
  );
}
