// Issue 17 items 6 and 13: Meta's data deletion request deletes what belongs to the person who
// asked (the Instagram accounts they connected, with their data, and their Facebook sign-in),
// never the business, its other channels or its credits; a replayed signed_request is refused;
// the status page tells pending / in progress / done and what is still pending at Meta.
import { env } from "cloudflare:workers";
import { makeSignedRequest } from "@concierge/crypto";
import { createChannelAccount, creditBalance, grantCredits } from "@concierge/storage";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it, vi } from "vitest";
import { type TestSession, app, cookieValue, get, post, signIn } from "./helpers.ts";

const IG_COOKIE = "__Host-concierge_igconnect";
const SESSION_COOKIE = "__Host-concierge_session";

let seq = 0;
/** A page with its Instagram account, only this test's. */
async function addPage() {
  seq += 1;
  const tail = `${String(Date.now()).slice(-8)}${seq}${Math.floor(Math.random() * 1000)}`;
  const page = {
    id: `21${tail}`,
    name: `Deletion Page ${tail}`,
    instagram: { id: `1785${tail}`, username: `deletion.page${tail}` },
    mode: "valid",
  };
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, {
    method: "POST",
    body: JSON.stringify(page),
  });
  expect(res.ok).toBe(true);
  return page;
}

/** Connects the page's Instagram account to the session's tenant through the real flow. */
async function connectInstagram(s: TestSession, page: { id: string }) {
  const start = await get(s, "/admin/instagram/start");
  const state = cookieValue(start, IG_COOKIE)!;
  const dialog = new URL(start.headers.get("location")!);
  dialog.searchParams.set("login_hint", `ig-${crypto.randomUUID()}@example.com`);
  const consent = await fetch(dialog, { redirect: "manual" });
  const back = new URL(consent.headers.get("location")!);
  const html = await (
    await get(s, `${back.pathname}${back.search}`, { cookie: `${s.cookie}; ${IG_COOKIE}=${state}` })
  ).text();
  const pick = /name="pick" value="([^"]+)"/.exec(html)?.[1] ?? "";
  expect((await post(s, "/admin/instagram/choose", { pick, page: page.id })).status).toBe(303);
  const row = await env.DB.prepare(
    "SELECT account_id AS accountId, facebook_user_id AS fb FROM channel_tokens WHERE page_id = ?",
  )
    .bind(page.id)
    .first<{ accountId: string; fb: string }>();
  expect(row?.fb).toMatch(/^\d+$/);
  return row!;
}

/** Message metadata of an account (what the deletion must remove for Instagram, keep for WhatsApp). */
async function addMetadata(tenantId: string, accountId: string, channel: string, customer: string) {
  await env.DB.prepare(
    `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
     VALUES (?, ?, ?, 'inbound', ?, ?, ?, ?)`,
  )
    .bind(tenantId, accountId, channel, `mid-${crypto.randomUUID()}`, customer, accountId, Date.now())
    .run();
}

const count = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;

function callback(signedRequest: string) {
  return app("/data-deletion", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ signed_request: signedRequest }),
  });
}

/** Signed as Meta signs it; `issuedAt` null: without an issued_at. */
const signed = (userId: string, issuedAt: number | null = Math.floor(Date.now() / 1000)) =>
  makeSignedRequest(TEST_SECRETS.metaAppSecret, {
    algorithm: "HMAC-SHA256",
    user_id: userId,
    ...(issuedAt === null ? {} : { issued_at: issuedAt }),
  });

async function statusPage(url: string) {
  const u = new URL(url);
  return (await app(`${u.pathname}${u.search}`)).text();
}

