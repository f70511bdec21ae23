/**
 * How the tenant is told about approvals and handoffs (migrations/0019_onboarding.sql): where
 * (Discord channel, verified email), how often (at once or gathered per 15 minutes, hour or day),
 * and the gathered notices waiting for the cron (notification_batches). Counts per kind and
 * channel only: never a customer, never their words.
 */
import type { DigestCadence, NotifyCadence } from "@concierge/core";

export type NotificationPrefs = {
  discordChannelId?: string | null;
  email?: string | null;
  cadence?: NotifyCadence;
  digest?: DigestCadence;
};

export type SaveNotificationsResult = "saved" | "not_found" | "email_unverified" | "no_target";

/**
 * Saves the given fields in one statement; a field left out keeps its value. An email is saved
 * only while it is one of the tenant's verified forward addresses (checked inside the UPDATE, so a
 * deletion of the address racing with this cannot slip through); clearing it (null) always works.
 * A digest other than 'off' needs somewhere to go: the UPDATE changes nothing when, with the given
 * fields applied, there would be neither an email nor a Discord channel ('no_target').
 * A changed digest clears digest_next_at: the cron works out the next boundary for the new one.
 */
export async function saveNotificationPrefs(
  db: D1Database,
  tenantId: string,
  prefs: NotificationPrefs,
): Promise<SaveNotificationsResult> {
  const has = (k: keyof NotificationPrefs) => (prefs[k] === undefined ? 0 : 1);
  const email = prefs.email ?? null;
  const res = await db
    .prepare(
      `UPDATE tenants SET
          notify_discord_channel_id = CASE WHEN ?1 THEN ?2 ELSE notify_discord_channel_id END,
          notify_email = CASE WHEN ?3 THEN ?4 ELSE notify_email END,
          notify_cadence = CASE WHEN ?5 THEN ?6 ELSE notify_cadence END,
          digest_next_at = CASE WHEN ?7 AND digest IS NOT ?8 THEN NULL ELSE digest_next_at END,
          digest = CASE WHEN ?7 THEN ?8 ELSE digest END
        WHERE id = ?9
          AND (?4 IS NULL OR EXISTS (SELECT 1 FROM email_forward_addresses
                                      WHERE tenant_id = ?9 AND address = ?4 AND verified_at IS NOT NULL))
          AND (CASE WHEN ?7 THEN ?8 ELSE digest END = 'off'
               OR CASE WHEN ?3 THEN ?4 ELSE notify_email END IS NOT NULL
               OR CASE WHEN ?1 THEN ?2 ELSE notify_discord_channel_id END IS NOT NULL)`,
    )
    .bind(
      has("discordChannelId"),
      prefs.discordChannelId ?? null,
      has("email"),
      email,
      has("cadence"),
      prefs.cadence ?? null,
      has("digest"),
      prefs.digest ?? null,
      tenantId,
    )
    .run();
  if (res.meta.changes > 0) return "saved";
  // Nothing changed: say why (no tenant, an unconfirmed email, or a digest with nowhere to go).
  const row = await db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM email_forward_addresses
                       WHERE tenant_id = ?1 AND address = ?2 AND verified_at IS NOT NULL) AS verified
         FROM tenants WHERE id = ?1`,
    )
    .bind(tenantId, email)
    .first<{ verified: number }>();
  if (!row) return "not_found";
  if (email !== null && !row.verified) return "email_unverified";
  return "no_target";
}

export type BatchedKind = "handoff" | "approval";

/** How long a cadence gathers notices before they are sent together ('instant': not at all). */
const CADENCE_MS =
  "CASE t.notify_cadence WHEN '15m' THEN 900000 WHEN 'hourly' THEN 3600000 WHEN 'daily' THEN 86400000 ELSE 0 END";

/** How long after its first notice a gathered row may still be retried, beyond its cadence. */
export const NOTICE_GRACE_MS = 24 * 3600_000;

/**
 * Gathers a notice for the tenant's cadence: one more in its (kind, channel) row, which is due a
 * cadence after its first notice. Returns false, changing nothing, when the tenant is told at once
 * ('instant') or does not exist: the caller sends the notice itself.
 */
export async function queueNotice(
  db: D1Database,
  notice: { tenantId: string; kind: BatchedKind; channel: string },
  now = Date.now(),
): Promise<boolean> {
  const res = await db
    .prepare(
      `INSERT INTO notification_batches (tenant_id, kind, channel, count, first_at, due_at)
       SELECT t.id, ?2, ?3, 1, ?4, ?4 + ${CADENCE_MS}
         FROM tenants t WHERE t.id = ?1 AND t.notify_cadence <> 'instant'
       ON CONFLICT (tenant_id, kind, channel) DO UPDATE SET count = count + 1`,
    )
    .bind(notice.tenantId, notice.kind, notice.channel, now)
    .run();
  return res.meta.changes > 0;
}

export type NoticeBatch = { kind: BatchedKind; channel: string; count: number; dueAt: number };

/**
 * Tenants with gathered notices due by `now`, oldest due first: read as up to `limit` rows along
 * the due_at index (a tenant has at most a few rows, one per kind and channel).
 */
export async function listDueNoticeTenants(db: D1Database, now: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT tenant_id AS tenantId FROM notification_batches WHERE due_at <= ? ORDER BY due_at LIMIT ?",
    )
    .bind(now, limit)
    .all<{ tenantId: string }>();
  return [...new Set(results.map((r) => r.tenantId))];
}

/** The tenant's gathered notices due by `now` (its rows by primary key). */
export async function dueNotices(db: D1Database, tenantId: string, now: number): Promise<NoticeBatch[]> {
  const { results } = await db
    .prepare(
      `SELECT kind, channel, count, due_at AS dueAt FROM notification_batches
        WHERE tenant_id = ? AND due_at <= ? ORDER BY kind, channel`,
    )
    .bind(tenantId, now)
    .all<NoticeBatch>();
  return results;
}

/**
 * Takes away exactly what a summary told: a row whose count is still what was sent goes; a row
 * that gained notices while the summary was being sent keeps those, and starts a new wait of the
 * tenant's cadence from `now` (their first_at is no older than that send).
 */
export async function removeSentNotices(
  db: D1Database,
  tenantId: string,
  sent: NoticeBatch[],
  now = Date.now(),
): Promise<void> {
  if (sent.length === 0) return;
  await db.batch(
    sent.flatMap((b) => [
      db
        .prepare(
          "DELETE FROM notification_batches WHERE tenant_id = ? AND kind = ? AND channel = ? AND count <= ?",
        )
        .bind(tenantId, b.kind, b.channel, b.count),
      db
        .prepare(
          `UPDATE notification_batches SET count = count - ?4, first_at = ?5,
                  due_at = ?5 + (SELECT ${CADENCE_MS} FROM tenants t WHERE t.id = ?1)
            WHERE tenant_id = ?1 AND kind = ?2 AND channel = ?3 AND count > ?4`,
        )
        .bind(tenantId, b.kind, b.channel, b.count, now),
    ]),
  );
}

/**
 * A summary reached none of the tenant's targets, and trying again may work: its due rows wait
 * until `retryAt` (so they neither come back every run nor crowd out other tenants), except rows
 * whose first notice is older than the cadence plus NOTICE_GRACE_MS, which are dropped. Returns
 * how many rows were dropped.
 */
export async function postponeNotices(
  db: D1Database,
  tenantId: string,
  now: number,
  retryAt: number,
): Promise<number> {
  const [dropped] = await db.batch([
    db
      .prepare(
        `DELETE FROM notification_batches
          WHERE tenant_id = ?1 AND due_at <= ?2
            AND first_at + (SELECT ${CADENCE_MS} FROM tenants t WHERE t.id = ?1) + ?3 <= ?2`,
      )
      .bind(tenantId, now, NOTICE_GRACE_MS),
    db
      .prepare("UPDATE notification_batches SET due_at = ?3 WHERE tenant_id = ?1 AND due_at <= ?2")
      .bind(tenantId, now, retryAt),
  ]);
  return dropped?.meta.changes ?? 0;
}
