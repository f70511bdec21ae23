/**
 * Wizard step 3, notifications: where approvals and handoffs reach the tenant (the Discord inbox
 * and/or an email address verified by a link), how often (at once or batched), and the summary
 * digest. The address must be verified before it is saved (the pipeline refuses it otherwise:
 * `email_unverified`); the page's second button mails the link, as the forward addresses do.
 */
import { DIGEST_CADENCES, NOTIFY_CADENCES } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { completeWizardStep, getDiscordInstall, getTenantSettings } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { addressErrorId } from "../pages/email.ts";
import { loadWizard, stepPath, wizardPage } from "./layout.ts";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The step's form: an optional address, a notice cadence and a digest cadence. */
export const NotificationsStepSchema = v.object({
  email: v.pipe(
    v.string(),
    v.trim(),
    v.toLowerCase(),
    v.maxLength(254, msg("wizard-err-email")),
    v.check((s) => s === "" || EMAIL.test(s), msg("wizard-err-email")),
  ),
  cadence: v.picklist(NOTIFY_CADENCES, msg("wizard-err-cadence")),
  digest: v.picklist(DIGEST_CADENCES, msg("wizard-err-digest")),
});

/** "Send a verification link" needs an address. */
export const VerifyEmailSchema = v.object({
  email: v.pipe(
    v.string(),
    v.trim(),
    v.toLowerCase(),
    v.minLength(1, msg("wizard-err-email-needed")),
    v.maxLength(254, msg("wizard-err-email")),
    v.check((s) => EMAIL.test(s), msg("wizard-err-email")),
  ),
});

type Typed = { email: string; cadence: string; digest: string };
type AddressState = "verified" | "pending" | "none";

/** Refusals of setNotifications, by the field they are about. */
const SAVE_ERRORS: Record<string, { field: string; message: string }> = {
  email_unverified: { field: "email", message: msg("wizard-err-email-unverified") },
  invalid_email: { field: "email", message: msg("wizard-err-email") },
  invalid_cadence: { field: "cadence", message: msg("wizard-err-cadence") },
};

type ForwardAddress = Awaited<ReturnType<Env["PIPELINE"]["listForwardAddresses"]>>[number];

function findAddress(list: ForwardAddress[], email: string): ForwardAddress | undefined {
  const wanted = email.trim().toLowerCase();
  return list.find((a) => a.address.toLowerCase() === wanted);
}

async function addressState(c: AuthedCtx, email: string): Promise<AddressState> {
  if (!email.trim()) return "none";
  const found = findAddress(await c.env.PIPELINE.listForwardAddresses(c.session.tenantId), email);
  if (!found) return "none";
  return found.verifiedAt !== null ? "verified" : "pending";
}

function radios(
  c: AuthedCtx,
  opts: {
    name: string;
    legend: string;
    values: readonly string[];
    chosen: string;
    error?: string | undefined;
  },
): Html {
  const errId = `f-${opts.name}-err`;
  return html`<fieldset class="field wizard-choices"${opts.error ? html` aria-describedby="${errId}"` : null}>
  <legend>${opts.legend}</legend>
  ${opts.values.map(
    (value) =>
      html`<label><input type="radio" name="${opts.name}" value="${value}"${value === opts.chosen ? html` checked` : null}> ${c.t(`wizard-${opts.name}-${value}`)}</label>`,
  )}
  ${opts.error ? html`<span class="err" id="${errId}">${c.t(opts.error)}</span>` : null}
</fieldset>`;
}

async function discordSection(c: AuthedCtx): Promise<Html> {
  const { t } = c;
  const install = await getDiscordInstall(c.env.DB, c.session.tenantId);
  const state = install
    ? html`<p><span class="badge ok">✓ ${t("wizard-discord-installed")}</span> ${t("discord-installed-in", {
        guild: install.guildName ?? install.guildId,
      })}</p>`
    : html`<p><span class="badge">${t("wizard-discord-not-installed")}</span></p>`;
  const action = !c.env.DISCORD_CLIENT_ID
    ? html`<p class="muted">${t("discord-unconfigured")}</p>`
    : install
      ? null
      : html`<p><a class="button secondary" href="/admin/discord/install?from=wizard">${t("discord-add")}</a></p>`;
  return html`<section class="card stack" id="wizard-discord">
<h2 class="card-h">${t("wizard-discord-heading")}</h2>
<p class="muted">${t("wizard-discord-lead")}</p>
${state}
${action}
</section>`;
}

