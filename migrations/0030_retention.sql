-- Issue 18 item 3: how long a tenant's message metadata is kept (PRODUCT.md: metadata only, never
-- text), in days: 90 unless the tenant chooses otherwise, between 7 and 730. The 15-minute cron
-- purges older message rows, Discord inbox items and decided approvals in bounded chunks
-- (packages/storage/src/retention.ts), each through the tenant's own index:
-- messages_tenant_time (tenant_id, created_at), discord_relays_tenant (tenant_id, created_at),
-- approvals_pending (tenant_id, status, created_at).
ALTER TABLE tenants ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 90
  CHECK (retention_days BETWEEN 7 AND 730);
