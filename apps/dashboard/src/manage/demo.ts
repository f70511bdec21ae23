// /manage/demo: which sample business the public demo plays and how much of it a visitor, and
// everyone together, may use. Read from D1 (the defaults when never saved); saved by the pipeline.
import { DEMO_BUSINESSES, type DemoSettings, OPERATOR_LIMITS, type WholeRange } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { getDemoSettings } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, field, num, validate } from "../forms.ts";
import { html } from "../html.ts";
import { redirect } from "../http.ts";
import { formatDateTime } from "../pages/insights.ts";
import { type FormState, refusal, selectField, stateOf, typed } from "./forms.ts";
import { type ManageCtx, manageHtml, managePage, operatorCsrfField } from "./layout.ts";

const BUSINESS_LABEL: Record<(typeof DEMO_BUSINESSES)[number], string> = {
  cafe: msg("manage-demo-business-cafe"),
  salon: msg("manage-demo-business-salon"),
  "bike-shop": msg("manage-demo-business-bike-shop"),
};

const L = OPERATOR_LIMITS.demo;

const whole = (r: WholeRange, range: string) =>
  v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(r.min, range),
    v.maxValue(r.max, range),
  );

/** The contract's DemoSettingsSchema, with messages a person can act on. */
export const DemoFormSchema = v.object({
  business: v.picklist(DEMO_BUSINESSES, msg("manage-err-demo-business")),
  perVisitorPerHour: whole(L.perVisitorPerHour, msg("manage-err-demo-per-visitor")),
  totalPerDay: whole(L.totalPerDay, msg("manage-err-demo-total")),
  maxChars: whole(L.maxChars, msg("manage-err-demo-max-chars")),
  maxTurns: whole(L.maxTurns, msg("manage-err-demo-max-turns")),
});

const NUMBERS = [
  ["perVisitorPerHour", msg("manage-demo-per-visitor"), msg("manage-demo-per-visitor-hint")],
  ["totalPerDay", msg("manage-demo-total"), msg("manage-demo-total-hint")],
  ["maxChars", msg("manage-demo-max-chars"), msg("manage-demo-max-chars-hint")],
  ["maxTurns", msg("manage-demo-max-turns"), msg("manage-demo-max-turns-hint")],
] as const;

async function render(
  c: ManageCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const settings = await getDemoSettings(c.env.DB);
  const again = stateOf(opts.state, "demo");
  const value = (name: keyof DemoSettings) => again?.values[name] ?? String(settings[name]);
  const body = html`<form class="card stack" method="post" action="/manage/demo" id="demo" novalidate>
  ${operatorCsrfField(c)}
  <p class="muted">${t("manage-demo-lead")}</p>
  ${
    settings.updatedBy
      ? html`<p class="muted" id="demo-saved-by">${t("manage-demo-saved-by", {
          email: settings.updatedBy,
          at: formatDateTime(c.locale, settings.updatedAt),
        })}</p>`
      : null
  }
  ${errorSummary(c, again?.errors)}
  ${selectField(c, {
    name: "business",
    label: t("manage-demo-business"),
    value: value("business"),
    options: DEMO_BUSINESSES.map((b) => [b, t(BUSINESS_LABEL[b])]),
    error: again?.errors.business ?? null,
  })}
  ${NUMBERS.map(([name, label, hint]) =>
    field(c, {
      name,
      label: t(label),
      hint: t(hint),
      type: "number",
      value: value(name),
      error: again?.errors[name] ?? null,
      attrs: html`min="${L[name].min}" max="${L[name].max}" step="1" inputmode="numeric"`,
    }),
  )}
  <div><button type="submit">${t("manage-demo-save")}</button></div>
</form>`;
  const saved = opts.status === undefined && c.searchParams.get("done") === "saved";
  return manageHtml(
    c,
    managePage(c, {
      title: t("manage-demo-title"),
      section: "demo",
      body,
      notice: saved ? t("manage-demo-saved") : null,
      error: opts.error,
    }),
    opts.status ?? 200,
  );
}

export function demoPage(c: ManageCtx): Promise<Response> {
  return render(c);
}

/** POST /manage/demo */
export async function saveDemoForm(c: ManageCtx): Promise<Response> {
  const values = typed(c.form, ["business", ...NUMBERS.map(([name]) => name)]);
  const checked = validate(DemoFormSchema, {
    business: values.business,
    ...Object.fromEntries(NUMBERS.map(([name]) => [name, num(c.form, name)])),
  });
  if (!checked.ok) return render(c, { state: { key: "demo", values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.saveDemoSettings(c.operator, checked.value);
  if (!res.ok) {
    return render(c, { state: { key: "demo", values, errors: {} }, status: 422, error: refusal(c, res) });
  }
  return redirect("/manage/demo?done=saved");
}
