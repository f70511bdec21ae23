/**
 * A tenant's messages by time, without an index of their own (migrations/0040).
 *
 * Every message row writes one entry per index of `messages` (D1 bills each as a row written), so
 * `messages` keeps one index for both kinds of read: messages_account_time (tenant_id, account_id,
 * direction, created_at). A per-account read uses it directly. A tenant-wide read by time goes
 * through `tenantAccounts`: the tenant's distinct account ids, found by skipping through that
 * index (one seek per account, however many messages each has), and then each account's range
 * per direction (`ofTenant`). So it reads the tenant's rows in the window and a few index
 * entries more (an account or two per channel), never the tenant's older rows or anyone else's.
 *
 * The accounts come from `messages` itself, not `channel_accounts`: a disconnected account's
 * rows stay (the insights and retention still count and purge them) after its account row went.
 */

/**
 * `(…)` for `m.account_id IN …`: the account ids of the tenant named by the SQL expression
 * `tenant` (`?1`, or an outer query's `t.id`: SQLite re-runs it per outer row), a recursive skip
 * through messages_account_time. The last row the recursion yields is NULL, which matches nothing.
 */
export function tenantAccounts(tenant: string): string {
  return `(WITH RECURSIVE acc(id) AS (
      SELECT MIN(account_id) FROM messages WHERE tenant_id = ${tenant}
      UNION ALL
      SELECT (SELECT MIN(account_id) FROM messages WHERE tenant_id = ${tenant} AND account_id > acc.id)
        FROM acc WHERE acc.id IS NOT NULL)
    SELECT id FROM acc)`;
}

/**
 * The condition a tenant-wide read by time starts with: `m` (an alias of `messages`) is a message
 * of the tenant named by the SQL expression `tenant`, reached through each of its accounts' range
 * of each direction (the index has the direction before the time: both values are named, so
 * SQLite seeks each), to be followed by `AND m.created_at …`.
 */
export function ofTenant(m: string, tenant: string): string {
  return `${m}.tenant_id = ${tenant} AND ${m}.account_id IN ${tenantAccounts(tenant)}
    AND ${m}.direction IN ('inbound', 'outbound')`;
}
