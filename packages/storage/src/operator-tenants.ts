/**
 * The operator panel's tenant reads (search, list, the tenant page) and the tenant-level writes
 * the pipeline's OperatorEntrypoint batches with their audit row. Metadata only.
 */
import type { Currency, PaymentRecord } from "@concierge/core";
import { listPayments } from "./billing.ts";
import { type ConnectedAccount, listConnectedAccounts } from "./channel-connections.ts";
import { type CreditLot, type LedgerEntry, listCreditLots, listLedgerPage } from "./credit-history.ts";
import { creditBalance } from "./credits.ts";
import { ofTenant } from "./message-accounts.ts";
import {
  type AccountActivity,
  type Health,
  type Insights,
  accountHealth,
  listAccountActivity,
  tenantInsights,
} from "./insights.ts";

export type TenantStatus = "active" | "suspended";

export type TenantListRow = {
  id: string;
  name: string;
  status: TenantStatus;
  /** Credits spendable now. */
  balance: number;
  /** The newest message (either way), null when none. */
  lastActivityAt: number | null;
  createdAt: number;
};

export type TenantSearch = {
  /** The tenant id, a user's email, a phone number (6 or more digits, typed in any format), a
   * channel's external id, an email subdomain (label or full domain), or the start of the
   * tenant's name (any ASCII case). */
  q?: string | null;
  status?: TenantStatus | null;
  /** `next` of the previous page. */
  cursor?: string | null;
  limit?: number;
  now?: number;
};

/** How many tenants a name prefix reads at most (in name order) before the newest-first sort. */
export const NAME_MATCH_LIMIT = 200;

/** The fewest digits searched as a phone number: fewer would match unrelated numbers. */
const MIN_PHONE_DIGITS = 6;

const CHANNELS = "('whatsapp', 'instagram', 'email', 'discord')";

/** The columns of a list row; `t` is the tenant. */
const LIST_COLUMNS = `t.id, t.name, t.status, t.created_at AS createdAt,
  (SELECT COALESCE(SUM(l.remaining), 0) FROM credit_lots l
    WHERE l.tenant_id = t.id AND l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > ?)) AS balance,
  (SELECT MAX(m.created_at) FROM messages m WHERE ${ofTenant("m", "t.id")}) AS lastActivityAt`;

/**
 * One page of tenants, newest first, with status, balance and last activity. Without `q` it walks
 * the tenants_created index. With `q`, every way of naming a tenant is an index lookup and
 * nothing reads the whole table: the exact keys (tenant id, a user's email, a phone number's
 * digits, a channel's external id, an email subdomain) each find a few tenants, and the name is
 * a prefix, an index range read in name order and cut at NAME_MATCH_LIMIT (`nameMatchesCapped`
 * says so: the operator types more of the name). The matches are then sorted newest first and
 * paginated like the list.
 */
