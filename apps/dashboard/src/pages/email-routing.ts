import { msg } from "@concierge/i18n";
import type { EmailAction, EmailRouting, EmailRoutingRule } from "@concierge/rules";
import * as v from "valibot";
import { errorSummary, field, type FieldErrors, num, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

// The routing editor of one email subdomain: rules in priority order (the last match wins), the
// default action, and a test panel. Every change is a whole-routing save through the pipeline,
// which validates again and refuses a stale version.

type Loaded = { routing: EmailRouting; version: number; domain: string; accountId: string };
type Verified = { id: string; address: string };
type TestAnswer = Extract<Awaited<ReturnType<Env["PIPELINE"]["testEmailRouting"]>>, { ok: true }>;

const KINDS = ["drop", "reject", "forward", "relay", "auto_reply"] as const;

async function load(c: AuthedCtx): Promise<Loaded> {
  const accountId = c.params.accountId ?? "";
  const r = await c.env.PIPELINE.getEmailRouting(c.session.tenantId, accountId);
  if (!r.ok) notFound();
  return { routing: r.routing, version: r.version, domain: r.domain, accountId };
}

async function verifiedAddresses(c: AuthedCtx): Promise<Verified[]> {
  const all = await c.env.PIPELINE.listForwardAddresses(c.session.tenantId);
  return all.filter((a) => a.verifiedAt !== null).map((a) => ({ id: a.id, address: a.address }));
}

function sorted(rules: readonly EmailRoutingRule[]): EmailRoutingRule[] {
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index)
    .map((x) => x.rule);
}

function actionText(c: AuthedCtx, a: EmailAction, addresses: Verified[]): string {
  if (a.kind === "forward") {
    const to = addresses.find((x) => x.id === a.addressId)?.address ?? a.addressId;
    return c.t("er-action-forward-to", { address: to });
  }
  if (a.kind === "reject") return c.t("er-action-reject-with", { reason: a.reason });
  return c.t(`er-action-${a.kind}`);
}

function conditions(c: AuthedCtx, r: EmailRoutingRule): Html {
  const parts: string[] = [];
  if (r.when.from !== undefined) parts.push(c.t("er-when-from", { glob: r.when.from }));
  if (r.when.to !== undefined) parts.push(c.t("er-when-to", { glob: r.when.to }));
  if (r.when.subject !== undefined) parts.push(c.t("er-when-subject", { glob: r.when.subject }));
  if (r.when.body !== undefined) parts.push(c.t("er-when-body", { glob: r.when.body }));
  if (r.when.hasAttachment !== undefined) {
    parts.push(c.t(r.when.hasAttachment ? "er-when-attachment-yes" : "er-when-attachment-no"));
  }
  return html`<ul class="plain">${parts.map((p) => html`<li>${p}</li>`)}</ul>`;
}

// The rule form.

type RuleForm = {
  name: string;
  priority: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  attachment: string;
  action: string;
  reason: string;
  addressId: string;
};

function formOf(r: EmailRoutingRule | null, nextPriority: number): RuleForm {
  return {
    name: r?.name ?? "",
    priority: String(r?.priority ?? nextPriority),
    from: r?.when.from ?? "",
    to: r?.when.to ?? "",
    subject: r?.when.subject ?? "",
    body: r?.when.body ?? "",
    attachment: r?.when.hasAttachment === undefined ? "any" : r.when.hasAttachment ? "yes" : "no",
    action: r?.action.kind ?? "relay",
    reason: r?.action.kind === "reject" ? r.action.reason : "",
    addressId: r?.action.kind === "forward" ? r.action.addressId : "",
  };
}

function typedForm(form: FormData): RuleForm {
  return {
    name: str(form, "name"),
    priority: str(form, "priority"),
    from: str(form, "from"),
    to: str(form, "to"),
    subject: str(form, "subject"),
    body: str(form, "body"),
    attachment: str(form, "attachment") || "any",
    action: str(form, "action"),
    reason: str(form, "reason"),
    addressId: str(form, "addressId"),
  };
}

