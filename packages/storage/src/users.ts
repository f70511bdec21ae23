/**
 * People who sign in to the dashboard (`users`). One identity (provider + subject, UNIQUE)
 * belongs to one user and one tenant.
 */

export type SignInProvider = "google" | "facebook" | "dev";

export type UserRow = { id: string; tenantId: string };

/** The user of one identity, through the UNIQUE (provider, subject) index; null when unknown. */
export async function findUserByIdentity(
  db: D1Database,
  provider: SignInProvider,
  subject: string,
): Promise<UserRow | null> {
  return db
    .prepare("SELECT id, tenant_id AS tenantId FROM users WHERE provider = ? AND subject = ?")
    .bind(provider, subject)
    .first<UserRow>();
}

/**
 * Adds a user for an identity. When the identity has a user already (two first sign-ins racing),
 * nothing changes: the UNIQUE constraint keeps the first, so read it back with findUserByIdentity.
 * Returns whether this call inserted the row.
 */
export async function insertUserIfAbsent(
  db: D1Database,
  u: {
    id: string;
    tenantId: string;
    provider: SignInProvider;
    subject: string;
    email: string | null;
    name: string | null;
    createdAt: number;
  },
): Promise<boolean> {
  const r = await db
    .prepare(
      `INSERT INTO users (id, tenant_id, provider, subject, email, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, subject) DO NOTHING`,
    )
    .bind(u.id, u.tenantId, u.provider, u.subject, u.email, u.name, u.createdAt)
    .run();
  return r.meta.changes > 0;
}

/**
 * Deletes one user and their sessions (a data deletion request for their Facebook sign-in): the
 * sessions first, so no cookie outlives the user. Returns the rows deleted (0 when already gone).
 */
export async function deleteUserWithSessions(
  db: D1Database,
  tenantId: string,
  userId: string,
): Promise<number> {
  const results = await db.batch([
    db.prepare("DELETE FROM sessions WHERE user_id = ? AND tenant_id = ?").bind(userId, tenantId),
    db.prepare("DELETE FROM users WHERE id = ? AND tenant_id = ?").bind(userId, tenantId),
  ]);
  return results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
}
