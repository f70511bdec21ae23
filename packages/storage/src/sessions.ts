/**
 * Dashboard sessions (`sessions`). The cookie carries a random token; a row holds only its
 * SHA-256 (`tokenHash`, the primary key), so a copy of the table cannot be replayed as cookies.
 * Deleting the row revokes the session at once. The caller makes and hashes the tokens.
 */

/** A live session with what every signed-in page shows: the person and their business. */
export type SessionRow = {
  tokenHash: string;
  userId: string;
  tenantId: string;
  /** Synchronizer token: every state-changing request must echo it. */
  csrfToken: string;
  expiresAt: number;
  userName: string | null;
  userEmail: string | null;
  tenantName: string;
  locale: string;
  currency: string;
};

export async function insertSession(
  db: D1Database,
  s: {
    tokenHash: string;
    userId: string;
    tenantId: string;
    csrfToken: string;
    createdAt: number;
    expiresAt: number;
  },
): Promise<void> {
  await db
    .prepare(
      "INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(s.tokenHash, s.userId, s.tenantId, s.csrfToken, s.createdAt, s.expiresAt)
    .run();
}

/**
 * The session under this token hash with its user and tenant, while it has not expired; null when
 * there is none (never created, revoked, expired, or its user or tenant deleted). One lookup by
 * primary key on each of the three tables.
 */
export async function getLiveSession(
  db: D1Database,
  tokenHash: string,
  now = Date.now(),
): Promise<SessionRow | null> {
  return db
    .prepare(
      `SELECT s.token_hash AS tokenHash, s.user_id AS userId, s.tenant_id AS tenantId,
              s.csrf_token AS csrfToken, s.expires_at AS expiresAt, u.name AS userName,
              u.email AS userEmail, t.name AS tenantName, t.locale, t.currency
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
        WHERE s.token_hash = ? AND s.expires_at > ?`,
    )
    .bind(tokenHash, now)
    .first<SessionRow>();
}

/** Revokes one session at once (sign-out, a new sign-in in the same browser). */
export async function deleteSession(db: D1Database, tokenHash: string): Promise<void> {
  await db.prepare("DELETE FROM sessions WHERE token_hash = ?").bind(tokenHash).run();
}

/**
 * Removes expired rows (through the expiry index); returns how many. They are dead already
 * (getLiveSession ignores them): this only keeps the table small.
 */
export async function deleteExpiredSessions(db: D1Database, now = Date.now()): Promise<number> {
  const r = await db.prepare("DELETE FROM sessions WHERE expires_at <= ?").bind(now).run();
  return r.meta.changes;
}
