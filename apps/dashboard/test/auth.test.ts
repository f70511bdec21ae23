import { env } from "cloudflare:workers";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { parseSetCookie } from "cookie";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { app, cookieValue, get, ORIGIN, post, signIn } from "./helpers.ts";

const OAUTH_COOKIE = "__Host-concierge_oauth";
const SESSION_COOKIE = "__Host-concierge_session";
/** What every cookie of ours is set with (the __Host- prefix requires Secure and Path=/, no Domain). */
const HOST_COOKIE = { path: "/", httpOnly: true, secure: true, sameSite: "lax" } as const;

async function fault(provider: "google" | "facebook", name: string) {
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/oauth/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ provider, fault: name }),
  });
  expect(res.status).toBe(200);
}

/**
 * Walks a provider's flow as a browser would: our start redirect, the provider's consent (the
 * sandbox's login_hint shortcut), back to our callback with the flow cookie.
 */
async function begin(provider: "google" | "facebook", email: string, next = "/admin/conversations") {
  const start = await app(`/auth/${provider}/start?next=${encodeURIComponent(next)}`);
  expect(start.status).toBe(302);
  const flow = cookieValue(start, OAUTH_COOKIE)!;
  const authorize = new URL(start.headers.get("location")!);
  authorize.searchParams.set("login_hint", email);
  const consent = await fetch(authorize, { redirect: "manual" });
  expect(consent.status).toBe(302);
  const callback = new URL(consent.headers.get("location")!);
  return { authorize, callback, flow };
}

function finish(callback: URL, flow: string | null) {
  return app(`${callback.pathname}${callback.search}`, {
    headers: flow ? { cookie: `${OAUTH_COOKIE}=${flow}` } : {},
  });
}

async function usersWithEmail(email: string) {
  const { results } = await env.DB.prepare("SELECT provider, tenant_id FROM users WHERE email = ?")
    .bind(email)
    .all();
  return results;
}

async function sessionCount() {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions").first<{ n: number }>())!.n;
}

