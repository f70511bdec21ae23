import { buildNotificationEmail, postDiscordMessage } from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
import { type Translate, translator } from "@concierge/i18n";
import {
  type NoticeBatch,
  type TenantSettings,
  dueNotices,
  getTenantSettings,
  listDueNoticeTenants,
  postponeNotices,
  queueNotice,
  removeSentNotices,
} from "@concierge/storage";
import { deliverEmail } from "../channels/email/deliver.ts";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.notify");

/** Tenants whose gathered notices one cron run sends; the rest wait for the next run. */
const SUMMARIES_PER_RUN = 100;

/** A summary that reached no target, worth retrying, waits this long (the cron's period). */
const SUMMARY_RETRY_MS = 15 * 60_000;

type Outcome = "sent" | "failed" | "retry";

/**
 * Whether a message needs sending again: only when no target got it and one failure is worth
 * retrying. One target that got it is enough (as for the digest), so the others are not sent the
 * same thing again while one keeps failing.
 */
export function worthRetrying(outcomes: Outcome[]): boolean {
  return !outcomes.includes("sent") && outcomes.includes("retry");
}

export function tenantSettings(env: PipelineEnv, tenantId: string): Promise<TenantSettings | null> {
  return configCache(env).tenantSettings.get(tenantId, () => getTenantSettings(env.DB, tenantId));
}

export { maskCustomer } from "@concierge/core";

export type Notice =
  | {
      kind: "handoff";
      channel: string;
      customer: string;
      conversation: string;
      /** The Discord channel the handoff's inbox item went to: the page does not repeat it there. */
      relayedTo?: string | null;
    }
  | {
      kind: "approval";
      channel: string;
      customer: string;
      /** The Discord channel the draft's inbox item went to: the notice does not repeat it there. */
      relayedTo?: string | null;
    }
  | { kind: "low_balance"; balance: number }
  /** A turn gave up after a day of failures: the customer got no reply (told at once). */
  | { kind: "given_up"; channel: string; customer: string }
  /** Mail for a person waits in the live inbox: no Discord inbox is connected (email-turn.ts). */
  | { kind: "mail_waiting"; customer: string }
  /** An account that got customer messages daily has had none for `hours` (silent-accounts.ts). */
  | { kind: "silent_account"; channel: string; account: string; hours: number };

/** The channel's name in the tenant's language (the raw name for one we do not know). */
export function channelName(t: Translate, channel: string): string {
  const names: Record<string, () => string> = {
    whatsapp: () => t("channel-whatsapp"),
    instagram: () => t("channel-instagram"),
    email: () => t("channel-email"),
    discord: () => t("channel-discord"),
  };
  return names[channel]?.() ?? channel;
}

/** Where a message for the tenant goes: its notify channel and/or its (verified) notify email. */
export type NoticeTargets = { discordChannelId: string | null; email: string | null };

/**
 * Sends one message to the tenant's targets. `skipDiscord`: the same thing is already in that
 * channel (an inbox item). Each target's outcome: sent, failed for good, or failed worth retrying.
 * `kind` is for the logs only; the text is never logged.
 */
export async function sendToTenant(
  env: PipelineEnv,
  tenantId: string,
  targets: NoticeTargets,
  message: { kind: string; subject: string; text: string; skipDiscord?: string | null },
): Promise<Outcome[]> {
  const { kind } = message;
  const outcomes: Outcome[] = [];
  if (targets.discordChannelId && targets.discordChannelId !== message.skipDiscord) {
    const r = await postDiscordMessage(
      { baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN },
      targets.discordChannelId,
      message.text,
    );
    if (!r.ok)
      log.warn("notify.discord_failed", {
        tenant_id: tenantId,
        kind,
        status: r.status,
        retryable: r.retryable,
      });
    else log.info("notify.discord_sent", { tenant_id: tenantId, kind });
    outcomes.push(r.ok ? "sent" : r.retryable ? "retry" : "failed");
  }
  if (targets.email) {
    try {
      const raw = buildNotificationEmail({
        from: env.NOTIFY_EMAIL_FROM,
        fromName: "Concierge",
        to: targets.email,
        subject: message.subject,
        text: message.text,
      });
      await deliverEmail(env, { from: env.NOTIFY_EMAIL_FROM, to: targets.email, raw });
      log.info("notify.email_sent", { tenant_id: tenantId, kind });
      outcomes.push("sent");
    } catch (err) {
      log.warn("notify.email_failed", { tenant_id: tenantId, kind, ...errorFields(err) });
      outcomes.push("retry");
    }
  }
  return outcomes;
}

/**
 * Tells the tenant something (a handoff, a draft waiting for approval, a low balance), in their
 * locale, in their Discord channel and/or by email, whichever they set. Metadata only: never a
 * customer's words. Handoffs and approvals of a tenant on a 15-minute, hourly or daily cadence
 * are gathered instead (notification_batches) and summed up by the cron; a low balance is always
 * told at once. Returns false only when no target got it and a failure is worth retrying, so the
 * caller tries again later (one target that got it is enough).
 */
