/**
 * The operator audit log (migrations/0018_operator.sql): one row per operator write, written in
 * the same batch as the change it records. Append-only: this module only inserts and reads, and
 * the table's triggers refuse any UPDATE or DELETE (a test scans this package's SQL for either).
 */

/** Every action an operator can take, as recorded (the audit page filters by these). */
export const AUDIT_ACTIONS = [
  "tenant.suspend",
  "tenant.reactivate",
  "tenant.grant_credits",
  "tenant.set_quota",
  "tenant.delete",
  "tenant.rotate_key",
  "pricing.save_pack",
  "pricing.subdomain_plan",
  "pricing.trial",
  "archetype.save",
  "archetype.retire",
  "demo.save",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What changed: ids, numbers, statuses, the operator's reason. Never message text. */
export type AuditSummary = Record<string, string | number | boolean | null>;

export type AuditEntry = {
  at: number;
  operatorEmail: string;
  action: AuditAction;
  /** The tenant acted on; null for platform-wide changes (prices, archetypes, the demo). */
  tenantId: string | null;
  /** What else was acted on (a pack id, an archetype id, a currency); null when only the tenant. */
  target: string | null;
  summary: AuditSummary;
};

export type AuditRow = AuditEntry & { id: number };

/**
 * The INSERT of one audit row, to run in the same `db.batch` as the change it records. With
 * `afterChange`, the row is written only if the statement just before it in the batch changed a
 * row (SQLite's changes(): that statement's own rows, not its triggers'), so a change that turns
 * out to be a no-op (already suspended, a replayed grant) leaves no audit row, even under a race.
 */
export function auditStatement(
  db: D1Database,
  entry: AuditEntry,
  opts: { afterChange?: boolean } = {},
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_log (at, operator_email, action, tenant_id, target, summary)
       SELECT ?, ?, ?, ?, ?, ?${opts.afterChange ? " WHERE changes() > 0" : ""}`,
    )
    .bind(
      entry.at,
      entry.operatorEmail,
      entry.action,
      entry.tenantId,
      entry.target,
      JSON.stringify(entry.summary),
    );
}

/** Appends one audit row on its own (for a change that is not a single batch). */
export async function appendAudit(db: D1Database, entry: AuditEntry): Promise<void> {
  await auditStatement(db, entry).run();
}

export type AuditFilter = {
  operator?: string | null;
  action?: AuditAction | null;
  tenantId?: string | null;
  /** Epoch ms, inclusive. */
  from?: number | null;
  /** Epoch ms, exclusive. */
  to?: number | null;
  /** `next` of the previous page. */
  before?: string | null;
  limit?: number;
};

type Row = {
  id: number;
  at: number;
  operatorEmail: string;
  action: AuditAction;
  tenantId: string | null;
  target: string | null;
  summary: string;
};

/**
 * One page of the audit log, newest first, filtered by operator, action, tenant and time. Keyset
 * pagination on (at, id): `next` is the cursor of the page after this one, null on the last.
 * Each filter has an index led by its column and followed by `at` (and the rowid).
 */
export async function listAudit(
  db: D1Database,
  filter: AuditFilter = {},
): Promise<{ entries: AuditRow[]; next: string | null }> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const cursor = parseCursor(filter.before);
  const where: string[] = ["(at, id) < (?, ?)"];
  const binds: unknown[] = [cursor.at, cursor.id];
  if (filter.operator) {
    where.push("operator_email = ?");
    binds.push(filter.operator.trim().toLowerCase());
  }
  if (filter.action) {
    where.push("action = ?");
    binds.push(filter.action);
  }
  if (filter.tenantId) {
    where.push("tenant_id = ?");
    binds.push(filter.tenantId);
  }
  if (filter.from != null) {
    where.push("at >= ?");
    binds.push(filter.from);
  }
  if (filter.to != null) {
    where.push("at < ?");
    binds.push(filter.to);
  }
  const { results } = await db
    .prepare(
      `SELECT id, at, operator_email AS operatorEmail, action, tenant_id AS tenantId, target, summary
         FROM audit_log WHERE ${where.join(" AND ")}
        ORDER BY at DESC, id DESC LIMIT ?`,
    )
    .bind(...binds, limit + 1)
    .all<Row>();
  const entries = results.slice(0, limit).map((r) => ({ ...r, summary: parseSummary(r.summary) }));
  const last = entries[entries.length - 1];
  return { entries, next: results.length > limit && last ? `${last.at}~${last.id}` : null };
}

function parseSummary(raw: string): AuditSummary {
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as AuditSummary) : {};
  } catch {
    return {};
  }
}

/** `<at>~<id>`; anything else is the first page. */
function parseCursor(raw: string | null | undefined): { at: number; id: number } {
  const m = raw ? /^(\d{1,15})~(\d{1,15})$/.exec(raw) : null;
  return m
    ? { at: Number(m[1]), id: Number(m[2]) }
    : { at: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
}
