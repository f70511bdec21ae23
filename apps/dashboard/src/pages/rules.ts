import { msg } from "@concierge/i18n";
import {
  DEFAULT_WAIT_SECONDS,
  hoursAtLocal,
  type LocalTime,
  localTime,
  type ReplyConfig,
  weekdayOf,
} from "@concierge/rules";
import {
  creditBalance,
  getChannelAccount,
  getReplyConfig,
  getTenantSettings,
  listReplyConfigSummaries,
} from "@concierge/storage";
import { type FieldErrors, formVersion, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { page } from "../layout.ts";
import {
  type DefaultValues,
  emptyRuleValues,
  fieldForPath,
  parseDefault,
  parseRule,
  parseSettings,
  type RuleValues,
  readDefaultValues,
  readRuleValues,
  readSettingsValues,
  ruleValues,
  TestTextSchema,
} from "./rules-forms.ts";
import {
  accountName,
  base,
  type EditorState,
  editorBody,
  type HoursAnswer,
  type Loaded,
  listBody,
  ruleFormBody,
  type TestState,
  testResult,
} from "./rules-views.ts";

/**
 * The reply rules editor (PRODUCT.md §2): the tenant's accounts, each account's ordered rules,
 * default reply and settings, and a test panel. Every change loads the stored config, applies one
 * edit and saves the whole config through the pipeline's `saveReplyConfig`, which validates it
 * again and embeds intent rules once.
 */

/** An account with nothing saved yet starts with no rules and a polite canned default reply. */
function starterConfig(c: AuthedCtx, waitSeconds: number): ReplyConfig {
  return {
    enabled: true,
    rules: [],
    default_rule: {
      id: "default",
      label: "Default",
      response: { kind: "canned", text: c.t("rules-starter-default-reply") },
      approval: "auto",
    },
    wait_seconds: waitSeconds,
  };
}

/** The account in the path, if it is this tenant's (and on that channel); otherwise 404. */
async function load(c: AuthedCtx): Promise<Loaded> {
  const { channel, accountId } = c.params;
  const account = accountId ? await getChannelAccount(c.env.DB, accountId) : null;
  if (!account || account.tenantId !== c.session.tenantId || account.channel !== channel) notFound();
  const stored = await getReplyConfig(c.env.DB, account.id);
  if (stored) {
    return { account, config: stored.config, exists: true, version: stored.version };
  }
  const settings = await getTenantSettings(c.env.DB, c.session.tenantId);
  return {
    account,
    config: starterConfig(c, settings?.defaultWaitSeconds ?? DEFAULT_WAIT_SECONDS),
    exists: false,
    // Nothing saved yet: the first save is version 1, and a second first save is stale.
    version: 0,
  };
}

function findRule(l: Loaded, id: string | undefined): number {
  const i = l.config.rules.findIndex((r) => r.id === id);
  if (i < 0) notFound();
  return i;
}

type SaveOutcome = { ok: true } | { ok: false; status: 409 | 422; errors: FieldErrors };

/** Saves the edited config through the pipeline; its refusals become form errors. */
async function save(c: AuthedCtx, l: Loaded, next: ReplyConfig): Promise<SaveOutcome> {
  // The version the page was shown at is checked by the save statement itself (not here first,
  // which two saves could both pass): of two saves from the same page exactly one lands. Every
  // editor form carries it; a post without one is refused as stale (-1), as it always was here.
  const version = formVersion(c.form) ?? -1;
  const r = await c.env.PIPELINE.saveReplyConfig(c.session.tenantId, l.account.id, next, version);
  if (r.ok) return { ok: true };
  switch (r.error.code) {
    case "not_found":
      return notFound();
    case "stale":
      return { ok: false, status: 409, errors: { _form: msg("rules-err-stale") } };
    case "invalid_reply_config": {
      const target = fieldForPath(r.error.message.split(":")[0]!.trim());
      const errors: FieldErrors = { _form: msg("rules-err-config-invalid") };
      if (target !== "_form") errors[target] = msg("rules-err-rejected");
      return { ok: false, status: 422, errors };
    }
    case "embedding_unavailable":
      return { ok: false, status: 422, errors: { _form: msg("rules-err-embedding-unavailable") } };
    default:
      return { ok: false, status: 422, errors: { _form: msg("err-save-failed") } };
  }
}

function editorPage(
  c: AuthedCtx,
  l: Loaded,
  state: EditorState,
  opts: { status?: number; notice?: string | null; error?: string | null } = {},
): Promise<Response> {
  return respond(
    c,
    page(c, {
      title: c.t("rules-editor-title", { account: accountName(l.account) }),
      section: "rules",
      notice: opts.notice ?? null,
      error: opts.error ?? null,
      body: editorBody(c, l, state),
    }),
    opts.status ?? 200,
  );
}

function ruleFormPage(
  c: AuthedCtx,
  l: Loaded,
  editing: string | null,
  values: RuleValues,
  errors: FieldErrors | null,
  status = 200,
): Promise<Response> {
  const title =
    editing === null
      ? c.t("rules-new-title", { account: accountName(l.account) })
      : c.t("rules-edit-title", { label: values.label || editing });
  return respond(
    c,
    page(c, { title, section: "rules", body: ruleFormBody(c, l, editing, values, errors) }),
    status,
  );
}

const saved = (l: Loaded, anchor: string, flag = "saved") =>
  redirect(`${base(l.account)}?${flag}=1#${anchor}`);

// ---------------------------------------------------------------------------------------------
// Pages

export async function rulesListPage(c: AuthedCtx): Promise<Response> {
  const rows = await listReplyConfigSummaries(c.env.DB, c.session.tenantId);
  return respond(c, page(c, { title: c.t("rules-list-title"), section: "rules", body: listBody(c, rows) }));
}

export async function rulesEditorPage(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const q = c.searchParams;
  const notice =
    q.get("deleted") === "1" ? c.t("rules-deleted") : q.get("saved") === "1" ? c.t("saved") : null;
  return editorPage(c, l, {}, { notice });
}

export async function newRulePage(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  return ruleFormPage(c, l, null, emptyRuleValues(), null);
}

export async function editRulePage(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const rule = l.config.rules[findRule(l, c.params.ruleId)]!;
  return ruleFormPage(c, l, rule.id, ruleValues(rule), null);
}

// ---------------------------------------------------------------------------------------------
// Changes

export async function createRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const values = readRuleValues(c.form);
  const parsed = parseRule(values, l.config, null);
  if (!parsed.ok) return ruleFormPage(c, l, null, values, parsed.errors, 422);
  const outcome = await save(c, l, { ...l.config, rules: [...l.config.rules, parsed.rule] });
  if (!outcome.ok) return ruleFormPage(c, await load(c), null, values, outcome.errors, outcome.status);
  return saved(l, `rule-${parsed.rule.id}`);
}

