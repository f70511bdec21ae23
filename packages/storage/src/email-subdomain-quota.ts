/**
 * How many email subdomains a tenant may have (`tenants.email_subdomain_quota`; the insert itself
 * enforces it, see insertEmailSubdomain). 0 when there is no such tenant.
 */
export async function getEmailSubdomainQuota(db: D1Database, tenantId: string): Promise<number> {
  const row = await db
    .prepare("SELECT email_subdomain_quota AS quota FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ quota: number }>();
  return row?.quota ?? 0;
}
