/**
 * The live inbox (issue 19 items 1 and 2, migrations/0034): the tenant's open conversations from
 * metadata only. A conversation is a customer of one account who wrote within the window the
 * caller gives; its state comes from a pending approval, else from `conversation_states`, the
 * mirror its conversation object writes when control changes. Text never comes from here: the
 * conversation object opens it on request (ARCHITECTURE.md §5).
 */
import type { Channel } from "@concierge/core";
import { tenantAccounts } from "./message-accounts.ts";

/** Who answers the customer now, as the inbox shows it. */
export type InboxState = "bot" | "approval" | "handed_off" | "taken_over" | "paused";
export const INBOX_STATES: readonly InboxState[] = ["bot", "approval", "handed_off", "taken_over", "paused"];

/**
 * Who answers apart from a pause, as a conversation object records it (a pending approval is read
 * from `approvals`; a pause from `paused_until`, so the handoff under it shows again when it ends).
 */
export type MirroredState = "bot" | "handed_off" | "taken_over";

export type InboxRow = {
  /**
   * The customer's newest message row, as `<id>-<created_at>`: the conversation's handle in the
   * inbox's links, opaque, scoped to the tenant (`findInboxConversation` checks), and never the
   * customer's number. The time is part of it because a message id can come back (migration 0038:
   * no AUTOINCREMENT) once the newest row of all is deleted: a link to the deleted message then
   * names nothing, never a later customer's row with the same id.
   */
  ref: string;
  accountId: string;
  accountName: string;
  channel: Exclude<Channel, "discord">;
  customerId: string;
  conversationId: string | null;
  lastAt: number;
  /** Customer messages within the window. */
  messages: number;
  /** What the turn did with the newest one (`injection_flagged`, `relay_no_inbox`, …). */
  lastAction: string | null;
  state: InboxState;
  /** Who set the state ('ai', 'rule', or a person), null for a conversation nobody touched. */
  actor: string | null;
  pausedUntil: number | null;
  stateAt: number | null;
};

export type InboxQuery = {
  now: number;
  /** Conversations whose customer wrote at or after this time. */
  since: number;
  channel?: Exclude<Channel, "discord"> | null;
  state?: InboxState | null;
  limit: number;
  offset: number;
};

/**
 * The state a row shows: an approval waiting first (it needs a decision), then a pause still
 * running, then a handoff or takeover of the conversation still going (the idle gap ends it).
 */
const STATE = `CASE
    WHEN r.waiting THEN 'approval'
    WHEN s.paused_until > ?4 THEN 'paused'
    WHEN s.state IN ('handed_off', 'taken_over') AND s.conversation_id IS r.conversation_id THEN s.state
    ELSE 'bot' END`;

/**
 * One page of the tenant's open conversations, newest first. Bounded by the tenant's customer
 * messages since `since` (each account's range, message-accounts.ts), grouped per customer; the state is a
 * primary-key probe per row and a probe of the tenant's pending approvals. `more`: a next page.
 */
export async function listInbox(
  db: D1Database,
  tenantId: string,
  q: InboxQuery,
): Promise<{ rows: InboxRow[]; more: boolean }> {
  // SQLite fills the bare columns (id, conversation_id, action) from the row holding the MAX.
  const { results } = await db
    .prepare(
      `WITH recent AS (
         SELECT m.id, m.account_id, m.channel, m.sender_id, m.conversation_id, m.action,
                MAX(m.created_at) AS last_at, COUNT(*) AS n,
                EXISTS (SELECT 1 FROM approvals a
                         WHERE a.tenant_id = ?1 AND a.status = 'pending' AND a.account_id = m.account_id
                           AND a.thread_key = ?1 || '/' || m.account_id || '/' || m.sender_id) AS waiting
           FROM messages m
          WHERE m.tenant_id = ?1 AND m.account_id IN ${tenantAccounts("?1")}
            AND m.direction = 'inbound' AND m.created_at >= ?2
            AND m.channel <> 'discord' AND (?3 IS NULL OR m.channel = ?3)
          GROUP BY m.account_id, m.sender_id
       )
       SELECT * FROM (
         SELECT r.id || '-' || r.last_at AS ref, r.id AS messageId, r.account_id AS accountId,
                COALESCE(c.display_name, c.external_id, r.account_id) AS accountName,
                r.channel, r.sender_id AS customerId, r.conversation_id AS conversationId,
                r.last_at AS lastAt, r.n AS messages, r.action AS lastAction,
                ${STATE} AS state, s.actor, s.paused_until AS pausedUntil, s.updated_at AS stateAt
           FROM recent r
           LEFT JOIN conversation_states s ON s.account_id = r.account_id AND s.customer_id = r.sender_id
           LEFT JOIN channel_accounts c ON c.id = r.account_id
       )
       WHERE (?5 IS NULL OR state = ?5)
       ORDER BY lastAt DESC, messageId DESC
       LIMIT ?6 OFFSET ?7`,
    )
    .bind(tenantId, q.since, q.channel ?? null, q.now, q.state ?? null, q.limit + 1, q.offset)
    .all<InboxRow & { messageId?: number }>();
  return {
    rows: results.slice(0, q.limit).map(({ messageId: _id, ...row }) => row),
    more: results.length > q.limit,
  };
}

