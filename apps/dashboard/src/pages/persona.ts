import { msg } from "@concierge/i18n";
import {
  buildEnvelope,
  PERSONA_REJECTED_REASON,
  type Persona,
  PERSONA_LIMITS,
  PersonaSchema,
  RAW_PROMPT_MAX,
  renderPersona,
  VOICE_ARCHETYPES,
  type VoiceArchetype,
} from "@concierge/prompt";
import {
  type Archetype,
  getActiveArchetype,
  getPersona,
  listActiveArchetypes,
  type PersonaRow,
  personaVerdictOverdue,
  SAFETY_OVERDUE_MS,
} from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, str } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

// The persona builder: one form, three ways to describe the business's voice (guided builder,
// an archetype copied from the catalog, a raw prompt), the exact envelope the AI would get, and
// the safety check's verdict. The pipeline validates again, stores, and queues the check.

type Kind = Persona["kind"];
const KINDS: readonly Kind[] = ["builder", "archetype", "raw"];
const VOICES = Object.keys(VOICE_ARCHETYPES) as VoiceArchetype[];

// The builder's limits are the persona schema's own (packages/prompt): one source for both.
const L = PERSONA_LIMITS;
type ListName = "catchPhrases" | "offTopics" | "never" | "handoffConditions";

/** The form as typed (lists as the textarea's lines), so a 422 shows exactly what was sent. */
export type PersonaFormValues = {
  kind: Kind;
  voice: string;
  businessName: string;
  businessType: string;
  city: string;
  hours: string;
  goal: string;
  goalUrl: string;
  catchPhrases: string;
  offTopics: string;
  never: string;
  handoffConditions: string;
  /**
   * A builder persona's catalog archetype (chosen in the wizard), carried through the builder
   * form as a checked box so editing the builder here never drops it unseen; "" without one.
   */
  builderArchetype: string;
  archetypeId: string;
  rawPrompt: string;
};

const required = (max: number, requiredId: string, maxId: string) =>
  v.pipe(v.string(), v.trim(), v.minLength(1, requiredId), v.maxLength(max, maxId));
const optional = (max: number, maxId: string) => v.pipe(v.string(), v.trim(), v.maxLength(max, maxId));
const list = (name: ListName, countId: string, lineId: string) =>
  v.pipe(
    v.array(v.pipe(v.string(), v.maxLength(L[name].length, lineId))),
    v.maxLength(L[name].items, countId),
  );

/** An http(s) link a customer can open (valibot's URL check also takes other schemes). */
export function isWebUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/** The builder's rules, with messages the page can translate (the pipeline's schema is the same). */
const BuilderFormSchema = v.object({
  voice: v.picklist(VOICES, msg("persona-err-voice")),
  businessName: required(L.businessName, msg("persona-err-business-name"), msg("persona-err-max-80")),
  businessType: required(L.businessType, msg("persona-err-business-type"), msg("persona-err-max-80")),
  city: optional(L.city, msg("persona-err-max-80")),
  hours: optional(L.hours, msg("persona-err-max-200")),
  goal: optional(L.goal, msg("persona-err-max-200")),
  goalUrl: v.pipe(
    v.string(),
    v.trim(),
    v.maxLength(L.goalUrl, msg("persona-err-goal-url")),
    v.check((s) => s === "" || isWebUrl(s), msg("persona-err-goal-url")),
  ),
  catchPhrases: list("catchPhrases", msg("persona-err-catch-phrases-count"), msg("persona-err-line-80")),
  offTopics: list("offTopics", msg("persona-err-off-topics-count"), msg("persona-err-line-80")),
  never: list("never", msg("persona-err-never-count"), msg("persona-err-line-120")),
  handoffConditions: list("handoffConditions", msg("persona-err-handoff-count"), msg("persona-err-line-160")),
});

const RawFormSchema = v.object({
  rawPrompt: required(RAW_PROMPT_MAX, msg("persona-err-raw-required"), msg("persona-err-raw-max")),
});

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

