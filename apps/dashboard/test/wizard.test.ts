// The onboarding wizard's frame and steps 1–3 through HTTP (the pipeline beside it as in the
// other tests): where a sign-in lands, step gating, each step's save and resume, bad input (422,
// the error next to the field, D1 unchanged), CSRF, the connect flows that return to the wizard,
// and the signup defaults negotiated from the browser.
import { env } from "cloudflare:workers";
import { LOCALES, translator } from "@concierge/i18n";
import { getDiscordInstall, getTenantSettings, launchTenant } from "@concierge/storage";
import { sentEmails } from "@concierge/testing/sandbox-client";
import {
  type FakeGuild,
  injectDiscordFault,
  newDiscordGuild,
  textChannel,
} from "@concierge/testing/discord-sandbox";
import { describe, expect, it } from "vitest";
import type { AuthedCtx } from "../src/http.ts";
import { sendVerificationLink, verificationErrorId } from "../src/notify-email.ts";
import { signupDefaults } from "../src/users.ts";
import { app, cookieValue, csrfFrom, get, post, type TestSession } from "./helpers.ts";

const W = "/dashboard/wizard";

type Landing = { res: Response; location: string; session: TestSession | null };

/** The development sign-in as a browser sends it; the session when it signed in. */
async function devSignIn(
  fields: { email: string; business?: "new" | "demo"; businessName?: string; next?: string },
  headers: Record<string, string> = {},
): Promise<Landing> {
  const page = await app("/sign-in", { headers });
  const login = cookieValue(page, "__Host-concierge_login")!;
  const res = await app("/auth/dev", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `__Host-concierge_login=${login}`,
      ...headers,
    },
    body: new URLSearchParams({
      _login: login,
      email: fields.email,
      business: fields.business ?? "new",
      businessName: fields.businessName ?? "Wizard Cafe",
      next: fields.next ?? "/admin",
    }),
  });
  const token = cookieValue(res, "__Host-concierge_session");
  if (!token) return { res, location: res.headers.get("location") ?? "", session: null };
  const cookie = `__Host-concierge_session=${token}`;
  const html = await (await app("/admin/settings", { headers: { cookie } })).text();
  const user = await env.DB.prepare("SELECT id, tenant_id AS tenantId FROM users WHERE subject = ?")
    .bind(fields.email)
    .first<{ id: string; tenantId: string }>();
  return {
    res,
    location: res.headers.get("location") ?? "",
    session: {
      cookie,
      csrf: csrfFrom(html),
      tenantId: user!.tenantId,
      userId: user!.id,
      email: fields.email,
    },
  };
}

const newEmail = () => `wiz-${crypto.randomUUID().slice(0, 8)}@example.com`;

async function newTenant(): Promise<TestSession> {
  const l = await devSignIn({ email: newEmail() });
  expect(l.location).toBe(W);
  return l.session!;
}

type TenantRow = {
  name: string;
  businessKind: string | null;
  locale: string;
  currency: string;
  timeZone: string;
  wizardStep: number;
  notifyEmail: string | null;
  notifyCadence: string;
  digest: string;
};

function tenantRow(tenantId: string): Promise<TenantRow | null> {
  return env.DB.prepare(
    `SELECT name, business_kind AS businessKind, locale, currency, time_zone AS timeZone,
            wizard_step AS wizardStep, notify_email AS notifyEmail, notify_cadence AS notifyCadence, digest
       FROM tenants WHERE id = ?`,
  )
    .bind(tenantId)
    .first<TenantRow>();
}

const BASICS = {
  name: "Chai Corner",
  businessKind: "cafe",
  locale: "en-IN",
  currency: "INR",
  timeZone: "Asia/Kolkata",
};

/** The text of the field's error (the span next to it), or null. */
function fieldError(html: string, name: string): string | null {
  return new RegExp(`id="f-${name}-err">([^<]*)<`).exec(html)?.[1] ?? null;
}

