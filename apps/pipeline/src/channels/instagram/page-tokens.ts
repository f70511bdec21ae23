import { encryptString } from "@concierge/crypto";
import {
  type ChannelTokenRow,
  channelTokenPageOwner,
  deleteChannelToken,
  getSealedPageToken,
  getSealedUserToken,
  listChannelTokensExpiringBefore,
  markChannelTokenDead,
  saveChannelToken,
} from "@concierge/storage";
import { openSealed, tenantKey } from "../../tenants/keys.ts";

/**
 * Instagram page access tokens, sealed with the tenant's data key in D1 (`channel_tokens`). The
 * associated data names the account, so a sealed token copied onto another row does not open.
 */
type TokenEnv = { DB: D1Database; ENCRYPTION_KEY: string };

const aad = (accountId: string) => `page-token:${accountId}`;
const userAad = (accountId: string) => `user-token:${accountId}`;

export type PageTokenRow = ChannelTokenRow;

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
  await saveChannelToken(env.DB, {
    accountId: p.accountId,
    tenantId: p.tenantId,
    pageId: p.pageId,
    sealedToken: sealed,
    sealedUserToken: sealedUser,
    expiresAt: p.expiresAt,
    facebookUserId: p.facebookUserId ?? null,
  });
}

/** The stored long-lived user token in clear (for the refresh), or null when none was kept. */
export async function getUserToken(
  env: TokenEnv,
  tenantId: string,
  accountId: string,
): Promise<string | null> {
  const sealed = await getSealedUserToken(env.DB, tenantId, accountId);
  if (!sealed) return null;
  return openSealed(env, tenantId, sealed, userAad(accountId));
}

/** Forgets an account's tokens (the account is being disconnected). */
export async function deletePageToken(env: TokenEnv, tenantId: string, accountId: string): Promise<void> {
  await deleteChannelToken(env.DB, tenantId, accountId);
}

/** The account's page token in clear, for one Graph call; null when missing or dead. */
export async function getPageToken(
  env: TokenEnv,
  tenantId: string,
  accountId: string,
): Promise<string | null> {
  const row = await getSealedPageToken(env.DB, tenantId, accountId);
  if (row?.status !== "ok") return null;
  return openSealed(env, tenantId, row.sealed, aad(accountId));
}

/** Marks a token dead with a short reason code (never provider text); the dashboard shows it. */
export async function markPageTokenDead(env: TokenEnv, accountId: string, reason: string): Promise<void> {
  await markChannelTokenDead(env.DB, accountId, reason);
}

/** Tokens that expire before `before` and are still alive: the daily refresh's work list. */
export async function listPageTokensExpiringBefore(env: TokenEnv, before: number): Promise<PageTokenRow[]> {
  return listChannelTokensExpiringBefore(env.DB, before);
}

/** Which tenant a Facebook Page is connected to, if any: one page, one tenant. */
export async function pageOwner(
  env: TokenEnv,
  pageId: string,
): Promise<{ tenantId: string; accountId: string } | null> {
  return channelTokenPageOwner(env.DB, pageId);
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
  const row = await getSealedPageToken(env.DB, tenantId, accountId);
  if (row?.status !== "ok") return null;
  return { pageId: row.pageId, token: await openSealed(env, tenantId, row.sealed, aad(accountId)) };
}
