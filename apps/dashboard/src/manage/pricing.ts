// /manage/pricing: the credit packs of each currency, the email-subdomain plan's monthly price and
// the trial every new tenant gets. Amounts are typed in major units (₹, $) and saved in minor
// units; every change goes through the pipeline (which records it in the audit log) and applies
// to orders made from now on: an order keeps its own copy of credits and amount.
import {
  CATALOG_ID_PATTERN,
  type CreditPack,
  CurrencySchema,
  type Currency,
  OPERATOR_LIMITS,
  type RpcError,
  type WholeRange,
} from "@concierge/core";
import { formatMoney, formatNumber, msg } from "@concierge/i18n";
import { getCreditPack, getSubdomainPlan, getTrialSettings, listAllCreditPacks } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, num, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { redirect } from "../http.ts";
import {
  checkboxField,
  type FormState,
  majorAmountValue,
  parseMajorAmount,
  refusal,
  stateOf,
  typed,
} from "./forms.ts";
import { type ManageCtx, manageHtml, managePage, operatorCsrfField } from "./layout.ts";

const CURRENCIES = CurrencySchema.options;

const L = OPERATOR_LIMITS;

const whole = (r: WholeRange, range: string) =>
  v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(r.min, range),
    v.maxValue(r.max, range),
  );

/** An amount in minor units, as parseMajorAmount reads it (NaN: not an amount). */
const Amount = v.pipe(
  v.number(msg("manage-err-amount")),
  v.minValue(L.amount.min, msg("manage-err-amount")),
  v.maxValue(L.amount.max, msg("manage-err-amount")),
);

/** The contract's CreditPackInputSchema (its `mode` comes from the form's kind), with messages. */
export const PackFormSchema = v.object({
  id: v.pipe(v.string(), v.regex(CATALOG_ID_PATTERN, msg("manage-err-pack-id"))),
  currency: v.picklist(CURRENCIES, msg("manage-err-currency")),
  credits: whole(L.packCredits, msg("manage-err-pack-credits")),
  amount: Amount,
  active: v.boolean(),
  sort: whole(L.sort, msg("manage-err-sort")),
});

/** The contract's SubdomainPlanPriceSchema, with messages. */
export const PlanFormSchema = v.object({
  currency: v.picklist(CURRENCIES, msg("manage-err-currency")),
  amount: Amount,
});

/** The contract's TrialSettingsSchema, with messages. */
export const TrialFormSchema = v.object({
  credits: whole(L.trialCredits, msg("manage-err-trial-credits")),
  days: whole(L.trialDays, msg("manage-err-trial-days")),
});

/**
 * The pipeline's refusals of a pack that belong to the form's fields: it checks, in the same
 * statement as the save, that a new pack's id is free and that an edit keeps the pack's currency,
 * which the page's own early checks cannot promise (another operator may save in between).
 * Null: a refusal that is not about the form's fields (the page's general notice says it).
 */
export function packRefusalErrors(err: RpcError): FieldErrors | null {
  switch (err.error.code) {
    case "pack_exists":
      return { id: msg("manage-err-pack-exists") };
    case "currency_fixed":
      return { _form: msg("manage-err-pack-currency-fixed") };
    default:
      return null;
  }
}

const NOTICES: Record<string, string> = {
  pack: msg("manage-pricing-saved-pack"),
  plan: msg("manage-pricing-saved-plan"),
  trial: msg("manage-pricing-saved-trial"),
};

type Stored = {
  packs: Record<Currency, CreditPack[]>;
  plans: Record<Currency, { amount: number } | null>;
  trial: { credits: number; days: number };
};

async function stored(c: ManageCtx): Promise<Stored> {
  const db = c.env.DB;
  const [packs, plans, trial] = await Promise.all([
    Promise.all(CURRENCIES.map((cur) => listAllCreditPacks(db, cur))),
    Promise.all(CURRENCIES.map((cur) => getSubdomainPlan(db, cur))),
    getTrialSettings(db),
  ]);
  return {
    packs: Object.fromEntries(CURRENCIES.map((cur, i) => [cur, packs[i]!])) as Stored["packs"],
    plans: Object.fromEntries(CURRENCIES.map((cur, i) => [cur, plans[i] ?? null])) as Stored["plans"],
    trial: { credits: trial.credits, days: trial.days },
  };
}

