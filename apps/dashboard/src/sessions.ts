import { toBase64Url, toHex, utf8 } from "@concierge/crypto";

export const SESSION_TTL_MS = 14 * 24 * 3600_000;

export type Session = {
  tokenHash: string;
  userId: string;
  tenantId: string;
  csrfToken: string;
  expiresAt: number;
  userName: string | null;
  userEmail: string | null;
  tenantName: string;
  locale: string;
  currency: string;
};

function randomToken(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

async function hashToken(token: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(token))));
}

/** A new server-side session; the caller puts `token` in the cookie, D1 keeps only its hash. */
export async function createSession(
  db: D1Database,
  user: { id: string; tenantId: string },
): Promise<{ token: string; csrfToken: string }> {
  const token = randomToken();
  const csrfToken = randomToken();
  const now = Date.now();
  await db
    .prepare(
      "INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(await hashToken(token), user.id, user.tenantId, csrfToken, now, now + SESSION_TTL_MS)
    .run();
  return { token, csrfToken };
}

/** The live session for a cookie token, with what every page shows; null when absent or expired. */
export async function loadSession(db: D1Database, token: string | null): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  return db
    .prepare(
      `SELECT s.token_hash AS tokenHash, s.user_id AS userId, s.tenant_id AS tenantId,
              s.csrf_token AS csrfToken, s.expires_at AS expiresAt, u.name AS userName,
              u.email AS userEmail, t.name AS tenantName, t.locale, t.currency
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
        WHERE s.token_hash = ? AND s.expires_at > ?`,
    )
    .bind(await hashToken(token), Date.now())
    .first<Session>();
}

/** Revokes one session at once (sign out). */
export async function revokeSession(db: D1Database, tokenHash: string): Promise<void> {
  await db.prepare("DELETE FROM sessions WHERE token_hash = ?").bind(tokenHash).run();
}

/** Expired rows are dead already (loadSession ignores them); this only keeps the table small. */
export async function deleteExpiredSessions(db: D1Database): Promise<void> {
  await db.prepare("DELETE FROM sessions WHERE expires_at <= ?").bind(Date.now()).run();
}