export async function updateRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const index = findRule(l, c.params.ruleId);
  const editing = l.config.rules[index]!.id;
  const values = readRuleValues(c.form);
  const parsed = parseRule(values, l.config, editing);
  if (!parsed.ok) return ruleFormPage(c, l, editing, values, parsed.errors, 422);
  const rules = l.config.rules.map((r, i) => (i === index ? parsed.rule : r));
  const outcome = await save(c, l, { ...l.config, rules });
  if (!outcome.ok) return ruleFormPage(c, await load(c), editing, values, outcome.errors, outcome.status);
  return saved(l, `rule-${parsed.rule.id}`);
}

export async function moveRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const index = findRule(l, c.params.ruleId);
  const direction = str(c.form, "direction");
  if (direction !== "up" && direction !== "down") {
    return editorPage(c, l, {}, { status: 422, error: c.t("rules-err-direction") });
  }
  const other = direction === "up" ? index - 1 : index + 1;
  const id = l.config.rules[index]!.id;
  // Already at the top (or bottom): nothing to change.
  if (other < 0 || other >= l.config.rules.length) return saved(l, `rule-${id}`);
  const rules = [...l.config.rules];
  [rules[index], rules[other]] = [rules[other]!, rules[index]!];
  const outcome = await save(c, l, { ...l.config, rules });
  if (!outcome.ok) return failedOnEditor(c, outcome);
  return saved(l, `rule-${id}`);
}

export async function deleteRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const index = findRule(l, c.params.ruleId);
  const outcome = await save(c, l, { ...l.config, rules: l.config.rules.filter((_, i) => i !== index) });
  if (!outcome.ok) return failedOnEditor(c, outcome);
  return saved(l, "rule-list", "deleted");
}

/** A button-only change was refused: the current editor with the reason on top. */
async function failedOnEditor(c: AuthedCtx, outcome: { status: number; errors: FieldErrors }) {
  const message = outcome.errors._form ?? msg("rules-err-config-invalid");
  return editorPage(c, await load(c), {}, { status: outcome.status, error: c.t(message) });
}

export async function saveDefaultRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const values: DefaultValues = readDefaultValues(c.form);
  const parsed = parseDefault(values);
  if (!parsed.ok) return editorPage(c, l, { defaults: { values, errors: parsed.errors } }, { status: 422 });
  const next = { ...l.config, default_rule: { ...l.config.default_rule, ...parsed.rule } };
  const outcome = await save(c, l, next);
  if (!outcome.ok) {
    return editorPage(
      c,
      await load(c),
      { defaults: { values, errors: outcome.errors } },
      { status: outcome.status },
    );
  }
  return saved(l, "default-rule");
}

export async function saveAccountSettings(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const values = readSettingsValues(c.form);
  const parsed = parseSettings(c.form);
  if (!parsed.ok) return editorPage(c, l, { settings: { values, errors: parsed.errors } }, { status: 422 });
  const outcome = await save(c, l, {
    ...l.config,
    enabled: parsed.enabled,
    wait_seconds: parsed.waitSeconds,
    ...(parsed.outsideHours ? { outside_hours: parsed.outsideHours } : {}),
  });
  if (!outcome.ok) {
    return editorPage(
      c,
      await load(c),
      { settings: { values, errors: outcome.errors } },
      { status: outcome.status },
    );
  }
  return saved(l, "account-settings");
}

