/**
 * Quiet channels (issue 19 item 9, migrations/0033): an account that received customer messages
 * every day and then none for the tenant's `silence_alert_hours` (default 24, 0 = never) has
 * probably lost its webhook; the tenant is told once per silence. Read from message metadata by
 * the index messages_account_time (tenant_id, account_id, direction, created_at): each figure is
 * the first entry of one account's range, never a walk over its history.
 */
import { saveTenantFields, type VersionedSave } from "./settings.ts";

export const SILENCE_DEFAULT_HOURS = 24;
export const SILENCE_MAX_HOURS = 168;
/** "Every day": a customer message in each of this many 24-hour periods before the last one. */
export const SILENCE_DAILY_DAYS = 3;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How long after its alert time a silence is still alerted (runs missed, a deploy, a restart). */
const FRESH_MS = DAY_MS;

/** The tenant's quiet-channel alert in hours (0: off); null when there is no such tenant. */
export async function getSilenceAlertHours(db: D1Database, tenantId: string): Promise<number | null> {
  const r = await db
    .prepare("SELECT silence_alert_hours AS hours FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ hours: number }>();
  return r?.hours ?? null;
}

/** Sets it; the caller checked the range (0 to 168), the column's CHECK refuses others too. */
export function saveSilenceAlertHours(
  db: D1Database,
  tenantId: string,
  hours: number,
  expected: number | null = null,
): Promise<VersionedSave> {
  return saveTenantFields(db, tenantId, expected, "silence_alert_hours = ?3", [hours]);
}

/** An account gone quiet past its tenant's hours after daily messages, not yet alerted. */
export type SilentAccount = {
  id: string;
  tenantId: string;
  channel: "whatsapp" | "instagram" | "email";
  name: string;
  hours: number;
  lastInboundAt: number;
  alertedAt: number | null;
};

/**
 * One page (by account id, after `after`) of active customer accounts whose tenant wants the
 * alert and is neither suspended nor being deleted, that are silent now: their newest customer
 * message is older than the tenant's hours (by at most a day more), a message came in each of the
 * SILENCE_DAILY_DAYS days before it, and this silence was not alerted yet. The channel is tested
 * with `<>`: an IN list would let the planner take the (channel, external_id) index and sort every
 * remaining account on each page, instead of walking the primary key from the cursor. `next` is the cursor for the following page
 * (null: done). Bounded by the number of accounts: per account, a few single-entry index probes.
 */
export async function listSilentAccounts(
  db: D1Database,
  now: number,
  after = "",
  limit = 200,
): Promise<{ accounts: SilentAccount[]; next: string | null }> {
  const inbound = "m.tenant_id = a.tenant_id AND m.account_id = a.id AND m.direction = 'inbound'";
  const { results } = await db
    .prepare(
      `SELECT a.id, a.tenant_id AS tenantId, a.channel, COALESCE(a.display_name, a.external_id) AS name,
              t.silence_alert_hours AS hours, a.silence_alerted_at AS alertedAt,
              (SELECT m.created_at FROM messages m WHERE ${inbound}
                ORDER BY m.created_at DESC LIMIT 1) AS lastInboundAt
         FROM channel_accounts a JOIN tenants t ON t.id = a.tenant_id
        WHERE a.id > ?1 AND a.status = 'active' AND a.channel <> 'discord'
          AND t.silence_alert_hours > 0 AND t.status = 'active' AND t.deleting_at IS NULL
        ORDER BY a.id LIMIT ?2`,
    )
    .bind(after, limit)
    .all<SilentAccount & { lastInboundAt: number | null }>();
  const next = results.length === limit ? results[results.length - 1]!.id : null;
  // Only a silence that began within a day of its alert time: an account quiet for months (an old
  // number the tenant stopped using, or when the alert is first switched on) is not news, and it
  // is not probed every hour either.
  const quiet = results.filter(
    (a): a is SilentAccount =>
      a.lastInboundAt !== null &&
      now - a.lastInboundAt > a.hours * HOUR_MS &&
      now - a.lastInboundAt <= a.hours * HOUR_MS + FRESH_MS &&
      (a.alertedAt === null || a.alertedAt < a.lastInboundAt),
  );
  const accounts: SilentAccount[] = [];
  for (const a of quiet) if (await wasDaily(db, a)) accounts.push(a);
  return { accounts, next };
}

/** A customer message in each of the SILENCE_DAILY_DAYS 24-hour periods before the newest one. */
async function wasDaily(db: D1Database, a: SilentAccount): Promise<boolean> {
  const probes = Array.from(
    { length: SILENCE_DAILY_DAYS },
    (_, i) =>
      `EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = ?1 AND m.account_id = ?2 AND m.direction = 'inbound'
                AND m.created_at >= ?3 - ${(i + 1) * DAY_MS} AND m.created_at < ?3 - ${i * DAY_MS})`,
  );
  const r = await db
    .prepare(`SELECT ${probes.join(" AND ")} AS daily`)
    .bind(a.tenantId, a.id, a.lastInboundAt)
    .first<{ daily: number }>();
  return r?.daily === 1;
}

/**
 * Claims the alert for this silence: true for exactly one caller, and only while the silence has
 * not been alerted (a newer customer message starts a new one). Released if the alert fails.
 */
export async function claimSilenceAlert(
  db: D1Database,
  accountId: string,
  lastInboundAt: number,
  now: number,
): Promise<boolean> {
  const r = await db
    .prepare(
      `UPDATE channel_accounts SET silence_alerted_at = ?3
        WHERE id = ?1 AND (silence_alerted_at IS NULL OR silence_alerted_at < ?2)`,
    )
    .bind(accountId, lastInboundAt, now)
    .run();
  return r.meta.changes > 0;
}

/** Gives a claim back (the alert could not be delivered), so the next run tries again. */
export async function releaseSilenceAlert(
  db: D1Database,
  accountId: string,
  claimedAt: number,
  previous: number | null,
): Promise<void> {
  await db
    .prepare("UPDATE channel_accounts SET silence_alerted_at = ?3 WHERE id = ?1 AND silence_alerted_at = ?2")
    .bind(accountId, claimedAt, previous)
    .run();
}
