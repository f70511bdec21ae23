import { formatNumber, msg } from "@concierge/i18n";
import {
  CUSTOMER_CHANNELS,
  type CustomerChannel,
  type Insights,
  type InsightsDay,
  REPLY_WAIT_BUCKETS,
  type ReplyWaitBucket,
} from "@concierge/storage";
import { type Html, html } from "../html.ts";
import type { Ctx } from "../http.ts";

/**
 * The overview's 30-day insights as an accessible inline SVG: small multiples sharing the day
 * axis (messages received per channel, replies by kind, credits used), a title and a description
 * with the totals, a visible legend and the numbers as a real table. Colours are presentation
 * attributes and classes (the CSP allows no inline `style`), all at least 4.5:1 on white.
 */

/** A day as the tenant's locale writes it: the insights' local day numbers read as UTC midnights. */
export function formatDay(locale: string, ms: number): string {
  return new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" }).format(ms);
}

/** A calendar date in UTC, the tenant's way ("21 Nov 2026", "Nov 21, 2026"). */
export function formatDate(locale: string, ms: number): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(ms);
}

/** A moment with date and time, in UTC, labelled as such (the operator panel's times). */
export function formatDateTime(locale: string, ms: number): string {
  return new Intl.DateTimeFormat(locale, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  }).format(ms);
}

type SeriesId = CustomerChannel | "canned" | "ai" | "handoffs" | "human" | "failed" | "credits";
type Series = { id: SeriesId; label: string; color: string; value: (d: InsightsDay) => number };

const CHANNEL_LABEL: Record<CustomerChannel, string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("insights-channel-email"),
};

const COLORS: Record<SeriesId, string> = {
  whatsapp: "#047857",
  instagram: "#a21caf",
  email: "#1d4ed8",
  canned: "#b45309",
  ai: "#6d28d9",
  handoffs: "#be123c",
  human: "#0f766e",
  failed: "#7f1d1d",
  credits: "#334155",
};

const SERIES: Series[] = [
  ...CUSTOMER_CHANNELS.map((ch) => ({
    id: ch,
    label: CHANNEL_LABEL[ch],
    color: COLORS[ch],
    value: (d: InsightsDay) => d.received[ch],
  })),
  { id: "canned", label: msg("insights-canned"), color: COLORS.canned, value: (d) => d.canned },
  { id: "ai", label: msg("insights-ai"), color: COLORS.ai, value: (d) => d.ai },
  { id: "handoffs", label: msg("insights-handoffs"), color: COLORS.handoffs, value: (d) => d.handoffs },
  { id: "human", label: msg("insights-human"), color: COLORS.human, value: (d) => d.human },
  { id: "failed", label: msg("insights-failed"), color: COLORS.failed, value: (d) => d.failed },
  { id: "credits", label: msg("insights-credits"), color: COLORS.credits, value: (d) => d.credits },
];
const series = (ids: SeriesId[]) => SERIES.filter((s) => ids.includes(s.id));

const PANELS: { title: string; series: Series[] }[] = [
  { title: msg("insights-panel-received"), series: series([...CUSTOMER_CHANNELS]) },
  { title: msg("insights-panel-replies"), series: series(["canned", "ai", "handoffs", "human", "failed"]) },
  { title: msg("insights-panel-credits"), series: series(["credits"]) },
];

// Geometry in viewBox units; the SVG scales to its container (width 100%, no pixel size).
const W = 640;
const LEFT = 6;
const RIGHT = 6;
const TOP = 6;
const TITLE_H = 30;
const PLOT_H = 110;
const GAP = 18;
const AXIS_H = 30;
const PANEL_H = TITLE_H + PLOT_H + GAP;

/** A round axis maximum at or above the largest value: 1, 2, 5, 10, 20, 50… */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const round = (n: number) => Math.round(n * 10) / 10;

