import { postDiscordMessage } from "@concierge/channels";
import { createLogger } from "@concierge/core";
import { type TenantSettings, getTenantSettings } from "@concierge/storage";
import { configCache } from "./config-cache.ts";
import type { PipelineEnv } from "./env.ts";

const log = createLogger("pipeline.notify");

export function tenantSettings(env: PipelineEnv, tenantId: string): Promise<TenantSettings | null> {
  return configCache(env).tenantSettings.get(tenantId, () => getTenantSettings(env.DB, tenantId));
}

/** The last digits of a customer id: enough for staff to recognise, no more. */
export function maskCustomer(id: string): string {
  return id.length > 4 ? `…${id.slice(-4)}` : id;
}

/**
 * Tells the tenant something (a handoff, a low balance) in their Discord channel. Metadata only:
 * never a customer's words. Returns false when it could not be delivered, so the caller can retry.
 */
export async function notifyTenant(
  env: PipelineEnv,
  tenantId: string,
  event: string,
  content: string,
): Promise<boolean> {
  const settings = await tenantSettings(env, tenantId);
  if (!settings?.notifyDiscordChannelId) {
    log.info("notify.no_channel", { tenant_id: tenantId, event });
    return true;
  }
  const r = await postDiscordMessage(
    { baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN },
    settings.notifyDiscordChannelId,
    content,
  );
  if (!r.ok)
    log.warn("notify.failed", { tenant_id: tenantId, event, status: r.status, retryable: r.retryable });
  else log.info("notify.sent", { tenant_id: tenantId, event });
  return r.ok || !r.retryable;
}
