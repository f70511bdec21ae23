import {
  type ConversationSettings,
  ConversationSettingsSchema,
  DIGEST_CADENCES,
  FormVersionSchema,
  NOTIFY_CADENCES,
  type RpcResult,
  errorBody,
} from "@concierge/core";
import { isPlainAddress } from "@concierge/channels";
import { saveNotificationPrefs, saveConversationSettings as storeSettings } from "@concierge/storage";
import * as v from "valibot";
import { checkNotifyChannel } from "../channels/discord/notify-channel.ts";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";

/** Conversation settings: idle gap, handoff cooldown, history cap, default wait, low balance. */
export async function saveConversationSettings(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
  expectedVersion?: unknown,
): Promise<RpcResult<{ settings: ConversationSettings }>> {
  const parsed = v.safeParse(ConversationSettingsSchema, input);
  if (!parsed.success) {
    const first = parsed.issues[0]!;
    const path = v.getDotPath(first);
    return errorBody("invalid_settings", path ? `${path}: ${first.message}` : first.message);
  }
  const version = v.safeParse(FormVersionSchema, expectedVersion);
  if (!version.success) return errorBody("invalid_version", "A form version is a whole number.");
  const saved = await storeSettings(env.DB, tenantId, parsed.output, version.output);
  if (saved === "not_found") return errorBody("not_found", "No such tenant.");
  if (saved === "stale")
    return errorBody(
      "stale",
      "The settings were saved elsewhere since this form was shown; nothing was saved.",
    );
  configCache(env).tenantSettings.delete(tenantId);
  return { ok: true, settings: parsed.output };
}

const NotificationsSchema = v.object({
  discordChannelId: v.optional(
    v.nullable(v.pipe(v.string(), v.regex(/^\d{17,20}$/, "A Discord channel id is 17 to 20 digits."))),
  ),
  email: v.optional(v.nullable(v.string())),
  cadence: v.optional(v.picklist(NOTIFY_CADENCES, "Choose instant, 15m, hourly or daily.")),
  digest: v.optional(v.picklist(DIGEST_CADENCES, "Choose off, daily or weekly.")),
});

/**
 * Where approvals, handoffs and low-balance warnings go (a Discord channel, a verified email
 * address, both or neither), how often approvals and handoffs are sent, and the summary digest
 * (not 'off' only with a channel or an email to send it to, else `no_target`). A field left out
 * is left as it is; any refusal saves nothing. A channel must be a text channel of the tenant's own
 * installed server, as Discord answers (`foreign_channel`; Discord unreachable:
 * `discord_unavailable`).
 */
export async function setNotifications(
  env: PipelineEnv,
  tenantId: string,
  to: unknown,
): Promise<RpcResult<object>> {
  const parsed = v.safeParse(NotificationsSchema, to ?? {});
  if (!parsed.success) {
    const first = parsed.issues[0]!;
    const path = v.getDotPath(first);
    if (path === "discordChannelId") return errorBody("invalid_channel", first.message);
    if (path === "cadence" || path === "digest")
      return errorBody("invalid_cadence", `${path}: ${first.message}`);
    return errorBody("invalid_email", "Give a plain email address.");
  }
  const { email, ...rest } = parsed.output;
  // Forward addresses are kept trimmed and lower-case; compare (and keep) the same form.
  const address = typeof email === "string" ? email.trim().toLowerCase() : email;
  if (address != null && !isPlainAddress(address))
    return errorBody("invalid_email", "Give a plain email address.");
  if (typeof rest.discordChannelId === "string") {
    const channel = await checkNotifyChannel(env, tenantId, rest.discordChannelId);
    if (channel === "foreign") {
      return errorBody(
        "foreign_channel",
        "Choose a text channel of the Discord server you added Concierge to.",
      );
    }
    if (channel === "unavailable") {
      return errorBody("discord_unavailable", "Discord could not be reached. Try again in a moment.");
    }
  }
  const saved = await saveNotificationPrefs(env.DB, tenantId, {
    ...rest,
    ...(address === undefined ? {} : { email: address }),
  });
  if (saved === "not_found") return errorBody("not_found", "No such tenant.");
  if (saved === "email_unverified") {
    return errorBody(
      "email_unverified",
      "Confirm this address first: add it and open the link we email to it, then choose it here.",
    );
  }
  if (saved === "no_target") {
    return errorBody(
      "no_target",
      "The summary digest needs somewhere to go: choose a Discord channel or a confirmed email, or turn the digest off.",
    );
  }
  configCache(env).tenantSettings.delete(tenantId);
  return { ok: true };
}