const Glob = v.pipe(v.string(), v.trim(), v.maxLength(200, msg("er-err-glob")));
const SINGLE_LINE = /^[^\p{Cc}\p{Zl}\p{Zp}]*$/u;

const RuleFormSchema = v.object({
  name: v.pipe(v.string(), v.trim(), v.maxLength(80, msg("er-err-name"))),
  priority: v.pipe(
    v.number(msg("er-err-priority")),
    v.integer(msg("er-err-priority")),
    v.minValue(0, msg("er-err-priority")),
    v.maxValue(10_000, msg("er-err-priority")),
  ),
  from: Glob,
  to: Glob,
  subject: Glob,
  body: Glob,
  attachment: v.picklist(["any", "yes", "no"], msg("er-err-need-condition")),
  action: v.picklist(KINDS, msg("form-has-errors")),
  reason: v.pipe(
    v.string(),
    v.trim(),
    v.maxLength(200, msg("er-err-reason")),
    v.regex(SINGLE_LINE, msg("er-err-reason")),
  ),
  addressId: v.string(),
});

/** The form as a rule, or field errors (422). Forward targets must be among `verified`. */
function ruleFromForm(
  form: FormData,
  id: string,
  verified: Verified[],
): { ok: true; rule: EmailRoutingRule } | { ok: false; errors: FieldErrors } {
  const typed = typedForm(form);
  const checked = validate(RuleFormSchema, { ...typed, priority: num(form, "priority") });
  if (!checked.ok) return checked;
  const f = checked.value;
  const when: EmailRoutingRule["when"] = {};
  if (f.from) when.from = f.from;
  if (f.to) when.to = f.to;
  if (f.subject) when.subject = f.subject;
  if (f.body) when.body = f.body;
  if (f.attachment !== "any") when.hasAttachment = f.attachment === "yes";
  if (Object.keys(when).length === 0) return { ok: false, errors: { _form: msg("er-err-need-condition") } };
  const action = actionFrom(f.action, f.reason, f.addressId, verified);
  if (!action.ok) return action;
  return { ok: true, rule: { id, name: f.name, priority: f.priority, when, action: action.action } };
}

function actionFrom(
  kind: (typeof KINDS)[number],
  reason: string,
  addressId: string,
  verified: Verified[],
): { ok: true; action: EmailAction } | { ok: false; errors: FieldErrors } {
  if (kind === "reject") {
    if (!reason) return { ok: false, errors: { reason: msg("er-err-reason") } };
    return { ok: true, action: { kind, reason } };
  }
  if (kind === "forward") {
    if (!verified.some((a) => a.id === addressId))
      return { ok: false, errors: { addressId: msg("er-err-forward") } };
    return { ok: true, action: { kind, addressId } };
  }
  return { ok: true, action: { kind } };
}

