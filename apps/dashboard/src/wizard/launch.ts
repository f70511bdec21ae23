/**
 * Wizard step 5, launch (PRODUCT.md §4): the credit balance, automatic replies switched on per
 * connected account, and an honest summary of what the next message on each account gets. The
 * launch itself writes each account's switch, then marks the tenant launched; the wizard's gate
 * sends a launched tenant to the dashboard, so launching twice changes nothing.
 */
import { formatNumber, msg } from "@concierge/i18n";
import type { ReplyConfig } from "@concierge/rules";
import {
  type AiReplyState,
  aiReplyState,
  creditBalance,
  getPersona,
  getReplyConfig,
  launchTenant,
} from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { loadWizard, wizardPage } from "./layout.ts";
import { accountLabel, connectedAccounts } from "./replies.ts";

/** Where a launch lands: the overview, which may greet the tenant on this flag. */
export const LAUNCHED_PATH = "/admin?launched=1";

/** `version`: the stored rules' version read with `config` (0: none), so saving it back undoes no editor save. */
type Row = { id: string; label: string; config: ReplyConfig | null; version: number };

type Loaded = {
  rows: Row[];
  balance: number;
  /** Whether AI replies can go out, decided as the overview decides it. */
  ai: AiReplyState;
};

async function load(c: AuthedCtx): Promise<Loaded> {
  const tenantId = c.session.tenantId;
  const [accounts, balance, persona] = await Promise.all([
    connectedAccounts(c),
    creditBalance(c.env.DB, tenantId),
    getPersona(c.env.DB, tenantId),
  ]);
  const rows = await Promise.all(
    accounts.map(async (a) => {
      const stored = await getReplyConfig(c.env.DB, a.id);
      return {
        id: a.id,
        label: accountLabel(c, a),
        config: stored?.config ?? null,
        version: stored?.version ?? 0,
      };
    }),
  );
  const ai = aiReplyState({
    suspended: c.session.suspension !== null,
    persona: persona?.status ?? null,
    balance,
  });
  return { rows, balance, ai };
}

/** Why AI replies do not go out, in the overview's words. */
const AI_PAUSED: Record<Exclude<AiReplyState, "on" | "suspended">, string> = {
  no_persona: msg("overview-ai-off-text"),
  persona_not_approved: msg("overview-ai-paused-text"),
  no_credits: msg("overview-ai-stopped-text"),
};

/** What happens to the next message on one account, as plainly as the pipeline will act. */
function summary(c: AuthedCtx, row: Row & { config: ReplyConfig }, l: Loaded): Html {
  const { t } = c;
  const cfg = row.config;
  // A suspended account sends nothing at all, canned or AI (the overview says the same).
  if (l.ai === "suspended") {
    return html`<div class="wizard-summary" id="summary-${row.id}">
  <p class="notice error">${t("overview-ai-suspended-text")}</p>
</div>`;
  }
  // Canned replies and hand-offs cost nothing and send whatever the persona's status or the balance.
  const free = cfg.rules.filter((r) => r.response.kind !== "prompt").map((r) => r.label || r.id);
  const ai = cfg.rules.filter((r) => r.response.kind === "prompt").map((r) => r.label || r.id);
  const aiPaused = l.ai === "on" ? null : t(AI_PAUSED[l.ai]);
  const d = cfg.default_rule.response;
  const otherwise =
    d.kind !== "prompt"
      ? html`<p>${t("wizard-launch-otherwise-canned")}</p><blockquote>${d.text}</blockquote>`
      : html`<p>${t(aiPaused ? "wizard-launch-otherwise-none" : "wizard-launch-otherwise-ai")}</p>`;
  return html`<div class="wizard-summary" id="summary-${row.id}">
  ${
    free.length > 0
      ? html`<p>${t("wizard-launch-free", { count: free.length })}</p><ul>${free.map((f) => html`<li>${f}</li>`)}</ul>`
      : html`<p>${t("wizard-launch-no-free")}</p>`
  }
  ${ai.length > 0 ? html`<p>${t("wizard-launch-ai-rules", { rules: ai.join(", ") })}</p>` : null}
  ${otherwise}
  ${(d.kind === "prompt" || ai.length > 0) && aiPaused ? html`<p class="notice error">${aiPaused}</p>` : null}
  <p class="muted">${t("wizard-launch-off-note")}</p>
</div>`;
}

