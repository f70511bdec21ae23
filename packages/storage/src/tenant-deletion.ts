import type { Channel } from "@concierge/core";
import { holdDeletedTenantSubdomains } from "./email-subdomain-holds.ts";

/**
 * Deleting a tenant (ARCHITECTURE.md §5): its data key first (destroyTenantKeys: unreadable at
 * once), then every row of every table in bounded chunks, and the rest in one final batch. The
 * conversations' Durable Objects are found through the metadata here, so the caller purges them
 * before the metadata that names them is gone.
 */

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
 * Crypto-shredding, the first step of a tenant's deletion (ARCHITECTURE.md §5): its data keys go,
 * so everything sealed for it (conversation text in its Durable Objects, page tokens, anything
 * copied elsewhere) is unreadable at once, however long the rows take to delete afterwards. Its
 * dashboard sessions go in the same batch: nobody browses a tenant whose data can no longer be
 * opened while its rows are deleted. Returns the rows deleted of each (0 when an earlier run did).
 */
export async function destroyTenantKeys(
  db: D1Database,
  tenantId: string,
): Promise<{ keys: number; sessions: number }> {
  const [keys, sessions] = await db.batch([
    db.prepare("DELETE FROM tenant_keys WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM sessions WHERE tenant_id = ?").bind(tenantId),
  ]);
  return { keys: keys?.meta.changes ?? 0, sessions: sessions?.meta.changes ?? 0 };
}

/**
 * One bounded chunk of the rows that name the tenant's (or one account's) conversations: up to
 * `limit` message rows (their id, account and customer) and up to `limit` approvals (their id and
 * thread key), each read through the tenant's index. The caller purges the conversations these
 * rows name, then deletes exactly these rows while they still name those conversations
 * (deleteThreadRows); the next call returns the next chunk, so a deletion resumes from whatever
 * rows remain.
 */
export async function tenantThreadRows(
  db: D1Database,
  tenantId: string,
  limit: number,
  /** Only this account's rows (a data deletion request deletes one Instagram account's). */
  accountId?: string,
): Promise<{
  messages: ThreadRow[];
  approvals: { id: string; accountId: string; key: string }[];
}> {
  const only = accountId === undefined ? "" : " AND account_id = ?";
  const binds = accountId === undefined ? [tenantId, limit] : [tenantId, accountId, limit];
  const [messages, approvals] = await db.batch<Record<string, string | number>>([
    db
      .prepare(
        `SELECT id, account_id AS accountId, ${CUSTOMER} AS customerId FROM messages WHERE tenant_id = ?${only} LIMIT ?`,
      )
      .bind(...binds),
    db
      .prepare(
        `SELECT id, account_id AS accountId, thread_key AS key FROM approvals WHERE tenant_id = ?${only} LIMIT ?`,
      )
      .bind(...binds),
  ]);
  return {
    messages: (messages?.results ?? []) as ThreadRow[],
    approvals: (approvals?.results ?? []) as { id: string; accountId: string; key: string }[],
  };
}

/** D1 binds at most 100 parameters per statement: ids go in groups below that. */
const IDS_PER_STATEMENT = 90;

/** Message rows bind two parameters each (the id, and the id with its conversation). */
const MESSAGES_PER_STATEMENT = 45;

