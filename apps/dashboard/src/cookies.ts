import { type Cookies, parseCookie, stringifySetCookie } from "cookie";

/** Cookie names carry the __Host- prefix: Secure, host-only, path /, so no subdomain can set them. */
export const SESSION_COOKIE = "__Host-concierge_session";
export const LOGIN_COOKIE = "__Host-concierge_login";
export const OAUTH_COOKIE = "__Host-concierge_oauth";

export type { Cookies };

/**
 * The request's cookies by name (the first of a repeated name wins). Parsed by the `cookie`
 * package, which never throws on a malformed header: a value that does not percent-decode is kept
 * as sent, so it simply matches nothing (no session, no state).
 */
export function readCookies(req: Request): Cookies {
  const header = req.headers.get("cookie");
  return header ? parseCookie(header) : {};
}

/**
 * A Set-Cookie for one of our cookies. The attributes are what the __Host- prefix requires
 * (Secure, Path=/, no Domain) plus HttpOnly (no script reads them) and SameSite=Lax (a top-level
 * GET from another site, such as an OAuth provider's redirect back, still carries them).
 */
export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return stringifySetCookie({
    name,
    value,
    path: "/",
    httpOnly: true,
    secure: true,
    sameSite: "lax",
    maxAge: maxAgeSeconds,
  });
}

/** Tells the browser to drop a cookie at once. */
export function clearCookie(name: string): string {
  return setCookie(name, "", 0);
}
