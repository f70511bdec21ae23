import { createLogger } from "@concierge/core";
import { msg } from "@concierge/i18n";
import * as v from "valibot";
import { listConnectedAccounts } from "@concierge/storage";
import { errorSummary, type FieldErrors, field, str, validate } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, allowInCsp, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { fromWizard, WIZARD_CHANNELS_STEP } from "../wizard-return.ts";
import { runSelfTest } from "../whatsapp-self-test.ts";

const log = createLogger("dashboard");

/** Meta's JavaScript SDK, which Embedded Signup requires; only the connect page loads it. */
const META_SDK = "https://connect.facebook.net/en_US/sdk.js";
/** Where Meta's signup dialog runs, and so where its session info message comes from. */
const META_DIALOG_ORIGINS = ["https://www.facebook.com", "https://web.facebook.com"];

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

/**
 * The SDK this installation loads (FACEBOOK_SDK_URL: Meta's, or the sandbox's fake locally), the
 * origins whose session info message the page trusts, and what the page adds to the CSP. Meta's
 * SDK opens its dialog on www/web.facebook.com; any other SDK serves its dialog from its own origin.
 */
export function embeddedSignupSdk(env: Env) {
  const url = originOf(env.FACEBOOK_SDK_URL) ? env.FACEBOOK_SDK_URL : META_SDK;
  const sdkOrigin = originOf(url)!;
  const messageOrigins = sdkOrigin === originOf(META_SDK) ? META_DIALOG_ORIGINS : [sdkOrigin];
  const graph = originOf(env.META_GRAPH_BASE_URL);
  return {
    url,
    messageOrigins,
    // Its script host, the dialog's frames, the Graph and dialog endpoints it calls, the pixels it
    // logs with.
    csp: {
      "script-src": [sdkOrigin],
      "frame-src": messageOrigins,
      "connect-src": [...new Set([...(graph ? [graph] : []), ...messageOrigins])],
      "img-src": messageOrigins,
    },
  };
}

const PhoneNumberIdField = v.pipe(
  v.string(),
  v.trim(),
  v.nonEmpty(msg("err-wa-id-required")),
  v.regex(/^\d{5,32}$/, msg("err-wa-id-digits")),
);

const EmbeddedSignupSchema = v.object({
  code: v.pipe(v.string(), v.trim(), v.nonEmpty(), v.maxLength(4096)),
  phoneNumberId: v.pipe(v.string(), v.regex(/^\d{5,32}$/)),
  wabaId: v.pipe(v.string(), v.regex(/^\d{5,32}$/)),
});

/** The number's two-step verification PIN, which registering it for Cloud API sets or repeats. */
const PinSchema = v.pipe(v.string(), v.trim(), v.regex(/^\d{6}$/));

const TokenSchema = v.object({ access_token: v.pipe(v.string(), v.minLength(1)) });

/** The pipeline's refusals, as the tenant reads them. */
const CONNECT_ERRORS: Record<string, { status: number; message: string }> = {
  unknown_number: { status: 422, message: msg("err-wa-unknown-number") },
  invalid_phone_number_id: { status: 422, message: msg("err-wa-id-digits") },
  account_taken: { status: 409, message: msg("err-wa-taken") },
  invalid_onboarding: { status: 422, message: msg("err-wa-es-incomplete") },
  pin_mismatch: { status: 422, message: msg("err-wa-pin-mismatch") },
  subscribe_failed: { status: 502, message: msg("err-wa-subscribe-failed") },
  register_failed: { status: 502, message: msg("err-wa-register-failed") },
};
const GRAPH_DOWN = { status: 502, message: msg("err-wa-graph-down") };

/** The Graph API version the SDK should speak: the one in META_GRAPH_BASE_URL. */
function graphVersion(env: Env): string {
  return /\/(v\d+\.\d+)\/?$/.exec(env.META_GRAPH_BASE_URL)?.[1] ?? "v24.0";
}

