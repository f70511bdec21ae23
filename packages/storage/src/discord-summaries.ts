export type InstagramTokenState = { accountId: string; status: "ok" | "dead"; deadReason: string | null };

/** The Instagram page tokens' states: a dead one means the account cannot send until reconnected. */
export async function listInstagramTokenStates(
  db: D1Database,
  tenantId: string,
): Promise<InstagramTokenState[]> {
  const { results } = await db
    .prepare(
      "SELECT account_id AS accountId, status, dead_reason AS deadReason FROM channel_tokens WHERE tenant_id = ?",
    )
    .bind(tenantId)
    .all<InstagramTokenState>();
  return results;
}

export async function listEmailSubdomainStates(
  db: D1Database,
  tenantId: string,
): Promise<EmailSubdomainState[]> {
  const { results } = await db
    .prepare(
      `SELECT account_id AS accountId, domain, status, status_error AS statusError
         FROM email_subdomains WHERE tenant_id = ? ORDER BY domain`,
    )
    .bind(tenantId)
    .all<EmailSubdomainState>();
  return results;
}

import type { CustomerAccount, EmailSubdomainState } from "@concierge/core";

export type { CustomerAccount, EmailSubdomainState };

/** The accounts customers write to (not Discord), for choosing one in /rules. */
export async function listCustomerAccounts(db: D1Database, tenantId: string): Promise<CustomerAccount[]> {
  const { results } = await db
    .prepare(
      `SELECT id, channel, external_id AS externalId, display_name AS displayName, status
         FROM channel_accounts
        WHERE tenant_id = ? AND channel IN ('whatsapp', 'instagram', 'email')
        ORDER BY channel, created_at, id`,
    )
    .bind(tenantId)
    .all<CustomerAccount>();
  return results;
}
