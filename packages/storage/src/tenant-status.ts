/**
 * Whether a signed-in tenant is suspended, and why (the operator's reason), for the banner every
 * tenant dashboard page shows while it is. Looked up by the session's token hash, so the
 * dashboard reads it beside the session itself (getLiveSession) instead of after it: no extra
 * round trip on the way to every page.
 */
export type TenantSuspension = { reason: string | null; at: number | null };

/**
 * The suspension of the tenant behind this session token hash; null when the tenant is active or
 * there is no such session. One lookup by primary key on sessions and on tenants.
 */
export async function getSessionTenantSuspension(
  db: D1Database,
  tokenHash: string,
): Promise<TenantSuspension | null> {
  const row = await db
    .prepare(
      `SELECT t.status, t.suspended_reason AS reason, t.suspended_at AS at
         FROM sessions s JOIN tenants t ON t.id = s.tenant_id
        WHERE s.token_hash = ?`,
    )
    .bind(tokenHash)
    .first<{ status: string; reason: string | null; at: number | null }>();
  return row?.status === "suspended" ? { reason: row.reason, at: row.at } : null;
}
