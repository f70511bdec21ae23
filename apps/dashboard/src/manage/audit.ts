// GET /manage/audit: every operator write, newest first, filtered by operator, action, tenant and
// date range, a page at a time (keyset on the row id, so a page never shifts while rows arrive).
// The log is append-only: this page only reads it.
import type { DEMO_BUSINESSES } from "@concierge/core";
import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import { AUDIT_ACTIONS, type AuditRow, type AuditSummary, listAudit } from "@concierge/storage";
import { field } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { formatDate, formatDateTime } from "../pages/insights.ts";
import { parseDay, selectField } from "./forms.ts";
import { type ManageCtx, manageHtml, managePage } from "./layout.ts";

/** Entries per page. */
export const AUDIT_PAGE = 50;

const DAY_MS = 86_400_000;

const ACTION_LABEL: Record<(typeof AUDIT_ACTIONS)[number], string> = {
  "tenant.suspend": msg("manage-audit-action-tenant-suspend"),
  "tenant.reactivate": msg("manage-audit-action-tenant-reactivate"),
  "tenant.grant_credits": msg("manage-audit-action-tenant-grant-credits"),
  "tenant.set_quota": msg("manage-audit-action-tenant-set-quota"),
  "tenant.delete": msg("manage-audit-action-tenant-delete"),
  "tenant.rotate_key": msg("manage-audit-action-tenant-rotate-key"),
  "pricing.save_pack": msg("manage-audit-action-pricing-save-pack"),
  "pricing.subdomain_plan": msg("manage-audit-action-pricing-subdomain-plan"),
  "pricing.trial": msg("manage-audit-action-pricing-trial"),
  "archetype.save": msg("manage-audit-action-archetype-save"),
  "archetype.retire": msg("manage-audit-action-archetype-retire"),
  "demo.save": msg("manage-audit-action-demo-save"),
  "email.automatic_limit": msg("manage-audit-action-email-automatic-limit"),
};

const isAction = (s: string): s is (typeof AUDIT_ACTIONS)[number] =>
  (AUDIT_ACTIONS as readonly string[]).includes(s);

/** The filters as typed in the query string; anything malformed is simply not applied. */
export type AuditFilters = { operator: string; action: string; tenant: string; from: string; to: string };

function readFilters(q: URLSearchParams): AuditFilters {
  const get = (name: string, max: number) => (q.get(name) ?? "").trim().slice(0, max);
  return {
    operator: get("operator", 254),
    action: get("action", 40),
    tenant: get("tenant", 80),
    from: get("from", 10),
    to: get("to", 10),
  };
}

/** `?before=` as the storage's cursor (`<at>~<id>`); anything else is the first page. */
function cursor(q: URLSearchParams): string | null {
  const raw = q.get("before");
  return raw && /^\d{1,15}~\d{1,15}$/.test(raw) ? raw : null;
}

/** The query string of these filters (and a cursor), for the page links. */
function query(f: AuditFilters, before: string | null): string {
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(f)) if (val) q.set(k, val);
  if (before !== null) q.set("before", before);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A label for each key the pipeline's audit summaries use (apps/pipeline/src/operator). */
const SUMMARY_LABEL: Record<string, string> = {
  status: msg("manage-audit-key-status"),
  reason: msg("manage-audit-key-reason"),
  credits: msg("manage-audit-key-credits"),
  expiresAt: msg("manage-audit-key-expires-at"),
  quota: msg("manage-audit-key-quota"),
  previous: msg("manage-audit-key-previous-quota"),
  version: msg("manage-audit-key-version"),
  confirmed: msg("manage-audit-key-confirmed"),
  created: msg("manage-audit-key-created"),
  currency: msg("manage-audit-key-currency"),
  amount: msg("manage-audit-key-amount"),
  active: msg("manage-audit-key-active"),
  sort: msg("manage-audit-key-sort"),
  previousCredits: msg("manage-audit-key-previous-credits"),
  previousAmount: msg("manage-audit-key-previous-amount"),
  previousActive: msg("manage-audit-key-previous-active"),
  days: msg("manage-audit-key-days"),
  previousDays: msg("manage-audit-key-previous-days"),
  hash: msg("manage-audit-key-hash"),
  sortOrder: msg("manage-audit-key-sort"),
  restored: msg("manage-audit-key-restored"),
  business: msg("manage-audit-key-business"),
  perVisitorPerHour: msg("manage-demo-per-visitor"),
  totalPerDay: msg("manage-demo-total"),
  maxChars: msg("manage-demo-max-chars"),
  maxTurns: msg("manage-demo-max-turns"),
};

