// A Discord server of the tenant's own, for tests that choose a notification channel (the
// pipeline accepts only a text channel of the tenant's installed server).
import { env } from "cloudflare:workers";
import { discordInstallCode, newDiscordGuild, textChannel } from "@concierge/testing/discord-sandbox";
import { expect } from "vitest";
import type { TestSession } from "./helpers.ts";

const REDIRECT = "https://dash.test/admin/discord/callback";

/** The bot installed into a new server of this tenant's (the real code exchange); its inbox channel. */
export async function ownServerChannel(s: TestSession): Promise<string> {
  const guild = await newDiscordGuild(env.SANDBOX_URL);
  const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
  const r = await env.PIPELINE.completeDiscordInstall(s.tenantId, {
    code,
    redirectUri: REDIRECT,
    actor: null,
  });
  expect(r).toMatchObject({ ok: true });
  return textChannel(guild, "inbox");
}
