// GET /manage/health: one page saying whether the platform is in order. Every Worker's
// configuration by name (the pipeline's comes with its report over OPERATOR, the dashboard's is its
// own, the three others answer over their HEALTH_* bindings; a Worker that does not answer is shown
// as unreachable), then the pipeline's report: the Discord bot, the safety queue and its dead
// letters, the crons, the last hour's inbound traffic.
import {
  createLogger,
  type DiscordBotDetail,
  errorFields,
  type PipelineHealth,
  type WorkerConfigReport,
  WorkerConfigReportSchema,
} from "@concierge/core";
import { formatNumber, msg } from "@concierge/i18n";
import { listUnfinishedDeletions } from "@concierge/storage";
import * as v from "valibot";
import { type Html, html } from "../html.ts";
import { formatDateTime } from "../pages/insights.ts";
import { type ConfigItem, dashboardConfig, dashboardConfigReport } from "./config-report.ts";
import { type ManageCtx, manageHtml, managePage } from "./layout.ts";

const log = createLogger("dashboard");

/** The Workers that answer over a HEALTH_* binding of their own, in the page's order. */
const BOUND_WORKERS = [
  { worker: "meta-webhooks", binding: "HEALTH_META_WEBHOOKS" },
  { worker: "email-inbound", binding: "HEALTH_EMAIL_INBOUND" },
  { worker: "discord-interactions", binding: "HEALTH_DISCORD" },
] as const;

/** Every Worker of the platform, as the page lists them. */
export const PLATFORM_WORKERS = ["pipeline", "dashboard", ...BOUND_WORKERS.map((w) => w.worker)] as const;

/** How long a Worker may take to report before the page calls it unreachable. */
const REPORT_TIMEOUT_MS = 3_000;

/** One row of the Workers' table: the report, or null when the Worker did not give one. */
type WorkerRow = { worker: string; report: WorkerConfigReport | null };

const CHANNEL: Record<string, string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("manage-channel-email"),
  discord: msg("channel-discord"),
};

function badge(level: "ok" | "warn" | "danger", label: string): Html {
  return html`<span class="badge ${level}">${label}</span>`;
}

function dashboardSection(c: ManageCtx, items: ConfigItem[]): Html {
  const { t } = c;
  const missingRequired = items.filter((i) => i.required && !i.set).length;
  return html`<section aria-labelledby="cfg-h" id="dashboard-config">
<h2 id="cfg-h">${t("manage-health-dashboard")}</h2>
<p>${
    missingRequired === 0
      ? badge("ok", t("manage-health-config-ok"))
      : badge("danger", t("manage-health-config-missing", { count: missingRequired }))
  }</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-name")}</th><th scope="col">${t("manage-health-col-kind")}</th><th scope="col">${t("manage-health-col-state")}</th></tr></thead>
<tbody>
${items.map(
  (i) => html`<tr data-config="${i.name}">
<td><code>${i.name}</code></td>
<td>${i.required ? t("manage-health-required") : t("manage-health-optional")}</td>
<td>${
    i.set
      ? badge("ok", t("manage-health-set"))
      : badge(i.required ? "danger" : "warn", t("manage-health-not-set"))
  }</td>
</tr>`,
)}
</tbody></table></div>
</section>`;
}

function workerState(c: ManageCtx, row: WorkerRow): Html {
  const { t } = c;
  if (!row.report) return badge("danger", t("manage-health-unreachable"));
  if (row.report.missing.length > 0) {
    return badge("danger", t("manage-health-config-missing", { count: row.report.missing.length }));
  }
  return badge("ok", t("manage-health-config-ok"));
}

function workerMissing(c: ManageCtx, report: WorkerConfigReport | null): Html {
  const { t } = c;
  if (!report) return html`<span class="muted">${t("manage-health-unreachable-detail")}</span>`;
  const names = (list: string[]) => list.map((m) => html`<code>${m}</code> `);
  return html`${report.missing.length === 0 ? html`<span class="muted">${t("manage-health-none")}</span>` : names(report.missing)}${
    report.optionalMissing.length > 0
      ? html`<br><span class="muted">${t("manage-health-optional-not-set")}</span> ${names(report.optionalMissing)}`
      : null
  }`;
}