describe("Google sign-in", () => {
  it("sends the browser to Google with state, nonce and a PKCE S256 challenge", async () => {
    const start = await app("/auth/google/start");
    const url = new URL(start.headers.get("location")!);
    expect(url.origin + url.pathname).toBe(`${env.SANDBOX_URL}/google/o/oauth2/v2/auth`);
    expect(url.searchParams.get("client_id")).toBe(TEST_SECRETS.googleClientId);
    expect(url.searchParams.get("redirect_uri")).toBe(`${ORIGIN}/auth/google/callback`);
    expect(url.searchParams.get("scope")).toBe("openid email profile");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(cookieValue(start, OAUTH_COOKIE)).toBe(url.searchParams.get("state"));
    expect(parseSetCookie(start.headers.getSetCookie()[0]!)).toMatchObject(HOST_COOKIE);
  });

  it("signs a new person up with a verified ID token and lands them on the onboarding wizard", async () => {
    const email = `g-${crypto.randomUUID()}@example.com`;
    const { callback, flow } = await begin("google", email);
    const res = await finish(callback, flow);
    expect(res.status).toBe(303);
    // A tenant this sign-in created starts the wizard, whatever page was asked for.
    expect(res.headers.get("location")).toBe("/dashboard/wizard");
    const session = cookieValue(res, SESSION_COOKIE);
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookieLine = res.headers.getSetCookie().find((l) => l.startsWith(SESSION_COOKIE))!;
    expect(parseSetCookie(cookieLine)).toMatchObject({ ...HOST_COOKIE, maxAge: 14 * 24 * 3600 });
    expect(await usersWithEmail(email)).toEqual([
      { provider: "google", tenant_id: expect.stringMatching(/^t_/) },
    ]);
    const page = await get({ cookie: `${SESSION_COOKIE}=${session}` } as never, "/admin/conversations");
    expect(page.status).toBe(200);

    // Signing in again finds the same person and tenant, and lands on the page asked for.
    const again = await begin("google", email);
    const second = await finish(again.callback, again.flow);
    expect(second.status).toBe(303);
    expect(second.headers.get("location")).toBe("/admin/conversations");
    expect(await usersWithEmail(email)).toHaveLength(1);
  });

  it("refuses a callback whose state is not the one this browser started", async () => {
    const { callback } = await begin("google", `g-${crypto.randomUUID()}@example.com`);
    const before = await sessionCount();
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state-forged-state-forged");
    expect((await finish(forged, "forged-state-forged-state-forged")).status).toBe(400);
    expect((await finish(callback, null)).status).toBe(400);
    expect(await sessionCount()).toBe(before);
  });

  it("refuses a replayed callback: a state works once", async () => {
    const { callback, flow } = await begin("google", `g-${crypto.randomUUID()}@example.com`);
    expect((await finish(callback, flow)).status).toBe(303);
    const replay = await finish(callback, flow);
    expect(replay.status).toBe(400);
    expect(cookieValue(replay, SESSION_COOKIE)).toBeNull();
  });

  for (const bad of ["bad_signature", "wrong_nonce", "wrong_audience", "wrong_issuer", "expired"]) {
    it(`refuses an ID token with ${bad.replace("_", " ")} and creates no session or user`, async () => {
      const email = `g-${crypto.randomUUID()}@example.com`;
      const { callback, flow } = await begin("google", email);
      await fault("google", bad);
      const before = await sessionCount();
      const res = await finish(callback, flow);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("Sign-in did not complete");
      expect(cookieValue(res, SESSION_COOKIE)).toBeNull();
      expect(await sessionCount()).toBe(before);
      expect(await usersWithEmail(email)).toEqual([]);
    });
  }

  const hostile = [
    "//evil.example/x",
    "/\t/evil.example",
    "/\\evil.example",
    "https://evil.example",
    "/\n/evil.example",
  ];
  // A returning person (a first sign-in made their tenant, which lands on the wizard instead).
  const signedUp = async () => {
    const email = `g-${crypto.randomUUID()}@example.com`;
    const first = await begin("google", email);
    expect((await finish(first.callback, first.flow)).status).toBe(303);
    return email;
  };
  for (const next of hostile) {
    it(`never redirects after sign-in to another site (next=${JSON.stringify(next)})`, async () => {
      const email = await signedUp();
      const { callback, flow } = await begin("google", email, next);
      const res = await finish(callback, flow);
      expect(res.headers.get("location")).toBe("/admin");
    });
  }

  it("keeps the path, query and fragment of a safe next", async () => {
    const { callback, flow } = await begin("google", await signedUp(), "/admin/rules?x=1#y");
    expect((await finish(callback, flow)).headers.get("location")).toBe("/admin/rules?x=1#y");
  });
});

describe("Facebook sign-in", () => {
  it("signs a person in through the dialog, the server-side code exchange and /me", async () => {
    const email = `f-${crypto.randomUUID()}@example.com`;
    const { authorize, callback, flow } = await begin("facebook", email);
    expect(authorize.searchParams.get("client_id")).toBe(TEST_SECRETS.facebookAppId);
    expect(authorize.searchParams.get("state")).toBe(flow);
    const res = await finish(callback, flow);
    expect(res.status).toBe(303);
    expect(cookieValue(res, SESSION_COOKIE)).toBeTruthy();
    expect(await usersWithEmail(email)).toEqual([{ provider: "facebook", tenant_id: expect.any(String) }]);
  });

  it("refuses a forged state and a failed code exchange", async () => {
    const { callback, flow } = await begin("facebook", `f-${crypto.randomUUID()}@example.com`);
    const forged = new URL(callback);
    forged.searchParams.set("state", "x".repeat(43));
    expect((await finish(forged, flow)).status).toBe(400);

    const second = await begin("facebook", `f-${crypto.randomUUID()}@example.com`);
    await fault("facebook", "bad_code");
    const res = await finish(second.callback, second.flow);
    expect(res.status).toBe(400);
    expect(cookieValue(res, SESSION_COOKIE)).toBeNull();
  });
});

