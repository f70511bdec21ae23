import { env } from "cloudflare:workers";
import {
  createChannelAccount,
  DAY_MS,
  getOnboarding,
  getTenantSettings,
  grantCredits,
} from "@concierge/storage";
import { sentEmails } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { app, get, post, signIn, type TestSession } from "./helpers.ts";
import { ownServerChannel } from "./notify-channel-helpers.ts";

/** What the preferences form sends as shown to a new en-IN tenant. */
const IN = { locale: "en-IN", currency: "INR", timeZone: "Asia/Kolkata" };
const US = { locale: "en-US", currency: "USD", timeZone: "America/New_York" };
/** The notifications form's choices as a new tenant has them. */
const NOTIFY = { discordChannelId: "", email: "", cadence: "instant", digest: "off" };

const zoneOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT time_zone AS tz, digest_next_at AS next FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ tz: string; next: number | null }>())!;

/** The confirmation link mailed to `address` (the sandbox's outbox), as a path on the dashboard. */
async function linkPath(address: string): Promise<string> {
  const mails = await sentEmails(env.SANDBOX_URL, address);
  expect(mails).toHaveLength(1);
  const raw = mails[0]!.raw.replace(/=\r?\n/g, "");
  const m = /https:\/\/dash\.test(\/email\/verify\?token=[A-Za-z0-9_-]+)/.exec(raw);
  if (!m) throw new Error(`no verification link in:\n${raw}`);
  return m[1]!;
}

