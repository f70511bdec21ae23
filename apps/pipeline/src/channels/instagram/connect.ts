import {
  AppError,
  type ConnectedInstagram,
  type ConnectInstagramInput,
  ConnectInstagramSchema,
  createLogger,
  errorBody,
  errorFields,
} from "@concierge/core";
import { hmacSha256Hex, utf8 } from "@concierge/crypto";
import {
  createChannelAccount,
  deleteChannelAccount,
  findIngestTarget,
  setChannelAccountDisplayName,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../../config/config-cache.ts";
import type { PipelineEnv } from "../../env.ts";
import {
  getPageToken,
  getUserToken,
  listPageTokensExpiringBefore,
  markPageTokenDead,
  pageOwner,
  savePageToken,
} from "./page-tokens.ts";

/**
 * Instagram accounts connected through Facebook Login (Instagram API with Facebook Login /
 * Messenger API support for Instagram). The dashboard runs the login and lets the person pick a
 * page; the tokens are sealed here because only the pipeline holds the tenant's data key.
 *
 * `channel_accounts.external_id` of an Instagram account is the **Instagram professional account
 * id** (`instagram_business_account.id`): Instagram webhooks name it as `entry[].id` and as
 * `recipient.id`, so ingest finds the account without a second lookup. The page id lives in
 * `channel_tokens.page_id` (unique: one page, one tenant), where the send path finds it.
 */

const log = createLogger("pipeline");

type RpcError = { ok: false; error: { code: string; message: string } };

/** The webhook fields a connected page is subscribed to (Messenger API support for Instagram). */
export const PAGE_SUBSCRIBED_FIELDS = "messages,messaging_postbacks,message_echoes,message_reactions";

/** The permission without which an Instagram page token cannot send or receive messages. */
const MESSAGING_SCOPE = "instagram_manage_messages";

/** The daily cron (apps/pipeline/wrangler.jsonc) that refreshes page tokens. */
export const INSTAGRAM_TOKEN_CRON = "17 3 * * *";

/** Tokens expiring within this window are refreshed by the daily cron. */
export const REFRESH_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

// ---- Graph calls ----

/** GET /debug_token: `data` as documented (times are Unix seconds; 0 means never). */
const DebugTokenSchema = v.object({
  data: v.object({
    is_valid: v.boolean(),
    expires_at: v.optional(v.number()),
    data_access_expires_at: v.optional(v.number()),
    scopes: v.optional(v.array(v.string())),
    error: v.optional(v.object({ code: v.optional(v.number()), subcode: v.optional(v.number()) })),
  }),
});

const GraphErrorSchema = v.object({
  error: v.object({ code: v.optional(v.number()), error_subcode: v.optional(v.number()) }),
});

/** Graph's "invalid OAuth access token" code. */
const INVALID_TOKEN = 190;

type TokenCheck =
  | { kind: "valid"; expiresAt: number | null }
  | { kind: "dead"; reason: string }
  | { kind: "unavailable" };

/** A short reason code for a dead token, from Graph's (sub)code; never Meta's text. */
function deadReason(code: number | undefined, subcode: number | undefined): string {
  if (subcode === 463 || subcode === 467) return subcode === 463 ? "expired" : "invalid";
  // 458: the person removed the app; 460: password changed; 464: unconfirmed user; 492: no page role.
  if (subcode === 458 || subcode === 460 || subcode === 464 || subcode === 492) return "revoked";
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) return "permissions";
  return "invalid";
}

/** The earliest of the token's expiry and its data access expiry, in ms; null when neither. */
function expiryOf(data: { expires_at?: number; data_access_expires_at?: number }): number | null {
  const times = [data.expires_at, data.data_access_expires_at].filter(
    (t): t is number => typeof t === "number" && t > 0,
  );
  return times.length ? Math.min(...times) * 1000 : null;
}

const graphBase = (env: PipelineEnv) => env.META_GRAPH_BASE_URL.replace(/\/$/, "");

/** Inspects a token with the app access token (`{app-id}|{app-secret}`), as Graph documents. */
async function checkToken(env: PipelineEnv, token: string): Promise<TokenCheck> {
  const url = new URL(`${graphBase(env)}/debug_token`);
  url.search = new URLSearchParams({
    input_token: token,
    access_token: `${env.FACEBOOK_APP_ID}|${env.META_APP_SECRET}`,
  }).toString();
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    log.warn("instagram.debug_token_failed", errorFields(err));
    return { kind: "unavailable" };
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = v.safeParse(GraphErrorSchema, body);
    if (err.success && err.output.error.code === INVALID_TOKEN) {
      return { kind: "dead", reason: deadReason(err.output.error.code, err.output.error.error_subcode) };
    }
    log.warn("instagram.debug_token_refused", {
      status: res.status,
      graph_code: err.success ? (err.output.error.code ?? null) : null,
    });
    return { kind: "unavailable" };
  }
  const parsed = v.safeParse(DebugTokenSchema, body);
  if (!parsed.success) return { kind: "unavailable" };
  const data = parsed.output.data;
  if (!data.is_valid) return { kind: "dead", reason: deadReason(data.error?.code, data.error?.subcode) };
  if (data.scopes && !data.scopes.includes(MESSAGING_SCOPE)) return { kind: "dead", reason: "permissions" };
  return { kind: "valid", expiresAt: expiryOf(data) };
}

