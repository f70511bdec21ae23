import { isPlainAddress } from "@concierge/channels";
import {
  BUSINESS_KINDS,
  BillingDetailsSchema,
  createLogger,
  DIGEST_CADENCES,
  NOTIFY_CADENCES,
  TimeZoneSchema,
} from "@concierge/core";
import { msg } from "@concierge/i18n";
import {
  getBillingDetails,
  getOnboarding,
  getRetentionDays,
  getSilenceAlertHours,
  SILENCE_MAX_HOURS,
  saveSilenceAlertHours,
  getTenantPreferences,
  getTenantSettings,
  RETENTION_MAX_DAYS,
  RETENTION_MIN_DAYS,
  saveBusinessProfile,
  saveRetentionDays,
  saveTenantPreferences,
  TENANT_CURRENCIES,
  TENANT_LOCALES,
  type VersionedSave,
} from "@concierge/storage";
import * as v from "valibot";
import { clearCookie, SESSION_COOKIE } from "../cookies.ts";
import {
  errorSummary,
  type FieldErrors,
  field,
  formVersion,
  str,
  textarea,
  validate,
  versionField,
} from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, type Ctx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page, publicPage } from "../layout.ts";
import { addressState, type AddressState, sendVerificationLink } from "../notify-email.ts";
import { timeZoneOptions } from "../time-zones.ts";

const log = createLogger("dashboard");

const LOCALE_LABEL: Record<(typeof TENANT_LOCALES)[number], string> = {
  "en-IN": msg("settings-locale-en-in"),
  "en-US": msg("settings-locale-en-us"),
};
const CURRENCY_LABEL: Record<(typeof TENANT_CURRENCIES)[number], string> = {
  INR: msg("settings-currency-inr"),
  USD: msg("settings-currency-usd"),
};

const CADENCE_LABEL: Record<(typeof NOTIFY_CADENCES)[number], string> = {
  instant: msg("settings-cadence-instant"),
  "15m": msg("settings-cadence-15m"),
  hourly: msg("settings-cadence-hourly"),
  daily: msg("settings-cadence-daily"),
};
const DIGEST_LABEL: Record<(typeof DIGEST_CADENCES)[number], string> = {
  off: msg("settings-digest-off"),
  daily: msg("settings-digest-daily"),
  weekly: msg("settings-digest-weekly"),
};

export const PreferencesFormSchema = v.object({
  locale: v.picklist(TENANT_LOCALES, msg("settings-err-locale")),
  currency: v.picklist(TENANT_CURRENCIES, msg("settings-err-currency")),
  // The shared schema decides (storage checks it again); this only attaches the page's message.
  timeZone: v.pipe(
    v.string(),
    v.trim(),
    v.check((s) => v.is(TimeZoneSchema, s), msg("settings-err-time-zone")),
  ),
});

const NotifyEmail = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.maxLength(254, msg("settings-err-email")),
  v.check((s) => s === "" || isPlainAddress(s), msg("settings-err-email")),
);

/** Empty clears the destination; the pipeline checks again (and that the email is confirmed). */
export const NotificationsFormSchema = v.object({
  discordChannelId: v.pipe(
    v.string(),
    v.trim(),
    v.check((s) => s === "" || /^\d{17,20}$/.test(s), msg("settings-err-discord")),
  ),
  email: NotifyEmail,
  cadence: v.picklist(NOTIFY_CADENCES, msg("settings-err-cadence")),
  digest: v.picklist(DIGEST_CADENCES, msg("settings-err-digest")),
});

/**
 * How long message records are kept (migrations/0030): a whole number of days in range, as typed
 * (the column's CHECK refuses anything else too).
 */
export const RetentionFormSchema = v.object({
  days: v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d{1,4}$/, msg("settings-err-retention")),
    v.transform(Number),
    v.minValue(RETENTION_MIN_DAYS, msg("settings-err-retention")),
    v.maxValue(RETENTION_MAX_DAYS, msg("settings-err-retention")),
  ),
});

/**
 * When a quiet channel alerts (migrations/0033): hours of silence after daily messages, 0 to
 * SILENCE_MAX_HOURS, 0 for never; as typed (the column's CHECK refuses anything else too).
 */
