// /manage (tenant search) and /manage/tenants/:tenantId (one tenant, and what an operator may do
// to it). Reads come straight from D1 through @concierge/storage; every action goes through the
// pipeline's OperatorEntrypoint, which checks it again and records it in the audit log, and is
// answered with a redirect (303) so a reload never repeats it.
import {
  OPERATOR_LIMITS,
  REQUEST_ID_PATTERN,
  type SideEffectKind,
  type SideEffectStatus,
  type SideEffectSummary,
  TENANT_ID_PATTERN,
} from "@concierge/core";
import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import { randomToken } from "@concierge/crypto";
import {
  countSideEffects,
  type CreditLot,
  getOperatorTenant,
  getTenantOverview,
  type HealthLevel,
  type HealthReason,
  type Insights,
  type LedgerEntry,
  listLedgerPage,
  listTenantSideEffects,
  type OperatorChannel,
  type OperatorOrder,
  type OperatorTenantUser,
  searchTenants,
  type TenantListRow,
  type TenantDeletionProgress,
  type TenantOverview,
  tenantDeletionProgress,
} from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, num, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { notFound, redirect } from "../http.ts";
import { formatDate, formatDateTime } from "../pages/insights.ts";
import { dayValue, type FormState, parseDay, refusal, selectField, stateOf, typed } from "./forms.ts";
import { type ManageCtx, manageHtml, managePage, operatorCsrfField } from "./layout.ts";

type TenantCtx = ManageCtx & { params: { tenantId: string } };

/** Tenants per page of the search. */
export const TENANTS_PAGE = 25;
/**
 * Ledger entries per page of the tenant page (older ones behind `?before=`): as many as
 * getTenantOverview reads for the first page.
 */
const LEDGER_PAGE = 20;

const STATUS_FILTERS = ["all", "active", "suspended"] as const;
type StatusFilter = (typeof STATUS_FILTERS)[number];

const STATUS_LABEL: Record<StatusFilter, string> = {
  all: msg("manage-tenants-status-all"),
  active: msg("manage-tenants-status-active"),
  suspended: msg("manage-tenants-status-suspended"),
};

const CHANNEL_NAME: Record<OperatorChannel["channel"], string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("manage-channel-email"),
  discord: msg("channel-discord"),
};

const HEALTH_LABEL: Record<HealthLevel, string> = {
  ok: msg("overview-health-ok"),
  warn: msg("overview-health-warn"),
  danger: msg("overview-health-danger"),
};

const HEALTH_REASON: Record<HealthReason, string> = {
  disabled: msg("overview-health-disabled"),
  last_send_failed: msg("overview-health-last-send-failed"),
  no_inbox: msg("overview-health-no-inbox"),
  failed_sends: msg("overview-health-failed-sends"),
  no_messages: msg("overview-health-no-messages"),
  quiet: msg("overview-health-quiet"),
  working: msg("overview-health-working"),
  connected: msg("overview-health-connected"),
};

const REASON: Record<LedgerEntry["reason"], string> = {
  purchase: msg("billing-reason-purchase"),
  grant: msg("billing-reason-grant"),
  ai_reply: msg("billing-reason-ai-reply"),
  restore: msg("billing-reason-restore"),
  refund: msg("billing-reason-refund"),
};

const SOURCE: Record<CreditLot["source"], string> = {
  purchase: msg("billing-source-purchase"),
  grant: msg("billing-source-grant"),
};

const ORDER_STATUS: Record<OperatorOrder["status"], { label: string; level: string }> = {
  created: { label: msg("manage-order-status-created"), level: "" },
  paid: { label: msg("manage-order-status-paid"), level: "ok" },
  failed: { label: msg("manage-order-status-failed"), level: "danger" },
};

const PROVIDER: Record<OperatorTenantUser["provider"], string> = {
  google: msg("manage-provider-google"),
  facebook: msg("manage-provider-facebook"),
  dev: msg("manage-provider-dev"),
};

/** What the redirect after an action says on the page it lands on. */
const NOTICES: Record<string, string> = {
  suspended: msg("manage-tenant-done-suspended"),
  reactivated: msg("manage-tenant-done-reactivated"),
  granted: msg("manage-tenant-done-granted"),
  "granted-already": msg("manage-tenant-done-granted-already"),
  quota: msg("manage-tenant-done-quota"),
  rotated: msg("manage-tenant-done-rotated"),
  deleted: msg("manage-tenants-done-deleted"),
};

