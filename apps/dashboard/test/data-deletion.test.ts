import { env } from "cloudflare:workers";
import { makeSignedRequest } from "@concierge/crypto";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it, vi } from "vitest";
import { ORIGIN, app, cookieValue, get, signIn } from "./helpers.ts";

const SESSION_COOKIE = "__Host-concierge_session";

/** A person who signed in with Facebook (the sandbox plays Facebook); returns their ids. */
async function facebookUser() {
  const email = `fb-${crypto.randomUUID()}@example.com`;
  const start = await app("/auth/facebook/start");
  const flow = cookieValue(start, "__Host-concierge_oauth")!;
  const authorize = new URL(start.headers.get("location")!);
  authorize.searchParams.set("login_hint", email);
  const consent = await fetch(authorize, { redirect: "manual" });
  const callback = new URL(consent.headers.get("location")!);
  const done = await app(`${callback.pathname}${callback.search}`, {
    headers: { cookie: `__Host-concierge_oauth=${flow}` },
  });
  const user = await env.DB.prepare("SELECT subject, tenant_id AS tenantId FROM users WHERE email = ?")
    .bind(email)
    .first<{ subject: string; tenantId: string }>();
  return { ...user!, cookie: `${SESSION_COOKIE}=${cookieValue(done, SESSION_COOKIE)}` };
}

function callback(signedRequest: string) {
  return app("/data-deletion", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ signed_request: signedRequest }),
  });
}

async function rowsOf(tenantId: string) {
  const tables = ["tenants", "users", "sessions", "tenant_keys"];
  let n = 0;
  for (const t of tables) {
    const col = t === "tenants" ? "id" : "tenant_id";
    n += (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE ${col} = ?`)
      .bind(tenantId)
      .first<{ n: number }>())!.n;
  }
  return n;
}

describe("Meta's data deletion callback", () => {
  it("deletes the Facebook user's sign-in (not their business) and answers a status URL and confirmation code", async () => {
    const person = await facebookUser();
    const bystander = await signIn();
    expect(await rowsOf(person.tenantId)).toBeGreaterThan(0);
    const signed = await makeSignedRequest(TEST_SECRETS.metaAppSecret, {
      algorithm: "HMAC-SHA256",
      user_id: person.subject,
      issued_at: Math.floor(Date.now() / 1000),
    });
    const res = await callback(signed);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; confirmation_code: string };
    expect(body.confirmation_code).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(body.url).toBe(`${ORIGIN}/data-deletion/status?code=${body.confirmation_code}`);

    // Issue 17 item 6: the person's sign-in and sessions go; the business (tenant, key) stays.
    await vi.waitFor(async () => expect(await rowsOf(person.tenantId)).toBe(2), { timeout: 10_000 });
    const status = await app(new URL(body.url).pathname + new URL(body.url).search);
    expect(status.status).toBe(200);
    await vi.waitFor(async () => {
      const page = await (await app(new URL(body.url).pathname + new URL(body.url).search)).text();
      expect(page).toContain("Done: everything we held for your account was deleted.");
    });
    // The person's session died with their sign-in; the bystander is untouched.
    expect((await get({ cookie: person.cookie } as never, "/admin")).status).toBe(303);
    expect((await get(bystander, "/admin")).status).toBe(200);
    expect(await rowsOf(bystander.tenantId)).toBeGreaterThan(0);
  });

  it("refuses a forged signed_request with 400 and deletes nothing", async () => {
    const person = await facebookUser();
    const requests = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM data_deletions").first<{ n: number }>())!.n;
    const before = await requests();
    const forged = await makeSignedRequest("not-the-app-secret", {
      algorithm: "HMAC-SHA256",
      user_id: person.subject,
    });
    for (const bad of [forged, "", "abc.def", `${forged}x`]) {
      const res = await callback(bad);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: "invalid_signed_request" } });
    }
    const noUser = await makeSignedRequest(TEST_SECRETS.metaAppSecret, { algorithm: "HMAC-SHA256" });
    expect((await callback(noUser)).status).toBe(400);
    expect(await rowsOf(person.tenantId)).toBeGreaterThan(0);
    expect(await requests()).toBe(before);
  });

  it("answers a code for a person we hold nothing for, and its status says so", async () => {
    const signed = await makeSignedRequest(TEST_SECRETS.metaAppSecret, {
      algorithm: "HMAC-SHA256",
      user_id: "998877665544",
      issued_at: Math.floor(Date.now() / 1000),
    });
    const body = (await (await callback(signed)).json()) as { url: string };
    const page = await (await app(new URL(body.url).pathname + new URL(body.url).search)).text();
    expect(page).toContain("Done: we held no data for this account.");
  });

  it("answers 404 for an unknown confirmation code", async () => {
    expect((await app("/data-deletion/status?code=unknown-code-123")).status).toBe(404);
    expect((await app("/data-deletion/status")).status).toBe(404);
  });
});