async function render(
  c: AuthedCtx,
  typed: Typed,
  opts: { errors?: FieldErrors | null; notice?: string | null; status?: number } = {},
): Promise<Response> {
  const { t } = c;
  const [discord, state] = await Promise.all([discordSection(c), addressState(c, typed.email)]);
  const emailHint =
    state === "verified"
      ? t("wizard-email-verified")
      : state === "pending"
        ? t("wizard-email-pending")
        : t("wizard-email-hint");
  const body = html`<p class="muted">${t("wizard-notifications-lead")}</p>
${discord}
${errorSummary(c, opts.errors)}
<form class="card stack wizard-form" method="post" action="${stepPath("notifications")}">
${csrfField(c)}
<h2 class="card-h">${t("wizard-email-heading")}</h2>
${field(c, {
  name: "email",
  label: t("wizard-email"),
  type: "email",
  value: typed.email,
  hint: emailHint,
  error: opts.errors?.email ?? null,
  attrs: html`autocomplete="email" maxlength="254"`,
})}
${
  state === "verified"
    ? null
    : html`<div><button class="secondary" type="submit" formaction="${stepPath("notifications")}/verify">${t("wizard-email-send-link")}</button></div>`
}
${radios(c, { name: "cadence", legend: t("wizard-cadence"), values: NOTIFY_CADENCES, chosen: typed.cadence, error: opts.errors?.cadence })}
${radios(c, { name: "digest", legend: t("wizard-digest"), values: DIGEST_CADENCES, chosen: typed.digest, error: opts.errors?.digest })}
<div><button type="submit">${t("wizard-continue")}</button></div>
</form>`;
  return respond(
    c,
    wizardPage(c, {
      step: "notifications",
      title: t("wizard-step-notifications"),
      body,
      notice: opts.notice ?? null,
    }),
    opts.status ?? 200,
  );
}

function typedOf(c: AuthedCtx): Typed {
  return { email: str(c.form, "email"), cadence: str(c.form, "cadence"), digest: str(c.form, "digest") };
}

/** GET /dashboard/wizard/notifications: the saved choices. */
export async function notificationsStep(c: AuthedCtx): Promise<Response> {
  const [ob, settings] = await Promise.all([loadWizard(c), getTenantSettings(c.env.DB, c.session.tenantId)]);
  if (!settings) notFound();
  // The Discord install started here comes back with done=discord (src/pages/discord.ts).
  const notice = c.searchParams.get("done") === "discord" ? c.t("discord-done-installed") : null;
  return render(
    c,
    { email: settings.notifyEmail ?? "", cadence: ob.notifyCadence, digest: ob.digest },
    { notice },
  );
}

/** POST /dashboard/wizard/notifications: saved by the pipeline, then step 3 is done. */
export async function saveNotificationsStep(c: AuthedCtx): Promise<Response> {
  const typed = typedOf(c);
  const checked = validate(NotificationsStepSchema, typed);
  if (!checked.ok) return render(c, typed, { errors: checked.errors, status: 422 });
  const { email, cadence, digest } = checked.value;
  const res = await c.env.PIPELINE.setNotifications(c.session.tenantId, {
    email: email || null,
    cadence,
    digest,
  });
  if (!res.ok) {
    if (res.error.code === "not_found") notFound();
    const known = SAVE_ERRORS[res.error.code];
    const errors = known ? { [known.field]: known.message } : { _form: msg("err-save-failed") };
    return render(c, typed, { errors, status: 422 });
  }
  await completeWizardStep(c.env.DB, c.session.tenantId, 3);
  return redirect(stepPath("replies"));
}

/**
 * POST /dashboard/wizard/notifications/verify ("Send a verification link", the form's second
 * button): mails the link for the typed address, a new one if it was already sent. Nothing else
 * of the form is saved; the page comes back with what was typed and says the link went out.
 */
export async function sendVerificationStep(c: AuthedCtx): Promise<Response> {
  const typed = typedOf(c);
  const checked = validate(VerifyEmailSchema, { email: typed.email });
  if (!checked.ok) return render(c, typed, { errors: checked.errors, status: 422 });
  const email = checked.value.email;
  const existing = findAddress(await c.env.PIPELINE.listForwardAddresses(c.session.tenantId), email);
  if (existing?.verifiedAt != null) {
    return render(c, typed, { notice: c.t("wizard-email-already-verified", { address: email }) });
  }
  const r = existing
    ? await c.env.PIPELINE.resendForwardVerification(c.session.tenantId, existing.id)
    : await c.env.PIPELINE.addForwardAddress(c.session.tenantId, email);
  if (!r.ok) {
    const message = existing ? msg(`fa-err-${r.error.code}`) : addressErrorId(r.error.code);
    return render(c, typed, { errors: { email: message }, status: 422 });
  }
  // The address is kept even when the mail could not go out; the button then sends it again.
  if (!r.sent) return render(c, typed, { errors: { email: msg("wizard-err-link-unsent") }, status: 502 });
  return render(c, typed, { notice: c.t("wizard-email-link-sent", { address: email }) });
}