function groups<T>(items: readonly T[], size = IDS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A message row of a chunk from tenantThreadRows: its id, and the conversation it names. */
export type ThreadRow = { id: number; accountId: string; customerId: string };

/**
 * Deletes these message rows and approvals of the tenant (a chunk from tenantThreadRows whose
 * conversations are purged), by primary key, in one batch: all of the chunk or none of it. Each
 * statement touches at most MESSAGES_PER_STATEMENT or IDS_PER_STATEMENT rows. Returns the rows
 * deleted (0 on a rerun).
 *
 * A message row goes only if it still names the conversation it named when the chunk was read
 * (its account and customer): message ids can be given again once the newest row is deleted
 * (migration 0038), so between the read and this delete an id of the chunk may have gone (another
 * deletion, retention) and come back as another customer's new message, whose conversation was
 * not purged.
 */
export async function deleteThreadRows(
  db: D1Database,
  tenantId: string,
  messages: readonly ThreadRow[],
  approvalIds: string[],
): Promise<number> {
  const in_ = (n: number) => Array.from({ length: n }, () => "?").join(", ");
  const statements = [
    // `+tenant_id` and the conversation the row named are checked on the rows found by id, never
    // used as an index (which would walk every message row of the tenant instead of the chunk's).
    ...groups(messages, MESSAGES_PER_STATEMENT).map((g) =>
      db
        .prepare(
          `DELETE FROM messages WHERE id IN (${in_(g.length)}) AND +tenant_id = ?
              AND (id || char(31) || account_id || char(31) || ${CUSTOMER}) IN (${in_(g.length)})`,
        )
        .bind(
          ...g.map((m) => m.id),
          tenantId,
          ...g.map((m) => `${m.id}\u001f${m.accountId}\u001f${m.customerId}`),
        ),
    ),
    ...groups(approvalIds).map((g) =>
      db
        .prepare(`DELETE FROM approvals WHERE id IN (${in_(g.length)}) AND tenant_id = ?`)
        .bind(...g, tenantId),
    ),
  ];
  if (statements.length === 0) return 0;
  const results = await db.batch(statements);
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}

/**
 * The tenant's tables that grow with its traffic (besides messages and approvals, which name
 * conversations): emptied chunk by chunk before the final batch, each through its tenant index.
 * The ledger goes before its lots (their foreign key is checked through credit_ledger_lot).
 */
const GROWING_TABLES = [
  "discord_relays",
  "conversation_states",
  "email_aliases",
  "email_automatic_claims",
  "email_forward_sends",
  "credit_ledger",
] as const;

/**
 * One chunk of the tenant's growing tables (GROWING_TABLES): up to `limit` rows of each, one
 * batch. Returns the rows deleted; 0 means none is left.
 */
export async function deleteTenantRowsChunk(
  db: D1Database,
  tenantId: string,
  limit: number,
): Promise<number> {
  const results = await db.batch(
    GROWING_TABLES.map((t) =>
      db
        .prepare(`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE tenant_id = ? LIMIT ?)`)
        .bind(tenantId, limit),
    ),
  );
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}

/** What is left of a tenant being deleted, for the operator: rows counted up to a cap. */
export type TenantDeletionProgress = {
  /** Its data keys are gone: nothing sealed for it can be read. */
  keysDestroyed: boolean;
  messages: number;
  approvals: number;
  /** Rows of GROWING_TABLES. */
  other: number;
  /** A count reached the cap: there are at least this many. */
  capped: boolean;
};

/**
 * What remains of a tenant's deletion: each count reads at most `cap` index entries, so the
 * operator's page stays cheap for a tenant of any size.
 */
export async function tenantDeletionProgress(
  db: D1Database,
  tenantId: string,
  cap = 100_000,
): Promise<TenantDeletionProgress> {
  const counted = (t: string) => `(SELECT count(*) FROM (SELECT 1 FROM ${t} WHERE tenant_id = ?1 LIMIT ?2))`;
  const r = (await db
    .prepare(
      `SELECT (SELECT count(*) FROM tenant_keys WHERE tenant_id = ?1) AS keys,
              ${counted("messages")} AS messages, ${counted("approvals")} AS approvals,
              ${GROWING_TABLES.map(counted).join(" + ")} AS other`,
    )
    .bind(tenantId, cap)
    .first<{ keys: number; messages: number; approvals: number; other: number }>())!;
  return {
    keysDestroyed: r.keys === 0,
    messages: r.messages,
    approvals: r.approvals,
    other: r.other,
    capped: r.messages >= cap || r.approvals >= cap || r.other >= cap,
  };
}

/**
 * Rows left of the accounts a data deletion request deletes (their message rows and approvals),
 * each count read through the account's index and capped: the request's status page says how
 * much remains instead of "done".
 */
export async function accountRowsLeft(
  db: D1Database,
  accounts: { tenantId: string; accountId: string }[],
  cap = 100_000,
): Promise<number> {
  if (accounts.length === 0) return 0;
  const results = await db.batch<{ n: number }>(
    accounts.map((a) =>
      db
        .prepare(
          `SELECT (SELECT count(*) FROM (SELECT 1 FROM messages WHERE account_id = ?1 AND tenant_id = ?2 LIMIT ?3))
                + (SELECT count(*) FROM (SELECT 1 FROM approvals WHERE tenant_id = ?2 AND account_id = ?1 LIMIT ?3)) AS n`,
        )
        .bind(a.accountId, a.tenantId, cap),
    ),
  );
  return results.reduce((n, r) => n + (r.results[0]?.n ?? 0), 0);
}

/**
 * Every remaining row of the tenant, in every table, children before parents (so nothing relies
 * on cascades): one batch, so it happens entirely or not at all. Run last, once the chunks have
 * emptied the tables that grow (tenantThreadRows, deleteTenantRowsChunk), so each statement here
 * deletes few rows and the batch stays well inside D1's time limit.
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
  // The per-day counts the insights read (migrations/0029), by primary key: derived from the rows
  // below, so not counted among the rows deleted either.
  const counters = [
    db.prepare("DELETE FROM message_days WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM credit_days WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM insight_days WHERE tenant_id = ?").bind(tenantId),
  ];
  const statements = [
    ...holds,
    ...counters,
    db.prepare("DELETE FROM sessions WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM users WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM approvals WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM discord_relays WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM conversation_states WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM notification_batches WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM stuck_alarms WHERE tenant_id = ?").bind(tenantId),
    // Delivery statuses still waiting for their row (migration 0037): ids and codes only.
    db.prepare("DELETE FROM early_statuses WHERE tenant_id = ?").bind(tenantId),
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
    // Crypto-shredding ran first (destroyTenantKeys); again here for a deletion that began before it did.
    db.prepare("DELETE FROM tenant_keys WHERE tenant_id = ?").bind(tenantId),
    db.prepare("DELETE FROM tenants WHERE id = ?").bind(tenantId),
  ];
  const results = await db.batch(statements);
  return {
    rows: results.slice(holds.length + counters.length).reduce((n, r) => n + (r.meta.changes ?? 0), 0),
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
 * Every tenant deletion not finished yet (tenants.deleting_at set), oldest first, for the
 * operator's health page: one that stays here long after it began is stuck.
 */
export async function listUnfinishedDeletions(
  db: D1Database,
  limit: number,
): Promise<{ tenantId: string; deletingAt: number }[]> {
  const { results } = await db
    .prepare(
      "SELECT id AS tenantId, deleting_at AS deletingAt FROM tenants WHERE deleting_at IS NOT NULL ORDER BY deleting_at LIMIT ?",
    )
    .bind(limit)
    .all<{ tenantId: string; deletingAt: number }>();
  return results;
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
    db
      .prepare("DELETE FROM conversation_states WHERE account_id = ? AND tenant_id = ?")
      .bind(accountId, tenantId),
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