export const SilenceFormSchema = v.object({
  hours: v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d{1,3}$/, msg("settings-err-silence")),
    v.transform(Number),
    v.maxValue(SILENCE_MAX_HOURS, msg("settings-err-silence")),
  ),
});

/** "Send a verification link" needs an address to send it to. */
const VerifyFormSchema = v.object({
  email: v.pipe(NotifyEmail, v.minLength(1, msg("settings-err-email-needed"))),
});

/** Each field of the contract's schema, with the message shown when it is wrong. */
const BILLING_ERRORS: Record<string, string> = {
  legalName: msg("settings-err-legal-name"),
  address: msg("settings-err-address"),
  gstin: msg("settings-err-gstin"),
};

type Prefs = { locale: string; currency: string; timeZone: string };
/** The business as the wizard's first step set it: its name and kind (none for older tenants). */
type Business = { name: string; businessKind: string };
type Notify = { discordChannelId: string; email: string; cadence: string; digest: string };
/** The billing details as typed, and the version (updatedAt, 0 for none yet) the form was shown at. */
type Billing = { legalName: string; address: string; gstin: string; version: number };
/** The retention in days, as typed (a string, so a refused value is shown back as it was). */
type Retention = { days: string };
/** The quiet-channel alert in hours, as typed. */
type Silence = { hours: string };
type Forms = {
  /** The tenant's settings version the business, preferences and retention forms were shown at. */
  version: number;
  business: Business;
  prefs: Prefs;
  retention: Retention;
  silence: Silence;
  notify: Notify;
  billing: Billing;
  confirmName: string;
  errors: {
    business?: FieldErrors;
    prefs?: FieldErrors;
    retention?: FieldErrors;
    silence?: FieldErrors;
    notify?: FieldErrors;
    billing?: FieldErrors;
    remove?: FieldErrors;
  };
  /** Said above the notifications form (a verification link went out). */
  notifyNotice?: string | null;
};

