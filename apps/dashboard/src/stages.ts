// The stages itty-router runs around every route (src/routes.ts):
//
//   before   withContext → withSession → withLocale → requireOperator → requireSignIn → withForm
//            → checkCsrf → checkOperatorCsrf
//   route    the page's handler (or the 404 page)
//   catch    renderError: anything thrown above becomes an error page
//   finally  withSecurityHeaders: CSP with this response's nonce, no-store when signed in or
//            under /manage, …
//
// A `before` stage that returns a Response (the sign-in redirect, the CSRF refusal) ends the
// request there: itty skips the routes and still runs `finally`. Everything a stage finds is
// kept on the request, which is what handlers receive (src/http.ts).
import { AppError, createLogger, errorFields, readBodyLimited } from "@concierge/core";
import { timingSafeEqualString } from "@concierge/crypto";
import { DEFAULT_LOCALE, msg, translator } from "@concierge/i18n";
import type { IRequestStrict } from "itty-router";
import {
  accessDeniedPage,
  MANAGE_AREA,
  operatorCsrfFor,
  operatorCsrfMatches,
  verifyOperator,
} from "./access.ts";
import { assetVersion } from "./assets.ts";
import { readCookies, SESSION_COOKIE } from "./cookies.ts";
import { type Ctx, html, redirect } from "./http.ts";
import { errorPage } from "./layout.ts";
import { negotiateLocale } from "./locale.ts";
import { newNonce, withSecurityHeaders as securedCopy } from "./security.ts";
import { loadSession } from "./sessions.ts";

const log = createLogger("dashboard");

/** Forms are small; anything bigger is refused before it is parsed. */
const MAX_FORM_BYTES = 64 * 1024;

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The signed-in area: everything under /admin and /dashboard (the onboarding wizard), and
 * sign-out. It is decided from the path before routing, so a page added here cannot forget the
 * session or the CSRF check.
 */
export const SIGNED_IN_AREA = /^\/(?:admin|dashboard|sign-out)(?:\/|$)/;

/**
 * Razorpay's callbacks after Checkout: top-level POSTs from Razorpay's origin, so they carry no
 * CSRF token of ours and (the session cookie being SameSite=Lax) usually no session. They are the
 * only paths of the signed-in area let through without either, because they authenticate
 * themselves: the URL names our order or subscription, and the pipeline checks Razorpay's
 * signature against it (src/pages/checkout.ts explains the whole design).
 */
export const SELF_AUTHENTICATED = new Set([
  "/admin/billing/checkout/complete",
  "/admin/email/subscription/complete",
]);

const pathOf = (c: Ctx) => new URL(c.url).pathname;

/** Fills the request's context with its defaults: nothing is signed in, read or checked yet. */
export async function withContext(req: IRequestStrict, env: Env, exec: ExecutionContext): Promise<void> {
  const url = new URL(req.url);
  const context: Omit<Ctx, keyof IRequestStrict> = {
    env,
    exec,
    origin: url.origin,
    searchParams: url.searchParams,
    nonce: newNonce(),
    assetVersion: await assetVersion(env),
    cookies: readCookies(req),
    locale: DEFAULT_LOCALE,
    t: translator(DEFAULT_LOCALE),
    session: null,
    operator: null,
    operatorCsrf: "",
    form: new FormData(),
    partial: req.headers.get("x-partial") === "1",
    csp: {},
  };
  Object.assign(req, context);
}

/**
 * The live session of the session cookie, if any (a malformed cookie is simply no session). Not
 * under /manage: the operator panel knows only Cloudflare Access, so a tenant's session there is
 * neither looked up nor worth anything.
 */
export async function withSession(c: Ctx): Promise<void> {
  if (MANAGE_AREA.test(pathOf(c))) return;
  c.session = await loadSession(c.env.DB, c.cookies[SESSION_COOKIE]);
}

/** A signed-in tenant's own locale; otherwise the browser's preference among the shipped ones. */
export function withLocale(c: Ctx): void {
  c.locale = c.session?.locale ?? negotiateLocale(c.headers.get("accept-language"));
  c.t = translator(c.locale);
}

/** Signed-out visitors of the signed-in area go to sign in, and come back to where they were going. */
export function requireSignIn(c: Ctx): Response | undefined {
  if (c.session) return undefined;
  const url = new URL(c.url);
  if (!SIGNED_IN_AREA.test(url.pathname) || SELF_AUTHENTICATED.has(url.pathname)) return undefined;
  const next = c.method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
  return redirect(`/sign-in${next}`);
}

/**
 * The operator panel's guard: every path under /manage needs a valid Cloudflare Access token
 * (src/access.ts), decided from the path before routing, so that no /manage route can forget it.
 * Without one: 403, and nothing else runs (not even the form is read). With one: the operator
 * (the token's email) and their forms' CSRF token are on the context.
 */
