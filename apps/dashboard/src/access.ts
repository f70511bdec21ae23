// Cloudflare Access in front of the operator panel (/manage/*). In production Access stands
// before the Worker and adds its application token to every request it lets through, in the
// `Cf-Access-Jwt-Assertion` header; the Worker still verifies it (a request that reaches the
// Worker another way, or with a forged header, gets nothing): RS256 by a key of the team's
// certs, this application's AUD tag, the team's issuer, expiry. Fail closed: no configuration,
// no token, or any doubt → 403, and the reason goes to the log only.
//
// Locally there is no Access in front: the sandbox plays it (packages/sandbox/src/access.ts) and
// the browser keeps its token in the `CF_Authorization` cookie, as Access's own cookie. Only when
// ENVIRONMENT is "local" is that cookie read (verified the same way); nowhere else is there any
// other way in.
import { createLogger } from "@concierge/core";
import { timingSafeEqualString, sha256Base64Url } from "@concierge/crypto";
import {
  type AccessRefusal,
  type AccessResult,
  createAccessVerifier,
  normalizeTeamDomain,
} from "@concierge/crypto/access-jwt";
import type { Cookies } from "./cookies.ts";
import { html as h } from "./html.ts";
import { type Ctx, html, redirect } from "./http.ts";
import { publicPage } from "./layout.ts";

const log = createLogger("dashboard");

export const ACCESS_HEADER = "cf-access-jwt-assertion";
/** Access's own cookie name; read only when ENVIRONMENT is local. */
export const ACCESS_COOKIE = "CF_Authorization";

/** The paths behind Access: /manage and everything under it. */
export const MANAGE_AREA = /^\/manage(?:\/|$)/;

type AccessEnv = Pick<Env, "ENVIRONMENT" | "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD"> & {
  /**
   * Test-only, and read only when ENVIRONMENT is "local": the least time between two fetches of
   * the certs. The tests set 0 so that each unknown kid shows its one refetch; the cooldown itself
   * is tested in packages/crypto. Anywhere else a stray value could turn made-up kids into a flood
   * of requests to the team's certs, so it is ignored there.
   */
  ACCESS_JWKS_COOLDOWN_MS?: string;
};

/** The certs' refetch cooldown outside local, whatever the environment says. */
export const ACCESS_JWKS_COOLDOWN_MS = 30_000;

/** The refetch cooldown this environment gets: the test-only override counts locally only. */
export function accessJwksCooldownMs(env: AccessEnv): number {
  if (env.ENVIRONMENT !== "local") return ACCESS_JWKS_COOLDOWN_MS;
  const raw = (env.ACCESS_JWKS_COOLDOWN_MS ?? "").trim();
  const n = raw === "" ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : ACCESS_JWKS_COOLDOWN_MS;
}

/** One verifier (and key cache) per isolate and cooldown; a deployment only ever uses one. */
const verifiers = new Map<number, ReturnType<typeof createAccessVerifier>>();

function accessVerifier(env: AccessEnv) {
  const cooldown = accessJwksCooldownMs(env);
  let verifier = verifiers.get(cooldown);
  if (!verifier) {
    verifier = createAccessVerifier({ refetchCooldownMs: cooldown });
    // One cooldown per deployment; bounded all the same.
    if (verifiers.size >= 4) verifiers.clear();
    verifiers.set(cooldown, verifier);
  }
  return verifier;
}

/** The token this request carries: the header, or (local only) Access's cookie. */
export function accessTokenOf(headers: Headers, cookies: Cookies, environment: string): string | null {
  const header = headers.get(ACCESS_HEADER);
  if (header) return header;
  if (environment === "local") return cookies[ACCESS_COOKIE] || null;
  return null;
}

/** Why the configuration cannot verify anything, or null when it can. */
export function accessConfigProblem(env: AccessEnv): string | null {
  const team = normalizeTeamDomain(env.ACCESS_TEAM_DOMAIN ?? "");
  if (!team || !(env.ACCESS_AUD ?? "").trim()) return "ACCESS_TEAM_DOMAIN or ACCESS_AUD is not set";
  // Cloudflare's team domains are https; plain http is the sandbox's, on this machine only.
  if (env.ENVIRONMENT !== "local" && !team.startsWith("https://")) return "ACCESS_TEAM_DOMAIN is not https";
  return null;
}

