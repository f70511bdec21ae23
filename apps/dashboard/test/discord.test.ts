import { env } from "cloudflare:workers";
import { getDiscordInstall } from "@concierge/storage";
import {
  type FakeGuild,
  discordRecords,
  injectDiscordFault,
  newDiscordGuild,
  staffRole,
  textChannel,
} from "@concierge/testing/discord-sandbox";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { parseSetCookie } from "cookie";
import { describe, expect, it } from "vitest";
import { ORIGIN, type TestSession, cookieValue, get, post, signIn } from "./helpers.ts";

// The Discord page through HTTP: "Add to Discord" → the sandbox's authorize page (as the person,
// picking a server) → our callback → the pipeline's code exchange; then the settings form and
// removing the bot.

const DC_COOKIE = "__Host-concierge_dcinstall";

/** Start → the fake authorize page → "Authorize" into `guild`: the callback URL and the state cookie. */
async function authorize(s: TestSession, guild: FakeGuild): Promise<{ callback: URL; state: string }> {
  const start = await get(s, "/admin/discord/install");
  expect(start.status).toBe(302);
  const state = cookieValue(start, DC_COOKIE)!;
  const authorizeUrl = new URL(start.headers.get("location")!);
  authorizeUrl.searchParams.set("guild_id", guild.id);
  const pageHtml = await (await fetch(authorizeUrl)).text();
  const href = /href="([^"]+)"/.exec(pageHtml)![1]!.replaceAll("&#38;", "&");
  const confirm = await fetch(new URL(href, authorizeUrl), { redirect: "manual" });
  expect(confirm.status).toBe(302);
  return { callback: new URL(confirm.headers.get("location")!), state };
}

function callback(s: TestSession, url: URL, state: string | null): Promise<Response> {
  return get(s, `${url.pathname}${url.search}`, {
    cookie: state === null ? s.cookie : `${s.cookie}; ${DC_COOKIE}=${state}`,
  });
}

async function installed(s: TestSession): Promise<FakeGuild> {
  const guild = await newDiscordGuild(env.SANDBOX_URL, `Guild ${crypto.randomUUID().slice(0, 6)}`);
  const { callback: url, state } = await authorize(s, guild);
  const res = await callback(s, url, state);
  expect(res.status).toBe(303);
  return guild;
}

