import { randomToken, sha256Hex } from "@concierge/crypto";
import {
  deleteSession,
  getLiveSession,
  getSessionTenantSuspension,
  insertSession,
  type SessionRow,
  type TenantSuspension,
} from "@concierge/storage";

export const SESSION_TTL_MS = 14 * 24 * 3600_000;

/**
 * A live session, with the tenant's suspension when an operator has suspended it (every page
 * then says so, and why: src/layout.ts).
 */
export type Session = SessionRow & { suspension: TenantSuspension | null };

/** D1 keeps only a session token's hash: a read of the table signs nobody in. */
const hashToken = sha256Hex;

/** A new server-side session; the caller puts `token` in the cookie, D1 keeps only its hash. */
export async function createSession(
  db: D1Database,
  user: { id: string; tenantId: string },
): Promise<{ token: string; csrfToken: string }> {
  const token = randomToken();
  const csrfToken = randomToken();
  const now = Date.now();
  await insertSession(db, {
    tokenHash: await hashToken(token),
    userId: user.id,
    tenantId: user.tenantId,
    csrfToken,
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  });
  return { token, csrfToken };
}

/** The live session for a cookie token, with what every page shows; null when absent or expired. */
export async function loadSession(db: D1Database, token: string | null | undefined): Promise<Session | null> {
  // Our tokens are 43 characters; anything much longer is not one, and is not worth hashing.
  if (!token || token.length > 100) return null;
  const tokenHash = await hashToken(token);
  // Side by side, not one after the other: the suspension costs no extra wait.
  const [session, suspension] = await Promise.all([
    getLiveSession(db, tokenHash),
    getSessionTenantSuspension(db, tokenHash),
  ]);
  return session ? { ...session, suspension } : null;
}

/** Revokes one session at once (sign out). */
export async function revokeSession(db: D1Database, tokenHash: string): Promise<void> {
  await deleteSession(db, tokenHash);
}
