/**
 * The state of each Instagram account's page token, as the dashboard's channels page shows it
 * (never the token itself).
 */

export type ChannelTokenState = {
  accountId: string;
  status: "ok" | "dead";
  /** Null: the token does not expire. */
  expiresAt: number | null;
  /** A short reason code when dead (expired, revoked, permissions, invalid). */
  deadReason: string | null;
};

/**
 * The tenant's page token states, one per account that has a token. Reached through the tenant's
 * accounts (channel_accounts has a tenant index, channel_tokens is keyed by account), because
 * channel_tokens has no index on tenant_id.
 */
export async function listChannelTokenStates(db: D1Database, tenantId: string): Promise<ChannelTokenState[]> {
  const { results } = await db
    .prepare(
      `SELECT t.account_id AS accountId, t.status, t.expires_at AS expiresAt, t.dead_reason AS deadReason
         FROM channel_accounts a JOIN channel_tokens t ON t.account_id = a.id
        WHERE a.tenant_id = ?1 AND t.tenant_id = ?1`,
    )
    .bind(tenantId)
    .all<ChannelTokenState>();
  return results;
}
