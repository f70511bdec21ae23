import type { Channel } from "@concierge/core";
import { recordSideEffectStatement } from "./side-effects.ts";

/** Why the last self-test did not complete; shown to the tenant as a translated reason. */
export type SelfTestError =
  | "signature_refused"
  | "not_received"
  | "webhook_error"
  | "timeout"
  | "unreachable";

export type ConnectedAccount = {
  id: string;
  channel: Channel;
  externalId: string;
  displayName: string | null;
  status: "active" | "disabled";
  createdAt: number;
  selfTestAt: number | null;
  selfTestOkAt: number | null;
  selfTestError: SelfTestError | null;
};

const COLUMNS = `id, channel, external_id AS externalId, display_name AS displayName, status,
  created_at AS createdAt, self_test_at AS selfTestAt, self_test_ok_at AS selfTestOkAt,
  self_test_error AS selfTestError`;

/** The tenant's connected accounts with their self-test state, oldest first. */
export async function listConnectedAccounts(db: D1Database, tenantId: string): Promise<ConnectedAccount[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM channel_accounts WHERE tenant_id = ? ORDER BY created_at, id`)
    .bind(tenantId)
    .all<ConnectedAccount>();
  return results;
}

export async function getConnectedAccount(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<ConnectedAccount | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM channel_accounts WHERE id = ? AND tenant_id = ?`)
    .bind(accountId, tenantId)
    .first<ConnectedAccount>();
}

