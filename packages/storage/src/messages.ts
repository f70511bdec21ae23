import type { Channel } from "@concierge/core";

/** One metadata row. There is deliberately no field for text, subject or attachments. */
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
};

function insert(db: D1Database, m: MessageMeta): D1PreparedStatement {
  // Idempotent by provider id: a retried turn or a redelivered webhook never writes twice.
  return db
    .prepare(
      `INSERT OR IGNORE INTO messages
        (tenant_id, account_id, channel, direction, provider_message_id, conversation_id,
         sender_id, recipient_id, action, rule_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    );
}

export async function recordMessages(db: D1Database, rows: MessageMeta[]): Promise<void> {
  if (rows.length === 0) return;
  await db.batch(rows.map((r) => insert(db, r)));
}
