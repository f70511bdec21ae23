/**
 * Side effects outside our storage (migrations/0023_side_effects.sql): recorded in the same batch
 * as the change that needs them, tried at once by the caller, and retried by the cron. A row is
 * claimed by a conditional UPDATE of `next_at` (a lease), so two cron runs never try one effect
 * at the same time.
 */
import {
  SIDE_EFFECT_MAX_ATTEMPTS,
  type SideEffectKind,
  type SideEffectStatus,
  type SideEffectSummary,
  newId,
  sideEffectBackoffMs,
} from "@concierge/core";

export type SideEffectRow = {
  id: string;
  tenantId: string | null;
  kind: SideEffectKind;
  /** The ids the effect acts on (JSON in D1): never a secret or message text. */
  target: Record<string, string>;
  attempts: number;
  nextAt: number;
};

/** The key that makes recording the same effect twice one row. */
export function sideEffectKey(kind: SideEffectKind, target: Record<string, string>): string {
  const ids = Object.keys(target)
    .sort()
    .map((k) => `${k}=${target[k]}`)
    .join("&");
  return `${kind}:${ids}`;
}

/**
 * Records an effect as pending and due at `now` (a statement, so the caller batches it with the
 * change that needs it). Recording one that exists reopens it (a number connected again and
 * disconnected again must be released again); one already pending keeps its attempts.
 */
export function recordSideEffectStatement(
  db: D1Database,
  e: { tenantId: string | null; kind: SideEffectKind; target: Record<string, string>; now: number },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO side_effects (id, dedupe_key, tenant_id, kind, target, status, attempts, next_at, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)
       ON CONFLICT (dedupe_key) DO UPDATE SET
         status = 'pending', attempts = 0, next_at = excluded.next_at, last_error = NULL,
         done_at = NULL, tenant_id = excluded.tenant_id, created_at = excluded.created_at
       WHERE side_effects.status <> 'pending'`,
    )
    .bind(newId("se"), sideEffectKey(e.kind, e.target), e.tenantId, e.kind, JSON.stringify(e.target), e.now);
}

type Raw = {
  id: string;
  tenantId: string | null;
  kind: SideEffectKind;
  target: string;
  attempts: number;
  nextAt: number;
};

function parse(r: Raw): SideEffectRow {
  return { ...r, target: JSON.parse(r.target) as Record<string, string> };
}

/** The pending effect recorded under this kind and target (to try it at once after recording it). */
export async function getPendingSideEffect(
  db: D1Database,
  kind: SideEffectKind,
  target: Record<string, string>,
): Promise<SideEffectRow | null> {
  const r = await db
    .prepare(
      `SELECT id, tenant_id AS tenantId, kind, target, attempts, next_at AS nextAt
         FROM side_effects WHERE dedupe_key = ? AND status = 'pending'`,
    )
    .bind(sideEffectKey(kind, target))
    .first<Raw>();
  return r ? parse(r) : null;
}

/** Up to `limit` pending effects due by `now`, oldest due first (the partial index side_effects_due). */
export async function listDueSideEffects(
  db: D1Database,
  now: number,
  limit: number,
): Promise<SideEffectRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, tenant_id AS tenantId, kind, target, attempts, next_at AS nextAt
         FROM side_effects WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<Raw>();
  return results.map(parse);
}

/**
 * Takes an effect for one attempt: moves `next_at` from what the caller read to a lease's end.
 * False when another run took it meanwhile (or it is no longer pending): then do nothing.
 */
export async function claimSideEffect(
  db: D1Database,
  e: { id: string; nextAt: number },
  leaseUntil: number,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE side_effects SET next_at = ? WHERE id = ? AND status = 'pending' AND next_at = ?")
    .bind(leaseUntil, e.id, e.nextAt)
    .run();
  return res.meta.changes > 0;
}

/** The effect happened (or was found already done at the provider). */
export async function completeSideEffect(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE side_effects SET status = 'done', done_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'",
    )
    .bind(now, id)
    .run();
}

/**
 * An attempt failed: due again after the back-off, or given up ('failed') after the last attempt
 * or when the failure is permanent. Returns the new status.
 */
export async function failSideEffect(
  db: D1Database,
  e: { id: string; attempts: number },
  error: string,
  now: number,
  permanent = false,
): Promise<SideEffectStatus> {
  const attempts = e.attempts + 1;
  const giveUp = permanent || attempts >= SIDE_EFFECT_MAX_ATTEMPTS;
  await db
    .prepare(
      `UPDATE side_effects SET attempts = ?, last_error = ?, status = ?, next_at = ?
        WHERE id = ? AND status = 'pending'`,
    )
    .bind(
      attempts,
      error.slice(0, 100),
      giveUp ? "failed" : "pending",
      now + sideEffectBackoffMs(attempts),
      e.id,
    )
    .run();
  return giveUp ? "failed" : "pending";
}

/** Every effect recorded for a tenant (or a deleted tenant's id), newest first, at most `limit`. */
export async function listTenantSideEffects(
  db: D1Database,
  tenantId: string,
  limit = 50,
): Promise<SideEffectSummary[]> {
  const { results } = await db
    .prepare(
      `SELECT kind, status, attempts, CASE WHEN status = 'pending' THEN next_at END AS nextAt,
              last_error AS lastError, created_at AS createdAt, done_at AS doneAt
         FROM side_effects WHERE tenant_id = ? ORDER BY created_at DESC LIMIT ?`,
    )
    .bind(tenantId, limit)
    .all<SideEffectSummary>();
  return results;
}

/** The operator's counts: effects still pending and effects that gave up. */
export async function countSideEffects(db: D1Database): Promise<{ pending: number; failed: number }> {
  const [pending, failed] = await db.batch<{ n: number }>([
    db.prepare("SELECT COUNT(*) AS n FROM side_effects WHERE status = 'pending'"),
    db.prepare("SELECT COUNT(*) AS n FROM side_effects WHERE status = 'failed'"),
  ]);
  return { pending: pending?.results[0]?.n ?? 0, failed: failed?.results[0]?.n ?? 0 };
}