function readValues(form: FormData): PersonaFormValues {
  const kind = str(form, "kind");
  return {
    kind: (KINDS as readonly string[]).includes(kind) ? (kind as Kind) : "builder",
    voice: str(form, "voice"),
    businessName: str(form, "businessName"),
    businessType: str(form, "businessType"),
    city: str(form, "city"),
    hours: str(form, "hours"),
    goal: str(form, "goal"),
    goalUrl: str(form, "goalUrl"),
    catchPhrases: str(form, "catchPhrases"),
    offTopics: str(form, "offTopics"),
    never: str(form, "never"),
    handoffConditions: str(form, "handoffConditions"),
    builderArchetype: str(form, "builderArchetype"),
    archetypeId: str(form, "archetypeId"),
    rawPrompt: str(form, "rawPrompt"),
  };
}

/** The form's values for a saved persona (or a fresh builder named after the business). */
function valuesFrom(saved: Persona | null, tenantName: string, kind: Kind | null): PersonaFormValues {
  const values: PersonaFormValues = {
    kind: kind ?? saved?.kind ?? "builder",
    voice: "friendly",
    businessName: tenantName,
    businessType: "",
    city: "",
    hours: "",
    goal: "",
    goalUrl: "",
    catchPhrases: "",
    offTopics: "",
    never: "",
    handoffConditions: "",
    builderArchetype: "",
    archetypeId: "",
    rawPrompt: "",
  };
  if (saved?.kind === "builder") {
    Object.assign(values, {
      voice: saved.voice,
      businessName: saved.businessName,
      businessType: saved.businessType,
      city: saved.city ?? "",
      hours: saved.hours ?? "",
      goal: saved.goal ?? "",
      goalUrl: saved.goalUrl ?? "",
      catchPhrases: saved.catchPhrases.join("\n"),
      offTopics: saved.offTopics.join("\n"),
      never: saved.never.join("\n"),
      handoffConditions: saved.handoffConditions.join("\n"),
      builderArchetype: saved.archetype?.id ?? "",
    });
  } else if (saved?.kind === "archetype") {
    values.archetypeId = saved.archetypeId;
  } else if (saved?.kind === "raw") {
    values.rawPrompt = saved.prompt;
  }
  return values;
}

/** Field errors keyed by the form's field names (a list's line problem belongs to its textarea). */
function errorsOf(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const key = v.getDotPath(issue)?.split(".")[0] ?? "_form";
    errors[key] ??= issue.message;
  }
  return errors;
}

type Parsed = { ok: true; persona: Persona } | { ok: false; errors: FieldErrors };

/** The typed form as a persona, or field errors. Only the chosen mode's fields count. */
async function parsePersona(c: AuthedCtx, values: PersonaFormValues): Promise<Parsed> {
  let persona: Persona;
  if (values.kind === "builder") {
    const r = v.safeParse(BuilderFormSchema, {
      ...values,
      catchPhrases: lines(values.catchPhrases),
      offTopics: lines(values.offTopics),
      never: lines(values.never),
      handoffConditions: lines(values.handoffConditions),
    });
    if (!r.success) return { ok: false, errors: errorsOf(r.issues) };
    const b = r.output;
    // The pipeline stores the catalog's own prompt again; this copy is for the preview.
    const archetype = values.builderArchetype
      ? await getActiveArchetype(c.env.DB, values.builderArchetype)
      : null;
    if (values.builderArchetype && !archetype) {
      return { ok: false, errors: { builderArchetype: msg("persona-err-builder-archetype") } };
    }
    persona = {
      kind: "builder",
      voice: b.voice,
      ...(archetype ? { archetype: { id: archetype.id, prompt: archetype.prompt } } : {}),
      businessName: b.businessName,
      businessType: b.businessType,
      ...(b.city ? { city: b.city } : {}),
      ...(b.hours ? { hours: b.hours } : {}),
      ...(b.goal ? { goal: b.goal } : {}),
      ...(b.goalUrl ? { goalUrl: b.goalUrl } : {}),
      catchPhrases: b.catchPhrases,
      offTopics: b.offTopics,
      never: b.never,
      handoffConditions: b.handoffConditions,
    };
  } else if (values.kind === "archetype") {
    const chosen = values.archetypeId ? await getActiveArchetype(c.env.DB, values.archetypeId) : null;
    if (!chosen) return { ok: false, errors: { archetypeId: msg("persona-err-archetype") } };
    persona = { kind: "archetype", archetypeId: chosen.id, prompt: chosen.prompt };
  } else {
    const r = v.safeParse(RawFormSchema, values);
    if (!r.success) return { ok: false, errors: errorsOf(r.issues) };
    persona = { kind: "raw", prompt: r.output.rawPrompt };
  }
  // The pipeline's own schema, so the preview never shows a persona that could not be saved.
  const checked = v.safeParse(PersonaSchema, persona);
  if (!checked.success) return { ok: false, errors: { _form: msg("persona-err-invalid") } };
  return { ok: true, persona: checked.output };
}

