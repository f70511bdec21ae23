import { createAccessVerifier } from "@concierge/crypto/access-jwt";
import { TEST_ACCESS_AUD, TEST_ACCESS_KEY, TEST_ACCESS_KID } from "@concierge/testing/access";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

const DASHBOARD = "http://127.0.0.1:8787";

const segment = (token: string, i: number) =>
  JSON.parse(Buffer.from(token.split(".")[i]!, "base64url").toString("utf8")) as Record<string, unknown>;
const decodeProtectedHeader = (token: string) => segment(token, 0);
const decodeJwt = (token: string) =>
  segment(token, 1) as { exp: number; iat: number; nbf: number } & Record<string, unknown>;

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ appSecret: "s" });
  // As scripts/stack.ts does once the dashboard runs.
  sandbox.access.setDashboardUrl(DASHBOARD);
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
});

const get = (path: string) => fetch(`${sandbox.url}${path}`, { redirect: "manual" });
const control = (path: string, body: unknown = {}) =>
  fetch(`${sandbox.url}${path}`, { method: "POST", body: JSON.stringify(body) });
const certs = () => get("/access/cdn-cgi/access/certs");

/** The dashboard's verifier, fetching the sandbox's certs afresh each time. */
function verify(token: string, aud = TEST_ACCESS_AUD) {
  return createAccessVerifier({ refetchCooldownMs: 0, maxAgeMs: 0 }).verify(token, {
    teamDomain: sandbox.accessTeamDomain,
    aud,
  });
}

