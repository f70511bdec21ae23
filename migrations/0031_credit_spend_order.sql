-- Issue 18 ("D1 rows read per AI reply independent of the number of tenants"): the debit and the
-- balance read a tenant's spendable lots. SQLite took credit_lots_tenant_time (tenant_id,
-- created_at), which walks every lot the tenant ever had, spent ones included, then sorted them in
-- a temporary B-tree; the bench's per-statement breakdown showed the rows read per AI reply growing.
-- This partial index holds only lots with credit left, in the order a debit spends them (soonest
-- expiry first, never-expiring last, then oldest), so the debit reads the first spendable row and
-- stops, and the balance reads only lots with credit left. (A lot that expired with credit left
-- stays in it, read and passed over: a handful per tenant, from its expired grants, never growing
-- with its messages or with other tenants.) It replaces credit_lots_spendable (tenant_id, expires_at),
-- whose rows it contains in a more useful order. SQLite picks it unasked (equality on tenant_id and
-- the ORDER BY both match), so the statements do not pin it with INDEXED BY: code deployed a moment
-- before this migration still runs. packages/storage/test/query-plans.test.ts checks the choice.
CREATE INDEX credit_lots_spend_order ON credit_lots (tenant_id, expires_at IS NULL, expires_at, created_at)
  WHERE remaining > 0;
DROP INDEX credit_lots_spendable;
