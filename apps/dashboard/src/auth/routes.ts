import { isPlainAddress } from "@concierge/channels";
import { createLogger } from "@concierge/core";
import { timingSafeEqualString } from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import { getOnboarding, getTenant } from "@concierge/storage";
import { clearCookie, LOGIN_COOKIE, OAUTH_COOKIE, SESSION_COOKIE, setCookie } from "../cookies.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, type Ctx, redirect, html as respond } from "../http.ts";
import { errorPage, publicPage } from "../layout.ts";
import { createSession, revokeSession, SESSION_TTL_MS } from "../sessions.ts";
import { findOrCreateUser, type Identity, signupDefaults } from "../users.ts";
import { WIZARD_PATH } from "../wizard-return.ts";
import { facebookAuthorizeUrl, facebookIdentity } from "./facebook.ts";
import { googleAuthorizeUrl, googleIdentity, SignInError } from "./google.ts";
import {
  type PendingSignIn,
  pkceChallenge,
  putPendingSignIn,
  randomString,
  safeNext,
  takePendingSignIn,
} from "./state.ts";

const log = createLogger("dashboard");

/** The demo tenant `npm start` seeds; the development sign-in can join it. */
const DEMO_TENANT_ID = "t_demo";

export function isLocal(env: Env): boolean {
  return env.ENVIRONMENT === "local";
}

function html200(body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { headers: { "content-type": "text/html; charset=utf-8", ...headers } });
}

async function render(h: Html): Promise<string> {
  return (await h).toString();
}

/** What the development form was sent with, shown again next to its error. */
type DevTyped = { email?: string; business?: string; businessName?: string; nameError?: string };

function signInBody(
  c: Ctx,
  opts: { next: string; loginToken: string | null; error?: string } & DevTyped,
): Html {
  const { t } = c;
  const isNew = opts.business === "new";
  const next = encodeURIComponent(opts.next);
  return html`<div class="signin">
<h1>${t("signin-title")}</h1>
<p class="muted">${t("signin-lead")}</p>
${opts.error ? html`<p class="notice error" role="alert">${opts.error}</p>` : null}
<a class="button" href="/auth/google/start?next=${next}">${t("signin-google")}</a>
<a class="button secondary" href="/auth/facebook/start?next=${next}">${t("signin-facebook")}</a>
${
  opts.loginToken
    ? html`<form class="card stack" method="post" action="/auth/dev">
  <h2>${t("signin-dev-title")}</h2>
  <p class="muted">${t("signin-dev-lead")}</p>
  <input type="hidden" name="_login" value="${opts.loginToken}">
  <input type="hidden" name="next" value="${opts.next}">
  <div class="field"><label for="dev-email">${t("field-email")}</label>
    <input id="dev-email" name="email" type="email" required value="${opts.email ?? "owner@demo.test"}" autocomplete="email"></div>
  <fieldset class="field"><legend>${t("signin-dev-business")}</legend>
    <label><input type="radio" name="business" value="demo"${isNew ? null : html` checked`}> ${t("signin-dev-demo")}</label>
    <label><input type="radio" name="business" value="new"${isNew ? html` checked` : null}> ${t("signin-dev-new")}</label>
  </fieldset>
  <div class="field"><label for="dev-name">${t("signin-dev-name")}</label>
    <input id="dev-name" name="businessName" type="text" maxlength="80" value="${opts.businessName ?? t("signup-business")}"${
      opts.nameError ? html` aria-invalid="true" aria-describedby="dev-name-err"` : null
    }>
    ${opts.nameError ? html`<span class="err" id="dev-name-err">${t(opts.nameError)}</span>` : null}</div>
  <button type="submit">${t("signin-dev-submit")}</button>
</form>`
    : null
}
</div>`;
}

export async function signInPage(c: Ctx): Promise<Response> {
  if (c.session) return redirect(safeNext(c.searchParams.get("next")));
  return signInResponse(c, { next: safeNext(c.searchParams.get("next")) });
}

