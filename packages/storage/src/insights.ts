import type { Channel } from "@concierge/core";

/**
 * The overview's insights, from message metadata and the credit ledger only (never text), as
 * rolled up per day by triggers on those tables (migrations 0029, 0036: message_days, credit_days),
 * so the overview reads a few rows per day, not every message. Days are the tenant's local days:
 * each row is counted on the day of its time in the tenant's zone (the offset stored with the
 * tenant when the row was written), and the window is the tenant's today and the 29 days before.
 */

export const DAY_MS = 86_400_000;
export const INSIGHTS_DAYS = 30;

/** The customer channels whose messages are counted (Discord is the operators' inbox). */
export const CUSTOMER_CHANNELS = ["whatsapp", "instagram", "email"] as const;
export type CustomerChannel = (typeof CUSTOMER_CHANNELS)[number];

/** What a reply was, from the `action` recorded with its outbound metadata row. */
export type ReplyKind = "canned" | "ai" | "handoff";

const REPLY_KINDS: Record<string, ReplyKind> = {
  canned_reply: "canned",
  // A channel's away reply outside business hours (issue 19 item 3): canned text.
  away_reply: "canned",
  ai_reply: "ai",
  holding_reply: "ai",
  approved_reply: "ai",
  edited_reply: "ai",
  handoff: "handoff",
};

/** The kind of an outbound row's action; null for anything that is not a reply we count. */
export function replyKind(action: string | null): ReplyKind | null {
  return (action !== null && REPLY_KINDS[action]) || null;
}

export type InsightsDay = {
  /** The tenant's local day as YYYY-MM-DD. */
  date: string;
  /** The day's number times a day in ms: its date read as UTC midnight (for formatting in UTC). */
  start: number;
  received: Record<CustomerChannel, number>;
  canned: number;
  ai: number;
  handoffs: number;
  credits: number;
};

export type InsightsTotals = Omit<InsightsDay, "date" | "start"> & { receivedAll: number };

export type Insights = {
  /** The window's first local day and the day after its last, as day numbers times a day in ms. */
  from: number;
  to: number;
  days: InsightsDay[];
  totals: InsightsTotals;
};

/**
 * The window's day numbers (days since the epoch) in a zone `offsetMinutes` ahead of UTC, oldest
 * first: the local days the rollups are keyed by (migration 0036).
 */
export function insightsWindow(
  now: number,
  days = INSIGHTS_DAYS,
  offsetMinutes = 0,
): { first: number; last: number } {
  const last = Math.floor((now + offsetMinutes * 60_000) / DAY_MS);
  return { first: last - days + 1, last };
}

export type MessageCountRow = {
  day: number;
  channel: string;
  direction: "inbound" | "outbound";
  action: string | null;
  n: number;
};
export type CreditCountRow = { day: number; n: number };

const emptyReceived = (): Record<CustomerChannel, number> => ({ whatsapp: 0, instagram: 0, email: 0 });

/**
 * Folds grouped counts into one entry per day of the window, empty days included; rows outside
 * the window are ignored. Pure, so the arithmetic is tested without a database.
 */
export function buildInsights(
  now: number,
  messages: MessageCountRow[],
  credits: CreditCountRow[],
  days = INSIGHTS_DAYS,
  offsetMinutes = 0,
): Insights {
  const { first, last } = insightsWindow(now, days, offsetMinutes);
  const out: InsightsDay[] = [];
  for (let d = first; d <= last; d++) {
    out.push({
      date: new Date(d * DAY_MS).toISOString().slice(0, 10),
      start: d * DAY_MS,
      received: emptyReceived(),
      canned: 0,
      ai: 0,
      handoffs: 0,
      credits: 0,
    });
  }
  const at = (day: number) => (day >= first && day <= last ? out[day - first] : undefined);
  for (const r of messages) {
    const day = at(r.day);
    if (!day) continue;
    if (r.direction === "inbound") {
      if ((CUSTOMER_CHANNELS as readonly string[]).includes(r.channel)) {
        day.received[r.channel as CustomerChannel] += r.n;
      }
      continue;
    }
    const kind = replyKind(r.action);
    if (kind === "canned") day.canned += r.n;
    else if (kind === "ai") day.ai += r.n;
    else if (kind === "handoff") day.handoffs += r.n;
  }
  for (const r of credits) {
    const day = at(r.day);
    if (day) day.credits += r.n;
  }
  const totals: InsightsTotals = {
    received: emptyReceived(),
    receivedAll: 0,
    canned: 0,
    ai: 0,
    handoffs: 0,
    credits: 0,
  };
  for (const d of out) {
    for (const ch of CUSTOMER_CHANNELS) {
      totals.received[ch] += d.received[ch];
      totals.receivedAll += d.received[ch];
    }
    totals.canned += d.canned;
    totals.ai += d.ai;
    totals.handoffs += d.handoffs;
    totals.credits += d.credits;
  }
  return { from: first * DAY_MS, to: (last + 1) * DAY_MS, days: out, totals };
}

/**
 * The last 30 days of the tenant, its own local days (its time zone's offset now): messages
 * received per channel, replies by kind, handoffs, and credits used (AI-reply debits not given
 * back, on the day they were taken).
 */
