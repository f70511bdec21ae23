/**
 * Wizard step 2, connect channels: each connected account with its state and the WhatsApp
 * self-test result (the channels page's own cells), the connect flows started with `from=wizard`
 * so they come back here, and an email subdomain created inline. Every channel is optional:
 * Continue completes the step even with nothing connected.
 */
import { completeWizardStep, type ConnectedAccount, listConnectedAccounts } from "@concierge/storage";
import * as v from "valibot";
import { msg } from "@concierge/i18n";
import { errorSummary, type FieldErrors, field, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { selfTestCell, tokenCell, tokenStates } from "../pages/channels.ts";
import { STATE_BADGE, subdomainErrorId, subdomainFailureLine } from "../pages/email.ts";
import { channelLabel } from "../pages/rules-views.ts";
import { stepPath, wizardPage } from "./layout.ts";

/** The inline subdomain form; the pipeline decides what a good, free name is. */
export const WizardSubdomainSchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, msg("em-err-invalid_name")),
    v.maxLength(40, msg("em-err-invalid_name")),
  ),
});

/** What a connect flow reports on its way back here (`done=`), as Fluent ids. */
const NOTICES: Record<string, string> = {
  connected: msg("ch-connected"),
  again: msg("ch-already-connected"),
  whatsapp: msg("wizard-whatsapp-connected"),
  "whatsapp-again": msg("ch-already-connected"),
  "ig-connected": msg("ig-connected"),
  "ig-again": msg("ig-already-connected"),
  "email-created": msg("em-created"),
  "email-created-failed": msg("em-created-failed"),
};

type Subdomain = Awaited<ReturnType<Env["PIPELINE"]["listEmailSubdomains"]>>[number];

function accountItem(c: AuthedCtx, a: ConnectedAccount, token: Parameters<typeof tokenCell>[1]): Html {
  return html`<li class="card wizard-account" id="account-${a.id}">
  <div><strong>${a.displayName ?? a.externalId}</strong><br><span class="muted">${channelLabel(c, a.channel)} · <code>${a.externalId}</code></span></div>
  <div>${a.channel === "instagram" ? tokenCell(c, token) : selfTestCell(c, a)}</div>
</li>`;
}

function subdomainItem(c: AuthedCtx, s: Subdomain): Html {
  return html`<li class="card wizard-account" id="subdomain-${s.accountId}">
  <div><strong>*@${s.domain}</strong><br><span class="muted">${c.t("wizard-channel-email")}</span></div>
  <div><span class="badge ${STATE_BADGE[s.status]}">${c.t(`em-state-${s.status}`)}</span>${subdomainFailureLine(c, s)}</div>
</li>`;
}

async function render(
  c: AuthedCtx,
  opts: { name?: string; errors?: FieldErrors | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const tenantId = c.session.tenantId;
  const [accounts, tokens, subdomains] = await Promise.all([
    listConnectedAccounts(c.env.DB, tenantId),
    tokenStates(c.env.DB, tenantId),
    c.env.PIPELINE.listEmailSubdomains(tenantId),
  ]);
  // Email subdomains are channel accounts too; they are listed with their provisioning state.
  const others = accounts.filter((a) => a.channel !== "email");
  const nothing = others.length === 0 && subdomains.length === 0;
  const noticeId = opts.status ? undefined : NOTICES[c.searchParams.get("done") ?? ""];
  const body = html`<p class="muted">${t("wizard-channels-lead")}</p>
${
  nothing
    ? html`<p class="card muted">${t("wizard-channels-none")}</p>`
    : html`<ul class="wizard-accounts stack" aria-label="${t("wizard-channels-connected")}">
${others.map((a) => accountItem(c, a, tokens.get(a.id)))}
${subdomains.map((s) => subdomainItem(c, s))}
</ul>`
}
<section class="card stack">
<h2 class="card-h">${t("wizard-channel-whatsapp")}</h2>
<p class="muted">${t("wizard-whatsapp-lead")}</p>
<p class="row"><a class="button" href="/admin/whatsapp/connect?from=wizard">${t("ch-connect-whatsapp")}</a>
<a class="button secondary" href="/admin/whatsapp/manual?from=wizard">${t("ch-connect-manual")}</a></p>
</section>
<section class="card stack">
<h2 class="card-h">${t("wizard-channel-instagram")}</h2>
<p class="muted">${t("wizard-instagram-lead")}</p>
<p class="row"><a class="button secondary" href="/admin/instagram/connect?from=wizard">${t("ig-connect-button")}</a></p>
</section>
<section class="card stack" id="wizard-email">
<h2 class="card-h">${t("wizard-channel-email")}</h2>
${errorSummary(c, opts.errors)}
<form method="post" action="${stepPath("channels")}/email">
${csrfField(c)}
${field(c, {
  name: "name",
  label: t("em-create-name"),
  value: opts.name ?? "",
  hint: t("em-create-hint"),
  error: opts.errors?.name ?? null,
  attrs: html`autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="40"`,
})}
<div><button class="secondary" type="submit">${t("em-create-submit")}</button></div>
</form>
</section>
<form method="post" action="${stepPath("channels")}" class="wizard-next">
${csrfField(c)}
<button type="submit">${t(nothing ? "wizard-skip" : "wizard-continue")}</button>
</form>`;
  return respond(
    c,
    wizardPage(c, {
      step: "channels",
      title: t("wizard-step-channels"),
      body,
      notice: noticeId ? t(noticeId) : null,
    }),
    opts.status ?? 200,
  );
}

/** GET /dashboard/wizard/channels. */
export function channelsStep(c: AuthedCtx): Promise<Response> {
  return render(c);
}

/** POST /dashboard/wizard/channels: Continue (or Skip for now); connecting is optional. */
export async function continueChannelsStep(c: AuthedCtx): Promise<Response> {
  await completeWizardStep(c.env.DB, c.session.tenantId, 2);
  return redirect(stepPath("notifications"));
}

/** POST /dashboard/wizard/channels/email: a subdomain, provisioned by the pipeline; 422 if refused. */
export async function createEmailSubdomainStep(c: AuthedCtx): Promise<Response> {
  const name = str(c.form, "name");
  const checked = validate(WizardSubdomainSchema, { name });
  if (!checked.ok) return render(c, { name, errors: checked.errors, status: 422 });
  const r = await c.env.PIPELINE.createEmailSubdomain(c.session.tenantId, checked.value.name);
  if (!r.ok) return render(c, { name, errors: { name: subdomainErrorId(r.error.code) }, status: 422 });
  const done = r.subdomain.status === "active" ? "email-created" : "email-created-failed";
  return redirect(`${stepPath("channels")}?done=${done}#subdomain-${r.subdomain.accountId}`);
}