/** Keys whose number is a moment (epoch ms), shown as a day. */
const DATE_KEYS = new Set(["expiresAt"]);
/** Keys whose number is money in minor units of the summary's `currency`. */
const MONEY_KEYS = new Set(["amount", "previousAmount"]);

/** The statuses a summary records, in words. */
const STATUS_LABEL: Record<string, string> = {
  active: msg("manage-audit-status-active"),
  suspended: msg("manage-audit-status-suspended"),
  retired: msg("manage-audit-status-retired"),
};

const BUSINESS_LABEL: Record<(typeof DEMO_BUSINESSES)[number], string> = {
  cafe: msg("manage-demo-business-cafe"),
  salon: msg("manage-demo-business-salon"),
  "bike-shop": msg("manage-demo-business-bike-shop"),
};

const known = (table: Record<string, string>, key: string): string | null =>
  Object.hasOwn(table, key) ? table[key]! : null;

/** One value of a summary the operator's way: words for flags and statuses, Intl for the rest. */
function summaryValue(c: ManageCtx, key: string, val: AuditSummary[string], summary: AuditSummary): Html {
  const { t } = c;
  if (val === null) {
    return html`${DATE_KEYS.has(key) ? t("billing-never-expires") : t("manage-audit-value-none")}`;
  }
  if (typeof val === "boolean")
    return html`${val ? t("manage-audit-value-yes") : t("manage-audit-value-no")}`;
  if (typeof val === "number") {
    if (DATE_KEYS.has(key)) return html`${formatDate(c.locale, val)}`;
    const currency = summary.currency;
    if (MONEY_KEYS.has(key) && typeof currency === "string" && /^[A-Z]{3}$/.test(currency)) {
      return html`${formatMoney(c.locale, currency, val)}`;
    }
    return html`${formatNumber(c.locale, val)}`;
  }
  const word =
    key === "status" ? known(STATUS_LABEL, val) : key === "business" ? known(BUSINESS_LABEL, val) : null;
  if (word) return html`${t(word)}`;
  // The operator's own words (a reason) as typed; ids and hashes as code.
  return key === "reason" ? html`${val}` : html`<code>${val}</code>`;
}

/**
 * The summary as recorded: what changed (ids, numbers, statuses, the operator's reason; never
 * message text), each key with its label and its value formatted for the operator's locale. A
 * key this page does not know yet is shown as recorded rather than hidden.
 */
function summaryView(c: ManageCtx, summary: AuditSummary): Html {
  return html`<dl class="mg-summary">${Object.entries(summary).map(([k, val]) => {
    const label = known(SUMMARY_LABEL, k);
    return html`<dt data-key="${k}">${label ? c.t(label) : html`<code>${k}</code>`}</dt><dd>${summaryValue(
      c,
      k,
      val,
      summary,
    )}</dd>`;
  })}</dl>`;
}

