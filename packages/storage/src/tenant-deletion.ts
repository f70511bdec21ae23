import { type Channel, conversationKey } from "@concierge/core";
import { holdDeletedTenantSubdomains } from "./email-subdomain-holds.ts";

/**
 * Deleting a tenant (ARCHITECTURE.md §5): every row of every table, and its data key. The
 * conversations' Durable Objects are found through the metadata here, so the caller purges them
 * before the metadata that names them is gone.
 */

/** One customer thread of the tenant: its Durable Object name and where the metadata came from. */
export type TenantThread = { key: string; accountId: string; customerId: string | null };

/**
 * Turns the tenant's accounts off so that ingest refuses new messages while the deletion runs
 * (nothing new may arrive in a conversation already purged). Returns them, to drop cached lookups.
 */
export async function disableTenantAccounts(
  db: D1Database,
  tenantId: string,
): Promise<{ id: string; channel: Channel; externalId: string }[]> {
  const { results } = await db
    .prepare(
      "UPDATE channel_accounts SET status = 'disabled' WHERE tenant_id = ? RETURNING id, channel, external_id AS externalId",
    )
    .bind(tenantId)
    .all<{ id: string; channel: Channel; externalId: string }>();
  return results;
}

/** The customer side of a metadata row: the sender of an inbound message, the recipient of a reply. */
const CUSTOMER = "CASE direction WHEN 'inbound' THEN sender_id ELSE recipient_id END";

/**
 * Up to `limit` of the tenant's threads still named by metadata: message rows (account and
 * customer) and approvals (their thread key). Call `forgetTenantThreads` on a page once its
 * objects are purged, and the next call returns the next page.
 */
export async function listTenantThreads(
  db: D1Database,
  tenantId: string,
  limit = 50,
  /** Only this account's threads (a data deletion request deletes one Instagram account's). */
  accountId?: string,
): Promise<TenantThread[]> {
  const only = accountId === undefined ? "" : " AND account_id = ?";
  const binds = accountId === undefined ? [tenantId, limit] : [tenantId, accountId, limit];
  const [messages, approvals] = await Promise.all([
    db
      .prepare(
        `SELECT DISTINCT account_id AS accountId, ${CUSTOMER} AS customerId FROM messages WHERE tenant_id = ?${only} LIMIT ?`,
      )
      .bind(...binds)
      .all<{ accountId: string; customerId: string }>(),
    db
      .prepare(
        `SELECT DISTINCT account_id AS accountId, thread_key AS key FROM approvals WHERE tenant_id = ?${only} LIMIT ?`,
      )
      .bind(...binds)
      .all<{ accountId: string; key: string }>(),
  ]);
  const threads = new Map<string, TenantThread>();
  for (const m of messages.results) {
    const key = conversationKey(tenantId, m.accountId, m.customerId);
    threads.set(key, { key, accountId: m.accountId, customerId: m.customerId });
  }
  for (const a of approvals.results) {
    if (!threads.has(a.key)) threads.set(a.key, { key: a.key, accountId: a.accountId, customerId: null });
  }
  // Both queries may fill a page: the caller purges one page of objects at a time, so it gets
  // at most `limit`; the approvals not taken now come back on a later page.
  return [...threads.values()].slice(0, limit);
}

/**
 * Deletes the metadata naming these (already purged) threads, so a deletion that fails midway
 * resumes with the threads not yet purged. Returns the number of rows deleted.
 */
export async function forgetTenantThreads(
  db: D1Database,
  tenantId: string,
  threads: TenantThread[],
): Promise<number> {
  if (threads.length === 0) return 0;
  const statements = threads.flatMap((t) => [
    ...(t.customerId === null
      ? []
      : [
          db
            .prepare(`DELETE FROM messages WHERE tenant_id = ? AND account_id = ? AND ${CUSTOMER} = ?`)
            .bind(tenantId, t.accountId, t.customerId),
        ]),
    db.prepare("DELETE FROM approvals WHERE tenant_id = ? AND thread_key = ?").bind(tenantId, t.key),
  ]);
  const results = await db.batch(statements);
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}

/**
 * Every remaining row of the tenant, in every table, children before parents (so nothing relies
 * on cascades), and its data key with them: one batch, so it happens entirely or not at all.
 * Keep this list in step with the migrations; the deletion test fails on any table it misses.
 */
