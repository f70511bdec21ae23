import { AppError, type SafetyStatus } from "@concierge/core";
import type { Persona } from "@concierge/prompt";

/**
 * Credit operations. Each is idempotent by its reference: call it again with the same reference
 * (a retry, a replayed webhook) and nothing changes the second time.
 */

export type GrantInput = {
  tenantId: string;
  amount: number;
  source: "purchase" | "grant";
  /** Unique per tenant: the payment id, or the operator grant's id. */
  reference: string;
  expiresAt?: number | null;
  now?: number;
};

export async function grantCredits(db: D1Database, g: GrantInput): Promise<{ applied: boolean }> {
  if (!Number.isInteger(g.amount) || g.amount <= 0) {
    throw new AppError(400, "invalid_amount", "Credits are granted in whole positive numbers.");
  }
  const now = g.now ?? Date.now();
  if (g.expiresAt != null && g.expiresAt <= now) {
    throw new AppError(400, "invalid_expiry", "The expiry must be in the future.");
  }
  const [, ledger] = await db.batch(grantStatements(db, { ...g, now }));
  return { applied: (ledger?.meta.changes ?? 0) > 0 };
}

/**
 * The grant as two statements, the lot then its ledger row, for a batch that does more (an
 * operator's grant and its audit row). The caller has validated amount and expiry; the ledger
 * row is the last statement, so `changes()` after it says whether this grant applied.
 */
export function grantStatements(
  db: D1Database,
  g: GrantInput & { now: number },
): [D1PreparedStatement, D1PreparedStatement] {
  const lotId = creditLotId(g.tenantId, g.reference);
  return [
    db
      .prepare(
        "INSERT OR IGNORE INTO credit_lots (id, tenant_id, source, granted, remaining, expires_at, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
      )
      .bind(lotId, g.tenantId, g.source, g.amount, g.expiresAt ?? null, g.now),
    grantLedgerStatement(db, lotId, g.reference, g.now),
  ];
}

/** The lot a grant with this reference creates (one lot per reference and tenant). */
export const creditLotId = (tenantId: string, reference: string): string => `lot:${tenantId}:${reference}`;

/**
 * A grant's ledger row: the lot's whole `granted`, once per reference (the UNIQUE (tenant_id,
 * reference) makes a replay insert nothing); the trigger fills the lot. Nothing when the lot does
 * not exist. For batches that grant as part of something more (a captured payment, the trial).
 */
