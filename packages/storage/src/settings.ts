import { type ConversationSettings, ConversationSettingsSchema, type NotifyCadence } from "@concierge/core";

export { type ConversationSettings, ConversationSettingsSchema };

export type TenantSettings = ConversationSettings & {
  notifyDiscordChannelId: string | null;
  notifyEmail: string | null;
  /** 'instant': approvals and handoffs are told at once; else gathered for the cron's summary. */
  notifyCadence: NotifyCadence;
  locale: string;
  /** 'suspended' by the platform team: the pipeline sends no reply of any kind. */
  status: "active" | "suspended";
  /** When a deletion of the tenant began that has not finished: no replies either. */
  deletingAt: number | null;
  /** Days message metadata is kept (tenants.retention_days); an idle conversation object forgets its thread after it too. */
  retentionDays: number;
};

export async function getTenantSettings(db: D1Database, tenantId: string): Promise<TenantSettings | null> {
  return db
    .prepare(
      `SELECT idle_gap_minutes AS idleGapMinutes, handoff_cooldown_minutes AS handoffCooldownMinutes,
              history_turns AS historyTurns, default_wait_seconds AS defaultWaitSeconds,
              low_balance_threshold AS lowBalanceThreshold, notify_discord_channel_id AS notifyDiscordChannelId,
              notify_email AS notifyEmail, notify_cadence AS notifyCadence, locale, status, deleting_at AS deletingAt,
              retention_days AS retentionDays
         FROM tenants WHERE id = ?`,
    )
    .bind(tenantId)
    .first<TenantSettings>();
}

export async function saveConversationSettings(
  db: D1Database,
  tenantId: string,
  s: ConversationSettings,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE tenants SET idle_gap_minutes = ?, handoff_cooldown_minutes = ?, history_turns = ?,
              default_wait_seconds = ?, low_balance_threshold = ? WHERE id = ?`,
    )
    .bind(
      s.idleGapMinutes,
      s.handoffCooldownMinutes,
      s.historyTurns,
      s.defaultWaitSeconds,
      s.lowBalanceThreshold,
      tenantId,
    )
    .run();
  return res.meta.changes > 0;
}

export async function setNotifyDiscordChannel(
  db: D1Database,
  tenantId: string,
  channelId: string | null,
): Promise<void> {
  await db
    .prepare("UPDATE tenants SET notify_discord_channel_id = ? WHERE id = ?")
    .bind(channelId, tenantId)
    .run();
}

export async function setNotifyEmail(db: D1Database, tenantId: string, email: string | null): Promise<void> {
  await db.prepare("UPDATE tenants SET notify_email = ? WHERE id = ?").bind(email, tenantId).run();
}