function panel(c: Ctx, p: (typeof PANELS)[number], index: number, days: InsightsDay[]): Html {
  const { t } = c;
  const y0 = TOP + index * PANEL_H;
  const plotTop = y0 + TITLE_H;
  const base = plotTop + PLOT_H;
  const slot = (W - LEFT - RIGHT) / days.length;
  const barW = slot * 0.72;
  const stackMax = Math.max(0, ...days.map((d) => p.series.reduce((n, s) => n + s.value(d), 0)));
  const max = niceMax(stackMax);
  const scale = PLOT_H / max;
  const bars = days.map((d, i) => {
    const x = round(LEFT + i * slot + (slot - barW) / 2);
    let top = base;
    return p.series.map((s) => {
      const n = s.value(d);
      if (n <= 0) return null;
      const h = Math.max(n * scale, 1);
      top -= h;
      return html`<rect x="${x}" y="${round(top)}" width="${round(barW)}" height="${round(h)}" fill="${s.color}" stroke="#fff" stroke-width="0.75"><title>${formatDay(c.locale, d.start)} · ${t(s.label)}: ${formatNumber(c.locale, n)}</title></rect>`;
    });
  });
  return html`<g>
<text class="ic-h" x="${LEFT}" y="${y0 + 18}">${t(p.title)}</text>
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${plotTop}" y2="${plotTop}" stroke="#d0d5dd" stroke-dasharray="4 4"/>
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${plotTop + PLOT_H / 2}" y2="${plotTop + PLOT_H / 2}" stroke="#e4e7ec" stroke-dasharray="4 4"/>
<text class="ic-t" x="${W - RIGHT}" y="${y0 + 18}" text-anchor="end">${t("insights-axis-max", { max: formatNumber(c.locale, max) })}</text>
${bars}
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${base}" y2="${base}" stroke="#667085"/>
</g>`;
}

function dayTicks(c: Ctx, days: InsightsDay[], y: number): Html[] {
  const slot = (W - LEFT - RIGHT) / days.length;
  const picks = [0, 7, 14, 21, days.length - 1].filter(
    (i, k, all) => i < days.length && all.indexOf(i) === k,
  );
  return picks.map((i) => {
    const anchor = i === 0 ? "start" : i === days.length - 1 ? "end" : "middle";
    const x = anchor === "start" ? LEFT : anchor === "end" ? W - RIGHT : round(LEFT + (i + 0.5) * slot);
    return html`<text class="ic-t" x="${x}" y="${y}" text-anchor="${anchor}">${formatDay(c.locale, days[i]!.start)}</text>`;
  });
}

/** "42 messages received (WhatsApp 30, …), 20 canned replies, …": the chart in one sentence. */
export function insightsSummary(c: Ctx, data: Insights): string {
  const { t } = c;
  const n = (v: number) => formatNumber(c.locale, v);
  const tt = data.totals;
  const last = data.days[data.days.length - 1]!;
  return t("insights-desc", {
    from: formatDay(c.locale, data.from),
    to: formatDay(c.locale, last.start),
    received: n(tt.receivedAll),
    receivedCount: tt.receivedAll,
    whatsapp: n(tt.received.whatsapp),
    instagram: n(tt.received.instagram),
    email: n(tt.received.email),
    canned: n(tt.canned),
    cannedCount: tt.canned,
    ai: n(tt.ai),
    aiCount: tt.ai,
    handoffs: n(tt.handoffs),
    handoffsCount: tt.handoffs,
    human: n(tt.human),
    humanCount: tt.human,
    failed: n(tt.failed),
    failedCount: tt.failed,
    credits: n(tt.credits),
    creditsCount: tt.credits,
  });
}

function chart(c: Ctx, data: Insights): Html {
  const height = TOP + PANELS.length * PANEL_H + AXIS_H - GAP;
  return html`<svg id="insights-chart" class="chart ic" viewBox="0 0 ${W} ${height}" role="img" aria-labelledby="insights-chart-title insights-chart-desc" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">
<title id="insights-chart-title">${c.t("insights-chart-title")}</title>
<desc id="insights-chart-desc">${insightsSummary(c, data)}</desc>
${PANELS.map((p, i) => panel(c, p, i, data.days))}
${dayTicks(c, data.days, height - 8)}
</svg>`;
}

function legend(c: Ctx): Html {
  return html`<ul class="legend">${SERIES.map(
    (s) =>
      html`<li><svg class="ic-sw" viewBox="0 0 12 12" aria-hidden="true"><rect width="12" height="12" rx="3" fill="${s.color}"/></svg>${c.t(s.label)}</li>`,
  )}</ul>`;
}