/**
 * The conversation an inbox link names, if the message row `ref` (`<id>-<created_at>`, as
 * `listInbox` gives it) is a customer message of this tenant (another tenant's ref, an outbound
 * row, a purged one, or a later row given a deleted one's id: null), with its current state.
 */
export async function findInboxConversation(
  db: D1Database,
  tenantId: string,
  ref: string,
  now: number,
): Promise<InboxRow | null> {
  const parts = /^([1-9][0-9]{0,15})-([0-9]{1,16})$/.exec(ref);
  if (!parts) return null;
  const [id, at] = [Number(parts[1]), Number(parts[2])];
  if (!Number.isSafeInteger(id) || !Number.isSafeInteger(at)) return null;
  const row = await db
    .prepare(
      `WITH r AS (
         SELECT m.id, m.account_id, m.channel, m.sender_id,
                -- The customer's newest message's conversation: a newer one than the link's.
                (SELECT n.conversation_id FROM messages n
                  WHERE n.tenant_id = m.tenant_id AND n.account_id = m.account_id AND n.direction = 'inbound'
                    AND n.sender_id = m.sender_id
                  ORDER BY n.created_at DESC LIMIT 1) AS conversation_id,
                m.action, m.created_at AS last_at,
                EXISTS (SELECT 1 FROM approvals a
                         WHERE a.tenant_id = ?1 AND a.status = 'pending' AND a.account_id = m.account_id
                           AND a.thread_key = ?1 || '/' || m.account_id || '/' || m.sender_id) AS waiting
           FROM messages m
          WHERE m.id = ?2 AND m.created_at = ?3 AND m.tenant_id = ?1 AND m.direction = 'inbound'
            AND m.channel <> 'discord'
       )
       SELECT r.id || '-' || r.last_at AS ref, r.account_id AS accountId,
              COALESCE(c.display_name, c.external_id, r.account_id) AS accountName,
              r.channel, r.sender_id AS customerId, r.conversation_id AS conversationId,
              r.last_at AS lastAt, 1 AS messages, r.action AS lastAction,
              ${STATE} AS state, s.actor, s.paused_until AS pausedUntil, s.updated_at AS stateAt
         FROM r
         JOIN channel_accounts c ON c.id = r.account_id AND c.tenant_id = ?1
         LEFT JOIN conversation_states s ON s.account_id = r.account_id AND s.customer_id = r.sender_id`,
    )
    .bind(tenantId, id, at, now)
    .first<InboxRow>();
  return row ?? null;
}

export type ConversationStateChange = {
  tenantId: string;
  accountId: string;
  customerId: string;
  conversationId: string | null;
  state: MirroredState;
  actor: string;
  pausedUntil?: number | null;
  at: number;
};

/**
 * Records who controls a thread now. Last write by time wins: a late retry of an older change
 * never overwrites a newer one.
 */
export async function saveConversationState(db: D1Database, c: ConversationStateChange): Promise<void> {
  await db
    .prepare(
      `INSERT INTO conversation_states
         (tenant_id, account_id, customer_id, conversation_id, state, actor, paused_until, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (account_id, customer_id) DO UPDATE SET
         conversation_id = excluded.conversation_id, state = excluded.state, actor = excluded.actor,
         paused_until = excluded.paused_until, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= conversation_states.updated_at
         AND conversation_states.tenant_id = excluded.tenant_id`,
    )
    .bind(
      c.tenantId,
      c.accountId,
      c.customerId,
      c.conversationId,
      c.state,
      c.actor,
      c.pausedUntil ?? null,
      c.at,
    )
    .run();
}
