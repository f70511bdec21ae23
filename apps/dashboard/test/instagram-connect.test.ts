import { env } from "cloudflare:workers";
import { makeSignedRequest } from "@concierge/crypto";
import { listConnectedAccounts } from "@concierge/storage";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it, vi } from "vitest";
import { type TestSession, app, cookieValue, get, post, signIn } from "./helpers.ts";

const IG_COOKIE = "__Host-concierge_igconnect";

let seq = 0;
/** A page (and, unless `instagram: false`, its Instagram account) only this test uses. */
async function addPage(opts: { instagram?: boolean; mode?: string } = {}) {
  seq += 1;
  const tail = `${String(Date.now()).slice(-8)}${seq}${Math.floor(Math.random() * 1000)}`;
  const page = {
    id: `20${tail}`,
    name: `Chai Corner ${tail}`,
    instagram: opts.instagram === false ? null : { id: `1784${tail}`, username: `chai.corner${tail}` },
    mode: opts.mode ?? "valid",
  };
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, {
    method: "POST",
    body: JSON.stringify(page),
  });
  expect(res.ok).toBe(true);
  return page;
}

async function subscriptionsOf(pageId: string): Promise<{ pageId: string; fields: string[] }[]> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/pages/subscriptions?page=${pageId}`);
  return ((await r.json()) as { subscriptions: { pageId: string; fields: string[] }[] }).subscriptions;
}

/** Start → the fake Facebook dialog (as the person, consenting) → our callback: the choice page. */
async function loginToChoice(
  s: TestSession,
  opts: { email?: string } = {},
): Promise<{ res: Response; html: string; pick: string }> {
  const start = await get(s, "/admin/instagram/start");
  expect(start.status).toBe(302);
  const state = cookieValue(start, IG_COOKIE)!;
  const dialog = new URL(start.headers.get("location")!);
  expect(dialog.pathname).toMatch(/\/dialog\/oauth$/);
  expect(dialog.searchParams.get("state")).toBe(state);
  expect(dialog.searchParams.get("scope")!.split(",")).toEqual(
    expect.arrayContaining([
      "instagram_basic",
      "instagram_manage_messages",
      "pages_show_list",
      "pages_manage_metadata",
    ]),
  );
  dialog.searchParams.set("login_hint", opts.email ?? "owner@example.com");
  const consent = await fetch(dialog, { redirect: "manual" });
  expect(consent.status).toBe(302);
  const back = new URL(consent.headers.get("location")!);
  expect(back.pathname).toBe("/admin/instagram/callback");
  const res = await get(s, `${back.pathname}${back.search}`, {
    cookie: `${s.cookie}; ${IG_COOKIE}=${state}`,
  });
  const html = await res.text();
  const pick = /name="pick" value="([^"]+)"/.exec(html)?.[1] ?? "";
  return { res, html, pick };
}

async function instagramAccounts(s: TestSession) {
  return (await listConnectedAccounts(env.DB, s.tenantId)).filter((a) => a.channel === "instagram");
}

describe("Instagram connect", () => {
  it("connects the chosen page: account @username, sealed page token, page subscribed to our webhooks", async () => {
    const s = await signIn();
    const page = await addPage();
    const { res, html, pick } = await loginToChoice(s);
    expect(res.status).toBe(200);
    expect(html).toContain(`@${page.instagram!.username}`);
    expect(pick).not.toBe("");
    // Page tokens stay on the server: none in the HTML.
    expect(html).not.toMatch(/EAA[A-Za-z0-9]{20,}/);

    const done = await post(s, "/admin/instagram/choose", { pick, page: page.id });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toMatch(/^\/admin\/channels\?done=ig-connected#account-acc_/);
    const [account] = await instagramAccounts(s);
    expect(account).toMatchObject({
      externalId: page.instagram!.id,
      displayName: `@${page.instagram!.username}`,
    });

    const row = await env.DB.prepare("SELECT * FROM channel_tokens WHERE account_id = ?")
      .bind(account!.id)
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({ tenant_id: s.tenantId, page_id: page.id, status: "ok", dead_reason: null });
    expect(row!.facebook_user_id).toMatch(/^\d+$/);
    // Data access lapses after 90 days: that is the expiry shown and refreshed.
    expect(row!.expires_at).toBeGreaterThan(Date.now() + 80 * 24 * 3600 * 1000);
    expect(row!.sealed_user_token).toEqual(expect.any(String));
    // Nothing in D1 holds a Graph token in clear.
    for (const table of ["channel_tokens", "channel_accounts"]) {
      const { results } = await env.DB.prepare(`SELECT * FROM ${table} WHERE tenant_id = ?`)
        .bind(s.tenantId)
        .all();
      expect(JSON.stringify(results)).not.toMatch(/EAA[A-Za-z0-9]{20,}/);
    }
    expect(await subscriptionsOf(page.id)).toEqual([
      expect.objectContaining({
        pageId: page.id,
        fields: ["messages", "messaging_postbacks", "message_echoes", "message_reactions"],
      }),
    ]);

    const channels = await (await get(s, "/admin/channels?done=ig-connected")).text();
    expect(channels).toContain(`@${page.instagram!.username}`);
    expect(channels).toContain("Instagram account connected.");
    expect(channels).toContain("Access valid");
    // The choice works once.
    const again = await post(s, "/admin/instagram/choose", { pick, page: page.id });
    expect(again.status).toBe(400);
  });

  it("reconnecting the same page replaces the token and keeps one account", async () => {
    const s = await signIn();
    const page = await addPage();
    const first = await loginToChoice(s);
    await post(s, "/admin/instagram/choose", { pick: first.pick, page: page.id });
    const [account] = await instagramAccounts(s);
    const before = await env.DB.prepare("SELECT sealed_token FROM channel_tokens WHERE account_id = ?")
      .bind(account!.id)
      .first<{ sealed_token: string }>();
    await env.DB.prepare(
      "UPDATE channel_tokens SET status = 'dead', dead_reason = 'revoked' WHERE account_id = ?",
    )
      .bind(account!.id)
      .run();
    const dead = await (await get(s, "/admin/channels")).text();
    expect(dead).toContain("Access lost");
    expect(dead).toContain("withdrawn on Facebook");
    expect(dead).toContain('href="/admin/instagram/connect"');

    const second = await loginToChoice(s);
    const res = await post(s, "/admin/instagram/choose", { pick: second.pick, page: page.id });
    expect(res.headers.get("location")).toMatch(/done=ig-again/);
    const accounts = await instagramAccounts(s);
    expect(accounts.map((a) => a.id)).toEqual([account!.id]);
    const after = await env.DB.prepare("SELECT sealed_token, status FROM channel_tokens WHERE account_id = ?")
      .bind(account!.id)
      .first<{ sealed_token: string; status: string }>();
    expect(after!.status).toBe("ok");
    expect(after!.sealed_token).not.toBe(before!.sealed_token);
  });

  it("shows a page without an Instagram business account, with the reason, and refuses choosing it", async () => {
    const s = await signIn();
    const bare = await addPage({ instagram: false });
    const { html, pick } = await loginToChoice(s);
    const label = new RegExp(`<input type="radio" name="page" value="${bare.id}" disabled>\\s*${bare.name}`);
    expect(html).toMatch(label);
    expect(html).toContain("No Instagram business account is linked to this Page");
    const res = await post(s, "/admin/instagram/choose", { pick, page: bare.id });
    expect(res.status).toBe(422);
    expect(await instagramAccounts(s)).toEqual([]);
  });

  it("refuses a page another business connected, clearly, and changes nothing", async () => {
    const owner = await signIn();
    const page = await addPage();
    const a = await loginToChoice(owner);
    await post(owner, "/admin/instagram/choose", { pick: a.pick, page: page.id });
    const ownerRow = await env.DB.prepare("SELECT * FROM channel_tokens WHERE page_id = ?")
      .bind(page.id)
      .first();
    const subscriptions = (await subscriptionsOf(page.id)).length;

    const other = await signIn();
    const b = await loginToChoice(other);
    const res = await post(other, "/admin/instagram/choose", { pick: b.pick, page: page.id });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("already connected to another business");
    expect(await instagramAccounts(other)).toEqual([]);
    expect(
      await env.DB.prepare("SELECT * FROM channel_tokens WHERE page_id = ?").bind(page.id).first(),
    ).toEqual(ownerRow);
    expect((await subscriptionsOf(page.id)).length).toBe(subscriptions);
  });

  it("refuses a callback whose state is forged, from another browser, or replayed", async () => {
    const s = await signIn();
    const start = await get(s, "/admin/instagram/start");
    const state = cookieValue(start, IG_COOKIE)!;
    // A state this browser never started.
    const forged = await get(s, "/admin/instagram/callback?code=AQxyz&state=forgedforgedforgedforged", {
      cookie: `${s.cookie}; ${IG_COOKIE}=forgedforgedforgedforged`,
    });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("not valid for this browser");
    // The real state without this browser's cookie.
    const noCookie = await get(s, `/admin/instagram/callback?code=AQxyz&state=${state}`);
    expect(noCookie.status).toBe(400);
    // Another tenant's session carrying the state: refused, and the state is spent.
    const other = await signIn();
    const stolen = await get(other, `/admin/instagram/callback?code=AQxyz&state=${state}`, {
      cookie: `${other.cookie}; ${IG_COOKIE}=${state}`,
    });
    expect(stolen.status).toBe(400);
    const replay = await get(s, `/admin/instagram/callback?code=AQxyz&state=${state}`, {
      cookie: `${s.cookie}; ${IG_COOKIE}=${state}`,
    });
    expect(replay.status).toBe(400);
  });

  it("refuses choosing without the CSRF token, and another tenant cannot use the choice", async () => {
    const s = await signIn();
    const page = await addPage();
    const { pick } = await loginToChoice(s);
    const res = await post(s, "/admin/instagram/choose", { pick, page: page.id }, { csrf: false });
    expect(res.status).toBe(403);
    const other = await signIn();
    const foreign = await post(other, "/admin/instagram/choose", { pick, page: page.id });
    expect(foreign.status).toBe(400);
    expect(await instagramAccounts(s)).toEqual([]);
    expect(await instagramAccounts(other)).toEqual([]);
  });

  it("removes the account and its sealed tokens through the disconnect action", async () => {
    const s = await signIn();
    const page = await addPage();
    const { pick } = await loginToChoice(s);
    await post(s, "/admin/instagram/choose", { pick, page: page.id });
    const [account] = await instagramAccounts(s);
    const res = await post(s, `/admin/channels/${account!.id}/delete`);
    expect(res.status).toBe(303);
    expect(await instagramAccounts(s)).toEqual([]);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM channel_tokens WHERE account_id = ?")
      .bind(account!.id)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("renders the connect page with the button that starts Facebook Login", async () => {
    const s = await signIn();
    const res = await app("/admin/instagram/connect", { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('href="/admin/instagram/start"');
  });

  it("Meta's data deletion callback for the person who connected Instagram deletes that Instagram account, tokens included, not the tenant", async () => {
    const s = await signIn();
    const page = await addPage();
    const email = `ig-${crypto.randomUUID()}@example.com`;
    const { pick } = await loginToChoice(s, { email });
    await post(s, "/admin/instagram/choose", { pick, page: page.id });
    const row = await env.DB.prepare("SELECT facebook_user_id AS fb FROM channel_tokens WHERE page_id = ?")
      .bind(page.id)
      .first<{ fb: string }>();
    // This person never signed in with Facebook: only channel_tokens names them.
    const signed = await makeSignedRequest(TEST_SECRETS.metaAppSecret, {
      algorithm: "HMAC-SHA256",
      user_id: row!.fb,
      issued_at: Math.floor(Date.now() / 1000),
    });
    const res = await app("/data-deletion", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ signed_request: signed }),
    });
    expect(res.status).toBe(200);
    await vi.waitFor(
      async () => {
        const left = await env.DB.prepare(
          `SELECT (SELECT COUNT(*) FROM channel_tokens WHERE tenant_id = ?1)
                + (SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?1) AS n`,
        )
          .bind(s.tenantId)
          .first<{ n: number }>();
        expect(left!.n).toBe(0);
      },
      { timeout: 10_000 },
    );
    // Issue 17 item 6: the business is not the person's to delete; it stays, its owner signed in.
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE id = ?")
        .bind(s.tenantId)
        .first<{ n: number }>())!.n,
    ).toBe(1);
    expect((await get(s, "/admin/channels")).status).toBe(200);
  });
});
