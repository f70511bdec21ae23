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

/** Inbound messages per channel in the hour before `now` (the partial index messages_inbound_time). */
export async function inboundTrafficLastHour(
  db: D1Database,
  now: number,
): Promise<{ channel: string; count: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT channel, COUNT(*) AS count FROM messages
        WHERE direction = 'inbound' AND created_at >= ? AND created_at < ?
        GROUP BY channel ORDER BY channel`,
    )
    .bind(now - TRAFFIC_WINDOW_MS, now)
    .all<{ channel: string; count: number }>();
  return results;
}
