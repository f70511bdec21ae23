/**
 * DemoQuotaDO's SQLite, in one module (as the conversation object's is in conversation/store.ts):
 * one table of counts, each row with the end of its window. Counts and keys only, never text.
 */

/** Creates the table on the object's first use; idempotent. */
export function initQuotaStore(sql: SqlStorage): void {
  sql.exec(
    `CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX IF NOT EXISTS counts_expiry ON counts (expires_at);`,
  );
}

/** Deletes the rows whose window has ended by `now`. */
export function deleteEnded(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM counts WHERE expires_at <= ?", now);
}

/** When the next window ends, or null when nothing is counted. */
export function nextEnd(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM counts").one().at;
}

export function count(sql: SqlStorage, key: string): number {
  return sql.exec<{ n: number }>("SELECT n FROM counts WHERE key = ?", key).toArray()[0]?.n ?? 0;
}

/** One more for `key`, whose window ends at `expiresAt`. */
export function bump(sql: SqlStorage, key: string, expiresAt: number): void {
  sql.exec(
    "INSERT INTO counts (key, n, expires_at) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET n = n + 1",
    key,
    expiresAt,
  );
}