function select(
  c: AuthedCtx,
  f: { name: string; label: string; value: string; options: [string, string][]; error?: string | null },
): Html {
  const id = `f-${f.name}`;
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  <select id="${id}" name="${f.name}"${f.error ? html` aria-invalid="true" aria-describedby="${id}-err"` : null}>
  ${f.options.map(([value, label]) => html`<option value="${value}"${value === f.value ? html` selected` : null}>${label}</option>`)}
  </select>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

function actionFields(
  c: AuthedCtx,
  v: { action: string; reason: string; addressId: string },
  verified: Verified[],
  errors: FieldErrors | undefined,
): Html {
  const { t } = c;
  return html`${select(c, {
    name: "action",
    label: t("er-field-action"),
    value: v.action,
    options: KINDS.map((k) => [k, t(`er-action-${k}`)]),
  })}
${field(c, { name: "reason", label: t("er-field-reason"), value: v.reason, hint: t("er-field-reason-hint"), error: errors?.reason ?? null, attrs: html`maxlength="200"` })}
${select(c, {
  name: "addressId",
  label: t("er-field-forward"),
  value: v.addressId,
  options: verified.length ? verified.map((a) => [a.id, a.address]) : [["", t("er-forward-none")]],
  error: errors?.addressId ?? null,
})}`;
}

function ruleForm(
  c: AuthedCtx,
  opts: { action: string; version: number; values: RuleForm; verified: Verified[]; errors?: FieldErrors },
): Html {
  const { t } = c;
  const { values: f, errors } = opts;
  const glob = (name: "from" | "to" | "subject" | "body") =>
    field(c, {
      name,
      label: t(`er-field-${name}`),
      value: f[name],
      hint: t("er-glob-hint"),
      error: errors?.[name] ?? null,
      attrs: html`maxlength="200" autocomplete="off"`,
    });
  return html`${errorSummary(c, errors)}
<form method="post" action="${opts.action}">
${csrfField(c)}
<input type="hidden" name="version" value="${opts.version}">
${field(c, { name: "name", label: t("er-field-name"), value: f.name, error: errors?.name ?? null, attrs: html`maxlength="80"` })}
${field(c, { name: "priority", label: t("er-field-priority"), type: "number", value: f.priority, hint: t("er-field-priority-hint"), error: errors?.priority ?? null, attrs: html`min="0" max="10000" step="1"` })}
${glob("from")}
${glob("to")}
${glob("subject")}
${glob("body")}
${select(c, {
  name: "attachment",
  label: t("er-field-attachment"),
  value: f.attachment,
  options: [
    ["any", t("er-attachment-any")],
    ["yes", t("er-attachment-yes")],
    ["no", t("er-attachment-no")],
  ],
})}
${actionFields(c, f, opts.verified, errors)}
<div><button type="submit">${t("er-save")}</button></div>
</form>`;
}

// The editor page.

type EditorState = {
  ruleErrors?: FieldErrors;
  ruleValues?: RuleForm;
  defaultErrors?: FieldErrors;
  defaultValues?: { action: string; reason: string; addressId: string };
  test?: { answer: TestAnswer | null; error: string | null; raw: string; facts: Record<string, string> };
  error?: string | null;
  status?: number;
};

function rulesTable(c: AuthedCtx, l: Loaded, verified: Verified[]): Html {
  const { t } = c;
  const rules = sorted(l.routing.rules);
  if (rules.length === 0) return html`<p class="card muted">${t("er-empty")}</p>`;
  const base = `/admin/email/${encodeURIComponent(l.accountId)}/routing/rules`;
  return html`<div class="table-wrap card" id="routing-rules">
<table>
<caption class="sr-only">${t("er-rules-heading")}</caption>
<thead><tr><th scope="col">${t("er-col-priority")}</th><th scope="col">${t("er-col-rule")}</th><th scope="col">${t("er-col-action")}</th><th scope="col">${t("er-col-actions")}</th></tr></thead>
<tbody>
${rules.map((r, i) => {
  const url = `${base}/${encodeURIComponent(r.id)}`;
  const move = (direction: "up" | "down", label: string) =>
    html`<form class="inline" method="post" action="${url}/move">${csrfField(c)}<input type="hidden" name="version" value="${l.version}"><input type="hidden" name="direction" value="${direction}"><button class="secondary" type="submit">${label}</button></form>`;
  return html`<tr id="rule-${r.id}">
  <td>${r.priority}</td>
  <td><strong>${r.name || t("er-unnamed")}</strong>${conditions(c, r)}</td>
  <td>${actionText(c, r.action, verified)}</td>
  <td><div class="actions">
    <a class="button secondary" href="${url}">${t("er-edit")}</a>
    ${i > 0 ? move("up", t("er-move-up")) : null}
    ${i < rules.length - 1 ? move("down", t("er-move-down")) : null}
    <details class="confirm">
      <summary>${t("er-delete")}</summary>
      <form method="post" action="${url}/delete">
        ${csrfField(c)}
        <input type="hidden" name="version" value="${l.version}">
        <p>${t("er-delete-confirm", { name: r.name || t("er-unnamed") })}</p>
        <div><button class="danger" type="submit">${t("er-delete-submit")}</button></div>
      </form>
    </details>
  </div></td>
</tr>`;
})}
</tbody>
</table>
</div>`;
}

function testPanel(c: AuthedCtx, l: Loaded, verified: Verified[], s: EditorState["test"]): Html {
  const { t } = c;
  const facts = s?.facts ?? {};
  let result: Html | null = null;
  if (s?.error) result = html`<p class="notice error" role="alert">${t(s.error)}</p>`;
  else if (s?.answer) {
    const a = s.answer;
    result = html`<div class="notice" role="status" id="routing-test-result">
<p>${a.rule ? t("er-test-winner", { name: a.rule.name || a.rule.id, priority: a.rule.priority }) : t("er-test-default")}</p>
<p>${t("er-test-action", { action: actionText(c, a.action, verified) })}</p>
</div>`;
  }
  return html`<section class="card" id="routing-test">
<h2>${t("er-test-heading")}</h2>
<p class="muted">${t("er-test-lead")}</p>
${result}
<form method="post" action="/admin/email/${encodeURIComponent(l.accountId)}/routing/test">
${csrfField(c)}
<div class="field">
  <label for="f-raw">${t("er-test-raw")}</label>
  <textarea id="f-raw" name="raw" rows="6" spellcheck="false">${s?.raw ?? ""}</textarea>
</div>
<p>${t("er-test-or")}</p>
${field(c, { name: "from", label: t("er-field-from"), value: facts.from ?? "", id: "t-from" })}
${field(c, { name: "to", label: t("er-field-to"), value: facts.to ?? `hello@${l.domain}`, id: "t-to" })}
${field(c, { name: "subject", label: t("er-field-subject"), value: facts.subject ?? "", id: "t-subject" })}
<div class="field">
  <label for="t-body">${t("er-field-body")}</label>
  <textarea id="t-body" name="body" rows="3">${facts.body ?? ""}</textarea>
</div>
<div class="field"><label><input type="checkbox" name="hasAttachment" value="on"${facts.hasAttachment === "on" ? html` checked` : null}> ${t("er-test-attachment")}</label></div>
<div><button type="submit">${t("er-test-submit")}</button></div>
</form>
</section>`;
}

async function renderEditor(c: AuthedCtx, l: Loaded, s: EditorState = {}): Promise<Response> {
  const { t } = c;
  const verified = await verifiedAddresses(c);
  const base = `/admin/email/${encodeURIComponent(l.accountId)}/routing`;
  const top = sorted(l.routing.rules).at(-1)?.priority ?? 0;
  const d = l.routing.defaultAction;
  const defaults = s.defaultValues ?? {
    action: d.kind,
    reason: d.kind === "reject" ? d.reason : "",
    addressId: d.kind === "forward" ? d.addressId : "",
  };
  return respond(
    c,
    page(c, {
      title: t("er-title", { domain: l.domain }),
      section: "email",
      notice: c.searchParams.get("saved") ? t("er-saved") : null,
      error: s.error ? t(s.error) : null,
      body: html`<p class="muted">${t("er-lead")}</p>
<p class="row"><a class="button secondary" href="/admin/email">${t("er-back")}</a></p>
<h2>${t("er-rules-heading")}</h2>
${rulesTable(c, l, verified)}
<section class="card" id="default-action">
<h2>${t("er-default-heading")}</h2>
${errorSummary(c, s.defaultErrors)}
<form method="post" action="${base}/default">
${csrfField(c)}
<input type="hidden" name="version" value="${l.version}">
${actionFields(c, defaults, verified, s.defaultErrors)}
<div><button type="submit">${t("er-default-save")}</button></div>
</form>
</section>
<section class="card" id="add-rule">
<h2>${t("er-add-heading")}</h2>
${ruleForm(c, { action: `${base}/rules`, version: l.version, values: s.ruleValues ?? formOf(null, Math.min(top + 10, 10_000)), verified, errors: s.ruleErrors })}
</section>
${testPanel(c, l, verified, s.test)}`,
    }),
    s.status ?? 200,
  );
}

/** GET /admin/email/:accountId/routing */
export async function routingPage(c: AuthedCtx): Promise<Response> {
  return renderEditor(c, await load(c));
}

function versionOf(c: AuthedCtx): number {
  return num(c.form, "version");
}

/** Saves the whole routing; a stale version shows the current rules again with a notice (409). */
async function save(
  c: AuthedCtx,
  l: Loaded,
  routing: EmailRouting,
  onInvalid: (errors: FieldErrors) => EditorState,
): Promise<Response> {
  const r = await c.env.PIPELINE.saveEmailRouting(c.session.tenantId, l.accountId, routing, versionOf(c));
  if (r.ok) return redirect(`/admin/email/${encodeURIComponent(l.accountId)}/routing?saved=1`);
  if (r.error.code === "not_found") notFound();
  if (r.error.code === "stale")
    return renderEditor(c, await load(c), { error: msg("er-stale"), status: 409 });
  const errors: FieldErrors =
    r.error.code === "unverified_address"
      ? { addressId: msg("er-err-forward") }
      : { _form: msg("form-has-errors") };
  return renderEditor(c, l, { ...onInvalid(errors), status: 422 });
}

/** POST /admin/email/:accountId/routing/rules: adds a rule. */
export async function createRoutingRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const verified = await verifiedAddresses(c);
  if (l.routing.rules.length >= 100) {
    return renderEditor(c, l, {
      ruleValues: typedForm(c.form),
      ruleErrors: { _form: msg("er-err-too-many") },
      status: 422,
    });
  }
  const id = `r${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const parsed = ruleFromForm(c.form, id, verified);
  if (!parsed.ok)
    return renderEditor(c, l, { ruleValues: typedForm(c.form), ruleErrors: parsed.errors, status: 422 });
  return save(c, l, { ...l.routing, rules: [...l.routing.rules, parsed.rule] }, (errors) => ({
    ruleValues: typedForm(c.form),
    ruleErrors: errors,
  }));
}

function findRule(c: AuthedCtx, l: Loaded): EmailRoutingRule {
  const rule = l.routing.rules.find((r) => r.id === c.params.ruleId);
  if (!rule) notFound();
  return rule;
}

async function renderRuleEditor(
  c: AuthedCtx,
  l: Loaded,
  rule: EmailRoutingRule,
  opts: { values?: RuleForm; errors?: FieldErrors; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const verified = await verifiedAddresses(c);
  const base = `/admin/email/${encodeURIComponent(l.accountId)}/routing`;
  return respond(
    c,
    page(c, {
      title: t("er-edit-title"),
      section: "email",
      body: html`<p class="row"><a class="button secondary" href="${base}">${t("er-title", { domain: l.domain })}</a></p>
<section class="card">
${ruleForm(c, { action: `${base}/rules/${encodeURIComponent(rule.id)}`, version: l.version, values: opts.values ?? formOf(rule, rule.priority), verified, errors: opts.errors })}
</section>`,
    }),
    opts.status ?? 200,
  );
}

/** GET /admin/email/:accountId/routing/rules/:ruleId: the edit form. */
export async function editRoutingRulePage(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  return renderRuleEditor(c, l, findRule(c, l));
}

/** POST /admin/email/:accountId/routing/rules/:ruleId: replaces the rule, same id. */
export async function updateRoutingRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const rule = findRule(c, l);
  const parsed = ruleFromForm(c.form, rule.id, await verifiedAddresses(c));
  if (!parsed.ok)
    return renderRuleEditor(c, l, rule, { values: typedForm(c.form), errors: parsed.errors, status: 422 });
  const r = await c.env.PIPELINE.saveEmailRouting(
    c.session.tenantId,
    l.accountId,
    { ...l.routing, rules: l.routing.rules.map((x) => (x.id === rule.id ? parsed.rule : x)) },
    versionOf(c),
  );
  if (r.ok)
    return redirect(`/admin/email/${encodeURIComponent(l.accountId)}/routing?saved=1#rule-${rule.id}`);
  if (r.error.code === "stale")
    return renderEditor(c, await load(c), { error: msg("er-stale"), status: 409 });
  const errors: FieldErrors =
    r.error.code === "unverified_address"
      ? { addressId: msg("er-err-forward") }
      : { _form: msg("form-has-errors") };
  return renderRuleEditor(c, l, rule, { values: typedForm(c.form), errors, status: 422 });
}