async function signInResponse(
  c: Ctx,
  opts: { next: string; error?: string } & DevTyped,
  status = 200,
): Promise<Response> {
  // The development form is protected against login CSRF by a double-submit token.
  const loginToken = isLocal(c.env) ? randomString(16) : null;
  const body = await render(
    publicPage(c, { title: c.t("signin-title"), body: signInBody(c, { ...opts, loginToken }) }),
  );
  // no-store: the page carries this browser's login token.
  const res = html200(body, {
    "cache-control": "no-store",
    ...(loginToken ? { "set-cookie": setCookie(LOGIN_COOKIE, loginToken, 3600) } : {}),
  });
  return status === 200 ? res : new Response(res.body, { status, headers: res.headers });
}

/**
 * Where a sign-in lands: the wizard for a tenant this sign-in created, and for one that started
 * the wizard without launching when nothing else was asked for (it resumes); else `next`. A
 * tenant that never started the wizard (seeds, test fixtures, tenants older than it) is never
 * sent there.
 */
async function landing(c: Ctx, tenantId: string, createdTenant: boolean, next: string): Promise<string> {
  if (createdTenant) return WIZARD_PATH;
  if (next !== "/admin") return next;
  const ob = await getOnboarding(c.env.DB, tenantId);
  return ob && ob.launchedAt === null && ob.wizardStep >= 1 && ob.wizardStep <= 4 ? WIZARD_PATH : next;
}

/** Starts a session for this person and lands them on `next` (or the wizard: `landing`). */
async function completeSignIn(
  c: Ctx,
  who: Identity,
  next: string,
  signup: { tenantId?: string; businessName?: string } = {},
): Promise<Response> {
  const fallbackName = who.name
    ? c.t("signup-business-of", { name: who.name.slice(0, 60) })
    : c.t("signup-business");
  const { user, createdTenant } = await findOrCreateUser(c.env.DB, c.env.PIPELINE, who, {
    businessName: signup.businessName ?? fallbackName,
    // Negotiated from the browser: c.locale is its Accept-Language (no session yet, or another
    // tenant's), cf.timezone where Cloudflare located it.
    ...signupDefaults(c.locale, c.cf?.timezone),
    ...(signup.tenantId ? { tenantId: signup.tenantId } : {}),
  });
  // A sign-in replaces whatever session this browser had: the old token stops working at once.
  if (c.session) await revokeSession(c.env.DB, c.session.tokenHash);
  const { token } = await createSession(c.env.DB, user);
  log.info("auth.signed_in", { provider: who.provider, user_id: user.id, tenant_id: user.tenantId });
  const headers = new Headers({ location: await landing(c, user.tenantId, createdTenant, safeNext(next)) });
  headers.append("set-cookie", setCookie(SESSION_COOKIE, token, SESSION_TTL_MS / 1000));
  headers.append("set-cookie", clearCookie(OAUTH_COOKIE));
  headers.append("set-cookie", clearCookie(LOGIN_COOKIE));
  return new Response(null, { status: 303, headers });
}

function callbackUrl(c: Ctx, provider: "google" | "facebook"): string {
  return `${c.origin}/auth/${provider}/callback`;
}

async function refuse(c: Ctx, reason: string, next = "/admin"): Promise<Response> {
  log.warn("auth.refused", { reason });
  return signInResponse(c, { next, error: c.t("signin-failed") }, 400);
}

function startRedirect(location: string, state: string): Response {
  const headers = new Headers({ location });
  // Binds the flow to this browser: a callback URL planted in another browser has no cookie.
  headers.append("set-cookie", setCookie(OAUTH_COOKIE, state, 600));
  return new Response(null, { status: 302, headers });
}

export async function googleStart(c: Ctx): Promise<Response> {
  const state = randomString();
  const verifier = randomString(48);
  const nonce = randomString();
  const next = safeNext(c.searchParams.get("next"));
  await putPendingSignIn(c.env.KV, state, { provider: "google", next, verifier, nonce });
  const location = await googleAuthorizeUrl(c.env, {
    redirectUri: callbackUrl(c, "google"),
    state,
    nonce,
    challenge: await pkceChallenge(verifier),
  });
  return startRedirect(location, state);
}