/**
 * Connects through the pipeline (which looks the number up at Meta and enforces one owner per
 * number), then runs the self-test; the channels page shows both outcomes.
 */
async function connectAndTest(
  c: AuthedCtx,
  input: { phoneNumberId: string; accessToken?: string; wabaId?: string; pin?: string; code?: string },
): Promise<Response | { code: string; status: number; message: string }> {
  const result = await c.env.PIPELINE.connectWhatsApp(c.session.tenantId, input);
  if (!result.ok) return { code: result.error.code, ...(CONNECT_ERRORS[result.error.code] ?? GRAPH_DOWN) };
  await runSelfTest(c.env, c.session.tenantId, result.accountId);
  // Started in the onboarding wizard: back to its channels step, which says so (as for Instagram)
  // and shows the number and its self-test result.
  if (fromWizard(c)) {
    const done = result.created ? "whatsapp" : "whatsapp-again";
    return redirect(`${WIZARD_CHANNELS_STEP}?done=${done}#account-${result.accountId}`);
  }
  return redirect(
    `/admin/channels?done=${result.created ? "connected" : "again"}#account-${result.accountId}`,
  );
}

// ---- Embedded Signup ----

/**
 * The Embedded Signup page: public/assets/whatsapp-signup.js drives Meta's SDK from the data-*
 * attributes of #wa-es and posts the hidden form.
 */
function connectBody(c: AuthedCtx, error: string | null): Html {
  const { t, env } = c;
  const wizard = fromWizard(c);
  const manual = wizard ? "/admin/whatsapp/manual?from=wizard" : "/admin/whatsapp/manual";
  const fallback = html`<p><a href="${manual}">${t("wa-connect-fallback")}</a></p>`;
  const errorNotice = error ? html`<p class="notice error" role="alert">${t(error)}</p>` : null;
  if (!env.WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID || !env.FACEBOOK_APP_ID) {
    return html`${errorNotice}<p class="card">${t("wa-connect-unconfigured")}</p>
<p><a class="button" href="${manual}">${t("ch-connect-manual")}</a></p>`;
  }
  const sdk = embeddedSignupSdk(env);
  return html`${errorNotice}<p class="muted">${t("wa-connect-lead")}</p>
<div class="card stack" id="wa-es" data-app-id="${env.FACEBOOK_APP_ID}" data-config-id="${env.WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID}"
  data-graph-version="${graphVersion(env)}" data-message-origins="${sdk.messageOrigins.join(" ")}" data-business-name="${c.session.tenantName}"
  data-msg-waiting="${t("wa-connect-waiting")}" data-msg-saving="${t("wa-connect-saving")}"
  data-msg-cancelled="${t("wa-connect-cancelled")}" data-msg-error="${t("wa-connect-error")}">
  <noscript><p class="notice error">${t("wa-connect-noscript")}</p></noscript>
  <div class="field"><label for="wa-es-pin">${t("wa-connect-pin")}</label>
    <span class="hint" id="wa-es-pin-hint">${t("wa-connect-pin-hint")}</span>
    <input id="wa-es-pin" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="off" aria-describedby="wa-es-pin-hint" required></div>
  <div><button type="button" id="wa-es-start" disabled>${t("wa-connect-start")}</button></div>
  <p id="wa-es-status" role="status" aria-live="polite"></p>
  <form id="wa-es-form" method="post" action="/admin/whatsapp/connect" hidden>
    ${csrfField(c)}
    <input type="hidden" name="code" value="">
    <input type="hidden" name="phone_number_id" value="">
    <input type="hidden" name="waba_id" value="">
    <input type="hidden" name="pin" value="">
    ${wizard ? html`<input type="hidden" name="from" value="wizard">` : null}
  </form>
</div>
${fallback}
<script src="/assets/whatsapp-signup.js?v=${c.assetVersion}" nonce="${c.nonce}"></script>
<script async defer crossorigin="anonymous" src="${sdk.url}" nonce="${c.nonce}"></script>`;
}

