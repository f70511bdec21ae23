import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import {
  type CreditLot,
  type CreditPack,
  type Currency,
  creditBalance,
  getTenantSettings,
  type LedgerEntry,
  listCreditLots,
  listCreditPacks,
  listLedgerPage,
} from "@concierge/storage";
import * as v from "valibot";
import {
  errorSummary,
  type FieldErrors,
  field,
  formVersion,
  num,
  str,
  validate,
  versionField,
} from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { formatDate, formatDateTime } from "./insights.ts";

/** Ledger entries per page; older ones are behind the `?before=` cursor. */
export const LEDGER_PAGE = 50;

export const ThresholdFormSchema = v.object({
  lowBalanceThreshold: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(0, msg("billing-err-threshold-range")),
    v.maxValue(1_000_000, msg("billing-err-threshold-range")),
  ),
});

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

/**
 * The trial lot: every new tenant's one-time grant, whose reference is `trial` (storage names a
 * lot `lot:<tenant>:<reference>`, see grantCredits).
 */
const isTrialLot = (tenantId: string, lot: CreditLot) => lot.id === `lot:${tenantId}:trial`;

/** What brought the browser back to this page from Checkout (src/pages/checkout.ts). */
const CHECKOUT_NOTICES: Record<string, { text: string; error: boolean }> = {
  cancelled: { text: msg("billing-checkout-cancelled"), error: false },
  failed: { text: msg("billing-checkout-failed"), error: true },
  pending: { text: msg("billing-checkout-pending"), error: false },
};

/** `?before=` as a positive whole number; anything else is the first page. */
function cursor(query: URLSearchParams): number | null {
  const raw = query.get("before");
  if (!raw || !/^\d{1,15}$/.test(raw)) return null;
  const n = Number(raw);
  return n > 0 ? n : null;
}

function lotsSection(c: AuthedCtx, lots: CreditLot[], now: number): Html {
  const { t } = c;
  const n = (x: number) => formatNumber(c.locale, x);
  const body =
    lots.length === 0
      ? html`<p class="card">${t("billing-no-lots")}</p>`
      : html`<div class="table-wrap"><table id="lots">
<thead><tr><th scope="col">${t("billing-col-source")}</th><th scope="col">${t("billing-col-added")}</th><th scope="col" class="num">${t("billing-col-granted")}</th><th scope="col" class="num">${t("billing-col-remaining")}</th><th scope="col">${t("billing-col-expiry")}</th></tr></thead>
<tbody>
${lots.map(
  (l) => html`<tr>
<td>${isTrialLot(c.session.tenantId, l) ? t("billing-source-trial") : t(SOURCE[l.source])}</td>
<td>${formatDate(c.locale, l.createdAt)}</td>
<td class="num">${n(l.granted)}</td>
<td class="num">${n(l.remaining)}</td>
<td>${
    l.expiresAt === null
      ? t("billing-never-expires")
      : l.expiresAt <= now
        ? html`<span class="badge warn">${t("billing-expired")}</span> ${formatDate(c.locale, l.expiresAt)}`
        : formatDate(c.locale, l.expiresAt)
  }</td>
</tr>`,
)}
</tbody></table></div>`;
  return html`<section aria-labelledby="lots-h">
<h2 id="lots-h">${t("billing-lots")}</h2>
<p class="muted">${t("billing-lots-lead")}</p>
${body}
</section>`;
}

function ledgerSection(
  c: AuthedCtx,
  ledger: { entries: LedgerEntry[]; next: number | null },
  before: number | null,
): Html {
  const { t } = c;
  const body =
    ledger.entries.length === 0
      ? html`<p class="card">${t("billing-no-ledger")}</p>`
      : html`<div class="table-wrap"><table id="ledger">
<thead><tr><th scope="col">${t("billing-col-date")}</th><th scope="col">${t("billing-col-reason")}</th><th scope="col" class="num">${t("billing-col-change")}</th><th scope="col">${t("billing-col-reference")}</th></tr></thead>
<tbody>
${ledger.entries.map(
  (e) => html`<tr data-entry="${e.id}">
<td>${formatDateTime(c.locale, e.createdAt)}</td>
<td>${t(REASON[e.reason])}</td>
<td class="num">${e.delta > 0 ? "+" : "−"}${formatNumber(c.locale, Math.abs(e.delta))}</td>
<td class="bl-ref">${e.reference}</td>
</tr>`,
)}
</tbody></table></div>`;
  const nav =
    before !== null || ledger.next !== null
      ? html`<nav class="row" aria-label="${t("billing-ledger-pages")}">
${before !== null ? html`<a href="/admin/billing#ledger-h">${t("billing-ledger-newest")}</a>` : null}
${ledger.next !== null ? html`<a href="/admin/billing?before=${ledger.next}#ledger-h">${t("billing-ledger-older")}</a>` : null}
</nav>`
      : null;
  return html`<section aria-labelledby="ledger-h">
<h2 id="ledger-h">${t("billing-ledger")}</h2>
${body}
${nav}
</section>`;
}

