// What the notice and digest tests share: a notification email confirmed through the real
// verify-by-link flow, a notify channel in the tenant's own Discord server, and the Discord posts
// and mails the sandbox captured.
import { env } from "cloudflare:workers";
import { getDiscordInstall } from "@concierge/storage";
import { discordInstallCode, newDiscordGuild } from "@concierge/testing/discord-sandbox";
import { sentEmails } from "@concierge/testing/sandbox-client";
import { expect } from "vitest";
import { tenantApi } from "./helpers.ts";

export type DiscordMessage = { channelId: string; content: string };

/** Every message posted to the fake Discord, or those in one channel. */
export async function discordMessages(channel?: string): Promise<DiscordMessage[]> {
  const url = `${env.SANDBOX_URL}/__sandbox/discord${channel ? `?channel=${channel}` : ""}`;
  return ((await (await fetch(url)).json()) as { messages: DiscordMessage[] }).messages;
}

/** The next post to this channel fails with `status` (503: worth retrying). */
export async function failNextDiscordPost(channel: string, status = 503): Promise<void> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/discord/faults`, {
    method: "POST",
    body: JSON.stringify({ route: "create", status, target: channel, count: 1 }),
  });
  expect(r.ok).toBe(true);
}

/** A mail's text as sent (quoted-printable soft breaks joined). */
export function mailText(raw: string): string {
  return raw.replace(/=\r?\n/g, "");
}

/** Adds `address` as the tenant's forward address and opens the link mailed to it. */
export async function verifiedAddress(tenantId: string, address: string): Promise<void> {
  const added = await tenantApi.addForwardAddress(tenantId, address);
  expect(added).toMatchObject({ ok: true });
  const mails = await sentEmails(env.SANDBOX_URL, address);
  const m = /https:\/\/dash\.test\/email\/verify\?token=([A-Za-z0-9_-]+)/.exec(mailText(mails.at(-1)!.raw));
  if (!m) throw new Error("no verification link in the mail");
  expect(await tenantApi.verifyForwardAddress(decodeURIComponent(m[1]!))).toMatchObject({
    status: "verified",
  });
}

const REDIRECT = "https://dash.test/admin/discord/callback";

/**
 * The tenant's own Discord server: the bot installed into a new sandbox guild through the real
 * code exchange, once per tenant (a notify channel must be a text channel of that server).
 */
export async function ownGuild(tenantId: string): Promise<string> {
  const installed = await getDiscordInstall(env.DB, tenantId);
  if (installed) return installed.guildId;
  const guild = await newDiscordGuild(env.SANDBOX_URL);
  const code = await discordInstallCode(env.SANDBOX_URL, guild.id, REDIRECT);
  const r = await tenantApi.completeDiscordInstall(tenantId, { code, redirectUri: REDIRECT, actor: null });
  expect(r).toMatchObject({ ok: true, guildId: guild.id });
  return guild.id;
}

/** A text channel of its own for each test, in the tenant's own server. */
export async function uniqueChannel(tenantId: string, type = 0): Promise<string> {
  const guildId = await ownGuild(tenantId);
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/discord/guilds/${guildId}/channels`, {
    method: "POST",
    body: JSON.stringify({ type }),
  });
  expect(r.ok).toBe(true);
  return ((await r.json()) as { channel: { id: string } }).channel.id;
}