/** Deletes one of the tenant's accounts (its reply config goes with it); null when not theirs. */
export async function deleteChannelAccount(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<{ channel: Channel; externalId: string } | null> {
  return db
    .prepare(
      "DELETE FROM channel_accounts WHERE id = ? AND tenant_id = ? RETURNING channel, external_id AS externalId",
    )
    .bind(accountId, tenantId)
    .first<{ channel: Channel; externalId: string }>();
}

/** How often the cron runs each WhatsApp number's self-test again (issue 19 item 9). */
export const SELF_TEST_EVERY_MS = 7 * 86_400_000;

/**
 * One page (by account id, after `after`) of active WhatsApp numbers of active tenants whose last
 * self-test is a week old or was never run. Walks the primary key from the cursor: `+a.channel`
 * keeps the planner off the (channel, external_id) index, which would sort every WhatsApp number
 * on each page. `next`: the cursor for the following page (null: done).
 */
export async function listSelfTestsDue(
  db: D1Database,
  now: number,
  after = "",
  limit = 100,
): Promise<{ accounts: { id: string; tenantId: string }[]; next: string | null }> {
  const { results } = await db
    .prepare(
      `SELECT a.id, a.tenant_id AS tenantId, (a.self_test_at IS NULL OR a.self_test_at < ?2) AS due
         FROM channel_accounts a JOIN tenants t ON t.id = a.tenant_id
        WHERE a.id > ?1 AND +a.channel = 'whatsapp' AND a.status = 'active'
          AND t.status = 'active' AND t.deleting_at IS NULL
        ORDER BY a.id LIMIT ?3`,
    )
    .bind(after, now - SELF_TEST_EVERY_MS, limit)
    .all<{ id: string; tenantId: string; due: number }>();
  const next = results.length === limit ? results[results.length - 1]!.id : null;
  return { accounts: results.filter((r) => r.due).map(({ id, tenantId }) => ({ id, tenantId })), next };
}

/** Starts a self-test attempt: earlier results are cleared, only `token` can complete it. */
export async function startSelfTest(
  db: D1Database,
  tenantId: string,
  accountId: string,
  token: string,
  at: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE channel_accounts SET self_test_token = ?, self_test_at = ?, self_test_ok_at = NULL,
         self_test_error = NULL WHERE id = ? AND tenant_id = ?`,
    )
    .bind(token, at, accountId, tenantId)
    .run();
  return res.meta.changes > 0;
}

/** The test webhook arrived at the pipeline: the attempt with this token is green. */
export async function recordSelfTestArrival(
  db: D1Database,
  accountId: string,
  token: string,
  at: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      "UPDATE channel_accounts SET self_test_ok_at = ?, self_test_error = NULL WHERE id = ? AND self_test_token = ?",
    )
    .bind(at, accountId, token)
    .run();
  return res.meta.changes > 0;
}

/** The attempt failed; kept only if it is still the current attempt and did not arrive. */
export async function recordSelfTestFailure(
  db: D1Database,
  accountId: string,
  token: string,
  error: SelfTestError,
): Promise<void> {
  await db
    .prepare(
      `UPDATE channel_accounts SET self_test_error = ?
        WHERE id = ? AND self_test_token = ? AND self_test_ok_at IS NULL`,
    )
    .bind(error, accountId, token)
    .run();
}

/** Records the WhatsApp Business Account a number was onboarded from (Embedded Signup). */
export async function setWhatsAppBusinessAccount(
  db: D1Database,
  accountId: string,
  wabaId: string,
): Promise<void> {
  await db.prepare("UPDATE channel_accounts SET waba_id = ? WHERE id = ?").bind(wabaId, accountId).run();
}

/** Renames one of the tenant's accounts (e.g. a reconnected Instagram account's @username). */
export async function setChannelAccountDisplayName(
  db: D1Database,
  tenantId: string,
  accountId: string,
  displayName: string,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE channel_accounts SET display_name = ? WHERE id = ? AND tenant_id = ?")
    .bind(displayName, accountId, tenantId)
    .run();
  return res.meta.changes > 0;
}

// ---- WhatsApp: proof of control (migrations/0022) and release (side effect whatsapp_release) ----

/** Wrong codes allowed against one code before a new one must be requested. */
export const WHATSAPP_CODE_ATTEMPTS = 5;
/** How long a requested code may be typed (Meta's own codes expire about then). */
export const WHATSAPP_CODE_TTL_MS = 10 * 60_000;
/** The least time between two code requests for one number by one tenant. */
export const WHATSAPP_CODE_COOLDOWN_MS = 60_000;
/**
 * Codes that may be requested for one number per 24 hours, by all tenants together: with the
 * attempts, 25 guesses a day however many accounts ask, and at most 5 texts or calls to its owner.
 */
export const WHATSAPP_CODE_REQUESTS_PER_DAY = 5;
const DAY_MS = 24 * 60 * 60_000;

/**
 * `too_soon`: this tenant asked less than the cooldown ago. `too_many`: the number's codes for the
 * day are used up. `busy`: another tenant's code for the number is still live (one at a time, so
 * nobody guesses against a code someone else is typing).
 */
export type CodeRequestRefusal = { ok: false; reason: "too_soon" | "too_many" | "busy"; retryAt: number };

/**
 * Opens (or renews) a tenant's pending verification of a number before asking Meta for a code:
 * a fresh code window with no attempts used. Refused within the cooldown, past the number's daily
 * cap (all tenants together) or while another tenant's code is live, so nobody can spam the
 * number's owner with codes or get unlimited guesses, from one account or many.
 */
export async function startWhatsAppVerification(
  db: D1Database,
  v: { tenantId: string; phoneNumberId: string; now: number },
): Promise<{ ok: true } | CodeRequestRefusal> {
  // Checked inside the write itself, so requests racing from several tenants cannot all pass.
  const allowed = `NOT EXISTS (SELECT 1 FROM whatsapp_verifications o
                      WHERE o.phone_number_id = ?2 AND o.expires_at > ?3 AND o.tenant_id <> ?1)
     AND COALESCE((SELECT n.requests FROM whatsapp_code_requests n WHERE n.phone_number_id = ?2), 0) < ?6`;
  const [, , upsert] = await db.batch<{ requests: number }>([
    db.prepare("DELETE FROM whatsapp_verifications WHERE window_start <= ?").bind(v.now - DAY_MS),
    db.prepare("DELETE FROM whatsapp_code_requests WHERE window_start <= ?").bind(v.now - DAY_MS),
    db
      .prepare(
        `INSERT INTO whatsapp_verifications
           (tenant_id, phone_number_id, attempts, requests, window_start, requested_at, expires_at)
         SELECT ?1, ?2, 0, 1, ?3, ?3, ?4 WHERE ${allowed}
         ON CONFLICT (tenant_id, phone_number_id) DO UPDATE SET
           attempts = 0, requests = requests + 1, requested_at = ?3, expires_at = ?4
         WHERE whatsapp_verifications.requested_at <= ?3 - ?5 AND ${allowed}
         RETURNING requests`,
      )
      .bind(
        v.tenantId,
        v.phoneNumberId,
        v.now,
        v.now + WHATSAPP_CODE_TTL_MS,
        WHATSAPP_CODE_COOLDOWN_MS,
        WHATSAPP_CODE_REQUESTS_PER_DAY,
      ),
    // Counted for the number only when the request above was written (this request's time).
    db
      .prepare(
        `INSERT INTO whatsapp_code_requests (phone_number_id, window_start, requests)
         SELECT ?2, ?3, 1 WHERE EXISTS (SELECT 1 FROM whatsapp_verifications
                                         WHERE tenant_id = ?1 AND phone_number_id = ?2 AND requested_at = ?3)
         ON CONFLICT (phone_number_id) DO UPDATE SET requests = requests + 1`,
      )
      .bind(v.tenantId, v.phoneNumberId, v.now),
  ]);
  if ((upsert?.results.length ?? 0) > 0) return { ok: true };
  const [mine, number, busy] = await db.batch<Record<string, number | null>>([
    db
      .prepare(
        `SELECT requested_at AS requestedAt FROM whatsapp_verifications
          WHERE tenant_id = ? AND phone_number_id = ?`,
      )
      .bind(v.tenantId, v.phoneNumberId),
    db
      .prepare(
        "SELECT requests, window_start AS windowStart FROM whatsapp_code_requests WHERE phone_number_id = ?",
      )
      .bind(v.phoneNumberId),
    db
      .prepare(
        `SELECT MAX(expires_at) AS busyUntil FROM whatsapp_verifications
          WHERE phone_number_id = ?2 AND expires_at > ?3 AND tenant_id <> ?1`,
      )
      .bind(v.tenantId, v.phoneNumberId, v.now),
  ]);
  const own = mine?.results[0] as { requestedAt: number } | undefined;
  const all = number?.results[0] as { requests: number; windowStart: number } | undefined;
  const busyUntil = (busy?.results[0] as { busyUntil: number | null } | undefined)?.busyUntil ?? null;
  if (all && all.requests >= WHATSAPP_CODE_REQUESTS_PER_DAY) {
    return { ok: false, reason: "too_many", retryAt: all.windowStart + DAY_MS };
  }
  if (busyUntil !== null) return { ok: false, reason: "busy", retryAt: busyUntil };
  return { ok: false, reason: "too_soon", retryAt: (own?.requestedAt ?? v.now) + WHATSAPP_CODE_COOLDOWN_MS };
}

/**
 * Meta would not send the code just asked for (startWhatsAppVerification at `requestedAt`): the
 * request is taken back, so it neither counts against the number's day nor keeps others waiting
 * for a code that was never sent. Only that request: a later one is left alone.
 */
export async function cancelWhatsAppCodeRequest(
  db: D1Database,
  v: { tenantId: string; phoneNumberId: string; requestedAt: number },
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `UPDATE whatsapp_code_requests SET requests = requests - 1
          WHERE phone_number_id = ?2 AND requests > 0 AND EXISTS (SELECT 1 FROM whatsapp_verifications
            WHERE tenant_id = ?1 AND phone_number_id = ?2 AND requested_at = ?3 AND expires_at > ?3)`,
      )
      .bind(v.tenantId, v.phoneNumberId, v.requestedAt),
    db
      .prepare(
        `UPDATE whatsapp_verifications SET expires_at = ?3, requests = MAX(requests - 1, 0)
          WHERE tenant_id = ?1 AND phone_number_id = ?2 AND requested_at = ?3 AND expires_at > ?3`,
      )
      .bind(v.tenantId, v.phoneNumberId, v.requestedAt),
  ]);
}

/**
 * Spends one attempt at typing the current code, atomically (parallel guesses each take one):
 * `ok` to go and ask Meta; `none` when this tenant has no live code for the number (never asked,
 * expired, or asked by someone else); `exhausted` when its attempts are used up.
 */
export async function takeWhatsAppCodeAttempt(
  db: D1Database,
  tenantId: string,
  phoneNumberId: string,
  now: number,
): Promise<"ok" | "none" | "exhausted"> {
  const taken = await db
    .prepare(
      `UPDATE whatsapp_verifications SET attempts = attempts + 1
        WHERE tenant_id = ? AND phone_number_id = ? AND expires_at > ? AND attempts < ?
        RETURNING attempts`,
    )
    .bind(tenantId, phoneNumberId, now, WHATSAPP_CODE_ATTEMPTS)
    .first<{ attempts: number }>();
  if (taken) return "ok";
  const live = await db
    .prepare(
      "SELECT 1 AS n FROM whatsapp_verifications WHERE tenant_id = ? AND phone_number_id = ? AND expires_at > ?",
    )
    .bind(tenantId, phoneNumberId, now)
    .first<{ n: number }>();
  return live ? "exhausted" : "none";
}

/** The code was right: the pending verification is spent (a later connect needs a new code). */
export async function finishWhatsAppVerification(
  db: D1Database,
  tenantId: string,
  phoneNumberId: string,
): Promise<void> {
  await db
    .prepare("DELETE FROM whatsapp_verifications WHERE tenant_id = ? AND phone_number_id = ?")
    .bind(tenantId, phoneNumberId)
    .run();
}

/**
 * What releasing a WhatsApp number at Meta acts on: the number, and the customer's WhatsApp
 * Business Account when it came through Embedded Signup (none for the platform's own account).
 */
export function whatsappReleaseTarget(phoneNumberId: string, wabaId: string | null): Record<string, string> {
  return wabaId ? { phoneNumberId, wabaId } : { phoneNumberId };
}

/** A tenant's WhatsApp numbers as releasing them needs them (for a tenant's deletion). */
export async function listWhatsAppReleaseTargets(
  db: D1Database,
  tenantId: string,
): Promise<{ phoneNumberId: string; wabaId: string | null }[]> {
  const { results } = await db
    .prepare(
      `SELECT external_id AS phoneNumberId, waba_id AS wabaId FROM channel_accounts
        WHERE tenant_id = ? AND channel = 'whatsapp' ORDER BY created_at, id`,
    )
    .bind(tenantId)
    .all<{ phoneNumberId: string; wabaId: string | null }>();
  return results;
}

/**
 * Disconnects one of the tenant's WhatsApp numbers and records its release at Meta in the same
 * batch, so a number is never gone from us while still registered to our app with nobody
 * retrying. Null when the account is not this tenant's WhatsApp number (nothing recorded).
 */
export async function deleteWhatsAppAccount(
  db: D1Database,
  tenantId: string,
  accountId: string,
  now: number,
): Promise<{ channel: Channel; externalId: string; release: Record<string, string> } | null> {
  const row = await db
    .prepare(
      `SELECT external_id AS externalId, waba_id AS wabaId FROM channel_accounts
        WHERE id = ? AND tenant_id = ? AND channel = 'whatsapp'`,
    )
    .bind(accountId, tenantId)
    .first<{ externalId: string; wabaId: string | null }>();
  if (!row) return null;
  const release = whatsappReleaseTarget(row.externalId, row.wabaId);
  const [deleted] = await db.batch<{ externalId: string }>([
    db
      .prepare(
        "DELETE FROM channel_accounts WHERE id = ? AND tenant_id = ? RETURNING external_id AS externalId",
      )
      .bind(accountId, tenantId),
    recordSideEffectStatement(db, { tenantId, kind: "whatsapp_release", target: release, now }),
  ]);
  // Gone meanwhile (a parallel disconnect, which recorded the same release: one row by its key).
  if (!deleted?.results.length) return null;
  return { channel: "whatsapp", externalId: row.externalId, release };
}

/**
 * Whether a number is connected to any tenant still (a deletion in progress disables its accounts
 * first: those count as gone), and how many such numbers use a WABA: a release must not cut off a
 * number connected again, nor unsubscribe a WABA another connected number still needs.
 */
export async function whatsappReleaseState(
  db: D1Database,
  phoneNumberId: string,
  wabaId: string | null,
): Promise<{ numberConnected: boolean; wabaNumbers: number }> {
  const row = await db
    .prepare(
      `SELECT
         EXISTS (SELECT 1 FROM channel_accounts
                  WHERE channel = 'whatsapp' AND external_id = ?1 AND status = 'active') AS numberConnected,
         (SELECT COUNT(*) FROM channel_accounts
           WHERE channel = 'whatsapp' AND waba_id = ?2 AND status = 'active') AS wabaNumbers`,
    )
    .bind(phoneNumberId, wabaId)
    .first<{ numberConnected: number; wabaNumbers: number }>();
  return { numberConnected: (row?.numberConnected ?? 0) === 1, wabaNumbers: row?.wabaNumbers ?? 0 };
}