export async function tenantInsights(db: D1Database, tenantId: string, now = Date.now()): Promise<Insights> {
  const row = await db
    .prepare("SELECT utc_offset_minutes AS offset FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ offset: number | null }>();
  const offset = row?.offset ?? 0;
  const { first, last } = insightsWindow(now, INSIGHTS_DAYS, offset);
  // The daily rollups (migrations 0029, 0036), kept by triggers with every message and ledger row:
  // at most a few dozen rows a day, however many messages the tenant has.
  const [messages, credits] = await db.batch<MessageCountRow | CreditCountRow>([
    db
      .prepare(
        `SELECT day, channel, direction, NULLIF(action, '') AS action, n
           FROM message_days WHERE tenant_id = ? AND day >= ? AND day <= ?`,
      )
      .bind(tenantId, first, last),
    db
      .prepare("SELECT day, n FROM credit_days WHERE tenant_id = ? AND day >= ? AND day <= ?")
      .bind(tenantId, first, last),
  ]);
  return buildInsights(
    now,
    (messages?.results ?? []) as MessageCountRow[],
    (credits?.results ?? []) as CreditCountRow[],
    INSIGHTS_DAYS,
    offset,
  );
}

/** Channel health: how an account looks from its recent metadata. */
import type { AiReplyState, HealthLevel, HealthReason, SafetyStatus } from "@concierge/core";

export type { AiReplyState, HealthLevel, HealthReason };
export type Health = { level: HealthLevel; reason: HealthReason };

/** Failures and silence are judged over this period. */
export const HEALTH_WINDOW_MS = 7 * DAY_MS;

export type AccountActivity = {
  id: string;
  channel: Channel;
  externalId: string;
  displayName: string | null;
  status: "active" | "disabled";
  /** When the account was connected (channel_accounts.created_at). */
  connectedAt: number;
  lastInboundAt: number | null;
  lastOutboundAt: number | null;
  /** Customer messages whose reply failed to send, in the health window. */
  failedSends: number;
  /** The action recorded with the newest customer message (what happened to it). */
  lastInboundAction: string | null;
};

/**
 * Red when the account is off or the newest customer message's reply failed to send; amber when
 * nothing arrived in the last 7 days or some replies failed in that time; green otherwise.
 * A channel connected in the last 7 days that has had no message yet is green ("waiting for the
 * first message"): nothing is wrong with it, and a new tenant's first look at the overview must
 * not say "Needs attention" about what it just connected. Connected longer ago and still silent,
 * it is as quiet as any other account silent for 7 days. Discord (the operators' inbox) carries
 * no customer messages: connected is healthy.
 */
export function accountHealth(a: AccountActivity, now = Date.now()): Health {
  if (a.status !== "active") return { level: "danger", reason: "disabled" };
  if (a.channel === "discord") return { level: "ok", reason: "connected" };
  if (a.lastInboundAction === "send_failed") return { level: "danger", reason: "last_send_failed" };
  // Mail routed to a Discord inbox the tenant does not have (email-turn.ts): never "Healthy".
  if (a.lastInboundAction === "relay_no_inbox") return { level: "danger", reason: "no_inbox" };
  if (a.lastInboundAt === null) {
    return a.connectedAt >= now - HEALTH_WINDOW_MS
      ? { level: "ok", reason: "no_messages" }
      : { level: "warn", reason: "quiet" };
  }
  if (a.failedSends > 0) return { level: "warn", reason: "failed_sends" };
  if (a.lastInboundAt < now - HEALTH_WINDOW_MS) return { level: "warn", reason: "quiet" };
  return { level: "ok", reason: "working" };
}

/**
 * Whether AI replies go out, as one answer for every place that says so (the overview, Discord's
 * /status): a suspended tenant sends nothing; without a persona they are off; until the safety
 * check approves the persona they are paused; at zero credits they stop. The first that applies
 * wins, so two places never tell different stories about the same tenant.
 */
export function aiReplyState(input: {
  suspended: boolean;
  persona: SafetyStatus | null;
  balance: number;
}): AiReplyState {
  if (input.suspended) return "suspended";
  if (input.persona === null) return "no_persona";
  if (input.persona !== "approved") return "persona_not_approved";
  if (input.balance <= 0) return "no_credits";
  return "on";
}

/** The tenant's connected accounts with their latest activity, for the overview. */
export async function listAccountActivity(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<AccountActivity[]> {
  // Each figure is the first entry of the account's range in messages_account_time (newest
  // first), or the few rows of the partial index messages_send_failed: never a walk over the
  // tenant's history (migration 0029). INDEXED BY: the planner would take the wider index and
  // read every inbound message of the week to find the failed ones.
  const own = "m.tenant_id = a.tenant_id AND m.account_id = a.id";
  const { results } = await db
    .prepare(
      `SELECT a.id, a.channel, a.external_id AS externalId, a.display_name AS displayName, a.status,
              a.created_at AS connectedAt,
              (SELECT m.created_at FROM messages m WHERE ${own} AND m.direction = 'inbound'
                ORDER BY m.created_at DESC LIMIT 1) AS lastInboundAt,
              (SELECT m.created_at FROM messages m WHERE ${own} AND m.direction = 'outbound'
                ORDER BY m.created_at DESC LIMIT 1) AS lastOutboundAt,
              (SELECT COUNT(*) FROM messages m INDEXED BY messages_send_failed
                WHERE ${own} AND m.direction = 'inbound' AND m.action = 'send_failed' AND m.created_at >= ?) AS failedSends,
              (SELECT m.action FROM messages m WHERE ${own} AND m.direction = 'inbound'
                ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS lastInboundAction
         FROM channel_accounts a
        WHERE a.tenant_id = ?
        ORDER BY a.channel, a.created_at, a.id`,
    )
    .bind(now - HEALTH_WINDOW_MS, tenantId)
    .all<AccountActivity>();
  return results;
}