export async function requireOperator(c: Ctx): Promise<Response | undefined> {
  if (!MANAGE_AREA.test(pathOf(c))) return undefined;
  const result = await verifyOperator(c);
  if (!result.ok) return accessDeniedPage(c, result.reason);
  c.operator = { email: result.identity.email };
  c.operatorCsrf = await operatorCsrfFor(result.identity.signature);
  return undefined;
}

/** The submitted form (urlencoded or multipart), read with a size limit: 413 past it. */
export async function withForm(c: Ctx): Promise<void> {
  if (c.method === "GET" || c.method === "HEAD") return;
  const type = c.headers.get("content-type") ?? "";
  const multipart = type.startsWith("multipart/form-data");
  if (!multipart && !type.startsWith("application/x-www-form-urlencoded")) return;
  const bytes = await readBodyLimited(
    c,
    MAX_FORM_BYTES,
    () => new AppError(413, "too_large", msg("error-too-large")),
  );
  const text = new TextDecoder().decode(bytes);
  if (multipart) {
    // A body that does not parse (no boundary, a broken part) is the sender's mistake: 400, not a
    // 500 and an error log, and no route runs on a half-read form.
    c.form = await new Response(text, { headers: { "content-type": type } }).formData().catch(() => {
      throw new AppError(400, "invalid_form", msg("error-bad-request"));
    });
    return;
  }
  const form = new FormData();
  for (const [k, v] of new URLSearchParams(text)) form.append(k, v);
  c.form = form;
}

/**
 * A state-changing request in the signed-in area must come from our own pages: same origin and
 * the session's token (the form's `_csrf` field, or app.js's `x-csrf-token` header).
 */
export async function checkCsrf(c: Ctx): Promise<Response | undefined> {
  const path = pathOf(c);
  if (!c.session || !STATE_CHANGING.has(c.method) || !SIGNED_IN_AREA.test(path)) return undefined;
  if (SELF_AUTHENTICATED.has(path)) return undefined;
  const origin = c.headers.get("origin");
  const sent = c.headers.get("x-csrf-token") ?? c.form.get("_csrf");
  const sameOrigin = !origin || origin === c.origin;
  if (sameOrigin && typeof sent === "string" && timingSafeEqualString(sent, c.session.csrfToken)) {
    return undefined;
  }
  return html(c, errorPage(c, 403, msg("error-csrf")), 403);
}

/**
 * A state-changing request under /manage must come from the panel's own pages: same origin (when
 * the browser says) and the operator's CSRF token (`_csrf` field or `x-csrf-token` header),
 * compared in constant time. Else 403 and nothing runs.
 */
export function checkOperatorCsrf(c: Ctx): Promise<Response> | undefined {
  if (!STATE_CHANGING.has(c.method) || !MANAGE_AREA.test(pathOf(c))) return undefined;
  const origin = c.headers.get("origin");
  const sent = c.headers.get("x-csrf-token") ?? c.form.get("_csrf");
  const sameOrigin = !origin || origin === c.origin;
  if (c.operator && sameOrigin && operatorCsrfMatches(sent, c.operatorCsrf)) return undefined;
  return html(c, errorPage(c, 403, msg("manage-access-csrf")), 403);
}

/**
 * The `catch` stage: an AppError is the answer it describes (status and message, as a page); any
 * other error is logged and becomes a 500 page that reveals nothing.
 */
export async function renderError(
  err: unknown,
  req: IRequestStrict,
  env: Env,
  exec: ExecutionContext,
): Promise<Response> {
  // The context stage runs first and does not fail; should it ever, the page still gets one.
  if (!("nonce" in req)) await withContext(req, env, exec);
  const c = req as Ctx;
  if (err instanceof AppError) return html(c, errorPage(c, err.status, err.message), err.status);
  log.error("request.failed", { ...errorFields(err), path: pathOf(c), method: c.method });
  return html(c, errorPage(c, 500, msg("error-internal")), 500);
}

/**
 * The `finally` stage: every answer (pages, redirects, errors, JSON) leaves with the security
 * headers and this response's nonce in its CSP; signed-in answers are never stored by caches.
 */
export function withSecurityHeaders(res: Response, c: Ctx): Response {
  const { "form-action": formAction, ...allow } = c.csp;
  const out = securedCopy(res, {
    nonce: c.nonce,
    allow,
    // The operator panel shows tenants' data: never kept by a cache either.
    noStore: c.session !== null || SIGNED_IN_AREA.test(pathOf(c)) || MANAGE_AREA.test(pathOf(c)),
  });
  // form-action is not among the directives security.ts widens; a page whose form posts to
  // another site (the checkout page, to Razorpay's hosted checkout) widens it here.
  if (formAction?.length) {
    const policy = out.headers.get("content-security-policy") ?? "";
    out.headers.set(
      "content-security-policy",
      policy.replace("form-action 'self'", `form-action 'self' ${formAction.join(" ")}`),
    );
  }
  return out;
}
