import { WIZARD_STEPS } from "@concierge/core";
import { formatNumber, msg } from "@concierge/i18n";
import {
  type AccountActivity,
  type AiReplyState,
  accountHealth,
  aiReplyState,
  countGivenUpMessages,
  creditBalance,
  getOnboarding,
  getPersona,
  getRetentionDays,
  getTenantSettings,
  type Health,
  type HealthLevel,
  type HealthReason,
  listAccountActivity,
  listPendingApprovals,
  listReplyConfigSummaries,
  personaVerdictOverdue,
  SAFETY_OVERDUE_MS,
  type SafetyStatus,
  listRuleLabels,
  tenantInsights,
} from "@concierge/storage";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, html as respond } from "../http.ts";
import { page } from "../layout.ts";
import { WIZARD_PATH } from "../wizard-return.ts";
import { formatDateTime, insightsCsv, insightsSection } from "./insights.ts";

const CHANNEL_NAME: Record<AccountActivity["channel"], string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("overview-channel-email"),
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

/**
 * The badge of a channel: its level's word, except a new channel still waiting for its first
 * message, which is "Connected" (nothing is wrong; "Healthy" would claim more than is known).
 */
const healthLabel = (h: Health) =>
  h.reason === "no_messages" ? msg("overview-health-waiting") : HEALTH_LABEL[h.level];

/** The one place the overview says whether AI replies go out, and what to do about it. */
/**
 * "idle": AI replies could go out, but no channel answers at all: no WhatsApp, Instagram or email
 * account has a saved reply config with its switch on (before launch, or every switch off).
 */
type OverviewAiState = AiReplyState | "idle";

const AI_STATE: Record<
  OverviewAiState,
  { level: HealthLevel; label: string; text: string; link: { href: string; label: string } | null }
> = {
  on: { level: "ok", label: msg("overview-ai-on"), text: msg("overview-ai-on-text"), link: null },
  persona_not_approved: {
    level: "warn",
    label: msg("overview-ai-paused"),
    text: msg("overview-ai-paused-text"),
    link: { href: "/admin/persona", label: msg("overview-ai-paused-link") },
  },
  no_credits: {
    level: "danger",
    label: msg("overview-ai-stopped"),
    text: msg("overview-ai-stopped-text"),
    link: { href: "/admin/billing", label: msg("overview-ai-stopped-link") },
  },
  no_persona: {
    level: "warn",
    label: msg("overview-ai-off"),
    text: msg("overview-ai-off-text"),
    link: { href: "/admin/persona", label: msg("overview-ai-off-link") },
  },
  idle: {
    level: "warn",
    label: msg("overview-ai-off"),
    text: msg("overview-ai-idle-text"),
    link: { href: "/admin/rules", label: msg("overview-ai-idle-link") },
  },
  suspended: {
    level: "danger",
    label: msg("overview-ai-suspended"),
    text: msg("overview-ai-suspended-text"),
    link: null,
  },
};

// The persona card says only what the safety check decided; what that means for AI replies is
// the AI replies card's to say (together with the balance and a suspension).
const PERSONA_STATUS: Record<SafetyStatus | "none", { level: HealthLevel; label: string; text: string }> = {
  approved: {
    level: "ok",
    label: msg("overview-persona-approved"),
    text: msg("overview-persona-approved-text"),
  },
  pending: {
    level: "warn",
    label: msg("overview-persona-pending"),
    text: msg("overview-persona-pending-text"),
  },
  needs_review: {
    level: "warn",
    label: msg("overview-persona-review"),
    text: msg("overview-persona-review-text"),
  },
  rejected: {
    level: "danger",
    label: msg("overview-persona-rejected"),
    text: msg("overview-persona-rejected-text"),
  },
  none: { level: "warn", label: msg("overview-persona-none"), text: msg("overview-persona-none-text") },
};

const badge = (level: HealthLevel, text: string) =>
  html`<span class="badge ${level === "ok" ? "ok" : level === "warn" ? "warn" : "danger"}">${text}</span>`;