function select(
  c: AuthedCtx,
  f: {
    name: string;
    label: string;
    value: string;
    options: [string, string][];
    hint?: string | null;
    error?: string | null;
  },
): Html {
  const id = `f-${f.name}`;
  const described = [f.hint ? `${id}-hint` : null, f.error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  ${f.hint ? html`<span class="hint" id="${id}-hint">${f.hint}</span>` : null}
  <select id="${id}" name="${f.name}"${f.error ? html` aria-invalid="true"` : null}${
    described ? html` aria-describedby="${described}"` : null
  }>
    ${f.options.map(
      ([value, label]) =>
        html`<option value="${value}"${value === f.value ? html` selected` : null}>${label}</option>`,
    )}
  </select>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

/** The business's name (shown to staff, in the persona's defaults) and its kind. */
function businessForm(
  c: AuthedCtx,
  values: Business,
  version: number,
  errors: FieldErrors | undefined,
): Html {
  const { t } = c;
  return html`<section aria-labelledby="business-h">
<h2 id="business-h">${t("settings-business")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/business" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  ${field(c, {
    name: "name",
    label: t("settings-business-name"),
    value: values.name,
    error: errors?.name ?? null,
    attrs: html`required maxlength="80" autocomplete="organization"`,
  })}
  ${select(c, {
    name: "businessKind",
    label: t("wizard-kind"),
    value: values.businessKind,
    // Tenants from before the wizard have no kind yet: they choose one, nothing is assumed.
    options: [
      ...(values.businessKind ? [] : [["", t("settings-business-kind-choose")] as [string, string]]),
      ...BUSINESS_KINDS.map((k): [string, string] => [k, t(`wizard-kind-${k}`)]),
    ],
    error: errors?.businessKind ?? null,
  })}
  <div><button type="submit">${t("settings-business-save")}</button></div>
</form>
</section>`;
}

function preferencesForm(
  c: AuthedCtx,
  values: Prefs,
  version: number,
  errors: FieldErrors | undefined,
): Html {
  const { t } = c;
  return html`<section aria-labelledby="prefs-h">
<h2 id="prefs-h">${t("settings-prefs")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/preferences" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  <p class="muted">${t("settings-prefs-lead")}</p>
  ${select(c, {
    name: "locale",
    label: t("settings-locale"),
    value: values.locale,
    options: TENANT_LOCALES.map((l) => [l, t(LOCALE_LABEL[l])]),
    error: errors?.locale ?? null,
  })}
  ${select(c, {
    name: "currency",
    label: t("settings-currency"),
    value: values.currency,
    options: TENANT_CURRENCIES.map((cur) => [cur, t(CURRENCY_LABEL[cur])]),
    error: errors?.currency ?? null,
  })}
  ${select(c, {
    name: "timeZone",
    label: t("settings-time-zone"),
    hint: t("settings-time-zone-hint"),
    value: values.timeZone,
    options: timeZoneOptions(values.timeZone),
    error: errors?.timeZone ?? null,
  })}
  <div><button type="submit">${t("settings-prefs-save")}</button></div>
</form>
</section>`;
}

function retentionForm(
  c: AuthedCtx,
  values: Retention,
  version: number,
  errors: FieldErrors | undefined,
): Html {
  const { t } = c;
  return html`<section aria-labelledby="retention-h" id="retention">
<h2 id="retention-h">${t("settings-retention")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/retention#retention" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  <p class="muted">${t("settings-retention-lead")}</p>
  ${field(c, {
    name: "days",
    label: t("settings-retention-days"),
    hint: t("settings-retention-hint"),
    type: "number",
    value: values.days,
    error: errors?.days ?? null,
    attrs: html`required min="${RETENTION_MIN_DAYS}" max="${RETENTION_MAX_DAYS}" step="1" inputmode="numeric"`,
  })}
  <div><button type="submit">${t("settings-retention-save")}</button></div>
</form>
</section>`;
}

function silenceForm(c: AuthedCtx, values: Silence, version: number, errors: FieldErrors | undefined): Html {
  const { t } = c;
  return html`<section aria-labelledby="silence-h" id="quiet-channels">
<h2 id="silence-h">${t("settings-silence")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/silence#quiet-channels" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  <p class="muted">${t("settings-silence-lead")}</p>
  ${field(c, {
    name: "hours",
    label: t("settings-silence-hours"),
    hint: t("settings-silence-hint"),
    type: "number",
    value: values.hours,
    error: errors?.hours ?? null,
    attrs: html`required min="0" max="${SILENCE_MAX_HOURS}" step="1" inputmode="numeric"`,
  })}
  <div><button type="submit">${t("settings-silence-save")}</button></div>
</form>
</section>`;
}

const EMAIL_HINT: Record<AddressState, string> = {
  verified: msg("settings-notify-email-verified"),
  pending: msg("settings-notify-email-pending"),
  none: msg("settings-notify-email-hint"),
};

function notificationsForm(
  c: AuthedCtx,
  values: Notify,
  errors: FieldErrors | undefined,
  state: AddressState,
  notice: string | null | undefined,
): Html {
  const { t } = c;
  return html`<section aria-labelledby="notify-h" id="notifications">
<h2 id="notify-h">${t("settings-notify")}</h2>
${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/notifications#notifications" novalidate>
  ${csrfField(c)}
  <p class="muted">${t("settings-notify-lead")}</p>
  ${field(c, {
    name: "discordChannelId",
    label: t("settings-notify-discord"),
    hint: t("settings-notify-discord-hint"),
    value: values.discordChannelId,
    error: errors?.discordChannelId ?? null,
    attrs: html`inputmode="numeric" autocomplete="off" maxlength="20"`,
  })}
  ${field(c, {
    name: "email",
    label: t("settings-notify-email"),
    hint: t(EMAIL_HINT[state]),
    type: "email",
    value: values.email,
    error: errors?.email ?? null,
    attrs: html`autocomplete="email" maxlength="254"`,
  })}
  ${
    // Next to the field it is about: mails the confirmation link for what is typed, without
    // saving the form (its own route; a plain submit button, so no script is needed).
    state === "verified"
      ? null
      : html`<div><button class="secondary" type="submit" formaction="/admin/settings/notifications/verify#notifications">${t("settings-notify-send-link")}</button></div>`
  }
  ${select(c, {
    name: "cadence",
    label: t("settings-notify-cadence"),
    hint: t("settings-notify-cadence-hint"),
    value: values.cadence,
    options: NOTIFY_CADENCES.map((k) => [k, t(CADENCE_LABEL[k])]),
    error: errors?.cadence ?? null,
  })}
  ${select(c, {
    name: "digest",
    label: t("settings-notify-digest"),
    hint: t("settings-notify-digest-hint"),
    value: values.digest,
    options: DIGEST_CADENCES.map((k) => [k, t(DIGEST_LABEL[k])]),
    error: errors?.digest ?? null,
  })}
  <div><button type="submit">${t("settings-notify-save")}</button></div>
</form>
</section>`;
}

function billingForm(c: AuthedCtx, values: Billing, errors: FieldErrors | undefined): Html {
  const { t } = c;
  return html`<section aria-labelledby="billing-details-h" id="billing-details">
<h2 id="billing-details-h">${t("settings-billing")}</h2>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/settings/billing-details#billing-details" novalidate>
  ${csrfField(c)}
  <input type="hidden" name="version" value="${values.version}">
  <p class="muted">${t("settings-billing-lead")}</p>
  ${field(c, {
    name: "legalName",
    label: t("settings-billing-legal-name"),
    hint: t("settings-billing-legal-name-hint"),
    value: values.legalName,
    error: errors?.legalName ?? null,
    attrs: html`autocomplete="organization" maxlength="200" required`,
  })}
  ${textarea(c, {
    name: "address",
    label: t("settings-billing-address"),
    hint: t("settings-billing-address-hint"),
    value: values.address,
    rows: 4,
    error: errors?.address ?? null,
    attrs: html`autocomplete="street-address" maxlength="500" required`,
  })}
  ${field(c, {
    name: "gstin",
    label: t("settings-billing-gstin"),
    hint: t("settings-billing-gstin-hint"),
    value: values.gstin,
    error: errors?.gstin ?? null,
    attrs: html`autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="15"`,
  })}
  <div><button type="submit">${t("settings-billing-save")}</button></div>
</form>
</section>`;
}

function deleteForm(c: AuthedCtx, typed: string, errors: FieldErrors | undefined): Html {
  const { t } = c;
  return html`<section class="card st-danger" id="delete-account" aria-labelledby="delete-h">
<h2 id="delete-h" class="st-danger-h">${t("settings-delete")}</h2>
<p>${t("settings-delete-lead")}</p>
${errorSummary(c, errors)}
<form class="stack" method="post" action="/admin/settings/delete#delete-account" novalidate>
  ${csrfField(c)}
  ${field(c, {
    name: "confirmName",
    label: t("settings-delete-confirm", { name: c.session.tenantName }),
    hint: t("settings-delete-confirm-hint"),
    value: typed,
    error: errors?.confirmName ?? null,
    attrs: html`autocomplete="off" spellcheck="false" required`,
  })}
  <div><button class="danger" type="submit">${t("settings-delete-submit")}</button></div>
</form>
</section>`;
}

async function render(c: AuthedCtx, forms: Forms | null, status = 200): Promise<Response> {
  const values = forms ?? { ...(await stored(c)), errors: {} };
  const saved = status === 200 && c.searchParams.get("saved") === "1";
  const state = await addressState(c, values.notify.email);
  return respond(
    c,
    page(c, {
      title: c.t("settings-title"),
      section: "settings",
      notice: saved ? c.t("saved") : null,
      body: html`${businessForm(c, values.business, values.version, values.errors.business)}
${preferencesForm(c, values.prefs, values.version, values.errors.prefs)}
${retentionForm(c, values.retention, values.version, values.errors.retention)}
${silenceForm(c, values.silence, values.version, values.errors.silence)}
${notificationsForm(c, values.notify, values.errors.notify, state, values.notifyNotice)}
${billingForm(c, values.billing, values.errors.billing)}
${deleteForm(c, values.confirmName, values.errors.remove)}`,
    }),
    status,
  );
}

/** The other forms as stored, for a page re-shown with one form's errors. */
async function stored(c: AuthedCtx): Promise<Omit<Forms, "errors">> {
  const [prefs, settings, onboarding, billing, retention, silence] = await Promise.all([
    getTenantPreferences(c.env.DB, c.session.tenantId),
    getTenantSettings(c.env.DB, c.session.tenantId),
    getOnboarding(c.env.DB, c.session.tenantId),
    storedBilling(c),
    getRetentionDays(c.env.DB, c.session.tenantId),
    getSilenceAlertHours(c.env.DB, c.session.tenantId),
  ]);
  if (!prefs || !settings || !onboarding || retention === null || silence === null) notFound();
  return {
    version: settings.settingsVersion,
    business: { name: onboarding.name, businessKind: onboarding.businessKind ?? "" },
    prefs,
    retention: { days: String(retention) },
    silence: { hours: String(silence) },
    notify: {
      discordChannelId: settings.notifyDiscordChannelId ?? "",
      email: settings.notifyEmail ?? "",
      cadence: onboarding.notifyCadence,
      digest: onboarding.digest,
    },
    billing,
    confirmName: "",
  };
}

async function storedBilling(c: AuthedCtx): Promise<Billing> {
  const d = await getBillingDetails(c.env.DB, c.session.tenantId);
  return d
    ? { legalName: d.legalName, address: d.address, gstin: d.gstin ?? "", version: d.updatedAt }
    : { legalName: "", address: "", gstin: "", version: 0 };
}

export function settingsPage(c: AuthedCtx): Promise<Response> {
  return render(c, null);
}

/**
 * POST /admin/settings/preferences: language, currency and time zone. A new time zone also makes
 * the digest work out its next period again (storage clears digest_next_at with it).
 */
export const BusinessFormSchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.nonEmpty(msg("wizard-err-name")),
    v.maxLength(80, msg("wizard-err-name-long")),
  ),
  businessKind: v.picklist(BUSINESS_KINDS, msg("wizard-err-kind")),
});

