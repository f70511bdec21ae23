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
  "email.automatic_limit",
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
  return auditInsert(db, entry, opts.afterChange ? AFTER_CHANGE : null, null);
}

/** SQL with its bound values. */
type Sql = { sql: string; binds: unknown[] };

/** Written only if the statement just before it in the batch changed a row. */
const AFTER_CHANGE: Sql = { sql: "changes() > 0", binds: [] };

/**
 * The INSERT of one audit row, written only `when` that holds (if given); `read` sets one summary
 * field to what a scalar subquery reads in the batch, after the change.
 */
function auditInsert(
  db: D1Database,
  entry: AuditEntry,
  when: Sql | null,
  read: (Sql & { field: string }) | null,
): D1PreparedStatement {
  const summary = read ? `json_set(?, '$.${read.field}', (${read.sql}))` : "?";
  return db
    .prepare(
      `INSERT INTO audit_log (at, operator_email, action, tenant_id, target, summary)
       SELECT ?, ?, ?, ?, ?, ${summary}${when ? ` WHERE ${when.sql}` : ""}`,
    )
    .bind(
      entry.at,
      entry.operatorEmail,
      entry.action,
      entry.tenantId,
      entry.target,
      JSON.stringify(entry.summary),
      ...(read?.binds ?? []),
      ...(when?.binds ?? []),
    );
}

/**
 * The audit row of an operator's deletion of a tenant, once per tenant however often it is
 * attempted: a deletion that stopped midway is finished by deleting again, and that records
 * nothing more. Also when the tenant's own deletion had begun it (the operator finishing it is
 * still recorded, once). Read through the audit_log_tenant index.
 */
export function tenantDeleteAuditStatement(
  db: D1Database,
  entry: { at: number; operatorEmail: string; tenantId: string },
): D1PreparedStatement {
  return auditInsert(
    db,
    { ...entry, action: "tenant.delete", target: null, summary: { confirmed: true } },
    {
      sql: "NOT EXISTS (SELECT 1 FROM audit_log WHERE tenant_id = ? AND action = 'tenant.delete')",
      binds: [entry.tenantId],
    },
    null,
  );
}

/**
 * Appends one audit row on its own, outside any change: only for tests that need rows to read.
 * An operator write records its row in the same batch as the change (auditStatement).
 */
export async function appendAudit(db: D1Database, entry: AuditEntry): Promise<void> {
  await auditStatement(db, entry).run();
}

/**
 * The audit row of a data key rotation, right after rotateTenantKeyStatement in the same batch
 * and only if it inserted a key. The summary's `version` is read in SQL from the tenant's key
 * rows as the insert left them (the batch is one transaction), so it is the version that insert
 * took, never one read before the batch that another rotation may have taken meanwhile.
 */
export function keyRotationAuditStatement(
  db: D1Database,
  entry: { at: number; operatorEmail: string; tenantId: string },
): D1PreparedStatement {
  return auditInsert(db, { ...entry, action: "tenant.rotate_key", target: null, summary: {} }, AFTER_CHANGE, {
    field: "version",
    sql: "SELECT MAX(version) FROM tenant_keys WHERE tenant_id = ?",
    binds: [entry.tenantId],
  });
}

/**
 * The audit row of an archetype save, right after createArchetypeStatement or
 * updateArchetypeStatement in the same batch and only if that changed the entry. `version` is
 * read from the entry as the save left it, so it is the version this save made.
 */
export function archetypeSaveAuditStatement(
  db: D1Database,
  entry: Omit<AuditEntry, "action" | "tenantId" | "target"> & { archetypeId: string },
): D1PreparedStatement {
  const { archetypeId, ...rest } = entry;
  return auditInsert(
    db,
    { ...rest, action: "archetype.save", tenantId: null, target: archetypeId },
    AFTER_CHANGE,
    { field: "version", sql: "SELECT version FROM archetypes WHERE id = ?", binds: [archetypeId] },
  );
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
