import type { ApprovalRow, ApprovalStatus } from "@concierge/core";

/** Held AI drafts, indexed without their text (the text is in the conversation's object). */
export type { ApprovalRow, ApprovalStatus };

/** Drafts wait this long for a decision, then expire and give their credit back. */
export const APPROVAL_TTL_MS = 24 * 3600_000;

const COLUMNS = `id, tenant_id AS tenantId, account_id AS accountId, thread_key AS threadKey,
  conversation_id AS conversationId, rule_id AS ruleId, credit_ref AS creditRef, reasons, status,
  created_at AS createdAt, expires_at AS expiresAt, decided_at AS decidedAt, decided_by AS decidedBy`;

type Raw = Omit<ApprovalRow, "reasons"> & { reasons: string };
const parse = (r: Raw): ApprovalRow => ({ ...r, reasons: JSON.parse(r.reasons) as string[] });

/**
 * A held draft's approval, pending for APPROVAL_TTL_MS, or until `sendableUntil` when that is
 * sooner (the channel stops accepting the reply then): the expiry cron then gives its credit back
 * instead of leaving an Approve that can only be refused.
 */
export async function createApproval(
  db: D1Database,
  a: Pick<
    ApprovalRow,
    "id" | "tenantId" | "accountId" | "threadKey" | "conversationId" | "ruleId" | "creditRef" | "reasons"
  > & { sendableUntil?: number | null },
  now = Date.now(),
): Promise<void> {
  await db
    .prepare(
      `INSERT OR IGNORE INTO approvals (id, tenant_id, account_id, thread_key, conversation_id, rule_id, credit_ref, reasons, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      a.id,
      a.tenantId,
      a.accountId,
      a.threadKey,
      a.conversationId,
      a.ruleId,
      a.creditRef,
      JSON.stringify(a.reasons),
      now,
      Math.min(now + APPROVAL_TTL_MS, a.sendableUntil ?? Number.POSITIVE_INFINITY),
    )
    .run();
}

export async function getApproval(db: D1Database, tenantId: string, id: string): Promise<ApprovalRow | null> {
  const r = await db
    .prepare(`SELECT ${COLUMNS} FROM approvals WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<Raw>();
  return r ? parse(r) : null;
}

export async function listPendingApprovals(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<ApprovalRow[]> {
  const { results } = await db
    .prepare(
      // INDEXED BY: SQLite otherwise takes approvals_expiry (status, expires_at), which walks every
      // tenant's pending approvals; this tenant's are a range of approvals_pending.
      `SELECT ${COLUMNS} FROM approvals INDEXED BY approvals_pending
        WHERE tenant_id = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at`,
    )
    .bind(tenantId, now)
    .all<Raw>();
  return results.map(parse);
}

/**
 * Moves one approval from `from` to `to`, only if it is still in `from` (and, for a decision,
 * not expired). Exactly one of two racing clicks wins; the other sees `changed: false`.
 */
export async function transitionApproval(
  db: D1Database,
  tenantId: string,
  id: string,
  from: ApprovalStatus,
  to: ApprovalStatus,
  by: string | null,
  opts: { unexpiredOnly: boolean; now?: number } = { unexpiredOnly: true },
): Promise<{ changed: boolean }> {
  const now = opts.now ?? Date.now();
  const res = await db
    .prepare(
      `UPDATE approvals SET status = ?, decided_at = ?, decided_by = COALESCE(?, decided_by)
        WHERE id = ? AND tenant_id = ? AND status = ? AND (? = 0 OR expires_at > ?)`,
    )
    .bind(to, now, by, id, tenantId, from, opts.unexpiredOnly ? 1 : 0, now)
    .run();
  return { changed: res.meta.changes > 0 };
}

/** Pending approvals past their expiry, for the cron. */
export async function listExpiredApprovals(
  db: D1Database,
  now = Date.now(),
  limit = 200,
): Promise<ApprovalRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    )
    .bind(now, limit)
    .all<Raw>();
  return results.map(parse);
}

/**
 * Approvals left in `sending` since before `before` (epoch ms): a decision that threw between
 * taking the `pending → sending` lock and recording the outcome, for the sweep to settle. The
 * status prefix of approvals_expiry bounds the read; `sending` rows are few and short-lived.
 */
export async function listStuckSendingApprovals(
  db: D1Database,
  before: number,
  limit = 100,
): Promise<ApprovalRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM approvals WHERE status = 'sending' AND decided_at < ? ORDER BY decided_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<Raw>();
  return results.map(parse);
}
