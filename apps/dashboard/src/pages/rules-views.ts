import { formatNumber, msg } from "@concierge/i18n";
import type { OutsideHours, ReplyConfig, ReplyRule, RuleResponse } from "@concierge/rules";
import type { ChannelAccount, ReplyConfigSummary } from "@concierge/storage";
import { errorSummary, type FieldErrors, field, textarea as textField } from "../forms.ts";
import { type Html, html } from "../html.ts";
import type { AuthedCtx, Ctx } from "../http.ts";
import { csrfField } from "../layout.ts";
import { type DefaultValues, MAX_TEST_TEXT, type RuleValues, type SettingsValues } from "./rules-forms.ts";

/** What the editor knows about the account it edits. */
export type Loaded = {
  account: ChannelAccount;
  config: ReplyConfig;
  /** A reply config has been saved for this account (otherwise `config` is the starter). */
  exists: boolean;
  /** The stored rules' version (0: nothing saved yet), carried by every form of the editor. */
  version: number;
};

type Via = "keyword" | "embedding" | "default";
type PersonaStatus = "pending" | "approved" | "rejected" | "needs_review";

/** The parts of the pipeline's `testReplyRules` answer the panel shows. */
export type TestAnswer = {
  ruleId: string;
  label: string;
  via: Via;
  score: number | null;
  /** When the default answered: the intent rule the message came closest to, below its threshold. */
  closest: { ruleId: string; label: string; score: number; threshold: number } | null;
  reply:
    | { kind: "canned"; text: string }
    | { kind: "handoff"; text: string }
    | { kind: "prompt"; envelope: string; personaStatus: PersonaStatus | null };
};

/** The parts of the pipeline's `previewAiReply` answer the panel shows. */
export type PreviewAnswer = {
  ruleId: string;
  label: string;
  via: Via;
  score: number | null;
  reply: string;
  handoff: boolean;
  hold: string[] | null;
  balance: number;
};

/** What the test panel shows under its form. */
export type TestState =
  | { kind: "none" }
  /** A message id: the text was refused, or the pipeline could not test. */
  | { kind: "error"; message: string }
  /** `previewId` is fresh for this rendering: one click of the preview button, one credit. */
  | {
      kind: "test";
      answer: TestAnswer;
      previewId: string;
      balance: number | null;
      hours?: HoursAnswer | null;
    }
  | { kind: "preview"; answer: PreviewAnswer }
  | { kind: "preview-error"; message: string };

/**
 * Business hours at the time the panel was asked about (local, in the tenant's zone): open, or
 * closed and what this channel does then. Null: the tenant has no business hours on.
 */
export type HoursAnswer = {
  at: string;
  open: boolean;
  applies: OutsideHours["mode"];
  awayText: string | null;
};

export const base = (a: ChannelAccount) =>
  `/admin/rules/${encodeURIComponent(a.channel)}/${encodeURIComponent(a.id)}`;

const CHANNEL_LABEL: Record<string, string> = {
  whatsapp: msg("rules-channel-whatsapp"),
  instagram: msg("rules-channel-instagram"),
  email: msg("rules-channel-email"),
  discord: msg("rules-channel-discord"),
};

export function channelLabel(c: Ctx, channel: string): string {
  const id = CHANNEL_LABEL[channel];
  return id ? c.t(id) : channel;
}

export function accountName(a: ChannelAccount): string {
  return a.displayName?.trim() || a.externalId;
}