/** The table's and the CSV's columns after the day, in order (one source for both). */
type Counts = Pick<InsightsDay, "received" | "canned" | "ai" | "handoffs" | "human" | "failed" | "credits">;
const COLUMNS: { label: string; value: (d: Counts) => number }[] = [
  ...CUSTOMER_CHANNELS.map((ch) => ({ label: CHANNEL_LABEL[ch], value: (d: Counts) => d.received[ch] })),
  { label: msg("insights-canned"), value: (d) => d.canned },
  { label: msg("insights-ai"), value: (d) => d.ai },
  { label: msg("insights-handoffs"), value: (d) => d.handoffs },
  { label: msg("insights-human"), value: (d) => d.human },
  { label: msg("insights-failed"), value: (d) => d.failed },
  { label: msg("insights-credits"), value: (d) => d.credits },
];

function table(c: Ctx, data: Insights): Html {
  const { t } = c;
  const n = (v: number) => formatNumber(c.locale, v);
  const cells = (d: Counts) => COLUMNS.map((col) => html`<td class="num">${n(col.value(d))}</td>`);
  return html`<details class="ic-numbers">
<summary>${t("insights-show-numbers")}</summary>
<div class="table-wrap"><table id="insights-table">
<caption class="sr-only">${t("insights-table-caption")}</caption>
<thead><tr><th scope="col">${t("insights-col-day")}</th>${COLUMNS.map(
    (col) => html`<th scope="col" class="num">${t(col.label)}</th>`,
  )}</tr></thead>
<tbody>
${data.days.map((d) => html`<tr data-day="${d.date}"><th scope="row">${formatDay(c.locale, d.start)}</th>${cells(d)}</tr>`)}
</tbody>
<tfoot><tr data-day="total"><th scope="row">${t("insights-total")}</th>${cells(data.totals)}</tr></tfoot>
</table></div>
<p><a href="${INSIGHTS_CSV_PATH}" download id="insights-export">${t("insights-export")}</a> <span class="muted">${t("insights-export-hint")}</span></p>
</details>`;
}

/** Where the day table is downloaded as CSV (routes.ts). */
export const INSIGHTS_CSV_PATH = "/admin/insights.csv";

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/**
 * The day table as CSV (RFC 4180, CRLF): the day as YYYY-MM-DD in the tenant's zone, then plain
 * integers (no grouping, so a spreadsheet reads them as numbers), the headers in the tenant's
 * language. A total row last, as on the page.
 */
export function insightsCsv(c: Ctx, data: Insights): string {
  const { t } = c;
  const line = (cells: string[]) => cells.map(csvField).join(",");
  const row = (label: string, d: Counts) => line([label, ...COLUMNS.map((col) => String(col.value(d)))]);
  return `${[
    line([t("insights-col-day"), ...COLUMNS.map((col) => t(col.label))]),
    ...data.days.map((d) => row(d.date, d)),
    row(t("insights-total"), data.totals),
  ].join("\r\n")}\r\n`;
}

/** A wait bucket in words, "5 minutes" (for "Half of the replies came within …"). */
const waitWithin = (c: Ctx, b: ReplyWaitBucket) => c.t(`insights-wait-${b}`);

/**
 * What owners ask beyond the daily counts: the rules that answered most (with the default
 * reply's share), who asked for a person, and how long customers waited for a reply. Each a
 * small table, readable without the chart.
 */
