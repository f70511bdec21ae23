import {
  type GuildChannel,
  exchangeDiscordBotCode,
  getGuildChannels,
  getGuildRoles,
  leaveDiscordGuild,
} from "@concierge/channels";
import {
  type CompleteInstall,
  CompleteInstallSchema,
  createLogger,
  type DiscordOption,
  type DiscordSettingsInput,
  DiscordSettingsSchema,
  type DiscordSetup,
  errorBody,
  type RpcError,
} from "@concierge/core";
import {
  type AfterHumanReply,
  type RelayMode,
  deleteDiscordInstall,
  getDiscordInstall,
  saveDiscordInstall,
  updateDiscordSettings,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../../config/config-cache.ts";
import type { PipelineEnv } from "../../env.ts";
import { discordTarget } from "./relay.ts";

const log = createLogger("pipeline.discord");

// Channel types the inbox can be: a text channel or an announcement channel.
const INBOX_TYPES = new Set([0, 5]);

/**
 * The bot authorization came back: the code is exchanged server-side and the guild taken from the
 * token response (the redirect's `guild_id` is whatever the browser says). A guild another tenant
 * installed is refused (the bot stays: it is that tenant's). Moving to another guild makes the bot
 * leave the old one.
 */
export async function completeDiscordInstall(
  env: PipelineEnv,
  tenantId: string,
  input: CompleteInstall,
): Promise<{ ok: true; guildId: string; guildName: string | null } | RpcError> {
  const parsed = v.safeParse(CompleteInstallSchema, input);
  if (!parsed.success) return errorBody("invalid_input", "A code and a redirect address are required.");
  if (!env.DISCORD_CLIENT_ID || !env.DISCORD_CLIENT_SECRET) {
    return errorBody("not_configured", "The Discord application is not configured.");
  }
  const exchanged = await exchangeDiscordBotCode(
    {
      baseUrl: env.DISCORD_API_BASE_URL,
      clientId: env.DISCORD_CLIENT_ID,
      clientSecret: env.DISCORD_CLIENT_SECRET,
    },
    parsed.output.code,
    parsed.output.redirectUri,
  );
  if (!exchanged.ok) {
    log.warn("discord.exchange_failed", { tenant_id: tenantId, status: exchanged.status });
    return errorBody(
      "exchange_failed",
      "Discord did not accept the authorization. Try adding the bot again.",
    );
  }
  const { guildId, guildName } = exchanged.value;
  const previous = await getDiscordInstall(env.DB, tenantId);
  const saved = await saveDiscordInstall(env.DB, {
    tenantId,
    guildId,
    guildName,
    installedBy: parsed.output.actor,
  });
  if (!saved.ok) {
    log.warn("discord.guild_taken", { tenant_id: tenantId });
    return errorBody("guild_taken", "This Discord server is already connected to another Concierge account.");
  }
  if (previous && previous.guildId !== guildId) {
    // The old server's notification channel was dropped with the move (saveDiscordInstall).
    configCache(env).tenantSettings.delete(tenantId);
    const left = await leaveDiscordGuild(discordTarget(env), previous.guildId);
    if (!left.ok)
      log.warn("discord.leave_failed", { tenant_id: tenantId, status: left.status, code: left.code });
  }
  log.info("discord.installed", { tenant_id: tenantId });
  return { ok: true, guildId, guildName };
}

function inboxChannels(all: GuildChannel[]): DiscordOption[] {
  return all
    .filter((c) => INBOX_TYPES.has(c.type))
    .sort((a, b) => a.position - b.position)
    .map((c) => ({ id: c.id, name: c.name }));
}

async function options(env: PipelineEnv, guildId: string) {
  const target = discordTarget(env);
  const [channels, roles] = await Promise.all([
    getGuildChannels(target, guildId),
    getGuildRoles(target, guildId),
  ]);
  return {
    channels: channels.ok ? inboxChannels(channels.value) : null,
    // @everyone (the guild's own id) and bots' managed roles are no staff role.
    roles: roles.ok
      ? roles.value
          .filter((r) => r.id !== guildId && !r.managed)
          .sort((a, b) => b.position - a.position)
          .map((r) => ({ id: r.id, name: r.name }))
      : null,
  };
}

/** The install and what the tenant may choose from: the guild's text channels and roles. */
export async function getDiscordSetup(env: PipelineEnv, tenantId: string): Promise<DiscordSetup> {
  const install = await getDiscordInstall(env.DB, tenantId);
  if (!install) return { install: null, channels: [], roles: [], lookupFailed: false };
  const { installedBy: _i, createdAt: _c, updatedAt: _u, ...shown } = install;
  const o = await options(env, install.guildId);
  return {
    install: shown,
    channels: o.channels ?? [],
    roles: o.roles ?? [],
    lookupFailed: o.channels === null || o.roles === null,
  };
}

/** Saves the choices, after checking with Discord that the channel and role are in the guild. */
export async function saveDiscordSettings(
  env: PipelineEnv,
  tenantId: string,
  input: DiscordSettingsInput,
): Promise<{ ok: true } | RpcError> {
  const parsed = v.safeParse(DiscordSettingsSchema, input);
  if (!parsed.success) return errorBody("invalid_input", "Choose a channel, a role and both options.");
  const s = parsed.output;
  const install = await getDiscordInstall(env.DB, tenantId);
  if (!install) return errorBody("not_installed", "The bot is not installed.");
  if (s.inboxChannelId !== null || s.staffRoleId !== null) {
    const o = await options(env, install.guildId);
    if (o.channels === null || o.roles === null) {
      return errorBody("discord_unavailable", "Discord could not be reached. Try again in a moment.");
    }
    if (s.inboxChannelId !== null && !o.channels.some((c) => c.id === s.inboxChannelId)) {
      return errorBody("unknown_channel", "That channel is not a text channel of your server.");
    }
    if (s.staffRoleId !== null && !o.roles.some((r) => r.id === s.staffRoleId)) {
      return errorBody("unknown_role", "That role is not a role of your server.");
    }
  }
  await updateDiscordSettings(env.DB, tenantId, {
    inboxChannelId: s.inboxChannelId,
    staffRoleId: s.staffRoleId,
    relayMode: s.relayMode as RelayMode,
    afterHumanReply: s.afterHumanReply as AfterHumanReply,
  });
  log.info("discord.settings_saved", { tenant_id: tenantId, relay_mode: s.relayMode });
  return { ok: true };
}

/**
 * The bot leaves the guild, then the install goes. A guild the bot already left (10004 Unknown
 * Guild) counts as left; any other failure keeps the install so the tenant can try again.
 */
export async function uninstallDiscord(env: PipelineEnv, tenantId: string): Promise<{ ok: true } | RpcError> {
  const install = await getDiscordInstall(env.DB, tenantId);
  if (!install) return { ok: true };
  const left = await leaveDiscordGuild(discordTarget(env), install.guildId);
  if (!left.ok && left.code !== 10004) {
    log.warn("discord.leave_failed", { tenant_id: tenantId, status: left.status, code: left.code });
    return errorBody("discord_unavailable", "Discord could not be reached. Try again in a moment.");
  }
  await deleteDiscordInstall(env.DB, tenantId);
  // The notification channel went with it: no cached copy may still post there.
  configCache(env).tenantSettings.delete(tenantId);
  log.info("discord.uninstalled", { tenant_id: tenantId });
  return { ok: true };
}

/**
 * The bot leaves a guild, by its id alone (the discord_leave side effect of a tenant deletion,
 * retried by the cron after the install row is gone). A guild the bot already left (10004 Unknown
 * Guild) counts as left, so a retry after a lost answer is done, not an error.
 */
export async function leaveGuildById(
  env: PipelineEnv,
  guildId: string,
): Promise<{ ok: true } | { ok: false; error: string }> {
  const left = await leaveDiscordGuild(discordTarget(env), guildId);
  if (left.ok || left.code === 10004) return { ok: true };
  return { ok: false, error: left.status ? `http_${left.status}` : "unreachable" };
}
