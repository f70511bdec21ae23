// GET /manage/health: one page saying whether the platform is in order. The pipeline reports its
// side (every Worker's missing configuration, the Discord bot, the safety queue and its dead
// letters, the crons, the last hour's inbound traffic); the dashboard adds its own configuration.
import { createLogger, errorFields, type PipelineHealth } from "@concierge/core";
import { formatNumber, msg } from "@concierge/i18n";
import { type Html, html } from "../html.ts";
import { formatDateTime } from "../pages/insights.ts";
import { type ConfigItem, dashboardConfig } from "./config-report.ts";
import { type ManageCtx, manageHtml, managePage } from "./layout.ts";

const log = createLogger("dashboard");

/** A cron that has not run for this long is shown as late (the slowest runs hourly). */
const LATE_MS = 2 * 3600_000;

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

function workersSection(c: ManageCtx, h: PipelineHealth): Html {
  const { t } = c;
  return html`<section aria-labelledby="workers-h" id="workers">
<h2 id="workers-h">${t("manage-health-workers")}</h2>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-worker")}</th><th scope="col">${t("manage-health-col-state")}</th><th scope="col">${t("manage-health-col-missing")}</th></tr></thead>
<tbody>
${h.workers.map(
  (w) => html`<tr data-worker="${w.worker}">
<td>${w.worker}</td>
<td>${w.missing.length === 0 ? badge("ok", t("manage-health-config-ok")) : badge("danger", t("manage-health-config-missing", { count: w.missing.length }))}</td>
<td>${w.missing.length === 0 ? html`<span class="muted">${t("manage-health-none")}</span>` : w.missing.map((m) => html`<code>${m}</code> `)}</td>
</tr>`,
)}
</tbody></table></div>
</section>`;
}

function cronState(c: ManageCtx, cron: PipelineHealth["crons"][number], now: number): Html {
  const { t } = c;
  if (cron.lastRunAt === null) return badge("warn", t("manage-health-cron-never"));
  if (cron.ok === false) return badge("danger", t("manage-health-cron-failed"));
  if (now - cron.lastRunAt > LATE_MS) return badge("warn", t("manage-health-cron-late"));
  return badge("ok", t("manage-health-cron-ok"));
}

function pipelineSections(c: ManageCtx, h: PipelineHealth): Html {
  const { t } = c;
  const n = (x: number) => formatNumber(c.locale, x);
  const total = h.traffic.reduce((sum, r) => sum + r.count, 0);
  return html`${workersSection(c, h)}
<div class="grid mg-health">
<section class="card" aria-labelledby="bot-h" id="discord-bot">
<h2 id="bot-h" class="card-h">${t("manage-health-discord")}</h2>
<p>${h.discordBot.ok ? badge("ok", t("manage-health-discord-ok")) : badge("danger", t("manage-health-discord-down"))}</p>
${h.discordBot.detail ? html`<p class="muted">${h.discordBot.detail}</p>` : null}
</section>
<section class="card" aria-labelledby="safety-h" id="safety">
<h2 id="safety-h" class="card-h">${t("manage-health-safety")}</h2>
<dl class="mg-dl">
<dt>${t("manage-health-safety-pending")}</dt><dd class="num" id="safety-pending">${n(h.safety.pending)}</dd>
<dt>${t("manage-health-safety-review")}</dt><dd class="num" id="safety-review">${n(h.safety.needsReview)}</dd>
</dl>
<p class="muted">${t("manage-health-safety-hint")}</p>
</section>
</div>
<section aria-labelledby="crons-h" id="crons">
<h2 id="crons-h">${t("manage-health-crons")}</h2>
${
  h.crons.length === 0
    ? html`<p class="card muted">${t("manage-health-crons-none")}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t("manage-health-col-cron")}</th><th scope="col">${t("manage-health-col-last-run")}</th><th scope="col">${t("manage-health-col-state")}</th></tr></thead>
<tbody>
${h.crons.map(
  (cron) => html`<tr data-cron="${cron.name}">
<td><code>${cron.name}</code></td>
<td>${cron.lastRunAt === null ? t("manage-health-cron-never") : formatDateTime(c.locale, cron.lastRunAt)}</td>
<td>${cronState(c, cron, h.at)}</td>
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

export async function healthPage(c: ManageCtx): Promise<Response> {
  const health = await pipelineHealth(c);
  return manageHtml(
    c,
    managePage(c, {
      title: c.t("manage-health-title"),
      section: "health",
      error: health ? null : c.t("manage-health-pipeline-down"),
      body: html`${dashboardSection(c, dashboardConfig(c.env))}
${health ? pipelineSections(c, health) : null}`,
    }),
  );
}
