/**
 * The pipeline's side of the operator's platform health page: each cron's last run, the safety
 * queue's backlog, and inbound webhook traffic per channel. Counts and times only.
 */

/** Records a cron's run (by its cron expression) and whether it completed. */
export async function recordCronRun(db: D1Database, name: string, at: number, ok: boolean): Promise<void> {
  await db
    .prepare(
      `INSERT INTO cron_runs (name, last_run_at, ok) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at, ok = excluded.ok`,
    )
    .bind(name, at, ok ? 1 : 0)
    .run();
}

/**
 * The last run of each named cron, in the order asked; `null` for one that never ran. The
 * pipeline names its crons (wrangler.jsonc triggers), so one that never ran shows as such.
 */
export async function listCronRuns(
  db: D1Database,
  names: readonly string[],
): Promise<{ name: string; lastRunAt: number | null; ok: boolean | null }[]> {
  if (names.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT name, last_run_at AS lastRunAt, ok FROM cron_runs WHERE name IN (${names.map(() => "?").join(", ")})`,
    )
    .bind(...names)
    .all<{ name: string; lastRunAt: number; ok: number }>();
  const byName = new Map(results.map((r) => [r.name, r]));
  return names.map((name) => {
    const r = byName.get(name);
    return { name, lastRunAt: r?.lastRunAt ?? null, ok: r ? r.ok === 1 : null };
  });
}

/**
 * Safety verdicts still to come: `pending` waits for the classifier, `needsReview` is what the
 * dead-letter queue gave up on (a person on the platform team has to look). Personas and
 * archetypes together.
 */
export async function safetyBacklog(db: D1Database): Promise<{ pending: number; needsReview: number }> {
  const row = await db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM personas WHERE safety_status = 'pending')
            + (SELECT COUNT(*) FROM archetypes WHERE safety_status = 'pending') AS pending,
              (SELECT COUNT(*) FROM personas WHERE safety_status = 'needs_review')
            + (SELECT COUNT(*) FROM archetypes WHERE safety_status = 'needs_review') AS needsReview`,
    )
    .first<{ pending: number; needsReview: number }>();
  return { pending: row?.pending ?? 0, needsReview: row?.needsReview ?? 0 };
}

export const TRAFFIC_WINDOW_MS = 3_600_000;

/**
 * Inbound messages per channel in the hour before `now`: among the rows inserted since the newest
 * mark at least an hour old (migration 0039, `markMessages`), a range of the primary key. A row
 * counts by its own time, so one recorded late (a turn's retry) counts when it was sent.
 */
export async function inboundTrafficLastHour(
  db: D1Database,
  now: number,
): Promise<{ channel: string; count: number }[]> {
  const { results } = await db
    .prepare(
      // NOT INDEXED: the primary key's range is what bounds it; with the statistics of a full
      // database the planner would rather skip-scan an index that leads with tenant_id (it chose
      // messages_tenant_time, dropped by migration 0040; messages_account_time leads the same
      // way), once per tenant.
      `SELECT channel, COUNT(*) AS count FROM messages NOT INDEXED
        WHERE id > COALESCE((SELECT max_id FROM message_marks WHERE at <= ?1 ORDER BY at DESC LIMIT 1), 0)
          AND direction = 'inbound' AND created_at >= ?1 AND created_at < ?2
        GROUP BY channel ORDER BY channel`,
    )
    .bind(now - TRAFFIC_WINDOW_MS, now)
    .all<{ channel: string; count: number }>();
  return results;
}

/**
 * How far after `now` a mark is timed: no earlier than its read of the highest id, so that every
 * row at or below the mark was inserted before its time.
 */
const MARK_AFTER_MS = 5_000;

/** How long marks are kept; the newest one older than this stays too (the hour's start needs one). */
const MARKS_KEPT_MS = 3 * 3_600_000;

/**
 * Marks the highest message id now (the quarter-hourly cron), for `inboundTrafficLastHour`, and
 * forgets marks older than a few hours but the newest of those. Ids and times only.
 */