export async function deleteTenantRows(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<{ rows: number; tenantDeleted: boolean }> {
  const accounts = "SELECT id FROM channel_accounts WHERE tenant_id = ?";
  // The tenant's subdomain names stay held for 30 days (nobody else may claim them), written in
  // this same batch; not counted among the rows deleted.
  const holds = holdDeletedTenantSubdomains(db, tenantId, now);
  const statements = [
    ...holds,
    db.prepare("DELETE FROM sessions WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM users WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM approvals WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM discord_relays WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM notification_batches WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM stuck_alarms WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM discord_installs WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM whatsapp_verifications WHERE tenant_id = ?").bind(tenantId),
    // Email: reverse aliases and subdomains name channel accounts, so before them.
    db.prepare("DELETE FROM email_aliases WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM email_automatic_claims WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM email_automatic_days WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM email_forward_sends WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM email_forward_addresses WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM email_subdomains WHERE tenant_id = ?").bind(tenantId),
    // messages.account_id has no foreign key: rows of an account deleted earlier still go.
    db
      .prepare(`DELETE FROM messages WHERE tenant_id = ? OR account_id IN (${accounts})`)
      .bind(tenantId, tenantId),
    // The ledger's trigger fires on insert only; deleting it moves no balance.
    db.prepare("DELETE FROM credit_ledger WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM credit_lots WHERE tenant_id = ?").bind(tenantId),
    // Money: refunds name payments, payments name orders and subscriptions (by id, no foreign
    // keys), so children first. Receipts go with the tenant; Razorpay keeps its own records.
    db.prepare("DELETE FROM refunds WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM payments WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM orders WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM subscriptions WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM tenant_billing_details WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM personas WHERE tenant_id = ?").bind(tenantId),
    db
      .prepare(`DELETE FROM reply_configs WHERE tenant_id = ? OR account_id IN (${accounts})`)
      .bind(tenantId, tenantId),
    // Sealed Instagram page tokens: children of channel_accounts, so before them.
    db
      .prepare(`DELETE FROM channel_tokens WHERE tenant_id = ? OR account_id IN (${accounts})`)
      .bind(tenantId, tenantId),
    db.prepare("DELETE FROM channel_accounts WHERE tenant_id = ?").bind(tenantId),
    // Crypto-shredding: without its key, nothing sealed for this tenant can be read again.
    db.prepare("DELETE FROM tenant_keys WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM tenants WHERE id = ?").bind(tenantId),
  ];
  const results = await db.batch(statements);
  return {
    rows: results.slice(holds.length).reduce((n, r) => n + (r.meta.changes ?? 0), 0),
    tenantDeleted: (results[results.length - 1]!.meta.changes ?? 0) > 0,
  };
}

/** A tenant whose deletion was started (tenants.deleting_at) and whose rows are still there. */
export async function listDeletingTenants(db: D1Database, before: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      "SELECT id FROM tenants WHERE deleting_at IS NOT NULL AND deleting_at <= ? ORDER BY deleting_at LIMIT ?",
    )
    .bind(before, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * Turns one account off (ingest accepts nothing more for it) as a statement, to batch with the
 * side effects its removal records; nothing when it is gone already.
 */
export function disableAccountStatement(
  db: D1Database,
  tenantId: string,
  accountId: string,
): D1PreparedStatement {
  return db
    .prepare("UPDATE channel_accounts SET status = 'disabled' WHERE id = ? AND tenant_id = ?")
    .bind(accountId, tenantId);
}

/**
 * Every remaining row of one account of the tenant (its conversations already purged and their
 * metadata forgotten): one batch, children before the account. Returns the rows deleted (0 when a
 * previous run deleted them).
 */
export async function deleteAccountRows(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<number> {
  const results = await db.batch([
    db.prepare("DELETE FROM approvals WHERE tenant_id = ? AND account_id = ?").bind(tenantId, accountId),
    db.prepare("DELETE FROM discord_relays WHERE tenant_id = ? AND account_id = ?").bind(tenantId, accountId),
    db.prepare("DELETE FROM messages WHERE tenant_id = ? AND account_id = ?").bind(tenantId, accountId),
    db.prepare("DELETE FROM reply_configs WHERE account_id = ? AND tenant_id = ?").bind(accountId, tenantId),
    db.prepare("DELETE FROM channel_tokens WHERE account_id = ? AND tenant_id = ?").bind(accountId, tenantId),
    db.prepare("DELETE FROM channel_accounts WHERE id = ? AND tenant_id = ?").bind(accountId, tenantId),
  ]);
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}

/**
 * The ids the tenant's side effects at providers need (ARCHITECTURE.md §5, migrations/0023), read
 * before its rows go: the Discord guild the bot is in, the Cloudflare rules of its subdomains, the
 * Facebook Pages its Instagram accounts are subscribed through (with the account, so that a retry
 * never uses the token of another account that connects the page later).
 */
export async function tenantProviderIds(
  db: D1Database,
  tenantId: string,
): Promise<{
  guildIds: string[];
  emailRules: { ruleId: string; domain: string }[];
  pages: { pageId: string; accountId: string }[];
  /** When the deletion was marked (tenants.deleting_at); null when it is not marked. */
  deletingAt: number | null;
}> {
  const [guilds, rules, pages, tenant] = await db.batch<Record<string, string>>([
    db.prepare("SELECT guild_id AS id FROM discord_installs WHERE tenant_id = ?").bind(tenantId),
    db
      .prepare(
        "SELECT cf_rule_id AS ruleId, domain FROM email_subdomains WHERE tenant_id = ? AND cf_rule_id IS NOT NULL",
      )
      .bind(tenantId),
    db
      .prepare(
        `SELECT t.page_id AS pageId, t.account_id AS accountId FROM channel_accounts a
           JOIN channel_tokens t ON t.account_id = a.id WHERE a.tenant_id = ?`,
      )
      .bind(tenantId),
    db.prepare("SELECT deleting_at AS deletingAt FROM tenants WHERE id = ?").bind(tenantId),
  ]);
  const deletingAt = tenant?.results[0]?.deletingAt as number | null | undefined;
  return {
    deletingAt: deletingAt ?? null,
    guildIds: (guilds?.results ?? []).map((r) => r.id!),
    emailRules: (rules?.results ?? []) as { ruleId: string; domain: string }[],
    pages: (pages?.results ?? []) as { pageId: string; accountId: string }[],
  };
}
