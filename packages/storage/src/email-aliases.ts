/**
 * Reverse aliases (`reply+<token>@<subdomain>`): only the SHA-256 of the token is stored, so the
 * table alone cannot be used to write as the tenant. Addresses and Message-IDs only, never text.
 */
export type EmailAlias = {
  tokenHash: string;
  tenantId: string;
  accountId: string;
  originalSender: string;
  replyFrom: string;
  forwardedTo: string;
  originalMessageId: string;
  /** The original References chain, space-separated Message-IDs. */
  originalReferences: string;
  createdAt: number;
  expiresAt: number;
};

const COLUMNS = `token_hash AS tokenHash, tenant_id AS tenantId, account_id AS accountId,
  original_sender AS originalSender, reply_from AS replyFrom, forwarded_to AS forwardedTo,
  original_message_id AS originalMessageId, original_references AS originalReferences,
  created_at AS createdAt, expires_at AS expiresAt`;

export async function createEmailAlias(db: D1Database, a: EmailAlias): Promise<void> {
  await db
    .prepare(
      `INSERT INTO email_aliases
        (token_hash, tenant_id, account_id, original_sender, reply_from, forwarded_to,
         original_message_id, original_references, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      a.tokenHash,
      a.tenantId,
      a.accountId,
      a.originalSender,
      a.replyFrom,
      a.forwardedTo,
      a.originalMessageId,
      a.originalReferences,
      a.createdAt,
      a.expiresAt,
    )
    .run();
}

/** The alias of an account, expired or not: the caller tells "expired" from "unknown". */
export async function getEmailAlias(
  db: D1Database,
  accountId: string,
  tokenHash: string,
): Promise<EmailAlias | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM email_aliases WHERE token_hash = ? AND account_id = ?`)
    .bind(tokenHash, accountId)
    .first<EmailAlias>();
}

/** Removes aliases past their expiry (a sweep; lookups check the expiry themselves). */
export async function deleteExpiredEmailAliases(db: D1Database, now = Date.now()): Promise<number> {
  const r = await db.prepare("DELETE FROM email_aliases WHERE expires_at < ?").bind(now).run();
  return r.meta.changes ?? 0;
}
