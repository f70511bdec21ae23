// What the dashboard's Worker tests share: signing in through the real development sign-in,
// and requests carrying that session's cookie and CSRF token.
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";

export const ORIGIN = "https://dash.test";

/**
 * A request to the dashboard as Cloudflare hands it over: with the visitor's CF-Connecting-IP, a
 * fresh address each time unless the test gives one, so the per-visitor limits (sign-in, the
 * demo) see many visitors rather than one (test/rate-limits.test.ts sends its own).
 */
export function app(path: string, init: RequestInit = {}): Promise<Response> {
  const req = new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init });
  if (!req.headers.has("cf-connecting-ip")) req.headers.set("cf-connecting-ip", randomTestIp());
  return exports.default.fetch(req);
}

/** An address in IPv6's documentation prefix (2001:db8::/32), a new /64 each time. */
function randomTestIp(): string {
  const hex = () => crypto.randomUUID().slice(0, 4);
  return `2001:db8:${hex()}:${hex()}::1`;
}

/** The value of one Set-Cookie by name (the cookie's own value, decoded). */
export function cookieValue(res: Response, name: string): string | null {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    if (pair!.slice(0, eq) === name) return decodeURIComponent(pair!.slice(eq + 1));
  }
  return null;
}

export function csrfFrom(html: string): string {
  const m = /<meta name="csrf-token" content="([^"]+)">/.exec(html);
  if (!m) throw new Error("no csrf-token meta on the page");
  return m[1]!;
}

export type TestSession = { cookie: string; csrf: string; tenantId: string; userId: string; email: string };

let n = 0;
/**
 * Signs in through the development sign-in as a new person; `business: "new"` (the default) makes
 * a fresh tenant, so tests never see each other's data. A new tenant starts with its trial credits
 * (50, expiring); `trial: false` lets them expire at once, for tests that count credits from zero.
 */
export async function signIn(
  opts: { email?: string; business?: "new" | "demo"; name?: string; trial?: boolean } = {},
): Promise<TestSession> {
  n += 1;
  const email = opts.email ?? `owner${n}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const page = await app("/sign-in");
  const login = cookieValue(page, "__Host-concierge_login")!;
  const res = await app("/auth/dev", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `__Host-concierge_login=${login}`,
    },
    body: new URLSearchParams({
      _login: login,
      email,
      business: opts.business ?? "new",
      businessName: opts.name ?? "Test business",
      next: "/admin/conversations",
    }),
  });
  expect(res.status).toBe(303);
  const token = cookieValue(res, "__Host-concierge_session");
  expect(token).toBeTruthy();
  const cookie = `__Host-concierge_session=${token}`;
  const html = await (await app("/admin/conversations", { headers: { cookie } })).text();
  const user = await env.DB.prepare(
    "SELECT id, tenant_id AS tenantId FROM users WHERE provider = 'dev' AND subject = ?",
  )
    .bind(email)
    .first<{ id: string; tenantId: string }>();
  if (opts.trial === false) await expireTrial(user!.tenantId);
  return {
    cookie,
    csrf: csrfFrom(html),
    tenantId: user!.tenantId,
    userId: user!.id,
    email,
  } satisfies TestSession;
}

export function get(s: TestSession | null, path: string, headers: Record<string, string> = {}) {
  return app(path, { headers: { ...(s ? { cookie: s.cookie } : {}), ...headers } });
}

/** A form POST as the browser sends it; `csrf: false` leaves the token out, a string replaces it. */
export function post(
  s: TestSession | null,
  path: string,
  fields: Record<string, string | number> = {},
  opts: { csrf?: false | string; headers?: Record<string, string> } = {},
) {
  const body = new URLSearchParams();
  if (s && opts.csrf !== false) body.set("_csrf", typeof opts.csrf === "string" ? opts.csrf : s.csrf);
  for (const [k, v] of Object.entries(fields)) body.append(k, String(v));
  return app(path, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(s ? { cookie: s.cookie } : {}),
      ...opts.headers,
    },
    body,
  });
}

/**
 * The tenant's trial credits, expired a moment ago and emptied, so that no debit dated earlier
 * (the insights tests date theirs) can take from them either. The lot stays, as an expired one does.
 */
export async function expireTrial(tenantId: string): Promise<void> {
  await env.DB.prepare("UPDATE credit_lots SET remaining = 0, expires_at = ? WHERE id = ?")
    .bind(Date.now() - 1, `lot:${tenantId}:trial`)
    .run();
}
