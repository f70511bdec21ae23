import type { Channel, DeliveryStatus, MessageKind, StatusOutcome } from "@concierge/core";

/** One metadata row. There is deliberately no field for text, subject or the attachment itself. */
export type MessageMeta = {
  tenantId: string;
  accountId: string;
  channel: Channel;
  direction: "inbound" | "outbound";
  providerMessageId: string;
  conversationId: string | null;
  senderId: string;
  recipientId: string;
  action: string | null;
  ruleId: string | null;
  at: number;
  /** Inbound only: what arrived (text, media, location, …) and whether it carried a file. */
  kind?: MessageKind | null;
  hasAttachment?: boolean | null;
  /** Meta's error code when the send was refused (`send_failed`); never its message. */
  errorCode?: number | null;
  /**
   * Outbound replies: how long the customer had waited for it, from their first unanswered
   * message (ms); the insights' time to reply (migration 0037).
   */
  replyWaitMs?: number | null;
};

function insert(db: D1Database, m: MessageMeta): D1PreparedStatement {
  // Idempotent by provider id: a retried turn or a redelivered webhook never writes twice.
  return db
    .prepare(
      `INSERT OR IGNORE INTO messages
        (tenant_id, account_id, channel, direction, provider_message_id, conversation_id,
         sender_id, recipient_id, action, rule_id, created_at, kind, has_attachment, error_code,
         reply_wait_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      m.tenantId,
      m.accountId,
      m.channel,
      m.direction,
      m.providerMessageId,
      m.conversationId,
      m.senderId,
      m.recipientId,
      m.action,
      m.ruleId,
      m.at,
      m.kind ?? null,
      m.hasAttachment == null ? null : m.hasAttachment ? 1 : 0,
      m.errorCode ?? null,
      m.replyWaitMs == null ? null : Math.max(0, Math.round(m.replyWaitMs)),
    );
}

/**
 * Records metadata rows, one batch. An outbound row takes the delivery status that arrived before
 * it (early_statuses, kept by recordDeliveryStatus) in the same batch: the status only moves
 * forward, and a `failed` one moves the row's count to the failures (migration 0037's trigger).
 * Both statements are by primary key; a row with no early status changes nothing.
 */
export async function recordMessages(db: D1Database, rows: MessageMeta[]): Promise<void> {
  if (rows.length === 0) return;
  const statements: D1PreparedStatement[] = [];
  for (const r of rows) {
    statements.push(insert(db, r));
    // A refused send's row carries our own id (`failed:…`): no provider status can be about it.
    if (r.direction === "outbound" && !r.providerMessageId.startsWith("failed:")) {
      statements.push(...applyEarlyStatus(db, r.accountId, r.channel, r.providerMessageId));
    }
  }
  await db.batch(statements);
}

/** Applies a kept early status to its outbound row, if both exist, and forgets it. */
function applyEarlyStatus(
  db: D1Database,
  accountId: string,
  channel: Channel,
  providerMessageId: string,
): D1PreparedStatement[] {
  return [
    db
      .prepare(
        `UPDATE messages
            SET status = e.status, status_at = e.status_at, status_error_code = e.error_code,
                status_error_title = e.error_title
           FROM early_statuses e
          WHERE e.account_id = ?1 AND e.channel = ?2 AND e.provider_message_id = ?3
            AND messages.account_id = ?1 AND messages.channel = ?2 AND messages.direction = 'outbound'
            AND messages.provider_message_id = ?3
            AND ${STATUS_RANK_SQL("messages.status")} < ${STATUS_RANK_SQL("e.status")}`,
      )
      .bind(accountId, channel, providerMessageId),
    db
      .prepare(
        `DELETE FROM early_statuses
          WHERE account_id = ?1 AND channel = ?2 AND provider_message_id = ?3
            AND EXISTS (SELECT 1 FROM messages m WHERE m.account_id = ?1 AND m.channel = ?2
                          AND m.direction = 'outbound' AND m.provider_message_id = ?3)`,
      )
      .bind(accountId, channel, providerMessageId),
  ];
}

export type StatusChange = {
  /** The account's tenant: an early status is kept (and deleted) with it. */
  tenantId: string;
  accountId: string;
  channel: Channel;
  providerMessageId: string;
  status: DeliveryStatus;
  at: number;
  errorCode: number | null;
  errorTitle: string | null;
};

/** Forward order of statuses; failed outranks everything so that it is terminal. */
const STATUS_RANK_SQL = (col: string) =>
  `CASE ${col} WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 9 ELSE 0 END`;

/**
 * Records a provider's delivery status on our outbound row, in one conditional statement: webhooks
 * arrive out of order and twice, so a status only ever moves forward (a late `delivered` never
 * undoes `read`) and nothing moves a `failed` row. A status for a row not written yet (the webhook
 * beat the write that follows the send) is kept, at its furthest, and applied when the row is
 * written (recordMessages): "kept". One batch, so a row written meanwhile cannot miss it.
 */
export async function recordDeliveryStatus(db: D1Database, c: StatusChange): Promise<StatusOutcome> {
  const row = "channel = ?5 AND direction = 'outbound' AND provider_message_id = ?6 AND account_id = ?7";
  const [updated, kept] = await db.batch([
    db
      .prepare(
        `UPDATE messages
            SET status = ?1, status_at = ?2, status_error_code = ?3, status_error_title = ?4
          WHERE ${row} AND ${STATUS_RANK_SQL("status")} < ${STATUS_RANK_SQL("?1")}`,
      )
      .bind(c.status, c.at, c.errorCode, c.errorTitle, c.channel, c.providerMessageId, c.accountId),
    db
      .prepare(
        `INSERT INTO early_statuses
           (tenant_id, account_id, channel, provider_message_id, status, status_at, error_code, error_title, created_at)
         SELECT ?8, ?7, ?5, ?6, ?1, ?2, ?3, ?4, ?9
          WHERE NOT EXISTS (SELECT 1 FROM messages WHERE ${row})
            -- A tenant deleted a moment ago (its account still cached upstream): nothing to keep.
            AND EXISTS (SELECT 1 FROM tenants WHERE id = ?8)
         ON CONFLICT (account_id, channel, provider_message_id) DO UPDATE
            SET status = excluded.status, status_at = excluded.status_at, error_code = excluded.error_code,
                error_title = excluded.error_title
          WHERE ${STATUS_RANK_SQL("early_statuses.status")} < ${STATUS_RANK_SQL("excluded.status")}`,
      )
      .bind(
        c.status,
        c.at,
        c.errorCode,
        c.errorTitle,
        c.channel,
        c.providerMessageId,
        c.accountId,
        c.tenantId,
        Date.now(),
      ),
  ]);
  if ((updated?.meta.changes ?? 0) > 0) return "updated";
  if ((kept?.meta.changes ?? 0) > 0) return "kept";
  const exists = await db
    .prepare(
      "SELECT 1 FROM messages WHERE channel = ? AND direction = 'outbound' AND provider_message_id = ? AND account_id = ?",
    )
    .bind(c.channel, c.providerMessageId, c.accountId)
    .first();
  return exists ? "unchanged" : "kept";
}

/** Early statuses that found no row in time (sends from outside Concierge): forgotten, `limit` at a time. */
export async function purgeEarlyStatuses(db: D1Database, before: number, limit = 1000): Promise<number> {
  const r = await db
    .prepare(
      `DELETE FROM early_statuses WHERE (account_id, channel, provider_message_id) IN (
         SELECT account_id, channel, provider_message_id FROM early_statuses WHERE created_at < ? LIMIT ?)`,
    )
    .bind(before, limit)
    .run();
  return r.meta.changes;
}

/**
 * Whether an inbound message with this provider id was already recorded on the account (a
 * redelivered email, say); one lookup on the UNIQUE (account_id, direction, provider_message_id).
 */
export async function inboundMessageRecorded(
  db: D1Database,
  accountId: string,
  providerMessageId: string,
): Promise<boolean> {
  const row = await db
    .prepare(
      "SELECT 1 FROM messages WHERE account_id = ? AND direction = 'inbound' AND provider_message_id = ?",
    )
    .bind(accountId, providerMessageId)
    .first();
  return row !== null;
}

/** The inbound action of customer messages a turn gave up on after a day of failures. */
export const GIVEN_UP_ACTION = "given_up";

/**
 * How many of the tenant's customer messages since `since` (epoch ms) got no reply because their
 * turn gave up (the overview's alert). A range of the partial index messages_given_up: only the
 * given-up rows are read, not every message since `since`. The action is written into the SQL
 * (not bound) so that SQLite can match the index's WHERE.
 */
export async function countGivenUpMessages(db: D1Database, tenantId: string, since: number): Promise<number> {
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS n FROM messages
        WHERE tenant_id = ? AND created_at >= ? AND direction = 'inbound' AND action = '${GIVEN_UP_ACTION}'`,
    )
    .bind(tenantId, since)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
