/**
 * Meta's data deletion callback (`data_deletions`): only the confirmation code and the outcome
 * are kept, nothing that identifies the person or the deleted tenants.
 */

export type DataDeletionStatus = "pending" | "completed" | "nothing_found" | "failed";

/**
 * The tenants a Facebook user belongs to: the ones they signed in to with Facebook Login (the
 * app-scoped id Meta sends is the user's subject) and the ones they connected an Instagram account
 * to. Each side is an index lookup (users by provider and subject, channel tokens by Facebook user).
 */
export async function tenantsOfFacebookUser(db: D1Database, facebookUserId: string): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT tenant_id AS tenantId FROM users WHERE provider = 'facebook' AND subject = ?1
       UNION SELECT tenant_id AS tenantId FROM channel_tokens WHERE facebook_user_id = ?1`,
    )
    .bind(facebookUserId)
    .all<{ tenantId: string }>();
  return results.map((r) => r.tenantId);
}

/** Records a request under its confirmation code (pending, or nothing_found when there is nothing). */
export async function insertDataDeletion(
  db: D1Database,
  d: { code: string; status: "pending" | "nothing_found"; requestedAt: number },
): Promise<void> {
  await db
    .prepare("INSERT INTO data_deletions (code, status, requested_at) VALUES (?, ?, ?)")
    .bind(d.code, d.status, d.requestedAt)
    .run();
}

/** The outcome of a pending request, once its deletion has run. */
export async function finishDataDeletion(
  db: D1Database,
  code: string,
  status: "completed" | "failed",
  completedAt = Date.now(),
): Promise<void> {
  await db
    .prepare("UPDATE data_deletions SET status = ?, completed_at = ? WHERE code = ?")
    .bind(status, completedAt, code)
    .run();
}

/** A request's status by its confirmation code; null when there is no such code. */
export async function getDataDeletion(
  db: D1Database,
  code: string,
): Promise<{ status: DataDeletionStatus; requestedAt: number } | null> {
  return db
    .prepare("SELECT status, requested_at AS requestedAt FROM data_deletions WHERE code = ?")
    .bind(code)
    .first<{ status: DataDeletionStatus; requestedAt: number }>();
}