function connectPageResponse(c: AuthedCtx, error: string | null, status = 200): Promise<Response> {
  allowInCsp(c, embeddedSignupSdk(c.env).csp);
  return respond(
    c,
    page(c, { title: c.t("wa-connect-title"), section: "channels", body: connectBody(c, error) }),
    status,
  );
}

/** GET /admin/whatsapp/connect: Embedded Signup through Meta's JavaScript SDK. */
export function connectPage(c: AuthedCtx): Promise<Response> {
  return connectPageResponse(c, null);
}

/**
 * POST /admin/whatsapp/connect: the page's code and phone number id. The code is exchanged here,
 * server-side with the app secret (it is valid for 30 seconds and once); the business token it
 * yields is what proves the number is this person's to connect.
 */
export async function embeddedSignupCallback(c: AuthedCtx): Promise<Response> {
  const input = v.safeParse(EmbeddedSignupSchema, {
    code: str(c.form, "code"),
    phoneNumberId: str(c.form, "phone_number_id"),
    wabaId: str(c.form, "waba_id"),
  });
  if (!input.success) return connectPageResponse(c, msg("err-wa-es-incomplete"), 422);
  const pin = v.safeParse(PinSchema, str(c.form, "pin"));
  if (!pin.success) return connectPageResponse(c, msg("err-wa-pin"), 422);
  const exchange = new URL(`${c.env.META_GRAPH_BASE_URL.replace(/\/$/, "")}/oauth/access_token`);
  exchange.search = new URLSearchParams({
    client_id: c.env.FACEBOOK_APP_ID,
    client_secret: c.env.META_APP_SECRET,
    code: input.output.code,
  }).toString();
  let token: string | null = null;
  try {
    const res = await fetch(exchange, { signal: AbortSignal.timeout(10_000) });
    const body = await res.json().catch(() => null);
    const parsed = v.safeParse(TokenSchema, body);
    if (res.ok && parsed.success) token = parsed.output.access_token;
    else log.warn("whatsapp.code_exchange_refused", { status: res.status });
  } catch (err) {
    log.warn("whatsapp.code_exchange_failed", { error: String(err) });
    return connectPageResponse(c, GRAPH_DOWN.message, GRAPH_DOWN.status);
  }
  if (!token) return connectPageResponse(c, msg("err-wa-es-code"), 422);
  const done = await connectAndTest(c, {
    phoneNumberId: input.output.phoneNumberId,
    accessToken: token,
    wabaId: input.output.wabaId,
    pin: pin.output,
  });
  if (done instanceof Response) return done;
  return connectPageResponse(c, done.message, done.status);
}

// ---- the manual fallback: the phone number id, then the code Meta sends to the number ----

const CodeMethodField = v.picklist(["SMS", "VOICE"], msg("err-wa-code-method"));

const ManualCodeSchema = v.object({
  code: v.pipe(v.string(), v.trim(), v.regex(/^\d{6}$/, msg("err-wa-code-digits"))),
  pin: v.pipe(v.string(), v.trim(), v.regex(/^\d{6}$/, msg("err-wa-pin"))),
});

/** The pipeline's refusals on the manual path, by the field they are about. */
const MANUAL_ERRORS: Record<string, { status: number; field: string; message: string }> = {
  code_too_soon: { status: 429, field: "phoneNumberId", message: msg("err-wa-code-too-soon") },
  code_limit: { status: 429, field: "phoneNumberId", message: msg("err-wa-code-limit") },
  code_busy: { status: 429, field: "phoneNumberId", message: msg("err-wa-code-busy") },
  code_not_sent: { status: 422, field: "phoneNumberId", message: msg("err-wa-code-not-sent") },
  invalid_code_method: { status: 422, field: "codeMethod", message: msg("err-wa-code-method") },
  code_required: { status: 422, field: "code", message: msg("err-wa-code-digits") },
  wrong_code: { status: 422, field: "code", message: msg("err-wa-code-wrong") },
  code_attempts: { status: 429, field: "code", message: msg("err-wa-code-attempts") },
  no_code: { status: 422, field: "code", message: msg("err-wa-code-none") },
  invalid_pin: { status: 422, field: "pin", message: msg("err-wa-pin") },
  pin_mismatch: { status: 422, field: "pin", message: msg("err-wa-pin-mismatch") },
};