const ariaFor = (id: string, hint: unknown, error: string | null | undefined, invalid = true) => {
  const described = [hint ? `${id}-hint` : null, error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`${described ? html` aria-describedby="${described}"` : null}${
    error && invalid ? html` aria-invalid="true"` : null
  }`;
};

function textarea(
  c: Ctx,
  f: {
    name: string;
    id: string;
    label: string;
    value: string;
    hint?: Html | string | null;
    error?: string | null;
    attrs?: Html;
  },
): Html {
  return html`<div class="field">
  <label for="${f.id}">${f.label}</label>
  ${f.hint ? html`<span class="hint" id="${f.id}-hint">${f.hint}</span>` : null}
  <textarea id="${f.id}" name="${f.name}"${ariaFor(f.id, f.hint, f.error)} ${f.attrs ?? null}>${f.value}</textarea>
  ${f.error ? html`<span class="err" id="${f.id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

function radios(
  c: Ctx,
  f: {
    name: string;
    id: string;
    legend: string;
    value: string;
    options: { value: string; label: string }[];
    hint?: string | null;
    error?: string | null;
  },
): Html {
  return html`<fieldset class="field"${ariaFor(f.id, f.hint, f.error, false)}>
  <legend>${f.legend}</legend>
  ${f.hint ? html`<span class="hint" id="${f.id}-hint">${f.hint}</span>` : null}
  <div class="choices">
  ${f.options.map(
    (o) =>
      html`<label><input type="radio" name="${f.name}" value="${o.value}"${o.value === f.value ? html` checked` : null}> ${o.label}</label>`,
  )}
  </div>
  ${f.error ? html`<span class="err" id="${f.id}-err">${c.t(f.error)}</span>` : null}
</fieldset>`;
}

const versionField = (l: Loaded) => html`<input type="hidden" name="version" value="${l.version}">`;

function preview(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function approvalText(c: Ctx, approval: string): string {
  return c.t(approval === "always" ? "rules-approval-always" : "rules-approval-auto");
}

// ---------------------------------------------------------------------------------------------
// The list of accounts

export function listBody(c: AuthedCtx, rows: ReplyConfigSummary[]): Html {
  const { t } = c;
  if (rows.length === 0) {
    return html`<p class="muted">${t("rules-list-lead")}</p>
<div class="card" id="rules-accounts"><p>${t("rules-list-empty")}</p></div>`;
  }
  return html`<p class="muted">${t("rules-list-lead")}</p>
<div class="table-wrap card" id="rules-accounts">
<table>
<caption class="sr-only">${t("rules-list-caption")}</caption>
<thead><tr><th scope="col">${t("rules-list-account")}</th><th scope="col">${t("rules-list-state")}</th><th scope="col" class="num">${t(
    "rules-list-count",
  )}</th></tr></thead>
<tbody>
${rows.map(
  (r) => html`<tr>
  <td class="account"><a href="${base(r)}">${accountName(r)}</a>${
    r.status === "disabled" ? html` <span class="badge danger">${t("rules-account-disabled")}</span>` : null
  }<br><span class="muted">${channelLabel(c, r.channel)}</span></td>
  <td>${stateBadge(c, r.configured, r.enabled)}</td>
  <td class="num">${formatNumber(c.locale, r.ruleCount)}</td>
</tr>`,
)}
</tbody>
</table>
</div>`;
}

function stateBadge(c: Ctx, configured: boolean, enabled: boolean): Html {
  if (!configured) return html`<span class="badge">${c.t("rules-state-not-set-up")}</span>`;
  return enabled
    ? html`<span class="badge ok">${c.t("rules-state-on")}</span>`
    : html`<span class="badge warn">${c.t("rules-state-off")}</span>`;
}

// ---------------------------------------------------------------------------------------------
// The editor

export type EditorState = {
  settings?: { values: SettingsValues; errors: FieldErrors | null };
  defaults?: { values: DefaultValues; errors: FieldErrors | null };
  testText?: string;
  testError?: string | null;
  test?: TestState;
};

export function editorBody(c: AuthedCtx, l: Loaded, state: EditorState): Html {
  const { t } = c;
  const b = base(l.account);
  return html`
<p><a href="/admin/rules">${t("rules-back-to-list")}</a></p>
<p class="row">
  <span class="badge">${channelLabel(c, l.account.channel)}</span>
  ${stateBadge(c, l.exists, l.config.enabled)}
</p>
${l.exists ? null : html`<p class="notice" role="note">${t("rules-not-saved-yet")}</p>`}
<section aria-labelledby="rules-heading">
  <h2 id="rules-heading">${t("rules-rules-heading")}</h2>
  <p class="muted">${t("rules-rules-lead")}</p>
  ${ruleList(c, l)}
  <p><a class="button" href="${b}/new-rule">${t("rules-new-rule")}</a></p>
</section>
${defaultSection(c, l, state.defaults)}
${settingsSection(c, l, state.settings)}
${testPanel(c, l, state.testText ?? "", state.testError ?? null, state.test ?? { kind: "none" })}`;
}

function matcherFacts(c: Ctx, rule: ReplyRule): Html {
  const m = rule.matcher;
  if (m.kind === "static_text") {
    return html`<dt>${c.t("rules-fact-keywords")}</dt>
<dd><span class="chips">${m.keywords.map((k) => html`<span class="badge">${k}</span>`)}</span></dd>`;
  }
  return html`<dt>${c.t("rules-fact-intent")}</dt>
<dd>${m.description} <span class="muted">(${c.t("rules-fact-threshold", {
    threshold: formatNumber(c.locale, m.threshold),
  })})</span></dd>`;
}

const RESPONSE_FACT: Record<RuleResponse["kind"], string> = {
  canned: msg("rules-fact-canned"),
  prompt: msg("rules-fact-ai"),
  handoff: msg("rules-fact-handoff"),
};

function responseFacts(c: Ctx, response: RuleResponse, approval: string): Html {
  return html`<dt>${c.t(RESPONSE_FACT[response.kind])}</dt>
<dd>${preview(response.text)}</dd>
${response.kind === "prompt" ? html`<dt>${c.t("rules-fact-approval")}</dt><dd>${approvalText(c, approval)}</dd>` : null}`;
}

function ruleList(c: AuthedCtx, l: Loaded): Html {
  const { t } = c;
  const rules = l.config.rules;
  if (rules.length === 0) return html`<div id="rule-list"><p class="card muted">${t("rules-none")}</p></div>`;
  const b = base(l.account);
  return html`<div id="rule-list"><ol class="rule-list">
${rules.map((rule, i) => {
  const titleId = `rule-${rule.id}-title`;
  const path = `${b}/rules/${encodeURIComponent(rule.id)}`;
  const move = (direction: "up" | "down", label: string) =>
    html`<form class="inline" method="post" action="${path}/move">${csrfField(c)}${versionField(l)}<input type="hidden" name="direction" value="${direction}"><button class="secondary" type="submit" aria-describedby="${titleId}">${label}</button></form>`;
  return html`<li class="card" id="rule-${rule.id}" aria-labelledby="${titleId}">
  <div class="rule-head"><h3 id="${titleId}">${formatNumber(c.locale, i + 1)}. ${rule.label || rule.id}</h3> <code>${rule.id}</code></div>
  <dl class="facts">
    ${matcherFacts(c, rule)}
    ${responseFacts(c, rule.response, rule.approval)}
  </dl>
  <div class="actions">
    <a class="button secondary" href="${path}" aria-describedby="${titleId}">${t("rules-edit")}</a>
    ${i > 0 ? move("up", t("rules-move-up")) : null}
    ${i < rules.length - 1 ? move("down", t("rules-move-down")) : null}
    <details class="confirm">
      <summary aria-describedby="${titleId}">${t("rules-delete")}</summary>
      <form method="post" action="${path}/delete">
        ${csrfField(c)}${versionField(l)}
        <p>${t("rules-delete-confirm", { label: rule.label || rule.id })}</p>
        <div><button class="danger" type="submit">${t("rules-delete-submit")}</button></div>
      </form>
    </details>
  </div>
</li>`;
})}
</ol></div>`;
}

function responseFields(c: Ctx, prefix: string, values: DefaultValues, errors: FieldErrors | null): Html {
  const { t } = c;
  return html`${radios(c, {
    name: "responseKind",
    id: `${prefix}-response-kind`,
    legend: t("rules-form-response-kind"),
    value: values.responseKind,
    options: [
      { value: "canned", label: t("rules-form-response-canned") },
      { value: "prompt", label: t("rules-form-response-ai") },
      { value: "handoff", label: t("rules-form-response-handoff") },
    ],
    error: errors?.responseKind ?? null,
  })}
${textarea(c, {
  name: "responseText",
  id: `${prefix}-response-text`,
  label: t("rules-form-response-text"),
  value: values.responseText,
  hint: html`<span class="when-canned">${t("rules-form-response-text-canned-hint")}</span> <span class="when-ai">${t(
    "rules-form-response-text-ai-hint",
  )}</span> <span class="when-handoff">${t("rules-form-response-text-handoff-hint")}</span>`,
  error: errors?.responseText ?? null,
  attrs: html`required maxlength="4096" rows="4"`,
})}
<div class="when-ai">${radios(c, {
    name: "approval",
    id: `${prefix}-approval`,
    legend: t("rules-form-approval"),
    hint: t("rules-form-approval-hint"),
    value: values.approval,
    options: [
      { value: "auto", label: t("rules-approval-auto") },
      { value: "always", label: t("rules-approval-always") },
    ],
    error: errors?.approval ?? null,
  })}</div>`;
}

function defaultSection(
  c: AuthedCtx,
  l: Loaded,
  form: { values: DefaultValues; errors: FieldErrors | null } | undefined,
): Html {
  const { t } = c;
  const d = l.config.default_rule;
  const values = form?.values ?? {
    responseKind: d.response.kind,
    responseText: d.response.text,
    approval: d.approval,
  };
  const errors = form?.errors ?? null;
  return html`<section id="default-rule" aria-labelledby="default-heading">
  <h2 id="default-heading">${t("rules-default-title")}</h2>
  <p class="muted">${t("rules-default-lead")}</p>
  ${errorSummary(c, errors)}
  <form class="card stack" method="post" action="${base(l.account)}/default" novalidate>
    ${csrfField(c)}${versionField(l)}
    ${responseFields(c, "default", values, errors)}
    <div><button type="submit">${t("rules-default-save")}</button></div>
  </form>
</section>`;
}

const OUTSIDE_LABELS = {
  rules: msg("rules-settings-outside-rules"),
  away: msg("rules-settings-outside-away"),
  silence: msg("rules-settings-outside-silence"),
} as const;

function settingsSection(
  c: AuthedCtx,
  l: Loaded,
  form: { values: SettingsValues; errors: FieldErrors | null } | undefined,
): Html {
  const { t } = c;
  const outside = l.config.outside_hours ?? { mode: "rules" };
  const values = form?.values ?? {
    enabled: l.config.enabled,
    waitSeconds: String(l.config.wait_seconds),
    outsideMode: outside.mode,
    awayText: outside.mode === "away" ? outside.text : "",
  };
  const modes = ["rules", "away", "silence"] as const;
  const errors = form?.errors ?? null;
  return html`<section id="account-settings" aria-labelledby="settings-heading">
  <h2 id="settings-heading">${t("rules-settings-title")}</h2>
  ${errorSummary(c, errors)}
  <form class="card stack" method="post" action="${base(l.account)}/settings" novalidate>
    ${csrfField(c)}${versionField(l)}
    <div class="field">
      <label class="switch" for="f-enabled"><input type="checkbox" id="f-enabled" name="enabled"${
        values.enabled ? html` checked` : null
      } aria-describedby="f-enabled-hint"> ${t("rules-settings-enabled")}</label>
      <span class="hint" id="f-enabled-hint">${t("rules-settings-enabled-hint")}</span>
    </div>
    ${field(c, {
      name: "waitSeconds",
      label: t("rules-settings-wait"),
      hint: t("rules-settings-wait-hint"),
      type: "number",
      value: values.waitSeconds,
      error: errors?.waitSeconds ?? null,
      attrs: html`min="0" max="30" step="1" required inputmode="numeric"`,
    })}
    <fieldset class="stack" id="outside-hours"${errors?.outsideMode ? html` aria-invalid="true"` : null}>
      <legend>${t("rules-settings-outside")}</legend>
      <span class="hint">${t("rules-settings-outside-hint")} <a href="/admin/hours">${t("rules-settings-outside-hours")}</a></span>
      ${modes.map(
        (m) =>
          html`<label class="radio"><input type="radio" name="outsideMode" value="${m}"${
            (values.outsideMode || "rules") === m ? html` checked` : null
          }> ${t(OUTSIDE_LABELS[m])}</label>`,
      )}
      ${errors?.outsideMode ? html`<span class="err">${t(errors.outsideMode)}</span>` : null}
      ${textField(c, {
        name: "awayText",
        label: t("rules-settings-away"),
        hint: t("rules-settings-away-hint"),
        value: values.awayText,
        rows: 3,
        error: errors?.awayText ?? null,
        attrs: html`maxlength="1000"`,
      })}
    </fieldset>
    <div><button type="submit">${t("rules-settings-save")}</button></div>
  </form>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// The rule form (new and edit)

export function ruleFormBody(
  c: AuthedCtx,
  l: Loaded,
  editing: string | null,
  values: RuleValues,
  errors: FieldErrors | null,
): Html {
  const { t } = c;
  const b = base(l.account);
  const action = editing === null ? `${b}/rules` : `${b}/rules/${encodeURIComponent(editing)}`;
  return html`
<p><a href="${b}">${t("rules-back-to-editor", { account: accountName(l.account) })}</a></p>
${errorSummary(c, errors)}
<form id="rule-form" class="card stack rule-form" method="post" action="${action}" novalidate>
  ${csrfField(c)}${versionField(l)}
  ${field(c, {
    name: "label",
    label: t("rules-form-label"),
    hint: t("rules-form-label-hint"),
    value: values.label,
    error: errors?.label ?? null,
    attrs: html`required maxlength="100"`,
  })}
  ${field(c, {
    name: "id",
    label: t("rules-form-id"),
    hint: t("rules-form-id-hint"),
    value: values.id,
    error: errors?.id ?? null,
    attrs: html`maxlength="64" pattern="[a-z0-9][a-z0-9_\\-]*" autocapitalize="none" spellcheck="false"`,
  })}
  ${radios(c, {
    name: "matcherKind",
    id: "f-matcher-kind",
    legend: t("rules-form-matcher-kind"),
    value: values.matcherKind,
    options: [
      { value: "static_text", label: t("rules-form-matcher-keywords") },
      { value: "prompt", label: t("rules-form-matcher-intent") },
    ],
    error: errors?.matcherKind ?? null,
  })}
  <div class="when-keywords">
  ${textarea(c, {
    name: "keywords",
    id: "f-keywords",
    label: t("rules-form-keywords"),
    hint: t("rules-form-keywords-hint"),
    value: values.keywords,
    error: errors?.keywords ?? null,
    attrs: html`rows="3"`,
  })}
  </div>
  <div class="when-intent">
  ${textarea(c, {
    name: "description",
    id: "f-description",
    label: t("rules-form-description"),
    hint: t("rules-form-description-hint"),
    value: values.description,
    error: errors?.description ?? null,
    attrs: html`rows="3" maxlength="500"`,
  })}
  ${field(c, {
    name: "threshold",
    label: t("rules-form-threshold"),
    hint: t("rules-form-threshold-hint"),
    type: "number",
    value: values.threshold,
    error: errors?.threshold ?? null,
    attrs: html`min="0.5" max="0.95" step="0.01" inputmode="decimal"`,
  })}
  </div>
  ${responseFields(c, "rule", values, errors)}
  <div class="row">
    <button type="submit">${t(editing === null ? "rules-form-add" : "rules-form-save")}</button>
    <a class="button secondary" href="${b}">${t("rules-form-cancel")}</a>
  </div>
</form>`;
}

// ---------------------------------------------------------------------------------------------
// The test panel

export function testPanel(
  c: AuthedCtx,
  l: Loaded,
  text: string,
  error: string | null,
  state: TestState,
): Html {
  const { t } = c;
  return html`<section id="test-panel" class="card" aria-labelledby="test-heading">
  <h2 id="test-heading">${t("rules-test-title")}</h2>
  <p class="muted">${t("rules-test-lead")}</p>
  <form class="stack" method="post" action="${base(l.account)}/test" data-target="#test-result" novalidate>
    ${csrfField(c)}
    ${textarea(c, {
      name: "text",
      id: "f-test-text",
      label: t("rules-test-text"),
      value: text,
      error,
      attrs: html`required maxlength="${MAX_TEST_TEXT}" rows="3"`,
    })}
    <div class="field">
      <label for="f-test-at">${t("rules-test-at")}</label>
      <span class="hint" id="f-test-at-hint">${t("rules-test-at-hint")}</span>
      <input type="datetime-local" id="f-test-at" name="at" step="60" value="${
        state.kind === "test" && state.hours ? state.hours.at : ""
      }" aria-describedby="f-test-at-hint">
    </div>
    <div><button type="submit">${t("rules-test-submit")}</button></div>
  </form>
  ${testResult(c, l, text, state)}
</section>`;
}

function viaText(
  c: Ctx,
  l: Loaded,
  a: { ruleId: string; via: Via; score: number | null; closest?: TestAnswer["closest"] },
): string {
  if (a.via === "keyword") return c.t("rules-via-keyword");
  if (a.via === "default") {
    // Why nothing matched: the nearest intent and how far below its threshold it scored, so the
    // owner can reword the intent or lower the threshold (issue 19 item 10).
    const near = a.closest;
    return near
      ? c.t("rules-via-default-closest", {
          rule: near.label || near.ruleId,
          score: formatNumber(c.locale, near.score),
          threshold: formatNumber(c.locale, near.threshold),
        })
      : c.t("rules-via-default");
  }
  const rule = l.config.rules.find((r) => r.id === a.ruleId);
  const threshold = rule?.matcher.kind === "prompt" ? rule.matcher.threshold : null;
  const score = formatNumber(c.locale, a.score ?? 0);
  return threshold === null
    ? c.t("rules-via-embedding", { score })
    : c.t("rules-via-embedding-threshold", { score, threshold: formatNumber(c.locale, threshold) });
}

function matchedLine(
  c: Ctx,
  l: Loaded,
  a: { ruleId: string; label: string; via: Via; score: number | null; closest?: TestAnswer["closest"] },
): Html {
  const name = a.via === "default" ? c.t("rules-default-title") : a.label || a.ruleId;
  return html`<p>${c.t("rules-test-matched")} <strong>${name}</strong> <code>${a.ruleId}</code></p>
<p class="muted" data-via="${a.via}">${viaText(c, l, a)}</p>`;
}

const PERSONA_STATUS: Record<string, string> = {
  approved: msg("rules-persona-approved"),
  pending: msg("rules-persona-pending"),
  rejected: msg("rules-persona-rejected"),
  needs_review: msg("rules-persona-needs-review"),
};

const HOLD_REASON: Record<string, string> = {
  approval_always: msg("rules-hold-always"),
  too_short: msg("rules-hold-too-short"),
  too_long: msg("rules-hold-too-long"),
  money: msg("rules-hold-money"),
  commitment: msg("rules-hold-commitment"),
  off_topic: msg("rules-hold-off-topic"),
};

/** The result region; `#test-result` is what app.js swaps in place. */
const HOURS_APPLIES: Record<OutsideHours["mode"], string> = {
  rules: msg("rules-test-hours-closed-rules"),
  away: msg("rules-test-hours-closed-away"),
  silence: msg("rules-test-hours-closed-silence"),
};

export function testResult(c: AuthedCtx, l: Loaded, text: string, state: TestState): Html {
  const { t } = c;
  const off = !l.config.enabled ? html`<p class="notice error">${t("rules-test-auto-reply-off")}</p>` : null;
  switch (state.kind) {
    case "none":
      return html`<div id="test-result" aria-live="polite"></div>`;
    case "error":
    case "preview-error":
      return html`<div id="test-result" aria-live="polite"><p class="notice error" role="alert">${t(state.message)}</p></div>`;
    case "test": {
      const a = state.answer;
      let reply: Html;
      if (a.reply.kind === "canned") {
        reply = html`<p>${t("rules-test-canned")}</p><blockquote>${a.reply.text}</blockquote>`;
      } else if (a.reply.kind === "handoff") {
        reply = html`<p>${t("rules-test-handoff")}</p><blockquote>${a.reply.text}</blockquote>`;
      } else {
        const status = a.reply.personaStatus;
        const approved = status === "approved";
        reply = html`<p>${t("rules-test-ai")}</p>
<pre tabindex="0" role="region" aria-label="${t("rules-test-envelope")}">${a.reply.envelope}</pre>
<p class="${approved ? "notice" : "notice error"}">${t(status ? PERSONA_STATUS[status]! : "rules-persona-none")}${
          approved ? null : html` <a href="/admin/persona">${t("rules-persona-link")}</a>`
        }</p>
${
  approved
    ? html`<form method="post" action="${base(l.account)}/preview" data-target="#test-result" class="stack">
  ${csrfField(c)}
  <input type="hidden" name="text" value="${text}">
  <input type="hidden" name="previewId" value="${state.previewId}">
  ${state.balance === null ? null : html`<p class="muted">${t("rules-preview-balance", { balance: formatNumber(c.locale, state.balance), count: state.balance })}</p>`}
  <div><button class="secondary" type="submit">${t("rules-preview-submit")}</button></div>
</form>`
    : null
}`;
      }
      const hours = state.hours;
      const when = hours ? hours.at.replace("T", " ") : "";
      const hoursLine = !hours
        ? null
        : hours.open
          ? html`<p class="notice" id="test-hours">${t("rules-test-hours-open", { when })}</p>`
          : html`<p class="notice" id="test-hours">${t(HOURS_APPLIES[hours.applies], { when })}</p>${
              hours.applies === "away" && hours.awayText
                ? html`<blockquote>${hours.awayText}</blockquote>`
                : null
            }`;
      return html`<div id="test-result" aria-live="polite">
<h3>${t("rules-test-result")}</h3>
${off}
${hoursLine}
${matchedLine(c, l, a)}
${reply}
<p class="muted">${t("rules-test-nothing-sent")}</p>
</div>`;
    }
    case "preview": {
      const a = state.answer;
      return html`<div id="test-result" aria-live="polite">
<h3>${t("rules-preview-result")}</h3>
${off}
${matchedLine(c, l, a)}
<p>${t("rules-preview-reply")}</p>
<blockquote>${a.reply}</blockquote>
${a.handoff ? html`<p class="notice">${t("rules-preview-handoff")}</p>` : null}
${
  a.hold?.length
    ? html`<p>${t("rules-preview-held")}</p><ul>${a.hold.map((r) => html`<li>${t(HOLD_REASON[r] ?? "rules-hold-other")}</li>`)}</ul>`
    : html`<p>${t("rules-preview-would-send")}</p>`
}
<p><strong>${t("rules-preview-balance-after", { balance: formatNumber(c.locale, a.balance) })}</strong></p>
<p class="muted">${t("rules-preview-nothing-sent")}</p>
</div>`;
    }
  }
}
