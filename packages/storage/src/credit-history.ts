/** Reads behind the billing page: the tenant's credit lots and its ledger, newest first. */

export type CreditLot = {
  id: string;
  source: "purchase" | "grant";
  granted: number;
  remaining: number;
  /** Null: never expires (purchased credits). */
  expiresAt: number | null;
  createdAt: number;
};

export type LedgerEntry = {
  id: number;
  delta: number;
  /** `refund`: a refund took back unspent credits of the payment's lot (negative delta). */
  reason: "purchase" | "grant" | "ai_reply" | "restore" | "refund";
  reference: string;
  createdAt: number;
};

/** The tenant's newest lots (a lot is one purchase or grant), at most `limit`. */
export async function listCreditLots(db: D1Database, tenantId: string, limit = 100): Promise<CreditLot[]> {
  const { results } = await db
    .prepare(
      `SELECT id, source, granted, remaining, expires_at AS expiresAt, created_at AS createdAt
         FROM credit_lots WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT ?`,
    )
    .bind(tenantId, limit)
    .all<CreditLot>();
  return results;
}

/**
 * One page of the ledger, newest first. `before` is the id of the last entry of the previous
 * page (the cursor); `next` is the cursor for the page after this one, null on the last page.
 */
export async function listLedgerPage(
  db: D1Database,
  tenantId: string,
  opts: { before?: number | null; limit?: number } = {},
): Promise<{ entries: LedgerEntry[]; next: number | null }> {
  const limit = opts.limit ?? 50;
  const { results } = await db
    .prepare(
      `SELECT id, delta, reason, reference, created_at AS createdAt
         FROM credit_ledger WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    )
    .bind(tenantId, opts.before ?? Number.MAX_SAFE_INTEGER, limit + 1)
    .all<LedgerEntry>();
  const entries = results.slice(0, limit);
  return { entries, next: results.length > limit ? entries[entries.length - 1]!.id : null };
}
