/**
 * Wizard step 4, replies (PRODUCT.md §4): how the assistant talks (an approved archetype of the
 * operators' catalog, or the builder's own voices when the catalog offers none; the goal, handoff
 * conditions, hours and address, with the business's name and kind from step 1) and the starter reply rules for the kind of business, edited inline, saved into the reply
 * config of every connected channel account, and tried with a test form that sends nothing.
 *
 * Everything is validated before the first call to the pipeline, so bad input saves nothing.
 */
import type { BusinessKind, RuleTest } from "@concierge/core";
import { msg } from "@concierge/i18n";
import {
  type Persona,
  PERSONA_LIMITS,
  PersonaSchema,
  VOICE_ARCHETYPES,
  type VoiceArchetype,
} from "@concierge/prompt";
import {
  DEFAULT_WAIT_SECONDS,
  type DefaultRule,
  matchReply,
  parseReplyConfig,
  type ReplyConfig,
  type ReplyRule,
} from "@concierge/rules";
import {
  type Archetype,
  completeWizardStep,
  getPersona,
  getReplyConfig,
  getTenantSettings,
  listActiveArchetypes,
  listReplyConfigSummaries,
  type PersonaRow,
  type ReplyConfigSummary,
} from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, str, textarea, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { isWebUrl, statusFragment, VOICE_LABELS } from "../pages/persona.ts";
import { TestTextSchema } from "../pages/rules-forms.ts";
import { forgetWizard, loadWizard, type Onboarding, stepPath, wizardPage } from "./layout.ts";
import {
  type Fill,
  fillReply,
  missingPlaceholder,
  PLACEHOLDERS,
  type Starter,
  type StarterId,
  splitKeywords,
  startersFor,
} from "./starters.ts";

const L = PERSONA_LIMITS;
const VOICES = Object.keys(VOICE_ARCHETYPES) as VoiceArchetype[];
/** The rule schema's own limits (packages/rules), with messages the page can translate. */
const MAX_KEYWORDS = 50;
const MAX_KEYWORD = 100;
const MAX_REPLY = 4096;

/** The kind of business as the persona's "a … in …" sentence names it. */
const KIND_TYPE: Record<BusinessKind, string> = {
  cafe: msg("wizard-replies-type-cafe"),
  restaurant: msg("wizard-replies-type-restaurant"),
  salon: msg("wizard-replies-type-salon"),
  clinic: msg("wizard-replies-type-clinic"),
  shop: msg("wizard-replies-type-shop"),
  services: msg("wizard-replies-type-services"),
  other: msg("wizard-replies-type-other"),
};

/**
 * What the id of the archetype preselected for a kind of business contains (the seeded catalog's
 * cafe-host, clinic-desk and shop-assistant); without one, or without a match, the first offered.
 */
const KIND_ARCHETYPE: Partial<Record<BusinessKind, string>> = {
  cafe: "cafe",
  restaurant: "cafe",
  clinic: "clinic",
  salon: "clinic",
  shop: "shop",
};

function preferredArchetype(kind: BusinessKind | null, archetypes: Archetype[]): string {
  const hint = kind ? KIND_ARCHETYPE[kind] : undefined;
  return ((hint && archetypes.find((a) => a.id.includes(hint))) || archetypes[0])?.id ?? "";
}

export const CHANNEL_NAME: Record<ReplyConfigSummary["channel"], string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("wizard-replies-channel-email"),
  discord: msg("channel-discord"),
};

// ---------------------------------------------------------------------------------------------
// The form

type StarterValues = { use: boolean; keywords: string; reply: string };

/** The form as typed, so a 422 shows exactly what was sent. */
type Values = {
  /** The catalog archetype's id; the voice radios stand in only when the catalog offers none. */
  archetype: string;
  voice: string;
  hours: string;
  address: string;
  goal: string;
  goalUrl: string;
  handoffConditions: string;
  aiDefault: boolean;
  starters: Partial<Record<StarterId, StarterValues>>;
};

const optional = (max: number, maxId: string) => v.pipe(v.string(), v.trim(), v.maxLength(max, maxId));