/**
 * POST /admin/email/:accountId/routing/rules/:ruleId/move: swaps the rule with its neighbour in
 * priority order (their priorities and list places), so the order shown changes and nothing else.
 */
export async function moveRoutingRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const rule = findRule(c, l);
  const direction = str(c.form, "direction");
  if (direction !== "up" && direction !== "down") {
    return renderEditor(c, l, { error: msg("form-has-errors"), status: 422 });
  }
  const order = sorted(l.routing.rules);
  const at = order.findIndex((r) => r.id === rule.id);
  const other = order[direction === "up" ? at - 1 : at + 1];
  if (!other) return redirect(`/admin/email/${encodeURIComponent(l.accountId)}/routing`);
  const rules = [...l.routing.rules];
  const i = rules.findIndex((r) => r.id === rule.id);
  const j = rules.findIndex((r) => r.id === other.id);
  rules[i] = { ...other, priority: rule.priority };
  rules[j] = { ...rule, priority: other.priority };
  return save(c, l, { ...l.routing, rules }, (errors) => ({ error: errors._form ?? null }));
}

/** POST /admin/email/:accountId/routing/rules/:ruleId/delete */
export async function deleteRoutingRule(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const rule = findRule(c, l);
  return save(c, l, { ...l.routing, rules: l.routing.rules.filter((r) => r.id !== rule.id) }, (errors) => ({
    error: errors._form ?? null,
  }));
}

