// What the notice and digest tests share: a notification email confirmed through the real
// verify-by-link flow, and the Discord posts and mails the sandbox captured.
import { env } from "cloudflare:workers";
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

let n = 0;
/** A Discord channel id of its own for each test (17 to 20 digits). */
export function uniqueChannel(): string {
  n += 1;
  return `14${String(Date.now()).slice(-12)}${String(n).padStart(4, "0")}`;
}
