/**
 * Holds on deleted email subdomain names (migrations/0024): for 30 days after a subdomain is
 * deleted, by its tenant or with the whole tenant, nobody else may claim the name, so mail still
 * addressed to it cannot reach another business. The same tenant may take it back. The claim is
 * refused inside the INSERT by a trigger (the race-free check); emailSubdomainHold answers the
 * form before it tries.
 */

/** How long a deleted subdomain's name stays out of other tenants' reach. */
export const SUBDOMAIN_HOLD_MS = 30 * 24 * 3600 * 1000;

/** The trigger's message: an INSERT into email_subdomains refused because the name is held. */
const HELD_MESSAGE = "email_subdomain_held";

/** Whether an error thrown by an insert of a subdomain is the hold's refusal. */
export function isSubdomainHeldError(err: unknown): boolean {
  return String(err).includes(HELD_MESSAGE);
}

/**
 * When `name` becomes free to this tenant, if another tenant's deletion holds it now; null when
 * the tenant may claim it (never held, hold ended, or the tenant's own hold).
 */
export async function emailSubdomainHold(
  db: D1Database,
  name: string,
  tenantId: string,
  now = Date.now(),
): Promise<{ heldUntil: number } | null> {
  const row = await db
    .prepare(
      `SELECT held_until AS heldUntil FROM email_subdomain_holds
        WHERE name = ?1 AND held_until > ?2 AND (held_for IS NULL OR held_for <> ?3)`,
    )
    .bind(name, now, tenantId)
    .first<{ heldUntil: number }>();
  return row;
}

/** Holds that have ended: removed with the next deletion's batch (nothing else reads them). */
function purgeEndedHolds(db: D1Database, now: number): D1PreparedStatement {
  return db.prepare("DELETE FROM email_subdomain_holds WHERE held_until <= ?").bind(now);
}

/**
 * Deletes one of the tenant's email subdomains (its channel account; the subdomain row goes by
 * cascade) and, in the same batch, holds its name for the tenant: both or neither. Null when the
 * account is not this tenant's.
 */
export async function deleteEmailSubdomainWithHold(
  db: D1Database,
  tenantId: string,
  accountId: string,
  now = Date.now(),
): Promise<{ name: string } | null> {
  const [, held, deleted] = await db.batch([
    purgeEndedHolds(db, now),
    db
      .prepare(
        `INSERT INTO email_subdomain_holds (name, held_for, held_until)
         SELECT name, tenant_id, ?3 FROM email_subdomains WHERE account_id = ?1 AND tenant_id = ?2
         ON CONFLICT (name) DO UPDATE SET held_for = excluded.held_for, held_until = excluded.held_until
         RETURNING name`,
      )
      .bind(accountId, tenantId, now + SUBDOMAIN_HOLD_MS),
    db
      .prepare(
        "DELETE FROM channel_accounts WHERE id = ? AND tenant_id = ? AND channel = 'email' RETURNING id",
      )
      .bind(accountId, tenantId),
  ]);
  const name = (held?.results[0] as { name?: string } | undefined)?.name;
  return deleted?.results.length && name ? { name } : null;
}

/**
 * For tenant deletion's batch (deleteTenantRows), before its subdomains go: every subdomain name
 * of the tenant is held for 30 days from nobody (the tenant is gone, so no one may take it back),
 * and the tenant's earlier holds stop naming it.
 */
export function holdDeletedTenantSubdomains(
  db: D1Database,
  tenantId: string,
  now: number,
): D1PreparedStatement[] {
  return [
    purgeEndedHolds(db, now),
    db
      .prepare(
        `INSERT INTO email_subdomain_holds (name, held_for, held_until)
         SELECT name, NULL, ?2 FROM email_subdomains WHERE tenant_id = ?1
         ON CONFLICT (name) DO UPDATE SET held_for = NULL, held_until = excluded.held_until`,
      )
      .bind(tenantId, now + SUBDOMAIN_HOLD_MS),
    db.prepare("UPDATE email_subdomain_holds SET held_for = NULL WHERE held_for = ?").bind(tenantId),
  ];
}