export function grantLedgerStatement(
  db: D1Database,
  lotId: string,
  reference: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
       SELECT tenant_id, id, granted, source, ?, ? FROM credit_lots WHERE id = ?
       ON CONFLICT (tenant_id, reference) DO NOTHING`,
    )
    .bind(reference, now, lotId);
}

/**
 * The debit's day in the tenant's zone (?2 its time, ?3 the tenant), kept on the ledger row so its
 * restore takes off from the day it was counted on (migration 0036: credit_days).
 */
// CAST: a bound JavaScript number arrives as REAL, and the division must be an integer one.
const LOCAL_DAY = `(CAST(?2 AS INTEGER) + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = ?3), 0) * 60000) / 86400000`;

/**
 * Takes one credit for an AI reply from the soonest-expiring spendable lot (never-expiring lots
 * last). One conditional statement: it inserts the ledger row only if a lot has credit left, and
 * the trigger moves the lot's balance in the same statement, so concurrent debits can never
 * overdraw and a retried debit with the same reference takes nothing more.
 */
export async function debitCredit(
  db: D1Database,
  tenantId: string,
  reference: string,
  now = Date.now(),
): Promise<{ ok: boolean }> {
  const res = await db
    .prepare(
      `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at, day)
       SELECT tenant_id, id, -1, 'ai_reply', ?1, ?2, ${LOCAL_DAY} FROM credit_lots
        WHERE tenant_id = ?3 AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?2)
        ORDER BY expires_at IS NULL, expires_at, created_at
        LIMIT 1
       ON CONFLICT (tenant_id, reference) DO NOTHING`,
    )
    .bind(reference, now, tenantId)
    .run();
  if (res.meta.changes > 0) return { ok: true };
  // Nothing inserted: either no credit, or this reference was already debited (a retry).
  const prior = await db
    .prepare(
      `SELECT 1 FROM credit_ledger d WHERE d.tenant_id = ? AND d.reference = ? AND d.delta < 0
         AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference)`,
    )
    .bind(tenantId, reference)
    .first();
  return { ok: prior !== null };
}

/** What `debitAiReply` found, all read in the same transaction as the debit. */
export type AiReplyDebit = {
  /** A debit under this reference stands, not given back: taken now, or by an earlier attempt that died. */
  debited: boolean;
  /**
   * The tenant's persona as it is now (null: none saved). `persona` is null when its hash is the
   * `knownHash` the caller passed (its cached copy is current), so its text crosses only once per version.
   */
  persona: { hash: string; status: SafetyStatus; persona: Persona | null } | null;
  /** Credits spendable right after the debit (debits are serialized: exactly one lands on each value). */
  balance: number;
};

/**
 * One AI reply's credit, in one round trip: the debit of `debitCredit`, taken only while the
 * tenant's persona is approved (the check is inside the same conditional INSERT, so a persona
 * changed or rejected a moment ago is never charged for), then, in the same batch (one
 * transaction), the persona's hash and status, whether the debit stands, and the balance after it.
 * Replaces reading the persona, debiting, checking a retry's debit and reading the balance as four
 * queries in a row. Idempotent by `reference` like `debitCredit`.
 */
export async function debitAiReply(
  db: D1Database,
  tenantId: string,
  reference: string,
  knownHash: string | null,
  now = Date.now(),
): Promise<AiReplyDebit> {
  const [, state] = await db.batch([
    db
      .prepare(
        `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at, day)
         SELECT tenant_id, id, -1, 'ai_reply', ?1, ?2, ${LOCAL_DAY} FROM credit_lots
          WHERE tenant_id = ?3 AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?2)
            AND EXISTS (SELECT 1 FROM personas WHERE tenant_id = ?3 AND safety_status = 'approved')
          ORDER BY expires_at IS NULL, expires_at, created_at
          LIMIT 1
         ON CONFLICT (tenant_id, reference) DO NOTHING`,
      )
      .bind(reference, now, tenantId),
    db
      .prepare(
        `SELECT p.hash AS hash, p.safety_status AS status,
                CASE WHEN p.hash = ?4 THEN NULL ELSE p.persona_json END AS persona_json,
                EXISTS (SELECT 1 FROM credit_ledger d WHERE d.tenant_id = ?1 AND d.reference = ?2 AND d.delta < 0
                  AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference)) AS debited,
                (SELECT COALESCE(SUM(remaining), 0) FROM credit_lots
                  WHERE tenant_id = ?1 AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?3)) AS balance
           FROM (SELECT 1) LEFT JOIN personas p ON p.tenant_id = ?1`,
      )
      .bind(tenantId, reference, now, knownHash ?? ""),
  ]);
  const row = (
    state?.results as
      | {
          hash: string | null;
          status: SafetyStatus | null;
          persona_json: string | null;
          debited: number;
          balance: number;
        }[]
      | undefined
  )?.[0];
  if (!row) throw new Error("debitAiReply: the state query returned no row");
  return {
    debited: row.debited === 1,
    persona:
      row.hash === null || row.status === null
        ? null
        : {
            hash: row.hash,
            status: row.status,
            persona: row.persona_json === null ? null : (JSON.parse(row.persona_json) as Persona),
          },
    balance: row.balance,
  };
}

/** Gives back the credit a debit took (failed generation, rejected or expired draft). Once. */
export async function restoreCredit(
  db: D1Database,
  tenantId: string,
  debitReference: string,
): Promise<{ applied: boolean }> {
  const res = await db
    .prepare(
      `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
       SELECT tenant_id, lot_id, 1, 'restore', 'restore:' || reference, ? FROM credit_ledger
        WHERE tenant_id = ? AND reference = ? AND delta = -1
       ON CONFLICT (tenant_id, reference) DO NOTHING`,
    )
    .bind(Date.now(), tenantId, debitReference)
    .run();
  return { applied: res.meta.changes > 0 };
}

/** Credits spendable now: unexpired lots only. */
export async function creditBalance(db: D1Database, tenantId: string, now = Date.now()): Promise<number> {
  // `remaining > 0` adds nothing to the sum but matches the partial index credit_lots_spend_order
  // (migration 0031), which holds only lots with credit left: spent lots are never read.
  const row = await db
    .prepare(
      "SELECT COALESCE(SUM(remaining), 0) AS balance FROM credit_lots WHERE tenant_id = ? AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?)",
    )
    .bind(tenantId, now)
    .first<{ balance: number }>();
  return row?.balance ?? 0;
}

/** When a debit with this reference was taken, and whether it has been given back; null if never. */
export async function creditDebit(
  db: D1Database,
  tenantId: string,
  reference: string,
): Promise<{ at: number; restored: boolean } | null> {
  const row = await db
    .prepare(
      `SELECT d.created_at AS at,
              EXISTS (SELECT 1 FROM credit_ledger r WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference) AS restored
         FROM credit_ledger d WHERE d.tenant_id = ? AND d.reference = ? AND d.delta < 0`,
    )
    .bind(tenantId, reference)
    .first<{ at: number; restored: number }>();
  return row ? { at: row.at, restored: row.restored === 1 } : null;
}
