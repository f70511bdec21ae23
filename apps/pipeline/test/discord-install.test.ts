import { env } from "cloudflare:workers";
import { getDiscordInstall } from "@concierge/storage";
import {
  discordInstallCode,
  discordRecords,
  injectDiscordFault,
  newDiscordGuild,
  staffRole,
  textChannel,
} from "@concierge/testing/discord-sandbox";
import { describe, expect, it } from "vitest";
import { tenantApi } from "./helpers.ts";

// The bot install through the pipeline's RPC, with the sandbox as Discord: the code exchanged at
// /oauth2/token, the guild from the token response, the settings checked against the guild's
// channels and roles, and the bot leaving on uninstall.

const REDIRECT = "https://dashboard.example/admin/discord/callback";

async function newTenant(name = "Discord Bakery") {
  const r = await tenantApi.createTenant({ name, locale: "en-US", currency: "USD" });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

async function installed(tenantId: string) {
  const guild = await newDiscordGuild(env.SANDBOX_URL);
  const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
  const r = await tenantApi.completeDiscordInstall(tenantId, {
    code,
    redirectUri: REDIRECT,
    actor: "owner@x.example",
  });
  expect(r).toMatchObject({ ok: true, guildId: guild.id });
  return guild;
}

describe("completeDiscordInstall", () => {
  it("records the guild the token exchange names, with the exchange made by the server with the client secret", async () => {
    const tid = await newTenant();
    const guild = await newDiscordGuild(env.SANDBOX_URL, "Chai Staff");
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
    const r = await tenantApi.completeDiscordInstall(tid, {
      code,
      redirectUri: REDIRECT,
      actor: "owner@x.example",
    });
    expect(r).toEqual({ ok: true, guildId: guild.id, guildName: "Chai Staff" });
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject({
      guildId: guild.id,
      guildName: "Chai Staff",
      inboxChannelId: null,
      relayMode: "needs_human",
      afterHumanReply: "silent",
      installedBy: "owner@x.example",
    });
    const { tokenRequests } = await discordRecords(env.SANDBOX_URL);
    expect(tokenRequests.find((t) => t.code === code)).toMatchObject({ ok: true });
  });

  it("refuses a code used twice, or for another redirect address, and saves nothing", async () => {
    const tid = await newTenant();
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
    expect(
      await tenantApi.completeDiscordInstall(tid, {
        code,
        redirectUri: "https://evil.example/cb",
        actor: null,
      }),
    ).toMatchObject({ ok: false, error: { code: "exchange_failed" } });
    expect(await getDiscordInstall(env.DB, tid)).toBeNull();
    const other = await newTenant();
    const code2 = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
    expect(
      await tenantApi.completeDiscordInstall(other, { code: code2, redirectUri: REDIRECT, actor: null }),
    ).toMatchObject({ ok: true });
    expect(
      await tenantApi.completeDiscordInstall(tid, { code: code2, redirectUri: REDIRECT, actor: null }),
    ).toMatchObject({ ok: false, error: { code: "exchange_failed" } });
    expect(await getDiscordInstall(env.DB, tid)).toBeNull();
  });

  it("refuses a guild another tenant installed (guild_taken), leaving that tenant's install as it was", async () => {
    const first = await newTenant("First");
    const guild = await installed(first);
    const second = await newTenant("Second");
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
    expect(
      await tenantApi.completeDiscordInstall(second, { code, redirectUri: REDIRECT, actor: null }),
    ).toMatchObject({
      ok: false,
      error: { code: "guild_taken" },
    });
    expect(await getDiscordInstall(env.DB, second)).toBeNull();
    expect(await getDiscordInstall(env.DB, first)).toMatchObject({ guildId: guild.id });
    // The bot stays in the guild: it is the first tenant's.
    expect((await discordRecords(env.SANDBOX_URL)).leaves.some((l) => l.guildId === guild.id)).toBe(false);
  });

  it("moving to another guild makes the bot leave the old one", async () => {
    const tid = await newTenant();
    const old = await installed(tid);
    const next = await installed(tid);
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject({ guildId: next.id, inboxChannelId: null });
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(old.id);
  });

  it("refuses invalid input without calling Discord", async () => {
    const tid = await newTenant();
    const before = (await discordRecords(env.SANDBOX_URL)).tokenRequests.length;
    expect(
      await tenantApi.completeDiscordInstall(tid, { code: "", redirectUri: "not a url", actor: null }),
    ).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    expect((await discordRecords(env.SANDBOX_URL)).tokenRequests.length).toBe(before);
  });
});

describe("Discord settings", () => {
  it("offers the guild's text channels and its roles (not @everyone, not the bot's), and saves a valid choice", async () => {
    const tid = await newTenant();
    const guild = await installed(tid);
    const setup = await tenantApi.getDiscordSetup(tid);
    expect(setup.lookupFailed).toBe(false);
    expect(setup.channels.map((c) => c.name)).toEqual(["general", "inbox"]);
    expect(setup.roles.map((r) => r.name)).toEqual(["Staff"]);
    const choice = {
      inboxChannelId: textChannel(guild),
      staffRoleId: staffRole(guild),
      relayMode: "all",
      afterHumanReply: "keep",
    } as const;
    expect(await tenantApi.saveDiscordSettings(tid, choice)).toEqual({ ok: true });
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject(choice);
    expect((await tenantApi.getDiscordSetup(tid)).install).toMatchObject(choice);
  });

  it("refuses a channel or role that is not the guild's text channel or role, and a bad mode", async () => {
    const tid = await newTenant();
    const guild = await installed(tid);
    const other = await newDiscordGuild(env.SANDBOX_URL);
    const voice = guild.channels.find((c) => c.type === 2)!.id;
    const base = {
      inboxChannelId: textChannel(guild),
      staffRoleId: staffRole(guild),
      relayMode: "all",
      afterHumanReply: "silent",
    } as const;
    expect(await tenantApi.saveDiscordSettings(tid, { ...base, inboxChannelId: voice })).toMatchObject({
      error: { code: "unknown_channel" },
    });
    expect(
      await tenantApi.saveDiscordSettings(tid, { ...base, inboxChannelId: textChannel(other) }),
    ).toMatchObject({
      error: { code: "unknown_channel" },
    });
    expect(await tenantApi.saveDiscordSettings(tid, { ...base, staffRoleId: guild.id })).toMatchObject({
      error: { code: "unknown_role" },
    });
    expect(await tenantApi.saveDiscordSettings(tid, { ...base, relayMode: "some" as never })).toMatchObject({
      error: { code: "invalid_input" },
    });
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject({ inboxChannelId: null, staffRoleId: null });
  });

  it("says Discord is unavailable when the lists cannot be read, and saves nothing", async () => {
    const tid = await newTenant();
    const guild = await installed(tid);
    await injectDiscordFault(env.SANDBOX_URL, { route: "channels", status: 503, target: guild.id, count: 2 });
    expect((await tenantApi.getDiscordSetup(tid)).lookupFailed).toBe(true);
    expect(
      await tenantApi.saveDiscordSettings(tid, {
        inboxChannelId: textChannel(guild),
        staffRoleId: null,
        relayMode: "all",
        afterHumanReply: "silent",
      }),
    ).toMatchObject({ ok: false, error: { code: "discord_unavailable" } });
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject({ inboxChannelId: null });
  });

  it("has nothing to save for a tenant without the bot", async () => {
    const tid = await newTenant();
    expect(await tenantApi.getDiscordSetup(tid)).toEqual({
      install: null,
      channels: [],
      roles: [],
      lookupFailed: false,
    });
    expect(
      await tenantApi.saveDiscordSettings(tid, {
        inboxChannelId: null,
        staffRoleId: null,
        relayMode: "all",
        afterHumanReply: "keep",
      }),
    ).toMatchObject({ ok: false, error: { code: "not_installed" } });
  });
});

describe("uninstallDiscord", () => {
  it("makes the bot leave the guild (DELETE /users/@me/guilds/{id}) and deletes the install", async () => {
    const tid = await newTenant();
    const guild = await installed(tid);
    expect(await tenantApi.uninstallDiscord(tid)).toEqual({ ok: true });
    const records = await discordRecords(env.SANDBOX_URL);
    expect(records.leaves.filter((l) => l.guildId === guild.id)).toHaveLength(1);
    expect(records.botGuilds).not.toContain(guild.id);
    expect(await getDiscordInstall(env.DB, tid)).toBeNull();
    // Again: nothing left to do.
    expect(await tenantApi.uninstallDiscord(tid)).toEqual({ ok: true });
  });

  it("keeps the install when Discord fails, so the tenant can try again", async () => {
    const tid = await newTenant();
    const guild = await installed(tid);
    await injectDiscordFault(env.SANDBOX_URL, { route: "leave", status: 500, target: guild.id });
    expect(await tenantApi.uninstallDiscord(tid)).toMatchObject({
      ok: false,
      error: { code: "discord_unavailable" },
    });
    expect(await getDiscordInstall(env.DB, tid)).toMatchObject({ guildId: guild.id });
    expect(await tenantApi.uninstallDiscord(tid)).toEqual({ ok: true });
    expect(await getDiscordInstall(env.DB, tid)).toBeNull();
  });

  it("lets the guild be installed by another tenant afterwards", async () => {
    const first = await newTenant("First");
    const guild = await installed(first);
    expect(await tenantApi.uninstallDiscord(first)).toEqual({ ok: true });
    const second = await newTenant("Second");
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
    expect(
      await tenantApi.completeDiscordInstall(second, { code, redirectUri: REDIRECT, actor: null }),
    ).toMatchObject({
      ok: true,
      guildId: guild.id,
    });
  });
});