function channelsSection(c: AuthedCtx, accounts: AccountActivity[], now: number): Html {
  const { t } = c;
  const when = (ms: number | null) => (ms === null ? t("overview-never") : formatDateTime(c.locale, ms));
  const body =
    accounts.length === 0
      ? html`<p class="card">${t("overview-no-channels")}</p>`
      : html`<ul class="grid ov-channels" id="channels">
${accounts.map((a) => {
  const health = accountHealth(a, now);
  return html`<li class="card" data-account="${a.id}">
<h3>${t(CHANNEL_NAME[a.channel])}${a.displayName ? html` · ${a.displayName}` : null}</h3>
<p class="muted ov-wrap">${a.externalId}</p>
<p>${badge(health.level, t(healthLabel(health)))} <span class="ov-reason">${t(HEALTH_REASON[health.reason], { count: a.failedSends, n: formatNumber(c.locale, a.failedSends) })}</span></p>
${
  a.channel === "discord"
    ? null
    : html`<dl>
<dt>${t("overview-col-last-in")}</dt><dd>${when(a.lastInboundAt)}</dd>
<dt>${t("overview-col-last-out")}</dt><dd>${when(a.lastOutboundAt)}</dd>
</dl>`
}
</li>`;
})}
</ul>`;
  return html`<section aria-labelledby="channels-h">
<h2 id="channels-h">${t("overview-channels")}</h2>
${body}
</section>`;
}

function balanceCard(c: AuthedCtx, balance: number, threshold: number): Html {
  const { t } = c;
  const state =
    balance <= 0
      ? html`<p>${badge("danger", t("overview-balance-empty"))} ${t("overview-balance-empty-text")}</p>`
      : balance <= threshold
        ? html`<p>${badge("warn", t("overview-balance-low"))} ${t("overview-balance-low-text", {
            threshold: formatNumber(c.locale, threshold),
          })}</p>`
        : null;
  return html`<section class="card ov-card" id="balance" aria-labelledby="balance-h">
<h2 id="balance-h">${t("overview-balance")}</h2>
<p class="stat">${formatNumber(c.locale, balance)}</p>
<p class="muted">${t("overview-balance-unit")}</p>
${state}
<p><a href="/admin/billing">${t("overview-balance-link")}</a></p>
</section>`;
}

function approvalsCard(c: AuthedCtx, pending: number): Html {
  const { t } = c;
  return html`<section class="card ov-card" id="pending-approvals" aria-labelledby="approvals-h">
<h2 id="approvals-h">${t("overview-approvals")}</h2>
<p class="stat">${formatNumber(c.locale, pending)}</p>
<p class="muted">${t("overview-approvals-text", { count: pending })}</p>
<p><a href="/admin/approvals">${t("overview-approvals-link")}</a></p>
</section>`;
}

/** Pending far longer than a check takes: its verdict was lost or keeps failing to record. */
const PERSONA_OVERDUE = {
  level: "danger" as HealthLevel,
  label: msg("overview-persona-overdue"),
  text: msg("overview-persona-overdue-text"),
};

function personaCard(c: AuthedCtx, status: SafetyStatus | null, overdue: boolean): Html {
  const { t } = c;
  const s = status === "pending" && overdue ? PERSONA_OVERDUE : PERSONA_STATUS[status ?? "none"];
  return html`<section class="card ov-card" id="persona-status" aria-labelledby="persona-h">
<h2 id="persona-h">${t("overview-persona")}</h2>
<p>${badge(s.level, t(s.label))}</p>
<p class="muted">${t(s.text)}</p>
<p><a href="/admin/persona">${t("overview-persona-link")}</a></p>
</section>`;
}

/** How far back the overview counts customers left unanswered. */
const UNANSWERED_WINDOW_MS = 7 * 24 * 3600_000;

/** Customer messages whose turn gave up after a day of failures: shown only when there are some. */
function unansweredCard(c: AuthedCtx, count: number): Html | null {
  if (count === 0) return null;
  const { t } = c;
  return html`<section class="card ov-card" id="unanswered" aria-labelledby="unanswered-h">
<h2 id="unanswered-h">${t("overview-unanswered")}</h2>
<p class="stat">${badge("danger", formatNumber(c.locale, count))}</p>
<p class="muted">${t("overview-unanswered-text", { count })}</p>
</section>`;
}

