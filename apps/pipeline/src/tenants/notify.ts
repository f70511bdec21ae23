import { buildNotificationEmail, postDiscordMessage } from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
import { translator } from "@concierge/i18n";
import { type TenantSettings, getTenantSettings } from "@concierge/storage";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { deliverEmail } from "../channels/email/deliver.ts";

const log = createLogger("pipeline.notify");

export function tenantSettings(env: PipelineEnv, tenantId: string): Promise<TenantSettings | null> {
  return configCache(env).tenantSettings.get(tenantId, () => getTenantSettings(env.DB, tenantId));
}

/** The last digits of a customer id: enough for staff to recognise, no more. */
export function maskCustomer(id: string): string {
  return id.length > 4 ? `…${id.slice(-4)}` : id;
}

export type Notice =
  | {
      kind: "handoff";
      channel: string;
      customer: string;
      conversation: string;
      /** The Discord channel the handoff's inbox item went to: the page does not repeat it there. */
      relayedTo?: string | null;
    }
  | { kind: "low_balance"; balance: number };

/**
 * Tells the tenant something (a handoff, a low balance), in their locale, in their Discord channel
 * and/or by email, whichever they set. Metadata only: never a customer's words. Returns false when
 * a channel failed in a way worth retrying, so the caller tries again later.
 */
export async function notifyTenant(env: PipelineEnv, tenantId: string, notice: Notice): Promise<boolean> {
  const settings = await tenantSettings(env, tenantId);
  const kind = notice.kind;
  if (!settings?.notifyDiscordChannelId && !settings?.notifyEmail) {
    log.info("notify.no_channel", { tenant_id: tenantId, kind });
    return true;
  }
  const t = translator(settings.locale);
  const channelNames: Record<string, () => string> = {
    whatsapp: () => t("channel-whatsapp"),
    instagram: () => t("channel-instagram"),
    email: () => t("channel-email"),
    discord: () => t("channel-discord"),
  };
  const [subject, content] =
    notice.kind === "handoff"
      ? [
          t("notify-handoff-subject"),
          t("notify-handoff", {
            channel: channelNames[notice.channel]?.() ?? notice.channel,
            customer: notice.customer,
            conversation: notice.conversation,
          }),
        ]
      : [t("notify-low-balance-subject"), t("notify-low-balance", { balance: notice.balance })];
  let delivered = true;
  const relayedTo = notice.kind === "handoff" ? notice.relayedTo : null;
  if (settings.notifyDiscordChannelId && settings.notifyDiscordChannelId !== relayedTo) {
    const r = await postDiscordMessage(
      { baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN },
      settings.notifyDiscordChannelId,
      content,
    );
    if (!r.ok)
      log.warn("notify.discord_failed", {
        tenant_id: tenantId,
        kind,
        status: r.status,
        retryable: r.retryable,
      });
    else log.info("notify.discord_sent", { tenant_id: tenantId, kind });
    if (!r.ok && r.retryable) delivered = false;
  }
  if (settings.notifyEmail) {
    try {
      const raw = buildNotificationEmail({
        from: env.NOTIFY_EMAIL_FROM,
        fromName: "Concierge",
        to: settings.notifyEmail,
        subject,
        text: content,
      });
      await deliverEmail(env, { from: env.NOTIFY_EMAIL_FROM, to: settings.notifyEmail, raw });
      log.info("notify.email_sent", { tenant_id: tenantId, kind });
    } catch (err) {
      log.warn("notify.email_failed", { tenant_id: tenantId, kind, ...errorFields(err) });
      delivered = false;
    }
  }
  return delivered;
}