const levelClass = (level: HealthLevel) => (level === "ok" ? "ok" : level === "warn" ? "warn" : "danger");
const statusBadge = (c: ManageCtx, status: string) =>
  status === "suspended"
    ? html`<span class="badge danger">${c.t("manage-tenants-status-suspended")}</span>`
    : html`<span class="badge ok">${c.t("manage-tenants-status-active")}</span>`;

// ---------------------------------------------------------------------------------------------
// The search

function searchForm(c: ManageCtx, q: string, status: StatusFilter): Html {
  const { t } = c;
  return html`<form class="card mg-search" method="get" action="/manage" role="search" aria-label="${t("manage-tenants-search")}">
  <div class="mg-fields">
  ${field(c, {
    name: "q",
    label: t("manage-tenants-q"),
    hint: t("manage-tenants-q-hint"),
    type: "search",
    value: q,
    attrs: html`autocomplete="off" spellcheck="false" maxlength="200"`,
  })}
  ${selectField(c, {
    name: "status",
    label: t("manage-tenants-status"),
    value: status,
    options: STATUS_FILTERS.map((s) => [s, t(STATUS_LABEL[s])]),
  })}
  </div>
  <div><button type="submit">${t("manage-tenants-search-submit")}</button></div>
</form>`;
}

function resultsTable(c: ManageCtx, rows: TenantListRow[]): Html {
  const { t } = c;
  if (rows.length === 0) return html`<p class="card muted" id="no-tenants">${t("manage-tenants-none")}</p>`;
  return html`<div class="table-wrap"><table id="tenants">
<thead><tr><th scope="col">${t("manage-tenants-col-name")}</th><th scope="col">${t("manage-tenants-col-status")}</th><th scope="col" class="num">${t("manage-tenants-col-balance")}</th><th scope="col">${t("manage-tenants-col-activity")}</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr data-tenant="${r.id}">
<td><a href="/manage/tenants/${r.id}">${r.name}</a><br><code class="muted">${r.id}</code></td>
<td>${statusBadge(c, r.status)}</td>
<td class="num">${formatNumber(c.locale, r.balance)}</td>
<td>${r.lastActivityAt === null ? t("manage-never") : formatDateTime(c.locale, r.lastActivityAt)}</td>
</tr>`,
)}
</tbody></table></div>`;
}

/** GET /manage: find a tenant by name, a user's email, its id, a phone number or a subdomain. */
export async function tenantsPage(c: ManageCtx): Promise<Response> {
  const { t } = c;
  const q = (c.searchParams.get("q") ?? "").trim().slice(0, 200);
  const rawStatus = c.searchParams.get("status") ?? "all";
  const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(rawStatus)
    ? (rawStatus as StatusFilter)
    : "all";
  const after = c.searchParams.get("after");
  const [found, effects] = await Promise.all([
    searchTenants(c.env.DB, {
      q,
      status: status === "all" ? null : status,
      cursor: after && after.length <= 200 ? after : null,
      limit: TENANTS_PAGE,
    }),
    // Effects of every tenant, deleted ones included (their own page is gone with them).
    countSideEffects(c.env.DB),
  ]);
  const link = (cursor: string | null) => {
    const p = new URLSearchParams();
    if (q) p.set("q", q);
    if (status !== "all") p.set("status", status);
    if (cursor) p.set("after", cursor);
    const s = p.toString();
    return `/manage${s ? `?${s}` : ""}`;
  };
  const nav =
    after || found.next
      ? html`<nav class="row mg-pages" aria-label="${t("manage-pages")}">
${after ? html`<a href="${link(null)}">${t("manage-first-page")}</a>` : null}
${found.next ? html`<a href="${link(found.next)}" rel="next">${t("manage-next-page")}</a>` : null}
</nav>`
      : null;
  const done = c.searchParams.get("done");
  return manageHtml(
    c,
    managePage(c, {
      title: t("manage-tenants-title"),
      section: "tenants",
      notice: done && NOTICES[done] ? t(NOTICES[done]!) : null,
      body: html`${
        effects.pending || effects.failed
          ? html`<p class="card" id="effects-summary">${t("manage-effects-summary", { pending: effects.pending, failed: effects.failed })}</p>`
          : null
      }