function breakdowns(c: Ctx, data: Insights, labels: Map<string, string>): Html {
  const { t } = c;
  const n = (v: number) => formatNumber(c.locale, v);
  const ruleName = (id: string) => (id === "default" ? t("insights-default-reply") : (labels.get(id) ?? id));
  const top = data.rules.slice(0, 5);
  const share = data.ruleReplies > 0 ? data.defaultReplies / data.ruleReplies : 0;
  const rules = html`<div class="card" id="insights-rules"><h3>${t("insights-rules-title")}</h3>
${
  top.length === 0
    ? html`<p class="muted">${t("insights-rules-empty")}</p>`
    : html`<div class="table-wrap"><table><caption class="sr-only">${t("insights-rules-caption")}</caption>
<thead><tr><th scope="col">${t("insights-rules-col-rule")}</th><th scope="col" class="num">${t("insights-rules-col-replies")}</th></tr></thead>
<tbody>${top.map((r) => html`<tr data-rule="${r.ruleId}"><th scope="row">${ruleName(r.ruleId)}</th><td class="num">${n(r.replies)}</td></tr>`)}</tbody></table></div>`
}
<p id="insights-default-share">${
    data.ruleReplies > 0
      ? t("insights-default-share", {
          share: new Intl.NumberFormat(c.locale, { style: "percent", maximumFractionDigits: 0 }).format(
            share,
          ),
          default: n(data.defaultReplies),
          total: n(data.ruleReplies),
        })
      : t("insights-default-share-none")
  }</p></div>`;
  const reasons = data.handoffReasons;
  const handoffs = html`<div class="card" id="insights-handoff-reasons"><h3>${t("insights-handoff-title")}</h3>
${
  reasons.rule + reasons.ai === 0
    ? html`<p class="muted">${t("insights-handoff-none")}</p>`
    : html`<dl class="mg-dl"><dt>${t("insights-handoff-rule")}</dt><dd data-reason="rule">${n(reasons.rule)}</dd><dt>${t("insights-handoff-ai")}</dt><dd data-reason="ai">${n(reasons.ai)}</dd></dl>`
}</div>`;
  const wait = data.replyWait;
  const waits = html`<div class="card" id="insights-wait"><h3>${t("insights-wait-title")}</h3>
<p class="muted">${t("insights-wait-lead")}</p>
${
  wait.median === null
    ? html`<p>${t("insights-wait-none")}</p>`
    : html`<p id="insights-wait-median">${
        wait.median === "ge24h"
          ? t("insights-wait-median-slow")
          : t("insights-wait-median", { bucket: waitWithin(c, wait.median) })
      }</p>
<div class="table-wrap"><table><caption class="sr-only">${t("insights-wait-caption")}</caption>
<thead><tr><th scope="col">${t("insights-wait-col-wait")}</th><th scope="col" class="num">${t("insights-wait-col-replies")}</th></tr></thead>
<tbody>${REPLY_WAIT_BUCKETS.map((b) => html`<tr data-wait="${b.key}"><th scope="row">${t(`insights-wait-row-${b.key}`)}</th><td class="num">${n(wait.buckets[b.key])}</td></tr>`)}</tbody></table></div>`
}</div>`;
  return html`<div class="grid ic-more">${rules}${handoffs}${waits}</div>`;
}

function stats(c: Ctx, data: Insights): Html {
  const tt = data.totals;
  const card = (id: string, label: string, value: number) =>
    html`<div class="card ic-stat" id="stat-${id}"><p class="muted">${c.t(label)}</p><p class="stat">${formatNumber(c.locale, value)}</p></div>`;
  return html`<div class="ic-stats">
${card("received", msg("insights-stat-received"), tt.receivedAll)}
${card("canned", msg("insights-canned"), tt.canned)}
${card("ai", msg("insights-ai"), tt.ai)}
${card("handoffs", msg("insights-handoffs"), tt.handoffs)}
${card("human", msg("insights-human"), tt.human)}
${card("failed", msg("insights-failed"), tt.failed)}
${card("credits", msg("insights-credits"), tt.credits)}
</div>`;
}

/**
 * The whole insights section: totals as cards, the chart with its legend, the numbers. It says
 * the window it covers and, when the tenant keeps message records for less than that
 * (tenants.retention_days), that the older days were purged rather than quiet.
 */
export function insightsSection(
  c: Ctx,
  data: Insights,
  retentionDays: number | null = null,
  ruleLabels: Map<string, string> = new Map(),
): Html {
  const { t } = c;
  const purged = retentionDays !== null && retentionDays < data.days.length;
  return html`<section aria-labelledby="insights-h">
<h2 id="insights-h">${t("insights-title")}</h2>
<p class="muted">${t("insights-lead")}</p>
<p class="muted" id="insights-window">${t("insights-window", { days: data.days.length })}${
    purged ? html` ${t("insights-retention-note", { retention: retentionDays })}` : null
  }</p>
${stats(c, data)}
<div class="card">
${chart(c, data)}
${legend(c)}
${table(c, data)}
</div>
${breakdowns(c, data, ruleLabels)}
</section>`;
}
