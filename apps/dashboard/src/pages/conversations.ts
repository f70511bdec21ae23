import { msg } from "@concierge/i18n";
import { getTenantSettings } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, formVersion, num, validate, versionField } from "../forms.ts";
import { html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

const int = (min: number, max: number, id: string) =>
  v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(min, id),
    v.maxValue(max, id),
  );

/** The form's rules, with messages the page can translate. The pipeline validates again. */
export const ConversationFormSchema = v.pipe(
  v.object({
    idleGapMinutes: int(30, 10080, msg("err-idle-gap-range")),
    handoffCooldownMinutes: int(5, 1440, msg("err-cooldown-range")),
    historyTurns: int(1, 50, msg("err-history-range")),
    defaultWaitSeconds: int(0, 30, msg("err-wait-range")),
  }),
  v.forward(
    v.check((s) => s.idleGapMinutes > s.handoffCooldownMinutes, msg("err-idle-gap-vs-cooldown")),
    ["idleGapMinutes"],
  ),
);

type Values = Record<
  "idleGapMinutes" | "handoffCooldownMinutes" | "historyTurns" | "defaultWaitSeconds",
  number | string
>;

function form(c: AuthedCtx, values: Values, version: number, errors: FieldErrors | null) {
  const { t } = c;
  const f = (name: keyof Values, label: string, hint: string, min: number, max: number) =>
    field(c, {
      name,
      label: t(label),
      hint: t(hint),
      type: "number",
      value: Number.isNaN(values[name]) ? "" : values[name],
      error: errors?.[name] ?? null,
      attrs: html`min="${min}" max="${max}" step="1" required inputmode="numeric"`,
    });
  return html`${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/conversations" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  ${f("idleGapMinutes", "conv-idle-gap", "conv-idle-gap-hint", 30, 10080)}
  ${f("handoffCooldownMinutes", "conv-cooldown", "conv-cooldown-hint", 5, 1440)}
  ${f("historyTurns", "conv-history", "conv-history-hint", 1, 50)}
  ${f("defaultWaitSeconds", "conv-wait", "conv-wait-hint", 0, 30)}
  <div><button type="submit">${t("save")}</button></div>
</form>`;
}

export async function conversationsPage(c: AuthedCtx): Promise<Response> {
  const settings = await getTenantSettings(c.env.DB, c.session.tenantId);
  if (!settings) notFound();
  const saved = c.searchParams.get("saved") === "1";
  return respond(
    c,
    page(c, {
      title: c.t("conv-title"),
      section: "conversations",
      notice: saved ? c.t("saved") : null,
      body: html`<p class="muted">${c.t("conv-lead")}</p>${form(c, settings, settings.settingsVersion, null)}`,
    }),
  );
}

/**
 * POST /admin/conversations. The form carries the settings version it was shown at, checked inside
 * the save statement: if any settings form (this one in another tab, the low-balance threshold)
 * was saved since, nothing is written and the current values are shown with the stale message (409).
 */
export async function saveConversations(c: AuthedCtx): Promise<Response> {
  const current = await getTenantSettings(c.env.DB, c.session.tenantId);
  if (!current) notFound();
  const version = formVersion(c.form);
  const input = {
    idleGapMinutes: num(c.form, "idleGapMinutes"),
    handoffCooldownMinutes: num(c.form, "handoffCooldownMinutes"),
    historyTurns: num(c.form, "historyTurns"),
    defaultWaitSeconds: num(c.form, "defaultWaitSeconds"),
  };
  const checked = validate(ConversationFormSchema, input);
  let errors: FieldErrors | null = checked.ok ? null : checked.errors;
  let status = 422;
  let shown: { values: Values; version: number } = {
    values: input,
    version: version ?? current.settingsVersion,
  };
  if (checked.ok) {
    const saved = await c.env.PIPELINE.saveConversationSettings(
      c.session.tenantId,
      { ...checked.value, lowBalanceThreshold: current.lowBalanceThreshold },
      version,
    );
    if (saved.ok) return redirect("/admin/conversations?saved=1");
    if (saved.error.code === "stale") {
      const now = await getTenantSettings(c.env.DB, c.session.tenantId);
      if (!now) notFound();
      errors = { _form: msg("settings-err-stale") };
      status = 409;
      shown = { values: now, version: now.settingsVersion };
    } else {
      errors = { _form: msg("err-save-failed") };
    }
  }
  return respond(
    c,
    page(c, {
      title: c.t("conv-title"),
      section: "conversations",
      body: html`<p class="muted">${c.t("conv-lead")}</p>${form(c, shown.values, shown.version, errors)}`,
    }),
    status,
  );
}
