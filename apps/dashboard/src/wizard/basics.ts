/**
 * Wizard step 1, business basics: the name, the kind of business (which picks the starter reply
 * rules of step 4), locale, currency and time zone. The time zone starts as the one negotiated at
 * signup (the browser's, via Cloudflare) and app.js offers the browser's own while the step has
 * never been saved.
 */
import { BUSINESS_KINDS, isTimeZone } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { saveBusinessBasics, TENANT_CURRENCIES, TENANT_LOCALES } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { timeZoneOptions } from "../time-zones.ts";
import { forgetWizard, loadWizard, type Onboarding, stepPath, wizardPage } from "./layout.ts";

/** The step's form, with Fluent ids for messages; storage checks the same rules again. */
export const BasicsFormSchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, msg("wizard-err-name")),
    v.maxLength(80, msg("wizard-err-name-long")),
  ),
  businessKind: v.picklist(BUSINESS_KINDS, msg("wizard-err-kind")),
  locale: v.picklist(TENANT_LOCALES, msg("wizard-err-locale")),
  currency: v.picklist(TENANT_CURRENCIES, msg("wizard-err-currency")),
  timeZone: v.pipe(v.string(), v.trim(), v.check(isTimeZone, msg("wizard-err-time-zone"))),
});

type Typed = { name: string; businessKind: string; locale: string; currency: string; timeZone: string };

function radios(name: string, values: readonly string[], chosen: string, label: (v: string) => string): Html {
  return html`${values.map(
    (value) =>
      html`<label><input type="radio" name="${name}" value="${value}"${value === chosen ? html` checked` : null}> ${label(value)}</label>`,
  )}`;
}

function selectField(
  c: AuthedCtx,
  f: { name: string; label: string; values: readonly string[]; chosen: string; error?: string | undefined },
): Html {
  const id = `f-${f.name}`;
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  <select id="${id}" name="${f.name}"${f.error ? html` aria-invalid="true" aria-describedby="${id}-err"` : null}>
  ${f.values.map((value) => html`<option value="${value}"${value === f.chosen ? html` selected` : null}>${c.t(`wizard-${f.name}-${value}`)}</option>`)}
  </select>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

function timeZoneField(c: AuthedCtx, typed: string, error: string | undefined, offerBrowser: boolean): Html {
  const { t } = c;
  const zones = timeZoneOptions(typed);
  const described = ["f-timeZone-hint", error ? "f-timeZone-err" : null].filter(Boolean).join(" ");
  // data-browser-zone: app.js picks the browser's own zone, but only before the step was ever
  // saved, so a later visit never overrides what the tenant chose.
  const common = html`id="f-timeZone" name="timeZone" aria-describedby="${described}"${
    error ? html` aria-invalid="true"` : null
  }${offerBrowser ? html` data-browser-zone` : null}`;
  const control =
    zones.length > 0
      ? html`<select ${common}>
  ${zones.map(([z, label]) => html`<option value="${z}"${z === typed ? html` selected` : null}>${label}</option>`)}
  </select>`
      : html`<input type="text" ${common} value="${typed}" autocomplete="off" spellcheck="false" maxlength="64">`;
  return html`<div class="field">
  <label for="f-timeZone">${t("wizard-time-zone")}</label>
  <span class="hint" id="f-timeZone-hint">${t("wizard-time-zone-hint")}</span>
  ${control}
  ${error ? html`<span class="err" id="f-timeZone-err">${t(error)}</span>` : null}
</div>`;
}

function render(c: AuthedCtx, ob: Onboarding, typed: Typed, errors: FieldErrors | null, status = 200) {
  const { t } = c;
  const body = html`<p class="muted">${t("wizard-basics-lead")}</p>
${errorSummary(c, errors)}
<form class="card stack wizard-form" method="post" action="${stepPath("basics")}">
${csrfField(c)}
${field(c, {
  name: "name",
  label: t("wizard-name"),
  value: typed.name,
  hint: t("wizard-name-hint"),
  error: errors?.name ?? null,
  attrs: html`maxlength="80" autocomplete="organization"`,
})}
<fieldset class="field wizard-choices"${errors?.businessKind ? html` aria-describedby="f-businessKind-err"` : null}>
  <legend>${t("wizard-kind")}</legend>
  ${radios("businessKind", BUSINESS_KINDS, typed.businessKind, (k) => t(`wizard-kind-${k}`))}
  ${errors?.businessKind ? html`<span class="err" id="f-businessKind-err">${t(errors.businessKind)}</span>` : null}
</fieldset>
<div class="wizard-pair">
${selectField(c, { name: "locale", label: t("wizard-locale"), values: TENANT_LOCALES, chosen: typed.locale, error: errors?.locale })}
${selectField(c, { name: "currency", label: t("wizard-currency"), values: TENANT_CURRENCIES, chosen: typed.currency, error: errors?.currency })}
</div>
${timeZoneField(c, typed.timeZone, errors?.timeZone, ob.wizardStep === 0)}
<div><button type="submit">${t("wizard-continue")}</button></div>
</form>`;
  return respond(c, wizardPage(c, { step: "basics", title: t("wizard-step-basics"), body }), status);
}

/** GET /dashboard/wizard/basics: the saved answers (or the signup's defaults) to confirm or edit. */
export async function basicsStep(c: AuthedCtx): Promise<Response> {
  const ob = await loadWizard(c);
  return render(
    c,
    ob,
    {
      name: ob.name,
      businessKind: ob.businessKind ?? "",
      locale: ob.locale,
      currency: ob.currency,
      timeZone: ob.timeZone,
    },
    null,
  );
}

/** POST /dashboard/wizard/basics: saves and marks step 1; bad input is 422 with nothing saved. */
export async function saveBasicsStep(c: AuthedCtx): Promise<Response> {
  const typed: Typed = {
    name: str(c.form, "name"),
    businessKind: str(c.form, "businessKind"),
    locale: str(c.form, "locale"),
    currency: str(c.form, "currency"),
    timeZone: str(c.form, "timeZone"),
  };
  const checked = validate(BasicsFormSchema, typed);
  if (!checked.ok) return render(c, await loadWizard(c), typed, checked.errors, 422);
  if (!(await saveBusinessBasics(c.env.DB, c.session.tenantId, checked.value))) notFound();
  forgetWizard(c);
  // The next page is read in the locale just chosen: the session reads it from the tenant.
  return redirect(stepPath("channels"));
}
