/**
 * Automatic mail (auto-replies and forwards) in D1 (migrations/0021_email_automatic.sql): the
 * operator's daily cap per tenant, each tenant's count per UTC day, each mail's one answer from
 * the cap, and the claim that makes a forward go out at most once. Ids and counts only.
 */

/** The cap when the operator never set one. */
export const DEFAULT_EMAIL_AUTOMATIC_DAILY_LIMIT = 200;

/** Claims older than this are pruned: a mail redelivered days later is rare and counted again. */
export const EMAIL_AUTOMATIC_CLAIM_TTL_MS = 3 * 24 * 3600_000;

/** The UTC day a moment falls in, `YYYY-MM-DD`: the cap's day. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The next UTC midnight after `at`: when a day's cap lifts. */
export function nextUtcMidnight(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

export type EmailAutomaticSettings = { dailyLimit: number; updatedAt: number; updatedBy: string | null };

export async function getEmailAutomaticSettings(db: D1Database): Promise<EmailAutomaticSettings> {
  const row = await db
    .prepare(
      `SELECT daily_limit AS dailyLimit, updated_at AS updatedAt, updated_by AS updatedBy
         FROM email_automatic_settings WHERE id = 1`,
    )
    .first<EmailAutomaticSettings>();
  return row ?? { dailyLimit: DEFAULT_EMAIL_AUTOMATIC_DAILY_LIMIT, updatedAt: 0, updatedBy: null };
}

/**
 * Writes the cap, by whom; batched with its audit row. The same value again changes no row (so a
 * repeated save records nothing, as the audit statement's `afterChange` reads it).
 */
export function saveEmailAutomaticLimitStatement(
  db: D1Database,
  dailyLimit: number,
  operatorEmail: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO email_automatic_settings (id, daily_limit, updated_at, updated_by) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET daily_limit = excluded.daily_limit,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by
        WHERE email_automatic_settings.daily_limit <> excluded.daily_limit`,
    )
    .bind(dailyLimit, now, operatorEmail);
}

export type AutomaticMailClaim = {
  /** True when this mail may have its automatic reply or forward. */
  allowed: boolean;
  /** Automatic mail of the tenant today, this one included when allowed. */
  sent: number;
  limit: number;
  /** When the cap lifts (next UTC midnight). */
  resetsAt: number;
};

/**
 * Takes one unit of the tenant's daily automatic mail for this mail, atomically (one batch, one
 * transaction): the mail's claim is written once with the answer the count gave at that moment
 * (`sent < limit`), and only the attempt that wrote it adds to the count (a conditional UPDATE on
 * its nonce). A redelivery of the same mail gets the first answer back and counts nothing.
 */
export async function claimAutomaticMail(
  db: D1Database,
  input: { tenantId: string; accountId: string; providerMessageId: string; now: number },
): Promise<AutomaticMailClaim> {
  const day = utcDay(input.now);
  const nonce = crypto.randomUUID();
  const limit = `COALESCE((SELECT daily_limit FROM email_automatic_settings WHERE id = 1), ${DEFAULT_EMAIL_AUTOMATIC_DAILY_LIMIT})`;
  const mine = `EXISTS (SELECT 1 FROM email_automatic_claims c
                 WHERE c.account_id = ? AND c.provider_message_id = ? AND c.nonce = ? AND c.allowed = ?)`;
  const results = await db.batch([
    db
      .prepare(
        "INSERT INTO email_automatic_days (tenant_id, day, sent) VALUES (?, ?, 0) ON CONFLICT (tenant_id, day) DO NOTHING",
      )
      .bind(input.tenantId, day),
    db
      .prepare(
        `INSERT INTO email_automatic_claims (tenant_id, account_id, provider_message_id, day, allowed, nonce, created_at)
         SELECT ?, ?, ?, ?, CASE WHEN d.sent < ${limit} THEN 1 ELSE 0 END, ?, ?
           FROM email_automatic_days d WHERE d.tenant_id = ? AND d.day = ?
         ON CONFLICT (account_id, provider_message_id) DO NOTHING`,
      )
      .bind(
        input.tenantId,
        input.accountId,
        input.providerMessageId,
        day,
        nonce,
        input.now,
        input.tenantId,
        day,
      ),
    db
      .prepare(`UPDATE email_automatic_days SET sent = sent + 1 WHERE tenant_id = ? AND day = ? AND ${mine}`)
      .bind(input.tenantId, day, input.accountId, input.providerMessageId, nonce, 1),
    db
      .prepare(
        `UPDATE email_automatic_days SET limited_at = COALESCE(limited_at, ?)
          WHERE tenant_id = ? AND day = ? AND ${mine}`,
      )
      .bind(input.now, input.tenantId, day, input.accountId, input.providerMessageId, nonce, 0),
    db
      .prepare(
        `SELECT c.allowed AS allowed, c.day AS day, ${limit} AS lim,
                (SELECT d.sent FROM email_automatic_days d WHERE d.tenant_id = c.tenant_id AND d.day = c.day) AS sent
           FROM email_automatic_claims c WHERE c.account_id = ? AND c.provider_message_id = ?`,
      )
      .bind(input.accountId, input.providerMessageId),
  ]);
  const row = (results[4]?.results ?? [])[0] as
    | { allowed: number; day: string; lim: number; sent: number | null }
    | undefined;
  if (!row) throw new Error("the automatic mail claim was not written");
  return {
    allowed: row.allowed === 1,
    sent: row.sent ?? 0,
    limit: row.lim,
    resetsAt: nextUtcMidnight(Date.parse(`${row.day}T00:00:00Z`)),
  };
}

export type AutomaticMailToday = {
  sent: number;
  limit: number;
  /** When the cap first held a mail back today; null when it has not. */
  limitedAt: number | null;
  resetsAt: number;
};

/** The tenant's automatic mail today, for its email page. */
export async function automaticMailToday(
  db: D1Database,
  tenantId: string,
  now: number,
): Promise<AutomaticMailToday> {
  const [settings, row] = await Promise.all([
    getEmailAutomaticSettings(db),
    db
      .prepare(
        "SELECT sent, limited_at AS limitedAt FROM email_automatic_days WHERE tenant_id = ? AND day = ?",
      )
      .bind(tenantId, utcDay(now))
      .first<{ sent: number; limitedAt: number | null }>(),
  ]);
  return {
    sent: row?.sent ?? 0,
    limit: settings.dailyLimit,
    limitedAt: row?.limitedAt ?? null,
    resetsAt: nextUtcMidnight(now),
  };
}

/** Confirmation links one tenant may have mailed per UTC day (forward addresses, notifications). */
export const VERIFY_MAILS_PER_DAY = 20;

/**
 * Takes one of the tenant's confirmation mails for today, atomically: false past
 * VERIFY_MAILS_PER_DAY, and nothing counted then.
 */
export async function takeVerifyMail(db: D1Database, tenantId: string, now: number): Promise<boolean> {
  const row = await db
    .prepare(
      `INSERT INTO email_automatic_days (tenant_id, day, verify_sent) VALUES (?1, ?2, 1)
       ON CONFLICT (tenant_id, day) DO UPDATE SET verify_sent = verify_sent + 1 WHERE verify_sent < ?3
       RETURNING verify_sent AS n`,
    )
    .bind(tenantId, utcDay(now), VERIFY_MAILS_PER_DAY)
    .first<{ n: number }>();
  return row !== null;
}

export type ForwardClaim = "claimed" | "sending" | "sent";

/**
 * Claims the forward of one mail to one address before it is sent. "claimed": this attempt wrote
 * the claim and is the only one that may send. "sending": an earlier attempt claimed it and never
 * recorded the outcome (it may be out). "sent": it went out.
 */
export async function claimForwardSend(
  db: D1Database,
  input: { tenantId: string; accountId: string; providerMessageId: string; addressId: string; now: number },
): Promise<ForwardClaim> {
  const r = await db
    .prepare(
      `INSERT INTO email_forward_sends (tenant_id, account_id, provider_message_id, address_id, status, claimed_at)
       VALUES (?, ?, ?, ?, 'sending', ?)
       ON CONFLICT (account_id, provider_message_id, address_id) DO NOTHING`,
    )
    .bind(input.tenantId, input.accountId, input.providerMessageId, input.addressId, input.now)
    .run();
  if ((r.meta.changes ?? 0) === 1) return "claimed";
  const row = await db
    .prepare(
      `SELECT status FROM email_forward_sends
        WHERE account_id = ? AND provider_message_id = ? AND address_id = ?`,
    )
    .bind(input.accountId, input.providerMessageId, input.addressId)
    .first<{ status: "sending" | "sent" }>();
  return row?.status ?? "sending";
}

/** The forward went out (batched with its metadata rows by the caller). */
export function markForwardSentStatement(
  db: D1Database,
  input: { accountId: string; providerMessageId: string; addressId: string; now: number },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE email_forward_sends SET status = 'sent', sent_at = ?
        WHERE account_id = ? AND provider_message_id = ? AND address_id = ?`,
    )
    .bind(input.now, input.accountId, input.providerMessageId, input.addressId);
}

/** Drops cap claims older than EMAIL_AUTOMATIC_CLAIM_TTL_MS and day rows older than a week. */
export async function pruneAutomaticMail(db: D1Database, now: number): Promise<number> {
  const results = await db.batch([
    db
      .prepare("DELETE FROM email_automatic_claims WHERE created_at < ?")
      .bind(now - EMAIL_AUTOMATIC_CLAIM_TTL_MS),
    db.prepare("DELETE FROM email_automatic_days WHERE day < ?").bind(utcDay(now - 7 * 24 * 3600_000)),
  ]);
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}