const PersonaPartSchema = v.object({
  voice: v.picklist(VOICES, msg("wizard-replies-err-voice")),
  hours: optional(L.hours, msg("wizard-replies-err-max-200")),
  address: optional(L.city, msg("wizard-replies-err-max-80")),
  goal: optional(L.goal, msg("wizard-replies-err-max-200")),
  goalUrl: v.pipe(
    v.string(),
    v.trim(),
    v.maxLength(L.goalUrl, msg("wizard-replies-err-goal-url")),
    v.check((s) => s === "" || isWebUrl(s), msg("wizard-replies-err-goal-url")),
  ),
  handoffConditions: v.pipe(
    v.array(
      v.pipe(v.string(), v.maxLength(L.handoffConditions.length, msg("wizard-replies-err-handoff-line"))),
    ),
    v.maxLength(L.handoffConditions.items, msg("wizard-replies-err-handoff-count")),
  ),
  aiDefault: v.boolean(),
});

const StarterSchema = v.object({
  keywords: v.pipe(
    v.array(v.pipe(v.string(), v.maxLength(MAX_KEYWORD, msg("wizard-replies-err-keyword-long")))),
    v.minLength(1, msg("wizard-replies-err-keywords")),
    v.maxLength(MAX_KEYWORDS, msg("wizard-replies-err-keywords-count")),
  ),
  reply: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, msg("wizard-replies-err-reply")),
    v.maxLength(MAX_REPLY, msg("wizard-replies-err-reply-long")),
  ),
});

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

function readValues(form: FormData, starters: Starter[]): Values {
  const values: Values = {
    archetype: str(form, "archetype"),
    voice: str(form, "voice"),
    hours: str(form, "hours"),
    address: str(form, "address"),
    goal: str(form, "goal"),
    goalUrl: str(form, "goalUrl"),
    handoffConditions: str(form, "handoffConditions"),
    aiDefault: str(form, "aiDefault") === "on",
    starters: {},
  };
  for (const s of starters) {
    values.starters[s.id] = {
      use: str(form, `use_${s.id}`) === "on",
      keywords: str(form, `keywords_${s.id}`),
      reply: str(form, `reply_${s.id}`),
    };
  }
  return values;
}

/**
 * The form for what is saved (a builder persona's answers); the saved archetype while it is
 * offered, else the one for the kind of business. Each starter shows the rule saved under its id
 * (`starter-<id>`) in the first connected account that has one, ticked, as it was edited; once the
 * step has been saved, a starter no account has was left unticked; before that, as proposed.
 */
function savedValues(
  row: PersonaRow | null,
  starters: Starter[],
  archetypes: Archetype[],
  ob: Onboarding,
  configs: (ReplyConfig | null)[],
): Values {
  const kind = ob.businessKind;
  const p = row?.persona.kind === "builder" ? row.persona : null;
  const savedArchetype = p?.archetype?.id;
  const values: Values = {
    archetype: archetypes.some((a) => a.id === savedArchetype)
      ? (savedArchetype ?? "")
      : preferredArchetype(kind, archetypes),
    voice: p?.voice ?? "friendly",
    hours: p?.hours ?? "",
    address: p?.city ?? "",
    goal: p?.goal ?? "",
    goalUrl: p?.goalUrl ?? "",
    handoffConditions: p?.handoffConditions.join("\n") ?? "",
    aiDefault: true,
    starters: {},
  };
  const savedBefore = ob.wizardStep >= 4 && configs.some((cfg) => cfg !== null);
  for (const s of starters) {
    const rule = configs.flatMap((cfg) => cfg?.rules ?? []).find((r) => r.id === s.ruleId);
    if (rule && rule.matcher.kind === "static_text" && rule.response.kind === "canned") {
      values.starters[s.id] = {
        use: true,
        keywords: rule.matcher.keywords.join(", "),
        reply: rule.response.text,
      };
    } else {
      values.starters[s.id] = { use: !savedBefore, keywords: s.keywords.join(", "), reply: s.reply };
    }
  }
  return values;
}

type Parsed =
  | { ok: true; persona: Persona; rules: ReplyRule[]; aiDefault: boolean }
  | { ok: false; errors: FieldErrors };

