/**
 * What the safety queue should have judged by now and has not: personas and archetypes still
 * 'pending' long after their save. A save writes the row and then queues its job; if the queue
 * send fails after the row committed (or a job is lost), nothing else would ever judge that
 * version, and it would stay hidden for good. The pipeline's 15-minute cron queues these again.
 */
import type { SafetyJob } from "@concierge/core";

/**
 * How long a verdict may take before it counts as overdue: the cron queues it again, and the
 * tenant (overview, persona page) and the operator (health page) are told.
 */
export const SAFETY_OVERDUE_MS = 15 * 60_000;

/**
 * Up to `limit` personas and up to `limit` archetypes pending since before `before` (epoch ms),
 * oldest first, as the jobs that judge them. Each read is a range of the (safety_status,
 * updated_at) index, so a backlog of any size costs at most `limit` rows per table per run.
 */
export async function listStalePendingSafety(
  db: D1Database,
  before: number,
  limit = 100,
): Promise<SafetyJob[]> {
  const [personas, archetypes] = await db.batch<{ id: string; hash: string }>([
    db
      .prepare(
        `SELECT tenant_id AS id, hash FROM personas
          WHERE safety_status = 'pending' AND updated_at < ? ORDER BY updated_at LIMIT ?`,
      )
      .bind(before, limit),
    // Seeded rows have no hash (and are approved); a pending version always has one.
    db
      .prepare(
        `SELECT id, hash FROM archetypes
          WHERE safety_status = 'pending' AND updated_at < ? AND hash IS NOT NULL
          ORDER BY updated_at LIMIT ?`,
      )
      .bind(before, limit),
  ]);
  return [
    ...(personas?.results ?? []).map((r): SafetyJob => ({ kind: "persona", tenantId: r.id, hash: r.hash })),
    ...(archetypes?.results ?? []).map(
      (r): SafetyJob => ({ kind: "archetype", archetypeId: r.id, hash: r.hash }),
    ),
  ];
}
