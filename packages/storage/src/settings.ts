import * as v from "valibot";

/** A tenant's conversation settings, as the dashboard edits them. */
export const ConversationSettingsSchema = v.pipe(
  v.object({
    idleGapMinutes: v.pipe(v.number(), v.integer(), v.minValue(30), v.maxValue(10080)),
    handoffCooldownMinutes: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(1440)),
    historyTurns: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50)),
    defaultWaitSeconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(30)),
    lowBalanceThreshold: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)),
  }),
  v.forward(
    v.check(
      (s) => s.idleGapMinutes > s.handoffCooldownMinutes,
      "The idle gap must be longer than the handoff cooldown.",
    ),
    ["idleGapMinutes"],
  ),
);
export type ConversationSettings = v.InferOutput<typeof ConversationSettingsSchema>;

export type TenantSettings = ConversationSettings & {
  notifyDiscordChannelId: string | null;
  notifyEmail: string | null;
  locale: string;
};

export async function getTenantSettings(db: D1Database, tenantId: string): Promise<TenantSettings | null> {
  return db
    .prepare(
      `SELECT idle_gap_minutes AS idleGapMinutes, handoff_cooldown_minutes AS handoffCooldownMinutes,
              history_turns AS historyTurns, default_wait_seconds AS defaultWaitSeconds,
              low_balance_threshold AS lowBalanceThreshold, notify_discord_channel_id AS notifyDiscordChannelId,
              notify_email AS notifyEmail, locale
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