function workersSection(c: ManageCtx, rows: WorkerRow[]): Html {
  const { t } = c;
  return html`<section aria-labelledby="workers-h" id="workers">
<h2 id="workers-h">${t("manage-health-workers")}</h2>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-worker")}</th><th scope="col">${t("manage-health-col-state")}</th><th scope="col">${t("manage-health-col-missing")}</th></tr></thead>
<tbody>
${rows.map(
  (
    row,
  ) => html`<tr data-worker="${row.worker}" data-worker-state="${!row.report ? "unreachable" : row.report.missing.length > 0 ? "missing" : "ok"}">
<td>${row.worker}</td>
<td>${workerState(c, row)}</td>
<td>${workerMissing(c, row.report)}</td>
</tr>`,
)}
</tbody></table></div>
</section>`;
}

/** A cron is late once it has missed a run: more than twice its own interval since the last one. */
export function cronStatus(
  cron: PipelineHealth["crons"][number],
  now: number,
): "never" | "failed" | "late" | "ok" {
  if (cron.lastRunAt === null) return "never";
  if (cron.ok === false) return "failed";
  if (now - cron.lastRunAt > 2 * cron.intervalMs) return "late";
  return "ok";
}

function cronState(c: ManageCtx, status: ReturnType<typeof cronStatus>): Html {
  const { t } = c;
  if (status === "never") return badge("warn", t("manage-health-cron-never"));
  if (status === "failed") return badge("danger", t("manage-health-cron-failed"));
  if (status === "late") return badge("warn", t("manage-health-cron-late"));
  return badge("ok", t("manage-health-cron-ok"));
}

/** What the Discord bot check found, in the operator's words. */
function discordDetail(c: ManageCtx, detail: DiscordBotDetail): string {
  const { t } = c;
  switch (detail.kind) {
    case "signed_in":
      return t("manage-health-discord-signed-in", { username: detail.username });
    case "token_not_set":
      return t("manage-health-discord-token-not-set");
    case "refused":
      return t("manage-health-discord-refused", { status: detail.status });
    case "unreachable":
      return t("manage-health-discord-unreachable");
    default:
      return t("manage-health-discord-unexpected");
  }
}

