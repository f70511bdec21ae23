/**
 * Retention (issue 18 item 3, migrations/0030): a tenant keeps its message metadata for
 * `tenants.retention_days` days (default 90, 7 to 730); the 15-minute cron purges what is older,
 * in bounded chunks across tenants, and resumes next run from whatever old rows remain.
 */
import { saveTenantFields, type VersionedSave } from "./settings.ts";
import { ofTenant } from "./message-accounts.ts";

export const RETENTION_DEFAULT_DAYS = 90;
export const RETENTION_MIN_DAYS = 7;
export const RETENTION_MAX_DAYS = 730;

const DAY_MS = 86_400_000;

/** The tenant's retention in days; null when there is no such tenant. */
export async function getRetentionDays(db: D1Database, tenantId: string): Promise<number | null> {
  const r = await db
    .prepare("SELECT retention_days AS days FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ days: number }>();
  return r?.days ?? null;
}

/**
 * Sets the tenant's retention. The caller has checked the range; the column's CHECK refuses
 * anything outside it as well. False when there is no such tenant.
 */
export async function saveRetentionDays(
  db: D1Database,
  tenantId: string,
  days: number,
  expected: number | null = null,
): Promise<VersionedSave> {
  return saveTenantFields(db, tenantId, expected, "retention_days = ?3", [days]);
}

/**
 * Per-message metadata past each tenant's own retention, as one chunk per table: up to `limit`
 * rows each. The inner loop is the tenant's index on (tenant_id, [status,] created_at) (for
 * messages, each of its accounts' ranges: message-accounts.ts), so a
 * chunk reads the tenants table once (one row per tenant: the cron's only walk over all tenants,
 * bounded by their number, never by their messages) and then only rows that go; a tenant being deleted is left
 * to its deletion. Decided approvals only: a pending or sending one is still in use.
 */
const EXPIRED = {
  messages: `DELETE FROM messages WHERE id IN (
      SELECT m.id FROM tenants CROSS JOIN messages m
       WHERE tenants.deleting_at IS NULL AND ${ofTenant("m", "tenants.id")}
         AND m.created_at < ?1 - tenants.retention_days * ${DAY_MS}
       LIMIT ?2)`,
  relays: `DELETE FROM discord_relays WHERE id IN (
      SELECT r.id FROM tenants CROSS JOIN discord_relays r
       WHERE tenants.deleting_at IS NULL AND r.tenant_id = tenants.id AND r.created_at < ?1 - tenants.retention_days * ${DAY_MS}
       LIMIT ?2)`,
  // Who controlled a thread, last changed before the cutoff (conversation_states_tenant).
  states: `DELETE FROM conversation_states WHERE (account_id, customer_id) IN (
      SELECT s.account_id, s.customer_id FROM tenants CROSS JOIN conversation_states s
       WHERE tenants.deleting_at IS NULL AND s.tenant_id = tenants.id AND s.updated_at < ?1 - tenants.retention_days * ${DAY_MS}
       LIMIT ?2)`,
  approvals: `DELETE FROM approvals WHERE id IN (
      SELECT a.id FROM tenants CROSS JOIN approvals a
       WHERE tenants.deleting_at IS NULL AND a.tenant_id = tenants.id
         AND a.status IN ('sent', 'rejected', 'expired', 'failed')
         AND a.created_at < ?1 - tenants.retention_days * ${DAY_MS}
       LIMIT ?2)`,
  // The insights' per-day counts (migrations/0029) of whole days before the cutoff: insights
  // show no day whose records are gone, and the counts do not outlive what they count.
  messageDays: `DELETE FROM message_days WHERE (tenant_id, day, channel, direction, action) IN (
      SELECT d.tenant_id, d.day, d.channel, d.direction, d.action FROM tenants CROSS JOIN message_days d
       WHERE tenants.deleting_at IS NULL AND d.tenant_id = tenants.id
         AND d.day < (?1 - tenants.retention_days * ${DAY_MS} + COALESCE(tenants.utc_offset_minutes, 0) * 60000) / ${DAY_MS}
       LIMIT ?2)`,
  insightDays: `DELETE FROM insight_days WHERE (tenant_id, day, metric, key) IN (
      SELECT d.tenant_id, d.day, d.metric, d.key FROM tenants CROSS JOIN insight_days d
       WHERE tenants.deleting_at IS NULL AND d.tenant_id = tenants.id
         AND d.day < (?1 - tenants.retention_days * ${DAY_MS} + COALESCE(tenants.utc_offset_minutes, 0) * 60000) / ${DAY_MS}
       LIMIT ?2)`,
  creditDays: `DELETE FROM credit_days WHERE (tenant_id, day) IN (
      SELECT d.tenant_id, d.day FROM tenants CROSS JOIN credit_days d
       WHERE tenants.deleting_at IS NULL AND d.tenant_id = tenants.id
         AND d.day < (?1 - tenants.retention_days * ${DAY_MS} + COALESCE(tenants.utc_offset_minutes, 0) * 60000) / ${DAY_MS}
       LIMIT ?2)`,
} as const;

export type RetentionPurge = {
  messages: number;
  relays: number;
  /** Conversation states (who controlled a thread). */
  states: number;
  approvals: number;
  /** Per-day insight counts (message_days, credit_days and insight_days rows). */
  days: number;
  chunks: number;
  done: boolean;
};

/**
 * Purges metadata older than each tenant's retention at `now`: at most `chunks` chunks of at most
 * `limit` rows per table (one batch each), so a run is bounded however much is due; `done` false
 * when a chunk was full, and the next run goes on.
 */
export async function purgeExpiredMetadata(
  db: D1Database,
  now: number,
  opts: { limit: number; chunks: number },
): Promise<RetentionPurge> {
  const out: RetentionPurge = {
    messages: 0,
    relays: 0,
    states: 0,
    approvals: 0,
    days: 0,
    chunks: 0,
    done: false,
  };
  while (out.chunks < opts.chunks) {
    out.chunks += 1;
    const [m, r, a, md, cd, st, id] = await db.batch([
      db.prepare(EXPIRED.messages).bind(now, opts.limit),
      db.prepare(EXPIRED.relays).bind(now, opts.limit),
      db.prepare(EXPIRED.approvals).bind(now, opts.limit),
      db.prepare(EXPIRED.messageDays).bind(now, opts.limit),
      db.prepare(EXPIRED.creditDays).bind(now, opts.limit),
      db.prepare(EXPIRED.states).bind(now, opts.limit),
      db.prepare(EXPIRED.insightDays).bind(now, opts.limit),
    ]);
    const counts = [m, r, a, md, cd, st, id].map((x) => x?.meta.changes ?? 0);
    out.messages += counts[0]!;
    out.relays += counts[1]!;
    out.approvals += counts[2]!;
    out.days += counts[3]! + counts[4]! + counts[6]!;
    out.states += counts[5]!;
    if (counts.every((n) => n < opts.limit)) {
      out.done = true;
      break;
    }
  }
  return out;
}