describe("Discord install", () => {
  it("offers 'Add to Discord' before the bot is installed", async () => {
    const s = await signIn();
    const html = await (await get(s, "/admin/discord")).text();
    expect(html).toContain('href="/admin/discord/install"');
    expect(html).toContain("Add to Discord");
    expect(html).toContain('href="/admin/discord" aria-current="page"');
  });

  it("sends the person to Discord's authorize page with the bot scope, minimal permissions and a state bound to the browser", async () => {
    const s = await signIn();
    const start = await get(s, "/admin/discord/install");
    expect(start.status).toBe(302);
    const line = start.headers.getSetCookie().find((c) => c.startsWith(`${DC_COOKIE}=`))!;
    expect(parseSetCookie(line)).toMatchObject({
      path: "/",
      httpOnly: true,
      secure: true,
      sameSite: "lax",
      maxAge: 600,
    });
    const url = new URL(start.headers.get("location")!);
    expect(`${url.origin}${url.pathname}`).toBe(`${env.SANDBOX_URL}/discord/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: TEST_SECRETS.discordApplicationId,
      scope: "bot applications.commands",
      // View Channel, Send Messages, Embed Links, Read Message History.
      permissions: String(1024 + 2048 + 16384 + 65536),
      integration_type: "0",
      response_type: "code",
      redirect_uri: `${ORIGIN}/admin/discord/callback`,
      state: cookieValue(start, DC_COOKIE),
    });
  });

  it("installs into the guild Discord's token response names, whatever guild_id the query says", async () => {
    const s = await signIn();
    const guild = await newDiscordGuild(env.SANDBOX_URL, "Chai Staff Room");
    const decoy = await newDiscordGuild(env.SANDBOX_URL, "Someone Else");
    const { callback: url, state } = await authorize(s, guild);
    expect(url.searchParams.get("guild_id")).toBe(guild.id);
    url.searchParams.set("guild_id", decoy.id);
    const res = await callback(s, url, state);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/discord?done=installed");
    expect(cookieValue(res, DC_COOKIE)).toBe("");
    expect(await getDiscordInstall(env.DB, s.tenantId)).toMatchObject({
      guildId: guild.id,
      guildName: "Chai Staff Room",
      installedBy: s.email,
    });
    const html = await (await get(s, "/admin/discord?done=installed")).text();
    expect(html).toContain("The bot was added to your server.");
    expect(html).toContain("Installed in Chai Staff Room");
    expect(html).toContain(`<option value="${textChannel(guild)}">#inbox</option>`);
    expect(html).toContain(`<option value="${staffRole(guild)}">@Staff</option>`);
    expect(html).not.toContain("#General");
  });

  it("refuses a forged, missing, replayed or other tenant's state with 400 and saves nothing", async () => {
    const s = await signIn();
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const { callback: url, state } = await authorize(s, guild);
    // Forged: the query's state is not this browser's.
    const forged = new URL(url);
    forged.searchParams.set("state", "A".repeat(43));
    expect((await callback(s, forged, state)).status).toBe(400);
    // No cookie: a link planted in another browser.
    expect((await callback(s, url, null)).status).toBe(400);
    // Another tenant's session with this browser's state.
    const other = await signIn();
    expect((await callback(other, url, state)).status).toBe(400);
    expect(await getDiscordInstall(env.DB, other.tenantId)).toBeNull();
    // The refusal above used the state up: the genuine callback now fails too.
    const replay = await callback(s, url, state);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("This link is not valid for this browser or has expired.");
    expect(await getDiscordInstall(env.DB, s.tenantId)).toBeNull();
    // No code was ever exchanged.
    expect(
      (await discordRecords(env.SANDBOX_URL)).tokenRequests.some(
        (r) => url.searchParams.get("code") === r.code,
      ),
    ).toBe(false);
  });

  it("refuses the same callback twice: the state works once", async () => {
    const s = await signIn();
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const { callback: url, state } = await authorize(s, guild);
    expect((await callback(s, url, state)).status).toBe(303);
    const again = await callback(s, url, state);
    expect(again.status).toBe(400);
  });

  it("says so when the person cancels on Discord", async () => {
    const s = await signIn();
    const start = await get(s, "/admin/discord/install");
    const state = cookieValue(start, DC_COOKIE)!;
    const url = new URL(`${ORIGIN}/admin/discord/callback`);
    url.search = new URLSearchParams({ error: "access_denied", state }).toString();
    const res = await callback(s, url, state);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Adding the bot was cancelled");
  });

  it("refuses a server another business installed, with a clear error", async () => {
    const first = await signIn();
    const guild = await installed(first);
    const second = await signIn();
    const { callback: url, state } = await authorize(second, guild);
    const res = await callback(second, url, state);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("This Discord server is already connected to another business.");
    expect(await getDiscordInstall(env.DB, second.tenantId)).toBeNull();
    expect(await getDiscordInstall(env.DB, first.tenantId)).toMatchObject({ guildId: guild.id });
  });
});

describe("Discord settings", () => {
  it("saves the inbox channel, staff role, relay mode and reply behaviour", async () => {
    const s = await signIn();
    const guild = await installed(s);
    const res = await post(s, "/admin/discord/settings", {
      inboxChannelId: textChannel(guild),
      staffRoleId: staffRole(guild),
      relayMode: "all",
      afterHumanReply: "keep",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/discord?done=saved");
    expect(await getDiscordInstall(env.DB, s.tenantId)).toMatchObject({
      inboxChannelId: textChannel(guild),
      staffRoleId: staffRole(guild),
      relayMode: "all",
      afterHumanReply: "keep",
    });
    const html = await (await get(s, "/admin/discord?done=saved")).text();
    expect(html).toContain(`<option value="${textChannel(guild)}" selected>#inbox</option>`);
    expect(html).toMatch(/value="all" checked/);
    expect(html).toMatch(/value="keep" checked/);
  });

  it("refuses a channel that is not a text channel of the server, and a form without the CSRF token", async () => {
    const s = await signIn();
    const guild = await installed(s);
    const voice = guild.channels.find((c) => c.type === 2)!.id;
    const bad = await post(s, "/admin/discord/settings", {
      inboxChannelId: voice,
      staffRoleId: "",
      relayMode: "all",
      afterHumanReply: "silent",
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Choose a text channel of your server.");
    const forged = await post(
      s,
      "/admin/discord/settings",
      { inboxChannelId: textChannel(guild), staffRoleId: "", relayMode: "all", afterHumanReply: "silent" },
      { csrf: false },
    );
    expect(forged.status).toBe(403);
    expect(await getDiscordInstall(env.DB, s.tenantId)).toMatchObject({
      inboxChannelId: null,
      relayMode: "needs_human",
    });
  });
});

describe("Discord uninstall", () => {
  it("makes the bot leave the server and deletes the install; not without the CSRF token", async () => {
    const s = await signIn();
    const guild = await installed(s);
    expect((await post(s, "/admin/discord/uninstall", {}, { csrf: false })).status).toBe(403);
    expect(await getDiscordInstall(env.DB, s.tenantId)).not.toBeNull();
    const res = await post(s, "/admin/discord/uninstall");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/discord?done=uninstalled");
    expect(await getDiscordInstall(env.DB, s.tenantId)).toBeNull();
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(guild.id);
    const html = await (await get(s, "/admin/discord?done=uninstalled")).text();
    expect(html).toContain("The bot left your server.");
    expect(html).toContain("Add to Discord");
  });

  it("keeps the install and says so when Discord cannot be reached", async () => {
    const s = await signIn();
    const guild = await installed(s);
    await injectDiscordFault(env.SANDBOX_URL, { route: "leave", status: 503, target: guild.id });
    const res = await post(s, "/admin/discord/uninstall");
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("Discord could not be reached.");
    expect(await getDiscordInstall(env.DB, s.tenantId)).toMatchObject({ guildId: guild.id });
  });
});

describe("Discord isolation", () => {
  it("lets another tenant neither see nor change nor remove an install that is not theirs", async () => {
    const owner = await signIn();
    const guild = await installed(owner);
    await post(owner, "/admin/discord/settings", {
      inboxChannelId: textChannel(guild),
      staffRoleId: staffRole(guild),
      relayMode: "needs_human",
      afterHumanReply: "silent",
    });
    const before = await getDiscordInstall(env.DB, owner.tenantId);
    const attacker = await signIn();
    const page = await (await get(attacker, "/admin/discord")).text();
    expect(page).not.toContain(guild.name);
    expect(page).not.toContain(textChannel(guild));
    const save = await post(attacker, "/admin/discord/settings", {
      inboxChannelId: textChannel(guild, "general"),
      staffRoleId: "",
      relayMode: "all",
      afterHumanReply: "keep",
    });
    expect(save.status).toBe(409);
    expect((await post(attacker, "/admin/discord/uninstall")).status).toBe(303);
    expect(await getDiscordInstall(env.DB, owner.tenantId)).toEqual(before);
    expect(await getDiscordInstall(env.DB, attacker.tenantId)).toBeNull();
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).not.toContain(guild.id);
  });
});
