import { env } from "cloudflare:workers";
import { createChannelAccount, DAY_MS, getTenantSettings, grantCredits } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { get, post, signIn, type TestSession } from "./helpers.ts";

const prefs = (tenantId: string) =>
  env.DB.prepare("SELECT locale, currency FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ locale: string; currency: string }>();

const count = async (table: string, tenantId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`)
    .bind(tenantId)
    .first<{ n: number }>())!.n;

const tenantName = async (s: TestSession) =>
  (await env.DB.prepare("SELECT name FROM tenants WHERE id = ?").bind(s.tenantId).first<{ name: string }>())!
    .name;

describe("settings", () => {
  it("sends signed-out visitors to sign in from every settings route", async () => {
    const page = await get(null, "/admin/settings");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/sign-in?next=%2Fadmin%2Fsettings");
    for (const path of [
      "/admin/settings/preferences",
      "/admin/settings/notifications",
      "/admin/settings/delete",
    ]) {
      const res = await post(null, path, { locale: "en-US", currency: "USD", confirmName: "x" });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/sign-in");
    }
  });

  it("shows the current language, currency and notification destinations", async () => {
    const s = await signIn();
    await env.DB.prepare("UPDATE tenants SET notify_email = 'alerts@shop.example' WHERE id = ?")
      .bind(s.tenantId)
      .run();
    const page = await (await get(s, "/admin/settings")).text();
    expect(page).toContain('<option value="en-IN" selected>');
    expect(page).toContain('<option value="INR" selected>');
    expect(page).toContain('name="email" type="email" value="alerts@shop.example"');
    expect(page).toContain("Save preferences");
    expect(page).toContain("Save notifications");
    expect(page).toContain('id="delete-account"');
    expect(page).toContain("Delete account permanently");
  });

  it("switches the locale and currency: every page follows, numbers group the locale's way, and it persists", async () => {
    const s = await signIn({ trial: false });
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 100000, source: "grant", reference: "g" });
    const before = await (await get(s, "/admin/billing")).text();
    expect(before).toMatch(/id="balance"[\s\S]*?<p class="stat">1,00,000<\/p>/);
    expect(before).toContain('<html lang="en-IN">');

    const res = await post(s, "/admin/settings/preferences", { locale: "en-US", currency: "USD" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
    expect(await prefs(s.tenantId)).toEqual({ locale: "en-US", currency: "USD" });

    for (const path of ["/admin", "/admin/billing"]) {
      const page = await (await get(s, path)).text();
      expect(page).toContain('<html lang="en-US">');
      expect(page).toMatch(/id="balance"[\s\S]*?<p class="stat">100,000<\/p>/);
    }
    const settings = await (await get(s, "/admin/settings")).text();
    expect(settings).toContain('<option value="en-US" selected>');
    expect(settings).toContain('<option value="USD" selected>');
    // en-US writes dates month first.
    const d = new Date(Date.now()).toLocaleDateString("en-US", {
      month: "short",
      day: "numeric",
      timeZone: "UTC",
    });
    expect(await (await get(s, "/admin")).text()).toContain(`>${d}</th>`);

    expect((await post(s, "/admin/settings/preferences", { locale: "en-IN", currency: "INR" })).status).toBe(
      303,
    );
    expect(await (await get(s, "/admin")).text()).toMatch(
      /id="balance"[\s\S]*?<p class="stat">1,00,000<\/p>/,
    );
  });

  it.each([
    [{ locale: "fr-FR", currency: "INR" }, "Choose one of the listed languages.", "locale"],
    [{ locale: "en-US", currency: "EUR" }, "Choose one of the listed currencies.", "currency"],
    [{ currency: "USD" }, "Choose one of the listed languages.", "locale"],
  ])("refuses preferences %j with a field error and saves nothing", async (fields, error, name) => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/preferences", fields);
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(error);
    expect(body).toMatch(new RegExp(`<select id="f-${name}" name="${name}" aria-invalid="true"`));
    expect(await prefs(s.tenantId)).toEqual({ locale: "en-IN", currency: "INR" });
  });

  it("refuses every settings form without the session's CSRF token", async () => {
    const s = await signIn();
    const name = await tenantName(s);
    for (const csrf of [false, "forged"] as const) {
      expect(
        (await post(s, "/admin/settings/preferences", { locale: "en-US", currency: "USD" }, { csrf })).status,
      ).toBe(403);
      expect(
        (
          await post(
            s,
            "/admin/settings/notifications",
            { discordChannelId: "", email: "a@b.example" },
            { csrf },
          )
        ).status,
      ).toBe(403);
      expect((await post(s, "/admin/settings/delete", { confirmName: name }, { csrf })).status).toBe(403);
    }
    expect(await prefs(s.tenantId)).toEqual({ locale: "en-IN", currency: "INR" });
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ notifyEmail: null });
    expect(await count("users", s.tenantId)).toBe(1);
  });

  it("saves where notifications go, and clears them when emptied", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/notifications", {
      discordChannelId: " 123456789012345678 ",
      email: "owner@shop.example",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: "123456789012345678",
      notifyEmail: "owner@shop.example",
    });
    const page = await (await get(s, "/admin/settings?saved=1")).text();
    expect(page).toContain('value="123456789012345678"');
    expect(page).toContain("Saved.");
    expect((await post(s, "/admin/settings/notifications", { discordChannelId: "", email: "" })).status).toBe(
      303,
    );
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: null,
      notifyEmail: null,
    });
  });

  it.each([
    [
      { discordChannelId: "", email: "not an email" },
      "Enter an email address like name@example.com.",
      "email",
    ],
    [
      { discordChannelId: "", email: "Owner <owner@shop.example>" },
      "Enter an email address like name@example.com.",
      "email",
    ],
    [
      { discordChannelId: "12ab", email: "owner@shop.example" },
      "A Discord channel id is 17 to 20 digits.",
      "discordChannelId",
    ],
    [
      { discordChannelId: "1".repeat(21), email: "" },
      "A Discord channel id is 17 to 20 digits.",
      "discordChannelId",
    ],
  ])("refuses notifications %j with a field error and saves nothing", async (fields, error, name) => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/notifications", fields);
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(error);
    expect(body).toMatch(new RegExp(`name="${name}"[^>]*aria-invalid="true"`));
    expect(body).toContain(`value="${fields.email.replace("<", "&lt;").replace(">", "&gt;")}"`);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: null,
      notifyEmail: null,
    });
  });

  it("refuses to delete the account unless the business name is typed exactly", async () => {
    const s = await signIn({ name: "Sharma Sweets" });
    const name = await tenantName(s);
    for (const typed of ["", name.toLowerCase(), `${name}!`]) {
      const res = await post(s, "/admin/settings/delete", { confirmName: typed });
      expect(res.status).toBe(422);
      const body = await res.text();
      expect(body).toContain(
        typed === "" ? "Type your business name to confirm." : "That is not your business name exactly.",
      );
      expect(body).toMatch(/name="confirmName"[^>]*aria-invalid="true"/);
    }
    expect(await count("users", s.tenantId)).toBe(1);
    expect((await get(s, "/admin/settings")).status).toBe(200);
  });

  it("deletes the account and all its data, signs out, and leaves other tenants untouched", async () => {
    const s = await signIn({ name: "Doomed Dosa" });
    const other = await signIn({ name: "Lasting Lassi", trial: false });
    const name = await tenantName(s);
    const wa = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `pn-${crypto.randomUUID()}`,
    });
    await env.DB.prepare(
      `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, action, created_at)
       VALUES (?, ?, 'whatsapp', 'inbound', ?, 'cust', 'biz', 'canned_reply', ?)`,
    )
      .bind(s.tenantId, wa.id, `pm-${crypto.randomUUID()}`, Date.now() - DAY_MS)
      .run();
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 10, source: "grant", reference: "g" });
    await grantCredits(env.DB, { tenantId: other.tenantId, amount: 10, source: "grant", reference: "g" });

    const res = await post(s, "/admin/settings/delete", { confirmName: name });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account-deleted");
    const cleared = res.headers.getSetCookie().find((c) => c.startsWith("__Host-concierge_session="));
    expect(cleared).toMatch(/^__Host-concierge_session=;.*Max-Age=0/);

    const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE id = ?").bind(s.tenantId).first();
    expect(tenant).toBeNull();
    for (const table of [
      "users",
      "sessions",
      "channel_accounts",
      "messages",
      "credit_lots",
      "credit_ledger",
    ]) {
      expect(await count(table, s.tenantId), table).toBe(0);
    }
    // The old cookie is dead.
    const after = await get(s, "/admin");
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/sign-in?next=%2Fadmin");
    const done = await get(null, "/account-deleted");
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Your account and all its data were deleted.");

    // The other tenant is untouched.
    expect(
      await env.DB.prepare("SELECT id FROM tenants WHERE id = ?").bind(other.tenantId).first(),
    ).not.toBeNull();
    expect(await count("users", other.tenantId)).toBe(1);
    expect(await count("sessions", other.tenantId)).toBeGreaterThan(0);
    // Its grant and its (expired) trial lot.
    expect(await count("credit_lots", other.tenantId)).toBe(2);
    const theirs = await get(other, "/admin/billing");
    expect(theirs.status).toBe(200);
    expect(await theirs.text()).toMatch(/id="balance"[\s\S]*?<p class="stat">10<\/p>/);
  });
});
