/** The sandbox's fake Discord, from a test wherever it runs (Node or workerd). */

export type FakeGuild = {
  id: string;
  name: string;
  channels: { id: string; type: number; name: string }[];
  roles: { id: string; name: string; managed: boolean }[];
};

export type RecordedDiscordMessage = {
  id: string;
  channelId: string;
  content: string;
  embeds: {
    title?: string;
    description?: string;
    color?: number;
    author?: { name: string };
    fields?: { name: string; value: string; inline?: boolean }[];
  }[];
  components: {
    type: number;
    components: { type: number; style: number; label: string; custom_id: string }[];
  }[];
  edits: { content?: string; embeds?: unknown[]; components?: unknown[]; at: number }[];
  nonce: string | null;
  allowedMentions: unknown;
};

export type DiscordRecords = {
  messages: RecordedDiscordMessage[];
  leaves: { guildId: string }[];
  tokenRequests: { code: string | null; ok: boolean; error: string | null }[];
  botGuilds: string[];
};

export type DiscordFault = {
  route: "create" | "edit" | "token" | "channel" | "channels" | "roles" | "leave" | "me";
  status: number;
  retryAfter?: number;
  /** "after": Discord carries the request out, then answers the fault. */
  when?: "before" | "after";
  /** A channel id (create, edit, channel) or guild id (channels, roles, leave). */
  target?: string;
  count?: number;
};

/** A new server of its own (text channels general and inbox, a voice channel, roles Staff and the bot's). */
export async function newDiscordGuild(sandboxUrl: string, name?: string): Promise<FakeGuild> {
  const r = await fetch(`${sandboxUrl}/__sandbox/discord/guilds`, {
    method: "POST",
    body: JSON.stringify(name ? { name } : {}),
  });
  return ((await r.json()) as { guild: FakeGuild }).guild;
}

/** A code as if a person had authorized the bot into this guild (the bot joins it). */
export async function discordInstallCode(
  sandboxUrl: string,
  guildId: string,
  redirectUri: string,
): Promise<string> {
  const r = await fetch(`${sandboxUrl}/__sandbox/discord/codes`, {
    method: "POST",
    body: JSON.stringify({ guildId, redirectUri }),
  });
  if (!r.ok) throw new Error(`sandbox refused the code: ${r.status}`);
  return ((await r.json()) as { code: string }).code;
}

/** What the fake Discord recorded; `channel` keeps only that channel's messages. */
export async function discordRecords(sandboxUrl: string, channel?: string): Promise<DiscordRecords> {
  const r = await fetch(
    `${sandboxUrl}/__sandbox/discord${channel ? `?channel=${encodeURIComponent(channel)}` : ""}`,
  );
  return (await r.json()) as DiscordRecords;
}

export async function injectDiscordFault(sandboxUrl: string, fault: DiscordFault): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/discord/faults`, {
    method: "POST",
    body: JSON.stringify(fault),
  });
  if (!r.ok) throw new Error(`sandbox refused the fault: ${r.status}`);
}

export function textChannel(guild: FakeGuild, name = "inbox"): string {
  const c = guild.channels.find((x) => x.type === 0 && x.name === name);
  if (!c) throw new Error(`no text channel ${name}`);
  return c.id;
}

export function staffRole(guild: FakeGuild): string {
  return guild.roles.find((r) => r.name === "Staff")!.id;
}
