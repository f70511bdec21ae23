import { DEFAULT_TIME_ZONE, newId } from "@concierge/core";
import { utcOffsetMinutes } from "@concierge/core/periods";
import { importMasterKey, newWrappedDataKey } from "@concierge/crypto";
import { REPLY_INSIGHT_KEY_SQL } from "./insights.ts";

export type TenantRow = { id: string; name: string; locale: string; status: "active" | "suspended" };

/** Creates a tenant and its wrapped data key in one batch: a tenant never exists without a key. */
export async function createTenant(
  db: D1Database,
  masterKeyB64: string,
  input: { id?: string; name: string; locale?: string; currency?: "INR" | "USD"; timeZone?: string },
): Promise<TenantRow & { currency: "INR" | "USD" }> {
  const id = input.id ?? newId("t");
  const wrapped = await newWrappedDataKey(await importMasterKey(masterKeyB64), id);
  const now = Date.now();
  const locale = input.locale ?? "en-IN";
  const currency = input.currency ?? "INR";
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE[locale === "en-US" ? "en-US" : "en-IN"];
  await db.batch([
    db
      .prepare(
        `INSERT INTO tenants (id, name, locale, currency, time_zone, utc_offset_minutes, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(id, input.name, locale, currency, timeZone, zoneOffset(timeZone, now), now),
    db
      .prepare("INSERT INTO tenant_keys (tenant_id, version, wrapped_key, created_at) VALUES (?, 1, ?, ?)")
      .bind(id, wrapped, now),
  ]);
  return { id, name: input.name, locale, status: "active", currency };
}

export async function getTenant(db: D1Database, id: string): Promise<TenantRow | null> {
  return db.prepare("SELECT id, name, locale, status FROM tenants WHERE id = ?").bind(id).first<TenantRow>();
}

/** Every version of the tenant's wrapped data key: old ciphertext stays readable after a rotation. */
export async function getWrappedTenantKeys(
  db: D1Database,
  tenantId: string,
): Promise<{ version: number; wrapped: string }[]> {
  const { results } = await db
    .prepare("SELECT version, wrapped_key AS wrapped FROM tenant_keys WHERE tenant_id = ? ORDER BY version")
    .bind(tenantId)
    .all<{ version: number; wrapped: string }>();
  return results;
}

/** A new data key for the tenant, wrapped by the master key (for rotateTenantKeyStatement). */
export async function newTenantDataKey(masterKeyB64: string, tenantId: string): Promise<string> {
  return newWrappedDataKey(await importMasterKey(masterKeyB64), tenantId);
}

/**
 * Adds a new data key version (RETURNING it): new ciphertext uses it, older versions still
 * decrypt. Nothing for a tenant with no key (an unknown tenant). For a batch with its audit row
 * (keyRotationAuditStatement, which reads the version this inserted).
 */
export function rotateTenantKeyStatement(
  db: D1Database,
  tenantId: string,
  wrapped: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO tenant_keys (tenant_id, version, wrapped_key, created_at)
       SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ? FROM tenant_keys WHERE tenant_id = ?
       HAVING COUNT(*) > 0
       RETURNING version`,
    )
    .bind(tenantId, wrapped, now, tenantId);
}

/** The tenant's current (newest) wrapped data key. */
export async function getWrappedTenantKey(
  db: D1Database,
  tenantId: string,
): Promise<{ version: number; wrapped: string } | null> {
  return db
    .prepare(
      "SELECT version, wrapped_key AS wrapped FROM tenant_keys WHERE tenant_id = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(tenantId)
    .first<{ version: number; wrapped: string }>();
}

/**
 * Marks the start of the tenant's deletion (tenants.deleting_at), for a batch with the operator's
 * audit row: from here the tenant answers no one, and a deletion that stops midway leaves it
 * marked for the next attempt to finish. Changes nothing when the tenant is already marked (a
 * resumed deletion keeps its first time and records no second audit row) or unknown.
 */
export function markTenantDeletingStatement(
  db: D1Database,
  tenantId: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare("UPDATE tenants SET deleting_at = ? WHERE id = ? AND deleting_at IS NULL")
    .bind(now, tenantId);
}

/**
 * The zone's UTC offset now in minutes, for the insights' local days (migration 0036); null for a
 * zone Intl does not know (counted as UTC until the cron knows better).
 */
export function zoneOffset(timeZone: string, at = Date.now()): number | null {
  try {
    return utcOffsetMinutes(timeZone, at);
  } catch {
    return null;
  }
}

/** One page (by id) of tenants with their zone and the offset stored, for the hourly refresh. */
export async function listTenantOffsets(
  db: D1Database,
  after = "",
  limit = 500,
): Promise<{ tenants: { id: string; timeZone: string; offset: number | null }[]; next: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT id, time_zone AS timeZone, utc_offset_minutes AS offset FROM tenants
        WHERE id > ? ORDER BY id LIMIT ?`,
    )
    .bind(after, limit)
    .all<{ id: string; timeZone: string; offset: number | null }>();
  return { tenants: results, next: results.length === limit ? results[results.length - 1]!.id : null };
}

export type OffsetChange = { id: string; timeZone: string; offset: number | null; recount: boolean };

/**
 * Stores tenants' offsets, one batch: a zone moved across daylight saving (`recount` false: the
 * days already counted stay), or was not known yet (`recount`: the tenant's days are counted again
 * in its zone, from every record it keeps, and its debits' days with them). Each only while the
 * tenant is still in the zone the offset was worked out for: a time zone saved meanwhile wins.
 */
export async function saveTenantOffsets(db: D1Database, changes: OffsetChange[]): Promise<void> {
  if (changes.length === 0) return;
  // CAST: the bound offset arrives as REAL, and the division must be an integer one.
  const day = (col: string) => `(${col} + COALESCE(CAST(?2 AS INTEGER), 0) * 60000) / 86400000`;
  // Only while the tenant is still in this zone (the offset below was stored).
  const still = "EXISTS (SELECT 1 FROM tenants WHERE id = ?1 AND time_zone = ?3)";
  const statements: D1PreparedStatement[] = [];
  for (const c of changes) {
    const bind = (sql: string) => db.prepare(sql).bind(c.id, c.offset, c.timeZone);
    statements.push(bind("UPDATE tenants SET utc_offset_minutes = ?2 WHERE id = ?1 AND time_zone = ?3"));
    if (!c.recount) continue;
    statements.push(
      bind(`DELETE FROM message_days WHERE tenant_id = ?1 AND ${still}`),
      bind(
        // A reply reported undeliverable counts as a failure (migration 0037).
        `INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
         SELECT tenant_id, ${day("created_at")}, channel, direction,
                CASE WHEN direction = 'outbound' AND status = 'failed' AND action IS NOT 'send_failed'
                     THEN 'delivery_failed' ELSE COALESCE(action, '') END, COUNT(*)
           FROM messages WHERE tenant_id = ?1 AND ${still} GROUP BY 2, 3, 4, 5`,
      ),
      bind(`DELETE FROM insight_days WHERE tenant_id = ?1 AND ${still}`),
      // One count per reply, as the trigger keeps them since migration 0038.
      bind(
        `INSERT INTO insight_days (tenant_id, day, metric, key, n)
         SELECT tenant_id, ${day("created_at")}, 'reply',
                ${REPLY_INSIGHT_KEY_SQL({ ruleId: "rule_id", action: "action", waitMs: "reply_wait_ms" })}, COUNT(*)
           FROM messages WHERE tenant_id = ?1 AND direction = 'outbound'
            AND (rule_id IS NOT NULL OR reply_wait_ms IS NOT NULL)
            AND status IS NOT 'failed' AND ${still}
          GROUP BY 2, 4`,
      ),
      bind(
        `UPDATE credit_ledger SET day = ${day("created_at")} WHERE tenant_id = ?1 AND reason = 'ai_reply' AND ${still}`,
      ),
      bind(`DELETE FROM credit_days WHERE tenant_id = ?1 AND ${still}`),
      bind(
        `INSERT INTO credit_days (tenant_id, day, n)
         SELECT d.tenant_id, d.day, SUM(-d.delta) FROM credit_ledger d
          WHERE d.tenant_id = ?1 AND d.reason = 'ai_reply' AND ${still}
            AND NOT EXISTS (SELECT 1 FROM credit_ledger r
                             WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference)
          GROUP BY d.day`,
      ),
    );
  }
  await db.batch(statements);
}
