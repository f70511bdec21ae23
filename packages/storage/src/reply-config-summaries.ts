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

/**
 * The labels the tenant gave its reply rules, by rule id, across its accounts (the insights name
 * the rules that answered most): the first non-empty label of an id wins. Read from the stored
 * JSON through the tenant's accounts (reply_configs by primary key), never the rules' replies.
 */
export async function listRuleLabels(db: D1Database, tenantId: string): Promise<Map<string, string>> {
  const { results } = await db
    .prepare(
      `SELECT json_extract(j.value, '$.id') AS id, json_extract(j.value, '$.label') AS label
         FROM channel_accounts a
         JOIN reply_configs r ON r.account_id = a.id
         JOIN json_each(r.config_json, '$.rules') j
        WHERE a.tenant_id = ?
        ORDER BY a.created_at, a.id, j.key`,
    )
    .bind(tenantId)
    .all<{ id: string | null; label: string | null }>();
  const labels = new Map<string, string>();
  for (const r of results) {
    if (r.id && r.label && !labels.has(r.id)) labels.set(r.id, r.label);
  }
  return labels;
}