/** One pack's form (an existing pack) or the form that adds one (`pack` null). */
function packForm(c: ManageCtx, currency: Currency, pack: CreditPack | null, state: FormState | null): Html {
  const { t } = c;
  const key = pack ? `pack-${pack.id}` : `new-${currency}`;
  const again = stateOf(state, key);
  const errors: FieldErrors = again?.errors ?? {};
  const value = (name: string, fallback: string) => again?.values[name] ?? fallback;
  const id = (name: string) => `${key}-${name}`;
  const active = again ? again.values.active === "on" : (pack?.active ?? true);
  return html`<form class="card mg-pack" method="post" action="/manage/pricing/packs#${key}" id="${key}" novalidate>
  ${operatorCsrfField(c)}
  <input type="hidden" name="currency" value="${currency}">
  <input type="hidden" name="mode" value="${pack ? "edit" : "new"}">
  ${
    pack
      ? html`<input type="hidden" name="id" value="${pack.id}"><h4 class="card-h">${pack.id} ${
          pack.active ? null : html`<span class="badge">${t("manage-pricing-inactive")}</span>`
        }</h4><p class="muted">${t("manage-pricing-pack-now", {
          credits: formatNumber(c.locale, pack.credits),
          price: formatMoney(c.locale, pack.currency, pack.amount),
        })}</p>`
      : html`<h4 class="card-h">${t("manage-pricing-add-pack")}</h4>`
  }
  ${errorSummary(c, errors)}
  <div class="mg-fields">
  ${
    pack
      ? null
      : field(c, {
          id: id("id"),
          name: "id",
          label: t("manage-pricing-pack-id"),
          hint: t("manage-pricing-pack-id-hint"),
          value: value("id", ""),
          error: errors.id ?? null,
          attrs: html`autocomplete="off" spellcheck="false" maxlength="40"`,
        })
  }
  ${field(c, {
    id: id("credits"),
    name: "credits",
    label: t("manage-pricing-credits"),
    type: "number",
    value: value("credits", pack ? String(pack.credits) : ""),
    error: errors.credits ?? null,
    attrs: html`min="${L.packCredits.min}" max="${L.packCredits.max}" step="1" inputmode="numeric"`,
  })}
  ${field(c, {
    id: id("amount"),
    name: "amount",
    label: t("manage-pricing-amount", { currency }),
    value: value("amount", pack ? majorAmountValue(pack.amount, currency) : ""),
    error: errors.amount ?? null,
    attrs: html`inputmode="decimal" autocomplete="off"`,
  })}
  ${field(c, {
    id: id("sort"),
    name: "sort",
    label: t("manage-pricing-sort"),
    type: "number",
    value: value("sort", pack ? String(pack.sort) : "0"),
    error: errors.sort ?? null,
    attrs: html`min="${L.sort.min}" max="${L.sort.max}" step="1" inputmode="numeric"`,
  })}
  </div>
  ${checkboxField({ id: id("active"), name: "active", label: t("manage-pricing-active"), checked: active })}
  <div><button type="submit">${pack ? t("manage-pricing-save-pack") : t("manage-pricing-add-pack-submit")}</button></div>
</form>`;
}

function planForm(
  c: ManageCtx,
  currency: Currency,
  plan: { amount: number } | null,
  state: FormState | null,
) {
  const { t } = c;
  const key = `plan-${currency}`;
  const again = stateOf(state, key);
  return html`<form class="card stack" method="post" action="/manage/pricing/subdomain-plan#${key}" id="${key}" novalidate>
  ${operatorCsrfField(c)}
  <input type="hidden" name="currency" value="${currency}">
  <h4 class="card-h">${t("manage-pricing-plan")}</h4>
  <p class="muted">${
    plan
      ? t("manage-pricing-plan-now", { price: formatMoney(c.locale, currency, plan.amount) })
      : t("manage-pricing-plan-none")
  }</p>
  ${errorSummary(c, again?.errors)}
  ${field(c, {
    id: `${key}-amount`,
    name: "amount",
    label: t("manage-pricing-plan-amount", { currency }),
    value: again?.values.amount ?? (plan ? majorAmountValue(plan.amount, currency) : ""),
    error: again?.errors.amount ?? null,
    attrs: html`inputmode="decimal" autocomplete="off"`,
  })}
  <div><button type="submit">${t("manage-pricing-plan-save")}</button></div>
</form>`;
}

function trialForm(c: ManageCtx, trial: { credits: number; days: number }, state: FormState | null): Html {
  const { t } = c;
  const again = stateOf(state, "trial");
  return html`<section aria-labelledby="trial-h">
<h2 id="trial-h">${t("manage-pricing-trial")}</h2>
<form class="card stack" method="post" action="/manage/pricing/trial#trial" id="trial" novalidate>
  ${operatorCsrfField(c)}
  <p class="muted">${t("manage-pricing-trial-lead")}</p>
  ${errorSummary(c, again?.errors)}
  ${field(c, {
    id: "trial-credits",
    name: "credits",
    label: t("manage-pricing-trial-credits"),
    type: "number",
    value: again?.values.credits ?? String(trial.credits),
    error: again?.errors.credits ?? null,
    attrs: html`min="${L.trialCredits.min}" max="${L.trialCredits.max}" step="1" inputmode="numeric"`,
  })}
  ${field(c, {
    id: "trial-days",
    name: "days",
    label: t("manage-pricing-trial-days"),
    type: "number",
    value: again?.values.days ?? String(trial.days),
    error: again?.errors.days ?? null,
    attrs: html`min="${L.trialDays.min}" max="${L.trialDays.max}" step="1" inputmode="numeric"`,
  })}
  <div><button type="submit">${t("manage-pricing-trial-save")}</button></div>
</form>
</section>`;
}