${searchForm(c, q, status)}
${resultsTable(c, found.tenants)}
${nav}`,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// One tenant

const L = OPERATOR_LIMITS;

const ReasonField = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1, msg("manage-err-reason")),
  v.maxLength(L.reasonMax, msg("manage-err-reason")),
);

/** The contract's SuspendTenantSchema (the tenant comes from the URL), with messages. */
export const SuspendFormSchema = v.object({ reason: ReasonField });

/** The contract's OperatorGrantSchema, with messages. */
export const GrantFormSchema = v.object({
  credits: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(L.grantCredits.min, msg("manage-err-grant-credits")),
    v.maxValue(L.grantCredits.max, msg("manage-err-grant-credits")),
  ),
  /** Null: never expires. Otherwise a day after today (UTC). */
  expiresAt: v.nullable(v.number(msg("manage-err-expiry"))),
  reason: ReasonField,
  requestId: v.pipe(v.string(), v.regex(REQUEST_ID_PATTERN, msg("manage-err-request"))),
});

/** The contract's SubdomainQuotaSchema, with messages. */
export const QuotaFormSchema = v.object({
  quota: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(L.subdomainQuota.min, msg("manage-err-quota")),
    v.maxValue(L.subdomainQuota.max, msg("manage-err-quota")),
  ),
});

type Loaded = {
  overview: TenantOverview;
  /** Its effects at Meta, Discord and Cloudflare (a disconnect's, a deletion's), newest first. */
  effects: SideEffectSummary[];
  lots: CreditLot[];
  ledger: { entries: LedgerEntry[]; next: number | null };
  usage: Insights;
  /** What is left of a deletion under way (null when none is): key destroyed, rows left. */
  deletion: TenantDeletionProgress | null;
};

async function load(c: TenantCtx, before: number | null, now: number): Promise<Loaded> {
  const id = c.params.tenantId;
  if (!TENANT_ID_PATTERN.test(id)) notFound();
  const [overview, older, effects] = await Promise.all([
    getTenantOverview(c.env.DB, id, now),
    // The overview has the newest page of the ledger; an older one is read on its own.
    before === null ? null : listLedgerPage(c.env.DB, id, { before, limit: LEDGER_PAGE }),
    listTenantSideEffects(c.env.DB, id, 20),
  ]);
  if (!overview) notFound();
  const ledger = older ?? overview.ledger;
  // Only for a tenant being deleted: capped counts, so a large one costs the same to show.
  const deletion = overview.tenant.deletingAt ? await tenantDeletionProgress(c.env.DB, id) : null;
  return { overview, effects, lots: overview.lots, ledger, usage: overview.usage, deletion };
}

function summarySection(c: ManageCtx, o: TenantOverview, deletion: TenantDeletionProgress | null): Html {
  const { t } = c;
  const tn = o.tenant;
  return html`<section class="card" aria-labelledby="summary-h" id="summary">
<h2 id="summary-h" class="card-h">${t("manage-tenant-summary")}</h2>
<dl class="mg-dl">
<dt>${t("manage-tenant-id")}</dt><dd><code>${tn.id}</code></dd>
<dt>${t("manage-tenant-status")}</dt><dd>${statusBadge(c, tn.status)}</dd>
${
  tn.status === "suspended"
    ? html`<dt>${t("manage-tenant-suspended-reason")}</dt><dd id="suspended-reason">${tn.suspendedReason ?? ""}</dd>
${tn.suspendedAt ? html`<dt>${t("manage-tenant-suspended-at")}</dt><dd>${formatDateTime(c.locale, tn.suspendedAt)}</dd>` : null}`
    : null
}
${
  tn.deletingAt
    ? html`<dt>${t("manage-tenant-deleting")}</dt><dd id="deleting">${formatDateTime(c.locale, tn.deletingAt)}<br><span class="muted">${t("manage-tenant-deleting-note")}</span></dd>
${
  deletion
    ? html`<dt>${t("manage-tenant-deleting-key")}</dt><dd id="deleting-key">${t(deletion.keysDestroyed ? "manage-tenant-deleting-key-gone" : "manage-tenant-deleting-key-kept")}</dd>
<dt>${t("manage-tenant-deleting-left")}</dt><dd id="deleting-left">${t("manage-tenant-deleting-rows", {
        messages: formatNumber(c.locale, deletion.messages),
        approvals: formatNumber(c.locale, deletion.approvals),
        other: formatNumber(c.locale, deletion.other),
        capped: deletion.capped ? "yes" : "no",
      })}</dd>`
    : null
}`
    : null
}
<dt>${t("manage-tenant-created")}</dt><dd>${formatDate(c.locale, tn.createdAt)}</dd>
<dt>${t("manage-tenant-locale")}</dt><dd>${tn.locale} · ${tn.currency}</dd>
<dt>${t("manage-tenant-balance")}</dt><dd class="stat" id="balance">${formatNumber(c.locale, o.balance)}</dd>
<dt>${t("manage-tenant-quota")}</dt><dd id="quota">${formatNumber(c.locale, tn.emailSubdomainQuota)}</dd>
</dl>
</section>`;
}

function channelsSection(c: ManageCtx, accounts: OperatorChannel[]): Html {
  const { t } = c;
  const when = (ms: number | null) => (ms === null ? t("manage-never") : formatDateTime(c.locale, ms));
  return html`<section aria-labelledby="channels-h" id="channels">
