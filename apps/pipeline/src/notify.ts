import { EmailMessage } from "cloudflare:email";
import { buildNotificationEmail, postDiscordMessage } from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
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

const SUBJECTS: Record<string, string> = {
  handoff: "A customer is waiting for a person",
  low_balance: "Your Concierge balance is low",
};

/**
 * Tells the tenant something (a handoff, a low balance) in their Discord channel and/or by
 * email, whichever they set. Metadata only: never a customer's words. Returns false when a
 * channel failed in a way worth retrying, so the caller tries again later.
 */
export async function notifyTenant(
  env: PipelineEnv,
  tenantId: string,
  event: string,
  content: string,
): Promise<boolean> {
  const settings = await tenantSettings(env, tenantId);
  if (!settings?.notifyDiscordChannelId && !settings?.notifyEmail) {
    log.info("notify.no_channel", { tenant_id: tenantId, kind: event });
    return true;
  }
  let delivered = true;
  if (settings.notifyDiscordChannelId) {
    const r = await postDiscordMessage(
      { baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN },
      settings.notifyDiscordChannelId,
      content,
    );
    if (!r.ok)
      log.warn("notify.discord_failed", {
        tenant_id: tenantId,
        kind: event,
        status: r.status,
        retryable: r.retryable,
      });
    else log.info("notify.discord_sent", { tenant_id: tenantId, kind: event });
    if (!r.ok && r.retryable) delivered = false;
  }
  if (settings.notifyEmail) {
    try {
      const raw = buildNotificationEmail({
        from: env.NOTIFY_EMAIL_FROM,
        fromName: "Concierge",
        to: settings.notifyEmail,
        subject: SUBJECTS[event] ?? "Concierge",
        text: content,
      });
      await env.EMAIL.send(new EmailMessage(env.NOTIFY_EMAIL_FROM, settings.notifyEmail, raw));
      log.info("notify.email_sent", { tenant_id: tenantId, kind: event });
    } catch (err) {
      log.warn("notify.email_failed", { tenant_id: tenantId, kind: event, ...errorFields(err) });
      delivered = false;
    }
  }
  return delivered;
}