function accountSection(c: AuthedCtx, row: Row, l: Loaded): Html {
  const { t } = c;
  if (!row.config) {
    return html`<li class="card stack" id="account-${row.id}">
  <h3>${row.label}</h3>
  <p>${t("wizard-launch-not-set-up")}</p>
  <p><a href="/dashboard/wizard/replies">${t("wizard-launch-not-set-up-link")}</a></p>
</li>`;
  }
  const id = `f-on-${row.id}`;
  return html`<li class="card stack" id="account-${row.id}">
  <h3>${row.label}</h3>
  <input type="hidden" name="shown" value="${row.id}">
  <div class="field">
    <label class="switch" for="${id}"><input type="checkbox" id="${id}" name="on" value="${row.id}" checked> ${t("wizard-launch-auto-on")}</label>
  </div>
  ${summary(c, { ...row, config: row.config }, l)}
</li>`;
}

function body(c: AuthedCtx, l: Loaded, errors: FieldErrors | null): Html {
  const { t } = c;
  return html`<p class="muted">${t("wizard-launch-lead")}</p>
${errorSummary(c, errors)}
<section class="card" id="wizard-balance" aria-labelledby="wizard-balance-h">
  <h2 id="wizard-balance-h">${t("wizard-launch-balance-title")}</h2>
  <p class="stat">${t("wizard-launch-balance", { count: l.balance, balance: formatNumber(c.locale, l.balance) })}</p>
  <p class="muted">${t("wizard-launch-balance-text")}</p>
  <p><a href="/admin/billing">${t("wizard-launch-buy")}</a></p>
</section>
<form class="stack" method="post" action="/dashboard/wizard/launch" novalidate>
  ${csrfField(c)}
  ${
    l.rows.length === 0
      ? html`<p class="card" id="wizard-launch-no-channel">${t("wizard-launch-no-channel")}</p>`
      : html`<ul class="grid wizard-launch-accounts">${l.rows.map((r) => accountSection(c, r, l))}</ul>`
  }
  <div class="row"><button type="submit">${t("wizard-launch-submit")}</button></div>
</form>`;
}

function render(c: AuthedCtx, l: Loaded, errors: FieldErrors | null, status = 200): Promise<Response> {
  return respond(
    c,
    wizardPage(c, { step: "launch", title: c.t("wizard-launch-title"), body: body(c, l, errors) }),
    status,
  );
}

/** GET /dashboard/wizard/launch. */
export async function launchStep(c: AuthedCtx): Promise<Response> {
  return render(c, await load(c), null);
}

const AccountId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_:-]{1,100}$/, msg("wizard-launch-err-form")));
/** The accounts the page showed with a switch, and those whose switch was left on. */
const LaunchFormSchema = v.object({ shown: v.array(AccountId), on: v.array(AccountId) });

/**
 * POST /dashboard/wizard/launch: each shown account's `enabled` set to its checkbox (the rest of
 * its config as stored), then the tenant marked launched. An account connected after the page was
 * drawn was not shown, so its config is left alone.
 */
export async function launchNow(c: AuthedCtx): Promise<Response> {
  const ob = await loadWizard(c);
  // The gate already sends a launched tenant away; this keeps a second launch a no-op regardless.
  if (ob.launchedAt !== null) return redirect(LAUNCHED_PATH);
  const form = validate(LaunchFormSchema, {
    shown: c.form.getAll("shown").map(String),
    on: c.form.getAll("on").map(String),
  });
  const l = await load(c);
  if (!form.ok) return render(c, l, { _form: msg("wizard-launch-err-form") }, 422);
  const shown = new Set(form.value.shown);
  const on = new Set(form.value.on);
  for (const row of l.rows) {
    if (!row.config || !shown.has(row.id)) continue;
    const enabled = on.has(row.id);
    if (row.config.enabled === enabled) continue;
    // At the version read above: a rules save made in the editor meanwhile is never undone (stale).
    const r = await c.env.PIPELINE.saveReplyConfig(
      c.session.tenantId,
      row.id,
      { ...row.config, enabled },
      row.version,
    );
    if (!r.ok) return render(c, await load(c), { _form: msg("wizard-launch-err-save") }, 422);
  }
  await launchTenant(c.env.DB, c.session.tenantId, Date.now());
  return redirect(LAUNCHED_PATH);
}