<h2 id="channels-h">${t("manage-tenant-channels")}</h2>
${
  accounts.length === 0
    ? html`<p class="card muted">${t("manage-tenant-no-channels")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-tenant-col-channel")}</th><th scope="col">${t("manage-tenant-col-health")}</th><th scope="col">${t("manage-tenant-col-last-in")}</th><th scope="col">${t("manage-tenant-col-last-out")}</th></tr></thead>
<tbody>
${accounts.map((a) => {
  const h = a.health;
  const failed = a.activity?.failedSends ?? 0;
  return html`<tr data-account="${a.id}">
<td>${t(CHANNEL_NAME[a.channel])}${a.displayName ? html` · ${a.displayName}` : null}<br><code class="muted">${a.externalId}</code></td>
<td><span class="badge ${levelClass(h.level)}">${t(HEALTH_LABEL[h.level])}</span><br><span class="muted">${t(HEALTH_REASON[h.reason], { count: failed, n: formatNumber(c.locale, failed) })}</span></td>
<td>${when(a.activity?.lastInboundAt ?? null)}</td>
<td>${when(a.activity?.lastOutboundAt ?? null)}</td>
</tr>`;
})}
</tbody></table></div>`
}
</section>`;
}

const EFFECT_NAME: Record<SideEffectKind, string> = {
  whatsapp_release: msg("manage-effect-whatsapp-release"),
  instagram_unsubscribe: msg("manage-effect-instagram-unsubscribe"),
  discord_leave: msg("manage-effect-discord-leave"),
  email_routes_remove: msg("manage-effect-email-routes-remove"),
};
const EFFECT_STATUS: Record<SideEffectStatus, { label: string; level: string }> = {
  pending: { label: msg("manage-effect-pending"), level: "warn" },
  done: { label: msg("manage-effect-done"), level: "ok" },
  failed: { label: msg("manage-effect-failed"), level: "danger" },
};

/**
 * What the tenant's disconnects and deletion still wait for at Meta, Discord and Cloudflare: each
 * effect with its state, attempts, next try and last error code (retried by the 15-minute cron).
 */
function effectsSection(c: ManageCtx, effects: SideEffectSummary[]): Html {
  const { t } = c;
  return html`<section aria-labelledby="effects-h" id="effects">
<h2 id="effects-h">${t("manage-tenant-effects")}</h2>
${
  effects.length === 0
    ? html`<p class="card muted">${t("manage-tenant-effects-none")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-tenant-col-effect")}</th><th scope="col">${t("manage-tenant-col-state")}</th><th scope="col">${t("manage-tenant-col-attempts")}</th><th scope="col">${t("manage-tenant-col-next")}</th><th scope="col">${t("manage-tenant-col-error")}</th></tr></thead>
<tbody>
${effects.map(
  (e) => html`<tr data-effect="${e.kind}" data-status="${e.status}">
<td>${t(EFFECT_NAME[e.kind])}<br><span class="muted">${formatDateTime(c.locale, e.createdAt)}</span></td>
<td><span class="badge ${EFFECT_STATUS[e.status].level}">${t(EFFECT_STATUS[e.status].label)}</span></td>
<td>${formatNumber(c.locale, e.attempts)}</td>
<td>${e.nextAt === null ? "" : formatDateTime(c.locale, e.nextAt)}</td>
<td>${e.lastError ? html`<code>${e.lastError}</code>` : ""}</td>
</tr>`,
)}
</tbody></table></div>`
}
</section>`;
}

function usersSection(c: ManageCtx, o: TenantOverview): Html {
  const { t } = c;
  return html`<section aria-labelledby="users-h" id="users">
<h2 id="users-h">${t("manage-tenant-users")}</h2>
${
  o.users.length === 0
    ? html`<p class="card muted">${t("manage-tenant-no-users")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-tenant-col-user")}</th><th scope="col">${t("manage-tenant-col-provider")}</th><th scope="col">${t("manage-tenant-col-joined")}</th></tr></thead>
<tbody>
${o.users.map(
  (u) => html`<tr>
<td class="mg-wrap">${u.name ? html`${u.name}<br>` : null}${u.email ?? html`<span class="muted">${t("manage-tenant-no-email")}</span>`}</td>
<td>${Object.hasOwn(PROVIDER, u.provider) ? t(PROVIDER[u.provider]) : u.provider}</td>
<td>${formatDate(c.locale, u.createdAt)}</td>
</tr>`,
)}
</tbody></table></div>`
}
</section>`;
}

function creditsSection(c: TenantCtx, l: Loaded, before: number | null, now: number): Html {
  const { t } = c;
  const n = (x: number) => formatNumber(c.locale, x);
  const base = `/manage/tenants/${l.overview.tenant.id}`;
  return html`<section aria-labelledby="credits-h" id="credits">
