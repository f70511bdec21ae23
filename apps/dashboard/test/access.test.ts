// Cloudflare Access in front of /manage (src/access.ts, the requireOperator and
// checkOperatorCsrf stages), through the Worker's own fetch: the JWT table, the local-only
// cookie and landing route, the operator's CSRF token, and that a refused request changes nothing.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import {
  accessJwks,
  accessTeamDomain,
  generateAccessKey,
  TEST_ACCESS_KEY,
  TEST_ACCESS_KID,
} from "@concierge/testing/access";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ACCESS_COOKIE,
  accessConfigProblem,
  accessJwksCooldownMs,
  accessTokenOf,
  MANAGE_AREA,
  operatorCsrfFor,
  safeLocalPath,
} from "../src/access.ts";
import { router } from "../src/routes.ts";
import { app, ORIGIN, signIn } from "./helpers.ts";
import { asOperator, operatorToken, postAsOperator, signInOperator } from "./operator-helpers.ts";

const now = () => Math.floor(Date.now() / 1000);

type Sandbox = { certRequests: number; kids: string[]; currentKid: string };
async function sandboxAccess(): Promise<Sandbox> {
  return (await fetch(`${env.SANDBOX_URL}/__sandbox/access`)).json();
}

/** Every row of every table, so a refused request can be shown to have changed nothing. */
async function fingerprint(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    parts.push(`${name}:${JSON.stringify(results)}`);
  }
  return parts.join("\n");
}

/** The requests no operator made: each must be refused, and leave D1 as it was. */
const REFUSED: [string, () => Promise<Record<string, string>>][] = [
  [
    "expired",
    async () => header(await operatorToken({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })),
  ],
  ["not yet valid", async () => header(await operatorToken({ nbf: now() + 3600 }))],
  ["wrong aud", async () => header(await operatorToken({ aud: "another-application-aud" }))],
  [
    "wrong iss",
    async () => header(await operatorToken({ iss: "https://another-team.cloudflareaccess.com" })),
  ],
  ["HS256", async () => header(await operatorToken({ alg: "HS256" }))],
  ["alg none", async () => header(await operatorToken({ alg: "none" }))],
  [
    "signed by another key under the known kid",
    async () =>
      header(await operatorToken({ key: { ...(await generateAccessKey()), kid: TEST_ACCESS_KID } })),
  ],
  ["without an email (a service token)", async () => header(await operatorToken({ email: null }))],
  ["garbage", async () => ({ "cf-access-jwt-assertion": "not.a.jwt" })],
  ["header missing", async () => ({})],
];

function header(token: string): Record<string, string> {
  return { "cf-access-jwt-assertion": token };
}