/**
 * POST /admin/settings/business: the business's name and kind after the wizard (where they were
 * first set). Errors next to the fields, nothing saved.
 */
export async function saveBusiness(c: AuthedCtx): Promise<Response> {
  const input = { name: str(c.form, "name"), businessKind: str(c.form, "businessKind") };
  const version = formVersion(c.form);
  const checked = validate(BusinessFormSchema, input);
  if (checked.ok) {
    const saved = await saveBusinessProfile(c.env.DB, c.session.tenantId, checked.value, version);
    return savedOrStale(c, saved, "business");
  }
  // Shown again at the version it was typed against: a save made meanwhile still makes it stale.
  return render(
    c,
    { ...(await stored(c)), ...typedAt(version), business: input, errors: { business: checked.errors } },
    422,
  );
}

/** A form shown again with its errors keeps the version it was typed against (if it had one). */
const typedAt = (version: number | null) => (version === null ? {} : { version });

/**
 * After a versioned save: to the page with "Saved", or, when the settings were saved elsewhere
 * since this form was shown (another tab, another person), the page as it is now with the stale
 * message at the form, nothing written (409).
 */
async function savedOrStale(
  c: AuthedCtx,
  saved: VersionedSave,
  form: "business" | "prefs" | "retention" | "silence",
): Promise<Response> {
  if (saved === "not_found") notFound();
  if (saved === "saved") return redirect("/admin/settings?saved=1");
  return render(c, { ...(await stored(c)), errors: { [form]: { _form: msg("settings-err-stale") } } }, 409);
}