<h2 id="credits-h">${t("manage-tenant-credits")}</h2>
<h3>${t("manage-tenant-lots")}</h3>
${
  l.lots.length === 0
    ? html`<p class="card muted">${t("manage-tenant-no-lots")}</p>`
    : html`<div class="table-wrap"><table id="lots">
<thead><tr><th scope="col">${t("manage-tenant-col-source")}</th><th scope="col">${t("manage-tenant-col-added")}</th><th scope="col" class="num">${t("manage-tenant-col-granted")}</th><th scope="col" class="num">${t("manage-tenant-col-remaining")}</th><th scope="col">${t("manage-tenant-col-expiry")}</th></tr></thead>
<tbody>
${l.lots.map(
  (lot) => html`<tr>
<td>${t(SOURCE[lot.source])}<br><code class="muted">${lot.id.replace(`lot:${l.overview.tenant.id}:`, "")}</code></td>
<td>${formatDate(c.locale, lot.createdAt)}</td>
<td class="num">${n(lot.granted)}</td>
<td class="num">${n(lot.remaining)}</td>
<td>${
    lot.expiresAt === null
      ? t("billing-never-expires")
      : lot.expiresAt <= now
        ? html`<span class="badge warn">${t("billing-expired")}</span> ${formatDate(c.locale, lot.expiresAt)}`
        : formatDate(c.locale, lot.expiresAt)
  }</td>
</tr>`,
)}
</tbody></table></div>`
}
<h3 id="ledger-h">${t("manage-tenant-ledger")}</h3>
${
  l.ledger.entries.length === 0
    ? html`<p class="card muted">${t("manage-tenant-no-ledger")}</p>`
    : html`<div class="table-wrap"><table id="ledger">
<thead><tr><th scope="col">${t("manage-tenant-col-date")}</th><th scope="col">${t("manage-tenant-col-reason")}</th><th scope="col" class="num">${t("manage-tenant-col-change")}</th><th scope="col">${t("manage-tenant-col-reference")}</th></tr></thead>
<tbody>
${l.ledger.entries.map(
  (e) => html`<tr data-entry="${e.id}">
<td>${formatDateTime(c.locale, e.createdAt)}</td>
<td>${t(REASON[e.reason])}</td>
<td class="num">${e.delta > 0 ? "+" : "−"}${n(Math.abs(e.delta))}</td>
<td class="mg-wrap"><code>${e.reference}</code></td>
</tr>`,
)}
</tbody></table></div>`
}
${
  before !== null || l.ledger.next !== null
    ? html`<nav class="row mg-pages" aria-label="${t("manage-pages")}">
${before !== null ? html`<a href="${base}#ledger-h">${t("manage-newest")}</a>` : null}
${l.ledger.next !== null ? html`<a href="${base}?before=${l.ledger.next}#ledger-h" rel="next">${t("manage-older")}</a>` : null}
</nav>`
    : null
}
</section>`;
}

function ordersSection(c: ManageCtx, o: TenantOverview): Html {
  const { t } = c;
  return html`<section aria-labelledby="orders-h" id="orders">
<h2 id="orders-h">${t("manage-tenant-orders")}</h2>
${
  o.orders.length === 0
    ? html`<p class="card muted">${t("manage-tenant-no-orders")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-tenant-col-date")}</th><th scope="col">${t("manage-tenant-col-order")}</th><th scope="col" class="num">${t("manage-tenant-col-credits")}</th><th scope="col" class="num">${t("manage-tenant-col-amount")}</th><th scope="col">${t("manage-tenant-col-order-status")}</th></tr></thead>
<tbody>
${o.orders.map((r) => {
  // A status added to the table later is shown as stored rather than breaking the page.
  const status = Object.hasOwn(ORDER_STATUS, r.status) ? ORDER_STATUS[r.status] : null;
  return html`<tr data-order="${r.id}">
<td>${formatDateTime(c.locale, r.createdAt)}</td>
<td class="mg-wrap"><code>${r.id}</code><br><span class="muted">${r.packId}</span></td>
<td class="num">${formatNumber(c.locale, r.credits)}</td>
<td class="num">${formatMoney(c.locale, r.currency, r.amount)}</td>
<td><span class="badge ${status?.level ?? ""}">${status ? t(status.label) : r.status}</span></td>
</tr>`;
})}
</tbody></table></div>`
}
</section>`;
}

function usageSection(c: ManageCtx, u: Insights): Html {
  const { t } = c;
  const n = (x: number) => formatNumber(c.locale, x);
  const tt = u.totals;
  return html`<section aria-labelledby="usage-h" id="usage">
