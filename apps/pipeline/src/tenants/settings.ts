import {
  type ConversationSettings,
  ConversationSettingsSchema,
  type RpcResult,
  errorBody,
} from "@concierge/core";
import { isPlainAddress } from "@concierge/channels";
import {
  getTenant,
  saveConversationSettings as storeSettings,
  setNotifyDiscordChannel,
  setNotifyEmail,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";

/** Conversation settings: idle gap, handoff cooldown, history cap, default wait, low balance. */
export async function saveConversationSettings(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<{ settings: ConversationSettings }>> {
  const parsed = v.safeParse(ConversationSettingsSchema, input);
  if (!parsed.success) {
    const first = parsed.issues[0]!;
    const path = v.getDotPath(first);
    return errorBody("invalid_settings", path ? `${path}: ${first.message}` : first.message);
  }
  if (!(await storeSettings(env.DB, tenantId, parsed.output)))
    return errorBody("not_found", "No such tenant.");
  configCache(env).tenantSettings.delete(tenantId);
  return { ok: true, settings: parsed.output };
}

/**
 * Where handoff pages and low-balance warnings go: a Discord channel, an email address, both or
 * neither (null). A field left out is left as it is.
 */
export async function setNotifications(
  env: PipelineEnv,
  tenantId: string,
  to: { discordChannelId?: string | null; email?: string | null },
): Promise<RpcResult<object>> {
  const { discordChannelId, email } = to ?? {};
  if (discordChannelId != null && !/^\d{17,20}$/.test(discordChannelId)) {
    return errorBody("invalid_channel", "A Discord channel id is 17 to 20 digits.");
  }
  if (email != null && !isPlainAddress(email))
    return errorBody("invalid_email", "Give a plain email address.");
  if (!(await getTenant(env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
  if (discordChannelId !== undefined) await setNotifyDiscordChannel(env.DB, tenantId, discordChannelId);
  if (email !== undefined) await setNotifyEmail(env.DB, tenantId, email);
  configCache(env).tenantSettings.delete(tenantId);
  return { ok: true };
}
