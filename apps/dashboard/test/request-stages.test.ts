import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { acceptedRanges, negotiateLocale } from "../src/locale.ts";
import { app, cookieValue, get, signIn } from "./helpers.ts";

// What every request goes through before its page (src/stages.ts): cookies that do not parse,
// Accept-Language with many tags, and an error anywhere still ending as a page with its headers.

const MALFORMED = "a=%E0%A4%A; __Host-concierge_session=%%%; =;;";

const langOf = async (res: Response) => /<html lang="([^"]+)">/.exec(await res.text())?.[1];

describe("a malformed Cookie header", () => {
  it("is no session, never a 500, on public pages, the signed-in area and forms", async () => {
    const welcome = await app("/", { headers: { cookie: MALFORMED } });
    expect(welcome.status).toBe(200);
    expect(welcome.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await welcome.text()).toContain('href="/sign-in"');

    const admin = await app("/admin", { headers: { cookie: MALFORMED } });
    expect(admin.status).toBe(303);
    expect(admin.headers.get("location")).toBe("/sign-in?next=%2Fadmin");

    expect((await app("/sign-in", { headers: { cookie: MALFORMED } })).status).toBe(200);

    // The development sign-in's double-submit cookie does not decode: it matches no token.
    const dev = await app("/auth/dev", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `__Host-concierge_login=%E0%A4%A; ${MALFORMED}`,
      },
      body: new URLSearchParams({ _login: "guess", email: "x@example.com", business: "new" }),
    });
    expect(dev.status).toBe(403);
    expect(cookieValue(dev, "__Host-concierge_session")).toBeNull();

    // An OAuth callback whose flow cookie does not decode: the state does not match.
    const callback = await app("/auth/google/callback?state=abcdefghijklmnopqrstuvwxyz&code=x", {
      headers: { cookie: `__Host-concierge_oauth=%E0%A4%A; ${MALFORMED}` },
    });
    expect(callback.status).toBe(400);
  });

  it("does not hide a good session cookie sent beside broken ones", async () => {
    const s = await signIn();
    const res = await app("/admin/conversations", {
      headers: { cookie: `a=%E0%A4%A; =;; ${s.cookie}; b=%%%` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});

describe("Accept-Language", () => {
  it("is negotiated over every tag, in order of preference", async () => {
    const cases: [string, string][] = [
      ["fr-CH, fr;q=0.9, en-US;q=0.8, en;q=0.7", "en-US"],
      ["de, en-IN;q=0.5", "en-IN"],
      ["en-US;q=0.1, en-IN;q=0.9", "en-IN"],
      ["hi-IN, en-US;q=0.4", "en-US"],
      ["EN-us", "en-US"],
    ];
    for (const [header, locale] of cases) {
      expect(await langOf(await app("/", { headers: { "accept-language": header } })), header).toBe(locale);
      expect(await langOf(await app("/sign-in", { headers: { "accept-language": header } })), header).toBe(
        locale,
      );
    }
  });

  it("gives English without a shipped region, nothing we ship and junk the default en-IN, as before", async () => {
    for (const header of [
      "en",
      "en-GB,en;q=0.9",
      "hi-IN,hi;q=0.9,en;q=0.8",
      "ja",
      "*",
      "",
      ";;;,,q=x",
      "en-US;q=0",
    ]) {
      expect(await langOf(await app("/", { headers: { "accept-language": header } })), header).toBe("en-IN");
    }
    expect(await langOf(await app("/"))).toBe("en-IN");
  });

  it("survives a malformed cookie in the same request: no 500, the right locale", async () => {
    const res = await app("/", {
      headers: { cookie: MALFORMED, "accept-language": "fr-CH, fr;q=0.9, en-US;q=0.8, en;q=0.7" },
    });
    expect(res.status).toBe(200);
    expect(await langOf(res)).toBe("en-US");
    const notFound = await app("/no-such-page", {
      headers: { cookie: MALFORMED, "accept-language": "de, en-IN;q=0.5" },
    });
    expect(notFound.status).toBe(404);
    expect(await langOf(notFound)).toBe("en-IN");
  });

  it("gives a new business the negotiated locale, and the tenant's own locale wins once signed in", async () => {
    const headers = { "accept-language": "fr-CH, fr;q=0.9, en-US;q=0.8, en;q=0.7" };
    const page = await app("/sign-in", { headers });
    const login = cookieValue(page, "__Host-concierge_login")!;
    const email = `langneg-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await app("/auth/dev", {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/x-www-form-urlencoded",
        cookie: `__Host-concierge_login=${login}`,
      },
      body: new URLSearchParams({ _login: login, email, business: "new", businessName: "Café US" }),
    });
    expect(res.status).toBe(303);
    const tenant = await env.DB.prepare(
      "SELECT t.locale FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.provider = 'dev' AND u.subject = ?",
    )
      .bind(email)
      .first<{ locale: string }>();
    expect(tenant).toEqual({ locale: "en-US" });
    const cookie = `__Host-concierge_session=${cookieValue(res, "__Host-concierge_session")}`;
    expect(
      await langOf(await app("/admin/conversations", { headers: { cookie, "accept-language": "en-IN" } })),
    ).toBe("en-US");

    // An en-IN business stays en-IN whatever the browser prefers.
    const india = await signIn();
    expect(await langOf(await get(india, "/admin/conversations", headers))).toBe("en-IN");
  });

  it("orders ranges by quality, ties as sent, leaving out q=0 and malformed entries", () => {
    expect(acceptedRanges("fr-CH, fr;q=0.9, en-US;q=0.8, en;q=0.7")).toEqual(["fr-CH", "fr", "en-US", "en"]);
    expect(acceptedRanges("en;q=0.5, de, en-US;q=0.5, x_y, fr;q=0, es;q=2, it;q=abc, *;q=0.1")).toEqual([
      "de",
      "en",
      "en-US",
      "*",
    ]);
    expect(acceptedRanges(null)).toEqual([]);
    expect(negotiateLocale("de, en-IN;q=0.5")).toBe("en-IN");
    expect(negotiateLocale(`${"x-".repeat(5000)}en-US`)).toBe("en-IN");
  });
});

describe("the error stage", () => {
  it("turns an unexpected failure into a 500 page with the security headers, revealing nothing", async () => {
    const failing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return () => {
            throw new Error("D1 is down: secret internals");
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const s = await signIn();
    const res = await worker.fetch(
      new Request("https://dash.test/admin/conversations", { headers: { cookie: s.cookie } }),
      { ...env, DB: failing },
      { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext,
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'nonce-[^']+' 'strict-dynamic'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const body = await res.text();
    expect(body).not.toContain("secret internals");
    expect(body).toContain('<html lang="en-IN">');
  });
});

describe("a form body that does not parse", () => {
  it("is a 400 page with the security headers, on public and signed-in forms alike", async () => {
    const broken = {
      method: "POST",
      body: "--x\r\nnot a part",
      headers: { "content-type": "multipart/form-data" },
    };
    const verify = await app("/email/verify", broken);
    expect(verify.status).toBe(400);
    expect(verify.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const s = await signIn();
    const settings = await app("/admin/settings", {
      ...broken,
      headers: { ...broken.headers, cookie: s.cookie, origin: "https://dash.test" },
    });
    expect(settings.status).toBe(400);
  });
});