export async function searchTenants(
  db: D1Database,
  search: TenantSearch = {},
): Promise<{ tenants: TenantListRow[]; next: string | null; nameMatchesCapped: boolean }> {
  const limit = Math.min(Math.max(search.limit ?? 25, 1), 100);
  const now = search.now ?? Date.now();
  const cursor = parseCursor(search.cursor);
  const where: string[] = ["(t.created_at, t.id) < (?, ?)"];
  const binds: unknown[] = [cursor.at, cursor.id];
  if (search.status) {
    where.push("t.status = ?");
    binds.push(search.status);
  }
  const q = search.q?.trim() ?? "";
  if (!q) {
    const { results } = await db
      .prepare(
        `SELECT ${LIST_COLUMNS} FROM tenants t
          WHERE ${where.join(" AND ")} ORDER BY t.created_at DESC, t.id DESC LIMIT ?`,
      )
      .bind(now, ...binds, limit + 1)
      .all<TenantListRow>();
    return { ...page(results, limit), nameMatchesCapped: false };
  }
  const lower = q.toLowerCase();
  // A phone number is typed with or without its +, spaces, dashes or brackets.
  const digits = q.replace(/\D/g, "");
  const phone = digits.length >= MIN_PHONE_DIGITS ? digits : null;
  // The name prefix: lower(name) from lower(q) up to (not including) lower(q) followed by the
  // highest code point, the range of the tenants_name expression index. lower() on both sides:
  // SQLite's lower() folds ASCII only, and so must the bound.
  const byName = (limit: number) =>
    `SELECT id FROM tenants WHERE lower(name) >= lower(?) AND lower(name) < lower(?) || char(1114111)
      ORDER BY lower(name) LIMIT ${limit}`;
  const [capped, found] = await db.batch([
    // One more than is used: whether there were more than NAME_MATCH_LIMIT.
    db.prepare(`SELECT COUNT(*) AS n FROM (${byName(NAME_MATCH_LIMIT + 1)})`).bind(q, q),
    db
      .prepare(
        // Five terms: D1 allows no more in one compound SELECT.
        `SELECT ${LIST_COLUMNS} FROM tenants t
          WHERE t.id IN (
                  SELECT id FROM tenants WHERE id = ?
                  UNION SELECT tenant_id FROM users WHERE lower(email) = ?
                  UNION SELECT tenant_id FROM channel_accounts
                         WHERE phone_digits = ? OR (channel IN ${CHANNELS} AND external_id = ?)
                  UNION SELECT tenant_id FROM email_subdomains WHERE name = ? OR domain = ?
                  UNION SELECT id FROM (${byName(NAME_MATCH_LIMIT)}))
            AND ${where.join(" AND ")}
          ORDER BY t.created_at DESC, t.id DESC LIMIT ?`,
      )
      .bind(now, q, lower, phone, q, lower, lower, q, q, ...binds, limit + 1),
  ]);
  const n = (capped?.results[0] as { n: number } | undefined)?.n ?? 0;
  return {
    ...page((found?.results ?? []) as TenantListRow[], limit),
    nameMatchesCapped: n > NAME_MATCH_LIMIT,
  };
}

function page(results: TenantListRow[], limit: number): { tenants: TenantListRow[]; next: string | null } {
  const tenants = results.slice(0, limit);
  const last = tenants[tenants.length - 1];
  return { tenants, next: results.length > limit && last ? `${last.createdAt}~${last.id}` : null };
}

/** `<created_at>~<id>`; anything else is the first page. */
function parseCursor(raw: string | null | undefined): { at: number; id: string } {
  const m = raw ? /^(\d{1,15})~([A-Za-z0-9_-]{1,80})$/.exec(raw) : null;
  return m ? { at: Number(m[1]), id: m[2]! } : { at: Number.MAX_SAFE_INTEGER, id: "\u{10FFFF}" };
}

export type OperatorTenantRow = {
  id: string;
  name: string;
  locale: string;
  currency: Currency;
  status: TenantStatus;
  suspendedReason: string | null;
  suspendedAt: number | null;
  /** When a deletion began that has not finished (the operator deletes again to finish it). */
  deletingAt: number | null;
  emailSubdomainQuota: number;
  createdAt: number;
};

export type OperatorTenantUser = {
  id: string;
  provider: "google" | "facebook" | "dev";
  email: string | null;
  name: string | null;
  createdAt: number;
};

export type OperatorOrder = {
  id: string;
  packId: string;
  credits: number;
  amount: number;
  currency: Currency;
  status: "created" | "paid" | "failed";
  createdAt: number;
};

export type OperatorChannel = ConnectedAccount & {
  activity: AccountActivity | null;
  health: Health;
};

export type TenantOverview = {
  tenant: OperatorTenantRow;
  channels: OperatorChannel[];
  users: OperatorTenantUser[];
  balance: number;
  lots: CreditLot[];
  /** The newest page of the ledger; `next` is the cursor of the page before it, null when none. */
  ledger: { entries: LedgerEntry[]; next: number | null };
  orders: OperatorOrder[];
  payments: PaymentRecord[];
  /** The tenant's last 30 local days: messages received per channel, replies, credits used. */
  usage: Insights;
};

