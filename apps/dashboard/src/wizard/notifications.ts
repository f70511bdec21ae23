/**
 * Wizard step 3, notifications: where approvals and handoffs reach the tenant (the Discord inbox
 * and/or an email address verified by a link), how often (at once or batched), and the summary
 * digest. The address must be verified before it is saved (the pipeline refuses it otherwise:
 * `email_unverified`); the page's second button mails the link, as the forward addresses do.
 * Once the Discord bot is installed, the step asks which of the server's text channels gets the
 * notices and the digest; an install without an inbox channel gets the same one as its inbox.
 */
import { DIGEST_CADENCES, NOTIFY_CADENCES } from "@concierge/core";
import { msg } from "@concierge/i18n";
import type { DiscordSetup } from "@concierge/core";
import { completeWizardStep, getTenantSettings } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, field, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField } from "../layout.ts";
import { addressState, sendVerificationLink } from "../notify-email.ts";
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
  /** Absent: the page offered no channel list (no install, or Discord could not be asked). */
  discordChannelId: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^(\d{17,20})?$/, msg("wizard-err-discord-channel"))),
  ),
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

type Typed = { email: string; cadence: string; digest: string; discordChannelId?: string | undefined };

/** Refusals of setNotifications, by the field they are about. */
const SAVE_ERRORS: Record<string, { field: string; message: string }> = {
  email_unverified: { field: "email", message: msg("wizard-err-email-unverified") },
  invalid_email: { field: "email", message: msg("wizard-err-email") },
  invalid_cadence: { field: "cadence", message: msg("wizard-err-cadence") },
  invalid_channel: { field: "discordChannelId", message: msg("wizard-err-discord-channel") },
  // The pipeline asks Discord: only a text channel of the tenant's own server.
  foreign_channel: { field: "discordChannelId", message: msg("wizard-err-discord-channel") },
  discord_unavailable: { field: "discordChannelId", message: msg("settings-err-discord-unavailable") },
  // A digest needs somewhere to go: a confirmed email or a Discord notify channel.
  no_target: { field: "digest", message: msg("notify-err-no-target") },
};

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

async function discordSetup(c: AuthedCtx): Promise<DiscordSetup> {
  return c.env.PIPELINE.getDiscordSetup(c.session.tenantId);
}