// ---------------------------------------------------------------------------------------------
// Fragments

/** The exact system prompt a reply would carry, with a placeholder where the rule's prompt goes. */
function previewFragment(c: AuthedCtx, persona: Persona | null): Html {
  if (!persona) {
    return html`<pre id="persona-preview" tabindex="0" aria-labelledby="persona-preview-title">${c.t(
      "persona-preview-incomplete",
    )}</pre>`;
  }
  const envelope = buildEnvelope({
    persona: renderPersona(persona),
    rulePrompt: c.t("persona-preview-rule-placeholder"),
  });
  return html`<pre id="persona-preview" tabindex="0" aria-labelledby="persona-preview-title">${envelope.system}</pre>`;
}

const STATUS_BADGE: Record<PersonaRow["status"], { cls: string; label: string; text: string }> = {
  pending: { cls: "warn", label: msg("persona-status-pending"), text: msg("persona-status-pending-text") },
  approved: { cls: "ok", label: msg("persona-status-approved"), text: msg("persona-status-approved-text") },
  rejected: {
    cls: "danger",
    label: msg("persona-status-rejected"),
    text: msg("persona-status-rejected-text"),
  },
  needs_review: {
    cls: "warn",
    label: msg("persona-status-needs-review"),
    text: msg("persona-status-needs-review-text"),
  },
};

const OVERDUE_BADGE = {
  cls: "danger",
  label: msg("persona-status-overdue"),
  text: msg("persona-status-overdue-text"),
};