/** POST /admin/email/:accountId/routing/default: the action when no rule matches. */
export async function saveDefaultAction(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const values = {
    action: str(c.form, "action"),
    reason: str(c.form, "reason").trim(),
    addressId: str(c.form, "addressId"),
  };
  const kind = KINDS.find((k) => k === values.action);
  if (!kind)
    return renderEditor(c, l, {
      defaultValues: values,
      defaultErrors: { _form: msg("form-has-errors") },
      status: 422,
    });
  if (values.reason.length > 200 || !SINGLE_LINE.test(values.reason)) {
    return renderEditor(c, l, {
      defaultValues: values,
      defaultErrors: { reason: msg("er-err-reason") },
      status: 422,
    });
  }
  const action = actionFrom(kind, values.reason, values.addressId, await verifiedAddresses(c));
  if (!action.ok)
    return renderEditor(c, l, { defaultValues: values, defaultErrors: action.errors, status: 422 });
  return save(c, l, { ...l.routing, defaultAction: action.action }, (errors) => ({
    defaultValues: values,
    defaultErrors: errors,
  }));
}

/** POST /admin/email/:accountId/routing/test: which rule wins for a pasted or typed message. */
export async function testRoutingForm(c: AuthedCtx): Promise<Response> {
  const l = await load(c);
  const raw = str(c.form, "raw");
  const facts = {
    from: str(c.form, "from").trim(),
    to: str(c.form, "to").trim(),
    subject: str(c.form, "subject"),
    body: str(c.form, "body"),
    hasAttachment: str(c.form, "hasAttachment"),
  };
  const input = raw.trim()
    ? { raw }
    : {
        from: facts.from,
        to: facts.to,
        subject: facts.subject,
        body: facts.body,
        hasAttachment: facts.hasAttachment === "on",
      };
  const r = await c.env.PIPELINE.testEmailRouting(c.session.tenantId, l.accountId, input);
  if (!r.ok) {
    if (r.error.code === "not_found") notFound();
    const known = ["too_large", "invalid_email", "invalid_facts"];
    const error = known.includes(r.error.code) ? msg(`er-test-err-${r.error.code}`) : msg("form-has-errors");
    return renderEditor(c, l, { test: { answer: null, error, raw, facts }, status: 422 });
  }
  return renderEditor(c, l, { test: { answer: r, error: null, raw, facts } });
}