async function confirmMailedLink(address: string): Promise<void> {
  const mails = await sentEmails(env.SANDBOX_URL, address);
  expect(mails.length).toBeGreaterThan(0);
  const raw = mails.at(-1)!.raw.replace(/=\r?\n/g, "");
  const token = /\/email\/verify\?token=([A-Za-z0-9_-]+)/.exec(raw)![1]!;
  const res = await app("/email/verify", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
}

describe("sign-in landing", () => {
  it("lands a tenant created by this sign-in in the wizard, at step 1", async () => {
    const s = await newTenant();
    const start = await get(s, W);
    expect(start.status).toBe(303);
    expect(start.headers.get("location")).toBe(`${W}/basics`);
    const page = await (await get(s, `${W}/basics`)).text();
    expect(page).toContain("Step 1 of 5");
    expect(page).toContain('value="Wizard Cafe"');
  });

  it("lands a launched tenant in /admin, and its /dashboard/wizard goes to /admin", async () => {
    const email = newEmail();
    const first = await devSignIn({ email });
    await launchTenant(env.DB, first.session!.tenantId, Date.now());
    const again = await devSignIn({ email });
    expect(again.location).toBe("/admin");
    for (const path of [W, `${W}/basics`, `${W}/channels`]) {
      const res = await get(again.session, path);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin");
    }
  });

  it("never sends a tenant that did not start the wizard (step 0) there on a later sign-in", async () => {
    const email = newEmail();
    await devSignIn({ email });
    expect((await devSignIn({ email })).location).toBe("/admin");
  });

  it("keeps an explicit next for an unfinished wizard", async () => {
    const email = newEmail();
    const s = (await devSignIn({ email })).session!;
    expect((await post(s, `${W}/basics`, BASICS)).status).toBe(303);
    expect((await devSignIn({ email, next: "/admin/billing" })).location).toBe("/admin/billing");
  });

  it("refuses a new business with an empty name, next to the field, and creates nothing", async () => {
    const email = newEmail();
    const l = await devSignIn({ email, businessName: "   " });
    expect(l.res.status).toBe(422);
    expect(l.session).toBeNull();
    const html = await l.res.text();
    expect(html).toMatch(/id="dev-name-err">Give the new business a name\.</);
    expect(html).toContain('aria-invalid="true"');
    const user = await env.DB.prepare("SELECT id FROM users WHERE subject = ?").bind(email).first();
    expect(user).toBeNull();
  });

  it("starts a tenant on the browser's locale and its currency (en-US → USD)", async () => {
    const l = await devSignIn({ email: newEmail() }, { "accept-language": "en-US,en;q=0.9" });
    const row = (await tenantRow(l.session!.tenantId))!;
    expect(row.locale).toBe("en-US");
    expect(row.currency).toBe("USD");
    expect(row.timeZone).toBe("America/New_York");
    const india = await devSignIn({ email: newEmail() }, { "accept-language": "en-IN" });
    const indiaRow = (await tenantRow(india.session!.tenantId))!;
    expect([indiaRow.locale, indiaRow.currency, indiaRow.timeZone]).toEqual(["en-IN", "INR", "Asia/Kolkata"]);
  });

  it("negotiates the time zone from request.cf when it is a real zone, else the locale's", () => {
    expect(signupDefaults("en-US", "America/Chicago")).toEqual({
      locale: "en-US",
      currency: "USD",
      timeZone: "America/Chicago",
    });
    expect(signupDefaults("en-IN", "Europe/London").timeZone).toBe("Europe/London");
    expect(signupDefaults("en-IN", "Mars/Olympus").timeZone).toBe("Asia/Kolkata");
    expect(signupDefaults("en-US", undefined).timeZone).toBe("America/New_York");
    expect(signupDefaults("fr-FR", 42)).toEqual({
      locale: "en-IN",
      currency: "INR",
      timeZone: "Asia/Kolkata",
    });
  });
});

describe("wizard steps 1–3", () => {
  it("saves each step, resumes at the next, and after a new sign-in lands at step 4 with 1–3 kept", async () => {
    const email = newEmail();
    const s = (await devSignIn({ email })).session!;

    const basics = await post(s, `${W}/basics`, {
      ...BASICS,
      locale: "en-US",
      currency: "USD",
      timeZone: "America/Chicago",
    });
    expect(basics.status).toBe(303);
    expect(basics.headers.get("location")).toBe(`${W}/channels`);
    expect((await get(s, W)).headers.get("location")).toBe(`${W}/channels`);
    const row1 = (await tenantRow(s.tenantId))!;
    expect(row1).toMatchObject({
      name: "Chai Corner",
      businessKind: "cafe",
      locale: "en-US",
      currency: "USD",
    });
    expect(row1).toMatchObject({ timeZone: "America/Chicago", wizardStep: 1 });

    const channels = await get(s, `${W}/channels`);
    const channelsHtml = await channels.text();
    expect(channelsHtml).toContain("Step 2 of 5");
    expect(channelsHtml).toContain("Skip for now");
    expect(channelsHtml).toContain('href="/admin/whatsapp/connect?from=wizard"');
    expect(channelsHtml).toContain('href="/admin/whatsapp/manual?from=wizard"');
    expect(channelsHtml).toContain('href="/admin/instagram/connect?from=wizard"');
    expect(channelsHtml).toContain(`href="${W}/basics"`);
    const cont = await post(s, `${W}/channels`);
    expect(cont.headers.get("location")).toBe(`${W}/notifications`);
    expect((await tenantRow(s.tenantId))!.wizardStep).toBe(2);

    // A verified notification address: the link is sent from the step, then opened.
    const address = `notify-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const sent = await post(s, `${W}/notifications/verify`, {
      email: address,
      cadence: "hourly",
      digest: "weekly",
    });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain(`We sent a confirmation link to ${address}`);
    await confirmMailedLink(address);
    const notif = await post(s, `${W}/notifications`, {
      email: address,
      cadence: "hourly",
      digest: "weekly",
    });
    expect(notif.status).toBe(303);
    expect(notif.headers.get("location")).toBe(`${W}/replies`);
    expect(await tenantRow(s.tenantId)).toMatchObject({
      notifyEmail: address,
      notifyCadence: "hourly",
      digest: "weekly",
      wizardStep: 3,
    });

    // Leave; a new session through the dev sign-in resumes at step 4.
    const back = await devSignIn({ email });
    expect(back.location).toBe(W);
    const resumed = back.session!;
    expect((await get(resumed, W)).headers.get("location")).toBe(`${W}/replies`);
    const basicsAgain = await (await get(resumed, `${W}/basics`)).text();
    expect(basicsAgain).toContain('value="Chai Corner"');
    expect(basicsAgain).toMatch(/value="cafe" checked/);
    expect(basicsAgain).toMatch(/value="America\/Chicago" selected/);
    expect(basicsAgain).toMatch(/value="USD" selected/);
    const notifAgain = await (await get(resumed, `${W}/notifications`)).text();
    expect(notifAgain).toContain(`value="${address}"`);
    expect(notifAgain).toMatch(/value="hourly" checked/);
    expect(notifAgain).toMatch(/value="weekly" checked/);
    expect(notifAgain).toContain("This address is confirmed.");
  });

  it("refuses an empty name and an unknown time zone next to the field, 422, nothing saved", async () => {
    const s = await newTenant();
    const before = await tenantRow(s.tenantId);
    const empty = await post(s, `${W}/basics`, { ...BASICS, name: "  " });
    expect(empty.status).toBe(422);
    expect(fieldError(await empty.text(), "name")).toBe("Give your business a name.");
    const mars = await post(s, `${W}/basics`, { ...BASICS, timeZone: "Mars/Olympus" });
    expect(mars.status).toBe(422);
    const html = await mars.text();
    expect(fieldError(html, "timeZone")).toBe("Choose a time zone from the list, such as Asia/Kolkata.");
    expect(html).toContain('value="Chai Corner"');
    expect(await tenantRow(s.tenantId)).toEqual(before);
  });

  it("refuses a subdomain another tenant has, next to the field, 422, nothing saved", async () => {
    const owner = await newTenant();
    const name = `wiz${crypto.randomUUID().slice(0, 8)}`;
    expect((await post(owner, "/admin/email", { name })).status).toBe(303);
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    const taken = await post(s, `${W}/channels/email`, { name });
    expect(taken.status).toBe(422);
    expect(fieldError(await taken.text(), "name")).toBeTruthy();
    const mine = await env.DB.prepare("SELECT COUNT(*) AS n FROM email_subdomains WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(mine!.n).toBe(0);
    expect((await tenantRow(s.tenantId))!.wizardStep).toBe(1);

    const fresh = `wiz${crypto.randomUUID().slice(0, 8)}`;
    const created = await post(s, `${W}/channels/email`, { name: fresh });
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toMatch(new RegExp(`^${W}/channels\\?done=email-created`));
    const page = await (await get(s, `${W}/channels`)).text();
    expect(page).toContain(`*@${fresh}.`);
    expect(page).toContain("Save and continue");
  });

  it("refuses an unverified notification email next to the field, 422, nothing saved", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    await post(s, `${W}/channels`);
    const before = await tenantRow(s.tenantId);
    const res = await post(s, `${W}/notifications`, {
      email: "nobody-confirmed@example.com",
      cadence: "daily",
      digest: "daily",
    });
    expect(res.status).toBe(422);
    expect(fieldError(await res.text(), "email")).toBe(
      "Confirm this address first: send the verification link and open it.",
    );
    expect(await tenantRow(s.tenantId)).toEqual(before);
  });

  it("refuses a digest with nowhere to go next to the digest choice, 422, nothing saved", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    await post(s, `${W}/channels`);
    const before = await tenantRow(s.tenantId);
    const res = await post(s, `${W}/notifications`, { email: "", cadence: "instant", digest: "daily" });
    expect(res.status).toBe(422);
    expect(fieldError(await res.text(), "digest")).toMatch(/^A digest needs somewhere to go/);
    expect(await tenantRow(s.tenantId)).toEqual(before);
  });

  it("redirects skipping ahead to the current step, for pages and saves alike", async () => {
    const s = await newTenant();
    for (const step of ["channels", "notifications", "replies", "launch"]) {
      const res = await get(s, `${W}/${step}`);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`${W}/basics`);
    }
    const jump = await post(s, `${W}/notifications`, { email: "", cadence: "instant", digest: "off" });
    expect(jump.headers.get("location")).toBe(`${W}/basics`);
    expect((await tenantRow(s.tenantId))!.wizardStep).toBe(0);
  });

  it("requires the CSRF token on every POST", async () => {
    const s = await newTenant();
    const before = await tenantRow(s.tenantId);
    for (const path of ["basics", "channels", "channels/email", "notifications", "notifications/verify"]) {
      const res = await post(s, `${W}/${path}`, { ...BASICS, email: "x@example.com" }, { csrf: false });
      expect(res.status).toBe(403);
    }
    expect(await tenantRow(s.tenantId)).toEqual(before);
    // And signed out, the wizard is the signed-in area: to sign in.
    const out = await get(null, W);
    expect(out.headers.get("location")).toBe(`/sign-in?next=${encodeURIComponent(W)}`);
  });
});

/** Installs the bot into a new sandbox guild from step 3, as a person would. */
async function installFromWizard(s: TestSession): Promise<{ guild: FakeGuild; done: Response }> {
  const start = await get(s, "/admin/discord/install?from=wizard");
  expect(start.status).toBe(302);
  const state = cookieValue(start, "__Host-concierge_dcinstall")!;
  const guild = await newDiscordGuild(env.SANDBOX_URL, `Guild ${crypto.randomUUID().slice(0, 6)}`);
  const authorizeUrl = new URL(start.headers.get("location")!);
  authorizeUrl.searchParams.set("guild_id", guild.id);
  const pageHtml = await (await fetch(authorizeUrl)).text();
  const href = /href="([^"]+)"/.exec(pageHtml)![1]!.replaceAll("&#38;", "&");
  const confirm = await fetch(new URL(href, authorizeUrl), { redirect: "manual" });
  const cb = new URL(confirm.headers.get("location")!);
  const done = await get(s, `${cb.pathname}${cb.search}`, {
    cookie: `${s.cookie}; __Host-concierge_dcinstall=${state}`,
  });
  return { guild, done };
}

describe("connect flows started from the wizard", () => {
  it("Discord: the install returns to the notifications step, which then chooses the channel", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    await post(s, `${W}/channels`);
    const page = await (await get(s, `${W}/notifications`)).text();
    expect(page).toContain('href="/admin/discord/install?from=wizard"');
    expect(page).not.toContain('name="discordChannelId"');
    const { guild, done } = await installFromWizard(s);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${W}/notifications?done=discord`);
    const after = await (await get(s, `${W}/notifications?done=discord`)).text();
    expect(after).toContain("Installed");
    expect(after).toContain("Choose below which channel gets the notices and the digest.");
    // The server's text channels, inside the step's form.
    const inbox = textChannel(guild, "inbox");
    expect(after).toContain(`<option value="${inbox}">#inbox</option>`);
    expect(after).toContain(`<option value="${textChannel(guild, "general")}">#general</option>`);
    expect(after.indexOf('name="discordChannelId"')).toBeGreaterThan(
      after.indexOf(`action="${W}/notifications"`),
    );

    // A channel of another server is refused next to the field, nothing saved.
    const other = await newDiscordGuild(env.SANDBOX_URL);
    const bad = await post(s, `${W}/notifications`, {
      email: "",
      cadence: "instant",
      digest: "off",
      discordChannelId: textChannel(other, "inbox"),
    });
    expect(bad.status).toBe(422);
    expect(fieldError(await bad.text(), "discordChannelId")).toBe(
      "Choose one of your server&#39;s channels from the list.",
    );
    expect((await getTenantSettings(env.DB, s.tenantId))?.notifyDiscordChannelId).toBeNull();

    const res = await post(s, `${W}/notifications`, {
      email: "",
      cadence: "hourly",
      digest: "weekly",
      discordChannelId: inbox,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${W}/replies`);
    expect((await getTenantSettings(env.DB, s.tenantId))?.notifyDiscordChannelId).toBe(inbox);
    // The install had no inbox channel: it gets the same one, its other settings as they were.
    const install = await getDiscordInstall(env.DB, s.tenantId);
    expect(install).toMatchObject({ guildId: guild.id, inboxChannelId: inbox, staffRoleId: null });
    // Back on step 3, the choice is shown.
    const back = await (await get(s, `${W}/notifications`)).text();
    expect(back).toContain(`<option value="${inbox}" selected>#inbox</option>`);
  });

  it("Discord: when its channels cannot be listed, the step says so and the rest still saves", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    await post(s, `${W}/channels`);
    const { guild } = await installFromWizard(s);
    await injectDiscordFault(env.SANDBOX_URL, { route: "channels", status: 503, target: guild.id, count: 5 });
    const page = await (await get(s, `${W}/notifications`)).text();
    expect(page).toContain("Discord could not be reached, so its channels cannot be listed just now.");
    expect(page).not.toContain('name="discordChannelId"');
    const res = await post(s, `${W}/notifications`, { email: "", cadence: "daily", digest: "off" });
    expect(res.status).toBe(303);
    expect((await tenantRow(s.tenantId))!.wizardStep).toBe(3);
  });

  it("Instagram: from=wizard is kept through the login and the choice returns to the channels step", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    const connect = await (await get(s, "/admin/instagram/connect?from=wizard")).text();
    expect(connect).toContain('href="/admin/instagram/start?from=wizard"');
    const tail = `${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 1000)}`;
    const fbPage = {
      id: `21${tail}`,
      name: `Wizard Page ${tail}`,
      instagram: { id: `1785${tail}`, username: `wizard.page${tail}` },
      mode: "valid",
    };
    expect(
      (await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, { method: "POST", body: JSON.stringify(fbPage) }))
        .ok,
    ).toBe(true);
    const start = await get(s, "/admin/instagram/start?from=wizard");
    expect(start.status).toBe(302);
    const state = cookieValue(start, "__Host-concierge_igconnect")!;
    const dialog = new URL(start.headers.get("location")!);
    dialog.searchParams.set("login_hint", "owner@example.com");
    const consent = await fetch(dialog, { redirect: "manual" });
    const cb = new URL(consent.headers.get("location")!);
    const choice = await get(s, `${cb.pathname}${cb.search}`, {
      cookie: `${s.cookie}; __Host-concierge_igconnect=${state}`,
    });
    const pick = /name="pick" value="([^"]+)"/.exec(await choice.text())![1]!;
    const done = await post(s, "/admin/instagram/choose", { pick, page: fbPage.id });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toMatch(new RegExp(`^${W}/channels\\?done=ig-connected#account-`));
    const page = await (await get(s, `${W}/channels?done=ig-connected`)).text();
    expect(page).toContain(`wizard.page${tail}`);
  });

  it("WhatsApp: the channels step says the number was connected, as for Instagram", async () => {
    const s = await newTenant();
    await post(s, `${W}/basics`, BASICS);
    const page = await (await get(s, `${W}/channels?done=whatsapp`)).text();
    expect(page).toContain("WhatsApp number connected. Its messages now reach your inbox");
    const again = await (await get(s, `${W}/channels?done=whatsapp-again`)).text();
    expect(again).toContain("This number was already connected to your business");
  });

  it("leaves the channels page's flows as they were without from=wizard", async () => {
    const s = await newTenant();
    const connect = await (await get(s, "/admin/instagram/connect")).text();
    expect(connect).toContain('href="/admin/instagram/start"');
  });
});

