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
};

function insert(db: D1Database, m: MessageMeta): D1PreparedStatement {
  // Idempotent by provider id: a retried turn or a redelivered webhook never writes twice.
  return db
    .prepare(
      `INSERT OR IGNORE INTO messages
        (tenant_id, account_id, channel, direction, provider_message_id, conversation_id,
         sender_id, recipient_id, action, rule_id, created_at, kind, has_attachment, error_code)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    );
}

export async function recordMessages(db: D1Database, rows: MessageMeta[]): Promise<void> {
  if (rows.length === 0) return;
  await db.batch(rows.map((r) => insert(db, r)));
}

export type StatusChange = {
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
 * undoes `read`) and nothing moves a `failed` row.
 */
export async function recordDeliveryStatus(db: D1Database, c: StatusChange): Promise<StatusOutcome> {
  const r = await db
    .prepare(
      `UPDATE messages
          SET status = ?1, status_at = ?2, status_error_code = ?3, status_error_title = ?4
        WHERE channel = ?5 AND direction = 'outbound' AND provider_message_id = ?6 AND account_id = ?7
          AND ${STATUS_RANK_SQL("status")} < ${STATUS_RANK_SQL("?1")}`,
    )
    .bind(c.status, c.at, c.errorCode, c.errorTitle, c.channel, c.providerMessageId, c.accountId)
    .run();
  if (r.meta.changes > 0) return "updated";
  const exists = await db
    .prepare(
      "SELECT 1 FROM messages WHERE channel = ? AND direction = 'outbound' AND provider_message_id = ? AND account_id = ?",
    )
    .bind(c.channel, c.providerMessageId, c.accountId)
    .first();
  return exists ? "unchanged" : "unknown";
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