/** POST /{page-id}/subscribed_apps: the page's messaging webhooks reach the app. */
async function subscribePage(env: PipelineEnv, pageId: string, pageToken: string): Promise<boolean> {
  const url = new URL(`${graphBase(env)}/${pageId}/subscribed_apps`);
  url.searchParams.set("subscribed_fields", PAGE_SUBSCRIBED_FIELDS);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${pageToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => null)) as { success?: unknown } | null;
    if (res.ok && body?.success === true) return true;
    const err = v.safeParse(GraphErrorSchema, body);
    log.warn("instagram.subscribe_refused", {
      status: res.status,
      graph_code: err.success ? (err.output.error.code ?? null) : null,
    });
    return false;
  } catch (err) {
    log.warn("instagram.subscribe_failed", errorFields(err));
    return false;
  }
}

/**
 * DELETE /{page-id}/subscribed_apps with the page's token: the page's webhooks stop reaching the
 * app (the instagram_unsubscribe side effect of a deletion). Graph requires a page token for this
 * edge, so the handler runs while the sealed token can still be read (the deletion tries it before
 * the token row and the data key go). Idempotent: an unsubscribe Meta already did answers success
 * again; a token Meta calls invalid because the person removed the app (190/458) means the app has
 * no access to the page left, which is the goal. With no token left to ask with, the effect gives
 * up (permanent) and the operator sees it. Only `accountId`'s token is used: a page connected by
 * another account meanwhile is that account's, and its webhooks are left alone.
 */
