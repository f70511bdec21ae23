/**
 * The summary digest's storage (migrations/0019_onboarding.sql): which tenants are due, claiming a
 * period so that a second cron run does not send it again, and the period's counts, read from
 * message metadata, approvals and the credit lots only (never a message's text).
 */
import type { DigestCadence } from "@concierge/core";
import { creditBalance } from "./credits.ts";
import { CUSTOMER_CHANNELS, type CustomerChannel, NOT_FROM_CUSTOMERS, replyKind } from "./insights.ts";
import { ofTenant } from "./message-accounts.ts";

export type DigestTenant = {
  id: string;
  digest: Exclude<DigestCadence, "off">;
  /** The boundary the digest is due at; null until the cron has worked it out. */
  digestNextAt: number | null;
  timeZone: string;
  locale: string;
  currency: string;
  notifyDiscordChannelId: string | null;
  notifyEmail: string | null;
};

/**
 * Up to `limit` tenants with a digest whose boundary is not known yet or has passed, those first.
 * Two ranges of the partial index tenants_digest_due (an OR of both is not one range to SQLite).
 * Suspended and deleting tenants are left for later: nothing is sent for them meanwhile.
 */
export async function listDigestDue(db: D1Database, now: number, limit: number): Promise<DigestTenant[]> {
  const select = `SELECT id, digest, digest_next_at AS digestNextAt, time_zone AS timeZone, locale, currency,
              notify_discord_channel_id AS notifyDiscordChannelId, notify_email AS notifyEmail
         FROM tenants`;
  const active = "AND status = 'active' AND deleting_at IS NULL";
  const [unknown, due] = await db.batch<DigestTenant>([
    db.prepare(`${select} WHERE digest <> 'off' AND digest_next_at IS NULL ${active} LIMIT ?`).bind(limit),
    db
      .prepare(
        `${select} WHERE digest <> 'off' AND digest_next_at <= ? ${active} ORDER BY digest_next_at LIMIT ?`,
      )
      .bind(now, limit),
  ]);
  return [...(unknown?.results ?? []), ...(due?.results ?? [])].slice(0, limit);
}

/** The first boundary of a digest just chosen (or of a new time zone): only while still unknown. */
export async function setFirstDigestBoundary(
  db: D1Database,
  tenantId: string,
  next: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      "UPDATE tenants SET digest_next_at = ? WHERE id = ? AND digest <> 'off' AND digest_next_at IS NULL",
    )
    .bind(next, tenantId)
    .run();
  return res.meta.changes > 0;
}

/**
 * Moves the tenant's boundary from `due` to `next` if nobody did meanwhile: true means this run
 * owns the period that ended at `due` (a second run finds `next` and changes nothing).
 */
export async function claimDigest(
  db: D1Database,
  tenantId: string,
  due: number,
  next: number,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE tenants SET digest_next_at = ? WHERE id = ? AND digest <> 'off' AND digest_next_at = ?")
    .bind(next, tenantId, due)
    .run();
  return res.meta.changes > 0;
}

/**
 * Gives a claimed period back (every send failed and is worth retrying): the boundary returns to
 * `due`, unless the tenant changed its digest or time zone meanwhile (then it is not `next` any more).
 */
export async function releaseDigest(
  db: D1Database,
  tenantId: string,
  due: number,
  next: number,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE tenants SET digest_next_at = ? WHERE id = ? AND digest_next_at = ?")
    .bind(due, tenantId, next)
    .run();
  return res.meta.changes > 0;
}

export type DigestCounts = {
  /** Customer messages received, per channel. */
  received: Record<CustomerChannel, number>;
  /** Replies that went out (not refused or undeliverable sends), per channel. */
  sent: Record<CustomerChannel, number>;
  aiReplies: number;
  handoffs: number;
  /** Drafts waiting for approval now. */
  approvalsWaiting: number;
  /** AI replies the balance pays for, now. */
  balance: number;
};

const zero = (): Record<CustomerChannel, number> => ({ whatsapp: 0, instagram: 0, email: 0 });

/** The counts of the period [from, to) and the state now: metadata only, each read index-bounded. */
export async function digestCounts(
  db: D1Database,
  tenantId: string,
  from: number,
  to: number,
  now = Date.now(),
): Promise<DigestCounts> {
  const [messages, approvals] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        // A reply Meta reported undeliverable is a failure, not a reply sent (migration 0037).
        `SELECT channel, direction,
                CASE WHEN direction = 'outbound' AND status = 'failed' AND action IS NOT 'send_failed'
                     THEN 'delivery_failed' ELSE action END AS action,
                COUNT(*) AS n FROM messages m
          WHERE ${ofTenant("m", "?1")} AND m.created_at >= ?2 AND m.created_at < ?3
          GROUP BY 1, 2, 3`,
      )
      .bind(tenantId, from, to),
    db
      .prepare("SELECT COUNT(*) AS n FROM approvals WHERE tenant_id = ? AND status = 'pending'")
      .bind(tenantId),
  ]);
  const counts: DigestCounts = {
    received: zero(),
    sent: zero(),
    aiReplies: 0,
    handoffs: 0,
    approvalsWaiting: Number(approvals?.results[0]?.n ?? 0),
    balance: await creditBalance(db, tenantId, now),
  };
  const rows = (messages?.results ?? []) as {
    channel: string;
    direction: string;
    action: string | null;
    n: number;
  }[];
  for (const r of rows) {
    if (!(CUSTOMER_CHANNELS as readonly string[]).includes(r.channel)) continue;
    const channel = r.channel as CustomerChannel;
    if (r.direction === "inbound") {
      if (r.action !== null && NOT_FROM_CUSTOMERS.has(r.action)) continue;
      counts.received[channel] += r.n;
      continue;
    }
    const kind = replyKind(r.action);
    // Refused at send or reported undeliverable: not a reply the customer got.
    if (kind === "failed") continue;
    counts.sent[channel] += r.n;
    if (kind === "ai") counts.aiReplies += r.n;
    else if (kind === "handoff") counts.handoffs += r.n;
  }
  return counts;
}