// ---------------------------------------------------------------------------------------------
// The test panel: nothing is sent; only the opt-in preview spends (one credit per preview id).

/** The panel's answer: just the result region for app.js, or the whole editor without it. */
function testAnswer(
  c: AuthedCtx,
  l: Loaded,
  text: string,
  state: TestState,
  opts: { status?: number; fieldError?: string | null } = {},
): Promise<Response> {
  if (c.partial) {
    const fragment: Html = testResult(c, l, text, state);
    return respond(c, html`${fragment}`, opts.status ?? 200);
  }
  return editorPage(
    c,
    l,
    { testText: text, testError: opts.fieldError ?? null, test: state },
    { status: opts.status },
  );
}

const TEST_ERRORS: Record<string, string> = {
  invalid_text: msg("rules-test-err-empty"),
  no_rules: msg("rules-test-no-rules"),
};

const PREVIEW_ERRORS: Record<string, string> = {
  ...TEST_ERRORS,
  invalid_preview_id: msg("rules-preview-err-expired"),
  not_ai: msg("rules-preview-err-not-ai"),
  persona_not_approved: msg("rules-preview-err-persona"),
  preview_id_used: msg("rules-preview-err-used"),
  no_credits: msg("rules-preview-err-no-credits"),
  ai_unavailable: msg("rules-preview-err-ai-unavailable"),
  injection_flagged: msg("rules-preview-err-flagged"),
  ai_empty: msg("rules-preview-err-empty"),
};

/** The typed message, or the answer telling what is wrong with it. */
function checkText(
  c: AuthedCtx,
  l: Loaded,
): { ok: true; text: string } | { ok: false; res: Promise<Response> } {
  const text = str(c.form, "text");
  const checked = validate(TestTextSchema, { text });
  if (checked.ok) return { ok: true, text };
  const message = checked.errors.text ?? msg("rules-test-err-empty");
  return {
    ok: false,
    res: testAnswer(c, l, text, { kind: "error", message }, { status: 422, fieldError: message }),
  };
}

export async function testRules(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const checked = checkText(c, l);
  if (!checked.ok) return checked.res;
  const { text } = checked;
  const r = await c.env.PIPELINE.testReplyRules(c.session.tenantId, l.account.id, text);
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    return testAnswer(c, l, text, {
      kind: "error",
      message: TEST_ERRORS[r.error.code] ?? msg("rules-test-failed"),
    });
  }
  const approvedAi = r.reply.kind === "prompt" && r.reply.personaStatus === "approved";
  const balance = approvedAi ? await creditBalance(c.env.DB, c.session.tenantId) : null;
  const hours = await hoursAnswer(c, l);
  return testAnswer(c, l, text, { kind: "test", answer: r, previewId: crypto.randomUUID(), balance, hours });
}

/** Whether YYYY-MM-DD is a day of the calendar (2026-02-30 is not). */
function realDate(date: string): boolean {
  const at = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === date;
}

/** A local date and time as the panel's datetime-local field sends it. */
const LOCAL_AT = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Which applies at the chosen time (now when none, or none that reads as a local time): open, or
 * closed and what this channel does then. The same rules as the turn's (packages/rules hours.ts).
 */
async function hoursAnswer(c: AuthedCtx, l: Loaded): Promise<HoursAnswer | null> {
  const settings = await getTenantSettings(c.env.DB, c.session.tenantId);
  const hours = settings?.businessHours;
  if (!settings || !hours?.enabled) return null;
  const typed = LOCAL_AT.exec(str(c.form, "at").trim());
  let local: LocalTime;
  try {
    local =
      // A real calendar date only: 2026-02-30 would roll over into March.
      typed && realDate(typed[1]!)
        ? {
            date: typed[1]!,
            weekday: weekdayOf(typed[1]!),
            minutes: Number(typed[2]) * 60 + Number(typed[3]),
          }
        : localTime(settings.timeZone, Date.now());
  } catch {
    return null;
  }
  const state = hoursAtLocal(hours, local);
  const outside = l.config.outside_hours ?? { mode: "rules" as const };
  const hh = String(Math.floor(local.minutes / 60)).padStart(2, "0");
  const mm = String(local.minutes % 60).padStart(2, "0");
  return {
    at: `${local.date}T${hh}:${mm}`,
    open: state.open,
    applies: outside.mode,
    awayText: outside.mode === "away" ? outside.text : null,
  };
}

export async function previewReply(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const checked = checkText(c, l);
  if (!checked.ok) return checked.res;
  const { text } = checked;
  const r = await c.env.PIPELINE.previewAiReply(
    c.session.tenantId,
    l.account.id,
    text,
    str(c.form, "previewId"),
  );
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    const message = PREVIEW_ERRORS[r.error.code] ?? msg("rules-preview-err-failed");
    return testAnswer(c, l, text, { kind: "preview-error", message });
  }
  return testAnswer(c, l, text, { kind: "preview", answer: r });
}
