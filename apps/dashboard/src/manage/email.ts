// /manage/email: the daily cap on each tenant's automatic mail (auto-replies + forwards, issue 17).
// Read from D1 (the default, 200, when never saved); saved by the pipeline with its audit row.
import { EMAIL_AUTOMATIC_LIMIT } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { getEmailAutomaticSettings } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, field, num, validate } from "../forms.ts";
import { html } from "../html.ts";
import { redirect } from "../http.ts";
import { formatDateTime } from "../pages/insights.ts";
import { type FormState, refusal, stateOf, typed } from "./forms.ts";
import { type ManageCtx, manageHtml, managePage, operatorCsrfField } from "./layout.ts";

const L = EMAIL_AUTOMATIC_LIMIT;

/** The contract's EmailAutomaticLimitSchema, with a message a person can act on. */
export const EmailLimitFormSchema = v.object({
  dailyLimit: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(L.min, msg("manage-err-email-limit")),
    v.maxValue(L.max, msg("manage-err-email-limit")),
  ),
});

async function render(
  c: ManageCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const settings = await getEmailAutomaticSettings(c.env.DB);
  const again = stateOf(opts.state, "email");
  const body = html`<form class="card stack" method="post" action="/manage/email" id="email-limit" novalidate>
  ${operatorCsrfField(c)}
  <p class="muted">${t("manage-email-lead")}</p>
  ${
    settings.updatedBy
      ? html`<p class="muted" id="email-saved-by">${t("manage-email-saved-by", {
          email: settings.updatedBy,
          at: formatDateTime(c.locale, settings.updatedAt),
        })}</p>`
      : null
  }
  ${errorSummary(c, again?.errors)}
  ${field(c, {
    name: "dailyLimit",
    label: t("manage-email-limit"),
    hint: t("manage-email-limit-hint"),
    type: "number",
    value: again?.values.dailyLimit ?? String(settings.dailyLimit),
    error: again?.errors.dailyLimit ?? null,
    attrs: html`min="${L.min}" max="${L.max}" step="1" inputmode="numeric"`,
  })}
  <div><button type="submit">${t("manage-email-save")}</button></div>
</form>`;
  const saved = opts.status === undefined && c.searchParams.get("done") === "saved";
  return manageHtml(
    c,
    managePage(c, {
      title: t("manage-email-title"),
      section: "email",
      body,
      notice: saved ? t("manage-email-saved") : null,
      error: opts.error,
    }),
    opts.status ?? 200,
  );
}

export function emailLimitPage(c: ManageCtx): Promise<Response> {
  return render(c);
}

/** POST /manage/email */
export async function saveEmailLimitForm(c: ManageCtx): Promise<Response> {
  const values = typed(c.form, ["dailyLimit"]);
  const checked = validate(EmailLimitFormSchema, { dailyLimit: num(c.form, "dailyLimit") });
  if (!checked.ok) return render(c, { state: { key: "email", values, errors: checked.errors }, status: 422 });
  const res = await c.env.OPERATOR.saveEmailAutomaticLimit(c.operator, checked.value);
  if (!res.ok) {
    return render(c, { state: { key: "email", values, errors: {} }, status: 422, error: refusal(c, res) });
  }
  return redirect("/manage/email?done=saved");
}