/** The ticked starters as reply rules, their placeholders filled; problems go into `errors`. */
function parseStarters(
  ob: Onboarding,
  values: Values,
  starters: Starter[],
  errors: FieldErrors,
): ReplyRule[] {
  const fill: Fill = { name: ob.name, hours: values.hours.trim(), address: values.address.trim() };
  const rules: ReplyRule[] = [];
  for (const s of starters) {
    const typed = values.starters[s.id];
    if (!typed?.use) continue;
    const filled = fillReply(typed.reply, fill);
    const checked = validate(StarterSchema, { keywords: splitKeywords(typed.keywords), reply: filled });
    if (!checked.ok) {
      // Problems with one keyword ("keywords.2") belong to the keywords field as a whole.
      for (const [path, message] of Object.entries(checked.errors)) {
        errors[`${path.split(".")[0]}_${s.id}`] ??= message;
      }
    }
    const missing = missingPlaceholder(filled);
    if (missing) {
      errors[`reply_${s.id}`] ??=
        missing === "hours" ? msg("wizard-replies-err-needs-hours") : msg("wizard-replies-err-needs-address");
    }
    if (!checked.ok || missing) continue;
    rules.push({
      id: s.ruleId,
      label: s.label,
      matcher: { kind: "static_text", keywords: checked.value.keywords },
      response: { kind: "canned", text: checked.value.reply },
      approval: "auto",
    });
  }
  return rules;
}

