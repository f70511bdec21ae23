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
export type ReplyKind = "canned" | "ai" | "handoff" | "human" | "failed";

const REPLY_KINDS: Record<string, ReplyKind> = {
  canned_reply: "canned",
  // A channel's away reply outside business hours (issue 19 item 3): canned text.
  away_reply: "canned",
  ai_reply: "ai",
  holding_reply: "ai",
  approved_reply: "ai",
  edited_reply: "ai",
  // A hand-off rule's sentence, and the AI's reply that asked for a person (turn.ts).
  handoff: "handoff",
  ai_handoff: "handoff",
  // A person's reply from the live inbox or Discord (conversation/person.ts), or from their own
  // mailbox through the reply address of a forwarded mail (channels/email/ingest.ts).
  human_reply: "human",
  alias_reply: "human",
  // Refused by the provider when sent, or reported undeliverable later (migration 0037).
  send_failed: "failed",
  delivery_failed: "failed",
};

/**
 * Inbound rows that are not a customer's message: the business's own mail through the reply
 * address of a forwarded mail (sent on, or refused). Not counted as messages received.
 */
export const NOT_FROM_CUSTOMERS: ReadonlySet<string> = new Set(["alias_reply", "alias_rejected"]);

/** The kind of an outbound row's action; null for anything that is not a reply we count. */
export function replyKind(action: string | null): ReplyKind | null {
  return (action !== null && REPLY_KINDS[action]) || null;
}

/**
 * How long customers waited for a reply, in buckets (the keys migrations 0037's and 0038's triggers write,
 * and REPLY_WAIT_BUCKET_SQL below): under a minute, 5 minutes, 15, an hour, 4 hours, a day, longer.
 */
export const REPLY_WAIT_BUCKETS = [
  { key: "lt1m", underMs: 60_000 },
  { key: "lt5m", underMs: 300_000 },
  { key: "lt15m", underMs: 900_000 },
  { key: "lt1h", underMs: 3_600_000 },
  { key: "lt4h", underMs: 14_400_000 },
  { key: "lt24h", underMs: 86_400_000 },
  { key: "ge24h", underMs: null },
] as const;
export type ReplyWaitBucket = (typeof REPLY_WAIT_BUCKETS)[number]["key"];

/** The bucket of a wait in ms, as SQL (REPLY_INSIGHT_KEY_SQL; the triggers spell it out). */
const REPLY_WAIT_BUCKET_SQL = (col: string) =>
  `CASE ${REPLY_WAIT_BUCKETS.map((b) => (b.underMs === null ? `ELSE '${b.key}'` : `WHEN ${col} < ${b.underMs} THEN '${b.key}'`)).join(" ")} END`;

/**
 * A reply's one insight count since migration 0038 (metric 'reply'): '<rule id> <action> <wait
 * bucket>', as SQL over a messages row (the recount in tenants.ts; the trigger spells it out).
 * Without a rule the first two parts are '' (the action is kept only beside a rule id), without a
 * wait the last. Actions and buckets hold no space, so the key is read from the right (an email
 * routing rule's id may hold one).
 */
export const REPLY_INSIGHT_KEY_SQL = (m: { ruleId: string; action: string; waitMs: string }) =>
  `COALESCE(${m.ruleId}, '') || ' ' || CASE WHEN ${m.ruleId} IS NULL THEN '' ELSE COALESCE(${m.action}, '') END
   || ' ' || CASE WHEN ${m.waitMs} IS NULL THEN '' ELSE ${REPLY_WAIT_BUCKET_SQL(m.waitMs)} END`;

export type InsightsDay = {
  /** The tenant's local day as YYYY-MM-DD. */
  date: string;
  /** The day's number times a day in ms: its date read as UTC midnight (for formatting in UTC). */
  start: number;
  received: Record<CustomerChannel, number>;
  canned: number;
  ai: number;
  handoffs: number;
  /** Replies a person sent from the live inbox or Discord. */
  human: number;
  /** Replies that did not reach the customer: refused at send, or reported undeliverable. */
  failed: number;
  credits: number;
};

export type InsightsTotals = Omit<InsightsDay, "date" | "start"> & { receivedAll: number };

/** One reply rule's replies in the window (the default reply's id is "default"). */
export type RuleCount = { ruleId: string; replies: number; handoffs: number };