export async function unsubscribePage(
  env: PipelineEnv,
  pageId: string,
  accountId: string,
): Promise<{ ok: true } | { ok: false; error: string; permanent?: boolean }> {
  const owner = await pageOwner(env, pageId);
  // Another account connected the page since (after this one's rows went): its subscription is
  // its own and stays; for the account being removed there is nothing left to undo.
  if (owner && owner.accountId !== accountId) return { ok: true };
  const token = owner ? await getPageToken(env, owner.tenantId, owner.accountId) : null;
  if (!token) return { ok: false, error: "no_page_token", permanent: true };
  let res: Response;
  try {
    res = await fetch(`${graphBase(env)}/${encodeURIComponent(pageId)}/subscribed_apps`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    log.warn("instagram.unsubscribe_failed", errorFields(err));
    return { ok: false, error: "unreachable" };
  }
  const body = (await res.json().catch(() => null)) as { success?: unknown } | null;
  if (res.ok && body?.success === true) return { ok: true };
  const err = v.safeParse(GraphErrorSchema, body);
  const code = err.success ? err.output.error.code : undefined;
  const subcode = err.success ? err.output.error.error_subcode : undefined;
  if (code === INVALID_TOKEN && subcode === 458) return { ok: true };
  if (code === INVALID_TOKEN) return { ok: false, error: "token_dead", permanent: true };
  return { ok: false, error: `http_${res.status}` };
}

const PageTokenSchema = v.object({ access_token: v.pipe(v.string(), v.minLength(1)) });

/** GET /{page-id}?fields=access_token with the long-lived user token: a fresh page token. */
async function derivePageToken(
  env: PipelineEnv,
  pageId: string,
  userToken: string,
): Promise<{ ok: true; token: string } | { ok: false; dead: string | null }> {
  const url = new URL(`${graphBase(env)}/${pageId}`);
  url.search = new URLSearchParams({
    fields: "access_token",
    appsecret_proof: await hmacSha256Hex(env.META_APP_SECRET, utf8(userToken)),
  }).toString();
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${userToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await res.json().catch(() => null);
    const page = v.safeParse(PageTokenSchema, body);
    if (res.ok && page.success) return { ok: true, token: page.output.access_token };
    const err = v.safeParse(GraphErrorSchema, body);
    if (err.success && err.output.error.code === INVALID_TOKEN) {
      return { ok: false, dead: deadReason(err.output.error.code, err.output.error.error_subcode) };
    }
    return { ok: false, dead: null };
  } catch (err) {
    log.warn("instagram.derive_failed", errorFields(err));
    return { ok: false, dead: null };
  }
}

// ---- connect ----

const TAKEN = "This Instagram account's Facebook Page is already connected to another business.";

/**
 * Connects an Instagram professional account (through its Facebook Page) to a tenant: one owner
 * per page and per Instagram account; the same tenant again replaces the token. Nothing is saved
 * unless Meta accepts the token and the webhook subscription.
 */
export async function connectInstagram(
  env: PipelineEnv,
  tenantId: string,
  raw: ConnectInstagramInput,
): Promise<({ ok: true } & ConnectedInstagram) | RpcError> {
  const parsed = v.safeParse(ConnectInstagramSchema, raw);
  if (!parsed.success) return errorBody("invalid_input", "Page, Instagram account and token are required.");
  const input = parsed.output;
  const owner = await pageOwner(env, input.pageId);
  if (owner && owner.tenantId !== tenantId) return errorBody("account_taken", TAKEN);
  const existing = await findIngestTarget(env.DB, "instagram", input.instagramId);
  if (existing && existing.tenantId !== tenantId) return errorBody("account_taken", TAKEN);

  const check = await checkToken(env, input.pageToken);
  if (check.kind === "dead") return errorBody("invalid_token", "Meta says this page token is not valid.");
  if (!(await subscribePage(env, input.pageId, input.pageToken))) {
    return errorBody("subscribe_failed", "Meta refused to subscribe the page to our webhooks.");
  }

  let accountId = existing?.id ?? null;
  let created = false;
  if (!accountId) {
    try {
      const account = await createChannelAccount(env.DB, {
        tenantId,
        channel: "instagram",
        externalId: input.instagramId,
        displayName: `@${input.username}`,
      });
      accountId = account.id;
      created = true;
    } catch (err) {
      if (!(err instanceof AppError && err.code === "account_taken")) throw err;
      // Lost a race: connected between the check and the insert.
      const winner = await findIngestTarget(env.DB, "instagram", input.instagramId);
      if (winner?.tenantId !== tenantId) return errorBody("account_taken", TAKEN);
      accountId = winner.id;
    }
  } else {
    await setChannelAccountDisplayName(env.DB, tenantId, accountId, `@${input.username}`);
  }
  try {
    await savePageToken(env, {
      accountId,
      tenantId,
      pageId: input.pageId,
      token: input.pageToken,
      expiresAt: check.kind === "valid" ? check.expiresAt : null,
      facebookUserId: input.facebookUserId ?? null,
      ...(input.userToken ? { userToken: input.userToken } : {}),
    });
  } catch (err) {
    // The page went to another tenant in between (channel_tokens.page_id is unique).
    if (String(err).includes("UNIQUE constraint failed")) {
      if (created) await deleteChannelAccount(env.DB, tenantId, accountId);
      return errorBody("account_taken", TAKEN);
    }
    throw err;
  }
  const caches = configCache(env);
  caches.ingestTargets.delete(`instagram:${input.instagramId}`);
  caches.replyConfigs.delete(accountId);
  log.info("instagram.connected", { tenant_id: tenantId, account_id: accountId, created });
  return { ok: true, accountId, created };
}

// ---- the daily refresh ----

export type RefreshSummary = { checked: number; refreshed: number; dead: number; skipped: number };

/**
 * Checks every live token expiring within REFRESH_WINDOW_MS: a token Meta calls invalid is marked
 * dead with a reason code (the dashboard asks for a reconnect); a valid one is re-derived from the
 * stored long-lived user token and saved with its new expiry. Graph being unreachable changes
 * nothing: tomorrow's run tries again. Tokens further from expiry are not touched.
 */
export async function refreshInstagramTokens(env: PipelineEnv, now = Date.now()): Promise<RefreshSummary> {
  const due = await listPageTokensExpiringBefore(env, now + REFRESH_WINDOW_MS);
  const summary: RefreshSummary = { checked: due.length, refreshed: 0, dead: 0, skipped: 0 };
  for (const row of due) {
    try {
      const outcome = await refreshOne(env, row);
      summary[outcome] += 1;
    } catch (err) {
      summary.skipped += 1;
      log.error("instagram.refresh_error", { account_id: row.accountId, ...errorFields(err) });
    }
  }
  log.info("instagram.refresh_done", summary);
  return summary;
}

async function refreshOne(
  env: PipelineEnv,
  row: { accountId: string; tenantId: string; pageId: string; expiresAt: number | null },
): Promise<"refreshed" | "dead" | "skipped"> {
  const token = await getPageToken(env, row.tenantId, row.accountId);
  if (!token) return "skipped";
  const current = await checkToken(env, token);
  if (current.kind === "unavailable") return "skipped";
  if (current.kind === "dead") {
    await markPageTokenDead(env, row.accountId, current.reason);
    log.info("instagram.token_dead", { account_id: row.accountId, reason: current.reason });
    return "dead";
  }
  const userToken = await getUserToken(env, row.tenantId, row.accountId);
  if (!userToken) {
    // Nothing to derive from: record what Meta says now; the dashboard shows the date.
    if (current.expiresAt !== row.expiresAt) {
      await savePageToken(env, { ...row, token, expiresAt: current.expiresAt });
    }
    return "skipped";
  }
  const derived = await derivePageToken(env, row.pageId, userToken);
  if (!derived.ok) {
    if (derived.dead) {
      await markPageTokenDead(env, row.accountId, derived.dead);
      return "dead";
    }
    return "skipped";
  }
  const fresh = await checkToken(env, derived.token);
  if (fresh.kind !== "valid") return "skipped";
  await savePageToken(env, { ...row, token: derived.token, expiresAt: fresh.expiresAt });
  log.info("instagram.token_refreshed", { account_id: row.accountId });
  return "refreshed";
}