describe("Meta's data deletion request, scoped to the person", () => {
  it("deletes the Instagram account the person connected and its data; the tenant, its WhatsApp and credits stay", async () => {
    const s = await signIn();
    const page = await addPage();
    const ig = await connectInstagram(s, page);
    const wa = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `91${String(Date.now()).slice(-9)}${seq}`,
    });
    await grantCredits(env.DB, {
      tenantId: s.tenantId,
      amount: 500,
      source: "purchase",
      reference: `pay_${seq}`,
    });
    await addMetadata(s.tenantId, ig.accountId, "instagram", "igsid-1");
    await addMetadata(s.tenantId, wa.id, "whatsapp", "919800000001");
    const balance = await creditBalance(env.DB, s.tenantId);

    const res = await callback(await signed(ig.fb));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; confirmation_code: string };
    await vi.waitFor(async () => expect(await statusPage(body.url)).toContain("Done: everything we held"), {
      timeout: 10_000,
    });

    // The person's Instagram account is gone with its token, metadata and page subscription.
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", ig.accountId)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM channel_tokens WHERE account_id = ?", ig.accountId)).toBe(
      0,
    );
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?", ig.accountId)).toBe(0);
    const subs = (await (
      await fetch(`${env.SANDBOX_URL}/__sandbox/pages/subscriptions?page=${page.id}`)
    ).json()) as { unsubscriptions: { pageId: string }[] };
    expect(subs.unsubscriptions.map((u) => u.pageId)).toEqual([page.id]);
    // The business is untouched: the tenant, its WhatsApp number and its metadata, its credits,
    // its own sign-in and session.
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", s.tenantId)).toBe(1);
    expect(
      await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ? AND status = 'active'", wa.id),
    ).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?", wa.id)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = ?", s.tenantId)).toBe(1);
    expect(await creditBalance(env.DB, s.tenantId)).toBe(balance);
    expect((await get(s, "/admin/channels")).status).toBe(200);
    // The request row names its targets by id only: no Facebook user id, no name.
    const row = await env.DB.prepare("SELECT targets FROM data_deletions WHERE code = ?")
      .bind(body.confirmation_code)
      .first<{ targets: string }>();
    expect(row!.targets).toContain(ig.accountId);
    expect(row!.targets).not.toContain(ig.fb);
    expect(row!.targets).not.toContain(page.instagram.username);
  });

  it("deletes a Facebook sign-in and its sessions, never the business it signed in to", async () => {
    const email = `fb-${crypto.randomUUID()}@example.com`;
    const start = await app("/auth/facebook/start");
    const flow = cookieValue(start, "__Host-concierge_oauth")!;
    const authorize = new URL(start.headers.get("location")!);
    authorize.searchParams.set("login_hint", email);
    const consent = await fetch(authorize, { redirect: "manual" });
    const cb = new URL(consent.headers.get("location")!);
    const done = await app(`${cb.pathname}${cb.search}`, {
      headers: { cookie: `__Host-concierge_oauth=${flow}` },
    });
    const cookie = `${SESSION_COOKIE}=${cookieValue(done, SESSION_COOKIE)}`;
    const user = (await env.DB.prepare("SELECT id, subject, tenant_id AS tenantId FROM users WHERE email = ?")
      .bind(email)
      .first<{ id: string; subject: string; tenantId: string }>())!;
    expect((await app("/admin", { headers: { cookie } })).status).toBe(200);

    const body = (await (await callback(await signed(user.subject))).json()) as { url: string };
    await vi.waitFor(async () => expect(await statusPage(body.url)).toContain("Done: everything we held"), {
      timeout: 10_000,
    });
    expect(await count("SELECT COUNT(*) AS n FROM users WHERE id = ?", user.id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?", user.id)).toBe(0);
    expect((await app("/admin", { headers: { cookie } })).status).toBe(303);
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", user.tenantId)).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = ?", user.tenantId)).toBe(1);
  });

  it("refuses a signed_request issued too long ago, in the future or without a time: 400, nothing changed", async () => {
    const s = await signIn();
    const page = await addPage();
    const ig = await connectInstagram(s, page);
    const requests = () => count("SELECT COUNT(*) AS n FROM data_deletions");
    const before = await requests();
    const now = Math.floor(Date.now() / 1000);
    for (const issuedAt of [now - 6 * 60, now - 24 * 3600, now + 10 * 60, null]) {
      const res = await callback(await signed(ig.fb, issuedAt));
      expect(res.status, String(issuedAt)).toBe(400);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: "stale_signed_request" } });
    }
    expect(await requests()).toBe(before);
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", ig.accountId)).toBe(1);
    // Within the window (and a little clock skew) it is accepted.
    expect((await callback(await signed(ig.fb, now - 4 * 60))).status).toBe(200);
  });

  it("the status page says in progress and what is still pending at Meta while the unsubscribe fails", async () => {
    const s = await signIn();
    const page = await addPage();
    const ig = await connectInstagram(s, page);
    await addMetadata(s.tenantId, ig.accountId, "instagram", "igsid-2");
    // Meta is down for the unsubscribe: the person's data goes, the effect waits for the cron.
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 500, code: 2, message: "Service temporarily unavailable" }),
    });
    const body = (await (await callback(await signed(ig.fb))).json()) as { url: string };
    await vi.waitFor(
      async () => {
        const html = await statusPage(body.url);
        expect(html).toContain("In progress: your data is being deleted.");
        expect(html).toContain("Still being done at Meta: removing our app from 1 Facebook Page.");
        expect(await count("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?", ig.accountId)).toBe(0);
      },
      { timeout: 10_000 },
    );
    // The account stays turned off, with the sealed page token the retry needs, until Meta confirms.
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ? AND status = 'disabled'",
        ig.accountId,
      ),
    ).toBe(1);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM side_effects WHERE kind = 'instagram_unsubscribe' AND status = 'pending' AND target LIKE ?",
        `%${page.id}%`,
      ),
    ).toBe(1);
  });
});
