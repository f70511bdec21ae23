import { encryptString } from "@concierge/crypto";
import { openSealed, tenantKey } from "./keys.ts";

/**
 * Instagram page access tokens, sealed with the tenant's data key in D1 (`channel_tokens`). The
 * associated data names the account, so a sealed token copied onto another row does not open.
 */
type TokenEnv = { DB: D1Database; ENCRYPTION_KEY: string };

const aad = (accountId: string) => `page-token:${accountId}`;
const userAad = (accountId: string) => `user-token:${accountId}`;

export type PageTokenRow = {
  accountId: string;
  pageId: string;
  tenantId: string;
  expiresAt: number | null;
  status: "ok" | "dead";
  deadReason: string | null;
  facebookUserId: string | null;
  refreshedAt: number;
};

/** Stores (or replaces) an account's page token, sealed; marks it alive again. */
export async function savePageToken(
  env: TokenEnv,
  p: {
    accountId: string;
    tenantId: string;
    pageId: string;
    token: string;
    expiresAt: number | null;
    facebookUserId?: string | null;
    /**
     * The long-lived user token the page token was derived from, kept (sealed) so the daily cron
     * can derive a fresh page token; undefined keeps the one stored, if any.
     */
    userToken?: string;
  },
): Promise<void> {
  const key = await tenantKey(env, p.tenantId);
  const sealed = await encryptString(key.key, key.version, p.token, aad(p.accountId));
  const sealedUser =
    p.userToken === undefined
      ? null
      : await encryptString(key.key, key.version, p.userToken, userAad(p.accountId));
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO channel_tokens (account_id, tenant_id, page_id, sealed_token, sealed_user_token, expires_at, status, dead_reason, facebook_user_id, refreshed_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL, ?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET page_id = excluded.page_id, sealed_token = excluded.sealed_token,
       sealed_user_token = COALESCE(excluded.sealed_user_token, channel_tokens.sealed_user_token), expires_at = excluded.expires_at,
       status = 'ok', dead_reason = NULL, facebook_user_id = COALESCE(excluded.facebook_user_id, channel_tokens.facebook_user_id),
       refreshed_at = excluded.refreshed_at, updated_at = excluded.updated_at`,
  )
    .bind(
      p.accountId,
      p.tenantId,
      p.pageId,
      sealed,
      sealedUser,
      p.expiresAt,
      p.facebookUserId ?? null,
      now,
      now,
    )
    .run();
}

/** The stored long-lived user token in clear (for the refresh), or null when none was kept. */
export async function getUserToken(
  env: TokenEnv,
  tenantId: string,
  accountId: string,
): Promise<string | null> {
  const row = await env.DB.prepare(
    "SELECT sealed_user_token AS sealed FROM channel_tokens WHERE account_id = ? AND tenant_id = ?",
  )
    .bind(accountId, tenantId)
    .first<{ sealed: string | null }>();
  if (!row?.sealed) return null;
  return openSealed(env, tenantId, row.sealed, userAad(accountId));
}

/** Forgets an account's tokens (the account is being disconnected). */
export async function deletePageToken(env: TokenEnv, tenantId: string, accountId: string): Promise<void> {
  await env.DB.prepare("DELETE FROM channel_tokens WHERE account_id = ? AND tenant_id = ?")
    .bind(accountId, tenantId)
    .run();
}

/** The account's page token in clear, for one Graph call; null when missing or dead. */
export async function getPageToken(
  env: TokenEnv,
  tenantId: string,
  accountId: string,
): Promise<string | null> {
  const row = await env.DB.prepare(
    "SELECT sealed_token AS sealed, status FROM channel_tokens WHERE account_id = ? AND tenant_id = ?",
  )
    .bind(accountId, tenantId)
    .first<{ sealed: string; status: string }>();
  if (row?.status !== "ok") return null;
  return openSealed(env, tenantId, row.sealed, aad(accountId));
}

/** Marks a token dead with a short reason code (never provider text); the dashboard shows it. */
export async function markPageTokenDead(env: TokenEnv, accountId: string, reason: string): Promise<void> {
  await env.DB.prepare(
    "UPDATE channel_tokens SET status = 'dead', dead_reason = ?, updated_at = ? WHERE account_id = ?",
  )
    .bind(reason.slice(0, 64), Date.now(), accountId)
    .run();
}

/** Tokens that expire before `before` and are still alive: the daily refresh's work list. */
export async function listPageTokensExpiringBefore(env: TokenEnv, before: number): Promise<PageTokenRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT account_id AS accountId, page_id AS pageId, tenant_id AS tenantId, expires_at AS expiresAt, status, dead_reason AS deadReason,
            facebook_user_id AS facebookUserId, refreshed_at AS refreshedAt
       FROM channel_tokens WHERE status = 'ok' AND expires_at IS NOT NULL AND expires_at < ?`,
  )
    .bind(before)
    .all<PageTokenRow>();
  return results;
}

/** Which tenant a Facebook Page is connected to, if any: one page, one tenant. */
export async function pageOwner(
  env: TokenEnv,
  pageId: string,
): Promise<{ tenantId: string; accountId: string } | null> {
  return env.DB.prepare(
    "SELECT tenant_id AS tenantId, account_id AS accountId FROM channel_tokens WHERE page_id = ?",
  )
    .bind(pageId)
    .first<{ tenantId: string; accountId: string }>();
}

/**
 * What the Instagram send path needs for one Graph call: the linked page (the Send API posts to
 * `/{page-id}/messages`) and its token in clear; null when missing or dead.
 */
export async function getPageSender(
  env: TokenEnv,
  tenantId: string,
  accountId: string,
): Promise<{ pageId: string; token: string } | null> {
  const row = await env.DB.prepare(
    "SELECT page_id AS pageId, sealed_token AS sealed, status FROM channel_tokens WHERE account_id = ? AND tenant_id = ?",
  )
    .bind(accountId, tenantId)
    .first<{ pageId: string; sealed: string; status: string }>();
  if (row?.status !== "ok") return null;
  return { pageId: row.pageId, token: await openSealed(env, tenantId, row.sealed, aad(accountId)) };
}