export async function savePreferences(c: AuthedCtx): Promise<Response> {
  const input = {
    locale: str(c.form, "locale"),
    currency: str(c.form, "currency"),
    timeZone: str(c.form, "timeZone"),
  };
  const version = formVersion(c.form);
  const checked = validate(PreferencesFormSchema, input);
  if (checked.ok) {
    const saved = await saveTenantPreferences(c.env.DB, c.session.tenantId, checked.value, version);
    return savedOrStale(c, saved, "prefs");
  }
  return render(
    c,
    { ...(await stored(c)), ...typedAt(version), prefs: input, errors: { prefs: checked.errors } },
    422,
  );
}

/**
 * POST /admin/settings/retention: how long message records are kept. Out of range or not a whole
 * number: the error next to the field, nothing saved. The next cron run purges by the new value.
 */
export async function saveRetention(c: AuthedCtx): Promise<Response> {
  const input = { days: str(c.form, "days") };
  const version = formVersion(c.form);
  const checked = validate(RetentionFormSchema, input);
  if (checked.ok) {
    const saved = await saveRetentionDays(c.env.DB, c.session.tenantId, checked.value.days, version);
    return savedOrStale(c, saved, "retention");
  }
  return render(
    c,
    { ...(await stored(c)), ...typedAt(version), retention: input, errors: { retention: checked.errors } },
    422,
  );
}