<h2 id="usage-h">${t("manage-tenant-usage")}</h2>
<dl class="mg-dl card">
<dt>${t("manage-tenant-usage-received")}</dt><dd class="num">${n(tt.receivedAll)}</dd>
<dt>${t("channel-whatsapp")}</dt><dd class="num">${n(tt.received.whatsapp)}</dd>
<dt>${t("channel-instagram")}</dt><dd class="num">${n(tt.received.instagram)}</dd>
<dt>${t("manage-channel-email")}</dt><dd class="num">${n(tt.received.email)}</dd>
<dt>${t("manage-tenant-usage-canned")}</dt><dd class="num">${n(tt.canned)}</dd>
<dt>${t("manage-tenant-usage-ai")}</dt><dd class="num">${n(tt.ai)}</dd>
<dt>${t("manage-tenant-usage-handoffs")}</dt><dd class="num">${n(tt.handoffs)}</dd>
<dt>${t("manage-tenant-usage-credits")}</dt><dd class="num" id="usage-credits">${n(tt.credits)}</dd>
</dl>
</section>`;
}

/** The action forms: each its own card, its own errors, its own redirect. */
function actionsSection(c: TenantCtx, o: TenantOverview, state: FormState | null): Html {
  const { t } = c;
  const tn = o.tenant;
  const base = `/manage/tenants/${tn.id}`;
  const suspend = stateOf(state, "suspend");
  const grant = stateOf(state, "grant");
  const quota = stateOf(state, "quota");
  const remove = stateOf(state, "delete");
  const rotate = stateOf(state, "rotate");
  const requestId =
    grant?.values.requestId && REQUEST_ID_PATTERN.test(grant.values.requestId)
      ? grant.values.requestId
      : randomToken();
  const tomorrow = dayValue(Date.now() + 86_400_000);
  return html`<section aria-labelledby="actions-h" id="actions">
<h2 id="actions-h">${t("manage-tenant-actions")}</h2>
<div class="grid mg-actions">
${
  tn.status === "active"
    ? html`<form class="card stack" method="post" action="${base}/suspend#suspend" id="suspend" novalidate>
  ${operatorCsrfField(c)}
  <h3 class="card-h">${t("manage-tenant-suspend")}</h3>
  <p class="muted">${t("manage-tenant-suspend-lead")}</p>
  ${errorSummary(c, suspend?.errors)}
  ${field(c, {
    id: "suspend-reason",
    name: "reason",
    label: t("manage-tenant-reason"),
    hint: t("manage-tenant-suspend-reason-hint"),
    value: suspend?.values.reason ?? "",
    error: suspend?.errors.reason ?? null,
    attrs: html`maxlength="${L.reasonMax}" autocomplete="off" required`,
  })}
  <div><button class="danger" type="submit">${t("manage-tenant-suspend-submit")}</button></div>
</form>`
    : html`<form class="card stack" method="post" action="${base}/reactivate#suspend" id="suspend" novalidate>
  ${operatorCsrfField(c)}
  <h3 class="card-h">${t("manage-tenant-reactivate")}</h3>
  <p class="muted">${t("manage-tenant-reactivate-lead")}</p>
  ${errorSummary(c, suspend?.errors)}
  <div><button type="submit">${t("manage-tenant-reactivate-submit")}</button></div>
</form>`
}
<form class="card stack" method="post" action="${base}/grant#grant" id="grant" novalidate>
  ${operatorCsrfField(c)}
  <input type="hidden" name="requestId" value="${requestId}">
  <h3 class="card-h">${t("manage-tenant-grant")}</h3>
  <p class="muted">${t("manage-tenant-grant-lead")}</p>
  ${errorSummary(c, grant?.errors)}
  ${field(c, {
    id: "grant-credits",
    name: "credits",
    label: t("manage-tenant-grant-credits"),
    type: "number",
    value: grant?.values.credits ?? "",
    error: grant?.errors.credits ?? null,
    attrs: html`min="${L.grantCredits.min}" max="${L.grantCredits.max}" step="1" inputmode="numeric" required`,
  })}
  ${field(c, {
    id: "grant-expires",
    name: "expires",
    label: t("manage-tenant-grant-expires"),
    hint: t("manage-tenant-grant-expires-hint"),
    type: "date",
    value: grant?.values.expires ?? "",
    error: grant?.errors.expiresAt ?? null,
    attrs: html`min="${tomorrow}"`,
  })}
  ${field(c, {
    id: "grant-reason",
    name: "reason",
    label: t("manage-tenant-reason"),
    hint: t("manage-tenant-grant-reason-hint"),
    value: grant?.values.reason ?? "",
    error: grant?.errors.reason ?? null,
    attrs: html`maxlength="${L.reasonMax}" autocomplete="off" required`,
  })}
  <div><button type="submit">${t("manage-tenant-grant-submit")}</button></div>
