/** POST /interactions: verify, decode, check who acts, answer within Discord's 3 seconds. */
import { createLogger, errorResponse } from "@concierge/core";
import { translator } from "@concierge/i18n";
import { InteractionResponseType, InteractionType } from "discord-api-types/v10";
import * as v from "valibot";
import { autocomplete, runCommand } from "./commands.ts";
import { onButton, onReplySubmit } from "./components.ts";
import { deferEphemeral, editOriginal, ephemeral, respond } from "./responses.ts";
import {
  type Interaction,
  InteractionSchema,
  type Member,
  modalValue,
  parseRelayCustomId,
} from "./schema.ts";
import { verifiedBody } from "./verify.ts";

const log = createLogger("discord-interactions");

const MANAGE_GUILD = 0x20n;
const ADMINISTRATOR = 0x8n;

/** The staff role, Manage Server or Administrator may act; nobody else. */
export function mayAct(member: Member, staffRoleId: string | null): boolean {
  const perms = BigInt(member.permissions);
  if ((perms & (MANAGE_GUILD | ADMINISTRATOR)) !== 0n) return true;
  return staffRoleId !== null && member.roles.includes(staffRoleId);
}

/** Before the tenant is known: Discord's locale for the person, in one of ours. */
const discordLocale = (i: Interaction) => ((i.guild_locale ?? i.locale) === "en-US" ? "en-US" : "en-IN");

export async function interactions(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const verified = await verifiedBody(request, env.DISCORD_PUBLIC_KEY);
  if (!verified.ok) {
    log.info("interaction.refused", { reason: verified.reason });
    return errorResponse(401, "invalid_signature", "The request signature does not verify.");
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(verified.raw));
  } catch {
    return errorResponse(400, "invalid_json", "The body is not JSON.");
  }
  const parsed = v.safeParse(InteractionSchema, json);
  if (!parsed.success)
    return errorResponse(400, "invalid_interaction", "Not an interaction this app handles.");
  const i = parsed.output;
  if (i.type === InteractionType.Ping) return respond({ type: InteractionResponseType.Pong });

  const early = translator(discordLocale(i));
  if (!i.guild_id || !i.member) return ephemeral(early("discord-guild-only"));
  const guild = await env.PIPELINE.discordGuild(i.guild_id);
  if (!guild.ok) return ephemeral(early("discord-not-installed"));
  const t = translator(guild.locale);
  const allowed = mayAct(i.member, guild.staffRoleId);
  const base = { env, tenantId: guild.tenantId, locale: guild.locale, t };

  if (i.type === InteractionType.ApplicationCommandAutocomplete) {
    // Nothing to offer to someone who may not run the command.
    if (!allowed) {
      return respond({
        type: InteractionResponseType.ApplicationCommandAutocompleteResult,
        data: { choices: [] },
      });
    }
    return autocomplete(base, i);
  }
  if (!allowed) {
    log.info("interaction.not_permitted", { tenant_id: guild.tenantId, type: i.type });
    return ephemeral(t("discord-no-permission"));
  }
  const webhook = { baseUrl: env.DISCORD_API_BASE_URL, applicationId: i.application_id, token: i.token };
  const user = i.member.user;
  const actor = { id: user.id, name: (i.member.nick ?? user.global_name ?? user.username).slice(0, 100) };

  if (i.type === InteractionType.ApplicationCommand) {
    ctx.waitUntil(
      runCommand(base, i)
        .catch(() => ({ content: t("discord-error") }))
        .then((body) => editOriginal(webhook, body)),
    );
    return deferEphemeral();
  }
  const c = { ...base, ctx, webhook, actor };
  if (i.type === InteractionType.MessageComponent) {
    const id = parseRelayCustomId(i.data.custom_id);
    if (!id || id.action === "modal") return ephemeral(t("discord-unknown"));
    return onButton(c, id.action, id.relayId, i.message);
  }
  const id = parseRelayCustomId(i.data.custom_id);
  if (id?.action !== "modal") return ephemeral(t("discord-unknown"));
  return onReplySubmit(c, id.relayId, modalValue(i.data.components, "text"), i.message);
}