export async function notifyTenant(env: PipelineEnv, tenantId: string, notice: Notice): Promise<boolean> {
  const settings = await tenantSettings(env, tenantId);
  const kind = notice.kind;
  if (!settings?.notifyDiscordChannelId && !settings?.notifyEmail) {
    log.info("notify.no_channel", { tenant_id: tenantId, kind });
    return true;
  }
  if ((notice.kind === "handoff" || notice.kind === "approval") && settings.notifyCadence !== "instant") {
    // The cached cadence says gathered; the upsert checks it again in D1 (a tenant switched to
    // instant a moment ago is told at once).
    if (await queueNotice(env.DB, { tenantId, kind: notice.kind, channel: notice.channel })) {
      log.info("notify.batched", { tenant_id: tenantId, kind });
      return true;
    }
  }
  const t = translator(settings.locale);
  const [subject, text] =
    notice.kind === "handoff"
      ? [
          t("notify-handoff-subject"),
          t("notify-handoff", {
            channel: channelName(t, notice.channel),
            customer: notice.customer,
            conversation: notice.conversation,
          }),
        ]
      : notice.kind === "approval"
        ? [
            t("notify-approval-subject"),
            t("notify-approval", { channel: channelName(t, notice.channel), customer: notice.customer }),
          ]
        : notice.kind === "mail_waiting"
          ? [t("notify-mail-waiting-subject"), t("notify-mail-waiting", { customer: notice.customer })]
          : notice.kind === "given_up"
            ? [
                t("notify-given-up-subject"),
                t("notify-given-up", { channel: channelName(t, notice.channel), customer: notice.customer }),
              ]
            : notice.kind === "silent_account"
              ? [
                  t("notify-silent-subject"),
                  t("notify-silent", {
                    channel: channelName(t, notice.channel),
                    account: notice.account,
                    hours: notice.hours,
                  }),
                ]
              : [t("notify-low-balance-subject"), t("notify-low-balance", { balance: notice.balance })];
  const outcomes = await sendToTenant(
    env,
    tenantId,
    { discordChannelId: settings.notifyDiscordChannelId, email: settings.notifyEmail },
    {
      kind,
      subject,
      text,
      skipDiscord: notice.kind === "handoff" || notice.kind === "approval" ? notice.relayedTo : null,
    },
  );
  return !worthRetrying(outcomes);
}

/** The summary of a tenant's gathered notices: totals, then one line per channel. */
function summaryText(t: Translate, batches: NoticeBatch[]): { subject: string; text: string } {
  const sum = (kind: NoticeBatch["kind"], channel?: string) =>
    batches
      .filter((b) => b.kind === kind && (channel === undefined || b.channel === channel))
      .reduce((n, b) => n + b.count, 0);
  const handoffs = sum("handoff");
  const approvals = sum("approval");
  const headline =
    handoffs > 0 && approvals > 0
      ? t("notify-batch-both", { handoffs, approvals })
      : handoffs > 0
        ? t("notify-batch-handoffs", { handoffs })
        : t("notify-batch-approvals", { approvals });
  const channels = [...new Set(batches.map((b) => b.channel))].sort();
  const lines = channels.map((c) =>
    t("notify-batch-channel", {
      channel: channelName(t, c),
      handoffs: sum("handoff", c),
      approvals: sum("approval", c),
    }),
  );
  return {
    subject: t("notify-batch-subject"),
    text: [headline, ...lines, t("notify-batch-open")].join("\n"),
  };
}

/**
 * The cron's part of gathered notices: for each tenant with rows due (oldest first, at most
 * SUMMARIES_PER_RUN), one summary to its targets, then exactly the rows it told about are taken
 * away (notices that came in meanwhile stay for the next one). A summary counts as told when any
 * target got it. When none did and trying again may work, the rows wait SUMMARY_RETRY_MS (not due
 * again on every run, and not in front of other tenants meanwhile); rows whose first notice is
 * older than their cadence plus a day are dropped instead. Returns the number of summaries sent.
 */
export async function sendDueNoticeSummaries(env: PipelineEnv, now: number): Promise<number> {
  let sent = 0;
  for (const tenantId of await listDueNoticeTenants(env.DB, now, SUMMARIES_PER_RUN)) {
    try {
      const batches = await dueNotices(env.DB, tenantId, now);
      if (batches.length === 0) continue;
      const settings = await getTenantSettings(env.DB, tenantId);
      if (settings && (settings.notifyDiscordChannelId || settings.notifyEmail)) {
        const { subject, text } = summaryText(translator(settings.locale), batches);
        const outcomes = await sendToTenant(
          env,
          tenantId,
          { discordChannelId: settings.notifyDiscordChannelId, email: settings.notifyEmail },
          { kind: "summary", subject, text },
        );
        if (worthRetrying(outcomes)) {
          const dropped = await postponeNotices(env.DB, tenantId, now, now + SUMMARY_RETRY_MS);
          if (dropped > 0) log.warn("notify.summary_dropped", { tenant_id: tenantId, rows: dropped });
          else log.warn("notify.summary_retry", { tenant_id: tenantId });
          continue;
        }
        if (outcomes.includes("sent")) sent += 1;
      } else {
        // Nowhere to tell it (the targets were cleared since): the notices are dropped.
        log.info("notify.no_channel", { tenant_id: tenantId, kind: "summary" });
      }
      await removeSentNotices(env.DB, tenantId, batches, Date.now());
    } catch (err) {
      // One tenant's failure does not hold up the others; its rows wait for the next run.
      log.error("notify.summary_failed", { tenant_id: tenantId, ...errorFields(err) });
    }
  }
  return sent;
}
