import { AppError, createLogger, errorFields, readBodyLimited } from "@concierge/core";
import { timingSafeEqualString } from "@concierge/crypto";
import { DEFAULT_LOCALE, msg, type Translate, translator } from "@concierge/i18n";
import type { IRequest } from "itty-router";
import { readCookie, SESSION_COOKIE } from "./cookies.ts";
import { type Html, renderHtml } from "./html.ts";
import { errorPage } from "./layout.ts";
import { newNonce, withSecurityHeaders } from "./security.ts";
import { loadSession, type Session } from "./sessions.ts";

const log = createLogger("dashboard");

/** Forms are small; anything bigger is refused before it is parsed. */
const MAX_FORM_BYTES = 64 * 1024;

export type Ctx = {
  req: Request;
  env: Env;
  exec: ExecutionContext;
  url: URL;
  params: Record<string, string>;
  nonce: string;
  locale: string;
  t: Translate;
  session: Session | null;
  /** The submitted form of a POST (already CSRF-checked on signed-in routes). */
  form: FormData;
  /** The request came from app.js asking for a fragment instead of the whole page. */
  partial: boolean;
};
export type AuthedCtx = Ctx & { session: Session };

type Handler<C> = (c: C) => Promise<Response> | Response;

/** Locale for signed-out pages: the browser's preference among the shipped ones. */
function browserLocale(req: Request): string {
  const accept = req.headers.get("accept-language") ?? "";
  const first = accept.split(",")[0]?.split(";")[0]?.trim().toLowerCase();
  if (first === "en-us") return "en-US";
  if (first === "en-in") return "en-IN";
  return DEFAULT_LOCALE;
}

export function html(_c: Ctx, body: Html, status = 200): Promise<Response> {
  return renderHtml(body).then(
    (text) => new Response(text, { status, headers: { "content-type": "text/html; charset=utf-8" } }),
  );
}

/** After a successful POST: back to a page with GET, so a reload never repeats the action. */
export function redirect(location: string, status = 303): Response {
  return new Response(null, { status, headers: { location } });
}

async function readForm(req: Request): Promise<FormData> {
  if (req.method === "GET" || req.method === "HEAD") return new FormData();
  const type = req.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
    return new FormData();
  }
  const bytes = await readBodyLimited(
    req,
    MAX_FORM_BYTES,
    () => new AppError(413, "too_large", msg("error-too-large")),
  );
  const text = new TextDecoder().decode(bytes);
  if (type.startsWith("multipart/form-data")) {
    return new Response(text, { headers: { "content-type": type } }).formData();
  }
  const form = new FormData();
  for (const [k, v] of new URLSearchParams(text)) form.append(k, v);
  return form;
}

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** A state-changing request must come from our own pages: same origin and the session's token. */
function csrfOk(c: Ctx, session: Session): boolean {
  const origin = c.req.headers.get("origin");
  if (origin && origin !== c.url.origin) return false;
  const sent = c.req.headers.get("x-csrf-token") ?? c.form.get("_csrf");
  return typeof sent === "string" && timingSafeEqualString(sent, session.csrfToken);
}

/**
 * Wraps a handler: nonce, locale, session, form, CSRF, errors as pages, security headers on
 * every answer. `auth: true` sends signed-out visitors to sign in.
 */
function wrap<C extends Ctx>(auth: boolean, handler: Handler<C>) {
  return async (req: IRequest, env: Env, exec: ExecutionContext): Promise<Response> => {
    const nonce = newNonce();
    const url = new URL(req.url);
    let c: Ctx = {
      req,
      env,
      exec,
      url,
      params: (req.params ?? {}) as Record<string, string>,
      nonce,
      locale: browserLocale(req),
      t: translator(browserLocale(req)),
      session: null,
      form: new FormData(),
      partial: req.headers.get("x-partial") === "1",
    };
    let res: Response;
    try {
      const session = await loadSession(env.DB, readCookie(req, SESSION_COOKIE));
      if (session) c = { ...c, session, locale: session.locale, t: translator(session.locale) };
      if (auth && !session) {
        const next = req.method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
        res = redirect(`/sign-in${next}`);
      } else {
        c.form = await readForm(req);
        if (auth && STATE_CHANGING.has(req.method) && !csrfOk(c, session!)) {
          res = await html(c, errorPage(c, 403, msg("error-csrf")), 403);
        } else {
          res = await handler(c as C);
        }
      }
    } catch (err) {
      if (err instanceof AppError) {
        res = await html(c, errorPage(c, err.status, err.message), err.status);
      } else {
        log.error("request.failed", { ...errorFields(err), path: url.pathname, method: req.method });
        res = await html(c, errorPage(c, 500, msg("error-internal")), 500);
      }
    }
    return withSecurityHeaders(res, nonce, auth || c.session !== null);
  };
}

export const publicRoute = (h: Handler<Ctx>) => wrap(false, h);
export const authedRoute = (h: Handler<AuthedCtx>) => wrap(true, h);

/** A missing or foreign id: the same 404 either way, so ids of other tenants reveal nothing. */
export function notFound(): never {
  throw new AppError(404, "not_found", msg("error-not-found"));
}