/** The typed form as a persona and the chosen starter rules, or field errors. */
function parse(
  c: AuthedCtx,
  ob: Onboarding,
  values: Values,
  starters: Starter[],
  saved: PersonaRow | null,
  archetypes: Archetype[],
): Parsed {
  const errors: FieldErrors = {};
  // With a catalog to choose from, the voice is only the fallback tone; the archetype decides.
  const byArchetype = archetypes.length > 0;
  const part = validate(PersonaPartSchema, {
    ...values,
    voice: byArchetype ? "friendly" : values.voice,
    handoffConditions: lines(values.handoffConditions),
  });
  if (!part.ok) Object.assign(errors, part.errors);
  const chosen = byArchetype ? archetypes.find((a) => a.id === values.archetype) : undefined;
  if (byArchetype && !chosen) errors.archetype = msg("wizard-replies-err-archetype");
  const rules = parseStarters(ob, values, starters, errors);
  if (!part.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  const b = part.value;
  // What the tenant set on the persona page beyond the wizard's questions stays as it was.
  const kept = saved?.persona.kind === "builder" ? saved.persona : null;
  const persona = {
    kind: "builder",
    voice: b.voice,
    // The pipeline checks the archetype is still offered and stores the catalog's own prompt.
    ...(chosen ? { archetype: { id: chosen.id, prompt: chosen.prompt } } : {}),
    businessName: ob.name,
    businessType: c.t(KIND_TYPE[ob.businessKind ?? "other"]),
    ...(b.address ? { city: b.address } : {}),
    ...(b.hours ? { hours: b.hours } : {}),
    ...(b.goal ? { goal: b.goal } : {}),
    ...(b.goalUrl ? { goalUrl: b.goalUrl } : {}),
    catchPhrases: kept?.catchPhrases ?? [],
    offTopics: kept?.offTopics ?? [],
    never: kept?.never ?? [],
    handoffConditions: b.handoffConditions,
  };
  // The pipeline's own schema, so nothing is sent that it would refuse after the configs changed.
  const checked = v.safeParse(PersonaSchema, persona);
  if (!checked.success) return { ok: false, errors: { _form: msg("wizard-replies-err-persona") } };
  return { ok: true, persona: checked.output, rules, aiDefault: b.aiDefault };
}

// ---------------------------------------------------------------------------------------------
// Reply configs

/** The tenant's connected customer-facing accounts (a disconnected one takes no rules). */
export async function connectedAccounts(c: AuthedCtx): Promise<ReplyConfigSummary[]> {
  const rows = await listReplyConfigSummaries(c.env.DB, c.session.tenantId);
  return rows.filter((r) => r.status === "active");
}

export function accountLabel(c: AuthedCtx, a: ReplyConfigSummary): string {
  const channel = c.t(CHANNEL_NAME[a.channel]);
  return a.displayName ? `${channel} · ${a.displayName}` : channel;
}

function defaultRule(c: AuthedCtx, ai: boolean): DefaultRule {
  return ai
    ? {
        id: "default",
        label: c.t("wizard-replies-default-ai-label"),
        response: { kind: "prompt", text: c.t("wizard-replies-default-ai-prompt") },
        approval: "auto",
      }
    : {
        id: "default",
        label: c.t("wizard-replies-default-canned-label"),
        response: { kind: "canned", text: c.t("wizard-replies-default-canned") },
        approval: "auto",
      };
}

/**
 * The account's config with the starters as typed: an existing config keeps its other rules, its
 * default and its switch; a ticked starter replaces the rule saved under its id (`starter-<id>`)
 * in place, or is added at the end; an unticked starter that was saved before is removed (the
 * tenant took it out on a second visit). A new config starts switched off (launch, step 5,
 * switches it on) with the chosen default. Null: nothing to change.
 */
function nextConfig(
  c: AuthedCtx,
  stored: ReplyConfig | null,
  starters: { all: Starter[]; chosen: ReplyRule[] },
  opts: { ai: boolean; waitSeconds: number },
): ReplyConfig | null {
  if (!stored) {
    return {
      enabled: false,
      rules: starters.chosen,
      default_rule: defaultRule(c, opts.ai),
      wait_seconds: opts.waitSeconds,
    };
  }
  const chosen = new Map(starters.chosen.map((r) => [r.id, r]));
  const starterIds = new Set(starters.all.map((s) => s.ruleId));
  const rules: ReplyRule[] = [];
  for (const rule of stored.rules) {
    if (!starterIds.has(rule.id)) rules.push(rule);
    else {
      const typed = chosen.get(rule.id);
      if (typed) rules.push(typed);
      chosen.delete(rule.id);
    }
  }
  rules.push(...chosen.values());
  const next = { ...stored, rules };
  return JSON.stringify(next) === JSON.stringify(stored) ? null : next;
}

// ---------------------------------------------------------------------------------------------
// The page

type TestView =
  | { kind: "none" }
  | { kind: "error"; message: string }
  | { kind: "result"; account: ReplyConfigSummary; answer: RuleTest; enabled: boolean };

type View = {
  ob: Onboarding;
  values: Values;
  errors: FieldErrors | null;
  row: PersonaRow | null;
  starters: Starter[];
  accounts: ReplyConfigSummary[];
  /** Each connected account's stored config, in the order of `accounts`. */
  configs: (ReplyConfig | null)[];
  /** Each one's stored version (0: none), saved back against so an editor save is never undone. */
  versions: number[];
  archetypes: Archetype[];
  testText?: string;
  testError?: string | null;
  test?: TestView;
};

/** The approved catalog archetypes (operators' names and descriptions, shown as they are). */
function archetypeChoice(c: AuthedCtx, values: Values, archetypes: Archetype[], error: string | null): Html {
  const { t } = c;
  return html`<fieldset class="field"${error ? html` aria-describedby="f-archetype-err" aria-invalid="true"` : null}>
    <legend>${t("wizard-replies-voice")}</legend>
    <span class="hint">${t("wizard-replies-archetype-hint")}</span>
    ${archetypes.map(
      (a) => html`<div class="persona-choice">
      <input type="radio" id="archetype-${a.id}" name="archetype" value="${a.id}"${
        values.archetype === a.id ? html` checked` : null
      } aria-describedby="archetype-${a.id}-hint">
      <label for="archetype-${a.id}">${a.name}</label>
      <span class="hint" id="archetype-${a.id}-hint">${a.description}</span>
    </div>`,
    )}
    ${error ? html`<span class="err" id="f-archetype-err">${t(error)}</span>` : null}
  </fieldset>`;
}

function personaFields(
  c: AuthedCtx,
  values: Values,
  errors: FieldErrors | null,
  archetypes: Archetype[],
): Html {
  const { t } = c;
  const err = (name: string) => errors?.[name] ?? null;
  const voiceErr = err("voice");
  return html`<fieldset class="stack">
  <legend>${t("wizard-replies-persona-legend")}</legend>
  <p class="muted">${t("wizard-replies-persona-lead")}</p>
  ${
    archetypes.length > 0
      ? archetypeChoice(c, values, archetypes, err("archetype"))
      : html`<fieldset class="field"${voiceErr ? html` aria-describedby="f-voice-err"` : null}>
    <legend>${t("wizard-replies-voice")}</legend>
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
    ${voiceErr ? html`<span class="err" id="f-voice-err">${t(voiceErr)}</span>` : null}
  </fieldset>`
  }
  ${field(c, {
    name: "goal",
    label: t("wizard-replies-goal"),
    hint: t("wizard-replies-goal-hint"),
    value: values.goal,
    error: err("goal"),
    attrs: html`maxlength="${L.goal}"`,
  })}
  ${field(c, {
    name: "goalUrl",
    type: "url",
    label: t("wizard-replies-goal-url"),
    hint: t("wizard-replies-goal-url-hint"),
    value: values.goalUrl,
    error: err("goalUrl"),
    attrs: html`maxlength="${L.goalUrl}"`,
  })}
  ${textarea(c, {
    name: "handoffConditions",
    label: t("wizard-replies-handoff"),
    hint: t("wizard-replies-handoff-hint", { count: L.handoffConditions.items }),
    value: values.handoffConditions,
    error: err("handoffConditions"),
    rows: 4,
  })}
  ${field(c, {
    name: "hours",
    label: t("wizard-replies-hours"),
    hint: t("wizard-replies-hours-hint"),
    value: values.hours,
    error: err("hours"),
    attrs: html`maxlength="${L.hours}"`,
  })}
  ${field(c, {
    name: "address",
    label: t("wizard-replies-address"),
    hint: t("wizard-replies-address-hint"),
    value: values.address,
    error: err("address"),
    attrs: html`maxlength="${L.city}"`,
  })}
</fieldset>`;
}

function starterFields(c: AuthedCtx, s: Starter, values: Values, errors: FieldErrors | null): Html {
  const { t } = c;
  const typed = values.starters[s.id] ?? { use: false, keywords: "", reply: "" };
  return html`<fieldset class="card stack wizard-starter" id="starter-${s.id}">
  <legend>${s.label}</legend>
  <div class="field">
    <label class="switch" for="f-use_${s.id}"><input type="checkbox" id="f-use_${s.id}" name="use_${s.id}"${
      typed.use ? html` checked` : null
    }> ${t("wizard-replies-starter-use")}</label>
  </div>
  ${field(c, {
    name: `keywords_${s.id}`,
    label: t("wizard-replies-starter-keywords"),
    hint: t("wizard-replies-starter-keywords-hint"),
    value: typed.keywords,
    error: errors?.[`keywords_${s.id}`] ?? null,
  })}
  ${textarea(c, {
    name: `reply_${s.id}`,
    label: t("wizard-replies-starter-reply"),
    value: typed.reply,
    error: errors?.[`reply_${s.id}`] ?? null,
    rows: 3,
    attrs: html`maxlength="${MAX_REPLY}"`,
  })}
</fieldset>`;
}

function rulesFields(c: AuthedCtx, view: View): Html {
  const { t } = c;
  if (view.accounts.length === 0) {
    return html`<section class="notice" id="wizard-no-channel">
  <p>${t("wizard-replies-no-channel")}</p>
  <p><a href="${stepPath("channels")}">${t("wizard-replies-no-channel-link")}</a></p>
</section>`;
  }
  return html`<fieldset class="stack">
  <legend>${t("wizard-replies-rules-legend")}</legend>
  <p class="muted">${t("wizard-replies-rules-lead", {
    accounts: view.accounts.map((a) => accountLabel(c, a)).join(", "),
  })}</p>
  <p class="hint">${t("wizard-replies-rules-placeholders", PLACEHOLDERS)}</p>
  ${view.starters.map((s) => starterFields(c, s, view.values, view.errors))}
  <div class="field">
    <label class="switch" for="f-aiDefault"><input type="checkbox" id="f-aiDefault" name="aiDefault"${
      view.values.aiDefault ? html` checked` : null
    } aria-describedby="f-aiDefault-hint"> ${t("wizard-replies-ai-default")}</label>
    <span class="hint" id="f-aiDefault-hint">${t("wizard-replies-ai-default-hint")}</span>
  </div>
</fieldset>`;
}

function testResult(c: AuthedCtx, test: TestView): Html {
  const { t } = c;
  switch (test.kind) {
    case "none":
      return html`<div id="wizard-test-result" aria-live="polite"></div>`;
    case "error":
      return html`<div id="wizard-test-result" aria-live="polite"><p class="notice error" role="alert">${t(test.message)}</p></div>`;
    case "result": {
      const a = test.answer;
      const matched =
        a.via === "default"
          ? t("wizard-replies-test-default")
          : t("wizard-replies-test-matched", { label: a.label || a.ruleId });
      const reply =
        a.reply.kind !== "prompt"
          ? html`<p>${t("wizard-replies-test-canned")}</p><blockquote>${a.reply.text}</blockquote>`
          : html`<p>${t("wizard-replies-test-ai")}</p>${
              a.reply.personaStatus === "approved"
                ? null
                : html`<p class="notice error">${t("wizard-replies-test-ai-paused")}</p>`
            }`;
      return html`<div id="wizard-test-result" aria-live="polite">
<h3>${t("wizard-replies-test-result", { account: accountLabel(c, test.account) })}</h3>
<p><strong>${matched}</strong></p>
${reply}
${test.enabled ? null : html`<p class="muted">${t("wizard-replies-test-off")}</p>`}
<p class="muted">${t("wizard-replies-test-nothing-sent")}</p>
</div>`;
    }
  }
}

/**
 * The test panel, inside the step's form: its button posts everything typed to the test route,
 * which runs the rules as typed (nothing saved) and draws the page again with them kept.
 */
function testSection(c: AuthedCtx, view: View): Html | null {
  if (view.accounts.length === 0) return null;
  const { t } = c;
  return html`<section class="card stack" id="wizard-test" aria-labelledby="wizard-test-h">
  <h2 id="wizard-test-h">${t("wizard-replies-test-title")}</h2>
  <p class="muted">${t("wizard-replies-test-lead")}</p>
  ${field(c, {
    name: "text",
    label: t("wizard-replies-test-text"),
    value: view.testText ?? "",
    error: view.testError ?? null,
    attrs: html`maxlength="4096"`,
  })}
  <div><button class="secondary" type="submit" formaction="${stepPath("replies")}/test#wizard-test">${t("wizard-replies-test-submit")}</button></div>
  ${testResult(c, view.test ?? { kind: "none" })}
</section>`;
}

function body(c: AuthedCtx, view: View): Html {
  const { t } = c;
  // Save comes first in the form, so Enter in any field saves as before; Test is the second button.
  return html`<p class="muted">${t("wizard-replies-lead")}</p>
${statusFragment(c, view.row)}
${errorSummary(c, view.errors)}
<form class="stack wizard-replies" method="post" action="${stepPath("replies")}" novalidate>
  ${csrfField(c)}
  ${personaFields(c, view.values, view.errors, view.archetypes)}
  ${rulesFields(c, view)}
  <p class="muted">${t("wizard-replies-save-note")}</p>
  <div class="row"><button type="submit">${t("wizard-replies-save")}</button></div>
  ${testSection(c, view)}
</form>`;
}

function render(c: AuthedCtx, view: View, status = 200): Promise<Response> {
  return respond(
    c,
    wizardPage(c, { step: "replies", title: c.t("wizard-replies-title"), body: body(c, view) }),
    status,
  );
}

async function loadView(c: AuthedCtx): Promise<Omit<View, "values" | "errors">> {
  const ob = await loadWizard(c);
  const [row, accounts, archetypes] = await Promise.all([
    getPersona(c.env.DB, c.session.tenantId),
    connectedAccounts(c),
    listActiveArchetypes(c.env.DB),
  ]);
  const stored = await Promise.all(accounts.map((a) => getReplyConfig(c.env.DB, a.id)));
  const configs = stored.map((s) => s?.config ?? null);
  const versions = stored.map((s) => s?.version ?? 0);
  return { ob, row, accounts, configs, versions, archetypes, starters: startersFor(c.t, ob.businessKind) };
}

// ---------------------------------------------------------------------------------------------
// Routes

/** GET /dashboard/wizard/replies: the saved answers (or a fresh form) and the persona's status. */
export async function repliesStep(c: AuthedCtx): Promise<Response> {
  const view = await loadView(c);
  return render(c, {
    ...view,
    values: savedValues(view.row, view.starters, view.archetypes, view.ob, view.configs),
    errors: null,
  });
}

/**
 * POST /dashboard/wizard/replies: the persona through the pipeline (which queues its safety
 * check), the starter rules into every connected account's config, then step 5.
 */
export async function saveRepliesStep(c: AuthedCtx): Promise<Response> {
  const view = await loadView(c);
  const starters = view.accounts.length > 0 ? view.starters : [];
  const values = readValues(c.form, starters);
  const testText = str(c.form, "text");
  const fail = (errors: FieldErrors) => render(c, { ...view, values, errors, testText }, 422);
  const parsed = parse(c, view.ob, values, starters, view.row, view.archetypes);
  if (!parsed.ok) return fail(parsed.errors);

  // Every account's next config is built and checked before anything is saved, so a config the
  // pipeline would refuse (too many rules) cannot leave the persona saved and the rules half-done.
  const settings = await getTenantSettings(c.env.DB, c.session.tenantId);
  const waitSeconds = settings?.defaultWaitSeconds ?? DEFAULT_WAIT_SECONDS;
  const changes: { accountId: string; config: ReplyConfig; version: number }[] = [];
  for (const [i, account] of view.accounts.entries()) {
    const next = nextConfig(
      c,
      view.configs[i] ?? null,
      { all: starters, chosen: parsed.rules },
      { ai: parsed.aiDefault, waitSeconds },
    );
    if (!next) continue;
    if (!parseReplyConfig(next).ok) return fail({ _form: msg("wizard-replies-err-too-many-rules") });
    changes.push({ accountId: account.id, config: next, version: view.versions[i] ?? 0 });
  }

  const saved = await c.env.PIPELINE.savePersona(c.session.tenantId, parsed.persona);
  if (!saved.ok) {
    // Retired or replaced by a version not yet approved since the page loaded: choose again.
    if (saved.error.code === "archetype_unavailable") {
      const archetypes = await listActiveArchetypes(c.env.DB);
      return render(
        c,
        { ...view, archetypes, values, testText, errors: { archetype: msg("wizard-replies-err-archetype") } },
        422,
      );
    }
    return fail({
      _form:
        saved.error.code === "invalid_persona" ? msg("wizard-replies-err-persona") : msg("err-save-failed"),
    });
  }
  for (const change of changes) {
    const r = await c.env.PIPELINE.saveReplyConfig(
      c.session.tenantId,
      change.accountId,
      change.config,
      change.version,
    );
    // Unlikely after the checks above (the account disconnected meanwhile, the store failed):
    // the step stays open, and saving again writes the starters as typed.
    if (!r.ok) return fail({ _form: msg("wizard-replies-err-rules-not-saved") });
  }
  await completeWizardStep(c.env.DB, c.session.tenantId, 4);
  forgetWizard(c);
  return redirect(stepPath("launch"));
}

/**
 * POST /dashboard/wizard/replies/test (the form's Test button): which rule would answer the typed
 * message on the first connected account with the starters AS TYPED (its other rules and default
 * as saved, or the chosen default when it has no config yet), matched here by keyword as the
 * pipeline does; an embedding rule cannot match without the pipeline and is skipped. Nothing is
 * saved, sent or marked; the page comes back with everything typed and the answer.
 */
export async function testRepliesStep(c: AuthedCtx): Promise<Response> {
  const view = await loadView(c);
  const starters = view.accounts.length > 0 ? view.starters : [];
  const values = readValues(c.form, starters);
  const text = str(c.form, "text");
  const page = { ...view, values, errors: null, testText: text };
  const checked = validate(TestTextSchema, { text });
  if (!checked.ok) {
    return render(c, { ...page, testError: checked.errors.text ?? msg("rules-test-err-empty") }, 422);
  }
  const account = view.accounts[0];
  if (!account) {
    return render(c, { ...page, test: { kind: "error", message: msg("wizard-replies-no-channel") } }, 422);
  }
  const errors: FieldErrors = {};
  const rules = parseStarters(view.ob, values, starters, errors);
  if (Object.keys(errors).length > 0) return render(c, { ...page, errors }, 422);
  const stored = view.configs[0] ?? null;
  const config =
    nextConfig(
      c,
      stored,
      { all: starters, chosen: rules },
      { ai: values.aiDefault, waitSeconds: DEFAULT_WAIT_SECONDS },
    ) ?? stored;
  if (!config) {
    return render(c, { ...page, test: { kind: "error", message: msg("wizard-replies-test-failed") } });
  }
  const m = matchReply(config, checked.value.text);
  const answer: RuleTest = {
    ruleId: m.rule.id,
    label: m.rule.label,
    via: m.via,
    score: m.via === "embedding" ? m.score : null,
    // The wizard's starters are keyword rules, matched here without embeddings: no intent is scored.
    closest: null,
    reply:
      m.rule.response.kind !== "prompt"
        ? { kind: m.rule.response.kind, text: m.rule.response.text }
        : { kind: "prompt", envelope: "", personaStatus: view.row?.status ?? null },
  };
  return render(c, { ...page, test: { kind: "result", account, answer, enabled: stored?.enabled ?? false } });
}
