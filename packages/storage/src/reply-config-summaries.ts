import type { ChannelAccount } from "./accounts.ts";

/** One customer-facing account of a tenant with the shape of its reply config, for a list page. */
export type ReplyConfigSummary = ChannelAccount & {
  /** Whether a reply config has been saved for this account at all. */
  configured: boolean;
  enabled: boolean;
  ruleCount: number;
};

/**
 * The tenant's WhatsApp, Instagram and email accounts with their reply rule counts and master
 * switch, read from the stored JSON without loading every config.
 */
export async function listReplyConfigSummaries(
  db: D1Database,
  tenantId: string,
): Promise<ReplyConfigSummary[]> {
  const { results } = await db
    .prepare(
      `SELECT a.id, a.tenant_id AS tenantId, a.channel, a.external_id AS externalId,
              a.display_name AS displayName, a.status,
              r.account_id IS NOT NULL AS configured,
              COALESCE(json_extract(r.config_json, '$.enabled'), 1) AS enabled,
              COALESCE(json_array_length(r.config_json, '$.rules'), 0) AS ruleCount
         FROM channel_accounts a
         LEFT JOIN reply_configs r ON r.account_id = a.id
        WHERE a.tenant_id = ? AND a.channel IN ('whatsapp', 'instagram', 'email')
        ORDER BY a.channel, a.created_at, a.id`,
    )
    .bind(tenantId)
    .all<Omit<ReplyConfigSummary, "configured" | "enabled"> & { configured: number; enabled: number }>();
  return results.map((r) => ({ ...r, configured: r.configured === 1, enabled: r.enabled === 1 }));
}