type ManualState = {
  step: "number" | "code";
  phoneNumberId: string;
  codeMethod: string;
  displayName?: string;
  code?: string;
  pin?: string;
};

function wizardField(c: AuthedCtx): Html | null {
  return fromWizard(c) ? html`<input type="hidden" name="from" value="wizard">` : null;
}

function radio(name: string, value: string, checked: boolean, label: string): Html {
  return html`<label><input type="radio" name="${name}" value="${value}"${checked ? html` checked` : null}> ${label}</label>`;
}

/** Step one: which number, and how Meta should send its code. */
function numberForm(c: AuthedCtx, st: ManualState, errors: FieldErrors | null): Html {
  const { t } = c;
  const methodError = errors?.codeMethod ?? null;
  return html`<p class="muted">${t("wa-manual-lead")}</p>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/whatsapp/manual" novalidate>
  ${csrfField(c)}
  ${wizardField(c)}
  ${field(c, {
    name: "phoneNumberId",
    label: t("wa-manual-id"),
    hint: t("wa-manual-id-hint"),
    value: st.phoneNumberId,
    error: errors?.phoneNumberId ?? null,
    attrs: html`required inputmode="numeric" autocomplete="off" pattern="[0-9]{5,32}" maxlength="32"`,
  })}
  <fieldset class="field"${methodError ? html` aria-invalid="true"` : null}><legend>${t("wa-manual-method")}</legend>
    ${radio("codeMethod", "SMS", st.codeMethod !== "VOICE", t("wa-manual-method-sms"))}
    ${radio("codeMethod", "VOICE", st.codeMethod === "VOICE", t("wa-manual-method-voice"))}
    ${methodError ? html`<span class="err">${t(methodError)}</span>` : null}
  </fieldset>
  <div><button type="submit">${t("wa-manual-send")}</button></div>
</form>`;
}

/** Step two: the code Meta sent to the number (the proof of control) and its two-step PIN. */
function codeForm(c: AuthedCtx, st: ManualState, errors: FieldErrors | null): Html {
  const { t } = c;
  return html`<p class="muted">${t("wa-manual-code-lead", { number: st.displayName ?? st.phoneNumberId })}</p>
${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/whatsapp/manual" novalidate>
  ${csrfField(c)}
  ${wizardField(c)}
  <input type="hidden" name="step" value="code">
  <input type="hidden" name="phoneNumberId" value="${st.phoneNumberId}">
  <input type="hidden" name="displayName" value="${st.displayName ?? ""}">
  ${field(c, {
    name: "code",
    label: t("wa-manual-code"),
    hint: t("wa-manual-code-hint"),
    value: "",
    error: errors?.code ?? null,
    attrs: html`required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"`,
  })}
  ${field(c, {
    name: "pin",
    label: t("wa-connect-pin"),
    hint: t("wa-connect-pin-hint"),
    value: "",
    error: errors?.pin ?? null,
    attrs: html`required inputmode="numeric" autocomplete="off" pattern="[0-9]{6}" maxlength="6"`,
  })}
  <div><button type="submit">${t("wa-manual-submit")}</button></div>
</form>
<form class="stack" method="post" action="/admin/whatsapp/manual">
  ${csrfField(c)}
  ${wizardField(c)}
  <input type="hidden" name="phoneNumberId" value="${st.phoneNumberId}">
  <input type="hidden" name="codeMethod" value="${st.codeMethod}">
  <div><button class="secondary" type="submit">${t("wa-manual-resend")}</button></div>
