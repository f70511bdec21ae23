import type {
  APIEmbed,
  RESTPatchAPIChannelMessageJSONBody,
  RESTPostAPIChannelMessageJSONBody,
} from "discord-api-types/v10";
import * as v from "valibot";
import { networkFailure, type SendResult } from "./graph.ts";

// The payload types the pipeline builds messages with, from one place.
export type {
  APIActionRowComponent,
  APIButtonComponent,
  APIEmbed,
  APIEmbedField,
} from "discord-api-types/v10";
import type { ButtonStyle, ComponentType } from "discord-api-types/v10";

/**
 * Discord's component and button style numbers. discord-api-types' enums are not imported at run
 * time (its CommonJS build does not load in every bundler); the values are Discord's documented ones.
 */
export const DiscordComponent = {
  ActionRow: 1 as ComponentType.ActionRow,
  Button: 2 as ComponentType.Button,
} as const;
export const DiscordButton = {
  Primary: 1 as ButtonStyle.Primary,
  Success: 3 as ButtonStyle.Success,
  Danger: 4 as ButtonStyle.Danger,
} as const;

export type DiscordTarget = {
  /** `DISCORD_API_BASE_URL`, e.g. https://discord.com/api/v10 */
  baseUrl: string;
  botToken: string;
  fetch?: typeof fetch;
};

/** What a failed Discord call tells the caller: whether to try again, and when. */
export type DiscordFailure = SendResult & { ok: false };
export type DiscordResult<T> = { ok: true; value: T } | DiscordFailure;

/** Discord's JSON error body: `{ message, code, errors? }` (OAuth2 errors: `{ error, error_description }`). */
const DiscordErrorSchema = v.object({
  message: v.optional(v.string()),
  code: v.optional(v.number()),
  error: v.optional(v.string()),
  error_description: v.optional(v.string()),
});

const TIMEOUT_MS = 10_000;

async function failure(res: Response): Promise<DiscordFailure> {
  const retryAfter = Number(res.headers.get("retry-after"));
  const parsed = v.safeParse(DiscordErrorSchema, await res.json().catch(() => ({})));
  const body = parsed.success ? parsed.output : {};
  return {
    ok: false,
    retryable: res.status >= 500 || res.status === 429,
    status: res.status,
    code: body.code ?? null,
    reason:
      `Discord answered ${res.status}${body.message || body.error ? `: ${body.message ?? body.error}` : ""}`.slice(
        0,
        300,
      ),
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  };
}