async function render(
  c: ManageCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const s = await stored(c);
  const state = opts.state ?? null;
  const done = c.searchParams.get("done");
  const notice = opts.status === undefined && done && NOTICES[done] ? t(NOTICES[done]!) : null;
  const body = html`<p class="notice mg-note">${t("manage-pricing-new-orders-only")}</p>
${CURRENCIES.map(
  (cur) => html`<section aria-labelledby="cur-${cur}-h" id="currency-${cur}">
<h2 id="cur-${cur}-h">${t("manage-pricing-currency", { currency: cur })}</h2>
<h3>${t("manage-pricing-packs")}</h3>
<div class="mg-packs">
${s.packs[cur].length === 0 ? html`<p class="card muted">${t("manage-pricing-no-packs")}</p>` : null}
${s.packs[cur].map((p) => packForm(c, cur, p, state))}
${packForm(c, cur, null, state)}
</div>
${planForm(c, cur, s.plans[cur], state)}
</section>`,
)}
${trialForm(c, s.trial, state)}`;
  return manageHtml(
    c,
    managePage(c, { title: t("manage-pricing-title"), section: "pricing", body, notice, error: opts.error }),
    opts.status ?? 200,
  );
}

export function pricingPage(c: ManageCtx): Promise<Response> {
  return render(c);
}

/** POST /manage/pricing/packs: saves an existing pack (`mode=edit`) or adds one (`mode=new`). */
export async function savePackForm(c: ManageCtx): Promise<Response> {
  const values = typed(c.form, ["id", "currency", "credits", "amount", "sort", "active", "mode"]);
  const isNew = values.mode === "new";
  const currency = v.is(CurrencySchema, values.currency) ? values.currency : "INR";
  const key = isNew ? `new-${currency}` : `pack-${values.id}`;
  const again = (errors: FieldErrors, status: number, error: string | null = null) =>
    render(c, { state: { key, values, errors }, status, error });
  const checked = validate(PackFormSchema, {
    id: values.id?.trim() ?? "",
    currency: values.currency,
    credits: num(c.form, "credits"),
    amount: parseMajorAmount(values.amount ?? "", currency),
    active: values.active === "on",
    sort: num(c.form, "sort"),
  });
  if (!checked.ok) return again(checked.errors, 422);
  const mode = isNew ? "new" : "edit";
  // Adding must not overwrite a pack by typing its id; editing must not move a pack to another
  // currency (its orders and its section stay where they are). The pipeline enforces both with
  // the save itself (`mode`); these early checks only answer the common case without a round trip.
  const existing = await getCreditPack(c.env.DB, checked.value.id);
  if (isNew && existing) return again({ id: msg("manage-err-pack-exists") }, 422);
  if (!isNew && !existing) return again({ _form: msg("manage-err-pack-missing") }, 404);
  if (!isNew && existing && existing.currency !== checked.value.currency) {
    return again({ _form: msg("manage-err-pack-currency-fixed") }, 422);
  }
  const res = await c.env.OPERATOR.saveCreditPack(c.operator, { ...checked.value, mode });
  if (!res.ok) {
    if (res.error.code === "not_found") return again({ _form: msg("manage-err-pack-missing") }, 404);
    const errors = packRefusalErrors(res);
    return errors ? again(errors, 422) : again({}, 422, refusal(c, res));
  }
  return redirect(`/manage/pricing?done=pack#pack-${res.id}`);
}

/** POST /manage/pricing/subdomain-plan: the monthly price of an extra email subdomain. */
export async function savePlanForm(c: ManageCtx): Promise<Response> {
  const values = typed(c.form, ["currency", "amount"]);
  const currency = v.is(CurrencySchema, values.currency) ? values.currency : "INR";
  const key = `plan-${currency}`;
  const checked = validate(PlanFormSchema, {
    currency: values.currency,
    amount: parseMajorAmount(values.amount ?? "", currency),
  });
  if (!checked.ok) return render(c, { state: { key, values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.setSubdomainPlanPrice(c.operator, checked.value);
  if (!res.ok) return render(c, { state: { key, values, errors: {} }, status: 422, error: refusal(c, res) });
  return redirect(`/manage/pricing?done=plan#${key}`);
}

/** POST /manage/pricing/trial: the credits and days every new tenant's trial has. */
export async function saveTrialForm(c: ManageCtx): Promise<Response> {
  const values = typed(c.form, ["credits", "days"]);
  const checked = validate(TrialFormSchema, { credits: num(c.form, "credits"), days: num(c.form, "days") });
  if (!checked.ok) return render(c, { state: { key: "trial", values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.setTrialSettings(c.operator, checked.value);
  if (!res.ok) {
    return render(c, { state: { key: "trial", values, errors: {} }, status: 422, error: refusal(c, res) });
  }
  return redirect("/manage/pricing?done=trial#trial");
}