</form>
<form class="card stack" method="post" action="${base}/quota#quota-form" id="quota-form" novalidate>
  ${operatorCsrfField(c)}
  <h3 class="card-h">${t("manage-tenant-quota-title")}</h3>
  <p class="muted">${t("manage-tenant-quota-lead")}</p>
  ${errorSummary(c, quota?.errors)}
  ${field(c, {
    id: "quota-quota",
    name: "quota",
    label: t("manage-tenant-quota"),
    type: "number",
    value: quota?.values.quota ?? String(tn.emailSubdomainQuota),
    error: quota?.errors.quota ?? null,
    attrs: html`min="${L.subdomainQuota.min}" max="${L.subdomainQuota.max}" step="1" inputmode="numeric" required`,
  })}
  <div><button type="submit">${t("manage-tenant-quota-submit")}</button></div>
</form>
<form class="card stack" method="post" action="${base}/rotate-key#rotate" id="rotate" novalidate>
  ${operatorCsrfField(c)}
  <h3 class="card-h">${t("manage-tenant-rotate")}</h3>
  <p class="muted">${t("manage-tenant-rotate-lead")}</p>
  ${errorSummary(c, rotate?.errors)}
  <div><button class="secondary" type="submit">${t("manage-tenant-rotate-submit")}</button></div>
</form>
</div>
<form class="card stack st-danger" method="post" action="${base}/delete#delete" id="delete" novalidate>
  ${operatorCsrfField(c)}
  <h3 class="card-h st-danger-h">${t("manage-tenant-delete")}</h3>
  <p>${t("manage-tenant-delete-lead")}</p>
  ${errorSummary(c, remove?.errors)}
  ${field(c, {
    id: "delete-confirm",
    name: "confirmName",
    label: t("manage-tenant-delete-confirm", { name: tn.name }),
    hint: t("manage-tenant-delete-confirm-hint"),
    value: remove?.values.confirmName ?? "",
    error: remove?.errors.confirmName ?? null,
    attrs: html`autocomplete="off" spellcheck="false" required`,
  })}
  <div><button class="danger" type="submit">${t("manage-tenant-delete-submit")}</button></div>
</form>
</section>`;
}

function beforeOf(q: URLSearchParams): number | null {
  const raw = q.get("before");
  if (!raw || !/^\d{1,15}$/.test(raw)) return null;
  const n = Number(raw);
  return n > 0 ? n : null;
}

async function render(
  c: TenantCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const before = opts.status === undefined ? beforeOf(c.searchParams) : null;
  const now = Date.now();
  const l = await load(c, before, now);
  const done = c.searchParams.get("done");
  const notice = opts.status === undefined && done && NOTICES[done] ? t(NOTICES[done]!) : null;
  const body = html`<p><a href="/manage">${t("manage-tenant-back")}</a></p>
${summarySection(c, l.overview, l.deletion)}
${actionsSection(c, l.overview, opts.state ?? null)}
${channelsSection(c, l.overview.channels)}
${effectsSection(c, l.effects)}
${usersSection(c, l.overview)}
${creditsSection(c, l, before, now)}
${ordersSection(c, l.overview)}
${usageSection(c, l.usage)}`;
  return manageHtml(
    c,
    managePage(c, { title: l.overview.tenant.name, section: "tenants", body, notice, error: opts.error }),
    opts.status ?? 200,
  );
}

export function tenantPage(c: TenantCtx): Promise<Response> {
  return render(c);
}

/** A refused action: the tenant is gone (404), or the page again with the pipeline's words. */
function refused(
  c: TenantCtx,
  key: string,
  values: Record<string, string>,
  res: { error: { code: string; message: string } },
) {
  if (res.error.code === "not_found") notFound();
  return render(c, {
    state: { key, values, errors: {} },
    status: 422,
    error: refusal(c, { ok: false, error: res.error }),
  });
}

const done = (c: TenantCtx, what: string, anchor: string) =>
  redirect(`/manage/tenants/${c.params.tenantId}?done=${what}#${anchor}`);