/** Verifies the request's Access token: the operator, or why not. */
export async function verifyOperator(c: Ctx): Promise<AccessResult> {
  const env = c.env as AccessEnv;
  const problem = accessConfigProblem(env);
  if (problem) {
    log.error("access.not_configured", { problem });
    return { ok: false, reason: "not_configured" };
  }
  const token = accessTokenOf(c.headers, c.cookies, env.ENVIRONMENT);
  return accessVerifier(env).verify(token, { teamDomain: env.ACCESS_TEAM_DOMAIN, aud: env.ACCESS_AUD });
}

/**
 * The CSRF token of the operator's forms: derived from the verified token's signature, so it is
 * unguessable, never stored, and changes only when Access issues a new token.
 */
export function operatorCsrfFor(signature: string): Promise<string> {
  return sha256Base64Url(`manage-csrf:${signature}`);
}

export function operatorCsrfMatches(sent: unknown, expected: string): boolean {
  return typeof sent === "string" && expected !== "" && timingSafeEqualString(sent, expected);
}

/** The one page anyone Access did not let in sees, whatever the reason (logged, not shown). */
export function accessDeniedPage(c: Ctx, reason: AccessRefusal): Promise<Response> {
  const path = new URL(c.url).pathname;
  log.warn("access.refused", { reason, path, method: c.method });
  const title = c.t("manage-access-title");
  const local = c.env.ENVIRONMENT === "local" && !accessConfigProblem(c.env);
  // Locally, the way in is the sandbox's sign-in page, which comes back to the page asked for.
  const signIn = local
    ? `${normalizeTeamDomain(c.env.ACCESS_TEAM_DOMAIN)}/cdn-cgi/access/login?redirect_url=${encodeURIComponent(
        c.origin + (c.method === "GET" ? path + new URL(c.url).search : "/manage"),
      )}`
    : null;
  const body = h`<h1>${title}</h1>
    <p>${c.t("manage-access-denied")}</p>
    ${
      signIn
        ? h`<p><a class="button" href="${signIn}">${c.t("manage-access-sign-in-local")}</a></p>
    <p class="muted">${c.t("manage-access-local-note")}</p>`
        : ""
    }
    <p><a href="/">${c.t("manage-access-back")}</a></p>`;
  return html(c, publicPage(c, { title, body }), 403);
}

/**
 * Only a path of this site: a "/" not followed by another "/" (`//host` is another site), and
 * printable ASCII without a backslash (browsers read `/\host` as `//host`, and drop the tab or newline
 * in `/<tab>/host`). Anything else goes to /manage.
 */
const LOCAL_PATH = /^\/(?!\/)[!-[\]-~]*$/;
export function safeLocalPath(raw: string | null): string {
  return raw && LOCAL_PATH.test(raw) ? raw : "/manage";
}

/**
 * GET /cdn-cgi/access/authorized?token=…&redirect_url=/manage… (local only; 404 elsewhere, where
 * Cloudflare itself answers this path). The sandbox's Access sign-in lands here: the token is
 * verified, kept in Access's cookie for this host, and the browser goes on to the page it asked
 * for, which must be a path of this site.
 */
export async function accessAuthorized(c: Ctx): Promise<Response | undefined> {
  if (c.env.ENVIRONMENT !== "local") return undefined; // the 404 page
  const token = c.searchParams.get("token");
  const result = await accessVerifier(c.env as AccessEnv).verify(token, {
    teamDomain: c.env.ACCESS_TEAM_DOMAIN,
    aud: c.env.ACCESS_AUD,
  });
  if (!result.ok) return accessDeniedPage(c, result.reason);
  const res = redirect(safeLocalPath(c.searchParams.get("redirect_url")), 302);
  res.headers.append(
    "set-cookie",
    [
      `${ACCESS_COOKIE}=${token}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Lax",
      "Max-Age=86400",
      ...(c.origin.startsWith("https:") ? ["Secure"] : []),
    ].join("; "),
  );
  return res;
}