export async function facebookStart(c: Ctx): Promise<Response> {
  const state = randomString();
  const next = safeNext(c.searchParams.get("next"));
  await putPendingSignIn(c.env.KV, state, { provider: "facebook", next });
  return startRedirect(
    facebookAuthorizeUrl(c.env, { redirectUri: callbackUrl(c, "facebook"), state }),
    state,
  );
}

async function pendingFor(
  c: Ctx,
  provider: "google" | "facebook",
): Promise<{ ok: true; pending: PendingSignIn } | { ok: false; error: string }> {
  const state = c.searchParams.get("state") ?? "";
  const cookie = c.cookies[OAUTH_COOKIE] ?? "";
  if (!state || !cookie || !timingSafeEqualString(state, cookie))
    return { ok: false, error: "state_mismatch" };
  const pending = await takePendingSignIn(c.env.KV, state);
  if (!pending || pending.provider !== provider) return { ok: false, error: "state_unknown" };
  return { ok: true, pending };
}

export async function googleCallback(c: Ctx): Promise<Response> {
  const found = await pendingFor(c, "google");
  if (!found.ok) return refuse(c, found.error);
  const { pending } = found;
  const code = c.searchParams.get("code");
  if (!code || !pending.verifier || !pending.nonce) return refuse(c, "no_code", pending.next);
  try {
    const who = await googleIdentity(c.env, {
      code,
      redirectUri: callbackUrl(c, "google"),
      verifier: pending.verifier,
      nonce: pending.nonce,
    });
    return await completeSignIn(c, who, pending.next);
  } catch (err) {
    if (err instanceof SignInError) return refuse(c, err.message, pending.next);
    throw err;
  }
}

export async function facebookCallback(c: Ctx): Promise<Response> {
  const found = await pendingFor(c, "facebook");
  if (!found.ok) return refuse(c, found.error);
  const { pending } = found;
  const code = c.searchParams.get("code");
  if (!code) return refuse(c, "no_code", pending.next);
  try {
    const who = await facebookIdentity(c.env, { code, redirectUri: callbackUrl(c, "facebook") });
    return await completeSignIn(c, who, pending.next);
  } catch (err) {
    if (err instanceof SignInError) return refuse(c, err.message, pending.next);
    throw err;
  }
}

/** Development sign-in: exists only when the app runs locally (ENVIRONMENT=local). */
export async function devSignIn(c: Ctx): Promise<Response> {
  if (!isLocal(c.env)) return respond(c, errorPage(c, 404, msg("error-not-found")), 404);
  const sent = c.form.get("_login");
  const cookie = c.cookies[LOGIN_COOKIE];
  if (typeof sent !== "string" || !cookie || !timingSafeEqualString(sent, cookie)) {
    return signInResponse(c, { next: "/admin", error: c.t(msg("error-csrf")) }, 403);
  }
  const next = safeNext(String(c.form.get("next") ?? ""));
  const email = String(c.form.get("email") ?? "")
    .trim()
    .toLowerCase();
  if (!isPlainAddress(email)) {
    return signInResponse(c, { next, email, error: c.t("signin-dev-bad-email") }, 400);
  }
  const joinDemo = c.form.get("business") !== "new";
  const typedName = String(c.form.get("businessName") ?? "");
  const name = typedName.trim().slice(0, 80);
  const who: Identity = { provider: "dev", subject: email, email, name: null };
  if (joinDemo) {
    if (await getTenant(c.env.DB, DEMO_TENANT_ID))
      return completeSignIn(c, who, next, { tenantId: DEMO_TENANT_ID });
  }
  // A new business needs a name: said next to the field, never replaced by a made-up one.
  if (!name && !joinDemo) {
    const typed = {
      email,
      business: "new",
      businessName: typedName,
      nameError: msg("signin-dev-name-missing"),
    };
    return signInResponse(c, { next, error: c.t("form-has-errors"), ...typed }, 422);
  }
  return completeSignIn(c, who, next, { businessName: name || c.t("signup-business") });
}

export async function signOut(c: AuthedCtx): Promise<Response> {
  await revokeSession(c.env.DB, c.session.tokenHash);
  const headers = new Headers({ location: "/sign-in" });
  headers.append("set-cookie", clearCookie(SESSION_COOKIE));
  return new Response(null, { status: 303, headers });
}