/** Each pack of the tenant's currency, priced in its locale, with a Buy button (a POST with CSRF). */
function packsSection(c: AuthedCtx, packs: CreditPack[]): Html {
  const { t } = c;
  const money = (p: CreditPack, minor: number) => formatMoney(c.locale, p.currency, minor);
  const canBuy = c.env.RAZORPAY_KEY_ID !== "";
  const body =
    packs.length === 0
      ? html`<p class="card muted">${t("billing-packs-none", { currency: c.session.currency })}</p>`
      : html`<ul class="packs">
${packs.map(
  (p) => html`<li class="card pack" id="pack-${p.id}">
<h3>${t("billing-pack-credits", { credits: formatNumber(c.locale, p.credits), count: p.credits })}</h3>
<p class="pack-price">${money(p, p.amount)}</p>
<p class="muted">${t("billing-pack-per-credit", { price: money(p, p.amount / p.credits) })}</p>
${
  canBuy
    ? html`<form class="pack-buy" method="post" action="/admin/billing/buy">
${csrfField(c)}
<input type="hidden" name="packId" value="${p.id}">
<button type="submit">${t("billing-pack-buy", { credits: formatNumber(c.locale, p.credits), price: money(p, p.amount) })}</button>
</form>`
    : null
}
</li>`,
)}
</ul>`;
  return html`<section aria-labelledby="packs-h" id="buy">
<h2 id="packs-h">${t("billing-packs")}</h2>
<p class="muted">${t("billing-packs-lead")}</p>
${canBuy ? null : html`<p class="notice error">${t("billing-packs-not-set-up")}</p>`}
${body}
</section>`;
}

function thresholdForm(
  c: AuthedCtx,
  value: number | string,
  version: number,
  errors: FieldErrors | null,
): Html {
  const { t } = c;
  return html`<section aria-labelledby="threshold-h">
<h2 id="threshold-h">${t("billing-threshold")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/billing/threshold" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  ${field(c, {
    name: "lowBalanceThreshold",
    label: t("billing-threshold-label"),
    hint: t("billing-threshold-hint"),
    type: "number",
    value: typeof value === "number" && Number.isNaN(value) ? "" : value,
    error: errors?.lowBalanceThreshold ?? null,
    attrs: html`min="0" max="1000000" step="1" required inputmode="numeric"`,
  })}
  <div><button type="submit">${t("billing-threshold-save")}</button></div>
</form>
</section>`;
}

