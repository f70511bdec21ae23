import { type ConversationSettings, ConversationSettingsSchema, type NotifyCadence } from "@concierge/core";
import { type BusinessHours, parseBusinessHours } from "@concierge/rules";

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
  /** Bumped by every save of a settings form; a form carries it and a stale one is refused (`saveTenantFields`). */
  settingsVersion: number;
  /** IANA zone the tenant's hours and days are in. */
  timeZone: string;
  /** The weekly schedule (migrations/0035), parsed once per read; null: none, always open. */
  businessHours: BusinessHours | null;
};

/**
 * What a save that carries the version its form was shown at did: `stale` when the tenant's
 * settings were saved since (nothing written), `not_found` when there is no such tenant.
 */
export type VersionedSave = "saved" | "stale" | "not_found";

/**
 * One settings form's UPDATE of the tenant row, refused inside the statement when `expected` is
 * not the current settings_version (null: no check, for callers without a form). Every save bumps
 * the version, so of two saves made from the same page one wins and the other is told, instead of
 * the later silently undoing the earlier. `set` is a fixed SQL fragment of the caller's; values
 * are bound, numbered from ?3 (?1 is the tenant, ?2 the expected version).
 */
export async function saveTenantFields(
  db: D1Database,
  tenantId: string,
  expected: number | null,
  set: string,
  values: unknown[],
): Promise<VersionedSave> {
  const res = await db
    .prepare(
      `UPDATE tenants SET ${set}, settings_version = settings_version + 1
        WHERE id = ?1 AND (?2 IS NULL OR settings_version = ?2)`,
    )
    .bind(tenantId, expected, ...values)
    .run();
  if (res.meta.changes > 0) return "saved";
  // Nothing changed: a stale version, or no such tenant (read only on this path).
  const exists = await db.prepare("SELECT 1 FROM tenants WHERE id = ?").bind(tenantId).first();
  return exists ? "stale" : "not_found";
}

export async function getTenantSettings(db: D1Database, tenantId: string): Promise<TenantSettings | null> {
  const row = await db
    .prepare(
      `SELECT idle_gap_minutes AS idleGapMinutes, handoff_cooldown_minutes AS handoffCooldownMinutes,
              history_turns AS historyTurns, default_wait_seconds AS defaultWaitSeconds,
              low_balance_threshold AS lowBalanceThreshold, notify_discord_channel_id AS notifyDiscordChannelId,
              notify_email AS notifyEmail, notify_cadence AS notifyCadence, locale, status, deleting_at AS deletingAt,
              retention_days AS retentionDays, settings_version AS settingsVersion,
              time_zone AS timeZone, business_hours AS businessHours
         FROM tenants WHERE id = ?`,
    )
    .bind(tenantId)
    .first<Omit<TenantSettings, "businessHours"> & { businessHours: string | null }>();
  return row ? { ...row, businessHours: storedHours(row.businessHours) } : null;
}

/** A stored schedule, which was validated on the way in; one that no longer parses counts as none. */
function storedHours(json: string | null): BusinessHours | null {
  if (json === null) return null;
  try {
    return parseBusinessHours(JSON.parse(json));
  } catch {
    return null;
  }
}

/**
 * Saves the business hours (null: none); `expected`: the settings version the form was shown at.
 * The caller validated the schedule (`parseBusinessHours`).
 */
export function saveBusinessHours(
  db: D1Database,
  tenantId: string,
  hours: BusinessHours | null,
  expected: number | null = null,
): Promise<VersionedSave> {
  return saveTenantFields(db, tenantId, expected, "business_hours = ?3", [
    hours === null ? null : JSON.stringify(hours),
  ]);
}

/** Saves the conversation settings; `expected`: the settings version the form was shown at. */
export async function saveConversationSettings(
  db: D1Database,
  tenantId: string,
  s: ConversationSettings,
  expected: number | null = null,
): Promise<VersionedSave> {
  return saveTenantFields(
    db,
    tenantId,
    expected,
    `idle_gap_minutes = ?3, handoff_cooldown_minutes = ?4, history_turns = ?5,
     default_wait_seconds = ?6, low_balance_threshold = ?7`,
    [s.idleGapMinutes, s.handoffCooldownMinutes, s.historyTurns, s.defaultWaitSeconds, s.lowBalanceThreshold],
  );
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