function pipelineSections(c: ManageCtx, h: PipelineHealth): Html {
  const { t } = c;
  const n = (x: number) => formatNumber(c.locale, x);
  const total = h.traffic.reduce((sum, r) => sum + r.count, 0);
  return html`<div class="grid mg-health">
<section class="card" aria-labelledby="bot-h" id="discord-bot">
<h2 id="bot-h" class="card-h">${t("manage-health-discord")}</h2>
<p>${h.discordBot.ok ? badge("ok", t("manage-health-discord-ok")) : badge("danger", t("manage-health-discord-down"))}</p>
<p class="muted" id="discord-bot-detail">${discordDetail(c, h.discordBot.detail)}</p>
</section>
<section class="card" aria-labelledby="safety-h" id="safety">
<h2 id="safety-h" class="card-h">${t("manage-health-safety")}</h2>
<dl class="mg-dl">
<dt>${t("manage-health-safety-pending")}</dt><dd class="num" id="safety-pending">${n(h.safety.pending)}</dd>
<dt>${t("manage-health-safety-review")}</dt><dd class="num" id="safety-review">${n(h.safety.needsReview)}</dd>
<dt>${t("manage-health-safety-overdue")}</dt><dd class="num" id="safety-overdue">${n(h.safety.overdue)}</dd>
</dl>
${h.safety.overdue > 0 ? html`<p id="safety-overdue-alert">${badge("danger", t("manage-health-safety-overdue-alert", { count: h.safety.overdue }))}</p>` : ""}
<p class="muted">${t("manage-health-safety-hint")}</p>
</section>
<section class="card" aria-labelledby="effects-h" id="side-effects">
<h2 id="effects-h" class="card-h">${t("manage-health-effects")}</h2>
<dl class="mg-dl">
<dt>${t("manage-health-effects-pending")}</dt><dd class="num" id="effects-pending">${n(h.sideEffects.pending)}</dd>
<dt>${t("manage-health-effects-failed")}</dt><dd class="num" id="effects-failed">${n(h.sideEffects.failed)}</dd>
</dl>
${h.sideEffects.failed > 0 ? html`<p id="effects-failed-alert">${badge("danger", t("manage-health-effects-failed-alert", { count: h.sideEffects.failed }))}</p>` : ""}
<p class="muted">${t("manage-health-effects-hint")}</p>
</section>
</div>
${stuckSection(c, h)}
<section aria-labelledby="crons-h" id="crons">
<h2 id="crons-h">${t("manage-health-crons")}</h2>
${
  h.crons.length === 0
    ? html`<p class="card muted">${t("manage-health-crons-none")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-cron")}</th><th scope="col">${t("manage-health-col-last-run")}</th><th scope="col">${t("manage-health-col-state")}</th></tr></thead>
<tbody>
${h.crons.map(
  (cron) => html`<tr data-cron="${cron.name}" data-cron-state="${cronStatus(cron, h.at)}">
<td><code>${cron.name}</code></td>
<td>${cron.lastRunAt === null ? t("manage-health-cron-never") : formatDateTime(c.locale, cron.lastRunAt)}</td>
<td>${cronState(c, cronStatus(cron, h.at))}</td>
</tr>`,
)}
</tbody></table></div>`
}
</section>
<section aria-labelledby="traffic-h" id="traffic">
<h2 id="traffic-h">${t("manage-health-traffic")}</h2>
<p class="muted">${t("manage-health-traffic-lead", { total: n(total), count: total })}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-channel")}</th><th scope="col" class="num">${t("manage-health-col-messages")}</th></tr></thead>
<tbody>
${h.traffic.map(
  (r) => html`<tr data-channel="${r.channel}">
<td>${CHANNEL[r.channel] ? t(CHANNEL[r.channel]!) : r.channel}</td>
<td class="num">${n(r.count)}</td>
</tr>`,
)}
</tbody></table></div>
</section>
<p class="muted">${t("manage-health-at", { at: formatDateTime(c.locale, h.at) })}</p>`;
}

/** Conversations whose alarm gave up after failing again and again (issue 17): ids and times. */
function stuckSection(c: ManageCtx, h: PipelineHealth) {
  const { t } = c;
  const { count, recent } = h.stuckAlarms;
  return html`<section aria-labelledby="stuck-h" id="stuck-alarms">
<h2 id="stuck-h">${t("manage-health-stuck")}</h2>
${
  count === 0
    ? html`<p class="card muted">${badge("ok", t("manage-health-stuck-none"))}</p>`
    : html`<p>${badge("danger", t("manage-health-stuck-lead", { count }))}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-tenant")}</th><th scope="col">${t("manage-health-col-account")}</th><th scope="col" class="num">${t("manage-health-col-attempts")}</th><th scope="col">${t("manage-health-col-failed-at")}</th></tr></thead>
<tbody>
${recent.map(
  (r) => html`<tr data-stuck-tenant="${r.tenantId}">
<td><a href="/manage/tenants/${encodeURIComponent(r.tenantId)}"><code>${r.tenantId}</code></a></td>
<td><code>${r.accountId}</code></td>
<td class="num">${formatNumber(c.locale, r.attempts)}</td>
<td>${formatDateTime(c.locale, r.failedAt)}</td>
</tr>`,
)}
</tbody></table></div>`
}
</section>`;
}

/** The pipeline's report, or null when it cannot be had (the page says so and shows the rest). */
async function pipelineHealth(c: ManageCtx): Promise<PipelineHealth | null> {
  try {
    const res = await c.env.OPERATOR.platformHealth();
    if (res.ok) return res.health;
    log.error("manage.health_failed", { code: res.error.code });
  } catch (err) {
    log.error("manage.health_failed", errorFields(err));
  }
  return null;
}

/** `p`, or a rejection once `ms` have passed: a Worker that does not answer is unreachable. */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One Worker's report over its HEALTH_* binding, checked at this boundary; null when the binding
 * is missing, the Worker does not answer (not deployed, failing, slow) or answers something else.
 */
async function boundWorkerReport(
  c: ManageCtx,
  { worker, binding }: (typeof BOUND_WORKERS)[number],
): Promise<WorkerConfigReport | null> {
  try {
    const stub = c.env[binding] as Env[typeof binding] | undefined;
    if (!stub) return null;
    const answer = await within(stub.configReport(), REPORT_TIMEOUT_MS);
    const parsed = v.safeParse(WorkerConfigReportSchema, answer);
    if (parsed.success && parsed.output.worker === worker) return parsed.output;
    log.error("manage.health_report_invalid", { worker });
  } catch (err) {
    log.warn("manage.health_worker_unreachable", { worker, ...errorFields(err) });
  }
  return null;
}

/** Every Worker's row, in PLATFORM_WORKERS' order: none left out, whatever answered. */
function workerRows(
  c: ManageCtx,
  health: PipelineHealth | null,
  bound: (WorkerConfigReport | null)[],
): WorkerRow[] {
  const reports = new Map<string, WorkerConfigReport>();
  for (const r of health?.workers ?? []) reports.set(r.worker, r);
  reports.set("dashboard", dashboardConfigReport(c.env));
  BOUND_WORKERS.forEach((w, i) => {
    const r = bound[i];
    if (r) reports.set(w.worker, r);
  });
  return PLATFORM_WORKERS.map((worker) => ({ worker, report: reports.get(worker) ?? null }));
}

/** A tenant deletion still unfinished this long after it began is stuck (the cron runs every 15 min). */
const DELETION_STUCK_MS = 24 * 60 * 60_000;

/**
 * Tenant deletions not finished (tenants.deleting_at), oldest first: each links to its tenant's
 * page (key destroyed, rows left); one older than DELETION_STUCK_MS is called stuck.
 */
function deletionsSection(c: ManageCtx, rows: { tenantId: string; deletingAt: number }[], now: number): Html {
  const { t } = c;
  return html`<section aria-labelledby="deletions-h" id="deletions">
<h2 id="deletions-h">${t("manage-health-deletions")}</h2>
<p class="muted">${t("manage-health-deletions-lead")}</p>
${
  rows.length === 0
    ? html`<p class="card muted">${badge("ok", t("manage-health-deletions-none"))}</p>`
    : html`<ul class="card">${rows.map(
        (r) =>
          html`<li data-deleting-tenant="${r.tenantId}"><a href="/manage/tenants/${r.tenantId}"><code>${r.tenantId}</code></a> · ${t("manage-health-deletion-started", { at: formatDateTime(c.locale, r.deletingAt) })}${
            now - r.deletingAt > DELETION_STUCK_MS
              ? html` ${badge("danger", t("manage-health-deletion-stuck"))}`
              : null
          }</li>`,
      )}</ul>`
}
</section>`;
}

export async function healthPage(c: ManageCtx): Promise<Response> {
  const now = Date.now();
  const [health, bound, deletions] = await Promise.all([
    pipelineHealth(c),
    Promise.all(BOUND_WORKERS.map((w) => boundWorkerReport(c, w))),
    listUnfinishedDeletions(c.env.DB, 20),
  ]);
  return manageHtml(
    c,
    managePage(c, {
      title: c.t("manage-health-title"),
      section: "health",
      error: health ? null : c.t("manage-health-pipeline-down"),
      body: html`${workersSection(c, workerRows(c, health, bound))}
${dashboardSection(c, dashboardConfig(c.env))}
${health ? pipelineSections(c, health) : null}
${deletionsSection(c, deletions, now)}`,
    }),
  );
}