describe("Cloudflare Access on /manage", () => {
  it("lets a valid token in: the operator's page, not stored by caches", async () => {
    const op = await signInOperator();
    const res = await asOperator(op, "/manage");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(op.email);
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it.each(REFUSED)("refuses a token %s with 403 and the same page, GET and POST alike", async (_, make) => {
    const headers = await make();
    const get = await app("/manage", { headers });
    expect(get.status).toBe(403);
    const page = await get.text();
    expect(page).toContain("Operators only");
    expect(page).not.toContain("@example.com");
    expect(get.headers.get("cache-control")).toContain("no-store");
    // A write with the CSRF token this very token would have: refused before any route runs.
    const before = await fingerprint();
    const token = headers["cf-access-jwt-assertion"];
    const csrf = token ? await operatorCsrfFor(token.split(".")[2] ?? "") : "none";
    for (const path of ["/manage/demo", "/manage/pricing/trial", "/manage/tenants/t_demo/suspend"]) {
      const post = await app(path, {
        method: "POST",
        headers: { ...headers, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, reason: "refused", credits: "10", days: "30" }),
      });
      expect(post.status).toBe(403);
    }
    expect(await fingerprint()).toBe(before);
  });

  it("refuses every bad token a tenant suspension, which the same form with a good token does", async () => {
    const tenant = await signIn();
    const path = `/manage/tenants/${tenant.tenantId}/suspend`;
    const fields = { reason: "Chargebacks under review" };
    const status = () =>
      env.DB.prepare("SELECT status FROM tenants WHERE id = ?").bind(tenant.tenantId).first<string>("status");
    const audit = () =>
      env.DB.prepare("SELECT operator_email AS email, action FROM audit_log WHERE tenant_id = ?")
        .bind(tenant.tenantId)
        .all<{ email: string; action: string }>()
        .then((r) => r.results);
    const before = await fingerprint();
    for (const [, make] of REFUSED) {
      const headers = await make();
      const token = headers["cf-access-jwt-assertion"];
      const res = await app(path, {
        method: "POST",
        headers: { ...headers, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          ...fields,
          _csrf: token ? await operatorCsrfFor(token.split(".")[2] ?? "") : "",
        }),
      });
      expect(res.status).toBe(403);
    }
    // A tenant's own session and CSRF token are no way in either.
    const asTenant = await app(path, {
      method: "POST",
      headers: { cookie: tenant.cookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, _csrf: tenant.csrf }),
    });
    expect(asTenant.status).toBe(403);
    expect(await fingerprint()).toBe(before);
    expect(await status()).toBe("active");
    expect(await audit()).toEqual([]);

    const op = await signInOperator();
    const done = await postAsOperator(op, path, fields);
    expect(done.status).toBe(303);
    expect(await status()).toBe("suspended");
    expect(await audit()).toEqual([{ email: op.email, action: "tenant.suspend" }]);
  });

  it("refetches the certs on an unknown kid, then refuses", async () => {
    const before = (await sandboxAccess()).certRequests;
    const stranger = { ...(await generateAccessKey()), kid: "0".repeat(64) };
    const res = await asOperator(null, "/manage", {
      headers: header(await operatorToken({ key: stranger })),
    });
    expect(res.status).toBe(403);
    // The unit tests (packages/crypto) count exactly one refetch and none within the cooldown.
    expect((await sandboxAccess()).certRequests).toBeGreaterThan(before);
  });

  it("finds a rotated key by its new kid, and the previous key still works (as Access publishes both)", async () => {
    const rotated = await (
      await fetch(`${env.SANDBOX_URL}/__sandbox/access/rotate`, { method: "POST" })
    ).json<{
      currentKid: string;
      kids: string[];
    }>();
    expect(rotated.kids).toContain(TEST_ACCESS_KID);
    const { token } = await (
      await fetch(`${env.SANDBOX_URL}/__sandbox/access/token`, {
        method: "POST",
        body: JSON.stringify({ email: "rotated@example.com" }),
      })
    ).json<{ token: string }>();
    const res = await asOperator(null, "/manage", { headers: header(token) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("rotated@example.com");
    expect((await asOperator(await signInOperator(), "/manage")).status).toBe(200);
  });

  it("never lets a tenant's session in, and ignores it under /manage", async () => {
    const tenant = await signIn();
    const res = await app("/manage", { headers: { cookie: tenant.cookie } });
    expect(res.status).toBe(403);
    const op = await signInOperator();
    const both = await asOperator(op, "/manage", { headers: { cookie: tenant.cookie } });
    expect(both.status).toBe(200);
    const page = await both.text();
    expect(page).not.toContain(tenant.email);
    expect(page).not.toContain(tenant.csrf);
  });

  it("guards every path under /manage, and only those", () => {
    for (const p of ["/manage", "/manage/", "/manage/tenants/t_1", "/manage/audit?x=1"]) {
      expect(MANAGE_AREA.test(new URL(p, ORIGIN).pathname)).toBe(true);
    }
    for (const p of ["/managed", "/manager/x", "/admin/manage", "/"]) expect(MANAGE_AREA.test(p)).toBe(false);
  });

  it("answers an unknown /manage path only after the guard", async () => {
    expect((await app("/manage/no-such-page")).status).toBe(403);
    expect((await asOperator(await signInOperator(), "/manage/no-such-page")).status).toBe(404);
  });
});

describe("the operator's CSRF token", () => {
  const path = "/manage/no-such-form";

  it("lets a same-origin POST with the token through to routing", async () => {
    const op = await signInOperator();
    expect((await postAsOperator(op, path, {})).status).toBe(404);
    expect((await postAsOperator(op, path, {}, { origin: null })).status).toBe(404);
    const viaHeader = await asOperator(op, path, {
      method: "POST",
      headers: { "x-csrf-token": op.csrf, origin: ORIGIN },
    });
    expect(viaHeader.status).toBe(404);
  });

  it("refuses a POST without it, with another token's, or from another origin", async () => {
    const op = await signInOperator();
    const other = await signInOperator();
    const before = await fingerprint();
    expect((await postAsOperator(op, path, {}, { csrf: null })).status).toBe(403);
    expect((await postAsOperator(op, path, {}, { csrf: "" })).status).toBe(403);
    expect((await postAsOperator(op, path, {}, { csrf: other.csrf })).status).toBe(403);
    expect((await postAsOperator(op, path, {}, { csrf: `${op.csrf}x` })).status).toBe(403);
    expect((await postAsOperator(op, path, {}, { origin: "https://evil.example" })).status).toBe(403);
    const refused = await postAsOperator(op, path, {}, { csrf: null });
    expect(await refused.text()).toContain("did not come from the operator panel");
    expect(await fingerprint()).toBe(before);
  });

  it("is the same for the same token and differs between tokens", async () => {
    const a = await signInOperator({ email: "same@example.com" });
    const b = await signInOperator({ email: "same@example.com" });
    expect(a.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrf).not.toBe(b.csrf);
  });
});

describe("locally, Access's cookie", () => {
  it("lets the CF_Authorization cookie in when ENVIRONMENT is local (the tests' config)", async () => {
    expect(env.ENVIRONMENT).toBe("local");
    const op = await signInOperator();
    const res = await app("/manage", { headers: { cookie: `${ACCESS_COOKIE}=${op.token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(op.email);
  });

  it("verifies a cookie exactly like the header", async () => {
    const bad = await operatorToken({ aud: "another-application-aud" });
    expect((await app("/manage", { headers: { cookie: `${ACCESS_COOKIE}=${bad}` } })).status).toBe(403);
  });

  it("reads the token from the header only, outside local", () => {
    const headers = new Headers({ cookie: "x=1" });
    expect(accessTokenOf(headers, { [ACCESS_COOKIE]: "cookie-token" }, "production")).toBeNull();
    expect(accessTokenOf(headers, { [ACCESS_COOKIE]: "cookie-token" }, "local")).toBe("cookie-token");
    headers.set("cf-access-jwt-assertion", "header-token");
    expect(accessTokenOf(headers, { [ACCESS_COOKIE]: "cookie-token" }, "production")).toBe("header-token");
  });

  it("the 403 page links to the sandbox's sign-in, which comes back to the page asked for", async () => {
    const page = await (await app("/manage/audit?action=tenant.suspend")).text();
    const signInUrl = `${accessTeamDomain(env.SANDBOX_URL)}/cdn-cgi/access/login?redirect_url=${encodeURIComponent(
      `${ORIGIN}/manage/audit?action=tenant.suspend`,
    )}`;
    expect(page).toContain(signInUrl.replaceAll("&", "&amp;"));
  });
});

describe("GET /cdn-cgi/access/authorized (local only)", () => {
  it("keeps a valid token in Access's cookie and goes on to the path asked for", async () => {
    const op = await signInOperator();
    const res = await app(
      `/cdn-cgi/access/authorized?${new URLSearchParams({ token: op.token, redirect_url: "/manage/audit?page=2" })}`,
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/manage/audit?page=2");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toContain(`${ACCESS_COOKIE}=${op.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Secure/); // the tests' origin is https
  });

  it.each([
    "https://evil.example/manage",
    "//evil.example/manage",
    "/\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "",
  ])("goes only to a path of this site (%s → /manage)", async (target) => {
    const op = await signInOperator();
    const res = await app(
      `/cdn-cgi/access/authorized?${new URLSearchParams({ token: op.token, redirect_url: target })}`,
    );
    expect(res.headers.get("location")).toBe("/manage");
    expect(safeLocalPath(target)).toBe("/manage");
  });

  it("sets nothing for a bad token", async () => {
    const bad = await operatorToken({ exp: now() - 3600, nbf: now() - 7200, iat: now() - 7200 });
    const res = await app(
      `/cdn-cgi/access/authorized?${new URLSearchParams({ token: bad, redirect_url: "/manage" })}`,
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("outside local (the production configuration)", () => {
  afterEach(() => vi.restoreAllMocks());

  /**
   * A Cloudflare team of this test's own (an https domain, as production requires) whose certs
   * publish the test key: this isolate's fetch answers them, and counts them. A token this team
   * issued passes in the header, so a refusal below is for the reason the test names, nothing else.
   */
  function productionTeam() {
    const teamDomain = `https://team-${crypto.randomUUID().slice(0, 8)}.cloudflareaccess.com`;
    const certs = `${teamDomain}/cdn-cgi/access/certs`;
    const requests: string[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== certs) return realFetch(input, init);
      requests.push(url);
      return Promise.resolve(Response.json(accessJwks()));
    });
    return {
      teamDomain,
      certRequests: requests,
      token: (opts = {}) => operatorToken({ iss: teamDomain, ...opts }),
    };
  }

  /** The dashboard's log lines from here on, parsed (the one logger writes to this isolate's console). */
  function captureLogs(): Record<string, unknown>[] {
    const lines: Record<string, unknown>[] = [];
    for (const level of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: unknown) => {
        try {
          lines.push(JSON.parse(String(line)));
        } catch {
          lines.push({ raw: String(line) });
        }
      });
    }
    return lines;
  }
  const refusals = (logs: Record<string, unknown>[]) =>
    logs.filter((l) => l.event === "access.refused").map((l) => l.reason);

  /** The whole router (every stage) with production's ENVIRONMENT and, unless given, Access's vars. */
  async function production(path: string, init: RequestInit, vars: Partial<Env> = {}): Promise<Response> {
    const ctx = createExecutionContext();
    const prodEnv = {
      ...env,
      ENVIRONMENT: "production",
      ACCESS_TEAM_DOMAIN: "https://team.cloudflareaccess.com",
      ...vars,
    } as Env;
    const res = await router.fetch(
      new Request(`${ORIGIN}${path}`, { redirect: "manual", ...init }),
      prodEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("ignores Access's cookie and has no landing route", async () => {
    const team = productionTeam();
    const vars = { ACCESS_TEAM_DOMAIN: team.teamDomain };
    const token = await team.token();
    const logs = captureLogs();
    // As the cookie: refused as tokenless, before any key is fetched (accessTokenOf above says why).
    const cookieOnly = await production(
      "/manage",
      { headers: { cookie: `${ACCESS_COOKIE}=${token}` } },
      vars,
    );
    expect(cookieOnly.status).toBe(403);
    expect(await cookieOnly.text()).not.toContain("/cdn-cgi/access/login");
    expect(refusals(logs)).toEqual(["no_token"]);
    expect(team.certRequests).toEqual([]);
    // The same token in Access's header is let in: only where it was sent made the difference.
    const header = await production("/manage", { headers: { "cf-access-jwt-assertion": token } }, vars);
    expect(header.status).toBe(200);
    expect(refusals(logs)).toEqual(["no_token"]);
    expect(team.certRequests).toHaveLength(1);

    const landing = await production(
      `/cdn-cgi/access/authorized?token=${token}&redirect_url=/manage`,
      {},
      vars,
    );
    expect(landing.status).toBe(404);
    expect(landing.headers.get("set-cookie")).toBeNull();
  });

  it("refuses everything while ACCESS_TEAM_DOMAIN or ACCESS_AUD is empty (fail closed)", async () => {
    const team = productionTeam();
    const headers = { "cf-access-jwt-assertion": await team.token() };
    const logs = captureLogs();
    for (const vars of [
      { ACCESS_TEAM_DOMAIN: "" },
      { ACCESS_TEAM_DOMAIN: team.teamDomain, ACCESS_AUD: "" },
    ]) {
      expect((await production("/manage", { headers }, vars)).status).toBe(403);
    }
    expect(refusals(logs)).toEqual(["not_configured", "not_configured"]);
    expect(logs.filter((l) => l.event === "access.not_configured")).toHaveLength(2);
    expect(team.certRequests).toEqual([]);
    // Configured, the very same request is let in: the empty setting alone refused it.
    expect((await production("/manage", { headers }, { ACCESS_TEAM_DOMAIN: team.teamDomain })).status).toBe(
      200,
    );
    expect(refusals(logs)).toEqual(["not_configured", "not_configured"]);
    expect(
      accessConfigProblem({ ENVIRONMENT: "production", ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: "x" }),
    ).toMatch(/not set/);
    expect(
      accessConfigProblem({
        ENVIRONMENT: "production",
        ACCESS_TEAM_DOMAIN: "http://team.example",
        ACCESS_AUD: "x",
      }),
    ).toMatch(/https/);
    expect(
      accessConfigProblem({
        ENVIRONMENT: "production",
        ACCESS_TEAM_DOMAIN: "https://t.cloudflareaccess.com",
        ACCESS_AUD: "x",
      }),
    ).toBeNull();
  });

  it("keeps the certs' 30 s refetch cooldown whatever ACCESS_JWKS_COOLDOWN_MS says; only local honours it", async () => {
    const madeUpKid = () => crypto.randomUUID().replaceAll("-", "");
    for (const [environment, refetches] of [
      ["production", 0],
      ["local", 2],
    ] as const) {
      const team = productionTeam();
      const vars = {
        ENVIRONMENT: environment,
        ACCESS_TEAM_DOMAIN: team.teamDomain,
        ACCESS_JWKS_COOLDOWN_MS: "0",
      };
      const good = { "cf-access-jwt-assertion": await team.token() };
      expect((await production("/manage", { headers: good }, vars)).status).toBe(200);
      expect(team.certRequests).toHaveLength(1);
      // Two made-up kids at once: production waits out its cooldown, local refetches for each.
      for (let i = 0; i < 2; i++) {
        const forged = { "cf-access-jwt-assertion": await team.token({ kid: madeUpKid() }) };
        expect((await production("/manage", { headers: forged }, vars)).status).toBe(403);
      }
      expect(team.certRequests, environment).toHaveLength(1 + refetches);
      vi.restoreAllMocks();
    }
    expect(accessJwksCooldownMs({ ...env, ENVIRONMENT: "production", ACCESS_JWKS_COOLDOWN_MS: "0" })).toBe(
      30_000,
    );
    expect(accessJwksCooldownMs({ ...env, ENVIRONMENT: "local", ACCESS_JWKS_COOLDOWN_MS: "0" })).toBe(0);
    expect(accessJwksCooldownMs({ ...env, ENVIRONMENT: "local", ACCESS_JWKS_COOLDOWN_MS: "soon" })).toBe(
      30_000,
    );
  });

  it("the test key's certs stay published (other test files sign with it)", async () => {
    expect((await sandboxAccess()).kids).toContain(String(TEST_ACCESS_KEY.kid));
  });
});