export type Insights = {
  /** The window's first local day and the day after its last, as day numbers times a day in ms. */
  from: number;
  to: number;
  days: InsightsDay[];
  totals: InsightsTotals;
  /** Rules by replies given, most first (the default reply included, as "default"). */
  rules: RuleCount[];
  /** Replies a rule (or the default reply) gave in the window: the default reply's share is of these. */
  ruleReplies: number;
  defaultReplies: number;
  /** Who asked for a person: a hand-off rule, or the AI while answering. */
  handoffReasons: { rule: number; ai: number };
  /** Replies by how long the customer had waited for them, and the bucket holding the median. */
  replyWait: { buckets: Record<ReplyWaitBucket, number>; total: number; median: ReplyWaitBucket | null };
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
/**
 * insight_days rows: per reply since migration 0038 ('reply': its rule and action and its wait's
 * bucket in one key); before it, per rule and action ('rule') and per wait bucket ('reply_wait').
 */
export type InsightCountRow = {
  day: number;
  metric: "rule" | "reply_wait" | "reply";
  key: string;
  n: number;
};

const emptyReceived = (): Record<CustomerChannel, number> => ({ whatsapp: 0, instagram: 0, email: 0 });

/**
 * Folds grouped counts into one entry per day of the window, empty days included, and the window's
 * breakdowns; rows outside the window are ignored. Pure, so the arithmetic is tested without a
 * database.
 */
export function buildInsights(
  now: number,
  messages: MessageCountRow[],
  credits: CreditCountRow[],
  days = INSIGHTS_DAYS,
  offsetMinutes = 0,
  details: InsightCountRow[] = [],
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
      human: 0,
      failed: 0,
      credits: 0,
    });
  }
  const at = (day: number) => (day >= first && day <= last ? out[day - first] : undefined);
  const handoffReasons = { rule: 0, ai: 0 };
  for (const r of messages) {
    const day = at(r.day);
    if (!day) continue;
    if (r.direction === "inbound") {
      if (r.action !== null && NOT_FROM_CUSTOMERS.has(r.action)) continue;
      if ((CUSTOMER_CHANNELS as readonly string[]).includes(r.channel)) {
        day.received[r.channel as CustomerChannel] += r.n;
      }
      continue;
    }
    const kind = replyKind(r.action);
    if (kind === "canned") day.canned += r.n;
    else if (kind === "ai") day.ai += r.n;
    else if (kind === "handoff") day.handoffs += r.n;
    else if (kind === "human") day.human += r.n;
    else if (kind === "failed") day.failed += r.n;
    if (r.action === "handoff") handoffReasons.rule += r.n;
    else if (r.action === "ai_handoff") handoffReasons.ai += r.n;
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
    human: 0,
    failed: 0,
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
    totals.human += d.human;
    totals.failed += d.failed;
    totals.credits += d.credits;
  }
  const rules = new Map<string, RuleCount>();
  const buckets = Object.fromEntries(REPLY_WAIT_BUCKETS.map((b) => [b.key, 0])) as Record<
    ReplyWaitBucket,
    number
  >;
  let ruleReplies = 0;
  let defaultReplies = 0;
  const countWait = (bucket: string, n: number) => {
    if (bucket in buckets) buckets[bucket as ReplyWaitBucket] += n;
  };
  const countRule = (ruleId: string, action: string, n: number) => {
    const kind = replyKind(action);
    // Only replies the customer got count as a rule's answers (a failed send is not one).
    if (ruleId === "" || kind === null || kind === "failed" || kind === "human") return;
    const entry = rules.get(ruleId) ?? { ruleId, replies: 0, handoffs: 0 };
    entry.replies += n;
    if (kind === "handoff") entry.handoffs += n;
    rules.set(ruleId, entry);
    ruleReplies += n;
    if (ruleId === "default") defaultReplies += n;
  };
  for (const r of details) {
    if (!at(r.day)) continue;
    if (r.metric === "reply") {
      // '<rule id> <action> <bucket>', read from the right: actions and buckets hold no space, an
      // email routing rule's id may.
      const last = r.key.lastIndexOf(" ");
      const middle = r.key.lastIndexOf(" ", last - 1);
      if (middle < 0) continue;
      countRule(r.key.slice(0, middle), r.key.slice(middle + 1, last), r.n);
      countWait(r.key.slice(last + 1), r.n);
    } else if (r.metric === "reply_wait") {
      countWait(r.key, r.n);
    } else {
      // Before 0038: the rule id, a space, the reply's action.
      const space = r.key.lastIndexOf(" ");
      if (space > 0) countRule(r.key.slice(0, space), r.key.slice(space + 1), r.n);
    }
  }
  const total = Object.values(buckets).reduce((a, b) => a + b, 0);
  let median: ReplyWaitBucket | null = null;
  let seen = 0;
  for (const b of REPLY_WAIT_BUCKETS) {
    seen += buckets[b.key];
    if (total > 0 && seen * 2 >= total) {
      median = b.key;
      break;
    }
  }
  return {
    from: first * DAY_MS,
    to: (last + 1) * DAY_MS,
    days: out,
    totals,
    rules: [...rules.values()].sort((a, b) => b.replies - a.replies || a.ruleId.localeCompare(b.ruleId)),
    ruleReplies,
    defaultReplies,
    handoffReasons,
    replyWait: { buckets, total, median },
  };
}

/**
 * The last 30 days of the tenant, its own local days (its time zone's offset now): messages
 * received per channel, replies by kind (a person's included, failures apart), handoffs and who
 * asked for them, credits used (AI-reply debits not given back, on the day they were taken), the
 * rules that answered most, and how long customers waited for a reply.
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
  const [messages, credits, details] = await db.batch<MessageCountRow | CreditCountRow | InsightCountRow>([
    db
      .prepare(
        `SELECT day, channel, direction, NULLIF(action, '') AS action, n
           FROM message_days WHERE tenant_id = ? AND day >= ? AND day <= ?`,
      )
      .bind(tenantId, first, last),
    db
      .prepare("SELECT day, n FROM credit_days WHERE tenant_id = ? AND day >= ? AND day <= ?")
      .bind(tenantId, first, last),
    // Per rule, action and wait bucket (migrations 0037, 0038): at most the rules × actions × 8
    // buckets that answered on a day, whatever the traffic.
    db
      .prepare("SELECT day, metric, key, n FROM insight_days WHERE tenant_id = ? AND day >= ? AND day <= ?")
      .bind(tenantId, first, last),
  ]);
  return buildInsights(
    now,
    (messages?.results ?? []) as MessageCountRow[],
    (credits?.results ?? []) as CreditCountRow[],
    INSIGHTS_DAYS,
    offset,
    (details?.results ?? []) as InsightCountRow[],
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
 * nothing arrived in the last 7 days or some replies failed in that time; green otherwise (mail
 * for a person with no Discord inbox says that it waits in the live inbox).
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
  // Mail for a person with no Discord inbox connected (email-turn.ts): it reaches the live inbox
  // and the tenant is told, so it is working, and the reason says where that mail goes.
  if (a.lastInboundAction === "relay_no_inbox") return { level: "ok", reason: "no_inbox" };
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
