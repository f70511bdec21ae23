// The settings page's notification channel, through the real router and the pipeline's RPC, with
// the sandbox as Discord: another tenant's channel is refused next to the field and nothing is
// saved; a text channel of the tenant's own server is saved.
import { env } from "cloudflare:workers";
import { getTenantSettings } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { post, signIn } from "./helpers.ts";
import { ownServerChannel } from "./notify-channel-helpers.ts";

const FORM = { email: "", cadence: "hourly", digest: "off" };

describe("settings: the notification Discord channel", () => {
  it("refuses another tenant's channel with foreign_channel at the field, saving nothing; its own is saved", async () => {
    const mine = await signIn();
    const theirs = await signIn();
    const own = await ownServerChannel(mine);
    const foreign = await ownServerChannel(theirs);

    const refused = await post(mine, "/admin/settings/notifications", { ...FORM, discordChannelId: foreign });
    expect(refused.status).toBe(422);
    const body = await refused.text();
    expect(body).toMatch(/name="discordChannelId"[^>]*aria-invalid="true"/);
    expect(body).toContain(
      '<span class="err" id="f-discordChannelId-err">Choose a text channel of the Discord server you added Concierge to.',
    );
    expect(await getTenantSettings(env.DB, mine.tenantId)).toMatchObject({
      notifyDiscordChannelId: null,
      notifyCadence: "instant",
    });

    const saved = await post(mine, "/admin/settings/notifications", { ...FORM, discordChannelId: own });
    expect(saved.status).toBe(303);
    expect(await getTenantSettings(env.DB, mine.tenantId)).toMatchObject({
      notifyDiscordChannelId: own,
      notifyCadence: "hourly",
    });
  });

  it("refuses a channel id while no server is installed", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/notifications", {
      ...FORM,
      discordChannelId: "123456789012345678",
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Choose a text channel of the Discord server you added Concierge to.");
    expect((await getTenantSettings(env.DB, s.tenantId))?.notifyDiscordChannelId).toBeNull();
  });
});