export async function markMessages(db: D1Database, now: number): Promise<void> {
  await db.batch([
    db
      .prepare(
        "INSERT OR REPLACE INTO message_marks (at, max_id) SELECT ?, COALESCE(MAX(id), 0) FROM messages",
      )
      .bind(now + MARK_AFTER_MS),
    db
      .prepare(
        "DELETE FROM message_marks WHERE at < ?1 AND at < (SELECT MAX(at) FROM message_marks WHERE at < ?1)",
      )
      .bind(now - MARKS_KEPT_MS),
  ]);
}

/** A conversation object whose alarm gave up after failing outside a turn (migration 0025). */
export type StuckAlarm = { tenantId: string; accountId: string; attempts: number; failedAt: number };

/** Records (or refreshes) the alert for one conversation object whose alarm gave up. */
export async function recordStuckAlarm(db: D1Database, a: StuckAlarm & { threadKey: string }): Promise<void> {
  await db
    .prepare(
      `INSERT INTO stuck_alarms (tenant_id, thread_key, account_id, attempts, failed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, thread_key) DO UPDATE SET attempts = excluded.attempts, failed_at = excluded.failed_at`,
    )
    .bind(a.tenantId, a.threadKey, a.accountId, a.attempts, a.failedAt)
    .run();
}

/** That object's alarm ran through again: its alert goes. */
export async function clearStuckAlarm(db: D1Database, tenantId: string, threadKey: string): Promise<void> {
  await db
    .prepare("DELETE FROM stuck_alarms WHERE tenant_id = ? AND thread_key = ?")
    .bind(tenantId, threadKey)
    .run();
}

/**
 * The operator's view of stuck conversation objects: how many, and the newest `limit` (ids and
 * times, never the customer's part of the thread key).
 */
export async function stuckAlarms(
  db: D1Database,
  limit = 20,
): Promise<{ count: number; recent: StuckAlarm[] }> {
  const [count, recent] = await db.batch([
    db.prepare("SELECT COUNT(*) AS n FROM stuck_alarms WHERE failed_at >= 0"),
    db
      .prepare(
        `SELECT tenant_id AS tenantId, account_id AS accountId, attempts, failed_at AS failedAt
           FROM stuck_alarms WHERE failed_at >= 0 ORDER BY failed_at DESC LIMIT ?`,
      )
      .bind(limit),
  ]);
  return {
    count: (count?.results[0] as { n: number } | undefined)?.n ?? 0,
    recent: (recent?.results ?? []) as StuckAlarm[],
  };
}

/**
 * Personas still `pending` since before `before` (epoch ms): their verdict is overdue (the queue
 * lost it, or recording it keeps failing), so the tenant's AI stays paused. The health page's
 * alert; the 15-minute cron queues them again (listStalePendingSafety).
 */
export async function overdueSafetyCount(db: D1Database, before: number): Promise<number> {
  const row = await db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM personas WHERE safety_status = 'pending' AND updated_at < ?1)
            + (SELECT COUNT(*) FROM archetypes WHERE safety_status = 'pending' AND updated_at < ?1 AND hash IS NOT NULL) AS n`,
    )
    .bind(before)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Stuck objects whose alarm gave up before `before` (epoch ms), oldest first, for the cron that
 * wakes them again: their accepted messages are answered (or given up, telling the tenant) once
 * whatever failed works again. A range of stuck_alarms_at, bounded by `limit`.
 */
export async function listStuckAlarmsDue(
  db: D1Database,
  before: number,
  limit = 50,
): Promise<{ tenantId: string; threadKey: string }[]> {
  const { results } = await db
    .prepare(
      `SELECT tenant_id AS tenantId, thread_key AS threadKey FROM stuck_alarms
        WHERE failed_at < ? ORDER BY failed_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<{ tenantId: string; threadKey: string }>();
  return results;
}