/** Presses the Confirm button of the mailed link's page (a POST of its token), as its owner would. */
async function confirmLink(address: string): Promise<void> {
  const token = new URL(await linkPath(address), "https://dash.test").searchParams.get("token") ?? "";
  const res = await app("/email/verify", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
}

/** An address of the tenant confirmed through the settings page's button and the mailed link. */
async function confirmedAddress(s: TestSession): Promise<string> {
  const email = `owner-${crypto.randomUUID().slice(0, 8)}@shop.example`;
  const sent = await post(s, "/admin/settings/notifications/verify", { ...NOTIFY, email });
  expect(sent.status).toBe(200);
  expect(await sent.text()).toContain(`We sent a confirmation link to ${email}.`);
  await confirmLink(email);
  return email;
}

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
      "/admin/settings/notifications/verify",
      "/admin/settings/delete",
    ]) {
      const res = await post(null, path, { ...US, confirmName: "x" });
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
    expect(page).toContain('<option value="Asia/Kolkata" selected>Asia/Kolkata</option>');
    expect(page).toContain('<option value="America/New_York">America/New York</option>');
    expect(page).toContain('name="email" type="email" value="alerts@shop.example"');
    expect(page).toContain('<option value="instant" selected>Instantly</option>');
    expect(page).toContain('<option value="15m">Batched every 15 minutes</option>');
    expect(page).toContain('<option value="off" selected>Off</option>');
    expect(page).toContain('<option value="weekly">Weekly</option>');
    // Not one of the tenant's confirmed addresses: the button that mails the link is offered.
    expect(page).toContain('formaction="/admin/settings/notifications/verify#notifications"');
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

    const res = await post(s, "/admin/settings/preferences", { ...US, timeZone: "Asia/Kolkata" });
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

    expect((await post(s, "/admin/settings/preferences", IN)).status).toBe(303);
    expect(await (await get(s, "/admin")).text()).toMatch(
      /id="balance"[\s\S]*?<p class="stat">1,00,000<\/p>/,
    );
  });

  it.each([
    [{ ...IN, locale: "fr-FR" }, "Choose one of the listed languages.", "locale"],
    [{ ...US, currency: "EUR" }, "Choose one of the listed currencies.", "currency"],
    [{ currency: "USD", timeZone: "UTC" }, "Choose one of the listed languages.", "locale"],
    [{ ...US, timeZone: "Mars/Olympus_Mons" }, "Choose a time zone from the list, such as", "timeZone"],
    [{ ...US, timeZone: "+05:30" }, "Choose a time zone from the list, such as", "timeZone"],
    [{ locale: "en-US", currency: "USD" }, "Choose a time zone from the list, such as", "timeZone"],
  ])("refuses preferences %j with a field error and saves nothing", async (fields, error, name) => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/preferences", fields);
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(error);
    expect(body).toMatch(new RegExp(`<select id="f-${name}" name="${name}" aria-invalid="true"`));
    // The message is next to its field, and what was typed is shown again.
    expect(body).toMatch(new RegExp(`<span class="err" id="f-${name}-err">${error}`));
    expect(await prefs(s.tenantId)).toEqual({ locale: "en-IN", currency: "INR" });
    expect((await zoneOf(s.tenantId)).tz).toBe("Asia/Kolkata");
  });

  it("saves a new time zone, shows it chosen, and makes the digest work out its next period again", async () => {
    const s = await signIn();
    await env.DB.prepare("UPDATE tenants SET digest_next_at = 1234 WHERE id = ?").bind(s.tenantId).run();
    // Same zone: the digest's next boundary stands.
    expect((await post(s, "/admin/settings/preferences", IN)).status).toBe(303);
    expect(await zoneOf(s.tenantId)).toEqual({ tz: "Asia/Kolkata", next: 1234 });
    const res = await post(s, "/admin/settings/preferences", { ...IN, timeZone: " America/Los_Angeles " });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
    expect(await zoneOf(s.tenantId)).toEqual({ tz: "America/Los_Angeles", next: null });
    const page = await (await get(s, "/admin/settings?saved=1")).text();
    expect(page).toContain('<option value="America/Los_Angeles" selected>America/Los Angeles</option>');
    expect(page).toContain('<p class="notice" role="status">Saved.</p>');
  });

  it("renames the business and sets its kind; an empty name or an unknown kind is refused next to the field", async () => {
    const s = await signIn();
    const before = await getOnboarding(env.DB, s.tenantId);
    const page = await (await get(s, "/admin/settings")).text();
    expect(page).toContain('action="/admin/settings/business"');
    // A tenant from before the wizard has no kind: it is asked for, not assumed.
    expect(page).toContain('<option value="" selected>Choose…</option>');

    for (const [input, field] of [
      [{ name: "  ", businessKind: "cafe" }, "name"],
      [{ name: "Chai Corner", businessKind: "spaceport" }, "businessKind"],
    ] as const) {
      const bad = await post(s, "/admin/settings/business", input);
      expect(bad.status).toBe(422);
      expect(await bad.text()).toMatch(new RegExp(`id="f-${field}-err"`));
      expect(await getOnboarding(env.DB, s.tenantId)).toEqual(before);
    }
    expect(
      (
        await post(
          s,
          "/admin/settings/business",
          { name: "Chai Corner", businessKind: "cafe" },
          { csrf: false },
        )
      ).status,
    ).toBe(403);
    expect(await getOnboarding(env.DB, s.tenantId)).toEqual(before);

    const res = await post(s, "/admin/settings/business", { name: " Chai Corner ", businessKind: "cafe" });
    expect(res.status).toBe(303);
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({
      name: "Chai Corner",
      businessKind: "cafe",
    });
    // Every page's header says the new name.
    const after = await (await get(s, "/admin")).text();
    expect(after).toContain("Chai Corner");
  });

  it("the business, preferences and retention forms refuse a save from a page older than the settings (issue 19 item 8)", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/settings")).text();
    const at = (action: string) => {
      const m = /name="version" value="(\d+)"/.exec(page.slice(page.indexOf(`action="${action}`)));
      return m![1]!;
    };
    const version = at("/admin/settings/business");
    expect(at("/admin/settings/preferences")).toBe(version);
    expect(at("/admin/settings/retention")).toBe(version);
    // Another tab saves the retention; this page's business form is now stale.
    expect((await post(s, "/admin/settings/retention", { days: "45", version })).status).toBe(303);
    const before = await getOnboarding(env.DB, s.tenantId);
    const stale = await post(s, "/admin/settings/business", {
      name: "Late Tab",
      businessKind: "cafe",
      version,
    });
    expect(stale.status).toBe(409);
    const body = await stale.text();
    expect(body).toContain("These settings were changed somewhere else after you opened this page");
    expect(await getOnboarding(env.DB, s.tenantId)).toEqual(before);
    expect(
      (
        await post(s, "/admin/settings/preferences", {
          locale: "en-US",
          currency: "USD",
          timeZone: "UTC",
          version,
        })
      ).status,
    ).toBe(409);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ locale: "en-IN", retentionDays: 45 });
    // Two saves at once from the page shown now: one lands.
    const now = /name="version" value="(\d+)"/.exec(
      body.slice(body.indexOf('action="/admin/settings/business')),
    )![1]!;
    const both = await Promise.all([
      post(s, "/admin/settings/business", { name: "Tab One", businessKind: "cafe", version: now }),
      post(s, "/admin/settings/retention", { days: "60", version: now }),
    ]);
    expect(both.map((r) => r.status).toSorted()).toEqual([303, 409]);
  });

  it("refuses every settings form without the session's CSRF token", async () => {
    const s = await signIn();
    const name = await tenantName(s);
    for (const csrf of [false, "forged"] as const) {
      expect((await post(s, "/admin/settings/preferences", US, { csrf })).status).toBe(403);
      expect(
        (await post(s, "/admin/settings/notifications", { ...NOTIFY, email: "a@b.example" }, { csrf }))
          .status,
      ).toBe(403);
      expect(
        (await post(s, "/admin/settings/notifications/verify", { ...NOTIFY, email: "a@b.example" }, { csrf }))
          .status,
      ).toBe(403);
      expect((await post(s, "/admin/settings/delete", { confirmName: name }, { csrf })).status).toBe(403);
    }
    expect(await prefs(s.tenantId)).toEqual({ locale: "en-IN", currency: "INR" });
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ notifyEmail: null });
    expect(await count("email_forward_addresses", s.tenantId)).toBe(0);
    expect(await count("users", s.tenantId)).toBe(1);
  });

  it("saves where and how often notifications go (a confirmed email), and clears them when emptied", async () => {
    const s = await signIn();
    const email = await confirmedAddress(s);
    // A text channel of the tenant's own Discord server (the pipeline asks Discord).
    const channel = await ownServerChannel(s);
    const res = await post(s, "/admin/settings/notifications", {
      discordChannelId: ` ${channel} `,
      email: email.toUpperCase(),
      cadence: "hourly",
      digest: "weekly",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: channel,
      notifyEmail: email,
    });
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({
      notifyCadence: "hourly",
      digest: "weekly",
    });
    const page = await (await get(s, "/admin/settings?saved=1")).text();
    expect(page).toContain(`value="${channel}"`);
    expect(page).toContain("Saved.");
    expect(page).toContain('<option value="hourly" selected>Batched hourly</option>');
    expect(page).toContain('<option value="weekly" selected>Weekly</option>');
    // Confirmed: said under the field, and no button to send a link.
    expect(page).toContain("This address is confirmed.");
    expect(page).not.toContain("/admin/settings/notifications/verify");
    expect((await post(s, "/admin/settings/notifications", NOTIFY)).status).toBe(303);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: null,
      notifyEmail: null,
    });
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({
      notifyCadence: "instant",
      digest: "off",
    });
  });

  it("refuses an email that is not confirmed, next to the field with the button that sends the link", async () => {
    const s = await signIn();
    const email = `new-${crypto.randomUUID().slice(0, 8)}@shop.example`;
    const res = await post(s, "/admin/settings/notifications", { ...NOTIFY, email, digest: "daily" });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toMatch(
      /name="email"[^>]*aria-invalid="true"[\s\S]*?<span class="err" id="f-email-err">This address is not confirmed yet\./,
    );
    expect(body).toContain(`value="${email}"`);
    expect(body).toContain('<option value="daily" selected>Daily</option>');
    expect(body).toMatch(
      /<button class="secondary" type="submit" formaction="\/admin\/settings\/notifications\/verify#notifications">Send a verification link<\/button>/,
    );
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ notifyEmail: null });
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({ digest: "off" });
  });

  it("refuses a digest with nowhere to go (no email, no Discord channel) next to the digest, nothing saved", async () => {
    const s = await signIn();
    const before = await getOnboarding(env.DB, s.tenantId);
    const res = await post(s, "/admin/settings/notifications", {
      ...NOTIFY,
      cadence: "hourly",
      digest: "weekly",
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toMatch(/<span class="err" id="f-digest-err">A digest needs somewhere to go/);
    expect(body).toContain('<option value="weekly" selected>Weekly</option>');
    expect(await getOnboarding(env.DB, s.tenantId)).toEqual(before);
  });

  it("sends the verification link from the form, again on a second press, and saves nothing else", async () => {
    const s = await signIn();
    const email = `link-${crypto.randomUUID().slice(0, 8)}@shop.example`;
    const typed = { ...NOTIFY, email, cadence: "daily" };
    const first = await post(s, "/admin/settings/notifications/verify", typed);
    expect(first.status).toBe(200);
    const body = await first.text();
    expect(body).toContain(`We sent a confirmation link to ${email}. Open it, then save your notifications.`);
    // What was typed stays in the form; nothing of it was saved.
    expect(body).toContain(`value="${email}"`);
    expect(body).toContain('<option value="daily" selected>Batched daily</option>');
    expect(body).toContain("A confirmation link was sent to this address; open it, then save.");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ notifyEmail: null });
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({ notifyCadence: "instant" });
    expect(await sentEmails(env.SANDBOX_URL, email)).toHaveLength(1);
    // Pressed again: a new link (the first stops working), not a second address.
    expect((await post(s, "/admin/settings/notifications/verify", typed)).status).toBe(200);
    expect(await sentEmails(env.SANDBOX_URL, email)).toHaveLength(2);
    expect(await count("email_forward_addresses", s.tenantId)).toBe(1);
    // Once confirmed, the button says so instead of sending another.
    await env.DB.prepare(
      "UPDATE email_forward_addresses SET verified_at = ?, token_hash = NULL WHERE tenant_id = ?",
    )
      .bind(Date.now(), s.tenantId)
      .run();
    const again = await post(s, "/admin/settings/notifications/verify", typed);
    expect(await again.text()).toContain(`${email} is already confirmed. Save to use it.`);
    expect(await sentEmails(env.SANDBOX_URL, email)).toHaveLength(2);
  });

  it.each([
    [{ ...NOTIFY, email: "" }, "Type the address to send the link to."],
    [{ ...NOTIFY, email: "not an email" }, "Enter an email address like name@example.com."],
  ])("refuses to send a link for %j, next to the field", async (fields, error) => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/notifications/verify", fields);
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(
      new RegExp(`name="email"[^>]*aria-invalid="true"[\\s\\S]*?<span class="err" id="f-email-err">${error}`),
    );
    expect(await count("email_forward_addresses", s.tenantId)).toBe(0);
  });

  it.each([
    [{ ...NOTIFY, email: "not an email" }, "Enter an email address like name@example.com.", "email"],
    [
      { ...NOTIFY, email: "Owner <owner@shop.example>" },
      "Enter an email address like name@example.com.",
      "email",
    ],
    [
      { ...NOTIFY, discordChannelId: "12ab", email: "owner@shop.example" },
      "A Discord channel id is 17 to 20 digits.",
      "discordChannelId",
    ],
    [
      { ...NOTIFY, discordChannelId: "1".repeat(21) },
      "A Discord channel id is 17 to 20 digits.",
      "discordChannelId",
    ],
    [{ ...NOTIFY, cadence: "weekly" }, "Choose how often these emails come.", "cadence"],
    [{ ...NOTIFY, digest: "monthly" }, "Choose how often the digest comes.", "digest"],
  ])("refuses notifications %j with a field error and saves nothing", async (fields, error, name) => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/notifications", fields);
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(error);
    expect(body).toMatch(new RegExp(`name="${name}"[^>]*aria-invalid="true"`));
    expect(body).toMatch(new RegExp(`<span class="err" id="f-${name}-err">${error}`));
    expect(body).toContain(`value="${fields.email.replace("<", "&lt;").replace(">", "&gt;")}"`);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      notifyDiscordChannelId: null,
      notifyEmail: null,
    });
    expect(await getOnboarding(env.DB, s.tenantId)).toMatchObject({
      notifyCadence: "instant",
      digest: "off",
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