/**
 * POST /admin/settings/silence: after how many hours without a customer message a channel that
 * gets them daily alerts the tenant (0: never). Refused values stay typed, nothing saved.
 */
export async function saveSilence(c: AuthedCtx): Promise<Response> {
  const input = { hours: str(c.form, "hours") };
  const version = formVersion(c.form);
  const checked = validate(SilenceFormSchema, input);
  if (checked.ok) {
    const saved = await saveSilenceAlertHours(c.env.DB, c.session.tenantId, checked.value.hours, version);
    return savedOrStale(c, saved, "silence");
  }
  return render(
    c,
    { ...(await stored(c)), ...typedAt(version), silence: input, errors: { silence: checked.errors } },
    422,
  );
}

/** The pipeline's refusals, each next to the field it is about. */
const NOTIFY_ERRORS: Record<string, { field: keyof Notify; message: string }> = {
  invalid_channel: { field: "discordChannelId", message: msg("settings-err-discord") },
  // Not a text channel of the tenant's own server, as Discord answers (or Discord unreachable).
  foreign_channel: { field: "discordChannelId", message: msg("settings-err-discord-foreign") },
  discord_unavailable: { field: "discordChannelId", message: msg("settings-err-discord-unavailable") },
  invalid_email: { field: "email", message: msg("settings-err-email") },
  email_unverified: { field: "email", message: msg("settings-err-email-unverified") },
  invalid_cadence: { field: "cadence", message: msg("settings-err-cadence") },
  // A digest needs somewhere to go: a confirmed email or a Discord notify channel.
  no_target: { field: "digest", message: msg("notify-err-no-target") },
};

function typedNotify(c: AuthedCtx): Notify {
  return {
    discordChannelId: str(c.form, "discordChannelId"),
    email: str(c.form, "email"),
    cadence: str(c.form, "cadence"),
    digest: str(c.form, "digest"),
  };
}

/**
 * POST /admin/settings/notifications: where (Discord channel, a confirmed email) and how often
 * (notices at once or batched; the digest), saved by the pipeline, which also refuses an email
 * that is not one of the tenant's confirmed addresses (`email_unverified`, shown at the field
 * with the button that mails the link).
 */
export async function saveNotifications(c: AuthedCtx): Promise<Response> {
  const input = typedNotify(c);
  const checked = validate(NotificationsFormSchema, input);
  let errors: FieldErrors;
  if (checked.ok) {
    const res = await c.env.PIPELINE.setNotifications(c.session.tenantId, {
      discordChannelId: checked.value.discordChannelId || null,
      email: checked.value.email || null,
      cadence: checked.value.cadence,
      digest: checked.value.digest,
    });
    if (res.ok) return redirect("/admin/settings?saved=1");
    if (res.error.code === "not_found") notFound();
    const known = NOTIFY_ERRORS[res.error.code];
    errors = known ? { [known.field]: known.message } : { _form: msg("err-save-failed") };
  } else {
    errors = checked.errors;
  }
  return render(c, { ...(await stored(c)), notify: input, errors: { notify: errors } }, 422);
}

/**
 * POST /admin/settings/notifications/verify (the notifications form's "Send a verification link"
 * button): mails the confirmation link for the typed address, as the forward addresses page does
 * (a new link if one was sent before). Nothing of the form is saved; the page comes back with
 * what was typed and says where the link went, so the person opens it and then saves.
 */
export async function sendNotificationVerification(c: AuthedCtx): Promise<Response> {
  const typed = typedNotify(c);
  const again = async (opts: { errors?: FieldErrors; notice?: string }, status: number) =>
    render(
      c,
      {
        ...(await stored(c)),
        notify: typed,
        errors: { notify: opts.errors ?? {} },
        notifyNotice: opts.notice ?? null,
      },
      status,
    );
  const checked = validate(VerifyFormSchema, { email: typed.email });
  if (!checked.ok) return again({ errors: checked.errors }, 422);
  const email = checked.value.email;
  const sent = await sendVerificationLink(c, email);
  if (sent.kind === "already_verified") {
    return again({ notice: c.t("settings-notify-already-verified", { address: email }) }, 200);
  }
  if (sent.kind === "refused") return again({ errors: { email: sent.message } }, 422);
  // The address is kept even when the mail did not go out: the same button sends it again.
  if (sent.kind === "unsent") {
    log.warn("notify_email.link_unsent", { tenant_id: c.session.tenantId });
    return again({ errors: { email: msg("settings-err-link-unsent") } }, 502);
  }
  return again({ notice: c.t("settings-notify-link-sent", { address: email }) }, 200);
}