/** The safety verdict; while pending the browser asks again every 2 s until it changes. */
export function statusFragment(c: AuthedCtx, row: PersonaRow | null, overdue = false): Html {
  const { t } = c;
  if (!row) {
    return html`<section id="persona-status" class="card" aria-labelledby="persona-status-title">
  <h2 id="persona-status-title">${t("persona-status-title")}</h2>
  <p><span class="badge">${t("persona-status-none")}</span></p>
  <p class="muted">${t("persona-status-none-text")}</p>
</section>`;
  }
  // Pending far longer than a check takes (lost, or its verdict failing to record): said as such.
  const s = row.status === "pending" && overdue ? OVERDUE_BADGE : STATUS_BADGE[row.status];
  // The stored reason is deliberately vague; the known one is shown in the tenant's language.
  const reason =
    row.status === "rejected"
      ? !row.reason || row.reason === PERSONA_REJECTED_REASON
        ? t("persona-rejected-reason")
        : row.reason
      : null;
  return html`<section id="persona-status" class="card" aria-labelledby="persona-status-title"${
    row.status === "pending" ? html` data-poll="/admin/persona/status"` : null
  }>
  <h2 id="persona-status-title">${t("persona-status-title")}</h2>
  <p role="status"><span class="badge ${s.cls}">${t(s.label)}</span></p>
  ${reason ? html`<p class="persona-reason"><strong>${t("persona-status-reason")}</strong> ${reason}</p>` : null}
  <p class="muted">${t(s.text)}</p>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// The form

function textarea(
  c: AuthedCtx,
  f: {
    name: string;
    label: string;
    hint: string;
    value: string;
    error?: string | null;
    rows?: number;
    attrs?: Html;
  },
): Html {
  const id = `f-${f.name}`;
  const described = [`${id}-hint`, f.error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  <span class="hint" id="${id}-hint">${f.hint}</span>
  <textarea id="${id}" name="${f.name}" rows="${f.rows ?? 4}" aria-describedby="${described}"${
    f.error ? html` aria-invalid="true"` : null
  } ${f.attrs ?? null}>${f.value}</textarea>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

function fieldError(c: AuthedCtx, id: string, error: string | null | undefined): Html | null {
  return error ? html`<span class="err" id="${id}">${c.t(error)}</span>` : null;
}

/** Each builder voice's label and hint (the persona page and the wizard's fallback). */
export const VOICE_LABELS: Record<VoiceArchetype, [string, string]> = {
  friendly: [msg("persona-voice-friendly"), msg("persona-voice-friendly-hint")],
  professional: [msg("persona-voice-professional"), msg("persona-voice-professional-hint")],
  playful: [msg("persona-voice-playful"), msg("persona-voice-playful-hint")],
  concise: [msg("persona-voice-concise"), msg("persona-voice-concise-hint")],
  luxurious: [msg("persona-voice-luxurious"), msg("persona-voice-luxurious-hint")],
};

const MODE_LABELS: Record<Kind, [string, string]> = {
  builder: [msg("persona-mode-builder"), msg("persona-mode-builder-hint")],
  archetype: [msg("persona-mode-archetype"), msg("persona-mode-archetype-hint")],
  raw: [msg("persona-mode-raw"), msg("persona-mode-raw-hint")],
};

/**
 * The catalog archetype a builder persona speaks with, as a ticked box: unticked, the voice
 * below is used instead. Its name is the catalog's; a retired one shows its id.
 */
function builderArchetypeField(
  c: AuthedCtx,
  values: PersonaFormValues,
  errors: FieldErrors | null,
  archetypes: Archetype[],
): Html | null {
  if (!values.builderArchetype) return null;
  const { t } = c;
  const id = values.builderArchetype;
  const err = errors?.builderArchetype ?? null;
  const name = archetypes.find((a) => a.id === id)?.name ?? id;
  return html`<div class="field">
    <label class="switch" for="f-builderArchetype"><input type="checkbox" id="f-builderArchetype" name="builderArchetype" value="${id}" checked aria-describedby="f-builderArchetype-hint${
      err ? " f-builderArchetype-err" : ""
    }"${err ? html` aria-invalid="true"` : null}> ${t("persona-builder-archetype", { name })}</label>
    <span class="hint" id="f-builderArchetype-hint">${t("persona-builder-archetype-hint")}</span>
    ${fieldError(c, "f-builderArchetype-err", err)}
  </div>`;
}

function builderSection(
  c: AuthedCtx,
  values: PersonaFormValues,
  errors: FieldErrors | null,
  archetypes: Archetype[],
): Html {
  const { t } = c;
  const text = (
    name: keyof PersonaFormValues,
    label: string,
    hint: string | null,
    max: number,
    type: "text" | "url" = "text",
  ) =>
    field(c, {
      name,
      label: t(label),
      hint: hint ? t(hint) : null,
      type,
      value: values[name],
      error: errors?.[name] ?? null,
      attrs: html`maxlength="${max}"`,
    });
  const listField = (name: ListName, label: string, hint: string) =>
    textarea(c, {
      name,
      label: t(label),
      hint: t(hint, { count: L[name].items }),
      value: values[name],
      error: errors?.[name] ?? null,
    });
  const voiceErr = errors?.voice ?? null;
  return html`<div class="persona-mode persona-mode-builder stack">
  ${builderArchetypeField(c, values, errors, archetypes)}
  <fieldset class="field"${voiceErr ? html` aria-describedby="f-voice-err"` : null}>
    <legend>${t("persona-voice")}</legend>
    ${VOICES.map((voice) => {
      const [label, hint] = VOICE_LABELS[voice];
      return html`<div class="persona-choice">
      <input type="radio" id="voice-${voice}" name="voice" value="${voice}"${
        values.voice === voice ? html` checked` : null
      } aria-describedby="voice-${voice}-hint">
      <label for="voice-${voice}">${t(label)}</label>
      <span class="hint" id="voice-${voice}-hint">${t(hint)}</span>
    </div>`;
    })}
    ${fieldError(c, "f-voice-err", voiceErr)}
  </fieldset>
  ${text("businessName", "persona-business-name", null, 80)}
  ${text("businessType", "persona-business-type", "persona-business-type-hint", 80)}
  ${text("city", "persona-city", "persona-optional", 80)}
  ${text("hours", "persona-hours", "persona-hours-hint", 200)}
  ${text("goal", "persona-goal", "persona-goal-hint", 200)}
  ${text("goalUrl", "persona-goal-url", "persona-goal-url-hint", 300, "url")}
  ${listField("catchPhrases", "persona-catch-phrases", "persona-catch-phrases-hint")}
  ${listField("offTopics", "persona-off-topics", "persona-off-topics-hint")}
  ${listField("never", "persona-never", "persona-never-hint")}
  ${listField("handoffConditions", "persona-handoff", "persona-handoff-hint")}
