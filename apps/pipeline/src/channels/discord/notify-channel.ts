import { createLogger } from "@concierge/core";
import { getDiscordInstall } from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../../env.ts";
import { discordTarget } from "./relay.ts";

/**
 * Whether a Discord channel may receive a tenant's notices: a text (or announcement) channel of the
 * guild the tenant installed the bot into. The bot sits in many tenants' guilds and posts wherever
 * it is told, so a channel id alone would let one tenant send notices into another's server. The
 * id is checked with Discord itself (Get Channel, `GET /channels/{channel.id}`: the channel
 * object carries `guild_id` and `type`); a channel the bot cannot see is Discord's 404, code
 * 10003 Unknown Channel (or 403, 50001 Missing Access).
 */

const log = createLogger("pipeline.discord");

// GUILD_TEXT and GUILD_ANNOUNCEMENT: the channel types a bot message can be posted to as a notice.
const NOTICE_TYPES = new Set([0, 5]);

const ChannelSchema = v.object({
  id: v.string(),
  type: v.number(),
  guild_id: v.optional(v.nullable(v.string())),
});

export type NotifyChannelCheck = "ok" | "foreign" | "unavailable";

export async function checkNotifyChannel(
  env: PipelineEnv,
  tenantId: string,
  channelId: string,
): Promise<NotifyChannelCheck> {
  const install = await getDiscordInstall(env.DB, tenantId);
  // No server of its own: no channel can be the tenant's.
  if (!install) return "foreign";
  const target = discordTarget(env);
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}/channels/${encodeURIComponent(channelId)}`, {
      headers: { authorization: `Bot ${target.botToken}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    log.warn("discord.channel_check_failed", { tenant_id: tenantId, reason: "network" });
    return "unavailable";
  }
  // Unknown Channel, Missing Access: not a channel the bot may use for this tenant.
  if (res.status === 404 || res.status === 403) return "foreign";
  if (!res.ok) {
    log.warn("discord.channel_check_failed", { tenant_id: tenantId, status: res.status });
    return "unavailable";
  }
  const parsed = v.safeParse(ChannelSchema, await res.json().catch(() => null));
  if (!parsed.success) {
    log.warn("discord.channel_check_failed", { tenant_id: tenantId, reason: "shape" });
    return "unavailable";
  }
  const channel = parsed.output;
  if (channel.id !== channelId || channel.guild_id !== install.guildId || !NOTICE_TYPES.has(channel.type)) {
    log.warn("discord.foreign_channel", { tenant_id: tenantId, type: channel.type });
    return "foreign";
  }
  return "ok";
}