/** The tenant row as the operator sees it; null when there is no such tenant. */
export async function getOperatorTenant(db: D1Database, tenantId: string): Promise<OperatorTenantRow | null> {
  return db
    .prepare(
      `SELECT id, name, locale, currency, status, suspended_reason AS suspendedReason,
              suspended_at AS suspendedAt, deleting_at AS deletingAt,
              email_subdomain_quota AS emailSubdomainQuota, created_at AS createdAt
         FROM tenants WHERE id = ?`,
    )
    .bind(tenantId)
    .first<OperatorTenantRow>();
}

/** The tenant's people who sign in, oldest first. */
export async function listTenantUsers(db: D1Database, tenantId: string): Promise<OperatorTenantUser[]> {
  const { results } = await db
    .prepare(
      `SELECT id, provider, email, name, created_at AS createdAt
         FROM users WHERE tenant_id = ? ORDER BY created_at, id LIMIT 100`,
    )
    .bind(tenantId)
    .all<OperatorTenantUser>();
  return results;
}

/** The tenant's newest orders (a past order keeps the credits and amount it was created with). */
export async function listRecentOrders(
  db: D1Database,
  tenantId: string,
  limit = 20,
): Promise<OperatorOrder[]> {
  const { results } = await db
    .prepare(
      `SELECT id, pack_id AS packId, credits, amount, currency, status, created_at AS createdAt
         FROM orders WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(tenantId, limit)
    .all<OperatorOrder>();
  return results;
}

/** Everything the operator's tenant page shows; null when there is no such tenant. */
export async function getTenantOverview(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<TenantOverview | null> {
  const tenant = await getOperatorTenant(db, tenantId);
  if (!tenant) return null;
  const [accounts, activity, users, balance, lots, ledger, orders, payments, usage] = await Promise.all([
    listConnectedAccounts(db, tenantId),
    listAccountActivity(db, tenantId, now),
    listTenantUsers(db, tenantId),
    creditBalance(db, tenantId, now),
    listCreditLots(db, tenantId, 20),
    listLedgerPage(db, tenantId, { limit: 20 }),
    listRecentOrders(db, tenantId, 20),
    listPayments(db, tenantId, { limit: 20 }),
    tenantInsights(db, tenantId, now),
  ]);
  const byId = new Map(activity.map((a) => [a.id, a]));
  const channels = accounts.map((a) => {
    const act = byId.get(a.id) ?? null;
    // No activity row yet (connected after it was read): as new as an account gets.
    const health: Health = act
      ? accountHealth(act, now)
      : a.status === "active"
        ? { level: "ok", reason: "no_messages" }
        : { level: "danger", reason: "disabled" };
    return { ...a, activity: act, health };
  });
  return {
    tenant,
    channels,
    users,
    balance,
    lots,
    ledger,
    orders,
    payments: payments.payments,
    usage,
  };
}

/**
 * Suspends an active tenant with the operator's reason; nothing when it is suspended already
 * (the first reason stands) or unknown. Batched with its audit row.
 */
export function suspendTenantStatement(
  db: D1Database,
  tenantId: string,
  reason: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE tenants SET status = 'suspended', suspended_reason = ?, suspended_at = ?
        WHERE id = ? AND status = 'active'`,
    )
    .bind(reason, now, tenantId);
}

/** Reactivates a suspended tenant and forgets why it was suspended; nothing when it is active. */
export function reactivateTenantStatement(db: D1Database, tenantId: string): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE tenants SET status = 'active', suspended_reason = NULL, suspended_at = NULL
        WHERE id = ? AND status = 'suspended'`,
    )
    .bind(tenantId);
}

/**
 * Sets how many email subdomains the tenant may have. Lowering it below what the tenant has
 * removes none: the insert enforces the quota on the next subdomain only. The quota it has
 * already changes no row, so a repeated save records nothing.
 */
export function setEmailSubdomainQuotaStatement(
  db: D1Database,
  tenantId: string,
  quota: number,
): D1PreparedStatement {
  return db
    .prepare("UPDATE tenants SET email_subdomain_quota = ? WHERE id = ? AND email_subdomain_quota <> ?")
    .bind(quota, tenantId, quota);
}