/** The install's state, and "Add to Discord" until it is installed. */
function discordSection(c: AuthedCtx, setup: DiscordSetup): Html {
  const { t } = c;
  const install = setup.install;
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

/**
 * Inside the form, once installed: the server's text channels for the notices and the digest.
 * The chosen one stays listed even when Discord could not be asked; with no list at all, the
 * field is left out (and the saved choice kept) and the page says why.
 */
function discordChannelField(c: AuthedCtx, setup: DiscordSetup, chosen: string, error?: string): Html | null {
  if (!setup.install) return null;
  const { t } = c;
  const channels =
    chosen && !setup.channels.some((ch) => ch.id === chosen)
      ? [...setup.channels, { id: chosen, name: chosen }]
      : setup.channels;
  const failed = setup.lookupFailed
    ? html`<p class="notice error" role="alert" id="f-discordChannelId-lookup">${t("wizard-discord-lookup-failed")}</p>`
    : null;
  if (channels.length === 0) return failed;
  const described = ["f-discordChannelId-hint", error ? "f-discordChannelId-err" : null]
    .filter(Boolean)
    .join(" ");
  return html`${failed}<div class="field">
  <label for="f-discordChannelId">${t("wizard-discord-channel")}</label>
  <span class="hint" id="f-discordChannelId-hint">${t("wizard-discord-channel-hint")}</span>
  <select id="f-discordChannelId" name="discordChannelId" aria-describedby="${described}"${error ? html` aria-invalid="true"` : null}>
    <option value="">${t("wizard-discord-channel-none")}</option>
    ${channels.map((ch) => html`<option value="${ch.id}"${ch.id === chosen ? html` selected` : null}>#${ch.name}</option>`)}
  </select>
  ${error ? html`<span class="err" id="f-discordChannelId-err">${t(error)}</span>` : null}
</div>`;
}

async function render(
  c: AuthedCtx,
  typed: Typed,
  opts: { errors?: FieldErrors | null; notice?: string | null; status?: number; setup?: DiscordSetup } = {},
): Promise<Response> {
  const { t } = c;
  const [setup, state] = await Promise.all([opts.setup ?? discordSetup(c), addressState(c, typed.email)]);
  const emailHint =
    state === "verified"
      ? t("wizard-email-verified")
      : state === "pending"
        ? t("wizard-email-pending")
        : t("wizard-email-hint");
  const body = html`<p class="muted">${t("wizard-notifications-lead")}</p>
${discordSection(c, setup)}
${errorSummary(c, opts.errors)}
<form class="card stack wizard-form" method="post" action="${stepPath("notifications")}">
${csrfField(c)}
${discordChannelField(c, setup, typed.discordChannelId ?? "", opts.errors?.discordChannelId)}
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
  return {
    email: str(c.form, "email"),
    cadence: str(c.form, "cadence"),
    digest: str(c.form, "digest"),
    discordChannelId: c.form.has("discordChannelId") ? str(c.form, "discordChannelId") : undefined,
  };
}

/** GET /dashboard/wizard/notifications: the saved choices. */
export async function notificationsStep(c: AuthedCtx): Promise<Response> {
  const [ob, settings, setup] = await Promise.all([
    loadWizard(c),
    getTenantSettings(c.env.DB, c.session.tenantId),
    discordSetup(c),
  ]);
  if (!settings) notFound();
  // The Discord install started here comes back with done=discord (src/pages/discord.ts).
  const notice = c.searchParams.get("done") === "discord" ? c.t("wizard-discord-done") : null;
  return render(
    c,
    {
      email: settings.notifyEmail ?? "",
      cadence: ob.notifyCadence,
      digest: ob.digest,
      // Until a notify channel is chosen, the inbox (if any) is proposed.
      discordChannelId: settings.notifyDiscordChannelId ?? setup.install?.inboxChannelId ?? "",
    },
    { notice, setup },
  );
}

/**
 * POST /dashboard/wizard/notifications: saved by the pipeline, then step 3 is done. A Discord
 * channel chosen for an install that has no inbox channel yet also becomes its inbox, the rest of
 * the install's settings as they are.
 */
export async function saveNotificationsStep(c: AuthedCtx): Promise<Response> {
  const typed = typedOf(c);
  const checked = validate(NotificationsStepSchema, typed);
  if (!checked.ok) return render(c, typed, { errors: checked.errors, status: 422 });
  const { email, cadence, digest, discordChannelId } = checked.value;
  const setup = discordChannelId ? await discordSetup(c) : null;
  const install = setup?.install ?? null;
  // Only a channel of the installed server (when Discord could be asked for the list).
  if (
    discordChannelId &&
    (!install || (!setup?.lookupFailed && !setup?.channels.some((ch) => ch.id === discordChannelId)))
  ) {
    return render(c, typed, { errors: { discordChannelId: msg("wizard-err-discord-channel") }, status: 422 });
  }
  const res = await c.env.PIPELINE.setNotifications(c.session.tenantId, {
    email: email || null,
    cadence,
    digest,
    ...(discordChannelId === undefined ? {} : { discordChannelId: discordChannelId || null }),
  });
  if (!res.ok) {
    if (res.error.code === "not_found") notFound();
    const known = SAVE_ERRORS[res.error.code];
    const errors = known ? { [known.field]: known.message } : { _form: msg("err-save-failed") };
    return render(c, typed, { errors, status: 422 });
  }
  if (discordChannelId && install && !install.inboxChannelId) {
    const inbox = await c.env.PIPELINE.saveDiscordSettings(c.session.tenantId, {
      inboxChannelId: discordChannelId,
      staffRoleId: install.staffRoleId,
      relayMode: install.relayMode,
      afterHumanReply: install.afterHumanReply,
    });
    // The notices are saved; only the inbox is missing: say so at the field, the step stays open.
    if (!inbox.ok) {
      return render(c, typed, { errors: { discordChannelId: msg("wizard-err-discord-inbox") }, status: 502 });
    }
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
  const sent = await sendVerificationLink(c, email);
  switch (sent.kind) {
    case "already_verified":
      return render(c, typed, { notice: c.t("wizard-email-already-verified", { address: email }) });
    case "refused":
      return render(c, typed, { errors: { email: sent.message }, status: 422 });
    // The address is kept even when the mail could not go out; the button then sends it again.
    case "unsent":
      return render(c, typed, { errors: { email: msg("wizard-err-link-unsent") }, status: 502 });
    case "sent":
      return render(c, typed, { notice: c.t("wizard-email-link-sent", { address: email }) });
  }
}