/**
 * POST /admin/settings/billing-details: legal name, address and GSTIN for receipts, checked with
 * the contract's schema here (422 next to the fields) and saved by the pipeline. The form carries
 * the version it was shown at: if the details were saved elsewhere since, nothing is overwritten
 * (409, the stored details shown to review).
 */
export async function saveBillingDetailsForm(c: AuthedCtx): Promise<Response> {
  const typed: Billing = {
    legalName: str(c.form, "legalName"),
    address: str(c.form, "address"),
    gstin: str(c.form, "gstin"),
    version: Number(str(c.form, "version")) || 0,
  };
  const again = async (billing: Billing, errors: FieldErrors, status: number) =>
    render(c, { ...(await stored(c)), billing, errors: { billing: errors } }, status);
  const input = { legalName: typed.legalName, address: typed.address, gstin: typed.gstin.trim() || null };
  const checked = validate(BillingDetailsSchema, input);
  if (!checked.ok) {
    const errors: FieldErrors = {};
    for (const name of Object.keys(checked.errors))
      errors[name] = BILLING_ERRORS[name] ?? msg("form-has-errors");
    return again(typed, errors, 422);
  }
  const current = await storedBilling(c);
  if (current.version !== typed.version) {
    return again(current, { _form: msg("settings-err-billing-stale") }, 409);
  }
  const res = await c.env.PIPELINE.saveBillingDetails(c.session.tenantId, checked.value);
  if (res.ok) return redirect("/admin/settings?saved=1#billing-details");
  if (res.error.code === "not_found") notFound();
  log.error("billing_details.save_failed", { tenant_id: c.session.tenantId, code: res.error.code });
  return again(typed, { _form: msg("err-save-failed") }, res.error.code === "invalid_details" ? 422 : 500);
}

/**
 * Deletes the tenant and all of its data (ARCHITECTURE.md §5) once the business name is typed
 * exactly. The session goes with the tenant; the cookie is cleared and the browser lands on a
 * public page saying so.
 */
export async function deleteAccount(c: AuthedCtx): Promise<Response> {
  const typed = str(c.form, "confirmName");
  if (typed.trim() !== c.session.tenantName) {
    return render(
      c,
      {
        ...(await stored(c)),
        confirmName: typed,
        errors: {
          remove: {
            confirmName:
              typed.trim() === "" ? msg("settings-err-confirm-empty") : msg("settings-err-confirm"),
          },
        },
      },
      422,
    );
  }
  const res = await c.env.PIPELINE.deleteTenant(c.session.tenantId);
  // not_found: already gone (a double submit); the outcome the person wanted either way.
  if (!res.ok && res.error.code !== "not_found") {
    log.error("tenant.delete_failed", { tenant_id: c.session.tenantId, code: res.error.code });
    return render(
      c,
      {
        ...(await stored(c)),
        confirmName: typed,
        errors: { remove: { _form: msg("settings-delete-failed") } },
      },
      500,
    );
  }
  // Rows of a large tenant may still be going (the cron finishes them): its data is unreadable
  // already, and the page says the rest follows instead of "deleted".
  const finishing = res.ok && !res.deleted.complete;
  const headers = new Headers({ location: finishing ? "/account-deleted?finishing=1" : "/account-deleted" });
  headers.append("set-cookie", clearCookie(SESSION_COOKIE));
  return new Response(null, { status: 303, headers });
}

/** Where the browser lands after deleting the account (public: the session is gone). */
export function accountDeletedPage(c: Ctx): Promise<Response> {
  const { t } = c;
  return respond(
    c,
    publicPage(c, {
      title: t("settings-deleted-title"),
      body: html`<div class="signin">
<h1>${t("settings-deleted-title")}</h1>
<p role="status">${t(c.searchParams.get("finishing") === "1" ? "settings-deleted-finishing" : "settings-deleted-text")}</p>
<p><a href="/">${t("settings-deleted-home")}</a></p>
</div>`,
    }),
  );
}
