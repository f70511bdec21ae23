/**
 * The read side of an email subdomain for the ingest path: who owns it, whether it takes mail,
 * its routing rules (as stored JSON, compiled by the caller) and where the tenant may forward.
 * Configuration only: nothing here comes from a message.
 */
export type EmailForwardTarget = { id: string; address: string };

export type EmailRoute = {
  tenantId: string;
  accountId: string;
  domain: string;
  /** The subdomain's provisioning state: only `active` takes mail. */
  status: "provisioning" | "active" | "failed";
  /** The channel account's own switch (a tenant may turn a channel off). */
  accountStatus: string;
  routingJson: string;
  routingVersion: number;
  /** Only addresses that followed the verification link. */
  forwardAddresses: EmailForwardTarget[];
};

export async function getEmailRoute(db: D1Database, domain: string): Promise<EmailRoute | null> {
  const row = await db
    .prepare(
      `SELECT s.tenant_id AS tenantId, s.account_id AS accountId, s.domain, s.status,
              a.status AS accountStatus, s.routing_json AS routingJson, s.routing_version AS routingVersion
         FROM email_subdomains s
         JOIN channel_accounts a ON a.id = s.account_id
        WHERE s.domain = ?`,
    )
    .bind(domain.toLowerCase())
    .first<Omit<EmailRoute, "forwardAddresses">>();
  if (!row) return null;
  const { results } = await db
    .prepare(
      `SELECT id, address FROM email_forward_addresses
        WHERE tenant_id = ? AND verified_at IS NOT NULL ORDER BY created_at`,
    )
    .bind(row.tenantId)
    .all<EmailForwardTarget>();
  return { ...row, forwardAddresses: results };
}