/** POST /manage/tenants/:tenantId/suspend */
export async function suspendForm(c: TenantCtx): Promise<Response> {
  const values = typed(c.form, ["reason"]);
  const checked = validate(SuspendFormSchema, values);
  if (!checked.ok)
    return render(c, { state: { key: "suspend", values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.suspendTenant(c.operator, {
    tenantId: c.params.tenantId,
    reason: checked.value.reason,
  });
  if (!res.ok) return refused(c, "suspend", values, res);
  return done(c, "suspended", "summary");
}

/** POST /manage/tenants/:tenantId/reactivate */
export async function reactivateForm(c: TenantCtx): Promise<Response> {
  const res = await c.env.OPERATOR.reactivateTenant(c.operator, { tenantId: c.params.tenantId });
  if (!res.ok) return refused(c, "suspend", {}, res);
  return done(c, "reactivated", "summary");
}

/** POST /manage/tenants/:tenantId/grant: credits, an optional expiry day, the reason. */
export async function grantForm(c: TenantCtx): Promise<Response> {
  const values = typed(c.form, ["credits", "expires", "reason", "requestId"]);
  const expires = values.expires!.trim();
  const expiresAt = expires === "" ? null : parseDay(expires);
  const errors: FieldErrors = {};
  // The expiry is the start of the chosen day (UTC): it must be a real day after today.
  if (expires !== "" && (expiresAt === null || expiresAt <= Date.now()))
    errors.expiresAt = msg("manage-err-expiry");
  const checked = validate(GrantFormSchema, {
    credits: num(c.form, "credits"),
    expiresAt: expires === "" ? null : (expiresAt ?? Number.NaN),
    reason: values.reason,
    requestId: values.requestId,
  });
  if (!checked.ok || Object.keys(errors).length > 0) {
    return render(c, {
      state: { key: "grant", values, errors: { ...(checked.ok ? {} : checked.errors), ...errors } },
      status: 422,
    });
  }
  const res = await c.env.OPERATOR.grantCredits(c.operator, {
    tenantId: c.params.tenantId,
    ...checked.value,
  });
  if (!res.ok) return refused(c, "grant", values, res);
  // The same form sent again (a double submit, a retry) grants nothing: say so, not "granted".
  return done(c, res.applied ? "granted" : "granted-already", "credits");
}

/** POST /manage/tenants/:tenantId/quota: how many email subdomains the tenant has for free. */
export async function quotaForm(c: TenantCtx): Promise<Response> {
  const values = typed(c.form, ["quota"]);
  const checked = validate(QuotaFormSchema, { quota: num(c.form, "quota") });
  if (!checked.ok) return render(c, { state: { key: "quota", values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.setSubdomainQuota(c.operator, {
    tenantId: c.params.tenantId,
    quota: checked.value.quota,
  });
  if (!res.ok) return refused(c, "quota", values, res);
  return done(c, "quota", "summary");
}

/** POST /manage/tenants/:tenantId/rotate-key: a new data key version for new text. */
export async function rotateKeyForm(c: TenantCtx): Promise<Response> {
  const res = await c.env.OPERATOR.rotateTenantKey(c.operator, c.params.tenantId);
  if (!res.ok) return refused(c, "rotate", {}, res);
  return done(c, "rotated", "actions");
}

/**
 * POST /manage/tenants/:tenantId/delete: the tenant's own complete deletion, once its exact name
 * is typed; then back to the search, which says so.
 */
export async function deleteForm(c: TenantCtx): Promise<Response> {
  const values = typed(c.form, ["confirmName"]);
  // Only the name is compared: the tenant row alone, not the whole page's reads. The page is
  // loaded only when it has to be shown again.
  if (!TENANT_ID_PATTERN.test(c.params.tenantId)) notFound();
  const tenant = (await getOperatorTenant(c.env.DB, c.params.tenantId)) ?? notFound();
  const typedName = values.confirmName!.trim();
  if (typedName !== tenant.name) {
    const error = typedName === "" ? msg("manage-err-confirm-empty") : msg("manage-err-confirm");
    return render(c, { state: { key: "delete", values, errors: { confirmName: error } }, status: 422 });
  }
  const res = await c.env.OPERATOR.deleteTenant(c.operator, {
    tenantId: c.params.tenantId,
    confirmName: typedName,
  });
  if (!res.ok) return refused(c, "delete", values, res);
  // A large tenant's rows are still going (its key is destroyed already): its page shows what is
  // left until the cron finishes, rather than "deleted".
  if (!res.deleted.complete) return redirect(`/manage/tenants/${encodeURIComponent(c.params.tenantId)}`);
  return redirect("/manage?done=deleted");
}
