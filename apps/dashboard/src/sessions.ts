import { toBase64Url, toHex, utf8 } from "@concierge/crypto";
import { deleteSession, getLiveSession, insertSession, type SessionRow } from "@concierge/storage";

export const SESSION_TTL_MS = 14 * 24 * 3600_000;

export type Session = SessionRow;

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
  return getLiveSession(db, await hashToken(token));
}

/** Revokes one session at once (sign out). */
export async function revokeSession(db: D1Database, tokenHash: string): Promise<void> {
  await deleteSession(db, tokenHash);
}