describe("the notification email's verification link (shared by step 3 and settings)", () => {
  /** A context whose pipeline answers as given, recording the calls. */
  function fakeCtx(pipeline: Record<string, (...args: unknown[]) => Promise<unknown>>) {
    const calls: string[] = [];
    const PIPELINE = Object.fromEntries(
      Object.entries(pipeline).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          calls.push(name);
          return fn(...args);
        },
      ]),
    );
    return { c: { session: { tenantId: "t1" }, env: { PIPELINE } } as unknown as AuthedCtx, calls };
  }
  const pendingAddress = { id: "fa1", address: "owner@example.com", verifiedAt: null };

  it("adds the address again when it was removed between the lookup and the resend", async () => {
    const { c, calls } = fakeCtx({
      listForwardAddresses: async () => [pendingAddress],
      resendForwardVerification: async () => ({ ok: false, error: { code: "not_found", message: "gone" } }),
      addForwardAddress: async () => ({ ok: true, address: pendingAddress, sent: true }),
    });
    expect(await sendVerificationLink(c, "Owner@example.com")).toEqual({ kind: "sent" });
    expect(calls).toEqual(["listForwardAddresses", "resendForwardVerification", "addForwardAddress"]);
  });

  it("turns every refusal into a message that exists, with a fallback", async () => {
    const { c } = fakeCtx({
      listForwardAddresses: async () => [pendingAddress],
      resendForwardVerification: async () => ({ ok: false, error: { code: "something_new", message: "?" } }),
    });
    const out = await sendVerificationLink(c, "owner@example.com");
    expect(out).toEqual({ kind: "refused", message: "error-internal" });
    for (const code of [
      "not_found",
      "address_in_use",
      "something_new",
      "limit_reached",
      "already_verified",
    ]) {
      // Each id names a message of both locales: t() would throw on an unknown one (a 500).
      const id = verificationErrorId(code);
      for (const locale of LOCALES) expect(translator(locale)(id), `${code} ${locale}`).toBeTruthy();
    }
  });
});
