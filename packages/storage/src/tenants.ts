import { DEFAULT_TIME_ZONE, newId } from "@concierge/core";
import { importMasterKey, newWrappedDataKey } from "@concierge/crypto";

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
        "INSERT INTO tenants (id, name, locale, currency, time_zone, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .bind(id, input.name, locale, currency, timeZone, now),
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
