// What a handler gets and gives back. The request itself carries the request's context: itty-router
// passes the same request object through the router's `before` stages, the route's handler and
// the `finally` stages (src/stages.ts), and each stage adds what it found (as itty's own
// middleware adds `params` and `query`).
import { AppError, type Operator } from "@concierge/core";
import type { Translate } from "@concierge/i18n";
import { msg } from "@concierge/i18n";
import type { IRequestStrict } from "itty-router";
import type { Cookies } from "./cookies.ts";
import { type Html, renderHtml } from "./html.ts";
import type { CspAllowance } from "./security.ts";
import type { Session } from "./sessions.ts";

export type Ctx = IRequestStrict & {
  /** What Cloudflare knows of the visitor (workerd's request.cf): e.g. its time zone at sign-up. */
  cf?: IncomingRequestCfProperties;
  env: Env;
  exec: ExecutionContext;
  /** The request URL's origin and query (`url` itself stays the request's string URL). */
  origin: string;
  searchParams: URLSearchParams;
  /** This response's CSP nonce: only scripts and styles rendered with it run. */
  nonce: string;
  /** The `?v=` of the stylesheet and script links: changes with their content. */
  assetVersion: string;
  cookies: Cookies;
  /** The signed-in tenant's locale, or the browser's preference among the shipped ones. */
  locale: string;
  t: Translate;
  session: Session | null;
  /**
   * Under /manage: the operator Cloudflare Access let in (the verified token's email), and the
   * CSRF token their forms carry (src/access.ts). Null and empty everywhere else; the tenant
   * session plays no part there.
   */
  operator: Operator | null;
  operatorCsrf: string;
  /** The submitted form of a POST (already CSRF-checked on signed-in routes). */
  form: FormData;
  /** The request came from app.js asking for a fragment instead of the whole page. */
  partial: boolean;
  /** Sources this response adds to the CSP (see allowInCsp); empty for almost every page. */
  csp: PageCsp;
};

/**
 * What one response may add to the CSP: security.ts's allowance, and form-action for a form that
 * posts to another site (the checkout page's, to Razorpay's hosted checkout).
 */
export type PageCsp = CspAllowance & { "form-action"?: string[] };
/** A handler of a route under the signed-in area: the session is there (src/stages.ts). */
export type AuthedCtx = Ctx & { session: Session };
/** A handler of a route under /manage: Access has let the operator in (src/stages.ts). */
export type OperatorCtx = Ctx & { operator: Operator };

export function html(_c: Ctx, body: Html, status = 200): Promise<Response> {
  return renderHtml(body).then(
    (text) => new Response(text, { status, headers: { "content-type": "text/html; charset=utf-8" } }),
  );
}

/** After a successful POST: back to a page with GET, so a reload never repeats the action. */
export function redirect(location: string, status = 303): Response {
  return new Response(null, { status, headers: { location } });
}

/** A missing or foreign id: the same 404 either way, so ids of other tenants reveal nothing. */
export function notFound(): never {
  throw new AppError(404, "not_found", msg("error-not-found"));
}

/**
 * Widens this response's CSP (Embedded Signup loads Meta's SDK; the checkout page, Razorpay's
 * Checkout); every other page keeps the strict default. The `finally` stage writes the policy
 * from it.
 */
export function allowInCsp(c: Ctx, allow: PageCsp): void {
  c.csp = allow;
}
