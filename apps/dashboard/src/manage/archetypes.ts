// /manage/archetypes: the persona archetype catalog. Every save is a new version that tenants and
// the public demo do not see until the safety classifier approves it (the same queue as tenant
// personas); retiring takes an archetype out of the persona page at once.
import { type ArchetypeInput, ArchetypeRefSchema, OPERATOR_LIMITS } from "@concierge/core";
import { formatNumber, msg } from "@concierge/i18n";
import { type CatalogArchetype, getArchetype, listAllArchetypes } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, field, num, textarea, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { notFound, redirect } from "../http.ts";
import { formatDateTime } from "../pages/insights.ts";
import { type FormState, refusal, stateOf, typed } from "./forms.ts";
import { type ManageCtx, manageHtml, managePage, operatorCsrfField } from "./layout.ts";

type ArchetypeCtx = ManageCtx & { params: { archetypeId: string } };

const L = OPERATOR_LIMITS;

const text = (max: number, message: string) =>
  v.pipe(v.string(), v.trim(), v.minLength(1, message), v.maxLength(max, message));

/** The contract's ArchetypeInputSchema (without the id: that comes from the URL), with messages. */
export const ArchetypeFormSchema = v.object({
  name: text(L.archetypeNameMax, msg("manage-err-arch-name")),
  description: text(L.archetypeDescriptionMax, msg("manage-err-arch-description")),
  prompt: text(L.archetypePromptMax, msg("manage-err-arch-prompt")),
  sortOrder: v.pipe(
    v.number(msg("err-number")),
    v.integer(msg("err-integer")),
    v.minValue(L.sort.min, msg("manage-err-sort")),
    v.maxValue(L.sort.max, msg("manage-err-sort")),
  ),
});

const FIELDS = ["name", "description", "prompt", "sortOrder"] as const;

const SAFETY: Record<CatalogArchetype["safetyStatus"], { level: string; label: string }> = {
  approved: { level: "ok", label: msg("manage-arch-safety-approved") },
  pending: { level: "warn", label: msg("manage-arch-safety-pending") },
  needs_review: { level: "warn", label: msg("manage-arch-safety-review") },
  rejected: { level: "danger", label: msg("manage-arch-safety-rejected") },
};

const NOTICES: Record<string, string> = {
  created: msg("manage-arch-created"),
  saved: msg("manage-arch-saved"),
  retired: msg("manage-arch-retired"),
};

/** Whether tenants see it now: active, and its current version approved. */
const visible = (a: CatalogArchetype) => a.status === "active" && a.safetyStatus === "approved";

function archetypeForm(
  c: ManageCtx,
  opts: {
    action: string;
    key: string;
    values: Record<string, string>;
    state: FormState | null;
    submit: string;
  },
): Html {
  const { t } = c;
  const again = stateOf(opts.state, opts.key);
  const value = (name: (typeof FIELDS)[number]) => again?.values[name] ?? opts.values[name] ?? "";
  const errors = again?.errors ?? {};
  return html`<form class="card stack" method="post" action="${opts.action}#${opts.key}" id="${opts.key}" novalidate>
  ${operatorCsrfField(c)}
  <p class="muted">${t("manage-arch-review-note")}</p>
  ${errorSummary(c, errors)}
  ${field(c, {
    id: `${opts.key}-name`,
    name: "name",
    label: t("manage-arch-name"),
    value: value("name"),
    error: errors.name ?? null,
    attrs: html`maxlength="${L.archetypeNameMax}" autocomplete="off" required`,
  })}
  ${field(c, {
    id: `${opts.key}-description`,
    name: "description",
    label: t("manage-arch-description"),
    hint: t("manage-arch-description-hint"),
    value: value("description"),
    error: errors.description ?? null,
    attrs: html`maxlength="${L.archetypeDescriptionMax}" autocomplete="off" required`,
  })}
  ${textarea(c, {
    name: "prompt",
    label: t("manage-arch-prompt"),
    hint: t("manage-arch-prompt-hint"),
    value: value("prompt"),
    rows: 8,
    error: errors.prompt ?? null,
    attrs: html`maxlength="${L.archetypePromptMax}" required`,
  })}
  ${field(c, {
    id: `${opts.key}-sortOrder`,
    name: "sortOrder",
    label: t("manage-arch-sort"),
    hint: t("manage-arch-sort-hint"),
    type: "number",
    value: value("sortOrder"),
    error: errors.sortOrder ?? null,
    attrs: html`min="${L.sort.min}" max="${L.sort.max}" step="1" inputmode="numeric"`,
  })}
  <div><button type="submit">${opts.submit}</button></div>
</form>`;
}