function filtersForm(c: ManageCtx, f: AuditFilters, errors: { from?: string; to?: string }): Html {
  const { t } = c;
  return html`<form class="card mg-filters" method="get" action="/manage/audit" role="search" aria-label="${t("manage-audit-filters")}">
  <div class="mg-fields">
  ${field(c, {
    name: "operator",
    label: t("manage-audit-operator"),
    type: "email",
    value: f.operator,
    attrs: html`autocomplete="off" maxlength="254"`,
  })}
  ${selectField(c, {
    name: "action",
    label: t("manage-audit-action"),
    value: f.action,
    options: [
      ["", t("manage-audit-any-action")],
      ...AUDIT_ACTIONS.map((a): [string, string] => [a, t(ACTION_LABEL[a])]),
    ],
  })}
  ${field(c, {
    name: "tenant",
    label: t("manage-audit-tenant"),
    value: f.tenant,
    attrs: html`autocomplete="off" spellcheck="false" maxlength="80"`,
  })}
  ${field(c, {
    name: "from",
    label: t("manage-audit-from"),
    type: "date",
    value: f.from,
    error: errors.from ?? null,
  })}
  ${field(c, {
    name: "to",
    label: t("manage-audit-to"),
    type: "date",
    value: f.to,
    error: errors.to ?? null,
  })}
  </div>
  <div class="row"><button type="submit">${t("manage-audit-apply")}</button> <a href="/manage/audit">${t("manage-audit-clear")}</a></div>
</form>`;
}

function entriesTable(c: ManageCtx, entries: AuditRow[]): Html {
  const { t } = c;
  if (entries.length === 0) return html`<p class="card muted" id="audit-empty">${t("manage-audit-none")}</p>`;
  return html`<div class="table-wrap"><table id="audit">
<thead><tr><th scope="col">${t("manage-audit-col-at")}</th><th scope="col">${t("manage-audit-col-operator")}</th><th scope="col">${t("manage-audit-col-action")}</th><th scope="col">${t("manage-audit-col-target")}</th><th scope="col">${t("manage-audit-col-summary")}</th></tr></thead>
<tbody>
${entries.map(
  (e) => html`<tr data-audit="${e.id}" data-action="${e.action}">
<td>${formatDateTime(c.locale, e.at)}</td>
<td class="mg-wrap">${e.operatorEmail}</td>
<td>${isAction(e.action) ? t(ACTION_LABEL[e.action]) : e.action}<br><code class="muted">${e.action}</code></td>
<td class="mg-wrap">${
    e.tenantId ? html`<a href="/manage/tenants/${e.tenantId}"><code>${e.tenantId}</code></a>` : null
  }${e.target && e.target !== e.tenantId ? html` <code>${e.target}</code>` : null}</td>
<td>${summaryView(c, e.summary)}</td>
</tr>`,
)}
</tbody></table></div>`;
}

export async function auditPage(c: ManageCtx): Promise<Response> {
  const { t } = c;
  const f = readFilters(c.searchParams);
  const before = cursor(c.searchParams);
  const fromDay = f.from ? parseDay(f.from) : null;
  const toDay = f.to ? parseDay(f.to) : null;
  const errors: { from?: string; to?: string } = {};
  if (f.from && fromDay === null) errors.from = msg("manage-err-date");
  if (f.to && toDay === null) errors.to = msg("manage-err-date");
  const page = await listAudit(c.env.DB, {
    operator: f.operator || null,
    action: isAction(f.action) ? f.action : null,
    tenantId: f.tenant || null,
    // A whole day each end: from its start to the end of the `to` day (UTC).
    from: fromDay,
    to: toDay === null ? null : toDay + DAY_MS,
    before,
    limit: AUDIT_PAGE,
  });
  const nav =
    before !== null || page.next !== null
      ? html`<nav class="row mg-pages" aria-label="${t("manage-pages")}">
${before !== null ? html`<a href="/manage/audit${query(f, null)}">${t("manage-newest")}</a>` : null}
${page.next !== null ? html`<a href="/manage/audit${query(f, page.next)}" rel="next">${t("manage-older")}</a>` : null}
</nav>`
      : null;
  const body = html`${filtersForm(c, f, errors)}
${
  page.entries.length > 0
    ? html`<p class="muted">${t("manage-audit-shown", { count: page.entries.length, shown: formatNumber(c.locale, page.entries.length) })}</p>`
    : null
}
${entriesTable(c, page.entries)}
${nav}`;
  return manageHtml(
    c,
    managePage(c, { title: t("manage-audit-title"), section: "audit", body }),
    Object.keys(errors).length ? 422 : 200,
  );
}