async function render(
  c: AuthedCtx,
  opts: {
    threshold?: number | string;
    /** The settings version the threshold form is shown at (default: the current one). */
    version?: number;
    errors?: FieldErrors | null;
    error?: string | null;
    status?: number;
  },
): Promise<Response> {
  const tenantId = c.session.tenantId;
  const now = Date.now();
  const before = cursor(c.searchParams);
  const [settings, balance, lots, ledger, packs] = await Promise.all([
    getTenantSettings(c.env.DB, tenantId),
    creditBalance(c.env.DB, tenantId, now),
    listCreditLots(c.env.DB, tenantId),
    listLedgerPage(c.env.DB, tenantId, { before, limit: LEDGER_PAGE }),
    listCreditPacks(c.env.DB, c.session.currency as Currency),
  ]);
  if (!settings) notFound();
  const { t } = c;
  const low = balance <= settings.lowBalanceThreshold;
  const saved = c.searchParams.get("saved") === "1";
  const checkout = opts.status ? undefined : CHECKOUT_NOTICES[c.searchParams.get("checkout") ?? ""];
  const error = opts.error ?? (checkout?.error ? checkout.text : null);
  return respond(
    c,
    page(c, {
      title: t("billing-title"),
      section: "billing",
      notice: saved ? t("saved") : checkout && !checkout.error ? t(checkout.text) : null,
      error: error ? t(error) : null,
      body: html`<section class="card" id="balance" aria-labelledby="balance-h">
<h2 id="balance-h">${t("billing-balance")}</h2>
<p class="stat">${formatNumber(c.locale, balance)}</p>
<p class="muted">${t("billing-balance-unit")}</p>
${
  balance <= 0
    ? html`<p><span class="badge danger">${t("billing-balance-empty")}</span> ${t("billing-balance-empty-text")}</p>`
    : low
      ? html`<p><span class="badge warn">${t("billing-balance-low")}</span> ${t("billing-balance-low-text", {
          threshold: formatNumber(c.locale, settings.lowBalanceThreshold),
        })}</p>`
      : null
}
<p><a href="/admin/billing/payments">${t("billing-payments-link")}</a></p>
</section>
${packsSection(c, packs)}
${thresholdForm(c, opts.threshold ?? settings.lowBalanceThreshold, opts.version ?? settings.settingsVersion, opts.errors ?? null)}
${lotsSection(c, lots, now)}
${ledgerSection(c, ledger, before)}`,
    }),
    opts.status ?? 200,
  );
}

export function billingPage(c: AuthedCtx): Promise<Response> {
  return render(c, {});
}

/** A pack id as the form sends it; the pipeline decides whether it is offered to this tenant. */
const PackIdSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(64));

/**
 * POST /admin/billing/buy: the pipeline creates the Razorpay order for the pack as priced now and
 * records it (credits and amount from the pack, never from this form); the checkout page opens it.
 */
export async function buyPack(c: AuthedCtx): Promise<Response> {
  const packId = v.safeParse(PackIdSchema, str(c.form, "packId"));
  if (!packId.success) return render(c, { error: msg("billing-err-pack"), status: 422 });
  const res = await c.env.PIPELINE.createOrder(c.session.tenantId, packId.output);
  if (res.ok) return redirect(`/admin/billing/checkout/${encodeURIComponent(res.order.orderId)}`);
  if (res.error.code === "not_found") return render(c, { error: msg("billing-err-pack"), status: 422 });
  const error =
    res.error.code === "razorpay_refused" ? msg("billing-err-order-refused") : msg("billing-err-order");
  return render(c, { error, status: 502 });
}

/**
 * The low-balance warning level, saved with the other conversation settings as they are. The
 * form's version makes the save refuse (409) if any settings form was saved since the page was
 * shown: the other values sent with it were read now, but the statement writes them only if the
 * version is still the one the form was shown at, so a conversation-settings save made meanwhile is
 * never undone.
 */
export async function saveThreshold(c: AuthedCtx): Promise<Response> {
  const current = await getTenantSettings(c.env.DB, c.session.tenantId);
  if (!current) notFound();
  const version = formVersion(c.form);
  const input = { lowBalanceThreshold: num(c.form, "lowBalanceThreshold") };
  const checked = validate(ThresholdFormSchema, input);
  let errors: FieldErrors;
  if (checked.ok) {
    const saved = await c.env.PIPELINE.saveConversationSettings(
      c.session.tenantId,
      {
        idleGapMinutes: current.idleGapMinutes,
        handoffCooldownMinutes: current.handoffCooldownMinutes,
        historyTurns: current.historyTurns,
        defaultWaitSeconds: current.defaultWaitSeconds,
        lowBalanceThreshold: checked.value.lowBalanceThreshold,
      },
      version,
    );
    if (saved.ok) return redirect("/admin/billing?saved=1");
    if (saved.error.code === "stale")
      return render(c, { errors: { _form: msg("settings-err-stale") }, status: 409 });
    errors = { _form: msg("err-save-failed") };
  } else {
    errors = checked.errors;
  }
  const typed = c.form.get("lowBalanceThreshold");
  return render(c, {
    threshold: typeof typed === "string" ? typed : "",
    version: version ?? undefined,
    errors,
    status: 422,
  });
}