function catalogTable(c: ManageCtx, list: CatalogArchetype[]): Html {
  const { t } = c;
  if (list.length === 0) return html`<p class="card muted">${t("manage-arch-none")}</p>`;
  return html`<div class="table-wrap"><table id="archetypes">
<thead><tr><th scope="col">${t("manage-arch-col-name")}</th><th scope="col">${t("manage-arch-col-status")}</th><th scope="col" class="num">${t("manage-arch-col-version")}</th><th scope="col">${t("manage-arch-col-safety")}</th><th scope="col">${t("manage-arch-col-tenants")}</th><th scope="col">${t("manage-arch-col-actions")}</th></tr></thead>
<tbody>
${list.map((a) => {
  const safety = SAFETY[a.safetyStatus];
  return html`<tr id="arch-${a.id}" data-archetype="${a.id}">
<td><a href="/manage/archetypes/${a.id}">${a.name}</a><br><code class="muted">${a.id}</code><br><span class="muted">${a.description}</span></td>
<td>${a.status === "active" ? html`<span class="badge ok">${t("manage-arch-active")}</span>` : html`<span class="badge">${t("manage-arch-retired-badge")}</span>`}</td>
<td class="num">${formatNumber(c.locale, a.version)}</td>
<td><span class="badge ${safety.level}">${t(safety.label)}</span></td>
<td>${visible(a) ? t("manage-arch-visible") : t("manage-arch-hidden")}</td>
<td>${
    a.status === "active"
      ? html`<form class="inline" method="post" action="/manage/archetypes/${a.id}/retire">${operatorCsrfField(c)}<button class="secondary" type="submit">${t("manage-arch-retire")}</button></form>`
      : null
  }</td>
</tr>`;
})}
</tbody></table></div>`;
}

async function renderList(
  c: ManageCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const list = await listAllArchetypes(c.env.DB);
  const done = c.searchParams.get("done");
  const notice = opts.status === undefined && done && NOTICES[done] ? t(NOTICES[done]!) : null;
  const body = html`<p class="muted">${t("manage-arch-lead")}</p>
${catalogTable(c, list)}
<section aria-labelledby="new-arch-h">
<h2 id="new-arch-h">${t("manage-arch-new")}</h2>
${archetypeForm(c, {
  action: "/manage/archetypes",
  key: "new-archetype",
  values: { sortOrder: String(list.reduce((max, a) => Math.max(max, a.sortOrder), 0) + 1) },
  state: opts.state ?? null,
  submit: t("manage-arch-create"),
})}
</section>`;
  return manageHtml(
    c,
    managePage(c, { title: t("manage-arch-title"), section: "archetypes", body, notice, error: opts.error }),
    opts.status ?? 200,
  );
}

async function findArchetype(c: ArchetypeCtx): Promise<CatalogArchetype> {
  if (!v.is(ArchetypeRefSchema, { id: c.params.archetypeId })) notFound();
  return (await getArchetype(c.env.DB, c.params.archetypeId)) ?? notFound();
}

