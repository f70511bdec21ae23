/**
 * Instagram page access tokens (`channel_tokens`), one row per connected account. Only sealed
 * values are stored: the caller seals with the tenant's data key (the associated data names the
 * account, so a sealed token copied onto another row does not open) and opens what it reads.
 */

export type ChannelTokenRow = {
  accountId: string;
  pageId: string;
  tenantId: string;
  /** Null: the token does not expire. */
  expiresAt: number | null;
  status: "ok" | "dead";
  deadReason: string | null;
  facebookUserId: string | null;
  refreshedAt: number;
};

/** A dead token's reason is a short code, never provider text; longer input is cut to this. */
export const DEAD_REASON_MAX = 64;

/**
 * Stores (or replaces) an account's sealed page token and marks it alive again. A null
 * `sealedUserToken` or `facebookUserId` keeps the one stored, if any. One page belongs to one
 * tenant: a page already stored on another account fails on the UNIQUE page_id index
 * (`UNIQUE constraint failed`), which the caller turns into "taken".
 */
export async function saveChannelToken(
  db: D1Database,
  t: {
    accountId: string;
    tenantId: string;
    pageId: string;
    sealedToken: string;
    sealedUserToken: string | null;
    expiresAt: number | null;
    facebookUserId: string | null;
  },
  now = Date.now(),
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO channel_tokens (account_id, tenant_id, page_id, sealed_token, sealed_user_token, expires_at, status, dead_reason, facebook_user_id, refreshed_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET page_id = excluded.page_id, sealed_token = excluded.sealed_token,
         sealed_user_token = COALESCE(excluded.sealed_user_token, channel_tokens.sealed_user_token), expires_at = excluded.expires_at,
         status = 'ok', dead_reason = NULL, facebook_user_id = COALESCE(excluded.facebook_user_id, channel_tokens.facebook_user_id),
         refreshed_at = excluded.refreshed_at, updated_at = excluded.updated_at`,
    )
    .bind(
      t.accountId,
      t.tenantId,
      t.pageId,
      t.sealedToken,
      t.sealedUserToken,
      t.expiresAt,
      t.facebookUserId,
      now,
      now,
    )
    .run();
}

/**
 * The account's sealed page token with its page and state, when the account is the tenant's;
 * null when there is none (the caller treats a dead one as missing).
 */
export async function getSealedPageToken(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<{ pageId: string; sealed: string; status: "ok" | "dead" } | null> {
  return db
    .prepare(
      "SELECT page_id AS pageId, sealed_token AS sealed, status FROM channel_tokens WHERE account_id = ? AND tenant_id = ?",
    )
    .bind(accountId, tenantId)
    .first<{ pageId: string; sealed: string; status: "ok" | "dead" }>();
}

/** The sealed long-lived user token kept for the refresh; null when none was kept. */
export async function getSealedUserToken(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<string | null> {
  const row = await db
    .prepare("SELECT sealed_user_token AS sealed FROM channel_tokens WHERE account_id = ? AND tenant_id = ?")
    .bind(accountId, tenantId)
    .first<{ sealed: string | null }>();
  return row?.sealed ?? null;
}

/** Forgets an account's tokens (the account is being disconnected); another tenant's stay. */
export async function deleteChannelToken(db: D1Database, tenantId: string, accountId: string): Promise<void> {
  await db
    .prepare("DELETE FROM channel_tokens WHERE account_id = ? AND tenant_id = ?")
    .bind(accountId, tenantId)
    .run();
}

/** Marks a token dead with a short reason code (cut to DEAD_REASON_MAX); the dashboard shows it. */
export async function markChannelTokenDead(
  db: D1Database,
  accountId: string,
  reason: string,
  now = Date.now(),
): Promise<void> {
  await db
    .prepare(
      "UPDATE channel_tokens SET status = 'dead', dead_reason = ?, updated_at = ? WHERE account_id = ?",
    )
    .bind(reason.slice(0, DEAD_REASON_MAX), now, accountId)
    .run();
}

/**
 * Alive tokens that expire before `before`: the daily refresh's work list. Bounded by the
 * `channel_tokens_expiry (status, expires_at)` index.
 */
export async function listChannelTokensExpiringBefore(
  db: D1Database,
  before: number,
): Promise<ChannelTokenRow[]> {
  const { results } = await db
    .prepare(
      `SELECT account_id AS accountId, page_id AS pageId, tenant_id AS tenantId, expires_at AS expiresAt, status, dead_reason AS deadReason,
              facebook_user_id AS facebookUserId, refreshed_at AS refreshedAt
         FROM channel_tokens WHERE status = 'ok' AND expires_at IS NOT NULL AND expires_at < ?`,
    )
    .bind(before)
    .all<ChannelTokenRow>();
  return results;
}

/** Which tenant a Facebook Page is connected to, if any: one page, one tenant (UNIQUE page_id). */
export async function channelTokenPageOwner(
  db: D1Database,
  pageId: string,
): Promise<{ tenantId: string; accountId: string } | null> {
  return db
    .prepare("SELECT tenant_id AS tenantId, account_id AS accountId FROM channel_tokens WHERE page_id = ?")
    .bind(pageId)
    .first<{ tenantId: string; accountId: string }>();
}
