// The notification channel through the tenant RPC, with the sandbox as Discord: only a text
// channel of the tenant's own installed server is accepted, as Discord's Get Channel answers.
// The bot sits in every tenant's server, so a bare id would let one tenant post into another's.
import { env } from "cloudflare:workers";
import { getTenantSettings } from "@concierge/storage";
import {
  discordInstallCode,
  injectDiscordFault,
  newDiscordGuild,
  textChannel,
} from "@concierge/testing/discord-sandbox";
import { describe, expect, it } from "vitest";
import { tenantApi } from "./helpers.ts";
import { ownGuild, uniqueChannel } from "./notify-helpers.ts";

let seq = 0;
async function newTenant(): Promise<string> {
  seq += 1;
  const r = await tenantApi.createTenant({ name: `Notify ${seq}`, locale: "en-US", currency: "USD" });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

const saved = async (tenantId: string) => (await getTenantSettings(env.DB, tenantId))?.notifyDiscordChannelId;

describe("setNotifications: the Discord channel", () => {
  it("refuses another tenant's channel (foreign_channel) and saves nothing; its own is accepted", async () => {
    const mine = await newTenant();
    const theirs = await newTenant();
    const own = await uniqueChannel(mine);
    const foreign = await uniqueChannel(theirs);

    const refused = await tenantApi.setNotifications(mine, { discordChannelId: foreign, cadence: "hourly" });
    expect(refused).toMatchObject({ ok: false, error: { code: "foreign_channel" } });
    expect(await saved(mine)).toBeNull();
    // Nothing else of the same call was saved either.
    expect(await getTenantSettings(env.DB, mine)).toMatchObject({ notifyCadence: "instant" });

    expect(await tenantApi.setNotifications(mine, { discordChannelId: own })).toEqual({ ok: true });
    expect(await saved(mine)).toBe(own);
    // Once set, another server's channel still cannot replace it.
    expect(await tenantApi.setNotifications(mine, { discordChannelId: foreign })).toMatchObject({
      ok: false,
      error: { code: "foreign_channel" },
    });
    expect(await saved(mine)).toBe(own);
  });

  it("refuses a channel Discord does not know, one of a server the bot is not in, and a voice channel", async () => {
    const tenantId = await newTenant();
    await ownGuild(tenantId);
    const notJoined = await newDiscordGuild(env.SANDBOX_URL);
    const voice = await uniqueChannel(tenantId, 2);
    for (const channel of ["1399999999999999999", textChannel(notJoined, "inbox"), voice]) {
      expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toMatchObject({
        ok: false,
        error: { code: "foreign_channel" },
      });
    }
    expect(await saved(tenantId)).toBeNull();
  });

  it("refuses any channel while the tenant has no server installed", async () => {
    const tenantId = await newTenant();
    const other = await newTenant();
    const channel = await uniqueChannel(other);
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toMatchObject({
      ok: false,
      error: { code: "foreign_channel" },
    });
    expect(await saved(tenantId)).toBeNull();
  });

  it("says Discord is unavailable when it cannot be asked, and saves nothing; clearing needs no check", async () => {
    const tenantId = await newTenant();
    const channel = await uniqueChannel(tenantId);
    await injectDiscordFault(env.SANDBOX_URL, { route: "channel", status: 503, target: channel });
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toMatchObject({
      ok: false,
      error: { code: "discord_unavailable" },
    });
    expect(await saved(tenantId)).toBeNull();
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toEqual({ ok: true });
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: null })).toEqual({ ok: true });
    expect(await saved(tenantId)).toBeNull();
  });

  it("is dropped when the bot leaves the tenant's server or moves to another one", async () => {
    const tenantId = await newTenant();
    await ownGuild(tenantId);
    const own = await uniqueChannel(tenantId);
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: own })).toEqual({ ok: true });
    expect(await saved(tenantId)).toBe(own);
    // Uninstalled: the channel was in that server, where the bot may later serve someone else.
    expect(await tenantApi.uninstallDiscord(tenantId)).toEqual({ ok: true });
    expect(await saved(tenantId)).toBeNull();

    // Installed again, the channel set, then the bot moved to another server: dropped too.
    await ownGuild(tenantId);
    const again = await uniqueChannel(tenantId);
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: again })).toEqual({ ok: true });
    const other = await newDiscordGuild(env.SANDBOX_URL);
    const redirectUri = "https://dash.test/admin/discord/callback";
    const code = await discordInstallCode(env.SANDBOX_URL, other.id, redirectUri);
    expect(
      await tenantApi.completeDiscordInstall(tenantId, { code, redirectUri, actor: null }),
    ).toMatchObject({
      ok: true,
      guildId: other.id,
    });
    expect(await saved(tenantId)).toBeNull();
  });
});