function aiCard(c: AuthedCtx, state: OverviewAiState): Html {
  const { t } = c;
  const s = AI_STATE[state];
  return html`<section class="card ov-card" id="ai-status" data-state="${state}" aria-labelledby="ai-h">
<h2 id="ai-h">${t("overview-ai")}</h2>
<p>${badge(s.level, t(s.label))}</p>
<p class="muted">${t(s.text)}</p>
${s.link ? html`<p><a href="${s.link.href}">${t(s.link.label)}</a></p>` : null}
</section>`;
}

/**
 * Until the tenant launches, the way back into the onboarding wizard, first on the page: the
 * step it is on (the one after the last completed, WIZARD_STEPS numbering).
 */
function setupCard(c: AuthedCtx, wizardStep: number): Html {
  const { t } = c;
  const step = Math.min(Math.max(wizardStep, 0) + 1, WIZARD_STEPS.length);
  return html`<section class="card ov-setup" id="finish-setup" aria-labelledby="setup-h">
<h2 id="setup-h">${t("overview-setup-title", { step, total: WIZARD_STEPS.length })}</h2>
<p>${t("overview-setup-text")}</p>
<p><a class="button" href="${WIZARD_PATH}">${t("overview-setup-link")}</a></p>
</section>`;
}

export async function overviewPage(c: AuthedCtx): Promise<Response> {
  const tenantId = c.session.tenantId;
  const now = Date.now();
  const [
    settings,
    balance,
    pending,
    persona,
    accounts,
    insights,
    onboarding,
    configs,
    overdue,
    unanswered,
    retention,
    ruleLabels,
  ] = await Promise.all([
    getTenantSettings(c.env.DB, tenantId),
    creditBalance(c.env.DB, tenantId, now),
    listPendingApprovals(c.env.DB, tenantId, now),
    getPersona(c.env.DB, tenantId),
    listAccountActivity(c.env.DB, tenantId, now),
    tenantInsights(c.env.DB, tenantId, now),
    getOnboarding(c.env.DB, tenantId),
    listReplyConfigSummaries(c.env.DB, tenantId),
    personaVerdictOverdue(c.env.DB, tenantId, now - SAFETY_OVERDUE_MS),
    countGivenUpMessages(c.env.DB, tenantId, now - UNANSWERED_WINDOW_MS),
    // The insights say when older days were purged under the tenant's retention.
    getRetentionDays(c.env.DB, tenantId),
    // The insights name the rules that answered most by the labels the tenant gave them.
    listRuleLabels(c.env.DB, tenantId),
  ]);
  if (!settings || !onboarding) notFound();
  const launched = onboarding.launchedAt !== null;
  // Whether anything answers customers at all: an active account with a saved config, switched on.
  const answering = configs.some((a) => a.status === "active" && a.configured && a.enabled);
  const capable = aiReplyState({
    suspended: settings.status === "suspended",
    persona: persona?.status ?? null,
    balance,
  });
  const ai: OverviewAiState = capable === "on" && !answering ? "idle" : capable;
  return respond(
    c,
    page(c, {
      title: c.t("overview-title"),
      section: "overview",
      // The launch step sends here with launched=1; only a tenant that did launch is told so.
      notice:
        launched && c.searchParams.get("launched") === "1"
          ? c.t(answering ? "overview-launched" : "overview-launched-idle")
          : null,
      body: html`
${launched ? null : setupCard(c, onboarding.wizardStep)}
<div class="grid">
${aiCard(c, ai)}
${balanceCard(c, balance, settings.lowBalanceThreshold)}
${personaCard(c, persona?.status ?? null, overdue)}
${approvalsCard(c, pending.length)}
${unansweredCard(c, unanswered)}
</div>
${channelsSection(c, accounts, now)}
${insightsSection(c, insights, retention, ruleLabels)}`,
    }),
  );
}

/** The overview's 30-day numbers as a CSV file, for a spreadsheet (issue 19 item 6). */
export async function insightsCsvPage(c: AuthedCtx): Promise<Response> {
  const data = await tenantInsights(c.env.DB, c.session.tenantId, Date.now());
  const last = data.days[data.days.length - 1]!.date;
  return new Response(insightsCsv(c, data), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="concierge-insights-${last}.csv"`,
      // The tenant's own figures: never kept by a shared cache.
      "cache-control": "private, no-store",
    },
  });
}