</form>`;
}

function manualPageResponse(c: AuthedCtx, st: ManualState, errors: FieldErrors | null, status = 200) {
  const body = st.step === "code" ? codeForm(c, st, errors) : numberForm(c, st, errors);
  return respond(c, page(c, { title: c.t("wa-manual-title"), section: "channels", body }), status);
}

/** GET /admin/whatsapp/manual: the fallback, typing the phone number id. */
export function manualPage(c: AuthedCtx): Promise<Response> {
  return manualPageResponse(c, { step: "number", phoneNumberId: "", codeMethod: "SMS" }, null);
}

/** A refusal shown next to the field it is about (or above the form when it is Meta's or ours). */
function refusal(code: string): { status: number; errors: FieldErrors } {
  const m = MANUAL_ERRORS[code];
  if (m) return { status: m.status, errors: { [m.field]: m.message } };
  const known = CONNECT_ERRORS[code];
  if (known && code !== "subscribe_failed" && code !== "register_failed") {
    return { status: known.status, errors: { phoneNumberId: known.message } };
  }
  const other = known ?? GRAPH_DOWN;
  return { status: other.status, errors: { _form: other.message } };
}

/**
 * POST /admin/whatsapp/manual, step one (no `step`): the id is checked, then the pipeline asks
 * Meta to send the number a code and the code form follows. A number this business already has
 * needs no proof: connected again as a no-op. Step two (`step=code`): the code and PIN go to the
 * pipeline, which has Meta check the code before the number is connected (and self-tested).
 */
export async function manualConnect(c: AuthedCtx): Promise<Response> {
  const typed = str(c.form, "phoneNumberId");
  const method = str(c.form, "codeMethod") || "SMS";
  const st: ManualState = { step: "number", phoneNumberId: typed, codeMethod: method };
  const checked = validate(v.object({ phoneNumberId: PhoneNumberIdField, codeMethod: CodeMethodField }), {
    phoneNumberId: typed,
    codeMethod: method,
  });
  if (!checked.ok) return manualPageResponse(c, st, checked.errors, 422);
  const phoneNumberId = checked.value.phoneNumberId;
  if (str(c.form, "step") === "code") {
    const code = { ...st, step: "code" as const, phoneNumberId, displayName: str(c.form, "displayName") };
    const input = validate(ManualCodeSchema, { code: str(c.form, "code"), pin: str(c.form, "pin") });
    if (!input.ok) return manualPageResponse(c, code, input.errors, 422);
    const done = await connectAndTest(c, { phoneNumberId, code: input.value.code, pin: input.value.pin });
    if (done instanceof Response) return done;
    // On the code form only the code and the PIN are fields: anything else is said above it.
    const r = refusal(done.code);
    const [key, message] = Object.entries(r.errors)[0]!;
    const errors = key === "code" || key === "pin" ? r.errors : { _form: message };
    return manualPageResponse(c, code, errors, r.status);
  }
  const mine = (await listConnectedAccounts(c.env.DB, c.session.tenantId)).some(
    (a) => a.channel === "whatsapp" && a.externalId === phoneNumberId,
  );
  if (mine) {
    const done = await connectAndTest(c, { phoneNumberId });
    if (done instanceof Response) return done;
    const r = refusal(done.code);
    return manualPageResponse(c, st, r.errors, r.status);
  }
  const asked = await c.env.PIPELINE.requestWhatsAppCode(c.session.tenantId, {
    phoneNumberId,
    codeMethod: checked.value.codeMethod,
    locale: c.locale,
  });
  if (!asked.ok) {
    const r = refusal(asked.error.code);
    return manualPageResponse(c, { ...st, phoneNumberId: typed }, r.errors, r.status);
  }
  return manualPageResponse(
    c,
    {
      step: "code",
      phoneNumberId,
      codeMethod: checked.value.codeMethod,
      displayName: asked.displayName,
    },
    null,
  );
}