async function call(
  target: DiscordTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ ok: true; res: Response } | DiscordFailure> {
  const doFetch = target.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${target.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bot ${target.botToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return networkFailure(err);
  }
  return res.ok ? { ok: true, res } : failure(res);
}

const MessageSchema = v.object({ id: v.string() });

/** Posts a plain message to a channel (Create Message); mentions are disabled. */
export async function postDiscordMessage(
  target: DiscordTarget,
  channelId: string,
  content: string,
): Promise<SendResult> {
  return createDiscordMessage(target, channelId, {
    content: content.slice(0, 2000),
    allowed_mentions: { parse: [] },
  });
}

/**
 * Create Message with any body (embeds, components, `nonce` + `enforce_nonce` so that a retry of a
 * post whose answer was lost returns the first message instead of making a second one).
 */
export async function createDiscordMessage(
  target: DiscordTarget,
  channelId: string,
  body: RESTPostAPIChannelMessageJSONBody,
): Promise<SendResult> {
  const r = await call(target, "POST", `/channels/${encodeURIComponent(channelId)}/messages`, body);
  if (!r.ok) return r;
  const parsed = v.safeParse(MessageSchema, await r.res.json().catch(() => ({})));
  return { ok: true, providerMessageId: parsed.success ? parsed.output.id : "" };
}

/** Edit Message: only the fields given change. */
export async function editDiscordMessage(
  target: DiscordTarget,
  channelId: string,
  messageId: string,
  body: RESTPatchAPIChannelMessageJSONBody,
): Promise<DiscordResult<null>> {
  const r = await call(
    target,
    "PATCH",
    `/channels/${encodeURIComponent(channelId)}/messages/${encodeURIComponent(messageId)}`,
    body,
  );
  return r.ok ? { ok: true, value: null } : r;
}

const FetchedMessageSchema = v.object({ id: v.string(), embeds: v.optional(v.array(v.unknown()), []) });

/** Get Channel Message (needs Read Message History): the embeds as Discord holds them. */
export async function getDiscordMessage(
  target: DiscordTarget,
  channelId: string,
  messageId: string,
): Promise<DiscordResult<{ id: string; embeds: APIEmbed[] }>> {
  const r = await call(
    target,
    "GET",
    `/channels/${encodeURIComponent(channelId)}/messages/${encodeURIComponent(messageId)}`,
  );
  if (!r.ok) return r;
  const parsed = v.safeParse(FetchedMessageSchema, await r.res.json().catch(() => null));
  // The embeds pass through unchanged (Discord's own shape) into the edit that follows.
  return parsed.success
    ? { ok: true, value: { id: parsed.output.id, embeds: parsed.output.embeds as APIEmbed[] } }
    : unexpected();
}

const GuildChannelsSchema = v.array(
  v.object({
    id: v.string(),
    type: v.number(),
    name: v.optional(v.nullable(v.string()), null),
    position: v.optional(v.number(), 0),
    parent_id: v.optional(v.nullable(v.string()), null),
  }),
);
export type GuildChannel = {
  id: string;
  type: number;
  name: string;
  position: number;
  parentId: string | null;
};

/** Get Guild Channels (the bot must be in the guild). */
export async function getGuildChannels(
  target: DiscordTarget,
  guildId: string,
): Promise<DiscordResult<GuildChannel[]>> {
  const r = await call(target, "GET", `/guilds/${encodeURIComponent(guildId)}/channels`);
  if (!r.ok) return r;
  const parsed = v.safeParse(GuildChannelsSchema, await r.res.json().catch(() => null));
  if (!parsed.success) return unexpected();
  return {
    ok: true,
    value: parsed.output.map((c) => ({
      id: c.id,
      type: c.type,
      name: c.name ?? "",
      position: c.position,
      parentId: c.parent_id,
    })),
  };
}

const GuildRolesSchema = v.array(
  v.object({
    id: v.string(),
    name: v.string(),
    position: v.optional(v.number(), 0),
    managed: v.optional(v.boolean(), false),
  }),
);
export type GuildRole = { id: string; name: string; position: number; managed: boolean };

/** Get Guild Roles. */
export async function getGuildRoles(
  target: DiscordTarget,
  guildId: string,
): Promise<DiscordResult<GuildRole[]>> {
  const r = await call(target, "GET", `/guilds/${encodeURIComponent(guildId)}/roles`);
  if (!r.ok) return r;
  const parsed = v.safeParse(GuildRolesSchema, await r.res.json().catch(() => null));
  return parsed.success ? { ok: true, value: parsed.output } : unexpected();
}

/** Leave Guild (204). Discord's 10004 Unknown Guild means the bot is not there any more. */
export async function leaveDiscordGuild(
  target: DiscordTarget,
  guildId: string,
): Promise<DiscordResult<null>> {
  const r = await call(target, "DELETE", `/users/@me/guilds/${encodeURIComponent(guildId)}`);
  return r.ok ? { ok: true, value: null } : r;
}

const CurrentUserSchema = v.object({ id: v.string(), username: v.string() });

/** Get Current User with the bot token: the bot's own id and name (a check that the token works). */
export async function getDiscordBotUser(
  target: DiscordTarget,
): Promise<DiscordResult<{ id: string; username: string }>> {
  const r = await call(target, "GET", "/users/@me");
  if (!r.ok) return r;
  const parsed = v.safeParse(CurrentUserSchema, await r.res.json().catch(() => null));
  return parsed.success ? { ok: true, value: parsed.output } : unexpected();
}

export type DiscordOAuthClient = {
  /** `DISCORD_API_BASE_URL`: the token endpoint is `{baseUrl}/oauth2/token`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
};

/**
 * The token response of a bot authorization (scope `bot`): the guild the bot was added to comes in
 * `guild` — the only trustworthy source, unlike the `guild_id` in the redirect's query string.
 */
const BotTokenSchema = v.object({
  access_token: v.string(),
  token_type: v.string(),
  scope: v.optional(v.string(), ""),
  guild: v.object({ id: v.pipe(v.string(), v.regex(/^\d{17,20}$/)), name: v.optional(v.string()) }),
});
export type DiscordBotInstall = { guildId: string; guildName: string | null; scope: string };

/** Exchanges a bot authorization's code server-side (client credentials in HTTP Basic). */
export async function exchangeDiscordBotCode(
  client: DiscordOAuthClient,
  code: string,
  redirectUri: string,
): Promise<DiscordResult<DiscordBotInstall>> {
  const doFetch = client.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${client.baseUrl}/oauth2/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${client.clientId}:${client.clientSecret}`)}`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri,
      }).toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return networkFailure(err);
  }
  if (!res.ok) return failure(res);
  const parsed = v.safeParse(BotTokenSchema, await res.json().catch(() => null));
  if (!parsed.success) return unexpected();
  // The user token is not needed: the bot acts with its own token. It is dropped here, unstored.
  const { guild, scope } = parsed.output;
  return { ok: true, value: { guildId: guild.id, guildName: guild.name ?? null, scope } };
}

function unexpected(): DiscordFailure {
  return {
    ok: false,
    retryable: false,
    status: 200,
    code: null,
    reason: "unexpected Discord response",
    retryAfterSeconds: null,
  };
}