function signInForm(email: string, redirectUrl = `${DASHBOARD}/manage/audit?page=2`) {
  return fetch(`${sandbox.url}/access/cdn-cgi/access/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email, redirect_url: redirectUrl }),
  });
}

describe("the sandbox's Cloudflare Access", () => {
  it("is the team domain <sandbox>/access", () => {
    expect(sandbox.accessTeamDomain).toBe(`${sandbox.url}/access`);
  });

  it("publishes its signing key's public half in the certs", async () => {
    const res = await certs();
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: sandbox.access.currentKid });
    expect(String(keys[0]!.kid)).toMatch(/^[0-9a-f]{64}$/);
    for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(keys[0]).not.toHaveProperty(secret);
  });

  it("shows a sign-in page with an email field that posts back with where to go", async () => {
    const target = `${DASHBOARD}/manage?q=chai`;
    const res = await get(`/access/cdn-cgi/access/login?redirect_url=${encodeURIComponent(target)}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/access/cdn-cgi/access/login">');
    expect(page).toContain('type="email" name="email"');
    expect(page).toContain(`name="redirect_url" value="${target}"`);
    expect(page).toContain('name="viewport"');
  });

  it("refuses a sign-in without an absolute http(s) redirect_url", async () => {
    for (const bad of ["", "/manage", "javascript:alert(1)"]) {
      expect((await get(`/access/cdn-cgi/access/login?redirect_url=${encodeURIComponent(bad)}`)).status).toBe(
        400,
      );
      expect((await signInForm("ops@example.com", bad)).status).toBe(400);
    }
  });

  it("sends a token only to the dashboard's origin (either loopback name), never to another", async () => {
    for (const bad of [
      "https://evil.example/manage",
      "http://127.0.0.1:8788/manage",
      "https://127.0.0.1:8787/manage",
      "http://127.0.0.1.evil.example:8787/manage",
      "http://ops@evil.example/manage",
    ]) {
      const page = await get(`/access/cdn-cgi/access/login?redirect_url=${encodeURIComponent(bad)}`);
      expect(page.status, bad).toBe(400);
      const res = await signInForm("ops@example.com", bad);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get("location"), bad).toBeNull();
      expect(await res.text(), bad).not.toMatch(/token=/);
    }
    expect(sandbox.access.signIns).toEqual([]);
    // The same Worker under its other loopback name is the dashboard too.
    const twin = await signInForm("ops@example.com", "http://localhost:8787/manage");
    expect(twin.status).toBe(303);
    expect(new URL(twin.headers.get("location")!).origin).toBe("http://localhost:8787");
  });

  it("refuses every sign-in until it knows the dashboard", async () => {
    const s = await startSandbox({ appSecret: "s" });
    try {
      const res = await fetch(`${s.url}/access/cdn-cgi/access/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: "ops@example.com", redirect_url: `${DASHBOARD}/manage` }),
      });
      expect(res.status).toBe(400);
      expect(s.access.signIns).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it("issues Access's token on sign-in and sends the browser to the dashboard's authorized path", async () => {
    const res = await signInForm(" Ops@Example.com ");
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin).toBe(DASHBOARD);
    expect(location.pathname).toBe("/cdn-cgi/access/authorized");
    expect(location.searchParams.get("redirect_url")).toBe("/manage/audit?page=2");
    const token = location.searchParams.get("token")!;
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "RS256",
      kid: sandbox.access.currentKid,
      typ: "JWT",
    });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      aud: [TEST_ACCESS_AUD],
      email: "ops@example.com",
      iss: sandbox.accessTeamDomain,
      type: "app",
    });
    expect(typeof claims.sub).toBe("string");
    expect(typeof claims.identity_nonce).toBe("string");
    expect(claims.exp - claims.iat).toBe(24 * 3600);
    expect(claims.nbf).toBe(claims.iat);
    const verified = await verify(token);
    expect(verified).toMatchObject({ ok: true, identity: { email: "ops@example.com" } });
    expect(sandbox.access.signIns).toEqual(["ops@example.com"]);
  });

  it("asks again for a malformed email", async () => {
    const res = await signInForm("not-an-email");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Enter an email address.");
  });

  it("rotates: the new key signs, the previous one stays published, older ones go", async () => {
    const first = sandbox.access.currentKid;
    const r1 = (await (await control("/__sandbox/access/rotate")).json()) as {
      currentKid: string;
      kids: string[];
    };
    expect(r1.kids).toEqual([first, r1.currentKid]);
    const fromRotated = await signInForm("ops@example.com");
    const token = new URL(fromRotated.headers.get("location")!).searchParams.get("token")!;
    expect(decodeProtectedHeader(token).kid).toBe(r1.currentKid);
    expect((await verify(token)).ok).toBe(true);
    const r2 = (await (await control("/__sandbox/access/rotate")).json()) as {
      currentKid: string;
      kids: string[];
    };
    expect(r2.kids).toEqual([r1.currentKid, r2.currentKid]);
    const { keys } = (await (await certs()).json()) as { keys: { kid: string }[] };
    expect(keys.map((k) => k.kid)).toEqual([r1.currentKid, r2.currentKid]);
  });

  it("serves 500 from the certs while failing, and recovers (also on reset)", async () => {
    expect(await (await control("/__sandbox/access/fail", { on: true })).json()).toEqual({
      ok: true,
      failing: true,
    });
    expect((await certs()).status).toBe(500);
    const { token } = (await (
      await control("/__sandbox/access/token", { email: "ops@example.com" })
    ).json()) as {
      token: string;
    };
    expect(await verify(token)).toEqual({ ok: false, reason: "jwks_unavailable" });
    await control("/__sandbox/access/fail", { on: false });
    expect((await certs()).status).toBe(200);
    await control("/__sandbox/access/fail");
    await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
    expect((await certs()).status).toBe(200);
  });

  it("signs tokens for tests, with claims overridden, and counts certs requests", async () => {
    const before = ((await (await get("/__sandbox/access")).json()) as { certRequests: number }).certRequests;
    const good = (await (await control("/__sandbox/access/token", { email: "a@example.com" })).json()) as {
      token: string;
      kid: string;
    };
    expect(good.kid).toBe(sandbox.access.currentKid);
    expect(await verify(good.token)).toMatchObject({ ok: true, identity: { email: "a@example.com" } });
    const otherAud = (await (
      await control("/__sandbox/access/token", { email: "a@example.com", aud: "other" })
    ).json()) as { token: string };
    expect(await verify(otherAud.token)).toEqual({ ok: false, reason: "wrong_aud" });
    const state = (await (await get("/__sandbox/access")).json()) as { certRequests: number; aud: string };
    expect(state.certRequests).toBe(before + 2);
    expect(state.aud).toBe(TEST_ACCESS_AUD);
  });
});

describe("with the fixed test key (as the Workers' tests start it)", () => {
  it("publishes the test key, so tests can sign for themselves", async () => {
    const s = await startSandbox({ appSecret: "s", accessKey: TEST_ACCESS_KEY, accessAud: "aud-x" });
    try {
      const { keys } = (await (await fetch(`${s.accessTeamDomain}/cdn-cgi/access/certs`)).json()) as {
        keys: { kid: string; n: string }[];
      };
      expect(keys).toEqual([expect.objectContaining({ kid: TEST_ACCESS_KID, n: TEST_ACCESS_KEY.n })]);
      expect(s.access.aud).toBe("aud-x");
    } finally {
      await s.close();
    }
  });
});