</div>`;
}

function archetypeSection(
  c: AuthedCtx,
  values: PersonaFormValues,
  errors: FieldErrors | null,
  archetypes: Archetype[],
): Html {
  const { t } = c;
  const err = errors?.archetypeId ?? null;
  return html`<div class="persona-mode persona-mode-archetype">
  <fieldset class="field"${err ? html` aria-describedby="f-archetypeId-err" aria-invalid="true"` : null}>
    <legend>${t("persona-archetype")}</legend>
    <span class="hint">${t("persona-archetype-hint")}</span>
    ${
      archetypes.length === 0
        ? html`<p class="muted">${t("persona-archetype-none")}</p>`
        : archetypes.map(
            (a) => html`<div class="persona-choice">
      <input type="radio" id="archetype-${a.id}" name="archetypeId" value="${a.id}"${
        values.archetypeId === a.id ? html` checked` : null
      } aria-describedby="archetype-${a.id}-hint">
      <label for="archetype-${a.id}">${a.name}</label>
      <span class="hint" id="archetype-${a.id}-hint">${a.description}</span>
      <details class="persona-archetype-prompt"><summary>${t("persona-archetype-show-prompt")}</summary><p>${a.prompt}</p></details>
    </div>`,
          )
    }
    ${fieldError(c, "f-archetypeId-err", err)}
  </fieldset>
</div>`;
}

function rawSection(c: AuthedCtx, values: PersonaFormValues, errors: FieldErrors | null): Html {
  return html`<div class="persona-mode persona-mode-raw">
  ${textarea(c, {
    name: "rawPrompt",
    label: c.t("persona-raw"),
    hint: c.t("persona-raw-hint", { max: RAW_PROMPT_MAX }),
    value: values.rawPrompt,
    error: errors?.rawPrompt ?? null,
    rows: 10,
    attrs: html`maxlength="${RAW_PROMPT_MAX}"`,
  })}
</div>`;
}

// Without :has() every mode's fields show and the chosen radio still decides what is saved.

type View = {
  values: PersonaFormValues;
  errors: FieldErrors | null;
  preview: Persona | null;
  row: PersonaRow | null;
  /** The saved persona's verdict is overdue (SAFETY_OVERDUE_MS). */
  overdue?: boolean;
  archetypes: Archetype[];
  notice?: string | null;
};

function personaPageBody(c: AuthedCtx, view: View): Html {
  const { t } = c;
  const { values, errors } = view;
  return html`
<p class="muted">${t("persona-lead")}</p>
${statusFragment(c, view.row, view.overdue)}
<div class="persona-layout">
<div>
${errorSummary(c, errors)}
<form class="card stack persona-form" method="post" action="/admin/persona" novalidate
  data-live-preview="#persona-preview" data-preview-url="/admin/persona/preview">
  ${csrfField(c)}
  <fieldset>
    <legend>${t("persona-mode")}</legend>
    <div class="persona-modes">
    ${KINDS.map((k) => {
      const [label, hint] = MODE_LABELS[k];
      return html`<div class="persona-choice">
      <input type="radio" id="kind-${k}" name="kind" value="${k}"${values.kind === k ? html` checked` : null} aria-describedby="kind-${k}-hint">
      <label for="kind-${k}">${t(label)}</label>
      <span class="hint" id="kind-${k}-hint">${t(hint)}</span>
    </div>`;
    })}
    </div>
  </fieldset>
  ${builderSection(c, values, errors, view.archetypes)}
  ${archetypeSection(c, values, errors, view.archetypes)}
  ${rawSection(c, values, errors)}
  <p class="muted">${t("persona-save-note")}</p>
  <div class="row">
    <button type="submit">${t("persona-save")}</button>
    <button type="submit" class="secondary" formaction="/admin/persona/preview">${t("persona-preview-button")}</button>
  </div>
</form>
</div>
<section class="persona-side" aria-labelledby="persona-preview-title">
  <h2 id="persona-preview-title">${t("persona-preview-title")}</h2>
  <p class="muted">${t("persona-preview-lead")}</p>
  ${previewFragment(c, view.preview)}