describe("development sign-in", () => {
  it("does not exist outside local mode", async () => {
    const req = new Request(`${ORIGIN}/auth/dev`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%40example.com",
    });
    const res = await worker.fetch(req, { ...env, ENVIRONMENT: "production" }, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(res.status).toBe(404);
    const page = await worker.fetch(new Request(`${ORIGIN}/sign-in`), { ...env, ENVIRONMENT: "production" }, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(await page.text()).not.toContain("/auth/dev");
  });

  it("refuses a sign-in form without the browser's login token (login CSRF)", async () => {
    const res = await app("/auth/dev", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _login: "guess", email: "x@example.com", business: "new" }),
    });
    expect(res.status).toBe(403);
    expect(cookieValue(res, SESSION_COOKIE)).toBeNull();
  });

  it("joins the demo tenant when asked", async () => {
    const s = await signIn({ business: "demo" });
    expect(s.tenantId).toBe("t_demo");
  });
});

describe("sessions", () => {
  it("sends signed-out visitors to sign in, remembering where they were going", async () => {
    const res = await get(null, "/admin/conversations?x=1");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Fadmin%2Fconversations%3Fx%3D1");
  });

  it("revokes the session at once on sign-out", async () => {
    const s = await signIn();
    const out = await post(s, "/sign-out");
    expect(out.status).toBe(303);
    const cleared = out.headers
      .getSetCookie()
      .map((line) => parseSetCookie(line))
      .find((c) => c.name === SESSION_COOKIE);
    expect(cleared).toMatchObject({ value: "", path: "/", maxAge: 0, httpOnly: true, secure: true });
    expect((await get(s, "/admin/conversations")).status).toBe(303);
  });

  it("replaces the browser's earlier session when it signs in again", async () => {
    const s = await signIn();
    const page = await app("/sign-in", { headers: { cookie: s.cookie } });
    expect(page.status).toBe(303);
    const { callback, flow } = await begin("google", `g-${crypto.randomUUID()}@example.com`);
    const res = await app(`${callback.pathname}${callback.search}`, {
      headers: { cookie: `${OAUTH_COOKIE}=${flow}; ${s.cookie}` },
    });
    expect(res.status).toBe(303);
    expect((await get(s, "/admin/conversations")).status).toBe(303);
  });

  it("refuses a form body over 64 KiB, even without a Content-Length, and changes nothing", async () => {
    const s = await signIn();
    const big = new ReadableStream({
      start(controller) {
        const chunk = new TextEncoder().encode(`x=${"a".repeat(16 * 1024)}`);
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await app("/admin/conversations", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: s.cookie,
        "x-csrf-token": s.csrf,
      },
      body: big,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("refuses sign-out without the CSRF token", async () => {
    const s = await signIn();
    expect((await post(s, "/sign-out", {}, { csrf: false })).status).toBe(403);
    expect((await post(s, "/sign-out", {}, { csrf: "forged" })).status).toBe(403);
    expect((await get(s, "/admin/conversations")).status).toBe(200);
  });

  it("refuses a state-changing request from another origin even with the token", async () => {
    const s = await signIn();
    const res = await post(s, "/sign-out", {}, { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(403);
  });

  it("ignores an expired session", async () => {
    const s = await signIn();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, s.userId)
      .run();
    expect((await get(s, "/admin/conversations")).status).toBe(303);
  });
});

describe("security headers", () => {
  it("puts a fresh CSP nonce on every page and only that nonce on its scripts", async () => {
    const s = await signIn();
    const a = await get(s, "/admin/conversations");
    const b = await get(s, "/admin/conversations");
    const nonceOf = (r: Response) => /'nonce-([^']+)'/.exec(r.headers.get("content-security-policy")!)![1]!;
    expect(nonceOf(a)).not.toBe(nonceOf(b));
    const body = await a.text();
    for (const m of body.matchAll(/<script[^>]*>/g)) expect(m[0]).toContain(`nonce="${nonceOf(a)}"`);
    const csp = a.headers.get("content-security-policy")!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(a.headers.get("x-content-type-options")).toBe("nosniff");
    expect(a.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(a.headers.get("cache-control")).toBe("no-store");
  });

  it("sets them on redirects, errors and the sign-in page too", async () => {
    for (const res of [await get(null, "/admin"), await app("/sign-in"), await app("/no-such-page")]) {
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    expect((await app("/no-such-page")).status).toBe(404);
    expect((await app("/sign-in")).headers.get("cache-control")).toBe("no-store");
  });
});