async function renderEdit(
  c: ArchetypeCtx,
  opts: { state?: FormState | null; error?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const a = await findArchetype(c);
  const safety = SAFETY[a.safetyStatus];
  const body = html`<p><a href="/manage/archetypes">${t("manage-arch-back")}</a></p>
<dl class="mg-dl card">
<dt>${t("manage-arch-col-status")}</dt><dd>${a.status === "active" ? t("manage-arch-active") : t("manage-arch-retired-badge")}</dd>
<dt>${t("manage-arch-col-version")}</dt><dd>${formatNumber(c.locale, a.version)}</dd>
<dt>${t("manage-arch-col-safety")}</dt><dd><span class="badge ${safety.level}">${t(safety.label)}</span></dd>
<dt>${t("manage-arch-col-tenants")}</dt><dd>${visible(a) ? t("manage-arch-visible") : t("manage-arch-hidden")}</dd>
${a.updatedAt ? html`<dt>${t("manage-arch-updated")}</dt><dd>${formatDateTime(c.locale, a.updatedAt)}</dd>` : null}
</dl>
${archetypeForm(c, {
  action: `/manage/archetypes/${a.id}`,
  key: "edit-archetype",
  values: { name: a.name, description: a.description, prompt: a.prompt, sortOrder: String(a.sortOrder) },
  state: opts.state ?? null,
  submit: t("manage-arch-save"),
})}`;
  return manageHtml(
    c,
    managePage(c, {
      title: t("manage-arch-edit-title", { name: a.name }),
      section: "archetypes",
      body,
      error: opts.error,
    }),
    opts.status ?? 200,
  );
}

export function archetypesPage(c: ManageCtx): Promise<Response> {
  return renderList(c);
}

export function editArchetypePage(c: ArchetypeCtx): Promise<Response> {
  return renderEdit(c);
}

function readForm(c: ManageCtx) {
  const values = typed(c.form, FIELDS);
  return {
    values,
    checked: validate(ArchetypeFormSchema, {
      name: values.name,
      description: values.description,
      prompt: values.prompt,
      sortOrder: num(c.form, "sortOrder"),
    }),
  };
}

/** POST /manage/archetypes: a new archetype (pending until the classifier approves it). */
export async function createArchetypeForm(c: ManageCtx): Promise<Response> {
  const key = "new-archetype";
  const { values, checked } = readForm(c);
  if (!checked.ok) return renderList(c, { state: { key, values, errors: checked.errors }, status: 422 });
  const input: ArchetypeInput = checked.value;
  const res = await c.env.OPERATOR.saveArchetype(c.operator, input);
  if (!res.ok)
    return renderList(c, { state: { key, values, errors: {} }, status: 422, error: refusal(c, res) });
  return redirect(`/manage/archetypes?done=created#arch-${res.id}`);
}

/** POST /manage/archetypes/:archetypeId: a new version of it, hidden until approved. */
export async function saveArchetypeForm(c: ArchetypeCtx): Promise<Response> {
  const key = "edit-archetype";
  const a = await findArchetype(c);
  const { values, checked } = readForm(c);
  if (!checked.ok) return renderEdit(c, { state: { key, values, errors: checked.errors }, status: 422 });
  const input: ArchetypeInput = { id: a.id, ...checked.value };
  const res = await c.env.OPERATOR.saveArchetype(c.operator, input);
  if (!res.ok)
    return renderEdit(c, { state: { key, values, errors: {} }, status: 422, error: refusal(c, res) });
  return redirect(`/manage/archetypes?done=saved#arch-${a.id}`);
}

/** POST /manage/archetypes/:archetypeId/retire: out of the persona page and the demo at once. */
export async function retireArchetypeForm(c: ArchetypeCtx): Promise<Response> {
  const a = await findArchetype(c);
  const res = await c.env.OPERATOR.retireArchetype(c.operator, { id: a.id });
  if (!res.ok) return renderList(c, { status: 422, error: refusal(c, res) });
  return redirect(`/manage/archetypes?done=retired#arch-${a.id}`);
}