</section>
</div>`;
}

function render(c: AuthedCtx, view: View, status = 200): Promise<Response> {
  return respond(
    c,
    page(c, {
      title: c.t("persona-title"),
      section: "persona",
      notice: view.notice ?? null,
      body: personaPageBody(c, view),
    }),
    status,
  );
}

/** A fragment for app.js, marked so caches and the browser never mix it up with the page. */
async function fragment(c: AuthedCtx, body: Html, status = 200): Promise<Response> {
  const res = await respond(c, body, status);
  res.headers.set("vary", "x-partial");
  return res;
}

// ---------------------------------------------------------------------------------------------
// Routes

/** GET /admin/persona: the saved persona in its form, its preview and its safety status. */
export async function personaPage(c: AuthedCtx): Promise<Response> {
  const [row, archetypes, overdue] = await Promise.all([
    getPersona(c.env.DB, c.session.tenantId),
    listActiveArchetypes(c.env.DB),
    personaVerdictOverdue(c.env.DB, c.session.tenantId, Date.now() - SAFETY_OVERDUE_MS),
  ]);
  const mode = c.searchParams.get("mode");
  const kind = (KINDS as readonly string[]).includes(mode ?? "") ? (mode as Kind) : null;
  const values = valuesFrom(row?.persona ?? null, c.session.tenantName, kind);
  const preview = row && values.kind === row.persona.kind ? row.persona : null;
  return render(c, {
    values,
    errors: null,
    preview: preview ?? (await parsePersona(c, values).then((p) => (p.ok ? p.persona : null))),
    row,
    overdue,
    archetypes,
    notice: c.searchParams.get("saved") === "1" ? c.t("persona-saved") : null,
  });
}

/** POST /admin/persona: validate, save through the pipeline (which queues the safety check). */
export async function savePersonaForm(c: AuthedCtx): Promise<Response> {
  const values = readValues(c.form);
  const parsed = await parsePersona(c, values);
  let errors: FieldErrors;
  if (parsed.ok) {
    const saved = await c.env.PIPELINE.savePersona(c.session.tenantId, parsed.persona);
    if (saved.ok) return redirect("/admin/persona?saved=1");
    errors =
      saved.error.code === "archetype_unavailable"
        ? { builderArchetype: msg("persona-err-builder-archetype") }
        : {
            _form:
              saved.error.code === "invalid_persona" ? msg("persona-err-invalid") : msg("err-save-failed"),
          };
  } else {
    errors = parsed.errors;
  }
  const [row, archetypes, overdue] = await Promise.all([
    getPersona(c.env.DB, c.session.tenantId),
    listActiveArchetypes(c.env.DB),
    personaVerdictOverdue(c.env.DB, c.session.tenantId, Date.now() - SAFETY_OVERDUE_MS),
  ]);
  return render(
    c,
    { values, errors, preview: parsed.ok ? parsed.persona : null, row, archetypes, overdue },
    422,
  );
}

/**
 * POST /admin/persona/preview: the envelope for what is typed, saving nothing. app.js asks for
 * the fragment as the form changes; without JavaScript the Preview button shows the whole page.
 */
export async function previewPersona(c: AuthedCtx): Promise<Response> {
  const values = readValues(c.form);
  const parsed = await parsePersona(c, values);
  if (c.partial) return fragment(c, previewFragment(c, parsed.ok ? parsed.persona : null));
  const [row, archetypes, overdue] = await Promise.all([
    getPersona(c.env.DB, c.session.tenantId),
    listActiveArchetypes(c.env.DB),
    personaVerdictOverdue(c.env.DB, c.session.tenantId, Date.now() - SAFETY_OVERDUE_MS),
  ]);
  return render(
    c,
    {
      values,
      errors: parsed.ok ? null : parsed.errors,
      preview: parsed.ok ? parsed.persona : null,
      row,
      archetypes,
      overdue,
      notice: parsed.ok ? c.t("persona-preview-not-saved") : null,
    },
    parsed.ok ? 200 : 422,
  );
}

/** GET /admin/persona/status: the status fragment app.js polls while the check is pending. */
export async function personaStatus(c: AuthedCtx): Promise<Response> {
  if (!c.partial) return redirect("/admin/persona");
  const tenantId = c.session.tenantId;
  const [row, overdue] = await Promise.all([
    getPersona(c.env.DB, tenantId),
    personaVerdictOverdue(c.env.DB, tenantId, Date.now() - SAFETY_OVERDUE_MS),
  ]);
  return fragment(c, statusFragment(c, row, overdue));
}
